"""The GUI's background machinery: serial lanes run jobs one at a time, in order, and survive errors."""
from __future__ import annotations

import logging
import threading
from typing import Any

from studio.errors import InputError
from studio.ui.workers import UNEXPECTED, BackgroundPool, FunctionJob, GpuLane, JobState, SerialLane, error_message


def test_lane_runs_jobs_in_order_and_reports_results(qtbot) -> None:
    lane = SerialLane("test")
    ran: list[str] = []
    results: list[Any] = []
    jobs = [FunctionJob(name, lambda _p, _c, name=name: ran.append(name) or name.upper()) for name in "abc"]
    for job in jobs:
        job.succeeded.connect(results.append)
    with qtbot.waitSignal(lane.idle, timeout=10_000):
        for job in jobs:
            lane.submit(job)
    assert ran == ["a", "b", "c"] and results == ["A", "B", "C"]
    assert all(job.state is JobState.DONE for job in jobs) and lane.is_idle


def test_a_failed_job_reports_its_error_and_the_queue_goes_on(qtbot, caplog) -> None:
    lane = SerialLane("test")

    def bad_input(_p: Any, _c: Any) -> None:
        raise InputError("The width 100 is not a multiple of 8.")

    def bug(_p: Any, _c: Any) -> None:
        raise ZeroDivisionError("boom")

    failures: list[BaseException] = []
    jobs = [FunctionJob("bad", bad_input), FunctionJob("bug", bug), FunctionJob("good", lambda _p, _c: 42)]
    for job in jobs:
        job.failed.connect(failures.append)
    with caplog.at_level(logging.WARNING), qtbot.waitSignal(lane.idle, timeout=10_000):
        for job in jobs:
            lane.submit(job)
    assert [job.state for job in jobs] == [JobState.FAILED, JobState.FAILED, JobState.DONE]
    assert error_message(failures[0]) == "The width 100 is not a multiple of 8."
    assert error_message(failures[1]) == UNEXPECTED
    assert "Traceback" in caplog.text and "ZeroDivisionError" in caplog.text


def test_pending_jobs_can_be_removed_and_cancel_all_empties_the_queue(qtbot) -> None:
    lane = SerialLane("test")
    release = threading.Event()
    started = threading.Event()

    def blocking(_p: Any, cancel: Any) -> str:
        started.set()
        release.wait(10)
        cancel.raise_if_cancelled()
        return "finished"

    first = FunctionJob("first", blocking)
    second = FunctionJob("second", lambda _p, _c: "second")
    third = FunctionJob("third", lambda _p, _c: "third")
    for job in (first, second, third):
        lane.submit(job)
    assert lane.current is first and lane.pending == (second, third)
    assert lane.remove(second) and not lane.remove(first)
    assert lane.pending == (third,)
    with qtbot.waitSignal(first.cancelled, timeout=10_000):
        lane.cancel_all()
        release.set()
    qtbot.waitUntil(lambda: lane.is_idle, timeout=10_000)
    assert first.state is JobState.CANCELLED and third.state is JobState.CANCELLED
    assert second.state is JobState.CANCELLED


def test_gpu_lane_builds_the_engine_once_on_its_own_thread(qtbot) -> None:
    made: list[int] = []

    def factory() -> object:
        made.append(threading.get_ident())
        return object()

    lane = GpuLane(factory)
    engines: list[object] = []
    jobs = [FunctionJob(f"job{i}", lambda _p, _c: engines.append(lane.engine())) for i in range(2)]
    with qtbot.waitSignal(lane.idle, timeout=10_000):
        for job in jobs:
            lane.submit(job)
    assert len(made) == 1 and made[0] != threading.get_ident()
    assert engines[0] is engines[1]
    lane.reset_engine()
    with qtbot.waitSignal(lane.idle, timeout=10_000):
        lane.submit(FunctionJob("after reset", lambda _p, _c: engines.append(lane.engine())))
    assert len(made) == 2 and engines[2] is not engines[0]
    assert lane.shutdown()


def test_background_pool_runs_jobs_alongside_and_delivers_on_the_gui_thread(qtbot) -> None:
    pool = BackgroundPool()
    seen: list[int] = []
    job = FunctionJob("ident", lambda _p, _c: threading.get_ident())
    job.succeeded.connect(lambda worker: seen.extend([worker, threading.get_ident()]))
    with qtbot.waitSignal(job.ended, timeout=10_000):
        pool.start(job)
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=5_000)
    worker, receiver = seen
    assert worker != threading.get_ident() and receiver == threading.get_ident()
    assert pool.shutdown()


def test_a_receiver_hears_its_jobs_outcome_in_order_through_its_outlet(qtbot) -> None:
    from PySide6.QtCore import QObject

    from studio.ui.workers import JobOutlet

    pool = BackgroundPool()
    receiver = QObject()
    heard: list[Any] = []

    def half_then_seven(progress: Any, _cancel: Any) -> int:
        progress(0.5)
        return 7

    done = FunctionJob("done", half_then_seven)
    broken = FunctionJob("broken", lambda _p, _c: 1 / 0)
    for job in (done, broken):
        outlet = job.to(receiver)
        assert job.to(receiver) is outlet  # one outlet per job and receiver
        outlet.progressed.connect(lambda update, name=job.title: heard.append((name, "progress", update)))
        outlet.succeeded.connect(lambda result, name=job.title: heard.append((name, "ok", result)))
        outlet.failed.connect(lambda exc, name=job.title: heard.append((name, "failed", type(exc).__name__)))
        outlet.ended.connect(lambda name=job.title: heard.append((name, "ended")))
        pool.start(job)
    qtbot.waitUntil(lambda: len(heard) == 5, timeout=10_000)
    assert not receiver.findChildren(JobOutlet)  # the outlets belong to the jobs
    assert [h for h in heard if h[0] == "done"] == [("done", "progress", 0.5), ("done", "ok", 7), ("done", "ended")]
    assert [h for h in heard if h[0] == "broken"] == [("broken", "failed", "ZeroDivisionError"), ("broken", "ended")]
    pool.shutdown()
