"""Cluster workers for the tests of studio.generation.cluster, run as Ray actors on the test's local
cluster (its processes find this module through PYTHONPATH): one that keeps everything the desktop
sends it, and one that lies about what it made."""
from __future__ import annotations

import os
import pickle
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from studio.errors import Cancelled
from studio.generation.cluster import RayNodeWorker
from studio.generation.remote import TaskPayload, WorkerAnswer

#: The environment variable naming the folder where workers keep what they received (the cluster of
#: tests/local_ray.py sets it).
RECORD_ENV = "STUDIO_TEST_CLUSTER_RECORDS"


def records(folder: Path) -> dict[str, bytes]:
    """What the workers kept: file name -> the pickled bytes of what the desktop sent."""
    return {path.name: path.read_bytes() for path in sorted(folder.glob("*.pickle"))}


def stopped_tasks(folder: Path) -> set[int]:
    """The keys of the tasks a worker stopped because the desktop cancelled them."""
    return {int(path.name.rsplit("-", 1)[1]) for path in folder.glob("*-stopped-*")}


def worker_pids(folder: Path) -> set[int]:
    """The process ids of the workers that were given a task."""
    return {int(name.split("-", 1)[0]) for name in records(folder) if "-task-" in name}


class RecordingWorker(RayNodeWorker):
    """The studio's worker, keeping (pickled, as it arrived) its options and every task it is given."""

    def __init__(self, options: dict[str, Any]) -> None:
        self._records = Path(os.environ[RECORD_ENV])
        self._keep("options", options)
        super().__init__(options)

    def _keep(self, what: str, value: Any) -> None:
        (self._records / f"{os.getpid()}-{what}.pickle").write_bytes(pickle.dumps(value))

    def run(self, payload: TaskPayload) -> WorkerAnswer:
        self._keep(f"task-{payload.key}", payload)
        try:
            return super().run(payload)
        except Cancelled:  # the desktop cancelled it: kept as "stopped-KEY" (the task's key)
            (self._records / f"{os.getpid()}-stopped-{payload.key}").write_text("")
            raise


class LyingWorker(RecordingWorker):
    """The first of these workers to start says each of its images was made with another seed."""

    def __init__(self, options: dict[str, Any]) -> None:
        super().__init__(options)
        try:
            descriptor = os.open(self._records / "liar", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            self.lies = False
        else:
            os.write(descriptor, str(os.getpid()).encode())
            os.close(descriptor)
            self.lies = True

    def run(self, payload: TaskPayload) -> WorkerAnswer:
        answer = super().run(payload)
        if not self.lies:
            return answer
        return replace(answer, recipe={**answer.recipe, "seed": int(answer.recipe["seed"]) + 1})


class StallingWorker(RecordingWorker):
    """The first of these workers given task ``STALL_KEY`` stops there (as a machine that hangs)
    and writes its process id to ``stalled``, for the test to kill it; it goes on after two minutes."""

    STALL_KEY = 2

    def run(self, payload: TaskPayload) -> WorkerAnswer:
        if payload.key == self.STALL_KEY:
            try:  # claimed once: the worker that makes the task again goes on
                os.close(os.open(self._records / "stall-claimed", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                pass
            else:
                (self._records / "stalled.tmp").write_text(str(os.getpid()))
                os.replace(self._records / "stalled.tmp", self._records / "stalled")  # whole, for the reader
                time.sleep(120)
        return super().run(payload)


class HoldingWorker(RecordingWorker):
    """Makes its first ``MAKES`` images; the next waits inside the engine (as on a slow GPU) until
    the desktop cancels it, or for a minute, and then goes on with the task's cancel token; after
    that cancel it makes every image at once."""

    MAKES = 2

    def __init__(self, options: dict[str, Any]) -> None:
        super().__init__(options)
        engine = self._engine
        generate = engine.generate
        calls = [0]
        released = [False]

        def held(request: Any, *, cancel: Any = None, **options: Any) -> Any:
            calls[0] += 1
            if calls[0] > self.MAKES and not released[0]:
                deadline = time.monotonic() + 60
                while cancel is not None and not cancel.cancelled and time.monotonic() < deadline:
                    time.sleep(0.05)
                released[0] = True
            return generate(request, cancel=cancel, **options)

        engine.generate = held
