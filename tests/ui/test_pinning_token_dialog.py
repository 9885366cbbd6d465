"""The pinning service's token from the GUI: kept encrypted in the wallet, used by the mint dialog's store."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from studio.chain.wallet import Wallet
from studio.config import load_config
from studio.storage.pinning import PinningService
from studio.ui.dialogs.pinning_token import PinningTokenDialog
from studio.ui.state.mint import default_store_factory
from studio.ui.workers import BackgroundPool

PASSWORD = "a long wallet password"
TOKEN = "psa-token-0123456789abcdefGHIJ"


@pytest.fixture
def wallet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Wallet:
    monkeypatch.delenv("STUDIO_PINNING_TOKEN", raising=False)
    wallet = Wallet(tmp_path / "wallet.json", kdf_n=2**10)
    wallet.import_phrase("test test test test test test test test test test test junk", PASSWORD)
    return wallet


@pytest.fixture
def dialog(qtbot, wallet: Wallet):
    pool = BackgroundPool()
    dialog = PinningTokenDialog(wallet, pool)
    qtbot.addWidget(dialog)
    dialog.show()
    yield dialog
    pool.shutdown()


def test_a_saved_token_is_encrypted_in_the_wallet_and_feeds_the_pinning_store(qtbot, dialog, wallet: Wallet) -> None:
    dialog.token_edit.setText(TOKEN)
    dialog.password_edit.setText(PASSWORD)
    with qtbot.waitSignal(dialog.accepted, timeout=20_000):
        dialog.save_button.click()
    assert TOKEN.encode() not in wallet.path.read_bytes()
    assert dialog.token_edit.text() == "" and dialog.password_edit.text() == ""

    config = load_config()
    config.set("storage_backend", "pinning")
    config.set("pinning_endpoint", "https://pins.example/psa")
    config.save()
    wallet.unlock(PASSWORD)
    assert wallet.service_secret("pinning") == TOKEN
    store = default_store_factory(wallet)
    assert isinstance(store, PinningService) and TOKEN not in repr(store)


def test_a_wrong_password_shows_the_error_and_saves_nothing(qtbot, dialog, wallet: Wallet) -> None:
    before = wallet.path.read_bytes()
    dialog.token_edit.setText(TOKEN)
    dialog.password_edit.setText("not the password")
    dialog.save_button.click()
    qtbot.waitUntil(lambda: dialog.error.isVisible() and dialog.save_button.isEnabled(), timeout=20_000)
    assert "password" in dialog.error.text().lower()
    assert wallet.path.read_bytes() == before and dialog.result() == 0


def test_missing_fields_and_removing_a_token_that_is_not_there(qtbot, dialog) -> None:
    dialog.save_button.click()
    assert "access token" in dialog.error.text()
    dialog.token_edit.setText(TOKEN)
    dialog.save_button.click()
    assert "wallet password" in dialog.error.text()
    dialog.password_edit.setText(PASSWORD)
    dialog.remove_button.click()
    qtbot.waitUntil(lambda: "No pinning token" in dialog.error.text(), timeout=20_000)


def test_settings_offer_the_token_under_the_pinning_address(window) -> None:
    settings = window.settings_dialog()
    assert settings.action_buttons["pinning_endpoint"].text() == "Access token…"


def test_access_token_button_in_settings_opens_the_token_dialog(window, qtbot) -> None:
    """Settings › Storage › Access token… raised AttributeError (QMainWindow has no activeWindow)."""
    from studio.ui.dialogs.pinning_token import PinningTokenDialog

    settings = window.settings_dialog()
    settings.action_buttons["pinning_endpoint"].click()
    qtbot.waitUntil(lambda: any(isinstance(w, PinningTokenDialog) and w.isVisible()
                                for w in QApplication.topLevelWidgets()), timeout=10_000)
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, PinningTokenDialog):
            widget.close()
    settings.close()
