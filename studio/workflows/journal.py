"""The journal of a long run: its plan written once, and a log of the items finished, in any order.

A run folder (an avatar collection, a batch of prompts) holds its plan (JSON, written once: what
every item is; a rerun with another plan is refused rather than mixed in) and ``progress.log``,
one line per finished item, ``<index> <file> <sha256>``, appended and synced as soon as the item's
file is saved. Items may finish in any order (a cluster returns them as its workers finish). A
rerun, after a cancel, a crash of the studio or a lost cluster worker, skips every item whose file
is there with the logged hash and makes the others: nothing finished is made twice or lost.

``run_journal`` is the one run over such a folder, for every kind of run: it makes the items not
finished yet on a generation backend, saves each through ``save_work``, logs it, reports
:class:`JournalProgress`, honours a cancel and collects the items that failed.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from studio.errors import InputError, StorageError
from studio.generation.backends import THIS_COMPUTER, RunProgress, RunReport, WorkerStatus
from studio.generation.request import GenerationRequest

if TYPE_CHECKING:
    from studio.generation.backends import GenerationBackend
    from studio.library.db import Library
    from studio.workflows.generate import SavedWork

log = logging.getLogger(__name__)

PROGRESS_FILE = "progress.log"


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_plan(folder: Path, name: str, *, version: int, what: str) -> dict[str, Any] | None:
    """The plan ``name`` in ``folder`` (None when there is none); a damaged or foreign one is refused."""
    path = Path(folder) / name
    if not path.exists():
        return None
    from studio.safejson import loads

    try:
        data = loads(path.read_bytes(), what=name)
    except (OSError, InputError) as exc:
        raise InputError(f"The {what} {path} is damaged ({exc}).",
                         hint=f"Move the folder away (or delete {name}) to start again.") from exc
    if not isinstance(data, dict) or data.get("version") != version or not isinstance(data.get("items"), list):
        raise InputError(f"{path} is not a {what} this studio reads.", hint="Use another folder.")
    return data


def keep_plan(folder: Path, name: str, document: dict[str, Any], *, version: int, what: str, kind: str,
              fields: Iterable[str]) -> None:
    """Write ``document`` as the folder's plan, or check that the plan there is the same; a plan made
    with other settings is refused, naming the ``fields`` that differ (``kind``: "collection"...)."""
    folder = Path(folder)
    existing = read_plan(folder, name, version=version, what=what)
    if existing is not None and existing != json.loads(json.dumps(document)):
        changed = [k for k in fields if existing.get(k) != document.get(k)]
        raise InputError(f"{folder} holds a {kind} made with other settings "
                         f"({', '.join(changed) or 'items'} differ); it is not mixed with this one.",
                         hint="Run again with the same settings to continue it, or choose another folder.")
    folder.mkdir(parents=True, exist_ok=True)
    if existing is None:
        from studio.fileio import atomic_write_text

        atomic_write_text(folder / name, json.dumps(document, indent=1, ensure_ascii=False) + "\n")


def read_done(folder: Path) -> dict[int, str]:
    """Finished items from ``progress.log`` (index -> SHA-256); a torn last line is ignored."""
    done: dict[int, str] = {}
    try:
        text = (Path(folder) / PROGRESS_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return done
    except OSError as exc:
        raise StorageError(f"Could not read {Path(folder) / PROGRESS_FILE}: {exc.strerror or exc}.") from exc
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0].isdigit() and len(parts[2]) == 64:
            done[int(parts[0])] = parts[2]
    return done


def append_done(folder: Path, index: int, file: str, sha256: str) -> None:
    """Log item ``index`` as finished (its file and hash), synced before returning."""
    path = Path(folder) / PROGRESS_FILE
    try:
        torn = path.exists() and path.stat().st_size > 0 and not path.read_bytes().endswith(b"\n")
        with open(path, "a", encoding="utf-8") as log_file:
            # a line torn by a crash is ended first, so that this one stays whole
            log_file.write(("\n" if torn else "") + f"{index} {file} {sha256}\n")
            log_file.flush()
            os.fsync(log_file.fileno())
    except OSError as exc:
        raise StorageError(f"Could not record progress in {path}: {exc.strerror or exc}.",
                           hint="Free some disk space and run again; it continues.") from exc


def finished_indexes(folder: Path, items: Iterable[tuple[int, str]], done: dict[int, str]) -> set[int]:
    """The items (index, file name) whose file is in ``folder`` with the hash ``done`` logged for it."""
    folder = Path(folder)
    return {index for index, file in items
            if index in done and (folder / file).is_file() and file_sha256(folder / file) == done[index]}


# ---------------------------------------------------------------------- the run

@dataclass(frozen=True)
class JournalItem:
    """One image of a journaled run: its number, its file in the run's folder, its request (one
    image, a fixed seed) and its title in the Gallery (None: the prompt's start)."""

    index: int
    file: str
    request: GenerationRequest
    title: str | None = None


@dataclass(frozen=True)
class JournalProgress:
    """Where a journaled run is, in the one progress shape (:class:`studio.cancel.Progress`): ``done``
    of ``total`` items (``skipped``: made by an earlier run); ``run`` is the backend's own report
    (the image this computer is making, step by step, or on a cluster each worker)."""

    done: int
    total: int
    run: RunProgress
    skipped: int = 0
    noun: str = "images"

    @property
    def failed(self) -> int:
        return self.run.failed

    @property
    def eta_s(self) -> float | None:
        return self.run.eta_s

    @property
    def workers(self) -> tuple[WorkerStatus, ...]:
        return self.run.workers

    @property
    def index(self) -> int | None:
        """The item being made step by step on this computer (None between items, or on a cluster)."""
        return self.run.key if self.run.step is not None else None

    @property
    def step(self) -> int:
        return self.run.step.step if self.run.step is not None else 0

    @property
    def steps(self) -> int:
        return self.run.step.steps if self.run.step is not None else 0

    @property
    def preview(self) -> Any:
        """The current image as it forms (a PIL image), when the run was asked for previews."""
        return self.run.step.preview if self.run.step is not None else None

    @property
    def fraction(self) -> float:
        partial = self.step / self.steps if self.steps else 0.0
        return min(1.0, (self.done + self.failed + partial) / self.total) if self.total else 1.0

    @property
    def text(self) -> str:
        line = f"{self.done}/{self.total} {self.noun}"
        if self.index is not None and self.steps:
            line += f" · #{self.index + 1} step {self.step}/{self.steps}"
        if len(self.workers) > 1 or (self.workers and self.workers[0].node != THIS_COMPUTER):
            working = sum(1 for w in self.workers if w.state in ("working", "idle"))
            line += f" · {working} worker{'s' if working != 1 else ''}"
        if self.failed:
            line += f" · {self.failed} failed"
        if self.eta_s is not None and self.done < self.total:
            line += f" · ETA {duration_text(self.eta_s)}"
        if self.skipped:
            line += f" · {self.skipped} from an earlier run"
        return line


def duration_text(seconds: float) -> str:
    """``42 s``, ``3 min 05 s`` or ``2 h 10 min``."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


@dataclass(frozen=True)
class JournalRun:
    """What a journaled run did: its folder, how many items it made now (the rest were made before),
    and the backend's report (per node, failures)."""

    folder: Path
    generated: int
    report: RunReport


def run_journal(items: Sequence[JournalItem], folder: Path, backend: "GenerationBackend", *,
                library: "Library | None", noun: str, again: str, signer: Any = None, c2pa: Any = "auto",
                pipeline: str | None = None, progress: Callable[[JournalProgress], None] | None = None,
                cancel: Any = None, preview_every: int = 0,
                on_saved: Callable[[JournalItem, "SavedWork"], None] | None = None,
                on_report: Callable[[RunReport], None] | None = None) -> JournalRun:
    """Make the ``items`` of the run in ``folder`` (whose plan is kept already) that an earlier run
    did not finish, on ``backend``, saving each through ``save_work`` as it arrives (in any order)
    and logging it; items finished before are recorded in ``library`` where they are missing.

    ``noun`` names the items for people ("avatars"), ``again`` is the hint after a failure (how to
    run again). Raises Cancelled (what is saved stays saved), or ModelError after the run when some
    items could not be made (the others are saved; ``on_report`` has the report first).
    """
    from studio.errors import Cancelled, ModelError
    from studio.generation.backends import GenerationTask, TaskResult
    from studio.workflows.generate import AUTO, c2pa_credentials, record_work, save_work

    folder = Path(folder)
    done = read_done(folder)
    finished = finished_indexes(folder, ((i.index, i.file) for i in items), done)
    skipped = len(finished)
    if library is not None:  # items an earlier run made (perhaps before it recorded them) reach the Gallery
        _record_finished(library, folder, [i for i in items if i.index in finished], done)
    credentials = c2pa_credentials() if isinstance(c2pa, str) and c2pa == AUTO else c2pa
    by_index = {item.index: item for item in items}
    generated = 0

    def keep(made: TaskResult) -> None:
        nonlocal generated
        item = by_index[made.task.key]
        work = save_work(made.result, folder / item.file, library=None, signer=signer, c2pa=credentials,
                         pipeline=pipeline, title=item.title)
        # logged before it is recorded: a studio killed in between records it on the next run (from
        # the log), where the other order would leave a row for a file the next run makes again
        append_done(folder, item.index, item.file, file_sha256(work.path))
        if library is not None:
            work = record_work(library, work, title=item.title)
        finished.add(item.index)
        generated += 1
        if on_saved is not None:
            on_saved(item, work)

    def on_run(run: RunProgress) -> None:
        if progress is not None:
            progress(JournalProgress(skipped + run.done, len(items), run, skipped, noun))

    tasks = [GenerationTask(i.index, i.request) for i in items if i.index not in finished]
    try:
        report = backend.run_tasks(tasks, on_result=keep, progress=on_run, cancel=cancel, preview_every=preview_every)
    except Cancelled:
        raise Cancelled(f"Stopped after {len(finished)} of {len(items)} {noun}; run again to continue.") from None
    if on_report is not None:
        on_report(report)
    if report.failures:
        first = report.failures[0]
        raise ModelError(f"{len(report.failures)} of {len(items)} {noun} could not be made (#{first.key + 1} on "
                         f"{first.node}: {first.message}); the other {len(finished)} are saved.", hint=again)
    return JournalRun(folder, generated, report)


def _record_finished(library: "Library", folder: Path, items: list[JournalItem], done: dict[int, str]) -> None:
    from studio.errors import StudioError
    from studio.workflows.library import add_saved_work

    for item in items:
        if library.work_by_sha256(done[item.index]) is None:
            try:
                add_saved_work(library, folder / item.file, title=item.title)
            except StudioError as exc:
                log.warning("%s is not in the library: %s", item.file, exc)
