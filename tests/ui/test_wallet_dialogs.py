"""The wallet dialogs as a person uses them, real widgets offscreen over the real embedded devnet:
the setup wizard (new phrase with its confirmation step, imports), unlock, the transaction preview,
send (review → preview → send and wait), sign message, and the recovery phrase."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWizard

from studio.ui.dialogs.secrets import RevealPhraseDialog
from studio.ui.dialogs.send import SendDialog
from studio.ui.dialogs.sign_message import SignMessageDialog
from studio.ui.dialogs.tx_preview import TxPreviewDialog, preview_rows
from studio.ui.dialogs.unlock import UnlockDialog
from studio.ui.dialogs.wallet_setup import CONFIRM, PASSWORD as PASSWORD_PAGE, PHRASE, WalletSetupWizard
from studio.ui.state.wallet import WalletState
from studio.ui.state.wallet_send import SendOutcome
from wallet_helpers import ACCOUNT_1, ACCOUNT_2, DEVNET, JOB_MS, PASSWORD, TEST_PHRASE, refresh, unlock, wait_job

NEW_PASSWORD = "a long new password"


@pytest.fixture
def empty_state(qtbot, empty_session, pool):
    state = WalletState(empty_session, pool)
    yield state
    state.stop()


def click(qtbot, button) -> None:
    assert button.isEnabled(), f"{button.text()} is disabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def wizard_next(qtbot, wizard: WalletSetupWizard) -> None:
    click(qtbot, wizard.button(QWizard.WizardButton.NextButton))


def finish(qtbot, wizard: WalletSetupWizard, password: str, repeat: str | None = None) -> None:
    page = wizard.password_page
    page.password.setText(password)
    if repeat is not None:
        page.repeat.setText(repeat)
    click(qtbot, wizard.button(QWizard.WizardButton.FinishButton))


def open_wizard(qtbot, state: WalletState, mode: str) -> WalletSetupWizard:
    wizard = WalletSetupWizard(state, mode=mode)
    qtbot.addWidget(wizard)
    wizard.show()
    return wizard


# ---- the setup wizard --------------------------------------------------------------------------


def test_wizard_creates_a_wallet_only_after_the_phrase_is_confirmed(qtbot, empty_state: WalletState,
                                                                   caplog) -> None:
    import logging

    from PySide6.QtGui import QGuiApplication

    caplog.set_level(logging.DEBUG)
    state = empty_state
    assert not state.has_wallet
    wizard = open_wizard(qtbot, state, "create")
    wizard.choice.words.setCurrentIndex(wizard.choice.words.findData(24))
    wizard_next(qtbot, wizard)
    assert wizard.currentId() == PHRASE
    qtbot.waitUntil(lambda: wizard.phrase is not None, timeout=JOB_MS)
    phrase = wizard.phrase
    words = phrase.split()
    assert len(words) == 24 and wizard.phrase_page.grid.words() == words
    next_button = wizard.button(QWizard.WizardButton.NextButton)
    assert not next_button.isEnabled()  # the "I wrote it down" box comes first
    wizard.phrase_page.written.setChecked(True)
    wizard_next(qtbot, wizard)

    page = wizard.confirm_page
    assert wizard.currentId() == CONFIRM and len(page.positions) == 3 and len(set(page.positions)) == 3
    for edit, position in zip(page.edits, page.positions):
        wrong = words[(position + 1) % len(words)]
        edit.setText(wrong if wrong != words[position] else "abandon" if words[position] != "abandon" else "zoo")
    assert not next_button.isEnabled() and "match the phrase" in page.hint.text()
    assert not wizard.validateCurrentPage() or not page.isComplete()
    for edit, position in zip(page.edits, page.positions):
        edit.setText(f" {words[position].upper()} ")  # case and spaces do not matter
    assert next_button.isEnabled() and page.hint.text() == ""
    wizard_next(qtbot, wizard)
    assert wizard.currentId() == PASSWORD_PAGE

    finish(qtbot, wizard, "short", "short")
    assert "8 characters" in wizard.password_page.error.text() and not state.wallet.exists
    finish(qtbot, wizard, NEW_PASSWORD, NEW_PASSWORD + "!")
    assert "differ" in wizard.password_page.error.text() and not state.wallet.exists
    with qtbot.waitSignal(wizard.accepted, timeout=JOB_MS):
        finish(qtbot, wizard, NEW_PASSWORD, NEW_PASSWORD)

    assert state.wallet.exists and state.has_wallet and len(state.accounts.rows()) == 1
    assert wizard.phrase is None and wizard.phrase_page.grid.words() == []  # forgotten on close
    assert wait_job(qtbot, state.keys.reveal_phrase(NEW_PASSWORD)) == phrase
    stored = state.wallet.path.read_text()
    assert phrase not in stored and " ".join(words[5:8]) not in stored and NEW_PASSWORD not in stored
    assert " ".join(words[5:8]) not in caplog.text and NEW_PASSWORD not in caplog.text  # nothing logged
    assert words[0] not in QGuiApplication.clipboard().text().split()  # nor copied


def test_wizard_imports_the_test_phrase_to_the_known_first_address(qtbot, empty_state: WalletState) -> None:
    state = empty_state
    wizard = open_wizard(qtbot, state, "phrase")
    wizard_next(qtbot, wizard)
    page = wizard.import_phrase_page
    page.phrase.setPlainText("test test test test test test test test test test test")  # 11 words
    wizard_next(qtbot, wizard)
    assert "12 or 24 words" in page.error.text() and wizard.currentId() != PASSWORD_PAGE
    page.phrase.setPlainText("  Test test test test test test test test test test test JUNK\n")
    page.count.setValue(2)
    wizard_next(qtbot, wizard)
    assert wizard.currentId() == PASSWORD_PAGE
    with qtbot.waitSignal(wizard.accepted, timeout=JOB_MS):
        finish(qtbot, wizard, NEW_PASSWORD, NEW_PASSWORD)
    assert [row.address for row in state.accounts.rows()] == [ACCOUNT_1, ACCOUNT_2]
    assert state.current_account == ACCOUNT_1


def test_wizard_imports_a_key_and_a_keystore_into_an_existing_wallet(qtbot, wallet_state: WalletState,
                                                                      tmp_path: Path) -> None:
    from eth_account import Account

    from studio.chain.keystore import encrypt_keystore

    state = wallet_state
    key = bytes(range(1, 33))
    wizard = open_wizard(qtbot, state, "key")
    assert not wizard.choice.create_radio.isEnabled()  # a wallet exists: only imports
    wizard_next(qtbot, wizard)
    wizard.import_key_page.key.setText("0x" + key.hex())
    wizard.import_key_page.name.setText("Old key")
    wizard_next(qtbot, wizard)
    assert not wizard.password_page.repeat.isVisible()  # the existing wallet's password, once
    finish(qtbot, wizard, "not-the-password")
    qtbot.waitUntil(lambda: wizard.password_page.error.text() != "", timeout=JOB_MS)
    assert "password" in wizard.password_page.error.text() and wizard.isVisible()
    with qtbot.waitSignal(wizard.accepted, timeout=JOB_MS):
        finish(qtbot, wizard, PASSWORD)
    assert state.accounts.rows()[-1].name == "Old key"
    assert state.accounts.rows()[-1].address == Account.from_key(key).address

    other = bytes(range(2, 34))
    keystore_file = tmp_path / "UTC--keystore.json"
    keystore_file.write_text(json.dumps(encrypt_keystore(other, "keystore password", kdf_n=2**10)))
    wizard = open_wizard(qtbot, state, "keystore")
    wizard_next(qtbot, wizard)
    wizard.import_keystore_page.path.setText(str(keystore_file))
    wizard.import_keystore_page.password.setText("wrong keystore password")
    wizard_next(qtbot, wizard)
    finish(qtbot, wizard, PASSWORD)
    qtbot.waitUntil(lambda: wizard.password_page.error.text() != "", timeout=JOB_MS)
    assert "password" in wizard.password_page.error.text()
    click(qtbot, wizard.button(QWizard.WizardButton.BackButton))
    wizard.import_keystore_page.password.setText("keystore password")
    wizard_next(qtbot, wizard)
    with qtbot.waitSignal(wizard.accepted, timeout=JOB_MS):
        finish(qtbot, wizard, PASSWORD)
    assert state.accounts.rows()[-1].address == Account.from_key(other).address


def test_cancel_while_encrypting_the_wallet_writes_no_wallet(qtbot, tmp_path: Path, pool) -> None:
    """The real scrypt cost (about a second), so Cancel lands while the keys are being encrypted."""
    from studio.chain.history import TxHistory
    from studio.chain.keystore import DEFAULT_KDF_N
    from studio.chain.networks import NetworkRegistry
    from studio.chain.session import WalletSession
    from studio.chain.wallet import Wallet

    wallet = Wallet(tmp_path / "slow-wallet" / "wallet.json", kdf_n=DEFAULT_KDF_N)
    state = WalletState(WalletSession(wallet, NetworkRegistry(tmp_path), TxHistory(tmp_path / "history.sqlite")),
                        pool)
    wizard = open_wizard(qtbot, state, "phrase")
    wizard_next(qtbot, wizard)
    wizard.import_phrase_page.phrase.setPlainText(TEST_PHRASE)
    wizard_next(qtbot, wizard)
    finish(qtbot, wizard, NEW_PASSWORD, NEW_PASSWORD)
    qtbot.waitUntil(lambda: "Encrypting the wallet" in wizard.password_page.status.text(), timeout=JOB_MS)
    with qtbot.waitSignal(wizard.rejected, timeout=5_000):
        click(qtbot, wizard.button(QWizard.WizardButton.CancelButton))
    assert not wizard.isVisible()
    qtbot.waitUntil(lambda: not state.busy, timeout=JOB_MS)  # the encryption ran to its end, then stopped
    assert not wallet.exists and not state.has_wallet
    assert state.notice == "Cancelled: the wallet was not changed." and state.progress_text.endswith("cancelled.")
    state.stop()


def test_after_a_wrong_password_focus_stays_in_the_field_and_enter_tries_again(qtbot,
                                                                                wallet_state: WalletState) -> None:
    from PySide6.QtWidgets import QApplication

    wizard = open_wizard(qtbot, wallet_state, "key")
    wizard.activateWindow()
    qtbot.waitActive(wizard)
    wizard_next(qtbot, wizard)
    wizard.import_key_page.key.setText("0x" + bytes(range(1, 33)).hex())
    wizard_next(qtbot, wizard)
    page = wizard.password_page
    assert wizard.currentId() == PASSWORD_PAGE
    page.password.setFocus()
    qtbot.keyClicks(page.password, "not-the-password")
    qtbot.keyClick(page.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.job is None and page.error.isVisible(), timeout=JOB_MS)
    assert "password" in page.error.text().lower()
    assert QApplication.focusWidget() is page.password  # not the Back button
    assert page.password.selectedText() == "not-the-password"  # typing replaces the wrong one
    qtbot.keyClicks(page.password, PASSWORD)
    with qtbot.waitSignal(wizard.accepted, timeout=JOB_MS):
        qtbot.keyClick(page.password, Qt.Key.Key_Return)  # Enter imports; it never goes Back
    assert wallet_state.accounts.rows()[-1].name.startswith("Imported")


ABANDON = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
ABANDON_1 = "0x9858EfFD232B4033E47d90003D41EC34EcaEda94"  # its first account (m/44'/60'/0'/0/0)


def test_wizard_adds_a_second_recovery_phrase_beside_the_first(qtbot, wallet_state: WalletState) -> None:
    from studio.ui.tabs.wallet import WalletTab

    state = wallet_state
    wizard = open_wizard(qtbot, state, "phrase")
    wizard_next(qtbot, wizard)
    assert "beside the first" in wizard.import_phrase_page.note.text() and wizard.import_phrase_page.note.isVisible()
    wizard.import_phrase_page.phrase.setPlainText(ABANDON)
    wizard_next(qtbot, wizard)
    with qtbot.waitSignal(wizard.accepted, timeout=JOB_MS):
        finish(qtbot, wizard, PASSWORD)
    assert [(r.name, r.phrase) for r in state.accounts.rows()] == [
        ("Account 1", 0), ("Account 2", 0), ("Account 1 · phrase 2", 1)]
    assert state.accounts.rows()[2].address == ABANDON_1

    tab = WalletTab(state)
    qtbot.addWidget(tab)
    state.select_account(ABANDON_1)
    unlock(qtbot, state)
    click(qtbot, tab.add_account_button)  # the selected account's phrase
    # (the unlock's own refresh may land first: wait for the new row, not for any refresh)
    qtbot.waitUntil(lambda: len(state.accounts.rows()) == 4, timeout=JOB_MS)
    assert state.accounts.rows()[-1].name == "Account 2 · phrase 2" and state.accounts.rows()[-1].phrase == 1
    state.select_account(ABANDON_1)
    dialog = tab.open_reveal_phrase()
    assert dialog.which.text() == "Recovery phrase 2 of 2, the one Account 1 · phrase 2 was made from."
    qtbot.keyClicks(dialog.password, PASSWORD)
    click(qtbot, dialog.show_button)
    qtbot.waitUntil(dialog.grid.isVisible, timeout=JOB_MS)
    assert " ".join(dialog.grid.words()) == ABANDON
    dialog.close()


# ---- unlock ------------------------------------------------------------------------------------


def test_unlock_dialog_shows_a_wrong_password_and_stays_open(qtbot, wallet_state: WalletState) -> None:
    dialog = UnlockDialog(wallet_state)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.password, "wrong password")
    click(qtbot, dialog.unlock_button)
    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=JOB_MS)
    assert "password" in dialog.error.text().lower()
    assert dialog.isVisible() and not wallet_state.unlocked and dialog.password.text() == ""
    qtbot.keyClicks(dialog.password, PASSWORD)
    with qtbot.waitSignal(dialog.accepted, timeout=JOB_MS):
        click(qtbot, dialog.unlock_button)
    assert wallet_state.unlocked and not dialog.isVisible()


# ---- the preview -------------------------------------------------------------------------------


def make_preview(**changes):
    from dataclasses import replace

    from studio.chain.transactions import TxPreview

    preview = TxPreview(network="Ethereum", network_key="ethereum", chain_id=1, is_mainnet=True, sender=ACCOUNT_1,
                        to=ACCOUNT_2, to_name=None, value_wei=5 * 10**17, data="0x", call=None, gas_limit=21_000,
                        max_fee_per_gas=30 * 10**9, max_priority_fee_per_gas=10**9, action="Send ETH")
    return replace(preview, **changes)


def test_a_mainnet_preview_signs_only_after_the_confirmation_is_ticked(qtbot) -> None:
    dialog = TxPreviewDialog(make_preview())
    qtbot.addWidget(dialog)
    dialog.show()
    rows = dict(preview_rows(make_preview()))
    assert rows["Network"] == "Ethereum (chain id 1)  ·  MAINNET: real money"
    assert rows["Value"] == "0.5 ETH" and rows["Max fee"].startswith("0.00063 ETH")
    assert rows["At most"] == "0.50063 ETH"
    assert dialog.value_labels["Network"].text().endswith("MAINNET: real money")
    assert not dialog.sign_button.isEnabled() and not dialog.confirmed
    dialog.accept()  # refused while unconfirmed
    assert dialog.isVisible()
    dialog.confirm_box.setChecked(True)
    assert dialog.sign_button.isEnabled() and dialog.confirmed
    with qtbot.waitSignal(dialog.accepted, timeout=1000):
        click(qtbot, dialog.sign_button)


def test_a_devnet_preview_names_a_studio_contract_and_its_call(qtbot) -> None:
    from studio.chain.transactions import DecodedCall

    call = DecodedCall("StudioMarketplace", "buy", (("listingId", 7),))
    preview = make_preview(network=DEVNET, network_key="devnet", chain_id=1337, is_mainnet=False,
                           to_name="Studio marketplace", call=call, data="0x12345678")
    dialog = TxPreviewDialog(preview)
    qtbot.addWidget(dialog)
    assert dialog.confirm_box is None and dialog.sign_button.isEnabled() and dialog.confirmed
    assert dialog.value_labels["To"].text() == f"Studio marketplace ({ACCOUNT_2})"
    assert dialog.value_labels["Function"].text() == "StudioMarketplace.buy"
    assert dialog.value_labels["listingId"].text() == "7"
    assert "MAINNET" not in dialog.value_labels["Network"].text()


# ---- send --------------------------------------------------------------------------------------


@pytest.fixture
def ready_state(qtbot, wallet_state: WalletState) -> WalletState:
    unlock(qtbot, wallet_state)
    refresh(qtbot, wallet_state)
    return wallet_state


def open_send(qtbot, state: WalletState, to: str, amount: str) -> SendDialog:
    dialog = SendDialog(state, timeout=20)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.recipient, to)
    qtbot.keyClicks(dialog.amount, amount)
    return dialog


def review(qtbot, dialog: SendDialog) -> TxPreviewDialog:
    with qtbot.waitSignal(dialog.preview_shown, timeout=JOB_MS) as shown:
        click(qtbot, dialog.review_button)
    return shown.args[0]


def balances(state: WalletState) -> dict[str, int]:
    return {row.address: row.balance_wei for row in state.accounts.rows()}


def test_sending_half_an_eth_moves_it_and_records_the_history(qtbot, ready_state: WalletState) -> None:
    state = ready_state
    before = balances(state)
    dialog = open_send(qtbot, state, ACCOUNT_2, "0.5")
    preview = review(qtbot, dialog)
    assert preview is dialog.preview_dialog and preview.isVisible()
    texts = {label: value.text() for label, value in preview.value_labels.items()}
    assert texts["Network"] == f"{DEVNET} (chain id 1337)"
    assert (texts["From"], texts["To"], texts["Value"]) == (ACCOUNT_1, f"Account 2, your account ({ACCOUNT_2})", "0.5 ETH")
    assert texts["Gas limit"] == "21000" and texts["Max fee"].endswith("per gas)")
    assert preview.confirm_box is None

    with qtbot.waitSignal(state.refreshed, timeout=JOB_MS):
        with qtbot.waitSignal(dialog.send_finished, timeout=JOB_MS) as finished:
            click(qtbot, preview.sign_button)
    outcome = finished.args[0]
    assert isinstance(outcome, SendOutcome), outcome
    assert "confirmed in block" in dialog.status.text() and outcome.receipt.tx_hash in dialog.status.text()
    assert not dialog.error.isVisible()

    after = balances(state)
    assert after[ACCOUNT_2] - before[ACCOUNT_2] == 5 * 10**17
    assert before[ACCOUNT_1] - after[ACCOUNT_1] == 5 * 10**17 + outcome.receipt.fee_wei
    assert state.activity.history.rowCount() == 1
    entry = state.activity.history.entry(0)
    assert (entry.tx_hash, entry.status, entry.value_wei) == (outcome.sent.tx_hash, "confirmed", 5 * 10**17)
    row = [state.activity.history.data(state.activity.history.index(0, c)) for c in range(7)]
    assert row[1:6] == ["Account 1", "Send ETH", "0x7099…79C8", "0.5 ETH", "confirmed"]


def test_the_from_balance_follows_a_send(qtbot, ready_state: WalletState) -> None:
    from studio.ui.money import format_eth

    state = ready_state
    dialog = open_send(qtbot, state, ACCOUNT_2, "0.5")
    assert dialog.account_combo.currentText().endswith(format_eth(balances(state)[ACCOUNT_1]))
    preview = review(qtbot, dialog)
    with qtbot.waitSignal(state.refreshed, timeout=JOB_MS):
        with qtbot.waitSignal(dialog.send_finished, timeout=JOB_MS):
            click(qtbot, preview.sign_button)
    after = balances(state)
    assert dialog.account_combo.currentData() == ACCOUNT_1  # still the account that sent
    assert dialog.account_combo.currentText().endswith(format_eth(after[ACCOUNT_1]))
    second = dialog.account_combo.itemText(dialog.account_combo.findData(ACCOUNT_2))
    assert second.endswith(format_eth(after[ACCOUNT_2]))


def test_a_declined_preview_sends_nothing(qtbot, ready_state: WalletState) -> None:
    state = ready_state
    before = balances(state)
    dialog = open_send(qtbot, state, ACCOUNT_2, "1")
    preview = review(qtbot, dialog)
    with qtbot.waitSignal(dialog.preview_declined, timeout=1000):
        click(qtbot, preview.cancel_button)
    assert "nothing was signed" in dialog.status.text() and dialog.review_button.isEnabled()
    refresh(qtbot, state)
    assert balances(state) == before and state.activity.history.rowCount() == 0
    assert state.session.history_entries() == []


def test_too_little_balance_is_shown_in_the_dialog(qtbot, ready_state: WalletState) -> None:
    dialog = open_send(qtbot, ready_state, ACCOUNT_2, "2000000")  # devnet accounts hold 1,000,000 ETH
    with qtbot.waitSignal(dialog.send_finished, timeout=JOB_MS):
        click(qtbot, dialog.review_button)
    assert dialog.error.isVisible()
    assert dialog.error.text().startswith("The amount (2000000 ETH) is more than the account holds (1000000 ETH)")
    assert dialog.preview_dialog is None and dialog.isVisible() and dialog.review_button.isEnabled()
    assert ready_state.activity.history.rowCount() == 0


def test_a_revert_is_shown_in_the_dialog(qtbot, ready_state: WalletState) -> None:
    from studio.chain.devnet import Devnet

    marketplace = Devnet.shared().studio_contracts()["StudioMarketplace"]  # has no receive(): refuses ETH
    dialog = open_send(qtbot, ready_state, marketplace, "0.1")
    with qtbot.waitSignal(dialog.send_finished, timeout=JOB_MS):
        click(qtbot, dialog.review_button)
    assert dialog.error.isVisible()
    assert dialog.error.text() == "Send ETH was rejected by the contract without a reason."
    assert dialog.preview_dialog is None


def test_bad_input_is_refused_before_review(qtbot, ready_state: WalletState) -> None:
    dialog = open_send(qtbot, ready_state, "0xnot-an-address", "0.5")
    click(qtbot, dialog.review_button)
    assert dialog.error.isVisible() and "recipient" in dialog.error.text()
    assert dialog.job is None and not ready_state.busy
    dialog.recipient.setText(ACCOUNT_2)
    dialog.amount.setText("0.1234567890123456789")
    click(qtbot, dialog.review_button)
    assert "18 decimals" in dialog.error.text()


# ---- sign message and the recovery phrase ------------------------------------------------------


def test_sign_message_dialog_previews_then_signs(qtbot, ready_state: WalletState) -> None:
    from eth_account import Account
    from eth_account.messages import encode_defunct

    dialog = SignMessageDialog(ready_state)
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.sign_button.isEnabled()
    qtbot.keyClicks(dialog.message, "I made this work.")
    click(qtbot, dialog.review_button)
    assert dialog.preview_panel.isVisible()
    assert (dialog.preview_signer.text(), dialog.preview_text.toPlainText()) == (ACCOUNT_1, "I made this work.")
    click(qtbot, dialog.sign_button)
    qtbot.waitUntil(lambda: dialog.signature.text() != "", timeout=JOB_MS)
    signature = dialog.signature.text()
    assert Account.recover_message(encode_defunct(text="I made this work."), signature=signature) == ACCOUNT_1
    qtbot.keyClicks(dialog.message, " Edited.")  # what was reviewed is what gets signed
    assert not dialog.sign_button.isEnabled() and not dialog.preview_panel.isVisible()


def test_the_recovery_phrase_needs_the_password_again(qtbot, wallet_state: WalletState) -> None:
    dialog = RevealPhraseDialog(wallet_state)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.password, "wrong password")
    click(qtbot, dialog.show_button)
    qtbot.waitUntil(dialog.error.isVisible, timeout=JOB_MS)
    assert not dialog.grid.isVisible() and dialog.grid.words() == []
    qtbot.keyClicks(dialog.password, PASSWORD)
    click(qtbot, dialog.show_button)
    qtbot.waitUntil(dialog.grid.isVisible, timeout=JOB_MS)
    assert dialog.grid.words() == TEST_PHRASE.split() and dialog.password.text() == ""
    dialog.reject()
    assert dialog.grid.words() == []
