"""The password prompt that unlocks the wallet; scrypt runs in the background, a wrong password
is shown in the dialog, which stays open for another try."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QLabel, QLineEdit, QProgressBar, QPushButton, QVBoxLayout,
                               QWidget)

from studio.errors import StudioError
from studio.text import printable
from studio.ui.state.wallet import WalletState
from studio.ui import theme
from studio.ui.workers import Job, error_message


def error_label() -> QLabel:
    """A red line for a dialog's error (hidden while empty)."""
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.PlainText)  # messages may quote names from files and contracts
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {theme.ERROR_TEXT};")
    label.setVisible(False)
    return label


def show_error(label: QLabel, text: str) -> None:
    label.setText(printable(text or "", multiline=True))
    label.setVisible(bool(text))


def busy_bar() -> QProgressBar:
    """An indeterminate bar shown while a worker runs."""
    bar = QProgressBar()
    bar.setRange(0, 0)
    bar.setTextVisible(False)
    bar.setFixedHeight(6)
    bar.setVisible(False)
    return bar


def status_label() -> QLabel:
    """A muted line for what a dialog's worker is doing."""
    label = QLabel()
    label.setWordWrap(True)
    label.setProperty("muted", True)
    return label


def main_button(buttons: QDialogButtonBox, text: str, role: QDialogButtonBox.ButtonRole) -> QPushButton:
    """The dialog's own action beside Close or Cancel, in the accent colour and taken by Enter."""
    button = buttons.addButton(text, role)
    button.setProperty("accent", True)
    button.setDefault(True)
    return button


class UnlockDialog(QDialog):
    """Asks the wallet password and unlocks; accepted once the wallet is unlocked."""

    def __init__(self, state: WalletState, parent: QWidget | None = None, *,
                 reason: str = "Enter the wallet password to unlock it.") -> None:
        super().__init__(parent)
        self.state = state
        self.job: Job | None = None
        self.setWindowTitle("Unlock the wallet")
        self.setMinimumWidth(420)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("Wallet password")
        self.error = error_label()
        self.busy = busy_bar()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.unlock_button = main_button(self.buttons, "Unlock", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.try_unlock)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        text = QLabel(reason)
        text.setWordWrap(True)
        layout.addWidget(text)
        layout.addWidget(self.password)
        layout.addWidget(self.error)
        layout.addWidget(self.busy)
        layout.addWidget(self.buttons)

    def try_unlock(self) -> None:
        """Start the unlock; the dialog closes only when it succeeded."""
        if self.job is not None:
            return
        try:
            job = self.state.unlock(self.password.text())
        except StudioError as exc:
            show_error(self.error, str(exc))
            return
        self.job = job
        self._set_busy(True)
        show_error(self.error, "")
        job.to(self).succeeded.connect(self._on_unlocked)
        job.to(self).failed.connect(self._on_failed)

    def _set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        self.password.setEnabled(not busy)
        self.unlock_button.setEnabled(not busy)

    def _on_unlocked(self, _result: object) -> None:
        self.job = None
        self.password.clear()
        self.accept()

    def _on_failed(self, exc: BaseException) -> None:
        self.job = None
        self._set_busy(False)
        self.password.clear()
        self.password.setFocus()
        show_error(self.error, error_message(exc))

    def reject(self) -> None:
        if self.job is None:  # scrypt cannot be interrupted: wait for its answer
            self.password.clear()
            super().reject()
