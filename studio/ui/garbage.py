"""Python's cyclic garbage collector, run from the GUI thread only.

The collector runs on whichever thread allocates when a generation's threshold is crossed: often
a worker (importing torch, loading a model). A Qt object that only a reference cycle keeps (a
parentless view-model held by a failed job's traceback, say) would then be destroyed on that
worker, off its thread: its timers cannot be stopped there, and Qt crashes. With the automatic
collection off, a GUI-thread timer collects each generation when its threshold is crossed, as
Python would (pyqtgraph's ``GarbageCollector`` does the same).
"""
from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

#: How often the GUI thread looks whether a collection is due.
CHECK_MS = 500


class GuiThreadCollector(QObject):
    """Turns Python's automatic garbage collection off and runs it from this object's thread."""

    def __init__(self, parent: QObject | None = None, *, interval_ms: int = CHECK_MS) -> None:
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        self._was_enabled = gc.isenabled()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.collect_due)
        self.timer.start()

    def collect_due(self) -> int:
        """Collect the generations whose thresholds were crossed (youngest first); returns the
        number of unreachable objects found."""
        counts = gc.get_count()
        found = 0
        for generation in range(3):
            if counts[generation] <= self.thresholds[generation]:
                break
            found += gc.collect(generation)
        return found

    def stop(self) -> None:
        """Give the collection back to Python (at exit, or when a test is done)."""
        self.timer.stop()
        if self._was_enabled:
            gc.enable()
