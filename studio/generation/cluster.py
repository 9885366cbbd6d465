"""Generation on a Ray cluster: the studio's engine on every worker, results streamed to the desktop.

:class:`RayBackend` is a generation backend (:mod:`studio.generation.backends`). It starts one
worker per GPU of the cluster (or one per ``cpus_per_worker`` cores where there is no GPU), each a
Ray actor holding a :class:`~studio.generation.remote.NodeWorker`, and keeps each busy with up to
``in_flight`` tasks. Results come back as they finish and are checked against their tasks before
``on_result`` sees them. A worker that is lost (its process or its machine gone) gives its tasks
to the others, and a replacement is started where the cluster has room; a worker that lacks a
task's files refuses it and the task goes to another. Cancel stops what is queued at once and
what is running at its next step.

Ray is imported in this module only, and only when a run starts: the studio runs without it.
"""
from __future__ import annotations

import logging
import socket
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from studio import __version__
from studio.errors import Cancelled, ModelError, NetworkError, StudioError
from studio.generation.backends import (GenerationTask, NodeCount, RunProgress, RunReport, TaskFailure, TaskResult,
                                        WorkerStatus, check_tasks, cluster_host_port, single_image_tasks)
from studio.generation.placement import NodeRefused, TaskFiles, task_files
from studio.generation.remote import NodeWorker, TaskPayload, accept_answer, expected_recipe_fields
from studio.generation.request import GenerationProgress, GenerationRequest, GenerationResult, ModelInfo

log = logging.getLogger(__name__)

IN_FLIGHT = 2                 # tasks queued on each worker, so that it never waits for the desktop
MAX_ATTEMPTS = 3              # a task is given to another worker at most this often (lost or rejected)
STARTUP_TIMEOUT_S = 300.0     # how long a run waits for a worker to start when no other can work
CANCEL_GRACE_S = 20.0         # how long a cancelled run waits for its workers to stop at a step
WAIT_S = 0.2
LOCAL_OBJECT_STORE = 256 * 1024 * 1024
INSTALL_HINT = ("Install it with `pip install 'provenance-studio[cluster]'` (the Ray version of the cluster), "
                "or choose “this computer” as the generation backend in Settings.")


def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise ModelError("Ray is not installed, so the studio cannot use a cluster.", hint=INSTALL_HINT) from exc
    return ray


class RayNodeWorker(NodeWorker):
    """A NodeWorker as a Ray actor: named after its node, on the GPU Ray gave it (if any)."""

    def __init__(self, options: dict[str, Any]) -> None:
        import ray

        gpus = ray.get_gpu_ids()
        node_id = ray.get_runtime_context().get_node_id()
        node = f"node {node_id[:8]} ({socket.gethostname()}, {ray.util.get_node_ip_address()})"
        super().__init__(node=node, device="cuda" if gpus else "cpu",
                         threads=None if gpus else int(options["threads"]), precision=str(options["precision"]),
                         memory_saving=str(options["memory_saving"]))
        self._gpus = [str(g) for g in gpus]

    def describe(self) -> dict[str, Any]:
        found = super().describe()
        found["gpus"] = self._gpus
        return found


@dataclass
class _Pending:
    task: GenerationTask
    files: TaskFiles
    expected: dict[str, Any]
    attempts: int = 0

    @property
    def key(self) -> tuple[str, ...]:
        return self.files.key


@dataclass(eq=False)
class _Worker:
    number: int
    actor: Any
    started: float
    ready_ref: Any
    state: str = "starting"     # "starting", "ready", "lost", "failed", "refused"
    name: str = ""
    node: str = ""
    inflight: dict[Any, _Pending] = field(default_factory=dict)
    refused: dict[tuple[str, ...], str] = field(default_factory=dict)   # files key -> the node's message
    last_key: tuple[str, ...] | None = None
    done: int = 0
    failed: int = 0
    lost: int = 0

    @property
    def status(self) -> WorkerStatus:
        state = self.state
        if state == "ready":
            state = "working" if self.inflight else "idle"
        return WorkerStatus(self.name or f"worker {self.number}", self.node or "(starting)", state, self.done,
                            self.failed, self.lost)


def _last_line(exc: BaseException) -> str:
    """The telling line of a Ray error (its last non-empty line: the original exception)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return (lines[-1] if lines else type(exc).__name__)[:300]


def _check_reachable(address: str) -> None:
    """Fail at once, with a message, when nothing listens at ``address`` (Ray would retry for minutes)."""
    target = cluster_host_port(address)
    if target is None:
        return
    try:
        with socket.create_connection(target, timeout=5):
            pass
    except OSError as exc:
        raise NetworkError(f"Nothing answers at {address} ({exc.strerror or exc}).",
                           hint="Start the cluster (`ray start --head` on the head node) or check the address "
                                "in Settings.") from exc


class RayBackend:
    """Generation spread over the workers of a Ray cluster; see the module's docstring.

    ``address``: "auto" (the cluster this computer joined with ``ray start``), "local" (a cluster
    the studio starts on this computer, stopped by :meth:`close`), "HOST:PORT" (a head node) or
    "ray://HOST:10001" (Ray Client). ``catalog`` resolves model names on the desktop, where every
    task's files are hashed. ``max_workers`` 0 takes as many workers as the cluster has room for.
    ``worker_class``: the actor each worker runs, :class:`RayNodeWorker` or a subclass of it (a
    node's own build, or a test's) importable on every node.
    """

    def __init__(self, catalog: Any, *, address: str, hash_cache: Path, cpus_per_worker: int = 2,
                 max_workers: int = 0, precision: str = "auto", memory_saving: str = "auto",
                 in_flight: int = IN_FLIGHT, startup_timeout_s: float = STARTUP_TIMEOUT_S,
                 worker_class: type[Any] | None = None) -> None:
        from studio.generation.engine import Engine

        self.address = address.strip() or "auto"
        self._validator = Engine(catalog, device="cpu", hash_cache=hash_cache)  # checks requests; loads nothing
        self._hash_cache = Path(hash_cache)
        self._cpus_per_worker = max(1, int(cpus_per_worker))
        self._max_workers = max(0, int(max_workers))
        self._options = {"threads": self._cpus_per_worker, "precision": precision, "memory_saving": memory_saving}
        self._in_flight = max(1, int(in_flight))
        self._startup_timeout_s = startup_timeout_s
        self._workers: list[_Worker] = []
        self._numbers = 0
        self._owns_ray = False
        self._worker_class: type[Any] = worker_class or RayNodeWorker
        self._actor_class: Any = None

    @property
    def label(self) -> str:
        return "a Ray cluster on this computer" if self.address == "local" else f"the Ray cluster at {self.address}"

    # -- the engine's interface ------------------------------------------------------------

    def validate(self, request: GenerationRequest) -> ModelInfo:
        info: ModelInfo = self._validator.validate(request)
        return info

    def generate(self, request: GenerationRequest, *,
                 progress: Callable[[GenerationProgress], None] | None = None,
                 cancel: Any = None, preview_every: int = 0,
                 on_result: Callable[[GenerationResult], None] | None = None) -> list[GenerationResult]:
        """The engine's ``generate``: the request's images made in parallel, one task each; progress
        counts whole images. Raises ModelError naming the failures when any image could not be made."""
        self.validate(request)
        tasks = single_image_tasks(request)
        made: dict[int, GenerationResult] = {}

        def keep(done: TaskResult) -> None:
            made[done.task.key] = done.result
            if on_result is not None:
                on_result(done.result)

        def step(run: RunProgress) -> None:
            if progress is not None:
                progress(GenerationProgress(image_index=max(0, run.done - 1), image_count=run.total,
                                            step=request.steps if run.done else 0, steps=request.steps,
                                            elapsed_s=run.elapsed_s))

        report = self.run_tasks(tasks, on_result=keep, progress=step, cancel=cancel)
        if report.failures:
            raise ModelError(f"{len(report.failures)} of {len(tasks)} images could not be made: "
                             + "; ".join(f"#{f.key + 1} on {f.node}: {f.message}" for f in report.failures[:3]))
        return [made[key] for key in sorted(made)]

    # -- runs --------------------------------------------------------------------------------

    def run_tasks(self, tasks: Sequence[GenerationTask], *, on_result: Callable[[TaskResult], None],
                  progress: Callable[[RunProgress], None] | None = None, cancel: Any = None,
                  preview_every: int = 0) -> RunReport:
        """Run ``tasks`` on the cluster; each result (checked) goes to ``on_result`` as it arrives.

        Tasks that fail on every worker that could take them are in the report's failures. Raises
        Cancelled when cancelled (results that arrived are kept), NetworkError when no worker is
        left to take the remaining tasks.
        """
        check_tasks(tasks)
        pending = self._prepare(tasks)  # every request checked and every file hashed before a worker starts
        ray = self._connect()
        run = _Run(self, ray, pending, on_result, progress, cancel)
        try:
            run.start_workers()
            run.loop()
        except BaseException:
            run.stop_inflight()
            raise
        return run.report()

    def _prepare(self, tasks: Sequence[GenerationTask]) -> list[_Pending]:
        files_by_inputs: dict[tuple[Any, ...], TaskFiles] = {}
        pending = []
        for task in tasks:
            info = self.validate(task.request)
            request = task.request
            inputs = (info, tuple(str(s.path) for s in request.loras),
                      str(request.ip_adapter.path) if request.ip_adapter is not None else "")
            if inputs not in files_by_inputs:
                files_by_inputs[inputs] = task_files(request, info, self._hash_cache)
            files = files_by_inputs[inputs]
            pending.append(_Pending(task, files, expected_recipe_fields(request, files)))
        return pending

    def _connect(self) -> Any:
        ray = _ray()
        if ray.is_initialized():
            return ray
        options: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.WARNING}
        if self.address == "local":
            options.update(address="local", include_dashboard=False, object_store_memory=LOCAL_OBJECT_STORE)
        else:
            if self.address != "auto":
                _check_reachable(self.address)
            options["address"] = self.address
        try:
            ray.init(**options)
        except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
            raise NetworkError(f"Could not connect to {self.label}: {_last_line(exc)}",
                               hint="Check the address in Settings (auto needs `ray start` on this computer; "
                                    "ray://HOST:10001 needs the same Ray and Python versions as the cluster).") from exc
        self._owns_ray = True
        log.info("Connected to %s: %s", self.label, ray.cluster_resources())
        return ray

    def _capacity(self, ray: Any) -> tuple[int, dict[str, Any]]:
        """How many workers the cluster has room for, and each one's Ray resources."""
        resources = ray.cluster_resources()
        gpus, cpus = int(resources.get("GPU", 0)), float(resources.get("CPU", 0))
        if gpus:
            return gpus, {"num_gpus": 1, "num_cpus": min(1.0, cpus / gpus)}
        capacity = int(cpus // self._cpus_per_worker)
        if capacity < 1:
            raise ModelError(f"{self.label[0].upper() + self.label[1:]} has {cpus:g} CPU cores and no GPU: "
                             f"too few for a worker of {self._cpus_per_worker} cores.",
                             hint="Lower “CPU cores per cluster worker” in Settings, or add nodes.")
        return capacity, {"num_cpus": self._cpus_per_worker}

    def _start_worker(self, ray: Any, resources: dict[str, Any]) -> _Worker:
        if self._actor_class is None:
            self._actor_class = ray.remote(self._worker_class)
        actor = self._actor_class.options(max_concurrency=self._in_flight + 1, max_restarts=0,
                                    scheduling_strategy="SPREAD", **resources).remote(self._options)
        self._numbers += 1
        worker = _Worker(self._numbers, actor, time.perf_counter(), actor.describe.remote())
        self._workers.append(worker)
        return worker

    def close(self) -> None:
        """Stop the workers, and the cluster when the studio started it."""
        if not self._workers and not self._owns_ray:
            return
        try:
            ray = _ray()
            for worker in self._workers:
                if worker.state != "lost":  # refused and failed workers too: they hold their resources
                    try:
                        ray.kill(worker.actor)
                    except Exception as exc:  # a worker already gone
                        log.debug("Could not stop worker %d: %s", worker.number, exc)
            if self._owns_ray and ray.is_initialized():
                ray.shutdown()
        finally:
            self._workers = []
            self._owns_ray = False
            self._actor_class = None

    def __enter__(self) -> "RayBackend":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Run:
    """One call of ``run_tasks``: the queue, the workers' tasks in flight, the counts."""

    def __init__(self, backend: RayBackend, ray: Any, pending: list[_Pending],
                 on_result: Callable[[TaskResult], None], progress: Callable[[RunProgress], None] | None,
                 cancel: Any) -> None:
        self.backend, self.ray = backend, ray
        self.total = len(pending)
        self.queues: dict[tuple[str, ...], deque[_Pending]] = {}
        for item in pending:
            self.queues.setdefault(item.key, deque()).append(item)
        self.on_result, self.progress, self.cancel = on_result, progress, cancel
        self.started = time.perf_counter()
        self.done = 0
        self.first_done_s: float | None = None
        self.failures: list[TaskFailure] = []
        self.lost_by_node: dict[str, int] = {}
        self.replacements = 0
        self.max_replacements = 0
        self.resources: dict[str, Any] = {}
        self.notes: list[str] = []   # workers that could not start, were refused or answered wrongly

    # -- workers -----------------------------------------------------------------------------

    @property
    def workers(self) -> list[_Worker]:
        return self.backend._workers

    def start_workers(self) -> None:
        capacity, self.resources = self.backend._capacity(self.ray)
        wanted = min(capacity, self.backend._max_workers or capacity, self.total)
        alive = [w for w in self.workers if w.state in ("starting", "ready")]
        for _ in range(max(0, wanted - len(alive))):
            self.backend._start_worker(self.ray, self.resources)
        self.max_replacements = max(2, wanted)

    def _on_ready(self, worker: _Worker) -> None:
        try:
            info = self.ray.get(worker.ready_ref)
        except Exception as exc:  # the actor could not start (no studio there, no GPU, a crash)
            worker.state = "failed"
            self.notes.append(f"worker {worker.number} could not start: {_last_line(exc)}")
            log.warning("Cluster worker %d could not start: %s", worker.number, exc)
            return
        finally:
            worker.ready_ref = None
        worker.node = str(info.get("node", f"worker {worker.number}"))
        gpus = info.get("gpus") or []
        worker.name = (f"worker {worker.number} · {worker.node} · "
                       + (f"gpu {','.join(gpus)}" if gpus else f"{info.get('threads')} threads"))
        if info.get("studio_version") != __version__:
            worker.state = "refused"
            self.notes.append(f"{worker.node} runs Provenance Studio {info.get('studio_version')}, "
                                       f"this desktop {__version__}: not used (install the same version there)")
            self.ray.kill(worker.actor)
            return
        worker.state = "ready"
        log.info("Cluster worker %d ready: %s", worker.number, info)

    def _lose(self, worker: _Worker, why: str) -> None:
        """``worker`` is gone: its tasks go back to the front of the queue; a replacement is asked for."""
        if worker.state != "ready":
            return
        worker.state = "lost"
        log.warning("Lost %s (%s); %d of its tasks go to other workers", worker.name, why, len(worker.inflight))
        for item in worker.inflight.values():
            worker.lost += 1
            self.lost_by_node[worker.node] = self.lost_by_node.get(worker.node, 0) + 1
            self._requeue(item, worker.node, f"the worker was lost ({why})")
        worker.inflight.clear()
        try:
            self.ray.kill(worker.actor)
        except Exception as exc:
            log.debug("Could not stop the lost worker: %s", exc)
        if self.replacements < self.max_replacements and self._remaining():
            self.replacements += 1
            self.backend._start_worker(self.ray, self.resources)

    def _requeue(self, item: _Pending, node: str, why: str) -> None:
        item.attempts += 1
        if item.attempts >= MAX_ATTEMPTS:
            self.failures.append(TaskFailure(item.task.key, node, f"given up after {item.attempts} tries: {why}"))
            return
        self.queues.setdefault(item.key, deque()).appendleft(item)

    # -- the loop ----------------------------------------------------------------------------

    def _remaining(self) -> int:
        return sum(len(q) for q in self.queues.values())

    def _inflight(self) -> int:
        return sum(len(w.inflight) for w in self.workers)

    def loop(self) -> None:
        self._report()
        while self._remaining() or self._inflight():
            if self.cancel is not None and self.cancel.cancelled:
                self._cancel_run()
            self._fail_unplaceable()
            self._dispatch()
            refs = [ref for w in self.workers for ref in w.inflight] + \
                   [w.ready_ref for w in self.workers if w.state == "starting" and w.ready_ref is not None]
            if not refs:
                if self._remaining():
                    self._give_up()
                continue
            ready, _ = self.ray.wait(refs, num_returns=1, timeout=WAIT_S)
            if ready:
                ready, _ = self.ray.wait(refs, num_returns=len(refs), timeout=0)
            for ref in ready:
                self._settle(ref)
            self._report()

    def _hopeful(self) -> list[_Worker]:
        """Workers still starting, within the start-up time."""
        now = time.perf_counter()
        return [w for w in self.workers
                if w.state == "starting" and now - w.started < self.backend._startup_timeout_s]

    def _fail_unplaceable(self) -> None:
        """Tasks that every working worker refused, with no other worker on its way, fail."""
        ready = [w for w in self.workers if w.state == "ready"]
        if not ready or self._hopeful():
            return
        for key in list(self.queues):
            if all(key in w.refused for w in ready):
                messages = sorted({w.refused[key] for w in ready})
                for item in self.queues.pop(key):
                    self.failures.append(TaskFailure(item.task.key, "every worker", " ".join(messages)))

    def _give_up(self) -> None:
        if self._hopeful():
            return
        remaining = self._remaining()
        notes = "; ".join(self.notes[-3:]) or "no worker could start"
        raise NetworkError(f"No worker of {self.backend.label} is left to make the remaining {remaining} "
                           f"image{'s' if remaining != 1 else ''} ({notes}).",
                           hint="What was made is saved; add or restart nodes and run again to continue.")

    def _dispatch(self) -> None:
        for worker in self.workers:
            while worker.state == "ready" and len(worker.inflight) < self.backend._in_flight:
                item = self._next_for(worker)
                if item is None:
                    break
                payload = TaskPayload(item.task.key, item.task.request, item.files)
                worker.inflight[worker.actor.run.remote(payload)] = item
                worker.last_key = item.key

    def _next_for(self, worker: _Worker) -> _Pending | None:
        """The next task for ``worker``: one with the files it has loaded, else the oldest it has not refused."""
        keys = ([worker.last_key] if worker.last_key in self.queues else []) + list(self.queues)
        for key in keys:
            if key is None or key in worker.refused:
                continue
            queue = self.queues[key]
            item = queue.popleft()
            if not queue:
                del self.queues[key]
            return item
        return None

    def _settle(self, ref: Any) -> None:
        worker = next((w for w in self.workers if ref in w.inflight or ref is w.ready_ref), None)
        if worker is None:
            return
        if ref is worker.ready_ref:
            self._on_ready(worker)
            return
        item = worker.inflight.pop(ref)
        exceptions = self.ray.exceptions
        try:
            answer = self.ray.get(ref)
        except exceptions.RayTaskError as exc:
            self._task_error(worker, item, getattr(exc, "cause", None) or exc)
            return
        except (exceptions.RayActorError, exceptions.WorkerCrashedError, exceptions.NodeDiedError,
                exceptions.ObjectLostError, exceptions.TaskCancelledError) as exc:
            worker.inflight[ref] = item  # lost with the rest of the worker's tasks
            self._lose(worker, _last_line(exc))
            return
        try:
            result = accept_answer(answer, item.task.request, item.files, item.expected, worker.node)
        except StudioError as exc:
            worker.failed += 1
            worker.state = "refused"  # a node whose answers do not match its tasks is not asked again
            self.notes.append(str(exc))
            for other in worker.inflight.values():
                self._requeue(other, worker.node, str(exc))
            worker.inflight.clear()
            self._requeue(item, worker.node, str(exc))
            return
        self.on_result(TaskResult(item.task, result, worker.name, worker.node, float(answer.elapsed_s)))
        worker.done += 1
        self.done += 1
        if self.first_done_s is None:
            self.first_done_s = time.perf_counter() - self.started

    def _task_error(self, worker: _Worker, item: _Pending, cause: BaseException) -> None:
        if isinstance(cause, NodeRefused):
            worker.refused[item.key] = str(cause)
            self.queues.setdefault(item.key, deque()).appendleft(item)
            log.info("%s refused a task: %s", worker.node, cause)
        elif isinstance(cause, Cancelled):
            self.queues.setdefault(item.key, deque()).appendleft(item)  # only when this run cancelled it
        else:
            worker.failed += 1
            message = str(cause) if isinstance(cause, StudioError) else f"unexpected error: {_last_line(cause)}"
            self.failures.append(TaskFailure(item.task.key, worker.node, message))

    # -- cancel, stop, report ----------------------------------------------------------------

    def _cancel_run(self) -> None:
        """Stop: nothing more is started, running images stop at their next step; images that
        finish meanwhile are still passed on (they are made). Raises Cancelled."""
        self.queues.clear()
        self.stop_inflight()
        deadline = time.perf_counter() + CANCEL_GRACE_S
        while self._inflight() and time.perf_counter() < deadline:
            refs = [ref for w in self.workers for ref in w.inflight]
            ready, _ = self.ray.wait(refs, num_returns=len(refs), timeout=WAIT_S)
            for ref in ready:
                self._settle(ref)
        for worker in self.workers:
            if worker.inflight:  # still not stopped: stop the worker itself
                worker.inflight.clear()
                worker.state = "lost"
                self.ray.kill(worker.actor)
        self.queues.clear()
        raise Cancelled(f"Cancelled with {self.done} of {self.total} images made.")

    def stop_inflight(self) -> None:
        for worker in self.workers:
            if worker.state == "ready" and worker.inflight:
                try:
                    worker.actor.cancel.remote()
                except Exception as exc:
                    log.debug("Could not cancel on %s: %s", worker.name, exc)

    def _report(self) -> None:
        if self.progress is None:
            return
        self.progress(RunProgress(self.done, self.total, time.perf_counter() - self.started,
                                  failed=len(self.failures), workers=tuple(w.status for w in self.workers),
                                  first_done_s=self.first_done_s))

    def report(self) -> RunReport:
        nodes: dict[str, list[int]] = {}
        for worker in self.workers:
            if worker.node:
                counts = nodes.setdefault(worker.node, [0, 0, 0])
                counts[0] += worker.done
                counts[1] += worker.failed
        for node, lost in self.lost_by_node.items():
            nodes.setdefault(node, [0, 0, 0])[2] = lost
        for worker in self.workers:  # counted once per run
            worker.done = worker.failed = worker.lost = 0
        return RunReport(self.backend.label, self.total, self.done, time.perf_counter() - self.started,
                         tuple(NodeCount(node, *counts) for node, counts in sorted(nodes.items())),
                         tuple(self.failures), tuple(self.notes))
