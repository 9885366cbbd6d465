"""Checking a request before it is queued: every limit and every file it names, with what to change.

Nothing here loads weights; the engine calls :func:`validate_request` first, and so can a face
(the GUI before it queues a job, the command line before it starts).
"""
from __future__ import annotations

from pathlib import Path

from studio.errors import InputError, NotFound
from studio.generation.ip_adapter import check_ip_adapter
from studio.generation.lora import check_lora
from studio.generation.request import GenerationMode, GenerationRequest, ModelInfo
from studio.generation.schedulers import check_scheduler

MIN_SIZE, MAX_SIZE = 64, 4096
MAX_STEPS = 150
MAX_GUIDANCE = 30.0
MAX_COUNT = 100
MAX_BATCH_SIZE = 16
MAX_CLIP_SKIP = 12
MAX_CONTROL_UNITS = 4
PROMPT_SYNTAXES = ("a1111", "plain")


def nearest_sizes(value: int) -> str:
    lower = value - value % 8
    return " or ".join(str(size) for size in (lower, lower + 8) if MIN_SIZE <= size <= MAX_SIZE)


def check_size(name: str, value: object, info: ModelInfo) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise InputError(f"The {name} must be a whole number of pixels, not {value!r}.")
    if value % 8:
        raise InputError(f"The {name} {value} is not a multiple of 8.", hint=f"Use {nearest_sizes(value)}.")
    if not MIN_SIZE <= value <= MAX_SIZE:
        raise InputError(f"The {name} {value} is outside {MIN_SIZE}–{MAX_SIZE} pixels.",
                         hint=f"This model is made for {info.family.native_size} pixels.")


def hires_size(request: GenerationRequest) -> tuple[int, int]:
    """The final size of a hires-fixed request: the first pass's times the scale, down to a multiple of 8."""
    assert request.hires is not None
    scale = request.hires.scale
    return int(request.width * scale) // 8 * 8, int(request.height * scale) // 8 * 8


def validate_request(request: GenerationRequest, info: ModelInfo) -> None:
    """Raise InputError, NotFound or ModelError naming what to change in ``request`` for ``info``."""
    for name, value in (("width", request.width), ("height", request.height)):
        check_size(name, value, info)
    if not 1 <= request.steps <= MAX_STEPS:
        raise InputError(f"{request.steps} steps is out of range.", hint=f"Use 1 to {MAX_STEPS} steps.")
    if not 0.0 <= request.guidance <= MAX_GUIDANCE:
        raise InputError(f"The guidance {request.guidance} is out of range.",
                         hint=f"Use 0 to {MAX_GUIDANCE:g} (7 is usual; 0–2 for Turbo and LCM models).")
    if not 1 <= request.count <= MAX_COUNT:
        raise InputError(f"{request.count} images is out of range.", hint=f"Ask for 1 to {MAX_COUNT} images.")
    if not 1 <= request.batch_size <= MAX_BATCH_SIZE:
        raise InputError(f"A batch size of {request.batch_size} is out of range.",
                         hint=f"Use 1 to {MAX_BATCH_SIZE} images per batch (more batches make more images).")
    # a manifest holds whole numbers up to 2**53 - 1 (JSON readers keep no more exactly)
    for label, seed in (("seed", request.seed), ("variation seed", request.variation_seed)):
        if seed is not None and not 0 <= seed < 2**53:
            raise InputError(f"The {label} {seed} is out of range.",
                             hint="Use a whole number from 0 to 4294967295, or leave it empty for a random one.")
    check_scheduler(request.scheduler, info, request.sigmas)
    if not 1 <= request.clip_skip <= MAX_CLIP_SKIP:
        raise InputError(f"A clip skip of {request.clip_skip} is out of range.",
                         hint=f"Use 1 (the last layer, the default) to {MAX_CLIP_SKIP}; 2 suits anime models.")
    if request.prompt_syntax not in PROMPT_SYNTAXES:
        raise InputError(f"Unknown prompt syntax “{request.prompt_syntax}”.",
                         hint=f"Choose one of: {', '.join(PROMPT_SYNTAXES)}.")
    if request.prompt_syntax == "plain" and (request.clip_skip != 1 or request.embeddings):
        raise InputError("Clip skip and embeddings need the A1111 prompt syntax.",
                         hint="Use the a1111 prompt syntax (the default).")
    if not 0.0 <= request.variation_strength <= 1.0:
        raise InputError(f"The variation strength {request.variation_strength} is out of range.",
                         hint="Use 0 (the seed's image) to 1 (the variation seed's).")
    if request.variation_strength and request.mode is not GenerationMode.TEXT_TO_IMAGE:
        raise InputError("A variation seed changes the starting noise of text-to-image only.",
                         hint="Remove the init image, or set the variation strength to 0.")
    if request.vae is not None:
        from studio.generation.vae import check_vae

        check_vae(Path(request.vae))
    for path in request.embeddings:
        from studio.generation.prompts import check_embedding

        check_embedding(Path(path))
    _check_inputs(request)
    if request.hires is not None:
        _check_hires(request, info)
    if request.control:
        from studio.generation.control import check_control_units

        check_control_units(request, info)
    for spec in request.loras:
        check_lora(spec)
    if request.ip_adapter is not None:
        check_ip_adapter(request.ip_adapter, request.ip_adapter_scale, request.ip_adapter_image, info)
    elif request.ip_adapter_image is not None:
        raise InputError("A reference picture was given without an IP-Adapter to read it.",
                         hint="Choose an adapter, or use the picture as the init image instead.")


def _check_inputs(request: GenerationRequest) -> None:
    if request.outpaint is not None:
        if request.init_image is None or request.mask_image is not None:
            raise InputError("Outpainting extends an init image and makes its own mask.",
                             hint="Choose an init image, and no mask.")
        from studio.generation.outpaint import check_outpaint

        check_outpaint(request.outpaint, request.init_image.size, (request.width, request.height))
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
        if request.mask_image is not None or request.outpaint is not None:
            from studio.generation.inpaint import InpaintOptions

            InpaintOptions(request.mask_blur, request.inpaint_area, request.inpaint_padding).check()
        if request.mask_image is not None and request.mask_image.size != request.init_image.size:
            w, h = request.init_image.size
            mw, mh = request.mask_image.size
            raise InputError(f"The mask is {mw}x{mh} but the image is {w}x{h}.",
                             hint="Use a mask of the same size as the image.")


def _check_hires(request: GenerationRequest, info: ModelInfo) -> None:
    hires = request.hires
    assert hires is not None
    if request.mode is not GenerationMode.TEXT_TO_IMAGE:
        raise InputError("The hires fix follows a text-to-image first pass.",
                         hint="Remove the init image, or upscale the result with Upscale instead.")
    if not 1.0 < hires.scale <= 4.0:
        raise InputError(f"A hires scale of {hires.scale:g} is out of range.", hint="Use more than 1 and at most 4 (2 is usual).")
    if not 0.0 < hires.denoise <= 1.0:
        raise InputError(f"The hires denoise {hires.denoise:g} is out of range.",
                         hint="Use a value above 0 and at most 1 (0.5 keeps the composition; 0.3 for upscaler models).")
    if not 0 <= hires.steps <= MAX_STEPS:
        raise InputError(f"{hires.steps} hires steps is out of range.", hint=f"Use 0 (as many as the first pass) to {MAX_STEPS}.")
    steps = hires.steps or request.steps
    if int(steps * hires.denoise) < 1:
        raise InputError(f"{steps} hires steps at denoise {hires.denoise:g} leaves no step to run.",
                         hint="Raise the hires steps or the denoise.")
    width, height = hires_size(request)
    for name, value in (("hires width", width), ("hires height", height)):
        if value > MAX_SIZE:
            raise InputError(f"The {name} {value} is over {MAX_SIZE} pixels.", hint="Lower the hires scale.")
    if hires.upscaler not in ("latent", "lanczos"):
        path = Path(hires.upscaler)
        if not path.is_file():
            raise NotFound(f"The upscaler model {path} does not exist.",
                           hint="Choose an upscaler model file, or use the latent or Lanczos upscaler.")
        from studio.generation.upscalers import check_upscaler_file

        check_upscaler_file(path)
