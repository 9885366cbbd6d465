"""The collector's numbers from the library: a token's events, a collection's floor and volume, its
holders, the metadata cache behind trait filters, and the Gallery's badges of a work (real SQLite)."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Iterator

import pytest

from studio.library.activity import (MarketStats, cached_traits, holder_count, market_stats, remember_metadata,
                                     token_events)
from studio.library.db import UNSAVED, Library, Token, Work

ADDRESS = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
ARTIST = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


@pytest.fixture
def library(tmp_path: Path) -> Iterator[Library]:
    lib = Library(tmp_path / "library.db")
    yield lib
    lib.close()


def test_a_library_that_never_saw_a_market_has_no_events_no_sales_and_no_holders(library: Library) -> None:
    assert token_events(library, 1337, ADDRESS, 1) == []
    assert market_stats(library, 1337, ADDRESS) == MarketStats(None, 0, 0, 0)
    assert holder_count(library, 1337, ADDRESS) == 0


def test_metadata_read_once_is_kept_updated_and_a_damaged_entry_has_no_traits(library: Library) -> None:
    remember_metadata(library, 1337, ADDRESS, [(1, "Dawn", [("Mood", "calm")]), (2, "Dusk", [("Mood", "stormy")])])
    remember_metadata(library, 1337, ADDRESS.lower(), [(2, "Dusk", [("Mood", "calm"), ("Set", "b")])])  # read again
    assert cached_traits(library, 1337, ADDRESS) == {1: (("Mood", "calm"),), 2: (("Mood", "calm"), ("Set", "b"))}
    assert cached_traits(library, 1, ADDRESS) == {}  # another chain
    with library.connect() as db:
        db.execute("UPDATE token_metadata SET traits_json = '{broken' WHERE token_key LIKE '%1'")
    assert cached_traits(library, 1337, ADDRESS)[1] == ()


def _work(library: Library, name: str, manifest_json: str | None) -> Work:
    return library.add_work(Work(UNSAVED, f"/tmp/{name}.png", name.encode().hex().ljust(64, "0"), None, name, "", "",
                                 time.time(), 16, 16), manifest_json=manifest_json)


def test_gallery_badges_say_signed_only_for_a_signature_and_minted_for_a_recorded_token(library: Library) -> None:
    signed = _work(library, "signed", json.dumps({"manifest": {}, "signature": "0x" + "ab" * 65}))
    unsigned = _work(library, "unsigned", json.dumps({"manifest": {}, "signature": None}))
    damaged = _work(library, "damaged", "{not json")
    bare = _work(library, "bare", None)
    library.record_tokens([Token(1337, ADDRESS, 7, unsigned.id, None, None, None, ARTIST, time.time())])
    rows = {row.title: (row.signed, row.minted, row.listed)
            for row in library.work_rows_by_id([w.id for w in (signed, unsigned, damaged, bare)]) if row}
    assert rows == {"signed": (True, False, False), "unsigned": (False, True, False),
                    "damaged": (False, False, False), "bare": (False, False, False)}
