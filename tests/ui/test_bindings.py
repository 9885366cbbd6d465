"""Bindings between a view-model's fields and widgets (studio/ui/binding.py)."""
from __future__ import annotations

import shiboken6
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel, QWidget

from studio.ui.binding import Bindings, Delegated, Field, observed


class _Model(QObject):
    text_changed = Signal(str)
    text = Field("")


class _Observed(QObject):
    seed_changed, seed = observed(0, object)


class _Owner(QObject):
    """A view-model showing its collaborator's field, as CreateState shows its prompt library's."""

    text, text_changed = Delegated.each("part", 2)

    def __init__(self) -> None:
        super().__init__()
        self.part = _Model(self)


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


def test_an_observed_field_says_each_real_change_once_even_past_a_c_int() -> None:
    model = _Observed()
    seen: list[int] = []
    model.seed_changed.connect(seen.append)
    model.seed = 2**32 - 1
    model.seed = 2**32 - 1  # the same value again: no signal
    model.seed = 5
    assert seen == [2**32 - 1, 5] and model.seed == 5 and _Observed().seed == 0


def test_a_delegated_field_is_read_written_and_bound_through_its_collaborator() -> None:
    owner = QWidget()
    state = _Owner()
    label = QLabel(owner)
    Bindings(owner).bind(state, "text", None, label.setText)
    state.text = "through the owner"
    assert state.part.text == "through the owner" and label.text() == "through the owner"
    state.part.text = "from the part"
    assert state.text == "from the part" and label.text() == "from the part"
