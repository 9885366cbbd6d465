"""How the Market runs an action: a workflow call on the pool with a signer for the acting account and a
`confirm` that asks the person on the GUI thread (see :class:`~studio.ui.state.market_jobs.PreviewRequest`);
while it runs the tab shows it busy with its progress, its failure lands in the error banner, and its
success in the notice, after which the market and the balances are read again.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QObject, Qt, Signal

from studio.ui.state.market_jobs import ActionOutcome, PreviewRequest
from studio.ui.workers import FunctionJob, Job, error_message

if TYPE_CHECKING:
    from studio.ui.state.market import MarketState


class ActionRunner(QObject):
    """The actions of one MarketState that are under way, and the previews they wait on."""

    _ask = Signal(object)  # emitted on a worker thread; delivered on the GUI thread

    def __init__(self, state: "MarketState") -> None:
        super().__init__(state)
        self.state = state
        #: Previews shown and not answered yet (`stop` answers them "no").
        self.pending_requests: list[PreviewRequest] = []
        self._running: set[Job] = set()
        self._ask.connect(self._on_ask, Qt.ConnectionType.QueuedConnection)

    def act(self, action: str, title: str, account: str, run: Callable[[dict[str, Any]], Any],
            describe: Callable[[Any], str]) -> Job:
        """Run a workflow call on the pool with a signer for `account` and a confirm that asks the GUI
        (``run(kw)``: kw holds the connection, the signer and the confirm)."""
        state = self.state
        session = state.wallet_state.session
        generation = state.generation
        state.wallet_state.wallet.touch()

        def work(progress: Callable[[Any], None], cancel: Any) -> ActionOutcome:
            def confirm(preview: Any) -> bool:
                request = PreviewRequest(preview, title)
                self._ask.emit(request)
                accepted = request.wait(cancel)
                if accepted:
                    progress(f"{title}: signing" + ("" if hasattr(preview, "details") and not
                                                    hasattr(preview, "gas_limit") else
                                                    " and waiting for the transaction"))
                return accepted

            kw = {"connection": session.connection(), "signer": session.contract_signer(account),
                  "confirm": confirm}
            result = run(kw)
            return ActionOutcome(action, describe(result), result)

        job = FunctionJob(title, work)
        job.to(self).succeeded.connect(lambda outcome: self._on_done(generation, outcome))
        job.to(self).cancelled.connect(self._on_declined)
        return self.start(job)

    def start(self, job: FunctionJob) -> Job:
        """Run an action's job on the pool: the tab shows it busy with its progress, and its failure in
        the error banner (its result is for the caller to connect)."""
        state = self.state
        self._running.add(job)
        state.busy = True
        state.error = ""
        state.progress_text = f"{job.title}…"
        job.to(self).progressed.connect(lambda text: setattr(state, "progress_text", str(text)))
        job.to(self).failed.connect(self._on_failed)
        job.to(self).ended.connect(lambda: self._ended(job))
        return state.background.start(job)

    def decline_all(self) -> None:
        """Answer every open question with no (the window closes)."""
        for request in self.pending_requests:
            request.answer(False)

    def _on_ask(self, request: PreviewRequest) -> None:
        self.pending_requests.append(request)
        self.state.progress_text = f"{request.action}: read the preview."
        self.state.preview_requested.emit(request)

    def _on_done(self, generation: int, outcome: ActionOutcome) -> None:
        state = self.state
        state.notice = outcome.message
        state.action_succeeded.emit(outcome)
        if generation == state.generation:
            state.refresh()
        state.wallet_state.refresh()

    def _on_failed(self, exc: BaseException) -> None:
        self.state.error = error_message(exc)
        self.state.action_failed.emit(exc)

    def _on_declined(self) -> None:
        self.state.notice = "Nothing was signed or sent: the preview was declined."
        self.state.action_declined.emit()

    def _ended(self, job: Job) -> None:
        self._running.discard(job)
        self.pending_requests = [r for r in self.pending_requests if not r.answered]
        self.state.busy = bool(self._running)
        if not self._running:
            self.state.progress_text = ""
