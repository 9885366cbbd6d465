"""The Create tab's model picker: the models listed, “Add model…” (a file or a diffusers folder, or
taking the chosen one off the list) and the files skipped, bound to
:class:`~studio.ui.state.create_models.ModelChoice`."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QWidget

from studio.generation.request import ModelInfo
from studio.ui.binding import Bindings
from studio.ui.state.create_models import ModelChoice
from studio.ui.widgets.combo import ElidedComboBox
from studio.ui.widgets.page_parts import column_layout, menu_button, muted_label, section_label

MODEL_FILE_FILTER = "Model files (*.safetensors *.ckpt);;All files (*)"


class ModelPicker(QWidget):
    """The “Model” section: its title with “Add model…”, the list, and what was skipped."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bindings = Bindings(self)
        self._choice: ModelChoice | None = None
        self.model_combo = ElidedComboBox()
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_combo.setMinimumContentsLength(12)
        self.add_model_button, menu = menu_button("Add model…")
        self.add_file_action = menu.addAction("Model file (.safetensors)…")
        self.add_folder_action = menu.addAction("Diffusers model folder…")
        menu.addSeparator()
        self.remove_model_action = menu.addAction("Remove the selected model from the list")
        column = column_layout(self)
        row = QHBoxLayout()  # the title and the add button share a line: the full label fits below
        row.addWidget(section_label("Model"))
        row.addStretch(1)
        row.addWidget(self.add_model_button)
        column.addLayout(row)
        column.addWidget(self.model_combo)
        self.skipped_label = muted_label()
        column.addWidget(self.skipped_label)

    def bind(self, choice: ModelChoice) -> None:
        b, self._choice = self.bindings, choice
        self._fill_models(choice.models)
        b.connect(choice.models_changed, self._fill_models)
        b.bind(choice, "model_name", None, self._select_model)
        b.bind(choice, "model_name", None, lambda _name: self.remove_model_action.setEnabled(
            choice.model is not None and not choice.model.is_demo))
        b.connect(self.model_combo.activated, self._on_model_chosen)
        b.bind(choice, "skipped_models", None, self._show_skipped)
        b.connect(self.add_file_action.triggered, self.choose_model_file)
        b.connect(self.add_folder_action.triggered, self.choose_model_folder)
        b.connect(self.remove_model_action.triggered, choice.remove_model)

    def _fill_models(self, models: list[ModelInfo]) -> None:
        self.model_combo.clear()
        for info in models:
            self.model_combo.addItem(info.label, info.name)
            self.model_combo.setItemData(self.model_combo.count() - 1, str(info.path), Qt.ItemDataRole.ToolTipRole)
        if self._choice is not None:
            self._select_model(self._choice.model_name)

    def _select_model(self, name: str) -> None:
        self.model_combo.setCurrentIndex(self.model_combo.findData(name))

    def _on_model_chosen(self, index: int) -> None:
        if self._choice is not None:
            self._choice.model_name = self.model_combo.itemData(index)

    def _show_skipped(self, text: str) -> None:
        self.skipped_label.setText(text)
        self.skipped_label.setVisible(bool(text))

    def choose_model_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Add a model file", "", MODEL_FILE_FILTER)
        if path and self._choice is not None:
            self._choice.add_model(path)

    def choose_model_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Add a diffusers model folder (with model_index.json)")
        if path and self._choice is not None:
            self._choice.add_model(path)
