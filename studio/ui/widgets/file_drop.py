"""Dropping image files on any widget: an event filter that turns the drop into a signal.

    drop = FileDropFilter(window)
    window.installEventFilter(drop)
    drop.files_dropped.connect(lambda paths: open_verify_dialog(window, paths[0], pool))

The filter takes drags that carry local files; other drags (text, a result dragged within the
window) pass through to the widget untouched. Files that are not images are not silently ignored:
``files_refused`` names them, so the window can say why nothing opened.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QWidget

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


def local_paths(urls: Sequence[object]) -> list[Path]:
    """The local files among dropped URLs (QUrl objects), in order."""
    return [Path(url.toLocalFile()) for url in urls if url.isLocalFile()]  # type: ignore[attr-defined]


def image_paths(urls: Sequence[object]) -> list[Path]:
    """The local image files among dropped URLs (QUrl objects), in order."""
    return [path for path in local_paths(urls) if path.suffix.lower() in IMAGE_SUFFIXES]


def refused_text(paths: Sequence[Path]) -> str:
    """Why dropped files did not open, for the status bar."""
    names = ", ".join(path.name for path in paths[:3]) + (" …" if len(paths) > 3 else "")
    return (f"Not opened: {names} {'is not an image' if len(paths) == 1 else 'are not images'}. Drop a PNG, JPEG "
            "or WebP work to verify its provenance.")


class FileDropFilter(QObject):
    """Emits ``files_dropped(list[Path])`` when image files are dropped on a watched widget."""

    files_dropped = Signal(object)
    #: Local files were dropped, none of them an image: list[Path].
    files_refused = Signal(object)

    def __init__(self, parent: QObject | None = None, suffixes: Sequence[str] = IMAGE_SUFFIXES) -> None:
        super().__init__(parent)
        self.suffixes = tuple(s.lower() for s in suffixes)

    def watch(self, widget: QWidget) -> None:
        """Install on ``widget`` and let it take drops (a widget refuses drops by default)."""
        widget.setAcceptDrops(True)
        widget.installEventFilter(self)

    def _files(self, event: QDropEvent) -> list[Path]:
        mime = event.mimeData()
        if mime is None or not mime.hasUrls():
            return []
        return local_paths(mime.urls())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            assert isinstance(event, (QDragEnterEvent, QDragMoveEvent))
            if self._files(event):
                event.acceptProposedAction()
                return True
            return False
        if kind == QEvent.Type.Drop:
            assert isinstance(event, QDropEvent)
            files = self._files(event)
            if not files:
                return False
            event.acceptProposedAction()
            images = [path for path in files if path.suffix.lower() in self.suffixes]
            if images:
                self.files_dropped.emit(images)
            else:
                self.files_refused.emit(files)
            return True
        return False
