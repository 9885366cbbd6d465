"""A label that shows one image scaled to fit, keeping its aspect ratio, and a hint when empty."""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class ImageView(QLabel):
    def __init__(self, empty_text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pixmap = QPixmap()
        self._empty_text = empty_text
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setMinimumSize(160, 160)
        self.setProperty("muted", True)
        self.setWordWrap(True)
        self.setText(empty_text)

    def set_image(self, image: QImage | QPixmap | None) -> None:
        if image is None or image.isNull():
            self._pixmap = QPixmap()
            self.setPixmap(QPixmap())
            self.setText(self._empty_text)
            return
        self._pixmap = image if isinstance(image, QPixmap) else QPixmap.fromImage(image)
        self._rescale()

    def has_image(self) -> bool:
        return not self._pixmap.isNull()

    def sizeHint(self) -> QSize:
        return QSize(512, 512)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if self._pixmap.isNull():
            return
        target = self.contentsRect().size()
        scaled = self._pixmap
        if self._pixmap.width() > target.width() or self._pixmap.height() > target.height() \
                or self._pixmap.width() < target.width() // 2:
            # fit large images; enlarge small ones (live previews are 1/8 size) to fill the view
            scaled = self._pixmap.scaled(target, Qt.AspectRatioMode.KeepAspectRatio,
                                         Qt.TransformationMode.SmoothTransformation)
        self.setPixmap(scaled)
