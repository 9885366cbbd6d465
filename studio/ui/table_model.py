"""A Qt table model over a list of rows under fixed, named columns: the counting, the headers and
the reset every such table needs, so that a subclass only says what each cell shows."""
from __future__ import annotations

from typing import Any, Iterable

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt


class RowsTableModel(QAbstractTableModel):
    """Rows (usually frozen dataclasses) under ``COLUMNS``; subclasses implement ``data``."""

    COLUMNS: tuple[str, ...] = ()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[Any] = []

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None

    def set_rows(self, rows: Iterable[Any]) -> None:
        """Show ``rows`` instead of what the table held (views keep their columns)."""
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()
