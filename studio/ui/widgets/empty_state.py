"""The card a tab shows while it has nothing to show yet: a title, what to do, and buttons for it."""
from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget


def empty_state_page(title: str, text: QLabel | str, *, left: Sequence[QPushButton] = (),
                     right: Sequence[QPushButton] = ()) -> QWidget:
    """A page with the card centred a little above the middle; ``left``/``right``: its buttons
    (the main action goes last on the right; mark it with the ``accent`` property)."""
    page = QWidget()
    card = QFrame()
    card.setObjectName("panel")
    card.setMaximumWidth(620)
    heading = QLabel(title)
    heading.setObjectName("heroTitle")
    if isinstance(text, str):
        text = QLabel(text)
        text.setTextFormat(Qt.TextFormat.PlainText)
    text.setWordWrap(True)
    buttons = QHBoxLayout()
    for button in left:
        buttons.addWidget(button)
    buttons.addStretch(1)
    for button in right:
        buttons.addWidget(button)
    inner = QVBoxLayout(card)
    inner.setContentsMargins(28, 24, 28, 24)
    inner.setSpacing(14)
    inner.addWidget(heading)
    inner.addWidget(text)
    inner.addLayout(buttons)
    row = QHBoxLayout()
    row.addStretch(1)
    row.addWidget(card, 2)
    row.addStretch(1)
    outer = QVBoxLayout(page)
    outer.addStretch(1)
    outer.addLayout(row)
    outer.addStretch(2)
    return page
