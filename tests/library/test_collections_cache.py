"""The collector's cache of opened collections: holders and read positions, all or nothing."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from studio.errors import NotFound
from studio.library.collections_cache import CollectionsCache

CHAIN, ADDRESS = 31337, "0x" + "ab" * 20
ALICE, BOB = "0x" + "11" * 20, "0x" + "22" * 20


@dataclass(frozen=True)
class Transfer:
    block_number: int
    log_index: int
    token_id: int
    to: str


def test_transfers_leave_the_last_holder_and_move_the_read_position(library) -> None:
    cache = CollectionsCache(library)
    cache.remember(CHAIN, ADDRESS, "Dawns", "DAWN", ["ERC721"])
    applied = cache.apply_transfers(CHAIN, ADDRESS, [Transfer(5, 1, 1, BOB), Transfer(4, 0, 1, ALICE)],
                                    last_block=5, last_hash="0x05")
    assert applied == 2
    assert [(t.token_id, t.owner) for t in cache.tokens(CHAIN, ADDRESS)] == [(1, BOB)]
    assert cache.collection(CHAIN, ADDRESS).last_block == 5


def test_transfers_of_a_collection_forgotten_meanwhile_are_refused_and_nothing_is_kept(library) -> None:
    """A sync that ends after the user closed the collection: a NotFound, not a NameError."""
    cache = CollectionsCache(library)
    cache.remember(CHAIN, ADDRESS, "Dawns", "DAWN", ["ERC721"])
    cache.forget(CHAIN, ADDRESS)
    with pytest.raises(NotFound, match="not opened"):
        cache.apply_transfers(CHAIN, ADDRESS, [Transfer(4, 0, 1, ALICE)], last_block=4, last_hash="0x04")
    assert cache.token_count(CHAIN, ADDRESS) == 0
