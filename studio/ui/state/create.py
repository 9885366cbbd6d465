"""The Create tab's view-model: the recipe being edited, checked and queued.

No widgets here: the tab binds to these properties and signals, and a test can drive the whole
tab (type a prompt, generate, cancel, reuse a seed) without a window. Generation runs on the GPU
lane through :class:`~studio.ui.state.jobs.GenerationJob`; everything that can be checked
without torch is checked here, before anything is queued.

The state owns a collaborator per seam, each a view-model of its own the tab binds to:
``model_choice`` (the models and the one chosen), ``inputs`` (init image and mask), ``options``
(sampling, hires fix, ControlNet…), ``plot`` (X/Y/Z plot axes), ``prompts`` (styles, history, PNG
Info, token count) and ``jobs`` (the queue, progress and results).
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from PySide6.QtCore import QObject, Signal

from studio.errors import InputError, NotFound, StudioError
from studio.generation.request import GenerationRequest, LoraSpec, ModelInfo
from studio.ui.binding import Delegated, observed
from studio.ui.state.create_grid import GridJob, GridPlot
from studio.ui.state.create_inputs import ImageInputs
from studio.ui.state.create_models import ModelChoice
from studio.ui.state.create_options import CreateOptions
from studio.ui.state.create_prompts import PromptLibrary
from studio.ui.state.create_queue import CreateQueue
from studio.ui.state.jobs import IMAGE_TO_IMAGE, GenerationJob, UpscaleJob
from studio.ui.workers import BackgroundPool, GpuLane, Job, error_message

if TYPE_CHECKING:
    from studio.config import Config

log = logging.getLogger(__name__)

MAX_SEED = 2**32 - 1


def _nearest_multiples(value: int) -> str:
    lower = value - value % 8
    return " or ".join(str(v) for v in (lower, lower + 8) if v >= 8)


class CreateState(QObject):
    """The recipe the Create tab edits, and what it does with it."""

    loras_changed = Signal(object)
    #: "Unlock…" next to the signing note: the window asks the wallet password.
    unlock_requested = Signal()
    #: “Mint…” on selected results: the files to mint (the window opens the mint dialog).
    mint_requested = Signal(object)
    settings_applied = Signal(list)    # what a recipe's "Use settings" could not take (sentences)

    prompt_changed, prompt = observed("", str)
    negative_prompt_changed, negative_prompt = observed("", str)
    scheduler_changed, scheduler = observed("euler", str)
    steps_changed, steps = observed(25, int)
    guidance_changed, guidance = observed(7.0, float)
    width_changed, width = observed(512, int)
    height_changed, height = observed(512, int)
    random_seed_changed, random_seed = observed(True, bool)
    seed_changed, seed = observed(0, object)  # seeds reach 2**32 - 1, beyond a C int
    count_changed, count = observed(1, int)
    busy_changed, busy = observed(False, bool)
    progress_text_changed, progress_text = observed("", str)
    progress_fraction_changed, progress_fraction = observed(0.0, float)  # -1: busy without a known fraction
    error_changed, error = observed("", str)
    warning_changed, warning = observed("", str)
    #: Who signs the next works, said before Generate is pressed; ``signing_locked``: a wallet that
    #: would sign is locked (works would be saved unsigned).
    signing_note_changed, signing_note = observed("", str)
    signing_locked_changed, signing_locked = observed(False, bool)

    #: The queue's signals, on the state too: the window and the flows that start from a new work wait through them.
    job_finished, result_added = Delegated.each("jobs", 2)

    def __init__(self, config: "Config", catalog: Any, lane: GpuLane, background: BackgroundPool,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.config, self.catalog, self.lane, self.background = config, catalog, lane, background
        self.options = CreateOptions(self, background=background, model_folders=config.model_folders)
        self.plot = GridPlot(self)
        self.inputs = ImageInputs(self)
        self.prompts = PromptLibrary(self)
        self.jobs = CreateQueue(self, lane)
        self.results, self.queue = self.jobs.results, self.jobs.queue
        self.model_choice = ModelChoice(self)
        self._loras: tuple[LoraSpec, ...] = ()
        self._validator: Any = None
        self._signer_provider: Callable[[], Any] | None = None
        self.library: Any = None  # the window's shared Library: every save is recorded there
        self.scheduler_changed.connect(self._keep_schedule_possible)
        self.prompt_changed.connect(lambda _text: self.prompts.count_soon())
        self.model_choice.model_name_changed.connect(lambda _name: self.prompts.count_soon())
        self.model_choice.reload_models()
        self.model_choice.find_weights()

    @property
    def model(self) -> ModelInfo | None:
        """The model chosen for the next generation."""
        return self.model_choice.model

    def _keep_schedule_possible(self, sampler: str) -> None:
        """Euler a, DDIM and LCM walk only their own sigma schedule: another one goes back to the default."""
        from studio.generation.schedulers import sigma_schedules_for

        if self.options.sigmas not in sigma_schedules_for(sampler):
            self.options.sigmas = "default"

    # -- LoRAs -----------------------------------------------------------------------

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
        self.inputs.start_from(item.path)
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
        init_image, mask_image = self.inputs.images()
        from studio.generation.lora import check_lora

        for spec in self._loras:
            check_lora(spec)
        width, height = int(self.width), int(self.height)
        outpaint = self.options.outpaint() if self.inputs.mode == IMAGE_TO_IMAGE else None
        if outpaint is not None and init_image is not None:  # the canvas: the init image and the new sides
            width, height = outpaint.canvas_size(init_image.size)
        return GenerationRequest(
            prompt=self.prompt, negative_prompt=self.negative_prompt, model=info.name,
            seed=None if self.random_seed else int(self.seed), steps=int(self.steps),
            guidance=float(self.guidance), width=width, height=height, outpaint=outpaint,
            count=int(self.count), scheduler=self.scheduler, init_image=init_image, mask_image=mask_image,
            loras=self._loras, **self.inputs.request_fields(), **self.options.request_fields(),
        )

    def _chosen_model(self) -> ModelInfo:
        info = self.model
        if info is None:
            raise NotFound("No model is selected.", hint="Add a model, or try the demo model.")
        return info

    def _validate(self, request: GenerationRequest) -> None:
        """The engine's own checks (sampler, ranges, LoRAs) on the GUI thread, against the listed
        models: the demo is not built and no torch is imported before the job is queued."""
        if self._validator is None:
            from studio.generation.engine import Engine

            self._validator = Engine(self.model_choice, hash_cache=self.config.paths.hash_cache_file)
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
        return self.jobs.submit(GenerationJob(request, model, self.lane, self.config.paths.works_dir,
                                              preview_every=int(self.config["preview_every"]),
                                              signer=self.current_signer(), library=self.library))

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
        return self.jobs.submit(job, follow_progress=False)

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
        return self.jobs.submit(job)

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
            if key is not None and key in self.model_choice.schedulers:
                self.scheduler = key
                if found is not None:  # "DPM++ 2M Karras": the sampler and its sigma schedule
                    self.options.sigmas = found[1]
            else:
                skipped.append(f"The sampler “{scheduler}” is not offered for this model; "
                               f"{SCHEDULERS.get(self.scheduler, self.scheduler)} is kept.")
        if width and height and width > 0 and height > 0:
            self.width, self.height = int(width) // 8 * 8 or 8, int(height) // 8 * 8 or 8
        return skipped


    def send_to_create(self) -> list[str]:
        """Fill the form from the parameters PNG Info read; returns what could not be taken (also shown)."""
        request = self.prompts.png_request
        if request is None:
            self.error = "Read an image's parameters with PNG Info first."
            return []
        return self.apply_request(request, self.prompts.png_notes)

    def use_settings_of(self, path: str | Path) -> Job:
        """Fill the form from the recipe the image at ``path`` carries (the Gallery's "Use settings", the
        Verify dialog's "Use these settings"): read in the background the way PNG Info reads it, the
        studio's manifest or another tool's parameters, then :meth:`apply_request`. ``settings_applied``
        says what was not taken."""
        path = Path(path)
        job = self.prompts.parameters_job(path)
        job.to(self).succeeded.connect(self._on_settings_read)
        job.to(self).failed.connect(self._on_settings_failed)
        return self.background.start(job)

    def _on_settings_read(self, found: Any) -> None:
        if found.request is None:
            self.error = " ".join(found.notes) or "This image carries no recipe to reuse."
            return
        self.settings_applied.emit(self.apply_request(found.request, found.notes))

    def _on_settings_failed(self, exc: BaseException) -> None:
        self.error = error_message(exc)

    def apply_request(self, request: GenerationRequest, notes: Sequence[str] = ()) -> list[str]:
        """Fill the whole form from ``request`` (model, prompt, sampling, options, LoRAs and control
        units); returns what could not be taken, ``notes`` first (also shown as the warning)."""
        skipped = list(notes)
        if request.model and request.model in [m.name for m in self.model_choice.models]:
            self.model_choice.model_name = request.model
        skipped += self.apply_settings(request.prompt, request.negative_prompt, request.seed, request.steps,
                                       request.guidance, request.scheduler, request.width, request.height)
        self.options.apply_request(request)
        if request.loras:
            self._loras = tuple(request.loras)
            self.loras_changed.emit(self._loras)
        self.warning = "\n".join(skipped)
        return skipped
