"""The mint dialog as a person uses it, real widgets offscreen over the embedded devnet and the local
store: works from the Create tab's results (signed by the unlocked account) minted as a batch and
recorded; the preview declined (nothing sent, the work stays mintable); an upload that fails
(the error shown, the work retryable); every check made before a worker; “New collection…”;
and screenshots of the form and the summary."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from studio.errors import StorageError
from studio.library.db import Library, Work
from studio.ui.dialogs.mint import NEW_COLLECTION, FORM_PAGE, PROGRESS_PAGE, RESULT_PAGE, SUMMARY_PAGE, MintDialog
from studio.ui.state.mint import (DONE, FAILED, FORM, RETRY_TEXT, SENT_TEXT, SENT_TITLE, SUMMARY, WorkDraft,
                                  trait_value)
from wallet_helpers import ACCOUNT_1, ACCOUNT_2, JOB_MS, PASSWORD, TEST_PHRASE, unlock

COLOURS = [(200, 40, 40), (40, 200, 40), (40, 40, 200)]


@pytest.fixture
def library(studio_home: Path):
    with Library.default() as lib:
        yield lib


@pytest.fixture
def store(studio_home: Path):
    from studio.storage.store import LocalStore

    return LocalStore.default()


def devnet_signer(index: int):
    from eth_account import Account

    from studio.chain.transactions import LocalSigner

    Account.enable_unaudited_hdwallet_features()
    return LocalSigner(Account.from_mnemonic(TEST_PHRASE, account_path=f"m/44'/60'/0'/0/{index}"))


@pytest.fixture
def collection(wallet_session, library):
    """A collection owned by the wallet's first account (deployed with the same key, outside the GUI)."""
    from studio.workflows.collections import create_collection

    artist = devnet_signer(0)
    assert artist.address == ACCOUNT_1
    return create_collection(connection=wallet_session.connection(), signer=artist, library=library, name="Dawns",
                             symbol="DAWN", royalty_receiver=ACCOUNT_1, royalty_bps=500)


@pytest.fixture
def works(tmp_path: Path) -> list[Path]:
    from PIL import Image

    paths = []
    for index, colour in enumerate(COLOURS):
        path = tmp_path / "works" / f"work-{index}.png"
        path.parent.mkdir(exist_ok=True)
        Image.new("RGB", (32, 32), colour).save(path)
        paths.append(path)
    return paths


class FlakyStore:
    """The local store, except that storing a file fails while ``down`` (a backend that is away)."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name = inner.name
        self.down = True

    def add_path(self, path, **options):
        if self.down:
            raise StorageError("The pinning service did not answer (connection refused).",
                               hint="Check the connection and try again.")
        return self.inner.add_path(path, **options)

    def add_bytes(self, data, **options):
        return self.inner.add_bytes(data, **options)

    def has(self, cid):
        return self.inner.has(cid)


def click(qtbot, button) -> None:
    assert button.isEnabled(), f"{button.text()} is disabled"
    assert button.isVisible(), f"{button.text()} is hidden"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def open_dialog(qtbot, wallet_state, library, works, **options) -> MintDialog:
    """The dialog for ``works``: ids of the library's works, or files (recorded in the library first)."""
    from studio.workflows.library import add_saved_work

    work_ids = [w if isinstance(w, int) else add_saved_work(library, w, owned=False).id for w in works]
    dialog = MintDialog(wallet_state, library, work_ids, **options)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def to_summary(qtbot, dialog: MintDialog) -> None:
    with qtbot.waitSignal(dialog.state.estimated, timeout=JOB_MS):
        click(qtbot, dialog.next_button)
    assert dialog.pages.currentIndex() == SUMMARY_PAGE


def start_mint(qtbot, dialog: MintDialog):
    """Press Mint and wait for the transaction's preview (after the uploads)."""
    with qtbot.waitSignal(dialog.preview_shown, timeout=JOB_MS) as shown:
        click(qtbot, dialog.mint_button)
    assert dialog.pages.currentIndex() == PROGRESS_PAGE
    return shown.args[0]


def sign(qtbot, dialog: MintDialog, preview) -> None:
    with qtbot.waitSignal(dialog.state.minted, timeout=JOB_MS):
        click(qtbot, preview.sign_button)
    qtbot.waitUntil(lambda: not dialog.state.busy, timeout=JOB_MS)
    assert dialog.pages.currentIndex() == RESULT_PAGE and dialog.state.stage == DONE


def metadata_of(store, cid: str) -> dict:
    from studio.storage.cid import Cid

    return json.loads(store.cat(Cid.parse(cid)))


# ---- the whole path from the Create tab -----------------------------------------------------------


@pytest.mark.slow
def test_two_create_tab_results_signed_by_the_account_are_minted_as_a_batch_and_recorded(
        qtbot, demo_config, wallet_state, library, store, collection, content_hashes) -> None:
    from studio.generation.models import ModelCatalog
    from studio.provenance.embed import read_embedded
    from studio.provenance.manifest import SignedManifest
    from studio.ui.main_window import engine_factory
    from studio.ui.state.create import CreateState
    from studio.ui.state.mint import signer_provider_for
    from studio.ui.tabs.create import CreateTab
    from studio.ui.workers import GpuLane
    from studio.workflows.verify import verify_file

    unlock(qtbot, wallet_state)
    demo_config.set("default_model", "demo")
    catalog = ModelCatalog(demo_config)
    lane = GpuLane(engine_factory(demo_config, catalog))
    create = CreateState(demo_config, catalog, lane, wallet_state.background)
    create.set_signer_provider(signer_provider_for(wallet_state))
    tab = CreateTab(create)
    qtbot.addWidget(tab)
    tab.show()
    try:
        create.prompt, create.width, create.height, create.steps, create.count = "two lighthouses", 64, 64, 2, 2
        with qtbot.waitSignal(create.job_finished, timeout=JOB_MS):
            create.generate()
        assert create.error == "" and create.results.rowCount() == 2
        paths = [item.path for item in create.results.items]
        for path in paths:  # the saves are signed by the unlocked account
            signed = SignedManifest.from_json(read_embedded(path.read_bytes(), name=path.name).provenance_json)
            assert signed.manifest.creator == ACCOUNT_1 and signed.signature
            verdict = verify_file(path)
            assert verdict.signature_valid and verdict.signer == ACCOUNT_1

        tab.grid.selectAll()
        assert tab.mint_button.isEnabled()
        with qtbot.waitSignal(create.mint_requested, timeout=5_000) as requested:
            click(qtbot, tab.mint_button)
        assert requested.args[0] == [item.work.work_id for item in create.results.items]  # the library's works
    finally:
        lane.shutdown()

    saved = len(content_hashes)  # each save hashed its file once, to record it
    dialog = open_dialog(qtbot, wallet_state, library, requested.args[0])
    assert dialog.collection_combo.currentData() == collection.address
    assert dialog.state.drafts[0].name == "two lighthouses"  # the prompt is the first name
    dialog.works.setCurrentRow(0)
    dialog.name_edit.clear()
    qtbot.keyClicks(dialog.name_edit, "Lighthouse I")
    dialog.set_traits([("Mood", "calm"), ("Rank", "1")])
    dialog.works.setCurrentRow(1)
    qtbot.keyClicks(dialog.name_edit, " II")
    dialog.license_combo.setCurrentIndex(dialog.license_combo.findData("CC0-1.0"))
    dialog.license_combo.activated.emit(dialog.license_combo.currentIndex())
    to_summary(qtbot, dialog)
    estimate = dialog.state.estimate
    assert estimate.batch and estimate.storage == "local" and len(estimate.tokens) == 2
    assert dialog.cid_table.rowCount() == 2 and dialog.cid_table.item(0, 0).text() == "Lighthouse I"
    assert dialog.cid_table.item(1, 3).text() == estimate.tokens[1].metadata_cid
    assert "at most" in dialog.summary_labels["Estimated fee"].text()
    assert dialog.summary_labels["Minted as"].text() == "a batch of 2 tokens in one transaction"
    assert estimate.commitment_cid in dialog.summary_labels["Committed to"].text()

    preview = start_mint(qtbot, dialog)
    assert preview.preview.action == "Minting the batch" and preview.preview.sender == ACCOUNT_1
    assert dialog.state.step == "minting"
    sign(qtbot, dialog, preview)

    result = dialog.state.result
    assert [m.token.token_id for m in result.minted] == [1, 2]
    # the dialog and the summary took the works' hashes from the library: each file hashed once, at the upload
    assert [content_hashes[saved:].count(m.work.sha256) for m in result.minted] == [1, 1]
    text = dialog.result_text.toPlainText()
    assert "Token 1: Lighthouse I" in text and "Token 2: two lighthouses II" in text and result.tx_hash in text
    for minted, planned in zip(result.minted, estimate.tokens):
        assert minted.token.metadata_cid == planned.metadata_cid and planned.metadata_cid in text
    tokens = library.tokens(1337, collection.address)
    assert [(t.token_id, t.owner, t.tx_hash) for t in tokens] == [(1, ACCOUNT_1, result.tx_hash),
                                                                  (2, ACCOUNT_1, result.tx_hash)]
    assert [Path(library.work(t.work_id).path) for t in tokens] == [p.resolve() for p in paths]
    first, second = (metadata_of(store, t.metadata_cid) for t in tokens)
    assert {"trait_type": "Mood", "value": "calm"} in first["attributes"]
    assert {"trait_type": "Rank", "value": 1} in first["attributes"]
    assert second["license"] == "CC0-1.0" and second["provenance"]["creator"] == ACCOUNT_1
    qtbot.waitUntil(lambda: not wallet_state.busy, timeout=JOB_MS)  # the wallet refreshed after the mint
    click(qtbot, dialog.close_button)
    assert not dialog.isVisible()


# ---- failure points ----------------------------------------------------------------------------


def test_declining_the_preview_sends_nothing_and_the_work_stays_mintable(qtbot, wallet_state, library, store,
                                                                          collection, works) -> None:
    unlock(qtbot, wallet_state)
    dialog = open_dialog(qtbot, wallet_state, library, works[:1])
    dialog.name_edit.setText("Red")
    dialog.name_edit.textEdited.emit("Red")
    to_summary(qtbot, dialog)
    preview = start_mint(qtbot, dialog)
    with qtbot.waitSignal(dialog.state.stage_changed, timeout=JOB_MS):
        click(qtbot, preview.cancel_button)
    qtbot.waitUntil(lambda: not dialog.state.busy, timeout=JOB_MS)
    assert dialog.state.stage == SUMMARY and dialog.pages.currentIndex() == SUMMARY_PAGE
    assert "Nothing was signed" in dialog.notice.text() and dialog.notice.isVisible()
    assert wallet_state.session.history_entries() == []  # no transaction left the studio
    assert library.tokens(1337, collection.address) == []
    (attempt,) = library.attempts(chain_id=1337)
    assert attempt.state == "uploaded"  # kept for the next try

    preview = start_mint(qtbot, dialog)
    sign(qtbot, dialog, preview)
    (token,) = library.tokens(1337, collection.address)
    assert token.token_id == 1 and token.metadata_cid == attempt.metadata_cid
    assert len(wallet_state.session.history_entries()) == 1


def test_a_job_cancelled_while_the_preview_is_open_signs_nothing(qtbot, wallet_state, library, store, collection,
                                                                 works) -> None:
    """What closing the window does (every job cancelled): the waiting mint answers no by itself."""
    unlock(qtbot, wallet_state)
    dialog = open_dialog(qtbot, wallet_state, library, works[:1])
    to_summary(qtbot, dialog)
    preview = start_mint(qtbot, dialog)
    job = dialog.state.job
    with qtbot.waitSignal(job.cancelled, timeout=JOB_MS):
        job.cancel()
    assert dialog.state.stage == SUMMARY and "Nothing was signed" in dialog.state.notice
    assert wallet_state.session.history_entries() == [] and library.tokens(1337) == []
    preview.reject()  # answering afterwards changes nothing
    assert wallet_state.session.history_entries() == []


def test_an_upload_failure_is_shown_and_the_work_can_be_minted_again(qtbot, wallet_state, library, store,
                                                                      collection, works) -> None:
    flaky = FlakyStore(store)
    unlock(qtbot, wallet_state)
    dialog = open_dialog(qtbot, wallet_state, library, works[:2], store_factory=lambda: flaky)
    to_summary(qtbot, dialog)
    with qtbot.waitSignal(dialog.state.stage_changed, timeout=JOB_MS,
                          check_params_cb=lambda stage: stage == FAILED):
        click(qtbot, dialog.mint_button)
    qtbot.waitUntil(lambda: not dialog.state.busy, timeout=JOB_MS)
    assert dialog.pages.currentIndex() == RESULT_PAGE
    assert dialog.result_title.text() == "The mint did not go through"
    assert "The pinning service did not answer" in dialog.result_text.toPlainText()
    assert dialog.result_intro.text() == RETRY_TEXT
    assert dialog.retry_button.isVisible() and not dialog.close_button.isDefault()
    assert library.attempts(chain_id=1337) == [] and library.tokens(1337) == []  # nothing half recorded
    assert wallet_state.session.history_entries() == []

    flaky.down = False
    with qtbot.waitSignal(dialog.preview_shown, timeout=JOB_MS) as shown:
        click(qtbot, dialog.retry_button)
    sign(qtbot, dialog, shown.args[0])
    assert [t.token_id for t in library.tokens(1337, collection.address)] == [1, 2]


def test_a_file_edited_after_it_was_saved_is_refused_at_the_upload_and_nothing_is_stored_or_sent(
        qtbot, wallet_state, library, store, collection, works, content_hashes) -> None:
    """The dialog works from the library's record; the file is hashed once, at the upload, and a
    file that no longer matches the recorded hash is neither stored nor minted."""
    from PIL import Image

    unlock(qtbot, wallet_state)
    dialog = open_dialog(qtbot, wallet_state, library, works[:1], store_factory=lambda: store)
    work = dialog.state.drafts[0].work
    to_summary(qtbot, dialog)
    Image.new("RGB", (32, 32), (9, 9, 9)).save(works[0])  # edited outside the studio
    hashed = len(content_hashes)
    with qtbot.waitSignal(dialog.state.stage_changed, timeout=JOB_MS,
                          check_params_cb=lambda stage: stage == FAILED):
        click(qtbot, dialog.mint_button)
    qtbot.waitUntil(lambda: not dialog.state.busy, timeout=JOB_MS)
    shown = dialog.result_text.toPlainText()
    assert f"The file of work {work.id} (work-0.png) changed since it was saved" in shown
    assert "import the edited one into the Gallery as a new work" in shown  # the hint: what to do
    assert len(content_hashes) == hashed + 1  # hashed once, at the upload
    assert dialog.state.gate.asked == 0 and wallet_state.session.history_entries() == []  # nothing signed or sent
    assert library.attempts(chain_id=1337) == [] and library.tokens(1337) == []
    from studio.storage.cid import Cid
    from studio.storage.unixfs import cid_of_path

    assert not store.has(Cid.parse(str(cid_of_path(works[0], cid_version=1))))  # the edited image was not stored


def test_a_mint_sent_before_the_node_stopped_answering_says_so_and_a_retry_records_it_once(
        qtbot, wallet_state, library, store, collection, works, monkeypatch) -> None:
    """The devnet stops answering right after it took the transaction (a node dropping away): the
    page must not say the mint did not go through, since it lands; trying again records its tokens."""
    from studio.chain.devnet import Devnet

    devnet = Devnet.shared()
    answer = devnet.request
    down = [False]

    def dropping_request(method, params):
        if down[0]:
            raise ConnectionError("the node went away")
        response = answer(method, params)
        if method == "eth_sendRawTransaction":
            down[0] = True  # the transaction is in; the receipt is never read
        return response

    monkeypatch.setattr(devnet, "request", dropping_request)
    unlock(qtbot, wallet_state)
    dialog = open_dialog(qtbot, wallet_state, library, works[:2], store_factory=lambda: store)
    to_summary(qtbot, dialog)
    preview = start_mint(qtbot, dialog)
    with qtbot.waitSignal(dialog.state.stage_changed, timeout=JOB_MS,
                          check_params_cb=lambda stage: stage == FAILED):
        click(qtbot, preview.sign_button)
    qtbot.waitUntil(lambda: not dialog.state.busy, timeout=JOB_MS)
    assert dialog.pages.currentIndex() == RESULT_PAGE and dialog.state.failure_sent
    assert dialog.result_title.text() == SENT_TITLE and "did not go through" not in dialog.result_title.text()
    assert dialog.result_intro.text() == SENT_TEXT and "stays mintable" not in dialog.result_intro.text()
    sent = library.attempts(chain_id=1337, collection=collection.address)
    assert [a.state for a in sent] == ["sent", "sent"]
    assert sent[0].tx_hash in dialog.result_text.toPlainText()
    assert dialog.retry_button.isVisible()

    down[0] = False  # the node answers again
    monkeypatch.setattr(devnet, "request", answer)
    with qtbot.waitSignal(dialog.state.minted, timeout=JOB_MS):
        click(qtbot, dialog.retry_button)
    qtbot.waitUntil(lambda: not dialog.state.busy, timeout=JOB_MS)
    assert dialog.state.stage == DONE and not dialog.state.failure_sent
    tokens = library.tokens(1337, collection.address)
    assert [(t.token_id, t.tx_hash) for t in tokens] == [(1, sent[0].tx_hash), (2, sent[0].tx_hash)]


def test_a_failure_before_anything_was_sent_still_says_the_mint_did_not_go_through(
        qtbot, wallet_state, library, store, collection, works, monkeypatch) -> None:
    """A node away before the transaction left is a plain failure: nothing was sent, the work stays mintable."""
    from studio.chain.devnet import Devnet

    devnet = Devnet.shared()
    answer = devnet.request

    def refusing_sends(method, params):
        if method == "eth_sendRawTransaction":
            raise ConnectionError("the node went away")
        return answer(method, params)

    monkeypatch.setattr(devnet, "request", refusing_sends)
    unlock(qtbot, wallet_state)
    dialog = open_dialog(qtbot, wallet_state, library, works[:1], store_factory=lambda: store)
    to_summary(qtbot, dialog)
    preview = start_mint(qtbot, dialog)
    with qtbot.waitSignal(dialog.state.stage_changed, timeout=JOB_MS,
                          check_params_cb=lambda stage: stage == FAILED):
        click(qtbot, preview.sign_button)
    qtbot.waitUntil(lambda: not dialog.state.busy, timeout=JOB_MS)
    assert not dialog.state.failure_sent
    assert dialog.result_title.text() == "The mint did not go through"
    assert dialog.result_intro.text() == RETRY_TEXT
    assert "sent" not in [a.state for a in library.attempts(chain_id=1337, collection=collection.address)]


def test_locked_wallet_missing_collection_and_empty_name_are_refused_before_any_worker(
        qtbot, wallet_state, library, works) -> None:
    dialog = open_dialog(qtbot, wallet_state, library, works[:2])
    # no collection yet on this network: only “New collection…”
    assert dialog.collection_combo.count() == 1 and dialog.collection_combo.itemData(0) == NEW_COLLECTION
    with qtbot.waitSignal(dialog.unlock_shown, timeout=5_000) as shown:
        click(qtbot, dialog.next_button)  # locked: the unlock dialog comes first
    assert dialog.state.job is None
    unlock_dialog = shown.args[0]
    unlock_dialog.password.setText(PASSWORD)
    with qtbot.waitSignal(unlock_dialog.accepted, timeout=JOB_MS):
        click(qtbot, unlock_dialog.unlock_button)
    qtbot.waitUntil(lambda: "Choose a collection" in dialog.error.text(), timeout=5_000)
    assert dialog.state.job is None and dialog.pages.currentIndex() == FORM_PAGE

    from studio.workflows.collections import create_collection

    other = create_collection(connection=wallet_state.session.connection(), signer=devnet_signer(1),
                              library=library, name="Not mine", symbol="NM", royalty_receiver=ACCOUNT_2,
                              royalty_bps=0)
    dialog.state.reload_collections(select=other.address)
    click(qtbot, dialog.next_button)
    assert "Only the owner of Not mine" in dialog.error.text() and dialog.state.job is None

    # “New collection…” opens the collection dialog; the collection made there is chosen
    with qtbot.waitSignal(dialog.collection_dialog_shown, timeout=5_000) as shown:
        dialog.collection_combo.activated.emit(dialog.collection_combo.findData(NEW_COLLECTION))
    assert dialog.collection_combo.currentData() == other.address  # unchanged until it exists
    collection_dialog = shown.args[0]
    collection_dialog.name.setText("Dawns")
    collection_dialog.symbol.setText("DAWN")
    with qtbot.waitSignal(collection_dialog.preview_shown, timeout=JOB_MS) as previewed:
        click(qtbot, collection_dialog.go_button)
    with qtbot.waitSignal(collection_dialog.accepted, timeout=JOB_MS):
        click(qtbot, previewed.args[0].sign_button)
    created = collection_dialog.collection
    assert dialog.state.collection_address == created.address == dialog.collection_combo.currentData()

    dialog.works.setCurrentRow(1)
    dialog.name_edit.clear()
    dialog.name_edit.textEdited.emit("")
    click(qtbot, dialog.next_button)
    assert "work-1.png needs a name" in dialog.error.text() and dialog.state.job is None
    dialog.set_traits([("Mood", "")])
    dialog.name_edit.setText("Green")
    dialog.name_edit.textEdited.emit("Green")
    click(qtbot, dialog.next_button)
    assert "has a name but no value" in dialog.error.text() and dialog.state.job is None
    assert dialog.state.stage == FORM


def test_works_gone_from_the_library_are_left_out_and_the_dialog_says_so(qtbot, wallet_state, library,
                                                                          works) -> None:
    from studio.workflows.library import add_saved_work

    kept = add_saved_work(library, works[0], owned=False)
    dialog = open_dialog(qtbot, wallet_state, library, [kept.id, kept.id + 100])
    assert [draft.work for draft in dialog.state.drafts] == [kept] and dialog.works.count() == 1
    assert "no longer in the library" in dialog.error.text() and dialog.error.isVisible()
    assert dialog.state.drafts[0].name == "work-0"  # a file without a recipe is named after itself


def test_trait_values_that_read_as_numbers_become_numbers() -> None:
    assert [trait_value(v) for v in ("1", "-3", "2.5", "calm", " 7 ", "1e3", "v2")] == [1, -3, 2.5, "calm", 7,
                                                                                         "1e3", "v2"]
    draft = WorkDraft(Work(1, "a.png", "00" * 32, None, "", "", "", 0.0, 8, 8), "A", traits=[("Rank", "2"), ("", "")], royalty_percent=2.5)
    item = draft.to_item()
    assert item.attributes == (("Rank", 2),) and item.royalty_bps == 250


# ---- screenshots ---------------------------------------------------------------------------------


def test_screenshots_of_the_form_and_the_summary(qtbot, wallet_state, library, store, collection, works,
                                                  tmp_path: Path) -> None:
    """Renders the form (a work with traits) and the summary; set STUDIO_SCREENSHOTS to a folder
    to keep them (they go to a temporary folder otherwise)."""
    from studio.ui.theme import apply_theme

    apply_theme(QGuiApplication.instance())
    folder = Path(os.environ.get("STUDIO_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    unlock(qtbot, wallet_state)
    dialog = open_dialog(qtbot, wallet_state, library, works)
    dialog.resize(980, 660)
    for row, name in enumerate(("Red dawn", "Green hour", "Blue night")):
        dialog.state.update_draft(row, name=name, description=f"{name}, from the Dawns series")
        dialog.works.item(row).setText(name)
    dialog.works.setCurrentRow(0)
    dialog._show_draft(0)
    dialog.set_traits([("Mood", "calm"), ("Rank", "1"), ("Palette", "warm")])
    qtbot.waitExposed(dialog)
    form = dialog.grab()
    assert form.save(str(folder / "mint_form.png")) and form.width() >= 900
    to_summary(qtbot, dialog)
    summary = dialog.grab()
    assert summary.save(str(folder / "mint_summary.png"))
    assert dialog.cid_table.rowCount() == 3
