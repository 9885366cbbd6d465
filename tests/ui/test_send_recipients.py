"""Sending as MetaMask and Rabby do it: a recipient picked from my accounts or the address book, or
typed as an ENS name on a network that has ENS (a real anvil serving the Sepolia chain id, with the
ENS registry at its address); Max; advanced gas in the preview, checked before signing; and
Receive, whose QR code scans back to the address. The embedded devnet says it has no ENS."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from PySide6.QtCore import Qt

from studio.chain.history import TxHistory
from studio.chain.networks import NetworkRegistry
from studio.chain.session import WalletSession
from studio.chain.wallet import Wallet
from studio.errors import InputError, NotFound
from studio.ui.dialogs.send import SendDialog
from studio.ui.state.wallet import WalletState
from dialog_helpers import emit_after_deleting
from wallet_helpers import ACCOUNT_1, ACCOUNT_2, JOB_MS, PASSWORD, TEST_PHRASE, refresh, unlock, wait_job

SEPOLIA = 11155111
ALICE = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"  # the test phrase's fourth account
#: A contract answering any call with storage[first argument XOR selector]: the ENS registry's
#: resolver(bytes32) and a resolver's addr(bytes32) for the names the test writes into its storage.
LOOKUP_CODE = "0x60043560003560e01c185460005260206000f3"
RESOLVER = "0x000000000000000000000000000000000000e115"


def click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


@pytest.fixture(scope="module")
def sepolia_node() -> Iterator[str]:
    """A real anvil on the Sepolia chain id with ENS: alice.eth -> ALICE, nobody.eth unregistered."""
    from studio.chain.anvil import AnvilProcess
    from studio.chain.ens import ADDR_SELECTOR, ENS_REGISTRY, RESOLVER_SELECTOR, namehash

    node = AnvilProcess(chain_id=SEPOLIA)
    from web3 import Web3

    web3 = Web3(Web3.HTTPProvider(node.url))
    alice = int(namehash("alice.eth"), 16)

    def rpc(method: str, params: list) -> None:
        assert "error" not in web3.provider.make_request(method, params)

    for address in (ENS_REGISTRY, RESOLVER):
        rpc("anvil_setCode", [address, LOOKUP_CODE])
    rpc("anvil_setStorageAt", [ENS_REGISTRY, hex(alice ^ int(RESOLVER_SELECTOR, 16)), "0x" + RESOLVER[2:].rjust(64, "0")])
    rpc("anvil_setStorageAt", [RESOLVER, hex(alice ^ int(ADDR_SELECTOR, 16)), "0x" + ALICE[2:].rjust(64, "0")])
    yield node.url
    node.stop()


@pytest.fixture
def sepolia_state(qtbot, tmp_path: Path, studio_home: Path, sepolia_node: str, pool) -> Iterator[WalletState]:
    wallet = Wallet(tmp_path / "wallet" / "wallet.json", kdf_n=2**10)
    wallet.create(PASSWORD, phrase=TEST_PHRASE, accounts=2)
    session = WalletSession(wallet, NetworkRegistry(tmp_path, {"sepolia": sepolia_node}),
                            TxHistory(tmp_path / "history.sqlite"), network_key="sepolia")
    state = WalletState(session, pool)
    unlock(qtbot, state)
    yield state
    state.stop()


@pytest.fixture
def ready_state(qtbot, wallet_state: WalletState) -> WalletState:
    unlock(qtbot, wallet_state)
    refresh(qtbot, wallet_state)
    return wallet_state


def review(qtbot, dialog: SendDialog):
    with qtbot.waitSignal(dialog.preview_shown, timeout=JOB_MS) as shown:
        click(qtbot, dialog.review_button)
    return shown.args[0]


def test_an_ens_name_resolves_through_the_registry_on_a_network_with_ens(qtbot, sepolia_state) -> None:
    dialog = SendDialog(sepolia_state)
    qtbot.addWidget(dialog)
    dialog.recipient.setText("Alice.ETH")
    assert dialog.recipient_note.text().startswith("ENS name: resolved on Sepolia")
    dialog.amount.setText("0.5")
    preview = review(qtbot, dialog)
    assert preview.preview.to == ALICE and preview.preview.to_name == "alice.eth"
    assert preview.value_labels["To"].text() == f"alice.eth ({ALICE})"
    preview.reject()

    dialog.recipient.setText("nobody.eth")
    with qtbot.waitSignal(dialog.send_finished, timeout=JOB_MS):
        click(qtbot, dialog.review_button)
    assert "nobody.eth is not registered in ENS on Sepolia" in dialog.error.text()


def test_the_devnet_says_it_has_no_ens_before_any_node_is_asked(qtbot, ready_state) -> None:
    dialog = SendDialog(ready_state)
    qtbot.addWidget(dialog)
    dialog.recipient.setText("alice.eth")
    assert dialog.recipient_note.text().startswith("The studio devnet has no ENS")
    dialog.amount.setText("0.1")
    click(qtbot, dialog.review_button)
    assert "has no ENS" in dialog.error.text() and dialog.job is None
    with pytest.raises(InputError, match="has no ENS"):
        ready_state.transfers.prepare_send("alice.eth", "0.1")


def test_my_accounts_and_the_address_book_are_offered_and_named_in_the_preview(qtbot, ready_state) -> None:
    dialog = SendDialog(ready_state)
    qtbot.addWidget(dialog)
    dialog._fill_recipient_menu()
    texts = [action.text() for action in dialog.recipient_menu.actions()]
    assert "My accounts" in texts and any(text.startswith("Account 2") for text in texts)
    assert not any(text.startswith("Account 1") for text in texts)  # not the account sending
    next(a for a in dialog.recipient_menu.actions() if a.text().startswith("Account 2")).trigger()
    assert dialog.recipient.text() == ACCOUNT_2
    assert dialog.recipient_note.text() == f"Account 2, your account: {ACCOUNT_2}"

    dialog.recipient.setText(ALICE)
    assert dialog.recipient_note.text() == "Not in your address book." and dialog.save_row.isVisibleTo(dialog)
    dialog.save_name.setText("Gallery wallet")
    click(qtbot, dialog.save_button)
    assert dialog.recipient_note.text() == f"Gallery wallet: {ALICE}" and not dialog.save_row.isVisibleTo(dialog)
    with pytest.raises(InputError, match="already names"):
        ready_state.transfers.save_contact("gallery WALLET", ACCOUNT_2)
    dialog._fill_recipient_menu()
    assert any(a.text().startswith("Gallery wallet") for a in dialog.recipient_menu.actions())

    dialog.recipient.setText("gallery wallet")
    dialog.amount.setText("0.01")
    preview = review(qtbot, dialog)
    assert preview.value_labels["To"].text() == f"Gallery wallet ({ALICE})"
    preview.reject()
    again = WalletState(ready_state.session, ready_state.background)
    assert [c.name for c in again.transfers.contacts()] == ["Gallery wallet"]


def test_a_closed_send_dialog_misses_the_next_accounts_and_an_open_one_lists_them(qtbot, ready_state) -> None:
    live = SendDialog(ready_state)
    qtbot.addWidget(live)
    closed = SendDialog(ready_state)
    assert live.account_combo.count() == closed.account_combo.count() == 2
    exceptions = emit_after_deleting(qtbot, closed, lambda: wait_job(qtbot, ready_state.keys.add_account("Third")))
    assert exceptions == []  # before: "Internal C++ object already deleted" where a slot kept the dialog
    assert live.account_combo.count() == 3 and live.account_combo.itemText(2).startswith("Third")
    assert live.account_combo.currentData() == ACCOUNT_1  # the sender chosen stays chosen


def test_max_sends_the_balance_less_the_largest_fee(qtbot, ready_state) -> None:
    dialog = SendDialog(ready_state)
    qtbot.addWidget(dialog)
    dialog.account_combo.setCurrentIndex(dialog.account_combo.findData(ACCOUNT_2))
    dialog.recipient.setText(ACCOUNT_1)
    with qtbot.waitSignal(dialog.max_filled, timeout=JOB_MS) as filled:
        click(qtbot, dialog.max_button)
    balance = ready_state.session.connection().balance(ACCOUNT_2)
    sendable = filled.args[0]
    assert 0 < balance - sendable < 10**16 and dialog.amount.text()
    preview = review(qtbot, dialog)
    assert preview.preview.value_wei == sendable and preview.preview.max_total_wei <= balance
    with qtbot.waitSignal(dialog.send_finished, timeout=JOB_MS) as finished:
        preview.accept()
    receipt = finished.args[0].receipt
    left = ready_state.session.connection().balance(ACCOUNT_2)
    assert left == balance - sendable - receipt.fee_wei and left < 10**16


def test_advanced_gas_is_checked_before_signing_and_used_when_sent(qtbot, ready_state) -> None:
    dialog = SendDialog(ready_state)
    qtbot.addWidget(dialog)
    dialog.recipient.setText(ACCOUNT_2)
    dialog.amount.setText("0.01")
    preview = review(qtbot, dialog)
    preview.gas_box.setChecked(True)
    preview.gas_limit_edit.setText("abc")
    preview.accept()
    assert preview.isVisible() and "not a whole number" in preview.gas_error.text()
    preview.gas_limit_edit.setText("20000")
    with qtbot.waitSignal(dialog.send_finished, timeout=JOB_MS):
        preview.accept()
    assert "below what the transaction needs (21,000)" in dialog.error.text()

    next_nonce = ready_state.session.connection().transaction_count(ACCOUNT_1)
    preview = review(qtbot, dialog)
    preview.gas_box.setChecked(True)
    preview.nonce_edit.setText(str(next_nonce + 3))
    with qtbot.waitSignal(dialog.send_finished, timeout=JOB_MS):
        preview.accept()
    assert "would leave a gap" in dialog.error.text()

    preview = review(qtbot, dialog)
    preview.gas_box.setChecked(True)
    preview.max_fee_edit.setText("7.5")
    preview.tip_edit.setText("2")
    preview.gas_limit_edit.setText("30000")
    preview.nonce_edit.setText(str(next_nonce))
    with qtbot.waitSignal(dialog.send_finished, timeout=JOB_MS) as finished:
        preview.accept()
    outcome = finished.args[0]
    assert outcome.sent.nonce == next_nonce
    tx = ready_state.session.connection().web3.eth.get_transaction(outcome.sent.tx_hash)
    assert (tx["maxFeePerGas"], tx["maxPriorityFeePerGas"], tx["gas"]) == (7_500_000_000, 2_000_000_000, 30_000)
    entry = ready_state.session.history.get(outcome.sent.tx_hash)
    assert entry.max_fee_per_gas == 7_500_000_000 and entry.gas_limit == 30_000


def test_receive_shows_the_address_as_a_qr_code_that_scans_back(qtbot, ready_state) -> None:
    import zxingcpp
    from PIL import Image

    from studio.ui.dialogs.receive import ReceiveDialog

    dialog = ReceiveDialog(ready_state)
    qtbot.addWidget(dialog)
    dialog.show()

    def scanned() -> str:
        image = dialog.qr.pixmap().toImage().convertToFormat(dialog.qr.pixmap().toImage().Format.Format_RGB888)
        picture = Image.frombytes("RGB", (image.width(), image.height()), bytes(image.constBits()),
                                  "raw", "RGB", image.bytesPerLine())
        return zxingcpp.read_barcodes(picture)[0].text

    assert dialog.address.text() == ACCOUNT_1 and scanned() == ACCOUNT_1
    dialog.account_combo.setCurrentIndex(dialog.account_combo.findData(ACCOUNT_2))
    assert dialog.address.text() == ACCOUNT_2 and scanned() == ACCOUNT_2
    click(qtbot, dialog.copy_button)
    from PySide6.QtGui import QGuiApplication

    assert QGuiApplication.clipboard().text() == ACCOUNT_2


def test_an_unregistered_name_raises_not_found_from_the_session(sepolia_state) -> None:
    with pytest.raises(NotFound, match="not registered"):
        sepolia_state.session.resolve_recipient("nobody.eth")
    assert sepolia_state.session.resolve_recipient("alice.eth").address == ALICE
