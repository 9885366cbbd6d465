"""A tab's error or warning line: selectable plain text with a close button, hidden when empty."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

from studio.text import printable


class Banner(QFrame):
    """An error or warning line inside a tab, with a close button; hidden when empty.

    ``object_name`` picks the theme's look (``errorBanner``, ``warningBanner``). With
    ``dismiss_hides`` the close button empties it; without, the tab binds the button (usually to
    clear the view-model's message, which then empties the banner)."""

    def __init__(self, object_name: str, parent: QWidget | None = None, *, dismiss_hides: bool = False) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # messages quote names from files and contracts
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip("Dismiss")
        if dismiss_hides:
            self.close_button.clicked.connect(lambda: self.show_text(""))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.setVisible(False)

    def show_text(self, text: str) -> None:
        self.label.setText(printable(text or "", multiline=True))
        self.setVisible(bool(text))
