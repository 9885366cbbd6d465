"""The Wallet tab and its place in the main window, real widgets offscreen over the embedded devnet:
empty state, status line, accounts, lock button, actions that unlock first, the network switcher,
pending transactions, the status bar, and screenshots of the tab and the send preview."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QGuiApplication

from studio.ui.dialogs.send import SendDialog
from studio.ui.dialogs.unlock import UnlockDialog
from studio.ui.dialogs.wallet_setup import WalletSetupWizard
from studio.ui.state.wallet import WalletState
from studio.ui.tabs.wallet import WalletTab
from wallet_helpers import ACCOUNT_1, ACCOUNT_2, DEVNET, JOB_MS, PASSWORD, TEST_PHRASE, close_devnets, unlock


def click(qtbot, button) -> None:
    assert button.isEnabled(), f"{button.text()} is disabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


@pytest.fixture
def tab(qtbot, wallet_state: WalletState) -> WalletTab:
    """The tab shown at a window's size; its first show refreshes from the devnet."""
    tab = WalletTab(wallet_state)
    qtbot.addWidget(tab)
    tab.resize(1200, 760)
    with qtbot.waitSignal(wallet_state.refreshed, timeout=JOB_MS):
        tab.show()
    return tab


def unlock_through_dialog(qtbot, tab: WalletTab) -> None:
    dialog = tab.last_dialog
    assert isinstance(dialog, UnlockDialog) and dialog.isVisible()
    qtbot.keyClicks(dialog.password, PASSWORD)
    with qtbot.waitSignal(dialog.accepted, timeout=JOB_MS):
        click(qtbot, dialog.unlock_button)


def test_without_a_wallet_the_tab_offers_create_and_import(qtbot, empty_session, pool) -> None:
    state = WalletState(empty_session, pool)
    tab = WalletTab(state)
    qtbot.addWidget(tab)
    tab.show()
    assert tab.stack.currentWidget() is tab.empty_page and not state.busy  # no node asked without a wallet
    click(qtbot, tab.create_button)
    wizard = tab.last_dialog
    assert isinstance(wizard, WalletSetupWizard) and wizard.isVisible() and wizard.choice.mode == "create"
    wizard.reject()
    click(qtbot, tab.import_button)
    assert tab.last_dialog.choice.mode == "phrase"
    tab.last_dialog.reject()
    state.stop()


def test_the_tab_shows_status_accounts_and_balances(qtbot, tab: WalletTab) -> None:
    state = tab.state
    assert tab.stack.currentWidget() is tab.main_page
    assert tab.network_status.text().startswith("Connected · chain 1337 · block ")
    assert tab.network_combo.currentData() == "devnet"
    assert tab.network_combo.currentText() == f"{DEVNET} · local"
    texts = [tab.network_combo.itemText(i) for i in range(tab.network_combo.count())]
    assert "Ethereum · MAINNET" in texts and "Sepolia (Ethereum testnet) · testnet" in texts
    model = tab.accounts_view.model()
    assert model.rowCount() == 2
    assert [model.data(model.index(0, c)) for c in range(3)] == ["Account 1", "0xf39F…2266", "1,000,000 ETH"]
    assert tab.accounts_view.selectionModel().selectedRows()[0].row() == 0
    assert tab.history_empty.isVisible() and not tab.speed_up_button.isEnabled()
    assert tab.lock_label.text() == "● Locked" and tab.lock_button.text() == "Unlock…"

    tab.accounts_view.selectionModel().select(model.index(1, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
                                              | QItemSelectionModel.SelectionFlag.Rows)
    assert state.current_account == ACCOUNT_2
    click(qtbot, tab.copy_button)
    assert QGuiApplication.clipboard().text() == ACCOUNT_2


def test_lock_button_unlocks_through_the_dialog_and_locks(qtbot, tab: WalletTab) -> None:
    click(qtbot, tab.lock_button)
    dialog = tab.last_dialog
    assert isinstance(dialog, UnlockDialog)
    qtbot.keyClicks(dialog.password, "wrong password")
    click(qtbot, dialog.unlock_button)
    qtbot.waitUntil(dialog.error.isVisible, timeout=JOB_MS)
    assert dialog.isVisible() and tab.lock_label.text() == "● Locked"
    unlock_through_dialog(qtbot, tab)
    assert tab.lock_label.text() == "● Unlocked" and tab.lock_button.text() == "Lock"
    click(qtbot, tab.lock_button)
    assert not tab.state.wallet.is_unlocked and tab.lock_label.text() == "● Locked"
    assert tab.notice_label.text() == "The wallet is locked."


def test_send_when_locked_asks_the_password_first(qtbot, tab: WalletTab) -> None:
    click(qtbot, tab.send_button)
    unlock_through_dialog(qtbot, tab)
    qtbot.waitUntil(lambda: isinstance(tab.last_dialog, SendDialog), timeout=5_000)
    assert tab.last_dialog.isVisible()
    assert tab.last_dialog.account_combo.currentData() == ACCOUNT_1
    tab.last_dialog.reject()


def test_the_idle_lock_shows_in_the_tab(qtbot, tab: WalletTab) -> None:
    state = tab.state
    unlock(qtbot, state)
    assert tab.lock_label.text() == "● Unlocked"
    state.set_idle_lock_minutes(1)
    state.check_idle(now=time.monotonic() + 61)
    assert tab.lock_label.text() == "● Locked" and "locked itself" in tab.notice_label.text()


def test_choosing_a_network_that_does_not_answer_shows_the_problem(qtbot, tab: WalletTab) -> None:
    state = tab.state
    state.session.registry.add_custom("dead", "Nothing here", "http://127.0.0.1:9", 5)
    state.networks_changed.emit()
    index = tab.network_combo.findData("dead")
    assert index >= 0
    with qtbot.waitSignal(state.refreshed, timeout=JOB_MS):
        tab.network_combo.setCurrentIndex(index)
    assert "does not answer" in tab.network_status.text()
    assert tab.accounts_view.model().data(tab.accounts_view.model().index(0, 2)) == "—"
    mainnet = tab.network_combo.findData("ethereum")
    assert tab.network_combo.itemData(mainnet, Qt.ItemDataRole.ForegroundRole) is not None


def test_a_pending_transaction_can_be_sped_up_and_errors_show_in_the_banner(qtbot, tab: WalletTab) -> None:
    state = tab.state
    unknown = "0x" + "ab" * 32
    state.session.history.record(tx_hash=unknown, network="devnet", chain_id=1337, sender=ACCOUNT_1,
                                 recipient=ACCOUNT_2, nonce=0, value_wei=10**17, description="Send ETH",
                                 max_fee_per_gas=10**9, max_priority_fee_per_gas=10**9, gas_limit=21_000)
    unlock(qtbot, state)
    with qtbot.waitSignal(state.refreshed, timeout=JOB_MS):
        click(qtbot, tab.refresh_button)
    assert tab.history_view.model().rowCount() == 1 and not tab.history_empty.isVisible()
    assert not tab.speed_up_button.isEnabled()
    tab.history_view.selectRow(0)
    assert tab.speed_up_button.isEnabled() and tab.cancel_tx_button.isEnabled()
    with qtbot.waitSignal(state.refreshed, timeout=JOB_MS):
        click(qtbot, tab.speed_up_button)
    assert tab.error_banner.isVisible() and "does not know the transaction" in tab.error_banner.label.text()
    click(qtbot, tab.error_banner.close_button)
    assert not tab.error_banner.isVisible() and state.error == ""


def test_copied_address_notice_clears_itself_and_spares_a_later_notice(qtbot, tab: WalletTab, monkeypatch) -> None:
    import studio.ui.state.wallet as wallet_module

    monkeypatch.setattr(wallet_module, "FLASH_MS", 200)
    click(qtbot, tab.copy_button)
    assert QGuiApplication.clipboard().text() == ACCOUNT_1
    assert tab.notice_label.text() == f"Copied {ACCOUNT_1}."
    qtbot.waitUntil(lambda: tab.notice_label.text() == "", timeout=5_000)
    click(qtbot, tab.copy_button)
    tab.state.notice = "The wallet is locked."  # a notice that came later stays
    qtbot.wait(400)
    assert tab.notice_label.text() == "The wallet is locked."


def test_add_account_from_the_tab(qtbot, tab: WalletTab) -> None:
    click(qtbot, tab.add_account_button)
    with qtbot.waitSignal(tab.state.refreshed, timeout=JOB_MS):
        unlock_through_dialog(qtbot, tab)
    qtbot.waitUntil(lambda: tab.accounts_view.model().rowCount() == 3, timeout=JOB_MS)
    assert tab.state.current_account == tab.state.accounts.row(2).address


def test_fund_from_devnet_gives_a_new_account_ten_eth_and_only_on_the_devnet(qtbot, tmp_path: Path, pool) -> None:
    from studio.chain.history import TxHistory
    from studio.chain.networks import NetworkRegistry
    from studio.chain.session import WalletSession
    from studio.chain.wallet import Wallet

    wallet = Wallet(tmp_path / "new-wallet" / "wallet.json", kdf_n=2**10)
    wallet.create(PASSWORD, words=12)  # a brand-new phrase: its account holds nothing on the devnet
    state = WalletState(WalletSession(wallet, NetworkRegistry(tmp_path), TxHistory(tmp_path / "h.sqlite")), pool)
    tab = WalletTab(state)
    qtbot.addWidget(tab)
    with qtbot.waitSignal(state.refreshed, timeout=JOB_MS):
        tab.show()
    qtbot.waitUntil(lambda: not state.busy, timeout=JOB_MS)
    assert state.accounts.row(0).balance_wei == 0
    assert tab.fund_button.isVisible() and tab.fund_button.isEnabled()  # no password needed: nothing of ours signs
    with qtbot.waitSignal(state.refreshed, timeout=JOB_MS):
        click(qtbot, tab.fund_button)
    qtbot.waitUntil(lambda: state.accounts.row(0).balance_wei == 10 * 10**18, timeout=JOB_MS)
    assert tab.accounts_view.model().data(tab.accounts_view.model().index(0, 2)).startswith("10")
    assert tab.notice_label.text().startswith("Account 1 received 10 ETH from the devnet's test account")
    state.session.registry.add_custom("dead", "Nothing here", "http://127.0.0.1:9", 5)
    state.networks_changed.emit()
    with qtbot.waitSignal(state.refreshed, timeout=JOB_MS):
        tab.network_combo.setCurrentIndex(tab.network_combo.findData("dead"))
    assert not tab.fund_button.isVisible()
    with pytest.raises(Exception, match="not the built-in devnet"):
        state.transfers.fund_from_devnet()
    state.stop()
    close_devnets()


@pytest.mark.slow
def test_transactions_show_the_deployment_and_a_batch_with_who_sent_them_and_filter_by_account(
        qtbot, tab: WalletTab, tmp_path: Path) -> None:
    from PIL import Image

    from studio.library.db import Library
    from studio.storage.store import LocalStore
    from studio.ui.dialogs.collection import CollectionDialog
    from studio.workflows.batch import batch_mint
    from wallet_helpers import wait_job

    state, session = tab.state, tab.state.session
    unlock(qtbot, state)
    with Library.default() as library:
        dialog = CollectionDialog(state, library)  # the GUI's deployment, as Account 1
        qtbot.addWidget(dialog)
        dialog.show()
        dialog.name.setText("Dawns")
        dialog.symbol.setText("DAWN")
        with qtbot.waitSignal(dialog.preview_shown, timeout=JOB_MS) as shown:
            click(qtbot, dialog.go_button)
        with qtbot.waitSignal(dialog.finished_with, timeout=JOB_MS) as finished:
            click(qtbot, shown.args[0].sign_button)
        collection = finished.args[0]
        folder = tmp_path / "drop"
        folder.mkdir()
        for index in range(2):
            Image.new("RGB", (16, 16), (index * 90, 40, 40)).save(folder / f"work-{index}.png")
        batch_mint(folder, collection, signer=session.contract_signer(ACCOUNT_1), connection=session.connection(),
                   store=LocalStore.default(), library=library, network=session.network,
                   batch_size=2)  # what `studio batch-mint` and the GUI's batch runs do (the signer carries the history)
    prepared = wait_job(qtbot, state.transfers.prepare_send(ACCOUNT_1, "0.1", account=ACCOUNT_2))
    wait_job(qtbot, state.transfers.send(prepared, confirmed=True))
    qtbot.waitUntil(lambda: state.activity.history.rowCount() == 3 and not state.busy, timeout=JOB_MS)

    model = tab.history_view.model()
    columns = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert columns[:3] == ["Time", "From", "Action"]
    rows = {(model.data(model.index(r, 1)), model.data(model.index(r, 2)), model.data(model.index(r, 5)))
            for r in range(model.rowCount())}
    assert rows == {("Account 1", "Deploying the collection Dawns (DAWN)", "confirmed"),
                    ("Account 1", "Minting 2 works in Dawns", "confirmed"),
                    ("Account 2", "Send ETH", "confirmed")}
    assert [tab.history_account.itemText(i) for i in range(tab.history_account.count())] == [
        "All accounts", "Account 1", "Account 2"]
    tab.history_account.setCurrentIndex(2)
    assert model.rowCount() == 1 and model.data(model.index(0, 2)) == "Send ETH"
    tab.history_account.setCurrentIndex(1)
    assert {model.data(model.index(r, 1)) for r in range(model.rowCount())} == {"Account 1"}
    assert model.rowCount() == 2
    tab.history_account.setCurrentIndex(0)
    assert model.rowCount() == 3


# ---- the main window -----------------------------------------------------------------------


def test_the_window_has_a_wallet_tab_and_shows_the_wallet_in_the_status_bar(qtbot, monkeypatch) -> None:
    import studio.chain.keystore as keystore
    from studio.chain.wallet import Wallet
    from studio.config import load_config
    from studio.generation.models import ModelCatalog
    from studio.ui.main_window import MainWindow

    monkeypatch.setattr(keystore, "DEFAULT_KDF_N", 2**10)
    Wallet.default().create(PASSWORD, phrase=TEST_PHRASE, accounts=2)
    config = load_config()
    window = MainWindow(config, ModelCatalog(config))
    qtbot.addWidget(window)
    assert window.wallet_state is None  # nothing read before the window is up
    try:
        window.show()
        qtbot.waitUntil(lambda: window.wallet_state is not None, timeout=5_000)
        assert "Wallet" in [window.tabs.tabText(i) for i in range(window.tabs.count())]
        assert window.chain_label.isVisible()
        assert window.chain_label.text() == f"Wallet locked · {DEVNET}"
        state = window.wallet_state
        with qtbot.waitSignal(state.refreshed, timeout=JOB_MS):
            window.tabs.setCurrentWidget(window.wallet_page)
        assert window.wallet_tab.accounts_view.model().rowCount() == 2
        unlock(qtbot, state)
        assert window.chain_label.text() == f"Account 1 0xf39F…2266 · {DEVNET}"
        config.set("wallet_idle_lock_minutes", 3)
        window.apply_settings({"wallet_idle_lock_minutes"})
        assert state.wallet.idle_lock_seconds == 180
    finally:
        window.close()
        close_devnets()
    assert not state.wallet.is_unlocked  # closing the window forgets the keys


@pytest.fixture
def locked_wallet(studio_home, monkeypatch) -> None:
    """A wallet of the test phrase in the studio home (cheap scrypt), locked as at every start."""
    import studio.chain.keystore as keystore
    from studio.chain.wallet import Wallet

    monkeypatch.setattr(keystore, "DEFAULT_KDF_N", 2**10)
    Wallet.default().create(PASSWORD, phrase=TEST_PHRASE, accounts=2)
    yield
    close_devnets()


def test_the_create_tab_warns_before_generating_with_a_locked_wallet_and_unlocks_it(
        qtbot, locked_wallet, window) -> None:
    tab, state = window.create_tab, window.create_state
    assert tab.signing_note.isVisible() and tab.unlock_button.isVisible()
    assert tab.signing_note.text().startswith("The wallet is locked: works made now are saved unsigned")
    assert state.current_signer() is None
    click(qtbot, tab.unlock_button)
    dialog = window.findChild(UnlockDialog)
    assert dialog is not None and dialog.isVisible()
    qtbot.keyClicks(dialog.password, PASSWORD)
    with qtbot.waitSignal(dialog.accepted, timeout=JOB_MS):
        click(qtbot, dialog.unlock_button)
    assert tab.signing_note.text() == "New works are signed by Account 1 (0xf39F…2266)."
    assert not tab.unlock_button.isVisible()
    assert state.current_signer().address == ACCOUNT_1
    window.wallet_state.lock()
    assert tab.signing_note.text().startswith("The wallet is locked") and tab.unlock_button.isVisible()


def test_without_a_wallet_the_create_tab_says_works_are_unsigned(qtbot, window) -> None:
    tab = window.create_tab
    qtbot.waitUntil(lambda: window.wallet_state is not None, timeout=5_000)
    assert tab.signing_note.text().startswith("No wallet: works are saved unsigned")
    assert not tab.unlock_button.isVisible()


# ---- screenshots ---------------------------------------------------------------------------------


def test_screenshots_of_the_tab_and_the_send_preview(qtbot, tab: WalletTab, tmp_path: Path) -> None:
    """Renders the tab with two accounts and a sent transaction, and the send preview; set
    STUDIO_SCREENSHOTS to a folder to keep them (they go to a temporary folder otherwise)."""
    from studio.ui.theme import apply_theme

    apply_theme(QGuiApplication.instance())
    folder = Path(os.environ.get("STUDIO_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    state = tab.state
    unlock(qtbot, state)
    session = state.session
    sent = session.send(session.prepare_send(ACCOUNT_2, 5 * 10**17), confirmed=False)
    session.wait(sent, timeout=20)
    with qtbot.waitSignal(state.refreshed, timeout=JOB_MS):
        state.refresh()
    qtbot.waitUntil(lambda: not state.busy, timeout=JOB_MS)
    tab.history_view.selectRow(0)
    image = tab.grab()
    assert image.save(str(folder / "wallet_tab.png"))
    assert image.width() >= 1200 and state.activity.history.rowCount() == 1

    dialog = SendDialog(state, tab)
    dialog.recipient.setText(ACCOUNT_2)
    dialog.amount.setText("0.25")
    with qtbot.waitSignal(dialog.preview_shown, timeout=JOB_MS) as shown:
        click(qtbot, dialog.review_button)
    preview = shown.args[0]
    qtbot.waitExposed(preview)
    assert preview.grab().save(str(folder / "tx_preview.png"))
    preview.reject()
    dialog.reject()

    from dataclasses import replace

    from studio.ui.dialogs.tx_preview import TxPreviewDialog

    mainnet = TxPreviewDialog(replace(preview.preview, network="Ethereum", network_key="ethereum", chain_id=1,
                                      is_mainnet=True), tab)
    mainnet.show()
    qtbot.waitExposed(mainnet)
    assert not mainnet.sign_button.isEnabled()
    assert mainnet.grab().save(str(folder / "tx_preview_mainnet.png"))
    mainnet.reject()
