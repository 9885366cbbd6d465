"""Seaport listings and offers on the embedded devnet, as the Market tab and the CLI run them: one
approval then listings without gas, bulk listing under one signature, buying with the basic route,
WETH offers (wrapped and approved as needed) for one token or a whole collection, cancel one and
cancel all, and an order book whose statuses follow the chain (a moved token, a revoked approval,
WETH run short, an expired order are never for sale). Every signature and transaction is previewed."""
from __future__ import annotations

import json

import pytest

from studio.chain.seaport import order_signer
from studio.chain.transactions import Amount, MessagePreview, TxPreview
from studio.errors import Cancelled, InputError, NotFound
from studio.library.db import Library
from studio.library.orders import (ACTIVE, CANCELLED, COLLECTION_OFFER, EXPIRED, FILLED, LISTING, OFFER, UNFILLABLE,
                                   OrderStore)
from studio.workflows import seaport_market as sm
from studio.workflows.collections import create_collection
from studio.workflows.publish import file_commitment

TEST_MNEMONIC = "test test test test test test test test test test test junk"
ETH = 10**18
PRICE = 10**17
ROYALTY = PRICE * 500 // 10_000
WEEK = 7 * 86_400


class Previews:
    """A confirm callback that records what it was shown and answers `answer` (or `sign` for signatures)."""

    def __init__(self, answer: bool = True, *, sign: bool | None = None) -> None:
        self.answer, self.sign, self.seen = answer, answer if sign is None else sign, []

    def __call__(self, preview) -> bool:
        self.seen.append(preview)
        return self.sign if isinstance(preview, MessagePreview) else self.answer

    @property
    def actions(self) -> list[str]:
        return [p.action for p in self.seen]


def _signers(count: int = 10):
    from eth_account import Account

    from studio.chain.transactions import LocalSigner

    Account.enable_unaudited_hdwallet_features()
    return [LocalSigner(Account.from_mnemonic(TEST_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}"))
            for i in range(count)]


class Book:
    """The devnet with Seaport and WETH, a collection (artist 0, royalty 5% to account 9) and the order book."""

    def __init__(self, devnet, library: Library) -> None:
        from studio.chain.networks import BUILTIN_NETWORKS

        self.devnet = devnet
        self.network = BUILTIN_NETWORKS[0]
        self.connection = devnet.connection()
        self.accounts = _signers()
        self.artist, self.buyer, self.bidder, self.fee_recipient = self.accounts[:4]
        self.royalty_receiver = self.accounts[9]
        self.venue = sm.seaport_venue(self.network, self.connection)
        self.orders = OrderStore(library)
        self.collection = create_collection(connection=self.connection, signer=self.artist, library=library,
                                            name="Dawns", symbol="DAWN",
                                            royalty_receiver=self.royalty_receiver.address, royalty_bps=500).address
        self.chain_id = self.connection.chain_id

    def contract(self):
        from studio.chain.contracts import CollectionContract

        return CollectionContract(self.connection, self.collection)

    def seaport(self):
        from studio.chain.seaport_contract import SeaportContract

        return SeaportContract(self.connection, self.venue.seaport)

    def weth(self):
        from studio.chain.seaport_contract import WethContract

        return WethContract(self.connection, self.venue.weth)

    def mint(self, to=None, content: bytes = b'{"name": "dawn"}') -> int:
        minted = self.contract().mint(self.artist, (to or self.artist).address, file_commitment(content))
        return minted.first_token_id

    def now(self) -> int:
        return self.connection.latest_block_time()

    def later(self, seconds: int) -> None:
        """The chain's clock moves on (a block is mined `seconds` later)."""
        self.devnet.request("evm_increaseTime", [seconds])
        self.devnet.request("evm_mine", [])

    def balance(self, signer) -> int:
        return self.connection.balance(signer.address)

    def kw(self, signer, confirm=None, **extra):
        return {"connection": self.connection, "signer": signer, "venue": self.venue, "orders": self.orders,
                "confirm": confirm if confirm is not None else Previews(), **extra}


@pytest.fixture
def book(studio_home):
    from studio.chain.devnet import Devnet

    devnet = Devnet.shared()
    with Library.default() as library:
        yield Book(devnet, library)
    devnet.close()


def test_listing_costs_no_gas_after_one_approval_and_another_account_buys_it(book):
    first, second = book.mint(), book.mint(content=b'{"name": "dusk"}')
    previews = Previews()
    before = book.balance(book.artist)
    listed = sm.list_with_seaport(**book.kw(book.artist, previews), collection=book.collection, token_id=first,
                                  price_wei=PRICE, end_time=book.now() + WEEK,
                                  fee=(book.fee_recipient.address, 250))
    approval, signature = previews.seen
    assert isinstance(approval, TxPreview) and approval.action.startswith("Approving Seaport for Dawns")
    assert approval.call.function == "setApprovalForAll" and approval.value_wei == 0
    assert isinstance(signature, MessagePreview) and signature.primary_type == "OrderComponents"
    fee = PRICE * 250 // 10_000
    assert [(f.party, f.direction, f.amount_wei, f.when) for f in signature.flows] == [
        ("The buyer", "sends", PRICE, "when it sells"), ("The buyer", "receives", 0, "when it sells"),
        ("You", "receives", PRICE - ROYALTY - fee, "when it sells"),
        ("The creator (royalty)", "receives", ROYALTY, "when it sells"),
        ("The marketplace (fee)", "receives", fee, "when it sells")]
    details = dict(signature.details)
    assert details["Price"] == PRICE and details["Creator royalty (ERC-2981)"] == ROYALTY
    assert details["Royalty receiver"] == book.royalty_receiver.address and details["Marketplace fee"] == fee
    assert details["Valid until"].endswith("UTC") and "no gas" in details["Costs now"]
    assert before - book.balance(book.artist) == listed.fee_wei > 0  # the approval's fee, nothing else
    [row] = listed.orders
    assert (row.kind, row.collection, row.token_id, row.price_wei, row.status) == (LISTING, book.collection, first,
                                                                                   PRICE, ACTIVE)
    assert book.contract().owner_of(first) == book.artist.address  # the token stays in the wallet

    previews = Previews()
    before = book.balance(book.artist)
    again = sm.list_with_seaport(**book.kw(book.artist, previews), collection=book.collection, token_id=second,
                                 price_wei=2 * PRICE, end_time=book.now() + WEEK)
    assert previews.actions == ["Signing the listing"] and again.receipts == ()
    assert book.balance(book.artist) == before  # no gas at all

    assert [o.token_id for o in book.orders.orders(book.chain_id, kind=LISTING)] == [first, second]  # cheapest first
    balances = {s.address: book.balance(s) for s in (book.artist, book.royalty_receiver, book.fee_recipient)}
    previews = Previews()
    bought = sm.buy_order(**book.kw(book.buyer, previews), order=row)
    [buy] = previews.seen
    assert buy.action == "Buying the token" and buy.value_wei == PRICE
    assert buy.call.function == "fulfillBasicOrder_efficient_6GL6yc"  # the cheap route
    assert book.contract().owner_of(first) == book.buyer.address
    assert book.balance(book.artist) - balances[book.artist.address] == PRICE - ROYALTY - fee
    assert book.balance(book.royalty_receiver) - balances[book.royalty_receiver.address] == ROYALTY
    assert book.balance(book.fee_recipient) - balances[book.fee_recipient.address] == fee
    filled = book.orders.get(book.chain_id, book.venue.seaport, row.order_hash)
    assert (filled.status, filled.fill_tx) == (FILLED, bought.tx_hash)
    with pytest.raises(InputError, match="can no longer be bought"):
        sm.buy_order(**book.kw(book.bidder), order=row)


def test_bulk_listing_signs_many_tokens_once_and_each_is_bought_on_its_own(book):
    tokens = [book.mint(content=f'{{"n": {i}}}'.encode()) for i in range(3)]
    previews = Previews()
    result = sm.bulk_list(**book.kw(book.artist, previews), end_time=book.now() + WEEK,
                          items=[sm.ListingItem(book.collection, t, PRICE * (i + 1)) for i, t in enumerate(tokens)])
    assert previews.actions[-1] == "Signing 3 listings with one signature"
    signature = previews.seen[-1]
    assert signature.primary_type == "BulkOrder" and len([p for p in previews.seen if
                                                          isinstance(p, MessagePreview)]) == 1
    assert [f.amount_wei for f in signature.flows if f.party == "The buyers" and f.direction == "sends"] == [6 * PRICE]
    orders = result.orders
    assert len(orders) == 3 and all(len(json.loads(o.order_json)["signature"]) > 2 + 2 * 65 for o in orders)
    from studio.workflows.seaport_market import signed_order

    assert {order_signer(signed_order(o, book.chain_id, book.venue)) for o in orders} == {book.artist.address}
    sm.buy_order(**book.kw(book.buyer), order=orders[1])
    active = sm.refresh_orders(book.connection, book.venue, book.orders)
    assert sorted(o.token_id for o in active) == [tokens[0], tokens[2]]
    assert book.contract().owner_of(tokens[1]) == book.buyer.address


def test_a_moved_token_a_revoked_approval_and_an_expired_listing_are_never_for_sale(book):
    moved, revoked, short = book.mint(), book.mint(content=b"2"), book.mint(content=b"3")
    end = book.now() + WEEK
    for token in (moved, revoked):
        sm.list_with_seaport(**book.kw(book.artist), collection=book.collection, token_id=token, price_wei=PRICE,
                             end_time=end)
    brief = sm.list_with_seaport(**book.kw(book.artist), collection=book.collection, token_id=short,
                                 price_wei=PRICE, end_time=book.now() + 300).order
    book.contract().transfer(book.artist, book.bidder.address, moved)
    assert len(sm.refresh_orders(book.connection, book.venue, book.orders)) == 2
    gone = book.orders.orders(book.chain_id, status=UNFILLABLE)
    assert [(o.token_id, o.status_reason) for o in gone] == [(moved, "The seller no longer holds this token.")]
    with pytest.raises(InputError, match="no longer holds this token"):
        sm.buy_order(**book.kw(book.buyer), order=gone[0])

    book.contract().set_approval_for_all(book.artist, book.venue.seaport, False)
    assert sm.refresh_orders(book.connection, book.venue, book.orders) == []
    assert {o.token_id: o.status_reason for o in book.orders.orders(book.chain_id, status=UNFILLABLE)} == {
        moved: "The seller no longer holds this token.",
        revoked: "The seller withdrew Seaport's approval for this token.",
        short: "The seller withdrew Seaport's approval for this token."}
    book.contract().set_approval_for_all(book.artist, book.venue.seaport, True)  # approved again: for sale again
    assert sorted(o.token_id for o in sm.refresh_orders(book.connection, book.venue, book.orders)) == [revoked, short]

    book.later(600)
    assert [o.token_id for o in sm.refresh_orders(book.connection, book.venue, book.orders)] == [revoked]
    assert book.orders.get(book.chain_id, book.venue.seaport, brief.order_hash).status == EXPIRED
    with pytest.raises(InputError, match="expired"):
        sm.buy_order(**book.kw(book.buyer), order=brief)


def test_a_token_offer_wraps_and_approves_weth_then_the_owner_accepts_it(book):
    token = book.mint()
    previews = Previews()
    offer = sm.make_seaport_offer(**book.kw(book.bidder, previews), collection=book.collection, token_id=token,
                                  amount_wei=PRICE, end_time=book.now() + WEEK)
    assert previews.actions == ["Wrapping ETH", "Approving Seaport for your WETH", "Signing the offer"]
    wrap, _approve, signature = previews.seen
    assert wrap.value_wei == PRICE and [(f.direction, f.amount_wei, f.currency) for f in wrap.flows] == [
        ("sends", PRICE, None), ("receives", PRICE, "WETH")]
    assert dict(signature.details)["Offer"] == Amount(PRICE, "WETH")
    assert [(f.party, f.direction, f.amount_wei, f.currency) for f in signature.flows if f.amount_wei] == [
        ("You", "sends", PRICE, "WETH"), ("The seller", "receives", PRICE - ROYALTY, "WETH"),
        ("The creator (royalty)", "receives", ROYALTY, "WETH")]
    assert book.weth().balance_of(book.bidder.address) == PRICE
    row = offer.order
    assert (row.kind, row.token_id, row.price_wei, row.currency) == (OFFER, token, PRICE, book.venue.weth)

    previews = Previews()
    sm.make_seaport_offer(**book.kw(book.bidder, previews), collection=book.collection, token_id=token,
                          amount_wei=PRICE // 2, end_time=book.now() + WEEK)
    assert previews.actions == ["Signing the offer"]  # WETH and its allowance are there already

    with pytest.raises(InputError, match="your own offer"):
        sm.accept_seaport_offer(**book.kw(book.bidder), order=row)
    with pytest.raises(InputError, match="belongs to"):
        sm.accept_seaport_offer(**book.kw(book.buyer), order=row)
    previews = Previews()
    accepted = sm.accept_seaport_offer(**book.kw(book.artist, previews), order=row)
    assert previews.actions[0].startswith("Approving Seaport for Dawns") and previews.actions[1] == \
        "Accepting the offer"
    assert previews.seen[1].call.function == "fulfillBasicOrder_efficient_6GL6yc"
    assert book.contract().owner_of(token) == book.bidder.address
    assert book.weth().balance_of(book.artist.address) == PRICE - ROYALTY
    assert book.weth().balance_of(book.royalty_receiver.address) == ROYALTY
    assert accepted.order.status == FILLED
    # the second offer was on the same token: the bidder holds it now, so it is theirs and not fillable
    assert sm.refresh_orders(book.connection, book.venue, book.orders) == []


def test_a_collection_offer_is_accepted_with_the_token_the_seller_picks(book):
    book.mint()
    picked = book.mint(content=b"picked")
    offer = sm.make_seaport_offer(**book.kw(book.bidder), collection=book.collection, token_id=None,
                                  amount_wei=PRICE, end_time=book.now() + WEEK).order
    assert (offer.kind, offer.token_id) == (COLLECTION_OFFER, None)
    assert [o.order_hash for o in book.orders.orders(book.chain_id, collection=book.collection, token_id=picked,
                                                     kind=COLLECTION_OFFER)] == [offer.order_hash]
    with pytest.raises(InputError, match="choose which one"):
        sm.accept_seaport_offer(**book.kw(book.artist), order=offer)
    previews = Previews()
    sm.accept_seaport_offer(**book.kw(book.artist, previews), order=offer, token_id=picked)
    assert previews.seen[-1].call.function == "fulfillAdvancedOrder"
    assert book.contract().owner_of(picked) == book.bidder.address
    assert book.weth().balance_of(book.artist.address) == PRICE - ROYALTY
    assert book.orders.get(book.chain_id, book.venue.seaport, offer.order_hash).status == FILLED


def test_an_offer_whose_weth_was_unwrapped_reads_unfillable(book):
    token = book.mint()
    offer = sm.make_seaport_offer(**book.kw(book.bidder), collection=book.collection, token_id=token,
                                  amount_wei=PRICE, end_time=book.now() + WEEK).order
    previews = Previews()
    sm.unwrap_weth(**{k: v for k, v in book.kw(book.bidder, previews).items() if k != "orders"},
                   amount_wei=PRICE // 2)
    assert previews.actions == ["Unwrapping WETH"]
    assert sm.refresh_orders(book.connection, book.venue, book.orders) == []
    row = book.orders.get(book.chain_id, book.venue.seaport, offer.order_hash)
    assert (row.status, row.status_reason) == (UNFILLABLE, "The buyer no longer holds enough WETH for this offer.")
    with pytest.raises(InputError, match="no longer be accepted"):
        sm.accept_seaport_offer(**book.kw(book.artist), order=offer)


def test_cancel_one_then_cancel_all_and_list_again(book):
    a, b, c = book.mint(), book.mint(content=b"b"), book.mint(content=b"c")
    end = book.now() + WEEK
    rows = sm.bulk_list(**book.kw(book.artist), end_time=end,
                        items=[sm.ListingItem(book.collection, t, PRICE) for t in (a, b)]).orders
    with pytest.raises(InputError, match="only they can cancel"):
        sm.cancel_order(**book.kw(book.buyer), order=rows[0])
    previews = Previews()
    sm.cancel_order(**book.kw(book.artist, previews), order=rows[0])
    assert previews.actions == ["Cancelling the listing"] and previews.seen[0].call.function == "cancel"
    assert book.seaport().fillability(sm.signed_order(rows[0], book.chain_id, book.venue)).state == "cancelled"
    assert book.orders.get(book.chain_id, book.venue.seaport, rows[0].order_hash).status == CANCELLED
    with pytest.raises(InputError, match="already cancelled"):
        sm.cancel_order(**book.kw(book.artist), order=rows[0])

    previews = Previews()
    result = sm.cancel_all_orders(**book.kw(book.artist, previews))
    assert previews.actions == ["Cancelling all your Seaport orders"]
    assert previews.seen[0].call.function == "incrementCounter" and "(1 open" in dict(previews.seen[0].details)[
        "Cancels"]
    counter = book.seaport().counter(book.artist.address)  # Seaport 1.6 jumps it by a quasi-random amount
    assert result.cancelled == 1 and counter > 0
    assert book.orders.orders(book.chain_id, offerer=book.artist.address) == []
    with pytest.raises(InputError, match="can no longer be bought"):
        sm.buy_order(**book.kw(book.buyer), order=rows[1])
    fresh = sm.list_with_seaport(**book.kw(book.artist), collection=book.collection, token_id=c, price_wei=PRICE,
                                 end_time=end).order
    assert json.loads(fresh.order_json)["parameters"]["counter"] == str(counter)
    sm.buy_order(**book.kw(book.buyer), order=fresh)
    assert book.contract().owner_of(c) == book.buyer.address


def test_what_is_refused_before_anything_is_signed_or_sent(book):
    token = book.mint()
    elsewhere = book.mint(to=book.buyer, content=b"theirs")
    kw = book.kw(book.artist)
    end = book.now() + WEEK
    with pytest.raises(InputError, match="belongs to"):
        sm.list_with_seaport(**kw, collection=book.collection, token_id=elsewhere, price_wei=PRICE, end_time=end)
    with pytest.raises(NotFound, match="does not exist"):
        sm.list_with_seaport(**kw, collection=book.collection, token_id=99, price_wei=PRICE, end_time=end)
    with pytest.raises(InputError, match="at least a minute"):
        sm.list_with_seaport(**kw, collection=book.collection, token_id=token, price_wei=PRICE,
                             end_time=book.now() - 5)
    with pytest.raises(InputError, match="more than zero"):
        sm.list_with_seaport(**kw, collection=book.collection, token_id=token, price_wei=0, end_time=end)
    with pytest.raises(InputError, match="fee is between"):
        sm.list_with_seaport(**kw, collection=book.collection, token_id=token, price_wei=PRICE, end_time=end,
                             fee=(book.fee_recipient.address, 2_000))
    with pytest.raises(InputError, match="named twice"):
        sm.bulk_list(**kw, end_time=end, items=[sm.ListingItem(book.collection, token, PRICE)] * 2)
    with pytest.raises(InputError, match="is yours"):
        sm.make_seaport_offer(**kw, collection=book.collection, token_id=token, amount_wei=PRICE, end_time=end)
    assert kw["confirm"].seen == []
    sm.list_with_seaport(**kw, collection=book.collection, token_id=token, price_wei=PRICE, end_time=end)
    with pytest.raises(InputError, match="already listed"):
        sm.list_with_seaport(**kw, collection=book.collection, token_id=token, price_wei=2 * PRICE, end_time=end)


def test_a_declined_signature_signs_nothing_and_keeps_nothing(book):
    token = book.mint()
    previews = Previews(answer=True, sign=False)
    with pytest.raises(Cancelled, match="not signed"):
        sm.list_with_seaport(**book.kw(book.artist, previews), collection=book.collection, token_id=token,
                             price_wei=PRICE, end_time=book.now() + WEEK)
    assert book.orders.orders(book.chain_id, status=None, include_expired=True) == []
    declined = Previews(answer=False)
    with pytest.raises(Cancelled):
        sm.make_seaport_offer(**book.kw(book.bidder, declined), collection=book.collection, token_id=token,
                              amount_wei=PRICE, end_time=book.now() + WEEK)
    assert declined.actions == ["Wrapping ETH"] and book.weth().balance_of(book.bidder.address) == 0


def test_an_order_signed_elsewhere_is_imported_only_with_its_offerers_signature(book):
    from dataclasses import replace

    token = book.mint()
    row = sm.list_with_seaport(**book.kw(book.artist), collection=book.collection, token_id=token,
                               price_wei=PRICE, end_time=book.now() + WEEK).order
    data = json.loads(row.order_json)
    assert sm.import_order(book.orders, book.chain_id, book.venue, row.order_json).order_hash == row.order_hash
    forged = dict(data, parameters=dict(data["parameters"], offerer=book.buyer.address))
    with pytest.raises(InputError, match="not its offerer's"):
        sm.import_order(book.orders, book.chain_id, book.venue, json.dumps(forged))
    with pytest.raises(InputError, match="another|not for"):
        sm.signed_order(replace(row, order_json=json.dumps(dict(data, chain_id=1))), book.chain_id, book.venue)


@pytest.mark.parametrize("text, seconds", [("1d", 86_400), ("7 days", 7 * 86_400), ("12h", 43_200),
                                           ("90m", 5_400)])
def test_expiry_choices_read_as_seconds_from_now(text, seconds):
    assert sm.parse_expiry(text, 1_800_000_000) == 1_800_000_000 + seconds


def test_expiry_dates_are_utc_and_must_lie_ahead():
    assert sm.parse_expiry("2027-01-31T18:00", 1_790_000_000) == 1_801_418_400
    for bad, problem in (("soon", "not an expiry"), ("2020-01-01", "at least a minute"), ("900d", "at most a year")):
        with pytest.raises(InputError, match=problem):
            sm.parse_expiry(bad, 1_790_000_000)
