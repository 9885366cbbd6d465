"""Parts of the Create tab for the options beyond the basic recipe: the schedule, clip skip and batch
size next to the sampler, hires fix, variation and the ControlNet units (:class:`OptionsPanel`; the
units' boxes in ``control_units``); styles and the prompt history under the prompt
(:class:`PromptTools`); PNG Info with Send to Create (:class:`PngInfoPanel`). Each binds to the
view-model in its own ``bind``."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QRegularExpression, Qt
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QHBoxLayout,
                               QInputDialog, QLabel, QLineEdit, QMenu, QPushButton, QSpinBox, QToolButton,
                               QVBoxLayout, QWidget)

from studio.generation.schedulers import SIGMA_SCHEDULES, sigma_schedules_for
from studio.ui.binding import Bindings
from studio.ui.state.create import MAX_SEED, CreateState
from studio.ui.state.create_options import HIRES_UPSCALERS
from studio.ui.state.create_prompts import PromptLibrary
from studio.ui.tabs.control_units import ControlUnitsPanel
from studio.ui.widgets.wrapping_text import PlainTextView

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.bmp);;All files (*)"
UPSCALER_FILTER = "Upscaler models (*.safetensors *.pth *.pt);;All files (*)"
VAE_FILTER = "VAE (*.safetensors);;All files (*)"
CHOOSE_FILE = "__file__"


def _title(text: str) -> QLabel:
    label = QLabel(text.upper())
    label.setObjectName("sectionTitle")
    return label


class OptionsPanel(QWidget):
    """VAE, embeddings, hires fix, variation and the ControlNet units, below the sampling fields."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bindings = Bindings(self)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(6)

        self.vae = QComboBox()
        self.vae.setToolTip("The VAE turns the model's latents into pixels: the model's own, or a VAE of its "
                            "family found in the models folders (or chosen as a file)")
        self.embeddings_button = QToolButton()
        self.embeddings_button.setText("Embeddings")
        self.embeddings_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.embeddings_menu = QMenu(self.embeddings_button)
        self.embeddings_button.setMenu(self.embeddings_menu)
        self.embeddings_button.setToolTip("Textual-inversion embeddings found in the models folders: each one "
                                          "ticked is loaded, and called by writing its name in the prompt")
        self.embeddings_label = QLabel()
        self.embeddings_label.setProperty("muted", True)
        self.embeddings_label.setWordWrap(True)
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("VAE", self.vae)
        row = QHBoxLayout()
        row.addWidget(self.embeddings_button)
        row.addWidget(self.embeddings_label, 1)
        form.addRow("Embeddings", row)
        column.addLayout(form)

        self.hires = QCheckBox("Hires fix: paint again, larger")
        self.hires.setToolTip("A second pass at a larger size: sharper detail than generating large at once")
        column.addWidget(self.hires)
        self.hires_box = QWidget()
        form = QFormLayout(self.hires_box)
        form.setContentsMargins(18, 0, 0, 0)
        self.hires_scale = QDoubleSpinBox()
        self.hires_scale.setRange(1.0, 4.0)
        self.hires_scale.setSingleStep(0.25)
        self.hires_scale.setPrefix("× ")
        self.hires_upscaler = QComboBox()
        self.hires_steps = QSpinBox()
        self.hires_steps.setRange(0, 150)
        self.hires_steps.setSpecialValueText("as the first pass")
        self.hires_denoise = QDoubleSpinBox()
        self.hires_denoise.setRange(0.0, 1.0)
        self.hires_denoise.setSingleStep(0.05)
        self.hires_denoise.setToolTip("How much the second pass repaints: 0.3 to 0.6 keeps the composition")
        form.addRow("Upscale", self.hires_scale)
        form.addRow("Upscaler", self.hires_upscaler)
        form.addRow("Steps", self.hires_steps)
        form.addRow("Denoise", self.hires_denoise)
        column.addWidget(self.hires_box)

        column.addWidget(_title("Variation"))
        self.variation_seed = QLineEdit()
        self.variation_seed.setValidator(QRegularExpressionValidator(QRegularExpression(r"\d{0,10}"), self))
        self.variation_seed.setPlaceholderText("a second seed, e.g. 12345")
        self.variation_seed.setToolTip("The seed whose noise is blended in (A1111's variation seed)")
        self.variation_strength = QDoubleSpinBox()
        self.variation_strength.setRange(0.0, 1.0)
        self.variation_strength.setSingleStep(0.05)
        self.variation_strength.setSpecialValueText("0 (off)")
        self.variation_strength.setToolTip("Blends in the noise of the variation seed: 0 is the seed's image, "
                                           "1 the variation seed's")
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Variation seed", self.variation_seed)
        form.addRow("Strength", self.variation_strength)
        column.addLayout(form)

        column.addWidget(_title("ControlNet"))
        self.control_units = ControlUnitsPanel()
        column.addWidget(self.control_units)

    def bind(self, state: CreateState) -> None:
        options, b = state.options, self.bindings
        b.bind(options, "hires", self.hires.toggled, self.hires.setChecked)
        b.bind(options, "hires", None, self.hires_box.setVisible)
        b.bind(options, "hires_scale", self.hires_scale.valueChanged, self.hires_scale.setValue)
        b.bind(options, "hires_steps", self.hires_steps.valueChanged, self.hires_steps.setValue)
        b.bind(options, "hires_denoise", self.hires_denoise.valueChanged, self.hires_denoise.setValue)
        b.bind(options, "hires_upscaler", None, self._show_upscaler)
        b.connect(self.hires_upscaler.activated, lambda _i: self._choose_upscaler(options))
        b.bind(options, "variation_seed", self.variation_seed.textEdited, self._set_variation_text,
               to_state=lambda text: min(int(text or 0), MAX_SEED))
        b.bind(options, "variation_strength", self.variation_strength.valueChanged, self.variation_strength.setValue)
        self.control_units.bind(options.control)
        b.bind(options, "vae", None, lambda _path: self._show_vaes(options))
        b.bind(options, "vae_choices", None, lambda _paths: self._show_vaes(options))
        b.connect(self.vae.activated, lambda _i: self._choose_vae(options))
        b.bind(options, "embeddings", None, lambda _paths: self._show_embeddings(options))
        b.bind(options, "embedding_choices", None, lambda _paths: self._show_embeddings(options))

    def _show_vaes(self, options: Any) -> None:
        self.vae.clear()
        self.vae.addItem("The model's own", "")
        paths = list(options.vae_choices)
        if options.vae and options.vae not in paths:
            paths.append(options.vae)
        for path in paths:
            self.vae.addItem(Path(path).name, path)
            self.vae.setItemData(self.vae.count() - 1, path, Qt.ItemDataRole.ToolTipRole)
        self.vae.addItem("VAE file…", CHOOSE_FILE)
        self.vae.setCurrentIndex(max(0, self.vae.findData(options.vae)))

    def _choose_vae(self, options: Any) -> None:
        key = self.vae.currentData()
        if key == CHOOSE_FILE:
            path, _ = QFileDialog.getOpenFileName(self, "Choose a VAE of the model's family", "", VAE_FILTER)
            key = path or options.vae
        options.vae = key
        self._show_vaes(options)  # the list again: a file chosen, or the old choice when cancelled

    def _show_embeddings(self, options: Any) -> None:
        self.embeddings_menu.clear()
        paths = list(options.embedding_choices) + [p for p in options.embeddings if p not in options.embedding_choices]
        for path in paths:
            action = self.embeddings_menu.addAction(Path(path).stem)
            action.setCheckable(True)
            action.setChecked(path in options.embeddings)
            action.setToolTip(path)
            action.toggled.connect(lambda on, p=path: options.toggle_embedding(p, on))
        self.embeddings_button.setEnabled(bool(paths))
        names = ", ".join(Path(path).stem for path in options.embeddings)
        self.embeddings_label.setText(f"write {names} in the prompt" if names else
                                      ("none ticked" if paths else "none in the models folders"))

    def _set_variation_text(self, seed: int) -> None:
        if seed == 0 and self.variation_seed.text() in ("", "0"):  # empty shows the placeholder; 0 typed stays
            return
        if self.variation_seed.text() != str(seed):
            self.variation_seed.setText(str(seed))

    def _show_upscaler(self, upscaler: str) -> None:
        self.hires_upscaler.clear()
        for key, label in HIRES_UPSCALERS.items():
            self.hires_upscaler.addItem(label, key)
        if upscaler not in HIRES_UPSCALERS:
            self.hires_upscaler.addItem(Path(upscaler).name, upscaler)
            self.hires_upscaler.setItemData(self.hires_upscaler.count() - 1, upscaler, Qt.ItemDataRole.ToolTipRole)
        self.hires_upscaler.addItem("Upscaler model file…", CHOOSE_FILE)
        self.hires_upscaler.setCurrentIndex(max(0, self.hires_upscaler.findData(upscaler)))

    def _choose_upscaler(self, options: Any) -> None:
        key = self.hires_upscaler.currentData()
        if key == CHOOSE_FILE:
            path, _ = QFileDialog.getOpenFileName(self, "Choose an upscaler model (ESRGAN, Real-ESRGAN, SwinIR…)",
                                                  "", UPSCALER_FILTER)
            key = path or options.hires_upscaler
        self._show_upscaler(key)  # the list again: a file chosen, or the old choice when cancelled
        options.hires_upscaler = key


class OutpaintRow(QWidget):
    """Image to image: pixels to add on each side of the init image (outpainting)."""

    SIDES = (("left", "←"), ("right", "→"), ("top", "↑"), ("bottom", "↓"))

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bindings = Bindings(self)
        self.spins: dict[str, QSpinBox] = {}
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        label = QLabel("Outpaint")
        label.setToolTip("Extend the picture: the new area is painted to match (0 on every side: off)")
        row.addWidget(label)
        for side, arrow in self.SIDES:
            spin = QSpinBox()
            spin.setRange(0, 1024)
            spin.setSingleStep(64)
            spin.setPrefix(arrow + " ")
            spin.setToolTip(f"Pixels added on the {side}")
            self.spins[side] = spin
            row.addWidget(spin, 1)

    def bind(self, state: CreateState) -> None:
        for side, spin in self.spins.items():
            self.bindings.bind(state.options, f"outpaint_{side}", spin.valueChanged, spin.setValue)


class SamplingExtras:
    """The schedule, clip skip and batch size fields that sit in the Sampling form."""

    def __init__(self, parent: QWidget) -> None:
        self.bindings = Bindings(parent)
        self.schedule = QComboBox()
        for key, label in SIGMA_SCHEDULES.items():
            self.schedule.addItem(label, key)
        self.schedule.setToolTip("The sigma schedule the sampler walks (Karras: A1111's “… Karras” samplers)")
        self.clip_skip = QSpinBox()
        self.clip_skip.setRange(1, 12)
        self.clip_skip.setToolTip("Clip skip (A1111's count): 2 reads the text encoder's layer before the last, "
                                  "as many anime models expect")
        self.batch_size = QSpinBox()
        self.batch_size.setRange(1, 16)
        self.batch_size.setToolTip("Images made together in one pass (faster on a GPU, more memory); "
                                   "“Images” is the number of passes")

    def bind(self, state: CreateState) -> None:
        options, b = state.options, self.bindings
        b.bind(options, "sigmas", self.schedule.activated,
               lambda key: self.schedule.setCurrentIndex(max(0, self.schedule.findData(key))),
               to_state=lambda _i: self.schedule.currentData())
        b.bind(state, "scheduler", None, lambda key: self._show_schedules(state, key))
        b.bind(options, "clip_skip", self.clip_skip.valueChanged, self.clip_skip.setValue)
        b.bind(options, "batch_size", self.batch_size.valueChanged, self.batch_size.setValue)

    def _show_schedules(self, state: CreateState, sampler: str) -> None:
        """Euler a, DDIM and LCM walk only their own schedule: the field is off (the state resets it)."""
        allowed = sigma_schedules_for(sampler) if sampler else list(SIGMA_SCHEDULES)
        self.schedule.setEnabled(len(allowed) > 1)


class PromptTools(QWidget):
    """Under the prompt: apply or save a style, take a prompt back from the history, the PNG Info button."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bindings = Bindings(self)
        self.token_count = QLabel()
        self.token_count.setProperty("muted", True)
        self.token_count.setToolTip("Tokens of the prompt as the model reads it; past 75 a second chunk of 75 "
                                    "begins (A1111's way)")
        self.style_combo = QComboBox()
        self.style_combo.setToolTip("A saved style: its text goes where {prompt} is, or after the prompt")
        self.style_combo.setMinimumContentsLength(10)
        self.apply_style = QPushButton("Apply style")
        self.save_style = QPushButton("Save style…")
        self.save_style.setToolTip("Save the prompt and negative prompt as a style")
        self.history_button = QToolButton()
        self.history_button.setText("History")
        self.history_button.setToolTip("Prompts used before, newest first")
        self.history_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.history_menu = QMenu(self.history_button)
        self.history_button.setMenu(self.history_menu)
        self.png_info_button = QPushButton("PNG Info…")
        self.png_info_button.setToolTip("Read the settings an image was made with (this studio, A1111, ComfyUI, "
                                        "InvokeAI) and send them to Create")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.token_count)
        row.addWidget(self.style_combo, 1)
        row.addWidget(self.apply_style)
        row.addWidget(self.save_style)
        row.addWidget(self.history_button)
        row.addWidget(self.png_info_button)

    def bind(self, state: CreateState) -> None:
        b, prompts = self.bindings, state.prompts
        b.bind(prompts, "token_count", None, self.token_count.setText)
        self._show_styles(prompts.styles)
        b.connect(prompts.styles_changed, self._show_styles)
        self._show_history(prompts, prompts.history)
        b.connect(prompts.history_changed, lambda entries: self._show_history(prompts, entries))
        b.connect(self.apply_style.clicked, lambda: self._apply(prompts))
        b.connect(self.save_style.clicked, lambda: self._save(prompts))
        b.connect(self.png_info_button.clicked, lambda: self._png_info(prompts))

    def _show_styles(self, styles: list) -> None:
        self.style_combo.clear()
        for style in styles:
            self.style_combo.addItem(style.name, style.name)
        if not styles:
            self.style_combo.addItem("No saved styles", None)
        self.style_combo.setEnabled(bool(styles))
        self.apply_style.setEnabled(bool(styles))

    def _show_history(self, prompts: PromptLibrary, entries: list) -> None:
        self.history_menu.clear()
        for index, entry in enumerate(entries[:30]):
            text = " ".join(entry.prompt.split())
            action = self.history_menu.addAction(text if len(text) <= 70 else text[:69] + "…")
            action.setToolTip(entry.prompt)
            action.triggered.connect(lambda _checked=False, i=index: prompts.use_history(i))
        self.history_button.setEnabled(bool(entries))

    def _apply(self, prompts: PromptLibrary) -> None:
        name = self.style_combo.currentData()
        if name:
            prompts.apply_style(name)

    def _save(self, prompts: PromptLibrary) -> None:
        name, ok = QInputDialog.getText(self, "Save style", "Name of the style:")
        if ok and name.strip():
            prompts.save_style(name)

    def _png_info(self, prompts: PromptLibrary) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Read an image's generation settings", "", IMAGE_FILTER)
        if path:
            prompts.read_png_info(path)


class PngInfoPanel(QWidget):
    """What PNG Info read from an image, and Send to Create; hidden until something is read."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bindings = Bindings(self)
        self.text = PlainTextView()
        self.text.setReadOnly(True)
        self.text.setMaximumHeight(160)
        self.send = QPushButton("Send to Create")
        self.send.setToolTip("Fill the form with these settings (what cannot be taken is said above the image)")
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setToolTip("Close PNG Info")
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(_title("PNG Info"))
        row.addStretch(1)
        row.addWidget(self.close_button)
        column.addLayout(row)
        column.addWidget(self.text)
        column.addWidget(self.send)

    def bind(self, state: CreateState) -> None:
        b, prompts = self.bindings, state.prompts
        b.bind(prompts, "png_info_text", None, self._show_text)
        b.bind(prompts, "png_info_ready", None, self.send.setEnabled)
        b.connect(self.send.clicked, state.send_to_create)
        b.connect(self.close_button.clicked, lambda: setattr(prompts, "png_info_text", ""))

    def _show_text(self, text: str) -> None:
        self.text.setPlainText(text)
        self.setVisible(bool(text))
