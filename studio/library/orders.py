"""The Seaport order book of the devnet and private chains: signed orders kept in the library, per chain.

On a chain no public order book serves, the studio keeps every order its accounts sign (and any
order imported from another client) here, so the other accounts see them: one row per order,
keyed by chain, Seaport address and order hash, with the signed JSON exactly as it was signed
(`{"parameters": …, "signature": …}`) and a status the studio keeps current (`active`, `filled`,
`cancelled`, `expired`, `unfillable` when the offerer no longer holds or approves what it offers).

The library does not import the chain layer: the caller reads the order (kind, token, price,
times, counter) and passes plain values.
"""
from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from studio.errors import InputError, NotFound
from studio.library.db import Library, LibraryTables

LISTING, OFFER, COLLECTION_OFFER, OTHER = "listing", "offer", "collection offer", "other"
KINDS = (LISTING, OFFER, COLLECTION_OFFER, OTHER)
ACTIVE, FILLED, CANCELLED, EXPIRED, UNFILLABLE = "active", "filled", "cancelled", "expired", "unfillable"
STATUSES = (ACTIVE, FILLED, CANCELLED, EXPIRED, UNFILLABLE)

MIGRATION = ("seaport-1-orders", (
    """CREATE TABLE seaport_orders (
        chain_id INTEGER NOT NULL,
        seaport TEXT NOT NULL COLLATE NOCASE,
        order_hash TEXT NOT NULL COLLATE NOCASE,
        kind TEXT NOT NULL CHECK (kind IN ('listing', 'offer', 'collection offer', 'other')),
        offerer TEXT NOT NULL COLLATE NOCASE,
        collection TEXT COLLATE NOCASE,
        token_id TEXT,
        price_wei TEXT NOT NULL,
        currency TEXT NOT NULL COLLATE NOCASE,
        start_time INTEGER NOT NULL,
        end_time INTEGER NOT NULL,
        counter TEXT NOT NULL,
        order_json TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('active', 'filled', 'cancelled', 'expired', 'unfillable')),
        status_reason TEXT,
        fill_tx TEXT,
        created REAL NOT NULL,
        updated REAL NOT NULL,
        PRIMARY KEY (chain_id, seaport, order_hash))""",
    "CREATE INDEX seaport_orders_by_token ON seaport_orders (chain_id, collection, token_id)",
    "CREATE INDEX seaport_orders_by_offerer ON seaport_orders (chain_id, offerer, status)",
))


@dataclass(frozen=True)
class OrderRow:
    """One signed Seaport order as the library keeps it. Money is wei; `currency` is the zero address
    for ETH, else the ERC-20 (WETH) of an offer; `token_id` is None for a collection offer."""

    chain_id: int
    seaport: str
    order_hash: str  # 0x-hex
    kind: str
    offerer: str
    collection: str | None
    token_id: int | None
    price_wei: int
    currency: str
    start_time: int
    end_time: int
    counter: int
    order_json: str
    status: str = ACTIVE
    status_reason: str | None = None
    fill_tx: str | None = None
    created: float = 0.0
    updated: float = 0.0

    def expired(self, now: float | None = None) -> bool:
        """Seaport takes an order while start ≤ now < end."""
        return (time.time() if now is None else now) >= self.end_time


class OrderStore(LibraryTables):
    """Seaport orders in the library database (the table is made on first use, by its migration)."""

    def __init__(self, library: Library) -> None:
        super().__init__(library, MIGRATION)

    def add(self, row: OrderRow) -> OrderRow:
        """Keep a signed order; adding the same order again changes nothing and returns the kept row."""
        if row.kind not in KINDS:
            raise InputError(f"An order is a listing, an offer or a collection offer, not {row.kind!r}.")
        if row.status not in STATUSES:
            raise InputError(f"An order's status is one of {', '.join(STATUSES)}, not {row.status!r}.")
        now = time.time()
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO seaport_orders VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (row.chain_id, row.seaport, row.order_hash.lower(), row.kind, row.offerer, row.collection,
                 None if row.token_id is None else str(row.token_id), str(row.price_wei), row.currency,
                 row.start_time, row.end_time, str(row.counter), row.order_json, row.status, row.status_reason,
                 row.fill_tx, row.created or now, now))
        return self.get(row.chain_id, row.seaport, row.order_hash)

    def get(self, chain_id: int, seaport: str, order_hash: str) -> OrderRow:
        rows = self._rows("SELECT * FROM seaport_orders WHERE chain_id = ? AND seaport = ? AND order_hash = ?",
                          (chain_id, seaport, order_hash.lower()))
        if not rows:
            raise NotFound(f"The library has no order {order_hash} on chain {chain_id}.")
        return _row(rows[0])

    def orders(self, chain_id: int, *, seaport: str | None = None, kind: str | None = None,
               collection: str | None = None, token_id: int | None = None, offerer: str | None = None,
               status: str | None = ACTIVE, include_expired: bool = False,
               now: float | None = None) -> list[OrderRow]:
        """Orders on a chain, cheapest listing / highest offer first (active and unexpired unless told
        otherwise). With `collection` and `token_id`, a collection offer on that collection counts too."""
        sql = "SELECT * FROM seaport_orders WHERE chain_id = ?"
        params: list[Any] = [chain_id]
        for column, value in (("seaport", seaport), ("kind", kind), ("offerer", offerer), ("status", status),
                              ("collection", collection)):
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(value)
        if token_id is not None:
            sql += " AND (token_id = ? OR kind = 'collection offer')"
            params.append(str(token_id))
        found = [_row(r) for r in self._rows(sql, params)]
        if not include_expired:
            found = [o for o in found if not o.expired(now)]
        return sorted(found, key=lambda o: (o.kind != LISTING, o.price_wei if o.kind == LISTING else -o.price_wei,
                                            o.created))

    def set_status(self, chain_id: int, seaport: str, order_hash: str, status: str, *, reason: str | None = None,
                   fill_tx: str | None = None) -> OrderRow:
        """Record what the chain says of an order (filled by `fill_tx`, cancelled, unfillable because …)."""
        if status not in STATUSES:
            raise InputError(f"An order's status is one of {', '.join(STATUSES)}, not {status!r}.")
        with self._tx() as db:
            cursor = db.execute("UPDATE seaport_orders SET status = ?, status_reason = ?, fill_tx = COALESCE(?, "
                                "fill_tx), updated = ? WHERE chain_id = ? AND seaport = ? AND order_hash = ?",
                                (status, reason, fill_tx, time.time(), chain_id, seaport, order_hash.lower()))
            if not cursor.rowcount:
                raise NotFound(f"The library has no order {order_hash} on chain {chain_id}.")
        return self.get(chain_id, seaport, order_hash)

    def cancel_counter(self, chain_id: int, seaport: str, offerer: str, new_counter: int) -> int:
        """After `incrementCounter`: every active order of `offerer` signed with another counter is
        cancelled. Returns how many."""
        rows = self._rows("SELECT order_hash, counter FROM seaport_orders WHERE chain_id = ? AND seaport = ? AND "
                          "offerer = ? AND status = 'active'", (chain_id, seaport, offerer))
        stale = [r["order_hash"] for r in rows if int(r["counter"]) != new_counter]
        with self._tx() as db:
            for digest in stale:
                db.execute("UPDATE seaport_orders SET status = 'cancelled', status_reason = ?, updated = ? WHERE "
                           "chain_id = ? AND seaport = ? AND order_hash = ?",
                           ("The offerer cancelled all their orders.", time.time(), chain_id, seaport, digest))
        return len(stale)


def _row(r: sqlite3.Row) -> OrderRow:
    return OrderRow(r["chain_id"], r["seaport"], r["order_hash"], r["kind"], r["offerer"], r["collection"],
                    None if r["token_id"] is None else int(r["token_id"]), int(r["price_wei"]), r["currency"],
                    r["start_time"], r["end_time"], int(r["counter"]), r["order_json"], r["status"],
                    r["status_reason"], r["fill_tx"], r["created"], r["updated"])
