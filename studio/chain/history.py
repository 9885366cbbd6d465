"""A persistent history of the transactions the wallet sent, with their status.

SQLite in ``<data>/wallet/history.sqlite``; safe to use from several threads. It records what
a person needs to follow a transaction (hash, network, from, to, what it did, fees, status), never
a key or a signature.
"""
from __future__ import annotations

import sqlite3
import threading
import time
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from studio.errors import NotFound, StorageError

PENDING, CONFIRMED, FAILED, REPLACED, DROPPED = "pending", "confirmed", "failed", "replaced", "dropped"
STATUSES = (PENDING, CONFIRMED, FAILED, REPLACED, DROPPED)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS transactions (
    tx_hash TEXT PRIMARY KEY,
    network TEXT NOT NULL,
    chain_id INTEGER NOT NULL,
    sender TEXT NOT NULL,
    recipient TEXT,
    nonce INTEGER NOT NULL,
    value_wei TEXT NOT NULL,
    description TEXT NOT NULL,
    status TEXT NOT NULL,
    max_fee_per_gas TEXT,
    max_priority_fee_per_gas TEXT,
    gas_limit INTEGER,
    block_number INTEGER,
    gas_used INTEGER,
    replaced_by TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS by_sender ON transactions (sender, chain_id, nonce);
"""


@dataclass(frozen=True)
class HistoryEntry:
    tx_hash: str
    network: str
    chain_id: int
    sender: str
    recipient: str | None
    nonce: int
    value_wei: int
    description: str
    status: str
    max_fee_per_gas: int | None
    max_priority_fee_per_gas: int | None
    gas_limit: int | None
    block_number: int | None
    gas_used: int | None
    replaced_by: str | None
    created_at: float
    updated_at: float


class TxHistory:
    """The sent-transactions table of one studio home."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._schema_lock = threading.Lock()
        self._ready = False  # the file and its table are made on first use (often a worker), not here

    def _ensure_schema(self) -> None:
        with self._schema_lock:
            if not self._ready:
                try:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StorageError(f"The transaction history {self.path} cannot be created ({exc}).") from exc
                with closing(self._connect()) as db, db:
                    db.executescript(_SCHEMA)
                self._ready = True

    @classmethod
    def default(cls) -> "TxHistory":
        from studio.paths import studio_paths

        return cls(studio_paths().ensure().data_dir / "wallet" / "history.sqlite")

    @contextmanager
    def _db(self):
        """A connection committed and closed at the end of the block."""
        if not self._ready:
            self._ensure_schema()
        with closing(self._connect()) as db, db:
            yield db

    def _connect(self) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(self.path, timeout=10)
        except sqlite3.Error as exc:
            raise StorageError(f"The transaction history {self.path} cannot be opened ({exc}).") from exc
        db.row_factory = sqlite3.Row
        return db

    def record(self, *, tx_hash: str, network: str, chain_id: int, sender: str, recipient: str | None, nonce: int,
               value_wei: int, description: str, max_fee_per_gas: int | None,
               max_priority_fee_per_gas: int | None, gas_limit: int | None) -> None:
        """A transaction the node accepted, as pending."""
        now = time.time()
        with self._lock, self._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO transactions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,NULL,NULL,NULL,?,?)",
                (tx_hash, network, chain_id, sender, recipient, nonce, str(value_wei), description, PENDING,
                 None if max_fee_per_gas is None else str(max_fee_per_gas),
                 None if max_priority_fee_per_gas is None else str(max_priority_fee_per_gas),
                 gas_limit, now, now))

    def set_status(self, tx_hash: str, status: str, *, block_number: int | None = None,
                   gas_used: int | None = None, replaced_by: str | None = None) -> None:
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        with self._lock, self._db() as db:
            cursor = db.execute(
                "UPDATE transactions SET status=?, block_number=COALESCE(?, block_number), "
                "gas_used=COALESCE(?, gas_used), replaced_by=COALESCE(?, replaced_by), updated_at=? WHERE tx_hash=?",
                (status, block_number, gas_used, replaced_by, time.time(), tx_hash))
            if cursor.rowcount == 0:
                raise NotFound(f"The transaction {tx_hash} is not in the history.")

    def get(self, tx_hash: str) -> HistoryEntry:
        with self._db() as db:
            row = db.execute("SELECT * FROM transactions WHERE tx_hash=?", (tx_hash,)).fetchone()
        if row is None:
            raise NotFound(f"The transaction {tx_hash} is not in the history.")
        return _entry(row)

    def entries(self, *, sender: str | None = None, chain_id: int | None = None,
                status: str | None = None, limit: int = 200) -> list[HistoryEntry]:
        """Newest first, optionally for one account, network or status."""
        query, args = "SELECT * FROM transactions WHERE 1=1", list[object]()
        if sender:
            query, args = query + " AND lower(sender)=lower(?)", args + [sender]
        if chain_id is not None:
            query, args = query + " AND chain_id=?", args + [chain_id]
        if status:
            query, args = query + " AND status=?", args + [status]
        query += " ORDER BY created_at DESC, nonce DESC LIMIT ?"
        with self._db() as db:
            return [_entry(row) for row in db.execute(query, args + [limit]).fetchall()]


def _int_or_none(value) -> int | None:
    return None if value is None else int(value)


def _entry(row: sqlite3.Row) -> HistoryEntry:
    return HistoryEntry(
        tx_hash=row["tx_hash"], network=row["network"], chain_id=row["chain_id"], sender=row["sender"],
        recipient=row["recipient"], nonce=row["nonce"], value_wei=int(row["value_wei"]),
        description=row["description"], status=row["status"],
        max_fee_per_gas=_int_or_none(row["max_fee_per_gas"]),
        max_priority_fee_per_gas=_int_or_none(row["max_priority_fee_per_gas"]),
        gas_limit=row["gas_limit"], block_number=row["block_number"], gas_used=row["gas_used"],
        replaced_by=row["replaced_by"], created_at=row["created_at"], updated_at=row["updated_at"])
