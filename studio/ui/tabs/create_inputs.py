"""The Create tab's mode and image inputs: text to image, image to image (an init image, its strength,
outpainting) or inpainting (a mask painted on the init image, and how it blends), bound to
:class:`~studio.ui.state.create_inputs.ImageInputs`."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QImage
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel,
                               QPushButton, QSpinBox, QToolButton, QVBoxLayout, QWidget)

from studio.generation.inpaint import AREAS as INPAINT_AREAS, MAX_MASK_BLUR, MAX_PADDING
from studio.ui.binding import Bindings
from studio.ui.state.create import CreateState
from studio.ui.state.jobs import IMAGE_TO_IMAGE, INPAINT, MODES
from studio.ui.tabs.create_options import OutpaintRow
from studio.ui.widgets.page_parts import column_layout, muted_label, section_label
from studio.ui.widgets.mask_canvas import MaskCanvas

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.bmp);;All files (*)"


class ImageInputsPanel(QWidget):
    """The mode, and below it what the mode starts from: the init image box, with the mask box inside."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bindings = Bindings(self)
        column = column_layout(self)
        column.addWidget(section_label("Mode"))
        self.mode_combo = QComboBox()
        for key, label in MODES.items():
            self.mode_combo.addItem(label, key)
        column.addWidget(self.mode_combo)

        self.init_box = QWidget()
        init = QVBoxLayout(self.init_box)
        init.setContentsMargins(0, 0, 0, 0)
        self.init_label = muted_label("No init image")
        self.choose_init = QPushButton("Choose image…")
        #: Connected by the tab, which knows the selected result.
        self.use_result_as_init = QPushButton("Use selected result")
        row = QHBoxLayout()
        row.addWidget(self.choose_init)
        row.addWidget(self.use_result_as_init)
        init.addWidget(self.init_label)
        init.addLayout(row)
        self.strength = QDoubleSpinBox()
        self.strength.setRange(0.01, 1.0)
        self.strength.setSingleStep(0.05)
        self.strength.setToolTip("How much of the init image is repainted: 0.3 keeps it close, 0.9 changes a lot.")
        form = QFormLayout()
        form.addRow("Strength", self.strength)
        init.addLayout(form)
        self.outpaint_row = OutpaintRow()
        init.addWidget(self.outpaint_row)
        self.mask_box = self._build_mask_box()
        init.addWidget(self.mask_box)
        column.addWidget(self.init_box)

    def _build_mask_box(self) -> QWidget:
        box = QWidget()
        mask = QVBoxLayout(box)
        mask.setContentsMargins(0, 0, 0, 0)
        mask.addWidget(muted_label("Paint over the part to repaint."))
        self.mask_canvas = MaskCanvas()
        self.mask_canvas.setMinimumHeight(220)
        mask.addWidget(self.mask_canvas)
        self.brush_size = QSpinBox()
        self.brush_size.setRange(1, 512)
        self.brush_size.setValue(self.mask_canvas.brush_size())
        self.brush_size.setSuffix(" px")
        self.brush_size.setToolTip("Brush size in image pixels")
        self.erase = QToolButton()
        self.erase.setText("Erase")
        self.erase.setCheckable(True)
        self.clear_mask = QToolButton()
        self.clear_mask.setText("Clear")
        row = QHBoxLayout()
        row.addWidget(QLabel("Brush"))
        row.addWidget(self.brush_size)
        row.addWidget(self.erase)
        row.addWidget(self.clear_mask)
        row.addStretch(1)
        mask.addLayout(row)
        self.mask_blur = QSpinBox()
        self.mask_blur.setRange(0, MAX_MASK_BLUR)
        self.mask_blur.setSuffix(" px")
        self.mask_blur.setToolTip("Softens the mask's edge so the repainted part blends in; outside the mask the "
                                  "image is kept exactly")
        self.inpaint_area = QComboBox()
        for key, label in INPAINT_AREAS.items():
            self.inpaint_area.addItem(label, key)
        self.inpaint_area.setToolTip("Only masked: the masked part, with some padding, is painted at the full "
                                     "size for more detail, then scaled back into place")
        self.inpaint_padding = QSpinBox()
        self.inpaint_padding.setRange(0, MAX_PADDING)
        self.inpaint_padding.setSuffix(" px")
        self.inpaint_padding.setToolTip("How much of the surroundings the masked part is painted with")
        options = QFormLayout()
        options.addRow("Mask blur", self.mask_blur)
        options.addRow("Inpaint area", self.inpaint_area)
        options.addRow("Padding", self.inpaint_padding)
        mask.addLayout(options)
        return box

    def bind(self, state: CreateState) -> None:
        inputs, b = state.inputs, self.bindings
        self.outpaint_row.bind(state)
        b.bind(inputs, "mode", self.mode_combo.activated, self._show_mode,
               to_state=lambda _i: self.mode_combo.currentData())
        b.bind(inputs, "init_image_path", None, self._show_init_image)
        b.bind(inputs, "strength", self.strength.valueChanged, self.strength.setValue)
        b.connect(self.choose_init.clicked, lambda: self._choose_init_image(state))
        b.bind(inputs, "mask_blur", self.mask_blur.valueChanged, self.mask_blur.setValue)
        b.bind(inputs, "inpaint_area", self.inpaint_area.currentIndexChanged, self._select_inpaint_area,
               to_state=lambda index: self.inpaint_area.itemData(index) or "whole")
        b.bind(inputs, "inpaint_padding", self.inpaint_padding.valueChanged, self.inpaint_padding.setValue)
        b.connect(self.mask_canvas.mask_changed, inputs.set_mask)
        b.connect(self.brush_size.valueChanged, self.mask_canvas.set_brush_size)
        b.connect(self.erase.toggled, self.mask_canvas.set_erasing)
        b.connect(self.clear_mask.clicked, self.mask_canvas.clear)

    def _show_mode(self, mode: str) -> None:
        self.mode_combo.setCurrentIndex(self.mode_combo.findData(mode))
        self.init_box.setVisible(mode in (IMAGE_TO_IMAGE, INPAINT))
        self.mask_box.setVisible(mode == INPAINT)
        self.outpaint_row.setVisible(mode == IMAGE_TO_IMAGE)

    def _show_init_image(self, path: str) -> None:
        self.init_label.setText(Path(path).name if path else "No init image")
        self.init_label.setToolTip(path)
        self.mask_canvas.set_image(QImage(path) if path else QImage())

    def _choose_init_image(self, state: CreateState) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose an init image", "", IMAGE_FILTER)
        if path:
            state.inputs.init_image_path = path

    def _select_inpaint_area(self, area: str) -> None:
        index = self.inpaint_area.findData(area)
        if index >= 0 and index != self.inpaint_area.currentIndex():
            self.inpaint_area.setCurrentIndex(index)
        self.inpaint_padding.setEnabled(area == "masked")
