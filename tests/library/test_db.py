"""The library database: works, collections, tokens, mint attempts, migrations and threads."""
from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from studio.errors import InputError, StorageError
from studio.library import db as library_db
from studio.library.db import Collection, Library, MintAttempt, Token, Work, register_migration

ADDRESS = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
ARTIST = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def _work(sha: str = "ab" * 32, **changes: object) -> Work:
    base = Work(0, "/tmp/w.png", sha, None, "Dawn", "a sunrise", "demo", time.time(), 64, 64)
    return replace(base, **changes)


def _collection(**changes: object) -> Collection:
    base = Collection(1337, ADDRESS, "Dawns", "DAWN", ARTIST, ARTIST, 500, "Sunrises", None, "0xdeploy",
                      time.time())
    return replace(base, **changes)


@pytest.fixture
def library(tmp_path: Path) -> Library:
    lib = Library(tmp_path / "library.db")
    yield lib
    lib.close()


def test_default_library_lives_in_the_studio_home_data_folder(studio_home: Path) -> None:
    with Library.default() as lib:
        assert lib.path == studio_home / "data" / "library.db"
        assert lib.path.exists()


def test_new_file_is_wal_with_foreign_keys_and_the_core_migration(library: Library) -> None:
    with library.connect() as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert library.migrations() == ["core-1-works-collections-tokens-attempts", "core-2-works-gallery-fields",
                                    "core-3-works-fts5"]


def test_adding_a_known_file_returns_the_stored_work(library: Library) -> None:
    first = library.add_work(_work())
    again = library.add_work(_work(title="Another title"))
    assert first.id is not None and again == first
    assert library.work_by_sha256("AB" * 32) == first
    assert library.work(first.id) == first
    assert library.works() == [first]
    assert library.work_by_sha256("cd" * 32) is None


def test_works_are_listed_newest_first(library: Library) -> None:
    old = library.add_work(_work("01" * 32, created=100.0))
    new = library.add_work(_work("02" * 32, created=200.0))
    assert library.works() == [new, old]


def test_collections_are_kept_per_chain_and_found_regardless_of_address_case(library: Library) -> None:
    stored = library.upsert_collection(_collection())
    library.upsert_collection(_collection(chain_id=31337, name="Elsewhere"))
    assert library.collections(1337) == [stored]
    assert library.collection(1337, ADDRESS.lower()) == stored
    assert [c.name for c in library.collections(31337)] == ["Elsewhere"]
    assert library.collection(1, ADDRESS) is None


def test_upserting_a_collection_updates_it_and_keeps_known_cid_and_deploy_tx(library: Library) -> None:
    library.upsert_collection(_collection(image_cid="bafyimage"))
    updated = library.upsert_collection(_collection(name="Renamed", image_cid=None, deploy_tx=None,
                                                    royalty_bps=250))
    assert (updated.name, updated.royalty_bps, updated.image_cid, updated.deploy_tx) == \
        ("Renamed", 250, "bafyimage", "0xdeploy")
    assert len(library.collections(1337)) == 1


def test_attempts_move_through_states_and_the_latest_one_wins(library: Library) -> None:
    work = library.add_work(_work())
    attempt = library.record_attempt(MintAttempt(None, work.id, 1337, ADDRESS, "uploaded", "bafymedia",
                                                 "bafymeta", None, None, 0.0))
    assert attempt.id is not None and attempt.updated > 0
    sent = library.record_attempt(replace(attempt, state="sent", tx_hash="0xabc"))
    assert library.attempts(work_id=work.id) == [sent]
    assert library.attempts(tx_hash="0xabc") == [sent]
    assert library.attempts(state="uploaded") == []
    second = library.record_attempt(MintAttempt(None, work.id, 1337, ADDRESS.lower(), "failed", None, None, None,
                                                "reverted", 0.0))
    assert library.latest_attempt(work.id, 1337, ADDRESS) == second
    assert library.latest_attempt(work.id, 1, ADDRESS) is None


def test_an_unknown_attempt_state_is_refused(library: Library) -> None:
    work = library.add_work(_work())
    with pytest.raises(InputError, match="not a mint state"):
        library.record_attempt(MintAttempt(None, work.id, 1337, ADDRESS, "half-done", None, None, None, None, 0.0))


def test_an_attempt_for_an_unknown_work_is_refused_by_the_foreign_key(library: Library) -> None:
    with pytest.raises(StorageError, match="could not be read or written"):
        library.record_attempt(MintAttempt(None, 999, 1337, ADDRESS, "uploaded", None, None, None, None, 0.0))


def test_tokens_are_recorded_with_their_attempts_and_filtered(library: Library) -> None:
    work = library.add_work(_work())
    attempt = library.record_attempt(MintAttempt(None, work.id, 1337, ADDRESS, "sent", "m", "d", "0xabc", None, 0.0))
    minted = [Token(1337, ADDRESS, 0, work.id, "d", "m", "0xabc", ARTIST, time.time()),
              Token(1337, ADDRESS, 1, None, None, None, "0xabc", "0x" + "11" * 20, time.time())]
    library.record_tokens(minted, [replace(attempt, state="minted")])
    assert library.attempts(work_id=work.id)[0].state == "minted"
    assert library.tokens(1337) == minted
    assert library.tokens(1337, collection=ADDRESS.lower(), owner=ARTIST.lower()) == [minted[0]]
    assert library.token(1337, ADDRESS, 1) == minted[1]
    assert library.token(1337, ADDRESS, 2) is None
    assert library.tokens_of_work(work.id) == [minted[0]]


def test_recording_a_token_again_updates_owner_but_keeps_what_is_known(library: Library) -> None:
    work = library.add_work(_work())
    library.record_tokens([Token(1337, ADDRESS, 0, work.id, "d", "m", "0xabc", ARTIST, 1.0)])
    buyer = "0x" + "22" * 20
    library.record_tokens([Token(1337, ADDRESS, 0, None, None, None, None, buyer, 2.0)])
    assert library.token(1337, ADDRESS, 0) == Token(1337, ADDRESS, 0, work.id, "d", "m", "0xabc", buyer, 1.0)


def test_a_failing_attempt_update_rolls_back_the_tokens_of_the_same_call(library: Library) -> None:
    work = library.add_work(_work())
    ghost = MintAttempt(12345, work.id, 1337, ADDRESS, "minted", None, None, None, None, 0.0)
    with pytest.raises(InputError, match="no mint attempt"):
        library.record_tokens([Token(1337, ADDRESS, 0, work.id, "d", "m", "0x1", ARTIST, 1.0)], [ghost])
    assert library.tokens(1337) == []


def test_connect_commits_a_block_and_rolls_back_a_failed_one(library: Library) -> None:
    with library.connect() as db:
        db.execute("CREATE TABLE notes (text TEXT)")
        db.execute("INSERT INTO notes VALUES ('kept')")
    with pytest.raises(RuntimeError):
        with library.connect() as db:
            db.execute("INSERT INTO notes VALUES ('dropped')")
            raise RuntimeError("boom")
    with library.connect() as db:
        assert [r[0] for r in db.execute("SELECT text FROM notes")] == ["kept"]


def test_nested_blocks_roll_back_only_the_inner_part(library: Library) -> None:
    with library.connect() as db:
        db.execute("CREATE TABLE notes (text TEXT)")
    with library.connect() as outer:
        outer.execute("INSERT INTO notes VALUES ('outer')")
        with pytest.raises(ValueError):
            with library.connect() as inner:
                inner.execute("INSERT INTO notes VALUES ('inner')")
                raise ValueError
    with library.connect() as db:
        assert [r[0] for r in db.execute("SELECT text FROM notes")] == ["outer"]


def test_a_migration_runs_once_and_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "library.db"
    statements = ["CREATE TABLE listings (id INTEGER PRIMARY KEY, price TEXT)"]
    with Library(path) as lib:
        assert lib.migrate("market-1-listings", statements) is True
        assert lib.migrate("market-1-listings", statements) is False
    with Library(path) as lib:
        assert lib.migrations()[-1] == "market-1-listings"
        assert lib.migrate("market-1-listings", statements) is False


def test_a_failing_migration_leaves_no_trace(library: Library) -> None:
    with pytest.raises(StorageError):
        library.migrate("broken", ["CREATE TABLE half (x)", "THIS IS NOT SQL"])
    assert "broken" not in library.migrations()
    with library.connect() as db:
        assert db.execute("SELECT name FROM sqlite_master WHERE name = 'half'").fetchone() is None


def test_registered_migrations_apply_to_libraries_opened_later(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(library_db, "_registered", [])
    register_migration("test-1-offers", ["CREATE TABLE offers (id INTEGER PRIMARY KEY)"])
    register_migration("test-1-offers", ["CREATE TABLE offers (id INTEGER PRIMARY KEY)"])
    register_migration("test-2-cursor", ["CREATE TABLE cursor (block INTEGER)"])
    with Library(tmp_path / "library.db") as lib:
        assert lib.migrations()[-2:] == ["test-1-offers", "test-2-cursor"]


def test_threads_share_one_library_without_losing_writes(library: Library) -> None:
    errors: list[BaseException] = []

    def add(start: int) -> None:
        try:
            for n in range(start, start + 25):
                library.add_work(_work(f"{n:064x}"))
                library.works()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(i * 100,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(library.works()) == 100


def test_a_second_process_style_connection_sees_committed_rows(library: Library) -> None:
    library.add_work(_work())
    with sqlite3.connect(library.path) as other:
        assert other.execute("SELECT COUNT(*) FROM works").fetchone()[0] == 1


def test_an_unreadable_library_file_is_a_storage_error(tmp_path: Path) -> None:
    path = tmp_path / "library.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageError, match="library"):
        Library(path)
