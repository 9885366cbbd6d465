"""Paint an inpainting mask over the init image: a round brush, an eraser, and clear.

The mask is a grayscale image of the init image's size (white = repaint), shown as a translucent
accent overlay. Brush sizes are in image pixels, so strokes mean the same at any zoom.
"""
from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from studio.ui import theme


class MaskCanvas(QWidget):
    """Shows the init image and lets the user paint the mask with the mouse."""

    mask_changed = Signal(QImage)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image = QImage()
        self._mask = QImage()
        self._brush = 24
        self._erasing = False
        self._last: QPointF | None = None
        self.setMinimumSize(160, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.CrossCursor)

    # -- state --------------------------------------------------------------------------

    def set_image(self, image: QImage) -> None:
        """Show ``image`` and start an empty mask of its size (a null image clears both)."""
        self._image = QImage(image)
        if image.isNull():
            self._mask = QImage()
        else:
            self._mask = QImage(image.size(), QImage.Format.Format_Grayscale8)
            self._mask.fill(0)
        self.update()
        self.mask_changed.emit(QImage(self._mask))

    def mask_image(self) -> QImage:
        return QImage(self._mask)

    def brush_size(self) -> int:
        return self._brush

    def set_brush_size(self, size: int) -> None:
        self._brush = max(1, int(size))

    def set_erasing(self, erasing: bool) -> None:
        self._erasing = bool(erasing)

    def is_erasing(self) -> bool:
        return self._erasing

    def clear(self) -> None:
        if not self._mask.isNull():
            self._mask.fill(0)
            self.update()
            self.mask_changed.emit(QImage(self._mask))

    def sizeHint(self) -> QSize:
        return QSize(300, 300)

    # -- geometry -----------------------------------------------------------------------

    def _target(self) -> QRectF:
        """Where the image is drawn: fitted into the widget, centred."""
        if self._image.isNull():
            return QRectF()
        scale = min(self.width() / self._image.width(), self.height() / self._image.height())
        w, h = self._image.width() * scale, self._image.height() * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def to_image(self, point: QPointF | QPoint) -> QPointF:
        target = self._target()
        scale = self._image.width() / target.width()
        return QPointF((point.x() - target.left()) * scale, (point.y() - target.top()) * scale)

    # -- painting the mask --------------------------------------------------------------

    def paint_stroke(self, start: QPointF, end: QPointF) -> None:
        """Paint (or erase) a stroke between two points in image coordinates."""
        if self._mask.isNull():
            return
        painter = QPainter(self._mask)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        colour = QColor(0, 0, 0) if self._erasing else QColor(255, 255, 255)
        painter.setPen(QPen(colour, self._brush, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                            Qt.PenJoinStyle.RoundJoin))
        if start == end:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QBrush(colour))
            painter.drawEllipse(start, self._brush / 2, self._brush / 2)
        else:
            painter.drawLine(start, end)
        painter.end()
        self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and not self._mask.isNull():
            self._last = self.to_image(event.position())
            self.paint_stroke(self._last, self._last)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._last is not None:
            point = self.to_image(event.position())
            self.paint_stroke(self._last, point)
            self._last = point

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._last is not None:
            self._last = None
            self.mask_changed.emit(QImage(self._mask))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(theme.RAISED))
        if self._image.isNull():
            painter.setPen(QColor(theme.MUTED))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             "Choose an init image to paint a mask on")
            return
        target = self._target()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(target, self._image)
        overlay = QImage(self._mask.size(), QImage.Format.Format_ARGB32)
        overlay.fill(QColor(theme.ACCENT))
        overlay.setAlphaChannel(self._mask)
        painter.setOpacity(0.55)
        painter.drawImage(target, overlay)
