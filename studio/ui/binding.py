"""View-model properties with change signals, and two-way bindings between such a property and a
widget, kept together and dropped together.

As in krita-ai-diffusion's ``bind(model, "strength", slider, "value")``: a tab lists all its
bindings in one method, and :meth:`Bindings.clear` disconnects them when the view-model changes.
"""
from __future__ import annotations

import warnings
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal, SignalInstance


class Field:
    """A view-model property that emits ``<name>_changed(value)`` when it really changes: declare
    ``prompt = Field("")`` next to ``prompt_changed = Signal(str)`` on a QObject, or both at once
    with :func:`observed`."""

    def __init__(self, default: Any) -> None:
        self.default = default

    def __set_name__(self, owner: type, name: str) -> None:
        self.name, self.signal = name, f"{name}_changed"

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return obj.__dict__.get(self.name, self.default)

    def __set__(self, obj: Any, value: Any) -> None:
        if obj.__dict__.get(self.name, self.default) != value:
            obj.__dict__[self.name] = value
            getattr(obj, self.signal).emit(value)


def observed(default: Any, kind: type) -> tuple[Signal, Field]:
    """A Field and its change signal in one declaration, the signal first:
    ``prompt_changed, prompt = observed("", str)`` (a seed's kind is ``object``: seeds pass a C int)."""
    return Signal(kind), Field(default)


class Delegated:
    """An attribute of a collaborator, shown on the view-model that owns it, for widgets bound to the
    owner: ``styles = Delegated("prompts")`` makes ``state.styles`` read and write ``state.prompts.styles``
    (a signal, a method or a Field alike)."""

    def __init__(self, collaborator: str) -> None:
        self.collaborator = collaborator

    @classmethod
    def each(cls, collaborator: str, count: int) -> tuple["Delegated", ...]:
        """``count`` of them, to unpack into as many names: ``a, b = Delegated.each("prompts", 2)``."""
        return tuple(cls(collaborator) for _ in range(count))

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return getattr(getattr(obj, self.collaborator), self.name)

    def __set__(self, obj: Any, value: Any) -> None:
        setattr(getattr(obj, self.collaborator), self.name, value)


class Bindings:
    """The connections of one widget tree to one view-model.

    Given the tree's ``owner`` widget, they are dropped when it is destroyed: a view-model that
    outlives its widgets (a job's last signal arriving while the window closes) never reaches a
    deleted widget."""

    def __init__(self, owner: QObject | None = None) -> None:
        self._connections: list[tuple[SignalInstance, Callable[..., Any]]] = []
        if owner is not None:
            owner.destroyed.connect(self.clear)

    def connect(self, signal: SignalInstance, slot: Callable[..., Any]) -> None:
        signal.connect(slot)
        self._connections.append((signal, slot))

    def bind(self, state: QObject, name: str, widget_signal: SignalInstance | None,
             set_widget: Callable[[Any], None], *, to_state: Callable[..., Any] = lambda v: v,
             to_widget: Callable[[Any], Any] = lambda v: v) -> None:
        """Keep ``state.<name>`` and a widget in step: the state's ``<name>_changed`` updates the
        widget, the widget's ``widget_signal`` (None: read-only) writes the state."""
        set_widget(to_widget(getattr(state, name)))
        self.connect(getattr(state, f"{name}_changed"), lambda value: set_widget(to_widget(value)))
        if widget_signal is not None:
            def write(*args: Any) -> None:
                value = to_state(*args)
                if getattr(state, name) != value:
                    setattr(state, name, value)

            self.connect(widget_signal, write)

    def clear(self) -> None:
        with warnings.catch_warnings():  # PySide warns (not raises) for a connection Qt already dropped
            warnings.simplefilter("ignore", RuntimeWarning)
            for signal, slot in self._connections:
                try:
                    signal.disconnect(slot)
                except (RuntimeError, TypeError, SystemError):  # already gone with its object
                    pass
        self._connections.clear()
