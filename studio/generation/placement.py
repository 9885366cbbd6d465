"""Which files a task needs, named by SHA-256, and how a cluster node finds its own copies.

The desktop names the model, each LoRA and the IP-Adapter of a task by name and SHA-256
(:func:`task_files`). A node looks for a file with that hash (:func:`locate_model`,
:func:`locate_file`, :func:`locate_ip_adapter`): under the same name in its models folders, at the
desktop's path (shared storage), then among its other models of the same family. A node without
such a file, or with another file under the same name, refuses with :class:`NodeRefused`, which
names the node: the same weights make the same pixels, other weights never stand in.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from studio.errors import ModelError, NotFound, StudioError
from studio.generation.request import GenerationRequest, IpAdapterSpec, ModelFormat, ModelInfo

log = logging.getLogger(__name__)

MAX_SEARCH_DEPTH = 4  # folders below a models folder searched for a LoRA or adapter file


class NodeRefused(ModelError):
    """A node lacks a file the task needs (or has another under the same name)."""

    def __init__(self, message: str, *, hint: str | None = None, node: str = "") -> None:
        super().__init__(message, hint=hint)
        self.node = node


@dataclass(frozen=True)
class ModelRef:
    """The model of a task: the desktop's name for it and its hash (studio.generation.hashing)."""

    name: str
    sha256: str
    family: str
    format: str
    path: str          # where the desktop has it: used on nodes that share that storage

    @property
    def is_demo(self) -> bool:
        return self.format == ModelFormat.DEMO.value


@dataclass(frozen=True)
class FileRef:
    """A LoRA or IP-Adapter file of a task."""

    name: str
    sha256: str
    path: str


@dataclass(frozen=True)
class TaskFiles:
    model: ModelRef
    loras: tuple[FileRef, ...] = ()
    ip_adapter: FileRef | None = None

    @property
    def key(self) -> tuple[str, ...]:
        """What a node either has or lacks for this task (tasks with the same key need the same files)."""
        return (self.model.sha256, *(l.sha256 for l in self.loras),
                self.ip_adapter.sha256 if self.ip_adapter is not None else "")


def task_files(request: GenerationRequest, info: ModelInfo, hash_cache: Path) -> TaskFiles:
    """The files ``request`` needs (its model already resolved to ``info``), hashed on the desktop."""
    from studio.generation.hashing import cached_file_sha256, model_hash

    model = ModelRef(info.name, model_hash(info, hash_cache), info.family.value, info.format.value, str(info.path))
    loras = tuple(FileRef(Path(spec.path).name, cached_file_sha256(Path(spec.path), hash_cache), str(spec.path))
                  for spec in request.loras)
    adapter = None
    if request.ip_adapter is not None:
        spec = request.ip_adapter
        sha = cached_file_sha256(Path(spec.path), hash_cache)
        if spec.sha256 and spec.sha256.lower() != sha:
            raise ModelError(f"The IP-Adapter file {spec.name} changed since it was chosen (its SHA-256 differs).",
                             hint="Choose the adapter again so that the new file is recorded.")
        adapter = FileRef(spec.name, sha, str(spec.path))
    return TaskFiles(model, loras, adapter)


def _short(sha: str) -> str:
    return sha[:12] + "…"


def locate_model(ref: ModelRef, catalog: Any, hash_cache: Path, node: str) -> ModelInfo:
    """This node's copy of the model ``ref`` names (same SHA-256), under the desktop's name.

    Looks at the model of that name in the node's catalog, the desktop's path, then the node's
    other models of the same family. Raises NodeRefused when none has the hash.
    """
    from studio.generation.hashing import model_hash
    from studio.generation.models import detect_model

    same_name: tuple[ModelInfo, str] | None = None
    tried: set[str] = set()

    def candidates() -> Iterable[ModelInfo]:
        try:
            yield catalog.resolve("demo" if ref.is_demo else ref.name)
        except StudioError as exc:
            log.info("%s: no model called %s here (%s)", node, ref.name, exc)
        if not ref.is_demo and Path(ref.path).exists():
            try:
                yield detect_model(Path(ref.path))
            except StudioError as exc:
                log.info("%s: %s is not usable here (%s)", node, ref.path, exc)
        if not ref.is_demo:
            yield from (m for m in catalog.models() if m.family.value == ref.family and not m.is_demo)

    for info in candidates():
        where = str(Path(info.path).resolve())
        if where in tried:
            continue
        tried.add(where)
        try:
            sha = model_hash(info, hash_cache)
        except StudioError as exc:
            log.warning("%s: could not hash %s: %s", node, info.path, exc)
            continue
        if sha == ref.sha256:
            from dataclasses import replace

            return replace(info, name=ref.name)
        if info.name == ref.name or (ref.is_demo and info.is_demo):
            same_name = (info, sha)
    if same_name is not None:
        info, sha = same_name
        raise NodeRefused(f"{node} has another model called “{ref.name}” at {info.path} (SHA-256 {_short(sha)}); "
                          f"this run needs the one with SHA-256 {_short(ref.sha256)}.",
                          hint="Copy the desktop's file to that node (docs/cluster.md, “Models on the workers”), "
                               "or give the other file another name.", node=node)
    raise NodeRefused(f"{node} has no copy of the model “{ref.name}” (SHA-256 {_short(ref.sha256)}).",
                      hint="Copy it into that node's models folder, or onto storage every node mounts at "
                           f"{ref.path} (docs/cluster.md, “Models on the workers”).", node=node)


def _files_named(folders: Iterable[Path], name: str) -> Iterable[Path]:
    """Files called ``name`` in ``folders`` and up to MAX_SEARCH_DEPTH levels below (hidden folders skipped)."""
    import os

    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            continue
        base_depth = len(folder.parts)
        for root, dirs, files in os.walk(folder):
            depth = len(Path(root).parts) - base_depth
            dirs[:] = [d for d in dirs if not d.startswith(".")] if depth < MAX_SEARCH_DEPTH else []
            if name in files:
                yield Path(root) / name


def locate_file(ref: FileRef, folders: Iterable[Path], hash_cache: Path, node: str, what: str) -> Path:
    """This node's copy of a LoRA or adapter file (same SHA-256): at the desktop's path, or a file of
    the same name in the node's models folders. Raises NodeRefused otherwise."""
    from studio.generation.hashing import cached_file_sha256

    other: tuple[Path, str] | None = None
    seen: set[Path] = set()
    desktop = Path(ref.path)
    for path in ([desktop] if desktop.is_file() else []) + list(_files_named(folders, ref.name)):
        real = path.resolve()
        if real in seen:
            continue
        seen.add(real)
        try:
            sha = cached_file_sha256(path, hash_cache)
        except StudioError as exc:
            log.warning("%s: could not hash %s: %s", node, path, exc)
            continue
        if sha == ref.sha256:
            return path
        other = (path, sha)
    if other is not None:
        raise NodeRefused(f"{node} has another {what} file called {ref.name} at {other[0]} "
                          f"(SHA-256 {_short(other[1])}); this run needs SHA-256 {_short(ref.sha256)}.",
                          hint="Copy the desktop's file to that node's models folder (docs/cluster.md).", node=node)
    raise NodeRefused(f"{node} has no copy of the {what} {ref.name} (SHA-256 {_short(ref.sha256)}).",
                      hint="Copy it into that node's models folder (docs/cluster.md).", node=node)


def locate_ip_adapter(ref: FileRef, spec: IpAdapterSpec, folders: list[Path], hash_cache: Path,
                      node: str) -> IpAdapterSpec:
    """``spec`` pointing at this node's copy of the adapter and its image encoder."""
    from dataclasses import replace

    from studio.generation.avatars import find_ip_adapters

    path = locate_file(ref, folders, hash_cache, node, "IP-Adapter")
    encoder = None
    if spec.image_encoder is not None and Path(spec.image_encoder).is_dir() and path == Path(ref.path):
        encoder = Path(spec.image_encoder)
    else:
        found = next((a for a in find_ip_adapters(folders).available if a.path.resolve() == path.resolve()), None)
        encoder = found.image_encoder if found is not None else None
    if encoder is None and spec.image_encoder is not None:
        raise NodeRefused(f"{node} has the IP-Adapter {ref.name} but not its image encoder.",
                          hint="Put the image_encoder folder next to the adapter's folder there, as on the desktop.",
                          node=node)
    return replace(spec, path=path, image_encoder=encoder, sha256=ref.sha256)


def model_folders_of(config: Any) -> list[Path]:
    """The folders a node searches for LoRAs and adapters: its settings' models folders."""
    try:
        return [Path(p) for p in config.model_folders()]
    except (AttributeError, NotFound):
        return []
