"""A batch of prompts (``studio generate --prompts``) with the tiny demo pipeline: one work per row
with the row's settings, a cancelled run continued to the same images, and a run where one item
fails keeps the works made around it, names the failed one and makes it on the next run."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Sequence

import pytest

from studio.cancel import CancelToken
from studio.errors import Cancelled, InputError, ModelError
from studio.generation.backends import (THIS_COMPUTER, GenerationTask, LocalBackend, NodeCount, RunProgress, RunReport,
                                        TaskFailure, TaskResult)
from studio.provenance.manifest import SignedManifest
from studio.provenance.png_text import read_png_text
from studio.workflows.journal import read_done
from studio.workflows.prompt_batch import BatchDefaults, generate_batch, read_prompts

DEFAULTS = BatchDefaults(model="demo", seed=100, width=64, height=64, steps=2)


def manifest_of(path: Path) -> Any:
    return SignedManifest.from_json(read_png_text(path)["studio:provenance"]).manifest


def prompts_csv(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "prompts.csv"
    path.write_text("prompt,negative,seed,steps\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


class NodeFailingOn(LocalBackend):
    """A cluster whose node fails the tasks named ``failing`` and makes the others (as a Ray backend
    does: failures are collected per item, the run goes on)."""

    def __init__(self, engine: Any, failing: set[int]) -> None:
        super().__init__(engine)
        self.failing = failing

    def run_tasks(self, tasks: Sequence[GenerationTask], *, on_result: Callable[[TaskResult], None],
                  progress: Callable[[RunProgress], None] | None = None, cancel: Any = None,
                  preview_every: int = 0) -> RunReport:
        started, done, failures = time.perf_counter(), 0, []
        for task in tasks:
            if task.key in self.failing:
                failures.append(TaskFailure(task.key, "node 7", "out of GPU memory"))
                continue
            super().run_tasks([task], on_result=on_result, cancel=cancel)
            done += 1
            if progress is not None:
                progress(RunProgress(done, len(tasks), time.perf_counter() - started, failed=len(failures)))
        return RunReport("a test cluster", len(tasks), done, time.perf_counter() - started,
                         (NodeCount("node 7", done, len(failures), 0),), tuple(failures))


def test_each_row_becomes_a_work_with_its_own_settings(engine: Any, tmp_path: Path, library: Any) -> None:
    rows = read_prompts(prompts_csv(tmp_path, "a red fox,blurry,7,", "a blue owl,,,3", "a green frog,,,"))
    saved: list[tuple[int, Path]] = []
    result = generate_batch(rows, tmp_path / "run", engine, library=library, defaults=DEFAULTS, c2pa=None,
                            on_saved=lambda item, work: saved.append((item.index, work.path)))
    assert result.generated == 3 and [i.file for i in result.items] == ["0001.png", "0002.png", "0003.png"]
    assert [index for index, _ in saved] == [0, 1, 2]
    fox, owl = manifest_of(saved[0][1]), manifest_of(saved[1][1])
    assert (fox.prompt, fox.negative_prompt, fox.seed, fox.steps) == ("a red fox", "blurry", 7, 2)
    assert (owl.prompt, owl.negative_prompt, owl.seed, owl.steps) == ("a blue owl", "", 101, 3)  # seed: base + row
    assert {Path(w.path).resolve() for w in library.works()} == {p.resolve() for _, p in saved}
    assert sorted(read_done(tmp_path / "run")) == [0, 1, 2]


def test_a_cancelled_batch_continues_to_the_same_images(engine: Any, tmp_path: Path) -> None:
    rows = read_prompts(prompts_csv(tmp_path, "a red fox,,,", "a blue owl,,,", "a green frog,,,"))
    cancel = CancelToken()
    out = tmp_path / "run"

    def after_first(item: Any, work: Any) -> None:
        cancel.cancel()

    with pytest.raises(Cancelled, match="Stopped after 1 of 3 images"):
        generate_batch(rows, out, engine, library=None, defaults=DEFAULTS, c2pa=None, cancel=cancel,
                       on_saved=after_first)
    first = (out / "0001.png").read_bytes()
    with pytest.raises(InputError, match="other settings"):
        generate_batch(rows, out, engine, library=None, defaults=BatchDefaults(model="demo", seed=5, width=64,
                                                                               height=64, steps=2), c2pa=None)
    progress: list[Any] = []
    result = generate_batch(rows, out, engine, library=None, defaults=DEFAULTS, c2pa=None, progress=progress.append)
    assert result.generated == 2 and (out / "0001.png").read_bytes() == first
    assert progress[0].skipped == 1 and progress[-1].done == 3 and progress[-1].fraction == 1.0
    assert progress[-1].text.startswith("3/3 images") and "1 from an earlier run" in progress[-1].text
    fresh = generate_batch(rows, tmp_path / "fresh", engine, library=None, defaults=DEFAULTS, c2pa=None)
    for item in fresh.items:
        assert manifest_of(out / item.file).pixel_hash == manifest_of(tmp_path / "fresh" / item.file).pixel_hash


def test_a_failed_item_keeps_the_other_works_names_it_and_is_made_on_the_next_run(
        engine: Any, tmp_path: Path, library: Any) -> None:
    rows = read_prompts(prompts_csv(tmp_path, "a red fox,,,", "a blue owl,,,", "a green frog,,,"))
    out = tmp_path / "run"
    reports: list[RunReport] = []
    with pytest.raises(ModelError, match=r"1 of 3 images could not be made \(#2 on node 7: out of GPU memory\); "
                                         r"the other 2 are saved") as failed:
        generate_batch(rows, out, NodeFailingOn(engine, {1}), library=library, defaults=DEFAULTS, c2pa=None,
                       on_report=reports.append)
    assert "again" in (failed.value.hint or "")
    assert reports and [f.key for f in reports[0].failures] == [1]  # the report came before the error
    assert sorted(read_done(out)) == [0, 2] and not (out / "0002.png").exists()
    assert len(library.works()) == 2

    again = generate_batch(rows, out, LocalBackend(engine), library=library, defaults=DEFAULTS, c2pa=None)
    assert again.generated == 1 and sorted(read_done(out)) == [0, 1, 2]
    assert manifest_of(out / "0002.png").prompt == "a blue owl"
    assert len(library.works()) == 3
    assert THIS_COMPUTER in again.report.backend
