"""Moving pixels between PIL (what the core speaks) and QImage (what Qt paints).

QImage is safe to build on worker threads (QPixmap is not), so previews and thumbnails are
converted there and only turned into pixmaps by the widgets.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

THUMBNAIL_SIZE = 192


def pil_to_qimage(image: Any) -> QImage:
    """A deep copy of a PIL image as an RGBA QImage."""
    rgba = image.convert("RGBA")
    data = rgba.tobytes("raw", "RGBA")
    qimage = QImage(data, rgba.width, rgba.height, rgba.width * 4, QImage.Format.Format_RGBA8888)
    return qimage.copy()  # detach from ``data``, which Python frees


def qimage_to_pil_mask(qimage: QImage) -> Any:
    """A QImage mask (white = repaint) as a PIL ``L`` image of the same size."""
    from PIL import Image

    gray = qimage.convertToFormat(QImage.Format.Format_Grayscale8)
    width, height, stride = gray.width(), gray.height(), gray.bytesPerLine()
    raw = bytes(gray.constBits())[: stride * height]
    return Image.frombuffer("L", (width, height), raw, "raw", "L", stride, 1).copy()


def load_thumbnail(path: Path, size: int = THUMBNAIL_SIZE) -> QImage:
    """The image at ``path`` scaled to fit ``size`` pixels (a null QImage when unreadable)."""
    image = QImage(str(path))
    if image.isNull():
        return image
    return image.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                        Qt.TransformationMode.SmoothTransformation)
