"""Collections a collector opened by address, and who holds their tokens, as last read from the chain.

One row per opened collection (chain id + contract): its name, symbol and standards as the contract
answered, when it was last opened (the "recent collections" list), and how far its Transfer logs
were read (block number and hash, so a re-organised chain is noticed and read again). One row per
token seen in those logs with its current holder, so reopening a collection reads only new blocks
and "My collection" needs no node call per token.

Token ids are uint256: stored as 78-digit zero-padded text so that SQLite sorts them as numbers.
The library does not import the chain layer: transfers are any objects with ``block_number``,
``log_index``, ``token_id``, ``to`` (a burn goes to the zero address).
"""
from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Protocol, Sequence

from studio.errors import NotFound
from studio.library.db import Library, LibraryTables

ZERO_ADDRESS = "0x" + "0" * 40
_DIGITS = 78  # 2**256 has 78 decimal digits

MIGRATION = ("collector-1-opened-collections-and-holders", (
    """CREATE TABLE collector_collections (
        chain_id INTEGER NOT NULL,
        address TEXT NOT NULL COLLATE NOCASE,
        name TEXT NOT NULL DEFAULT '',
        symbol TEXT NOT NULL DEFAULT '',
        standards TEXT NOT NULL DEFAULT '',
        opened_at REAL NOT NULL,
        start_block INTEGER NOT NULL DEFAULT 0,
        last_block INTEGER NOT NULL DEFAULT -1,
        last_hash TEXT,
        PRIMARY KEY (chain_id, address))""",
    "CREATE INDEX collector_collections_by_time ON collector_collections (chain_id, opened_at)",
    """CREATE TABLE collector_tokens (
        chain_id INTEGER NOT NULL,
        address TEXT NOT NULL COLLATE NOCASE,
        token_key TEXT NOT NULL,
        owner TEXT NOT NULL COLLATE NOCASE,
        block_number INTEGER NOT NULL,
        PRIMARY KEY (chain_id, address, token_key))""",
    "CREATE INDEX collector_tokens_by_owner ON collector_tokens (chain_id, owner)",
))


class TransferLike(Protocol):
    block_number: int
    log_index: int
    token_id: int
    to: str


@dataclass(frozen=True)
class OpenedCollection:
    """A collection the collector opened on one chain, and how far its transfers were read."""

    chain_id: int
    address: str
    name: str
    symbol: str
    standards: tuple[str, ...]
    opened_at: float
    start_block: int = 0
    last_block: int = -1      # -1: no transfers read yet
    last_hash: str | None = None


@dataclass(frozen=True)
class HeldToken:
    chain_id: int
    collection: str
    token_id: int
    owner: str


def token_key(token_id: int) -> str:
    return f"{int(token_id):0{_DIGITS}d}"


class CollectionsCache(LibraryTables):
    """The collector's tables in the library database (created on first use by a migration)."""

    def __init__(self, library: Library) -> None:
        super().__init__(library, MIGRATION)

    # ---- collections
    def remember(self, chain_id: int, address: str, name: str, symbol: str, standards: Sequence[str],
                 *, now: float | None = None) -> OpenedCollection:
        """Record (or refresh) an opened collection; its read position is kept."""
        with self._tx() as db:
            db.execute("""INSERT INTO collector_collections (chain_id, address, name, symbol, standards, opened_at)
                          VALUES (?, ?, ?, ?, ?, ?)
                          ON CONFLICT (chain_id, address) DO UPDATE SET name = excluded.name,
                              symbol = excluded.symbol, standards = excluded.standards,
                              opened_at = excluded.opened_at""",
                       (chain_id, address, name, symbol, ",".join(standards), time.time() if now is None else now))
        found = self.collection(chain_id, address)
        assert found is not None
        return found

    def collection(self, chain_id: int, address: str) -> OpenedCollection | None:
        rows = self._rows("SELECT * FROM collector_collections WHERE chain_id = ? AND address = ?", (chain_id, address))
        return _opened(rows[0]) if rows else None

    def recent(self, chain_id: int, limit: int = 20) -> list[OpenedCollection]:
        """Collections opened on this chain, the latest first."""
        rows = self._rows("SELECT * FROM collector_collections WHERE chain_id = ? ORDER BY opened_at DESC LIMIT ?",
                          (chain_id, limit))
        return [_opened(r) for r in rows]

    def forget(self, chain_id: int, address: str) -> None:
        """Drop a collection and its holders (from the recent list, and its read position)."""
        with self._tx() as db:
            db.execute("DELETE FROM collector_tokens WHERE chain_id = ? AND address = ?", (chain_id, address))
            db.execute("DELETE FROM collector_collections WHERE chain_id = ? AND address = ?", (chain_id, address))

    # ---- transfers and holders
    def apply_transfers(self, chain_id: int, address: str, transfers: Iterable[TransferLike], *,
                        last_block: int, last_hash: str | None, reset: bool = False) -> int:
        """Store the holders the transfers (in chain order) leave, and the new read position, in one
        transaction. `reset` first drops what was stored (a re-org reached below the last read block).
        Returns how many transfers were applied."""
        count = 0
        with self._tx() as db:
            if reset:
                db.execute("DELETE FROM collector_tokens WHERE chain_id = ? AND address = ?", (chain_id, address))
            for transfer in sorted(transfers, key=lambda t: (t.block_number, t.log_index)):
                key = token_key(transfer.token_id)
                if int(transfer.to, 16) == 0:
                    db.execute("DELETE FROM collector_tokens WHERE chain_id = ? AND address = ? AND token_key = ?",
                               (chain_id, address, key))
                else:
                    db.execute("""INSERT INTO collector_tokens (chain_id, address, token_key, owner, block_number)
                                  VALUES (?, ?, ?, ?, ?) ON CONFLICT (chain_id, address, token_key)
                                  DO UPDATE SET owner = excluded.owner, block_number = excluded.block_number""",
                               (chain_id, address, key, transfer.to, transfer.block_number))
                count += 1
            updated = db.execute("UPDATE collector_collections SET last_block = ?, last_hash = ? "
                                 "WHERE chain_id = ? AND address = ?", (last_block, last_hash, chain_id, address))
            if updated.rowcount == 0:
                raise NotFound(f"The collection {address} was not opened on chain {chain_id}.",
                               hint="Open the collection first.")
        return count

    def token_count(self, chain_id: int, address: str) -> int:
        rows = self._rows("SELECT COUNT(*) AS n FROM collector_tokens WHERE chain_id = ? AND address = ?",
                          (chain_id, address))
        return int(rows[0]["n"])

    def tokens(self, chain_id: int, address: str, offset: int = 0, limit: int = 100) -> list[HeldToken]:
        """Existing tokens of a collection by id, one page."""
        rows = self._rows("SELECT * FROM collector_tokens WHERE chain_id = ? AND address = ? "
                          "ORDER BY token_key LIMIT ? OFFSET ?", (chain_id, address, limit, offset))
        return [_held(r) for r in rows]

    def held_by(self, chain_id: int, owners: Sequence[str]) -> list[HeldToken]:
        """Tokens of opened collections held by any of `owners`."""
        if not owners:
            return []
        marks = ",".join("?" * len(owners))
        rows = self._rows(f"SELECT * FROM collector_tokens WHERE chain_id = ? AND owner IN ({marks}) "
                          "ORDER BY address, token_key", (chain_id, *owners))
        return [_held(r) for r in rows]

    def set_owner(self, chain_id: int, address: str, token_id: int, owner: str, block_number: int) -> None:
        """Record a holder read with ownerOf (enumerable collections whose logs were not read)."""
        with self._tx() as db:
            db.execute("""INSERT INTO collector_tokens (chain_id, address, token_key, owner, block_number)
                          VALUES (?, ?, ?, ?, ?) ON CONFLICT (chain_id, address, token_key)
                          DO UPDATE SET owner = excluded.owner, block_number = excluded.block_number
                          WHERE excluded.block_number >= collector_tokens.block_number""",
                       (chain_id, address, token_key(token_id), owner, block_number))


def _opened(r: sqlite3.Row) -> OpenedCollection:
    return OpenedCollection(r["chain_id"], r["address"], r["name"], r["symbol"],
                            tuple(s for s in r["standards"].split(",") if s), r["opened_at"], r["start_block"],
                            r["last_block"], r["last_hash"])


def _held(r: sqlite3.Row) -> HeldToken:
    return HeldToken(r["chain_id"], r["address"], int(r["token_key"]), r["owner"])
