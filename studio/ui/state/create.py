"""The Create tab's view-model: the recipe being edited, the generation queue, progress and results.

No widgets here: the tab binds to these properties and signals, and a test can drive the whole
tab (type a prompt, generate, cancel, reuse a seed) without a window. Generation runs on the GPU
lane through :class:`~studio.ui.state.jobs.GenerationJob`; everything that can be checked
without torch is checked here, before anything is queued.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QImage

from studio.errors import InputError, NotFound, StudioError
from studio.generation.request import GenerationRequest, LoraSpec, ModelFamily, ModelInfo
from studio.generation.schedulers import default_settings, schedulers_for
from studio.ui.binding import Field
from studio.ui.state.create_grid import GridJob, GridPlot
from studio.ui.state.create_options import CreateOptions
from studio.ui.images import qimage_to_pil_mask
from studio.ui.state.jobs import (IMAGE_TO_IMAGE, INPAINT, TEXT_TO_IMAGE, GenerationJob, JobProgress, QueueModel,
                                  ResultItem, ResultsModel, UpscaleJob)
from studio.ui.workers import BackgroundPool, FunctionJob, GpuLane, Job, error_message, job_of

if TYPE_CHECKING:
    from studio.config import Config
    from studio.workflows.generate import SavedWork

log = logging.getLogger(__name__)

MAX_SEED = 2**32 - 1

EMPTY_STATE_TEXT = ("No model found on this machine. Add a model (a .safetensors file or a diffusers folder) "
                    "or try the built-in demo model (tiny, random weights: its images are abstract).")

#: Sizes each family was trained around (width, height); the demo also offers small, fast ones.
SIZE_PRESETS: dict[ModelFamily, tuple[tuple[int, int], ...]] = {
    ModelFamily.SD1: ((512, 512), (512, 768), (768, 512), (640, 640), (576, 768), (768, 576)),
    ModelFamily.SD2: ((768, 768), (768, 1024), (1024, 768), (640, 640), (512, 512)),
    ModelFamily.SDXL: ((1024, 1024), (896, 1152), (1152, 896), (1216, 832), (832, 1216), (1344, 768),
                       (768, 1344)),
}
#: The demo is fast at small sizes; it also takes its family's sizes (about 1 s at 512x512 on a CPU).
DEMO_SIZE_PRESETS = ((256, 256), (128, 128), (64, 64), *SIZE_PRESETS[ModelFamily.SD1])


def size_presets_for(model: ModelInfo | None) -> tuple[tuple[int, int], ...]:
    if model is None:
        return SIZE_PRESETS[ModelFamily.SD1]
    if model.is_demo:
        return DEMO_SIZE_PRESETS
    return SIZE_PRESETS[model.family]


def _nearest_multiples(value: int) -> str:
    lower = value - value % 8
    return " or ".join(str(v) for v in (lower, lower + 8) if v >= 8)


class CreateState(QObject):
    """Everything the Create tab shows and does."""

    prompt_changed = Signal(str)
    negative_prompt_changed = Signal(str)
    models_changed = Signal(object)
    model_name_changed = Signal(str)
    schedulers_changed = Signal(object)
    scheduler_changed = Signal(str)
    steps_changed = Signal(int)
    guidance_changed = Signal(float)
    size_presets_changed = Signal(object)
    width_changed = Signal(int)
    height_changed = Signal(int)
    random_seed_changed = Signal(bool)
    seed_changed = Signal(object)  # seeds reach 2**32 - 1, beyond a C int
    count_changed = Signal(int)
    loras_changed = Signal(object)
    mode_changed = Signal(str)
    init_image_path_changed = Signal(str)
    strength_changed = Signal(float)
    mask_blur_changed = Signal(int)
    inpaint_area_changed = Signal(str)
    inpaint_padding_changed = Signal(int)
    busy_changed = Signal(bool)
    progress_text_changed = Signal(str)
    progress_fraction_changed = Signal(float)
    preview_changed = Signal(object)
    error_changed = Signal(str)
    warning_changed = Signal(str)
    show_empty_state_changed = Signal(bool)
    skipped_models_changed = Signal(str)
    signing_note_changed = Signal(str)
    signing_locked_changed = Signal(bool)
    #: "Unlock…" next to the signing note: the window asks the wallet password.
    unlock_requested = Signal()
    #: A generation job ended (done, failed or cancelled) and the lane moved on to the next.
    job_finished = Signal(object)
    #: A work was saved and added to the results (newest first).
    result_added = Signal(object)
    #: “Mint…” on selected results: the files to mint (the window opens the mint dialog).
    mint_requested = Signal(object)
    #: The saved prompt styles (a list of PromptStyle) and the prompt history (newest first) changed.
    styles_changed = Signal(object)
    history_changed = Signal(object)
    png_info_text_changed = Signal(str)
    png_info_ready_changed = Signal(bool)
    token_count_changed = Signal(str)

    prompt = Field("")
    negative_prompt = Field("")
    scheduler = Field("euler")
    steps = Field(25)
    guidance = Field(7.0)
    width = Field(512)
    height = Field(512)
    random_seed = Field(True)
    seed = Field(0)
    count = Field(1)
    mode = Field(TEXT_TO_IMAGE)
    init_image_path = Field("")
    strength = Field(0.75)
    mask_blur = Field(4)           # inpainting: the mask's feathered edge, in pixels
    inpaint_area = Field("whole")  # "whole" picture, or only the "masked" area at full resolution
    inpaint_padding = Field(32)    # around the masked area, in pixels
    busy = Field(False)
    progress_text = Field("")
    progress_fraction = Field(0.0)  # -1: busy without a known fraction
    error = Field("")
    warning = Field("")
    show_empty_state = Field(False)
    skipped_models = Field("")
    #: Who signs the next works, said before Generate is pressed; ``signing_locked``: a wallet that
    #: would sign is locked (works would be saved unsigned).
    signing_note = Field("")
    signing_locked = Field(False)
    #: PNG Info: the parameters read from an image, as text; ``png_info_ready``: Send to Create can fill the form.
    png_info_text = Field("")
    png_info_ready = Field(False)
    #: The token counter beside the prompt, A1111's "12/75" (a second chunk of 75 past 75 tokens); "" when empty.
    token_count = Field("")

    def __init__(self, config: "Config", catalog: Any, lane: GpuLane, background: BackgroundPool,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.config = config
        self.catalog = catalog
        self.lane = lane
        self.background = background
        self.results = ResultsModel(self)
        self.options = CreateOptions(self, background=background, model_folders=config.model_folders)
        self.plot = GridPlot(self)
        self._png_request: GenerationRequest | None = None
        self._png_notes: tuple[str, ...] = ()
        self.queue = QueueModel(lane, self)
        self._models: list[ModelInfo] = []
        self._model_name = ""
        self._schedulers: list[str] = []
        self._size_presets: tuple[tuple[int, int], ...] = ()
        self._loras: tuple[LoraSpec, ...] = ()
        self._mask: QImage | None = None
        self._preview: QImage | None = None
        self._validator: Any = None
        self._signer_provider: Callable[[], Any] | None = None
        self.library: Any = None  # the window's shared Library: every save is recorded there
        self._demo_chosen = config["default_model"] == "demo"
        self.scheduler_changed.connect(self._keep_schedule_possible)
        self._token_timer = QTimer(self)
        self._token_timer.setSingleShot(True)
        self._token_timer.setInterval(300)  # counted once typing pauses, in the background
        self._token_timer.timeout.connect(self._count_tokens)
        self.prompt_changed.connect(lambda _text: self._token_timer.start())
        self.model_name_changed.connect(lambda _name: self._token_timer.start())
        lane.queue_changed.connect(self._on_queue_changed)
        lane.job_ended.connect(self._on_job_ended)
        self.reload_models()
        self.find_weights()

    # -- models -------------------------------------------------------------------------

    @property
    def models(self) -> list[ModelInfo]:
        return list(self._models)

    @property
    def model(self) -> ModelInfo | None:
        return next((m for m in self._models if m.name == self._model_name), None)

    @property
    def model_name(self) -> str:
        return self._model_name

    @model_name.setter
    def model_name(self, name: str) -> None:
        if name == self._model_name:
            return
        info = next((m for m in self._models if m.name == name), None)
        if info is None:
            raise NotFound(f"No model called “{name}” in the list.", hint="Add it with “Add model…”.")
        self._model_name = name
        self._apply_model_defaults(info)
        self.model_name_changed.emit(name)

    def _apply_model_defaults(self, info: ModelInfo) -> None:
        self._schedulers = schedulers_for(info)
        self.schedulers_changed.emit(list(self._schedulers))
        steps, guidance, scheduler = default_settings(info)
        self.scheduler, self.steps, self.guidance = scheduler, steps, float(guidance)
        self._size_presets = size_presets_for(info)
        self.size_presets_changed.emit(self._size_presets)
        if info.is_demo:
            self.width, self.height = 256, 256
        else:
            self.width = self.height = info.family.native_size

    def _keep_schedule_possible(self, sampler: str) -> None:
        """Euler a, DDIM and LCM walk only their own sigma schedule: another one goes back to the default."""
        from studio.generation.schedulers import sigma_schedules_for

        if self.options.sigmas not in sigma_schedules_for(sampler):
            self.options.sigmas = "default"

    @property
    def schedulers(self) -> list[str]:
        return list(self._schedulers)

    @property
    def size_presets(self) -> tuple[tuple[int, int], ...]:
        return self._size_presets

    def reload_models(self, select: str | None = None) -> None:
        """Re-read the catalog; keep the selection when possible, else pick the default model."""
        self._models = list(self.catalog.models())
        self.models_changed.emit(self.models)
        skipped = getattr(self.catalog, "skipped", ()) or ()
        skipped = tuple(skipped() if callable(skipped) else skipped)
        self.skipped_models = (f"{len(skipped)} file{'s' if len(skipped) != 1 else ''} skipped: "
                               + "; ".join(f"{Path(str(p)).name}: {why}" for p, why in skipped)) if skipped else ""
        names = [m.name for m in self._models]
        wanted = [select, self._model_name, self.config["default_model"]]
        user = [m.name for m in self._models if not m.is_demo]
        choice = next((n for n in wanted if n and n in names), None) or (user[0] if user else None) \
            or (names[0] if names else "")
        if choice != self._model_name:
            self._model_name = ""
            if choice:
                self.model_name = choice
        self._update_empty_state()

    def find_weights(self) -> Job:
        """Look for the VAEs and embeddings in the models folders in the background (the pickers offer them)."""
        folders = list(self.config.model_folders())

        def scan(_progress: Callable[[Any], None], _cancel: Any) -> Any:
            from studio.generation.weights import scan_weights

            return scan_weights(folders)

        def show(found: Any) -> None:
            from shiboken6 import isValid

            if isValid(self.options):
                self.options.vae_choices = tuple(str(path) for path in found.vaes)
                self.options.embedding_choices = tuple(str(path) for path in found.embeddings)

        job = FunctionJob("Looking for VAEs and embeddings", scan)
        job.to(self).succeeded.connect(show)
        job.to(self).failed.connect(lambda exc: log.warning("Could not look for VAEs and embeddings: %s", exc))
        return self.background.start(job)

    def _update_empty_state(self) -> None:
        has_user_models = self.catalog.has_user_models
        if callable(has_user_models):  # a property or a method: both read the same
            has_user_models = has_user_models()
        self.show_empty_state = not has_user_models and not self._demo_chosen

    def use_demo(self) -> None:
        """“Try the demo model”: select it (built on first use by the GPU lane) and remember the choice."""
        demo = next((m for m in self._models if m.is_demo), None)
        if demo is None:
            self.error = "The demo model is not available in this installation."
            return
        self._demo_chosen = True
        self.model_name = demo.name
        if self.width > 256 or self.height > 256:
            self.width, self.height = 256, 256
        try:
            self.config.set("default_model", demo.name)
            self.config.save()
        except StudioError as exc:  # the demo still works; only the choice is not remembered
            log.warning("Could not remember the demo choice: %s", exc)
        self._update_empty_state()

    def add_model(self, path: str | Path) -> Job:
        """Add a model file or folder in the background; select it when it is added."""
        path = Path(path)

        def add(_progress: Callable[[Any], None], _cancel: Any) -> ModelInfo:
            return self.catalog.add(path)

        job = FunctionJob(f"Adding {path.name}", add)
        job.to(self).succeeded.connect(self._on_model_added)
        job.to(self).failed.connect(self._on_background_failed)
        self.progress_text = f"Adding the model {path.name}…"
        return self.background.start(job)

    def _on_model_added(self, info: ModelInfo) -> None:
        self.find_weights()  # a VAE or embedding may have come with it
        self.error = ""
        self.progress_text = f"Added {info.label}."
        self.reload_models(select=info.name)

    def remove_model(self) -> Job | None:
        """Take the selected added model off the list in the background (its files stay where they are)."""
        info = self.model
        if info is None or info.is_demo:
            self.error = "The demo model is built in and cannot be removed."
            return None

        def remove(_progress: Callable[[Any], None], _cancel: Any) -> ModelInfo:
            self.catalog.remove(info.name)
            return info

        job = FunctionJob(f"Removing {info.name}", remove)
        job.to(self).succeeded.connect(self._on_model_removed)
        job.to(self).failed.connect(self._on_background_failed)
        return self.background.start(job)

    def _on_model_removed(self, info: ModelInfo) -> None:
        self.error = ""
        self.progress_text = f"Removed {info.name} from the list; its files are untouched."
        self.reload_models()

    def _on_background_failed(self, exc: BaseException) -> None:
        self.progress_text = ""
        self.error = error_message(exc)

    # -- LoRAs and images ---------------------------------------------------------------

    @property
    def loras(self) -> tuple[LoraSpec, ...]:
        return self._loras

    def add_lora(self, path: str | Path, weight: float = 1.0) -> None:
        self._loras = (*self._loras, LoraSpec(path=Path(path), weight=float(weight)))
        self.loras_changed.emit(self._loras)

    def remove_lora(self, index: int) -> None:
        self._loras = tuple(spec for i, spec in enumerate(self._loras) if i != index)
        self.loras_changed.emit(self._loras)

    def set_lora_weight(self, index: int, weight: float) -> None:
        specs = list(self._loras)
        if specs[index].weight != weight:
            specs[index] = LoraSpec(path=specs[index].path, weight=float(weight))
            self._loras = tuple(specs)
            self.loras_changed.emit(self._loras)

    @property
    def mask(self) -> QImage | None:
        return self._mask

    def set_mask(self, mask: QImage | None) -> None:
        """The inpainting mask painted on the init image (white = repaint), or None."""
        self._mask = None if mask is None or mask.isNull() else QImage(mask)

    @property
    def preview(self) -> QImage | None:
        return self._preview

    # -- results ------------------------------------------------------------------------

    def reuse_seed(self, row: int) -> None:
        """Fix the seed to the one a result was made with."""
        self.random_seed = False
        self.seed = self.results.item(row).seed

    def use_result_as_init(self, row: int) -> None:
        """Start image-to-image from a result (keeps inpaint mode if it is on)."""
        item = self.results.item(row)
        if item.grid is not None:
            self.error = "A plot's grid image is a picture of works: use one of its cells as the init image."
            return
        self.init_image_path = str(item.path)
        if self.mode == TEXT_TO_IMAGE:
            self.mode = IMAGE_TO_IMAGE
        recipe = item.work.recipe
        self.width, self.height = recipe.width, recipe.height

    def dismiss_error(self) -> None:
        self.error = ""

    def request_mint(self, rows: list[int]) -> list[int]:
        """Ask for the mint dialog for the results at ``rows`` (in grid order); returns their works' ids
        in the library."""
        items = [self.results.item(row) for row in sorted(set(rows))]
        if any(item.grid is not None for item in items):
            self.error = "A plot's grid image is not a work and is not minted: select its cells instead."
            return []
        if not items:
            self.error = "Select one or more results to mint."
            return []
        unrecorded = [item.work.path.name for item in items if item.work.work_id is None]
        if unrecorded:
            self.error = (f"{', '.join(unrecorded)} {'was' if len(unrecorded) == 1 else 'were'} saved but not added "
                          f"to the library, so the studio cannot mint {'it' if len(unrecorded) == 1 else 'them'}: "
                          "import the files in the Gallery first.")
            return []
        work_ids = [item.work.work_id for item in items if item.work.work_id is not None]
        self.mint_requested.emit(work_ids)
        return work_ids

    # -- signing ------------------------------------------------------------------------

    def set_signer_provider(self, provider: Callable[[], Any] | None) -> None:
        """Where saves get their signer: called at each Generate, it returns a chain `Signer` (the
        unlocked wallet's selected account) or None (the manifest is saved unsigned)."""
        self._signer_provider = provider

    def show_signing(self, *, has_wallet: bool, unlocked: bool, account: str = "") -> None:
        """Say who signs the works made next (the window calls this as the wallet changes)."""
        self.signing_locked = has_wallet and not unlocked
        if not has_wallet:
            self.signing_note = ("No wallet: works are saved unsigned. Set one up in the Wallet tab to sign "
                                 "what you make.")
        elif not unlocked:
            self.signing_note = ("The wallet is locked: works made now are saved unsigned (the Gallery then "
                                 "says “Verified: unsigned”). Unlock it to sign them.")
        else:
            self.signing_note = f"New works are signed by {account}."

    def current_signer(self) -> Any:
        """The signer for the next generation, or None; a provider that fails means unsigned."""
        if self._signer_provider is None:
            return None
        try:
            return self._signer_provider()
        except StudioError as exc:
            log.warning("Saving without a signature: %s", exc)
            return None

    # -- generating ---------------------------------------------------------------------

    def build_request(self) -> GenerationRequest:
        """The request for the current fields, checked as far as possible without torch."""
        if not self.prompt.strip():
            raise InputError("Write a prompt first.", hint="Describe the image you want in the prompt box.")
        info = self._chosen_model()
        for name, value in (("width", self.width), ("height", self.height)):
            if value % 8:
                raise InputError(f"The {name} {value} is not a multiple of 8.",
                                 hint=f"Use {_nearest_multiples(value)}.")
        init_image = mask_image = None
        if self.mode in (IMAGE_TO_IMAGE, INPAINT):
            if not self.init_image_path:
                raise InputError("Image to image needs an init image.",
                                 hint="Choose an image file, or use a result as the init image.")
            init_image = self._open_init_image(Path(self.init_image_path))
            if self.mode == INPAINT:
                if self._mask is None or self._mask_is_empty():
                    raise InputError("Inpainting needs a mask.",
                                     hint="Paint over the part of the init image to repaint.")
                mask_image = qimage_to_pil_mask(self._mask)
                if mask_image.size != init_image.size:
                    from PIL import Image

                    mask_image = mask_image.resize(init_image.size, Image.Resampling.NEAREST)
        from studio.generation.lora import check_lora

        for spec in self._loras:
            check_lora(spec)
        width, height = int(self.width), int(self.height)
        outpaint = self.options.outpaint() if self.mode == IMAGE_TO_IMAGE else None
        if outpaint is not None and init_image is not None:  # the canvas: the init image and the new sides
            width, height = outpaint.canvas_size(init_image.size)
        return GenerationRequest(
            prompt=self.prompt, negative_prompt=self.negative_prompt, model=info.name,
            seed=None if self.random_seed else int(self.seed), steps=int(self.steps),
            guidance=float(self.guidance), width=width, height=height, outpaint=outpaint,
            count=int(self.count), scheduler=self.scheduler, init_image=init_image,
            strength=float(self.strength), mask_image=mask_image, loras=self._loras,
            mask_blur=int(self.mask_blur), inpaint_area=self.inpaint_area, inpaint_padding=int(self.inpaint_padding),
            **self.options.request_fields(),
        )

    def _chosen_model(self) -> ModelInfo:
        info = self.model
        if info is None:
            raise NotFound("No model is selected.", hint="Add a model, or try the demo model.")
        return info

    def _mask_is_empty(self) -> bool:
        if self._mask is None:
            return True
        gray = self._mask.convertToFormat(QImage.Format.Format_Grayscale8)
        return not any(bytes(gray.constBits()))

    @staticmethod
    def _open_init_image(path: Path) -> Any:
        from studio.safeimage import open_image

        if not path.is_file():
            raise NotFound(f"The init image {path} does not exist.", hint="Choose another image.")
        with open_image(path, what=path.name) as image:
            image.load()
            return image.convert("RGB")

    def resolve(self, name: str) -> ModelInfo:
        """The listed model called ``name``, without building or loading anything (for validation)."""
        info = next((m for m in self._models if m.name == name), None)
        if info is None:
            raise NotFound(f"No model called “{name}” in the list.", hint="Add it with “Add model…”.")
        return info

    def _validate(self, request: GenerationRequest) -> None:
        """The engine's own checks (sampler, ranges, LoRAs) on the GUI thread, against the listed
        models: the demo is not built and no torch is imported before the job is queued."""
        if self._validator is None:
            from studio.generation.engine import Engine

            self._validator = Engine(self, hash_cache=self.config.paths.hash_cache_file)
        self._validator.validate(request)

    def generate(self) -> GenerationJob | None:
        """Queue a generation for the current fields; on bad input show why and queue nothing."""
        try:
            request = self.build_request()
            self._validate(request)
            model = self._chosen_model()
        except StudioError as exc:
            self.error = str(exc)
            return None
        self.error = ""
        job = GenerationJob(request, model, self.lane, self.config.paths.works_dir,
                            preview_every=int(self.config["preview_every"]), signer=self.current_signer(),
                            library=self.library)
        job.to(self).progressed.connect(self._on_progress)
        job.to(self).saved.connect(self._on_saved)
        job.to(self).succeeded.connect(self._on_succeeded)
        job.to(self).failed.connect(self._on_failed)
        job.to(self).cancelled.connect(self._on_cancelled)
        self.lane.submit(job)
        return job

    def upscale_result(self, row: int, upscaler: str = "lanczos", scale: float = 2.0) -> UpscaleJob | None:
        """“Upscale” on a result: queue it on the GPU lane (Lanczos, or an upscaler model file); the new
        work joins the results, its recipe naming the source."""
        if self.results.item(row).grid is not None:
            self.error = "A plot's grid image is not a work: upscale one of its cells instead."
            return None
        if upscaler != "lanczos":
            from studio.generation.upscalers import check_upscaler_file

            try:
                check_upscaler_file(Path(upscaler))
            except StudioError as exc:
                self.error = str(exc)
                return None
        self.error = ""
        job = UpscaleJob(self.results.item(row).path, upscaler, float(scale), self.lane, self.config.paths.works_dir,
                         signer=self.current_signer(), library=self.library)
        job.to(self).saved.connect(self._on_saved)
        job.to(self).succeeded.connect(self._on_succeeded)
        job.to(self).failed.connect(self._on_failed)
        job.to(self).cancelled.connect(self._on_cancelled)
        self.lane.submit(job)
        return job

    def make_plot(self) -> GridJob | None:
        """Queue the X/Y/Z plot of the current fields along ``plot``'s axes; on bad axes, values or cells
        show why and queue nothing (every cell is checked before the job is queued)."""
        from studio.workflows.grid import grid_cells

        try:
            request = self.build_request()
            axes = self.plot.axes()
            for cell in grid_cells(request, axes):
                self._validate(cell.request)
            model = self._chosen_model()
            job = GridJob(request, axes, model, self.lane, self.config.paths.works_dir, signer=self.current_signer(),
                          library=self.library)
        except StudioError as exc:
            self.error = str(exc)
            return None
        self.error = ""
        job.to(self).progressed.connect(self._on_progress)
        job.to(self).saved.connect(self._on_saved)
        job.to(self).succeeded.connect(self._on_succeeded)
        job.to(self).failed.connect(self._on_failed)
        job.to(self).cancelled.connect(self._on_cancelled)
        self.lane.submit(job)
        return job

    def cancel(self) -> None:
        """Stop the running generation at its next step; the queue goes on."""
        if self.busy:
            self.progress_text = "Cancelling…"  # the step under way finishes first
        self.lane.cancel_current()

    def cancel_all(self) -> None:
        self.lane.cancel_all()

    def remove_from_queue(self, row: int) -> bool:
        return self.lane.remove(self.queue.job(row))

    def _on_queue_changed(self) -> None:
        self.busy = not self.lane.is_idle

    def _on_progress(self, progress: JobProgress) -> None:
        self.progress_text = progress.text
        self.progress_fraction = -1.0 if progress.fraction is None else float(progress.fraction)
        if progress.preview is not None:
            self._preview = progress.preview
            self.preview_changed.emit(progress.preview)

    def _on_saved(self, item: ResultItem) -> None:
        self.results.prepend(item)
        if item.work.warnings:
            self.warning = "\n".join(item.work.warnings)
        self.result_added.emit(item)

    def _on_succeeded(self, works: list["SavedWork"]) -> None:
        self.history_changed.emit(self.history)  # the generation recorded its prompt
        job = job_of(self.sender())
        took = time.perf_counter() - job.started_at if isinstance(job, (GenerationJob, UpscaleJob, GridJob)) else 0.0
        self.progress_fraction = 1.0
        made = "X/Y/Z plot of " if isinstance(job, GridJob) else ""
        self.progress_text = f"Done: {made}{len(works)} image{'s' if len(works) != 1 else ''} in {took:.1f} s"
        if not any(work.warnings for work in works):
            self.warning = ""

    def _on_failed(self, exc: BaseException) -> None:
        self.error = error_message(exc)
        self.progress_text = "Failed."
        self.progress_fraction = 0.0

    def _on_cancelled(self) -> None:
        self.progress_text = "Cancelled."
        self.progress_fraction = 0.0
        self._preview = None
        self.preview_changed.emit(QImage())  # the half-made image goes; the selected result shows again

    def _on_job_ended(self, job: Job) -> None:
        if isinstance(job, (GenerationJob, UpscaleJob, GridJob)):
            self.job_finished.emit(job)

    def apply_settings(self, prompt: str, negative_prompt: str = "", seed: int | None = None,
                       steps: int | None = None, guidance: float | None = None, scheduler: str | None = None,
                       width: int | None = None, height: int | None = None) -> list[str]:
        """Fill the form from a recipe read elsewhere (the Verify dialog's "Use these settings").

        Values left None keep the form's; a scheduler the current model does not offer is skipped
        (``scheduler``: the studio's key, or another tool's sampler name such as "DPM++ 2M Karras").
        Returns one sentence per value that was not applied, for the caller to show.
        """
        from studio.generation.schedulers import SCHEDULERS

        skipped = []
        self.prompt, self.negative_prompt = prompt, negative_prompt
        if seed is not None:
            self.random_seed = False
            self.seed = int(seed) % 2**32
        if steps is not None and steps > 0:
            self.steps = int(steps)
        if guidance is not None and guidance >= 0:
            self.guidance = float(guidance)
        if scheduler:
            from studio.generation.schedulers import sampler_from_name

            found = sampler_from_name(scheduler)
            key = found[0] if found is not None else None
            if key is not None and key in self._schedulers:
                self.scheduler = key
                if found is not None:  # "DPM++ 2M Karras": the sampler and its sigma schedule
                    self.options.sigmas = found[1]
            else:
                skipped.append(f"The sampler “{scheduler}” is not offered for this model; "
                               f"{SCHEDULERS.get(self.scheduler, self.scheduler)} is kept.")
        if width and height and width > 0 and height > 0:
            self.width, self.height = int(width) // 8 * 8 or 8, int(height) // 8 * 8 or 8
        return skipped

    # -- styles, history, PNG Info ------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        return Path(self.config.paths.data_dir)

    @property
    def styles(self) -> list[Any]:
        from studio.workflows.prompt_library import load_styles

        try:
            return load_styles(self.data_dir)
        except StudioError as exc:
            self.error = str(exc)
            return []

    def apply_style(self, name: str) -> None:
        """Put the saved style ``name`` into the prompt and negative prompt (at ``{prompt}``, else after)."""
        from studio.workflows.prompt_library import apply_style, find_style

        try:
            style = find_style(name, self.data_dir)
        except StudioError as exc:
            self.error = str(exc)
            return
        self.prompt, self.negative_prompt = apply_style(self.prompt, self.negative_prompt, style)

    def save_style(self, name: str) -> None:
        """Save the current prompt and negative prompt as the style ``name`` (replacing one of that name)."""
        from studio.workflows.prompt_library import PromptStyle, save_style

        try:
            styles = save_style(PromptStyle(name.strip(), self.prompt, self.negative_prompt), self.data_dir)
        except StudioError as exc:
            self.error = str(exc)
            return
        self.error = ""
        self.styles_changed.emit(styles)

    def delete_style(self, name: str) -> None:
        from studio.workflows.prompt_library import delete_style

        try:
            styles = delete_style(name, self.data_dir)
        except StudioError as exc:
            self.error = str(exc)
            return
        self.styles_changed.emit(styles)

    @property
    def history(self) -> list[Any]:
        """Recent prompts (HistoryEntry), newest first."""
        from studio.workflows.prompt_library import prompt_history

        try:
            return prompt_history(self.data_dir)
        except StudioError as exc:
            log.warning("Could not read the prompt history: %s", exc)
            return []

    def use_history(self, index: int) -> None:
        """Put the history's entry ``index`` (0: newest) back into the prompt boxes."""
        entries = self.history
        if 0 <= index < len(entries):
            self.prompt, self.negative_prompt = entries[index].prompt, entries[index].negative_prompt

    def read_png_info(self, path: str | Path) -> Job:
        """PNG Info: read the generation parameters ``path`` carries, in the background; the text shows
        in ``png_info_text`` and :meth:`send_to_create` fills the form from them."""
        path = Path(path)
        weights = list(self.config.model_folders())  # where LoRAs, VAEs and embeddings named in it are looked up

        def read(_progress: Callable[[Any], None], _cancel: Any) -> Any:
            from studio.workflows.pnginfo import read_parameters

            return read_parameters(path, catalog=self.catalog, weights=weights)

        self._png_request, self._png_notes = None, ()
        self.png_info_ready = False
        self.png_info_text = f"Reading {path.name}…"
        job = FunctionJob(f"Reading {path.name}", read)
        job.to(self).succeeded.connect(self._on_png_info)
        job.to(self).failed.connect(self._on_png_info_failed)
        return self.background.start(job)

    def _on_png_info(self, found: Any) -> None:
        import json

        lines = [f"Written by: {found.source}"] if found.source != "none" else []
        lines += [f"{key}: {value if isinstance(value, str) else json.dumps(value)}"
                  for key, value in found.fields.items() if key != "source" and value not in (None, "", [], {})]
        lines += [f"Note: {note}" for note in found.notes]
        self._png_request, self._png_notes = found.request, tuple(found.notes)
        self.png_info_text = "\n".join(lines)
        self.png_info_ready = found.request is not None

    def _on_png_info_failed(self, exc: BaseException) -> None:
        self._png_request = None
        self.png_info_ready = False
        self.png_info_text = ""
        self.error = error_message(exc)

    def send_to_create(self) -> list[str]:
        """Fill the form from the parameters PNG Info read; returns what could not be taken (also shown)."""
        request = self._png_request
        if request is None:
            self.error = "Read an image's parameters with PNG Info first."
            return []
        skipped = list(self._png_notes)
        if request.model and request.model in [m.name for m in self._models]:
            self.model_name = request.model
        skipped += self.apply_settings(request.prompt, request.negative_prompt, request.seed, request.steps,
                                       request.guidance, request.scheduler, request.width, request.height)
        self.options.apply_request(request)
        if request.loras:
            self._loras = tuple(request.loras)
            self.loras_changed.emit(self._loras)
        self.warning = "\n".join(skipped)
        return skipped

    # -- token counter ------------------------------------------------------------------

    def _count_tokens(self) -> Job | None:
        """Count the prompt's tokens with the model's tokenizer (no weights are read) in the background."""
        text, info = self.prompt, self.model
        if not text.strip() or info is None:
            self.token_count = ""
            return None

        def count(_progress: Callable[[Any], None], _cancel: Any) -> Any:
            from studio.generation.prompts import count_prompt_tokens

            return count_prompt_tokens(info.path, text)

        def show(found: Any) -> None:
            from shiboken6 import isValid

            if not isValid(self):  # the tab closed while the count ran (a closure is not disconnected with it)
                return
            if self.prompt == text:  # a count for text typed since is dropped
                self.token_count = f"{found.tokens}/{found.limit}"

        job = FunctionJob("Counting tokens", count)
        job.to(self).succeeded.connect(show)
        job.to(self).failed.connect(lambda exc: log.warning("Could not count the prompt's tokens: %s", exc))
        return self.background.start(job)
