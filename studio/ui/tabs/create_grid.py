"""The Create tab's X/Y/Z plot panel: what varies along each axis and its values, and “Make plot”,
bound to :class:`~studio.ui.state.create_grid.GridPlot`."""
from __future__ import annotations

from functools import partial

from PySide6.QtWidgets import QComboBox, QGridLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from studio.ui.binding import Bindings
from studio.ui.state.create import CreateState
from studio.ui.state.create_grid import AXIS_EXAMPLES, AXIS_NAMES
from studio.workflows.grid import AXES, MAX_CELLS


class GridPlotPanel(QWidget):
    """Three axes (X, Y, Z), each a choice of what varies and a line of comma-separated values."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bindings = Bindings(self)
        self.kinds: dict[str, QComboBox] = {}
        self.values: dict[str, QLineEdit] = {}
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        grid = QGridLayout()
        grid.setColumnStretch(2, 1)
        for row, name in enumerate(AXIS_NAMES):
            kind = QComboBox()
            kind.addItem("Nothing" if name != "x" else "Choose…", "")
            for key, label in AXES.items():
                kind.addItem(label, key)
            kind.setToolTip(f"What varies along {name.upper()}")
            values = QLineEdit()
            values.setToolTip("Values separated by commas (quotes keep a comma inside a value)")
            self.kinds[name], self.values[name] = kind, values
            grid.addWidget(QLabel(name.upper()), row, 0)
            grid.addWidget(kind, row, 1)
            grid.addWidget(values, row, 2)
        column.addLayout(grid)
        self.make_button = QPushButton("Make X/Y/Z plot")
        self.make_button.setToolTip("Generate every combination of the values (one seed for all, as A1111), each "
                                    f"saved as a work, and a grid image of them (at most {MAX_CELLS} cells)")
        column.addWidget(self.make_button)

    def bind(self, state: CreateState) -> None:
        plot, b = state.plot, self.bindings
        for name in AXIS_NAMES:
            kind, values = self.kinds[name], self.values[name]
            b.bind(plot, f"{name}_kind", kind.activated, partial(self._show_kind, kind, values),
                   to_state=partial(self._kind_of, kind))
            b.bind(plot, f"{name}_values", values.textEdited, partial(self._show_text, values))
        b.connect(self.make_button.clicked, state.make_plot)

    @staticmethod
    def _show_kind(combo: QComboBox, line: QLineEdit, key: str) -> None:
        combo.setCurrentIndex(max(0, combo.findData(key)))
        line.setEnabled(bool(key))
        line.setPlaceholderText(AXIS_EXAMPLES.get(key, "") if key else "not used")

    @staticmethod
    def _kind_of(combo: QComboBox, _index: int) -> str:
        return str(combo.currentData())

    @staticmethod
    def _show_text(line: QLineEdit, text: str) -> None:
        if line.text() != text:
            line.setText(text)
