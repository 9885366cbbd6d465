"""The card a tab shows while it has nothing to show yet: a title, what to do, and buttons for it."""
from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QStackedWidget, QVBoxLayout, QWidget


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


def empty_or_workspace(tab: QWidget, empty: QWidget, workspace: QWidget) -> QStackedWidget:
    """Fill ``tab`` with a stack of its empty-state page (index 0) and its workspace (index 1),
    the tab's bindings choosing which one shows."""
    stack = QStackedWidget()
    stack.addWidget(empty)
    stack.addWidget(workspace)
    layout = QVBoxLayout(tab)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(stack)
    return stack
