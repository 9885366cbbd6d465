"""The view-model of the batch mint dialog: a finished avatar collection (its ``manifest.json``)
minted into one of the network's collections, with its plan shown first and its progress after.

No widgets here. ``plan`` computes every CID locally and estimates the mints (nothing stored or
sent): the dialog shows it as the summary to agree to. ``mint`` runs ``batch_mint`` (journaled,
resumable: running it again finishes a stopped batch and never mints a row twice) on the
background pool and reports its progress.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QObject, Signal

from studio.errors import InputError, StudioError
from studio.library.db import Collection, Library
from studio.ui.binding import Field
from studio.ui.state.mint import StoreFactory, default_store_factory
from studio.ui.state.mint_flow import MintFlowState, require_unlocked
from studio.ui.workers import FunctionJob, Job, error_message

if TYPE_CHECKING:
    from studio.ui.state.wallet import WalletState
    from studio.workflows.batch import BatchPlan, BatchProgress, BatchReport

#: The dialog's stages.
CHOOSE, PLANNING, PLANNED, MINTING, DONE, FAILED = "choose", "planning", "planned", "minting", "done", "failed"


class BatchMintState(MintFlowState):
    """Choose a collection, read the plan, mint every row of the manifest with progress."""

    planned = Signal(object)    # BatchPlan
    minted = Signal(object)     # BatchReport

    stage = Field(CHOOSE)

    def __init__(self, wallet: "WalletState", library: Library, manifest: Path, *,
                 store_factory: StoreFactory | None = None, parent: QObject | None = None) -> None:
        super().__init__(wallet, library, parent)
        self.manifest = Path(manifest)
        self.store_factory = store_factory or (lambda: default_store_factory(wallet.wallet))
        self.plan: "BatchPlan | None" = None
        self.report: "BatchReport | None" = None
        self.reload_collections()

    # -- collections ------------------------------------------------------------------------

    def reload_collections(self, select: str | None = None) -> None:
        """The current network's collections the current account owns (only the owner mints)."""
        me = self.wallet.current_account.lower()
        self._collections = [c for c in self.library.collections(self.wallet.network.chain_id)
                             if c.owner.lower() == me]
        self.collections_changed.emit(self.collections)
        wanted = select or self.collection_address
        if wanted and self._listed(wanted):
            self.collection_address = wanted
        else:
            self.collection_address = self._collections[0].address if self._collections else ""

    def choose(self, address: str) -> None:
        self.collection_address = address
        self.plan = None
        if self.stage in (PLANNED, FAILED):
            self.stage = CHOOSE

    # -- jobs -------------------------------------------------------------------------------

    def _target(self) -> Collection:
        require_unlocked(self.wallet, "mint the collection")
        target = self.collection
        if target is None:
            raise InputError("Choose one of your collections to mint into.",
                             hint="Create one with “New collection…”.")
        if not self.manifest.is_file():
            raise InputError(f"The collection's manifest {self.manifest} is gone.",
                             hint="Make the collection again in the Avatars tab.")
        return target

    def _start(self, title: str, work: Callable[[Callable[[Any], None], Any], Any]) -> Job:
        return self._run(FunctionJob(title, lambda progress, cancel: work(progress, cancel)))

    def _on_progress(self, update: "BatchProgress") -> None:
        self.progress_fraction = update.fraction
        self.progress_text = update.text

    def plan_mint(self) -> Job | None:
        """Validate the manifest, compute the CIDs and estimate the mints (nothing stored or sent)."""
        try:
            target = self._target()
        except StudioError as exc:
            self.error = str(exc)
            return None
        session, account, library, manifest = self.wallet.session, self.wallet.current_account, self.library, \
            self.manifest

        def work(_progress: Callable[[Any], None], _cancel: Any) -> "BatchPlan":
            from studio.workflows.batch import plan_batch

            return plan_batch(manifest, target, signer=session.contract_signer(account),
                              connection=session.connection(), library=library, network=session.network)

        self.stage = PLANNING
        job = self._start("Checking the collection", work)
        job.to(self).succeeded.connect(self._on_planned)
        job.to(self).failed.connect(self._on_failed)
        return job

    def _on_planned(self, plan: "BatchPlan") -> None:
        self.plan = plan
        self.stage = PLANNED
        self.progress_text = ""
        self.planned.emit(plan)

    def mint(self) -> Job | None:
        """Store and mint every row (the journal beside the manifest makes a rerun finish, never repeat)."""
        try:
            target = self._target()
            store = self.store_factory()
        except StudioError as exc:
            self.error = str(exc)
            return None
        session, account, library, manifest = self.wallet.session, self.wallet.current_account, self.library, \
            self.manifest

        def work(progress: Callable[[Any], None], cancel: Any) -> "BatchReport":
            from studio.workflows.batch import batch_mint

            return batch_mint(manifest, target, signer=session.contract_signer(account),
                              connection=session.connection(), store=store, library=library,
                              network=session.network, progress=progress, cancel=cancel)

        self.report = None
        self.stage = MINTING
        job = self._start("Minting the collection", work)
        job.to(self).succeeded.connect(self._on_minted)
        job.to(self).failed.connect(self._on_failed)
        job.to(self).cancelled.connect(self._on_cancelled)
        return job

    def _on_minted(self, report: "BatchReport") -> None:
        self.report = report
        self.stage = DONE
        self.progress_fraction = 1.0
        self.wallet.refresh()  # balances and the history show the mints
        self.minted.emit(report)

    def _on_failed(self, exc: BaseException) -> None:
        self.error = error_message(exc)
        self.stage = FAILED if self.stage == MINTING else CHOOSE

    def _on_cancelled(self) -> None:
        self.error = "Stopped. What was minted is recorded; minting again finishes the rest and never repeats a row."
        self.stage = FAILED
