"""Seaport 1.6 orders: their items, EIP-712 signing (one order, or many under one bulk signature),
order hashes, and the listings and offers the studio makes.

An order is signed off chain and costs no gas until someone fulfils it: a listing offers an
ERC-721 token and asks ETH for the seller, the creator's ERC-2981 royalty and an optional
marketplace fee, each its own consideration item inside the signature; a token offer or a
collection offer (a criteria item: any token of the collection) offers WETH and asks for the
token. Every order has a start and an end time and the offerer's counter, so `incrementCounter`
cancels all of them at once. The JSON form is Seaport's own (`parameters` + `signature`, numbers
as decimal strings), as seaport-js and OpenSea's API read it. `studio.chain.seaport_contract`
sends the transactions.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from studio.chain.transactions import Signer
from studio.errors import InputError

if TYPE_CHECKING:
    from studio.chain.transactions import Detail, MessagePreview

SEAPORT_NAME = "Seaport"
SEAPORT_VERSION = "1.6"
#: Seaport 1.6 on every public network (one CREATE2 deployment, the same address everywhere).
CANONICAL_SEAPORT = "0x0000000000000068F116a894984e2DB1123eB395"
#: The ConduitController the canonical Seaport was deployed with (its constructor argument).
CANONICAL_CONDUIT_CONTROLLER = "0x00000000F9490004C11Cef243f5400493c00Ad63"
#: keccak-256 of the canonical deployment's init code (creation code + the controller's address):
#: the CREATE2 factory 0x0000000000FFe8B47B3e2130213B802212439497 with salt
#: 0x…d738b7f0bb99901b1c83f249 and this hash gives CANONICAL_SEAPORT. Our artifact reproduces it.
CANONICAL_INIT_CODE_HASH = "0xde057106c8377de87f4547af6ef65fa2c96fddbc136be5748060ed7c32902d94"
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
ZERO_BYTES32 = bytes(32)
MAX_BULK_HEIGHT = 24  # Seaport accepts bulk trees of 2 to 2**24 orders


class ItemType(IntEnum):
    NATIVE = 0
    ERC20 = 1
    ERC721 = 2
    ERC1155 = 3
    ERC721_WITH_CRITERIA = 4
    ERC1155_WITH_CRITERIA = 5


class OrderType(IntEnum):
    FULL_OPEN = 0
    PARTIAL_OPEN = 1
    FULL_RESTRICTED = 2
    PARTIAL_RESTRICTED = 3
    CONTRACT = 4


@dataclass(frozen=True)
class OfferItem:
    """What the offerer gives: a token (ERC-721: amount 1), or an amount of an ERC-20 such as WETH."""

    item_type: ItemType
    token: str
    identifier_or_criteria: int
    start_amount: int
    end_amount: int

    def as_struct(self) -> tuple[int, str, int, int, int]:
        return (int(self.item_type), self.token, self.identifier_or_criteria, self.start_amount, self.end_amount)

    def to_json(self) -> dict[str, Any]:
        return {"itemType": int(self.item_type), "token": self.token,
                "identifierOrCriteria": str(self.identifier_or_criteria),
                "startAmount": str(self.start_amount), "endAmount": str(self.end_amount)}


@dataclass(frozen=True)
class ConsiderationItem:
    """What someone must receive for the order to be filled: the seller's proceeds, a royalty, a fee,
    or (for an offer) the token itself to the offerer."""

    item_type: ItemType
    token: str
    identifier_or_criteria: int
    start_amount: int
    end_amount: int
    recipient: str

    def as_struct(self) -> tuple[int, str, int, int, int, str]:
        return (int(self.item_type), self.token, self.identifier_or_criteria, self.start_amount, self.end_amount,
                self.recipient)

    def to_json(self) -> dict[str, Any]:
        return {"itemType": int(self.item_type), "token": self.token,
                "identifierOrCriteria": str(self.identifier_or_criteria),
                "startAmount": str(self.start_amount), "endAmount": str(self.end_amount),
                "recipient": self.recipient}


@dataclass(frozen=True)
class OrderComponents:
    """Seaport's signed order: the fields of the EIP-712 `OrderComponents` struct."""

    offerer: str
    offer: tuple[OfferItem, ...]
    consideration: tuple[ConsiderationItem, ...]
    start_time: int
    end_time: int
    salt: int
    counter: int
    zone: str = ZERO_ADDRESS
    order_type: OrderType = OrderType.FULL_OPEN
    zone_hash: bytes = ZERO_BYTES32
    conduit_key: bytes = ZERO_BYTES32

    def __post_init__(self) -> None:
        if not self.offer or not self.consideration:
            raise InputError("A Seaport order needs at least one offer item and one consideration item.")
        if self.end_time <= self.start_time:
            raise InputError("An order's end time must come after its start time.")
        if len(self.zone_hash) != 32 or len(self.conduit_key) != 32:
            raise InputError("An order's zone hash and conduit key are 32 bytes each.")
        items: list[OfferItem | ConsiderationItem] = [*self.offer, *self.consideration]
        for item in items:
            if item.start_amount <= 0 or item.end_amount <= 0:
                raise InputError("Every item of an order has an amount above zero.")

    def as_struct(self) -> tuple[Any, ...]:
        """The order as `getOrderHash` and `cancel` take it (OrderComponents)."""
        return (self.offerer, self.zone, [item.as_struct() for item in self.offer],
                [item.as_struct() for item in self.consideration], int(self.order_type), self.start_time,
                self.end_time, self.zone_hash, self.salt, self.conduit_key, self.counter)

    def parameters_struct(self) -> tuple[Any, ...]:
        """The order as the fulfilment functions take it (OrderParameters: no counter, the item count)."""
        return (self.offerer, self.zone, [item.as_struct() for item in self.offer],
                [item.as_struct() for item in self.consideration], int(self.order_type), self.start_time,
                self.end_time, self.zone_hash, self.salt, self.conduit_key, len(self.consideration))

    def message(self) -> dict[str, Any]:
        """The EIP-712 message (values as eth-account encodes them)."""
        return {"offerer": self.offerer, "zone": self.zone,
                "offer": [_item_message(item) for item in self.offer],
                "consideration": [{**_item_message(item), "recipient": item.recipient}
                                  for item in self.consideration],
                "orderType": int(self.order_type), "startTime": self.start_time, "endTime": self.end_time,
                "zoneHash": self.zone_hash, "salt": self.salt, "conduitKey": self.conduit_key,
                "counter": self.counter}

    def to_json(self) -> dict[str, Any]:
        """Seaport's JSON form (as seaport-js and OpenSea's API write it)."""
        return {"offerer": self.offerer, "zone": self.zone, "offer": [item.to_json() for item in self.offer],
                "consideration": [item.to_json() for item in self.consideration],
                "orderType": int(self.order_type), "startTime": str(self.start_time),
                "endTime": str(self.end_time), "zoneHash": "0x" + self.zone_hash.hex(), "salt": str(self.salt),
                "conduitKey": "0x" + self.conduit_key.hex(),
                "totalOriginalConsiderationItems": len(self.consideration), "counter": str(self.counter)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "OrderComponents":
        """Read Seaport's JSON form (numbers as strings or ints, either hex or decimal); InputError when
        it is not an order."""
        from studio.chain.contracts import checksum

        try:
            offer = tuple(OfferItem(ItemType(int(i["itemType"])), checksum(i["token"], "item token"),
                                    _int(i["identifierOrCriteria"]), _int(i["startAmount"]), _int(i["endAmount"]))
                          for i in data["offer"])
            consideration = tuple(ConsiderationItem(
                ItemType(int(i["itemType"])), checksum(i["token"], "item token"), _int(i["identifierOrCriteria"]),
                _int(i["startAmount"]), _int(i["endAmount"]), checksum(i["recipient"], "recipient"))
                for i in data["consideration"])
            total = data.get("totalOriginalConsiderationItems")
            if total is not None and int(total) != len(consideration):
                raise InputError("The order's consideration items do not add up to its total.")
            return cls(checksum(data["offerer"], "offerer"), offer, consideration, _int(data["startTime"]),
                       _int(data["endTime"]), _int(data["salt"]), _int(data.get("counter", 0)),
                       checksum(data.get("zone") or ZERO_ADDRESS, "zone"), OrderType(int(data.get("orderType", 0))),
                       _bytes32(data.get("zoneHash")), _bytes32(data.get("conduitKey")))
        except InputError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"This is not a Seaport order ({exc.__class__.__name__}: {exc}).") from exc


@dataclass(frozen=True)
class SignedOrder:
    """An order with its offerer's signature (65 bytes, or a bulk signature with its proof), valid on
    one Seaport on one chain."""

    components: OrderComponents
    signature: bytes
    chain_id: int
    seaport: str

    @property
    def order_hash(self) -> bytes:
        return order_hash(self.components)

    @property
    def is_bulk(self) -> bool:
        return len(self.signature) > 65

    def to_json(self) -> dict[str, Any]:
        return {"parameters": self.components.to_json(), "signature": "0x" + self.signature.hex(),
                "protocol_address": self.seaport, "chain_id": self.chain_id}

    @classmethod
    def from_json(cls, data: dict[str, Any], *, chain_id: int | None = None,
                  seaport: str | None = None) -> "SignedOrder":
        """Read `{"parameters": …, "signature": …}` (the chain and Seaport from the JSON or the arguments)."""
        from studio.chain.contracts import checksum

        try:
            signature = bytes.fromhex(str(data["signature"]).removeprefix("0x"))
            chain = chain_id if chain_id is not None else int(data["chain_id"])
            address = checksum(seaport or data.get("protocol_address") or CANONICAL_SEAPORT, "Seaport address")
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"This is not a signed Seaport order ({exc}).") from exc
        return cls(OrderComponents.from_json(data["parameters"]), signature, chain, address)


# ---------------------------------------------------------------- EIP-712

OFFER_ITEM_FIELDS = [
    {"name": "itemType", "type": "uint8"},
    {"name": "token", "type": "address"},
    {"name": "identifierOrCriteria", "type": "uint256"},
    {"name": "startAmount", "type": "uint256"},
    {"name": "endAmount", "type": "uint256"},
]
CONSIDERATION_ITEM_FIELDS = [*OFFER_ITEM_FIELDS, {"name": "recipient", "type": "address"}]
ORDER_COMPONENTS_FIELDS = [
    {"name": "offerer", "type": "address"},
    {"name": "zone", "type": "address"},
    {"name": "offer", "type": "OfferItem[]"},
    {"name": "consideration", "type": "ConsiderationItem[]"},
    {"name": "orderType", "type": "uint8"},
    {"name": "startTime", "type": "uint256"},
    {"name": "endTime", "type": "uint256"},
    {"name": "zoneHash", "type": "bytes32"},
    {"name": "salt", "type": "uint256"},
    {"name": "conduitKey", "type": "bytes32"},
    {"name": "counter", "type": "uint256"},
]
DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
_OFFER_ITEM_TYPE = "OfferItem(uint8 itemType,address token,uint256 identifierOrCriteria,uint256 startAmount," \
                   "uint256 endAmount)"
_CONSIDERATION_ITEM_TYPE = "ConsiderationItem(uint8 itemType,address token,uint256 identifierOrCriteria," \
                           "uint256 startAmount,uint256 endAmount,address recipient)"
_ORDER_COMPONENTS_TYPE = "OrderComponents(address offerer,address zone,OfferItem[] offer," \
                         "ConsiderationItem[] consideration,uint8 orderType,uint256 startTime,uint256 endTime," \
                         "bytes32 zoneHash,uint256 salt,bytes32 conduitKey,uint256 counter)"


def _keccak(data: bytes) -> bytes:
    from eth_utils import keccak

    return bytes(keccak(data))


def _encode(types: list[str], values: list[Any]) -> bytes:
    from eth_abi import encode

    return bytes(encode(types, values))


def eip712_domain(chain_id: int, seaport: str) -> dict[str, Any]:
    return {"name": SEAPORT_NAME, "version": SEAPORT_VERSION, "chainId": chain_id, "verifyingContract": seaport}


def domain_separator(chain_id: int, seaport: str) -> bytes:
    """The EIP-712 domain separator Seaport 1.6 uses on `chain_id` at `seaport`."""
    typehash = _keccak(b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
    return _keccak(_encode(["bytes32", "bytes32", "bytes32", "uint256", "address"],
                           [typehash, _keccak(SEAPORT_NAME.encode()), _keccak(SEAPORT_VERSION.encode()), chain_id,
                            seaport]))


def order_hash(components: OrderComponents) -> bytes:
    """The order's hash: its EIP-712 struct hash, as Seaport's `getOrderHash` and `getOrderStatus` key it."""
    offer_typehash = _keccak(_OFFER_ITEM_TYPE.encode())
    consideration_typehash = _keccak(_CONSIDERATION_ITEM_TYPE.encode())
    order_typehash = _keccak((_ORDER_COMPONENTS_TYPE + _CONSIDERATION_ITEM_TYPE + _OFFER_ITEM_TYPE).encode())
    item_types = ["bytes32", "uint8", "address", "uint256", "uint256", "uint256"]
    offers = b"".join(_keccak(_encode(item_types, [offer_typehash, *item.as_struct()]))
                      for item in components.offer)
    considerations = b"".join(_keccak(_encode([*item_types, "address"], [consideration_typehash, *item.as_struct()]))
                              for item in components.consideration)
    return _keccak(_encode(
        ["bytes32", "address", "address", "bytes32", "bytes32", "uint8", "uint256", "uint256", "bytes32", "uint256",
         "bytes32", "uint256"],
        [order_typehash, components.offerer, components.zone, _keccak(offers), _keccak(considerations),
         int(components.order_type), components.start_time, components.end_time, components.zone_hash,
         components.salt, components.conduit_key, components.counter]))


def order_typed_data(components: OrderComponents, chain_id: int, seaport: str) -> dict[str, Any]:
    """The full EIP-712 message (eth_signTypedData_v4) an offerer signs for one order."""
    return {"types": {"EIP712Domain": DOMAIN_FIELDS, "OrderComponents": ORDER_COMPONENTS_FIELDS,
                      "OfferItem": OFFER_ITEM_FIELDS, "ConsiderationItem": CONSIDERATION_ITEM_FIELDS},
            "primaryType": "OrderComponents", "domain": eip712_domain(chain_id, seaport),
            "message": components.message()}


def order_digest(components: OrderComponents, chain_id: int, seaport: str) -> bytes:
    """What the offerer's key signs: keccak(0x1901 ‖ domain separator ‖ order hash)."""
    return _keccak(b"\x19\x01" + domain_separator(chain_id, seaport) + order_hash(components))


def sign_order(signer: Signer, components: OrderComponents, chain_id: int, seaport: str) -> SignedOrder:
    """Sign one order with the offerer's wallet (no gas: nothing is sent)."""
    _check_offerer(signer, [components])
    signature = bytes(signer.sign_typed_data(order_typed_data(components, chain_id, seaport)))
    return SignedOrder(components, signature, chain_id, seaport)


# ---------------------------------------------------------------- bulk orders

_EMPTY_ORDER_MESSAGE: dict[str, Any] = {
    "offerer": ZERO_ADDRESS, "zone": ZERO_ADDRESS, "offer": [], "consideration": [], "orderType": 0, "startTime": 0,
    "endTime": 0, "zoneHash": ZERO_BYTES32, "salt": 0, "conduitKey": ZERO_BYTES32, "counter": 0}


def _empty_order_hash() -> bytes:
    """The struct hash of an all-zero order: the padding leaf of a bulk tree (as seaport-js pads)."""
    order_typehash = _keccak((_ORDER_COMPONENTS_TYPE + _CONSIDERATION_ITEM_TYPE + _OFFER_ITEM_TYPE).encode())
    empty = _keccak(b"")
    return _keccak(_encode(
        ["bytes32", "address", "address", "bytes32", "bytes32", "uint8", "uint256", "uint256", "bytes32", "uint256",
         "bytes32", "uint256"],
        [order_typehash, ZERO_ADDRESS, ZERO_ADDRESS, empty, empty, 0, 0, 0, ZERO_BYTES32, 0, ZERO_BYTES32, 0]))


def bulk_height(count: int) -> int:
    """The height of the bulk tree for `count` orders: the least h ≥ 1 with 2**h ≥ count."""
    if count < 1:
        raise InputError("A bulk signature needs at least one order.")
    height = max(1, (count - 1).bit_length())
    if height > MAX_BULK_HEIGHT:
        raise InputError(f"One bulk signature covers at most 2^{MAX_BULK_HEIGHT} orders, not {count}.")
    return height


def bulk_order_typehash(height: int) -> bytes:
    """Seaport's typehash of `BulkOrder(OrderComponents[2]…[2] tree)` for a tree of `height`."""
    return _keccak(("BulkOrder(OrderComponents" + "[2]" * height + " tree)" + _CONSIDERATION_ITEM_TYPE +
                    _OFFER_ITEM_TYPE + _ORDER_COMPONENTS_TYPE).encode())


@dataclass(frozen=True)
class BulkTree:
    """The Merkle tree of a bulk signature: leaves are order hashes (padded with the empty order's),
    each parent is keccak(left ‖ right); the root, under the BulkOrder typehash, is what is signed."""

    height: int
    levels: tuple[tuple[bytes, ...], ...]  # levels[0]: the 2**height leaves; levels[-1]: (root,)

    @classmethod
    def of(cls, orders: Sequence[OrderComponents]) -> "BulkTree":
        height = bulk_height(len(orders))
        leaves = [order_hash(order) for order in orders]
        leaves += [_empty_order_hash()] * (2 ** height - len(leaves))
        levels = [tuple(leaves)]
        while len(levels[-1]) > 1:
            below = levels[-1]
            levels.append(tuple(_keccak(below[i] + below[i + 1]) for i in range(0, len(below), 2)))
        return cls(height, tuple(levels))

    @property
    def root(self) -> bytes:
        return self.levels[-1][0]

    def proof(self, index: int) -> list[bytes]:
        """The sibling of the path from leaf `index` at each level, leaf level first."""
        return [self.levels[level][(index >> level) ^ 1] for level in range(self.height)]

    def struct_hash(self) -> bytes:
        return _keccak(bulk_order_typehash(self.height) + self.root)


def bulk_typed_data(orders: Sequence[OrderComponents], chain_id: int, seaport: str) -> dict[str, Any]:
    """The full EIP-712 `BulkOrder` message the offerer signs once for all `orders` (padded with empty orders)."""
    height = bulk_height(len(orders))
    messages = [order.message() for order in orders]
    messages += [_EMPTY_ORDER_MESSAGE] * (2 ** height - len(messages))
    tree: Any = messages
    for _ in range(height):
        tree = [[tree[i], tree[i + 1]] for i in range(0, len(tree), 2)]
    return {"types": {"EIP712Domain": DOMAIN_FIELDS,
                      "BulkOrder": [{"name": "tree", "type": "OrderComponents" + "[2]" * height}],
                      "OrderComponents": ORDER_COMPONENTS_FIELDS, "OfferItem": OFFER_ITEM_FIELDS,
                      "ConsiderationItem": CONSIDERATION_ITEM_FIELDS},
            "primaryType": "BulkOrder", "domain": eip712_domain(chain_id, seaport), "message": {"tree": tree[0]}}


def bulk_signature(signature: bytes, index: int, proof: Sequence[bytes]) -> bytes:
    """Seaport's bulk encoding: the 64- or 65-byte signature ‖ the order's index (3 bytes) ‖ the proof."""
    return bytes(signature) + index.to_bytes(3, "big") + b"".join(proof)


def sign_bulk_orders(signer: Signer, orders: Sequence[OrderComponents], chain_id: int,
                     seaport: str) -> list[SignedOrder]:
    """Sign many orders with one signature (Seaport's bulk order tree); each signed order carries its
    index and proof, and is fulfilled or cancelled on its own."""
    if len(orders) == 1:
        return [sign_order(signer, orders[0], chain_id, seaport)]
    _check_offerer(signer, orders)
    tree = BulkTree.of(orders)
    signature = bytes(signer.sign_typed_data(bulk_typed_data(orders, chain_id, seaport)))
    return [SignedOrder(order, bulk_signature(signature, index, tree.proof(index)), chain_id, seaport)
            for index, order in enumerate(orders)]


def order_signer(signed: SignedOrder) -> str:
    """The address whose key signed the order (a plain or a bulk signature); InputError when the
    signature is malformed. A smart-contract offerer (ERC-1271) is checked by Seaport only."""
    from eth_keys import keys
    from eth_utils import to_checksum_address

    signature, leaf = signed.signature, order_hash(signed.components)
    struct_hash = leaf
    if len(signature) > 65:
        body_length = 65 if (len(signature) - 65 - 3) % 32 == 0 else 64
        proof_bytes = signature[body_length + 3:]
        if len(proof_bytes) % 32 or not 1 <= len(proof_bytes) // 32 <= MAX_BULK_HEIGHT:
            raise InputError("The order's bulk signature has a malformed proof.")
        index = int.from_bytes(signature[body_length:body_length + 3], "big")
        node = leaf
        for level in range(len(proof_bytes) // 32):
            sibling = proof_bytes[32 * level:32 * level + 32]
            node = _keccak(sibling + node) if (index >> level) & 1 else _keccak(node + sibling)
        struct_hash = _keccak(bulk_order_typehash(len(proof_bytes) // 32) + node)
        signature = signature[:body_length]
    digest = _keccak(b"\x19\x01" + domain_separator(signed.chain_id, signed.seaport) + struct_hash)
    if len(signature) == 64:  # EIP-2098 compact: the top bit of s carries v
        vs = int.from_bytes(signature[32:], "big")
        r, s, v = int.from_bytes(signature[:32], "big"), vs & ((1 << 255) - 1), vs >> 255
    elif len(signature) == 65:
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:64], "big")
        v = signature[64] - 27 if signature[64] >= 27 else signature[64]
    else:
        raise InputError(f"An order signature is 64 or 65 bytes (or a bulk signature), not {len(signature)}.")
    try:
        public_key = keys.Signature(vrs=(v, r, s)).recover_public_key_from_msg_hash(digest)
    except Exception as exc:  # bad v, r or s
        raise InputError("The order's signature cannot come from any key.") from exc
    return str(to_checksum_address(public_key.to_canonical_address()))


# ---------------------------------------------------------------- what a person reads before signing

def order_preview(signer: str, orders: Sequence[OrderComponents], chain_id: int, seaport: str, *, action: str,
                  details: "Sequence[Detail]" = (), flows: Sequence[Any] = ()) -> "MessagePreview":
    """The preview of a signature over `orders` (one order, or many under one bulk signature): the
    EIP-712 domain, each order's fields with its items in words (amounts in wei), and what the
    workflow says in people's words (`details`, `flows`: shown in ETH by the faces)."""
    from studio.chain.transactions import typed_data_preview

    typed = order_typed_data(orders[0], chain_id, seaport) if len(orders) == 1 else \
        bulk_typed_data(orders, chain_id, seaport)
    base = typed_data_preview(signer, typed)
    fields: list[tuple[str, Any]] = []
    if len(orders) > 1:
        fields.append(("tree", f"{len(orders)} orders under one signature (a bulk tree of height "
                               f"{bulk_height(len(orders))})"))
    for number, order in enumerate(orders):
        prefix = f"order[{number}]." if len(orders) > 1 else ""
        fields += [(f"{prefix}offerer", order.offerer), (f"{prefix}orderType", int(order.order_type)),
                   (f"{prefix}startTime", order.start_time), (f"{prefix}endTime", order.end_time),
                   (f"{prefix}counter", order.counter), (f"{prefix}salt", order.salt)]
        fields += [(f"{prefix}offer[{i}]", item_text(item)) for i, item in enumerate(order.offer)]
        fields += [(f"{prefix}consideration[{i}]", item_text(item)) for i, item in enumerate(order.consideration)]
    return replace(base, fields=tuple((k, str(v)) for k, v in fields), details=tuple(details), flows=tuple(flows),
                   action=action)


def item_text(item: OfferItem | ConsiderationItem) -> str:
    """An order item in words: 'ERC721 token 3 of 0x…', '95000000000000000 wei (ETH) to 0x…'."""
    if item.item_type in (ItemType.ERC721, ItemType.ERC1155):
        text = f"{item.item_type.name} token {item.identifier_or_criteria} of {item.token}"
    elif item.item_type in (ItemType.ERC721_WITH_CRITERIA, ItemType.ERC1155_WITH_CRITERIA):
        text = f"any {item.item_type.name.split('_')[0]} token of {item.token}" if not item.identifier_or_criteria \
            else f"a {item.item_type.name.split('_')[0]} token of {item.token} in the list 0x" \
                 f"{item.identifier_or_criteria:064x}"
    elif item.item_type == ItemType.NATIVE:
        text = f"{item.start_amount} wei (ETH)"
    else:
        text = f"{item.start_amount} units of the ERC-20 {item.token}"
    if isinstance(item, ConsiderationItem):
        text += f" to {item.recipient}"
    return text


# ---------------------------------------------------------------- the orders the studio makes

@dataclass(frozen=True)
class Payout:
    """One party's share of a sale, in wei."""

    recipient: str
    amount_wei: int
    role: str  # "seller", "royalty", "marketplace fee"


@dataclass(frozen=True)
class SaleTerms:
    """How a price splits: what the seller, the creator (ERC-2981 royalty) and a marketplace receive."""

    price_wei: int
    payouts: tuple[Payout, ...]

    @property
    def proceeds_wei(self) -> int:
        return sum(p.amount_wei for p in self.payouts if p.role == "seller")

    @classmethod
    def split(cls, price_wei: int, seller: str, *, royalty: tuple[str, int] | None = None,
              fee: tuple[str, int] | None = None) -> "SaleTerms":
        """`royalty` is (receiver, amount in wei) as the collection's `royaltyInfo` answers; `fee` is
        (recipient, basis points). The seller gets the rest."""
        if price_wei <= 0:
            raise InputError("A price must be more than zero.")
        payouts: list[Payout] = []
        royalty_wei = fee_wei = 0
        if royalty is not None and royalty[1] > 0 and int(royalty[0], 16) != 0:
            royalty_wei = royalty[1]
            payouts.append(Payout(royalty[0], royalty_wei, "royalty"))
        if fee is not None and fee[1] > 0:
            if not 0 < fee[1] <= 10_000:
                raise InputError("A marketplace fee is between 0% and 100%.")
            fee_wei = price_wei * fee[1] // 10_000
            if fee_wei:
                payouts.append(Payout(fee[0], fee_wei, "marketplace fee"))
        proceeds = price_wei - royalty_wei - fee_wei
        if proceeds <= 0:
            raise InputError("The royalty and the fee leave nothing for the seller at this price.")
        return cls(price_wei, (Payout(seller, proceeds, "seller"), *payouts))


def new_salt() -> int:
    """A random salt: two orders with the same terms still get different hashes."""
    return secrets.randbits(256)


def listing_order(*, seller: str, collection: str, token_id: int, terms: SaleTerms, start_time: int, end_time: int,
                  counter: int, salt: int | None = None) -> OrderComponents:
    """A fixed-price listing of one ERC-721 token for ETH. The seller's payout comes first (so the
    basic fulfilment route applies), then the royalty and the fee."""
    if terms.payouts[0].role != "seller" or terms.payouts[0].recipient.lower() != seller.lower():
        raise InputError("A listing pays its seller first.")
    consideration = tuple(ConsiderationItem(ItemType.NATIVE, ZERO_ADDRESS, 0, p.amount_wei, p.amount_wei,
                                            p.recipient) for p in terms.payouts)
    return OrderComponents(seller, (OfferItem(ItemType.ERC721, collection, token_id, 1, 1),), consideration,
                           start_time, end_time, new_salt() if salt is None else salt, counter)


def offer_order(*, buyer: str, weth: str, collection: str, token_id: int | None, amount_wei: int,
                payouts: Iterable[Payout] = (), start_time: int, end_time: int, counter: int,
                salt: int | None = None) -> OrderComponents:
    """An offer of `amount_wei` WETH for one token, or, with `token_id` None, for any token of the
    collection (a criteria item the seller resolves when accepting). `payouts` (royalty, fee) are paid
    in WETH out of the amount; the seller receives the rest."""
    if amount_wei <= 0:
        raise InputError("An offer must be more than zero.")
    extra = tuple(p for p in payouts if p.role != "seller" and p.amount_wei > 0)
    if sum(p.amount_wei for p in extra) >= amount_wei:
        raise InputError("The royalty and the fee leave nothing for the seller at this offer.")
    wanted = (ConsiderationItem(ItemType.ERC721, collection, token_id, 1, 1, buyer) if token_id is not None else
              ConsiderationItem(ItemType.ERC721_WITH_CRITERIA, collection, 0, 1, 1, buyer))
    fees = tuple(ConsiderationItem(ItemType.ERC20, weth, 0, p.amount_wei, p.amount_wei, p.recipient) for p in extra)
    return OrderComponents(buyer, (OfferItem(ItemType.ERC20, weth, 0, amount_wei, amount_wei),), (wanted, *fees),
                           start_time, end_time, new_salt() if salt is None else salt, counter)


@dataclass(frozen=True)
class OrderSummary:
    """What an order is, in the user's words: a listing or an offer, for which token, at what price."""

    kind: str  # "listing", "offer", "collection offer", "other"
    collection: str | None
    token_id: int | None
    price_wei: int
    currency: str  # ZERO_ADDRESS for ETH, else the ERC-20 (WETH)
    payouts: tuple[Payout, ...] = field(default=())


def summarize(components: OrderComponents) -> OrderSummary:
    """Read an order as a listing or an offer (orders of other shapes are "other")."""
    offer, consideration = components.offer, components.consideration
    if len(offer) == 1 and offer[0].item_type == ItemType.ERC721 and all(
            c.item_type == ItemType.NATIVE for c in consideration):
        payouts = tuple(Payout(c.recipient, c.start_amount, "seller" if i == 0 else "other")
                        for i, c in enumerate(consideration))
        return OrderSummary("listing", offer[0].token, offer[0].identifier_or_criteria,
                            sum(c.start_amount for c in consideration), ZERO_ADDRESS, payouts)
    if len(offer) == 1 and offer[0].item_type == ItemType.ERC20 and consideration[0].item_type in (
            ItemType.ERC721, ItemType.ERC721_WITH_CRITERIA):
        wanted = consideration[0]
        criteria = wanted.item_type == ItemType.ERC721_WITH_CRITERIA
        return OrderSummary("collection offer" if criteria else "offer", wanted.token,
                            None if criteria else wanted.identifier_or_criteria, offer[0].start_amount,
                            offer[0].token, tuple(Payout(c.recipient, c.start_amount, "other")
                                                  for c in consideration[1:]))
    return OrderSummary("other", None, None, 0, ZERO_ADDRESS)


def with_counter(components: OrderComponents, counter: int) -> OrderComponents:
    return replace(components, counter=counter)


# ---------------------------------------------------------------- helpers

def _item_message(item: OfferItem | ConsiderationItem) -> dict[str, Any]:
    return {"itemType": int(item.item_type), "token": item.token, "identifierOrCriteria": item.identifier_or_criteria,
            "startAmount": item.start_amount, "endAmount": item.end_amount}


def _int(value: Any) -> int:
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text, 16) if text.lower().startswith("0x") else int(text)


def _bytes32(value: Any) -> bytes:
    if value in (None, "", 0, "0"):
        return ZERO_BYTES32
    raw = bytes(value) if isinstance(value, (bytes, bytearray)) else bytes.fromhex(str(value).removeprefix("0x"))
    if len(raw) != 32:
        raise ValueError("a bytes32 field is 32 bytes")
    return raw


def _check_offerer(signer: Signer, orders: Sequence[OrderComponents]) -> None:
    for order in orders:
        if order.offerer.lower() != signer.address.lower():
            raise InputError(f"The order's offerer is {order.offerer}, not the signing account {signer.address}.")
