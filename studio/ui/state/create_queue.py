"""The Create tab's queue (``CreateState.jobs``): its generation, upscale and plot jobs on the GPU lane,
followed as they run (progress, the image forming), stopped on request, and their works gathered in
the results.

Progress, errors and warnings are said on the :class:`~studio.ui.state.create.CreateState` that owns
it, in the one status line the tab shows.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from studio.ui.state.create_grid import GridJob
from studio.ui.state.jobs import GenerationJob, JobProgress, QueueModel, ResultItem, ResultsModel, UpscaleJob
from studio.ui.workers import GpuLane, Job, error_message, job_of

if TYPE_CHECKING:
    from studio.ui.state.create import CreateState
    from studio.workflows.generate import SavedWork

CreateJob = TypeVar("CreateJob", GenerationJob, UpscaleJob, GridJob)


class CreateQueue(QObject):
    """The jobs the Create tab put on the GPU lane, and the works they made."""

    preview_changed = Signal(object)
    #: A generation job ended (done, failed or cancelled) and the lane moved on to the next.
    job_finished = Signal(object)
    #: A work was saved and added to the results (newest first).
    result_added = Signal(object)

    def __init__(self, state: "CreateState", lane: GpuLane) -> None:
        super().__init__(state)
        self._state = state
        self.lane = lane
        self.queue = QueueModel(lane, self)
        self.results = ResultsModel(self)
        self._preview: QImage | None = None
        lane.queue_changed.connect(self._on_queue_changed)
        lane.job_ended.connect(self._on_job_ended)

    @property
    def preview(self) -> QImage | None:
        """The image forming in the running job, if it sent one."""
        return self._preview

    def submit(self, job: CreateJob, *, follow_progress: bool = True) -> CreateJob:
        """Put ``job`` on the lane, its progress, works and end shown on the state."""
        if follow_progress:
            job.to(self).progressed.connect(self._on_progress)
        job.to(self).saved.connect(self._on_saved)
        job.to(self).succeeded.connect(self._on_succeeded)
        job.to(self).failed.connect(self._on_failed)
        job.to(self).cancelled.connect(self._on_cancelled)
        self.lane.submit(job)
        return job

    def cancel(self) -> None:
        """Stop the running generation at its next step; the queue goes on."""
        if self._state.busy:
            self._state.progress_text = "Cancelling…"  # the step under way finishes first
        self.lane.cancel_current()

    def cancel_all(self) -> None:
        self.lane.cancel_all()

    def remove_from_queue(self, row: int) -> bool:
        return self.lane.remove(self.queue.job(row))

    def _on_queue_changed(self) -> None:
        self._state.busy = not self.lane.is_idle

    def _on_progress(self, progress: JobProgress) -> None:
        self._state.progress_text = progress.text
        self._state.progress_fraction = -1.0 if progress.fraction is None else float(progress.fraction)
        if progress.preview is not None:
            self._preview = progress.preview
            self.preview_changed.emit(progress.preview)

    def _on_saved(self, item: ResultItem) -> None:
        self.results.prepend(item)
        if item.work.warnings:
            self._state.warning = "\n".join(item.work.warnings)
        self.result_added.emit(item)

    def _on_succeeded(self, works: list["SavedWork"]) -> None:
        state = self._state
        state.prompts.history_changed.emit(state.prompts.history)  # the generation recorded its prompt
        job = job_of(self.sender())
        took = time.perf_counter() - job.started_at if isinstance(job, (GenerationJob, UpscaleJob, GridJob)) else 0.0
        state.progress_fraction = 1.0
        made = "X/Y/Z plot of " if isinstance(job, GridJob) else ""
        state.progress_text = f"Done: {made}{len(works)} image{'s' if len(works) != 1 else ''} in {took:.1f} s"
        if not any(work.warnings for work in works):
            state.warning = ""

    def _on_failed(self, exc: BaseException) -> None:
        self._state.error = error_message(exc)
        self._state.progress_text = "Failed."
        self._state.progress_fraction = 0.0

    def _on_cancelled(self) -> None:
        self._state.progress_text = "Cancelled."
        self._state.progress_fraction = 0.0
        self._preview = None
        self.preview_changed.emit(QImage())  # the half-made image goes; the selected result shows again

    def _on_job_ended(self, job: Job) -> None:
        if isinstance(job, (GenerationJob, UpscaleJob, GridJob)):
            self.job_finished.emit(job)
