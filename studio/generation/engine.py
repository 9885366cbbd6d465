"""The generation engine: one loaded pipeline, reused, turning requests into images with recipes.

Like diffusers' own pipelines it takes everything as arguments and reports through callbacks:
``progress`` each step, ``on_result`` as each image of a batch finishes. It keeps one model in
memory and switches on demand. Errors leave as :mod:`studio.errors` subclasses.
"""
from __future__ import annotations

import gc
import hashlib
import io
import logging
import secrets
import threading
import time
from pathlib import Path
from typing import Any, Callable

from studio import __version__
from studio.errors import Cancelled, InputError, ModelError
from studio.generation.devices import DeviceChoice, MemoryPlan, choose_device, memory_plan
from studio.generation.inpaint import InpaintOptions, composite, plan_inpaint
from studio.generation.ip_adapter import IpAdapterState, check_ip_adapter
from studio.generation.lora import LoraState, check_lora
from studio.generation.request import (GenerationMode, GenerationProgress, GenerationRequest, GenerationResult,
                                       ModelFamily, ModelInfo, Recipe)
from studio.generation.schedulers import check_scheduler, make_scheduler

log = logging.getLogger(__name__)

GENERATOR = f"provenance-studio {__version__}"
MIN_SIZE, MAX_SIZE = 64, 4096
MAX_STEPS = 150
MAX_GUIDANCE = 30.0
MAX_COUNT = 100

#: Latent → RGB factors (and bias) for a cheap preview without the VAE; the standard values
#: used by ComfyUI and A1111's "Approx NN" cousin for SD 1.x/2.x and SDXL latents.
_LATENT_RGB = {
    "sd": ([[0.3512, 0.2297, 0.3227], [0.3250, 0.4974, 0.2350], [-0.2829, 0.1762, 0.2721],
            [-0.2120, -0.2616, -0.7177]], [0.0, 0.0, 0.0]),
    "sdxl": ([[0.3651, 0.4232, 0.4341], [-0.2533, -0.0042, 0.1068], [0.1076, 0.1111, -0.0362],
              [-0.3165, -0.2492, -0.2188]], [0.1084, -0.0175, -0.0011]),
}


def _nearest_sizes(value: int) -> str:
    lower = value - value % 8
    return " or ".join(str(size) for size in (lower, lower + 8) if MIN_SIZE <= size <= MAX_SIZE)


def image_sha256(image: Any) -> str:
    """SHA-256 of the image's PNG encoding: how a recipe names an input image."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return hashlib.sha256(buffer.getvalue()).hexdigest()


def latents_to_preview(latents: Any, family: ModelFamily) -> Any:
    """A small RGB preview (1/8 of the image size) straight from latents: no VAE, about a millisecond."""
    import torch
    from PIL import Image

    factors, bias = _LATENT_RGB["sdxl" if family is ModelFamily.SDXL else "sd"]
    latent = latents[0].detach().to("cpu", torch.float32)
    if latent.shape[0] != 4:
        latent = latent[:4]
    rgb = torch.einsum("chw,cr->hwr", latent, torch.tensor(factors)) + torch.tensor(bias)
    pixels = ((rgb + 1) / 2).clamp(0, 1).mul(255).round().to(torch.uint8).numpy()
    return Image.fromarray(pixels, mode="RGB")


def _is_out_of_memory(exc: BaseException) -> bool:
    import torch

    oom = getattr(torch, "OutOfMemoryError", None) or torch.cuda.OutOfMemoryError
    return isinstance(exc, oom) or (isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower())


class Engine:
    """Runs generation requests on one device, keeping the last used model loaded.

    Not re-entrant: the GUI runs it on its single GPU lane; a lock guards against misuse.
    """

    def __init__(self, catalog: Any, *, device: str = "auto", precision: str = "auto",
                 memory_saving: str = "auto", hash_cache: Path) -> None:
        self._catalog = catalog
        self._device_pref = device
        self._precision = precision
        self._memory_saving = memory_saving
        self._hash_cache = Path(hash_cache)
        self._choice: DeviceChoice | None = None
        self._info: ModelInfo | None = None
        self._model_hash = ""
        self._pipes: dict[GenerationMode, Any] = {}
        self._plan = MemoryPlan()
        self._scheduler_key: dict[GenerationMode, str] = {}
        self._base_scheduler_config: dict[str, Any] = {}
        self._loras = LoraState()
        self._lora_hashes: dict[tuple[str, int, int], str] = {}
        self._ip_adapter = IpAdapterState()
        self._lock = threading.Lock()

    # -- device and model ---------------------------------------------------------------

    @property
    def device(self) -> DeviceChoice:
        """The device and dtype in use (decided on first use; imports torch)."""
        if self._choice is None:
            self._choice = choose_device(self._device_pref, self._precision)
        return self._choice

    @property
    def device_label(self) -> str:
        return self.device.label

    @property
    def loaded_model(self) -> ModelInfo | None:
        return self._info

    @property
    def memory_plan(self) -> MemoryPlan:
        return self._plan

    def unload(self) -> None:
        """Free the loaded model (weights, derived pipelines, LoRAs) and the device's cache."""
        if self._info is None:
            return
        log.info("Unloading %s", self._info.name)
        self._pipes.clear()
        self._scheduler_key.clear()
        self._loras.reset()
        self._ip_adapter.reset()
        self._info = None
        self._model_hash = ""
        gc.collect()
        if self._choice is not None and self._choice.device == "cuda":
            import torch

            torch.cuda.empty_cache()

    def _ensure_loaded(self, info: ModelInfo) -> Any:
        if self._info is not None and self._info == info:
            return self._pipes[GenerationMode.TEXT_TO_IMAGE]
        self.unload()
        from studio.generation.hashing import model_hash
        from studio.generation.loading import load_pipeline

        choice = self.device
        config = getattr(self._catalog, "config", None)
        allow_pickle = bool(config["allow_pickle_checkpoints"]) if config is not None else False
        started = time.perf_counter()
        pipe = load_pipeline(info, dtype=choice.torch_dtype, allow_pickle=allow_pickle)
        try:
            self._plan = memory_plan(choice.device, info.family, self._memory_saving)
            self._place(pipe)
        except Exception as exc:
            del pipe
            gc.collect()
            if _is_out_of_memory(exc):
                raise ModelError(f"The model “{info.name}” does not fit in the memory of {choice.label}.",
                                 hint="Set Memory saving to “on” in Settings, or use a smaller model.") from exc
            raise
        pipe.set_progress_bar_config(disable=True)
        self._model_hash = model_hash(info, self._hash_cache)
        self._base_scheduler_config = dict(pipe.scheduler.config)
        self._pipes = {GenerationMode.TEXT_TO_IMAGE: pipe}
        self._info = info
        log.info("Loaded %s on %s in %.1f s (%s)", info.name, choice.label, time.perf_counter() - started,
                 self._plan)
        return pipe

    def _place(self, pipe: Any) -> None:
        """Move ``pipe`` to the device and switch on the memory savers of the plan."""
        device = self.device.device
        if self._plan.cpu_offload:
            pipe.enable_model_cpu_offload(device=device)
        else:
            pipe.to(device)
        if self._plan.attention_slicing:
            pipe.enable_attention_slicing()
        if self._plan.vae_tiling:
            pipe.vae.enable_tiling()

    def _pipeline_for(self, mode: GenerationMode) -> Any:
        """The pipeline for ``mode``, derived from the loaded one and sharing its weights."""
        pipe = self._pipes.get(mode)
        if pipe is not None:
            return pipe
        from diffusers import AutoPipelineForImage2Image, AutoPipelineForInpainting

        base = self._pipes[GenerationMode.TEXT_TO_IMAGE]
        cls = AutoPipelineForImage2Image if mode is GenerationMode.IMAGE_TO_IMAGE else AutoPipelineForInpainting
        pipe = cls.from_pipe(base, dtype=base.dtype)
        if self._plan.cpu_offload:
            pipe.enable_model_cpu_offload(device=self.device.device)
        pipe.set_progress_bar_config(disable=True)
        self._pipes[mode] = pipe
        return pipe

    def _apply_ip_adapter(self, base: Any, request: GenerationRequest) -> None:
        """Load, re-scale or unload the IP-Adapter on the shared UNet; pipelines derived before a
        change are dropped (they hold their own image encoder slot) and derived again on demand."""
        reload_offload = None
        if self._plan.cpu_offload:
            def reload_offload() -> None:
                base.enable_model_cpu_offload(device=self.device.device)
        if self._ip_adapter.apply(base, request.ip_adapter, request.ip_adapter_scale, reload_offload=reload_offload):
            for mode in [m for m in self._pipes if m is not GenerationMode.TEXT_TO_IMAGE]:
                del self._pipes[mode]
                self._scheduler_key.pop(mode, None)

    def _set_scheduler(self, pipe: Any, mode: GenerationMode, key: str) -> None:
        if self._scheduler_key.get(mode) != key:
            pipe.scheduler = make_scheduler(key, self._base_scheduler_config)
            self._scheduler_key[mode] = key

    # -- validation ---------------------------------------------------------------------

    def validate(self, request: GenerationRequest) -> ModelInfo:
        """Check ``request`` before it is queued; return the model it names.

        Raises InputError, NotFound or ModelError with what to change.
        """
        info = self._catalog.resolve(request.model)
        for name, value in (("width", request.width), ("height", request.height)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise InputError(f"The {name} must be a whole number of pixels, not {value!r}.")
            if value % 8:
                raise InputError(f"The {name} {value} is not a multiple of 8.",
                                 hint=f"Use {_nearest_sizes(value)}.")
            if not MIN_SIZE <= value <= MAX_SIZE:
                raise InputError(f"The {name} {value} is outside {MIN_SIZE}–{MAX_SIZE} pixels.",
                                 hint=f"This model is made for {info.family.native_size} pixels.")
        if not 1 <= request.steps <= MAX_STEPS:
            raise InputError(f"{request.steps} steps is out of range.", hint=f"Use 1 to {MAX_STEPS} steps.")
        if not 0.0 <= request.guidance <= MAX_GUIDANCE:
            raise InputError(f"The guidance {request.guidance} is out of range.",
                             hint=f"Use 0 to {MAX_GUIDANCE:g} (7 is usual; 0–2 for Turbo and LCM models).")
        if not 1 <= request.count <= MAX_COUNT:
            raise InputError(f"{request.count} images is out of range.", hint=f"Ask for 1 to {MAX_COUNT} images.")
        # a manifest holds whole numbers up to 2**53 - 1 (JSON readers keep no more exactly)
        if request.seed is not None and not 0 <= request.seed < 2**53:
            raise InputError(f"The seed {request.seed} is out of range.",
                             hint="Use a whole number from 0 to 4294967295, or leave it empty for a random one.")
        check_scheduler(request.scheduler, info)
        if request.mask_image is not None and request.init_image is None:
            raise InputError("A mask was given without an image to paint into.",
                             hint="Choose an init image as well, or remove the mask.")
        if request.init_image is not None:
            if not 0.0 < request.strength <= 1.0:
                raise InputError(f"The strength {request.strength} is out of range.",
                                 hint="Use a value above 0 and at most 1 (0.75 is usual).")
            if int(request.steps * request.strength) < 1:
                raise InputError(f"{request.steps} steps at strength {request.strength} leaves no step to run.",
                                 hint="Raise the steps or the strength.")
            if request.mask_image is not None:
                self._inpaint_options(request).check()
            if request.mask_image is not None and request.mask_image.size != request.init_image.size:
                w, h = request.init_image.size
                mw, mh = request.mask_image.size
                raise InputError(f"The mask is {mw}x{mh} but the image is {w}x{h}.",
                                 hint="Use a mask of the same size as the image.")
        for spec in request.loras:
            check_lora(spec)
        if request.ip_adapter is not None:
            check_ip_adapter(request.ip_adapter, request.ip_adapter_scale, request.ip_adapter_image, info)
        elif request.ip_adapter_image is not None:
            raise InputError("A reference picture was given without an IP-Adapter to read it.",
                             hint="Choose an adapter, or use the picture as the init image instead.")
        return info

    # -- generation ---------------------------------------------------------------------

    def generate(self, request: GenerationRequest, *,
                 progress: Callable[[GenerationProgress], None] | None = None,
                 cancel: Any = None, preview_every: int = 0,
                 on_result: Callable[[GenerationResult], None] | None = None) -> list[GenerationResult]:
        """Make ``request.count`` images, one at a time, each with its own seed and recipe.

        Raises Cancelled when ``cancel.cancelled`` becomes true (images already finished were
        passed to ``on_result``); out-of-memory becomes a ModelError with advice.
        """
        with self._lock:
            return self._generate(request, progress, cancel, preview_every, on_result)

    def _generate(self, request: GenerationRequest, progress: Callable[[GenerationProgress], None] | None,
                  cancel: Any, preview_every: int,
                  on_result: Callable[[GenerationResult], None] | None) -> list[GenerationResult]:
        import torch

        info = self.validate(request)
        if cancel is not None and cancel.cancelled:
            raise Cancelled()
        try:
            base = self._ensure_loaded(info)
            self._loras.apply(base, request.loras)
            self._apply_ip_adapter(base, request)
            mode = request.mode
            pipe = self._pipeline_for(mode)
            self._set_scheduler(pipe, mode, request.scheduler)
        except Exception as exc:
            if _is_out_of_memory(exc):
                self._after_oom()
                raise ModelError(f"Ran out of memory on {self.device.label} while loading “{info.name}”.",
                                 hint="Set Memory saving to “on” in Settings, or choose a smaller model.") from exc
            raise
        started = time.perf_counter()  # after loading, so that the ETA reflects sampling only
        warnings = self._prompt_warnings(pipe, request)
        base_seed = request.seed if request.seed is not None else secrets.randbits(32)
        init_image, mask_image = self._sized_inputs(request)
        plan = (plan_inpaint(init_image, mask_image, self._inpaint_options(request), request.width, request.height)
                if mode is GenerationMode.INPAINT else None)
        reference = (request.ip_adapter_image.convert("RGB")
                     if request.ip_adapter is not None and request.ip_adapter_image is not None else None)
        recipe_base = self._recipe_fields(request, info)

        results: list[GenerationResult] = []
        for index in range(request.count):
            seed = base_seed + index
            step_callback = self._step_callback(info, request, index, started, progress, cancel, preview_every)
            kwargs: dict[str, Any] = dict(
                prompt=request.prompt, negative_prompt=request.negative_prompt or None,
                num_inference_steps=request.steps, guidance_scale=request.guidance,
                generator=torch.Generator("cpu").manual_seed(seed),
                callback_on_step_end=step_callback,
            )
            if reference is not None:
                kwargs.update(ip_adapter_image=reference)
            if mode is GenerationMode.TEXT_TO_IMAGE:
                kwargs.update(height=request.height, width=request.width)
            elif mode is GenerationMode.IMAGE_TO_IMAGE:
                kwargs.update(image=init_image, strength=request.strength)
            elif plan is not None:
                kwargs.update(image=plan.image, mask_image=plan.mask, strength=request.strength,
                              height=request.height, width=request.width)
            try:
                image = pipe(**kwargs).images[0]
                if plan is not None:  # the original outside the (feathered) mask
                    image = composite(init_image, image, plan)
            except Cancelled:
                log.info("Generation cancelled at image %d of %d", index + 1, request.count)
                raise
            except Exception as exc:
                if _is_out_of_memory(exc):
                    self._after_oom()
                    raise ModelError(
                        f"Ran out of memory on {self.device.label} making a {request.width}x{request.height} image.",
                        hint="Try a smaller size, fewer images at once, or set Memory saving to “on” in Settings.",
                    ) from exc
                raise
            result = GenerationResult(image=image, recipe=Recipe(seed=seed, **recipe_base),
                                      warnings=tuple(warnings))
            results.append(result)
            if on_result is not None:
                on_result(result)
        return results

    def _after_oom(self) -> None:
        gc.collect()
        if self.device.device == "cuda":
            import torch

            torch.cuda.empty_cache()

    def _step_callback(self, info: ModelInfo, request: GenerationRequest, index: int, started: float,
                       progress: Callable[[GenerationProgress], None] | None, cancel: Any,
                       preview_every: int) -> Callable[..., dict]:
        def on_step_end(pipe: Any, step_index: int, _timestep: Any, callback_kwargs: dict) -> dict:
            if cancel is not None and cancel.cancelled:
                pipe._interrupt = True
                raise Cancelled()
            if progress is not None:
                total = getattr(pipe, "_num_timesteps", None) or request.steps
                step = step_index + 1
                preview = None
                if preview_every > 0 and (step % preview_every == 0) and step < total:
                    preview = latents_to_preview(callback_kwargs["latents"], info.family)
                progress(GenerationProgress(image_index=index, image_count=request.count, step=step,
                                            steps=total, elapsed_s=time.perf_counter() - started,
                                            preview=preview))
            return callback_kwargs

        return on_step_end

    @staticmethod
    def _inpaint_options(request: GenerationRequest) -> InpaintOptions:
        return InpaintOptions(request.mask_blur, request.inpaint_area, request.inpaint_padding)

    def _sized_inputs(self, request: GenerationRequest) -> tuple[Any, Any]:
        """Init image and mask in RGB / L at the requested size (the output is always that size)."""
        if request.init_image is None:
            return None, None
        from PIL import Image

        size = (request.width, request.height)
        init = request.init_image.convert("RGB")
        if init.size != size:
            init = init.resize(size, Image.Resampling.LANCZOS)
        mask = None
        if request.mask_image is not None:
            mask = request.mask_image.convert("L")
            if mask.size != size:
                mask = mask.resize(size, Image.Resampling.NEAREST)
        return init, mask

    def _prompt_warnings(self, pipe: Any, request: GenerationRequest) -> list[str]:
        """Warn, with the dropped words, when a prompt is longer than the text encoder reads."""
        tokenizer = getattr(pipe, "tokenizer", None) or getattr(pipe, "tokenizer_2", None)
        if tokenizer is None:
            return []
        limit = tokenizer.model_max_length - 2  # start and end tokens
        warnings = []
        for label, text in (("prompt", request.prompt), ("negative prompt", request.negative_prompt)):
            if not text:
                continue
            ids = tokenizer(text, add_special_tokens=False, truncation=False).input_ids
            if len(ids) > limit:
                dropped = tokenizer.decode(ids[limit:]).strip()
                warnings.append(f"The {label} is {len(ids)} tokens; the model reads the first {limit}: "
                                f"“{dropped}” was ignored.")
        return warnings

    def _adapter_sha256(self, spec: Any) -> str:
        """The adapter file's SHA-256 (cached by path, size and time); a stale given hash is refused."""
        from studio.generation.hashing import file_sha256

        path = Path(spec.path)
        stat = path.stat()
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        if key not in self._lora_hashes:
            self._lora_hashes[key] = file_sha256(path)
        sha = self._lora_hashes[key]
        if spec.sha256 and spec.sha256.lower() != sha:
            raise ModelError(f"The IP-Adapter file {path.name} changed since it was chosen (its SHA-256 differs).",
                             hint="Choose the adapter again so that the new file is recorded.")
        return sha

    def _recipe_fields(self, request: GenerationRequest, info: ModelInfo) -> dict[str, Any]:
        from studio.generation.hashing import file_sha256

        loras = []
        for spec in request.loras:
            path = Path(spec.path)
            stat = path.stat()
            key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
            if key not in self._lora_hashes:
                self._lora_hashes[key] = file_sha256(path)
            loras.append((path.name, self._lora_hashes[key], float(spec.weight)))
        ip_adapter = None
        if request.ip_adapter is not None:
            ip_adapter = (request.ip_adapter.name, self._adapter_sha256(request.ip_adapter),
                          float(request.ip_adapter_scale))
        with_image = request.init_image is not None
        return dict(
            prompt=request.prompt, negative_prompt=request.negative_prompt, model_name=info.name,
            model_hash=self._model_hash, model_family=info.family.value, steps=request.steps,
            guidance=float(request.guidance), width=request.width, height=request.height,
            scheduler=request.scheduler, mode=request.mode.value,
            strength=float(request.strength) if with_image else None,
            init_image_hash=image_sha256(request.init_image) if with_image else None,
            mask_hash=image_sha256(request.mask_image) if request.mask_image is not None else None,
            loras=tuple(loras), ip_adapter=ip_adapter,
            ip_adapter_image_hash=image_sha256(request.ip_adapter_image) if ip_adapter is not None else None,
            device=self.device.device, dtype=self.device.dtype_name, generator=GENERATOR,
            **({"mask_blur": request.mask_blur, "inpaint_area": request.inpaint_area,
                "inpaint_padding": request.inpaint_padding} if request.mode is GenerationMode.INPAINT else {}),
        )
