"""Text that wraps inside narrow panes without pushing them wider: file paths break after their
separators, addresses and hashes anywhere, and copying gives back the text exactly.

A QLabel never breaks inside a word, so one long path or address sets the whole pane's minimum
width and clips its buttons. `WrappingLabel` is a read-only, frameless text view that looks like a
label, wraps at word boundaries (then anywhere) and is as tall as its text.
"""
from __future__ import annotations

import math
import re
from typing import Any

from PySide6.QtCore import QMimeData, QSize, Qt
from PySide6.QtGui import QTextOption
from PySide6.QtWidgets import QFrame, QPlainTextEdit, QSizePolicy, QTextEdit, QWidget

BREAK = "\u200b"  # zero-width space: a line may break here; removed again when copied
_SEPARATORS = re.compile(r"([/\\_])(?=\S)")


def breakable(text: str) -> str:
    """``text`` with break opportunities after path separators and underscores, so that a file name
    wraps between its parts rather than inside one."""
    return _SEPARATORS.sub(lambda match: match.group(1) + BREAK, text)


def _copied(mime: QMimeData) -> QMimeData:
    clean = QMimeData()
    clean.setText(mime.text().replace(BREAK, ""))
    return clean


class PlainTextView(QPlainTextEdit):
    """A read-only plain text view whose copies leave out the break hints of `breakable`."""

    def createMimeDataFromSelection(self) -> QMimeData:
        return _copied(super().createMimeDataFromSelection())


class WrappingLabel(QTextEdit):
    """A selectable label that wraps long words instead of widening its layout."""

    def __init__(self, text: str = "", parent: QWidget | None = None, *, muted: bool = False) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setProperty("wrappingLabel", True)
        self.setProperty("muted", muted)
        self.document().setDocumentMargin(0)
        self.viewport().setAutoFillBackground(False)
        self.document().documentLayout().documentSizeChanged.connect(lambda _size: self._fit())
        self._text = ""
        self.setText(text)

    def setText(self, text: str) -> None:
        self._text = text
        self.setPlainText(breakable(text))
        self._fit()

    def text(self) -> str:
        """The text as given (without break hints)."""
        return self._text

    def textFormat(self) -> Qt.TextFormat:
        """Always plain text, as QLabel's ``PlainText``: markup in names and prompts is shown, never run."""
        return Qt.TextFormat.PlainText

    def createMimeDataFromSelection(self) -> QMimeData:
        return _copied(super().createMimeDataFromSelection())

    def _fit(self) -> None:
        self.document().setTextWidth(max(1, self.viewport().width()))
        height = math.ceil(self.document().size().height()) + self.frameWidth() * 2
        if height != self.height():
            self.setFixedHeight(max(height, self.fontMetrics().height()))

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._fit()

    def sizeHint(self) -> QSize:
        return QSize(120, self.height())

    def minimumSizeHint(self) -> QSize:
        return QSize(40, self.height())
