"""A cancel token: the plain object long operations poll to stop early.

Below the UI nothing knows about Qt threads; a worker sets ``cancelled`` and the operation
checks it at its next step and raises :class:`~studio.errors.Cancelled`.
"""
from __future__ import annotations

import threading
from typing import Callable, Protocol

from studio.errors import Cancelled


class CancelToken:
    """Thread-safe flag set by whoever wants the operation to stop."""

    def __init__(self) -> None:
        self._event = threading.Event()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self) -> None:
        self._event.set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()


class Cancellable(Protocol):
    @property
    def cancelled(self) -> bool: ...


#: A progress callback: (fraction done 0..1, a short line for people).
ProgressCallback = Callable[[float, str], None]


class Progress(Protocol):
    """The one shape of a progress report: the fraction done (0..1) and a short line for people;
    the report's other fields are its details (counts, the step, a preview, the workers).

    Generation (:class:`~studio.generation.request.GenerationProgress`), journaled runs (prompt
    batches and avatar collections: :class:`~studio.workflows.journal.JournalProgress`) and batch
    mints report objects of this shape, so a bar shows any of them as
    ``bar(report.fraction, report.text)``; the simpler workflows call a :data:`ProgressCallback`."""

    @property
    def fraction(self) -> float: ...

    @property
    def text(self) -> str: ...
