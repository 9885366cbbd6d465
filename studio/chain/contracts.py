"""Typed wrappers over the studio's contracts: an artist's collection and the marketplace.

Each state-changing call comes in two forms: ``mint_batch_tx(...)`` builds the `TxRequest` (for a
workflow that shows its preview first and sends it through `TxSender`), and ``mint_batch(signer,
...)`` sends that request through the same path and returns plain results (token ids,
`TxReceipt`). Reads return plain values and dataclasses. Reverts arrive as `ChainError`s whose
message names what went wrong ("This voucher was already redeemed ..."). Money is integer wei.
Nothing above ``studio.chain`` sees a web3 object: this module is where they stay.
"""
from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import Any

from studio.chain.artifacts import load_artifact
from studio.chain.content import Commitment
from studio.chain.transactions import Connection, EventLog, Signer, TxReceipt, TxRequest, as_signer, hex_string
from studio.chain.vouchers import MAX_ROYALTY_BPS, SignedVoucher
from studio.errors import ChainError, InputError

MAX_FEE_BPS = 500
MAX_PRICE_WEI = 2**96 - 1
#: How long an escrow offer runs when no expiry is given (the marketplace allows up to a year).
DEFAULT_OFFER_SECONDS = 30 * 24 * 3600


@dataclass(frozen=True)
class Minted:
    """Tokens `first_token_id .. first_token_id + count - 1`, minted by one transaction."""

    first_token_id: int
    count: int
    receipt: TxReceipt

    @property
    def token_ids(self) -> range:
        return range(self.first_token_id, self.first_token_id + self.count)


@dataclass(frozen=True)
class CommittedContent:
    """One ``ContentCommitted`` event of a collection: tokens ``first_token_id`` onwards committed
    to ``digest`` (a directory of metadata files when ``directory``) by transaction ``tx_hash``."""

    first_token_id: int
    count: int
    digest: bytes
    directory: bool
    tx_hash: str


@dataclass(frozen=True)
class Listing:
    collection: str
    token_id: int
    seller: str
    price_wei: int


@dataclass(frozen=True)
class Offer:
    collection: str
    token_id: int
    buyer: str
    amount_wei: int
    expiry: int | None = None  # None: a first-version marketplace, whose offers never expire


@dataclass(frozen=True)
class SaleQuote:
    """How a sale at `price_wei` splits between royalty, marketplace fee and seller."""

    price_wei: int
    royalty_receiver: str | None
    royalty_wei: int
    fee_wei: int
    proceeds_wei: int


@dataclass(frozen=True)
class RoyaltyInfo:
    receiver: str | None
    amount_wei: int


def checksum(address: str, what: str = "address") -> str:
    """A checksummed address, or InputError saying which one is wrong."""
    from web3 import Web3

    try:
        return Web3.to_checksum_address(address)
    except (ValueError, TypeError) as exc:
        raise InputError(f"The {what} {address!r} is not an Ethereum address.") from exc


def _none_if_zero(address: str) -> str | None:
    return None if int(address, 16) == 0 else address


def request_for(function_or_tx: Any, *, value: int = 0, action: str = "The transaction") -> TxRequest:
    """The `TxRequest` of a web3 contract function, a web3 constructor, or a transaction dict
    (``to``, ``data``, ``value``, ``gas``), for scripts and tests that hold one."""
    if isinstance(function_or_tx, dict):
        tx = function_or_tx
        data = tx.get("data") or "0x"
        return TxRequest(tx.get("to"), data if isinstance(data, str) else "0x" + bytes(data).hex(),
                         int(tx.get("value", value)), action, int(tx["gas"]) if "gas" in tx else None)
    if hasattr(function_or_tx, "data_in_transaction"):  # a constructor with its arguments
        return TxRequest(None, function_or_tx.data_in_transaction, value, action)
    function = function_or_tx
    contract = function.w3.eth.contract(address=function.address, abi=function.contract_abi)
    data = contract.encode_abi(function.abi_element_identifier, args=function.args, kwargs=function.kwargs)
    return TxRequest(function.address, data, value, action)


def _transact(connection: Connection, signer: Any, request: TxRequest) -> TxReceipt:
    from studio.chain.sender import TxSender

    return TxSender.for_signer(connection, as_signer(signer)).transact(request)


def _web3_log(entry: EventLog) -> dict[str, Any]:
    """An EventLog in the shape web3's event decoder reads."""
    return {"address": entry.address, "topics": [bytes.fromhex(t[2:]) for t in entry.topics],
            "data": bytes.fromhex(entry.data[2:]), "logIndex": entry.log_index,
            "transactionIndex": entry.tx_index, "transactionHash": bytes.fromhex(entry.tx_hash[2:]),
            "blockHash": bytes.fromhex(entry.block_hash[2:]), "blockNumber": entry.block_number}


class _Bound:
    """A contract at an address on one connection."""

    artifact_name = ""

    def __init__(self, connection: Connection, address: str) -> None:
        self.connection = connection
        self.address = checksum(address, "contract address")
        self.contract = connection.web3.eth.contract(address=self.address, abi=load_artifact(self.artifact_name).abi)

    @classmethod
    def _deploy_request(cls, connection: Connection, *args: Any, action: str) -> TxRequest:
        artifact = load_artifact(cls.artifact_name)
        factory = connection.web3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        return TxRequest(None, factory.constructor(*args).data_in_transaction, 0, action)

    @classmethod
    def _deploy(cls, connection: Connection, signer: Any, request: TxRequest) -> tuple[Any, TxReceipt]:
        receipt = _transact(connection, signer, request)
        if receipt.contract_address is None:
            raise ChainError(f"{request.action}: the node's receipt names no contract address.",
                             hint="Check that the node is a standard Ethereum node, then try again.")
        return cls(connection, receipt.contract_address), receipt

    def _request(self, function: str, *args: Any, value: int = 0, action: str) -> TxRequest:
        return TxRequest(self.address, self.contract.encode_abi(function, args=list(args)), value, action)

    def _send(self, signer: Any, request: TxRequest) -> TxReceipt:
        return _transact(self.connection, signer, request)

    def _call(self, function: str, *args: Any, action: str = "Reading the contract") -> Any:
        return self.connection.call(getattr(self.contract.functions, function)(*args), action=action)

    def _events(self, receipt: TxReceipt, name: str) -> builtins.list[dict[str, Any]]:
        """The arguments of every `name` event this contract emitted in the receipt's transaction."""
        event = getattr(self.contract.events, name)()
        topic = hex_string(event.topic)
        found = []
        for entry in receipt.logs:
            if entry.address.lower() == self.address.lower() and entry.topics and entry.topics[0] == topic:
                found.append(dict(event.process_log(_web3_log(entry))["args"]))
        return found


class CollectionContract(_Bound):
    """An artist's StudioCollection."""

    artifact_name = "StudioCollection"
    _voucher_version: int | None = None

    @classmethod
    def deploy_tx(cls, connection: Connection, *, name: str, symbol: str, royalty_receiver: str,
                  royalty_bps: int) -> TxRequest:
        """The deployment of a new collection with a default royalty (owned by whoever sends it)."""
        if not name.strip() or not symbol.strip():
            raise InputError("A collection needs a name and a symbol.")
        _check_royalty(royalty_bps)
        return cls._deploy_request(connection, name, symbol, checksum(royalty_receiver, "royalty receiver"),
                                   royalty_bps, action=f"Deploying the collection {name.strip()} ({symbol.strip()})")

    @classmethod
    def deploy(cls, connection: Connection, signer: Signer, *, name: str, symbol: str,
               royalty_receiver: str, royalty_bps: int) -> tuple["CollectionContract", TxReceipt]:
        """Deploy a new collection owned by `signer` with a default royalty."""
        return cls._deploy(connection, signer, cls.deploy_tx(connection, name=name, symbol=symbol,
                                                             royalty_receiver=royalty_receiver,
                                                             royalty_bps=royalty_bps))

    # ---- minting
    def mint_tx(self, to: str, commitment: Commitment) -> TxRequest:
        """Mint one token committed to a single metadata file."""
        if commitment.directory:
            raise InputError("A single mint commits one file; use mint_batch for a directory.")
        return self._request("mint", checksum(to, "recipient"), commitment.digest, action="Minting the token")

    def mint(self, signer: Signer, to: str, commitment: Commitment) -> Minted:
        return self._minted(self._send(signer, self.mint_tx(to, commitment)))

    def mint_batch_tx(self, to: str, commitment: Commitment, *, action: str = "Minting the batch") -> TxRequest:
        """Mint `commitment.count` tokens committed to one directory (`action` names it in previews and
        the wallet's history, e.g. "Minting 5 works in Dawns")."""
        if not commitment.directory:
            raise InputError("A batch mint commits a directory; use directory_commitment(files).")
        return self._request("mintBatch", checksum(to, "recipient"), commitment.digest, commitment.count,
                             action=action)

    def mint_batch(self, signer: Signer, to: str, commitment: Commitment) -> Minted:
        return self._minted(self._send(signer, self.mint_batch_tx(to, commitment)))

    def redeem_tx(self, signed: SignedVoucher, *, action: str = "Redeeming the voucher") -> TxRequest:
        """Pay a voucher's price and mint its token to whoever sends it (the voucher's form must be the
        one the collection takes: six fields before voucher epochs, eight since)."""
        if checksum(signed.collection) != self.address or signed.chain_id != self.connection.chain_id:
            raise InputError("This voucher was made for another collection or network.")
        if signed.version != self.voucher_version():
            raise InputError("This voucher was signed in a form this collection does not take.",
                             hint="Ask the artist to sign it again.")
        price = signed.voucher.price_wei
        if signed.version == 1:  # a collection from before voucher epochs: its redeem takes six fields
            abi = [dict(entry, inputs=[dict(entry["inputs"][0], components=entry["inputs"][0]["components"][:6]),
                                       entry["inputs"][1]])
                   for entry in self.contract.abi if entry.get("name") == "redeem"]
            legacy = self.connection.web3.eth.contract(address=self.address, abi=abi)
            return TxRequest(self.address, legacy.encode_abi("redeem", args=[signed.as_struct(), signed.signature]),
                             price, action)
        return self._request("redeem", signed.as_struct(), signed.signature, value=price, action=action)

    def redeem(self, signer: Signer, signed: SignedVoucher) -> Minted:
        return self._minted(self._send(signer, self.redeem_tx(signed)))

    def cancel_all_vouchers_tx(self) -> TxRequest:
        """Void every voucher signed so far (a new voucher epoch starts)."""
        return self._request("cancelAllVouchers", action="Cancelling every voucher")

    def cancel_all_vouchers(self, signer: Signer) -> TxReceipt:
        return self._send(signer, self.cancel_all_vouchers_tx())

    def voucher_epoch(self) -> int:
        """The epoch new vouchers must name (0 on a collection without epochs)."""
        return int(self._call("voucherEpoch")) if self.voucher_version() == 2 else 0

    def voucher_version(self) -> int:
        """2 when the collection takes vouchers with a redeemer and an epoch, 1 for an older one."""
        if self._voucher_version is None:
            from studio.chain.transactions import as_studio_error
            from studio.errors import NetworkError

            try:
                self.contract.functions.voucherEpoch().call()
                self._voucher_version = 2
            except Exception as exc:  # a collection deployed before voucher epochs has no such function
                error = as_studio_error(exc, "Reading the collection's voucher epoch")
                if isinstance(error, NetworkError):
                    raise error from exc
                self._voucher_version = 1
        return self._voucher_version

    def cancel_voucher(self, signer: Signer, nonce: int) -> TxReceipt:
        return self._send(signer, self._request("cancelVoucher", nonce, action="Cancelling the voucher"))

    def minted_in(self, receipt: TxReceipt) -> Minted | None:
        """The tokens a landed transaction minted here (its last ``ContentCommitted`` event), or None
        when it minted nothing in this collection (a cancelled or foreign transaction)."""
        events = self._events(receipt, "ContentCommitted")
        if not events:
            return None
        return Minted(int(events[-1]["firstTokenId"]), int(events[-1]["count"]), receipt)

    def _minted(self, receipt: TxReceipt) -> Minted:
        minted = self.minted_in(receipt)
        if minted is None:
            raise ChainError(f"The transaction {receipt.tx_hash} landed but minted nothing in this collection.",
                             hint="Look the transaction up in a block explorer.")
        return minted

    def redeemed_token_id(self, receipt: TxReceipt) -> int | None:
        """The token id a redeemed voucher minted (its ``VoucherRedeemed`` event), or None."""
        events = self._events(receipt, "VoucherRedeemed")
        return int(events[-1]["tokenId"]) if events else None

    # ---- royalties and ownership
    def set_default_royalty(self, signer: Signer, receiver: str, bps: int) -> TxReceipt:
        _check_royalty(bps)
        return self._send(signer, self._request("setDefaultRoyalty", checksum(receiver), bps,
                                                action="Setting the royalty"))

    def set_token_royalty_tx(self, token_id: int, receiver: str, bps: int) -> TxRequest:
        _check_royalty(bps)
        return self._request("setTokenRoyalty", token_id, checksum(receiver), bps,
                             action="Setting the token's royalty")

    def set_token_royalty(self, signer: Signer, token_id: int, receiver: str, bps: int) -> TxReceipt:
        return self._send(signer, self.set_token_royalty_tx(token_id, receiver, bps))

    def reset_token_royalty(self, signer: Signer, token_id: int) -> TxReceipt:
        return self._send(signer, self._request("resetTokenRoyalty", token_id, action="Resetting the token's royalty"))

    def transfer_ownership(self, signer: Signer, new_owner: str) -> TxReceipt:
        return self._send(signer, self._request("transferOwnership", checksum(new_owner, "new owner"),
                                                action="Transferring the collection"))

    def withdraw_payments(self, signer: Signer, to: str) -> TxReceipt:
        return self._send(signer, self._request("withdrawPayments", checksum(to),
                                                action="Withdrawing voucher payments"))

    # ---- ERC-721
    def approve_tx(self, operator: str, token_id: int, *, action: str = "Approving the token") -> TxRequest:
        return self._request("approve", checksum(operator), token_id, action=action)

    def approve(self, signer: Signer, operator: str, token_id: int) -> TxReceipt:
        return self._send(signer, self.approve_tx(operator, token_id))

    def set_approval_for_all_tx(self, operator: str, approved: bool = True) -> TxRequest:
        return self._request("setApprovalForAll", checksum(operator), approved, action="Approving the marketplace")

    def set_approval_for_all(self, signer: Signer, operator: str, approved: bool = True) -> TxReceipt:
        return self._send(signer, self.set_approval_for_all_tx(operator, approved))

    def transfer(self, signer: Signer, to: str, token_id: int) -> TxReceipt:
        signer = as_signer(signer)
        return self._send(signer, self._request("transferFrom", signer.address, checksum(to, "recipient"), token_id,
                                                action="Transferring the token"))

    # ---- views
    def name(self) -> str:
        return str(self._call("name", action="Reading the collection's name"))

    def symbol(self) -> str:
        return str(self._call("symbol", action="Reading the collection's symbol"))

    def owner(self) -> str:
        return str(self._call("owner", action="Reading the collection's owner"))

    def owner_of(self, token_id: int) -> str:
        return str(self._call("ownerOf", token_id, action=f"Looking up token {token_id}"))

    def balance_of(self, address: str) -> int:
        return int(self._call("balanceOf", checksum(address)))

    def total_supply(self) -> int:
        return int(self._call("totalSupply"))

    def token_uri(self, token_id: int) -> str:
        return str(self._call("tokenURI", token_id, action=f"Looking up token {token_id}"))

    def get_approved(self, token_id: int) -> str | None:
        """The one address approved for `token_id` (None when nobody is)."""
        return _none_if_zero(self._call("getApproved", token_id, action=f"Looking up token {token_id}"))

    def is_approved_for_all(self, owner: str, operator: str) -> bool:
        return bool(self._call("isApprovedForAll", checksum(owner), checksum(operator)))

    def may_transfer(self, operator: str, token_id: int, owner: str) -> bool:
        """Whether `operator` may move `owner`'s token `token_id` (approved for it, or for all of them)."""
        approved = self.get_approved(token_id)
        return (approved is not None and approved.lower() == operator.lower()) or \
            self.is_approved_for_all(owner, operator)

    def content_of(self, token_id: int) -> tuple[Commitment, int]:
        """The commitment a token was minted with and its entry index in it."""
        digest, directory, index = self._call("contentOf", token_id, action=f"Looking up token {token_id}")
        return Commitment(bytes(digest), bool(directory)), int(index)

    def cid_of(self, digest: bytes, directory: bool) -> str:
        """The CID text the contract spells for a content digest (the studio's commitment encoding)."""
        return str(self._call("cidOf", digest, directory, action="Checking the collection"))

    def content_commitments(self, from_block: int = 0) -> builtins.list[CommittedContent]:
        """Every commitment the collection has minted since ``from_block``, in chain order, read
        from its logs (how a resumed batch finds the batches that landed)."""
        logs = self.contract.events.ContentCommitted().get_logs(from_block=from_block)
        return [CommittedContent(int(log["args"]["firstTokenId"]), int(log["args"]["count"]),
                                 bytes(log["args"]["digest"]), bool(log["args"]["directory"]),
                                 "0x" + bytes(log["transactionHash"]).hex()) for log in logs]

    def royalty_info(self, token_id: int, price_wei: int) -> RoyaltyInfo:
        receiver, amount = self._call("royaltyInfo", token_id, price_wei)
        return RoyaltyInfo(_none_if_zero(receiver), int(amount))

    def is_nonce_used(self, nonce: int) -> bool:
        return bool(self._call("isNonceUsed", nonce))

    def pending_payment(self, payee: str) -> int:
        return int(self._call("pendingPayments", checksum(payee)))

    def supports_interface(self, interface_id: bytes) -> bool:
        return bool(self._call("supportsInterface", interface_id))


class MarketplaceContract(_Bound):
    """The StudioMarketplace of one network: version 2, or a first version deployed before it.

    Both keep their listings and offers readable, buyable, cancellable and withdrawable through
    the same methods; only version 2 takes new offers (they expire) and guards the seller's
    proceeds on chain (version 1 is checked against the quote before sending).
    """

    artifact_name = "StudioMarketplace"

    def __init__(self, connection: Connection, address: str) -> None:
        super().__init__(connection, address)
        self.version = self._probe_version()
        if self.version == 1:
            self.contract = connection.web3.eth.contract(address=self.address,
                                                         abi=load_artifact("StudioMarketplaceV1").abi)

    def _probe_version(self) -> int:
        from studio.chain.transactions import as_studio_error
        from studio.errors import NetworkError

        try:
            return int(self.contract.functions.marketplaceVersion().call())
        except Exception as exc:  # the first version has no such function (and no fallback): the call reverts
            error = as_studio_error(exc, "Reading the marketplace's version")
            if isinstance(error, NetworkError):  # the node, not the contract: say so rather than guess
                raise error from exc
            return 1

    @classmethod
    def deploy(cls, connection: Connection, signer: Signer) -> tuple["MarketplaceContract", TxReceipt]:
        return cls._deploy(connection, signer, cls._deploy_request(connection, action="Deploying the marketplace"))

    # ---- listings
    def list_tx(self, collection: str, token_id: int, price_wei: int) -> TxRequest:
        """List a token (the marketplace must be approved for it; it moves into the marketplace)."""
        _check_price(price_wei)
        return self._request("list", checksum(collection, "collection"), token_id, price_wei,
                             action="Listing the token")

    def list(self, signer: Signer, collection: str, token_id: int, price_wei: int) -> TxReceipt:
        """List a token; it moves into the marketplace until sold or cancelled."""
        signer = as_signer(signer)
        _check_price(price_wei)
        token = CollectionContract(self.connection, collection)
        owner = token.owner_of(token_id)
        if owner != signer.address:
            raise InputError(f"Token {token_id} belongs to {owner}, not to {signer.address}.")
        if not token.may_transfer(self.address, token_id, owner):
            raise InputError("The marketplace is not approved for this token.",
                             hint="Approve the marketplace for the collection first.")
        return self._send(signer, self.list_tx(token.address, token_id, price_wei))

    def update_price_tx(self, collection: str, token_id: int, price_wei: int) -> TxRequest:
        _check_price(price_wei)
        return self._request("updatePrice", checksum(collection), token_id, price_wei, action="Changing the price")

    def update_price(self, signer: Signer, collection: str, token_id: int, price_wei: int) -> TxReceipt:
        return self._send(signer, self.update_price_tx(collection, token_id, price_wei))

    def cancel_tx(self, collection: str, token_id: int) -> TxRequest:
        return self._request("cancel", checksum(collection), token_id, action="Cancelling the listing")

    def cancel(self, signer: Signer, collection: str, token_id: int) -> TxReceipt:
        return self._send(signer, self.cancel_tx(collection, token_id))

    def buy_tx(self, collection: str, token_id: int, price_wei: int) -> TxRequest:
        """Buy a listed token for `price_wei`, the price the buyer saw (it must still be the price)."""
        return self._request("buy", checksum(collection), token_id, value=price_wei, action="Buying the token")

    def buy(self, signer: Signer, collection: str, token_id: int, price_wei: int) -> TxReceipt:
        return self._send(signer, self.buy_tx(collection, token_id, price_wei))

    def listing(self, collection: str, token_id: int) -> Listing | None:
        seller, price = self._call("listingOf", checksum(collection), token_id)
        if int(seller, 16) == 0:
            return None
        return Listing(checksum(collection), token_id, seller, int(price))

    # ---- offers
    def default_offer_expiry(self) -> int:
        """The expiry an offer gets when none is chosen: 30 days after the latest block."""
        return self.connection.latest_block_time() + DEFAULT_OFFER_SECONDS

    def make_offer_tx(self, collection: str, token_id: int, amount_wei: int, expiry: int | None = None) -> TxRequest:
        """Escrow `amount_wei` as an offer until `expiry` (unix seconds; default 30 days), added to any
        offer the sender already has (whose expiry becomes this one). Version 2 only."""
        _check_price(amount_wei)
        if self.version == 1:
            raise InputError("This marketplace is the first version, whose offers never expire; it takes no "
                             "new offers.", hint="Make the offer as a Seaport order (in WETH) instead.")
        return self._request("makeOffer", checksum(collection), token_id,
                             self.default_offer_expiry() if expiry is None else expiry, value=amount_wei,
                             action="Making the offer")

    def make_offer(self, signer: Signer, collection: str, token_id: int, amount_wei: int,
                   expiry: int | None = None) -> TxReceipt:
        return self._send(signer, self.make_offer_tx(collection, token_id, amount_wei, expiry))

    def withdraw_offer_tx(self, collection: str, token_id: int) -> TxRequest:
        return self._request("withdrawOffer", checksum(collection), token_id, action="Withdrawing the offer")

    def withdraw_offer(self, signer: Signer, collection: str, token_id: int) -> TxReceipt:
        return self._send(signer, self.withdraw_offer_tx(collection, token_id))

    def accept_offer_tx(self, collection: str, token_id: int, buyer: str, amount_wei: int,
                        min_proceeds_wei: int | None = None) -> TxRequest:
        """Sell to `buyer` for their offer, which must still be `amount_wei` and unexpired, the seller
        receiving at least `min_proceeds_wei` (default: what the quote gives now). Version 2 checks it
        on chain; for version 1 the quote is checked here. The token's owner, an operator it approved,
        or the seller of its listing may accept; the proceeds go to the owner."""
        collection, buyer = checksum(collection), checksum(buyer, "buyer")
        if min_proceeds_wei is None:
            min_proceeds_wei = self.quote(collection, token_id, amount_wei).proceeds_wei
        if self.version == 1:
            proceeds = self.quote(collection, token_id, amount_wei).proceeds_wei
            if proceeds < min_proceeds_wei:
                raise ChainError(f"The seller would receive {proceeds} wei, less than the {min_proceeds_wei} wei "
                                 "agreed (the fee or royalty went up); nothing was sold.",
                                 hint="Review the sale again.")
            return self._request("acceptOffer", collection, token_id, buyer, amount_wei, action="Accepting the offer")
        return self._request("acceptOffer", collection, token_id, buyer, amount_wei, min_proceeds_wei,
                             action="Accepting the offer")

    def accept_offer(self, signer: Signer, collection: str, token_id: int, buyer: str,
                     amount_wei: int, min_proceeds_wei: int | None = None) -> TxReceipt:
        return self._send(signer, self.accept_offer_tx(collection, token_id, buyer, amount_wei, min_proceeds_wei))

    def offer(self, collection: str, token_id: int, buyer: str) -> Offer | None:
        """`buyer`'s offer on a token (expired ones included: their ETH is still there to withdraw)."""
        collection, buyer = checksum(collection), checksum(buyer)
        if self.version == 1:
            amount = int(self._call("offerOf", collection, token_id, buyer))
            return Offer(collection, token_id, buyer, amount) if amount else None
        amount, expiry = self._call("offerDetails", collection, token_id, buyer)
        return Offer(collection, token_id, buyer, int(amount), int(expiry)) if amount else None

    def min_proceeds(self, collection: str, token_id: int) -> int | None:
        """The least the seller of a listed token accepted to receive (None on a first version)."""
        if self.version == 1:
            return None
        return int(self._call("minProceedsOf", checksum(collection), token_id))

    # ---- payments and fee
    def withdraw_tx(self, to: str) -> TxRequest:
        return self._request("withdraw", checksum(to, "recipient"), action="Withdrawing payments")

    def withdraw(self, signer: Signer, to: str) -> TxReceipt:
        return self._send(signer, self.withdraw_tx(to))

    def pending_withdrawal(self, payee: str) -> int:
        return int(self._call("pendingWithdrawals", checksum(payee)))

    def set_fee(self, signer: Signer, bps: int, recipient: str) -> TxReceipt:
        if not 0 <= bps <= MAX_FEE_BPS:
            raise InputError(f"The marketplace fee is between 0% and {MAX_FEE_BPS / 100:g}%.")
        return self._send(signer, self._request("setFee", bps, checksum(recipient),
                                                action="Setting the marketplace fee"))

    def transfer_ownership(self, signer: Signer, new_owner: str) -> TxReceipt:
        """Propose a new owner (version 2: it takes effect when they call `accept_ownership`)."""
        return self._send(signer, self._request("transferOwnership", checksum(new_owner, "new owner"),
                                                action="Transferring the marketplace"))

    def accept_ownership(self, signer: Signer) -> TxReceipt:
        return self._send(signer, self._request("acceptOwnership", action="Accepting the marketplace"))

    def owner(self) -> str:
        return str(self._call("owner"))

    def fee(self) -> tuple[int, str]:
        """(fee in basis points, fee recipient)."""
        return int(self._call("feeBps")), str(self._call("feeRecipient"))

    def quote(self, collection: str, token_id: int, price_wei: int) -> SaleQuote:
        receiver, royalty, fee, proceeds = self._call("quote", checksum(collection), token_id, price_wei)
        return SaleQuote(price_wei, _none_if_zero(receiver), int(royalty), int(fee), int(proceeds))

    # ---- indexing
    def active_listings(self, from_block: int = 0) -> builtins.list[Listing]:
        """Current listings rebuilt from the marketplace's logs alone (what an indexer does)."""
        listings: dict[tuple[str, int], Listing] = {}
        ended = ("ListingCancelled", "Sold")
        events = self.contract.events
        logs = []
        for name in ("Listed", "PriceUpdated", *ended):
            for log in getattr(events, name)().get_logs(from_block=from_block):
                logs.append((log["blockNumber"], log["logIndex"], name, log["args"]))
        for _, _, name, args in sorted(logs, key=lambda item: (item[0], item[1])):
            key = (args["collection"], int(args["tokenId"]))
            if name in ("Listed", "PriceUpdated"):
                listings[key] = Listing(key[0], key[1], args["seller"], int(args["price"]))
            else:
                listings.pop(key, None)
        return sorted(listings.values(), key=lambda listing: (listing.collection, listing.token_id))


def _check_royalty(bps: int) -> None:
    if not 0 <= bps <= MAX_ROYALTY_BPS:
        raise InputError(f"A royalty is between 0% and {MAX_ROYALTY_BPS / 100:g}% ({MAX_ROYALTY_BPS} basis points).")


def _check_price(price_wei: int) -> None:
    if not 0 < price_wei <= MAX_PRICE_WEI:
        raise InputError("A price must be more than zero.")
