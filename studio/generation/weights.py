"""VAEs and textual-inversion embeddings found in the models folders, for the Create tab's pickers.

Told apart by what the files hold, not by their names: a ``.safetensors`` file whose tensors are all
``encoder.``/``decoder.`` (and the quant convolutions) is a VAE, one with a few small tensors under an
embedding's keys is an embedding; a diffusers folder whose ``config.json`` names ``AutoencoderKL`` is
a VAE. Only the safetensors header is read (no weights), so a scan is quick.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

log = logging.getLogger(__name__)

VAE_PREFIXES = ("encoder.", "decoder.", "quant_conv.", "post_quant_conv.")
EMBEDDING_KEYS = frozenset({"emb_params", "clip_l", "clip_g", "string_to_token"})
MAX_DEPTH = 3  # folders below each models folder that are looked into


@dataclass(frozen=True)
class WeightFiles:
    """What the pickers offer, each list sorted by name."""

    vaes: tuple[Path, ...] = ()
    embeddings: tuple[Path, ...] = ()


def scan_weights(folders: Iterable[Path]) -> WeightFiles:
    """The VAEs and embeddings under ``folders`` (a few levels deep; hidden folders skipped)."""
    vaes: list[Path] = []
    embeddings: list[Path] = []
    seen: set[Path] = set()
    for folder in folders:
        for path in _entries(Path(folder).expanduser(), 0):
            resolved = path.resolve()
            if resolved in seen:
                continue
            seen.add(resolved)
            kind = weight_kind(path)
            if kind == "vae":
                vaes.append(path)
            elif kind == "embedding":
                embeddings.append(path)
    return WeightFiles(tuple(sorted(vaes, key=_by_name)), tuple(sorted(embeddings, key=_by_name)))


def weight_kind(path: Path) -> str | None:
    """``"vae"``, ``"embedding"``, or None for anything else (a model, a LoRA, a broken file)."""
    if path.is_dir():
        return "vae" if _is_vae_folder(path) else None
    if path.suffix.lower() != ".safetensors":
        return None
    from studio.errors import StudioError
    from studio.generation.models import read_safetensors_header

    try:
        tensors, _metadata = read_safetensors_header(path)
    except (OSError, ValueError, StudioError) as exc:
        log.info("Skipped %s while looking for VAEs and embeddings: %s", path, exc)
        return None
    if not tensors:
        return None
    if all(key.startswith(VAE_PREFIXES) for key in tensors) and any(key.startswith("decoder.") for key in tensors):
        return "vae"
    if len(tensors) <= 4 and all(key in EMBEDDING_KEYS or key.startswith("string_to_param.") for key in tensors):
        return "embedding"
    return None


def _is_vae_folder(path: Path) -> bool:
    from studio import safejson
    from studio.errors import StudioError

    config = path / "config.json"
    if not config.is_file() or (path / "model_index.json").exists():
        return False
    try:
        found = safejson.load_file(config, what=f"{path.name}/config.json", max_bytes=1024 * 1024)
    except (OSError, StudioError):
        return False
    return isinstance(found, dict) and found.get("_class_name") == "AutoencoderKL"


def _entries(folder: Path, depth: int) -> list[Path]:
    try:
        children = sorted(folder.iterdir())
    except OSError:
        return []
    found: list[Path] = []
    for child in children:
        if child.name.startswith("."):
            continue
        if child.is_dir():
            if (child / "model_index.json").exists():
                continue  # a whole diffusers model: its own VAE is not offered apart
            if _is_vae_folder(child):
                found.append(child)
            elif depth < MAX_DEPTH:
                found += _entries(child, depth + 1)
        elif child.suffix.lower() == ".safetensors":
            found.append(child)
    return found


def _by_name(path: Path) -> str:
    return path.name.lower()
