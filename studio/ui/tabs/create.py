"""The Create tab: recipe controls on the left, prompt, progress, image and results in the middle,
queue and the selected work's recipe on the right. All bindings to :class:`CreateState` are in
:meth:`CreateTab.bind`."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QRegularExpression, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication, QImage, QRegularExpressionValidator
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QFrame, QGridLayout,
                               QHBoxLayout, QLabel, QLineEdit, QListView, QMenu, QPushButton,
                               QScrollArea, QSizePolicy, QSpinBox, QSplitter, QToolButton,
                               QVBoxLayout, QWidget)

from studio.generation.schedulers import SCHEDULERS
from studio.generation.inpaint import AREAS as INPAINT_AREAS, MAX_MASK_BLUR, MAX_PADDING
from studio.ui import theme
from studio.ui.binding import Bindings
from studio.ui.state.create import EMPTY_STATE_TEXT, MAX_SEED, CreateState
from studio.ui.state.jobs import IMAGE_TO_IMAGE, INPAINT, MODES, ResultItem, recipe_text
from studio.ui.tabs.create_grid import GridPlotPanel
from studio.ui.tabs.create_options import OptionsPanel, OutpaintRow, PngInfoPanel, PromptTools, SamplingExtras
from studio.ui.widgets.combo import ElidedComboBox
from studio.ui.widgets.empty_state import empty_or_workspace, empty_state_page
from studio.ui.widgets.banner import Banner  # the tabs import it from here too
from studio.ui.widgets.image_grid import ImageGrid
from studio.ui.widgets.image_view import ImageView
from studio.ui.widgets.mask_canvas import MaskCanvas
from studio.ui.widgets.progress import ProgressStrip
from studio.ui.widgets.prompt_edit import PromptEdit
from studio.ui.widgets.wrapping_text import PlainTextView, breakable

MODEL_FILE_FILTER = "Model files (*.safetensors *.ckpt);;All files (*)"
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.bmp);;All files (*)"


def _section(title: str) -> QLabel:
    label = QLabel(title.upper())
    label.setObjectName("sectionTitle")
    return label


def _panel() -> QFrame:
    frame = QFrame()
    frame.setObjectName("panel")
    return frame


def _muted(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setProperty("muted", True)
    label.setWordWrap(True)
    return label


class LoraRow(QWidget):
    """One LoRA: its file name, a weight, and a remove button."""

    def __init__(self, name: str, weight: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = QLabel(name)
        self.name.setToolTip(name)
        self.weight = QDoubleSpinBox()
        self.weight.setRange(-4.0, 4.0)
        self.weight.setSingleStep(0.05)
        self.weight.setDecimals(2)
        self.weight.setValue(weight)
        self.weight.setToolTip("LoRA weight (usually 0.5 to 1)")
        self.remove = QToolButton()
        self.remove.setText("✕")
        self.remove.setToolTip("Remove this LoRA")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.name, 1)
        layout.addWidget(self.weight)
        layout.addWidget(self.remove)


class CreateTab(QWidget):
    """The widgets of the Create tab, observing one :class:`CreateState`."""

    def __init__(self, state: CreateState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.bindings = Bindings()
        self.stack = empty_or_workspace(self, self._build_empty_page(), self._build_workspace())
        self.bind(state)

    # -- building -----------------------------------------------------------------------

    def _build_empty_page(self) -> QWidget:
        self.empty_text = QLabel(EMPTY_STATE_TEXT)
        self.empty_add_file = QPushButton("Add model file…")
        self.empty_add_folder = QPushButton("Add model folder…")
        self.try_demo = QPushButton("Try the demo model")
        self.try_demo.setProperty("accent", True)
        return empty_state_page("Create", self.empty_text, left=[self.empty_add_file, self.empty_add_folder],
                                right=[self.try_demo])

    def _build_workspace(self) -> QWidget:
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._build_controls())
        splitter.addWidget(self._build_center())
        splitter.addWidget(self._build_side())
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setStretchFactor(2, 0)
        splitter.setSizes([400, 680, 280])
        splitter.setChildrenCollapsible(False)
        self.splitter = splitter
        return splitter

    def _build_controls(self) -> QWidget:
        body = QWidget()
        column = QVBoxLayout(body)
        column.setContentsMargins(10, 10, 6, 10)
        column.setSpacing(6)

        self.model_combo = ElidedComboBox()
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_combo.setMinimumContentsLength(12)
        self.add_model_button = QToolButton()
        self.add_model_button.setText("Add model…")
        self.add_model_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.add_model_button)
        self.add_file_action = menu.addAction("Model file (.safetensors)…")
        self.add_folder_action = menu.addAction("Diffusers model folder…")
        menu.addSeparator()
        self.remove_model_action = menu.addAction("Remove the selected model from the list")
        self.add_model_button.setMenu(menu)
        row = QHBoxLayout()  # the title and the add button share a line: the full label fits below
        row.addWidget(_section("Model"))
        row.addStretch(1)
        row.addWidget(self.add_model_button)
        column.addLayout(row)
        column.addWidget(self.model_combo)
        self.skipped_label = _muted()
        column.addWidget(self.skipped_label)

        column.addWidget(_section("Mode"))
        self.mode_combo = QComboBox()
        for key, label in MODES.items():
            self.mode_combo.addItem(label, key)
        column.addWidget(self.mode_combo)

        self.init_box = QWidget()
        init = QVBoxLayout(self.init_box)
        init.setContentsMargins(0, 0, 0, 0)
        self.init_label = _muted("No init image")
        self.choose_init = QPushButton("Choose image…")
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
        self.mask_box = QWidget()
        mask = QVBoxLayout(self.mask_box)
        mask.setContentsMargins(0, 0, 0, 0)
        mask.addWidget(_muted("Paint over the part to repaint."))
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
        init.addWidget(self.mask_box)
        column.addWidget(self.init_box)

        column.addWidget(_section("Size"))
        self.size_preset = QComboBox()
        self.width_spin = QSpinBox()
        self.height_spin = QSpinBox()
        for spin in (self.width_spin, self.height_spin):
            spin.setRange(8, 4096)
            spin.setSingleStep(8)
            spin.setSuffix(" px")
        row = QHBoxLayout()
        row.addWidget(self.width_spin, 1)
        row.addWidget(QLabel("×"))
        row.addWidget(self.height_spin, 1)
        column.addWidget(self.size_preset)
        column.addLayout(row)

        column.addWidget(_section("Sampling"))
        self.scheduler_combo = QComboBox()
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(1, 150)
        self.guidance_spin = QDoubleSpinBox()
        self.guidance_spin.setRange(0.0, 30.0)
        self.guidance_spin.setSingleStep(0.5)
        self.guidance_spin.setToolTip("Classifier-free guidance (CFG): how closely to follow the prompt.")
        self.count_spin = QSpinBox()
        self.count_spin.setRange(1, 100)
        self.count_spin.setToolTip("Images per Generate; image i uses seed + i.")
        self.extras = SamplingExtras(body)
        form = QFormLayout()
        form.addRow("Sampler", self.scheduler_combo)
        form.addRow("Schedule", self.extras.schedule)
        form.addRow("Steps", self.steps_spin)
        form.addRow("Guidance", self.guidance_spin)
        form.addRow("Clip skip", self.extras.clip_skip)
        row = QHBoxLayout()
        row.addWidget(self.count_spin, 1)
        row.addWidget(QLabel("× batch"))
        row.addWidget(self.extras.batch_size, 1)
        form.addRow("Images", row)
        column.addLayout(form)

        column.addWidget(_section("Seed"))
        self.random_seed = QCheckBox("Random")
        self.seed_edit = QLineEdit()
        self.seed_edit.setValidator(QRegularExpressionValidator(QRegularExpression(r"\d{0,10}"), self))
        self.seed_edit.setPlaceholderText("seed")
        row = QHBoxLayout()
        row.addWidget(self.random_seed)
        row.addWidget(self.seed_edit, 1)
        column.addLayout(row)

        column.addWidget(_section("LoRAs"))
        self.lora_rows = QVBoxLayout()
        column.addLayout(self.lora_rows)
        self.add_lora = QPushButton("Add LoRA…")
        column.addWidget(self.add_lora)

        column.addWidget(_section("Options"))
        self.options_panel = OptionsPanel()
        column.addWidget(self.options_panel)

        column.addWidget(_section("X/Y/Z plot"))
        self.plot_panel = GridPlotPanel()
        column.addWidget(self.plot_panel)
        column.addStretch(1)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(396)
        return scroll

    def _build_center(self) -> QWidget:
        center = QWidget()
        column = QVBoxLayout(center)
        column.setContentsMargins(6, 10, 6, 10)
        column.setSpacing(8)
        self.prompt_edit = PromptEdit("Describe the image… (Ctrl+Enter to generate)", min_lines=3)
        self.negative_edit = PromptEdit("Negative prompt: what to keep out", min_lines=2, max_lines=4)
        column.addWidget(self.prompt_edit)
        column.addWidget(self.negative_edit)
        self.prompt_tools = PromptTools()
        column.addWidget(self.prompt_tools)

        self.generate_button = QPushButton("Generate")
        self.generate_button.setProperty("accent", True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the running image at its next step")
        self.cancel_all_button = QPushButton("Cancel all")
        self.cancel_all_button.setToolTip("Stop the running image and empty the queue")
        self.progress = ProgressStrip()
        row = QHBoxLayout()
        row.addWidget(self.generate_button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.cancel_all_button)
        row.addWidget(self.progress, 1)
        column.addLayout(row)

        self.signing_note = QLabel()
        self.signing_note.setWordWrap(True)
        self.signing_note.setProperty("muted", True)
        self.unlock_button = QPushButton("Unlock…")
        self.unlock_button.setToolTip("Enter the wallet password, so that new works are signed")
        signing = QHBoxLayout()
        signing.addWidget(self.signing_note, 1)
        signing.addWidget(self.unlock_button)
        column.addLayout(signing)

        self.error_banner = Banner("errorBanner")
        self.warning_banner = Banner("warningBanner")
        column.addWidget(self.error_banner)
        column.addWidget(self.warning_banner)

        self.viewer = ImageView("Your images appear here.\nWrite a prompt and press Generate.")
        self.grid = ImageGrid()
        self.grid.setModel(self.state.results)
        self.grid.setSelectionMode(ImageGrid.SelectionMode.ExtendedSelection)  # several works mint as one batch
        self.grid.setMinimumHeight(180)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.viewer)
        split.addWidget(self.grid)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setChildrenCollapsible(False)
        column.addWidget(split, 1)
        return center

    def _build_side(self) -> QWidget:
        side = QWidget()
        side.setMinimumWidth(250)
        column = QVBoxLayout(side)
        column.setContentsMargins(6, 10, 10, 10)
        column.setSpacing(6)
        column.addWidget(_section("Queue"))
        self.queue_view = QListView()
        self.queue_view.setModel(self.state.queue)
        self.queue_view.setMaximumHeight(140)
        self.queue_view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.queue_view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.remove_queued = QPushButton("Remove from queue")
        self.remove_queued.setToolTip("Drop the selected waiting job (cancel stops the running one)")
        column.addWidget(self.queue_view)
        column.addWidget(self.remove_queued)
        column.addSpacing(8)
        self.png_info = PngInfoPanel()
        column.addWidget(self.png_info)
        column.addWidget(_section("Selected image"))
        self.recipe_view = PlainTextView()
        self.recipe_view.setReadOnly(True)
        self.recipe_view.setPlaceholderText("Click a result to see how it was made.")
        column.addWidget(self.recipe_view, 1)
        self.reuse_seed = QPushButton("Reuse seed")
        self.use_as_init = QPushButton("Use as init image")
        self.show_in_folder = QPushButton("Show in folder")
        self.copy_path = QPushButton("Copy path")
        self.upscale_button = QPushButton("Upscale ×2")
        self.upscale_button.setToolTip("A new work twice the size (Lanczos; right-click a result for the hires "
                                       "fix's upscaler model)")
        self.mint_button = QPushButton("Mint…")
        self.mint_button.setProperty("accent", True)
        self.mint_button.setToolTip("Mint the selected results as tokens (Ctrl+click or Shift+click to select "
                                    "several)")
        grid = QGridLayout()
        grid.addWidget(self.reuse_seed, 0, 0)
        grid.addWidget(self.use_as_init, 0, 1)
        grid.addWidget(self.show_in_folder, 1, 0)
        grid.addWidget(self.copy_path, 1, 1)
        grid.addWidget(self.upscale_button, 2, 0)
        grid.addWidget(self.mint_button, 2, 1)
        column.addLayout(grid)
        for button in (self.reuse_seed, self.use_as_init, self.show_in_folder, self.copy_path, self.upscale_button,
                       self.mint_button):
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        return side

    # -- binding ------------------------------------------------------------------------

    def bind(self, state: CreateState) -> None:
        """Every connection between the widgets and the view-model, in one place."""
        b = self.bindings
        b.bind(state, "show_empty_state", None, lambda empty: self.stack.setCurrentIndex(0 if empty else 1))
        b.bind(state, "prompt", self.prompt_edit.textChanged, self.prompt_edit.set_text_if_different,
               to_state=lambda: self.prompt_edit.toPlainText())
        b.bind(state, "negative_prompt", self.negative_edit.textChanged, self.negative_edit.set_text_if_different,
               to_state=lambda: self.negative_edit.toPlainText())
        b.connect(self.prompt_edit.submitted, state.generate)
        self.extras.bind(state)
        self.outpaint_row.bind(state)
        self.options_panel.bind(state)
        self.plot_panel.bind(state)
        self.prompt_tools.bind(state)
        self.png_info.bind(state)
        b.connect(self.negative_edit.submitted, state.generate)

        self._fill_models(state.models)
        b.connect(state.models_changed, self._fill_models)
        b.bind(state, "model_name", None, self._select_model)
        b.bind(state, "model_name", None, lambda _name: self.remove_model_action.setEnabled(
            state.model is not None and not state.model.is_demo))
        b.connect(self.model_combo.activated, self._on_model_chosen)
        b.bind(state, "skipped_models", None, self._show_skipped)
        self._fill_schedulers(state.schedulers)
        b.connect(state.schedulers_changed, self._fill_schedulers)
        b.bind(state, "scheduler", self.scheduler_combo.activated,
               lambda key: self.scheduler_combo.setCurrentIndex(max(0, self.scheduler_combo.findData(key))),
               to_state=lambda _i: self.scheduler_combo.currentData())
        b.bind(state, "steps", self.steps_spin.valueChanged, self.steps_spin.setValue)
        b.bind(state, "guidance", self.guidance_spin.valueChanged, self.guidance_spin.setValue)
        b.bind(state, "count", self.count_spin.valueChanged, self.count_spin.setValue)

        self._fill_presets(state.size_presets)
        b.connect(state.size_presets_changed, self._fill_presets)
        b.bind(state, "width", self.width_spin.valueChanged, self.width_spin.setValue)
        b.bind(state, "height", self.height_spin.valueChanged, self.height_spin.setValue)
        b.connect(state.width_changed, self._sync_preset)
        b.connect(state.height_changed, self._sync_preset)
        b.connect(self.size_preset.activated, self._on_preset_chosen)
        self._sync_preset()

        b.bind(state, "random_seed", self.random_seed.toggled, self.random_seed.setChecked)
        b.connect(state.random_seed_changed, self._show_random_seed)
        b.bind(state, "seed", self.seed_edit.textEdited, lambda seed: self._set_seed_text(seed),
               to_state=lambda text: min(int(text or 0), MAX_SEED))
        self._show_random_seed(state.random_seed)

        b.bind(state, "mode", self.mode_combo.activated, self._show_mode,
               to_state=lambda _i: self.mode_combo.currentData())
        b.bind(state, "init_image_path", None, self._show_init_image)
        b.bind(state, "strength", self.strength.valueChanged, self.strength.setValue)
        b.connect(self.choose_init.clicked, self._choose_init_image)
        b.connect(self.use_result_as_init.clicked, self._use_selected_as_init)
        b.bind(state, "mask_blur", self.mask_blur.valueChanged, self.mask_blur.setValue)
        b.bind(state, "inpaint_area", self.inpaint_area.currentIndexChanged, self._select_inpaint_area,
               to_state=lambda index: self.inpaint_area.itemData(index) or "whole")
        b.bind(state, "inpaint_padding", self.inpaint_padding.valueChanged, self.inpaint_padding.setValue)
        b.connect(self.mask_canvas.mask_changed, state.set_mask)
        b.connect(self.brush_size.valueChanged, self.mask_canvas.set_brush_size)
        b.connect(self.erase.toggled, self.mask_canvas.set_erasing)
        b.connect(self.clear_mask.clicked, self.mask_canvas.clear)

        self._show_loras(state.loras)
        b.connect(state.loras_changed, self._show_loras)
        b.connect(self.add_lora.clicked, self._choose_lora)

        b.connect(self.generate_button.clicked, state.generate)
        b.connect(self.cancel_button.clicked, state.cancel)
        b.connect(self.cancel_all_button.clicked, state.cancel_all)
        b.bind(state, "busy", None, self._show_busy)
        b.bind(state, "progress_text", None, self.progress.set_text)
        b.bind(state, "progress_fraction", None, self.progress.set_fraction)
        b.connect(state.preview_changed, self._show_preview)
        b.bind(state, "error", None, self.error_banner.show_text)
        b.bind(state, "warning", None, self.warning_banner.show_text)
        b.bind(state, "signing_note", None, self._show_signing_note)
        b.bind(state, "signing_locked", None, self._show_signing_locked)
        b.connect(self.unlock_button.clicked, state.unlock_requested.emit)
        b.connect(self.error_banner.close_button.clicked, state.dismiss_error)
        b.connect(self.warning_banner.close_button.clicked, lambda: setattr(state, "warning", ""))

        b.connect(state.result_added, self._on_result_added)
        b.connect(self.grid.selectionModel().currentChanged, self._show_result)
        b.connect(self.grid.customContextMenuRequested, self._result_menu)
        b.connect(self.reuse_seed.clicked, lambda: self._with_selected(state.reuse_seed))
        b.connect(self.upscale_button.clicked, lambda: self._with_selected(state.upscale_result))
        b.connect(self.use_as_init.clicked, self._use_selected_as_init)
        b.connect(self.show_in_folder.clicked, lambda: self._with_selected(self._open_folder))
        b.connect(self.copy_path.clicked, lambda: self._with_selected(self._copy_path))
        b.connect(self.mint_button.clicked, self.mint_selected)
        b.connect(self.grid.selectionModel().selectionChanged, self._show_mint_enabled)
        b.connect(self.remove_queued.clicked, self._remove_queued)

        b.connect(self.add_file_action.triggered, self.choose_model_file)
        b.connect(self.add_folder_action.triggered, self.choose_model_folder)
        b.connect(self.remove_model_action.triggered, state.remove_model)
        b.connect(self.empty_add_file.clicked, self.choose_model_file)
        b.connect(self.empty_add_folder.clicked, self.choose_model_folder)
        b.connect(self.try_demo.clicked, state.use_demo)
        self._show_result(QModelIndex())
        self._show_mint_enabled()

    # -- model, sampler, size -----------------------------------------------------------

    def _fill_models(self, models: list) -> None:
        self.model_combo.clear()
        for info in models:
            self.model_combo.addItem(info.label, info.name)
            self.model_combo.setItemData(self.model_combo.count() - 1, str(info.path), Qt.ItemDataRole.ToolTipRole)
        self._select_model(self.state.model_name)

    def _select_model(self, name: str) -> None:
        self.model_combo.setCurrentIndex(self.model_combo.findData(name))

    def _on_model_chosen(self, index: int) -> None:
        self.state.model_name = self.model_combo.itemData(index)

    def _show_skipped(self, text: str) -> None:
        self.skipped_label.setText(text)
        self.skipped_label.setVisible(bool(text))

    def _fill_schedulers(self, keys: list) -> None:
        self.scheduler_combo.clear()
        for key in keys:
            self.scheduler_combo.addItem(SCHEDULERS.get(key, key), key)
        self.scheduler_combo.setCurrentIndex(max(0, self.scheduler_combo.findData(self.state.scheduler)))

    def _fill_presets(self, presets: tuple) -> None:
        self.size_preset.clear()
        for width, height in presets:
            self.size_preset.addItem(f"{width} × {height}", f"{width}x{height}")
        self.size_preset.addItem("Custom", None)
        self._sync_preset()

    def _sync_preset(self, *_args: object) -> None:
        index = self.size_preset.findData(f"{self.state.width}x{self.state.height}")
        self.size_preset.setCurrentIndex(index if index >= 0 else self.size_preset.count() - 1)

    def _on_preset_chosen(self, index: int) -> None:
        size = self.size_preset.itemData(index)
        if size:
            width, height = size.split("x")
            self.state.width, self.state.height = int(width), int(height)

    def _set_seed_text(self, seed: int) -> None:
        if not self.state.random_seed and self.seed_edit.text() != str(seed):
            self.seed_edit.setText(str(seed))

    def _show_random_seed(self, random: bool) -> None:
        """Random: the box is empty and says so (a number there would not be the one used)."""
        self.seed_edit.setEnabled(not random)
        self.seed_edit.setPlaceholderText("a new random seed each time" if random else "seed")
        if random:
            self.seed_edit.clear()
        else:
            self.seed_edit.setText(str(self.state.seed))

    # -- modes and init image -----------------------------------------------------------

    def _show_mode(self, mode: str) -> None:
        self.mode_combo.setCurrentIndex(self.mode_combo.findData(mode))
        self.init_box.setVisible(mode in (IMAGE_TO_IMAGE, INPAINT))
        self.mask_box.setVisible(mode == INPAINT)
        self.outpaint_row.setVisible(mode == IMAGE_TO_IMAGE)

    def _show_init_image(self, path: str) -> None:
        self.init_label.setText(Path(path).name if path else "No init image")
        self.init_label.setToolTip(path)
        self.mask_canvas.set_image(QImage(path) if path else QImage())

    def _choose_init_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose an init image", "", IMAGE_FILTER)
        if path:
            self.state.init_image_path = path

    def _use_selected_as_init(self) -> None:
        self._with_selected(self.state.use_result_as_init)

    # -- LoRAs --------------------------------------------------------------------------

    def _show_loras(self, loras: tuple) -> None:
        while self.lora_rows.count():
            item = self.lora_rows.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        for index, spec in enumerate(loras):
            row = LoraRow(Path(spec.path).name, spec.weight)
            row.weight.valueChanged.connect(lambda value, i=index: self.state.set_lora_weight(i, value))
            row.remove.clicked.connect(lambda _checked=False, i=index: self.state.remove_lora(i))
            self.lora_rows.addWidget(row)

    def _choose_lora(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Add a LoRA", "", "LoRA files (*.safetensors);;All files (*)")
        if path:
            self.state.add_lora(path)

    # -- models -------------------------------------------------------------------------

    def choose_model_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Add a model file", "", MODEL_FILE_FILTER)
        if path:
            self.state.add_model(path)

    def choose_model_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Add a diffusers model folder (with model_index.json)")
        if path:
            self.state.add_model(path)

    # -- running and results ------------------------------------------------------------

    def _show_signing_note(self, text: str) -> None:
        self.signing_note.setText(text)
        self.signing_note.setVisible(bool(text))

    def _show_signing_locked(self, locked: bool) -> None:
        """A locked wallet: the note reads as a warning, with the Unlock… button beside it."""
        self.signing_note.setProperty("muted", not locked)
        self.signing_note.setStyleSheet(f"color: {theme.WARNING_TEXT};" if locked else "")
        self.unlock_button.setVisible(locked)

    def _select_inpaint_area(self, area: str) -> None:
        index = self.inpaint_area.findData(area)
        if index >= 0 and index != self.inpaint_area.currentIndex():
            self.inpaint_area.setCurrentIndex(index)
        self.inpaint_padding.setEnabled(area == "masked")

    def _show_busy(self, busy: bool) -> None:
        self.cancel_button.setEnabled(busy)
        self.cancel_all_button.setEnabled(busy)

    def _show_preview(self, image: QImage) -> None:
        """The image forming; none (after a cancel): the selected result again, or nothing."""
        if image.isNull():
            index = self.grid.currentIndex()
            image = QImage(str(self.state.results.item(index.row()).path)) if index.isValid() else QImage()
        self.viewer.set_image(image)

    def _on_result_added(self, _item: ResultItem) -> None:
        index = self.state.results.index(0)
        self.grid.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def _selected_row(self) -> int:
        index = self.grid.currentIndex()
        return index.row() if index.isValid() else -1

    def _with_selected(self, action) -> None:
        row = self._selected_row()
        if row >= 0:
            action(row)

    def selected_rows(self) -> list[int]:
        """The selected results' rows, in grid order."""
        return sorted({index.row() for index in self.grid.selectionModel().selectedIndexes()})

    def mint_selected(self) -> None:
        """“Mint…”: ask for the mint dialog with the selected results."""
        self.state.request_mint(self.selected_rows())

    def _show_mint_enabled(self, *_args: object) -> None:
        indexes = self.grid.selectionModel().selectedIndexes()  # a plot's grid image is no work to mint
        self.mint_button.setEnabled(bool(indexes) and all(self.state.results.item(i.row()).grid is None
                                                          for i in indexes))

    def _show_result(self, index: QModelIndex, _previous: QModelIndex | None = None) -> None:
        has = index.isValid()
        for button in (self.reuse_seed, self.use_as_init, self.show_in_folder, self.copy_path,
                       self.use_result_as_init, self.upscale_button):
            button.setEnabled(has)
        if not has:
            self.recipe_view.clear()
            return
        item = self.state.results.item(index.row())
        for button in (self.use_as_init, self.use_result_as_init, self.upscale_button):
            button.setEnabled(item.grid is None)  # a plot's grid image is a picture of works, not one
        self.viewer.set_image(QImage(str(item.path)))
        text = item.note if item.grid is not None else recipe_text(item.work.recipe, item.path)
        self.recipe_view.setPlainText(breakable(text))  # paths break at "/", "_"

    def _result_menu(self, position) -> None:
        index = self.grid.indexAt(position)
        if not index.isValid():
            return
        row = index.row()
        rows = self.selected_rows()
        if row not in rows:
            rows = [row]
        menu = QMenu(self)
        menu.addAction(f"Mint {len(rows)} works…" if len(rows) > 1 else "Mint…",
                       lambda: self.state.request_mint(rows))
        menu.addSeparator()
        menu.addAction("Upscale ×2 (Lanczos)", lambda: self.state.upscale_result(row))
        model = self.state.options.hires_upscaler
        if model not in ("latent", "lanczos"):  # the upscaler model file chosen for the hires fix
            menu.addAction(f"Upscale ×2 with {Path(model).name}", lambda: self.state.upscale_result(row, model))
        menu.addSeparator()
        menu.addAction("Reuse seed", lambda: self.state.reuse_seed(row))
        menu.addAction("Use as init image", lambda: self.state.use_result_as_init(row))
        menu.addAction("Show in folder", lambda: self._open_folder(row))
        menu.addAction("Copy path", lambda: self._copy_path(row))
        menu.exec(self.grid.viewport().mapToGlobal(position))

    def _open_folder(self, row: int) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.state.results.item(row).path.parent)))

    def _copy_path(self, row: int) -> None:
        QGuiApplication.clipboard().setText(str(self.state.results.item(row).path))

    def _remove_queued(self) -> None:
        index = self.queue_view.currentIndex()
        if index.isValid() and not self.state.remove_from_queue(index.row()):
            self.state.error = "That job is already running; use Cancel to stop it."
