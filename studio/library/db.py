"""The library: one SQLite file of the works an artist made, their collections, tokens and mints.

``<data>/library.db`` in WAL mode with foreign keys on. The schema grows by named migrations,
applied in order once each and remembered in ``schema_migrations``; other modules (the market's
listings, offers and sync cursor) add their tables with :meth:`Library.migrate` or
:func:`register_migration` without touching this file. One connection serves all threads behind a
re-entrant lock, so GUI workers, the CLI and tests may share a :class:`Library`.

Addresses are compared without regard to case (``COLLATE NOCASE``) and returned as stored;
token ids are SQLite integers (the studio's collections number tokens from 0 upwards).

For the Gallery, works also carry tags, a favourite flag, a trash time, the embedded manifest JSON,
and are searched through an FTS5 index over title, prompt and tags (kept by triggers). Works are
listed in pages (:meth:`Library.work_rows`) filtered and sorted by a :class:`WorkQuery`.
"""
from __future__ import annotations

import logging
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ContextManager, Iterator, Sequence

from studio.errors import InputError, NotFound, StorageError

log = logging.getLogger(__name__)

UPLOADED, SENT, MINTED, FAILED = "uploaded", "sent", "minted", "failed"
UNSAVED = 0  # the id of a Work the library has not stored yet
ATTEMPT_STATES = (UPLOADED, SENT, MINTED, FAILED)


@dataclass(frozen=True)
class Work:
    """An image file the studio knows, identified by the SHA-256 of its bytes.

    ``id`` is the library's row id; a work not stored yet carries ``UNSAVED`` (0: SQLite row ids
    start at 1), and ``Library.add_work`` returns it with its id."""

    id: int
    path: str
    sha256: str
    pixel_hash: str | None
    title: str
    prompt: str
    model: str
    created: float
    width: int
    height: int
    seed: int | None = None
    source: str = ""                 # "studio", "a1111", "comfyui", "invokeai" or "" (no recipe)
    tags: tuple[str, ...] = ()
    favourite: bool = False
    trashed_at: float | None = None  # None: not in the trash
    owned: bool = False              # the file is the studio's own (its save or the library's copy)

    @property
    def in_trash(self) -> bool:
        return self.trashed_at is not None


@dataclass(frozen=True, slots=True)
class WorkRow:
    """What the Gallery's grid keeps of one work: enough to caption it, find its thumbnail and badge it
    (signed by its creator, minted as a token, listed for sale now)."""

    id: int
    sha256: str
    title: str
    path: str
    favourite: bool
    signed: bool = False
    minted: bool = False
    listed: bool = False


SORTS = ("newest", "oldest", "title")
_ORDER = {"newest": "works.created DESC, works.id DESC", "oldest": "works.created ASC, works.id ASC",
          "title": "works.title COLLATE NOCASE ASC, works.id ASC"}
STATUSES = ("any", "minted", "listed", "not-minted")


@dataclass(frozen=True)
class WorkQuery:
    """Which works the Gallery shows: search text, filters and sort (the defaults show everything
    outside the trash, newest first)."""

    text: str = ""
    model: str | None = None
    collection: str | None = None        # a collection address, on any chain
    status: str = "any"                   # one of STATUSES
    favourites: bool = False
    created_from: float | None = None     # UNIX time, inclusive
    created_to: float | None = None       # UNIX time, exclusive
    trash: bool = False                   # True: only the trash; False: only works outside it
    sort: str = "newest"                  # one of SORTS

    def __post_init__(self) -> None:
        if self.sort not in SORTS:
            raise InputError(f"{self.sort!r} is not a way to sort works; use one of {', '.join(SORTS)}.")
        if self.status not in STATUSES:
            raise InputError(f"{self.status!r} is not a work status; use one of {', '.join(STATUSES)}.")


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
    Migration("core-2-works-gallery-fields", (
        "ALTER TABLE works ADD COLUMN seed INTEGER",
        "ALTER TABLE works ADD COLUMN source TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE works ADD COLUMN tags TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE works ADD COLUMN favourite INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE works ADD COLUMN trashed_at REAL",
        "ALTER TABLE works ADD COLUMN owned INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE works ADD COLUMN manifest_json TEXT",
        "CREATE INDEX works_by_created ON works (created, id)",
        "CREATE INDEX works_by_title ON works (title COLLATE NOCASE, id)",
        "CREATE INDEX works_by_model ON works (model)",
        "CREATE INDEX works_by_trash ON works (trashed_at)",
    )),
)

#: The full-text index over title, prompt and tags; skipped (search falls back to LIKE) when this
#: SQLite has no FTS5. External content: the words live in ``works``, triggers keep the index.
FTS_MIGRATION = Migration("core-3-works-fts5", (
    "CREATE VIRTUAL TABLE works_fts USING fts5(title, prompt, tags, content='works', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER works_fts_insert AFTER INSERT ON works BEGIN "
    "INSERT INTO works_fts (rowid, title, prompt, tags) VALUES (new.id, new.title, new.prompt, new.tags); END",
    "CREATE TRIGGER works_fts_delete AFTER DELETE ON works BEGIN "
    "INSERT INTO works_fts (works_fts, rowid, title, prompt, tags) "
    "VALUES ('delete', old.id, old.title, old.prompt, old.tags); END",
    "CREATE TRIGGER works_fts_update AFTER UPDATE OF title, prompt, tags ON works BEGIN "
    "INSERT INTO works_fts (works_fts, rowid, title, prompt, tags) "
    "VALUES ('delete', old.id, old.title, old.prompt, old.tags); "
    "INSERT INTO works_fts (rowid, title, prompt, tags) VALUES (new.id, new.title, new.prompt, new.tags); END",
    "INSERT INTO works_fts (works_fts) VALUES ('rebuild')",
))

MAX_TAGS = 32
MAX_TAG_LENGTH = 64


def normalize_tags(tags: str | Sequence[str]) -> tuple[str, ...]:
    """Tags as the library keeps them: comma-separated text or a list, trimmed, single-spaced,
    without empties or case-insensitive repeats; at most ``MAX_TAGS`` of ``MAX_TAG_LENGTH`` characters."""
    items = tags.split(",") if isinstance(tags, str) else [str(tag) for tag in tags]
    seen: set[str] = set()
    kept: list[str] = []
    for item in items:
        tag = " ".join(item.replace(",", " ").split())
        if not tag or tag.casefold() in seen:
            continue
        if len(tag) > MAX_TAG_LENGTH:
            raise InputError(f"The tag {tag[:30]!r}… is {len(tag)} characters; at most {MAX_TAG_LENGTH} are allowed.")
        seen.add(tag.casefold())
        kept.append(tag)
    if len(kept) > MAX_TAGS:
        raise InputError(f"A work can have at most {MAX_TAGS} tags; {len(kept)} were given.")
    return tuple(kept)


def fts5_available(conn: sqlite3.Connection) -> bool:
    """Whether this SQLite was built with FTS5 (Python's usually is)."""
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.fts5_probe USING fts5(x)")
        conn.execute("DROP TABLE temp.fts5_probe")
        return True
    except sqlite3.OperationalError:
        return False


def fts_query(text: str) -> str:
    """A user's search words as an FTS5 query: every word must match as a prefix, and the words
    are quoted, so that FTS5 syntax typed by accident (quotes, AND, -, *) is searched, not parsed."""
    words = [word for word in text.split() if any(char.isalnum() for char in word)]
    return " ".join('"' + word.replace('"', '""') + '"*' for word in words)

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
            raise library_storage_error(self.path, exc) from exc
        for migration in _CORE_MIGRATIONS:
            self.migrate(migration.name, migration.statements)
        with self._lock:
            self.has_fts = fts5_available(self._conn)
        if self.has_fts:
            self.migrate(FTS_MIGRATION.name, FTS_MIGRATION.statements)
        else:
            log.info("This SQLite (%s) has no FTS5: the library searches with LIKE, which is slower.",
                     sqlite3.sqlite_version)
        self.has_fts = FTS_MIGRATION.name in self.migrations()
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
                raise library_storage_error(self.path, exc) from exc
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
                    raise library_storage_error(self.path, exc) from exc

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        try:
            with self.connect() as db:
                yield db
        except sqlite3.Error as exc:
            raise library_storage_error(self.path, exc) from exc

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._conn.execute(sql, tuple(params)).fetchall()
            except sqlite3.Error as exc:
                raise library_storage_error(self.path, exc) from exc

    def version(self) -> tuple[int, int]:
        """Changes since the file was opened: SQLite's data_version (writes by other connections: a
        generation job's, the CLI's) and this connection's total changes (writes through this
        Library by another part of the app, e.g. a market sync recording tokens). Equal values
        mean nothing was written meanwhile."""
        with self._lock:
            try:
                return int(self._conn.execute("PRAGMA data_version").fetchone()[0]), self._conn.total_changes
            except sqlite3.Error as exc:
                raise library_storage_error(self.path, exc) from exc

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
    def add_work(self, work: Work, *, manifest_json: str | None = None) -> Work:
        """Remember a work; a file already known by its SHA-256 returns the stored work.

        ``manifest_json``: the signed provenance manifest embedded in the file, kept for the
        detail pane and for search-free checks without reading the file again."""
        work = replace(work, sha256=work.sha256.lower(), tags=normalize_tags(work.tags))
        with self._write() as db:
            row = db.execute("SELECT * FROM works WHERE sha256 = ?", (work.sha256,)).fetchone()
            if row is not None:
                return _work(row)
            cursor = db.execute(
                "INSERT INTO works (path, sha256, pixel_hash, title, prompt, model, created, width, height, "
                "seed, source, tags, favourite, trashed_at, owned, manifest_json) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (work.path, work.sha256, work.pixel_hash, work.title, work.prompt, work.model,
                 work.created, work.width, work.height, work.seed, work.source, _tags_text(work.tags),
                 int(work.favourite), work.trashed_at, int(work.owned), manifest_json))
            return replace(work, id=int(cursor.lastrowid or 0))

    def add_works(self, works: Sequence[tuple[Work, str | None]]) -> list[Work]:
        """Add many ``(work, manifest_json)`` pairs in one transaction (an import, a benchmark)."""
        with self._write():
            return [self.add_work(work, manifest_json=manifest) for work, manifest in works]

    def work_manifest(self, work_id: int) -> str | None:
        """The signed manifest JSON recorded with the work, if it carried one."""
        rows = self._read("SELECT manifest_json FROM works WHERE id = ?", (work_id,))
        return rows[0]["manifest_json"] if rows else None

    def update_work(self, work_id: int, *, title: str | None = None, tags: str | Sequence[str] | None = None,
                    favourite: bool | None = None) -> Work:
        """Change what the user may edit of a work: its title, tags or favourite flag."""
        changes: dict[str, object] = {}
        if title is not None:
            changes["title"] = " ".join(title.split())
        if tags is not None:
            changes["tags"] = _tags_text(normalize_tags(tags))
        if favourite is not None:
            changes["favourite"] = int(bool(favourite))
        with self._write() as db:
            if changes:
                db.execute(f"UPDATE works SET {', '.join(f'{name} = ?' for name in changes)} WHERE id = ?",
                           (*changes.values(), work_id))
            row = db.execute("SELECT * FROM works WHERE id = ?", (work_id,)).fetchone()
            if row is None:
                raise NotFound(f"There is no work {work_id} in the library.",
                               hint="It may have been removed when the trash was emptied.")
            return _work(row)

    # ---- trash
    def trash_works(self, work_ids: Sequence[int], *, now: float | None = None) -> int:
        """Move works to the trash (nothing is deleted). Minted works are refused: their tokens
        keep pointing at them. Returns how many moved."""
        ids = list(dict.fromkeys(work_ids))
        if not ids:
            return 0
        marks = ", ".join("?" * len(ids))
        with self._write() as db:
            minted = db.execute(
                f"SELECT w.title, w.id FROM works w WHERE w.id IN ({marks}) AND (EXISTS "
                f"(SELECT 1 FROM tokens t WHERE t.work_id = w.id) OR EXISTS (SELECT 1 FROM mint_attempts a "
                f"WHERE a.work_id = w.id AND a.state != 'failed'))", ids).fetchall()
            if minted:
                names = ", ".join(row["title"] or f"work {row['id']}" for row in minted[:3])
                raise InputError(f"{names} {'is' if len(minted) == 1 else 'are'} minted or being minted, "
                                 "so it stays in the library.",
                                 hint="A token keeps its work; hide it with a tag or filter instead.")
            cursor = db.execute(f"UPDATE works SET trashed_at = ? WHERE id IN ({marks}) AND trashed_at IS NULL",
                                (time.time() if now is None else now, *ids))
            return cursor.rowcount

    def restore_works(self, work_ids: Sequence[int]) -> int:
        """Take works out of the trash. Returns how many came back."""
        ids = list(dict.fromkeys(work_ids))
        if not ids:
            return 0
        with self._write() as db:
            cursor = db.execute(f"UPDATE works SET trashed_at = NULL WHERE id IN ({', '.join('?' * len(ids))}) "
                                "AND trashed_at IS NOT NULL", ids)
            return cursor.rowcount

    def purge_trash(self) -> list[Work]:
        """Delete every work in the trash from the database and return them, so that the caller
        removes the files the library owns (see ``studio.workflows.library.empty_trash``)."""
        with self._write() as db:
            rows = db.execute("SELECT * FROM works WHERE trashed_at IS NOT NULL ORDER BY id").fetchall()
            db.execute("DELETE FROM works WHERE trashed_at IS NOT NULL")
            return [_work(row) for row in rows]

    # ---- gallery queries
    def count_works(self, query: WorkQuery = WorkQuery()) -> int:  # noqa: B008 - frozen, so safe
        """How many works match ``query`` (the Gallery's row count)."""
        where, params, join = self._where(query)
        return int(self._read(f"SELECT COUNT(*) FROM works{join}{where}", params)[0][0])

    def work_rows(self, query: WorkQuery = WorkQuery(), offset: int = 0,  # noqa: B008
                  limit: int = 256) -> list[WorkRow]:
        """One page of matching works, in the query's order: only what a grid cell needs."""
        where, params, join = self._where(query)
        rows = self._read(f"SELECT works.id, works.sha256, works.title, works.path, works.favourite "
                          f"FROM works{join}{where} ORDER BY {_ORDER[query.sort]} LIMIT ? OFFSET ?",
                          (*params, int(limit), int(offset)))
        return [WorkRow(row[0], row[1], row[2], row[3], bool(row[4])) for row in rows]

    def work_ids(self, query: WorkQuery = WorkQuery()) -> list[int]:  # noqa: B008
        """The ids of every matching work, in the query's order. A grid keeps these and fetches its
        rows by id (:meth:`work_rows_by_id`): a page deep in a big library then costs as little as
        the first, where ``OFFSET`` would step over every row before it."""
        where, params, join = self._where(query)
        with self._lock:
            try:
                cursor = self._conn.execute(
                    f"SELECT works.id FROM works{join}{where} ORDER BY {_ORDER[query.sort]}", tuple(params))
                cursor.row_factory = None  # plain tuples: a fraction of the cost of sqlite3.Row
                return [row[0] for row in cursor.fetchall()]
            except sqlite3.Error as exc:
                raise library_storage_error(self.path, exc) from exc

    def work_rows_by_id(self, work_ids: Sequence[int]) -> list[WorkRow | None]:
        """The grid rows of these works, in the order given; None where a work is gone since its id
        was read (deleted from the trash meanwhile)."""
        found: dict[int, WorkRow] = {}
        ids = [int(work_id) for work_id in work_ids]
        badges = self._badge_columns()
        for start in range(0, len(ids), 500):  # well under SQLite's limit on bound parameters
            chunk = ids[start:start + 500]
            rows = self._read(f"SELECT id, sha256, title, path, favourite, {badges} FROM works WHERE id IN "
                              f"({','.join('?' * len(chunk))})", chunk)
            found.update((row[0], WorkRow(row[0], row[1], row[2], row[3], bool(row[4]), bool(row[5]), bool(row[6]),
                                          bool(row[7]))) for row in rows)
        return [found.get(work_id) for work_id in ids]

    def _badge_columns(self) -> str:
        """SQL for a work's badges: signed (its manifest carries a signature), minted (a token of it),
        listed (on the studio marketplace, as a lazy listing, or in a Seaport listing, now)."""
        # CASE, not AND: SQLite may evaluate json_extract on a damaged manifest, which fails the whole read
        signed = ("CASE WHEN json_valid(works.manifest_json) "
                  "THEN json_extract(works.manifest_json, '$.signature') IS NOT NULL ELSE 0 END")
        minted = "EXISTS (SELECT 1 FROM tokens t WHERE t.work_id = works.id)"
        listed = []
        if self.has_table("market_listings"):
            listed.append("EXISTS (SELECT 1 FROM tokens t JOIN market_listings l ON l.chain_id = t.chain_id AND "
                          "l.collection = t.collection AND l.token_id = CAST(t.token_id AS TEXT) "
                          "WHERE t.work_id = works.id AND l.status = 'active')")
        if self.has_table("market_vouchers") and "work_id" in self._columns("market_vouchers"):
            listed.append("EXISTS (SELECT 1 FROM market_vouchers v WHERE v.work_id = works.id AND v.status = 'active' "
                          "AND v.expiry > CAST(strftime('%s', 'now') AS INTEGER))")
        if self.has_table("seaport_orders"):
            listed.append("EXISTS (SELECT 1 FROM tokens t JOIN seaport_orders o ON o.chain_id = t.chain_id AND "
                          "o.collection = t.collection AND o.token_id = CAST(t.token_id AS TEXT) WHERE "
                          "t.work_id = works.id AND o.kind = 'listing' AND o.status = 'active' "
                          "AND o.end_time > CAST(strftime('%s', 'now') AS INTEGER))")
        return f"{signed}, {minted}, {' OR '.join(listed) or '0'}"

    def _columns(self, table: str) -> set[str]:
        return {row[1] for row in self._read(f"PRAGMA table_info({table})")}

    def models_in_use(self) -> list[str]:
        """The model names works were made with (the Gallery's model filter), alphabetically."""
        rows = self._read("SELECT DISTINCT model FROM works WHERE model != '' ORDER BY model COLLATE NOCASE")
        return [row[0] for row in rows]

    def all_collections(self) -> list[Collection]:
        """Every remembered collection on every chain (the Gallery's collection filter)."""
        return [_collection(row) for row in self._read("SELECT * FROM collections ORDER BY name, chain_id")]

    def has_table(self, name: str) -> bool:
        """Whether a table exists (another module's migration may not have run yet)."""
        return bool(self._read("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)))

    def _where(self, query: WorkQuery) -> tuple[str, list[object], str]:
        clauses = ["works.trashed_at IS NOT NULL" if query.trash else "works.trashed_at IS NULL"]
        params: list[object] = []
        join = ""
        text = query.text.strip()
        if text and self.has_fts and fts_query(text):
            join = " JOIN works_fts ON works_fts.rowid = works.id"
            clauses.append("works_fts MATCH ?")
            params.append(fts_query(text))
        elif text and not self.has_fts:
            for word in text.split():
                pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
                clauses.append("(works.title LIKE ? ESCAPE '\\' OR works.prompt LIKE ? ESCAPE '\\' "
                               "OR works.tags LIKE ? ESCAPE '\\')")
                params += [pattern, pattern, pattern]
        if query.model:
            clauses.append("works.model = ?")
            params.append(query.model)
        if query.collection:
            clauses.append("EXISTS (SELECT 1 FROM tokens t WHERE t.work_id = works.id AND t.collection = ?)")
            params.append(query.collection)
        if query.status == "minted":
            clauses.append("EXISTS (SELECT 1 FROM tokens t WHERE t.work_id = works.id)")
        elif query.status == "not-minted":
            clauses.append("NOT EXISTS (SELECT 1 FROM tokens t WHERE t.work_id = works.id)")
        elif query.status == "listed":
            from studio.library.market import listed_work_clause  # the market's tables are its own

            clauses.append(listed_work_clause(self))
        if query.favourites:
            clauses.append("works.favourite = 1")
        if query.created_from is not None:
            clauses.append("works.created >= ?")
            params.append(float(query.created_from))
        if query.created_to is not None:
            clauses.append("works.created < ?")
            params.append(float(query.created_to))
        return " WHERE " + " AND ".join(clauses), params, join

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


class LibraryTables:
    """Tables another module keeps in the library file (the market's, the order book's, the
    collector's): made on first use by that module's migrations, read and written in the
    library's transactions, SQLite's failures said as the library's :class:`StorageError`."""

    def __init__(self, library: Library, *migrations: tuple[str, Sequence[str]]) -> None:
        self.library = library
        for name, statements in migrations:
            library.migrate(name, statements)

    def _tx(self) -> ContextManager[sqlite3.Connection]:
        """One transaction: committed when the block ends, rolled back when it raises."""
        return self.library._write()

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._tx() as db:
            return db.execute(sql, tuple(params)).fetchall()


def _filters(**given: object) -> tuple[str, list[object]]:
    clauses = [f"{column} = ?" for column, value in given.items() if value is not None]
    params = [value for value in given.values() if value is not None]
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _tags_text(tags: Sequence[str]) -> str:
    return ", ".join(tags)


def _work(row: sqlite3.Row) -> Work:
    return Work(row["id"], row["path"], row["sha256"], row["pixel_hash"], row["title"], row["prompt"],
                row["model"], row["created"], row["width"], row["height"], row["seed"], row["source"],
                tuple(tag for tag in row["tags"].split(", ") if tag), bool(row["favourite"]), row["trashed_at"],
                bool(row["owned"]))


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


def library_storage_error(path: Path, exc: sqlite3.Error) -> StorageError:
    """The StorageError people read for an SQLite failure on the library file ``path`` (disk full,
    busy in another program, damaged), for every module that writes the library."""
    text = str(exc)
    if "full" in text.lower():
        return StorageError(f"The disk is full: the library {path} could not be written.",
                            hint="Free some disk space and try again.")
    if "locked" in text.lower() or "busy" in text.lower():
        return StorageError(f"The library {path} is busy in another program.",
                            hint="Close other copies of the studio and try again.")
    return StorageError(f"The library {path} could not be read or written ({text}).",
                        hint="Check the file and its folder; restore it from a backup if it is damaged.")
