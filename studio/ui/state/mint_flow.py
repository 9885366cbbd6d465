"""What the view-models of the mint dialog and the batch mint dialog share: the collection chosen
among the network's, the one job at a time on the background pool with its busy flag, progress and
error, and the checks before anything is queued.

No widgets here. Subclasses declare ``stage`` (their own pages) and list their collections in
``reload_collections``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from studio.errors import InputError, WalletLocked
from studio.library.db import Collection, Library
from studio.ui.binding import Field
from studio.ui.workers import Job

if TYPE_CHECKING:
    from studio.ui.state.wallet import WalletState


def require_unlocked(wallet: "WalletState", what: str) -> None:
    """Raise before any job is queued when the wallet is locked or no account is chosen."""
    if not wallet.wallet.is_unlocked:
        wallet.reload_accounts()  # the tab and the status bar show the lock too
        raise WalletLocked("The wallet is locked.", hint=f"Unlock it to {what}.")
    if not wallet.current_account:
        raise InputError("Choose an account in the Wallet tab first.")


class MintFlowState(QObject):
    """A collection to mint into, and one background job at a time (``job``, ``busy``)."""

    stage_changed = Signal(str)
    collection_address_changed = Signal(str)
    busy_changed = Signal(bool)
    progress_text_changed = Signal(str)
    progress_fraction_changed = Signal(float)
    error_changed = Signal(str)
    collections_changed = Signal(object)

    collection_address = Field("")
    busy = Field(False)
    progress_text = Field("")
    progress_fraction = Field(0.0)
    error = Field("")

    def __init__(self, wallet: "WalletState", library: Library, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.wallet = wallet
        self.library = library
        self.job: Job | None = None
        self._collections: list[Collection] = []

    # -- collections ------------------------------------------------------------------------

    @property
    def collections(self) -> list[Collection]:
        return list(self._collections)

    @property
    def collection(self) -> Collection | None:
        return next((c for c in self._collections if c.address.lower() == self.collection_address.lower()), None)

    def reload_collections(self, select: str | None = None) -> None:
        raise NotImplementedError  # each dialog lists its own (all of the network's, or the account's)

    def add_collection(self, collection: Collection) -> None:
        """A collection just created or imported in the collection dialog: list and choose it."""
        self.reload_collections(select=collection.address)

    def _listed(self, address: str) -> bool:
        return any(c.address.lower() == address.lower() for c in self._collections)

    # -- the job ----------------------------------------------------------------------------

    def _run(self, job: Job) -> Job:
        """Queue ``job`` as this dialog's one job: busy until it ends, its progress shown."""
        self.job = job
        self.busy = True
        self.error = ""
        self.progress_text = f"{job.title}…"
        self.progress_fraction = -1.0
        outlet = job.to(self)  # the callers connect their slots to it later: these run first
        for outcome in (outlet.succeeded, outlet.failed, outlet.cancelled, outlet.ended):
            outcome.connect(lambda *_args: self._on_ended(job))
        outlet.progressed.connect(self._on_progress)
        self.wallet.wallet.touch()
        return self.wallet.background.start(job)

    def _on_progress(self, update: Any) -> None:
        raise NotImplementedError  # each workflow reports its own progress

    def _on_ended(self, job: Job) -> None:
        if job is self.job:
            self.job = None
            self.busy = False

    def cancel(self) -> None:
        """Stop the running job (a mint stops before it signs; a batch keeps what its journal holds)."""
        if self.job is not None:
            self.job.cancel()
