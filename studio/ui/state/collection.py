"""The view-model of the collection dialog: a new collection (name, symbol, royalty, image) checked
on the GUI thread, then deployed on the background pool, or an existing one imported by address.

No widgets here. Every check that needs no node raises a :class:`~studio.errors.StudioError`
before any worker is queued; the deployment goes through ``studio.workflows.collections``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QObject, Signal

from studio.errors import InputError, NotFound
from studio.library.db import Collection, Library
from studio.ui.binding import Field
from studio.ui.state.mint import StoreFactory, default_store_factory, percent_to_bps
from studio.ui.state.mint_flow import require_unlocked
from studio.ui.workers import FunctionJob, Job, error_message

if TYPE_CHECKING:
    from studio.chain.transactions import TxPreview
    from studio.ui.state.wallet import WalletState

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


@dataclass(frozen=True)
class CollectionDraft:
    """The "New collection" form: checked by :meth:`CollectionState.check`."""

    name: str
    symbol: str
    royalty_receiver: str
    royalty_percent: float
    description: str = ""
    image: Path | None = None

    @property
    def royalty_bps(self) -> int:
        return percent_to_bps(self.royalty_percent)


class CollectionState(QObject):
    """The collection dialog: deploy a new StudioCollection (preview first) or import one by address."""

    busy_changed = Signal(bool)
    progress_text_changed = Signal(str)
    progress_fraction_changed = Signal(float)
    error_changed = Signal(str)

    busy = Field(False)
    progress_text = Field("")
    progress_fraction = Field(0.0)
    error = Field("")

    def __init__(self, wallet: "WalletState", library: Library, *,
                 store_factory: StoreFactory | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.wallet = wallet
        self.library = library
        self.store_factory = store_factory or (lambda: default_store_factory(wallet.wallet))
        self.job: Job | None = None

    @property
    def default_receiver(self) -> str:
        return self.wallet.current_account

    def check(self, draft: CollectionDraft) -> CollectionDraft:
        """Checks that need no node; returns the draft with its text trimmed."""
        require_unlocked(self.wallet, "deploy a collection")
        if not draft.name.strip() or not draft.symbol.strip():
            raise InputError("A collection needs a name and a symbol.", hint="For example “Dawns” and DAWN.")
        if len(draft.symbol.strip()) > 11 or " " in draft.symbol.strip():
            raise InputError("A symbol is a short ticker without spaces (at most 11 characters), e.g. DAWN.")
        receiver = draft.royalty_receiver.strip() or self.default_receiver
        if not _ADDRESS.match(receiver):
            raise InputError(f"The royalty receiver {receiver!r} is not an address (0x and 40 hex digits).")
        draft.royalty_bps  # noqa: B018 - raises for a royalty out of range
        image = draft.image
        if image is not None and not Path(image).is_file():
            raise NotFound(f"The collection image {image} does not exist.", hint="Choose another image.")
        return CollectionDraft(draft.name.strip(), draft.symbol.strip(), receiver, draft.royalty_percent,
                               draft.description.strip(), Path(image) if image is not None else None)

    def _start(self, title: str, work: Callable[[Callable[[float, str], None], Any], Any]) -> Job:
        def run(progress: Callable[[Any], None], cancel: Any) -> Any:
            return work(lambda fraction, text: progress((float(fraction), str(text))), cancel)

        job = FunctionJob(title, run)
        self.job = job
        self.busy = True
        self.error = ""
        self.progress_text, self.progress_fraction = f"{title}…", -1.0
        outlet = job.to(self)  # made first: its slots run before the callers' (their outlets come later)
        outlet.progressed.connect(self._on_progress)
        for outcome in (outlet.succeeded, outlet.failed, outlet.cancelled, outlet.ended):
            outcome.connect(lambda *_args: self._on_ended(job))  # quiet once the dialog (and this) is deleted
        outlet.failed.connect(lambda exc: setattr(self, "error", error_message(exc)))
        return self.wallet.background.start(job)

    def _on_progress(self, update: tuple[float, str]) -> None:
        self.progress_fraction, self.progress_text = update

    def _on_ended(self, job: Job) -> None:
        if job is self.job:
            self.job = None
            self.busy = False
            if job.error is None:
                self.progress_text = ""

    def preview(self, draft: CollectionDraft) -> Job:
        """Simulate the deployment and estimate its fee; the job's result is the TxPreview to show."""
        draft = self.check(draft)
        if draft.image is not None:
            self.store_factory()  # a storage backend that cannot work is said now, not after the preview
        session, account = self.wallet.session, self.wallet.current_account

        def work(report: Callable[[float, str], None], _cancel: Any) -> "TxPreview":
            from studio.workflows.collections import preview_collection

            report(0.2, f"Connecting to {session.network.name}")
            return preview_collection(connection=session.connection(), signer=session.contract_signer(account),
                                      name=draft.name, symbol=draft.symbol,
                                      royalty_receiver=draft.royalty_receiver, royalty_bps=draft.royalty_bps,
                                      network=session.network)

        self.wallet.wallet.touch()
        return self._start("Preparing the deployment", work)

    def create(self, draft: CollectionDraft) -> Job:
        """Deploy (after the person accepted the preview) and remember it; the result is the Collection."""
        draft = self.check(draft)
        store = self.store_factory() if draft.image is not None else None
        session, account, library = self.wallet.session, self.wallet.current_account, self.library

        def work(report: Callable[[float, str], None], cancel: Any) -> Collection:
            from studio.workflows.collections import create_collection

            return create_collection(connection=session.connection(), signer=session.contract_signer(account),
                                     library=library, name=draft.name, symbol=draft.symbol,
                                     royalty_receiver=draft.royalty_receiver, royalty_bps=draft.royalty_bps,
                                     description=draft.description, image=draft.image, store=store,
                                     progress=report, cancel=cancel)

        self.wallet.wallet.touch()
        job = self._start("Deploying the collection", work)
        job.to(self).ended.connect(self.wallet.refresh)
        return job

    def import_collection(self, address: str, description: str = "") -> Job:
        """Check that the address holds a studio collection and remember it; the result is the Collection."""
        address = address.strip()
        if not _ADDRESS.match(address):
            raise InputError(f"{address!r} is not a contract address (0x and 40 hex digits).")
        session, library = self.wallet.session, self.library

        def work(report: Callable[[float, str], None], _cancel: Any) -> Collection:
            from studio.workflows.collections import import_collection

            report(0.2, f"Reading {address} on {session.network.name}")
            return import_collection(connection=session.connection(), library=library, address=address,
                                     description=description)

        return self._start("Importing the collection", work)
