"""The create/import wizard: a new phrase (shown once, then three words asked back) or an import of a
phrase, a private key or a keystore file, then the wallet password. Finishing runs scrypt in the
background with a busy bar; the wizard closes when the wallet is saved. Cancel during that work
closes it at once and the wallet is not written (the work stops before its write). After a
wrong password the cursor stays in the password box, so Enter tries again.

Secrets live only in these widgets and the wizard's memory until it closes: never in logs,
settings or the clipboard (the phrase cannot be selected or copied).
"""
from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QPlainTextEdit, QPushButton, QRadioButton, QSpinBox, QVBoxLayout, QWidget,
                               QWizard, QWizardPage)

from studio.errors import InputError, StudioError
from studio.ui.dialogs.secrets import PHRASE_WARNING, PhraseGrid, warning_frame
from studio.ui.dialogs.unlock import busy_bar, error_label, show_error
from studio.ui.state.wallet import WalletState
from studio.ui.workers import FunctionJob, Job, error_message

CHOICE, PHRASE, CONFIRM, IMPORT_PHRASE, IMPORT_KEY, IMPORT_KEYSTORE, PASSWORD = range(7)
CREATE, FROM_PHRASE, FROM_KEY, FROM_KEYSTORE = "create", "phrase", "key", "keystore"
#: How many words of a new phrase the person must type back.
CONFIRM_WORDS = 3


def _text(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    return label


class ChoicePage(QWizardPage):
    """Create a new wallet (12 or 24 words) or import one of three kinds of secret."""

    def __init__(self, wallet_exists: bool) -> None:
        super().__init__()
        self.setTitle("Add accounts" if wallet_exists else "Set up the wallet")
        self.setSubTitle("The studio's wallet signs your mints, listings and sales. Its keys never leave "
                         "this computer unencrypted.")
        self.create_radio = QRadioButton("Create a new wallet with a new recovery phrase")
        self.words = QComboBox()
        self.words.addItem("12 words", 12)
        self.words.addItem("24 words", 24)
        self.phrase_radio = QRadioButton("Import a recovery phrase (MetaMask, hardware wallet backup…)")
        self.key_radio = QRadioButton("Import a private key")
        self.keystore_radio = QRadioButton("Import a keystore file (JSON from geth or MetaMask)")
        self.group = QButtonGroup(self)
        for radio in (self.create_radio, self.phrase_radio, self.key_radio, self.keystore_radio):
            self.group.addButton(radio)
        if wallet_exists:
            self.create_radio.setEnabled(False)
            self.create_radio.setToolTip("A wallet exists already; import into it instead.")
            self.words.setEnabled(False)
            self.phrase_radio.setChecked(True)
        else:
            self.create_radio.setChecked(True)
        row = QHBoxLayout()
        row.addWidget(self.create_radio)
        row.addWidget(self.words)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        for radio in (self.phrase_radio, self.key_radio, self.keystore_radio):
            layout.addWidget(radio)
        layout.addStretch(1)

    @property
    def mode(self) -> str:
        if self.create_radio.isChecked():
            return CREATE
        if self.phrase_radio.isChecked():
            return FROM_PHRASE
        return FROM_KEY if self.key_radio.isChecked() else FROM_KEYSTORE

    def nextId(self) -> int:
        return {CREATE: PHRASE, FROM_PHRASE: IMPORT_PHRASE, FROM_KEY: IMPORT_KEY,
                FROM_KEYSTORE: IMPORT_KEYSTORE}[self.mode]


class PhrasePage(QWizardPage):
    """Shows the new phrase once, with the warning; the person ticks that they wrote it down."""

    def __init__(self, wizard: "WalletSetupWizard") -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle("Your recovery phrase")
        self.setSubTitle("Write these words on paper, in order. They are the only way to restore the wallet "
                         "if this computer is lost.")
        self.grid = PhraseGrid()
        self.generating = QLabel("Generating a new phrase…")
        self.generating.setProperty("muted", True)
        self.written = QCheckBox("I wrote the words down, in order, and keep them somewhere safe")
        self.written.toggled.connect(self.completeChanged)
        layout = QVBoxLayout(self)
        layout.addWidget(warning_frame(PHRASE_WARNING))
        layout.addWidget(self.generating)
        layout.addWidget(self.grid)
        layout.addWidget(self.written)
        layout.addStretch(1)

    def initializePage(self) -> None:
        words = self._wizard.choice.words.currentData()
        phrase = self._wizard.phrase
        if phrase is None or len(phrase.split()) != words:
            self._wizard.phrase = None
            self.written.setChecked(False)
            self.grid.set_phrase(None)
            self.generating.setVisible(True)
            self._wizard.generate_phrase(words)
        else:
            self.show_phrase(phrase)

    def show_phrase(self, phrase: str) -> None:
        self.generating.setVisible(False)
        self.grid.set_phrase(phrase)
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self._wizard.phrase is not None and self.written.isChecked()

    def nextId(self) -> int:
        return CONFIRM


class ConfirmPage(QWizardPage):
    """Asks back three words of the new phrase, by position; Next stays disabled until all match."""

    def __init__(self, wizard: "WalletSetupWizard") -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle("Check your copy")
        self.setSubTitle("Type the words at these positions from your written copy.")
        self.positions: list[int] = []  # 0-based
        self.edits: list[QLineEdit] = []
        self.labels: list[QLabel] = []
        self.form = QFormLayout()
        for _ in range(CONFIRM_WORDS):
            edit = QLineEdit()
            edit.setAutoFillBackground(True)
            edit.textChanged.connect(self._changed)
            label = QLabel()
            self.edits.append(edit)
            self.labels.append(label)
            self.form.addRow(label, edit)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setProperty("muted", True)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.hint)
        layout.addStretch(1)

    def initializePage(self) -> None:
        words = (self._wizard.phrase or "").split()
        self.positions = sorted(random.SystemRandom().sample(range(len(words)), CONFIRM_WORDS)) \
            if len(words) >= CONFIRM_WORDS else []
        for label, edit, position in zip(self.labels, self.edits, self.positions):
            label.setText(f"Word #{position + 1}")
            edit.clear()
        self.hint.setText("")

    def cleanupPage(self) -> None:
        for edit in self.edits:
            edit.clear()

    def _matches(self) -> list[bool]:
        words = (self._wizard.phrase or "").split()
        return [edit.text().strip().lower() == words[position] if position < len(words) else False
                for edit, position in zip(self.edits, self.positions)]

    def _changed(self) -> None:
        filled = all(edit.text().strip() for edit in self.edits)
        wrong = [f"#{p + 1}" for p, ok in zip(self.positions, self._matches()) if not ok]
        words = f"Word {wrong[0]} does not" if len(wrong) == 1 else f"Words {', '.join(wrong)} do not"
        self.hint.setText(f"{words} match the phrase. Go Back to see it again." if filled and wrong else "")
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return bool(self.positions) and all(self._matches())

    def nextId(self) -> int:
        return PASSWORD


class ImportPage(QWizardPage):
    """A page of one kind of secret to import: it is checked when Next is pressed (what is wrong is
    said on the page, which stays), then the wallet password is asked."""

    def __init__(self, title: str, subtitle: str) -> None:
        super().__init__()
        self.setTitle(title)
        self.setSubTitle(subtitle)
        self.error = error_label()

    def check(self) -> None:
        """Raise a StudioError saying what is wrong with the secret as typed."""
        raise NotImplementedError

    def validatePage(self) -> bool:
        try:
            self.check()
        except StudioError as exc:
            show_error(self.error, str(exc))
            return False
        show_error(self.error, "")
        return True

    def nextId(self) -> int:
        return PASSWORD


class ImportPhrasePage(ImportPage):
    def __init__(self, wallet_exists: bool = False) -> None:
        super().__init__("Import a recovery phrase",
                         "The 12 or 24 words, separated by spaces. The accounts are derived like MetaMask's "
                         "(m/44'/60'/0'/0/i).")
        self.note = _text("A phrase other than the wallet's joins it beside the first, as in MetaMask: its "
                          "accounts are named after it (“Account 1 · phrase 2”)." if wallet_exists else "")
        self.note.setProperty("muted", True)
        self.note.setVisible(wallet_exists)
        self.phrase = QPlainTextEdit()
        self.phrase.setPlaceholderText("word1 word2 word3 …")
        self.phrase.setFixedHeight(90)
        self.count = QSpinBox()
        self.count.setRange(1, 20)
        self.count.setToolTip("How many accounts of the phrase to add (more can be added later).")
        self.phrase.textChanged.connect(self.completeChanged)
        form = QFormLayout()
        form.addRow("Accounts", self.count)
        layout = QVBoxLayout(self)
        layout.addWidget(self.phrase)
        layout.addLayout(form)
        layout.addWidget(self.note)
        layout.addWidget(self.error)
        layout.addStretch(1)

    def isComplete(self) -> bool:
        return bool(self.phrase.toPlainText().strip())

    def check(self) -> None:
        from studio.chain.hdkeys import normalize_phrase

        normalize_phrase(self.phrase.toPlainText())


class ImportKeyPage(ImportPage):
    def __init__(self) -> None:
        super().__init__("Import a private key", "64 hexadecimal characters (with or without 0x).")
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("Private key")
        self.name = QLineEdit()
        self.name.setPlaceholderText("Optional, e.g. Old MetaMask account")
        self.key.textChanged.connect(self.completeChanged)
        form = QFormLayout()
        form.addRow("Private key", self.key)
        form.addRow("Name", self.name)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addStretch(1)

    def isComplete(self) -> bool:
        return bool(self.key.text().strip())

    def check(self) -> None:
        from studio.chain.hdkeys import parse_private_key

        parse_private_key(self.key.text())


class ImportKeystorePage(ImportPage):
    def __init__(self) -> None:
        super().__init__("Import a keystore file",
                         "A Web3 Secret Storage (v3) JSON file, with the password it was saved with.")
        self.path = QLineEdit()
        self.path.setPlaceholderText("UTC--…  or  account.json")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self.choose_file)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("The keystore's own password")
        self.name = QLineEdit()
        self.name.setPlaceholderText("Optional")
        self.keystore_text = ""
        for edit in (self.path, self.password):
            edit.textChanged.connect(self.completeChanged)
        form = QFormLayout()
        form.addRow("File", row)
        form.addRow("Keystore password", self.password)
        form.addRow("Name", self.name)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addStretch(1)

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a keystore file", str(Path.home()),
                                              "Keystore (*.json UTC--*);;All files (*)")
        if path:
            self.path.setText(path)

    def isComplete(self) -> bool:
        return bool(self.path.text().strip() and self.password.text())

    def check(self) -> None:
        from studio.chain.keystore import read_keystore_file

        path = Path(self.path.text().strip()).expanduser()
        try:
            self.keystore_text = read_keystore_file(path).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"{path.name} is not a keystore: it is not UTF-8 text (byte {exc.start}).") from exc


class PasswordPage(QWizardPage):
    """The wallet password (new: twice; existing wallet: once), then the scrypt work in the background."""

    def __init__(self, wizard: "WalletSetupWizard", wallet_exists: bool) -> None:
        super().__init__()
        self._wizard = wizard
        self.wallet_exists = wallet_exists
        self.done = False
        self.job: Job | None = None
        self.setTitle("Wallet password" if wallet_exists else "Choose a password")
        self.setSubTitle("Enter the password of your wallet." if wallet_exists else
                         "It encrypts the keys on this computer and unlocks the wallet. At least 8 characters; "
                         "a few unrelated words are strong and easy to remember. It cannot be recovered.")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.repeat = QLineEdit()
        self.repeat.setEchoMode(QLineEdit.EchoMode.Password)
        for edit in (self.password, self.repeat):
            edit.textChanged.connect(self.completeChanged)
        form = QFormLayout()
        form.addRow("Password", self.password)
        if not wallet_exists:
            form.addRow("Repeat it", self.repeat)
        self.error = error_label()
        self.busy = busy_bar()
        self.status = QLabel()
        self.status.setProperty("muted", True)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.busy)
        layout.addWidget(self.status)
        layout.addStretch(1)
        self.setFinalPage(True)

    def isComplete(self) -> bool:
        if self.job is not None:
            return False
        return bool(self.password.text()) and (self.wallet_exists or bool(self.repeat.text()))

    def validatePage(self) -> bool:
        """Finish: start the work and stay on the page; the wizard closes when it succeeds."""
        if self.done:
            return True
        if self.job is not None:
            return False
        repeat = None if self.wallet_exists else self.repeat.text()
        try:
            job = self._wizard.start_saving(self.password.text(), repeat)
        except StudioError as exc:
            show_error(self.error, str(exc))
            return False
        self.job = job
        show_error(self.error, "")
        self.busy.setVisible(True)
        self.status.setText("Encrypting the keys (this takes a few seconds)…")
        for edit in (self.password, self.repeat):  # read-only, not disabled: the cursor stays in the box
            edit.setReadOnly(True)
        self.completeChanged.emit()
        job.to(self).progressed.connect(lambda update: self.status.setText(update[1]))
        job.to(self).succeeded.connect(self._on_saved)
        job.to(self).failed.connect(self._on_failed)
        return False

    def _on_saved(self, _result: Any) -> None:
        self.job = None
        self.done = True
        self.busy.setVisible(False)
        self._wizard.accept()

    def _on_failed(self, exc: BaseException) -> None:
        self.job = None
        self.busy.setVisible(False)
        self.status.setText("")
        for edit in (self.password, self.repeat):
            edit.setReadOnly(False)
        show_error(self.error, error_message(exc))
        self.completeChanged.emit()
        self.password.setFocus()  # Enter tries again (Finish is the default button), never Back
        self.password.selectAll()  # and what is typed replaces the wrong password


class WalletSetupWizard(QWizard):
    """Creates the wallet, or imports accounts into it; accepted once the wallet file is saved."""

    def __init__(self, state: WalletState, parent: QWidget | None = None, *, mode: str | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.phrase: str | None = None
        self._phrase_job: Job | None = None
        exists = state.wallet.exists
        self.setWindowTitle("Import into the wallet" if exists else "Set up the wallet")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, False)
        self.setMinimumSize(640, 520)
        self.choice = ChoicePage(exists)
        self.phrase_page = PhrasePage(self)
        self.confirm_page = ConfirmPage(self)
        self.import_phrase_page = ImportPhrasePage(exists)
        self.import_key_page = ImportKeyPage()
        self.import_keystore_page = ImportKeystorePage()
        self.password_page = PasswordPage(self, exists)
        for page_id, page in ((CHOICE, self.choice), (PHRASE, self.phrase_page), (CONFIRM, self.confirm_page),
                              (IMPORT_PHRASE, self.import_phrase_page), (IMPORT_KEY, self.import_key_page),
                              (IMPORT_KEYSTORE, self.import_keystore_page), (PASSWORD, self.password_page)):
            self.setPage(page_id, page)
        self.setStartId(CHOICE)
        self.setButtonText(QWizard.WizardButton.FinishButton, "Save the wallet" if not exists else "Import")
        if mode is not None:
            {CREATE: self.choice.create_radio, FROM_PHRASE: self.choice.phrase_radio,
             FROM_KEY: self.choice.key_radio, FROM_KEYSTORE: self.choice.keystore_radio}[mode].setChecked(True)

    # -- the new phrase (made on a worker: it loads the word list and eth-account) -------------

    def generate_phrase(self, words: int) -> None:
        def make(_progress: Any, _cancel: Any) -> str:
            from studio.chain.hdkeys import generate_phrase

            return generate_phrase(words)

        job = FunctionJob("Generating a recovery phrase", make)
        self._phrase_job = job
        job.to(self).succeeded.connect(lambda phrase: self._on_phrase(job, phrase))
        job.to(self).failed.connect(lambda exc: self.phrase_page.generating.setText(error_message(exc)))
        self.state.background.start(job)

    def _on_phrase(self, job: Job, phrase: str) -> None:
        if job is not self._phrase_job:
            return  # the word count changed meanwhile
        self._phrase_job = None
        self.phrase = phrase
        self.phrase_page.show_phrase(phrase)

    # -- finishing ----------------------------------------------------------------------------

    def start_saving(self, password: str, repeat: str | None) -> Job:
        """The job that writes the wallet for the chosen path (validation errors raise first)."""
        mode = self.choice.mode
        if mode == CREATE:
            if self.phrase is None:
                raise InputError("The phrase is not ready yet.")
            return self.state.keys.create_wallet(self.phrase, password, repeat)
        if mode == FROM_PHRASE:
            return self.state.keys.import_phrase(self.import_phrase_page.phrase.toPlainText(), password, repeat,
                                            count=self.import_phrase_page.count.value())
        if mode == FROM_KEY:
            return self.state.keys.import_private_key(self.import_key_page.key.text(), password, repeat,
                                                 name=self.import_key_page.name.text().strip())
        page = self.import_keystore_page
        return self.state.keys.import_keystore(page.keystore_text, page.password.text(), password, repeat,
                                          name=page.name.text().strip())

    def reject(self) -> None:
        """Cancel closes at once; a save under way still runs its encryption, then stops before
        writing anything (the wallet stays as it was)."""
        job = self.password_page.job
        if job is not None:
            job.cancel()
            self.password_page.job = None
        super().reject()

    def done(self, result: int) -> None:
        super().done(result)
        if self.result() == result:  # it closed (an unfinished save keeps it open): forget the secrets
            self._forget_secrets()

    def _forget_secrets(self) -> None:
        self.phrase = None
        self.phrase_page.grid.set_phrase(None)
        self.import_phrase_page.phrase.clear()
        self.import_key_page.key.clear()
        self.import_keystore_page.password.clear()
        self.import_keystore_page.keystore_text = ""
        self.password_page.password.clear()
        self.password_page.repeat.clear()
        for edit in self.confirm_page.edits:
            edit.clear()

