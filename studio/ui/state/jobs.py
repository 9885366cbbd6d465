"""The Create tab's generation jobs and the lists that show them: the queue and the results.

A :class:`GenerationJob` runs on the GPU lane and reports :class:`JobProgress` and one
:class:`ResultItem` per saved image; :class:`QueueModel` and :class:`ResultsModel` are the
list models the tab's views show. No widgets here.

Every saved image is also recorded in the library (the Gallery) from the worker thread, by the
workflow's `save_work`; when that fails the image stays saved and the failure becomes one of the
work's warnings.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QImage, QPixmap

from studio.generation.request import GenerationRequest, ModelInfo
from studio.generation.schedulers import SCHEDULERS
from studio.ui.images import load_thumbnail, pil_to_qimage
from studio.ui.workers import GpuLane, Job

if TYPE_CHECKING:
    from studio.cancel import CancelToken
    from studio.generation.request import GenerationProgress, Recipe
    from studio.library.db import Library
    from studio.workflows.generate import SavedWork

log = logging.getLogger(__name__)

TEXT_TO_IMAGE, IMAGE_TO_IMAGE, INPAINT = "txt2img", "img2img", "inpaint"
MODES = {TEXT_TO_IMAGE: "Text to image", IMAGE_TO_IMAGE: "Image to image", INPAINT: "Inpaint"}


def format_progress(progress: "GenerationProgress") -> str:
    """'step 3/20 · image 1/2 · ETA 4 s' for one progress report."""
    return progress.text


def recipe_text(recipe: "Recipe", path: Path | None = None) -> str:
    """The recipe of one work as lines for people (shown beside the full image)."""
    lines = [f"Prompt: {recipe.prompt}"]
    if recipe.negative_prompt:
        lines.append(f"Negative: {recipe.negative_prompt}")
    lines += [
        f"Seed: {recipe.seed}",
        f"Model: {recipe.model_name} ({recipe.model_family})",
        f"Model hash: {recipe.model_hash}",
        f"Sampler: {SCHEDULERS.get(recipe.scheduler, recipe.scheduler)}"
        f"{'' if recipe.sigmas == 'default' else ' ' + recipe.sigmas.capitalize()} · {recipe.steps} steps · "
        f"CFG {recipe.guidance:g}" + (f" · clip skip {recipe.clip_skip}" if recipe.clip_skip != 1 else ""),
        f"Size: {recipe.width}x{recipe.height} · {MODES.get(recipe.mode, recipe.mode)}",
    ]
    if recipe.strength is not None:
        lines.append(f"Strength: {recipe.strength:g}")
    if recipe.mask_blur is not None:
        area = "only masked, padding " + f"{recipe.inpaint_padding} px" if recipe.inpaint_area == "masked" else \
            "whole picture"
        lines.append(f"Inpaint: mask blur {recipe.mask_blur} px · {area}")
    if recipe.variation_seed is not None and recipe.variation_strength > 0:
        lines.append(f"Variation: seed {recipe.variation_seed} at {recipe.variation_strength:g}")
    if recipe.batch_size > 1:
        lines.append(f"Batch: image {recipe.batch_index + 1} of {recipe.batch_size}")
    if recipe.hires is not None:
        lines.append(f"Hires fix: ×{recipe.hires.scale:g} with {recipe.hires.upscaler}, {recipe.hires.steps} steps, "
                     f"denoise {recipe.hires.denoise:g}")
    if recipe.upscale is not None:
        lines.append(f"Upscaled: ×{recipe.upscale.scale:g} with {recipe.upscale.upscaler}"
                     + (f" from {recipe.init_image_hash[:12]}" if recipe.init_image_hash else ""))
    if recipe.vae is not None:
        lines.append(f"VAE: {recipe.vae[0]} ({recipe.vae[1][:12]})")
    for name, sha in recipe.embeddings:
        lines.append(f"Embedding: {name} ({sha[:12]})")
    for unit in recipe.control:
        lines.append(f"Control: {unit.model_name} ({unit.preprocessor}) × {unit.weight:g}")
    for name, sha, weight in recipe.loras:
        lines.append(f"LoRA: {name} × {weight:g} ({sha[:12]})")
    if recipe.device:
        lines.append(f"Device: {recipe.device} ({recipe.dtype})")
    if path is not None:
        lines.append(f"File: {path}")
    return "\n".join(lines)


@dataclass(frozen=True)
class JobProgress:
    """What the progress strip shows: a line of text, a fraction (None: busy), a preview image."""

    text: str
    fraction: float | None
    preview: QImage | None = None


@dataclass(frozen=True)
class ResultItem:
    """One saved work as the results grid shows it."""

    work: "SavedWork"
    thumbnail: QImage
    caption: str = ""   # what the grid writes under it ("#3" in a collection); else its seed
    grid: Path | None = None  # an X/Y/Z plot's grid image: a picture of works (``work``: its first cell), no work
    note: str = ""            # what the recipe view says of a grid image

    @property
    def path(self) -> Path:
        return self.grid if self.grid is not None else self.work.path

    @property
    def seed(self) -> int:
        return self.work.recipe.seed


class GenerationJob(Job):
    """One Generate press: validate, build the demo if needed, generate, save each image as it ends."""

    saved = Signal(object)  # ResultItem, as each image is written

    def __init__(self, request: GenerationRequest, model: ModelInfo, lane: GpuLane, works_dir: Path, *,
                 preview_every: int = 0, signer: Any = None, library: "Library | None" = None,
                 parent: QObject | None = None) -> None:
        prompt = request.prompt if len(request.prompt) <= 40 else request.prompt[:39] + "…"
        count = f"{request.count}× " if request.count > 1 else ""
        super().__init__(f"“{prompt}” {count}{request.width}x{request.height}", parent)
        self.request = request
        self.model = model
        self._lane = lane
        self._works_dir = works_dir
        self._preview_every = preview_every
        self.signer = signer  # a chain Signer (the unlocked wallet account) signs each manifest; None: unsigned
        self._library = library  # None: the studio home's library, opened in the worker for this job
        self.started_at = 0.0

    def run(self, progress: Callable[[Any], None], cancel: "CancelToken") -> list["SavedWork"]:
        from studio.workflows.generate import generate_works

        self.started_at = time.perf_counter()
        progress(JobProgress("Starting…", None))
        engine = self._lane.engine()
        if self.model.is_demo and not (Path(self.model.path) / "model_index.json").exists():
            progress(JobProgress("Building the demo model…", None))  # the catalog builds it on resolve
        info = engine.validate(self.request)
        cancel.raise_if_cancelled()
        if engine.loaded_model is None or engine.loaded_model.path != info.path:
            progress(JobProgress(f"Loading {info.label}…", None))

        saving = "Saving and signing…" if self.signer is not None else "Saving…"

        def on_step(step: "GenerationProgress") -> None:
            if step.step >= step.steps:  # the image is decoded, written and signed next: say so, not "ETA <1 s"
                count = f" (image {step.image_index + 1}/{step.image_count})" if step.image_count > 1 else ""
                progress(JobProgress(saving + count, step.fraction, None))
                return
            preview = pil_to_qimage(step.preview) if step.preview is not None else None
            progress(JobProgress(format_progress(step), step.fraction, preview))

        library, opened, problem = self._open_library()

        def on_saved(work: "SavedWork") -> None:
            if problem:
                work = not_recorded(work, problem)
            self.saved.emit(ResultItem(work, load_thumbnail(work.path)))

        try:
            saved = generate_works(self.request, engine, self._works_dir, library=library, progress=on_step,
                                   cancel=cancel, preview_every=self._preview_every, on_saved=on_saved,
                                   signer=self.signer)
        finally:
            if opened and library is not None:
                library.close()
        return [not_recorded(work, problem) if problem else work for work in saved]

    def _open_library(self) -> tuple["Library | None", bool, str]:
        """(library, opened here, why there is none)."""
        return open_library(self._library)


class UpscaleJob(Job):
    """“Upscale” on a result: the picture made larger (Lanczos or an upscaler model file) and saved as a
    new work that names its source, on the GPU lane."""

    saved = Signal(object)  # ResultItem

    def __init__(self, source: Path, upscaler: str, scale: float, lane: GpuLane, works_dir: Path, *,
                 signer: Any = None, library: "Library | None" = None, parent: QObject | None = None) -> None:
        super().__init__(f"Upscale {source.name} ×{scale:g}", parent)
        self.source, self.upscaler, self.scale = source, upscaler, scale
        self._lane, self._works_dir, self.signer, self._library = lane, works_dir, signer, library
        self.started_at = 0.0

    def run(self, progress: Callable[[Any], None], cancel: "CancelToken") -> list["SavedWork"]:
        from studio.workflows.upscale import upscale_work

        self.started_at = time.perf_counter()
        progress(JobProgress(f"Upscaling {self.source.name}…", None))
        engine = self._lane.engine()
        cancel.raise_if_cancelled()
        library, opened, problem = open_library(self._library)
        try:
            work = upscale_work(self.source, engine, self._works_dir, library=library, upscaler=self.upscaler,
                                scale=self.scale, signer=self.signer)
        finally:
            if opened and library is not None:
                library.close()
        if problem:
            work = not_recorded(work, problem)
        self.saved.emit(ResultItem(work, load_thumbnail(work.path)))
        return [work]


def open_library(library: "Library | None") -> tuple["Library | None", bool, str]:
    """(library, opened here, why there is none): the window's, else the studio home's."""
    if library is not None:
        return library, False, ""
    from studio.errors import StudioError
    from studio.library.db import Library

    try:
        return Library.default(), True, ""
    except StudioError as exc:
        log.warning("The library could not be opened; works are saved but not recorded: %s", exc)
        return None, False, str(exc)


def not_recorded(work: "SavedWork", problem: str) -> "SavedWork":
    """The work with a warning that the library could not be opened to record it."""
    return replace(work, warnings=work.warnings + (
        f"{work.path.name} was saved, but not added to the Gallery ({problem}).",))


class ResultsModel(QAbstractListModel):
    """The works made in this session, newest first, with thumbnails."""

    ItemRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._items: list[ResultItem] = []
        self._pixmaps: dict[Path, QPixmap] = {}

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._items)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        item = self._items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return item.caption or f"seed {item.seed}"
        if role == Qt.ItemDataRole.DecorationRole:
            pixmap = self._pixmaps.get(item.path)
            if pixmap is None:
                pixmap = self._pixmaps[item.path] = QPixmap.fromImage(item.thumbnail)
            return pixmap
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{item.work.recipe.prompt}\nseed {item.seed}\n{item.path}"
        if role == self.ItemRole:
            return item
        return None

    def item(self, row: int) -> ResultItem:
        return self._items[row]

    @property
    def items(self) -> tuple[ResultItem, ...]:
        return tuple(self._items)

    def prepend(self, item: ResultItem) -> None:
        self.beginInsertRows(QModelIndex(), 0, 0)
        self._items.insert(0, item)
        self.endInsertRows()

    def append(self, item: ResultItem) -> None:
        row = len(self._items)
        self.beginInsertRows(QModelIndex(), row, row)
        self._items.append(item)
        self.endInsertRows()

    def set_items(self, items: list[ResultItem]) -> None:
        """Show exactly ``items`` (a collection folder read back, a new sheet)."""
        self.beginResetModel()
        self._items = list(items)
        shown = {item.path for item in self._items}
        self._pixmaps = {path: pixmap for path, pixmap in self._pixmaps.items() if path in shown}
        self.endResetModel()


class QueueModel(QAbstractListModel):
    """The GPU lane's jobs: the running one first, then those waiting."""

    JobRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, lane: GpuLane, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lane = lane
        self._jobs: tuple[Job, ...] = ()
        lane.queue_changed.connect(self._refresh)

    def _refresh(self) -> None:
        self.beginResetModel()
        self._jobs = tuple(job for job in self._lane.jobs if isinstance(job, GenerationJob))
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._jobs)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._jobs):
            return None
        job = self._jobs[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            state = "Running" if job is self._lane.current else "Waiting"
            return f"{state} · {job.title}"
        if role == self.JobRole:
            return job
        return None

    def job(self, row: int) -> Job:
        return self._jobs[row]
