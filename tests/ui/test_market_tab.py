"""The Market tab as people use it, real widgets offscreen over the real embedded devnet: the artist lists a
token from "My collection" as a Seaport order with an expiry (the sell dialog quotes royalty and
proceeds; one approval, then the order's signature preview, no gas) and lazily lists a work (the
voucher's signature preview), the collector buys both with the Buy buttons through the transaction
preview; several tokens are listed under one signature; a declined preview sends nothing; WETH offers
are made from Listings and accepted from Offers; orders are cancelled from My orders; listings are
searched and sorted; empty states say what to do; names from metadata stay plain text."""
from __future__ import annotations

from typing import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLabel

from studio.ui.dialogs.offer import OfferDialog
from studio.ui.dialogs.sell import BulkListDialog, LazyListDialog, SellDialog
from studio.ui.dialogs.signature_preview import SignaturePreviewDialog
from studio.ui.dialogs.tx_preview import TxPreviewDialog
from studio.ui.state.market import MarketState
from studio.ui.tabs.market import MarketTab
from test_market_state import (LAZY_PRICE, PRICE, ROYALTY_BPS, market_env,  # noqa: F401
                               market_state, sync)
from wallet_helpers import ACCOUNT_1, ACCOUNT_2, JOB_MS, refresh, unlock


@pytest.fixture
def tab(qtbot, market_state: MarketState) -> Iterator[MarketTab]:
    widget = MarketTab(market_state)
    qtbot.addWidget(widget)
    widget.resize(1200, 700)
    yield widget
    market_state.stop()


class Previews:
    """The preview dialogs the tab opens, answered one by one in order."""

    def __init__(self, tab: MarketTab) -> None:
        self.dialogs: list[QDialog] = []
        self.answered = 0
        tab.preview_shown.connect(self.dialogs.append)

    def answer(self, qtbot, accept: bool = True) -> QDialog:
        """Wait for the next preview and press Sign (or Cancel) in it."""
        qtbot.waitUntil(lambda: len(self.dialogs) > self.answered, timeout=JOB_MS)
        dialog = self.dialogs[self.answered]
        self.answered += 1
        assert dialog.isVisible()
        qtbot.mouseClick(dialog.sign_button if accept else dialog.cancel_button, Qt.MouseButton.LeftButton)
        assert not dialog.isVisible()
        return dialog


def click(qtbot, button) -> None:
    assert button.isEnabled(), f"{button.text()} is disabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def idle(qtbot, state: MarketState) -> None:
    qtbot.waitUntil(lambda: not state.busy and not state.syncing, timeout=JOB_MS)


def open_tab(qtbot, tab: MarketTab, wallet_state) -> None:
    unlock(qtbot, wallet_state)
    refresh(qtbot, wallet_state)
    tab.show()  # the first show reads the market
    qtbot.waitUntil(lambda: tab.state.snapshot is not None and not tab.state.syncing, timeout=JOB_MS)


def row_of(state: MarketState, owner: str, token_id: int) -> int:
    return next(i for i, t in enumerate(state.held.rows()) if t.owner == owner and t.token_id == token_id)


def test_a_custom_end_date_is_signed_to_the_minute_and_a_past_one_is_refused(qtbot, tab, wallet_state, market_env):
    import time

    state, env = tab.state, market_env
    open_tab(qtbot, tab, wallet_state)
    previews = Previews(tab)
    tab.views.setCurrentIndex(1)
    tab.select(tab.held_view, row_of(state, ACCOUNT_1, env.token_id))
    click(qtbot, tab.list_button)
    dialog = tab.last_dialog
    dialog.price.setText("0.1")
    dialog.expiry.set_custom(int(time.time()) - 3_600)
    assert dialog.expiry.custom.isVisible()
    click(qtbot, dialog.submit_button)
    assert "at least a minute from now" in dialog.error.text() and dialog.isVisible() and previews.dialogs == []
    end = (int(time.time()) // 60 + 3 * 24 * 60) * 60  # three days ahead, on the minute
    dialog.expiry.set_custom(end)
    click(qtbot, dialog.submit_button)
    previews.answer(qtbot)  # Seaport approved for the collection
    signature = previews.answer(qtbot)
    assert signature.value_labels["Valid until"].text() == time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(end))
    idle(qtbot, state)
    sync(qtbot, state)
    [listing] = state.listings.rows()
    assert (listing.kind, listing.ends) == ("seaport", end)


def test_artist_sells_from_the_tab_and_the_collector_buys_both(qtbot, tab, wallet_state, market_env):
    state, env = tab.state, market_env
    open_tab(qtbot, tab, wallet_state)
    assert tab.listings_page.currentWidget() is tab.listings_page.empty
    assert "Nothing is for sale" in tab.listings_page.empty.text()
    # nothing held for the account: the button says so and cannot be pressed (no red error to read)
    assert tab.withdraw_button.text() == "Nothing to withdraw" and not tab.withdraw_button.isEnabled()
    assert state.payment_due(ACCOUNT_1) == 0
    previews = Previews(tab)

    # The artist lists the minted token from "My collection"; the dialog shows the sale's split.
    tab.views.setCurrentIndex(1)
    tab.select(tab.held_view, row_of(state, ACCOUNT_1, env.token_id))
    click(qtbot, tab.list_button)
    dialog = tab.last_dialog
    assert isinstance(dialog, SellDialog) and dialog.isVisible() and not dialog.escrow
    dialog.price.setText("0.1")
    qtbot.waitUntil(lambda: dialog.quote is not None, timeout=JOB_MS)
    royalty = PRICE * ROYALTY_BPS // 10_000
    assert dialog.royalty_line.text().startswith("0.005 ETH to 0x")
    assert dialog.proceeds_line.text() == "0.095 ETH" and dialog.fee_line.text().startswith("none")
    dialog.expiry.choose("30 days")
    click(qtbot, dialog.submit_button)
    approval = previews.answer(qtbot)
    listing_preview = previews.answer(qtbot)
    assert isinstance(approval, TxPreviewDialog) and approval.preview.sender == ACCOUNT_1
    assert isinstance(listing_preview, SignaturePreviewDialog) and listing_preview.preview.action == \
        "Signing the listing"
    assert listing_preview.value_labels["Price"].text() == "0.1 ETH"
    assert listing_preview.value_labels["The creator (royalty) receives"].text() == "0.005 ETH (when it sells)"
    assert listing_preview.value_labels["You receive"].text() == "0.095 ETH (when it sells)"
    assert listing_preview.value_labels["You send now"].text() == "nothing (no gas)"
    idle(qtbot, state)

    # ... and lazily lists the unminted work: a signature, no transaction.
    click(qtbot, tab.lazy_button)
    lazy_dialog = tab.last_dialog
    assert isinstance(lazy_dialog, LazyListDialog)
    assert lazy_dialog.work_combo.currentData().id == env.lazy_work.id
    assert lazy_dialog.name.text() == "Lazy dawn"
    lazy_dialog.price.setText("0.2")
    click(qtbot, lazy_dialog.submit_button)
    voucher = previews.answer(qtbot)
    assert isinstance(voucher, SignaturePreviewDialog) and voucher.preview.primary_type == "MintVoucher"
    idle(qtbot, state)
    sync(qtbot, state)
    qtbot.waitUntil(lambda: state.listings.rowCount() == 2, timeout=JOB_MS)
    seaport = next(item for item in state.listings.rows() if item.kind == "seaport")
    assert 29 * 86_400 < seaport.ends - env.connection.latest_block_time() <= 30 * 86_400
    assert tab.listings_page.currentWidget() is tab.listings_page.view
    assert not tab.buy_buttons[0].isEnabled()  # the artist's own listing

    # The collector buys both with the Buy buttons.
    wallet_state.select_account(ACCOUNT_2)
    assert "Account 2" in tab.buyer_label.text()
    assert all(button.isEnabled() for button in tab.buy_buttons)
    tab.views.setCurrentIndex(0)
    before = {a: env.balance(a) for a in (ACCOUNT_1, ACCOUNT_2, env.royalty_receiver)}
    fees = []
    state.action_succeeded.connect(lambda outcome: fees.append(outcome.result.fee_wei))
    kinds = [item.kind for item in state.listings.rows()]
    click(qtbot, tab.buy_buttons[0])
    bought = previews.answer(qtbot)
    assert bought.preview.sender == ACCOUNT_2 and bought.preview.value_wei in (PRICE, LAZY_PRICE)
    idle(qtbot, state)
    qtbot.waitUntil(lambda: state.listings.rowCount() == 1, timeout=JOB_MS)
    click(qtbot, tab.buy_buttons[0])
    previews.answer(qtbot)
    idle(qtbot, state)
    assert sorted(kinds) == ["lazy", "seaport"] and len(fees) == 2
    assert env.balance(ACCOUNT_1) - before[ACCOUNT_1] == PRICE - royalty + LAZY_PRICE
    assert env.balance(env.royalty_receiver) - before[env.royalty_receiver] == royalty
    assert before[ACCOUNT_2] - env.balance(ACCOUNT_2) == PRICE + LAZY_PRICE + sum(fees)
    qtbot.waitUntil(lambda: state.listings.rowCount() == 0, timeout=JOB_MS)
    assert tab.listings_page.currentWidget() is tab.listings_page.empty
    assert sorted(t.owner for t in state.held.rows()) == [ACCOUNT_2, ACCOUNT_2]
    assert tab.views.tabText(1) == "My collection (2)"
    assert "Bought token" in tab.notice.text()


def test_declining_the_preview_in_the_tab_sends_nothing(qtbot, tab, wallet_state, market_env):
    state, env = tab.state, market_env
    open_tab(qtbot, tab, wallet_state)
    previews = Previews(tab)
    nonce = env.connection.web3.eth.get_transaction_count(ACCOUNT_1)
    tab.views.setCurrentIndex(1)
    tab.select(tab.held_view, row_of(state, ACCOUNT_1, env.token_id))
    click(qtbot, tab.list_button)
    tab.last_dialog.price.setText("0.1")
    click(qtbot, tab.last_dialog.submit_button)
    previews.answer(qtbot, accept=False)
    idle(qtbot, state)
    assert "Nothing was signed" in tab.notice.text() and not tab.error_banner.isVisible()
    assert env.connection.web3.eth.get_transaction_count(ACCOUNT_1) == nonce
    assert env.owner_of(env.token_id) == ACCOUNT_1


def test_a_bad_price_stays_in_the_dialog_and_nothing_starts(qtbot, tab, wallet_state, market_env):
    state = tab.state
    open_tab(qtbot, tab, wallet_state)
    tab.views.setCurrentIndex(1)
    tab.select(tab.held_view, 0)
    click(qtbot, tab.list_button)
    dialog = tab.last_dialog
    dialog.price.setText("0")
    click(qtbot, dialog.submit_button)
    assert dialog.isVisible() and "more than zero" in dialog.error.text()
    assert not state.busy
    dialog.reject()
    wallet_state.lock()
    click(qtbot, tab.list_button)
    tab.last_dialog.price.setText("0.1")
    click(qtbot, tab.last_dialog.submit_button)
    assert "locked" in tab.last_dialog.error.text()
    assert "locked" in tab.buyer_label.text()


def test_offer_from_listings_accepted_from_the_offers_view(qtbot, tab, wallet_state, market_env):
    state, env = tab.state, market_env
    open_tab(qtbot, tab, wallet_state)
    previews = Previews(tab)
    tab.views.setCurrentIndex(1)
    tab.select(tab.held_view, row_of(state, ACCOUNT_1, env.token_id))
    click(qtbot, tab.list_button)
    tab.last_dialog.price.setText("0.1")
    click(qtbot, tab.last_dialog.submit_button)
    previews.answer(qtbot)
    previews.answer(qtbot)
    idle(qtbot, state)
    qtbot.waitUntil(lambda: state.listings.rowCount() == 1, timeout=JOB_MS)

    wallet_state.select_account(ACCOUNT_2)
    tab.views.setCurrentIndex(0)
    click(qtbot, tab.offer_buttons[0])
    offer = tab.last_dialog
    assert isinstance(offer, OfferDialog) and "0.1 ETH" in offer.listing_line.text() and not offer.escrow
    offer.amount.setText("0.04")
    offer.expiry.choose("1 day")
    click(qtbot, offer.submit_button)
    assert previews.answer(qtbot).preview.value_wei == 4 * 10**16  # wrapping the ETH the offer needs
    previews.answer(qtbot)  # approving Seaport for the WETH
    signed = previews.answer(qtbot)
    assert isinstance(signed, SignaturePreviewDialog) and signed.value_labels["Offer"].text() == "0.04 WETH"
    idle(qtbot, state)
    qtbot.waitUntil(lambda: state.offers_made.rowCount() == 1, timeout=JOB_MS)
    assert tab.views.tabText(2) == "Offers (0 in · 1 out)"  # Account 2's own offer

    tab.account_combo.setCurrentIndex(0)  # the holder accepts it, acting as itself
    assert tab.views.tabText(2) == "Offers (1 in · 0 out)"
    tab.views.setCurrentIndex(2)
    tab.select(tab.incoming_view, 0)
    click(qtbot, tab.accept_button)
    accepted = previews.answer(qtbot)
    assert accepted.preview.sender == ACCOUNT_1 and accepted.preview.action == "Accepting the offer"
    idle(qtbot, state)
    qtbot.waitUntil(lambda: state.offers_incoming.rowCount() == 0 and state.listings.rowCount() == 0,
                    timeout=JOB_MS)
    assert env.owner_of(env.token_id) == ACCOUNT_2
    assert tab.offers_page.currentWidget() is tab.offers_page.empty


def test_one_acting_account_shown_in_the_header_is_used_by_every_market_action(qtbot, tab, wallet_state,
                                                                               market_env):
    from studio.errors import InputError

    state, env = tab.state, market_env
    open_tab(qtbot, tab, wallet_state)
    previews = Previews(tab)
    assert [tab.account_combo.itemText(i) for i in range(tab.account_combo.count())] == ["Account 1", "Account 2"]
    assert tab.account_combo.currentText() == "Account 1" and tab.account_combo.isVisible()

    tab.account_combo.setCurrentIndex(1)  # the collector, chosen in the Market's header
    assert wallet_state.current_account == ACCOUNT_2  # the one acting account: Wallet tab and status bar too
    assert "Account 2" in tab.buyer_label.text()
    tab._run(lambda: state.trades.make_offer(env.collection.address, env.token_id, "0.04"))
    assert [previews.answer(qtbot).preview for _ in range(3)][2].signer == ACCOUNT_2  # wrap, approve, sign
    idle(qtbot, state)
    sync(qtbot, state)
    assert state.held.rowCount() == 0 and tab.views.tabText(1) == "My collection (0)"  # not Account 1's tokens
    assert tab.collection_page.currentWidget() is tab.collection_page.empty
    assert tab.collection_page.empty.text().startswith("Account 2 holds no token on ")
    assert not tab.list_button.isEnabled()
    assert (state.offers_made.rowCount(), state.offers_incoming.rowCount()) == (1, 0)
    assert tab.views.tabText(2) == "Offers (0 in · 1 out)"
    others_token = next(t for t in state.snapshot.held if t.owner == ACCOUNT_1)
    with pytest.raises(InputError, match="belongs to Account 1"):  # never signed by its holder behind your back
        state.trades.list_token(others_token, "0.1")
    others_offer = next(line for line in state.snapshot.offers_incoming)
    with pytest.raises(InputError, match="belongs to Account 1"):
        state.trades.accept_offer(others_offer)
    assert state.my_collections() == []  # the collection is Account 1's: no lazy listing as Account 2
    click(qtbot, tab.lazy_button)
    assert tab.last_dialog.empty.text().startswith("Account 2 owns no collection on ")
    tab.last_dialog.reject()

    tab.account_combo.setCurrentIndex(0)  # the artist again: its token and the offer on it
    assert wallet_state.current_account == ACCOUNT_1
    assert [t.owner for t in state.held.rows()] == [ACCOUNT_1]
    assert (state.offers_made.rowCount(), state.offers_incoming.rowCount()) == (0, 1)
    assert [c.address for c in state.my_collections()] == [env.collection.address]
    tab.views.setCurrentIndex(2)
    tab.select(tab.incoming_view, 0)
    click(qtbot, tab.accept_button)
    approval, accepted = previews.answer(qtbot), previews.answer(qtbot)
    assert approval.preview.sender == accepted.preview.sender == ACCOUNT_1
    idle(qtbot, state)
    assert env.owner_of(env.token_id) == ACCOUNT_2


def test_names_and_descriptions_from_metadata_are_plain_text(qtbot, tab, wallet_state, market_env, tmp_path):
    from studio.storage.store import LocalStore
    from studio.ui.state.market import plain_tooltip
    from studio.workflows.mint import MintItem, mint_works
    from test_market_state import signed_work

    state, env = tab.state, market_env
    name = "<b>Bold</b> <a href='https://evil.example'>claim</a>"
    path = signed_work(tmp_path / "markup.png", env.artist, 7)
    minted = mint_works([MintItem(path, name, description="<img src=x>")], env.collection, signer=env.artist,
                        connection=env.connection, store=LocalStore.default(), library=env.library)
    token_id = minted.minted[0].token.token_id
    open_tab(qtbot, tab, wallet_state)
    qtbot.waitUntil(lambda: all(t.card is not None for t in state.held.rows()), timeout=JOB_MS)
    row = row_of(state, ACCOUNT_1, token_id)
    assert state.held.data(state.held.index(row, 1)) == name
    assert state.held.rows()[row].card.details.description == "<img src=x>"
    assert plain_tooltip("<img src=x>\nnext") == "<qt>&lt;img src=x&gt;<br>next</qt>"
    tab.views.setCurrentIndex(1)
    tab.select(tab.held_view, row)
    click(qtbot, tab.list_button)
    title = tab.last_dialog.findChild(QLabel, "heroTitle")
    assert title.textFormat() == Qt.TextFormat.PlainText and title.text() == name


def test_the_window_has_a_market_tab_built_with_the_wallet(window, qtbot):
    tabs = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert tabs == ["Create", "Avatars", "Gallery", "Market", "Collections", "Wallet"]
    assert window.market_state is None  # built on the tab's first visit
    window.tabs.setCurrentWidget(window.market_page)
    assert window.market_state is not None and window.market_page.layout().count() == 1


def test_several_tokens_listed_with_one_signature_then_searched_sorted_and_cancelled(qtbot, tab, wallet_state,
                                                                                    market_env, tmp_path):
    state, env = tab.state, market_env
    second = env.mint(5, tmp_path)
    open_tab(qtbot, tab, wallet_state)
    previews = Previews(tab)
    tab.views.setCurrentIndex(1)
    tab.select(tab.held_view, row_of(state, ACCOUNT_1, env.token_id), row_of(state, ACCOUNT_1, second))
    assert tab.list_button.text() == "List 2 with one signature…" and not tab.change_button.isEnabled()
    click(qtbot, tab.list_button)
    dialog = tab.last_dialog
    assert isinstance(dialog, BulkListDialog) and len(dialog.prices) == 2
    dialog.price_all.setText("0.1")
    dialog.prices[1].setText("0.3")
    dialog.prices[1].setModified(True)
    dialog.price_all.setText("0.2")  # a typed price stays
    assert [e.text() for e in dialog.prices] == ["0.2", "0.3"]
    click(qtbot, dialog.submit_button)
    previews.answer(qtbot)  # Seaport approved for the collection, once
    bulk = previews.answer(qtbot)
    assert isinstance(bulk, SignaturePreviewDialog) and bulk.preview.primary_type == "BulkOrder"
    assert bulk.value_labels["The buyers send"].text() == "0.5 ETH (as each sells)"
    idle(qtbot, state)
    sync(qtbot, state)
    assert sorted(item.price_wei for item in state.listings.rows()) == [2 * PRICE, 3 * PRICE]

    tab.views.setCurrentIndex(0)
    tab.sort_combo.setCurrentIndex(tab.sort_combo.findData("price_high"))
    assert [item.price_wei for item in state.listings.rows()] == [3 * PRICE, 2 * PRICE]
    assert tab.buy_buttons[0].text() == "Buy · 0.3 ETH"  # the buttons follow the order shown
    tab.search.setText("no such work")
    assert tab.listings_page.currentWidget() is tab.listings_page.empty
    assert "No listing matches" in tab.listings_page.empty.text()
    tab.search.setText(f"#{second}")
    assert [item.token_id for item in state.listings.rows()] == [second]
    tab.search.clear()

    tab.views.setCurrentIndex(3)
    assert tab.views.tabText(3) == "My orders (2)" and tab.orders_stack.currentWidget() is tab.orders_view
    tab.select(tab.orders_view, 0)
    click(qtbot, tab.cancel_order_button)
    assert previews.answer(qtbot).preview.call.function == "cancel"
    idle(qtbot, state)
    sync(qtbot, state)
    assert tab.views.tabText(3) == "My orders (1)"
    click(qtbot, tab.cancel_all_button)
    assert previews.answer(qtbot).preview.call.function == "incrementCounter"
    idle(qtbot, state)
    sync(qtbot, state)
    assert tab.views.tabText(3) == "My orders (0)" and tab.orders_stack.currentWidget() is tab.orders_empty
    assert state.listings.rowCount() == 0
