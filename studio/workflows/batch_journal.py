"""The batch journal: ``<manifest>.journal.sqlite`` next to the manifest records each step of a
batch, so that a run killed at any moment resumes without minting anything twice.

It holds the uploaded CIDs per row, each batch's composition and commitment, every transaction's
signed raw bytes, hash and nonce *before* it is broadcast, receipts, token ids, royalties and
listings. :mod:`studio.workflows.batch` reads it to reconcile with the chain.
"""
from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from studio.errors import Cancelled, InputError

if TYPE_CHECKING:
    from studio.cancel import Cancellable
    from studio.workflows.batch_manifest import ManifestRow

#: The test seam: ``STUDIO_BATCH_CRASH_AT=STEP:N`` kills the run at a named step (see studio.workflows.batch).
CRASH_ENV = "STUDIO_BATCH_CRASH_AT"
#: What a cancelled run says: nothing is lost, the journal finishes it.
CANCELLED_TEXT = "Cancelled. The journal keeps every step; run the same command again to finish."


def crash_point(step: str, number: int) -> None:
    """The test seam: STUDIO_BATCH_CRASH_AT=step:number kills this process here, as `kill -9` would."""
    if os.environ.get(CRASH_ENV) == f"{step}:{number}":
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))


def check_cancel(cancel: "Cancellable | None") -> None:
    """Raise :class:`Cancelled` once the run was cancelled; the journal keeps what was done."""
    if cancel is not None and cancel.cancelled:
        raise Cancelled(CANCELLED_TEXT)


def journal_path_for(source: Path | str) -> Path:
    """``<manifest>.journal.sqlite`` next to the manifest (or the folder of images)."""
    source = Path(source).resolve()
    return source.parent / f"{source.name}.journal.sqlite"


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rows (row INTEGER PRIMARY KEY, file TEXT NOT NULL, sha256 TEXT NOT NULL,
    media_cid TEXT, metadata_cid TEXT, batch INTEGER, position INTEGER, token_id INTEGER,
    royalty_done INTEGER NOT NULL DEFAULT 0, listed INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS batches (id INTEGER PRIMARY KEY, cid TEXT NOT NULL, digest TEXT NOT NULL,
    count INTEGER NOT NULL, first_token_id INTEGER);
CREATE TABLE IF NOT EXISTS txs (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, subject INTEGER NOT NULL,
    raw TEXT NOT NULL, hash TEXT NOT NULL, nonce INTEGER NOT NULL, state TEXT NOT NULL, block INTEGER,
    gas_used INTEGER, fee_wei TEXT, error TEXT);
"""
SIGNED, SENT, LANDED, FAILED, DROPPED = "signed", "sent", "landed", "failed", "dropped"


@dataclass(frozen=True)
class JournalTx:
    id: int
    kind: str  # mint, royalty, approve, list
    subject: int  # the batch id, the token id, or 0
    raw: str
    hash: str
    nonce: int
    state: str
    gas_used: int | None
    fee_wei: int | None


class Journal:
    """The batch's own SQLite record of every step (``:memory:`` for a throw-away run).

    Writes commit at once (WAL, synchronous NORMAL: a killed process loses nothing committed);
    ``write_seconds`` adds up the time spent writing, for the benchmark.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        self.write_seconds = 0.0
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            from studio.errors import StorageError

            raise StorageError(f"The batch journal {self.path} could not be opened ({exc}).",
                               hint="Check that the manifest's folder is writable.") from exc

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            started = time.perf_counter()
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            self.write_seconds += time.perf_counter() - started

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # ---- meta
    def bind(self, **values: str) -> None:
        """Remember what this journal mints (chain, collection, owner); refuse another."""
        known = dict(self._rows("SELECT key, value FROM meta"))
        for key, value in values.items():
            if key in known and known[key].lower() != value.lower():
                raise InputError(f"The journal {self.path} belongs to a batch with {key} {known[key]}, not {value}.",
                                 hint="Run the command with the same collection, network and account, or move "
                                      "the journal away to start a new batch.")
        with self._write() as db:
            db.executemany("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", list(values.items()))

    def meta(self, key: str) -> str | None:
        found = self._rows("SELECT value FROM meta WHERE key = ?", (key,))
        return found[0][0] if found else None

    def set_meta(self, key: str, value: str) -> None:
        with self._write() as db:
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # ---- rows and batches
    def add_rows(self, rows: Sequence[ManifestRow]) -> None:
        known = {r: s for r, s in self._rows("SELECT row, sha256 FROM rows")}
        for row in rows:
            if row.row in known and known[row.row] != row.sha256:
                stage = self._rows("SELECT media_cid FROM rows WHERE row = ?", (row.row,))[0][0]
                if stage is not None:
                    raise InputError(f"Row {row.row} ({row.file.name}) changed since this batch started.",
                                     hint="Put the file back as it was, or start a new batch with a new manifest.")
        with self._write() as db:
            db.executemany("INSERT OR REPLACE INTO rows (row, file, sha256) SELECT ?, ?, ? WHERE NOT EXISTS "
                           "(SELECT 1 FROM rows WHERE row = ? AND media_cid IS NOT NULL)",
                           [(r.row, str(r.file), r.sha256, r.row) for r in rows])

    def set_uploaded(self, row: int, media_cid: str, metadata_cid: str) -> None:
        with self._write() as db:
            db.execute("UPDATE rows SET media_cid = ?, metadata_cid = ? WHERE row = ?", (media_cid, metadata_cid, row))

    def uploaded(self) -> dict[int, tuple[str, str]]:
        return {r: (m, d) for r, m, d in self._rows("SELECT row, media_cid, metadata_cid FROM rows "
                                                    "WHERE media_cid IS NOT NULL")}

    def add_batch(self, batch: int, rows: Sequence[int], cid: str, digest: bytes) -> None:
        with self._write() as db:
            db.execute("INSERT INTO batches (id, cid, digest, count) VALUES (?, ?, ?, ?)",
                       (batch, cid, digest.hex(), len(rows)))
            db.executemany("UPDATE rows SET batch = ?, position = ? WHERE row = ?",
                           [(batch, position, row) for position, row in enumerate(rows)])

    def batches(self) -> dict[int, tuple[str, bytes, int, int | None]]:
        return {b: (cid, bytes.fromhex(digest), count, first) for b, cid, digest, count, first in
                self._rows("SELECT id, cid, digest, count, first_token_id FROM batches ORDER BY id")}

    def batch_rows(self, batch: int) -> list[int]:
        return [r for (r,) in self._rows("SELECT row FROM rows WHERE batch = ? ORDER BY position", (batch,))]

    def set_minted(self, batch: int, first_token_id: int) -> None:
        with self._write() as db:
            db.execute("UPDATE batches SET first_token_id = ? WHERE id = ?", (first_token_id, batch))
            db.execute("UPDATE rows SET token_id = ? + position WHERE batch = ?", (first_token_id, batch))

    def tokens(self) -> dict[int, int]:
        """row → token id for every minted row."""
        return dict(self._rows("SELECT row, token_id FROM rows WHERE token_id IS NOT NULL"))

    def mark_row(self, row: int, column: str) -> None:
        assert column in ("royalty_done", "listed")
        with self._write() as db:
            db.execute(f"UPDATE rows SET {column} = 1 WHERE row = ?", (row,))

    def marked(self, column: str) -> set[int]:
        assert column in ("royalty_done", "listed")
        return {r for (r,) in self._rows(f"SELECT row FROM rows WHERE {column} = 1")}

    # ---- transactions
    def record_signed(self, kind: str, subject: int, raw: bytes, tx_hash: str, nonce: int) -> int:
        with self._write() as db:
            return int(db.execute("INSERT INTO txs (kind, subject, raw, hash, nonce, state) VALUES (?, ?, ?, ?, ?, ?)",
                                  (kind, subject, raw.hex(), tx_hash, nonce, SIGNED)).lastrowid or 0)

    def set_tx(self, tx_id: int, state: str, *, block: int | None = None, gas_used: int | None = None,
               fee_wei: int | None = None, error: str | None = None) -> None:
        with self._write() as db:
            db.execute("UPDATE txs SET state = ?, block = COALESCE(?, block), gas_used = COALESCE(?, gas_used), "
                       "fee_wei = COALESCE(?, fee_wei), error = ? WHERE id = ?",
                       (state, block, gas_used, None if fee_wei is None else str(fee_wei), error, tx_id))

    def txs(self, *states: str) -> list[JournalTx]:
        where = f" WHERE state IN ({', '.join('?' * len(states))})" if states else ""
        return [JournalTx(i, k, s, r, h, n, st, g, None if f is None else int(f)) for i, k, s, r, h, n, st, g, f in
                self._rows(f"SELECT id, kind, subject, raw, hash, nonce, state, gas_used, fee_wei FROM txs{where} "
                           "ORDER BY nonce, id", states)]
