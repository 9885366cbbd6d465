"""Seaport 1.6 and WETH on one network: fulfil, cancel one, cancel all, counters, order status,
whether an order can still be filled, and whether the Seaport at an address is the real one.

Fulfilment takes the cheapest route Seaport offers for the order: `fulfillBasicOrder_efficient_6GL6yc`
for a listing of one ERC-721 for ETH and for an offer of WETH for one named token; a collection
offer (a criteria item) goes through `fulfillAdvancedOrder` with the token the seller picks.
Nothing here signs orders (`studio.chain.seaport` does); everything that sends takes the `Signer`
that pays, and returns a `TxReceipt`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from studio.chain.artifacts import load_artifact
from studio.chain.erc721 import ERC721Reader, failed
from studio.chain.seaport import (CANONICAL_SEAPORT, SEAPORT_VERSION, ZERO_ADDRESS, ConsiderationItem, ItemType,
                                  OfferItem, OrderComponents, OrderType, SignedOrder, domain_separator, order_hash)
from studio.chain.transactions import Connection, Signer, TxReceipt, TxRequest, as_signer
from studio.errors import ChainError, InputError, NotFound

#: Canonical WETH of the public networks the studio knows (chain id -> address).
WETH_ADDRESSES = {
    1: "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2",
    11155111: "0xfFf9976782d46CC05630D1f6eBAb18b2324d6B14",
    8453: "0x4200000000000000000000000000000000000006",
    84532: "0x4200000000000000000000000000000000000006",
    10: "0x4200000000000000000000000000000000000006",
    42161: "0x82aF49447D8a07e3bd95BD0d56f35241523fBab1",
    137: "0x7ceB23fD6bC0adD59E62ac25578270cFf1b9f619",
}
MAX_UINT256 = 2**256 - 1
_ETH_TO_ERC721, _ERC721_TO_ERC20 = 0, 4  # Seaport's BasicOrderRouteType values the studio uses
_SIDE_CONSIDERATION = 1


@dataclass(frozen=True)
class OrderStatus:
    """Seaport's record of an order: validated on chain, cancelled, and how much of it was filled."""

    validated: bool
    cancelled: bool
    filled_numerator: int
    filled_denominator: int

    @property
    def filled(self) -> bool:
        return self.filled_denominator > 0 and self.filled_numerator >= self.filled_denominator


@dataclass(frozen=True)
class Fillability:
    """Whether an order can be filled now; when not, `state` says why in one word and `reason` in words."""

    state: str  # fillable, filled, cancelled, counter, not-started, expired, token-moved, not-approved, no-funds
    reason: str = ""

    @property
    def fillable(self) -> bool:
        return self.state == "fillable"


@dataclass(frozen=True)
class Approval:
    """An approval the fulfiller must give Seaport before filling an order."""

    kind: str  # "erc721" (setApprovalForAll) or "erc20" (approve)
    token: str
    amount_wei: int = 0


class _Contract:
    """A contract at an address on one connection (the same shape as `studio.chain.contracts`)."""

    artifact_name = ""

    def __init__(self, connection: Connection, address: str) -> None:
        from studio.chain.contracts import checksum

        self.connection = connection
        self.address = checksum(address, f"{self.artifact_name} address")
        self.contract = connection.web3.eth.contract(address=self.address, abi=load_artifact(self.artifact_name).abi)

    @classmethod
    def _deploy_artifact(cls, connection: Connection, signer: Signer, name: str, *args: Any, action: str) -> str:
        artifact = load_artifact(name)
        factory = connection.web3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        receipt = connection.send(as_signer(signer), factory.constructor(*args), action=action)
        if receipt.contract_address is None:
            raise ChainError(f"{action}: the node's receipt names no contract address.",
                             hint="Check that the node is a standard Ethereum node, then try again.")
        return receipt.contract_address

    def _request(self, function: str, *args: Any, value: int = 0, action: str) -> TxRequest:
        """The `TxRequest` of one call (for a workflow that shows its preview, then sends it through `TxSender`)."""
        return TxRequest(self.address, self.contract.encode_abi(function, args=list(args)), value, action)

    def _send(self, signer: Signer, request: TxRequest) -> TxReceipt:
        from studio.chain.contracts import _transact

        return _transact(self.connection, signer, request)

    def _call(self, function: Any, action: str = "Reading the contract") -> Any:
        return self.connection.call(function, action=action)


class WethContract(_Contract):
    """Wrapped ether (WETH9): what offers are made in, since an order cannot offer ETH itself."""

    artifact_name = "WETH9"

    @classmethod
    def deploy(cls, connection: Connection, signer: Signer) -> "WethContract":
        return cls(connection, cls._deploy_artifact(connection, signer, "WETH9", action="Deploying WETH"))

    def wrap_tx(self, amount_wei: int) -> TxRequest:
        """ETH -> WETH, one for one."""
        _positive(amount_wei, "An amount to wrap")
        return self._request("deposit", value=amount_wei, action="Wrapping ETH")

    def wrap(self, signer: Signer, amount_wei: int) -> TxReceipt:
        return self._send(signer, self.wrap_tx(amount_wei))

    def unwrap_tx(self, amount_wei: int) -> TxRequest:
        """WETH -> ETH, one for one."""
        _positive(amount_wei, "An amount to unwrap")
        return self._request("withdraw", amount_wei, action="Unwrapping WETH")

    def unwrap(self, signer: Signer, amount_wei: int) -> TxReceipt:
        if self.balance_of(as_signer(signer).address) < amount_wei:
            raise InputError("The account holds less WETH than that.")
        return self._send(signer, self.unwrap_tx(amount_wei))

    def approve_tx(self, spender: str, amount_wei: int = MAX_UINT256) -> TxRequest:
        """Let `spender` (Seaport) move up to `amount_wei` of the sender's WETH (default: any amount)."""
        from studio.chain.contracts import checksum

        return self._request("approve", checksum(spender, "spender"), amount_wei, action="Approving WETH")

    def approve(self, signer: Signer, spender: str, amount_wei: int = MAX_UINT256) -> TxReceipt:
        return self._send(signer, self.approve_tx(spender, amount_wei))

    def balance_of(self, owner: str) -> int:
        from studio.chain.contracts import checksum

        return int(self._call(self.contract.functions.balanceOf(checksum(owner))))

    def allowance(self, owner: str, spender: str) -> int:
        from studio.chain.contracts import checksum

        return int(self._call(self.contract.functions.allowance(checksum(owner), checksum(spender))))


class SeaportContract(_Contract):
    """Seaport 1.6 at one address."""

    artifact_name = "Seaport"

    @classmethod
    def deploy(cls, connection: Connection, signer: Signer,
               conduit_controller: str | None = None) -> "SeaportContract":
        """Deploy Seaport (and a ConduitController first, unless one is given): the devnet and tests."""
        if conduit_controller is None:
            conduit_controller = cls._deploy_artifact(connection, signer, "ConduitController",
                                                      action="Deploying Seaport's conduit controller")
        return cls(connection, cls._deploy_artifact(connection, signer, "Seaport", conduit_controller,
                                                    action="Deploying Seaport"))

    # ---- reads
    def information(self) -> tuple[str, bytes, str]:
        """(version, EIP-712 domain separator, conduit controller) as the contract reports them."""
        version, separator, controller = self._call(self.contract.functions.information())
        return str(version), bytes(separator), str(controller)

    def counter(self, offerer: str) -> int:
        """The offerer's counter: orders signed with another one are void (`increment_counter`)."""
        from studio.chain.contracts import checksum

        return int(self._call(self.contract.functions.getCounter(checksum(offerer, "offerer"))))

    def status(self, order: bytes | OrderComponents) -> OrderStatus:
        digest = order_hash(order) if isinstance(order, OrderComponents) else order
        validated, cancelled, filled, size = self._call(self.contract.functions.getOrderStatus(digest))
        return OrderStatus(bool(validated), bool(cancelled), int(filled), int(size))

    def contract_order_hash(self, components: OrderComponents) -> bytes:
        """The hash Seaport itself computes (`getOrderHash`), to check ours against."""
        return bytes(self._call(self.contract.functions.getOrderHash(components.as_struct())))

    # ---- fulfilment
    def fulfil_call(self, signed: SignedOrder, *, token_id: int | None = None) -> tuple[Any, int]:
        """The contract call that fills `signed` and the ETH it takes (for previews and the send path).
        `token_id` is the token the seller gives for a collection offer."""
        self._check_order(signed)
        order = signed.components
        wanted = order.consideration[0]
        if wanted.item_type == ItemType.ERC721_WITH_CRITERIA:
            if token_id is None:
                raise InputError("Accepting a collection offer needs the id of the token to sell.")
            if wanted.identifier_or_criteria != 0:
                raise InputError("This collection offer names a token list the studio cannot resolve.")
            resolver: tuple[int, int, int, int, list[bytes]] = (0, _SIDE_CONSIDERATION, 0, token_id, [])
            advanced = (order.parameters_struct(), 1, 1, signed.signature, b"")
            return (self.contract.functions.fulfillAdvancedOrder(advanced, [resolver], bytes(32), ZERO_ADDRESS),
                    _native_total(order))
        basic = basic_order_parameters(signed)
        if basic is not None:
            return self.contract.functions.fulfillBasicOrder_efficient_6GL6yc(basic), _native_total(order)
        return self.contract.functions.fulfillOrder((order.parameters_struct(), signed.signature), bytes(32)), \
            _native_total(order)

    def fulfil_tx(self, signed: SignedOrder, *, token_id: int | None = None,
                  action: str = "Filling the order") -> TxRequest:
        """The transaction that fills `signed` (its ETH as the value), for the send path."""
        from studio.chain.contracts import request_for

        function, value = self.fulfil_call(signed, token_id=token_id)
        return request_for(function, value=value, action=action)

    def fulfil(self, signer: Signer, signed: SignedOrder, *, token_id: int | None = None) -> TxReceipt:
        """Fill an order: buy a listing (paying its ETH) or accept an offer (giving the token)."""
        return self._send(signer, self.fulfil_tx(signed, token_id=token_id))

    def approvals_for(self, signed: SignedOrder, fulfiller: str, *, token_id: int | None = None) -> list[Approval]:
        """What `fulfiller` must approve Seaport for before filling `signed` (none to buy a listing)."""
        order, needed = signed.components, []
        wanted = order.consideration[0]
        if wanted.item_type in (ItemType.ERC721, ItemType.ERC721_WITH_CRITERIA):
            reader = ERC721Reader(self.connection, wanted.token)
            tid = wanted.identifier_or_criteria if token_id is None else token_id
            if reader.may_move(tid, fulfiller, self.address) is not True:
                needed.append(Approval("erc721", wanted.token))
            if wanted.item_type == ItemType.ERC721_WITH_CRITERIA:  # the fulfiller pays the fees out of the WETH
                fees = sum(c.start_amount for c in order.consideration[1:] if c.item_type == ItemType.ERC20)
                if fees and WethContract(self.connection, order.offer[0].token).allowance(fulfiller,
                                                                                          self.address) < fees:
                    needed.append(Approval("erc20", order.offer[0].token, fees))
        return needed

    def approval_tx(self, approval: Approval) -> TxRequest:
        """The transaction giving Seaport one approval of `approvals_for`."""
        if approval.kind == "erc20":
            return WethContract(self.connection, approval.token).approve_tx(self.address)
        from studio.chain.contracts import CollectionContract

        return CollectionContract(self.connection, approval.token).set_approval_for_all_tx(self.address)

    def approve(self, signer: Signer, approval: Approval) -> TxReceipt:
        """Give Seaport one approval of `approvals_for`."""
        return self._send(signer, self.approval_tx(approval))

    # ---- cancelling
    def cancel_tx(self, sender: str, orders: Sequence[OrderComponents]) -> TxRequest:
        """Cancel orders (each must be `sender`'s, the account that sends this)."""
        if not orders:
            raise InputError("Nothing to cancel.")
        for order in orders:
            if order.offerer.lower() != sender.lower():
                raise InputError(f"Only the offerer ({order.offerer}) can cancel this order.")
        return self._request("cancel", [order.as_struct() for order in orders],
                             action="Cancelling the order" if len(orders) == 1 else "Cancelling the orders")

    def cancel(self, signer: Signer, orders: Sequence[OrderComponents]) -> TxReceipt:
        """Cancel orders one by one (each must be the signer's)."""
        signer = as_signer(signer)
        return self._send(signer, self.cancel_tx(signer.address, orders))

    def increment_counter_tx(self) -> TxRequest:
        """Cancel every order the sender has signed so far, in one transaction."""
        return self._request("incrementCounter", action="Cancelling all orders")

    def increment_counter(self, signer: Signer) -> TxReceipt:
        return self._send(signer, self.increment_counter_tx())

    # ---- can it be filled?
    def fillability(self, signed: SignedOrder, *, now: int | None = None) -> Fillability:
        """Whether `signed` can be filled now: not filled or cancelled, signed with the offerer's current
        counter, inside its time window, and the offerer still holds and approves what it offers (a
        listed token that moved, or whose approval was revoked, is not for sale)."""
        order = signed.components
        status = self.status(order)
        if status.cancelled:
            return Fillability("cancelled", "The offerer cancelled this order.")
        if status.filled:
            return Fillability("filled", "This order was already filled.")
        if self.counter(order.offerer) != order.counter:
            return Fillability("counter", "The offerer cancelled all their orders signed before.")
        when = int(self.connection.web3.eth.get_block("latest")["timestamp"]) if now is None else now
        if when < order.start_time:
            return Fillability("not-started", "This order has not started yet.")
        if when >= order.end_time:
            return Fillability("expired", "This order has expired.")
        given = order.offer[0]
        if given.item_type == ItemType.ERC721:
            reader = ERC721Reader(self.connection, given.token)
            owner = reader.owner_of(given.identifier_or_criteria)
            if failed(owner) or owner.lower() != order.offerer.lower():
                return Fillability("token-moved", "The seller no longer holds this token.")
            if reader.may_move(given.identifier_or_criteria, order.offerer, self.address) is not True:
                return Fillability("not-approved", "The seller withdrew Seaport's approval for this token.")
        elif given.item_type == ItemType.ERC20:
            weth = WethContract(self.connection, given.token)
            if weth.balance_of(order.offerer) < given.start_amount:
                return Fillability("no-funds", "The buyer no longer holds enough WETH for this offer.")
            if weth.allowance(order.offerer, self.address) < given.start_amount:
                return Fillability("not-approved", "The buyer withdrew Seaport's approval of their WETH.")
        return Fillability("fillable")

    def _check_order(self, signed: SignedOrder) -> None:
        if signed.seaport.lower() != self.address.lower() or signed.chain_id != self.connection.chain_id:
            raise InputError("This order was signed for another Seaport or network.")


def basic_order_parameters(signed: SignedOrder) -> tuple[Any, ...] | None:
    """`BasicOrderParameters` for an order the basic route can fill, else None: one ERC-721 listed for
    ETH (route ETH_TO_ERC721), or WETH offered for one named ERC-721 (route ERC721_TO_ERC20); fixed
    amounts, the first consideration item to the offerer, the others in the same currency."""
    order = signed.components
    if len(order.offer) != 1 or order.order_type not in (OrderType.FULL_OPEN, OrderType.PARTIAL_OPEN):
        return None
    given, first, rest = order.offer[0], order.consideration[0], order.consideration[1:]
    items: list[OfferItem | ConsiderationItem] = [*order.offer, *order.consideration]
    if any(item.start_amount != item.end_amount for item in items) or first.recipient.lower() != \
            order.offerer.lower():
        return None
    if given.item_type == ItemType.ERC721 and given.start_amount == 1 and first.item_type == ItemType.NATIVE and \
            all(c.item_type == ItemType.NATIVE and c.token == ZERO_ADDRESS and c.identifier_or_criteria == 0
                for c in order.consideration):
        route, consideration_token, consideration_id, consideration_amount = (
            _ETH_TO_ERC721, ZERO_ADDRESS, 0, first.start_amount)
        offer_token, offer_id, offer_amount = given.token, given.identifier_or_criteria, 1
    elif given.item_type == ItemType.ERC20 and first.item_type == ItemType.ERC721 and first.start_amount == 1 and \
            all(c.item_type == ItemType.ERC20 and c.token.lower() == given.token.lower() and
                c.identifier_or_criteria == 0 for c in rest):
        route, consideration_token, consideration_id, consideration_amount = (
            _ERC721_TO_ERC20, first.token, first.identifier_or_criteria, 1)
        offer_token, offer_id, offer_amount = given.token, 0, given.start_amount
    else:
        return None
    recipients = [(c.start_amount, c.recipient) for c in rest]
    return (consideration_token, consideration_id, consideration_amount, order.offerer, order.zone, offer_token,
            offer_id, offer_amount, int(order.order_type) + 4 * route, order.start_time, order.end_time,
            order.zone_hash, order.salt, order.conduit_key, bytes(32), len(recipients), recipients,
            signed.signature)


def _native_total(order: OrderComponents) -> int:
    return sum(c.start_amount for c in order.consideration if c.item_type == ItemType.NATIVE)


def _positive(amount: int, what: str) -> None:
    if amount <= 0:
        raise InputError(f"{what} must be more than zero.")


# ---------------------------------------------------------------- is it the real Seaport?

def check_seaport_code(connection: Connection, address: str = CANONICAL_SEAPORT) -> None:
    """Refuse a Seaport whose code is not Seaport 1.6 as the studio compiled it from its sources.

    The runtime code at `address` must equal the artifact's byte for byte outside the immutables
    (values fixed at deployment: chain id, domain separator, conduit controller and its code
    hashes), and the contract must report version 1.6 with the domain separator of this chain and
    address, so an order signed for it is valid there and nowhere else. Raises NotFound when
    nothing is deployed there and ChainError when something else is.
    """
    from studio.chain.contracts import checksum

    address = checksum(address, "Seaport address")
    try:
        code = bytes(connection.web3.eth.get_code(address))
    except Exception as exc:
        from studio.chain.transactions import as_studio_error

        raise as_studio_error(exc, "Reading Seaport's code") from exc
    if not code:
        raise NotFound(f"Seaport {SEAPORT_VERSION} is not deployed at {address} on chain {connection.chain_id}.",
                       hint="Listings and offers need Seaport on this network; choose a network it is deployed on.")
    artifact = load_artifact("Seaport")
    expected = bytes.fromhex(artifact.deployed_bytecode[2:])
    if len(code) != len(expected) or _mask(code, artifact.immutable_references) != _mask(
            expected, artifact.immutable_references):
        raise ChainError(f"The contract at {address} is not Seaport {SEAPORT_VERSION}: its code differs from "
                         "Seaport's compiled sources.", hint="Do not sign orders for it; check the network.")
    version, separator, _ = SeaportContract(connection, address).information()
    if version != SEAPORT_VERSION or separator != domain_separator(connection.chain_id, address):
        raise ChainError(f"The Seaport at {address} reports version {version} and another signing domain than "
                         f"chain {connection.chain_id} expects.", hint="Do not sign orders for it.")


def canonical_seaport(connection: Connection) -> SeaportContract:
    """The canonical Seaport 1.6 of a public network, after its code was checked."""
    check_seaport_code(connection, CANONICAL_SEAPORT)
    return SeaportContract(connection, CANONICAL_SEAPORT)


def _mask(code: bytes, references: dict[str, list[dict[str, int]]]) -> bytes:
    masked = bytearray(code)
    for spans in references.values():
        for span in spans:
            start, length = int(span["start"]), int(span["length"])
            masked[start:start + length] = bytes(length)
    return bytes(masked)
