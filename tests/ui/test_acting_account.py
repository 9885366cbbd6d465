"""One acting account for the whole window, switched from the header or the status bar: the Wallet
tab's selection, the Create tab's signer, the Collections' idea of "your own listing" and both
switchers follow it."""
from __future__ import annotations

import pytest

from wallet_helpers import ACCOUNT_1, ACCOUNT_2, JOB_MS, PASSWORD, TEST_PHRASE, close_devnets, unlock


@pytest.fixture
def locked_wallet(studio_home, monkeypatch) -> None:
    import studio.chain.keystore as keystore
    from studio.chain.wallet import Wallet

    monkeypatch.setattr(keystore, "DEFAULT_KDF_N", 2**10)
    Wallet.default().create(PASSWORD, phrase=TEST_PHRASE, accounts=2)
    yield
    close_devnets()


def test_switching_the_acting_account_in_the_header_updates_every_tab(qtbot, locked_wallet, window) -> None:
    qtbot.waitUntil(lambda: window.wallet_state is not None, timeout=5_000)
    state = window.wallet_state
    header, status = window.account_switcher, window.status_account_switcher
    assert window.tabs.cornerWidget() is header and header.isVisible()
    assert status.isVisible() and header.count() == 2 and status.count() == 2
    assert header.currentData() == status.currentData() == ACCOUNT_1
    unlock(qtbot, state)
    assert window.create_state.current_signer().address == ACCOUNT_1

    with qtbot.waitSignal(state.current_account_changed, timeout=JOB_MS):
        header.choose(ACCOUNT_2)
    assert state.current_account == ACCOUNT_2 and status.currentData() == ACCOUNT_2
    assert window.create_state.current_signer().address == ACCOUNT_2
    assert window.create_tab.signing_note.text() == "New works are signed by Account 2 (0x7099…79C8)."
    assert window.chain_label.text().startswith("Account 2 0x7099…79C8")
    window.tabs.setCurrentWidget(window.wallet_page)
    rows = window.wallet_tab.accounts_view.selectionModel().selectedRows()
    assert [r.row() for r in rows] == [1]

    window.tabs.setCurrentWidget(window.collector_page)  # its view-model asks the wallet who is acting
    from studio.workflows.collector import TokenCard

    listed_by_2 = TokenCard("0x" + "1" * 40, 3, "Dawn", owner=ACCOUNT_2, listing_price_wei=10**17,
                            listing_seller=ACCOUNT_2)
    assert window.collector_state.buy_state(listed_by_2) == (False, "This is your own listing.")

    status.choose(ACCOUNT_1)  # the status bar's switcher does the same
    assert state.current_account == ACCOUNT_1 and header.currentData() == ACCOUNT_1
    assert window.collector_state.buy_state(listed_by_2)[0]
    window.wallet_tab.accounts_view.selectRow(1)  # and choosing a row in the Wallet tab moves both switchers
    assert header.currentData() == status.currentData() == ACCOUNT_2


def test_without_a_wallet_the_switchers_say_so_and_cannot_be_used(qtbot, window) -> None:
    qtbot.waitUntil(lambda: window.wallet_state is not None, timeout=5_000)
    assert window.account_switcher.currentText() == "No wallet" and not window.account_switcher.isEnabled()
    assert not window.status_account_switcher.isVisible()
