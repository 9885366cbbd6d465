"""Seaport orders on OpenSea: the API key kept encrypted in the wallet (service secret "opensea", like
the pinning token; ``STUDIO_OPENSEA_KEY`` wins for scripts), a publisher that posts each order the
studio signs (listings and token offers; a collection offer stays in the studio's own order book),
and the listings and offers of a collection read from OpenSea into the order book, where the
Market tab and ``studio buy`` fill them like any other order.

OpenSea serves public networks only; on the devnet and private chains :func:`opensea_client`
says so (NotFound) and orders stay in the library.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Sequence

from studio.errors import InputError, NotFound, StudioError

if TYPE_CHECKING:
    from studio.chain.opensea import OpenSeaClient, PostedOrder
    from studio.chain.seaport import SignedOrder
    from studio.library.orders import OrderRow, OrderStore
    from studio.workflows.seaport_market import SeaportVenue

log = logging.getLogger(__name__)

#: The wallet's service secret holding the OpenSea API key.
OPENSEA_SECRET = "opensea"
KEY_ENV = "STUDIO_OPENSEA_KEY"
#: Where the client finds OpenSea's API instead of api.opensea.io (a stand-in, a proxy).
URL_ENV = "STUDIO_OPENSEA_URL"
#: At most this many pages (of 50 orders) are read in one go.
MAX_PAGES = 10


def opensea_key(wallet: Any = None, *, env: dict[str, str] | None = None) -> str | None:
    """The API key: ``STUDIO_OPENSEA_KEY``, else the one the unlocked wallet keeps (None: no key)."""
    environment = os.environ if env is None else env
    key = (environment.get(KEY_ENV) or "").strip()
    if key:
        return key
    if wallet is None or not getattr(wallet, "is_unlocked", False):
        return None
    secret: str | None = wallet.service_secret(OPENSEA_SECRET)
    return secret


def opensea_client(key: str | None, chain_id: int, *, base_url: str | None = None) -> "OpenSeaClient":
    """A client for a network OpenSea serves; InputError without a key, NotFound on other chains."""
    from studio.chain.opensea import OPENSEA_API, OpenSeaClient, opensea_chain

    opensea_chain(chain_id)
    if not key:
        raise InputError("No OpenSea API key is kept.",
                         hint="Keep one in the wallet (studio market opensea-key set) or set STUDIO_OPENSEA_KEY.")
    return OpenSeaClient(key, base_url=base_url or OPENSEA_API)


@dataclass
class Publisher:
    """Posts each order the studio signs to OpenSea (a Seaport workflow's ``publish``); what was posted
    and what stayed home (with why: a collection offer, or OpenSea refused or could not be reached)
    are kept for the face to report. The signed order is in the studio's order book either way."""

    client: "OpenSeaClient"
    posted: list["PostedOrder"]
    kept_home: list[tuple[str, str]]  # (order hash, why)

    def __call__(self, order: "SignedOrder") -> None:
        from studio.chain.seaport import summarize

        kind = summarize(order.components).kind
        order_hash = "0x" + order.order_hash.hex()
        if kind == "collection offer":
            self.kept_home.append((order_hash, "OpenSea takes collection offers by its collection slug"))
            return
        try:
            self.posted.append(self.client.post_listing(order) if kind == "listing" else
                               self.client.post_offer(order))
        except StudioError as exc:  # the order is signed and kept here: it stays valid, only not on OpenSea
            self.kept_home.append((order_hash, exc.message))
            log.warning("Order %s was not posted to OpenSea: %s", order_hash, exc.message)

    def to_json(self) -> dict[str, Any]:
        return {"posted": [p.order_hash for p in self.posted],
                "not_posted": [{"order_hash": h, "why": why} for h, why in self.kept_home]}


def publisher(client: "OpenSeaClient") -> Publisher:
    return Publisher(client, [], [])


@dataclass(frozen=True)
class FetchResult:
    """Orders read from OpenSea: those now in the order book, and how many were left out."""

    added: tuple["OrderRow", ...]
    refused: int  # read but not kept: not signed by their offerer, or not valid for this network's Seaport
    skipped: int  # left out by the client (a hash or a shape that does not check out)


def fetch_orders(client: "OpenSeaClient", orders: "OrderStore", chain_id: int, venue: "SeaportVenue", *,
                 side: str = "listings", collection: str | None = None, token_ids: Sequence[int] = (),
                 maker: str | None = None, max_pages: int = MAX_PAGES,
                 progress: Callable[[str], None] | None = None) -> FetchResult:
    """Read OpenSea's listings (or offers) of a collection, a token or a maker into the order book, each
    checked to be signed by its offerer; the book's refresh then asks Seaport whether each can be filled."""
    from studio.workflows.seaport_market import import_order

    if side not in ("listings", "offers"):
        raise InputError(f"OpenSea's orders are listings or offers, not {side!r}.")
    read = client.listings if side == "listings" else client.offers
    added: list["OrderRow"] = []
    refused = skipped = 0
    cursor: str | None = None
    for page_number in range(max(1, max_pages)):
        page = read(chain_id, collection=collection, token_ids=token_ids, maker=maker, cursor=cursor)
        skipped += page.skipped
        for order in page.orders:
            if order.seaport.lower() != venue.seaport.lower():
                refused += 1
                continue
            try:
                added.append(import_order(orders, chain_id, venue, order))
            except StudioError as exc:
                refused += 1
                log.info("An OpenSea order was not kept: %s", exc)
        if progress is not None:
            progress(f"Read {len(added)} orders from OpenSea (page {page_number + 1})")
        cursor = page.next_cursor
        if cursor is None:
            break
    return FetchResult(tuple(added), refused, skipped)


def serves(chain_id: int) -> bool:
    """Whether OpenSea serves the chain."""
    from studio.chain.opensea import opensea_chain

    try:
        opensea_chain(chain_id)
    except NotFound:
        return False
    return True
