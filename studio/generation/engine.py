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
from studio.generation.validation import MAX_SIZE
from studio.generation.control import ControlModels
from studio.generation.devices import DeviceChoice, MemoryPlan, choose_device, memory_plan
from studio.generation.inpaint import InpaintOptions, composite, plan_inpaint
from studio.generation.ip_adapter import IpAdapterState
from studio.generation.lora import LoraState
from studio.generation.progress import BatchTracker
from studio.generation.prompts import EmbeddingState
from studio.generation.request import (GenerationMode, GenerationProgress, GenerationRequest, GenerationResult,
                                       ModelFamily, ModelInfo, Recipe)
from studio.generation.schedulers import SEEDED_SAMPLERS, make_scheduler, split_sampler

log = logging.getLogger(__name__)

GENERATOR = f"provenance-studio {__version__}"
#: torch.compile's backend for the UNet ("inductor": generated kernels; tests use "eager")
COMPILE_BACKEND = "inductor"

def image_sha256(image: Any) -> str:
    """SHA-256 of the image's PNG encoding: how a recipe names an input image."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return hashlib.sha256(buffer.getvalue()).hexdigest()


def _is_out_of_memory(exc: BaseException) -> bool:
    import torch

    oom = getattr(torch, "OutOfMemoryError", None) or torch.cuda.OutOfMemoryError
    return isinstance(exc, oom) or (isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower())


class Engine:
    """Runs generation requests on one device, keeping the last used model loaded.

    Not re-entrant: the GUI runs it on its single GPU lane; a lock guards against misuse.
    """

    def __init__(self, catalog: Any, *, device: str = "auto", precision: str = "auto",
                 memory_saving: str = "auto", hash_cache: Path, channels_last: str | None = None,
                 torch_compile: bool | None = None) -> None:
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
        self._own_vae: Any = None
        self._vae: Any = None
        self._vae_key: tuple[str, int, int] | None = None
        self._embeddings = EmbeddingState()
        self._upscaler_model: Any = None
        self._upscaler_key: tuple[str, int, int] | None = None
        self._control_models = ControlModels()
        config = getattr(catalog, "config", None)
        self._channels_last_pref = channels_last or (str(config["channels_last"]) if config is not None else "auto")
        self._compile = bool(torch_compile if torch_compile is not None
                             else (config["torch_compile"] if config is not None else False))
        self._runtime: tuple[str, ...] = ()
        self._warm_shapes: set[tuple[int, int, int, str]] = set()
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
        self._embeddings.reset()
        self._control_models.reset()
        self._own_vae = self._vae = self._vae_key = None
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
        self._apply_speed(pipe)
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

    def _apply_speed(self, pipe: Any) -> None:
        """Channels-last tensors (CUDA, or when asked) and torch.compile of the UNet (when asked).

        Attention is PyTorch's scaled-dot-product attention (diffusers' default processor on torch 2),
        which picks flash or memory-efficient kernels on CUDA by itself.
        """
        import torch

        runtime = []
        wanted = self._channels_last_pref == "on" or (self._channels_last_pref == "auto" and self.device.device == "cuda")
        if wanted and not self._plan.cpu_offload:
            pipe.unet.to(memory_format=torch.channels_last)
            pipe.vae.to(memory_format=torch.channels_last)
            runtime.append("channels_last")
        if self._compile:
            pipe.unet = torch.compile(pipe.unet, backend=COMPILE_BACKEND)
            runtime.append("compiled")
        self._runtime = tuple(runtime)
        self._warm_shapes.clear()

    def speed_report(self) -> dict[str, Any]:
        """What makes the loaded model fast: the attention kernels, memory format, compilation, VAE."""
        if self._info is None:
            return {"loaded": False}
        base = self._pipes[GenerationMode.TEXT_TO_IMAGE]
        unet = getattr(base.unet, "_orig_mod", base.unet)
        kinds = sorted({type(proc).__name__ for proc in unet.attn_processors.values()})
        sdpa = all("2_0" in name or name == "AttnProcessor2_0" for name in kinds)
        return {"loaded": True, "attention": "sdpa" if sdpa else ", ".join(kinds),
                "channels_last": "channels_last" in self._runtime, "compiled": "compiled" in self._runtime,
                "memory_plan": str(self._plan), "device": self.device.label}

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

    def _set_scheduler(self, pipe: Any, mode: GenerationMode, key: str, sigmas: str = "default",
                       seed: int | None = None) -> None:
        sampler, sigmas = split_sampler(key, sigmas)
        wanted = f"{sampler}/{sigmas}/{seed if sampler in SEEDED_SAMPLERS else ''}"
        if self._scheduler_key.get(mode) != wanted or getattr(pipe, "_studio_scheduler", None) != wanted:
            pipe.scheduler = make_scheduler(sampler, self._base_scheduler_config, sigmas,
                                            seed=seed if sampler in SEEDED_SAMPLERS else None)
            pipe._studio_scheduler = wanted
            self._scheduler_key[mode] = wanted

    def _apply_vae(self, base: Any, request: GenerationRequest) -> tuple[str, str] | None:
        """Put the request's VAE (or the model's own) on every pipeline; (name, sha256) of a chosen one."""
        if self._own_vae is None:
            self._own_vae = base.vae
        wanted: Any = self._own_vae
        record = None
        chosen = request.vae
        if chosen is None and self._info is not None and self._info.family is ModelFamily.SDXL \
                and self.device.dtype_name == "float16":
            from studio.generation.vae import find_fp16_fix_vae

            chosen = find_fp16_fix_vae(self.annotator_folders())  # SDXL's own VAE overflows in fp16
        if chosen is not None:
            from studio.generation.vae import load_vae, vae_sha256

            path = Path(chosen)
            stat = path.stat()
            key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
            if self._vae_key != key:
                self._vae = load_vae(path, self._own_vae)
                self._vae_key = key
            wanted = self._vae
            record = (path.name, vae_sha256(path, self._hash_cache))
        for pipe in self._pipes.values():
            if pipe.vae is not wanted:
                pipe.vae = wanted
        return record

    # -- validation ---------------------------------------------------------------------

    def validate(self, request: GenerationRequest) -> ModelInfo:
        """Check ``request`` before it is queued; return the model it names.

        Raises InputError, NotFound or ModelError with what to change.
        """
        from studio.generation.validation import validate_request

        info = self._catalog.resolve(request.model)
        validate_request(request, info)
        return info

    # -- generation ---------------------------------------------------------------------

    def generate(self, request: GenerationRequest, *,
                 progress: Callable[[GenerationProgress], None] | None = None,
                 cancel: Any = None, preview_every: int = 0,
                 on_result: Callable[[GenerationResult], None] | None = None) -> list[GenerationResult]:
        """Make ``request.count`` batches of ``request.batch_size`` images, each image with its own
        seed (``seed + i`` for the i-th image overall) and recipe.

        Raises Cancelled when ``cancel.cancelled`` becomes true (images already finished were
        passed to ``on_result``); out-of-memory becomes a ModelError with advice.
        """
        with self._lock:
            return self._generate(request, progress, cancel, preview_every, on_result)

    def _generate(self, request: GenerationRequest, progress: Callable[[GenerationProgress], None] | None,
                  cancel: Any, preview_every: int,
                  on_result: Callable[[GenerationResult], None] | None) -> list[GenerationResult]:
        info = self.validate(request)
        if cancel is not None and cancel.cancelled:
            raise Cancelled()
        try:
            base = self._ensure_loaded(info)
            self._loras.apply(base, request.loras)
            self._apply_ip_adapter(base, request)
            mode = request.mode
            pipe = self._pipeline_for(mode)
            vae_record = self._apply_vae(base, request)
            embeddings = self._embeddings.apply(base, request.embeddings, self._file_sha256)
            control = self._control_for(pipe, request) if request.control else None
            if control is not None:
                pipe = control.pipe
        except Exception as exc:
            if _is_out_of_memory(exc):
                self._after_oom()
                raise ModelError(f"Ran out of memory on {self.device.label} while loading “{info.name}”.",
                                 hint="Set Memory saving to “on” in Settings, or choose a smaller model.") from exc
            raise
        started = time.perf_counter()  # after loading, so that the ETA reflects sampling only
        warnings = self._prompt_warnings(pipe, request)
        base_seed = request.seed if request.seed is not None else secrets.randbits(32)
        base_variation = request.variation_seed
        if request.variation_strength and base_variation is None:
            base_variation = secrets.randbits(32)
        init_image, mask_image = self._sized_inputs(request)
        plan = (plan_inpaint(init_image, mask_image, self._inpaint_options(request), request.width, request.height)
                if mode is GenerationMode.INPAINT else None)
        recipe_base = self._recipe_fields(request, info)
        recipe_base.update(vae=vae_record, embeddings=embeddings, runtime=self._runtime)
        if control is not None:
            recipe_base.update(control=control.records)
        if request.hires is not None:
            recipe_base.update(hires=self._hires_record(request))
        size = request.batch_size
        results: list[GenerationResult] = []
        for batch in range(request.count):
            seeds = [base_seed + batch * size + i for i in range(size)]
            variation = ([base_variation + batch * size + i for i in range(size)]
                         if base_variation is not None and request.variation_strength else None)
            self._set_scheduler(pipe, mode, request.scheduler, request.sigmas, seeds[0])
            track = BatchTracker(info, request, batch, started, progress, cancel, preview_every)
            shape = (request.width, request.height, size, mode.value)
            if "compiled" in self._runtime and shape not in self._warm_shapes:
                track.warm_up()  # the first call at a new size compiles the UNet: say so before it starts
                self._warm_shapes.add(shape)
            try:
                images = self._run_batch(pipe, base, request, seeds, variation, track, control, (init_image, plan))
            except Cancelled:
                log.info("Generation cancelled at batch %d of %d", batch + 1, request.count)
                raise
            except Exception as exc:
                if _is_out_of_memory(exc):
                    self._after_oom()
                    raise ModelError(
                        f"Ran out of memory on {self.device.label} making a {request.width}x{request.height} image.",
                        hint="Try a smaller size, fewer images at once, or set Memory saving to “on” in Settings.",
                    ) from exc
                raise
            for index, image in enumerate(images):
                fields = dict(recipe_base, seed=seeds[index], batch_size=size, batch_index=index)
                if variation is not None:
                    fields.update(variation_seed=variation[index],
                                  variation_strength=float(request.variation_strength))
                result = GenerationResult(image=image, recipe=Recipe(**fields), warnings=tuple(warnings),
                                          control_maps=control.maps if control is not None else ())
                results.append(result)
                if on_result is not None:
                    on_result(result)
        return results

    def _run_batch(self, pipe: Any, base: Any, request: GenerationRequest, seeds: list[int],
                   variation: list[int] | None, track: BatchTracker, control: Any,
                   inputs: tuple[Any, Any]) -> list[Any]:
        """One pipeline call for the seeds of a batch (and the hires pass after it); the images."""
        from studio.generation.noise import generators, initial_noise

        mode = request.mode
        gens = generators(seeds)
        kwargs: dict[str, Any] = dict(num_inference_steps=request.steps, guidance_scale=request.guidance,
                                      generator=gens[0] if len(gens) == 1 else gens,
                                      callback_on_step_end=track.callback(0))
        kwargs.update(self._prompt_kwargs(pipe, request, len(seeds)))
        if request.ip_adapter is not None and request.ip_adapter_image is not None:
            kwargs.update(ip_adapter_image=request.ip_adapter_image.convert("RGB"))
        init_image, plan = inputs
        if mode is GenerationMode.TEXT_TO_IMAGE:
            kwargs.update(height=request.height, width=request.width)
            if variation is not None:
                shape = (len(seeds), base.unet.config.in_channels, request.height // base.vae_scale_factor,
                         request.width // base.vae_scale_factor)
                kwargs["latents"] = initial_noise(shape, gens, base.dtype, variation_seeds=variation,
                                                  strength=request.variation_strength)
        elif mode is GenerationMode.IMAGE_TO_IMAGE:
            kwargs.update(image=init_image, strength=request.strength)
        else:
            kwargs.update(image=plan.image, mask_image=plan.mask, strength=request.strength,
                          height=request.height, width=request.width)
        if control is not None:
            kwargs.update(control.kwargs(mode))
            if control.kind == "t2i_adapter":  # its pipeline still takes the older per-step callback
                step_end = kwargs.pop("callback_on_step_end")
                kwargs.update(callback_steps=1, callback=lambda step, timestep, latents: step_end(
                    pipe, step, timestep, {"latents": latents}))
        if request.hires is None:
            images = list(pipe(**kwargs).images)
            if plan is not None:  # the original outside the (feathered) mask
                images = [composite(init_image, image, plan) for image in images]
            return images
        from studio.generation.hires import hires_pass

        kwargs["output_type"] = "latent"
        latents = pipe(**kwargs).images
        second = self._pipeline_for(GenerationMode.IMAGE_TO_IMAGE)
        self._set_scheduler(second, GenerationMode.IMAGE_TO_IMAGE, request.scheduler, request.sigmas, seeds[0])
        prompt_kwargs = self._prompt_kwargs(second, request, len(seeds))
        if "ip_adapter_image" in kwargs:
            prompt_kwargs["ip_adapter_image"] = kwargs["ip_adapter_image"]
        return hires_pass(second, latents, request, gens, prompt_kwargs, track.callback(1), self._upscaler)

    def _prompt_kwargs(self, pipe: Any, request: GenerationRequest, batch: int) -> dict[str, Any]:
        """The prompt as the pipeline takes it: text (plain syntax) or embeddings (A1111 syntax)."""
        if request.prompt_syntax == "plain":
            return dict(prompt=[request.prompt] * batch if batch > 1 else request.prompt,
                        negative_prompt=([request.negative_prompt] * batch if batch > 1 else request.negative_prompt)
                        if request.negative_prompt else None)
        from studio.generation.prompts import encode_for_pipeline

        return encode_for_pipeline(pipe, request.prompt, request.negative_prompt, clip_skip=request.clip_skip,
                                   batch=batch, guidance=request.guidance)

    def _control_for(self, pipe: Any, request: GenerationRequest) -> Any:
        from studio.generation.control import prepare_control

        return prepare_control(self, pipe, request)

    def _upscaler(self, path: Path) -> Any:
        """The upscaler model at ``path``, loaded once and kept while it is the one in use."""
        from studio.generation.upscalers import load_upscaler

        stat = path.stat()
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        if self._upscaler_key != key:
            self._upscaler_model = load_upscaler(path, device=self.device.device)
            self._upscaler_key = key
        return self._upscaler_model

    def upscale(self, image: Any, upscaler: str, scale: float, *, source: Recipe | None = None) -> GenerationResult:
        """``image`` upscaled by ``scale`` with Lanczos or an upscaler model file, as a result whose
        recipe names the upscaler and the source picture (and keeps the source's prompt and seed)."""
        from studio.generation.request import UpscaleRecord
        from studio.generation.upscalers import MAX_SCALE, check_upscaler_file, upscale_image

        if not 1.0 < float(scale) <= MAX_SCALE:
            raise InputError(f"An upscale by {scale:g} is out of range.", hint=f"Use more than 1 and at most {MAX_SCALE:g}.")
        width, height = round(image.size[0] * scale), round(image.size[1] * scale)
        if max(width, height) > 2 * MAX_SIZE:
            raise InputError(f"{width}x{height} pixels is larger than the studio makes.",
                             hint="Choose a smaller factor.")
        with self._lock:
            if upscaler == "lanczos":
                model, name, sha = None, "lanczos", hashlib.sha256(b"lanczos").hexdigest()
            else:
                path = Path(upscaler)
                check_upscaler_file(path)
                model, name, sha = self._upscaler(path), path.name, self._file_sha256(path)
            result = upscale_image(image, upscaler, scale, model)
        record = UpscaleRecord(upscaler=name, scale=float(scale), upscaler_sha256=None if model is None else sha)
        recipe = Recipe(
            prompt=source.prompt if source else "", negative_prompt=source.negative_prompt if source else "",
            model_name=name, model_hash=sha, model_family="upscaler", seed=source.seed if source else 0,
            steps=0, guidance=0.0, width=result.size[0], height=result.size[1], scheduler="", mode="upscale",
            init_image_hash=image_sha256(image), device=self.device.device if model is not None else "cpu",
            dtype="float32", generator=GENERATOR, upscale=record)
        return GenerationResult(image=result, recipe=recipe)

    def _hires_record(self, request: GenerationRequest) -> Any:
        from studio.generation.request import HiresRecord
        from studio.generation.validation import hires_size

        hires = request.hires
        assert hires is not None
        width, height = hires_size(request)
        named = hires.upscaler in ("latent", "lanczos")
        return HiresRecord(scale=float(hires.scale), upscaler=hires.upscaler if named else Path(hires.upscaler).name,
                           steps=hires.steps or request.steps, denoise=float(hires.denoise),
                           upscaler_sha256=None if named else self._file_sha256(Path(hires.upscaler)),
                           width=width, height=height)

    def annotator_folders(self) -> list[Path]:
        """The models folders, where preprocessors look for their annotator models."""
        config = getattr(self._catalog, "config", None)
        return list(config.model_folders()) if config is not None else []

    def folder_sha256(self, folder: Path) -> str:
        """A diffusers folder's SHA-256 as :func:`studio.generation.hashing.model_hash` computes it."""
        from studio.generation.hashing import model_hash
        from studio.generation.request import ModelFormat

        info = ModelInfo(name=folder.name, path=folder, family=ModelFamily.SD1, format=ModelFormat.DIFFUSERS)
        return model_hash(info, self._hash_cache)

    def _file_sha256(self, path: Path) -> str:
        """A weights file's SHA-256, cached by path, size and modification time."""
        from studio.generation.hashing import file_sha256

        stat = path.stat()
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        if key not in self._lora_hashes:
            self._lora_hashes[key] = file_sha256(path)
        return self._lora_hashes[key]

    def _after_oom(self) -> None:
        gc.collect()
        if self.device.device == "cuda":
            import torch

            torch.cuda.empty_cache()

    @staticmethod
    def _inpaint_options(request: GenerationRequest) -> InpaintOptions:
        return InpaintOptions(request.mask_blur, request.inpaint_area, request.inpaint_padding)

    def _sized_inputs(self, request: GenerationRequest) -> tuple[Any, Any]:
        """Init image and mask in RGB / L at the requested size (the output is always that size)."""
        if request.init_image is None:
            return None, None
        if request.outpaint is not None:
            from studio.generation.outpaint import outpaint_canvas

            return outpaint_canvas(request.init_image, request.outpaint)
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
        if tokenizer is None or request.prompt_syntax != "plain":  # A1111 syntax reads every chunk
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
            scheduler=split_sampler(request.scheduler, request.sigmas)[0], sigmas=split_sampler(request.scheduler, request.sigmas)[1],
            clip_skip=request.clip_skip, prompt_syntax=request.prompt_syntax, mode=request.mode.value,
            strength=float(request.strength) if with_image else None,
            init_image_hash=image_sha256(request.init_image) if with_image else None,
            mask_hash=image_sha256(request.mask_image) if request.mask_image is not None else None,
            outpaint=request.outpaint,
            loras=tuple(loras), ip_adapter=ip_adapter,
            ip_adapter_image_hash=image_sha256(request.ip_adapter_image) if ip_adapter is not None else None,
            device=self.device.device, dtype=self.device.dtype_name, generator=GENERATOR,
            **({"mask_blur": request.mask_blur, "inpaint_area": request.inpaint_area,
                "inpaint_padding": request.inpaint_padding} if request.mode is GenerationMode.INPAINT else {}),
        )
