"""The Create tab: recipe controls on the left, prompt, progress, image and results in the middle,
queue and the selected work's recipe on the right. All bindings to :class:`CreateState` are in
:meth:`CreateTab.bind`; the model picker, the image inputs, the options, the plot and the results
are widgets of their own (``tabs/create_*.py``), each bound to its part of the state."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRegularExpression, Qt
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QListView, QPushButton, QScrollArea, QSpinBox, QSplitter, QToolButton,
                               QVBoxLayout, QWidget)

from studio.generation.schedulers import SCHEDULERS
from studio.ui import theme
from studio.ui.binding import Bindings
from studio.ui.state.create import MAX_SEED, CreateState
from studio.ui.state.create_models import EMPTY_STATE_TEXT
from studio.ui.tabs.create_grid import GridPlotPanel
from studio.ui.tabs.create_inputs import ImageInputsPanel
from studio.ui.tabs.create_models import ModelPicker
from studio.ui.tabs.create_options import OptionsPanel, PngInfoPanel, PromptTools, SamplingExtras
from studio.ui.tabs.create_results import CreateResults
from studio.ui.widgets.empty_state import empty_or_workspace, empty_state_page
from studio.ui.widgets.banner import Banner  # the tabs import it from here too
from studio.ui.widgets.page_parts import column_layout, section_label
from studio.ui.widgets.progress import ProgressStrip
from studio.ui.widgets.prompt_edit import PromptEdit


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
        self.results = CreateResults(state, self)
        #: The results grid and “Mint…” here too: the mint flow and screenshots.py select through them.
        self.grid, self.mint_button = self.results.grid, self.results.mint_button
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
        for index, (part, stretch) in enumerate(((self._build_controls(), 0), (self._build_center(), 1),
                                                  (self._build_side(), 0))):
            splitter.addWidget(part)
            splitter.setStretchFactor(index, stretch)
        splitter.setSizes([400, 680, 280])
        splitter.setChildrenCollapsible(False)
        self.splitter = splitter
        return splitter

    def _build_controls(self) -> QWidget:
        body = QWidget()
        column = column_layout(body, (10, 10, 6, 10))
        self.model_picker = ModelPicker()
        column.addWidget(self.model_picker)
        self.inputs_panel = ImageInputsPanel()
        column.addWidget(self.inputs_panel)
        self.results.for_a_result.append(self.inputs_panel.use_result_as_init)
        self.results.for_a_work_itself.append(self.inputs_panel.use_result_as_init)

        column.addWidget(section_label("Size"))
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

        column.addWidget(section_label("Sampling"))
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

        column.addWidget(section_label("Seed"))
        self.random_seed = QCheckBox("Random")
        self.seed_edit = QLineEdit()
        self.seed_edit.setValidator(QRegularExpressionValidator(QRegularExpression(r"\d{0,10}"), self))
        self.seed_edit.setPlaceholderText("seed")
        row = QHBoxLayout()
        row.addWidget(self.random_seed)
        row.addWidget(self.seed_edit, 1)
        column.addLayout(row)

        column.addWidget(section_label("LoRAs"))
        self.lora_rows = QVBoxLayout()
        column.addLayout(self.lora_rows)
        self.add_lora = QPushButton("Add LoRA…")
        column.addWidget(self.add_lora)

        column.addWidget(section_label("Options"))
        self.options_panel = OptionsPanel()
        column.addWidget(self.options_panel)

        column.addWidget(section_label("X/Y/Z plot"))
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
        column = column_layout(center, (6, 10, 6, 10), spacing=8)
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
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.results.viewer)
        split.addWidget(self.results.grid)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setChildrenCollapsible(False)
        column.addWidget(split, 1)
        return center

    def _build_side(self) -> QWidget:
        side = QWidget()
        side.setMinimumWidth(250)
        column = column_layout(side, (6, 10, 10, 10))
        column.addWidget(section_label("Queue"))
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
        column.addWidget(section_label("Selected image"))
        column.addWidget(self.results.recipe_view, 1)
        column.addLayout(self.results.buttons())
        return side

    # -- binding ------------------------------------------------------------------------

    def bind(self, state: CreateState) -> None:
        """Every connection between the widgets and the view-model, in one place."""
        b = self.bindings
        choice = state.model_choice
        b.bind(choice, "show_empty_state", None, lambda empty: self.stack.setCurrentIndex(0 if empty else 1))
        b.bind(state, "prompt", self.prompt_edit.textChanged, self.prompt_edit.set_text_if_different,
               to_state=lambda: self.prompt_edit.toPlainText())
        b.bind(state, "negative_prompt", self.negative_edit.textChanged, self.negative_edit.set_text_if_different,
               to_state=lambda: self.negative_edit.toPlainText())
        b.connect(self.prompt_edit.submitted, state.generate)
        b.connect(self.negative_edit.submitted, state.generate)
        self.model_picker.bind(choice)
        self.inputs_panel.bind(state)
        self.extras.bind(state)
        self.options_panel.bind(state)
        self.plot_panel.bind(state)
        self.prompt_tools.bind(state)
        self.png_info.bind(state)
        self.results.bind()

        self._fill_schedulers(choice.schedulers)
        b.connect(choice.schedulers_changed, self._fill_schedulers)
        b.bind(state, "scheduler", self.scheduler_combo.activated,
               lambda key: self.scheduler_combo.setCurrentIndex(max(0, self.scheduler_combo.findData(key))),
               to_state=lambda _i: self.scheduler_combo.currentData())
        b.bind(state, "steps", self.steps_spin.valueChanged, self.steps_spin.setValue)
        b.bind(state, "guidance", self.guidance_spin.valueChanged, self.guidance_spin.setValue)
        b.bind(state, "count", self.count_spin.valueChanged, self.count_spin.setValue)

        self._fill_presets(choice.size_presets)
        b.connect(choice.size_presets_changed, self._fill_presets)
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
        b.connect(self.inputs_panel.use_result_as_init.clicked,
                  lambda: self.results.with_selected(state.use_result_as_init))

        self._show_loras(state.loras)
        b.connect(state.loras_changed, self._show_loras)
        b.connect(self.add_lora.clicked, self._choose_lora)

        b.connect(self.generate_button.clicked, state.generate)
        b.connect(self.cancel_button.clicked, state.jobs.cancel)
        b.connect(self.cancel_all_button.clicked, state.jobs.cancel_all)
        b.bind(state, "busy", None, self._show_busy)
        b.bind(state, "progress_text", None, self.progress.set_text)
        b.bind(state, "progress_fraction", None, self.progress.set_fraction)
        b.bind(state, "error", None, self.error_banner.show_text)
        b.bind(state, "warning", None, self.warning_banner.show_text)
        b.bind(state, "signing_note", None, self._show_signing_note)
        b.bind(state, "signing_locked", None, self._show_signing_locked)
        b.connect(self.unlock_button.clicked, state.unlock_requested.emit)
        b.connect(self.error_banner.close_button.clicked, state.dismiss_error)
        b.connect(self.warning_banner.close_button.clicked, lambda: setattr(state, "warning", ""))
        b.connect(self.remove_queued.clicked, self._remove_queued)

        b.connect(self.empty_add_file.clicked, self.model_picker.choose_model_file)
        b.connect(self.empty_add_folder.clicked, self.model_picker.choose_model_folder)
        b.connect(self.try_demo.clicked, choice.use_demo)

    # -- sampler, size, seed ------------------------------------------------------------

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


    # -- running ------------------------------------------------------------------------

    def _show_signing_note(self, text: str) -> None:
        self.signing_note.setText(text)
        self.signing_note.setVisible(bool(text))

    def _show_signing_locked(self, locked: bool) -> None:
        """A locked wallet: the note reads as a warning, with the Unlock… button beside it."""
        self.signing_note.setProperty("muted", not locked)
        self.signing_note.setStyleSheet(f"color: {theme.WARNING_TEXT};" if locked else "")
        self.unlock_button.setVisible(locked)

    def _show_busy(self, busy: bool) -> None:
        self.cancel_button.setEnabled(busy)
        self.cancel_all_button.setEnabled(busy)

    def _remove_queued(self) -> None:
        index = self.queue_view.currentIndex()
        if index.isValid() and not self.state.jobs.remove_from_queue(index.row()):
            self.state.error = "That job is already running; use Cancel to stop it."
