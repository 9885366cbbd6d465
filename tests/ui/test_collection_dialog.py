"""The collection dialog as a person uses it, real widgets offscreen over the embedded devnet:
deploy a new collection (preview first), decline the preview, unlock a locked wallet on the way,
refuse bad input before any worker, import an existing collection by address."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from studio.library.db import Library
from studio.ui.dialogs.collection import IMPORT_TAB, CollectionDialog
from studio.ui.dialogs.tx_preview import TxPreviewDialog
from studio.ui.workers import JobState
from dialog_helpers import emit_after_deleting
from wallet_helpers import ACCOUNT_1, ACCOUNT_2, JOB_MS, PASSWORD, unlock


@pytest.fixture
def library(studio_home: Path):
    with Library.default() as lib:
        yield lib


@pytest.fixture
def dialog(qtbot, wallet_state, library) -> CollectionDialog:
    dialog = CollectionDialog(wallet_state, library)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def click(qtbot, button) -> None:
    assert button.isEnabled(), f"{button.text()} is disabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def fill(dialog: CollectionDialog, name: str = "Dawns", symbol: str = "DAWN", royalty: float = 5.0) -> None:
    dialog.name.setText(name)
    dialog.symbol.setText(symbol)
    dialog.royalty.setValue(royalty)
    dialog.description.setPlainText("Sunrises over the sea")


def review(qtbot, dialog: CollectionDialog) -> TxPreviewDialog:
    with qtbot.waitSignal(dialog.preview_shown, timeout=JOB_MS) as shown:
        click(qtbot, dialog.go_button)
    return shown.args[0]


def test_a_new_collection_is_deployed_after_the_preview_and_remembered(qtbot, wallet_state, dialog,
                                                                       library) -> None:
    from studio.chain.contracts import CollectionContract

    unlock(qtbot, wallet_state)
    assert dialog.receiver.text() == ACCOUNT_1  # royalties go to the current account unless changed
    fill(dialog, royalty=7.5)
    preview = review(qtbot, dialog)
    assert preview.preview.action.startswith("Deploying the collection ")
    assert preview.value_labels["To"].text() and preview.isVisible()
    assert library.collections(1337) == []  # nothing deployed before the signature
    with qtbot.waitSignal(dialog.finished_with, timeout=JOB_MS) as finished:
        click(qtbot, preview.sign_button)
    collection = finished.args[0]
    assert dialog.collection == collection and dialog.result() == dialog.DialogCode.Accepted
    assert (collection.name, collection.symbol, collection.owner, collection.royalty_receiver,
            collection.royalty_bps, collection.description) == ("Dawns", "DAWN", ACCOUNT_1, ACCOUNT_1, 750,
                                                                "Sunrises over the sea")
    assert library.collections(1337) == [collection]
    contract = CollectionContract(wallet_state.session.connection(), collection.address)
    assert contract.owner() == ACCOUNT_1
    royalty = contract.royalty_info(1, 10_000)
    assert (royalty.receiver, royalty.amount_wei) == (ACCOUNT_1, 750)


def test_declining_the_preview_deploys_nothing_and_the_form_stays(qtbot, wallet_state, dialog, library) -> None:
    unlock(qtbot, wallet_state)
    fill(dialog)
    preview = review(qtbot, dialog)
    with qtbot.waitSignal(dialog.preview_declined, timeout=JOB_MS):
        click(qtbot, preview.cancel_button)
    assert "nothing was signed" in dialog.status.text()
    assert dialog.isVisible() and dialog.go_button.isEnabled() and dialog.name.text() == "Dawns"
    assert library.collections(1337) == []
    assert wallet_state.session.history_entries() == []


def test_a_locked_wallet_offers_the_unlock_dialog_then_goes_on_to_the_preview(qtbot, wallet_state, dialog) -> None:
    fill(dialog)
    with qtbot.waitSignal(dialog.unlock_shown, timeout=JOB_MS) as shown:
        click(qtbot, dialog.go_button)
    unlock_dialog = shown.args[0]
    unlock_dialog.password.setText(PASSWORD)
    with qtbot.waitSignal(dialog.preview_shown, timeout=JOB_MS) as previewed:
        click(qtbot, unlock_dialog.unlock_button)
    assert wallet_state.wallet.is_unlocked
    previewed.args[0].reject()


@pytest.mark.parametrize("name, symbol, receiver, image, problem", [
    ("", "DAWN", None, None, "needs a name and a symbol"),
    ("Dawns", "DA WN", None, None, "short ticker without spaces"),
    ("Dawns", "DAWN", "0x1234", None, "is not an address"),
    ("Dawns", "DAWN", None, "missing.png", "does not exist"),
])
def test_bad_input_is_refused_in_the_dialog_before_any_worker(qtbot, wallet_state, dialog, tmp_path, name, symbol,
                                                              receiver, image, problem) -> None:
    unlock(qtbot, wallet_state)
    fill(dialog, name=name, symbol=symbol)
    if receiver is not None:
        dialog.receiver.setText(receiver)
    if image is not None:
        dialog.image.setText(str(tmp_path / image))
    click(qtbot, dialog.go_button)
    assert problem in dialog.error.text() and dialog.error.isVisible()
    assert dialog.state.job is None and not dialog.state.busy


def test_an_existing_collection_is_imported_by_address_and_a_wrong_address_is_explained(qtbot, wallet_state,
                                                                                        dialog, library,
                                                                                        tmp_path) -> None:
    from studio.chain.devnet import Devnet
    from studio.chain.transactions import LocalSigner
    from studio.workflows.collections import create_collection

    from eth_account import Account

    Account.enable_unaudited_hdwallet_features()
    artist = LocalSigner(Account.from_mnemonic("test test test test test test test test test test test junk",
                                               account_path="m/44'/60'/0'/0/1"))
    with Library(tmp_path / "elsewhere.db") as elsewhere:
        deployed = create_collection(connection=Devnet.shared().connection(), signer=artist, library=elsewhere,
                                     name="Dusks", symbol="DUSK", royalty_receiver=artist.address, royalty_bps=250)
    dialog.tabs.setCurrentIndex(IMPORT_TAB)
    assert dialog.go_button.text() == "Import"
    dialog.address.setText(ACCOUNT_2)  # an account, not a contract
    with qtbot.waitSignal(dialog.finished_with, timeout=JOB_MS):
        click(qtbot, dialog.go_button)
    qtbot.waitUntil(lambda: not dialog.state.busy, timeout=JOB_MS)
    assert "There is no contract at" in dialog.error.text() and dialog.isVisible()

    dialog.address.setText(deployed.address.lower())
    with qtbot.waitSignal(dialog.finished_with, timeout=JOB_MS) as finished:
        click(qtbot, dialog.go_button)
    imported = finished.args[0]
    assert (imported.address, imported.name, imported.owner, imported.royalty_bps) == (
        deployed.address, "Dusks", ACCOUNT_2, 250)
    assert library.collections(1337) == [imported] and dialog.result() == dialog.DialogCode.Accepted


def test_the_dialog_follows_its_state_busy_progress_and_error(qtbot, dialog) -> None:
    state = dialog.state
    state.busy, state.progress_text, state.error = True, "Deploying the collection…", ""
    assert dialog.busy.isVisibleTo(dialog) and not dialog.tabs.isEnabled() and not dialog.go_button.isEnabled()
    assert dialog.status.text() == "Deploying the collection…" and not dialog.error.isVisibleTo(dialog)
    state.busy, state.error = False, "The node did not answer.\nTry again."
    assert not dialog.busy.isVisibleTo(dialog) and dialog.tabs.isEnabled() and dialog.go_button.isEnabled()
    assert dialog.error.isVisibleTo(dialog) and dialog.error.text() == "The node did not answer.\nTry again."


def test_a_dialog_closed_while_its_review_runs_is_reached_by_nothing_when_the_review_ends(
        qtbot, wallet_state, library) -> None:
    unlock(qtbot, wallet_state)
    closed = CollectionDialog(wallet_state, library)
    closed.show()
    fill(closed)
    click(qtbot, closed.go_button)
    job = closed.job
    assert job is not None and closed.state.busy
    exceptions = emit_after_deleting(qtbot, closed, lambda: qtbot.waitUntil(lambda: job.state not in (
        JobState.PENDING, JobState.RUNNING), timeout=JOB_MS))
    qtbot.wait(50)  # the job's last queued signals
    assert exceptions == []  # before: "Internal C++ object (CollectionState) already deleted"
