"""The studio's one progress shape: every report has a fraction and a line, and the CLI's bar shows any of them."""
from __future__ import annotations

import io

from studio.cli.progress import ProgressBar
from studio.generation.request import GenerationProgress
from studio.workflows.batch import BatchProgress


def test_a_batch_mint_is_done_only_when_every_work_is_stored_minted_and_listed() -> None:
    storing = BatchProgress("upload", total=4, uploaded=2, minted=0, listed=0, to_list=0, line="Storing row 2")
    minted = BatchProgress("mint", total=4, uploaded=4, minted=4, listed=0, to_list=4, line="Minted 4 of 4")
    listed = BatchProgress("done", total=4, uploaded=4, minted=4, listed=4, to_list=4, line="Listed row 4")
    assert storing.fraction == 0.2 and storing.text == "2 of 4 stored · Storing row 2"
    assert minted.fraction == 0.5 and minted.text == "4 of 4 minted, 0/4 listed · Minted 4 of 4"
    assert listed.fraction == 1.0


def test_the_cli_bar_prints_each_new_line_of_any_report_without_a_terminal() -> None:
    stream = io.StringIO()
    bar = ProgressBar(stream=stream)
    step = GenerationProgress(image_index=1, image_count=2, step=5, steps=10, elapsed_s=3.0)
    bar.report(step)
    bar.report(step)  # the same line again is not repeated
    bar.report(BatchProgress("mint", total=2, uploaded=2, minted=1, listed=0, to_list=0, line="Sending batch 1"))
    bar.close()
    assert stream.getvalue().splitlines() == ["step 5/10 · image 2/2 · ETA 1 s", "1 of 2 minted · Sending batch 1"]


def test_a_journaled_run_says_its_items_the_step_the_workers_failures_time_left_and_earlier_work() -> None:
    from studio.generation.backends import RunProgress, WorkerStatus
    from studio.workflows.journal import JournalProgress

    here = RunProgress(1, 4, 2.0, step=GenerationProgress(0, 1, 2, 4, 1.0), key=3, first_done_s=1.0,
                       workers=(WorkerStatus("this computer", "this computer", "working", 1),))
    local = JournalProgress(3, 6, here, skipped=2, noun="avatars")
    assert local.fraction == (3 + 0.5) / 6 and (local.index, local.step, local.steps) == (3, 2, 4)
    assert local.text == "3/6 avatars · #4 step 2/4 · ETA 6 s · 2 from an earlier run"

    cluster = RunProgress(40, 100, 3600.0, failed=1, first_done_s=0.0,
                          workers=(WorkerStatus("worker 1", "node a", "working", 20),
                                   WorkerStatus("worker 2", "node b", "lost", 20)))
    far = JournalProgress(40, 100, cluster)
    assert far.index is None and far.preview is None and far.fraction == 0.41
    assert far.text == "40/100 images · 1 worker · 1 failed · ETA 1 h 30 min"
