"""Selling and buying with Seaport 1.6 orders: what the Market tab and `studio list/buy/offers` do by default.

    venue = seaport_venue(network, connection)                       # Seaport + WETH on this network
    list_with_seaport(connection=c, signer=artist, venue=venue, orders=book, collection=a, token_id=3,
                      price_wei=10**17, end_time=now + 7 * DAY, confirm=ask)     # approval once, then no gas
    bulk_list(..., items=[ListingItem(a, 3, p), ListingItem(a, 4, p)])           # many tokens, one signature
    buy_order(connection=c, signer=collector, venue=venue, orders=book, order=row, confirm=ask)
    make_seaport_offer(..., collection=a, token_id=3 | None, amount_wei=w, end_time=t)  # WETH wrapped as needed
    accept_seaport_offer(...), cancel_order(...), cancel_all_orders(...), refresh_orders(...)

A listing is an order the seller signs (no gas, no transaction): their token stays in their wallet
behind one `setApprovalForAll` to Seaport, and the order asks for the seller's proceeds, the
creator's ERC-2981 royalty and an optional marketplace fee, each a consideration item inside the
signature, until its end time. An offer is an order offering WETH for one token or, with no token
named, for any token of a collection. Every signature and every transaction is shown to
``confirm`` first (a `MessagePreview` with what each party receives once the order is filled, or a
`TxPreview`); False sends and signs nothing (`Cancelled`).

The orders live in the library's order book (`OrderStore`), which the other accounts read; its
statuses are kept current by `refresh_orders`: an order whose token moved, whose approval was
revoked, whose WETH ran short, that expired, was cancelled or filled is never shown as for sale.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from studio.chain.transactions import Amount, Detail, Flow
from studio.errors import Cancelled, InputError, StudioError
from studio.library.orders import (ACTIVE, CANCELLED, COLLECTION_OFFER, EXPIRED, FILLED, LISTING, OFFER, UNFILLABLE,
                                   OrderRow, OrderStore)
from studio.workflows.market import Confirm, check_price, collection_contract, collection_label, party, transact

if TYPE_CHECKING:
    from studio.chain.contracts import CollectionContract
    from studio.chain.history import TxHistory
    from studio.chain.networks import Network
    from studio.chain.contracts import SaleQuote
    from studio.chain.seaport import OrderComponents, SaleTerms, SignedOrder
    from studio.chain.seaport_contract import Fillability, SeaportContract, WethContract
    from studio.chain.transactions import Connection, Signer, TxReceipt, TxRequest

DAY = 86_400
#: The expiry choices the Market tab and `--expiry` offer (seconds from now).
EXPIRY_CHOICES = {"1 day": DAY, "7 days": 7 * DAY, "30 days": 30 * DAY}
DEFAULT_EXPIRY_SECONDS = 7 * DAY
#: Seaport takes any end time; the studio signs orders for at most a year.
MAX_EXPIRY_SECONDS = 366 * DAY
#: A marketplace fee the seller chooses to pay (basis points), at most 10%.
MAX_FEE_BPS = 1000
#: Fillability state -> the order book's status.
_STATUS_OF = {"fillable": ACTIVE, "filled": FILLED, "cancelled": CANCELLED, "counter": CANCELLED,
              "expired": EXPIRED}
#: Publishes a signed order elsewhere (an order book service such as OpenSea's), after it is kept here.
Publish = Callable[["SignedOrder"], Any]


@dataclass(frozen=True)
class SeaportVenue:
    """Seaport 1.6 and the WETH offers are made in, on one network."""

    seaport: str
    weth: str


@dataclass(frozen=True)
class ListingItem:
    """One token to list and its price (wei)."""

    collection: str
    token_id: int
    price_wei: int


@dataclass(frozen=True)
class SeaportReceipt:
    """What a Seaport action did: the orders it signed or filled or cancelled (as the order book now
    keeps them) and the transactions it sent, in order (none for a listing on an approved collection)."""

    action: str
    orders: tuple[OrderRow, ...]
    receipts: tuple["TxReceipt", ...] = ()
    cancelled: int = 0  # cancel-all: how many of the library's orders it voided

    @property
    def order(self) -> OrderRow | None:
        return self.orders[0] if self.orders else None

    @property
    def tx_hash(self) -> str | None:
        return self.receipts[-1].tx_hash if self.receipts else None

    @property
    def fee_wei(self) -> int:
        return sum(r.fee_wei for r in self.receipts)

    @property
    def price_wei(self) -> int | None:
        return self.orders[0].price_wei if self.orders else None

    @property
    def token_id(self) -> int | None:
        return self.orders[0].token_id if self.orders else None

    def to_json(self) -> dict[str, Any]:
        from studio import safejson

        return {"action": self.action, "venue": "seaport",
                "orders": [{"order_hash": o.order_hash, "kind": o.kind, "collection": o.collection,
                            "token_id": o.token_id, "price_wei": str(o.price_wei), "currency": o.currency,
                            "start_time": o.start_time, "end_time": o.end_time, "status": o.status,
                            "order": safejson.loads(o.order_json, what="The stored order")}
                           for o in self.orders],
                "transactions": [r.tx_hash for r in self.receipts], "tx_hash": self.tx_hash,
                "fee_wei": str(self.fee_wei), "cancelled": self.cancelled}


def seaport_venue(network: "Network", connection: "Connection", progress: Any = None) -> SeaportVenue:
    """Seaport and WETH on `network` (deployed by the studio on the devnet; the canonical ones, checked,
    elsewhere)."""
    from studio.workflows.collections import seaport_addresses

    seaport, weth = seaport_addresses(network, connection, progress)
    return SeaportVenue(seaport, weth)


def parse_expiry(text: str, now: int) -> int:
    """When an order ends, as unix seconds: "1d", "7d", "30d", "12h", "90m", or a UTC date
    ("2027-01-31" or "2027-01-31T18:00"). InputError for anything else or a time not ahead."""
    cleaned = text.strip().lower().replace(" ", "")
    match = re.fullmatch(r"(\d{1,4})(d|day|days|h|hour|hours|m|min|minutes)", cleaned)
    if match:
        number, unit = int(match.group(1)), match.group(2)[0]
        end = now + number * {"d": DAY, "h": 3600, "m": 60}[unit]
    else:
        import datetime as dt

        try:
            parsed = dt.datetime.fromisoformat(text.strip())
        except ValueError as exc:
            raise InputError(f"{text[:40]!r} is not an expiry.",
                             hint="Use 1d, 7d, 30d, 12h or a UTC date such as 2027-01-31T18:00.") from exc
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.timezone.utc)
        end = int(parsed.timestamp())
    return check_end_time(end, now)


def check_end_time(end_time: int, now: int) -> int:
    """An order's end time, refused when it is not ahead of `now` or more than a year away."""
    if end_time <= now + 60:
        raise InputError("An order must run for at least a minute from now.", hint="Choose a later expiry.")
    if end_time > now + MAX_EXPIRY_SECONDS:
        raise InputError("The studio signs orders for at most a year.", hint="Choose an earlier expiry.")
    return int(end_time)


# ---------------------------------------------------------------- listing

def list_with_seaport(*, connection: "Connection", signer: "Signer", venue: SeaportVenue, orders: OrderStore,
                      collection: str, token_id: int, price_wei: int, end_time: int, confirm: Confirm,
                      fee: tuple[str, int] | None = None, publish: Publish | None = None,
                      network: "Network | None" = None, history: "TxHistory | None" = None,
                      timeout: float = 120.0) -> SeaportReceipt:
    """List one token: approve Seaport for its collection once (a transaction, previewed), then sign
    a listing order until `end_time` (no gas). `fee` is (recipient, basis points) of an optional
    marketplace fee the seller pays out of the price."""
    return bulk_list(connection=connection, signer=signer, venue=venue, orders=orders,
                     items=[ListingItem(collection, token_id, price_wei)], end_time=end_time, confirm=confirm,
                     fee=fee, publish=publish, network=network, history=history, timeout=timeout)


def bulk_list(*, connection: "Connection", signer: "Signer", venue: SeaportVenue, orders: OrderStore,
              items: Sequence[ListingItem], end_time: int, confirm: Confirm, fee: tuple[str, int] | None = None,
              publish: Publish | None = None, network: "Network | None" = None,
              history: "TxHistory | None" = None, timeout: float = 120.0) -> SeaportReceipt:
    """List many tokens with one signature (Seaport's bulk order tree); each order is filled or
    cancelled on its own. Every token must be the signer's and not listed by them already."""
    from studio.chain.contracts import checksum
    from studio.chain.seaport import SaleTerms, listing_order, order_preview, sign_bulk_orders

    if not items:
        raise InputError("Choose at least one token to list.")
    items = [ListingItem(checksum(i.collection, "collection address"), int(i.token_id), int(i.price_wei))
             for i in items]
    if len({(i.collection, i.token_id) for i in items}) != len(items):
        raise InputError("A token is named twice; list each token once.")
    for item in items:
        check_price(item.price_wei)
    fee = _check_fee(fee)
    seaport = _seaport(connection, venue)
    chain_id, seller = connection.chain_id, signer.address
    tokens = {address: collection_contract(connection, address) for address in {i.collection for i in items}}
    for item in items:
        _own_token(tokens[item.collection], item.token_id, seller, connection)
        for row in orders.orders(chain_id, seaport=seaport.address, kind=LISTING, collection=item.collection,
                                 token_id=item.token_id, offerer=seller):
            raise InputError(f"Token {item.token_id} is already listed at {row.price_wei} wei until "
                             f"{_when(row.end_time)}.", hint="Cancel that listing first, or change its price.")
    now = connection.latest_block_time()
    end_time = check_end_time(end_time, now)
    receipts = [_approve_collection(connection, signer, tokens[address], seaport, confirm=confirm, network=network,
                                    history=history, timeout=timeout) for address in sorted(tokens)]
    counter = seaport.counter(seller)
    terms = [_terms(tokens[i.collection], i.token_id, i.price_wei, seller, fee) for i in items]
    components = [listing_order(seller=seller, collection=i.collection, token_id=i.token_id, terms=t,
                                start_time=now, end_time=end_time, counter=counter) for i, t in zip(items, terms)]
    details, flows = _listing_words(items, terms, tokens, signer, now, end_time, counter, seaport.address)
    preview = order_preview(seller, components, chain_id, seaport.address, details=details, flows=flows,
                            action="Signing the listing" if len(items) == 1 else
                            f"Signing {len(items)} listings with one signature")
    if not confirm(preview):
        raise Cancelled("The listing was not signed; nothing was listed." if len(items) == 1 else
                        "The listings were not signed; nothing was listed.")
    signed = sign_bulk_orders(signer, components, chain_id, seaport.address)
    rows = tuple(orders.add(order_row(s)) for s in signed)
    _publish(publish, signed)
    return SeaportReceipt("list" if len(items) == 1 else "bulk-list", rows,
                          tuple(r for r in receipts if r is not None))


def listing_quote(connection: "Connection", collection: str, token_id: int, price_wei: int, seller: str, *,
                  fee: tuple[str, int] | None = None) -> "SaleQuote":
    """How a Seaport listing at `price_wei` would split (the creator's royalty as the collection answers
    it now, the fee, the seller's proceeds), for the sell dialog while a price is typed."""
    from studio.chain.contracts import SaleQuote

    check_price(price_wei)
    token = collection_contract(connection, collection)
    royalty = _royalty(token, token_id, price_wei)
    terms = _terms(token, token_id, price_wei, seller, _check_fee(fee))
    fee_wei = sum(p.amount_wei for p in terms.payouts if p.role == "marketplace fee")
    proceeds = terms.proceeds_wei
    if royalty is not None and royalty[0].lower() == seller.lower():  # the seller's proceeds hold the royalty
        return SaleQuote(price_wei, royalty[0], royalty[1], fee_wei, proceeds - royalty[1])
    return SaleQuote(price_wei, royalty[0] if royalty else None, royalty[1] if royalty else 0, fee_wei, proceeds)


def _terms(token: "CollectionContract", token_id: int, price_wei: int, seller: str,
           fee: tuple[str, int] | None) -> "SaleTerms":
    """How the price splits: the creator's ERC-2981 royalty as the collection answers it now (none when
    it answers none, or when the royalty goes to the seller, whose proceeds then include it), the fee,
    and the rest to the seller."""
    from studio.chain.seaport import SaleTerms

    royalty = _royalty(token, token_id, price_wei)
    if royalty is not None and royalty[0].lower() == seller.lower():
        royalty = None
    return SaleTerms.split(price_wei, seller, royalty=royalty, fee=fee)


def _listing_words(items: Sequence[ListingItem], terms: Sequence["SaleTerms"],
                   tokens: dict[str, "CollectionContract"], signer: "Signer", now: int, end_time: int, counter: int,
                   seaport: str) -> tuple[list[Detail], list[Flow]]:
    """The preview's lines: what is listed at what price, when, and who receives what when it sells."""
    when = "when it sells" if len(items) == 1 else "as each sells"
    details: list[Detail] = []
    if len(items) == 1:
        item = items[0]
        details += [("Lists", f"token {item.token_id} of {collection_label(tokens[item.collection])}"),
                    ("Price", item.price_wei)]
    else:
        details.append(("Lists", f"{len(items)} tokens under one signature"))
        details += [(f"Token {i.token_id} of {collection_label(tokens[i.collection])}", i.price_wei) for i in items]
    details += [("Valid from", _when(now)), ("Valid until", _when(end_time))]
    totals: dict[tuple[str, str], int] = {}
    for t in terms:
        for payout in t.payouts:
            key = (payout.role, payout.recipient)
            totals[key] = totals.get(key, 0) + payout.amount_wei
    for (role, recipient), amount in totals.items():
        if role == "royalty":
            details += [("Creator royalty (ERC-2981)", amount), ("Royalty receiver", recipient)]
        elif role == "marketplace fee":
            details += [("Marketplace fee", amount), ("Fee recipient", recipient)]
    details += [("Order book", f"Seaport 1.6 at {seaport}, your counter {counter}"),
                ("Costs now", "no gas: this is a signature; nothing is sent")]
    buyer = "The buyer" if len(items) == 1 else "The buyers"
    what = f"token {items[0].token_id}" if len(items) == 1 else f"{len(items)} tokens"
    flows = [Flow(buyer, None, "sends", sum(i.price_wei for i in items), when),
             Flow(buyer, None, "receives", 0, when, what)]
    for (role, recipient), amount in totals.items():
        name = {"seller": "The seller", "royalty": "The creator (royalty)",
                "marketplace fee": "The marketplace (fee)"}[role]
        flows.append(Flow(party(recipient, signer, name), recipient, "receives", amount, when))
    return details, flows


# ---------------------------------------------------------------- buying a listing

def buy_order(*, connection: "Connection", signer: "Signer", venue: SeaportVenue, order: "OrderRow | SignedOrder",
              confirm: Confirm, orders: OrderStore | None = None, network: "Network | None" = None,
              history: "TxHistory | None" = None, timeout: float = 120.0) -> SeaportReceipt:
    """Buy a Seaport listing (fulfillBasicOrder where it applies): the buyer pays its price; the seller,
    the royalty receiver and any fee recipient are paid in the same transaction."""
    from studio.chain.seaport import ItemType, summarize

    signed = signed_order(order, connection.chain_id, venue)
    summary = summarize(signed.components)
    if summary.kind != LISTING:
        raise InputError("This order is not a listing for ETH; it cannot be bought here.")
    if signed.components.offerer.lower() == signer.address.lower():
        raise InputError("This is your own listing.", hint="Cancel it, or buy with another account.")
    seaport = _seaport(connection, venue)
    _check_fillable(seaport, signed, orders, "This listing can no longer be bought")
    price = summary.price_wei
    balance = connection.balance(signer.address)
    if balance < price:
        raise InputError(f"The listing costs {price} wei, but {signer.address} holds only {balance} wei.",
                         hint="Add funds to the account (plus a little for the fee).")
    assert summary.collection is not None and summary.token_id is not None
    token = collection_contract(connection, summary.collection)
    label = f"token {summary.token_id} of {collection_label(token)}"
    flows = [Flow("You", signer.address, "sends", price), Flow("You", signer.address, "receives", 0, "now",
                                                                 f"token {summary.token_id}")]
    flows += _payout_flows(signed.components, token, summary.token_id, signer, ItemType.NATIVE)
    request = replace(seaport.fulfil_tx(signed, action="Buying the token"),
                      details=(("Buys", label), ("Price", price), ("Seller", signed.components.offerer),
                               ("Order", f"Seaport 1.6 listing, valid until {_when(signed.components.end_time)}")),
                      flows=tuple(flows))
    receipt = transact(connection, signer, request, confirm=confirm, network=network, history=history,
                       timeout=timeout)
    row = _record_fill(orders, signed, receipt)
    return SeaportReceipt("buy", (row,), (receipt,))


# ---------------------------------------------------------------- offers

def make_seaport_offer(*, connection: "Connection", signer: "Signer", venue: SeaportVenue, orders: OrderStore,
                       collection: str, token_id: int | None, amount_wei: int, end_time: int, confirm: Confirm,
                       fee: tuple[str, int] | None = None, publish: Publish | None = None,
                       network: "Network | None" = None, history: "TxHistory | None" = None,
                       timeout: float = 120.0) -> SeaportReceipt:
    """Offer `amount_wei` of WETH for one token, or with `token_id` None for any token of the collection
    (a collection offer), until `end_time`. ETH is wrapped into WETH for what the account lacks, and
    Seaport approved for the account's WETH, each a previewed transaction; then the offer is signed
    (no gas). The creator's royalty (and `fee`) are paid out of the amount when it is accepted."""
    from studio.chain.seaport import Payout, offer_order, order_preview, sign_order

    check_price(amount_wei)
    fee = _check_fee(fee)
    seaport, weth = _seaport(connection, venue), _weth(connection, venue)
    token = collection_contract(connection, collection)
    buyer = signer.address
    if token_id is not None:
        owner = _token_owner(token, token_id)
        if owner.lower() == buyer.lower():
            raise InputError(f"Token {token_id} is yours; an offer is for someone else's token.")
    now = connection.latest_block_time()
    end_time = check_end_time(end_time, now)
    receipts = _ensure_weth(connection, signer, weth, seaport, amount_wei, confirm=confirm, network=network,
                            history=history, timeout=timeout)
    payouts: list[Payout] = []
    royalty = _royalty(token, token_id or 0, amount_wei)
    if royalty is not None and royalty[0].lower() != buyer.lower():
        payouts.append(Payout(royalty[0], royalty[1], "royalty"))
    if fee is not None and amount_wei * fee[1] // 10_000:
        payouts.append(Payout(fee[0], amount_wei * fee[1] // 10_000, "marketplace fee"))
    counter = seaport.counter(buyer)
    components = offer_order(buyer=buyer, weth=weth.address, collection=token.address, token_id=token_id,
                             amount_wei=amount_wei, payouts=payouts, start_time=now, end_time=end_time,
                             counter=counter)
    what = f"token {token_id} of {collection_label(token)}" if token_id is not None else \
        f"any token of {collection_label(token)} (a collection offer)"
    seller_gets = amount_wei - sum(p.amount_wei for p in payouts)
    details: list[Detail] = [
        ("Offers for", what), ("Offer", Amount(amount_wei, "WETH")), ("Valid from", _when(now)),
        ("Valid until", _when(end_time))]
    for p in payouts:
        details += [("Creator royalty (ERC-2981)" if p.role == "royalty" else "Marketplace fee",
                     Amount(p.amount_wei, "WETH")),
                    ("Royalty receiver" if p.role == "royalty" else "Fee recipient", p.recipient)]
    details += [("Order book", f"Seaport 1.6 at {seaport.address}, your counter {counter}"),
                ("Costs now", "no gas: this is a signature; your WETH stays in your wallet until it is accepted")]
    when = "when accepted"
    flows = [Flow("You", buyer, "sends", amount_wei, when, currency="WETH"),
             Flow("You", buyer, "receives", 0, when, f"token {token_id}" if token_id is not None else
                  "a token of the collection (the seller picks which)"),
             Flow("The seller", None, "receives", seller_gets, when, currency="WETH")]
    flows += [Flow(party(p.recipient, signer, "The creator (royalty)" if p.role == "royalty" else
                         "The marketplace (fee)"), p.recipient, "receives", p.amount_wei, when, currency="WETH")
              for p in payouts]
    preview = order_preview(buyer, [components], connection.chain_id, seaport.address,
                            details=details, flows=flows,
                            action="Signing the offer" if token_id is not None else "Signing the collection offer")
    if not confirm(preview):
        raise Cancelled("The offer was not signed; nothing was offered.")
    signed = sign_order(signer, components, connection.chain_id, seaport.address)
    row = orders.add(order_row(signed))
    _publish(publish, [signed])
    return SeaportReceipt("offer" if token_id is not None else "collection-offer", (row,), tuple(receipts))


def accept_seaport_offer(*, connection: "Connection", signer: "Signer", venue: SeaportVenue,
                         order: "OrderRow | SignedOrder", confirm: Confirm, token_id: int | None = None,
                         orders: OrderStore | None = None, network: "Network | None" = None,
                         history: "TxHistory | None" = None, timeout: float = 120.0) -> SeaportReceipt:
    """Sell a token to an offer: the seller gives the token (Seaport approved for its collection first
    when needed, previewed) and receives the offer's WETH less the royalty and fee it names. A
    collection offer needs `token_id`, the token the seller picks."""
    from studio.chain.seaport import ItemType, summarize

    signed = signed_order(order, connection.chain_id, venue)
    summary = summarize(signed.components)
    if summary.kind not in (OFFER, COLLECTION_OFFER):
        raise InputError("This order is not an offer; it cannot be accepted.")
    if summary.kind == OFFER:
        if token_id is not None and token_id != summary.token_id:
            raise InputError(f"This offer is for token {summary.token_id}, not token {token_id}.")
        token_id = summary.token_id
    elif token_id is None:
        raise InputError("A collection offer takes any token of the collection: choose which one to sell.")
    assert summary.collection is not None and token_id is not None
    if signed.components.offerer.lower() == signer.address.lower():
        raise InputError("This is your own offer.", hint="Cancel it instead.")
    token = collection_contract(connection, summary.collection)
    _own_token(token, token_id, signer.address, connection)
    seaport = _seaport(connection, venue)
    _check_fillable(seaport, signed, orders, "This offer can no longer be accepted")
    receipts: list["TxReceipt"] = []
    for approval in seaport.approvals_for(signed, signer.address, token_id=token_id):
        request = seaport.approval_tx(approval)
        if approval.kind == "erc721":
            receipts.append(_approve_collection(connection, signer, token, seaport, confirm=confirm,
                                                network=network, history=history, timeout=timeout) or
                            transact(connection, signer, request, confirm=confirm, network=network,
                                     history=history, timeout=timeout))
        else:
            receipts.append(transact(connection, signer, replace(
                request, action="Approving Seaport for your WETH",
                details=(("Approves", f"Seaport 1.6 ({seaport.address}) to move your WETH"),
                         ("Why", "a collection offer's seller pays its royalty and fee out of the WETH received")),
                flows=(Flow("You", signer.address, "sends", 0, "now", "no ETH (only the fee)"),)),
                confirm=confirm, network=network, history=history, timeout=timeout))
    amount = summary.price_wei
    fees = sum(c.start_amount for c in signed.components.consideration[1:])
    flows = [Flow("You", signer.address, "sends", 0, "now", f"token {token_id}"),
             Flow("You", signer.address, "receives", amount - fees, currency="WETH"),
             Flow("The buyer", signed.components.offerer, "sends", amount, currency="WETH"),
             Flow("The buyer", signed.components.offerer, "receives", 0, "now", f"token {token_id}")]
    flows += _payout_flows(signed.components, token, token_id, signer, ItemType.ERC20, skip_first=True)
    request = replace(seaport.fulfil_tx(signed, token_id=token_id if summary.kind == COLLECTION_OFFER else None,
                                        action="Accepting the offer"),
                      details=(("Sells", f"token {token_id} of {collection_label(token)}"),
                               ("To", signed.components.offerer), ("For their offer", Amount(amount, "WETH")),
                               ("Order", f"Seaport 1.6 {summary.kind}, valid until "
                                         f"{_when(signed.components.end_time)}")),
                      flows=tuple(flows))
    receipt = transact(connection, signer, request, confirm=confirm, network=network, history=history,
                       timeout=timeout)
    receipts.append(receipt)
    row = _record_fill(orders, signed, receipt)
    return SeaportReceipt("accept-offer", (row,), tuple(r for r in receipts if r is not None))


# ---------------------------------------------------------------- cancelling

def cancel_order(*, connection: "Connection", signer: "Signer", venue: SeaportVenue, order: "OrderRow | SignedOrder",
                 confirm: Confirm, orders: OrderStore | None = None, network: "Network | None" = None,
                 history: "TxHistory | None" = None, timeout: float = 120.0) -> SeaportReceipt:
    """Cancel one of the signer's orders on chain (a listing or an offer): nobody can fill it after."""
    from studio.chain.seaport import summarize

    signed = signed_order(order, connection.chain_id, venue)
    if signed.components.offerer.lower() != signer.address.lower():
        raise InputError(f"This order was signed by {signed.components.offerer}; only they can cancel it.")
    seaport = _seaport(connection, venue)
    status = seaport.status(signed.components)
    if status.cancelled or status.filled:
        _set_status(orders, signed, CANCELLED if status.cancelled else FILLED)
        raise InputError(f"This order was already {'cancelled' if status.cancelled else 'filled'}.")
    summary = summarize(signed.components)
    what = f"token {summary.token_id}" if summary.token_id is not None else "any token"
    request = replace(seaport.cancel_tx(signer.address, [signed.components]),
                      action=f"Cancelling the {summary.kind}",
                      details=(("Cancels", f"your {summary.kind} of {what} of {summary.collection}"),
                               ("Price", summary.price_wei if summary.kind == LISTING else
                                Amount(summary.price_wei, "WETH")),
                               ("Valid until", _when(signed.components.end_time))),
                      flows=(Flow("You", signer.address, "sends", 0, "now", "no ETH (only the fee)"),))
    receipt = transact(connection, signer, request, confirm=confirm, network=network, history=history,
                       timeout=timeout)
    row = _set_status(orders, signed, CANCELLED, reason="You cancelled this order.")
    return SeaportReceipt("cancel", (row,) if row is not None else (), (receipt,))


def cancel_all_orders(*, connection: "Connection", signer: "Signer", venue: SeaportVenue, confirm: Confirm,
                      orders: OrderStore | None = None, network: "Network | None" = None,
                      history: "TxHistory | None" = None, timeout: float = 120.0) -> SeaportReceipt:
    """Cancel every Seaport order the signer has signed on this network, in one transaction
    (`incrementCounter`): listings and offers, those in the library and any copies elsewhere."""
    seaport = _seaport(connection, venue)
    counter = seaport.counter(signer.address)
    chain_id = connection.chain_id
    open_orders = orders.orders(chain_id, seaport=seaport.address, offerer=signer.address, status=None,
                                include_expired=True) if orders is not None else []
    count = sum(1 for o in open_orders if o.status in (ACTIVE, UNFILLABLE))
    request = replace(seaport.increment_counter_tx(), action="Cancelling all your Seaport orders",
                      details=(("Cancels", f"every listing and offer you signed on Seaport until now ({count} open "
                                           "in this library, and any copy posted elsewhere)"),
                               ("Counter", f"{counter} → {counter + 1}: orders signed before are void")),
                      flows=(Flow("You", signer.address, "sends", 0, "now", "no ETH (only the fee)"),))
    receipt = transact(connection, signer, request, confirm=confirm, network=network, history=history,
                       timeout=timeout)
    cancelled = 0
    if orders is not None:
        cancelled = orders.cancel_counter(chain_id, seaport.address, signer.address, seaport.counter(signer.address))
    return SeaportReceipt("cancel-all", (), (receipt,), cancelled)


# ---------------------------------------------------------------- WETH

def wrap_eth(*, connection: "Connection", signer: "Signer", venue: SeaportVenue, amount_wei: int, confirm: Confirm,
             network: "Network | None" = None, history: "TxHistory | None" = None,
             timeout: float = 120.0) -> "TxReceipt":
    """ETH -> WETH (what offers are made in), one for one: the wallet's Wrap (workflows/weth.py)."""
    from studio.workflows.weth import wrap_request

    return transact(connection, signer, wrap_request(connection, venue, signer.address, amount_wei),
                    confirm=confirm, network=network, history=history, timeout=timeout)


def unwrap_weth(*, connection: "Connection", signer: "Signer", venue: SeaportVenue, amount_wei: int,
                confirm: Confirm, network: "Network | None" = None, history: "TxHistory | None" = None,
                timeout: float = 120.0) -> "TxReceipt":
    """WETH -> ETH, one for one (offers made in it stop being fillable when it runs short): the wallet's
    Unwrap (workflows/weth.py)."""
    from studio.workflows.weth import unwrap_request

    return transact(connection, signer, unwrap_request(connection, venue, signer.address, amount_wei),
                    confirm=confirm, network=network, history=history, timeout=timeout)


def weth_balance(connection: "Connection", venue: SeaportVenue, account: str) -> int:
    return _weth(connection, venue).balance_of(account)


def _ensure_weth(connection: "Connection", signer: "Signer", weth: "WethContract", seaport: "SeaportContract",
                 amount_wei: int, *, confirm: Confirm, network: "Network | None", history: "TxHistory | None",
                 timeout: float) -> list["TxReceipt"]:
    """WETH enough for an offer of `amount_wei`, and Seaport allowed to move it: the missing WETH is
    wrapped from ETH and the allowance given, each a previewed transaction (none when all is there)."""
    receipts = []
    held = weth.balance_of(signer.address)
    if held < amount_wei:
        missing = amount_wei - held
        balance = connection.balance(signer.address)
        if balance < missing:
            raise InputError(f"The offer needs {missing} wei more WETH, wrapped from ETH, but the account holds only "
                             f"{balance} wei.", hint="Add funds to the account or offer less.")
        from studio.workflows.weth import wrap_preview

        receipts.append(transact(connection, signer, wrap_preview(
            weth, signer.address, missing, "an offer is made in WETH, and the account holds less than the offer"),
            confirm=confirm, network=network, history=history, timeout=timeout))
    if weth.allowance(signer.address, seaport.address) < amount_wei:
        request = replace(weth.approve_tx(seaport.address), action="Approving Seaport for your WETH",
                          details=(("Approves", f"Seaport 1.6 ({seaport.address}) to move your WETH"),
                                   ("Why", "when an offer you signed is accepted, Seaport pays it from your WETH; "
                                           "nothing moves before")),
                          flows=(Flow("You", signer.address, "sends", 0, "now", "no ETH (only the fee)"),))
        receipts.append(transact(connection, signer, request, confirm=confirm, network=network, history=history,
                                 timeout=timeout))
    return receipts


# ---------------------------------------------------------------- the order book

def order_row(signed: "SignedOrder", status: str = ACTIVE, reason: str | None = None) -> OrderRow:
    """A signed order as the library keeps it."""
    import json

    from studio.chain.seaport import summarize

    summary = summarize(signed.components)
    order = signed.components
    return OrderRow(signed.chain_id, signed.seaport, "0x" + signed.order_hash.hex(), summary.kind, order.offerer,
                    summary.collection, summary.token_id, summary.price_wei, summary.currency, order.start_time,
                    order.end_time, order.counter, json.dumps(signed.to_json()), status, reason)


def signed_order(order: "OrderRow | SignedOrder | str", chain_id: int, venue: SeaportVenue) -> "SignedOrder":
    """The signed order of a library row (or an order's JSON text), checked to be for this network's
    Seaport; InputError when it is not."""
    from studio.chain.seaport import SignedOrder

    from studio import safejson

    if isinstance(order, SignedOrder):
        signed = order
    else:
        text = order.order_json if isinstance(order, OrderRow) else order
        data = safejson.loads(text, what="The order", max_bytes=MAX_ORDER_BYTES)
        if not isinstance(data, dict):
            raise InputError("This is not a signed Seaport order.")
        signed = SignedOrder.from_json(data, chain_id=int(data.get("chain_id") or chain_id),
                                       seaport=data.get("protocol_address") or venue.seaport)
    if signed.chain_id != chain_id or signed.seaport.lower() != venue.seaport.lower():
        raise InputError(f"This order was signed for Seaport {signed.seaport} on chain {signed.chain_id}, not for "
                         f"this network's ({venue.seaport} on chain {chain_id}).",
                         hint="Switch to the network the order was made on.")
    return signed


#: The largest order JSON read (a bulk order's proof is under 1 KB; OpenSea's are a few KB).
MAX_ORDER_BYTES = 256 * 1024


def import_order(orders: OrderStore, chain_id: int, venue: SeaportVenue, order: "str | SignedOrder") -> OrderRow:
    """Keep an order signed elsewhere (seaport-js, another studio) in the order book, after checking
    that its offerer's key signed it (a contract offerer is not taken)."""
    from studio.chain.seaport import order_signer

    signed = signed_order(order, chain_id, venue)
    if order_signer(signed).lower() != signed.components.offerer.lower():
        raise InputError("The order's signature is not its offerer's.", hint="Ask its maker for the order again.")
    return orders.add(order_row(signed))


def refresh_orders(connection: "Connection", venue: SeaportVenue, orders: OrderStore, *,
                   offerer: str | None = None, collection: str | None = None,
                   cancel: Any = None) -> list[OrderRow]:
    """Ask Seaport about every open order of the book (active, or unfillable for now) and record what it
    says: filled, cancelled, expired, or unfillable because the token moved, the approval was revoked
    or the WETH ran short (and active again once it is back). Returns the orders active now."""
    chain_id = connection.chain_id
    seaport = _seaport(connection, venue)
    now = connection.latest_block_time()
    active = []
    for status in (ACTIVE, UNFILLABLE):
        for row in orders.orders(chain_id, seaport=seaport.address, offerer=offerer, collection=collection,
                                 status=status, include_expired=True):
            if cancel is not None and cancel.cancelled:
                raise Cancelled("Stopped reading the order book.")
            try:
                signed = signed_order(row, chain_id, venue)
                state = seaport.fillability(signed, now=now)
            except InputError as exc:
                orders.set_status(chain_id, row.seaport, row.order_hash, CANCELLED, reason=exc.message)
                continue
            new_status = _STATUS_OF.get(state.state, UNFILLABLE)
            if new_status != row.status or (state.reason or None) != row.status_reason:
                row = orders.set_status(chain_id, row.seaport, row.order_hash, new_status,
                                        reason=state.reason or None)
            if new_status == ACTIVE:
                active.append(row)
    return active


# ---------------------------------------------------------------- helpers

def _seaport(connection: "Connection", venue: SeaportVenue) -> "SeaportContract":
    from studio.chain.seaport_contract import SeaportContract

    return SeaportContract(connection, venue.seaport)


def _weth(connection: "Connection", venue: SeaportVenue) -> "WethContract":
    from studio.chain.seaport_contract import WethContract

    return WethContract(connection, venue.weth)


def _check_fee(fee: tuple[str, int] | None) -> tuple[str, int] | None:
    from studio.chain.contracts import checksum

    if fee is None or not fee[1]:
        return None
    if not 0 < int(fee[1]) <= MAX_FEE_BPS:
        raise InputError(f"A marketplace fee is between 0% and {MAX_FEE_BPS / 100:g}%.")
    return checksum(fee[0], "fee recipient"), int(fee[1])


def _royalty(token: "CollectionContract", token_id: int, price_wei: int) -> tuple[str, int] | None:
    """(receiver, amount) the collection's ERC-2981 `royaltyInfo` answers; None when it has none."""
    try:
        info = token.royalty_info(token_id, price_wei)
    except StudioError:  # a collection without ERC-2981
        return None
    if info.receiver is None or info.amount_wei <= 0:
        return None
    if info.amount_wei >= price_wei:
        raise InputError("The collection's royalty takes the whole price; the studio will not sign such an order.")
    return info.receiver, info.amount_wei


def _token_owner(token: "CollectionContract", token_id: int) -> str:
    from studio.errors import ChainError, NotFound

    try:
        return token.owner_of(token_id)
    except ChainError as exc:
        raise NotFound(f"Token {token_id} does not exist in the collection {token.address}.",
                       hint="Check the collection address and the token number.") from exc


def _own_token(token: "CollectionContract", token_id: int, account: str, connection: "Connection") -> None:
    owner = _token_owner(token, token_id)
    if owner.lower() == account.lower():
        return
    if connection.code_at(owner):
        raise InputError(f"Token {token_id} is held by the contract {owner} (listed on the studio's escrow "
                         "marketplace?), not by your account.",
                         hint="Cancel that listing first: the token comes back to your wallet.")
    raise InputError(f"Token {token_id} belongs to {owner}, not to {account}; only its owner can sell it.")


def _approve_collection(connection: "Connection", signer: "Signer", token: "CollectionContract",
                        seaport: "SeaportContract", *, confirm: Confirm, network: "Network | None",
                        history: "TxHistory | None", timeout: float) -> "TxReceipt | None":
    """Seaport approved for every token of the collection (once per collection, previewed); None when it is."""
    if token.is_approved_for_all(signer.address, seaport.address):
        return None
    request = replace(token.set_approval_for_all_tx(seaport.address),
                      action=f"Approving Seaport for {collection_label(token)}",
                      details=(("Approves", f"Seaport 1.6 ({seaport.address})"),
                               ("To move", f"your tokens of {collection_label(token)}, only to fill orders you "
                                           "signed"),
                               ("Once", "every later listing of this collection needs no transaction"),
                               ("Take back", "revoke the approval any time: your listings then stop being "
                                             "fillable")),
                      flows=(Flow("You", signer.address, "sends", 0, "now", "no ETH (the tokens stay yours)"),))
    return transact(connection, signer, request, confirm=confirm, network=network, history=history, timeout=timeout)


def _payout_flows(order: "OrderComponents", token: "CollectionContract", token_id: int, signer: "Signer",
                  currency_type: int, *, skip_first: bool = False) -> list[Flow]:
    """Who the order's consideration pays (in ETH or WETH): the seller first, then the creator's royalty
    and any other recipient it names."""
    royalty = _royalty_receiver(token, token_id)
    flows = []
    for number, item in enumerate(order.consideration):
        if item.item_type != currency_type or (number == 0 and skip_first):
            continue
        name = "The seller" if number == 0 else \
            "The creator (royalty)" if royalty is not None and item.recipient.lower() == royalty.lower() else \
            "Another recipient the order names (a fee)"
        flows.append(Flow(party(item.recipient, signer, name), item.recipient, "receives", item.start_amount,
                          currency="WETH" if currency_type != 0 else None))
    return flows


def _royalty_receiver(token: "CollectionContract", token_id: int) -> str | None:
    try:
        return token.royalty_info(token_id, 10_000).receiver
    except StudioError:
        return None


def _check_fillable(seaport: "SeaportContract", signed: "SignedOrder", orders: OrderStore | None,
                    refusal: str) -> "Fillability":
    state = seaport.fillability(signed)
    if not state.fillable:
        _set_status(orders, signed, _STATUS_OF.get(state.state, UNFILLABLE), reason=state.reason)
        raise InputError(f"{refusal}: {state.reason.rstrip('.').lower() if state.reason else state.state}.",
                         hint="Refresh the market to see what is open now.")
    return state


def _set_status(orders: OrderStore | None, signed: "SignedOrder", status: str, *, reason: str | None = None,
                fill_tx: str | None = None) -> OrderRow | None:
    if orders is None:
        return None
    digest = "0x" + signed.order_hash.hex()
    try:
        return orders.set_status(signed.chain_id, signed.seaport, digest, status, reason=reason, fill_tx=fill_tx)
    except StudioError:  # an order the book does not keep (imported only for this fill)
        return orders.add(replace(order_row(signed), status=status, status_reason=reason, fill_tx=fill_tx))


def _record_fill(orders: OrderStore | None, signed: "SignedOrder", receipt: "TxReceipt") -> OrderRow:
    row = _set_status(orders, signed, FILLED, reason="Filled.", fill_tx=receipt.tx_hash)
    return row if row is not None else replace(order_row(signed), status=FILLED, fill_tx=receipt.tx_hash)


def _publish(publish: Publish | None, signed: Iterable["SignedOrder"]) -> None:
    if publish is None:
        return
    for order in signed:
        publish(order)


def _when(timestamp: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(int(timestamp)))

