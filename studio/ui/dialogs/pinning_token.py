"""Keep the pinning service's access token in the wallet's encrypted section (Settings → Storage).

The token is typed once, never shown again, and stored by re-encrypting the wallet under its
password (scrypt, in the background): not in settings, not in logs, not on the clipboard.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout,
                               QWidget)

from studio.errors import InputError
from studio.ui.dialogs.unlock import busy_bar, error_label, show_error
from studio.ui.workers import BackgroundPool, FunctionJob, Job, error_message

SECRET_NAME = "pinning"


class PinningTokenDialog(QDialog):
    """Set or remove the token; accepted once the wallet file was rewritten. Subclasses keep another
    service's secret (the OpenSea API key) by changing the class attributes below."""

    SECRET = SECRET_NAME
    TITLE = "Pinning service token"
    INTRO = ("The token is kept encrypted in your wallet, under the wallet's password. It is used when works go "
             "to a pinning service (Settings → Storage), while the wallet is unlocked.")
    FIELD = "Access token"
    WHAT = "token"
    PASTE = "Paste the access token your pinning service gave you."
    NOT_KEPT = "No pinning token was saved in the wallet."

    def __init__(self, wallet: Any, background: BackgroundPool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.TITLE)
        self.setMinimumWidth(460)
        self.wallet, self.background = wallet, background
        self.job: Job | None = None

        intro = QLabel(self.INTRO)
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.PlainText)
        self.token_edit = QLineEdit()
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.token_edit.setPlaceholderText(f"paste the {self.FIELD.lower()}")
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        form = QFormLayout()
        form.addRow(self.FIELD, self.token_edit)
        form.addRow("Wallet password", self.password_edit)
        self.error = error_label()
        self.busy = busy_bar()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.addButton(f"Save {self.WHAT}", QDialogButtonBox.ButtonRole.AcceptRole)
        self.remove_button = QPushButton(f"Remove the saved {self.WHAT}")
        self.buttons.addButton(self.remove_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self.remove_button.clicked.connect(self.remove)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.busy)
        layout.addWidget(self.buttons)

    def save(self) -> None:
        token, password = self.token_edit.text().strip(), self.password_edit.text()
        if not token:
            show_error(self.error, self.PASTE)
            return
        if not password:
            show_error(self.error, f"Type the wallet password: the {self.WHAT} is encrypted with it.")
            return
        secret = self.SECRET
        self._run(f"Saving the {self.WHAT}", lambda progress, cancel: self.wallet.set_service_secret(
            secret, token, password))

    def remove(self) -> None:
        password = self.password_edit.text()
        if not password:
            show_error(self.error, f"Type the wallet password to remove the {self.WHAT}.")
            return
        secret, not_kept = self.SECRET, self.NOT_KEPT

        def run(progress: Any, cancel: Any) -> None:
            if not self.wallet.remove_service_secret(secret, password):
                raise InputError(not_kept)

        self._run(f"Removing the {self.WHAT}", run)

    def _run(self, title: str, fn: Any) -> None:
        if not self.wallet.exists:
            show_error(self.error, f"There is no wallet yet: create one in the Wallet tab first; the {self.WHAT} "
                                   "is kept encrypted in it.")
            return
        show_error(self.error, "")
        self._set_busy(True)
        job = FunctionJob(title, fn, self)
        job.succeeded.connect(self._done)
        job.failed.connect(self._failed)
        self.job = self.background.start(job)

    def _done(self, _result: object) -> None:
        self._set_busy(False)
        self.token_edit.clear()
        self.password_edit.clear()
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        self.password_edit.clear()
        show_error(self.error, error_message(exc))

    def _set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        for widget in (self.save_button, self.remove_button, self.token_edit, self.password_edit):
            widget.setEnabled(not busy)
