"""Typed wrappers over the studio's contracts: an artist's collection and the marketplace.

Each state-changing method takes the `Signer` that pays for and signs the transaction, and
returns plain results (token ids, `TxReceipt`); reverts arrive as `ChainError`s whose message
names what went wrong ("This voucher was already redeemed ..."). Money is integer wei.
"""
from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import Any

from studio.chain.artifacts import load_artifact
from studio.chain.content import Commitment
from studio.chain.transactions import Connection, Signer, TxReceipt, as_signer
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
    receipt: TxReceipt | None  # None: read from a raw receipt that no TxReceipt was made for (batch runs)

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


class _Bound:
    """A contract at an address on one connection."""

    artifact_name = ""

    def __init__(self, connection: Connection, address: str) -> None:
        self.connection = connection
        self.address = checksum(address, "contract address")
        self.contract = connection.web3.eth.contract(address=self.address, abi=load_artifact(self.artifact_name).abi)

    @classmethod
    def _deploy(cls, connection: Connection, signer: Any, *args: Any, action: str):
        artifact = load_artifact(cls.artifact_name)
        factory = connection.web3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        receipt = connection.send(as_signer(signer), factory.constructor(*args), action=action)
        if receipt.contract_address is None:
            raise ChainError(f"{action}: the node's receipt names no contract address.",
                             hint="Check that the node is a standard Ethereum node, then try again.")
        return cls(connection, receipt.contract_address), receipt

    def _send(self, signer: Any, function: Any, *, value: int = 0, action: str) -> TxReceipt:
        return self.connection.send(as_signer(signer), function, value=value, action=action)

    def _send_logs(self, signer: Any, function: Any, *, value: int = 0, action: str):
        return self.connection.send_with_logs(as_signer(signer), function, value=value, action=action)

    def _call(self, function: Any, action: str = "Reading the contract") -> Any:
        return self.connection.call(function, action=action)


class CollectionContract(_Bound):
    """An artist's StudioCollection."""

    artifact_name = "StudioCollection"
    _voucher_version: int | None = None

    @classmethod
    def deploy(cls, connection: Connection, signer: Signer, *, name: str, symbol: str,
               royalty_receiver: str, royalty_bps: int) -> tuple["CollectionContract", TxReceipt]:
        """Deploy a new collection owned by `signer` with a default royalty."""
        if not name.strip() or not symbol.strip():
            raise InputError("A collection needs a name and a symbol.")
        _check_royalty(royalty_bps)
        return cls._deploy(connection, signer, name, symbol, checksum(royalty_receiver, "royalty receiver"),
                           royalty_bps, action="Deploying the collection")

    # ---- minting
    def mint(self, signer: Signer, to: str, commitment: Commitment) -> Minted:
        """Mint one token committed to a single metadata file."""
        if commitment.directory:
            raise InputError("A single mint commits one file; use mint_batch for a directory.")
        receipt, raw = self._send_logs(signer, self.contract.functions.mint(checksum(to, "recipient"),
                                                                            commitment.digest),
                                       action="Minting the token")
        return self.minted_from_receipt(receipt, raw)

    def mint_batch(self, signer: Signer, to: str, commitment: Commitment) -> Minted:
        """Mint `commitment.count` tokens committed to one directory."""
        if not commitment.directory:
            raise InputError("A batch mint commits a directory; use directory_commitment(files).")
        function = self.contract.functions.mintBatch(checksum(to, "recipient"), commitment.digest, commitment.count)
        receipt, raw = self._send_logs(signer, function, action="Minting the batch")
        return self.minted_from_receipt(receipt, raw)

    def redeem(self, signer: Signer, signed: SignedVoucher) -> Minted:
        """Pay a voucher's price and mint its token to the signer."""
        if checksum(signed.collection) != self.address or signed.chain_id != self.connection.chain_id:
            raise InputError("This voucher was made for another collection or network.")
        voucher = signed.voucher
        if signed.version != self.voucher_version():
            raise InputError("This voucher was signed in a form this collection does not take.",
                             hint="Ask the artist to sign it again.")
        function = self.redeem_call(signed)
        receipt, raw = self._send_logs(signer, function, value=voucher.price_wei, action="Redeeming the voucher")
        return self.minted_from_receipt(receipt, raw)

    def redeem_call(self, signed: SignedVoucher) -> Any:
        """The ``redeem`` call of a signed voucher (for previews and the send path)."""
        if signed.version == 1:
            abi = [dict(entry, inputs=[dict(entry["inputs"][0], components=entry["inputs"][0]["components"][:6]),
                                       entry["inputs"][1]])
                   for entry in self.contract.abi if entry.get("name") == "redeem"]
            legacy = self.connection.web3.eth.contract(address=self.address, abi=abi)
            return legacy.functions.redeem(signed.as_struct(), signed.signature)
        return self.contract.functions.redeem(signed.as_struct(), signed.signature)

    def cancel_voucher(self, signer: Signer, nonce: int) -> TxReceipt:
        return self._send(signer, self.contract.functions.cancelVoucher(nonce), action="Cancelling the voucher")

    def cancel_all_vouchers(self, signer: Signer) -> TxReceipt:
        """Void every voucher signed so far (a new voucher epoch starts)."""
        return self._send(signer, self.contract.functions.cancelAllVouchers(), action="Cancelling every voucher")

    def voucher_epoch(self) -> int:
        """The epoch new vouchers must name (0 on a collection without epochs)."""
        return int(self._call(self.contract.functions.voucherEpoch())) if self.voucher_version() == 2 else 0

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

    def minted_from_receipt(self, receipt: TxReceipt | None, raw: Any) -> Minted:
        """The tokens a landed transaction minted, from its last ``ContentCommitted`` event in the raw
        web3 receipt ``raw`` (``receipt`` is only carried along); IndexError when it minted none here."""
        from web3.logs import DISCARD

        events = self.contract.events.ContentCommitted().process_receipt(raw, errors=DISCARD)
        event = events[-1]["args"]
        return Minted(int(event["firstTokenId"]), int(event["count"]), receipt)

    # ---- royalties and ownership
    def set_default_royalty(self, signer: Signer, receiver: str, bps: int) -> TxReceipt:
        _check_royalty(bps)
        return self._send(signer, self.contract.functions.setDefaultRoyalty(checksum(receiver), bps),
                          action="Setting the royalty")

    def set_token_royalty(self, signer: Signer, token_id: int, receiver: str, bps: int) -> TxReceipt:
        _check_royalty(bps)
        return self._send(signer, self.contract.functions.setTokenRoyalty(token_id, checksum(receiver), bps),
                          action="Setting the token's royalty")

    def reset_token_royalty(self, signer: Signer, token_id: int) -> TxReceipt:
        return self._send(signer, self.contract.functions.resetTokenRoyalty(token_id),
                          action="Resetting the token's royalty")

    def transfer_ownership(self, signer: Signer, new_owner: str) -> TxReceipt:
        return self._send(signer, self.contract.functions.transferOwnership(checksum(new_owner, "new owner")),
                          action="Transferring the collection")

    def withdraw_payments(self, signer: Signer, to: str) -> TxReceipt:
        return self._send(signer, self.contract.functions.withdrawPayments(checksum(to)),
                          action="Withdrawing voucher payments")

    # ---- ERC-721
    def approve(self, signer: Signer, operator: str, token_id: int) -> TxReceipt:
        return self._send(signer, self.contract.functions.approve(checksum(operator), token_id),
                          action="Approving the token")

    def set_approval_for_all(self, signer: Signer, operator: str, approved: bool = True) -> TxReceipt:
        return self._send(signer, self.contract.functions.setApprovalForAll(checksum(operator), approved),
                          action="Approving the marketplace")

    def transfer(self, signer: Signer, to: str, token_id: int) -> TxReceipt:
        signer = as_signer(signer)
        function = self.contract.functions.transferFrom(signer.address, checksum(to, "recipient"), token_id)
        return self._send(signer, function, action="Transferring the token")

    # ---- views
    def owner(self) -> str:
        return self._call(self.contract.functions.owner())

    def owner_of(self, token_id: int) -> str:
        return self._call(self.contract.functions.ownerOf(token_id), f"Looking up token {token_id}")

    def balance_of(self, address: str) -> int:
        return int(self._call(self.contract.functions.balanceOf(checksum(address))))

    def total_supply(self) -> int:
        return int(self._call(self.contract.functions.totalSupply()))

    def token_uri(self, token_id: int) -> str:
        return self._call(self.contract.functions.tokenURI(token_id), f"Looking up token {token_id}")

    def content_of(self, token_id: int) -> tuple[Commitment, int]:
        """The commitment a token was minted with and its entry index in it."""
        digest, directory, index = self._call(self.contract.functions.contentOf(token_id),
                                              f"Looking up token {token_id}")
        return Commitment(bytes(digest), bool(directory)), int(index)

    def content_commitments(self, from_block: int = 0) -> list[CommittedContent]:
        """Every commitment the collection has minted since ``from_block``, in chain order, read
        from its logs (how a resumed batch finds the batches that landed)."""
        logs = self.contract.events.ContentCommitted().get_logs(from_block=from_block)
        return [CommittedContent(int(log["args"]["firstTokenId"]), int(log["args"]["count"]),
                                 bytes(log["args"]["digest"]), bool(log["args"]["directory"]),
                                 "0x" + bytes(log["transactionHash"]).hex()) for log in logs]

    def royalty_info(self, token_id: int, price_wei: int) -> RoyaltyInfo:
        receiver, amount = self._call(self.contract.functions.royaltyInfo(token_id, price_wei))
        return RoyaltyInfo(_none_if_zero(receiver), int(amount))

    def is_nonce_used(self, nonce: int) -> bool:
        return bool(self._call(self.contract.functions.isNonceUsed(nonce)))

    def pending_payment(self, payee: str) -> int:
        return int(self._call(self.contract.functions.pendingPayments(checksum(payee))))

    def supports_interface(self, interface_id: bytes) -> bool:
        return bool(self._call(self.contract.functions.supportsInterface(interface_id)))


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
        return cls._deploy(connection, signer, action="Deploying the marketplace")

    def _token(self, collection: str) -> Any:
        return self.connection.web3.eth.contract(address=checksum(collection, "collection"),
                                                 abi=load_artifact("StudioCollection").abi)

    # ---- listings
    def list(self, signer: Signer, collection: str, token_id: int, price_wei: int) -> TxReceipt:
        """List a token; it moves into the marketplace until sold or cancelled."""
        signer = as_signer(signer)
        _check_price(price_wei)
        token = self._token(collection)
        owner = self._call(token.functions.ownerOf(token_id), f"Looking up token {token_id}")
        if owner != signer.address:
            raise InputError(f"Token {token_id} belongs to {owner}, not to {signer.address}.")
        approved = self._call(token.functions.getApproved(token_id)) == self.address or self._call(
            token.functions.isApprovedForAll(owner, self.address))
        if not approved:
            raise InputError("The marketplace is not approved for this token.",
                             hint="Approve the marketplace for the collection first.")
        return self._send(signer, self.contract.functions.list(token.address, token_id, price_wei),
                          action="Listing the token")

    def update_price(self, signer: Signer, collection: str, token_id: int, price_wei: int) -> TxReceipt:
        _check_price(price_wei)
        return self._send(signer, self.contract.functions.updatePrice(checksum(collection), token_id, price_wei),
                          action="Changing the price")

    def cancel(self, signer: Signer, collection: str, token_id: int) -> TxReceipt:
        return self._send(signer, self.contract.functions.cancel(checksum(collection), token_id),
                          action="Cancelling the listing")

    def buy(self, signer: Signer, collection: str, token_id: int, price_wei: int) -> TxReceipt:
        """Buy a listed token for `price_wei`, the price the buyer saw (it must still be the price)."""
        return self._send(signer, self.contract.functions.buy(checksum(collection), token_id),
                          value=price_wei, action="Buying the token")

    def listing(self, collection: str, token_id: int) -> Listing | None:
        seller, price = self._call(self.contract.functions.listingOf(checksum(collection), token_id))
        if int(seller, 16) == 0:
            return None
        return Listing(checksum(collection), token_id, seller, int(price))

    # ---- offers
    def default_offer_expiry(self) -> int:
        """The expiry an offer gets when none is chosen: 30 days after the latest block."""
        latest = self.connection.web3.eth.get_block("latest")
        return int(latest["timestamp"]) + DEFAULT_OFFER_SECONDS

    def make_offer_call(self, collection: str, token_id: int, expiry: int) -> Any:
        """The ``makeOffer`` call (for previews and the send path); version 2 only."""
        if self.version == 1:
            raise InputError("This marketplace is the first version, whose offers never expire; it takes no "
                             "new offers.", hint="Make the offer as a Seaport order (in WETH) instead.")
        return self.contract.functions.makeOffer(checksum(collection), token_id, expiry)

    def make_offer(self, signer: Signer, collection: str, token_id: int, amount_wei: int,
                   expiry: int | None = None) -> TxReceipt:
        """Escrow `amount_wei` as an offer until `expiry` (unix seconds; default 30 days), added to
        any offer the signer already has (whose expiry becomes this one)."""
        _check_price(amount_wei)
        function = self.make_offer_call(collection, token_id,
                                        self.default_offer_expiry() if expiry is None else expiry)
        return self._send(signer, function, value=amount_wei, action="Making the offer")

    def withdraw_offer(self, signer: Signer, collection: str, token_id: int) -> TxReceipt:
        return self._send(signer, self.contract.functions.withdrawOffer(checksum(collection), token_id),
                          action="Withdrawing the offer")

    def accept_offer_call(self, collection: str, token_id: int, buyer: str, amount_wei: int,
                          min_proceeds_wei: int | None = None) -> Any:
        """The ``acceptOffer`` call (for previews and the send path). `min_proceeds_wei` is the least
        the seller accepts to receive (default: what the quote gives now). Version 2 checks it on
        chain; for version 1 the quote is checked before the call is made."""
        collection, buyer = checksum(collection), checksum(buyer, "buyer")
        if min_proceeds_wei is None:
            min_proceeds_wei = self.quote(collection, token_id, amount_wei).proceeds_wei
        if self.version == 1:
            proceeds = self.quote(collection, token_id, amount_wei).proceeds_wei
            if proceeds < min_proceeds_wei:
                raise ChainError(f"The seller would receive {proceeds} wei, less than the {min_proceeds_wei} wei "
                                 "agreed (the fee or royalty went up); nothing was sold.",
                                 hint="Review the sale again.")
            return self.contract.functions.acceptOffer(collection, token_id, buyer, amount_wei)
        return self.contract.functions.acceptOffer(collection, token_id, buyer, amount_wei, min_proceeds_wei)

    def accept_offer(self, signer: Signer, collection: str, token_id: int, buyer: str,
                     amount_wei: int, min_proceeds_wei: int | None = None) -> TxReceipt:
        """Sell to `buyer` for their offer, which must still be `amount_wei` and unexpired, the seller
        receiving at least `min_proceeds_wei` (default: the quote now). The token's owner, an operator
        it approved, or the seller of its listing may accept; the proceeds go to the owner."""
        function = self.accept_offer_call(collection, token_id, buyer, amount_wei, min_proceeds_wei)
        return self._send(signer, function, action="Accepting the offer")

    def offer(self, collection: str, token_id: int, buyer: str) -> Offer | None:
        """`buyer`'s offer on a token (expired ones included: their ETH is still there to withdraw)."""
        collection, buyer = checksum(collection), checksum(buyer)
        if self.version == 1:
            amount = int(self._call(self.contract.functions.offerOf(collection, token_id, buyer)))
            return Offer(collection, token_id, buyer, amount) if amount else None
        amount, expiry = self._call(self.contract.functions.offerDetails(collection, token_id, buyer))
        return Offer(collection, token_id, buyer, int(amount), int(expiry)) if amount else None

    def min_proceeds(self, collection: str, token_id: int) -> int | None:
        """The least the seller of a listed token accepted to receive (None on a first version)."""
        if self.version == 1:
            return None
        return int(self._call(self.contract.functions.minProceedsOf(checksum(collection), token_id)))

    # ---- payments and fee
    def withdraw(self, signer: Signer, to: str) -> TxReceipt:
        return self._send(signer, self.contract.functions.withdraw(checksum(to)), action="Withdrawing payments")

    def pending_withdrawal(self, payee: str) -> int:
        return int(self._call(self.contract.functions.pendingWithdrawals(checksum(payee))))

    def set_fee(self, signer: Signer, bps: int, recipient: str) -> TxReceipt:
        if not 0 <= bps <= MAX_FEE_BPS:
            raise InputError(f"The marketplace fee is between 0% and {MAX_FEE_BPS / 100:g}%.")
        return self._send(signer, self.contract.functions.setFee(bps, checksum(recipient)),
                          action="Setting the marketplace fee")

    def transfer_ownership(self, signer: Signer, new_owner: str) -> TxReceipt:
        """Propose a new owner (version 2: it takes effect when they call `accept_ownership`)."""
        return self._send(signer, self.contract.functions.transferOwnership(checksum(new_owner, "new owner")),
                          action="Transferring the marketplace")

    def accept_ownership(self, signer: Signer) -> TxReceipt:
        return self._send(signer, self.contract.functions.acceptOwnership(), action="Accepting the marketplace")

    def owner(self) -> str:
        return str(self._call(self.contract.functions.owner()))

    def fee(self) -> tuple[int, str]:
        """(fee in basis points, fee recipient)."""
        return int(self._call(self.contract.functions.feeBps())), self._call(self.contract.functions.feeRecipient())

    def quote(self, collection: str, token_id: int, price_wei: int) -> SaleQuote:
        receiver, royalty, fee, proceeds = self._call(
            self.contract.functions.quote(checksum(collection), token_id, price_wei))
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
