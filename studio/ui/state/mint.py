"""View-models of the mint dialog and the collection dialog, over the Wallet tab's session.

No widgets here. Each dialog's state checks what it can on the GUI thread (locked wallet, no
collection, empty names, bad royalties, a storage backend that cannot work) and raises a
:class:`~studio.errors.StudioError` before any worker is queued; the slow parts (the node, the
uploads, the transaction) run on the background pool through the workflows in
``studio.workflows.collections`` and ``studio.workflows.mint``.

Every signature goes through the preview dialog: ``mint_works`` calls its ``confirm`` from the
worker thread, and :class:`PreviewGate` carries that question to the GUI thread and the answer
back, so the person reads the very transaction that will be signed.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from PySide6.QtCore import QObject, Signal

from studio.errors import Cancelled, InputError, NetworkError, StudioError
from studio.library.db import Collection, Library, Work
from studio.ui.binding import Field
from studio.ui.state.mint_flow import MintFlowState, require_unlocked
from studio.ui.workers import FunctionJob, Job, error_message
from studio.workflows.mint import LICENSES, MAX_ROYALTY_BPS, MintItem

if TYPE_CHECKING:
    from studio.chain.sender import GasSettings
    from studio.chain.transactions import Signer, TxPreview
    from studio.storage.store import ContentStore
    from studio.ui.state.wallet import WalletState
    from studio.workflows.mint import MintEstimate, MintResult

StoreFactory = Callable[[], "ContentStore"]
#: A mint workflow run by the dialog's job: (items, collection, options, report, cancel) -> its result.
WorkflowCall = Callable[[list[MintItem], Collection, dict[str, Any], Callable[[float, str], None], Any], Any]

_INTEGER = re.compile(r"^-?\d+$")
_DECIMAL = re.compile(r"^-?\d+\.\d+$")

#: The dialog's pages, in the order a mint goes through them.
FORM, ESTIMATING, SUMMARY, MINTING, DONE, FAILED = "form", "estimating", "summary", "minting", "done", "failed"
#: The steps a running mint shows (``mint_works`` reports fractions in these ranges).
UPLOADING, SENDING, WAITING = "uploading", "minting", "waiting"
STEPS = {UPLOADING: "Uploading", SENDING: "Minting", WAITING: "Waiting for the block"}
DEFAULT_LICENSE = "all-rights-reserved"
RETRY_TEXT = ("Nothing was minted twice and nothing was half recorded: the work stays mintable. "
              "What was uploaded is kept, so minting again reuses it.")
#: The failure page after a mint was broadcast but the node stopped answering before its receipt:
#: it may well land, so the page must not say that nothing happened.
SENT_TITLE = "The mint was sent but is not confirmed yet"
SENT_TEXT = ("The mint was sent but is not confirmed yet. Try again once the node answers: the studio records "
             "its tokens and never mints twice.")


def default_store_factory(wallet: Any = None) -> "ContentStore":
    """The storage backend the settings choose (raises InputError naming the setting to fix); a
    pinning service takes its token from the environment or the unlocked wallet's encrypted one."""
    from studio.config import load_config
    from studio.workflows.publish import store_from_config

    return store_from_config(load_config(), wallet)


def signer_provider_for(wallet: "WalletState") -> Callable[[], "Signer | None"]:
    """For ``CreateState.set_signer_provider``: the selected account while the wallet is unlocked,
    else None (works are then saved with an unsigned manifest)."""
    def provide() -> "Signer | None":
        if not wallet.wallet.is_unlocked or not wallet.current_account:
            return None
        try:
            return wallet.wallet.signer(wallet.current_account)
        except StudioError:  # locked in between, or the account is gone
            return None

    return provide


def trait_value(text: str) -> str | int | float:
    """A trait value as typed: numbers stay numbers (markets sort and range them), the rest is text."""
    value = text.strip()
    if _INTEGER.match(value):
        return int(value)
    if _DECIMAL.match(value):
        return float(value)
    return value


def percent_to_bps(percent: float) -> int:
    """A royalty in percent (0 to 10, two decimals) as basis points."""
    bps = round(float(percent) * 100)
    if not 0 <= bps <= MAX_ROYALTY_BPS:
        raise InputError(f"A royalty is between 0% and {MAX_ROYALTY_BPS / 100:g}%, not {percent:g}%.")
    return bps


class PreviewGate(QObject):
    """Carries ``confirm(preview)`` from a worker thread to the GUI thread and the answer back.

    The worker blocks in :meth:`ask` until :meth:`answer` is called (the preview dialog was
    accepted or rejected) or :meth:`close` (the dialog went away: the answer is no).
    """

    requested = Signal(object)  # the TxPreview to show

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._answered = threading.Event()
        self._accepted = False
        self._gas: "GasSettings | None" = None
        self._closed = False
        self.asked = 0

    def ask(self, preview: "TxPreview", cancel: Any = None) -> "bool | GasSettings":
        """Called by the workflow on the worker thread; true only when the person accepted (the
        advanced gas they set, when they set some).

        A cancelled job (the window closing cancels every job) stops waiting and answers no."""
        if self._closed:
            return False
        self._accepted = False
        self._gas = None
        self._answered.clear()
        self.asked += 1
        self.requested.emit(preview)  # queued to the GUI thread, where the gate lives
        while not self._answered.wait(0.25):
            if cancel is not None and cancel.cancelled:
                return False
        if not self._accepted or self._closed:
            return False
        return self._gas or True

    def answer(self, accepted: bool, gas: "GasSettings | None" = None) -> None:
        self._accepted = bool(accepted)
        self._gas = gas if accepted else None
        self._answered.set()

    def close(self) -> None:
        """No more questions: a pending one and every later one are answered no."""
        self._closed = True
        self._answered.set()

    def reopen(self) -> None:
        self._closed = False


# ---- works being minted ------------------------------------------------------------------


@dataclass
class WorkDraft:
    """What the form holds for one work of the library: the token's name, description, traits,
    license, royalty."""

    work: Work
    name: str
    description: str = ""
    traits: list[tuple[str, str]] = field(default_factory=list)
    license: str = DEFAULT_LICENSE
    royalty_percent: float | None = None  # None: the collection's royalty

    @property
    def path(self) -> Path:
        return Path(self.work.path)

    def to_item(self) -> MintItem:
        """The workflow's MintItem, refusing what cannot be minted (before any worker)."""
        if not self.name.strip():
            raise InputError(f"{self.path.name} needs a name for its token.", hint="Type a name in the form.")
        traits = []
        for key, value in self.traits:
            key, value = key.strip(), value.strip()
            if not key and not value:
                continue
            if not key or not value:
                raise InputError(f"A trait of “{self.name.strip()}” has a {'value' if value else 'name'} but no "
                                 f"{'name' if value else 'value'}.", hint="Fill in both columns or remove the row.")
            traits.append((key, trait_value(value)))
        royalty = None if self.royalty_percent is None else percent_to_bps(self.royalty_percent)
        return MintItem.of_work(self.work, self.name.strip(), self.description.strip(), traits, self.license, royalty)


def default_name(work: Work) -> str:
    """A first name for a work's token: the start of its prompt when it carries the studio's recipe,
    else its file name (from the library's record: the file is not read)."""
    prompt = work.prompt.strip() if work.source == "studio" else ""
    if prompt:
        return prompt if len(prompt) <= 48 else prompt[:47].rstrip() + "…"
    return Path(work.path).stem


class MintState(MintFlowState):
    """The mint dialog: choose a collection, describe each work, see the summary, mint, see the tokens."""

    step_changed = Signal(str)
    notice_changed = Signal(str)
    drafts_changed = Signal()
    estimated = Signal(object)  # MintEstimate
    minted = Signal(object)     # MintResult

    stage = Field(FORM)
    step = Field("")
    notice = Field("")

    def __init__(self, wallet: "WalletState", library: Library, work_ids: Sequence[int], *,
                 store_factory: StoreFactory | None = None, parent: QObject | None = None) -> None:
        super().__init__(wallet, library, parent)
        self.store_factory = store_factory or (lambda: default_store_factory(wallet.wallet))
        self.gate = PreviewGate(self)
        works = [library.work(int(work_id)) for work_id in dict.fromkeys(work_ids)]
        self.drafts = [WorkDraft(work, default_name(work)) for work in works if work is not None]
        self.estimate: "MintEstimate | None" = None
        self.result: "MintResult | None" = None
        self.failure: BaseException | None = None
        #: The failed mint's transaction was broadcast (its attempts are "sent"): it may still land.
        self.failure_sent = False
        self._cancel_message = ""
        self.reload_collections()
        if len(self.drafts) < len(works):
            self.error = "Some of the chosen works are no longer in the library; the others can be minted."

    # -- collections ------------------------------------------------------------------------

    def reload_collections(self, select: str | None = None) -> None:
        """The current network's collections from the library (the one chosen stays chosen)."""
        self._collections = self.library.collections(self.wallet.network.chain_id)
        self.collections_changed.emit(self.collections)
        wanted = select or self.collection_address
        if wanted and self._listed(wanted):
            self.collection_address = wanted
        elif self._collections and not self.collection_address:
            mine = [c for c in self._collections if c.owner.lower() == self.wallet.current_account.lower()]
            self.collection_address = (mine or self._collections)[0].address
        elif not self._listed(self.collection_address):
            self.collection_address = ""

    # -- the form ---------------------------------------------------------------------------

    def update_draft(self, index: int, **changes: Any) -> None:
        self.drafts[index] = replace(self.drafts[index], **changes)
        self.estimate = None  # the summary no longer matches
        self.drafts_changed.emit()

    def items(self) -> list[MintItem]:
        """Every check that needs no node: an unlocked wallet, a collection its account owns, names."""
        require_unlocked(self.wallet, "mint")
        target = self.collection
        if target is None:
            raise InputError("Choose a collection to mint into.",
                             hint="Pick one in the list, or choose “New collection…” to create one.")
        if target.owner.lower() != self.wallet.current_account.lower():
            raise InputError(f"Only the owner of {target.name} ({target.owner}) can mint into it.",
                             hint="Choose that account in the Wallet tab, or another collection.")
        if not self.drafts:
            raise InputError("Choose at least one work to mint.")
        return [draft.to_item() for draft in self.drafts]

    def _prepare(self) -> tuple[list[MintItem], Collection, "ContentStore"]:
        items = self.items()
        store = self.store_factory()
        return items, self.collection, store  # type: ignore[return-value]

    # -- jobs -------------------------------------------------------------------------------

    def _start(self, title: str, work: Callable[[Callable[[float, str], None], Any], Any]) -> Job:
        def run(progress: Callable[[Any], None], cancel: Any) -> Any:
            try:
                return work(lambda fraction, text: progress((float(fraction), str(text))), cancel)
            except Cancelled as exc:
                self._cancel_message = exc.message
                raise

        self._cancel_message = ""
        self.notice = ""
        return self._run(FunctionJob(title, run))

    def _on_progress(self, update: tuple[float, str]) -> None:
        fraction, text = update
        self.progress_fraction, self.progress_text = fraction, text
        if self.stage == MINTING:
            self.step = UPLOADING if fraction < 0.5 else SENDING if fraction < 0.7 else WAITING

    def _queue(self, title: str, begin: Callable[[], None], call: "WorkflowCall") -> Job | None:
        """Check the form (on bad input the error is shown and nothing is queued: None), ``begin``,
        then run ``call(items, collection, options, report, cancel)`` in the background, ``options``
        being what every mint workflow takes: signer, connection, library, store, network."""
        try:
            items, target, store = self._prepare()
        except StudioError as exc:
            self.error = str(exc)
            return None
        session, account, library = self.wallet.session, self.wallet.current_account, self.library

        def work(report: Callable[[float, str], None], cancel: Any) -> Any:
            options = {"signer": session.contract_signer(account), "connection": session.connection(),
                       "library": library, "store": store, "network": session.network}
            return call(items, target, options, report, cancel)

        begin()
        return self._start(title, work)

    def estimate_mint(self) -> Job | None:
        """Compute the CIDs and the fee in the background; the summary page shows them."""
        def call(items: list[MintItem], target: Collection, options: dict[str, Any],
                 report: Callable[[float, str], None], _cancel: Any) -> "MintEstimate":
            from studio.workflows.mint import estimate_mint

            report(0.1, "Computing the CIDs")
            return estimate_mint(items, target, **options)

        job = self._queue("Preparing the summary", lambda: setattr(self, "stage", ESTIMATING), call)
        if job is None:
            return None
        job.to(self).succeeded.connect(self._on_estimated)
        job.to(self).failed.connect(self._on_estimate_failed)
        return job

    def _on_estimated(self, estimate: "MintEstimate") -> None:
        self.estimate = estimate
        self.stage = SUMMARY
        self.progress_text = ""
        self.estimated.emit(estimate)

    def _on_estimate_failed(self, exc: BaseException) -> None:
        self.error = error_message(exc)
        self.stage = FORM

    def back_to_form(self) -> None:
        if not self.busy:
            self.error = ""
            self.stage = FORM

    def mint(self) -> Job | None:
        """Upload, preview (the gate asks the GUI), mint and record, in the background.

        The step follows the workflow's progress: uploading, minting, waiting. On bad input the
        error is shown and nothing is queued (None)."""
        session, gate = self.wallet.session, self.gate

        def call(items: list[MintItem], target: Collection, options: dict[str, Any],
                 report: Callable[[float, str], None], cancel: Any) -> "MintResult":
            from studio.workflows.mint import mint_works

            report(0.01, "Connecting to the network")
            return mint_works(items, target, history=session.history, confirm=lambda preview: gate.ask(preview, cancel),
                              progress=report, cancel=cancel, **options)

        def begin() -> None:
            gate.reopen()
            self.failure = None
            self.failure_sent = False
            self.result = None
            self.stage = MINTING
            self.step = UPLOADING

        job = self._queue("Minting", begin, call)
        if job is None:
            return None
        job.to(self).succeeded.connect(self._on_minted)
        job.to(self).failed.connect(self._on_mint_failed)
        job.to(self).cancelled.connect(self._on_mint_cancelled)
        return job

    def _on_minted(self, result: "MintResult") -> None:
        self.result = result
        self.step = ""
        self.stage = DONE
        self.wallet.refresh()  # balances and the history show the mint
        self.minted.emit(result)

    def _on_mint_failed(self, exc: BaseException) -> None:
        self.failure = exc
        self.failure_sent = isinstance(exc, NetworkError) and self.step == WAITING and self._has_sent_attempts()
        self.error = error_message(exc)
        self.step = ""
        self.stage = FAILED

    def _has_sent_attempts(self) -> bool:
        """Whether the library holds "sent" attempts (broadcast, receipt not seen) in the collection."""
        collection = self.collection
        if collection is None:
            return False
        try:
            return bool(self.library.attempts(chain_id=collection.chain_id, collection=collection.address,
                                              state="sent"))
        except StudioError:
            return False

    def _on_mint_cancelled(self) -> None:
        self.step = ""
        self.notice = self._cancel_message or "Cancelled. What was uploaded is kept; minting again reuses it."
        self.progress_text = ""
        self.stage = SUMMARY if self.estimate is not None else FORM

    def cancel(self) -> None:
        """Stop the running job at its next step; a preview still open is answered no."""
        super().cancel()
        self.gate.close()

    def answer_preview(self, accepted: bool, gas: "GasSettings | None" = None) -> None:
        """The preview dialog's answer for the running mint (with the advanced gas the person set)."""
        self.gate.answer(accepted, gas)


# ---- collections ------------------------------------------------------------------------


# The collection dialog's view-model (CollectionDraft, CollectionState) is in studio.ui.state.collection.
