"""The Avatars tab: Single (preset, prompt, optional photo), Character sheet (reference → a grid to
pick from) and Collection (trait table editor, count, seed, template, progress, the collection's
avatars, rarity, "Mint collection…"). A live preview shows the avatar forming; every avatar is
also in the Gallery. Single and Character sheet also choose an identity-preserving IP-Adapter
found in the models folders, its scale, and (FaceID-type adapters) the InsightFace licence
acknowledgement. All bindings to :class:`AvatarsState` are in :meth:`AvatarsTab.bind`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QButtonGroup, QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog,
                               QFormLayout, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPlainTextEdit, QPushButton,
                               QScrollArea, QSpinBox, QSplitter, QStackedWidget, QTableView, QTableWidget,
                               QTableWidgetItem, QToolButton, QVBoxLayout, QWidget)

from studio.ui.binding import Bindings
from studio.ui.state.avatars import COLLECTION, MODES, SHEET, SINGLE, AvatarsState
from studio.ui.tabs.create import Banner
from studio.ui.tabs.create_inputs import IMAGE_FILTER
from studio.ui.widgets.page_parts import muted_label as _muted, panel as _panel, section_label as _section
from studio.ui.widgets.image_grid import ImageGrid
from studio.ui.widgets.progress import ProgressStrip

#: The columns of a cluster run's worker table.
WORKER_COLUMNS = ("Worker", "Where", "State", "Made", "Lost / failed")

TRAITS_FILTER = "Trait tables (*.yaml *.yml *.json);;All files (*)"
PREVIEW_SIZE = 72
NO_ADAPTER = "None"
FAMILY_LABELS = {"sd1": "SD 1.5", "sdxl": "SDXL"}
MIN_ADAPTER_SCALE, MAX_ADAPTER_SCALE = 0.0, 2.0   # as studio.generation.ip_adapter checks them


def adapter_label(adapter: Any) -> str:
    """An adapter as the drop-down shows it: its file name (no extension), what kind it is and its model family."""
    lower = adapter.name.lower()
    if adapter.face_id:
        kind = "FaceID, non-commercial"
    elif "face" in lower:
        kind = "face"
    else:
        kind = "IP-Adapter"
    family = FAMILY_LABELS.get(adapter.family or "", "any model")
    return f"{adapter.path.stem} ({kind}, {family})"


def _scrolling(panel: QWidget) -> QScrollArea:
    """``panel`` in a scroll area: the licence notice must never be clipped on a short window."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setWidget(panel)
    return area


@dataclass
class AdapterControls:
    """The IP-Adapter rows of one form (Single or Character sheet), bound to the same state fields."""

    form: QFormLayout
    combo: QComboBox
    scale_spin: QDoubleSpinBox
    only_check: QCheckBox
    licence_label: QLabel
    licence_check: QCheckBox

    @classmethod
    def add_to(cls, form: QFormLayout, notice: str, picture: str) -> "AdapterControls":
        combo = QComboBox()
        scale = QDoubleSpinBox()
        scale.setRange(MIN_ADAPTER_SCALE, MAX_ADAPTER_SCALE)
        scale.setSingleStep(0.05)
        scale.setDecimals(2)
        scale.setToolTip("How strongly the adapter follows the picture: about 0.6 keeps a likeness "
                         "and still follows the description")
        only = QCheckBox(f"Use the {picture} only through the adapter")
        only.setToolTip(f"Start from noise, guided by the {picture} through the adapter "
                        "(the strength is then not used)")
        label = _muted(notice)
        label.setObjectName("licenceNotice")
        check = QCheckBox("I accept the non-commercial InsightFace licence")
        form.addRow("Adapter", combo)
        form.addRow("Adapter scale", scale)
        form.addRow(only)
        form.addRow(label)
        form.addRow(check)
        return cls(form, combo, scale, only, label, check)

    def fill(self, choices: tuple[Any, ...], current: str) -> None:
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItem(NO_ADAPTER, "")
        for adapter in choices:
            self.combo.addItem(adapter_label(adapter), adapter.name)
            self.combo.setItemData(self.combo.count() - 1, str(adapter.path), Qt.ItemDataRole.ToolTipRole)
        self.combo.view().setMinimumWidth(self.combo.view().sizeHintForColumn(0) + 24)
        self.combo.blockSignals(False)
        self.combo.setEnabled(bool(choices))
        self.select(current, choices)

    def select(self, name: str, choices: tuple[Any, ...]) -> None:
        index = max(self.combo.findData(name), 0)
        if index != self.combo.currentIndex():
            self.combo.blockSignals(True)
            self.combo.setCurrentIndex(index)
            self.combo.blockSignals(False)
        chosen = next((a for a in choices if a.name == name), None)
        self.combo.setToolTip(f"{self.combo.currentText()}\n{chosen.path}" if chosen is not None else
                              "An identity-preserving adapter reads the picture as a reference "
                              "(found in the models folders; nothing is downloaded)")
        face_id = chosen is not None and chosen.face_id
        self.scale_spin.setEnabled(chosen is not None)
        self.only_check.setEnabled(chosen is not None)
        self.form.setRowVisible(self.licence_label, face_id)
        self.form.setRowVisible(self.licence_check, face_id)


class AvatarsTab(QWidget):
    """The widgets of the Avatars tab, observing one :class:`AvatarsState`."""

    def __init__(self, state: AvatarsState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.bindings = Bindings()
        self.error_banner = Banner("errorBanner")
        self.modes = QButtonGroup(self)
        mode_row = QHBoxLayout()
        self.mode_buttons: dict[str, QPushButton] = {}
        for key, label in MODES.items():
            button = QPushButton(label)
            button.setCheckable(True)
            self.modes.addButton(button)
            self.mode_buttons[key] = button
            mode_row.addWidget(button)
            button.clicked.connect(lambda _checked=False, key=key: setattr(state, "mode", key))
        mode_row.addStretch(1)
        self.pages = QStackedWidget()
        self.pages.addWidget(self._build_single())
        self.pages.addWidget(self._build_sheet())
        self.pages.addWidget(self._build_collection())
        self.progress = ProgressStrip()
        self.status = _muted()
        self.preview = QLabel()  # the avatar forming, while a job runs
        self.preview.setFixedSize(PREVIEW_SIZE, PREVIEW_SIZE)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setToolTip("The avatar being made, as it forms")
        self.preview.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        bottom = QHBoxLayout()
        bottom.addWidget(self.preview)
        bottom.addWidget(self.progress, 1)
        bottom.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(mode_row)
        layout.addWidget(self.error_banner)
        layout.addWidget(self.pages, 1)
        layout.addLayout(bottom)
        layout.addWidget(self.status)
        self.bind(state)
        state.refresh_adapters()

    # -- building ---------------------------------------------------------------------------

    def _style_form(self, form: QFormLayout) -> None:
        self.preset_combo = QComboBox()
        self.size_spin = QSpinBox()
        self.size_spin.setRange(0, 2048)
        self.size_spin.setSingleStep(64)
        self.size_spin.setSpecialValueText("preset's")
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(0, 150)
        self.steps_spin.setSpecialValueText("preset's")
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(-1, 2**31 - 1)
        self.seed_spin.setSpecialValueText("random")
        form.addRow("Style", self.preset_combo)
        form.addRow("Size", self.size_spin)
        form.addRow("Steps", self.steps_spin)
        form.addRow("Seed", self.seed_spin)

    def _build_single(self) -> QWidget:
        controls = _panel()
        form = QFormLayout(controls)
        form.addRow(_section("Single avatar"))
        self.prompt_edit = QPlainTextEdit()
        self.prompt_edit.setPlaceholderText("Who is it? e.g. a fox astronaut with a scarf")
        self.prompt_edit.setFixedHeight(70)
        form.addRow("Subject", self.prompt_edit)
        self._style_form(form)
        self.count_spin = QSpinBox()
        self.count_spin.setRange(1, 16)
        form.addRow("Images", self.count_spin)
        form.addRow(_section("From a photo (optional)"))
        self.photo_edit = QLineEdit()
        self.photo_edit.setPlaceholderText("no photo: from the description alone")
        self.photo_button = QToolButton()
        self.photo_button.setText("…")
        self.photo_clear = QToolButton()
        self.photo_clear.setText("✕")
        row = QHBoxLayout()
        row.addWidget(self.photo_edit, 1)
        row.addWidget(self.photo_button)
        row.addWidget(self.photo_clear)
        form.addRow("Photo", row)
        self.strength_spin = QDoubleSpinBox()
        self.strength_spin.setRange(0.05, 1.0)
        self.strength_spin.setSingleStep(0.05)
        self.strength_spin.setToolTip("How much of the photo is repainted: about 0.5 keeps a likeness")
        form.addRow("Strength", self.strength_spin)
        self.adapters_label = _muted()
        self.adapters_label.setObjectName("adaptersStatus")
        form.addRow(self.adapters_label)
        self.single_adapter = AdapterControls.add_to(form, self.state.licence_notice, "photo")
        self.licence_label = self.single_adapter.licence_label
        self.generate_button = QPushButton("Generate avatar")
        self.generate_button.setObjectName("primary")
        form.addRow(self.generate_button)
        self.results_grid = ImageGrid()
        self.results_grid.setModel(self.state.results)
        return self._split(_scrolling(controls), self.results_grid)

    def _build_sheet(self) -> QWidget:
        controls = _panel()
        form = QFormLayout(controls)
        form.addRow(_section("Character sheet"))
        self.reference_edit = QLineEdit()
        self.reference_edit.setPlaceholderText("the character's image")
        self.reference_button = QToolButton()
        self.reference_button.setText("…")
        row = QHBoxLayout()
        row.addWidget(self.reference_edit, 1)
        row.addWidget(self.reference_button)
        form.addRow("Reference", row)
        self.sheet_prompt = QLineEdit()
        self.sheet_prompt.setPlaceholderText("optional: what the variations show")
        form.addRow("Subject", self.sheet_prompt)
        self.sheet_count_spin = QSpinBox()
        self.sheet_count_spin.setRange(2, 16)
        form.addRow("Variations", self.sheet_count_spin)
        self.sheet_strength = QDoubleSpinBox()
        self.sheet_strength.setRange(0.05, 1.0)
        self.sheet_strength.setSingleStep(0.05)
        self.sheet_strength.setToolTip("How far each variation may move from the reference")
        form.addRow("Variation strength", self.sheet_strength)
        self.sheet_adapter = AdapterControls.add_to(form, self.state.licence_notice, "reference")
        form.addRow(_muted("Each variation starts from the reference with seed, seed+1, …: "
                           "pick one and make it the new reference to refine the character."))
        self.sheet_button = QPushButton("Make sheet")
        self.sheet_button.setObjectName("primary")
        form.addRow(self.sheet_button)
        self.use_reference_button = QPushButton("Use chosen as reference")
        form.addRow(self.use_reference_button)
        self.sheet_grid = ImageGrid()
        self.sheet_grid.setModel(self.state.sheet_results)
        return self._split(_scrolling(controls), self.sheet_grid)

    def _build_collection(self) -> QWidget:
        left = _panel()
        column = QVBoxLayout(left)
        column.addWidget(_section("Trait table"))
        self.traits_view = QTableView()
        self.traits_view.setModel(self.state.traits)
        self.traits_view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.traits_view.horizontalHeader().setStretchLastSection(True)
        self.traits_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.traits_view.setColumnWidth(3, 200)
        column.addWidget(self.traits_view, 1)
        buttons = QHBoxLayout()
        self.add_row_button = QPushButton("Add value")
        self.remove_row_button = QPushButton("Remove")
        self.load_traits_button = QPushButton("Load…")
        self.save_traits_button = QPushButton("Save…")
        for button in (self.add_row_button, self.remove_row_button, self.load_traits_button, self.save_traits_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        column.addLayout(buttons)
        self.possible_label = _muted()
        column.addWidget(self.possible_label)
        form = QFormLayout()
        self.collection_name_edit = QLineEdit()
        self.collection_name_edit.setPlaceholderText("Avatar")
        self.collection_name_edit.setToolTip("Each token is named “<name> #<number>”")
        form.addRow("Name", self.collection_name_edit)
        self.template_edit = QLineEdit()
        self.template_edit.setToolTip("The prompt of each avatar: {category} placeholders are filled with its traits")
        form.addRow("Template", self.template_edit)
        self.collection_count_spin = QSpinBox()
        self.collection_count_spin.setRange(1, 10_000)
        self.collection_seed_spin = QSpinBox()
        self.collection_seed_spin.setRange(0, 2**31 - 1)
        numbers = QHBoxLayout()
        numbers.addWidget(QLabel("Avatars"))
        numbers.addWidget(self.collection_count_spin)
        numbers.addWidget(QLabel("Seed"))
        numbers.addWidget(self.collection_seed_spin)
        numbers.addStretch(1)
        form.addRow(numbers)
        self.out_edit = QLineEdit()
        self.out_button = QToolButton()
        self.out_button.setText("…")
        row = QHBoxLayout()
        row.addWidget(self.out_edit, 1)
        row.addWidget(self.out_button)
        form.addRow("Folder", row)
        column.addLayout(form)
        self.collection_button = QPushButton("Generate collection")
        self.collection_button.setObjectName("primary")
        column.addWidget(self.collection_button)
        self.backend_label = _muted()   # this computer, or the Ray cluster of the settings
        self.backend_label.setWordWrap(True)
        column.addWidget(self.backend_label)
        self.workers_table = QTableWidget(0, len(WORKER_COLUMNS))   # a cluster run: each worker, as it goes
        self.workers_table.setHorizontalHeaderLabels(list(WORKER_COLUMNS))
        self.workers_table.horizontalHeader().setStretchLastSection(True)
        self.workers_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.workers_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.workers_table.verticalHeader().setVisible(False)
        self.workers_table.setToolTip("The cluster's workers in this run: lost workers' avatars are made again "
                                      "by the others; every avatar is signed and saved here")
        self.workers_table.setVisible(False)
        column.addWidget(self.workers_table)

        right = _panel()
        side = QVBoxLayout(right)
        side.addWidget(_section("Avatars"))
        self.collection_grid = ImageGrid()
        self.collection_grid.setModel(self.state.collection_results)
        side.addWidget(self.collection_grid, 3)
        side.addWidget(_section("Rarity"))
        self.rarity_table = QTableWidget(0, 4)
        self.rarity_table.setHorizontalHeaderLabels(["Trait", "Value", "Count", "%"])
        self.rarity_table.horizontalHeader().setStretchLastSection(True)
        self.rarity_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.rarity_table.verticalHeader().setVisible(False)
        side.addWidget(self.rarity_table, 2)
        self.mint_collection_button = QPushButton("Mint collection…")
        self.mint_collection_button.setToolTip("Mint every avatar of the folder into one of your collections, "
                                               "in batches, with the traits as token attributes")
        self.mint_hint = _muted("Once every avatar is made, mint them all into one of your collections.")
        side.addWidget(self.mint_hint)
        side.addWidget(self.mint_collection_button)
        return self._split(left, right, sizes=(560, 440))

    def _split(self, left: QWidget, right: QWidget, sizes: tuple[int, int] = (360, 640)) -> QSplitter:
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes(list(sizes))
        return splitter

    # -- bindings ---------------------------------------------------------------------------

    def bind(self, state: AvatarsState) -> None:
        b = self.bindings
        self._fill_presets()
        b.connect(state.presets_changed, self._fill_presets)
        b.bind(state, "mode", None, self._show_mode)
        b.bind(state, "preset", self.preset_combo.currentIndexChanged, self._select_preset,
               to_state=lambda i: self.preset_combo.itemData(i) or state.preset)
        b.bind(state, "prompt", self.prompt_edit.textChanged, self._set_prompt,
               to_state=lambda: self.prompt_edit.toPlainText())
        b.bind(state, "prompt", self.sheet_prompt.textChanged, self._set_sheet_prompt)
        b.bind(state, "size", self.size_spin.valueChanged, self.size_spin.setValue)
        b.bind(state, "steps", self.steps_spin.valueChanged, self.steps_spin.setValue)
        b.bind(state, "seed", self.seed_spin.valueChanged, self.seed_spin.setValue)
        b.bind(state, "count", self.count_spin.valueChanged, self.count_spin.setValue)
        b.bind(state, "photo_path", self.photo_edit.textChanged, self._set_text(self.photo_edit))
        b.bind(state, "strength", self.strength_spin.valueChanged, self.strength_spin.setValue)
        b.bind(state, "strength", self.sheet_strength.valueChanged, self.sheet_strength.setValue)
        b.bind(state, "reference_path", self.reference_edit.textChanged, self._set_text(self.reference_edit))
        b.bind(state, "sheet_count", self.sheet_count_spin.valueChanged, self.sheet_count_spin.setValue)
        b.bind(state, "template", self.template_edit.textChanged, self._set_text(self.template_edit))
        b.bind(state, "collection_count", self.collection_count_spin.valueChanged, self.collection_count_spin.setValue)
        b.bind(state, "collection_seed", self.collection_seed_spin.valueChanged, self.collection_seed_spin.setValue)
        b.bind(state, "collection_name", self.collection_name_edit.textChanged, self._set_text(self.collection_name_edit))
        b.bind(state, "out_dir", self.out_edit.textChanged, self._set_text(self.out_edit))
        b.bind(state, "adapters", None, self._show_adapters)
        self._fill_adapters()
        b.connect(state.adapter_choices_changed, self._fill_adapters)
        for controls in (self.single_adapter, self.sheet_adapter):
            b.bind(state, "adapter", controls.combo.currentIndexChanged, self._select_adapter,
                   to_state=lambda i, combo=controls.combo: combo.itemData(i) or "")
            b.bind(state, "adapter_scale", controls.scale_spin.valueChanged, controls.scale_spin.setValue)
            b.bind(state, "licence_acknowledged", controls.licence_check.toggled, controls.licence_check.setChecked)
            b.bind(state, "photo_as_init", controls.only_check.toggled, controls.only_check.setChecked,
                   to_state=lambda checked: not checked, to_widget=lambda value: not value)
        b.bind(state, "photo_as_init", None, self._show_strength_use)
        b.bind(state, "possible", None, self.possible_label.setText)
        b.bind(state, "collection_manifest", None, self._show_mintable)
        b.bind(state, "status", None, self._show_status)
        b.bind(state, "backend_text", None, self.backend_label.setText)
        b.bind(state, "workers", None, self._show_workers)
        b.bind(state, "busy", None, self._show_busy)
        b.connect(state.error, self.error_banner.show_text)
        b.connect(state.progress_changed, self._show_progress)
        b.connect(state.rarity_changed, self._show_rarity)
        b.connect(state.preview_changed, self._show_preview)
        b.connect(self.error_banner.close_button.clicked, lambda: self.error_banner.show_text(""))
        b.connect(self.generate_button.clicked, self._generate_single)
        b.connect(self.sheet_button.clicked, self._generate_sheet)
        b.connect(self.collection_button.clicked, self._generate_collection)
        b.connect(self.cancel_button.clicked, state.cancel)
        b.connect(self.photo_button.clicked, lambda: self._choose_image("Choose a photo", "photo_path"))
        b.connect(self.photo_clear.clicked, lambda: setattr(state, "photo_path", ""))
        b.connect(self.reference_button.clicked, lambda: self._choose_image("Choose the reference", "reference_path"))
        b.connect(self.use_reference_button.clicked, self._use_reference)
        b.connect(self.add_row_button.clicked, self._add_row)
        b.connect(self.remove_row_button.clicked, self._remove_rows)
        b.connect(self.load_traits_button.clicked, self._load_traits)
        b.connect(self.save_traits_button.clicked, self._save_traits)
        b.connect(self.out_button.clicked, self._choose_folder)
        b.connect(self.mint_collection_button.clicked, self._mint_collection)

    @staticmethod
    def _set_text(edit: QLineEdit) -> Callable[[str], None]:
        def set_text(value: str) -> None:
            if edit.text() != value:
                edit.setText(value)
        return set_text

    def _set_prompt(self, value: str) -> None:
        if self.prompt_edit.toPlainText() != value:
            self.prompt_edit.setPlainText(value)

    def _set_sheet_prompt(self, value: str) -> None:
        if self.sheet_prompt.text() != value:
            self.sheet_prompt.setText(value)

    def _fill_presets(self) -> None:
        self.preset_combo.blockSignals(True)
        self.preset_combo.clear()
        for key, label in self.state.preset_labels():
            self.preset_combo.addItem(label, key)
        self.preset_combo.blockSignals(False)
        self._select_preset(self.state.preset)

    def _select_preset(self, key: str) -> None:
        index = self.preset_combo.findData(key)
        if index >= 0 and index != self.preset_combo.currentIndex():
            self.preset_combo.setCurrentIndex(index)
        preset = self.state.current_preset()
        self.preset_combo.setToolTip(f"{preset.prompt}\nNegative: {preset.negative_prompt}")

    def _show_mode(self, mode: str) -> None:
        self.pages.setCurrentIndex({SINGLE: 0, SHEET: 1, COLLECTION: 2}[mode])
        self.mode_buttons[mode].setChecked(True)

    def _fill_adapters(self) -> None:
        for controls in (self.single_adapter, self.sheet_adapter):
            controls.fill(self.state.adapter_choices, self.state.adapter)
        self._show_strength_use(self.state.photo_as_init)

    def _select_adapter(self, name: str) -> None:
        for controls in (self.single_adapter, self.sheet_adapter):
            controls.select(name, self.state.adapter_choices)
        self._show_strength_use(self.state.photo_as_init)

    def _show_strength_use(self, photo_as_init: bool) -> None:
        """The strength matters unless the picture goes only through a chosen adapter."""
        used = bool(photo_as_init) or not self.state.adapter
        self.strength_spin.setEnabled(used)
        self.sheet_strength.setEnabled(used)

    def _show_adapters(self, text: str) -> None:
        self.adapters_label.setText(text or "Looking for IP-Adapters…")
        self.adapters_label.setToolTip("\n".join(self.state.adapter_downloads))

    def _show_mintable(self, manifest: str) -> None:
        self.mint_collection_button.setEnabled(bool(manifest) and not self.state.busy)
        self.mint_hint.setText(f"Ready to mint: {manifest}" if manifest else
                               "Once every avatar is made, mint them all into one of your collections.")

    def _show_workers(self, workers: tuple[Any, ...]) -> None:
        """One row per worker of a cluster run: where it runs, its state, the avatars it made."""
        self.workers_table.setRowCount(len(workers))
        for row, worker in enumerate(workers):
            name, _, where = worker.name.partition(" · ")
            lost = f"{worker.lost} lost" if worker.lost else ""
            failed = f"{worker.failed} failed" if worker.failed else ""
            values = (name, where or worker.node, worker.state, str(worker.done),
                      ", ".join(filter(None, (lost, failed))))
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setToolTip(worker.text)
                if column == 3:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.workers_table.setItem(row, column, item)
        self.workers_table.resizeColumnsToContents()
        self.workers_table.setFixedHeight(self.workers_table.horizontalHeader().height()
                                          + sum(self.workers_table.rowHeight(r) for r in range(len(workers))) + 4)
        self.workers_table.setVisible(bool(workers))

    def _show_status(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))

    def _show_preview(self, image: QImage) -> None:
        if image.isNull():
            self.preview.clear()
            self.preview.setVisible(False)
            return
        self.preview.setPixmap(QPixmap.fromImage(image).scaled(
            PREVIEW_SIZE, PREVIEW_SIZE, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
        self.preview.setVisible(True)

    def _show_busy(self, busy: bool) -> None:
        for button in (self.generate_button, self.sheet_button, self.collection_button):
            button.setEnabled(not busy)
        self.mint_collection_button.setEnabled(not busy and bool(self.state.collection_manifest))
        self.cancel_button.setEnabled(busy)
        if not busy:
            self.progress.set_fraction(0.0)
            self.progress.set_text("")

    def _show_progress(self, progress: Any) -> None:
        self.progress.set_text(progress.text)
        if progress.fraction is not None:
            self.progress.set_fraction(progress.fraction)

    def _show_rarity(self, report: Any) -> None:
        self.rarity_table.setRowCount(len(report.shares))
        for row, share in enumerate(report.shares):
            for column, value in enumerate((share.category, share.value, str(share.count), f"{share.percent:.1f}")):
                item = QTableWidgetItem(value)
                if column >= 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.rarity_table.setItem(row, column, item)

    # -- actions ----------------------------------------------------------------------------

    def _generate_single(self) -> None:
        self.error_banner.show_text("")
        self.state.generate_single()

    def _generate_sheet(self) -> None:
        self.error_banner.show_text("")
        self.state.generate_sheet()

    def _generate_collection(self) -> None:
        self.error_banner.show_text("")
        self.state.generate_collection()

    def _mint_collection(self) -> None:
        self.error_banner.show_text("")
        self.state.mint_collection()

    def _choose_image(self, title: str, field: str) -> None:
        path, _ = QFileDialog.getOpenFileName(self, title, "", IMAGE_FILTER)
        if path:
            setattr(self.state, field, path)

    def _use_reference(self) -> None:
        rows = self.sheet_grid.selectionModel().selectedRows() if self.sheet_grid.selectionModel() else []
        if not rows:
            self.error_banner.show_text("Choose a variation in the sheet first.")
            return
        self.state.use_as_reference(rows[0].row())

    def _add_row(self) -> None:
        current = self.traits_view.currentIndex()
        category = self.state.traits.rows[current.row()][0] if current.isValid() else ""
        row = self.state.traits.add_row(category)
        self.traits_view.setCurrentIndex(self.state.traits.index(row, 1))
        self.traits_view.edit(self.state.traits.index(row, 1))

    def _remove_rows(self) -> None:
        self.state.traits.remove_rows([index.row() for index in self.traits_view.selectionModel().selectedRows()])

    def _load_traits(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load a trait table", "", TRAITS_FILTER)
        if path:
            self.state.load_traits(path)

    def _save_traits(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the trait table", "traits.yaml", TRAITS_FILTER)
        if path:
            self.state.save_traits(path)

    def _choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Folder for the collection")
        if path:
            self.state.out_dir = path
