"""The artist's whole path in the real main window on the embedded devnet, as a person clicks it: import
the test phrase into the wallet, generate three works on the Create tab (demo model, 64x64, 2 steps;
the saves are signed by the unlocked account), mint two of them from the mint dialog into a
collection created with "New collection…", list one from the Market tab's "My collection", lazily
list the third, switch to the wallet's second account and buy both with the Buy buttons. Every
preview is answered by pressing Sign in the dialog the window opened. Afterwards: exact balances
(seller, buyer, royalty receiver), the royalty on chain, the library's tokens and mint attempts,
and who holds what (MarketStore.my_tokens and the tab's "My collection")."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from wallet_helpers import ACCOUNT_1, ACCOUNT_2, JOB_MS, PASSWORD, TEST_PHRASE, close_devnets, wait_job

RECEIVER = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"  # account 10 of the phrase, not in the wallet
PRICE = 10**17            # 0.1 ETH
LAZY_PRICE = 2 * 10**17   # 0.2 ETH
ROYALTY_BPS = 500


@pytest.fixture(autouse=True)
def fast_wallet(monkeypatch) -> Iterator[None]:
    """A cheap scrypt for the wallet the window builds; the devnet closed after the window."""
    import studio.chain.keystore as keystore

    monkeypatch.setattr(keystore, "DEFAULT_KDF_N", 2**10)
    yield
    close_devnets()


def click(qtbot, button) -> None:
    assert button.isEnabled(), f"{button.text()} is disabled"
    assert button.isVisible(), f"{button.text()} is hidden"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


class Previews:
    """The Market tab's preview dialogs, each answered by pressing Sign in turn."""

    def __init__(self, tab) -> None:
        self.dialogs: list[QDialog] = []
        self.answered = 0
        tab.preview_shown.connect(self.dialogs.append)

    def sign_next(self, qtbot) -> QDialog:
        qtbot.waitUntil(lambda: len(self.dialogs) > self.answered, timeout=JOB_MS)
        dialog = self.dialogs[self.answered]
        self.answered += 1
        click(qtbot, dialog.sign_button)
        assert not dialog.isVisible()
        return dialog


def _generate_three_works(qtbot, window) -> list[Path]:
    create = window.create_state
    create.prompt, create.count = "a lighthouse at dawn", 3
    with qtbot.waitSignal(create.job_finished, timeout=JOB_MS):
        assert create.generate() is not None
    assert create.error == "" and create.results.rowCount() == 3
    return [item.path for item in create.results.items]


def _mint_two_into_a_new_collection(qtbot, window, work_ids: list[int]):
    """The mint dialog for two works; its collection made with “New collection…”; returns the result."""
    from studio.ui.dialogs.mint import NEW_COLLECTION, RESULT_PAGE, SUMMARY_PAGE, MintDialog
    from studio.ui.state.mint import DONE

    window.open_mint_dialog(work_ids)
    dialog = window.findChild(MintDialog)
    assert dialog is not None and dialog.isVisible() and len(dialog.state.drafts) == 2
    assert [dialog.collection_combo.itemData(i) for i in range(dialog.collection_combo.count())] == [NEW_COLLECTION]

    with qtbot.waitSignal(dialog.collection_dialog_shown, timeout=5_000) as shown:
        dialog.collection_combo.activated.emit(dialog.collection_combo.findData(NEW_COLLECTION))
    new = shown.args[0]
    new.name.setText("Dawns")
    new.symbol.setText("DAWN")
    new.receiver.setText(RECEIVER)
    new.royalty.setValue(ROYALTY_BPS / 100)
    with qtbot.waitSignal(new.preview_shown, timeout=JOB_MS) as previewed:
        click(qtbot, new.go_button)
    deploy = previewed.args[0]
    assert deploy.preview.action.startswith("Deploying the collection ") and deploy.preview.sender == ACCOUNT_1
    with qtbot.waitSignal(new.accepted, timeout=JOB_MS):
        click(qtbot, deploy.sign_button)
    collection = new.collection
    assert dialog.state.collection_address == collection.address == dialog.collection_combo.currentData()

    for row, name in enumerate(("Dawn I", "Dawn II")):
        dialog.works.setCurrentRow(row)
        dialog.name_edit.clear()
        qtbot.keyClicks(dialog.name_edit, name)
    with qtbot.waitSignal(dialog.state.estimated, timeout=JOB_MS):
        click(qtbot, dialog.next_button)
    assert dialog.pages.currentIndex() == SUMMARY_PAGE and dialog.state.estimate.batch
    with qtbot.waitSignal(dialog.preview_shown, timeout=JOB_MS) as previewed:
        click(qtbot, dialog.mint_button)
    mint_preview = previewed.args[0]
    assert mint_preview.preview.action == "Minting the batch" and mint_preview.preview.sender == ACCOUNT_1
    with qtbot.waitSignal(dialog.state.minted, timeout=JOB_MS):
        click(qtbot, mint_preview.sign_button)
    qtbot.waitUntil(lambda: not dialog.state.busy, timeout=JOB_MS)
    assert dialog.pages.currentIndex() == RESULT_PAGE and dialog.state.stage == DONE
    result = dialog.state.result
    click(qtbot, dialog.close_button)
    qtbot.waitUntil(lambda: window.findChild(MintDialog) is None or not dialog.isVisible(), timeout=5_000)
    return collection, result


def _held_row(state, owner: str, token_id: int) -> int:
    return next(i for i, t in enumerate(state.held.rows()) if t.owner == owner and t.token_id == token_id)


@pytest.mark.slow
def test_create_mint_list_lazy_list_and_buy_both_in_the_main_window(qtbot, window, content_hashes) -> None:
    from studio.chain.contracts import CollectionContract
    from studio.library.market import MarketStore
    from studio.storage.cid import Cid
    from studio.storage.store import LocalStore
    from studio.ui.dialogs.sell import LazyListDialog, SellDialog
    from studio.ui.dialogs.signature_preview import SignaturePreviewDialog
    from studio.ui.dialogs.tx_preview import TxPreviewDialog

    # The wallet: the test phrase imported, two accounts, unlocked.
    qtbot.waitUntil(lambda: window.wallet_state is not None, timeout=5_000)
    wallet = window.wallet_state
    assert not wallet.wallet.exists
    wait_job(qtbot, wallet.keys.import_phrase(TEST_PHRASE, PASSWORD, PASSWORD, count=2))
    if not wallet.wallet.is_unlocked:
        wait_job(qtbot, wallet.unlock(PASSWORD))
    qtbot.waitUntil(lambda: wallet.accounts.rowCount() == 2 and not wallet.busy, timeout=JOB_MS)
    assert [row.address for row in wallet.accounts.rows()] == [ACCOUNT_1, ACCOUNT_2]
    assert wallet.current_account == ACCOUNT_1

    # Three works from the Create tab, then two of them minted into a new collection.
    paths = _generate_three_works(qtbot, window)
    work_ids = [item.work.work_id for item in window.create_state.results.items]
    saved = len(content_hashes)  # each save hashed its file once, to record it
    collection, minted = _mint_two_into_a_new_collection(qtbot, window, work_ids[:2])
    assert [m.token.token_id for m in minted.minted] == [1, 2]
    # from the dialog to the token, each file is hashed once: at the upload, checked against the library's hash
    assert [content_hashes[saved:].count(m.work.sha256) for m in minted.minted] == [1, 1]
    assert len(content_hashes) == saved + 2
    connection = wallet.session.connection()
    contract = CollectionContract(connection, collection.address)
    assert contract.owner() == ACCOUNT_1 and contract.total_supply() == 2

    # The Market tab: the artist lists token 1 from "My collection" ...
    window.tabs.setCurrentWidget(window.market_page)
    tab, market = window.market_tab, window.market_state
    qtbot.waitUntil(lambda: market.snapshot is not None and not market.syncing, timeout=JOB_MS)
    qtbot.waitUntil(lambda: len(market.held.rows()) == 2, timeout=JOB_MS)
    previews = Previews(tab)
    tab.views.setCurrentIndex(1)
    tab.select(tab.held_view, _held_row(market, ACCOUNT_1, 1))
    click(qtbot, tab.list_button)
    sell = tab.last_dialog
    assert isinstance(sell, SellDialog) and sell.isVisible()
    sell.price.setText("0.1")
    sell.expiry.combo.setCurrentIndex(sell.expiry.combo.findData(86_400))  # valid for one day
    qtbot.waitUntil(lambda: sell.quote is not None, timeout=JOB_MS)
    royalty = PRICE * ROYALTY_BPS // 10_000
    assert sell.quote.royalty_wei == royalty and sell.proceeds_line.text() == "0.095 ETH"
    sent_before = len(wallet.session.history.entries(sender=ACCOUNT_1))
    click(qtbot, sell.submit_button)
    approval, listing = previews.sign_next(qtbot), previews.sign_next(qtbot)
    assert isinstance(approval, TxPreviewDialog)
    assert approval.preview.action == f"Approving Seaport for Dawns ({collection.address})"
    assert isinstance(listing, SignaturePreviewDialog) and listing.preview.primary_type == "OrderComponents"
    assert listing.value_labels["The buyer sends"].text() == "0.1 ETH (when it sells)"
    assert listing.value_labels["You send now"].text() == "nothing (no gas)"
    qtbot.waitUntil(lambda: not market.busy, timeout=JOB_MS)
    assert len(wallet.session.history.entries(sender=ACCOUNT_1)) == sent_before + 1  # the approval only

    # ... and lazily lists the third work: a voucher signature, no transaction.
    click(qtbot, tab.lazy_button)
    lazy = tab.last_dialog
    assert isinstance(lazy, LazyListDialog)
    assert lazy.collection_combo.currentData().address == collection.address
    works = [lazy.work_combo.itemData(i) for i in range(lazy.work_combo.count())]
    assert [Path(w.path) for w in works] == [paths[2].resolve()]  # the minted two are not offered
    lazy.name.setText("Dawn III")
    lazy.price.setText("0.2")
    click(qtbot, lazy.submit_button)
    voucher = previews.sign_next(qtbot)
    assert isinstance(voucher, SignaturePreviewDialog) and voucher.preview.primary_type == "MintVoucher"
    qtbot.waitUntil(lambda: not market.busy, timeout=JOB_MS)
    assert contract.total_supply() == 2  # nothing minted by the lazy listing
    qtbot.waitUntil(lambda: market.listings.rowCount() == 2 and not market.syncing, timeout=JOB_MS)
    assert sorted(item.kind for item in market.listings.rows()) == ["lazy", "seaport"]
    [order] = [item for item in market.listings.rows() if item.kind == "seaport"]
    assert 0 < order.ends - connection.latest_block_time() <= 86_400 and contract.owner_of(1) == ACCOUNT_1

    # The collector: the wallet's second account buys both with the Buy buttons.
    wallet.select_account(ACCOUNT_2)
    assert "Account 2" in tab.buyer_label.text()
    tab.views.setCurrentIndex(0)
    before = {who: connection.balance(who) for who in (ACCOUNT_1, ACCOUNT_2, RECEIVER)}
    fees: list[int] = []
    market.action_succeeded.connect(lambda outcome: fees.append(outcome.result.fee_wei))
    for remaining in (1, 0):
        click(qtbot, tab.buy_buttons[0])
        bought = previews.sign_next(qtbot)
        assert bought.preview.sender == ACCOUNT_2 and bought.preview.value_wei in (PRICE, LAZY_PRICE)
        qtbot.waitUntil(lambda: not market.busy, timeout=JOB_MS)
        qtbot.waitUntil(lambda: market.listings.rowCount() == remaining and not market.syncing, timeout=JOB_MS)
    assert len(fees) == 2 and market.error == ""

    # Balances to the wei: the seller's share and the lazy price, the royalty, the buyer's price and gas.
    assert connection.balance(ACCOUNT_1) - before[ACCOUNT_1] == PRICE - royalty + LAZY_PRICE
    assert connection.balance(RECEIVER) - before[RECEIVER] == royalty
    assert before[ACCOUNT_2] - connection.balance(ACCOUNT_2) == PRICE + LAZY_PRICE + sum(fees)
    assert [contract.owner_of(t) for t in (1, 2, 3)] == [ACCOUNT_2, ACCOUNT_1, ACCOUNT_2]
    for token_id in (1, 3):
        info = contract.royalty_info(token_id, 10_000)
        assert (info.receiver, info.amount_wei) == (RECEIVER, ROYALTY_BPS)

    # The lazily listed token carries the generated work's signed provenance.
    lazy_metadata = json.loads(LocalStore.default().cat(Cid.parse(contract.token_uri(3)[len("ipfs://"):])))
    assert lazy_metadata["name"] == "Dawn III" and lazy_metadata["provenance"]["creator"] == ACCOUNT_1

    # The library: the two minted tokens with their transaction, the attempts "minted", who holds what.
    # The lazily listed work, bought, holds its token too (recorded from the redemption), so the
    # Gallery shows it minted and it cannot be minted again.
    library = window.library
    store = MarketStore(library)
    [redeemed] = store.vouchers(1337, status="redeemed")
    assert [(t.token_id, t.tx_hash, t.owner) for t in library.tokens(1337, collection.address)] == [
        (1, minted.tx_hash, ACCOUNT_1), (2, minted.tx_hash, ACCOUNT_1), (3, redeemed.redeem_tx, ACCOUNT_2)]
    assert [Path(library.work(t.work_id).path) for t in library.tokens(1337, collection.address)] == [
        p.resolve() for p in paths]
    assert [(a.state, a.tx_hash) for a in library.attempts(chain_id=1337)] == [("minted", minted.tx_hash)] * 2
    assert [t.token_id for t in store.my_tokens(1337, ACCOUNT_2)] == [1, 3]
    assert [(t.token_id, t.listed) for t in store.my_tokens(1337, ACCOUNT_1)] == [(2, False)]
    assert {(t.owner, t.token_id) for t in market.held.rows()} == {(ACCOUNT_2, 1), (ACCOUNT_2, 3)}  # the acting one's
    tab.account_combo.setCurrentIndex(0)  # the artist again, from the Market's header
    assert {(t.owner, t.token_id) for t in market.held.rows()} == {(ACCOUNT_1, 2)}
    tab.account_combo.setCurrentIndex(1)
    assert tab.listings_page.currentWidget() is tab.listings_page.empty
    assert "Bought token" in tab.notice.text()
