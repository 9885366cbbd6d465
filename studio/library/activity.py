"""What the market did with a collection and its tokens, as the library last saw it: each token's events
(the indexer's ``market_events`` and the Seaport order book), a collection's floor, volume and listed
count, how many accounts hold it, and the metadata of its tokens read so far (name and traits, for
trait filters with counts).

Read-only over the market's tables (made by their own modules: skipped while they do not exist), plus
one table of its own, ``token_metadata``, written when the collector reads a token's metadata.
"""
from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from studio.library.db import Library, library_storage_error

ZERO = "0x" + "0" * 40
_DIGITS = 78  # token ids as zero-padded text sort as numbers (as collector_tokens keeps them)

MIGRATION = ("collector-2-token-metadata", (
    """CREATE TABLE token_metadata (
        chain_id INTEGER NOT NULL,
        address TEXT NOT NULL COLLATE NOCASE,
        token_key TEXT NOT NULL,
        name TEXT NOT NULL DEFAULT '',
        traits_json TEXT NOT NULL DEFAULT '[]',
        read_at REAL NOT NULL,
        PRIMARY KEY (chain_id, address, token_key))""",
))


@dataclass(frozen=True)
class TokenEvent:
    """One thing that happened to a token, for its activity list (money in wei; `block` -1 for a
    Seaport order, which is signed off chain: `when` is its start time then)."""

    kind: str                 # mint, transfer, listed, price_changed, listing_cancelled, sold, offer_made, …
    block: int
    tx_hash: str | None
    source: str               # "studio marketplace", "collection" or "Seaport"
    seller: str | None = None
    buyer: str | None = None
    price_wei: int | None = None
    when: float | None = None  # seconds since 1970, when known
    status: str = ""           # a Seaport order's status now (active, filled, cancelled, expired)


@dataclass(frozen=True)
class MarketStats:
    """A collection's market numbers: the cheapest active listing, what all its sales came to, how many
    sales, how many tokens are listed now."""

    floor_wei: int | None
    volume_wei: int
    sales: int
    listed: int


def token_events(library: Library, chain_id: int, collection: str, token_id: int) -> list[TokenEvent]:
    """The market's and the collection's events for one token, oldest first, and its Seaport orders."""
    events: list[TokenEvent] = []
    if library.has_table("market_events"):
        rows = _rows(library, "SELECT kind, block_number, log_index, tx_hash, contract, seller, buyer, price_wei "
                              "FROM market_events WHERE chain_id = ? AND collection = ? AND token_id = ? "
                              "ORDER BY block_number, log_index", (chain_id, collection, str(token_id)))
        seen: set[tuple[str, int]] = set()
        for row in rows:
            key = (str(row[3]).lower(), int(row[2]))
            if key in seen:  # the same log stored under two marketplaces' cursors
                continue
            seen.add(key)
            kind = str(row[0])
            if kind == "transfer" and str(row[5] or "").lower() == ZERO:
                kind = "mint"
            source = "collection" if str(row[4]).lower() == collection.lower() else "studio marketplace"
            events.append(TokenEvent(kind, int(row[1]), str(row[3]), source, row[5], row[6],
                                     int(row[7]) if row[7] is not None else None))
    if library.has_table("seaport_orders"):
        rows = _rows(library, "SELECT kind, offerer, price_wei, start_time, status, fill_tx FROM seaport_orders "
                              "WHERE chain_id = ? AND collection = ? AND (token_id = ? OR token_id IS NULL) "
                              "ORDER BY start_time", (chain_id, collection, str(token_id)))
        for row in rows:
            listing = row[0] == "listing"
            events.append(TokenEvent("listed" if listing else "offer_made", -1, row[5], "Seaport",
                                     seller=row[1] if listing else None, buyer=None if listing else row[1],
                                     price_wei=int(row[2]), when=float(row[3]), status=str(row[4])))
    return events


def market_stats(library: Library, chain_id: int, collection: str) -> MarketStats:
    """Floor, volume, sales and listed count of a collection, from the studio marketplace's indexed
    events and the Seaport order book."""
    prices: dict[str, int] = {}  # token -> cheapest active listing
    volume = sales = 0
    if library.has_table("market_listings"):
        for row in _rows(library, "SELECT token_id, price_wei FROM market_listings WHERE chain_id = ? AND "
                                  "collection = ? AND status = 'active'", (chain_id, collection)):
            prices[str(row[0])] = min(int(row[1]), prices.get(str(row[0]), int(row[1])))
        seen: set[tuple[str, int]] = set()
        for row in _rows(library, "SELECT tx_hash, log_index, price_wei FROM market_events WHERE chain_id = ? AND "
                                  "collection = ? AND kind IN ('sold', 'offer_accepted')", (chain_id, collection)):
            if (str(row[0]).lower(), int(row[1])) not in seen:
                seen.add((str(row[0]).lower(), int(row[1])))
                volume += int(row[2] or 0)
                sales += 1
    if library.has_table("seaport_orders"):
        now = time.time()
        for row in _rows(library, "SELECT kind, token_id, price_wei, status, end_time FROM seaport_orders WHERE "
                                  "chain_id = ? AND collection = ?", (chain_id, collection)):
            if row[0] == "listing" and row[3] == "active" and row[4] > now and row[1] is not None:
                prices[str(row[1])] = min(int(row[2]), prices.get(str(row[1]), int(row[2])))
            if row[3] == "filled":
                volume += int(row[2])
                sales += 1
    return MarketStats(min(prices.values()) if prices else None, volume, sales, len(prices))


def holder_count(library: Library, chain_id: int, collection: str, escrows: Iterable[str] = ()) -> int:
    """How many accounts hold a token of the collection (its transfer logs as the collector read them;
    a token escrowed by a marketplace counts for its seller)."""
    if not library.has_table("collector_tokens"):
        return 0
    owners = {str(row[0]): str(row[1]).lower() for row in _rows(
        library, "SELECT token_key, owner FROM collector_tokens WHERE chain_id = ? AND address = ?",
        (chain_id, collection))}
    held_by = {e.lower() for e in escrows}
    if held_by and library.has_table("market_listings"):
        for row in _rows(library, "SELECT token_id, seller FROM market_listings WHERE chain_id = ? AND "
                                  "collection = ? AND status = 'active'", (chain_id, collection)):
            key = str(int(row[0])).zfill(_DIGITS)
            if owners.get(key) in held_by:
                owners[key] = str(row[1]).lower()
    return len({owner for owner in owners.values() if owner not in held_by})


# ---------------------------------------------------------------- the metadata cache

def remember_metadata(library: Library, chain_id: int, collection: str,
                      tokens: Iterable[tuple[int, str, Sequence[tuple[str, str]]]]) -> None:
    """Keep (token id, name, traits) of tokens whose metadata was read (its traits feed the filters)."""
    library.migrate(*MIGRATION)
    now = time.time()
    try:
        with library.connect() as db:
            db.executemany(
                "INSERT INTO token_metadata (chain_id, address, token_key, name, traits_json, read_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (chain_id, address, token_key) DO UPDATE SET "
                "name = excluded.name, traits_json = excluded.traits_json, read_at = excluded.read_at",
                [(chain_id, collection, str(int(token)).zfill(_DIGITS), name, json.dumps([list(t) for t in traits]),
                  now) for token, name, traits in tokens])
    except sqlite3.Error as exc:
        raise library_storage_error(library.path, exc) from exc


def cached_traits(library: Library, chain_id: int, collection: str) -> dict[int, tuple[tuple[str, str], ...]]:
    """token id -> its traits, for every token of the collection whose metadata was read."""
    library.migrate(*MIGRATION)
    found: dict[int, tuple[tuple[str, str], ...]] = {}
    for row in _rows(library, "SELECT token_key, traits_json FROM token_metadata WHERE chain_id = ? AND address = ?",
                     (chain_id, collection)):
        try:
            traits = tuple((str(k), str(v)) for k, v in json.loads(row[1]))
        except (ValueError, TypeError):
            traits = ()
        found[int(row[0])] = traits
    return found


def _rows(library: Library, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
    try:
        with library.connect() as db:
            return db.execute(sql, tuple(params)).fetchall()
    except sqlite3.Error as exc:
        raise library_storage_error(library.path, exc) from exc
