"""The library: one SQLite file of the works an artist made, their collections, tokens and mints.

``<data>/library.db`` in WAL mode with foreign keys on. The schema grows by named migrations,
applied in order once each and remembered in ``schema_migrations``; other modules (the market's
listings, offers and sync cursor) add their tables with :meth:`Library.migrate` or
:func:`register_migration` without touching this file. One connection serves all threads behind a
re-entrant lock, so GUI workers, the CLI and tests may share a :class:`Library`.

Addresses are compared without regard to case (``COLLATE NOCASE``) and returned as stored;
token ids are SQLite integers (the studio's collections number tokens from 0 upwards).
"""
from __future__ import annotations

import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator, Sequence

from studio.errors import InputError, StorageError

UPLOADED, SENT, MINTED, FAILED = "uploaded", "sent", "minted", "failed"
ATTEMPT_STATES = (UPLOADED, SENT, MINTED, FAILED)


@dataclass(frozen=True)
class Work:
    """An image file the studio knows, identified by the SHA-256 of its bytes."""

    id: int | None
    path: str
    sha256: str
    pixel_hash: str | None
    title: str
    prompt: str
    model: str
    created: float
    width: int
    height: int


@dataclass(frozen=True)
class Collection:
    """A StudioCollection contract on one chain, created here or imported by address."""

    chain_id: int
    address: str
    name: str
    symbol: str
    owner: str
    royalty_receiver: str | None
    royalty_bps: int
    description: str
    image_cid: str | None
    deploy_tx: str | None
    created: float


@dataclass(frozen=True)
class Token:
    """A minted token; ``work_id`` links it to the work it was minted from, when known."""

    chain_id: int
    collection: str
    token_id: int
    work_id: int | None
    metadata_cid: str | None
    media_cid: str | None
    tx_hash: str | None
    owner: str
    minted_at: float


@dataclass(frozen=True)
class MintAttempt:
    """Where minting one work into one collection got to, so a retry never mints it twice.

    ``position`` is the work's entry in its transaction's batch (0 for a single mint): the
    token minted for it is ``first_token_id + position``.
    """

    id: int | None
    work_id: int
    chain_id: int
    collection: str
    state: str
    media_cid: str | None
    metadata_cid: str | None
    tx_hash: str | None
    error: str | None
    updated: float
    position: int = 0


@dataclass(frozen=True)
class Migration:
    name: str
    statements: tuple[str, ...]


_CORE_MIGRATIONS: tuple[Migration, ...] = (
    Migration("core-1-works-collections-tokens-attempts", (
        """CREATE TABLE works (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            path TEXT NOT NULL,
            sha256 TEXT NOT NULL UNIQUE,
            pixel_hash TEXT,
            title TEXT NOT NULL DEFAULT '',
            prompt TEXT NOT NULL DEFAULT '',
            model TEXT NOT NULL DEFAULT '',
            created REAL NOT NULL,
            width INTEGER NOT NULL,
            height INTEGER NOT NULL)""",
        """CREATE TABLE collections (
            chain_id INTEGER NOT NULL,
            address TEXT NOT NULL COLLATE NOCASE,
            name TEXT NOT NULL,
            symbol TEXT NOT NULL,
            owner TEXT NOT NULL,
            royalty_receiver TEXT,
            royalty_bps INTEGER NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            image_cid TEXT,
            deploy_tx TEXT,
            created REAL NOT NULL,
            PRIMARY KEY (chain_id, address))""",
        """CREATE TABLE tokens (
            chain_id INTEGER NOT NULL,
            collection TEXT NOT NULL COLLATE NOCASE,
            token_id INTEGER NOT NULL,
            work_id INTEGER REFERENCES works(id) ON DELETE SET NULL,
            metadata_cid TEXT,
            media_cid TEXT,
            tx_hash TEXT,
            owner TEXT NOT NULL COLLATE NOCASE,
            minted_at REAL NOT NULL,
            PRIMARY KEY (chain_id, collection, token_id))""",
        "CREATE INDEX tokens_by_owner ON tokens (chain_id, owner)",
        "CREATE INDEX tokens_by_work ON tokens (work_id)",
        """CREATE TABLE mint_attempts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            work_id INTEGER NOT NULL REFERENCES works(id) ON DELETE CASCADE,
            chain_id INTEGER NOT NULL,
            collection TEXT NOT NULL COLLATE NOCASE,
            state TEXT NOT NULL CHECK (state IN ('uploaded', 'sent', 'minted', 'failed')),
            media_cid TEXT,
            metadata_cid TEXT,
            tx_hash TEXT,
            error TEXT,
            position INTEGER NOT NULL DEFAULT 0,
            updated REAL NOT NULL)""",
        "CREATE INDEX attempts_by_work ON mint_attempts (work_id, chain_id, collection)",
    )),
)

_registered: list[Migration] = []
_registry_lock = threading.Lock()


def register_migration(name: str, statements: Sequence[str]) -> None:
    """Add a migration applied by every :class:`Library` opened from now on (and by open ones on
    their next :meth:`Library.apply_registered`). Registering the same name twice is harmless."""
    with _registry_lock:
        if any(m.name == name for m in _registered):
            return
        _registered.append(Migration(name, tuple(statements)))


def library_path() -> Path:
    """The library file of the current studio home."""
    from studio.paths import studio_paths

    return studio_paths().ensure().library_file


class Library:
    """The studio's SQLite database; safe to share between threads."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._depth = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None,
                                         timeout=30.0)
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.execute("PRAGMA busy_timeout=30000")
            self._conn.execute("""CREATE TABLE IF NOT EXISTS schema_migrations (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                name TEXT NOT NULL UNIQUE,
                applied_at REAL NOT NULL)""")
        except sqlite3.Error as exc:
            raise _storage_error(self.path, exc) from exc
        for migration in _CORE_MIGRATIONS:
            self.migrate(migration.name, migration.statements)
        self.apply_registered()

    @classmethod
    def default(cls) -> "Library":
        """The library of the current studio home (``STUDIO_HOME`` or the OS folders)."""
        return cls(library_path())

    # ---- plumbing
    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> "Library":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """The connection inside one transaction: committed when the block ends, rolled back
        when it raises. Blocks nest (the inner one is a savepoint)."""
        with self._lock:
            outer = self._depth == 0
            try:
                self._conn.execute("BEGIN IMMEDIATE" if outer else f"SAVEPOINT sp{self._depth}")
            except sqlite3.Error as exc:
                raise _storage_error(self.path, exc) from exc
            self._depth += 1
            try:
                yield self._conn
            except BaseException:
                self._depth -= 1
                if outer:
                    self._conn.execute("ROLLBACK")
                else:
                    self._conn.execute(f"ROLLBACK TO sp{self._depth}")
                    self._conn.execute(f"RELEASE sp{self._depth}")
                raise
            else:
                self._depth -= 1
                try:
                    self._conn.execute("COMMIT" if outer else f"RELEASE sp{self._depth}")
                except sqlite3.Error as exc:
                    if outer:
                        self._conn.execute("ROLLBACK")
                    raise _storage_error(self.path, exc) from exc

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        try:
            with self.connect() as db:
                yield db
        except sqlite3.Error as exc:
            raise _storage_error(self.path, exc) from exc

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._conn.execute(sql, tuple(params)).fetchall()
            except sqlite3.Error as exc:
                raise _storage_error(self.path, exc) from exc

    def migrate(self, name: str, statements: Sequence[str]) -> bool:
        """Apply a named migration once, all statements in one transaction. True when it ran now."""
        with self._write() as db:
            if db.execute("SELECT 1 FROM schema_migrations WHERE name = ?", (name,)).fetchone():
                return False
            for statement in statements:
                db.execute(statement)
            db.execute("INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)", (name, time.time()))
            return True

    def apply_registered(self) -> None:
        """Apply migrations registered with :func:`register_migration`, in registration order."""
        with _registry_lock:
            pending = list(_registered)
        for migration in pending:
            self.migrate(migration.name, migration.statements)

    def migrations(self) -> list[str]:
        """Names of the applied migrations, oldest first (the schema's version history)."""
        return [row["name"] for row in self._read("SELECT name FROM schema_migrations ORDER BY seq")]

    # ---- works
    def add_work(self, work: Work) -> Work:
        """Remember a work; a file already known by its SHA-256 returns the stored work."""
        with self._write() as db:
            row = db.execute("SELECT * FROM works WHERE sha256 = ?", (work.sha256,)).fetchone()
            if row is not None:
                return _work(row)
            cursor = db.execute(
                "INSERT INTO works (path, sha256, pixel_hash, title, prompt, model, created, width, height) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (work.path, work.sha256, work.pixel_hash, work.title, work.prompt, work.model,
                 work.created, work.width, work.height))
            return replace(work, id=cursor.lastrowid)

    def work(self, work_id: int) -> Work | None:
        rows = self._read("SELECT * FROM works WHERE id = ?", (work_id,))
        return _work(rows[0]) if rows else None

    def work_by_sha256(self, sha256: str) -> Work | None:
        rows = self._read("SELECT * FROM works WHERE sha256 = ?", (sha256.lower(),))
        return _work(rows[0]) if rows else None

    def works(self) -> list[Work]:
        """All works, newest first."""
        return [_work(row) for row in self._read("SELECT * FROM works ORDER BY created DESC, id DESC")]

    # ---- collections
    def upsert_collection(self, collection: Collection) -> Collection:
        """Insert or update a collection (keyed by chain and address)."""
        with self._write() as db:
            db.execute(
                "INSERT INTO collections (chain_id, address, name, symbol, owner, royalty_receiver, royalty_bps, "
                "description, image_cid, deploy_tx, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (chain_id, address) DO UPDATE SET name = excluded.name, symbol = excluded.symbol, "
                "owner = excluded.owner, royalty_receiver = excluded.royalty_receiver, "
                "royalty_bps = excluded.royalty_bps, description = excluded.description, "
                "image_cid = COALESCE(excluded.image_cid, collections.image_cid), "
                "deploy_tx = COALESCE(excluded.deploy_tx, collections.deploy_tx)",
                (collection.chain_id, collection.address, collection.name, collection.symbol, collection.owner,
                 collection.royalty_receiver, collection.royalty_bps, collection.description,
                 collection.image_cid, collection.deploy_tx, collection.created))
            row = db.execute("SELECT * FROM collections WHERE chain_id = ? AND address = ?",
                             (collection.chain_id, collection.address)).fetchone()
            return _collection(row)

    def collections(self, chain_id: int) -> list[Collection]:
        """The collections remembered on one chain, oldest first."""
        rows = self._read("SELECT * FROM collections WHERE chain_id = ? ORDER BY created, address", (chain_id,))
        return [_collection(row) for row in rows]

    def collection(self, chain_id: int, address: str) -> Collection | None:
        rows = self._read("SELECT * FROM collections WHERE chain_id = ? AND address = ?", (chain_id, address))
        return _collection(rows[0]) if rows else None

    # ---- mint attempts
    def record_attempt(self, attempt: MintAttempt) -> MintAttempt:
        """Insert an attempt (``id`` None) or update it; ``updated`` is set to now. Returns it as stored."""
        if attempt.state not in ATTEMPT_STATES:
            raise InputError(f"{attempt.state!r} is not a mint state; use one of {', '.join(ATTEMPT_STATES)}.")
        attempt = replace(attempt, updated=time.time())
        values = (attempt.work_id, attempt.chain_id, attempt.collection, attempt.state, attempt.media_cid,
                  attempt.metadata_cid, attempt.tx_hash, attempt.error, attempt.position, attempt.updated)
        with self._write() as db:
            if attempt.id is None:
                cursor = db.execute(
                    "INSERT INTO mint_attempts (work_id, chain_id, collection, state, media_cid, metadata_cid, "
                    "tx_hash, error, position, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values)
                return replace(attempt, id=cursor.lastrowid)
            cursor = db.execute(
                "UPDATE mint_attempts SET work_id = ?, chain_id = ?, collection = ?, state = ?, media_cid = ?, "
                "metadata_cid = ?, tx_hash = ?, error = ?, position = ?, updated = ? WHERE id = ?",
                (*values, attempt.id))
            if cursor.rowcount != 1:
                raise InputError(f"There is no mint attempt {attempt.id} to update.")
            return attempt

    def attempts(self, *, work_id: int | None = None, chain_id: int | None = None,
                 collection: str | None = None, state: str | None = None,
                 tx_hash: str | None = None) -> list[MintAttempt]:
        """Attempts matching every given filter, oldest first."""
        where, params = _filters(work_id=work_id, chain_id=chain_id, collection=collection, state=state,
                                 tx_hash=tx_hash)
        rows = self._read(f"SELECT * FROM mint_attempts{where} ORDER BY id", params)
        return [_attempt(row) for row in rows]

    def latest_attempt(self, work_id: int, chain_id: int, collection: str) -> MintAttempt | None:
        """The most recent attempt to mint a work into a collection."""
        rows = self._read("SELECT * FROM mint_attempts WHERE work_id = ? AND chain_id = ? AND collection = ? "
                          "ORDER BY id DESC LIMIT 1", (work_id, chain_id, collection))
        return _attempt(rows[0]) if rows else None

    # ---- tokens
    def record_tokens(self, tokens: Sequence[Token], attempts: Sequence[MintAttempt] = ()) -> None:
        """Store tokens (replacing what was known of them) and, in the same transaction, the
        attempts that minted them, so a token is never recorded without its attempt saying so."""
        with self._write() as db:
            for token in tokens:
                db.execute(
                    "INSERT INTO tokens (chain_id, collection, token_id, work_id, metadata_cid, media_cid, tx_hash, "
                    "owner, minted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (chain_id, collection, token_id) DO UPDATE SET "
                    "work_id = COALESCE(excluded.work_id, tokens.work_id), "
                    "metadata_cid = COALESCE(excluded.metadata_cid, tokens.metadata_cid), "
                    "media_cid = COALESCE(excluded.media_cid, tokens.media_cid), "
                    "tx_hash = COALESCE(excluded.tx_hash, tokens.tx_hash), owner = excluded.owner",
                    (token.chain_id, token.collection, token.token_id, token.work_id, token.metadata_cid,
                     token.media_cid, token.tx_hash, token.owner, token.minted_at))
            for attempt in attempts:
                self.record_attempt(attempt)

    def tokens(self, chain_id: int, collection: str | None = None, owner: str | None = None) -> list[Token]:
        """Tokens on a chain, optionally of one collection and/or one owner, by collection and id."""
        where, params = _filters(chain_id=chain_id, collection=collection, owner=owner)
        rows = self._read(f"SELECT * FROM tokens{where} ORDER BY collection, token_id", params)
        return [_token(row) for row in rows]

    def token(self, chain_id: int, collection: str, token_id: int) -> Token | None:
        rows = self._read("SELECT * FROM tokens WHERE chain_id = ? AND collection = ? AND token_id = ?",
                          (chain_id, collection, token_id))
        return _token(rows[0]) if rows else None

    def tokens_of_work(self, work_id: int) -> list[Token]:
        """Every token minted from a work, on any chain."""
        rows = self._read("SELECT * FROM tokens WHERE work_id = ? ORDER BY chain_id, collection, token_id",
                          (work_id,))
        return [_token(row) for row in rows]


def _filters(**given: object) -> tuple[str, list[object]]:
    clauses = [f"{column} = ?" for column, value in given.items() if value is not None]
    params = [value for value in given.values() if value is not None]
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _work(row: sqlite3.Row) -> Work:
    return Work(row["id"], row["path"], row["sha256"], row["pixel_hash"], row["title"], row["prompt"],
                row["model"], row["created"], row["width"], row["height"])


def _collection(row: sqlite3.Row) -> Collection:
    return Collection(row["chain_id"], row["address"], row["name"], row["symbol"], row["owner"],
                      row["royalty_receiver"], row["royalty_bps"], row["description"], row["image_cid"],
                      row["deploy_tx"], row["created"])


def _token(row: sqlite3.Row) -> Token:
    return Token(row["chain_id"], row["collection"], row["token_id"], row["work_id"], row["metadata_cid"],
                 row["media_cid"], row["tx_hash"], row["owner"], row["minted_at"])


def _attempt(row: sqlite3.Row) -> MintAttempt:
    return MintAttempt(row["id"], row["work_id"], row["chain_id"], row["collection"], row["state"],
                       row["media_cid"], row["metadata_cid"], row["tx_hash"], row["error"], row["updated"],
                       row["position"])


def _storage_error(path: Path, exc: sqlite3.Error) -> StorageError:
    text = str(exc)
    if "full" in text.lower():
        return StorageError(f"The disk is full: the library {path} could not be written.",
                            hint="Free some disk space and try again.")
    if "locked" in text.lower() or "busy" in text.lower():
        return StorageError(f"The library {path} is busy in another program.",
                            hint="Close other copies of the studio and try again.")
    return StorageError(f"The library {path} could not be read or written ({text}).",
                        hint="Check the file and its folder; restore it from a backup if it is damaged.")
