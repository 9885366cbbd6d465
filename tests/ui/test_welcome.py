"""The first-run welcome, driven with pytest-qt offscreen: skipping the wallet, choosing the works
folder, the models found, and the download offered to people who have none (from a loopback hub).

Each page is also saved as /work/screens/welcome_*.png when that folder exists (for people to look at).
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Iterator

import pytest
from PySide6.QtWidgets import QWizard

from studio.config import Config, load_config
from studio.generation.models import ModelCatalog
from studio.ui.dialogs.welcome import INTRO, MODELS, WALLET, WORKS, OTHER_MODEL, WelcomeDialog
from studio.ui.state.welcome import WelcomeState, needs_welcome
from dialog_helpers import emit_after_deleting

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "generation"))
from fake_hub import REPO, model_repo_files, serve_fake_hub  # noqa: E402

SCREENS = Path("/work/screens")


def _screenshot(dialog: WelcomeDialog, name: str) -> None:
    if SCREENS.is_dir():
        dialog.grab().save(str(SCREENS / f"welcome_{name}.png"))


@pytest.fixture
def config(demo_config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    """A fresh studio home (no wallet, no models) that does not look at this machine's Hugging Face cache."""
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hf-cache"))
    return demo_config


def _dialog(qtbot, config: Config, endpoint: str | None = None) -> WelcomeDialog:
    state = WelcomeState(config, ModelCatalog(config), endpoint=endpoint)
    dialog = WelcomeDialog(state)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


@pytest.fixture
def welcome(qtbot, config: Config) -> Iterator[WelcomeDialog]:
    dialog = _dialog(qtbot, config)
    yield dialog
    dialog.state.background.shutdown()


def _go_to(qtbot, dialog: WelcomeDialog, page_id: int) -> None:
    while dialog.currentId() != page_id:
        before = dialog.currentId()
        dialog.next()
        assert dialog.currentId() != before, f"stuck on page {before}"


def test_first_run_is_due_until_the_welcome_is_done(config: Config) -> None:
    assert needs_welcome(config)
    config.set("first_run_done", True)
    assert not needs_welcome(config)


def test_skipping_the_wallet_finishes_and_is_remembered(qtbot, welcome: WelcomeDialog, config: Config) -> None:
    assert welcome.currentId() == INTRO
    _screenshot(welcome, "1_intro")
    welcome.next()
    assert welcome.currentId() == WALLET
    page = welcome.wallet_page
    assert "no wallet" in page.status.text() and page.skip_note.isVisible()
    assert page.create_button.isEnabled()
    _screenshot(welcome, "2_wallet")
    _go_to(qtbot, welcome, MODELS)
    qtbot.waitUntil(lambda: welcome.state.scanned)
    with qtbot.waitSignal(welcome.finished):
        welcome.button(QWizard.WizardButton.FinishButton).click()
    assert not (config.paths.data_dir / "wallet" / "wallet.json").exists()
    saved = json.loads(config.paths.settings_file.read_text())
    assert saved["first_run_done"] is True
    assert not needs_welcome(load_config())


def test_closing_the_welcome_also_marks_it_done(qtbot, welcome: WelcomeDialog, config: Config) -> None:
    welcome.button(QWizard.WizardButton.CancelButton).click()
    assert load_config()["first_run_done"] is True


def test_create_wallet_opens_the_wallet_wizard_and_the_status_follows(qtbot, welcome: WelcomeDialog,
                                                                       config: Config) -> None:
    welcome.next()
    page = welcome.wallet_page
    page.create_button.click()
    wizard = page.setup
    assert wizard.isVisible() and wizard.choice.create_radio.isChecked()
    # a wallet saved meanwhile (as the wizard does when it finishes): the page sees it when the wizard closes
    wallet_file = config.paths.data_dir / "wallet" / "wallet.json"
    wallet_file.parent.mkdir(parents=True, exist_ok=True)
    wallet_file.write_text("{}")
    with qtbot.waitSignal(welcome.state.has_wallet_changed):
        wizard.reject()
    assert "set up" in page.status.text() and not page.create_button.isEnabled()
    assert page.import_button.text() == "Import more accounts…"


def test_chosen_works_folder_is_checked_saved_and_used(qtbot, welcome: WelcomeDialog, config: Config,
                                                       tmp_path: Path) -> None:
    _go_to(qtbot, welcome, WORKS)
    page = welcome.works_page
    assert page.folder.text() == str(config.paths.data_dir / "works")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    page.folder.setText(str(blocker / "works"))
    welcome.next()
    assert welcome.currentId() == WORKS and page.error.isVisible() and "cannot be saved" in page.error.text()
    _screenshot(welcome, "3_works_error")

    chosen = tmp_path / "My Art" / "works"
    page.folder.setText(str(chosen))
    welcome.next()
    assert welcome.currentId() == MODELS
    assert chosen.is_dir() and config.paths.works_dir == chosen
    assert list(chosen.iterdir()) == []  # the write test leaves nothing behind
    welcome.state.finish()
    reloaded = load_config()
    assert reloaded["works_folder"] == str(chosen) and reloaded.paths.works_dir == chosen


def test_default_works_folder_is_stored_as_empty(qtbot, welcome: WelcomeDialog, config: Config) -> None:
    _go_to(qtbot, welcome, WORKS)
    welcome.next()
    assert config["works_folder"] == "" and config.paths.works_dir == config.paths.data_dir / "works"


def test_a_closed_welcome_misses_the_next_wallet_and_models_and_an_open_one_shows_them(
        qtbot, config: Config, demo_model_dir: Path) -> None:
    shutil.copytree(demo_model_dir, config.paths.models_dir / "my-model")
    state = WelcomeState(config, ModelCatalog(config))
    live = WelcomeDialog(state)
    qtbot.addWidget(live)
    closed = WelcomeDialog(state)
    wallet_file = config.paths.data_dir / "wallet" / "wallet.json"
    wallet_file.parent.mkdir(parents=True, exist_ok=True)
    wallet_file.write_text("{}")  # a wallet saved meanwhile

    def emit() -> None:
        state.refresh_wallet()
        with qtbot.waitSignal(state.models_scanned, timeout=60_000):
            state.scan()

    exceptions = emit_after_deleting(qtbot, closed, emit)
    assert exceptions == []  # before: "Internal C++ object already deleted" where a slot kept the dialog
    assert "set up" in live.wallet_page.status.text() and not live.wallet_page.create_button.isEnabled()
    assert live.models_page.found.count() == 1 and "my-model" in live.models_page.found.item(0).text()
    state.background.shutdown()


def test_models_found_are_listed_and_no_download_is_pushed(qtbot, config: Config, demo_model_dir: Path) -> None:
    shutil.copytree(demo_model_dir, config.paths.models_dir / "my-model")
    dialog = _dialog(qtbot, config)
    _go_to(qtbot, dialog, MODELS)
    page = dialog.models_page
    qtbot.waitUntil(lambda: page.found.count() == 1)
    assert "my-model" in page.found.item(0).text()
    assert "Found one model" in page.found_label.text()
    assert not page.offer.isVisible()
    _screenshot(dialog, "5_models_found")
    dialog.state.background.shutdown()


def test_with_no_models_a_download_is_offered_and_fetches_the_model(qtbot, config: Config, demo_model_dir: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    with serve_fake_hub(model_repo_files(demo_model_dir)) as hub:
        dialog = _dialog(qtbot, config, endpoint=hub.url)
        _go_to(qtbot, dialog, MODELS)
        page = dialog.models_page
        qtbot.waitUntil(lambda: dialog.state.scanned)
        assert "No models found" in page.found_label.text() and page.offer.isVisible()
        assert page.choice.currentData() == "stable-diffusion-v1-5/stable-diffusion-v1-5"
        assert str(config.paths.models_dir) in page.note.text()
        _screenshot(dialog, "4_models_download_offered")

        page.choice.setCurrentIndex(page.choice.findData(OTHER_MODEL))
        assert page.repo.isVisible()
        page.repo.setText("not an id")
        page.download_button.click()
        assert "owner/name" in page.error.text()

        page.repo.setText(REPO)
        with qtbot.waitSignal(dialog.state.download_succeeded, timeout=30_000) as done:
            page.download_button.click()
            assert not page.isComplete() and page.cancel_button.isVisible()
        info = done.args[0]
        assert info.path == config.paths.models_dir / "tiny-sd"
        assert page.progress.value() == 1000 and "verified" in page.progress_text.text()
        assert page.progress_text.isVisible() and not page.offer.isVisible()
        assert page.isComplete() and page.found.count() == 1
        assert config["default_model"] == info.name
        _screenshot(dialog, "6_model_downloaded")
        dialog.state.background.shutdown()


def test_a_cancelled_download_says_it_can_continue(qtbot, config: Config, demo_model_dir: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    with serve_fake_hub(model_repo_files(demo_model_dir)) as hub:
        dialog = _dialog(qtbot, config, endpoint=hub.url)
        _go_to(qtbot, dialog, MODELS)
        page = dialog.models_page
        qtbot.waitUntil(lambda: dialog.state.scanned)
        page.choice.setCurrentIndex(page.choice.findData(OTHER_MODEL))
        page.repo.setText(REPO)
        # cancelled before the worker runs its first chunk: the job ends as cancelled either way
        dialog.state.download_progressed.connect(lambda *_: dialog.state.cancel_download())
        with qtbot.waitSignal(dialog.state.download_cancelled, timeout=30_000):
            page.download_button.click()
        assert "continue where it stopped" in page.progress_text.text()
        assert page.download_button.isVisible() and page.isComplete()
        assert not (config.paths.models_dir / "tiny-sd").exists()
        dialog.state.background.shutdown()


def test_a_failed_download_shows_the_reason(qtbot, config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    dialog = _dialog(qtbot, config, endpoint="http://127.0.0.1:9")
    _go_to(qtbot, dialog, MODELS)
    page = dialog.models_page
    qtbot.waitUntil(lambda: dialog.state.scanned)
    assert page.offer.isVisible()
    with qtbot.waitSignal(dialog.state.download_failed, timeout=30_000):
        page.download_button.click()
    assert page.error.isVisible() and "HF_HUB_OFFLINE" in page.error.text()
    assert page.download_button.isVisible() and not page.progress.isVisible()
    _screenshot(dialog, "7_download_failed")
    dialog.state.background.shutdown()


def test_a_download_from_a_hub_that_cannot_be_looked_up_says_so_in_words(qtbot, config: Config,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    dialog = _dialog(qtbot, config, endpoint="http://hub.nonexistent.invalid")  # .invalid never resolves
    _go_to(qtbot, dialog, MODELS)
    page = dialog.models_page
    qtbot.waitUntil(lambda: dialog.state.scanned)
    with qtbot.waitSignal(dialog.state.download_failed, timeout=30_000):
        page.download_button.click()
    text = page.error.text()
    assert text.startswith("The name hub.nonexistent.invalid could not be looked up: this computer seems to be "
                           "offline"), text
    assert "Errno" not in text and "Name or service" not in text
    _screenshot(dialog, "8_download_offline")
    dialog.state.background.shutdown()
