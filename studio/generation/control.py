"""ControlNet and T2I-Adapter units on a request: loading their models from local files, turning each
unit's picture into its control map, and the pipeline and call arguments that apply them.

A ControlNet is a diffusers folder (``config.json`` + weights) or one ``.safetensors`` file in the
diffusers or the original (``control_model.*`` / ``input_hint_block``) layout, read into the shape
of the loaded model's UNet. A T2I-Adapter is a diffusers folder (``_class_name: T2IAdapter``) and
acts over the whole sampling (start 0, end 1). Several units of one kind run together, each with
its weight and, for ControlNets, its start and end (fractions of the sampling).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from studio import safejson
from studio.errors import InputError, ModelError, NotFound, StudioError
from studio.generation.request import ControlRecord, ControlUnit, GenerationMode, GenerationRequest, ModelInfo

log = logging.getLogger(__name__)

MAX_UNITS = 4
KINDS = ("controlnet", "t2i_adapter")


def control_kind(path: Path) -> str:
    """``controlnet`` or ``t2i_adapter``, from a folder's config or a file's tensor names."""
    path = Path(path)
    if path.is_dir():
        config = path / "config.json"
        if not config.is_file():
            raise InputError(f"{path} is not a ControlNet or T2I-Adapter folder: it has no config.json.",
                             hint="Choose the folder that holds config.json and the weights, or a .safetensors file.")
        try:
            data = safejson.load_file(config, what=f"The config of {path.name}", max_bytes=1024 * 1024)
        except StudioError as exc:
            raise ModelError(f"The config of {path.name} is not readable JSON ({exc}).", hint="Download it again.") from exc
        name = data.get("_class_name", "") if isinstance(data, dict) else ""
        if name == "T2IAdapter":
            return "t2i_adapter"
        if name == "ControlNetModel":
            return "controlnet"
        raise ModelError(f"{path.name} is a {name or 'diffusers'} model, not a ControlNet or T2I-Adapter.",
                         hint="Choose a ControlNet (SD 1.5, SD 2.x or SDXL) or a T2I-Adapter folder.")
    if path.suffix.lower() != ".safetensors":
        raise InputError(f"{path.name} is not a .safetensors ControlNet.",
                         hint="Only .safetensors files are loaded; pickle files (.pth, .ckpt) can run code.")
    from studio.generation.models import read_safetensors_header

    header, _metadata = read_safetensors_header(path)
    if any(k.startswith(("controlnet_cond_embedding.", "control_model.", "input_hint_block.")) for k in header):
        return "controlnet"
    if any(k.startswith("adapter.") for k in header):
        raise InputError(f"{path.name} is a T2I-Adapter file; the studio reads T2I-Adapters as diffusers folders.",
                         hint="Use the diffusers version of the adapter (a folder with config.json).")
    raise ModelError(f"{path.name} is not a ControlNet (it has no control-embedding weights).",
                     hint="Choose a ControlNet .safetensors file or folder.")


def check_control_units(request: GenerationRequest, info: ModelInfo) -> None:
    """Raise, before a job starts, what a user must change in the request's control units."""
    from studio.generation.preprocessors import PREPROCESSORS

    units = request.control
    if len(units) > MAX_UNITS:
        raise InputError(f"{len(units)} control units is more than {MAX_UNITS}.", hint=f"Use at most {MAX_UNITS}.")
    kinds = set()
    for index, unit in enumerate(units):
        label = f"Control unit {index + 1}"
        if not Path(unit.model).exists():
            raise NotFound(f"{label}: the model {unit.model} does not exist.",
                           hint="Choose a ControlNet file or folder, or remove the unit.")
        kind = control_kind(Path(unit.model))
        kinds.add(kind)
        if unit.image is None:
            raise InputError(f"{label} has no picture to read.", hint="Choose a picture for it, or remove the unit.")
        if unit.preprocessor not in PREPROCESSORS:
            raise InputError(f"{label}: unknown preprocessor “{unit.preprocessor}”.",
                             hint=f"Choose one of: {', '.join(PREPROCESSORS)}.")
        if not 0.0 <= unit.weight <= 2.0:
            raise InputError(f"{label}: the weight {unit.weight:g} is out of range.", hint="Use 0 to 2 (1 is usual).")
        if not 0.0 <= unit.start < unit.end <= 1.0:
            raise InputError(f"{label}: start {unit.start:g} and end {unit.end:g} do not make a part of the sampling.",
                             hint="Use 0 ≤ start < end ≤ 1 (0 and 1: all of it).")
        if kind == "t2i_adapter" and (unit.start, unit.end) != (0.0, 1.0):
            raise InputError(f"{label} is a T2I-Adapter, which acts over the whole sampling.",
                             hint="Leave start at 0 and end at 1 for T2I-Adapters.")
        if kind == "t2i_adapter" and request.mode is not GenerationMode.TEXT_TO_IMAGE:
            raise InputError(f"{label} is a T2I-Adapter, which guides text-to-image only.",
                             hint="Remove the init image, or use a ControlNet.")
    if len(kinds) > 1:
        raise InputError("ControlNets and T2I-Adapters cannot guide one image together.",
                         hint="Use units of one kind.")
    if request.mode is GenerationMode.INPAINT and request.inpaint_area == "masked":
        raise InputError("Control units read the whole picture, but “Only masked” paints a crop of it.",
                         hint="Inpaint the whole picture with control units, or remove them.")


@dataclass
class ControlSetup:
    """The pipeline carrying a request's units, its call arguments, the maps and the recipe records."""

    pipe: Any
    kind: str
    maps: tuple[Any, ...]
    records: tuple[ControlRecord, ...]
    weights: list[float]
    starts: list[float]
    ends: list[float]

    def kwargs(self, mode: GenerationMode) -> dict[str, Any]:
        single = len(self.maps) == 1
        maps: Any = self.maps[0] if single else list(self.maps)
        if self.kind == "t2i_adapter":
            return {"image": maps, "adapter_conditioning_scale": self.weights[0] if single else self.weights}
        key = "image" if mode is GenerationMode.TEXT_TO_IMAGE else "control_image"
        return {key: maps, "controlnet_conditioning_scale": self.weights[0] if single else self.weights,
                "control_guidance_start": self.starts[0] if single else self.starts,
                "control_guidance_end": self.ends[0] if single else self.ends}


class ControlModels:
    """The ControlNet / T2I-Adapter models of the last request, kept loaded while they are reused."""

    def __init__(self) -> None:
        self._loaded: dict[tuple[str, int, int], Any] = {}

    def get(self, path: Path, unet: Any, device: Any, dtype: Any) -> Any:
        stat = path.stat() if path.is_file() else (path / "config.json").stat()
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        if key not in self._loaded:
            self._loaded[key] = load_control_model(path, unet).to(device=device, dtype=dtype).eval()
        return self._loaded[key]

    def keep_only(self, paths: Sequence[Path]) -> None:
        wanted = {str(Path(p).resolve()) for p in paths}
        for key in [k for k in self._loaded if k[0] not in wanted]:
            del self._loaded[key]

    def reset(self) -> None:
        self._loaded.clear()


def load_control_model(path: Path, unet: Any) -> Any:
    """A ControlNet (or T2I-Adapter) from ``path``; a single file is read into ``unet``'s shape."""
    from diffusers import ControlNetModel, T2IAdapter

    path = Path(path)
    kind = control_kind(path)
    try:
        if path.is_dir():
            cls = T2IAdapter if kind == "t2i_adapter" else ControlNetModel
            return cls.from_pretrained(str(path), local_files_only=True, use_safetensors=True)
        return _controlnet_from_file(path, unet)
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise ModelError(f"Could not load the ControlNet {path.name}: {str(exc)[:200]}",
                         hint="It may be for another model family (SD 1.5, SD 2.x or SDXL) or damaged.") from exc


def _controlnet_from_file(path: Path, unet: Any) -> Any:
    from diffusers import ControlNetModel
    from safetensors.torch import load_file

    state = load_file(str(path))
    if any(k.startswith(("control_model.", "input_hint_block.")) for k in state):
        from diffusers.loaders.single_file_utils import convert_controlnet_checkpoint

        state = convert_controlnet_checkpoint(state, {"layers_per_block": unet.config.layers_per_block})
    channels = [state["controlnet_cond_embedding.conv_in.weight"].shape[0]]
    index = 1
    while f"controlnet_cond_embedding.blocks.{index}.weight" in state:
        channels.append(state[f"controlnet_cond_embedding.blocks.{index}.weight"].shape[0])
        index += 2
    model = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=tuple(channels),
                                      load_weights_from_unet=False)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelError(f"{path.name} is not a ControlNet for this model: its tensors do not fit the model's UNet.",
                         hint="Choose a ControlNet made for the model's family (SD 1.5, SD 2.x or SDXL).") from exc
    return model


def prepare_control(engine: Any, pipe: Any, request: GenerationRequest) -> ControlSetup:
    """Load the units' models, make their maps at the request's size, and derive the pipeline."""
    from diffusers import (AutoPipelineForImage2Image, AutoPipelineForInpainting, AutoPipelineForText2Image,
                           MultiAdapter, StableDiffusionAdapterPipeline, StableDiffusionXLAdapterPipeline)
    from PIL import Image

    from studio.generation.engine import image_sha256
    from studio.generation.preprocessors import preprocess

    base = engine._pipes[GenerationMode.TEXT_TO_IMAGE]
    models_cache: ControlModels = engine._control_models
    device, dtype = base.unet.device, base.unet.dtype
    units: Sequence[ControlUnit] = request.control
    models_cache.keep_only([Path(u.model) for u in units])
    kind = control_kind(Path(units[0].model))
    models, maps, records = [], [], []
    folders = engine.annotator_folders()
    for unit in units:
        path = Path(unit.model)
        models.append(models_cache.get(path, base.unet, device, dtype))
        assert unit.image is not None
        picture = unit.image.convert("RGB").resize((request.width, request.height), Image.Resampling.LANCZOS)
        control_map = preprocess(picture, unit.preprocessor, low_threshold=unit.low_threshold,
                                 high_threshold=unit.high_threshold, model_folders=folders)
        maps.append(control_map)
        sha = engine._file_sha256(path) if path.is_file() else engine.folder_sha256(path)
        records.append(ControlRecord(model_name=path.name, model_sha256=sha, kind=kind,
                                     image_sha256=image_sha256(unit.image), preprocessor=unit.preprocessor,
                                     weight=float(unit.weight), start=float(unit.start), end=float(unit.end),
                                     low_threshold=int(unit.low_threshold), high_threshold=int(unit.high_threshold)))
    mode = request.mode
    if kind == "t2i_adapter":
        adapter = models[0] if len(models) == 1 else MultiAdapter(models)
        cls = StableDiffusionXLAdapterPipeline if hasattr(base, "text_encoder_2") else StableDiffusionAdapterPipeline
        derived = cls.from_pipe(base, adapter=adapter)
    else:
        controlnet = models[0] if len(models) == 1 else models
        auto = {GenerationMode.TEXT_TO_IMAGE: AutoPipelineForText2Image,
                GenerationMode.IMAGE_TO_IMAGE: AutoPipelineForImage2Image,
                GenerationMode.INPAINT: AutoPipelineForInpainting}[mode]
        derived = auto.from_pipe(base, controlnet=controlnet)
    derived.set_progress_bar_config(disable=True)
    return ControlSetup(pipe=derived, kind=kind, maps=tuple(maps), records=tuple(records),
                        weights=[float(u.weight) for u in units], starts=[float(u.start) for u in units],
                        ends=[float(u.end) for u in units])
