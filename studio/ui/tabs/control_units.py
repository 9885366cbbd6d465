"""The Create tab's ControlNet section: one box per control unit (model, picture, preprocessor,
weight, start/end, canny thresholds, and the thumbnail of the map its preprocessor makes; a picture
dropped on the box becomes its picture), and a button that adds a unit. Each box binds to its :class:`ControlUnitState`; the panel follows the list."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QFrame, QHBoxLayout, QLabel, QMenu,
                               QPushButton, QSpinBox, QToolButton, QVBoxLayout, QWidget)

from studio.generation.preprocessors import PREPROCESSORS
from studio.ui.binding import Bindings
from studio.ui.state.control_units import MAP_THUMBNAIL_SIDE, MAX_UNITS, ControlUnits, ControlUnitState
from studio.ui.widgets.file_drop import FileDropFilter

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.bmp);;All files (*)"
CONTROL_FILTER = "ControlNet or T2I-Adapter (*.safetensors);;All files (*)"
PREPROCESSOR_LABELS = {"none": "None (a ready map)", "canny": "Canny edges", "lineart": "Line art", "tile": "Tile",
                       "depth": "Depth (needs its model)", "pose": "Pose (needs its model)"}


def _fraction_spin(tooltip: str) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(0.0, 1.0)
    spin.setSingleStep(0.05)
    spin.setToolTip(tooltip)
    return spin


def _threshold_spin(tooltip: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(0, 255 * 4)
    spin.setSingleStep(10)
    spin.setToolTip(tooltip)
    return spin


class ControlUnitBox(QFrame):
    """One unit's fields and its map."""

    def __init__(self, unit: ControlUnitState, units: ControlUnits, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.unit = unit
        self.bindings = Bindings(self)
        column = QVBoxLayout(self)
        column.setContentsMargins(8, 6, 8, 8)
        column.setSpacing(4)

        self.title = QLabel()
        self.title.setObjectName("sectionTitle")
        self.model_label = QLabel()
        self.model_label.setProperty("muted", True)
        self.choose_model = QToolButton()
        self.choose_model.setText("Model…")
        self.choose_model.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.choose_model)
        self.model_file_action = menu.addAction("ControlNet or T2I-Adapter file (.safetensors)…")
        self.model_folder_action = menu.addAction("Diffusers model folder…")
        self.choose_model.setMenu(menu)
        self.remove_button = QToolButton()
        self.remove_button.setText("✕")
        self.remove_button.setToolTip("Remove this unit")
        row = QHBoxLayout()
        row.addWidget(self.title)
        row.addWidget(self.model_label, 1)
        row.addWidget(self.choose_model)
        row.addWidget(self.remove_button)
        column.addLayout(row)

        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        self.choose_image = QPushButton()
        self.choose_image.setToolTip("The picture the unit reads: an edge map, a depth map or any image to preprocess "
                                     "(or drop one on the unit)")
        self.preprocessor = QComboBox()
        for key in PREPROCESSORS:
            self.preprocessor.addItem(PREPROCESSOR_LABELS.get(key, key.capitalize()), key)
        self.preprocessor.setToolTip("How the picture becomes the map the model reads")
        self.weight = QDoubleSpinBox()
        self.weight.setRange(0.0, 2.0)
        self.weight.setSingleStep(0.05)
        self.weight.setToolTip("How strongly the map guides the image (1 is usual)")
        self.start = _fraction_spin("Where in the sampling the unit begins to act (0: from the first step)")
        self.end = _fraction_spin("Where in the sampling the unit stops acting (1: to the last step)")
        steps = QHBoxLayout()
        steps.addWidget(self.start, 1)
        steps.addWidget(QLabel("to"))
        steps.addWidget(self.end, 1)
        self.low_threshold = _threshold_spin("Canny's low threshold: weaker edges joined to strong ones are kept")
        self.high_threshold = _threshold_spin("Canny's high threshold: edges at least this strong are kept")
        self.thresholds = QWidget()
        thresholds = QHBoxLayout(self.thresholds)
        thresholds.setContentsMargins(0, 0, 0, 0)
        thresholds.addWidget(self.low_threshold, 1)
        thresholds.addWidget(QLabel("to"))
        thresholds.addWidget(self.high_threshold, 1)
        form.addRow("Picture", self.choose_image)
        form.addRow("Preprocessor", self.preprocessor)
        self.thresholds_label = QLabel("Thresholds")
        form.addRow(self.thresholds_label, self.thresholds)
        form.addRow("Weight", self.weight)
        form.addRow("Acts from", steps)
        column.addLayout(form)

        self.map_view = QLabel()
        self.map_view.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.map_view.setMaximumSize(MAP_THUMBNAIL_SIDE, MAP_THUMBNAIL_SIDE)
        self.map_view.setToolTip("The control map the model reads (made at the generation's size when it runs)")
        self.map_status = QLabel()
        self.map_status.setProperty("muted", True)
        self.map_error_box = QFrame()
        self.map_error_box.setObjectName("errorBanner")
        error_row = QHBoxLayout(self.map_error_box)
        error_row.setContentsMargins(8, 6, 8, 6)
        self.map_error = QLabel()
        self.map_error.setWordWrap(True)
        self.map_error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        error_row.addWidget(self.map_error)
        column.addWidget(self.map_view, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addWidget(self.map_status)
        column.addWidget(self.map_error_box)
        self.drop = FileDropFilter(self)  # a picture dropped on the unit is its picture, not a file to verify
        self.drop.watch(self)
        self._bind(unit, units)

    def _bind(self, unit: ControlUnitState, units: ControlUnits) -> None:
        b = self.bindings
        b.bind(unit, "number", None, lambda number: self.title.setText(f"UNIT {number}"))
        b.bind(unit, "model", None, self._show_model)
        b.bind(unit, "image", None, lambda path: self.choose_image.setText(Path(path).name if path
                                                                          else "Choose a picture…"))
        b.bind(unit, "preprocessor", self.preprocessor.activated,
               lambda key: self.preprocessor.setCurrentIndex(max(0, self.preprocessor.findData(key))),
               to_state=lambda _i: self.preprocessor.currentData())
        b.bind(unit, "preprocessor", None, self._show_thresholds)
        b.bind(unit, "weight", self.weight.valueChanged, self.weight.setValue)
        b.bind(unit, "start", self.start.valueChanged, self.start.setValue)
        b.bind(unit, "end", self.end.valueChanged, self.end.setValue)
        b.bind(unit, "low_threshold", self.low_threshold.valueChanged, self.low_threshold.setValue)
        b.bind(unit, "high_threshold", self.high_threshold.valueChanged, self.high_threshold.setValue)
        b.bind(unit, "map_image", None, self._show_map)
        b.bind(unit, "map_busy", None, lambda _busy: self._show_status(unit))
        b.bind(unit, "image", None, lambda _path: self._show_status(unit))
        b.bind(unit, "map_error", None, self._show_error)
        b.connect(self.model_file_action.triggered, lambda: self._choose_model(unit, folder=False))
        b.connect(self.model_folder_action.triggered, lambda: self._choose_model(unit, folder=True))
        b.connect(self.choose_image.clicked, lambda: self._choose_image(unit))
        b.connect(self.drop.files_dropped, lambda paths: setattr(unit, "image", str(paths[0])))
        b.connect(self.remove_button.clicked, lambda: units.remove(unit))

    def _show_model(self, path: str) -> None:
        self.model_label.setText(Path(path).name if path else "no model chosen")
        self.model_label.setToolTip(path)

    def _show_thresholds(self, preprocessor: str) -> None:
        self.thresholds.setVisible(preprocessor == "canny")
        self.thresholds_label.setVisible(preprocessor == "canny")

    def _show_map(self, image: QImage | None) -> None:
        if image is None or image.isNull():
            self.map_view.clear()
            self.map_view.setVisible(False)
            return
        self.map_view.setPixmap(QPixmap.fromImage(image))
        self.map_view.setVisible(True)

    def _show_status(self, unit: ControlUnitState) -> None:
        text = "Making the map…" if unit.map_busy else ("" if unit.image else "Choose a picture to see its map.")
        self.map_status.setText(text)
        self.map_status.setVisible(bool(text))

    def _show_error(self, message: str) -> None:
        self.map_error.setText(message)
        self.map_error_box.setVisible(bool(message))

    def _choose_model(self, unit: ControlUnitState, *, folder: bool) -> None:
        if folder:
            path = QFileDialog.getExistingDirectory(self, "Choose a ControlNet or T2I-Adapter folder (diffusers)")
        else:
            path, _ = QFileDialog.getOpenFileName(self, "Choose a ControlNet or T2I-Adapter model", "",
                                                  CONTROL_FILTER)
        if path:
            unit.model = path

    def _choose_image(self, unit: ControlUnitState) -> None:
        path, _ = QFileDialog.getOpenFileName(self, f"Choose the picture of unit {unit.number}", "", IMAGE_FILTER)
        if path:
            unit.image = path


class ControlUnitsPanel(QWidget):
    """The units, one box each, and "Add a unit"; follows :class:`ControlUnits`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bindings = Bindings(self)
        self.boxes: dict[ControlUnitState, ControlUnitBox] = {}
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(6)
        self.empty_label = QLabel("No unit: add one to guide the image by a picture's edges, lines or depth.")
        self.empty_label.setProperty("muted", True)
        self.empty_label.setWordWrap(True)
        self.box_column = QVBoxLayout()
        self.box_column.setContentsMargins(0, 0, 0, 0)
        self.box_column.setSpacing(6)
        self.add_button = QPushButton("Add a ControlNet unit")
        self.add_button.setToolTip(f"Units guide the image together (up to {MAX_UNITS}), each by its own picture")
        column.addWidget(self.empty_label)
        column.addLayout(self.box_column)
        column.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignLeft)

    def bind(self, units: ControlUnits) -> None:
        self.bindings.connect(units.units_changed, lambda items: self._show(units, items))
        self.bindings.connect(self.add_button.clicked, lambda: units.add())
        self._show(units, units.items)

    def box(self, index: int) -> ControlUnitBox:
        """The box of the ``index``-th unit (0-based), in the order shown."""
        return [box for unit, box in sorted(self.boxes.items(), key=lambda pair: pair[0].number)][index]

    def _show(self, units: ControlUnits, items: tuple[ControlUnitState, ...]) -> None:
        for key in [key for key in self.boxes if key not in items]:
            box = self.boxes.pop(key)
            self.box_column.removeWidget(box)
            box.hide()
            box.deleteLater()
        for position, unit in enumerate(items):
            if unit not in self.boxes:
                self.boxes[unit] = ControlUnitBox(unit, units)
            self.box_column.insertWidget(position, self.boxes[unit])
        self.empty_label.setVisible(not items)
        self.add_button.setEnabled(units.can_add())
