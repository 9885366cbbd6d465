"""Selling and buying: listings, lazy listings (signed mint vouchers), offers, proceeds, and the market view.

    sync_market(connection, marketplace, store)                         # read new events into the library
    list_token(connection=c, signer=s, marketplace=m, collection=a, token_id=1, price_wei=10**17,
               confirm=lambda preview: ask(preview))                    # approve if needed, then list
    buy_listing(connection=c, signer=s2, marketplace=m, collection=a, token_id=1, confirm=...)

Every call that sends a transaction simulates it first and shows its preview to ``confirm``
(False: nothing is sent, `Cancelled`); obvious mistakes (not the owner, not listed, a zero price,
too little ETH) are refused with an `InputError` before any preview. Signing a voucher costs no
gas, but ``confirm`` still sees what is signed (an EIP-712 `MessagePreview`). Given a
`MarketStore`, each call syncs the market afterwards, so the library shows the result at once.
"""
from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable, Iterable

from studio.cancel import Cancellable, ProgressCallback
from studio.chain.transactions import Flow
from studio.errors import Cancelled, ChainError, InputError, NetworkError, NotFound, StudioError
from studio.library.market import ACTIVE, MarketStore, OfferRow, VoucherRow

if TYPE_CHECKING:
    from studio.chain.contracts import CollectionContract, Listing, MarketplaceContract, SaleQuote
    from studio.chain.history import TxHistory
    from studio.chain.networks import Network
    from studio.chain.transactions import Connection, Signer, TxReceipt, TxRequest
    from studio.chain.vouchers import SignedVoucher
    from studio.storage.store import ContentStore
    from studio.workflows.mint import MintItem

Confirm = Callable[[Any], bool]  # sees a TxPreview (or a MessagePreview for a voucher); False cancels
MAX_PRICE_WEI = 2**96 - 1


@dataclass(frozen=True)
class MarketReceipt:
    """What a market action sent: its transactions in order (an approval may come before the listing)."""

    action: str
    collection: str
    token_id: int | None
    price_wei: int | None
    receipts: tuple["TxReceipt", ...]

    @property
    def tx_hash(self) -> str:
        return self.receipts[-1].tx_hash

    @property
    def fee_wei(self) -> int:
        return sum(r.fee_wei for r in self.receipts)

    def to_json(self) -> dict[str, Any]:
        return {"action": self.action, "collection": self.collection, "token_id": self.token_id,
                "price_wei": None if self.price_wei is None else str(self.price_wei), "tx_hash": self.tx_hash,
                "transactions": [r.tx_hash for r in self.receipts], "fee_wei": str(self.fee_wei)}


@dataclass(frozen=True)
class SyncResult:
    new_events: int
    rolled_back_from: int | None
    last_block: int


# ---------------------------------------------------------------- reading the market

def sync_market(connection: "Connection", marketplace: str, store: MarketStore, *,
                collections: Iterable[str] = (), start_block: int = 0, confirmations: int = 0,
                progress: ProgressCallback | None = None, cancel: Cancellable | None = None) -> SyncResult:
    """Read the marketplace's new events (and transfers of known collections) into the library.

    Re-org safe: a changed block rolls back the stored events from the fork and reads them again,
    in the same library transaction that saves the new cursor. A node that does not answer
    raises NetworkError and leaves the library as it was.
    """
    from studio.chain.contracts import checksum
    from studio.chain.indexer import IndexCursor, MarketIndexer

    marketplace = checksum(marketplace, "marketplace address")
    chain_id = connection.chain_id
    watched = {checksum(c) for c in collections}
    watched |= {checksum(c) for c in store.collections_seen(chain_id, marketplace)}
    watched |= {checksum(c.address) for c in store.library.collections(chain_id)}
    saved = store.cursor(chain_id, marketplace)
    cursor = IndexCursor.from_json(saved) if saved else IndexCursor(start_block=start_block)
    indexer = MarketIndexer(connection, marketplace, collections=watched, confirmations=confirmations)
    result = indexer.scan(cursor, progress=progress, cancel=cancel)
    added = store.commit_scan(chain_id, marketplace, result.events, result.cursor.to_json(),
                              rolled_back_from=result.rolled_back_from)
    # Collections first seen in this scan: their transfers are read (backfilled) by the next one.
    if {checksum(c) for c in store.collections_seen(chain_id, marketplace)} - watched:
        again = sync_market(connection, marketplace, store, collections=watched, confirmations=confirmations,
                            cancel=cancel)
        return SyncResult(added + again.new_events, result.rolled_back_from, again.last_block)
    return SyncResult(added, result.rolled_back_from, result.cursor.last_block)


def quote_listing(connection: "Connection", marketplace: str, collection: str, token_id: int,
                  price_wei: int | None = None) -> "SaleQuote":
    """How a sale splits between royalty, fee and seller: at `price_wei` (a price being typed, the
    token need not be listed), else at the listed token's current price."""
    market = _market(connection, marketplace)
    if price_wei is not None:
        check_price(price_wei)
        return market.quote(collection, token_id, price_wei)
    listing = _listing_or_refuse(market, collection, token_id)
    return market.quote(collection, token_id, listing.price_wei)


@dataclass(frozen=True)
class TokenDetails:
    """What a market card shows about a token or a lazy listing, read from its metadata.

    Every text comes from strangers (the chain, the metadata file): show it as plain text.
    `verdict` is the provenance check of the image against its embedded manifest (`verified`,
    `unproven`, `tampered`, `invalid-signature`, `no-provenance`, `unreadable`; `tampered` too when
    the metadata names another creator than the image's signature proves), None when not checked.
    """

    name: str
    description: str
    image: bytes | None
    artist: str | None  # the provenance creator, else the collection's owner
    royalty_bps: int | None
    provenance: bool  # the metadata carries a studio provenance object
    verdict: str | None = None
    problem: str | None = None  # why the metadata or the image could not be read


MAX_CARD_IMAGE_BYTES = 16 * 1024 * 1024


def token_details(connection: "Connection", *, collection: str, fetcher: Any, token_id: int | None = None,
                  metadata_cid: str | None = None, library: Any = None, royalty_bps: int | None = None,
                  verify: bool = True, max_image_bytes: int = MAX_CARD_IMAGE_BYTES) -> TokenDetails:
    """Name, image, artist, royalty and provenance of a minted token (`token_id`) or of a lazy
    listing's metadata (`metadata_cid`), fetched through the verified `fetcher`.

    Never raises for a token whose metadata or image cannot be read: the card shows `problem`.
    The library (when given) supplies the metadata CID of tokens minted here without a node call.
    """
    from studio import safejson

    token = collection_contract(connection, collection)
    problem = None
    try:
        known = library.collection(connection.chain_id, token.address) if library is not None else None
        owner = known.owner if known is not None else token.owner()
        if royalty_bps is None:
            royalty_bps = token.royalty_info(token_id or 0, 10_000).amount_wei
    except StudioError as exc:
        owner, problem = None, str(exc)
    if metadata_cid is not None:
        uri = f"ipfs://{metadata_cid}"
    else:
        if token_id is None:
            raise InputError("Name the token (or the lazy listing's metadata) to describe.")
        row = library.token(connection.chain_id, token.address, token_id) if library is not None else None
        try:
            uri = f"ipfs://{row.metadata_cid}" if row is not None and row.metadata_cid else token.token_uri(token_id)
        except StudioError as exc:
            return TokenDetails(f"Token {token_id}", "", None, owner, royalty_bps, False, problem=str(exc))
    fallback = f"Token {token_id}" if token_id is not None else "Unminted work"
    try:
        data = safejson.loads(fetcher.fetch(uri).data, what="The token metadata")
        if not isinstance(data, dict):
            raise InputError("The token metadata is not a JSON object.")
    except StudioError as exc:
        return TokenDetails(fallback, "", None, owner, royalty_bps, False, problem=str(exc))
    found_name = data.get("name")
    name = found_name if isinstance(found_name, str) and found_name.strip() else fallback
    found_description = data.get("description")
    description = found_description if isinstance(found_description, str) else ""
    provenance = data.get("provenance") if isinstance(data.get("provenance"), dict) else None
    creator = provenance.get("creator") if provenance is not None else None
    artist = creator if isinstance(creator, str) and creator else owner
    image = None
    verdict = None
    if isinstance(data.get("image"), str):
        try:
            fetched = fetcher.fetch(data["image"])
            image = fetched.data if len(fetched.data) <= max_image_bytes else None
        except StudioError as exc:
            problem = f"The image could not be fetched: {exc}"
    if verify and provenance is not None and image is not None:
        verdict = _image_verdict(image, provenance)
    return TokenDetails(name.strip(), description, image, artist, royalty_bps, provenance is not None, verdict,
                        problem)


def _image_verdict(image: bytes, provenance: dict[str, Any]) -> str:
    """The provenance verdict of `image`, "tampered" when its manifest is not the one the metadata names."""
    from studio.chain.signatures import recover_typed_data
    from studio.provenance.verify import verify_bytes
    from studio.workflows.verify import install_c2pa_trust

    verdict = verify_bytes(image, name="token image", recover=recover_typed_data, c2pa_trust=install_c2pa_trust())
    claimed = provenance.get("manifest_sha256")
    if verdict.ok and verdict.manifest is not None and claimed and verdict.manifest.manifest_hash != claimed:
        return "tampered"
    # the card names the metadata's creator as the artist: a badge must not vouch for someone the image's
    # signature does not prove
    creator = provenance.get("creator")
    if verdict.ok and isinstance(creator, str) and creator and (verdict.creator or "").lower() != creator.lower():
        return "tampered"
    return verdict.verdict


# ---------------------------------------------------------------- selling

def list_token(*, connection: "Connection", signer: "Signer", marketplace: str, collection: str, token_id: int,
               price_wei: int, confirm: Confirm, store: MarketStore | None = None,
               network: "Network | None" = None, history: "TxHistory | None" = None,
               timeout: float = 120.0) -> MarketReceipt:
    """List a token at a fixed price; the marketplace holds it until sold or cancelled.

    The marketplace is approved for this one token first when it is not approved yet (a second
    transaction, with its own preview).
    """
    market = _market(connection, marketplace)
    token = collection_contract(connection, collection)
    check_price(price_wei)
    owner = token_owner(token, token_id)
    if owner == market.address:
        listing = market.listing(token.address, token_id)
        if listing and listing.seller == signer.address:
            raise InputError(f"Token {token_id} is already listed at {listing.price_wei} wei.",
                             hint="Change its price or cancel the listing instead.")
        raise InputError(f"Token {token_id} is listed by {listing.seller if listing else 'someone else'}.")
    if owner != signer.address:
        raise InputError(f"Token {token_id} belongs to {owner}, not to {signer.address}; only its owner can list it.")
    receipts = _approve_if_needed(connection, signer, token, market, token_id, owner, confirm=confirm,
                                  network=network, history=history, timeout=timeout)
    quote = market.quote(token.address, token_id, price_wei)
    request = replace(market.list_tx(token.address, token_id, price_wei),
                      details=(("Lists", f"token {token_id} of {collection_label(token)}"), ("Price", int(price_wei))),
                      flows=sale_flows(quote, seller=signer.address, buyer=None, signer=signer,
                                       fee_recipient=_fee_recipient(market), when="when it sells"))
    receipts.append(transact(connection, signer, request, confirm=confirm, network=network, history=history,
                              timeout=timeout))
    return _done(connection, market, store, MarketReceipt("list", token.address, token_id, price_wei,
                                                          tuple(receipts)))


def change_price(*, connection: "Connection", signer: "Signer", marketplace: str, collection: str, token_id: int,
                 price_wei: int, confirm: Confirm, store: MarketStore | None = None,
                 network: "Network | None" = None, history: "TxHistory | None" = None,
                 timeout: float = 120.0) -> MarketReceipt:
    """Change the price of one's own listing."""
    market = _market(connection, marketplace)
    check_price(price_wei)
    listing = _own_listing(market, signer, collection, token_id)
    if listing.price_wei == price_wei:
        raise InputError(f"Token {token_id} is already listed at {price_wei} wei.")
    quote = market.quote(listing.collection, token_id, price_wei)
    request = replace(market.update_price_tx(listing.collection, token_id, price_wei),
                      details=(("Token", f"{token_id} of {listing.collection}"),
                               ("Old price", int(listing.price_wei)), ("New price", int(price_wei))),
                      flows=sale_flows(quote, seller=signer.address, buyer=None, signer=signer,
                                       fee_recipient=_fee_recipient(market), when="when it sells"))
    receipt = transact(connection, signer, request, confirm=confirm, network=network, history=history,
                        timeout=timeout)
    return _done(connection, market, store, MarketReceipt("change-price", listing.collection, token_id, price_wei,
                                                          (receipt,)))


def cancel_listing(*, connection: "Connection", signer: "Signer", marketplace: str, collection: str, token_id: int,
                   confirm: Confirm, store: MarketStore | None = None, network: "Network | None" = None,
                   history: "TxHistory | None" = None, timeout: float = 120.0) -> MarketReceipt:
    """End one's own listing; the token comes back to the seller."""
    market = _market(connection, marketplace)
    listing = _own_listing(market, signer, collection, token_id)
    request = replace(market.cancel_tx(listing.collection, token_id),
                      details=(("Token", f"{token_id} of {listing.collection}"), ("Listed at", int(listing.price_wei))),
                      flows=(Flow("You", signer.address, "receives", 0, "now", f"token {token_id} back"),))
    receipt = transact(connection, signer, request, confirm=confirm, network=network, history=history,
                        timeout=timeout)
    return _done(connection, market, store, MarketReceipt("cancel", listing.collection, token_id, None, (receipt,)))


def withdraw_proceeds(*, connection: "Connection", signer: "Signer", marketplace: str, confirm: Confirm,
                      to: str | None = None, network: "Network | None" = None, history: "TxHistory | None" = None,
                      timeout: float = 120.0) -> MarketReceipt:
    """Collect sale proceeds or royalties the marketplace could not push (pull payments)."""
    from studio.chain.contracts import checksum

    market = _market(connection, marketplace)
    pending = market.pending_withdrawal(signer.address)
    if pending == 0:
        raise InputError(f"The marketplace holds nothing for {signer.address}: every payment reached it already.")
    to = checksum(to or signer.address, "recipient")
    request = replace(market.withdraw_tx(to), details=(("Due to you", int(pending)), ("Paid to", to)),
                      flows=(Flow("The marketplace", market.address, "sends", pending),
                             Flow(party(to, signer, "The recipient"), to, "receives", pending)))
    receipt = transact(connection, signer, request, confirm=confirm, network=network, history=history,
                        timeout=timeout)
    return MarketReceipt("withdraw", market.address, None, pending, (receipt,))


# ---------------------------------------------------------------- buying

def buy_listing(*, connection: "Connection", signer: "Signer", marketplace: str, collection: str, token_id: int,
                confirm: Confirm, expected_price_wei: int | None = None, store: MarketStore | None = None,
                network: "Network | None" = None, history: "TxHistory | None" = None,
                timeout: float = 120.0) -> MarketReceipt:
    """Buy a listed token at its price (refused when it is no longer `expected_price_wei`)."""
    market = _market(connection, marketplace)
    listing = _listing_or_refuse(market, collection, token_id)
    if listing.seller == signer.address:
        raise InputError(f"You are the seller of token {token_id}.", hint="Cancel the listing to take it back.")
    if expected_price_wei is not None and listing.price_wei != expected_price_wei:
        raise InputError(f"The price of token {token_id} changed to {listing.price_wei} wei (you saw "
                         f"{expected_price_wei} wei); nothing was bought.", hint="Review the new price.")
    check_balance(connection, signer, listing.price_wei, f"Token {token_id}")
    quote = market.quote(listing.collection, token_id, listing.price_wei)
    request = replace(market.buy_tx(listing.collection, token_id, listing.price_wei),
                      details=(("Buys", f"token {token_id} of {collection_label(collection_contract(connection, listing.collection))}"),
                               ("Price", int(listing.price_wei))),
                      flows=sale_flows(quote, seller=listing.seller, buyer=signer.address, signer=signer,
                                       fee_recipient=_fee_recipient(market), token_id=token_id))
    receipt = transact(connection, signer, request, confirm=confirm, network=network, history=history,
                        timeout=timeout)
    return _done(connection, market, store, MarketReceipt("buy", listing.collection, token_id, listing.price_wei,
                                                          (receipt,)))


def make_offer(*, connection: "Connection", signer: "Signer", marketplace: str, collection: str, token_id: int,
               amount_wei: int, confirm: Confirm, store: MarketStore | None = None,
               network: "Network | None" = None, history: "TxHistory | None" = None,
               timeout: float = 120.0, expiry: int | None = None) -> MarketReceipt:
    """Offer ETH for a token until `expiry` (default 30 days; held in escrow by the marketplace; a
    second offer adds to the first)."""
    market = _market(connection, marketplace)
    token = collection_contract(connection, collection)
    check_price(amount_wei)
    owner = token_owner(token, token_id)
    listing = market.listing(token.address, token_id) if owner == market.address else None
    if owner == signer.address or (listing is not None and listing.seller == signer.address):
        raise InputError(f"Token {token_id} is yours; an offer is for someone else's token.")
    check_balance(connection, signer, amount_wei, "The offer")
    seller = owner if owner != market.address else (listing.seller if listing else owner)
    expiry = market.default_offer_expiry() if expiry is None else int(expiry)
    request = replace(market.make_offer_tx(token.address, token_id, amount_wei, expiry),
                      details=(("Offers for", f"token {token_id} of {collection_label(token)}"),
                               ("Offer", int(amount_wei)),
                               ("Valid until", time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(expiry)))),
                      flows=(Flow("You", signer.address, "sends", amount_wei, "now",
                                  "into escrow (yours again if you withdraw it)"),
                             Flow(party(seller, signer, "The owner"), None, "receives", 0, "now",
                                  "nothing until they accept")))
    receipt = transact(connection, signer, request, confirm=confirm, network=network, history=history,
                        timeout=timeout)
    return _done(connection, market, store, MarketReceipt("offer", token.address, token_id, amount_wei, (receipt,)))


def withdraw_offer(*, connection: "Connection", signer: "Signer", marketplace: str, collection: str, token_id: int,
                   confirm: Confirm, store: MarketStore | None = None, network: "Network | None" = None,
                   history: "TxHistory | None" = None, timeout: float = 120.0) -> MarketReceipt:
    """Take back one's offer and its escrowed ETH."""
    market = _market(connection, marketplace)
    offer = market.offer(collection, token_id, signer.address)
    if offer is None:
        raise InputError(f"You have no offer on token {token_id}.")
    request = replace(market.withdraw_offer_tx(offer.collection, token_id),
                      details=(("Token", f"{token_id} of {offer.collection}"), ("Offer", int(offer.amount_wei))),
                      flows=(Flow("You", signer.address, "receives", offer.amount_wei, "now", "back from escrow"),))
    receipt = transact(connection, signer, request, confirm=confirm, network=network, history=history,
                        timeout=timeout)
    return _done(connection, market, store, MarketReceipt("withdraw-offer", offer.collection, token_id,
                                                          offer.amount_wei, (receipt,)))


def accept_offer(*, connection: "Connection", signer: "Signer", marketplace: str, collection: str, token_id: int,
                 buyer: str, confirm: Confirm, amount_wei: int | None = None, store: MarketStore | None = None,
                 network: "Network | None" = None, history: "TxHistory | None" = None,
                 timeout: float = 120.0) -> MarketReceipt:
    """Sell a token to `buyer` for their offer (which must still be `amount_wei`, when given).

    A listed token is sold by its seller directly (the listing ends); an unlisted one needs the
    marketplace approved for it, which is asked for first when missing.
    """
    from studio.chain.contracts import checksum

    market = _market(connection, marketplace)
    token = collection_contract(connection, collection)
    buyer = checksum(buyer, "buyer")
    offer = market.offer(token.address, token_id, buyer)
    if offer is None:
        raise InputError(f"{buyer} has no offer on token {token_id}.")
    if amount_wei is not None and offer.amount_wei != amount_wei:
        raise InputError(f"The offer changed to {offer.amount_wei} wei (you saw {amount_wei} wei); nothing was sold.",
                         hint="Review the offer again.")
    if offer.expiry is not None and connection.latest_block_time() >= offer.expiry:
        raise InputError(f"{buyer}'s offer on token {token_id} has expired; it can no longer be accepted.",
                         hint="The buyer can withdraw it, or make a new one.")
    owner = token_owner(token, token_id)
    receipts: list["TxReceipt"] = []
    if owner == market.address:
        listing = market.listing(token.address, token_id)
        if listing is None or listing.seller != signer.address:
            raise InputError(f"Token {token_id} is listed by someone else; only its seller can accept offers.")
    elif owner != signer.address:
        raise InputError(f"Token {token_id} belongs to {owner}; only its owner can accept offers.")
    else:
        receipts = _approve_if_needed(connection, signer, token, market, token_id, owner, confirm=confirm,
                                      network=network, history=history, timeout=timeout)
    quote = market.quote(token.address, token_id, offer.amount_wei)
    flows = sale_flows(quote, seller=signer.address, buyer=buyer, signer=signer,
                       fee_recipient=_fee_recipient(market), token_id=token_id)
    flows = tuple(replace(f, what="(paid into escrow with the offer)") if f.direction == "sends" else f
                  for f in flows)
    request = replace(market.accept_offer_tx(token.address, token_id, buyer, offer.amount_wei),
                      details=(("Sells", f"token {token_id} of {collection_label(token)}"),
                               ("To", buyer), ("For their offer", int(offer.amount_wei))),
                      flows=flows)
    receipts.append(transact(connection, signer, request, confirm=confirm, network=network, history=history,
                              timeout=timeout))
    return _done(connection, market, store, MarketReceipt("accept-offer", token.address, token_id, offer.amount_wei,
                                                          tuple(receipts)))


def incoming_offers(connection: "Connection", marketplace: str, store: MarketStore, owner: str, *,
                    sync: bool = True) -> list[OfferRow]:
    """Active offers on the tokens `owner` holds or lists, highest first, checked against the chain.

    An offer whose escrow no longer matches the contract (withdrawn or topped up after the last
    sync) is left out until the next sync; an expired one is left out (it can only be withdrawn).
    """
    from studio.chain.contracts import checksum

    if sync:
        sync_market(connection, marketplace, store)
    market = _market(connection, marketplace)
    current = []
    now = connection.latest_block_time()
    for offer in store.incoming_offers(connection.chain_id, checksum(owner, "owner"), now=now):
        live = market.offer(offer.collection, offer.token_id, offer.buyer)
        if live is not None and live.amount_wei == offer.amount_wei:
            current.append(offer)
    return current


# ---------------------------------------------------------------- helpers

def transact(connection: "Connection", signer: "Signer", request: "TxRequest", *, confirm: Confirm,
              network: "Network | None" = None, history: "TxHistory | None" = None,
              timeout: float = 120.0) -> "TxReceipt":
    """Simulate, show the preview, and only when confirmed sign, send and wait."""
    from studio.chain.sender import StillPending, TxSender

    sender = TxSender.for_signer(connection, signer, network, history)
    try:
        return sender.transact(request, confirm=confirm, timeout=timeout)
    except StillPending as exc:
        raise NetworkError(exc.message, hint="It may still go through: read the market again once the node answers "
                                             "(Refresh, or `studio market listings`) before trying again.") from exc


def _approve_if_needed(connection: "Connection", signer: "Signer", token: "CollectionContract",
                       market: "MarketplaceContract", token_id: int, owner: str, *, confirm: Confirm,
                       network: "Network | None", history: "TxHistory | None",
                       timeout: float) -> list["TxReceipt"]:
    """The marketplace approved for this one token, when it may not move it yet (its own preview)."""
    if token.may_transfer(market.address, token_id, owner):
        return []
    request = replace(token.approve_tx(market.address, token_id,
                                       action=f"Approving the marketplace for token {token_id}"),
                      details=(("Approves", f"the studio marketplace {market.address}"),
                               ("To move", f"token {token_id} of {collection_label(token)} when it sells")),
                      flows=(Flow("You", owner, "sends", 0, "now",
                                  "no ETH (the token stays yours)"),))
    return [transact(connection, signer, request, confirm=confirm, network=network, history=history,
                      timeout=timeout)]


def party(address: str | None, signer: "Signer", name: str) -> str:
    return "You" if address is not None and address.lower() == signer.address.lower() else name


def sale_flows(quote: "SaleQuote", *, seller: str, buyer: str | None, signer: "Signer", fee_recipient: str | None,
               when: str = "now", token_id: int | None = None) -> tuple["Flow", ...]:
    """Who pays and who receives what in a sale at ``quote.price_wei``: the buyer pays the price
    (and gets the token), the royalty receiver its share, the marketplace its fee, the seller the
    rest; a seller who is also the royalty receiver receives both, as one amount."""
    token = f"token {token_id}" if token_id is not None else "the token"
    flows = []
    if buyer is not None:
        flows.append(Flow(party(buyer, signer, "The buyer"), buyer, "sends", quote.price_wei, when))
        flows.append(Flow(party(buyer, signer, "The buyer"), buyer, "receives", 0, when, token))
    seller_gets = quote.proceeds_wei
    royalty_to_seller = quote.royalty_receiver is not None and quote.royalty_receiver.lower() == seller.lower()
    if royalty_to_seller:
        seller_gets += quote.royalty_wei
    flows.append(Flow(party(seller, signer, "The seller"), seller, "receives", seller_gets, when))
    if quote.royalty_wei and quote.royalty_receiver is not None and not royalty_to_seller:
        flows.append(Flow(party(quote.royalty_receiver, signer, "The royalty receiver"), quote.royalty_receiver,
                          "receives", quote.royalty_wei, when))
    if quote.fee_wei:
        flows.append(Flow("The marketplace (fee)", fee_recipient, "receives", quote.fee_wei, when))
    return tuple(flows)


def hex_text(value: Any) -> str:
    return value if isinstance(value, str) else "0x" + bytes(value).hex()


def collection_label(token: "CollectionContract") -> str:
    """A collection as people know it: its name and address."""
    try:
        return f"{token.name()} ({token.address})"
    except StudioError:
        return token.address


def _fee_recipient(market: Any) -> str | None:
    try:
        return market.fee()[1]
    except StudioError:
        return None


def _done(connection: "Connection", market: "MarketplaceContract", store: MarketStore | None,
          result: MarketReceipt) -> MarketReceipt:
    if store is not None:
        sync_market(connection, market.address, store, collections=[result.collection])
    return result


def _market(connection: "Connection", marketplace: str) -> "MarketplaceContract":
    from studio.chain.contracts import MarketplaceContract

    return MarketplaceContract(connection, marketplace)


def collection_contract(connection: "Connection", collection: str) -> "CollectionContract":
    from studio.chain.contracts import CollectionContract

    return CollectionContract(connection, collection)


def token_owner(token: "CollectionContract", token_id: int) -> str:
    try:
        return token.owner_of(token_id)
    except ChainError as exc:
        raise NotFound(f"Token {token_id} does not exist in the collection {token.address}.",
                       hint="Check the collection address and the token number.") from exc


def _listing_or_refuse(market: "MarketplaceContract", collection: str, token_id: int) -> "Listing":
    listing = market.listing(collection, token_id)
    if listing is None:
        raise InputError(f"Token {token_id} is not listed for sale.",
                         hint="Sync the market (`studio market listings`) to see what is for sale now.")
    return listing


def _own_listing(market: "MarketplaceContract", signer: "Signer", collection: str, token_id: int) -> "Listing":
    listing = _listing_or_refuse(market, collection, token_id)
    if listing.seller != signer.address:
        raise InputError(f"Token {token_id} is listed by {listing.seller}; only its seller can change it.")
    return listing


def check_price(price_wei: int) -> None:
    if not 0 < int(price_wei) <= MAX_PRICE_WEI:
        raise InputError("A price must be more than zero." if price_wei <= 0 else
                         f"A price is at most {MAX_PRICE_WEI} wei.")


def check_balance(connection: "Connection", signer: "Signer", amount_wei: int, what: str) -> None:
    balance = connection.balance(signer.address)
    if balance < amount_wei:
        raise InputError(f"{what} costs {amount_wei} wei, but {signer.address} holds only {balance} wei.",
                         hint="Add funds to the account (plus a little for the fee).")
