"""The Qt binding the studio runs on must keep Python's reference counts straight.

PySide6 6.12.0 on Python 3.11 drops a reference to None/True on every call of a method that
returns one (setters, painter calls, signal emits); a window that repaints long enough then
aborts with "none_dealloc". pyproject.toml excludes that release; this test catches the next one.
"""
from __future__ import annotations

import sys

from PySide6.QtCore import QObject, QRect, Signal


class _Probe(QObject):
    fired = Signal(int)


def test_setters_and_emits_keep_none_and_true_alive():
    rect, probe = QRect(0, 0, 1, 1), _Probe()
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(500):
        rect.setWidth(2)
        probe.fired.emit(1)
    assert sys.getrefcount(None) >= none_before - 50  # other threads may hold a few transiently
    assert sys.getrefcount(True) >= true_before - 50
