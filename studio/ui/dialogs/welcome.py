"""The first-run welcome: what the studio does, a wallet (create, import or skip), where works are
stored, and the models found, with a recommended model to download for people who have none.

Shown by ``studio.ui.app.main`` before the main window while the ``first_run_done`` setting is off.
Every page can be skipped with Next; Finish (or closing the dialog) marks the welcome as done, so
it never stands between a person and the studio twice. The logic is in
:class:`~studio.ui.state.welcome.WelcomeState`; these widgets only show it.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QLineEdit, QListWidget, QProgressBar,
                               QPushButton, QVBoxLayout, QWidget, QWizard, QWizardPage)

from studio.errors import StudioError
from studio.ui.binding import Bindings
from studio.ui.dialogs.unlock import error_label, show_error
from studio.ui.state.welcome import WelcomeState

if TYPE_CHECKING:
    from studio.config import Config
    from studio.generation.models import ModelCatalog, ModelInfo

INTRO, WALLET, WORKS, MODELS = range(4)
OTHER_MODEL = "other"


def _text(text: str, *, muted: bool = False) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    if muted:
        label.setProperty("muted", True)
    return label


class IntroPage(QWizardPage):
    """What the studio is for, and what the next three pages set up."""

    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Welcome to Provenance Studio")
        self.setSubTitle("Make images with diffusion models on this computer, sign where they came from, "
                         "and mint them from your own wallet.")
        from studio.assets import asset_path

        icon = QLabel()
        pixmap = QPixmap(str(asset_path("icons", "provenance-studio-128.png")))
        if not pixmap.isNull():
            icon.setPixmap(pixmap)
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        steps = _text(
            "Three short steps, each of which you can skip and change later in the settings:\n\n"
            "1.  A wallet: it signs your works, mints and sales. Create one, import one, or skip it for now.\n\n"
            "2.  Where your works are stored: every image is saved as a PNG carrying its recipe and a "
            "signed record of how it was made.\n\n"
            "3.  A model: the studio lists the models already on this computer and can download a "
            "recommended one. The built-in demo model works offline right away.")
        row = QHBoxLayout()
        row.addWidget(icon)
        row.addSpacing(16)
        row.addWidget(steps, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addStretch(1)


class WalletPage(QWizardPage):
    """Create or import a wallet with the wallet set-up wizard, or go on without one."""

    def __init__(self, state: WelcomeState) -> None:
        super().__init__()
        self.state = state
        self.setTitle("Your wallet")
        self.setSubTitle("The wallet holds the keys that sign your works and pay for minting. They are stored "
                         "encrypted on this computer, under a password only you know.")
        self.status = _text("")
        self.create_button = QPushButton("Create a new wallet…")
        self.import_button = QPushButton("Import a wallet…")
        self.import_button.setToolTip("A recovery phrase, a private key or a keystore file")
        self.create_button.clicked.connect(lambda: self.open_setup(create=True))
        self.import_button.clicked.connect(lambda: self.open_setup(create=False))
        buttons = QHBoxLayout()
        buttons.addWidget(self.create_button)
        buttons.addWidget(self.import_button)
        buttons.addStretch(1)
        self.skip_note = _text("No wallet yet? Press Next to skip: you can make images and verify works without "
                               "one, and set it up later in the Wallet tab.", muted=True)
        self.error = error_label()
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        layout.addWidget(self.skip_note)
        layout.addWidget(self.error)
        layout.addStretch(1)
        self.bindings = Bindings(self)
        self._bind()

    def _bind(self) -> None:
        self.bindings.bind(self.state, "has_wallet", None, self.show_status)

    def show_status(self, has_wallet: bool) -> None:
        self.status.setText("✓ The wallet is set up. You can import more accounts into it later in the Wallet tab."
                            if has_wallet else "There is no wallet on this computer yet.")
        self.create_button.setEnabled(not has_wallet)
        self.import_button.setText("Import more accounts…" if has_wallet else "Import a wallet…")
        self.skip_note.setVisible(not has_wallet)

    def open_setup(self, *, create: bool) -> None:
        """Run the wallet set-up wizard (modal over the welcome); the status follows what it saved."""
        from studio.ui.dialogs.wallet_setup import CREATE, FROM_PHRASE, WalletSetupWizard

        try:
            wallet_state = self.state.wallet_state()
        except StudioError as exc:
            show_error(self.error, str(exc))
            return
        show_error(self.error, "")
        mode = CREATE if create and not self.state.has_wallet else FROM_PHRASE
        self.setup = WalletSetupWizard(wallet_state, self, mode=mode)
        self.setup.finished.connect(lambda _result: self.state.refresh_wallet())
        self.setup.open()


class WorksPage(QWizardPage):
    """Where generated images are saved; checked (created and written to) before going on."""

    def __init__(self, state: WelcomeState) -> None:
        super().__init__()
        self.state = state
        self.setTitle("Where your works are stored")
        self.setSubTitle("Each image you make is saved here as a PNG with its prompt, settings and signed "
                         "provenance inside. Pick a folder you back up.")
        self.folder = QLineEdit(str(state.works_folder))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self.choose_folder)
        default = QPushButton("Use the default")
        default.clicked.connect(lambda: self.folder.setText(str(state.default_works_folder)))
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        row.addWidget(default)
        self.error = error_label()
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(_text(f"The default is {state.default_works_folder}.", muted=True))
        layout.addWidget(self.error)
        layout.addStretch(1)

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose the works folder", self.folder.text())
        if folder:
            self.folder.setText(folder)

    def validatePage(self) -> bool:
        try:
            folder = self.state.set_works_folder(self.folder.text())
        except StudioError as exc:
            show_error(self.error, str(exc))
            return False
        show_error(self.error, "")
        self.folder.setText(str(folder))
        return True


class ModelsPage(QWizardPage):
    """The models found on this computer; with none, a recommended one to download (or any hub id)."""

    def __init__(self, state: WelcomeState) -> None:
        super().__init__()
        self.state = state
        self.setTitle("Models")
        self.setSubTitle("The studio looks in its models folder, the folder in the settings, and the "
                         "Hugging Face cache. The demo model is always there and works offline.")
        self.found_label = _text("Looking for models…")
        self.found = QListWidget()
        self.found.setMaximumHeight(110)
        self.found.setVisible(False)

        self.offer = QWidget()
        self.choice = QComboBox()
        for model in state.recommended():
            self.choice.addItem(f"{model.title}  ({model.repo_id}, about {model.approx_bytes / 1e9:.1f} GB)",
                                model.repo_id)
        self.choice.addItem("Another model from the Hugging Face hub…", OTHER_MODEL)
        self.repo = QLineEdit()
        self.repo.setPlaceholderText("owner/name, e.g. stabilityai/sdxl-turbo")
        self.note = _text("", muted=True)
        self.download_button = QPushButton("Download")
        self.cancel_button = QPushButton("Cancel download")
        self.cancel_button.setVisible(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setVisible(False)
        self.progress_text = _text("", muted=True)
        self.error = error_label()
        buttons = QHBoxLayout()
        buttons.addWidget(self.download_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        offer_layout = QVBoxLayout(self.offer)
        offer_layout.setContentsMargins(0, 8, 0, 0)
        offer_layout.addWidget(_text("Download a model (the files are checked against the hub's hashes; an "
                                     "interrupted download continues where it stopped):"))
        offer_layout.addWidget(self.choice)
        offer_layout.addWidget(self.repo)
        offer_layout.addWidget(self.note)
        offer_layout.addLayout(buttons)
        self.offer.setVisible(False)  # until the scan says whether any model is there

        layout = QVBoxLayout(self)
        layout.addWidget(self.found_label)
        layout.addWidget(self.found)
        layout.addWidget(self.offer)
        # outside the offer: a finished download's message stays once the offer is gone
        layout.addWidget(self.progress)
        layout.addWidget(self.progress_text)
        layout.addWidget(self.error)
        layout.addStretch(1)

        self.choice.currentIndexChanged.connect(self._choice_changed)
        self.download_button.clicked.connect(self.start_download)
        self.cancel_button.clicked.connect(state.cancel_download)
        self._choice_changed()
        self.bindings = Bindings(self)
        self._bind()

    def _bind(self) -> None:
        state, b = self.state, self.bindings
        b.connect(state.models_scanned, self.show_models)
        b.connect(state.scan_failed, self._on_scan_failed)
        b.connect(state.download_progressed, self._on_progress)
        b.connect(state.download_succeeded, self._on_downloaded)
        b.connect(state.download_failed, self._on_failed)
        b.connect(state.download_cancelled, self._on_cancelled)
        b.connect(state.downloading_changed, self._show_downloading)

    def initializePage(self) -> None:
        if not self.state.scanned:
            self.state.scan()

    def show_models(self, models: list["ModelInfo"]) -> None:
        self.found.clear()
        for info in models:
            self.found.addItem(f"{info.name}  ·  {info.family.value}  ·  {Path(info.path).parent}")
            self.found.item(self.found.count() - 1).setToolTip(str(info.path))
        self.found.setVisible(bool(models))
        if models:
            count = "one model" if len(models) == 1 else f"{len(models)} models"
            self.found_label.setText(f"Found {count} on this computer, ready in the Create tab:")
        else:
            self.found_label.setText("No models found on this computer yet (besides the built-in demo).")
        self.offer.setVisible(not models or self.state.downloading)

    def _on_scan_failed(self, text: str) -> None:
        self.found_label.setText(f"The models could not be listed: {text}")
        self.offer.setVisible(True)

    def _choice_changed(self) -> None:
        repo_id = self.choice.currentData()
        self.repo.setVisible(repo_id == OTHER_MODEL)
        model = next((m for m in self.state.recommended() if m.repo_id == repo_id), None)
        target = self.state.destination_for(model.repo_id if model else "owner/<name>")
        self.note.setText(f"{model.note + ' ' if model else ''}It goes to {target}.")

    def selected_repo(self) -> tuple[str, str | None]:
        """The hub id to download and its weight variant (fp16 for the recommended models)."""
        repo_id = self.choice.currentData()
        if repo_id == OTHER_MODEL:
            return self.repo.text().strip(), None
        model = next(m for m in self.state.recommended() if m.repo_id == repo_id)
        return model.repo_id, model.variant

    def start_download(self) -> None:
        repo_id, variant = self.selected_repo()
        try:
            self.state.start_download(repo_id, variant)
        except StudioError as exc:
            show_error(self.error, str(exc))
            return
        show_error(self.error, "")
        self.progress.setValue(0)
        self.progress_text.setText(f"Connecting to the hub for {repo_id}…")

    def _show_downloading(self, downloading: bool) -> None:
        self.progress.setVisible(downloading or self.progress.value() > 0)
        self.download_button.setVisible(not downloading)
        self.cancel_button.setVisible(downloading)
        self.choice.setEnabled(not downloading)
        self.repo.setEnabled(not downloading)
        self.completeChanged.emit()

    def _on_progress(self, fraction: float, text: str) -> None:
        self.progress.setValue(round(fraction * 1000))
        self.progress_text.setText(text)

    def _on_downloaded(self, info: "ModelInfo") -> None:
        self.progress.setValue(1000)
        self.progress_text.setText(f"✓ {info.name} is downloaded and verified. It is selected in the Create tab.")

    def _on_failed(self, text: str) -> None:
        self.progress_text.setText("")
        show_error(self.error, text)

    def _on_cancelled(self) -> None:
        self.progress_text.setText("Download cancelled. Press Download again to continue where it stopped.")

    def isComplete(self) -> bool:
        return not self.state.downloading


class WelcomeDialog(QWizard):
    """The four welcome pages; finishing (or closing) saves the choices and marks the first run done."""

    def __init__(self, state: WelcomeState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.setWindowTitle("Welcome to Provenance Studio")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setMinimumSize(720, 520)
        self.intro = IntroPage()
        self.wallet_page = WalletPage(state)
        self.works_page = WorksPage(state)
        self.models_page = ModelsPage(state)
        for page_id, page in ((INTRO, self.intro), (WALLET, self.wallet_page), (WORKS, self.works_page),
                              (MODELS, self.models_page)):
            self.setPage(page_id, page)
        self.setStartId(INTRO)
        self.setButtonText(QWizard.WizardButton.FinishButton, "Start creating")
        self.setButtonText(QWizard.WizardButton.CancelButton, "Skip the welcome")

    def done(self, result: int) -> None:
        self.state.finish()
        super().done(result)


def run_welcome(config: "Config", catalog: "ModelCatalog", parent: QWidget | None = None, *,
                endpoint: str | None = None) -> bool:
    """Show the welcome modally (first run); returns whether it was finished rather than skipped.

    ``endpoint`` is the model hub to download from (None: Hugging Face's)."""
    state = WelcomeState(config, catalog, endpoint=endpoint)
    dialog = WelcomeDialog(state, parent)
    try:
        return dialog.exec() == QWizard.DialogCode.Accepted
    finally:
        close_welcome(dialog, state)


def close_welcome(dialog: WelcomeDialog, state: WelcomeState) -> None:
    """Destroy the welcome's Qt objects now, on the GUI thread.

    The state has no Qt parent, and failed jobs (an exception's traceback holds its job) keep it
    reachable until Python's garbage collector runs, which may be on a worker thread of the main
    window: the wallet view-model's idle timer would then be destroyed off its thread ("Timers
    cannot be stopped from another thread", then a crash). So the workers are waited for, their
    last queued signals delivered while their receivers exist, and the objects deleted here.
    """
    import shiboken6
    from PySide6.QtCore import QCoreApplication

    state.shutdown()
    QCoreApplication.sendPostedEvents()
    for qt_object in (dialog, state):
        if shiboken6.isValid(qt_object):
            shiboken6.delete(qt_object)
