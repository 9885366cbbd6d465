"""OrderStore on a real SQLite library file: the devnet's Seaport order book."""
from __future__ import annotations

import json

import pytest

from studio.errors import InputError, NotFound
from studio.library.db import Library
from studio.library.orders import (ACTIVE, CANCELLED, COLLECTION_OFFER, FILLED, LISTING, MIGRATION, OFFER,
                                   UNFILLABLE, OrderRow, OrderStore)

CHAIN, SEAPORT = 1337, "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"
COLL, WETH = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512", "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9"
ARTIST, BIDDER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
ZERO = "0x" + "00" * 20
NOW = 1_800_000_000


def _row(number: int, kind: str = LISTING, *, price: int = 100, token: int | None = 1, offerer: str = ARTIST,
         end: int = NOW + 3600, counter: int = 0) -> OrderRow:
    return OrderRow(CHAIN, SEAPORT, f"0x{number:064x}", kind, offerer, COLL, token, price,
                    ZERO if kind == LISTING else WETH, NOW - 60, end, counter,
                    json.dumps({"parameters": {"salt": str(number)}, "signature": "0x" + "11" * 65}))


@pytest.fixture
def store(tmp_path):
    with Library(tmp_path / "library.db") as library:
        yield OrderStore(library)


def test_orders_are_kept_per_chain_and_read_back_as_signed(store, tmp_path):
    kept = store.add(_row(1))
    assert kept.status == ACTIVE and kept.created > 0
    assert json.loads(kept.order_json)["signature"] == "0x" + "11" * 65
    assert store.add(_row(1, price=999)).price_wei == 100  # the same order again changes nothing
    assert store.orders(CHAIN, now=NOW) == [kept]
    assert store.orders(CHAIN + 1, now=NOW) == []
    store.library.close()
    with Library(tmp_path / "library.db") as reopened:
        assert MIGRATION[0] in reopened.migrations()
        assert OrderStore(reopened).get(CHAIN, SEAPORT, kept.order_hash.upper().replace("0X", "0x")) == kept


def test_listings_come_cheapest_first_offers_highest_first_and_collection_offers_match_every_token(store):
    store.add(_row(1, price=300))
    store.add(_row(2, price=100, token=2))
    store.add(_row(3, OFFER, price=50, offerer=BIDDER))
    store.add(_row(4, COLLECTION_OFFER, price=70, token=None, offerer=BIDDER))
    assert [o.price_wei for o in store.orders(CHAIN, kind=LISTING, now=NOW)] == [100, 300]
    token_one = store.orders(CHAIN, collection=COLL, token_id=1, now=NOW)
    assert [(o.kind, o.price_wei) for o in token_one] == [(LISTING, 300), (COLLECTION_OFFER, 70), (OFFER, 50)]
    assert [o.kind for o in store.orders(CHAIN, token_id=2, now=NOW)] == [LISTING, COLLECTION_OFFER]
    assert [o.price_wei for o in store.orders(CHAIN, offerer=BIDDER, now=NOW)] == [70, 50]


def test_expired_filled_and_unfillable_orders_leave_the_active_book(store):
    store.add(_row(1, end=NOW + 10))
    sold = store.add(_row(2))
    moved = store.add(_row(3))
    assert len(store.orders(CHAIN, now=NOW)) == 3
    assert len(store.orders(CHAIN, now=NOW + 10)) == 2  # Seaport takes an order while now < end
    assert len(store.orders(CHAIN, now=NOW + 10, include_expired=True)) == 3
    filled = store.set_status(CHAIN, SEAPORT, sold.order_hash, FILLED, fill_tx="0x" + "ab" * 32)
    assert filled.fill_tx == "0x" + "ab" * 32
    store.set_status(CHAIN, SEAPORT, moved.order_hash, UNFILLABLE, reason="The seller no longer holds this token.")
    assert [o.order_hash for o in store.orders(CHAIN, now=NOW)] == [_row(1).order_hash]
    assert store.orders(CHAIN, status=UNFILLABLE, now=NOW)[0].status_reason.startswith("The seller")
    with pytest.raises(NotFound):
        store.set_status(CHAIN, SEAPORT, "0x" + "99" * 32, FILLED)
    with pytest.raises(InputError):
        store.set_status(CHAIN, SEAPORT, sold.order_hash, "sold")


def test_cancel_all_cancels_every_active_order_signed_with_another_counter(store):
    store.add(_row(1, counter=0))
    store.add(_row(2, counter=0, token=2))
    store.add(_row(3, OFFER, counter=0, offerer=BIDDER))
    assert store.cancel_counter(CHAIN, SEAPORT, ARTIST, 2**200) == 2
    assert {o.status for o in store.orders(CHAIN, offerer=ARTIST, status=None, now=NOW)} == {CANCELLED}
    assert store.orders(CHAIN, offerer=BIDDER, now=NOW)[0].status == ACTIVE
    store.add(_row(4, counter=2**200))
    assert store.cancel_counter(CHAIN, SEAPORT, ARTIST, 2**200) == 0


def test_an_order_of_an_unknown_kind_is_refused(store):
    with pytest.raises(InputError, match="listing"):
        store.add(_row(1, kind="auction"))
