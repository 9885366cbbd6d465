"""The progress strip: a thin bar and one line of text (``step 3/20 · image 1/2 · ETA 4 s``)."""
from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget


class ProgressStrip(QWidget):
    """Shows a fraction 0..1, or a busy bar for a fraction below 0 (loading, building the demo)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(8)
        self.label = QLabel()
        self.label.setProperty("muted", True)
        self.label.setMinimumWidth(220)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar, 1)
        layout.addWidget(self.label)

    def set_fraction(self, fraction: float) -> None:
        if fraction < 0:
            self.bar.setRange(0, 0)
        else:
            self.bar.setRange(0, 1000)
            self.bar.setValue(round(min(fraction, 1.0) * 1000))

    def set_text(self, text: str) -> None:
        self.label.setText(text)
