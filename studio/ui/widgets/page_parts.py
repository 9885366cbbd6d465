"""The small parts pages are laid out with: titles and labels, a panel, a column."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QMenu, QToolButton, QVBoxLayout, QWidget


def title_label(text: str) -> QLabel:
    """A page's title."""
    label = QLabel(text)
    label.setObjectName("heroTitle")
    return label


def section_label(text: str) -> QLabel:
    """A section's heading, in capitals."""
    label = QLabel(text.upper())
    label.setObjectName("sectionTitle")
    return label


def _wrapping_label(text: str) -> QLabel:
    """Plain text (names come from files and contracts), wrapped."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    return label


def muted_label(text: str = "") -> QLabel:
    """A wrapping line of secondary text, shown as plain text."""
    label = _wrapping_label(text)
    label.setProperty("muted", True)
    return label


def selectable_label(text: str = "") -> QLabel:
    """A wrapping plain-text label the mouse can select."""
    label = _wrapping_label(text)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label

def panel() -> QFrame:
    """A framed panel (the theme draws it as a card)."""
    frame = QFrame()
    frame.setObjectName("panel")
    return frame



def menu_button(text: str) -> tuple[QToolButton, QMenu]:
    """A tool button that opens its menu at once (“Add model…”), and the menu to fill."""
    button = QToolButton()
    button.setText(text)
    button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
    menu = QMenu(button)
    button.setMenu(menu)
    return button, menu


def column_layout(widget: QWidget, margins: tuple[int, int, int, int] = (0, 0, 0, 0), spacing: int = 6) -> QVBoxLayout:
    """A vertical layout on ``widget``, flush with its edges unless ``margins`` (left, top, right, bottom)."""
    layout = QVBoxLayout(widget)
    layout.setContentsMargins(*margins)
    layout.setSpacing(spacing)
    return layout
