"""A tab's page that makes its content (view-model and widgets) the first time it is needed.

The main window shows one tab at start; building the others then would only delay the window
(reading trait tables, opening the wallet's files, importing the market's modules). Each is
built when it is first shown, or when something asks for it (``ensure``).
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget


class LazyPage(QWidget):
    """Holds ``build()``'s widget once it was made: on the page's first show, or on ``ensure()``."""

    def __init__(self, build: Callable[[], QWidget], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._build = build
        self.content: QWidget | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

    @property
    def built(self) -> bool:
        return self.content is not None

    def ensure(self) -> QWidget:
        """The content, made now if it was not yet."""
        if self.content is None:
            content = self._build()
            self.content = content
            layout = self.layout()
            assert layout is not None
            layout.addWidget(content)
        return self.content

    def showEvent(self, event: QShowEvent) -> None:
        self.ensure()
        super().showEvent(event)
