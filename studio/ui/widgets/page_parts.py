"""The small parts pages are laid out with: a section's heading, a line of secondary text, a panel."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel


def section_label(text: str) -> QLabel:
    """A section's heading, in capitals."""
    label = QLabel(text.upper())
    label.setObjectName("sectionTitle")
    return label


def muted_label(text: str = "") -> QLabel:
    """A wrapping line of secondary text, shown as plain text."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setProperty("muted", True)
    return label


def panel() -> QFrame:
    """A framed panel (the theme draws it as a card)."""
    frame = QFrame()
    frame.setObjectName("panel")
    return frame
