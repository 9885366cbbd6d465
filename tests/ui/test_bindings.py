"""Bindings between a view-model's fields and widgets (studio/ui/binding.py)."""
from __future__ import annotations

import shiboken6
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel, QWidget

from studio.ui.binding import Bindings, Field


class _Model(QObject):
    text_changed = Signal(str)
    text = Field("")


def test_bindings_of_a_destroyed_widget_tree_are_dropped(qtbot) -> None:
    """A view-model that outlives its widgets (a job's last signal arriving while the window closes)
    never reaches a deleted label."""
    state = _Model()
    owner = QWidget()
    label = QLabel(owner)
    bindings = Bindings(owner)
    bindings.bind(state, "text", None, label.setText)
    state.text = "before"
    assert label.text() == "before"
    shiboken6.delete(owner)
    with qtbot.captureExceptions() as exceptions:
        state.text = "after"  # before: RuntimeError, "Internal C++ object (QLabel) already deleted"
    assert exceptions == [] and state.text == "after"
