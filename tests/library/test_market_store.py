"""MarketStore on a real SQLite library file: idempotent events, re-org rollback, queries, vouchers."""
from __future__ import annotations

import pytest

from studio.chain import indexer as ix
from studio.chain.indexer import MarketEvent
from studio.errors import InputError, NotFound
from studio.library import market as lm
from studio.library.db import Library
from studio.library.market import MarketStore, VoucherRow

CHAIN = 1337
MARKET = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
COLL = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
ARTIST = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
BUYER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
BIDDER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
ZERO = "0x" + "00" * 20


class Chain:
    """Builds events in block order, as an indexer would return them."""

    def __init__(self) -> None:
        self.block, self.index = 10, 0

    def ev(self, kind: str, token: int | None = 1, *, seller=None, buyer=None, price=None, nonce=None,
           contract=MARKET, new_block=True) -> MarketEvent:
        if new_block:
            self.block += 1
            self.index = 0
        self.index += 1
        collection = COLL
        return MarketEvent(self.block, f"0x{self.block:064x}", self.index, f"0x{self.block:060x}{self.index:04x}",
                           kind, contract, collection, token, seller, buyer, price, nonce=nonce)


@pytest.fixture
def store(tmp_path):
    library = Library(tmp_path / "library.db")
    yield MarketStore(library)
    library.close()


def test_the_store_knows_every_kind_the_indexer_emits():
    kinds = {getattr(ix, name) for name in dir(ix) if name.isupper() and isinstance(getattr(ix, name), str)
             and getattr(ix, name) in {*ix.MARKETPLACE_EVENTS.values(), *ix.COLLECTION_EVENTS.values()}}
    assert kinds == lm.KINDS


def test_listing_price_change_and_sale_add_up(store):
    c = Chain()
    events = [c.ev(ix.TRANSFER, seller=ZERO, buyer=ARTIST, contract=COLL),
              c.ev(ix.TRANSFER, seller=ARTIST, buyer=MARKET, contract=COLL),
              c.ev(ix.LISTED, seller=ARTIST, price=100, new_block=False)]
    assert store.apply(CHAIN, MARKET, events) == 3
    [listing] = store.active_listings(CHAIN)
    assert (listing.token_id, listing.seller, listing.price_wei, listing.status) == (1, ARTIST, 100, lm.ACTIVE)
    assert [(t.token_id, t.listed, t.price_wei) for t in store.my_tokens(CHAIN, ARTIST)] == [(1, True, 100)]
    store.apply(CHAIN, MARKET, [c.ev(ix.PRICE_CHANGED, seller=ARTIST, price=80)])
    assert store.active_listings(CHAIN)[0].price_wei == 80
    store.apply(CHAIN, MARKET, [c.ev(ix.TRANSFER, seller=MARKET, buyer=BUYER, contract=COLL),
                                c.ev(ix.SOLD, seller=ARTIST, buyer=BUYER, price=80, new_block=False)])
    assert store.active_listings(CHAIN) == []
    sold = store.listing(CHAIN, COLL, 1)
    assert (sold.status, sold.buyer, sold.price_wei) == (lm.SOLD_STATUS, BUYER, 80)
    assert store.my_tokens(CHAIN, ARTIST) == []
    assert [t.token_id for t in store.my_tokens(CHAIN, BUYER)] == [1]
    assert store.owner_of(CHAIN, COLL.lower(), 1) == BUYER  # addresses match whatever their case


def test_applying_the_same_events_again_changes_nothing(store):
    c = Chain()
    events = [c.ev(ix.LISTED, seller=ARTIST, price=5), c.ev(ix.OFFER_MADE, buyer=BIDDER, price=3)]
    store.apply(CHAIN, MARKET, events)
    before = (store.active_listings(CHAIN), store.offers_for(CHAIN, COLL, 1), store.event_count(CHAIN, MARKET))
    assert store.apply(CHAIN, MARKET, events) == 0
    assert store.apply(CHAIN, MARKET, events[1:]) == 0
    assert (store.active_listings(CHAIN), store.offers_for(CHAIN, COLL, 1),
            store.event_count(CHAIN, MARKET)) == before


def test_rollback_forgets_events_from_the_fork_and_recomputes(store):
    c = Chain()
    store.apply(CHAIN, MARKET, [c.ev(ix.LISTED, seller=ARTIST, price=100),
                                c.ev(ix.OFFER_MADE, buyer=BIDDER, price=30)])
    fork = c.block + 1
    store.apply(CHAIN, MARKET, [c.ev(ix.PRICE_CHANGED, seller=ARTIST, price=60),
                                c.ev(ix.OFFER_WITHDRAWN, buyer=BIDDER, price=30),
                                c.ev(ix.LISTED, token=2, seller=ARTIST, price=7)])
    assert store.offers_for(CHAIN, COLL, 1) == []
    assert store.rollback(CHAIN, MARKET, fork) == 3
    listings = store.active_listings(CHAIN)
    assert [(l.token_id, l.price_wei) for l in listings] == [(1, 100)]
    assert [(o.buyer, o.amount_wei) for o in store.offers_for(CHAIN, COLL, 1)] == [(BIDDER, 30)]
    assert store.listing(CHAIN, COLL, 2) is None


def test_commit_scan_saves_events_and_cursor_together_or_not_at_all(store):
    c = Chain()
    good = c.ev(ix.LISTED, seller=ARTIST, price=9)
    assert store.commit_scan(CHAIN, MARKET, [good], {"last_block": good.block_number}) == 1
    assert store.cursor(CHAIN, MARKET) == {"last_block": good.block_number}
    bad = MarketEvent(c.block + 1, "0x01", 0, "0x02", "airdrop", MARKET, COLL, 1)
    with pytest.raises(InputError, match="airdrop"):
        store.commit_scan(CHAIN, MARKET, [c.ev(ix.PRICE_CHANGED, seller=ARTIST, price=1), bad],
                          {"last_block": 999}, rolled_back_from=good.block_number)
    assert store.cursor(CHAIN, MARKET) == {"last_block": good.block_number}
    assert store.event_count(CHAIN, MARKET) == 1
    assert store.active_listings(CHAIN)[0].price_wei == 9


def test_offers_by_buyer_for_token_and_incoming_to_the_owner(store):
    c = Chain()
    store.apply(CHAIN, MARKET, [
        c.ev(ix.TRANSFER, seller=ZERO, buyer=ARTIST, contract=COLL),
        c.ev(ix.TRANSFER, token=2, seller=ZERO, buyer=BUYER, contract=COLL),
        c.ev(ix.OFFER_MADE, buyer=BIDDER, price=10),
        c.ev(ix.OFFER_MADE, buyer=BIDDER, price=25),  # a top-up: the event carries the new total
        c.ev(ix.OFFER_MADE, buyer=BUYER, price=40),
        c.ev(ix.OFFER_MADE, token=2, buyer=BIDDER, price=5),
    ])
    assert [(o.buyer, o.amount_wei) for o in store.offers_for(CHAIN, COLL, 1)] == [(BUYER, 40), (BIDDER, 25)]
    assert [(o.token_id, o.amount_wei) for o in store.offers_by(CHAIN, BIDDER)] == [(1, 25), (2, 5)]
    assert [(o.token_id, o.buyer) for o in store.incoming_offers(CHAIN, ARTIST)] == [(1, BUYER), (1, BIDDER)]
    assert [(o.token_id, o.buyer) for o in store.incoming_offers(CHAIN, BUYER)] == [(2, BIDDER)]
    store.apply(CHAIN, MARKET, [c.ev(ix.TRANSFER, seller=ARTIST, buyer=BUYER, contract=COLL),
                                c.ev(ix.OFFER_ACCEPTED, seller=ARTIST, buyer=BUYER, price=40, new_block=False)])
    assert [o.buyer for o in store.offers_for(CHAIN, COLL, 1)] == [BIDDER]
    assert [o.status for o in store.offers_for(CHAIN, COLL, 1, status=lm.ACCEPTED)] == [lm.ACCEPTED]
    assert store.incoming_offers(CHAIN, ARTIST) == []
    assert {o.token_id for o in store.incoming_offers(CHAIN, BUYER)} == {1, 2}


def _voucher(nonce: int, price: int = 10**15, expiry: int = 2**40) -> VoucherRow:
    return VoucherRow(None, CHAIN, COLL, nonce, ARTIST, price, expiry, "0x" + "ab" * 32, "bafkmeta", None,
                      '{"nonce": %d}' % nonce, lm.ACTIVE, None, None, 1.0)


def test_vouchers_follow_redemption_and_cancellation_and_roll_back(store):
    first = store.add_voucher(_voucher(1, price=30))
    store.add_voucher(_voucher(2, price=20))
    store.add_voucher(_voucher(3, expiry=100))
    with pytest.raises(InputError, match="nonce 1"):
        store.add_voucher(_voucher(1))
    assert [v.nonce for v in store.vouchers(CHAIN)] == [2, 1]  # cheapest first, the expired one hidden
    assert [v.nonce for v in store.vouchers(CHAIN, include_expired=True)] == [2, 1, 3]
    assert store.used_nonces(CHAIN, COLL) == {1, 2, 3}
    c = Chain()
    store.apply(CHAIN, MARKET, [c.ev(ix.VOUCHER_REDEEMED, token=5, buyer=BUYER, price=30, nonce=1, contract=COLL),
                                c.ev(ix.VOUCHER_CANCELLED, token=None, nonce=2, contract=COLL)])
    redeemed = store.voucher(first.id)
    assert (redeemed.status, redeemed.token_id, redeemed.redeemer) == (lm.REDEEMED, 5, BUYER)
    assert store.vouchers(CHAIN) == []
    assert [v.status for v in store.vouchers(CHAIN, status=None)] == [lm.CANCELLED, lm.REDEEMED]
    store.rollback(CHAIN, MARKET, c.block)  # the cancellation's block left the chain
    assert [v.nonce for v in store.vouchers(CHAIN)] == [2]
    assert [v.nonce for v in store.vouchers(CHAIN, status=lm.REDEEMED)] == [1]
    store.rollback(CHAIN, MARKET, c.block - 1)
    assert [v.nonce for v in store.vouchers(CHAIN)] == [2, 1]
    assert store.voucher(first.id).token_id is None
    store.set_voucher_cid(first.id, "bafyvoucher")
    assert store.voucher(first.id).voucher_cid == "bafyvoucher"
    with pytest.raises(NotFound):
        store.voucher(999)


def test_a_redeemed_voucher_of_a_work_records_its_token_and_a_reorg_forgets_it(store):
    from dataclasses import replace

    from studio.library.db import UNSAVED, Work

    library = store.library
    work = library.add_work(Work(UNSAVED, "/works/dawn.png", "ab" * 32, None, "Dawn", "", "demo", 1.0, 64, 64))
    listed = store.add_voucher(replace(_voucher(7), work_id=work.id, media_cid="bafkimage"))
    assert store.vouchers_of_work(work.id) == [listed] and library.tokens_of_work(work.id) == []
    c = Chain()
    redeem = c.ev(ix.VOUCHER_REDEEMED, token=4, buyer=BUYER, price=10**15, nonce=7, contract=COLL)
    store.apply(CHAIN, MARKET, [redeem])
    [token] = library.tokens_of_work(work.id)
    assert (token.collection, token.token_id, token.owner, token.metadata_cid, token.media_cid, token.tx_hash) == (
        COLL, 4, BUYER, "bafkmeta", "bafkimage", redeem.tx_hash)
    assert store.voucher(listed.id).redeem_tx == redeem.tx_hash
    store.apply(CHAIN, MARKET, [redeem])  # delivered twice: still one token
    assert len(library.tokens_of_work(work.id)) == 1
    store.rollback(CHAIN, MARKET, c.block)  # the redemption left the chain: the work is unminted again
    assert library.tokens_of_work(work.id) == [] and store.voucher(listed.id).status == lm.ACTIVE


def test_the_market_survives_reopening_the_library(tmp_path):
    path = tmp_path / "library.db"
    c = Chain()
    with Library(path) as library:
        store = MarketStore(library)
        store.commit_scan(CHAIN, MARKET, [c.ev(ix.LISTED, seller=ARTIST, price=3)], {"last_block": 11})
    with Library(path) as library:
        assert lm.MIGRATION[0] in library.migrations()
        store = MarketStore(library)
        assert store.cursor(CHAIN, MARKET) == {"last_block": 11}
        assert [l.price_wei for l in store.active_listings(CHAIN, MARKET)] == [3]
        assert store.active_listings(CHAIN, "0x" + "99" * 20) == []
        assert store.collections_seen(CHAIN, MARKET) == [COLL]


def test_prices_beyond_64_bits_keep_every_wei(store):
    c = Chain()
    price = 2**96 - 1
    store.apply(CHAIN, MARKET, [c.ev(ix.LISTED, seller=ARTIST, price=price)])
    assert store.active_listings(CHAIN)[0].price_wei == price
