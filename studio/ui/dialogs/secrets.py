"""Showing the recovery phrase and exporting a keystore: both ask the password again and warn first.

The phrase is drawn as numbered words that cannot be selected or copied (nothing goes to the
clipboard), and is dropped from the widgets when the dialog closes.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QFrame, QGridLayout, QHBoxLayout,
                               QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget)

from studio.errors import StudioError
from studio.ui import theme
from studio.ui.dialogs.unlock import busy_bar, error_label, show_error
from studio.ui.money import short_address
from studio.ui.state.wallet import WalletState
from studio.ui.workers import Job, error_message

PHRASE_WARNING = ("Anyone who sees these words can take everything in this wallet, on every network. "
                  "Make sure nobody is watching and nothing records the screen. Never type them into a website.")
KEYSTORE_WARNING = ("The keystore file holds this account's private key, encrypted with the password you choose. "
                    "Anyone who has the file and guesses the password controls the account: keep both apart.")


def warning_frame(text: str) -> QFrame:
    """The theme's yellow warning box."""
    frame = QFrame()
    frame.setObjectName("warningBanner")
    label = QLabel(text)
    label.setWordWrap(True)
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(10, 8, 10, 8)
    layout.addWidget(label)
    return frame


class PhraseGrid(QFrame):
    """A recovery phrase as numbered words in columns (not selectable: no copy to the clipboard)."""

    def __init__(self, parent: QWidget | None = None, columns: int = 3) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.columns = columns
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(16, 12, 16, 12)
        self.grid.setHorizontalSpacing(24)
        self.grid.setVerticalSpacing(6)
        self.word_labels: list[QLabel] = []
        self._words: list[str] = []

    def set_phrase(self, phrase: str | None) -> None:
        for label in self.word_labels:
            self.grid.removeWidget(label)
            label.deleteLater()
        self.word_labels = []
        words = self._words = phrase.split() if phrase else []
        rows = max(1, (len(words) + self.columns - 1) // self.columns)
        for i, word in enumerate(words):
            label = QLabel(f"<span style='color:{theme.MUTED}'>{i + 1:>2}.</span>&nbsp;&nbsp;<b>{word}</b>")
            self.word_labels.append(label)
            self.grid.addWidget(label, i % rows, i // rows)

    def words(self) -> list[str]:
        """The words shown, in order."""
        return list(self._words)


class RevealPhraseDialog(QDialog):
    """Asks the password again, then shows the phrase with a warning."""

    def __init__(self, state: WalletState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.job: Job | None = None
        self.setWindowTitle("Recovery phrase")
        self.setMinimumWidth(560)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("Wallet password")
        self.show_button = QPushButton("Show the phrase")
        self.show_button.setProperty("accent", True)
        self.show_button.clicked.connect(self.reveal)
        self.password.returnPressed.connect(self.reveal)
        self.error = error_label()
        self.busy = busy_bar()
        self.grid = PhraseGrid()
        self.grid.setVisible(False)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.password, 1)
        row.addWidget(self.show_button)
        self.which = QLabel(self._which_phrase())
        self.which.setWordWrap(True)
        self.which.setVisible(bool(self.which.text()))
        layout = QVBoxLayout(self)
        layout.addWidget(warning_frame(PHRASE_WARNING))
        layout.addWidget(self.which)
        layout.addLayout(row)
        layout.addWidget(self.error)
        layout.addWidget(self.busy)
        layout.addWidget(self.grid)
        layout.addWidget(self.buttons)

    def _which_phrase(self) -> str:
        """With several phrases in the wallet: which one is shown (the selected account's)."""
        try:
            count = self.state.wallet.phrase_count
        except StudioError:
            return ""
        if count < 2:
            return ""
        number = self.state.keys.phrase_of()
        index = self.state.accounts.index_of(self.state.current_account)
        name = self.state.accounts.row(index).name if index >= 0 else ""
        made = f", the one {name} was made from" if index >= 0 and self.state.accounts.row(index).path else ""
        return f"Recovery phrase {number + 1} of {count}{made}."

    def reveal(self) -> None:
        if self.job is not None:
            return
        try:
            job = self.state.keys.reveal_phrase(self.password.text())
        except StudioError as exc:
            show_error(self.error, str(exc))
            return
        self.job = job
        self.busy.setVisible(True)
        self.show_button.setEnabled(False)
        show_error(self.error, "")
        job.to(self).succeeded.connect(self._on_phrase)
        job.to(self).failed.connect(self._on_failed)

    def _on_phrase(self, phrase: str) -> None:
        self.job = None
        self.busy.setVisible(False)
        self.password.clear()
        self.password.setEnabled(False)
        self.grid.set_phrase(phrase)
        self.grid.setVisible(True)

    def _on_failed(self, exc: BaseException) -> None:
        self.job = None
        self.busy.setVisible(False)
        self.show_button.setEnabled(True)
        self.password.clear()
        show_error(self.error, error_message(exc))

    def done(self, result: int) -> None:
        if self.job is not None:
            return
        self.grid.set_phrase(None)
        self.password.clear()
        super().done(result)


class ExportKeystoreDialog(QDialog):
    """Exports one account as a v3 keystore file after asking the wallet password again."""

    def __init__(self, state: WalletState, address: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.account = state.account_row(address)
        self.job: Job | None = None
        self.saved_to: Path | None = None
        self.setWindowTitle("Export keystore")
        self.setMinimumWidth(560)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("Wallet password")
        self.keystore_password = QLineEdit()
        self.keystore_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.keystore_password.setPlaceholderText("Empty: the wallet password")
        self.keystore_repeat = QLineEdit()
        self.keystore_repeat.setEchoMode(QLineEdit.EchoMode.Password)
        self.path = QLineEdit(str(Path.home() / f"{self.account.name.replace(' ', '-')}-{self.account.address}.json"))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self.choose_path)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Account", QLabel(f"{self.account.name}  {short_address(self.account.address)}"))
        form.addRow("Wallet password", self.password)
        form.addRow("Keystore password", self.keystore_password)
        form.addRow("Repeat it", self.keystore_repeat)
        form.addRow("Save as", path_row)
        self.error = error_label()
        self.busy = busy_bar()
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.ActionRole)
        self.export_button.setProperty("accent", True)
        self.export_button.clicked.connect(self.export)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(warning_frame(KEYSTORE_WARNING))
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.busy)
        layout.addWidget(self.result_label)
        layout.addWidget(self.buttons)

    def choose_path(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the keystore", self.path.text(),
                                              "Keystore (*.json);;All files (*)")
        if path:
            self.path.setText(path)

    def export(self) -> None:
        if self.job is not None:
            return
        if self.keystore_password.text() != self.keystore_repeat.text():
            show_error(self.error, "The two keystore passwords differ.")
            return
        try:
            job = self.state.keys.export_keystore(self.account.address, self.password.text(), self.path.text(),
                                             keystore_password=self.keystore_password.text())
        except StudioError as exc:
            show_error(self.error, str(exc))
            return
        self.job = job
        self.busy.setVisible(True)
        self.export_button.setEnabled(False)
        show_error(self.error, "")
        job.to(self).succeeded.connect(self._on_saved)
        job.to(self).failed.connect(self._on_failed)

    def _clear_passwords(self) -> None:
        for field in (self.password, self.keystore_password, self.keystore_repeat):
            field.clear()

    def _on_saved(self, path: Path) -> None:
        self.job = None
        self.saved_to = path
        self.busy.setVisible(False)
        self.export_button.setEnabled(True)
        self._clear_passwords()
        self.result_label.setText(f"Saved to {path} (readable only by you).")

    def _on_failed(self, exc: BaseException) -> None:
        self.job = None
        self.busy.setVisible(False)
        self.export_button.setEnabled(True)
        self.password.clear()
        show_error(self.error, error_message(exc))

    def done(self, result: int) -> None:
        if self.job is not None:
            return
        self._clear_passwords()
        super().done(result)
