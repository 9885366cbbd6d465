"""Thumbnails for big grids: decoded off the GUI thread, cached on disk and as a small LRU of pixmaps.

:class:`ThumbnailLoader` takes requests (``sha256``, file path) from a list model's ``data()``;
a worker thread reads the disk thumbnail, or has a low-priority helper process make it first
(``studio.workflows.library.thumbnail_job``: Pillow's many small Python steps would otherwise hold
the GIL while the GUI thread paints), and decodes it into a QImage (safe off the GUI thread); the
GUI thread turns it into a QPixmap, keeps it in a byte-bounded LRU and says ``loaded(sha256)`` so
the model repaints that cell.
Requests are served newest first and old ones are dropped, so scrolling fast through thousands
of works only decodes what is on screen. Finished thumbnails are handed over in batches by a
GUI-thread timer (one ``loaded`` per batch, not one signal per image). :class:`GalleryDelegate`
paints a cell.
"""
from __future__ import annotations

import logging
import sys
import threading
from collections import OrderedDict, deque
from pathlib import Path
from typing import Any

from PySide6.QtCore import (QModelIndex, QObject, QPersistentModelIndex, QRect, QRunnable, QSize, Qt, QThreadPool,
                            QTimer, Signal)
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from studio.ui import theme

log = logging.getLogger(__name__)

MAX_PENDING = 384           # older requests than this are dropped (their cells scrolled away)
CACHE_BYTES = 96 << 20      # pixmaps kept in memory
HANDOVER_MS = 15            # how often finished thumbnails reach the GUI thread
HANDOVER_BATCH = 48         # at most this many per handover, so the GUI thread never stalls on them


class _Decode(QRunnable):
    """Drains the loader's request stack on one pool thread."""

    def __init__(self, loader: "ThumbnailLoader") -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._loader = loader

    def run(self) -> None:
        self._loader._drain()


class ThumbnailLoader(QObject):
    """Loads thumbnails by SHA-256 off the GUI thread and keeps the recent ones as pixmaps."""

    #: Thumbnails are ready (or failed for good): repaint the cells of these SHA-256s (a list).
    loaded = Signal(object)

    def __init__(self, cache_dir: Path, *, size: int | None = None, max_bytes: int = CACHE_BYTES,
                 threads: int = 1, processes: bool | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        from studio.workflows.library import THUMBNAIL_SIZE

        #: Missing thumbnails are made in a low-priority helper process (None: where one can start).
        self.use_processes = processes_available() if processes is None else processes
        self.cache_dir = Path(cache_dir)
        self.size = size or THUMBNAIL_SIZE
        self.max_bytes = max_bytes
        self._pixmaps: OrderedDict[str, QPixmap] = OrderedDict()
        self._bytes = 0
        self._failed: set[str] = set()
        self._lock = threading.Lock()
        self._stack: deque[tuple[str, str]] = deque()
        self._pending: set[str] = set()
        self._workers = 0
        self._max_workers = threads
        self._closed = False
        self._done: deque[tuple[str, QImage]] = deque()   # decoded by workers, not yet handed over
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(threads)
        self._handover = QTimer(self)
        self._handover.setInterval(HANDOVER_MS)
        self._handover.timeout.connect(self._hand_over)

    # -- GUI thread ---------------------------------------------------------------------

    def pixmap(self, sha256: str) -> QPixmap | None:
        """The cached pixmap (marked as recently used), or None."""
        pixmap = self._pixmaps.get(sha256)
        if pixmap is not None:
            self._pixmaps.move_to_end(sha256)
        return pixmap

    def failed(self, sha256: str) -> bool:
        """Whether this work's file could not be read for a thumbnail (missing or broken)."""
        return sha256 in self._failed

    def request(self, sha256: str, path: str) -> None:
        """Ask for a thumbnail; ``loaded`` follows when it is ready. Repeats are ignored."""
        if sha256 in self._pixmaps or sha256 in self._failed or self._closed:
            return
        with self._lock:
            if sha256 in self._pending:
                return
            self._pending.add(sha256)
            self._stack.append((sha256, path))
            while len(self._stack) > MAX_PENDING:
                dropped, _path = self._stack.popleft()
                self._pending.discard(dropped)
            start = self._workers < self._max_workers
            if start:
                self._workers += 1
        if not self._handover.isActive():
            self._handover.start()
        if start:
            self._pool.start(_Decode(self))

    def forget_pending(self) -> None:
        """Drop the requests not started yet (the grid now shows other works)."""
        with self._lock:
            for sha256, _path in self._stack:
                self._pending.discard(sha256)
            self._stack.clear()

    def forget(self, sha256: str) -> None:
        """Drop a work's pixmap and failure mark (its file changed or came back)."""
        pixmap = self._pixmaps.pop(sha256, None)
        if pixmap is not None:
            self._bytes -= _cost(pixmap)
        self._failed.discard(sha256)

    @property
    def cached_bytes(self) -> int:
        return self._bytes

    @property
    def cached_count(self) -> int:
        return len(self._pixmaps)

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Stop taking requests and wait for the running decodes (on close)."""
        self._closed = True
        self.forget_pending()
        return self._pool.waitForDone(timeout_ms)

    def _hand_over(self) -> None:
        """Turn what the workers decoded into pixmaps (GUI thread), then say so once."""
        with self._lock:
            batch = [self._done.popleft() for _ in range(min(HANDOVER_BATCH, len(self._done)))]
            idle = not self._done and not self._stack and self._workers == 0
            for sha256, _image in batch:
                self._pending.discard(sha256)
        if idle:
            self._handover.stop()
        if not batch:
            return
        for sha256, image in batch:
            if image.isNull():
                self._failed.add(sha256)
                continue
            pixmap = QPixmap.fromImage(image)
            old = self._pixmaps.pop(sha256, None)
            if old is not None:
                self._bytes -= _cost(old)
            self._pixmaps[sha256] = pixmap
            self._bytes += _cost(pixmap)
        while self._bytes > self.max_bytes and len(self._pixmaps) > 1:
            _sha, dropped = self._pixmaps.popitem(last=False)
            self._bytes -= _cost(dropped)
        self.loaded.emit([sha256 for sha256, _image in batch])

    # -- worker threads -----------------------------------------------------------------

    def _drain(self) -> None:
        from studio.workflows.library import thumbnail_path

        while True:
            with self._lock:
                if not self._stack or self._closed:
                    self._workers -= 1
                    return
                sha256, path = self._stack.pop()  # newest first: what is on screen now
            cached = thumbnail_path(self.cache_dir, sha256, self.size)
            made, problem = (str(cached), "") if cached.exists() else self._make(path, sha256)
            image = QImage(made) if made else QImage()
            if made and image.isNull():
                log.info("The cached thumbnail of %s could not be decoded", path)
            elif problem:
                log.info("No thumbnail for %s: %s", path, problem)
            with self._lock:
                self._done.append((sha256, image))

    def _make(self, path: str, sha256: str) -> tuple[str | None, str]:
        """Make a missing thumbnail: in the helper process when there is one (Pillow's Python steps
        would otherwise take the GIL from the GUI thread while it paints), else on this thread."""
        from studio.workflows.library import thumbnail_job

        helpers = _helper_pool() if self.use_processes else None
        if helpers is not None:
            try:
                return helpers.submit(thumbnail_job, path, sha256, str(self.cache_dir), self.size).result()
            except Exception as exc:  # the helper died or could not start: carry on in this process
                log.warning("The thumbnail helper process failed (%s); making thumbnails in the window's process",
                            exc)
                _drop_helper_pool(helpers)
                self.use_processes = False
        return thumbnail_job(path, sha256, str(self.cache_dir), self.size)


_helpers: Any = None
_helpers_lock = threading.Lock()


def processes_available() -> bool:
    """Whether thumbnails can be made in a helper process: not in a frozen app (its executable is the
    studio itself, which would need ``multiprocessing.freeze_support()`` at start-up)."""
    return not getattr(sys, "frozen", False)


def _helper_pool() -> Any:
    """One low-priority helper process, shared by every loader, started on the first missing thumbnail."""
    global _helpers
    with _helpers_lock:
        if _helpers is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            from studio.workflows.library import lower_priority

            _helpers = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                           initializer=lower_priority)
            import atexit

            # stopped while the interpreter is whole: left to garbage collection at exit, the
            # executor's callback runs after its modules are gone and prints a traceback
            atexit.register(_drop_helper_pool, _helpers)
        return _helpers


def _drop_helper_pool(pool: Any) -> None:
    global _helpers
    with _helpers_lock:
        if _helpers is pool:
            _helpers = None
    pool.shutdown(wait=False, cancel_futures=True)


def _cost(pixmap: QPixmap) -> int:
    return max(1, pixmap.width() * pixmap.height() * 4)


CELL = 156
CAPTION = 24
SHA256_ROLE = Qt.ItemDataRole.UserRole + 2
FAVOURITE_ROLE = Qt.ItemDataRole.UserRole + 4
#: What a cell shows, in one ``data()`` call: (title, sha256, favourite, thumbnail pixmap or None).
CELL_ROLE = Qt.ItemDataRole.UserRole + 5
CELL_CACHE_BYTES = 24 << 20  # drawn cells kept (a full screen of 1360x820 is about 40 of 0.12 MB)


#: A badge's mark, its colour and what it says (tooltips and the tests read the words).
#: badge -> (mark, its disc's theme colour, words for the tooltip); the same colours in both themes, as
#: they are drawn on the picture
BADGES = {"signed": ("✓", "BADGE_SIGNED", "signed by its creator"), "minted": ("◆", "BADGE_MINTED", "minted as a token"),
          "listed": ("$", "BADGE_LISTED", "listed for sale")}
BADGE_SIZE = 18


def badge_rects(image_rect: QRect, count: int) -> list[QRect]:
    """Where a cell's badges go: small circles along the thumbnail's bottom-left edge."""
    return [QRect(image_rect.left() + 5 + n * (BADGE_SIZE + 3), image_rect.bottom() - BADGE_SIZE - 4, BADGE_SIZE,
                  BADGE_SIZE) for n in range(count)]


class GalleryDelegate(QStyledItemDelegate):
    """A rounded thumbnail (a placeholder while it loads, a mark when the file is broken) with
    the work's title under it; an accent frame when selected.

    Each cell with its thumbnail (or its broken mark) is drawn once into a pixmap, kept in a small
    byte-bounded LRU keyed by everything it shows (work, title, favourite, the thumbnail's identity,
    selection, hover, size): repainting it while the grid scrolls is then a single unscaled blit on
    the GUI thread. Placeholders, cheap and short-lived, are drawn directly."""

    def __init__(self, loader: ThumbnailLoader, parent: QObject | None = None, *,
                 cache_bytes: int = CELL_CACHE_BYTES) -> None:
        super().__init__(parent)
        self._loader = loader
        self.cell_width = CELL  # the grid widens cells to share its width evenly
        self._cells: OrderedDict[tuple[Any, ...], QPixmap] = OrderedDict()
        self._cell_bytes = 0
        self._cache_bytes = cache_bytes

    @property
    def cached_cells(self) -> int:
        return len(self._cells)

    def clear_cache(self) -> None:
        """Forget the drawn cells (after a change of theme or font)."""
        self._cells.clear()
        self._cell_bytes = 0

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(self.cell_width, CELL + CAPTION)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        cell = index.data(CELL_ROLE)
        if cell is None:
            cell = (index.data(Qt.ItemDataRole.DisplayRole), index.data(SHA256_ROLE), index.data(FAVOURITE_ROLE),
                    index.data(Qt.ItemDataRole.DecorationRole), ())
        title, sha256, favourite, pixmap = cell[:4]
        badges = tuple(cell[4]) if len(cell) > 4 else ()
        if not isinstance(pixmap, QPixmap) or pixmap.isNull():
            pixmap = None
        state = option.state
        selected = bool(state & QStyle.StateFlag.State_Selected)
        hovered = bool(state & QStyle.StateFlag.State_MouseOver)
        failed = pixmap is None and self._loader.failed(str(sha256 or ""))
        rect: QRect = option.rect
        if pixmap is None and not failed:  # a placeholder is cheap, and gone once the thumbnail comes
            painter.save()
            try:
                self._draw(painter, rect, option, str(title or ""), bool(favourite), None, False, selected, hovered,
                           badges)
            finally:
                painter.restore()
            return
        widget = option.widget
        ratio = widget.devicePixelRatioF() if widget is not None else 1.0
        key = (sha256, title, bool(favourite), badges, pixmap.cacheKey() if pixmap is not None else None, failed,
               selected, hovered, rect.width(), rect.height(), ratio)
        drawn = self._cells.get(key)
        if drawn is None:
            drawn = QPixmap(max(1, round(rect.width() * ratio)), max(1, round(rect.height() * ratio)))
            drawn.setDevicePixelRatio(ratio)
            drawn.fill(Qt.GlobalColor.transparent)
            cell_painter = QPainter(drawn)
            try:
                self._draw(cell_painter, QRect(0, 0, rect.width(), rect.height()), option, str(title or ""),
                           bool(favourite), pixmap, failed, selected, hovered, badges)
            finally:
                cell_painter.end()
            self._cells[key] = drawn
            self._cell_bytes += drawn.width() * drawn.height() * 4
            while self._cell_bytes > self._cache_bytes and len(self._cells) > 1:
                _key, old = self._cells.popitem(last=False)
                self._cell_bytes -= old.width() * old.height() * 4
        else:
            self._cells.move_to_end(key)
        painter.drawPixmap(rect.topLeft(), drawn)

    @staticmethod
    def _draw_badges(painter: QPainter, image_rect: QRect, badges: tuple[str, ...]) -> None:
        """Signed, minted, listed: a coloured disc with a mark each, drawn into the cached cell."""
        known = [name for name in badges if name in BADGES]
        for name, spot in zip(known, badge_rects(image_rect, len(known))):
            mark, colour, _words = BADGES[name]
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(getattr(theme, colour)))
            painter.drawEllipse(spot)
            painter.setPen(QColor(theme.BADGE_TEXT))
            painter.drawText(spot, Qt.AlignmentFlag.AlignCenter, mark)

    def _draw(self, painter: QPainter, cell: QRect, option: QStyleOptionViewItem, text: str, favourite: bool,
              pixmap: QPixmap | None, failed: bool, selected: bool, hovered: bool,
              badges: tuple[str, ...] = ()) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.setFont(option.font)
        rect = cell.adjusted(5, 5, -5, -5)
        image_rect = QRect(rect.left(), rect.top(), rect.width(), rect.height() - CAPTION)
        path = QPainterPath()
        path.addRoundedRect(image_rect, 6, 6)
        painter.fillPath(path, QColor(theme.RAISED))
        if pixmap is not None:
            size = pixmap.size().scaled(image_rect.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(image_rect.left() + (image_rect.width() - size.width()) // 2,
                           image_rect.top() + (image_rect.height() - size.height()) // 2, size.width(), size.height())
            painter.setClipPath(path)
            painter.drawPixmap(target, pixmap)
            painter.setClipping(False)
        elif failed:
            painter.setPen(QColor(theme.ERROR_TEXT))
            painter.drawText(image_rect, Qt.AlignmentFlag.AlignCenter, "file missing\nor unreadable")
        if selected or hovered:
            painter.setPen(QPen(QColor(theme.ACCENT if selected else theme.BORDER), 2))
            painter.drawPath(path)
        if favourite:
            badge = QRect(image_rect.right() - 25, image_rect.top() + 5, 20, 20)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(0, 0, 0, 150))
            painter.drawEllipse(badge)
            painter.setPen(QColor(theme.WARNING_TEXT))
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, "★")
        self._draw_badges(painter, image_rect, badges)
        painter.setPen(QColor(theme.TEXT if selected else theme.MUTED))
        caption = QRect(rect.left() + 2, image_rect.bottom() + 3, rect.width() - 4, CAPTION - 3)
        painter.drawText(caption, Qt.AlignmentFlag.AlignCenter,
                         option.fontMetrics.elidedText(text or "Untitled", Qt.TextElideMode.ElideRight,
                                                       caption.width()))
