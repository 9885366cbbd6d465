"""A multi-line prompt box that grows with its text and submits on Ctrl+Enter."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QPlainTextEdit, QSizePolicy, QWidget


class PromptEdit(QPlainTextEdit):
    """Plain text only (pasted rich text loses its formatting); Ctrl+Enter emits ``submitted``."""

    submitted = Signal()

    def __init__(self, placeholder: str, *, min_lines: int = 2, max_lines: int = 6,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPlaceholderText(placeholder)
        self.setTabChangesFocus(True)
        self._min_lines, self._max_lines = min_lines, max_lines
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.textChanged.connect(self._fit_height)
        self._fit_height()

    def set_text_if_different(self, text: str) -> None:
        """Set the text without moving the cursor when it already matches (binding round trips)."""
        if self.toPlainText() != text:
            self.setPlainText(text)

    def _height_for(self, lines: int) -> int:
        margins = self.contentsMargins()
        return int(lines * self.fontMetrics().lineSpacing() + 2 * self.document().documentMargin()
                   + margins.top() + margins.bottom() + 6)

    def _fit_height(self) -> None:
        """Grow with the text from ``min_lines`` up to ``max_lines`` (then scroll)."""
        lines = max(self._min_lines, min(self._max_lines, int(self.document().size().height()) or 1))
        self.setFixedHeight(self._height_for(lines))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and \
                event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.submitted.emit()
            return
        super().keyPressEvent(event)
