"""SHA-256 of model weights, computed once per file and cached by path, size and modification time.

The hash goes into every image's recipe, so that anyone can tell which weights made it. Models
are gigabytes: hashing one takes seconds to minutes, so each file's digest is kept in a small JSON
cache and recomputed only when the file's size or modification time changes.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from studio.errors import ModelError
from studio.fileio import atomic_write_text
from studio.generation.request import ModelFormat, ModelInfo

log = logging.getLogger(__name__)

CHUNK = 1 << 20
CACHE_VERSION = 1
#: The files of a diffusers folder that decide its outputs: weights, configs, tokenizer vocabularies.
FOLDER_PATTERNS = ("*.safetensors", "*.bin", "*.json", "*.txt")

_cache_lock = threading.Lock()


def file_sha256(path: Path) -> str:
    """SHA-256 hex digest of one file, read in 1 MiB chunks (memory stays flat for 7 GB files)."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as stream:
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
    except OSError as exc:
        raise ModelError(f"Could not read {path} to hash it: {exc.strerror or exc}.",
                         hint="Check that the file exists and is readable.") from exc
    return digest.hexdigest()


def folder_files(folder: Path) -> list[Path]:
    """The files of a diffusers folder that enter its hash, sorted by relative path.

    Hidden files and folders (``.cache``, ``.git``) are left out: they are bookkeeping, not weights.
    """
    found: set[Path] = set()
    for pattern in FOLDER_PATTERNS:
        for path in folder.rglob(pattern):
            relative = path.relative_to(folder)
            if any(part.startswith(".") for part in relative.parts) or not path.is_file():
                continue
            found.add(path)
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def model_hash(info: ModelInfo, cache_file: Path, *,
               progress: Callable[[str], None] | None = None) -> str:
    """SHA-256 hex of a model's weights.

    * A single-file checkpoint: the SHA-256 of the file's bytes (the hash Civitai and A1111 show
      as "SHA256").
    * A diffusers folder (and the demo model): the SHA-256 of the UTF-8 text made of one line per
      file, ``"<relative POSIX path>\\0<sha256 hex of the file>\\n"``, for every ``*.safetensors``,
      ``*.bin``, ``*.json`` and ``*.txt`` file (hidden ones excluded), sorted by relative path. Two
      copies of a model hash the same wherever they are; renaming or changing any weight, config
      or vocabulary file changes the hash.

    Each file's digest is cached in ``cache_file`` (JSON) under its absolute path with its size and
    ``mtime_ns``; a changed size or time recomputes it. ``progress`` receives the name of each file
    that has to be read.
    """
    path = Path(info.path)
    if not path.exists():
        raise ModelError(f"The model “{info.name}” is no longer at {path}.",
                         hint="Put it back, or refresh the model list.")
    cache = _HashCache(Path(cache_file))
    if info.format is ModelFormat.SINGLE_FILE or path.is_file():
        return cache.digest(path, progress)
    files = folder_files(path)
    if not files:
        raise ModelError(f"The model folder {path} holds no weight or config files.",
                         hint="Download the model again.")
    lines = "".join(f"{f.relative_to(path).as_posix()}\0{cache.digest(f, progress)}\n" for f in files)
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


def cached_file_sha256(path: Path, cache_file: Path) -> str:
    """SHA-256 hex of one file (a LoRA, an adapter), through the same cache as the model hashes."""
    return _HashCache(Path(cache_file)).digest(Path(path), None)


class _HashCache:
    """Digests of files by absolute path, size and mtime_ns; saved atomically after each new digest."""

    def __init__(self, cache_file: Path) -> None:
        self.cache_file = cache_file

    def _read(self) -> dict[str, dict]:
        try:
            data = json.loads(self.cache_file.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("version") != CACHE_VERSION \
                    or not isinstance(data.get("files"), dict):
                raise ValueError("unexpected layout")
            return data["files"]
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("Ignoring the unreadable hash cache %s (%s); hashes will be recomputed.",
                        self.cache_file, exc)
            return {}

    def digest(self, path: Path, progress: Callable[[str], None] | None) -> str:
        real = path.resolve()  # Hugging Face snapshots link to shared blobs: key by the blob
        try:
            stat = real.stat()
        except OSError as exc:
            raise ModelError(f"Could not read {path}: {exc.strerror or exc}.",
                             hint="Check that the model's files exist and are readable.") from exc
        key = str(real)
        with _cache_lock:
            entry = self._read().get(key)
        if isinstance(entry, dict) and entry.get("size") == stat.st_size \
                and entry.get("mtime_ns") == stat.st_mtime_ns and isinstance(entry.get("sha256"), str):
            return entry["sha256"]
        if progress is not None:
            progress(path.name)
        log.info("Hashing %s (%.1f MB)", path, stat.st_size / 1e6)
        digest = file_sha256(real)
        with _cache_lock:
            files = self._read()
            files[key] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": digest}
            files = {k: v for k, v in files.items() if os.path.exists(k)}  # forget deleted files
            try:
                atomic_write_text(self.cache_file, json.dumps({"version": CACHE_VERSION, "files": files},
                                                              indent=1, sort_keys=True))
            except Exception as exc:  # a cache that cannot be saved only costs time later
                log.warning("Could not save the hash cache %s: %s", self.cache_file, exc)
        return digest
