"""The batch mint dialog (the Avatars tab's “Mint collection…”) with real widgets offscreen, over the
embedded devnet and the local store: a locked wallet is offered the unlock prompt, Check shows the
plan (nothing sent), Mint runs the batch with its progress in the dialog, and every avatar's work
in the library (the Gallery) then holds its token; a second Mint finishes without minting twice."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import Qt

from studio.library.db import Library
from studio.ui.dialogs.batch_mint import BatchMintDialog
from studio.ui.state.batch_mint import CHOOSE, DONE, PLANNED
from studio.workflows.library import add_saved_work
from wallet_helpers import ACCOUNT_1, JOB_MS, TEST_PHRASE, unlock


def devnet_signer(index: int):
    from eth_account import Account

    from studio.chain.transactions import LocalSigner

    Account.enable_unaudited_hdwallet_features()
    return LocalSigner(Account.from_mnemonic(TEST_PHRASE, account_path=f"m/44'/60'/0'/0/{index}"))


@pytest.fixture
def library(studio_home: Path):
    with Library.default() as lib:
        yield lib


@pytest.fixture
def manifest(tmp_path: Path, library: Library) -> Path:
    """A finished avatar collection as `make_collection` leaves it: images in the library, manifest.json."""
    folder = tmp_path / "foxes"
    folder.mkdir()
    works = []
    for index, colour in enumerate([(200, 40, 40), (40, 200, 40), (40, 40, 200)]):
        Image.new("RGB", (32, 32), colour).save(folder / f"000{index + 1}.png")
        add_saved_work(library, folder / f"000{index + 1}.png", title=f"Foxes #{index + 1}")
        works.append({"file": f"000{index + 1}.png", "name": f"Foxes #{index + 1}",
                      "attributes": {"Hat": ["none", "cap", "crown"][index]}})
    path = folder / "manifest.json"
    path.write_text(json.dumps({"works": works}))
    return path


def test_the_collection_is_checked_then_minted_with_progress_and_the_gallery_shows_the_tokens(
        qtbot, wallet_state, library: Library, manifest: Path) -> None:
    from studio.storage.store import LocalStore
    from studio.workflows.collections import create_collection

    collection = create_collection(connection=wallet_state.session.connection(), signer=devnet_signer(0),
                                   library=library, name="Foxes", symbol="FOX", royalty_receiver=ACCOUNT_1,
                                   royalty_bps=500)
    dialog = BatchMintDialog(wallet_state, library, manifest, store_factory=LocalStore.default)
    qtbot.addWidget(dialog)
    dialog.show()
    state = dialog.state
    assert state.collection_address == collection.address and "Foxes (FOX)" in dialog.collection_combo.currentText()
    with qtbot.waitSignal(dialog.unlock_shown, timeout=3_000) as shown:  # locked: the password first
        qtbot.mouseClick(dialog.check_button, Qt.MouseButton.LeftButton)
    shown.args[0].reject()
    assert state.stage == CHOOSE and not dialog.mint_button.isVisible()
    unlock(qtbot, wallet_state)
    with qtbot.waitSignal(state.planned, timeout=JOB_MS):
        qtbot.mouseClick(dialog.check_button, Qt.MouseButton.LeftButton)
    assert state.stage == PLANNED and dialog.mint_button.isVisible() and dialog.mint_button.isEnabled()
    assert dialog.summary_labels["Tokens"].text().startswith("3, minted to 0xf39F")
    assert dialog.summary_labels["Estimated fee"].text().startswith("at most ") and "ETH" in \
        dialog.summary_labels["Estimated fee"].text()
    assert library.tokens(collection.chain_id, collection.address) == []  # checking sent nothing

    fractions: list[float] = []
    state.progress_fraction_changed.connect(fractions.append)
    with qtbot.waitSignal(state.minted, timeout=JOB_MS) as minted:
        qtbot.mouseClick(dialog.mint_button, Qt.MouseButton.LeftButton)
    report = minted.args[0]
    assert state.stage == DONE and report.done == 3 and dialog.cancel_button.text() == "Close"
    assert any(0 < f < 1 for f in fractions) and fractions[-1] == 1.0
    assert "Minted 3 of 3 into Foxes: tokens" in dialog.result_label.text()
    for work in library.works():  # the Gallery's works hold their tokens
        [token] = library.tokens_of_work(work.id)
        assert token.collection == collection.address and token.owner == ACCOUNT_1
    assert sorted(w.title for w in library.works()) == ["Foxes #1", "Foxes #2", "Foxes #3"]

    again = BatchMintDialog(wallet_state, library, manifest, store_factory=LocalStore.default)
    qtbot.addWidget(again)
    with qtbot.waitSignal(again.state.minted, timeout=JOB_MS) as second:  # the journal: nothing minted twice
        again.state.mint()
    assert second.args[0].done == 3 and len(library.tokens(collection.chain_id, collection.address)) == 3


def test_without_a_collection_of_ones_own_the_dialog_says_so_and_offers_a_new_one(
        qtbot, wallet_state, library: Library, manifest: Path) -> None:
    dialog = BatchMintDialog(wallet_state, library, manifest)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.collection_combo.currentText() == "No collection of yours on this network yet"
    assert not dialog.check_button.isEnabled() and dialog.new_button.isEnabled()
    with qtbot.waitSignal(dialog.collection_dialog_shown, timeout=3_000) as shown:
        qtbot.mouseClick(dialog.new_button, Qt.MouseButton.LeftButton)
    shown.args[0].reject()
