"""Plain helpers of the dialog tests: a dialog closed and deleted the way the app drops it, and a
view-model's next signal that must then reach nothing of it."""
from __future__ import annotations

from typing import Any, Callable

import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QDialog


def emit_after_deleting(qtbot: Any, dialog: QDialog, emit: Callable[[], Any]) -> list[Any]:
    """Close ``dialog``, delete it (as WA_DeleteOnClose does), then run ``emit`` (the view-model's next
    signal); returns the exceptions raised in slots meanwhile: none when the dialog's bindings were
    dropped with it. The dialog must not be registered with ``qtbot.addWidget`` (it is gone)."""
    dialog.close()
    dialog.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    qtbot.waitUntil(lambda: not shiboken6.isValid(dialog))
    with qtbot.captureExceptions() as exceptions:
        emit()
    return list(exceptions)
