"""Where generation runs: this computer's engine, or a cluster of them, behind one interface.

A backend offers the engine's own interface (``validate`` and ``generate``, so every workflow that
takes an engine takes a backend) and ``run_tasks``: many single-image tasks, their results passed
to ``on_result`` as each finishes (in any order), a :class:`RunReport` at the end. The
:class:`LocalBackend` runs them one after the other on the :class:`~studio.generation.engine.Engine`;
``studio.generation.cluster.RayBackend`` spreads them over the workers of a Ray cluster. Requests
travel unchanged: whatever a :class:`GenerationRequest` carries reaches the engine that runs it.

Nothing here saves or signs: results are pixels and an unsigned recipe; the workflows on the
desktop save them (``studio.workflows.generate.save_work``).
"""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol, Sequence, runtime_checkable

from studio.errors import InputError, ModelError
from studio.generation.request import GenerationProgress, GenerationRequest, GenerationResult, ModelInfo

if TYPE_CHECKING:
    from studio.config import Config

THIS_COMPUTER = "this computer"
#: Values of the ``generation_backend`` setting.
LOCAL_SETTING, RAY_SETTING = "this_computer", "ray_cluster"


@dataclass(frozen=True)
class GenerationTask:
    """One image to make: ``request`` has ``count`` 1 and a fixed seed, so that any worker (or a
    second one, after the first was lost) makes the same image. ``key`` is the caller's name for it."""

    key: int
    request: GenerationRequest


@dataclass(frozen=True)
class TaskResult:
    """A finished task: its image and recipe, checked against the task, and who made it."""

    task: GenerationTask
    result: GenerationResult
    worker: str
    node: str
    elapsed_s: float


@dataclass(frozen=True)
class TaskFailure:
    key: int
    node: str
    message: str


@dataclass(frozen=True)
class WorkerStatus:
    """One worker as a run's progress shows it."""

    name: str            # "this computer", or "node 1a2b3c4d (10.0.0.5) · gpu 0"
    node: str
    state: str           # "starting", "working", "idle", "lost", "refused", "failed"
    done: int = 0
    failed: int = 0
    lost: int = 0        # tasks it held when it was lost (given to other workers)

    @property
    def text(self) -> str:
        extra = f", {self.lost} lost" if self.lost else ""
        extra += f", {self.failed} failed" if self.failed else ""
        return f"{self.name}: {self.state}, {self.done} done{extra}"


@dataclass(frozen=True)
class RunProgress:
    """Where a run of tasks is; ``step`` is the image this computer is making, step by step (a
    cluster reports whole images)."""

    done: int
    total: int
    elapsed_s: float
    failed: int = 0
    workers: tuple[WorkerStatus, ...] = ()
    step: GenerationProgress | None = None
    key: int | None = None
    first_done_s: float | None = None   # when the first image of the run finished (loading excluded after)

    @property
    def fraction(self) -> float:
        partial = self.step.step / self.step.steps if self.step is not None and self.step.steps else 0.0
        return min(1.0, (self.done + self.failed + partial) / self.total) if self.total else 1.0

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the pace of the images finished so far (None before there is a pace)."""
        left = self.total - self.done - self.failed
        if left <= 0:
            return 0.0
        if self.done >= 2 and self.first_done_s is not None and self.elapsed_s > self.first_done_s:
            return (self.elapsed_s - self.first_done_s) / (self.done - 1) * left
        if self.done == 1:
            return self.elapsed_s * left
        step = self.step
        if step is not None and step.step > 0 and step.steps:
            per_image = step.elapsed_s * step.steps / step.step
            return max(0.0, per_image * left - step.elapsed_s)
        return None


@dataclass(frozen=True)
class NodeCount:
    node: str
    done: int
    failed: int
    lost: int


@dataclass(frozen=True)
class RunReport:
    """What a run did: per node, how many images it made, failed or lost; and each failure."""

    backend: str
    total: int
    done: int
    elapsed_s: float
    nodes: tuple[NodeCount, ...]
    failures: tuple[TaskFailure, ...] = ()
    notes: tuple[str, ...] = ()   # workers that could not start or were refused, and why

    @property
    def items_per_s(self) -> float:
        return self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def lines(self) -> list[str]:
        lines = [f"{self.done} of {self.total} images on {self.backend} in {self.elapsed_s:.1f} s"]
        lines += [f"  {n.node}: {n.done} made" + (f", {n.failed} failed" if n.failed else "")
                  + (f", {n.lost} lost with the worker and made again elsewhere" if n.lost else "") for n in self.nodes]
        lines += [f"  failed #{f.key + 1} on {f.node}: {f.message}" for f in self.failures]
        lines += [f"  note: {note}" for note in self.notes]
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {"backend": self.backend, "total": self.total, "done": self.done,
                "elapsed_s": round(self.elapsed_s, 3),
                "nodes": [{"node": n.node, "done": n.done, "failed": n.failed, "lost": n.lost} for n in self.nodes],
                "failures": [{"key": f.key, "node": f.node, "message": f.message} for f in self.failures],
                "notes": list(self.notes)}


@runtime_checkable
class GenerationBackend(Protocol):
    """Where images are made; see the module's docstring."""

    @property
    def label(self) -> str: ...

    def validate(self, request: GenerationRequest) -> ModelInfo: ...

    def generate(self, request: GenerationRequest, *,
                 progress: Callable[[GenerationProgress], None] | None = None,
                 cancel: Any = None, preview_every: int = 0,
                 on_result: Callable[[GenerationResult], None] | None = None) -> list[GenerationResult]: ...

    def run_tasks(self, tasks: Sequence[GenerationTask], *, on_result: Callable[[TaskResult], None],
                  progress: Callable[[RunProgress], None] | None = None, cancel: Any = None,
                  preview_every: int = 0) -> RunReport: ...

    def close(self) -> None: ...


def single_image_tasks(request: GenerationRequest, first_key: int = 0) -> list[GenerationTask]:
    """``request`` as one task per image (image *i* with seed ``seed + i``, as the engine does); a
    random seed is chosen here once, so that a task made again elsewhere gives the same image."""
    seed = request.seed if request.seed is not None else secrets.randbits(32)
    return [GenerationTask(first_key + i, replace(request, seed=seed + i, count=1)) for i in range(request.count)]


def check_tasks(tasks: Sequence[GenerationTask]) -> None:
    """Refuse tasks a run cannot take: more than one image, no fixed seed, or a key used twice."""
    keys: set[int] = set()
    for task in tasks:
        if task.request.count != 1 or task.request.seed is None:
            raise InputError(f"Task {task.key} must make one image with a fixed seed.",
                             hint="Split the request with single_image_tasks().")
        if task.key in keys:
            raise InputError(f"Two tasks are called {task.key}.")
        keys.add(task.key)


class LocalBackend:
    """This computer's engine as a backend: tasks run one after the other, step by step.

    A task that fails stops the run (on one machine the next would fail the same way); what was
    finished before was passed to ``on_result``.
    """

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    @property
    def label(self) -> str:
        return THIS_COMPUTER

    def validate(self, request: GenerationRequest) -> ModelInfo:
        info: ModelInfo = self.engine.validate(request)
        return info

    def generate(self, request: GenerationRequest, *,
                 progress: Callable[[GenerationProgress], None] | None = None,
                 cancel: Any = None, preview_every: int = 0,
                 on_result: Callable[[GenerationResult], None] | None = None) -> list[GenerationResult]:
        results: list[GenerationResult] = self.engine.generate(request, progress=progress, cancel=cancel,
                                                               preview_every=preview_every, on_result=on_result)
        return results

    def run_tasks(self, tasks: Sequence[GenerationTask], *, on_result: Callable[[TaskResult], None],
                  progress: Callable[[RunProgress], None] | None = None, cancel: Any = None,
                  preview_every: int = 0) -> RunReport:
        from studio.errors import Cancelled

        check_tasks(tasks)
        started = time.perf_counter()
        done = 0
        first_done_s: float | None = None

        def status(state: str) -> tuple[WorkerStatus, ...]:
            return (WorkerStatus(THIS_COMPUTER, THIS_COMPUTER, state, done),)

        def report(step: GenerationProgress | None = None, key: int | None = None, state: str = "working") -> None:
            if progress is not None:
                progress(RunProgress(done, len(tasks), time.perf_counter() - started, workers=status(state),
                                     step=step, key=key, first_done_s=first_done_s))

        report(state="idle")
        for task in tasks:
            if cancel is not None and cancel.cancelled:
                raise Cancelled()
            began = time.perf_counter()
            results = self.engine.generate(task.request, cancel=cancel, preview_every=preview_every,
                                           progress=lambda step, key=task.key: report(step, key))
            if len(results) != 1:
                raise ModelError(f"The engine made {len(results)} images for task {task.key} instead of one.")
            on_result(TaskResult(task, results[0], THIS_COMPUTER, THIS_COMPUTER, time.perf_counter() - began))
            done += 1
            if done == 1:
                first_done_s = time.perf_counter() - started
            report(state="idle" if done == len(tasks) else "working")
        return RunReport(THIS_COMPUTER, len(tasks), done, time.perf_counter() - started,
                         (NodeCount(THIS_COMPUTER, done, 0, 0),) if tasks else ())

    def close(self) -> None:
        """Nothing to let go: the engine belongs to whoever made it."""


def as_backend(engine_or_backend: Any) -> GenerationBackend:
    """A backend for a workflow that was given an engine (wrapped) or a backend (as it is)."""
    if isinstance(engine_or_backend, GenerationBackend):
        return engine_or_backend
    return LocalBackend(engine_or_backend)


def cluster_address(config: "Config", requested: str | None = None, *, this_computer: bool = False) -> str | None:
    """The Ray address a run uses, or None for this computer: ``requested`` (``--cluster ADDRESS``;
    "" for the address in Settings), else the ``generation_backend`` setting."""
    if this_computer:
        return None
    if requested is not None:
        return requested.strip() or str(config["ray_address"]).strip() or "local"
    if config["generation_backend"] == RAY_SETTING:
        return str(config["ray_address"]).strip() or "local"
    return None


def cluster_host_port(address: str) -> tuple[str, int] | None:
    """The host and port a Ray cluster address names; None for "auto" and "local" (no address to
    reach). Raises InputError for text that is no cluster address."""
    address = address.strip()
    if address in ("", "auto", "local"):
        return None
    target = address[len("ray://"):] if address.startswith("ray://") else address
    host, sep, port = target.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536 or not host.strip("[]"):
        raise InputError(f"“{address}” is not a Ray cluster address.",
                         hint="Use auto, local, HOST:6379 (the head node) or ray://HOST:10001 (Ray Client).")
    return host.strip("[]"), int(port)


def open_backend(config: "Config", engine: Any, address: str | None, *, catalog: Any = None) -> GenerationBackend:
    """This computer's ``engine`` when ``address`` is None, else a backend on the Ray cluster at
    ``address`` that validates requests and names models by their SHA-256 with ``catalog`` (the
    studio's model list by default). It connects on first use; close it after the run."""
    if address is None:
        return as_backend(engine)
    from studio.generation.cluster import RayBackend

    if catalog is None:
        from studio.generation.models import ModelCatalog

        catalog = ModelCatalog(config)
    return RayBackend(catalog, address=address, hash_cache=Path(config.paths.hash_cache_file),
                      cpus_per_worker=int(config["ray_cpus_per_worker"]), max_workers=int(config["ray_max_workers"]),
                      precision=str(config["precision"]), memory_saving=str(config["memory_saving"]))

