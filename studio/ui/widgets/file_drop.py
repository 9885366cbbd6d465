"""Dropping image files on any widget: an event filter that turns the drop into a signal.

    drop = FileDropFilter(window)
    window.installEventFilter(drop)
    drop.files_dropped.connect(lambda paths: open_verify_dialog(window, paths[0], pool))

The filter accepts a drag only when it carries local files with an image extension, so other
drags (text, a result dragged within the window) pass through to the widget untouched.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QWidget

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


def image_paths(urls: Sequence[object]) -> list[Path]:
    """The local image files among dropped URLs (QUrl objects), in order."""
    paths = []
    for url in urls:
        if not url.isLocalFile():  # type: ignore[attr-defined]
            continue
        path = Path(url.toLocalFile())  # type: ignore[attr-defined]
        if path.suffix.lower() in IMAGE_SUFFIXES:
            paths.append(path)
    return paths


class FileDropFilter(QObject):
    """Emits ``files_dropped(list[Path])`` when image files are dropped on a watched widget."""

    files_dropped = Signal(object)

    def __init__(self, parent: QObject | None = None, suffixes: Sequence[str] = IMAGE_SUFFIXES) -> None:
        super().__init__(parent)
        self.suffixes = tuple(s.lower() for s in suffixes)

    def watch(self, widget: QWidget) -> None:
        """Install on ``widget`` and let it take drops (a widget refuses drops by default)."""
        widget.setAcceptDrops(True)
        widget.installEventFilter(self)

    def _paths(self, event: QDropEvent) -> list[Path]:
        mime = event.mimeData()
        if mime is None or not mime.hasUrls():
            return []
        return [p for p in image_paths(mime.urls()) if p.suffix.lower() in self.suffixes]

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            assert isinstance(event, (QDragEnterEvent, QDragMoveEvent))
            if self._paths(event):
                event.acceptProposedAction()
                return True
            return False
        if kind == QEvent.Type.Drop:
            assert isinstance(event, QDropEvent)
            paths = self._paths(event)
            if paths:
                event.acceptProposedAction()
                self.files_dropped.emit(paths)
                return True
        return False
