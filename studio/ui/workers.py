"""Background work for the GUI: jobs, one serial lane per resource, and a pool for one-off tasks.

A job is a small QObject with ``run(progress, cancel)``; it runs on a worker thread and reports
through typed signals (``progressed``, ``succeeded``, ``failed``, ``cancelled``, ``ended``) that
Qt delivers on the GUI thread. A view-model hears its jobs through ``job.to(self)``: the job's
signals relayed only while the view-model lives, so that a job ending after the view-model was
deleted (its tab or window closed) reaches nothing instead of a deleted object. Below ``ui/``
nothing knows about threads: ``run`` calls a
workflow with a progress callback and a :class:`~studio.cancel.CancelToken`.

The GPU lane runs one job at a time from a visible queue (pending jobs can be removed), and owns
the generation engine, created on first use inside the lane's own thread so that torch is never
imported by the GUI thread.
"""
from __future__ import annotations

import enum
import logging
import threading
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, SignalInstance

from studio.cancel import CancelToken
from studio.errors import Cancelled, StudioError

log = logging.getLogger(__name__)

UNEXPECTED = "Unexpected error, see the log (Help › Open log file)."


def error_message(exc: BaseException) -> str:
    """What the GUI shows for ``exc``: a StudioError's own message, anything else as unexpected."""
    return str(exc) if isinstance(exc, StudioError) else UNEXPECTED


class JobState(str, enum.Enum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Job(QObject):
    """One piece of background work. Subclasses implement :meth:`run`; signals carry the outcome.

    ``failed`` carries the exception: StudioError for what the user can act on, anything else is
    a bug (already logged with its traceback).
    """

    started = Signal()
    progressed = Signal(object)
    succeeded = Signal(object)
    failed = Signal(object)
    cancelled = Signal()
    ended = Signal()

    def __init__(self, title: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.state = JobState.PENDING
        self.cancel_token = CancelToken()
        self.error: BaseException | None = None
        self._outlets: dict[int, JobOutlet] = {}

    def to(self, receiver: QObject) -> "JobOutlet":
        """This job's signals for as long as ``receiver`` lives: connect a view-model's slots
        (lambdas included) to these, never to the job's own, and do it before the job starts.

        When the receiver is deleted while the job still runs, the outlet goes quiet: the signals
        still to come and those already queued reach nothing, so no slot runs on a deleted object;
        the job itself runs on and ends (cancel it to stop it sooner). Call on the receiver's thread.
        """
        outlet = self._outlets.get(id(receiver))
        if outlet is None or not outlet.open:
            outlet = self._outlets[id(receiver)] = JobOutlet(self, receiver)
        return outlet

    def run(self, progress: Callable[[Any], None], cancel: CancelToken) -> Any:
        """Do the work on a worker thread; return the result or raise (Cancelled when asked to stop)."""
        raise NotImplementedError(f"{type(self).__name__} must implement run()")

    def cancel(self) -> None:
        """Ask the job to stop at its next check; a pending job will not start."""
        self.cancel_token.cancel()

    def execute(self) -> None:
        """Run the job on the current (worker) thread and emit its outcome; never raises."""
        if self.cancel_token.cancelled:
            self.state = JobState.CANCELLED
            self.cancelled.emit()
            self.ended.emit()
            return
        self.state = JobState.RUNNING
        self.started.emit()
        try:
            result = self.run(self.progressed.emit, self.cancel_token)
        except Cancelled:
            self.state = JobState.CANCELLED
            self.cancelled.emit()
        except StudioError as exc:
            log.warning("%s failed: %s", self.title, exc)
            self.error, self.state = exc, JobState.FAILED
            self.failed.emit(exc)
        except Exception as exc:  # a bug: log the traceback, show "unexpected error"
            log.exception("%s failed unexpectedly", self.title)
            self.error, self.state = exc, JobState.FAILED
            self.failed.emit(exc)
        else:
            self.state = JobState.DONE
            self.succeeded.emit(result)
        finally:
            self.ended.emit()


class JobOutlet(QObject):
    """A job's signals relayed to one receiver while it lives (made by :meth:`Job.to`).

    The outlet belongs to the job, not to the receiver: the slots connected to it (lambdas that
    hold the receiver) are released with the job, never from inside the receiver's destruction.
    It relays on the GUI thread (queued: the job emits on a worker thread) and stops relaying
    when the receiver's ``destroyed`` arrives.
    """

    started = Signal()
    progressed = Signal(object)
    succeeded = Signal(object)
    failed = Signal(object)
    cancelled = Signal()
    ended = Signal()
    #: A job's ``saved`` signal (each work a generation or an upscale wrote), where the job has one.
    saved = Signal(object)

    def __init__(self, job: Job, receiver: QObject) -> None:
        super().__init__()
        self.job = job  # a slot's `self.sender()` is this outlet: its job is here
        self.open = True
        queued = Qt.ConnectionType.QueuedConnection
        receiver.destroyed.connect(self.close, Qt.ConnectionType.DirectConnection)
        job.started.connect(self._started, queued)
        job.progressed.connect(self._progressed, queued)
        job.succeeded.connect(self._succeeded, queued)
        job.failed.connect(self._failed, queued)
        job.cancelled.connect(self._cancelled, queued)
        saved = getattr(job, "saved", None)
        if isinstance(saved, SignalInstance):
            saved.connect(self._saved, queued)
        job.ended.connect(self._ended, queued)

    def close(self, *_: Any) -> None:
        """The receiver is gone: relay nothing more."""
        self.open = False

    def _started(self) -> None:
        if self.open:
            self.started.emit()

    def _progressed(self, update: Any) -> None:
        if self.open:
            self.progressed.emit(update)

    def _succeeded(self, result: Any) -> None:
        if self.open:
            self.succeeded.emit(result)

    def _failed(self, exc: Any) -> None:
        if self.open:
            self.failed.emit(exc)

    def _cancelled(self) -> None:
        if self.open:
            self.cancelled.emit()

    def _saved(self, item: Any) -> None:
        if self.open:
            self.saved.emit(item)

    def _ended(self) -> None:
        if self.open:
            self.ended.emit()


def job_of(sender: QObject | None) -> QObject | None:
    """The job behind a slot's ``self.sender()``: an outlet's job, else the sender itself."""
    return sender.job if isinstance(sender, JobOutlet) else sender


class FunctionJob(Job):
    """A job around a plain function ``fn(progress, cancel) -> result``."""

    def __init__(self, title: str, fn: Callable[[Callable[[Any], None], CancelToken], Any],
                 parent: QObject | None = None) -> None:
        super().__init__(title, parent)
        self._fn = fn

    def run(self, progress: Callable[[Any], None], cancel: CancelToken) -> Any:
        return self._fn(progress, cancel)


class _Runnable(QRunnable):
    def __init__(self, job: Job) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._job = job

    def run(self) -> None:
        self._job.execute()


class BackgroundPool(QObject):
    """Runs independent one-off jobs (device detection, adding a model) in parallel."""

    def __init__(self, parent: QObject | None = None, max_threads: int = 2) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._running: set[Job] = set()

    def start(self, job: Job) -> Job:
        self._running.add(job)
        job.ended.connect(self._forget, Qt.ConnectionType.QueuedConnection)
        self._pool.start(_Runnable(job))
        return job

    def _forget(self) -> None:
        self._running = {job for job in self._running if job.state in (JobState.PENDING, JobState.RUNNING)}

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        for job in list(self._running):
            job.cancel()
        return self._pool.waitForDone(timeout_ms)


class SerialLane(QObject):
    """One resource, one job at a time, in the order submitted; pending jobs can be removed.

    The lane has a single thread that never expires, so per-thread state made by jobs (the
    engine, CUDA context) stays on that thread.
    """

    queue_changed = Signal()
    job_started = Signal(object)
    job_ended = Signal(object)
    idle = Signal()

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._pool.setExpiryTimeout(-1)
        self._pending: list[Job] = []
        self._current: Job | None = None

    @property
    def current(self) -> Job | None:
        return self._current

    @property
    def pending(self) -> tuple[Job, ...]:
        return tuple(self._pending)

    @property
    def jobs(self) -> tuple[Job, ...]:
        """The running job (if any) followed by the pending ones, in the order they will run."""
        return ((self._current,) if self._current is not None else ()) + tuple(self._pending)

    @property
    def is_idle(self) -> bool:
        return self._current is None and not self._pending

    def submit(self, job: Job) -> Job:
        self._pending.append(job)
        self.queue_changed.emit()
        self._start_next()
        return job

    def remove(self, job: Job) -> bool:
        """Drop a pending job; returns False when it already started (cancel it instead)."""
        if job not in self._pending:
            return False
        self._pending.remove(job)
        job.state = JobState.CANCELLED
        self.queue_changed.emit()
        return True

    def cancel_current(self) -> None:
        if self._current is not None:
            self._current.cancel()

    def cancel_all(self) -> None:
        """Empty the queue and stop the running job at its next step."""
        for job in self._pending:
            job.state = JobState.CANCELLED
        self._pending.clear()
        self.queue_changed.emit()
        self.cancel_current()
        if self._current is None:
            self.idle.emit()

    def _start_next(self) -> None:
        if self._current is not None or not self._pending:
            return
        job = self._pending.pop(0)
        self._current = job
        job.ended.connect(self._on_ended, Qt.ConnectionType.QueuedConnection)
        self._pool.start(_Runnable(job))
        self.job_started.emit(job)
        self.queue_changed.emit()

    def _on_ended(self) -> None:
        job, self._current = self._current, None
        self._start_next()
        self.queue_changed.emit()
        if job is not None:  # after the queue moved on, so listeners see the lane's new state
            self.job_ended.emit(job)
        if self.is_idle:
            self.idle.emit()

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Cancel everything and wait for the running job to stop (on quit)."""
        self._pending.clear()
        self.cancel_current()
        return self._pool.waitForDone(timeout_ms)


class GpuLane(SerialLane):
    """The serial lane that owns the generation engine.

    ``engine_factory`` is called on first use from inside the lane's thread (torch loads there,
    never on the GUI thread); :meth:`reset_engine` makes the next job build a fresh one (after
    the device or precision settings changed).
    """

    def __init__(self, engine_factory: Callable[[], Any], parent: QObject | None = None) -> None:
        super().__init__("gpu", parent)
        self._engine_factory = engine_factory
        self._engine: Any = None
        self._stale = False
        self._lock = threading.Lock()

    def engine(self) -> Any:
        """The engine, created on first call; call only from a job running on this lane."""
        with self._lock:
            if self._stale and self._engine is not None:
                unload = getattr(self._engine, "unload", None)
                if unload is not None:
                    unload()
                self._engine = None
            self._stale = False
            if self._engine is None:
                self._engine = self._engine_factory()
            return self._engine

    @property
    def has_engine(self) -> bool:
        return self._engine is not None

    def reset_engine(self, engine_factory: Callable[[], Any] | None = None) -> None:
        with self._lock:
            if engine_factory is not None:
                self._engine_factory = engine_factory
            self._stale = True
