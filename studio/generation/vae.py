"""A VAE chosen instead of the model's own: a local ``.safetensors`` file (diffusers or original
LDM layout) or a diffusers folder, loaded into the architecture of the model's VAE.

The VAE decodes latents into pixels, so it is part of the recipe: its SHA-256 (a file's bytes, or a
folder's files as :func:`studio.generation.hashing.model_hash` hashes them) is recorded.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from studio.errors import InputError, ModelError, NotFound

log = logging.getLogger(__name__)


def check_vae(path: Path) -> None:
    """Raise a people-readable error when ``path`` cannot be a VAE to load."""
    path = Path(path)
    if not path.exists():
        raise NotFound(f"The VAE {path} does not exist.", hint="Check the path, or use the model's own VAE.")
    if path.is_dir():
        if not ((path / "config.json").is_file() or (path / "vae" / "config.json").is_file()):
            raise InputError(f"{path} is not a diffusers VAE folder: it has no config.json.",
                             hint="Choose a VAE .safetensors file, or a folder with config.json and weights.")
        return
    if path.suffix.lower() != ".safetensors":
        raise InputError(f"{path.name} is not a .safetensors VAE.",
                         hint="Only .safetensors VAE files are loaded; pickle files (.ckpt, .pt) can run code.")


def vae_sha256(path: Path, hash_cache: Path) -> str:
    """The VAE's SHA-256: the file's bytes, or a diffusers folder hashed like a model folder."""
    from studio.generation.hashing import model_hash
    from studio.generation.request import ModelFamily, ModelFormat, ModelInfo

    path = Path(path)
    fmt = ModelFormat.DIFFUSERS if path.is_dir() else ModelFormat.SINGLE_FILE
    return model_hash(ModelInfo(name=path.name, path=path, family=ModelFamily.SD1, format=fmt), hash_cache)


def _folder_state(path: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    folder = path / "vae" if (path / "vae" / "config.json").is_file() else path
    files = sorted(folder.glob("*.safetensors"))
    if not files:
        raise ModelError(f"The VAE folder {folder} has no .safetensors weights.",
                         hint="Download the VAE again, or choose its .safetensors file.")
    state: dict[str, Any] = {}
    for file in files:
        state.update(load_file(str(file)))
    return state


def load_vae(path: Path, reference: Any) -> Any:
    """The VAE at ``path`` as an ``AutoencoderKL`` shaped like ``reference`` (the model's own VAE),
    on its device and dtype. A VAE of another architecture is a :class:`ModelError`."""
    import torch
    from diffusers import AutoencoderKL
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    check_vae(path)
    try:
        state = _folder_state(path) if path.is_dir() else load_file(str(path))
    except (OSError, SafetensorError) as exc:
        raise ModelError(f"Could not read the VAE {path.name}: {exc}.", hint="Download it again.") from exc
    state = {k.removeprefix("first_stage_model."): v for k, v in state.items()
             if not k.startswith(("model.diffusion_model.", "cond_stage_model.", "conditioner."))}
    if any(k.startswith(("encoder.down.", "decoder.up.")) for k in state):  # original (LDM) layout
        from diffusers.loaders.single_file_utils import convert_ldm_vae_checkpoint

        state = convert_ldm_vae_checkpoint(state, dict(reference.config))
    vae = AutoencoderKL.from_config(reference.config)
    try:
        vae.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelError(f"{path.name} is not a VAE for this model: its tensors do not fit the model's VAE.",
                         hint="Choose a VAE made for the model's family (SD 1.x/2.x or SDXL).") from exc
    dtype = next(reference.parameters()).dtype
    device = next(reference.parameters()).device
    if device.type == "meta":
        device = torch.device("cpu")
    log.info("Loaded the VAE %s", path.name)
    return vae.to(device=device, dtype=dtype).eval()


def find_fp16_fix_vae(folders: list[Path]) -> Path | None:
    """The fp16-safe SDXL VAE (madebyollin's "sdxl-vae-fp16-fix") in ``folders``, if one is there: a
    diffusers folder or a .safetensors file whose name says fp16-fix, up to two levels deep."""
    def candidates(folder: Path, depth: int) -> list[Path]:
        found: list[Path] = []
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            return found
        for entry in entries:
            name = entry.name.lower().replace("_", "-")
            if "fp16-fix" in name and (entry.suffix.lower() == ".safetensors" or (entry / "config.json").is_file()
                                       or (entry / "vae" / "config.json").is_file()):
                found.append(entry)
            elif entry.is_dir() and depth < 2 and not entry.name.startswith("."):
                found += candidates(entry, depth + 1)
        return found

    for folder in folders:
        found = candidates(Path(folder), 0)
        if found:
            return found[0]
    return None
