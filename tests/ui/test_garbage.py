"""Garbage collection runs on the GUI thread: a Qt object kept only by a reference cycle is never
destroyed on a worker that happens to allocate (see studio/ui/garbage.py)."""
from __future__ import annotations

import gc
import threading
import weakref

from PySide6.QtCore import QObject

from studio.ui.garbage import GuiThreadCollector


class _Cycle(QObject):
    """A parentless Qt object that refers to itself, as a view-model held by a failed job does."""

    def __init__(self) -> None:
        super().__init__()
        self.me = self


def _allocate_on_a_worker() -> list[list[int]]:
    """What importing a big library does: many lasting container objects, enough for several
    collections; returned so that they last."""
    kept: list[list[int]] = []
    worker = threading.Thread(target=lambda: kept.extend([index] for index in range(50_000)),
                              name="allocating worker")
    worker.start()
    worker.join()
    return kept


def test_a_qt_object_in_a_reference_cycle_is_collected_on_the_gui_thread(qtbot) -> None:
    collector = GuiThreadCollector()
    try:
        cycle = _Cycle()
        threads: list[str] = []
        weakref.finalize(cycle, lambda: threads.append(threading.current_thread().name))
        del cycle
        allocated = _allocate_on_a_worker()
        assert threads == []  # the worker's allocations collected nothing
        qtbot.waitUntil(lambda: bool(threads), timeout=5_000)  # the GUI thread's timer did
        assert threads == [threading.main_thread().name]
        assert allocated
    finally:
        collector.stop()
    assert gc.isenabled()


def test_without_the_collector_a_worker_would_collect_the_cycle() -> None:
    """The reason for the collector: Python's own collection runs on the allocating thread."""
    assert gc.isenabled()
    gc.collect()
    cycle = _Cycle()
    threads: list[str] = []
    weakref.finalize(cycle, lambda: threads.append(threading.current_thread().name))
    del cycle
    assert _allocate_on_a_worker()
    assert threads == ["allocating worker"]
