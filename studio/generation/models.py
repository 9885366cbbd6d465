"""Finding the models on this machine and telling what each one is, without loading any weights.

A model is a diffusers folder (``model_index.json`` with its component folders) or one
single-file checkpoint (``.safetensors``; ``.ckpt``/``.bin``/``.pt`` pickles only when the user
opts in). The family (SD 1.x, SD 2.x, SDXL) comes from configs or from the tensor names and shapes
in a safetensors header; the variant (base, Turbo, LCM) from the scheduler, metadata or name.
:class:`ModelCatalog` is the list the Create tab, the command line and the engine share.
"""
from __future__ import annotations

import json
import logging
import os
import struct
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio import safejson
from studio.config import Config
from studio.errors import InputError, ModelError, NotFound, StudioError
from studio.fileio import atomic_write_text
from studio.generation.demo import DEMO_NAME, demo_model_info, ensure_demo_model
from studio.generation.request import ModelFamily, ModelFormat, ModelInfo

log = logging.getLogger(__name__)

SAFETENSORS_SUFFIXES = (".safetensors",)
PICKLE_SUFFIXES = (".ckpt", ".bin", ".pt", ".pth")
SCAN_DEPTH = 3                      # a models folder, and up to two levels of sub-folders
MAX_HEADER_BYTES = 100 * 1024 * 1024
ADDED_MODELS_FILE = "added-models.json"

PICKLE_RISK = ("is a pickle checkpoint: loading a pickle file can run arbitrary code hidden in it, "
               "so the studio refuses it by default.")
PICKLE_HINT = ("Prefer a .safetensors version of the model. If you trust the file's source, switch on "
               "“Allow pickle checkpoints (.ckpt, .bin)” in Settings.")

# Pipelines whose components the studio can run, by family (None: decided from the configs).
_PIPELINES: dict[str, ModelFamily | None] = {
    "StableDiffusionPipeline": None,
    "StableDiffusionImg2ImgPipeline": None,
    "LatentConsistencyModelPipeline": None,
    "AltDiffusionPipeline": None,
    "StableDiffusionXLPipeline": ModelFamily.SDXL,
    "StableDiffusionXLImg2ImgPipeline": ModelFamily.SDXL,
}
_CROSS_ATTENTION_FAMILY = {768: ModelFamily.SD1, 1024: ModelFamily.SD2, 2048: ModelFamily.SDXL}
# modelspec.architecture prefixes (the Stability AI model spec) and what they mean here.
_MODELSPEC_FAMILY = (
    ("stable-diffusion-xl-v1-refiner", None),
    ("stable-diffusion-xl", ModelFamily.SDXL),
    ("stable-diffusion-v2", ModelFamily.SD2),
    ("stable-diffusion-v1", ModelFamily.SD1),
)


@dataclass(frozen=True)
class ScanResult:
    """What a scan found: usable models, and files passed over with the reason shown to the user."""

    models: tuple[ModelInfo, ...]
    skipped: tuple[tuple[Path, str], ...]


# -- detection -------------------------------------------------------------------------------


def detect_model(path: Path) -> ModelInfo:
    """Tell what the model at ``path`` is (family, format, variant), reading configs and headers only.

    Raises :class:`ModelError` for a missing path, an incomplete or corrupt model, or something
    that is not a Stable Diffusion 1.x/2.x/XL checkpoint (another architecture, a LoRA, a VAE).
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise NotFound(f"There is no model at {path}: the file or folder does not exist.",
                       hint="Check the path, or choose the model again.")
    if path.is_dir():
        return _detect_folder(path)
    suffix = path.suffix.lower()
    if suffix in SAFETENSORS_SUFFIXES:
        return _detect_safetensors(path)
    if suffix in PICKLE_SUFFIXES:
        return _detect_pickle(path)
    raise ModelError(f"{path.name} is not a model file the studio knows (.safetensors, or a diffusers folder).",
                     hint="Choose a .safetensors checkpoint or a folder that contains model_index.json.")


#: the most a model folder's JSON file may hold (real ones are a few KiB)
MODEL_JSON_BYTES = 1024 * 1024


def _read_json(path: Path, what: str) -> dict[str, Any]:
    """A model folder's JSON (model_index.json, a config): outside data, so read bounded (1 MiB)."""
    try:
        data = safejson.load_file(path, what=f"{what}: {path.name}", max_bytes=MODEL_JSON_BYTES)
    except NotFound as exc:
        raise ModelError(f"{what} is incomplete: {path.name} is missing.",
                         hint="Download the model again.") from exc
    except StudioError as exc:
        raise ModelError(f"{what} is corrupt: {path} is not readable JSON ({exc}).",
                         hint="Download the model again.") from exc
    if not isinstance(data, dict):
        raise ModelError(f"{what} is corrupt: {path} is not a JSON object.", hint="Download the model again.")
    return data


def _hf_repo_name(folder: Path) -> str | None:
    """``owner/name`` for a Hugging Face cache snapshot (``models--owner--name/snapshots/<rev>``)."""
    parts = folder.parts
    if len(parts) >= 3 and parts[-2] == "snapshots" and parts[-3].startswith("models--"):
        return parts[-3][len("models--"):].replace("--", "/")
    return None


def _folder_size(folder: Path) -> int:
    total = 0
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            try:
                total += (Path(root) / name).stat().st_size
            except OSError:
                continue
    return total


def _weight_files(folder: Path) -> tuple[list[Path], list[Path]]:
    """(safetensors files, pickle files) directly in a component folder."""
    if not folder.is_dir():
        return [], []
    files = [p for p in folder.iterdir() if p.is_file()]
    return ([p for p in files if p.suffix == ".safetensors"],
            [p for p in files if p.suffix in (".bin", ".ckpt", ".pt", ".pth")])


def _variant_from_text(*texts: str) -> str:
    for text in texts:
        lowered = text.lower()
        if "turbo" in lowered or "lightning" in lowered:
            return "turbo"
        if "lcm" in lowered or "latent-consistency" in lowered:
            return "lcm"
    return "base"


def _detect_folder(folder: Path) -> ModelInfo:
    index_file = folder / "model_index.json"
    if not index_file.exists():
        raise InputError(f"{folder} is not a diffusers model folder: it has no model_index.json.",
                         hint="Choose the folder that contains model_index.json, or a .safetensors file.")
    name = _hf_repo_name(folder) or folder.name
    what = f"The model folder {folder}"
    index = _read_json(index_file, what)
    class_name = str(index.get("_class_name", ""))
    if class_name not in _PIPELINES:
        raise ModelError(f"“{name}” is a {class_name or 'diffusers'} model; the studio does not support "
                         "that architecture.",
                         hint="The studio runs Stable Diffusion 1.x, 2.x and SDXL models (and their "
                              "Turbo and LCM versions).")
    family = _PIPELINES[class_name]
    required = ["unet", "vae", "text_encoder", "tokenizer", "scheduler"]
    if class_name.startswith("StableDiffusionXL"):
        required += ["text_encoder_2", "tokenizer_2"]
        if not _listed(index, "text_encoder"):
            raise ModelError(f"“{name}” is an SDXL refiner, which works only after an SDXL base model.",
                             hint="Use an SDXL base model.")
    is_pickle = False
    for component in required:
        if not _listed(index, component):
            raise ModelError(f"{what} is incomplete: model_index.json lists no {component}.",
                             hint="Download the model again.")
        sub = folder / component
        if not sub.is_dir():
            raise ModelError(f"{what} is incomplete: the {component} folder is missing.",
                             hint="Download the model again.")
        if component.startswith(("unet", "vae", "text_encoder")):
            safe, pickled = _weight_files(sub)
            if not safe and not pickled:
                raise ModelError(f"{what} is incomplete: {component} has no weights.",
                                 hint="Download the model again (the download may have stopped early).")
            is_pickle = is_pickle or not safe
    unet = _read_json(folder / "unet" / "config.json", what)
    in_channels = unet.get("in_channels", 4)
    if in_channels != 4:
        kind = "an inpainting" if in_channels == 9 else "a depth or upscaling" if in_channels in (5, 7) \
            else "a special-purpose"
        raise ModelError(f"“{name}” is {kind} model (its UNet takes {in_channels} channels), "
                         "which the studio cannot run.",
                         hint="Use a text-to-image model; the studio inpaints with any of them.")
    if family is None:
        family = _CROSS_ATTENTION_FAMILY.get(unet.get("cross_attention_dim"))  # type: ignore[arg-type]
        if family is ModelFamily.SDXL:
            raise ModelError(f"“{name}” has an SDXL-sized UNet but a {class_name}.",
                             hint="Download the model again.")
        if family is None:  # small test models: OpenCLIP (SD 2.x) uses gelu, OpenAI CLIP quick_gelu
            text = _read_json(folder / "text_encoder" / "config.json", what)
            family = ModelFamily.SD2 if text.get("hidden_act") == "gelu" else ModelFamily.SD1
    scheduler_file = folder / "scheduler" / "scheduler_config.json"
    scheduler = _read_json(scheduler_file, what) if scheduler_file.exists() else {}
    if class_name == "LatentConsistencyModelPipeline" or scheduler.get("_class_name") == "LCMScheduler":
        variant = "lcm"
    else:
        variant = _variant_from_text(name, str(index.get("_name_or_path", "")))
    return ModelInfo(name=name, path=folder, family=family, format=ModelFormat.DIFFUSERS, variant=variant,
                     size_bytes=_folder_size(folder), is_pickle=is_pickle)


def _listed(index: dict[str, Any], component: str) -> bool:
    value = index.get(component)
    return isinstance(value, list) and len(value) == 2 and value[0] is not None


def read_safetensors_header(path: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """The tensors (name -> dtype, shape, offsets) and metadata of a safetensors file, checked
    against the file's size so that a truncated download is caught before loading."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as stream:
            prefix = stream.read(8)
            if len(prefix) < 8:
                raise ValueError("the file is shorter than a safetensors header")
            (length,) = struct.unpack("<Q", prefix)
            if length > MAX_HEADER_BYTES or 8 + length > size:
                raise ValueError("the header length does not fit the file")
            raw = stream.read(length)
        try:
            header = safejson.loads(raw, what="The safetensors header")
        except InputError as exc:
            raise ValueError(str(exc)) from exc
        if not isinstance(header, dict):
            raise ValueError("the header is not a JSON object")
        metadata = header.pop("__metadata__", None) or {}
        if not isinstance(metadata, dict):
            raise ValueError("the metadata is not a JSON object")
        end = 0
        for key, entry in header.items():
            offsets = entry.get("data_offsets") if isinstance(entry, dict) else None
            if not (isinstance(offsets, list) and len(offsets) == 2 and 0 <= offsets[0] <= offsets[1]):
                raise ValueError(f"tensor {key!r} has no valid offsets")
            end = max(end, offsets[1])
        if 8 + length + end > size:
            raise ModelError(f"{path.name} is incomplete: it has {size:,} bytes but its header describes "
                             f"{8 + length + end:,}.",
                             hint="The download probably stopped early: download it again.")
    except OSError as exc:
        raise ModelError(f"Could not read {path}: {exc.strerror or exc}.",
                         hint="Check that the file exists and is readable.") from exc
    except (ValueError, UnicodeDecodeError, struct.error) as exc:
        raise ModelError(f"{path.name} is corrupt or incomplete: {exc}.",
                         hint="Download it again.") from exc
    return header, {str(k): str(v) for k, v in metadata.items()}


def family_from_keys(keys: Iterable[str], shapes: dict[str, list[int]] | None = None,
                     *, name: str = "this file") -> ModelFamily:
    """The family of an original (LDM/CompVis-layout) checkpoint from its tensor names.

    Raises :class:`ModelError` naming what the file is when it is not a full SD checkpoint.
    """
    keys = list(keys)
    key_set = set(keys)
    shapes = shapes or {}

    def has(prefix: str) -> bool:
        return any(k.startswith(prefix) for k in keys)

    unet = has("model.diffusion_model.")
    if not unet:
        if any("lora_down" in k or "lora_up" in k or ".lora_A." in k or ".lora_B." in k
               or k.startswith(("lora_unet_", "lora_te")) for k in keys):
            raise ModelError(f"{name} is a LoRA, not a checkpoint: it adds a style or subject to a model "
                             "but cannot make images on its own.",
                             hint="Choose a base model here, and add the LoRA in the Create tab's LoRA list.")
        if key_set & {"emb_params", "string_to_param.*", "clip_l", "clip_g"} or has("string_to_param"):
            raise ModelError(f"{name} is a textual-inversion embedding, not a checkpoint.",
                             hint="Choose a full model checkpoint.")
        if has("double_blocks.") or has("single_blocks."):
            raise ModelError(f"{name} is a FLUX model, which the studio cannot run.",
                             hint="The studio runs Stable Diffusion 1.x, 2.x and SDXL checkpoints.")
        if has("joint_blocks."):
            raise ModelError(f"{name} is a Stable Diffusion 3 model, which the studio cannot run.",
                             hint="The studio runs Stable Diffusion 1.x, 2.x and SDXL checkpoints.")
        if has("encoder.down.") or has("decoder.up.") or has("first_stage_model."):
            raise ModelError(f"{name} is only a VAE (the image decoder), not a full checkpoint.",
                             hint="Choose a full model checkpoint.")
        if has("down_blocks.") or has("text_model.") or has("conv_in."):
            raise ModelError(f"{name} is one part of a diffusers model, not a checkpoint.",
                             hint="Choose the folder that contains model_index.json instead.")
        raise ModelError(f"{name} is not a Stable Diffusion checkpoint (it has no UNet weights).",
                         hint="Choose a Stable Diffusion 1.x, 2.x or SDXL checkpoint.")
    if has("model.diffusion_model.joint_blocks."):
        raise ModelError(f"{name} is a Stable Diffusion 3 model, which the studio cannot run.",
                         hint="The studio runs Stable Diffusion 1.x, 2.x and SDXL checkpoints.")
    if has("model.diffusion_model.double_blocks."):
        raise ModelError(f"{name} is a FLUX model, which the studio cannot run.",
                         hint="The studio runs Stable Diffusion 1.x, 2.x and SDXL checkpoints.")
    first = shapes.get("model.diffusion_model.input_blocks.0.0.weight")
    if first and len(first) == 4 and first[1] != 4:
        kind = "an inpainting" if first[1] == 9 else "a special-purpose"
        raise ModelError(f"{name} is {kind} checkpoint (its UNet takes {first[1]} channels), "
                         "which the studio cannot run.",
                         hint="Use a text-to-image checkpoint; the studio inpaints with any of them.")
    if has("conditioner.embedders.1."):
        return ModelFamily.SDXL
    if has("conditioner.embedders.0.model."):
        raise ModelError(f"{name} is an SDXL refiner, which works only after an SDXL base model.",
                         hint="Use an SDXL base checkpoint.")
    if has("cond_stage_model.model."):
        return ModelFamily.SD2
    if has("cond_stage_model.transformer."):
        return ModelFamily.SD1
    for key, shape in shapes.items():  # no text encoder: the UNet's cross-attention width still tells
        if key.endswith("attn2.to_k.weight") and shape and len(shape) == 2:
            family = _CROSS_ATTENTION_FAMILY.get(shape[1])
            if family is not None:
                log.info("%s has no text encoder weights; %s from the UNet's width.", name, family.value)
                return family
    raise ModelError(f"{name} has a UNet but no text encoder, so it is not a complete checkpoint.",
                     hint="Choose a full checkpoint (one that includes its text encoder).")


def _detect_safetensors(path: Path) -> ModelInfo:
    header, metadata = read_safetensors_header(path)
    shapes = {k: list(v["shape"]) for k, v in header.items() if isinstance(v, dict) and isinstance(v.get("shape"), list)}
    architecture = metadata.get("modelspec.architecture", "").lower()
    if "/lora" in architecture or architecture.endswith("lora"):
        raise ModelError(f"{path.name} is a LoRA, not a checkpoint: it adds a style or subject to a model "
                         "but cannot make images on its own.",
                         hint="Choose a base model here, and add the LoRA in the Create tab's LoRA list.")
    family = family_from_keys(header, shapes, name=path.name)
    for prefix, spec_family in _MODELSPEC_FAMILY:
        if architecture.startswith(prefix):
            if spec_family is not None and spec_family is not family:
                log.info("%s: the weights look %s, the modelspec metadata says %s; going by the metadata.",
                         path.name, family.value, architecture)
                family = spec_family
            break
    variant = _variant_from_text(path.stem, metadata.get("modelspec.title", ""), architecture)
    return ModelInfo(name=path.stem, path=path, family=family, format=ModelFormat.SINGLE_FILE,
                     variant=variant, size_bytes=path.stat().st_size, is_pickle=False)


def family_from_name(name: str) -> ModelFamily | None:
    """A guess from a file name, for pickles whose contents cannot be read safely before loading."""
    lowered = name.lower().replace("_", "-").replace(" ", "-")
    if "xl" in lowered:
        return ModelFamily.SDXL
    if any(tag in lowered for tag in ("v2-", "sd2", "sd-2", "2.1", "2-1", "2.0", "2-0", "768-v")):
        return ModelFamily.SD2
    if any(tag in lowered for tag in ("v1-", "sd1", "sd-1", "1.5", "1-5", "1.4", "1-4")):
        return ModelFamily.SD1
    return None


def _detect_pickle(path: Path) -> ModelInfo:
    family = family_from_name(path.stem)
    if family is None:
        log.info("%s is a pickle checkpoint: its family cannot be read without loading it; assuming SD 1.x "
                 "(the loader checks the weights when it loads them).", path.name)
        family = ModelFamily.SD1
    return ModelInfo(name=path.stem, path=path, family=family, format=ModelFormat.SINGLE_FILE,
                     variant=_variant_from_text(path.stem), size_bytes=path.stat().st_size, is_pickle=True)


def pickle_refusal(info: ModelInfo) -> InputError:
    """The error for a pickle model while the user has not allowed pickles."""
    return InputError(f"“{info.name}” ({Path(info.path).name}) {PICKLE_RISK}", hint=PICKLE_HINT)


# -- scanning --------------------------------------------------------------------------------


def hf_hub_cache() -> Path:
    """The Hugging Face hub cache folder, as huggingface_hub finds it (HF_HUB_CACHE, HF_HOME)."""
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(var):
            return Path(os.environ[var]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "huggingface" / "hub"


def _hf_snapshots(cache: Path) -> list[Path]:
    """The snapshot of each cached diffusers repo: the one ``refs/main`` names, else the newest."""
    found: list[Path] = []
    try:
        repos = sorted(p for p in cache.iterdir() if p.is_dir() and p.name.startswith("models--"))
    except OSError:
        return found
    for repo in repos:
        snapshots = repo / "snapshots"
        try:
            candidates = [s for s in snapshots.iterdir() if (s / "model_index.json").exists()]
        except OSError:
            continue
        if not candidates:
            continue
        try:
            main = (repo / "refs" / "main").read_text().strip()
        except OSError:
            main = ""
        chosen = next((s for s in candidates if s.name == main), None)
        found.append(chosen or max(candidates, key=lambda s: s.stat().st_mtime))
    return found


def _model_candidates(folder: Path, depth: int) -> Iterable[Path]:
    """Diffusers folders and checkpoint files under ``folder``, not entering a diffusers folder."""
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            if (entry / "model_index.json").exists():
                yield entry
            elif _is_control_folder(entry):
                continue  # a ControlNet or T2I-Adapter beside the models: the Create tab's units use it
            elif depth > 1:
                yield from _model_candidates(entry, depth - 1)
        elif entry.suffix.lower() in SAFETENSORS_SUFFIXES + PICKLE_SUFFIXES and entry.is_file():
            yield entry


#: the diffusers classes of the control models a models folder may hold next to the models
CONTROL_CLASSES = ("ControlNetModel", "T2IAdapter")


def _is_control_folder(folder: Path) -> bool:
    """Whether ``folder`` is a diffusers ControlNet or T2I-Adapter (config.json naming its class)."""
    config = folder / "config.json"
    if not config.is_file():
        return False
    try:
        return _read_json(config, f"The folder {folder.name}").get("_class_name") in CONTROL_CLASSES
    except ModelError:
        return False


IP_ADAPTER_REASON = ("is an IP-Adapter file, not a model: the Avatars tab uses it with a photo "
                     "(see `studio avatars adapters`).")


def _ip_adapter_reason(path: Path) -> str | None:
    """Why ``path`` is part of an IP-Adapter rather than a model (by name, folder or tensor names), or None."""
    if not path.is_file():
        return None
    if path.name.lower().startswith("ip-adapter"):
        return f"{path.name} {IP_ADAPTER_REASON}"
    if path.parent.name.lower() == "image_encoder":
        return f"{path.name} is the image encoder of an IP-Adapter, not a model."
    if path.suffix.lower() in SAFETENSORS_SUFFIXES:
        try:
            tensors, _metadata = read_safetensors_header(path)
        except (OSError, ValueError):
            return None
        if tensors and all(key.startswith(("image_proj.", "ip_adapter.")) for key in tensors):
            return f"{path.name} {IP_ADAPTER_REASON}"
    return None


def scan_models(folders: Iterable[Path], *, include_hf_cache: bool = True,
                allow_pickle: bool = False) -> ScanResult:
    """Find the models in ``folders`` (and the Hugging Face cache), sorted by name.

    Anything that looks like a model but cannot be used (a LoRA, an IP-Adapter, a corrupt file,
    another architecture, a pickle while pickles are not allowed) is returned in ``skipped`` with
    the reason.
    """
    candidates: list[Path] = []
    for folder in folders:
        folder = Path(folder).expanduser()
        if (folder / "model_index.json").exists():
            candidates.append(folder)
        elif folder.is_dir():
            candidates.extend(_model_candidates(folder, SCAN_DEPTH))
    if include_hf_cache:
        candidates.extend(_hf_snapshots(hf_hub_cache()))
    models: list[ModelInfo] = []
    skipped: list[tuple[Path, str]] = []
    seen: set[Path] = set()
    for path in candidates:
        real = path.resolve()
        if real in seen:
            continue
        seen.add(real)
        adapter = _ip_adapter_reason(path)
        if adapter is not None:
            skipped.append((path, adapter))
            continue
        try:
            info = detect_model(path)
        except ModelError as exc:
            skipped.append((path, str(exc)))
            continue
        if info.is_pickle and not allow_pickle:
            skipped.append((path, f"{PICKLE_RISK} {PICKLE_HINT}"))
            continue
        models.append(info)
    return ScanResult(models=tuple(sorted(_unique_names(models), key=lambda m: (m.name.lower(), str(m.path)))),
                      skipped=tuple(skipped))


def _unique_names(models: list[ModelInfo], taken: Iterable[str] = (DEMO_NAME,)) -> list[ModelInfo]:
    """Give each model a distinct name: a clash gets ``-2``, ``-3``… (in path order)."""
    from dataclasses import replace

    used = {n.lower() for n in taken}
    result = []
    for info in sorted(models, key=lambda m: str(m.path)):
        name = info.name
        number = 2
        while name.lower() in used:
            name = f"{info.name}-{number}"
            number += 1
        used.add(name.lower())
        result.append(info if name == info.name else replace(info, name=name))
    return result


# -- the catalog -----------------------------------------------------------------------------


class ModelCatalog:
    """The models the user can choose: the demo first, then the models folders, the Hugging Face
    cache and the models added by hand (remembered in ``added-models.json``).

    Scans lazily on first use and again on :meth:`refresh`; safe to call from several threads.
    """

    def __init__(self, config: Config) -> None:
        self.config = config
        self._lock = threading.RLock()
        self._scanned: ScanResult | None = None

    @property
    def _added_file(self) -> Path:
        return self.config.paths.data_dir / ADDED_MODELS_FILE

    def _added_paths(self) -> list[Path]:
        try:
            data = json.loads(self._added_file.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or not isinstance(data.get("paths"), list):
                raise ValueError("not a list of paths")
            return [Path(p) for p in data["paths"] if isinstance(p, str)]
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            log.warning("Ignoring the unreadable list of added models %s (%s).", self._added_file, exc)
            return []

    def _save_added(self, paths: list[Path]) -> None:
        atomic_write_text(self._added_file, json.dumps({"paths": [str(p) for p in paths]}, indent=2))

    def _scan(self) -> ScanResult:
        with self._lock:
            if self._scanned is None:
                allow = bool(self.config["allow_pickle_checkpoints"])
                found = scan_models(self.config.model_folders(), include_hf_cache=bool(self.config["scan_hf_cache"]),
                                    allow_pickle=allow)
                models = list(found.models)
                skipped = list(found.skipped)
                known = {Path(m.path).resolve() for m in models} | {p.resolve() for p, _ in skipped}
                for path in self._added_paths():
                    if path.resolve() in known:
                        continue
                    known.add(path.resolve())
                    if not path.exists():
                        skipped.append((path, "This added model is no longer there: put it back, "
                                              "or remove it from the list."))
                        continue
                    try:
                        info = detect_model(path)
                    except ModelError as exc:
                        skipped.append((path, str(exc)))
                        continue
                    if info.is_pickle and not allow:
                        skipped.append((path, f"{PICKLE_RISK} {PICKLE_HINT}"))
                        continue
                    models.append(info)
                models = sorted(_unique_names(models), key=lambda m: (m.name.lower(), str(m.path)))
                self._scanned = ScanResult(tuple(models), tuple(skipped))
            return self._scanned

    def refresh(self) -> None:
        """Forget the last scan; the next call looks at the folders again."""
        with self._lock:
            self._scanned = None

    def models(self) -> list[ModelInfo]:
        """The demo model (built only when first used), then every usable model found, by name."""
        return [demo_model_info(self.config.paths.demo_model_dir), *self._scan().models]

    @property
    def skipped(self) -> tuple[tuple[Path, str], ...]:
        """Files and folders that look like models but cannot be used, each with the reason."""
        return self._scan().skipped

    @property
    def has_user_models(self) -> bool:
        """Whether there is any model besides the demo (the Create tab says so when there is none)."""
        return bool(self._scan().models)

    def add(self, path: Path) -> ModelInfo:
        """Check the model at ``path`` and remember it; returns it as it appears in :meth:`models`."""
        path = Path(path).expanduser().resolve()
        info = detect_model(path)
        if info.is_pickle and not self.config["allow_pickle_checkpoints"]:
            raise pickle_refusal(info)
        with self._lock:
            listed = self._find_path(path)
            if listed is not None:
                return listed
            added = self._added_paths()
            if path not in added:
                self._save_added([*added, path])
            self.refresh()
            listed = self._find_path(path)
        if listed is None:  # detection passed a moment ago; only a vanished file gets here
            raise ModelError(f"{path} could not be added.", hint="Check that it is still there and try again.")
        return listed

    def _find_path(self, path: Path) -> ModelInfo | None:
        real = path.resolve()
        return next((m for m in self._scan().models if Path(m.path).resolve() == real), None)

    def remove(self, name: str) -> None:
        """Forget a model added by hand (its files stay where they are)."""
        with self._lock:
            info = next((m for m in self._scan().models if m.name == name), None)
            if name == DEMO_NAME:
                raise InputError("The demo model is built in and cannot be removed.")
            added = self._added_paths()
            target = Path(info.path).resolve() if info is not None else None
            if target is None:
                # an added model that is no longer there is only in the skipped list
                target = next((p.resolve() for p in added if p.stem == name or p.name == name), None)
            if target is None:
                raise NotFound(f"No model called “{name}”.", hint=self._available_hint())
            remaining = [p for p in added if p.resolve() != target]
            if len(remaining) == len(added):
                raise InputError(f"“{name}” is in a models folder ({Path(target).parent}), not added by hand.",
                                 hint="Move or delete its file to take it off the list.")
            self._save_added(remaining)
            self.refresh()

    def _available_hint(self) -> str:
        names = ", ".join(m.name for m in self.models())
        return f"Available models: {names}."

    def resolve(self, name_or_path: str) -> ModelInfo:
        """The model a request names: "demo", a name from the list, or a path to a file or folder.

        The demo is built here on first use. Pickles are refused unless the user allowed them.
        """
        key = str(name_or_path).strip()
        if key == DEMO_NAME:
            return ensure_demo_model(self.config.paths.demo_model_dir)
        models = self._scan().models
        info = next((m for m in models if m.name == key), None) \
            or next((m for m in models if m.name.lower() == key.lower()), None)
        if info is None:
            candidate = Path(key).expanduser()
            refused = next((p for p, _ in self._scan().skipped if p.stem.lower() == key.lower()
                            and p.suffix.lower() in PICKLE_SUFFIXES and p.exists()), None)
            if refused is not None:  # a pickle left off the list: say why rather than "not found"
                raise pickle_refusal(detect_model(refused))
            if key and candidate.exists():
                info = self._find_path(candidate) or detect_model(candidate)
            elif os.sep in key or candidate.suffix.lower() in SAFETENSORS_SUFFIXES + PICKLE_SUFFIXES:
                raise NotFound(f"There is no model at {candidate}.", hint=self._available_hint())
            else:
                raise NotFound(f"No model called “{key}”.", hint=self._available_hint())
        elif not Path(info.path).exists():
            raise ModelError(f"The model “{info.name}” is no longer at {info.path}.",
                             hint="Put it back, or refresh the model list.")
        if info.is_pickle and not self.config["allow_pickle_checkpoints"]:
            raise pickle_refusal(info)
        return info
