"""The Verify dialog: what a file says about where it came from, checked, for people.

It shows the verdict as a badge (Verified, Unproven, No provenance, Tampered, Invalid signature,
Unreadable), the signer (a creator the manifest names without a valid signature is shown as a
claim, never as proven), whether the pixels match, the C2PA state, where the metadata came from,
the recipe, the tokens minted from the work (checked on chain), problems and notes; a "PNG info"
box with the raw text another tool (A1111, ComfyUI, InvokeAI) wrote; and "Use these settings",
which hands the recipe to the Create tab. Verifying runs in a worker; nothing from the file is
ever shown as rich text, and its text goes through ``studio.text.printable`` (control characters
and bidi overrides are shown as escapes).

    dialog = open_verify_dialog(window, path, background_pool, create_state)
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout,
                               QLabel, QPlainTextEdit, QPushButton, QScrollArea, QVBoxLayout, QWidget)

from studio.text import printable
from studio.workflows.recipes import MULTILINE_ROWS, RECIPE_ROWS, recipe_rows
from studio.ui import theme
from studio.ui.widgets.file_drop import FileDropFilter
from studio.ui.workers import BackgroundPool, FunctionJob, error_message, job_of

if TYPE_CHECKING:
    from studio.provenance.foreign import RecipeSummary
    from studio.provenance.verify import ChainCheck, Verdict
    from studio.ui.state.create import CreateState

THUMBNAIL = 160
OK_BG, OK_TEXT = "OK_BG", "OK_TEXT"  # theme names, read when the badge is drawn
#: verdict -> (badge text, background, text colour, one sentence); colours are theme names or #rgb
BADGES: dict[str, tuple[str, str, str, str]] = {
    "verified": ("✓ Verified", OK_BG, OK_TEXT, "Everything this file carries checks out."),
    "unproven": ("Unproven", "WARNING_BG", "WARNING_TEXT",
                 "The file is intact, but nothing proves who made it: what it says about its creator is a claim."),
    "no-provenance": ("No provenance", "WARNING_BG", "WARNING_TEXT",
                      "The file carries no signed manifest: nothing says who made it or how."),
    "tampered": ("✗ Tampered", "ERROR_BG", "ERROR_TEXT",
                 "The file does not match what was signed or minted: it was changed, or its claims are false."),
    "invalid-signature": ("✗ Invalid signature", "ERROR_BG", "ERROR_TEXT",
                          "The signature was not made by the creator the manifest names."),
    "unreadable": ("Unreadable", "WARNING_BG", "WARNING_TEXT", "The file could not be read as an image."),
}


def _colour(name: str) -> str:
    """A theme colour by name, read when used so it follows the theme in use (or a literal #rgb)."""
    return getattr(theme, name, name)


SOURCES = {"studio": "Provenance Studio manifest", "c2pa": "C2PA manifest", "a1111": "AUTOMATIC1111 / Forge",
           "comfyui": "ComfyUI", "invokeai": "InvokeAI", "none": "None"}
C2PA_STATES = {"trusted": "Valid, signed by this studio", "valid": "Valid (signer not in the trust list)",
               "invalid": "Does not validate", "absent": "None in the file",
               "unavailable": "Not checked (c2pa library not installed)"}
CHAIN_STATES = {"ok": "✓ Matches the chain", "mismatch": "✗ Does not match", "unreachable": "Not reachable",
                "not-found": "Not found on chain"}


def _plain(text: str = "", *, muted: bool = False, wrap: bool = True) -> QLabel:
    """A label that never interprets what it shows (file contents are not trusted)."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if muted:
        label.setStyleSheet(f"color: {theme.MUTED};")
    return label


def _short(address: str | None) -> str:
    return f"{address[:6]}…{address[-4:]}" if address and len(address) > 12 else (address or "")


def _mark(value: bool | None, yes: str, no: str, unknown: str = "—") -> str:
    return yes if value else (no if value is False else unknown)


def _thumbnail(path: Path) -> QImage | None:
    """A small preview, decoded on the worker thread (QImage, unlike QPixmap, may be made there)."""
    image = QImage(str(path))
    if image.isNull():
        return None
    return image.scaled(THUMBNAIL, THUMBNAIL, Qt.AspectRatioMode.KeepAspectRatio,
                        Qt.TransformationMode.SmoothTransformation)


class VerifyDialog(QDialog):
    """Verifies one file at a time (choose, drop or pass a path) and shows what was found."""

    verified = Signal(object)          # the Verdict, once shown
    settings_chosen = Signal(object)   # a RecipeSummary, on "Use these settings"

    def __init__(self, background: BackgroundPool, parent: QWidget | None = None, *,
                 create_state: "CreateState | None" = None, chain: bool = True,
                 verify: Callable[[Path], "Verdict"] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Verify file")
        self.resize(620, 720)
        self.setAcceptDrops(True)
        self.background = background
        self.create_state = create_state
        self._verify = verify or (lambda path: _verify_file(path, chain))
        self._job: FunctionJob | None = None
        self.path: Path | None = None
        self.verdict: "Verdict | None" = None
        self.settings: "RecipeSummary | None" = None
        self._build()
        self.drop_filter = FileDropFilter(self)
        self.drop_filter.watch(self)
        self.drop_filter.files_dropped.connect(lambda paths: self.verify(paths[0]))
        self._show_empty()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        top = QHBoxLayout()
        self.file_label = _plain("Drop an image here, or choose one.", muted=True)
        self.choose_button = QPushButton("Choose file…")
        self.choose_button.clicked.connect(self.choose_file)
        top.addWidget(self.file_label, 1)
        top.addWidget(self.choose_button)
        outer.addLayout(top)

        head = QHBoxLayout()
        self.preview = QLabel()
        self.preview.setFixedSize(THUMBNAIL, THUMBNAIL)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setStyleSheet(f"background: {theme.RAISED}; border-radius: 6px;")
        head.addWidget(self.preview)
        verdict_box = QVBoxLayout()
        self.badge = QLabel()
        self.badge.setTextFormat(Qt.TextFormat.PlainText)
        self.badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.badge.setMinimumHeight(36)
        self.explanation = _plain()
        summary = QFormLayout()
        summary.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.signer_label = _plain()
        self.pixels_label = _plain()
        self.c2pa_label = _plain()
        self.source_label = _plain()
        summary.addRow("Signer", self.signer_label)
        summary.addRow("Pixels", self.pixels_label)
        summary.addRow("C2PA", self.c2pa_label)
        summary.addRow("Metadata", self.source_label)
        verdict_box.addWidget(self.badge)
        verdict_box.addWidget(self.explanation)
        verdict_box.addLayout(summary)
        verdict_box.addStretch(1)
        head.addLayout(verdict_box, 1)
        outer.addLayout(head)

        body = QWidget()
        column = QVBoxLayout(body)
        column.setContentsMargins(0, 0, 0, 0)
        self.problems_label = _plain()
        self.problems_label.setStyleSheet(f"color: {theme.ERROR_TEXT};")
        self.notes_label = _plain(muted=True)
        column.addWidget(self.problems_label)
        column.addWidget(self.notes_label)

        self.recipe_box = QGroupBox("Recipe")
        self.recipe_form = QFormLayout(self.recipe_box)
        self.recipe_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.recipe_labels: dict[str, QLabel] = {}
        for key, title in RECIPE_ROWS:
            self.recipe_labels[key] = _plain()
            self.recipe_form.addRow(title, self.recipe_labels[key])
        self.use_settings = QPushButton("Use these settings")
        self.use_settings.setToolTip("Fill the Create tab with this recipe: prompt, model, sampler, size, "
                                      "hires fix, LoRAs and the rest")
        self.use_settings.clicked.connect(self._use_settings)
        self.recipe_form.addRow(self.use_settings)
        column.addWidget(self.recipe_box)

        self.chain_box = QGroupBox("On chain")
        chain_layout = QVBoxLayout(self.chain_box)
        self.chain_label = _plain()
        chain_layout.addWidget(self.chain_label)
        column.addWidget(self.chain_box)

        self.png_info_box = QGroupBox("PNG info")
        png_layout = QVBoxLayout(self.png_info_box)
        self.png_info = QPlainTextEdit()
        self.png_info.setReadOnly(True)
        self.png_info.setMinimumHeight(110)
        png_layout.addWidget(self.png_info)
        column.addWidget(self.png_info_box)
        column.addStretch(1)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)

        self.status = _plain(muted=True)
        outer.addWidget(self.status)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        outer.addWidget(buttons)

    # ------------------------------------------------------------------ verifying
    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Verify file", str(self.path.parent) if self.path else "",
                                              "Images (*.png *.jpg *.jpeg *.webp);;All files (*)")
        if path:
            self.verify(Path(path))

    def verify(self, path: Path | str) -> FunctionJob:
        """Verify ``path`` in the background; ``verified`` fires when the result is shown."""
        path = Path(path)
        if self._job is not None:
            self._job.cancel()  # its result, if it still comes, is ignored
        self.path, self.verdict, self.settings = path, None, None
        self.file_label.setText(printable(path))
        self.file_label.setStyleSheet("")
        self.setWindowTitle(f"Verify {printable(path.name)}")
        self._set_badge("Checking…", theme.RAISED, theme.TEXT)
        self.explanation.setText("Reading the file, checking its signature and pixels, and any tokens minted "
                                 "from it.")
        for label in (self.signer_label, self.pixels_label, self.c2pa_label, self.source_label,
                      self.problems_label, self.notes_label):
            label.setText("")
        self.preview.clear()
        for box in (self.recipe_box, self.chain_box, self.png_info_box):
            box.hide()
        self.status.setText("")
        check = self._verify

        def run(_progress: Callable[[Any], None], _cancel: Any) -> tuple["Verdict", QImage | None]:
            verdict = check(path)
            # an unreadable file (a decompression bomb, a FIFO, a cut file) is not opened again for a preview
            return verdict, (None if verdict.verdict == "unreadable" else _thumbnail(path))

        job = FunctionJob(f"Verifying {path.name}", run)
        job.to(self).succeeded.connect(self._on_verified)
        job.to(self).failed.connect(self._on_failed)
        self._job = job
        self.background.start(job)
        return job

    def _on_verified(self, result: tuple["Verdict", QImage | None]) -> None:
        if job_of(self.sender()) is not self._job:
            return
        self._job = None
        verdict, thumbnail = result
        self.show_verdict(verdict, thumbnail)
        self.verified.emit(verdict)

    def _on_failed(self, exc: BaseException) -> None:
        if job_of(self.sender()) is not self._job:
            return
        self._job = None
        self._set_badge("Not checked", theme.ERROR_BG, theme.ERROR_TEXT)
        self.explanation.setText(printable(error_message(exc), multiline=True))

    # ------------------------------------------------------------------ showing
    def _show_empty(self) -> None:
        self._set_badge("No file", theme.RAISED, theme.MUTED)
        self.explanation.setText("Drop an image on this window to check where it came from.")
        for box in (self.recipe_box, self.chain_box, self.png_info_box):
            box.hide()

    def _set_badge(self, text: str, background: str, colour: str) -> None:
        self.badge.setText(text)
        self.badge.setStyleSheet(f"background: {background}; color: {colour}; border-radius: 6px; "
                                 "font-size: 16px; font-weight: 600; padding: 6px 12px;")

    def show_verdict(self, verdict: "Verdict", thumbnail: QImage | None = None) -> None:
        """Fill every section from ``verdict`` (public so a caller holding a verdict can show it)."""
        self.verdict = verdict
        text, background, colour, sentence = BADGES.get(verdict.verdict, (verdict.verdict, "RAISED", "TEXT", ""))
        self._set_badge(text, _colour(background), _colour(colour))
        self.explanation.setText(sentence)
        if thumbnail is not None:
            self.preview.setPixmap(QPixmap.fromImage(thumbnail))
        else:
            self.preview.setText("No preview")
        self.signer_label.setText(printable(signer_text(verdict)))
        self.pixels_label.setText(_mark(verdict.pixel_hash_ok, "✓ Match the signed pixel hash",
                                        "✗ Do not match the signed pixel hash", "No pixel hash to compare"))
        c2pa = C2PA_STATES.get(verdict.c2pa, verdict.c2pa)
        self.c2pa_label.setText(printable(f"{c2pa}, signed by {verdict.c2pa_signer}" if verdict.c2pa_signer
                                          else c2pa))
        source = SOURCES.get(verdict.source, verdict.source)
        self.source_label.setText(printable(f"{source} ({verdict.format.upper()})" if verdict.format else source))
        self.problems_label.setText("\n".join(f"• {printable(p)}" for p in verdict.problems))
        self.problems_label.setVisible(bool(verdict.problems))
        self.notes_label.setText("\n".join(f"• {printable(n)}" for n in verdict.notes))
        self.notes_label.setVisible(bool(verdict.notes))
        self._show_recipe(verdict)
        self._show_chain(verdict.chain)
        foreign = verdict.foreign
        raw = foreign.raw if foreign is not None else {}
        self.png_info.setPlainText("\n\n".join(f"{printable(key)}:\n{printable(value, multiline=True)}"
                                               for key, value in raw.items()))
        self.png_info_box.setVisible(bool(raw))
        if foreign is not None and raw:
            self.png_info_box.setTitle(f"PNG info ({printable(SOURCES.get(foreign.source, foreign.source))})")

    def _show_recipe(self, verdict: "Verdict") -> None:
        self.settings = s = verdict.recipe
        if s is None:
            self.recipe_box.hide()
            return
        for key, _label, value in recipe_rows(s, verdict.manifest):
            label = self.recipe_labels[key]
            label.setText(printable(value, multiline=key in MULTILINE_ROWS))
            visible = bool(value) or key == "prompt"
            label.setVisible(visible)
            self.recipe_form.labelForField(label).setVisible(visible)
        title = "Recipe" if s.source == "studio" else f"Recipe written by {SOURCES.get(s.source, s.source)}"
        self.recipe_box.setTitle(title)
        self.recipe_box.show()
        self.use_settings.setEnabled(bool(s.prompt))

    def _show_chain(self, checks: tuple["ChainCheck", ...]) -> None:
        if not checks:
            self.chain_box.hide()
            return
        blocks = []
        for check in checks:  # the owner and the network's name come from outside: each line is printable
            lines = [f"Token {check.token_id} of {_short(check.collection)} on {check.network}: "
                     f"{CHAIN_STATES.get(check.state, check.state)}"]
            if check.owner:
                lines.append(f"   Owner {check.owner}")
            if check.state in ("ok", "mismatch"):
                lines.append("   " + ", ".join((
                    _mark(check.commitment_ok, "commitment ✓", "commitment ✗"),
                    _mark(check.image_ok, "image ✓", "image ✗"),
                    _mark(check.provenance_ok, "provenance ✓", "provenance ✗", "no provenance"))))
            if check.metadata_cid:
                lines.append(f"   Metadata ipfs://{check.metadata_cid}")
            blocks.append("\n".join(printable(line) for line in lines))
        self.chain_label.setText("\n\n".join(blocks))
        self.chain_box.setTitle("On chain" if len(checks) == 1 else f"On chain ({len(checks)} tokens)")
        self.chain_box.show()

    # ------------------------------------------------------------------ use these settings
    def _use_settings(self) -> None:
        if self.settings is None:
            return
        if self.create_state is not None and self.path is not None:
            # the file's whole recipe, read the way PNG Info reads it (sampler, hires fix, LoRAs, control units ...)
            self.status.setText("Reading the recipe into the Create tab…")
            job = self.create_state.use_settings_of(self.path)
            job.to(self).succeeded.connect(self._on_settings_used)
            job.to(self).failed.connect(self._on_settings_failed)
        self.settings_chosen.emit(self.settings)

    def _on_settings_failed(self, exc: BaseException) -> None:
        self.status.setText(printable(error_message(exc)))

    def _on_settings_used(self, found: Any) -> None:
        if found.request is None:
            self.status.setText("This file carries no recipe the Create tab can take.")
            return
        skipped = self.create_state.warning.splitlines() if self.create_state is not None else []
        self.status.setText(printable(" ".join(["The Create tab now holds this recipe.", *skipped])))

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        if self._job is not None:
            self._job.cancel()
            self._job = None
        super().closeEvent(event)

    def reject(self) -> None:
        if self._job is not None:
            self._job.cancel()
            self._job = None
        super().reject()


def signer_text(verdict: "Verdict") -> str:
    """Who signed, for people: a creator is named as proven only when the signature is valid."""
    claimed = verdict.claimed_creator
    if verdict.signature_valid:
        return f"{verdict.signer} (signature valid)"
    if verdict.signature_valid is False:
        recovered = f"; the signature recovers to {verdict.signer}" if verdict.signer else ""
        return f"✗ Invalid: the manifest claims {claimed or 'no creator'}{recovered}"
    if verdict.manifest is None:
        return "—"
    if verdict.signature is None:
        return f"Not signed: claims {claimed} as creator (not proven)" if claimed else "Not signed"
    return f"Signature not checked: claims {claimed} as creator (not proven)"


def _verify_file(path: Path, chain: bool) -> "Verdict":
    from studio.workflows.verify import verify_file

    return verify_file(path, chain=chain)


def open_verify_dialog(parent: QWidget | None, path: Path | str | None, background_pool: BackgroundPool,
                       create_state: "CreateState | None" = None) -> VerifyDialog:
    """Open the Verify dialog (not modal) on ``path``; with no path it waits for a choice or a drop.

    With ``create_state``, "Use these settings" fills the Create tab."""
    dialog = VerifyDialog(background_pool, parent, create_state=create_state)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    if path is not None:
        dialog.verify(Path(path))
    return dialog
