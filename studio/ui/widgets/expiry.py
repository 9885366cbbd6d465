"""How long a Seaport listing or offer stays valid: 1 day, 7 days, 30 days, or a custom date and time.

`duration` is the seconds from the chain's latest block for a choice of days; `until` the unix time of
a custom end (None otherwise). The state turns either into the order's end time.
"""
from __future__ import annotations

import time

from PySide6.QtCore import QDateTime, QTimeZone, Signal
from PySide6.QtWidgets import QComboBox, QDateTimeEdit, QHBoxLayout, QWidget

from studio.errors import InputError

CUSTOM = "custom"
#: (label, seconds); the last entry opens the date field.
CHOICES = (("1 day", 86_400), ("7 days", 7 * 86_400), ("30 days", 30 * 86_400), ("Custom…", CUSTOM))


class ExpiryChooser(QWidget):
    """A choice of days, or a custom end (in local time; shown again in UTC by the preview)."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None, *, default: int = 7 * 86_400) -> None:
        super().__init__(parent)
        self.combo = QComboBox()
        for label, value in CHOICES:
            self.combo.addItem(label, value)
        self.combo.setCurrentIndex(max(0, self.combo.findData(default)))
        self.custom = QDateTimeEdit()
        self.custom.setCalendarPopup(True)
        self.custom.setDisplayFormat("yyyy-MM-dd HH:mm")
        start = QDateTime.currentDateTime().addDays(14)
        self.custom.setDateTime(start)
        self.custom.setMinimumDateTime(QDateTime.currentDateTime())
        self.custom.setVisible(False)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.combo)
        row.addWidget(self.custom, 1)
        self.combo.currentIndexChanged.connect(self._chosen)
        self.custom.dateTimeChanged.connect(lambda _value: self.changed.emit())

    def _chosen(self) -> None:
        self.custom.setVisible(self.combo.currentData() == CUSTOM)
        self.changed.emit()

    def choose(self, label: str) -> None:
        """Pick a choice by its label ("30 days", "Custom…")."""
        index = self.combo.findText(label)
        if index < 0:
            raise ValueError(label)
        self.combo.setCurrentIndex(index)

    def set_custom(self, unix_time: int) -> None:
        self.choose("Custom…")
        self.custom.setDateTime(QDateTime.fromSecsSinceEpoch(int(unix_time), QTimeZone.utc()).toLocalTime())

    @property
    def duration(self) -> int | None:
        value = self.combo.currentData()
        return None if value == CUSTOM else int(value)

    @property
    def until(self) -> int | None:
        """The custom end as unix seconds (None for a choice of days); InputError when it is not ahead."""
        if self.combo.currentData() != CUSTOM:
            return None
        end = int(self.custom.dateTime().toSecsSinceEpoch())
        if end <= time.time() + 60:
            raise InputError("The custom end must be at least a minute from now.")
        return end

    def text(self) -> str:
        """What is chosen, in words."""
        if self.combo.currentData() != CUSTOM:
            return self.combo.currentText()
        return "until " + self.custom.dateTime().toString("yyyy-MM-dd HH:mm")
