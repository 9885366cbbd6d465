"""WETH in the Wallet tab over the real embedded devnet: the acting account's WETH beside its ETH,
Wrap… and Unwrap… through the one transaction preview, and what is refused before anything is sent."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from studio.ui.dialogs.tx_preview import TxPreviewDialog
from studio.ui.dialogs.weth import WethDialog
from studio.ui.state.wallet import WalletState
from studio.ui.state.wallet_send import SendOutcome
from dialog_helpers import emit_after_deleting
from wallet_helpers import ACCOUNT_1, JOB_MS, refresh, unlock

HALF = 5 * 10**17


@pytest.fixture
def ready_state(qtbot, wallet_state: WalletState) -> WalletState:
    from studio.chain.devnet import Devnet
    from studio.workflows.seaport_market import seaport_venue

    unlock(qtbot, wallet_state)
    seaport_venue(wallet_state.network, Devnet.shared().connection())  # deployed first: its deployer is account 1
    refresh(qtbot, wallet_state)
    qtbot.waitUntil(lambda: wallet_state.weth.held() is not None, timeout=JOB_MS)
    return wallet_state


def eth(state: WalletState) -> int:
    return state.account_row(ACCOUNT_1).balance_wei


def open_dialog(qtbot, state: WalletState, kind: str, amount: str) -> WethDialog:
    dialog = WethDialog(state, kind, timeout=20)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.amount, amount)
    return dialog


def review(qtbot, dialog: WethDialog) -> TxPreviewDialog:
    with qtbot.waitSignal(dialog.preview_shown, timeout=JOB_MS) as shown:
        qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
    return shown.args[0]


def sign(qtbot, state: WalletState, dialog: WethDialog, preview: TxPreviewDialog) -> SendOutcome:
    with qtbot.waitSignal(state.refreshed, timeout=JOB_MS):
        with qtbot.waitSignal(dialog.send_finished, timeout=JOB_MS) as finished:
            qtbot.mouseClick(preview.sign_button, Qt.MouseButton.LeftButton)
    outcome = finished.args[0]
    assert isinstance(outcome, SendOutcome), outcome
    return outcome


def test_wrap_half_an_eth_then_unwrap_it_back_costs_only_the_fees(qtbot, ready_state: WalletState) -> None:
    state = ready_state
    assert state.weth.available and state.weth.line.endswith("0 WETH")
    eth_before = eth(state)

    dialog = open_dialog(qtbot, state, "wrap", "0.5")
    preview = review(qtbot, dialog)
    texts = {label: value.text() for label, value in preview.value_labels.items()}
    assert texts["Value"] == "0.5 ETH" and texts["From"] == ACCOUNT_1
    assert "WETH" in texts["To"]  # the studio's WETH, named
    wrapped = sign(qtbot, state, dialog, preview)
    assert "Wrapped: confirmed in block" in dialog.status.text()
    qtbot.waitUntil(lambda: state.weth.held() == HALF, timeout=JOB_MS)
    assert eth(state) == eth_before - HALF - wrapped.receipt.fee_wei
    assert state.weth.line.endswith("0.5 WETH")
    assert dialog.balances.text().endswith("0.5 WETH")

    eth_wrapped = eth(state)
    back = open_dialog(qtbot, state, "unwrap", "0.5")
    unwrapped = sign(qtbot, state, back, review(qtbot, back))
    qtbot.waitUntil(lambda: state.weth.held() == 0, timeout=JOB_MS)
    assert eth(state) == eth_wrapped + HALF - unwrapped.receipt.fee_wei
    assert [e.description for e in state.session.history_entries()] == ["Unwrapping WETH", "Wrapping ETH"]


def test_a_closed_wrap_dialog_misses_the_next_weth_balances_and_an_open_one_shows_them(
        qtbot, ready_state: WalletState) -> None:
    state = ready_state
    live = open_dialog(qtbot, state, "wrap", "")
    closed = WethDialog(state, "unwrap")
    assert live.balances.text().endswith("0 WETH") and closed.balances.text().endswith("0 WETH")
    exceptions = emit_after_deleting(qtbot, closed, state.weth.clear)  # the node stopped answering: unknown
    assert exceptions == []  # before: "Internal C++ object already deleted" where a slot kept the dialog
    assert live.balances.text().endswith("·  —")  # the open one says its WETH is unknown now
    refresh(qtbot, state)
    qtbot.waitUntil(lambda: live.balances.text().endswith("0 WETH"), timeout=JOB_MS)


def test_unwrapping_more_than_held_is_refused_in_the_dialog(qtbot, ready_state: WalletState) -> None:
    dialog = open_dialog(qtbot, ready_state, "unwrap", "1")
    qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
    assert dialog.error.isVisible()
    assert "1 WETH is more than Account 1 holds (0 WETH)" in dialog.error.text()
    assert dialog.job is None and ready_state.session.history_entries() == []


def test_wrapping_all_the_balance_is_refused_for_the_fee(qtbot, ready_state: WalletState) -> None:
    from studio.ui.money import format_eth

    state = ready_state
    balance = eth(state)
    whole = format_eth(balance, "", exact=True).strip().replace(",", "")
    dialog = open_dialog(qtbot, state, "wrap", whole)
    qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
    assert "some must stay for the fee" in dialog.error.text()
    # less than the balance, but more than it less the gas: the node's answer is shown
    dialog.amount.setText(format_eth(balance - 1000, "", exact=True).strip().replace(",", ""))
    with qtbot.waitSignal(dialog.send_finished, timeout=JOB_MS):
        qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
    assert "leaves too little for the fee" in dialog.error.text()
    assert dialog.preview_dialog is None and state.session.history_entries() == []


def test_max_then_wrap_fills_in_the_balance_less_the_gas(qtbot, ready_state: WalletState) -> None:
    state = ready_state
    dialog = open_dialog(qtbot, state, "wrap", "")
    with qtbot.waitSignal(dialog.max_filled, timeout=JOB_MS) as filled:
        qtbot.mouseClick(dialog.max_button, Qt.MouseButton.LeftButton)
    most = filled.args[0]
    assert 0 < eth(state) - most < 10**16  # the reserve is a fee, not a guess
    preview = review(qtbot, dialog)
    assert preview.value_labels["Value"].text().replace(",", "") == dialog.amount.text() + " ETH"


def test_a_declined_wrap_preview_sends_nothing(qtbot, ready_state: WalletState) -> None:
    state = ready_state
    before = eth(state)
    dialog = open_dialog(qtbot, state, "wrap", "0.5")
    preview = review(qtbot, dialog)
    with qtbot.waitSignal(dialog.preview_declined, timeout=1000):
        qtbot.mouseClick(preview.cancel_button, Qt.MouseButton.LeftButton)
    assert "nothing was signed" in dialog.status.text()
    refresh(qtbot, state)
    assert eth(state) == before and state.session.history_entries() == []
    qtbot.waitUntil(lambda: state.weth.held() == 0, timeout=JOB_MS)


# ---- the tab ---------------------------------------------------------------------------------------


def test_the_tab_shows_weth_beside_eth_and_wrap_opens_the_dialog_then_hides_without_weth(
        qtbot, ready_state: WalletState, tmp_path) -> None:
    """Also renders the tab after a wrap, the Wrap dialog and its preview; set STUDIO_SCREENSHOTS to a
    folder to keep them."""
    import os
    from pathlib import Path

    from PySide6.QtGui import QGuiApplication

    from studio.ui.tabs.wallet import WalletTab
    from studio.ui.theme import apply_theme

    apply_theme(QGuiApplication.instance())
    folder = Path(os.environ.get("STUDIO_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    state = ready_state
    wrapped_already = open_dialog(qtbot, state, "wrap", "0.5")
    sign(qtbot, state, wrapped_already, review(qtbot, wrapped_already))
    wrapped_already.close()
    qtbot.waitUntil(lambda: state.weth.held() == HALF, timeout=JOB_MS)

    tab = WalletTab(state)
    qtbot.addWidget(tab)
    tab.resize(1200, 760)
    with qtbot.waitSignal(state.refreshed, timeout=JOB_MS):
        tab.show()
    qtbot.waitUntil(lambda: not state.busy, timeout=JOB_MS)
    assert tab.weth_row.isVisible() and tab.wrap_button.isVisible() and tab.unwrap_button.isVisible()
    assert tab.weth_label.text().startswith("Account 1: ") and tab.weth_label.text().endswith("·  0.5 WETH")
    assert tab.grab().save(str(folder / "wallet_tab_weth.png"))

    qtbot.mouseClick(tab.wrap_button, Qt.MouseButton.LeftButton)
    dialog = tab.last_dialog
    assert isinstance(dialog, WethDialog) and dialog.kind == "wrap" and dialog.isVisible()
    qtbot.keyClicks(dialog.amount, "0.25")
    preview = review(qtbot, dialog)
    qtbot.waitExposed(preview)
    assert dialog.grab().save(str(folder / "wrap_dialog.png"))
    assert preview.grab().save(str(folder / "wrap_preview.png"))
    preview.reject()
    dialog.reject()

    with qtbot.waitSignal(state.refreshed, timeout=JOB_MS):
        state.switch_network("sepolia")  # no node answers here: no WETH shown, no buttons
    assert not tab.weth_row.isVisible() and state.weth.line == ""
