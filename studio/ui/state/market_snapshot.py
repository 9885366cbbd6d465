"""What one read of the market gives the Market tab: everything for sale (Seaport orders that can be
filled, escrow listings, lazy listings), the wallet's accounts' tokens, offers (escrow and Seaport,
incoming and made), their own Seaport orders with whether each can still be filled, payments due,
WETH balances, and the name of every collection met. Read on a worker (`read_snapshot`), shown by
:class:`~studio.ui.state.market.MarketState`.

No Qt here but the rows' dataclasses (the tables' own): the reading is plain workflow calls.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from studio.errors import StudioError
from studio.ui.widgets.market_tables import (ESCROW, LAZY, LISTING, SEAPORT, HeldToken, MarketItem, OfferLine,
                                             OfferView, OrderLine)

if TYPE_CHECKING:
    from studio.library.market import MarketStore, OfferRow
    from studio.library.orders import OrderRow, OrderStore
    from studio.workflows.seaport_market import SeaportVenue


@dataclass(frozen=True)
class MarketSnapshot:
    """What one sync read, for one network."""

    network_key: str
    chain_id: int
    marketplace: str
    block: int
    items: tuple[MarketItem, ...]
    held: tuple[HeldToken, ...]
    offers_made: tuple[OfferLine, ...]
    offers_incoming: tuple[OfferLine, ...]
    payments_due: tuple[tuple[str, int], ...] = ()   # (account, wei the marketplace holds for it)
    venue: "SeaportVenue | None" = None             # Seaport and WETH; None where the network has no Seaport
    orders: tuple[OrderLine, ...] = ()              # the accounts' own open Seaport orders (active or unfillable)
    weth: tuple[tuple[str, int], ...] = ()          # (account, wei of WETH it holds)
    names: tuple[tuple[str, str], ...] = ()         # (collection address, lower case; its name)
    now: int = 0                                    # the chain's time when read

    def name_of(self, collection: str) -> str:
        return dict(self.names).get(collection.lower(), "")


def read_snapshot(connection: Any, network: Any, marketplace: str, store: "MarketStore", orders: "OrderStore",
                  accounts: list[str], block: int, *, library: Any = None, cancel: Any = None) -> MarketSnapshot:
    """Listings, lazy listings, Seaport orders, the accounts' tokens and offers, from the library after a
    sync (the escrow marketplace's events) and a fresh look at every open Seaport order."""
    from studio.chain.contracts import MarketplaceContract
    from studio.workflows.market import incoming_offers
    from studio.workflows.seaport_market import refresh_orders, seaport_venue, weth_balance

    chain_id = connection.chain_id
    now = connection.latest_block_time()
    venue = _venue(seaport_venue, network, connection)
    active: list["OrderRow"] = refresh_orders(connection, venue, orders, cancel=cancel) if venue else []
    items = [MarketItem(LISTING, chain_id, l.collection, l.token_id, l.seller, l.price_wei)  # listed at: a block, not a time
             for l in store.active_listings(chain_id, marketplace)]
    items += [MarketItem(LAZY, chain_id, v.collection, None, v.artist, v.price_wei, voucher=v, listed_at=v.created,
                         ends=v.expiry) for v in store.vouchers(chain_id)]
    items += [MarketItem(SEAPORT, chain_id, o.collection or "", o.token_id, o.offerer, o.price_wei, order=o,
                         listed_at=o.start_time, ends=o.end_time) for o in active if o.kind == "listing"]
    seaport_offers = [o for o in active if o.kind != "listing"]
    held: list[HeldToken] = []
    made: list[OfferLine] = []
    incoming: list[OfferLine] = []
    order_lines: list[OrderLine] = []
    for account in accounts:
        offers = [_escrow_offer(o, now) for o in incoming_offers(connection, marketplace, store, account, sync=False)]
        own_orders = orders.orders(chain_id, seaport=venue.seaport, offerer=account, status=None) if venue else []
        open_orders = [o for o in own_orders if o.status in ("active", "unfillable")]
        order_lines += [OrderLine(o) for o in open_orders]
        listings = {(o.collection or "").lower() + f"#{o.token_id}": o for o in sorted(
            (o for o in open_orders if o.kind == "listing"), key=lambda o: o.status != "active")}
        for token in store.my_tokens(chain_id, account):
            key = (token.collection.lower(), token.token_id)
            mine = [o for o in offers if (o.collection.lower(), o.token_id) == key]
            for bid in seaport_offers:
                if bid.offerer.lower() == account.lower():
                    continue
                if (bid.collection or "").lower() == key[0] and bid.token_id in (None, token.token_id):
                    line = OfferLine(_seaport_offer(bid), True, account=account, token_id=token.token_id)
                    incoming.append(line)
                    mine.append(line.offer)
            best = max(mine, key=lambda o: o.amount_wei, default=None)
            order = listings.get(f"{key[0]}#{token.token_id}")  # a Seaport listing: the token stays in the wallet
            held.append(HeldToken(account, chain_id, token.collection, token.token_id, token.listed or order is not None,
                                  order.price_wei if order is not None and not token.listed else token.price_wei,
                                  best, order=order if not token.listed else None))
        incoming += [OfferLine(o, True, account=account, token_id=o.token_id) for o in offers]
        made += [OfferLine(_escrow_offer(o, now), False, account=account, token_id=o.token_id)
                 for o in store.offers_by(chain_id, account)]
        made += [OfferLine(_seaport_offer(o), False, account=account, token_id=o.token_id) for o in open_orders
                 if o.kind != "listing"]
    incoming.sort(key=lambda line: -line.offer.amount_wei)
    market = MarketplaceContract(connection, marketplace)
    due = tuple((account, market.pending_withdrawal(account)) for account in accounts)
    weth = tuple((account, weth_balance(connection, venue, account)) for account in accounts) if venue else ()
    collections = {i.collection for i in items} | {t.collection for t in held} | \
        {line.offer.collection for line in (*made, *incoming)} | {line.order.collection or "" for line in order_lines}
    names = _names(connection, chain_id, {c for c in collections if c}, library)
    return MarketSnapshot(network.key, chain_id, marketplace, block, tuple(_named(items, names)),
                          tuple(_named(held, names)), tuple(_named(made, names)), tuple(_named(incoming, names)),
                          due, venue, tuple(_named(order_lines, names)), weth, tuple(sorted(names.items())), now)


def _venue(seaport_venue: Any, network: Any, connection: Any) -> "SeaportVenue | None":
    from studio.errors import NotFound

    try:
        return seaport_venue(network, connection)
    except NotFound:  # a private chain without Seaport: the escrow marketplace only
        return None


def _escrow_offer(offer: "OfferRow", now: int) -> OfferView:
    return OfferView(ESCROW, offer.chain_id, offer.collection, offer.token_id, offer.buyer, offer.amount_wei,
                     offer.expiry, status="expired" if offer.expired(now) else offer.status)


def _seaport_offer(order: "OrderRow") -> OfferView:
    return OfferView(SEAPORT, order.chain_id, order.collection or "", order.token_id, order.offerer, order.price_wei,
                     order.end_time, order, order.status, order.status_reason or "")


def _names(connection: Any, chain_id: int, collections: set[str], library: Any) -> dict[str, str]:
    """Each collection's name: the library's for collections it knows, else the contract's own (a
    stranger's contract may answer nothing, or nonsense: then no name)."""
    from studio.chain.erc721 import ERC721Reader, failed

    names: dict[str, str] = {}
    for address in collections:
        known = library.collection(chain_id, address) if library is not None else None
        if known is not None and known.name:
            names[address.lower()] = known.name
            continue
        try:
            name = ERC721Reader(connection, address).name()
        except StudioError:
            continue
        if not failed(name) and isinstance(name, str):
            names[address.lower()] = name
    return names


def _named(rows: list[Any], names: dict[str, str]) -> list[Any]:
    from dataclasses import replace

    out = []
    for row in rows:
        collection = row.order.collection if isinstance(row, OrderLine) else \
            row.offer.collection if isinstance(row, OfferLine) else row.collection
        out.append(replace(row, collection_name=names.get((collection or "").lower(), "")))
    return out
