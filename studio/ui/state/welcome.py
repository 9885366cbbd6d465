"""What the first-run welcome shows and does: the wallet's state, the works folder, the models found,
and the download of a recommended model (in a worker, with progress and cancel).

No widgets here: ``ui/dialogs/welcome.py`` binds to these signals, and a test can drive the whole
first run without a window.
"""
from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QObject, Signal

from studio.errors import InputError, StudioError
from studio.ui.workers import BackgroundPool, FunctionJob, Job, error_message

if TYPE_CHECKING:
    from studio.config import Config
    from studio.generation.download import RecommendedModel
    from studio.generation.models import ModelCatalog, ModelInfo
    from studio.ui.state.wallet import WalletState

log = logging.getLogger(__name__)


def wallet_file_exists(config: "Config") -> bool:
    """Whether a wallet was set up in this studio home (read without loading the chain code)."""
    return config.paths.wallet_file.exists()


class WelcomeState(QObject):
    """The first run's choices; :meth:`finish` saves them and marks the welcome as done."""

    #: The models found besides the demo (a list of ModelInfo), after each scan.
    models_scanned = Signal(object)
    scan_failed = Signal(str)
    #: (fraction 0..1, a line for people) while a model downloads.
    download_progressed = Signal(float, str)
    #: The downloaded model as the catalog lists it (a ModelInfo).
    download_succeeded = Signal(object)
    download_failed = Signal(str)
    download_cancelled = Signal()
    downloading_changed = Signal(bool)
    has_wallet_changed = Signal(bool)

    def __init__(self, config: "Config", catalog: "ModelCatalog", background: BackgroundPool | None = None,
                 parent: QObject | None = None, *, endpoint: str | None = None,
                 wallet_factory: Callable[[], "WalletState"] | None = None) -> None:
        super().__init__(parent)
        self.config = config
        self.catalog = catalog
        self.background = background or BackgroundPool(self)
        self.endpoint = endpoint
        self._wallet_factory = wallet_factory
        self._wallet_state: "WalletState | None" = None
        self.models: list["ModelInfo"] = []
        self.scanned = False
        self.download_job: Job | None = None
        self.has_wallet = wallet_file_exists(config)

    # -- wallet ---------------------------------------------------------------------------

    def wallet_state(self) -> "WalletState":
        """The wallet view-model the set-up wizard works on (built on first use: it loads the chain code)."""
        if self._wallet_state is None:
            if self._wallet_factory is not None:
                self._wallet_state = self._wallet_factory()
            else:
                from studio.chain.session import WalletSession
                from studio.ui.state.wallet import WalletState

                self._wallet_state = WalletState(WalletSession.default(), self.background, self)
        return self._wallet_state

    def refresh_wallet(self) -> None:
        """Look again whether a wallet exists (after the set-up wizard closed)."""
        exists = wallet_file_exists(self.config)
        if exists != self.has_wallet:
            self.has_wallet = exists
            self.has_wallet_changed.emit(exists)

    # -- works folder ---------------------------------------------------------------------

    @property
    def works_folder(self) -> Path:
        return self.config.paths.works_dir

    @property
    def default_works_folder(self) -> Path:
        return self.config.paths.data_dir / "works"

    def set_works_folder(self, text: str) -> Path:
        """Check that works can be saved in the folder (creating it), then choose it; empty: the default."""
        text = text.strip()
        folder = Path(text).expanduser() if text else self.default_works_folder
        if not folder.is_absolute():
            raise InputError(f"“{text}” is not a full folder path.", hint="Choose the folder with Browse….")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".studio-write-test-"):
                pass
        except OSError as exc:
            raise InputError(f"Works cannot be saved in {folder} ({exc.strerror or exc.__class__.__name__}).",
                             hint="Choose a folder you can write to.") from exc
        value = "" if folder == self.default_works_folder else str(folder)
        self.config.set("works_folder", value)
        return folder

    # -- models ---------------------------------------------------------------------------

    def scan(self) -> Job:
        """Look for models (models folders and the Hugging Face cache) on a worker."""
        def run(_progress: Any, _cancel: Any) -> list["ModelInfo"]:
            self.catalog.refresh()
            from studio.generation.models import DEMO_NAME

            return [m for m in self.catalog.models() if m.name != DEMO_NAME]

        job = FunctionJob("Looking for models", run)
        job.to(self).succeeded.connect(self._on_scanned)
        job.to(self).failed.connect(lambda exc: self.scan_failed.emit(error_message(exc)))
        self.background.start(job)
        return job

    def _on_scanned(self, models: list["ModelInfo"]) -> None:
        self.models = list(models)
        self.scanned = True
        self.models_scanned.emit(self.models)

    @staticmethod
    def recommended() -> tuple["RecommendedModel", ...]:
        from studio.generation.download import RECOMMENDED_MODELS

        return RECOMMENDED_MODELS

    def destination_for(self, repo_id: str) -> Path:
        from studio.generation.download import default_destination

        return default_destination(self.config.paths.models_dir, repo_id)

    @property
    def downloading(self) -> bool:
        return self.download_job is not None

    def start_download(self, repo_id: str, variant: str | None = None) -> Job:
        """Download ``repo_id`` into the models folder on a worker (checks the id first, at once)."""
        from studio.workflows.models import download_into_catalog

        repo_id = repo_id.strip()
        if self.download_job is not None:
            raise InputError("A model is downloading already.", hint="Wait for it, or cancel it first.")
        if repo_id.count("/") != 1 or not all(repo_id.split("/")):
            raise InputError(f"“{repo_id}” is not a Hugging Face model id.",
                             hint="It has the form owner/name, e.g. stable-diffusion-v1-5/stable-diffusion-v1-5.")
        config, endpoint = self.config, self.endpoint

        def run(progress: Callable[[Any], None], cancel: Any) -> Path:
            installed = download_into_catalog(config, repo_id, variant=variant, endpoint=endpoint,
                                              progress=lambda f, t: progress((f, t)), cancel=cancel)
            return installed.download.path

        job = FunctionJob(f"Downloading {repo_id}", run)
        job.to(self).progressed.connect(lambda update: self.download_progressed.emit(float(update[0]), str(update[1])))
        job.to(self).succeeded.connect(self._on_downloaded)
        job.to(self).failed.connect(self._on_download_failed)
        job.to(self).cancelled.connect(self._on_download_cancelled)
        self.download_job = job
        self.downloading_changed.emit(True)
        self.background.start(job)
        return job

    def cancel_download(self) -> None:
        if self.download_job is not None:
            self.download_job.cancel()

    def _end_download(self) -> None:
        self.download_job = None
        self.downloading_changed.emit(False)

    def _on_downloaded(self, path: Path) -> None:
        self._end_download()
        self.catalog.refresh()
        resolved = Path(path).resolve()
        info = next((m for m in self.catalog.models() if Path(m.path).resolve() == resolved), None)
        if info is None:  # the models folder is always scanned; only a vanished folder gets here
            self.download_failed.emit(f"The model was downloaded to {path}, but the model list does not show it.")
            return
        self.models = [m for m in self.models if Path(m.path).resolve() != resolved] + [info]
        if not self.config["default_model"]:
            self.config.set("default_model", info.name)
        self.download_succeeded.emit(info)
        self.models_scanned.emit(self.models)

    def _on_download_failed(self, exc: BaseException) -> None:
        self._end_download()
        self.download_failed.emit(error_message(exc))

    def _on_download_cancelled(self) -> None:
        self._end_download()
        self.download_cancelled.emit()

    # -- the end ----------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop a download at its next chunk, wait for every worker, and stop the wallet's idle timer."""
        self.cancel_download()
        self.background.shutdown()
        if self._wallet_state is not None:
            self._wallet_state.stop()

    def finish(self) -> None:
        """Remember that the welcome was done (with the choices made), so it is not shown again."""
        self.cancel_download()
        self.config.set("first_run_done", True)
        try:
            self.config.save()
        except StudioError as exc:  # a full disk: the welcome shows again next time, nothing else is lost
            log.warning("Could not save the first-run choices: %s", exc)


def needs_welcome(config: "Config") -> bool:
    """Whether the welcome is due: not done yet, and not switched off for scripted runs."""
    return not config["first_run_done"] and os.environ.get("STUDIO_NO_WELCOME", "") not in ("1", "true", "yes")
