"""Loading a model into a diffusers pipeline, offline, with errors people can act on.

Diffusers folders load with ``from_pretrained(local_files_only=True)``. Single-file checkpoints
load with ``from_single_file(path, config=<folder>)``, where the folder is a diffusers-format set
of configs for the checkpoint's family (SD 1.5, SD 2.1 768-v, SDXL base 1.0) assembled from
``assets/models/families`` and the CLIP vocabulary in ``assets/models/clip-tokenizer``: with a local
config, diffusers never asks the Hugging Face hub for one.
"""
from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

from studio.assets import asset_path
from studio.errors import ModelError
from studio.generation.request import ModelFamily, ModelFormat, ModelInfo

log = logging.getLogger(__name__)

FAMILIES_DIR = asset_path("models", "families")
TOKENIZER_DIR = asset_path("models", "clip-tokenizer")
VOCAB_FILES = ("vocab.json", "merges.txt")


def pipeline_class(family: ModelFamily):
    from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline

    return StableDiffusionXLPipeline if family is ModelFamily.SDXL else StableDiffusionPipeline


def _assets_digest(source: Path) -> str:
    """A short digest of a family's config files and the vocabulary, naming its assembled folder
    (so that changed assets are assembled anew rather than mixed with an old copy)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        digest.update(path.relative_to(source).as_posix().encode() + b"\0" + path.read_bytes())
    for name in VOCAB_FILES:
        digest.update(name.encode() + b"\0" + str((TOKENIZER_DIR / name).stat().st_size).encode())
    return digest.hexdigest()[:12]


def family_config_dir(family: ModelFamily, cache_dir: Path | None = None) -> Path:
    """The diffusers-format config folder of ``family`` (no weights), assembled once in the cache.

    The configs come from ``assets/models/families/<family>``; the 1.5 MB CLIP vocabulary is
    copied into each ``tokenizer*`` folder here rather than kept several times in the source tree.
    """
    source = FAMILIES_DIR / family.value
    if not (source / "model_index.json").exists():
        raise ModelError(f"The studio's configs for {family.label} models are missing from {source}.",
                         hint="Reinstall the studio.")
    if cache_dir is None:
        from studio.paths import studio_paths

        cache_dir = studio_paths().cache_dir
    target = Path(cache_dir) / "model-configs" / f"{family.value}-{_assets_digest(source)}"
    if (target / "model_index.json").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{family.value}-", dir=target.parent))
    try:
        shutil.copytree(source, staging, dirs_exist_ok=True)
        for tokenizer in sorted(p for p in staging.iterdir() if p.is_dir() and p.name.startswith("tokenizer")):
            for name in VOCAB_FILES:
                shutil.copyfile(TOKENIZER_DIR / name, tokenizer / name)
        try:
            staging.rename(target)
        except OSError:
            if not (target / "model_index.json").exists():  # not another process winning the race
                raise
    except OSError as exc:
        raise ModelError(f"Could not prepare the {family.label} configs in {target.parent}: "
                         f"{exc.strerror or exc}.", hint="Free some disk space and try again.") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _weights_variant(folder: Path) -> str | None:
    """"fp16" for folders downloaded with only the half-precision weights (``*.fp16.safetensors``)."""
    unet = folder / "unet"
    if not list(unet.glob("diffusion_pytorch_model.safetensors")) and not list(unet.glob("*.bin")) \
            and list(unet.glob("diffusion_pytorch_model.fp16.safetensors")):
        return "fp16"
    return None


def _is_out_of_memory(exc: BaseException) -> bool:
    return isinstance(exc, MemoryError) or "out of memory" in str(exc).lower()


def quiet_libraries() -> None:
    """No console progress bars or advice from diffusers/transformers: the studio reports progress
    itself (the GUI's bars, the command line's lines), and their noise hid the CLI's output."""
    import transformers.utils.logging as transformers_logging

    transformers_logging.set_verbosity_error()  # before diffusers imports its pipelines
    transformers_logging.disable_progress_bar()
    import diffusers.utils.logging as diffusers_logging

    diffusers_logging.disable_progress_bar()


def load_pipeline(info: ModelInfo, *, dtype: Any = None, config_dir: Path | None = None,
                  allow_pickle: bool = False) -> Any:
    """Load ``info`` as a text-to-image pipeline on the CPU (the engine moves it to its device).

    Never touches the network. ``config_dir`` replaces the family's shipped configs for single
    files (tests pass a tiny one). Pickle weights are refused unless ``allow_pickle``. The NSFW
    safety checker is never loaded (there is no offline model for it).
    """
    from studio.generation.models import pickle_refusal

    quiet_libraries()

    if info.is_pickle and not allow_pickle:
        raise pickle_refusal(info)
    path = Path(info.path)
    if not path.exists():
        raise ModelError(f"The model “{info.name}” is no longer at {path}.",
                         hint="Put it back, or choose another model.")
    kwargs: dict[str, Any] = {"local_files_only": True}
    if dtype is not None:
        kwargs["dtype"] = dtype  # diffusers 0.42 name; torch_dtype is deprecated
    if info.family is not ModelFamily.SDXL:
        kwargs.update(safety_checker=None, requires_safety_checker=False)
    try:
        if info.format in (ModelFormat.DIFFUSERS, ModelFormat.DEMO):
            return _load_folder(info, path, kwargs)
        return _load_single_file(info, path, kwargs, config_dir)
    except ModelError:
        raise
    except Exception as exc:
        if _is_out_of_memory(exc):
            raise  # the engine turns this into advice about memory saving
        kind = "file" if path.is_file() else "folder"
        raise ModelError(f"Could not load the model “{info.name}”: the {kind} is not a {info.family.label} "
                         f"model, or it is corrupt or incomplete ({type(exc).__name__}: {exc}).",
                         hint="Download it again, or check that it is a Stable Diffusion 1.x, 2.x or SDXL "
                              "model.") from exc


def _load_folder(info: ModelInfo, path: Path, kwargs: dict[str, Any]) -> Any:
    if not (path / "model_index.json").exists():
        raise ModelError(f"{path} is not a diffusers model folder (no model_index.json).",
                         hint="Choose the folder that contains model_index.json.")
    variant = _weights_variant(path)
    if variant:
        kwargs["variant"] = variant
    if not info.is_pickle:
        kwargs["use_safetensors"] = True  # never fall back to pickled .bin files silently
    return pipeline_class(info.family).from_pretrained(path, **kwargs)


def _load_single_file(info: ModelInfo, path: Path, kwargs: dict[str, Any], config_dir: Path | None) -> Any:
    family = info.family
    if info.is_pickle:
        family = _pickle_family(path, family)
    else:
        # The header says what the file is (a LoRA, a truncated download, another architecture)
        # far more clearly than a tensor-shape error from deep inside diffusers.
        from studio.generation.models import detect_model

        family = detect_model(path).family
    if config_dir is None:
        config_dir = family_config_dir(family)
        scheduler = _scheduler_for(info, family, config_dir)
        if scheduler is not None:
            kwargs["scheduler"] = scheduler
    return pipeline_class(family).from_single_file(str(path), config=str(config_dir), **kwargs)


def _scheduler_for(info: ModelInfo, family: ModelFamily, config_dir: Path) -> Any:
    """SD 2.x comes as 768-v (v-prediction, the shipped config) or 512-base (epsilon): a checkpoint
    named or described as a base/512 model gets an epsilon scheduler."""
    if family is not ModelFamily.SD2:
        return None
    text = Path(info.path).stem.lower()
    try:
        from studio.generation.models import read_safetensors_header

        if Path(info.path).suffix == ".safetensors":
            text += " " + read_safetensors_header(Path(info.path))[1].get("modelspec.architecture", "")
    except ModelError:
        pass
    if "512" not in text and "base" not in text:
        return None
    from diffusers import DDIMScheduler

    return DDIMScheduler.from_pretrained(config_dir, subfolder="scheduler", prediction_type="epsilon")


def _pickle_family(path: Path, guessed: ModelFamily) -> ModelFamily:
    """The family of an opted-in pickle from its tensor names (torch's weights-only, memory-mapped
    reader), falling back to the guess from its name."""
    import torch

    from studio.generation.models import family_from_keys

    try:
        state = torch.load(path, map_location="cpu", mmap=True, weights_only=True)
    except Exception as exc:  # old non-zip pickles cannot be memory-mapped: keep the guess
        log.info("Could not read the tensor names of %s (%s); assuming %s.", path.name, exc, guessed.label)
        return guessed
    while isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        return guessed
    shapes = {k: list(v.shape) for k, v in state.items() if hasattr(v, "shape")}
    family = family_from_keys(list(state), shapes, name=path.name)
    if family is not guessed:
        log.info("%s is %s (its name suggested %s).", path.name, family.label, guessed.label)
    return family
