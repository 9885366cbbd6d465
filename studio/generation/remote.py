"""What crosses between the desktop and a cluster worker: the task out, pixels and a recipe back.

The worker side is :class:`NodeWorker`: the studio's own :class:`~studio.generation.engine.Engine`
on a node, which finds the task's files by SHA-256 (:mod:`studio.generation.placement`), makes the
image and answers with its raw pixels and the unsigned recipe. Nothing else leaves the desktop:
no key, no wallet, no library. The desktop side is :func:`accept_answer`: an answer becomes a
:class:`GenerationResult` only when its size, pixel format and recipe match the task; the desktop
then signs and saves it like any local work.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from studio import __version__
from studio.errors import ModelError, NotFound
from studio.generation.placement import TaskFiles, locate_file, locate_ip_adapter, locate_model, model_folders_of
from studio.generation.request import GenerationRequest, GenerationResult, ModelInfo, Recipe

log = logging.getLogger(__name__)

PIXEL_MODE = "RGB"


@dataclass(frozen=True)
class TaskPayload:
    """One task as a worker receives it: the request as the desktop made it, and its files by hash."""

    key: int
    request: GenerationRequest
    files: TaskFiles
    studio_version: str = __version__


@dataclass(frozen=True)
class WorkerAnswer:
    """A worker's result: raw pixels (``mode``, row by row) and the recipe as a plain dict."""

    key: int
    width: int
    height: int
    mode: str
    pixels: bytes
    recipe: dict[str, Any]
    warnings: tuple[str, ...]
    elapsed_s: float


class _NodeCatalog:
    """The engine's catalog on a node: the desktop's model names, mapped to the node's copies."""

    def __init__(self, config: Any) -> None:
        self.config = config
        self.located: dict[str, ModelInfo] = {}

    def resolve(self, name: str) -> ModelInfo:
        info = self.located.get(name)
        if info is None:
            raise NotFound(f"The model “{name}” was not located on this node.")
        return info


class NodeWorker:
    """The studio's engine on one cluster node (one GPU, or ``threads`` CPU cores).

    The node's own settings (its ``STUDIO_HOME`` or user folders) say where its models are; the
    desktop's precision and memory saving settings are passed in. ``cancel`` stops the images in
    progress at their next step (it is called while ``run`` is running, from another thread).
    """

    def __init__(self, *, node: str, device: str = "cpu", threads: int | None = None, precision: str = "auto",
                 memory_saving: str = "auto") -> None:
        from studio.config import load_config
        from studio.generation.engine import Engine
        from studio.generation.models import ModelCatalog

        self.node = node
        self._threads = threads
        if threads:
            import torch

            torch.set_num_threads(threads)
        self._config = load_config()
        self._models = ModelCatalog(self._config)
        self._hash_cache = Path(self._config.paths.hash_cache_file)
        self._catalog = _NodeCatalog(self._config)
        self._engine = Engine(self._catalog, device=device, precision=precision, memory_saving=memory_saving,
                              hash_cache=self._hash_cache)
        self._lock = threading.Lock()      # guards _running (cancel comes from another thread)
        self._serial = threading.Lock()    # one task at a time: the next one waits, queued
        self._running: set[Any] = set()

    def describe(self) -> dict[str, Any]:
        """What runs here: the studio's version (the desktop refuses another), torch, the device."""
        import torch

        return {"node": self.node, "studio_version": __version__, "torch": torch.__version__,
                "device": self._engine.device_label, "threads": torch.get_num_threads(), "pid": os.getpid()}

    def run(self, payload: TaskPayload) -> WorkerAnswer:
        """Make the task's image with the node's copies of its files; its recipe stays unsigned."""
        from studio.cancel import CancelToken

        if payload.studio_version != __version__:
            raise ModelError(f"{self.node} runs Provenance Studio {__version__}, the desktop {payload.studio_version}.",
                             hint="Install the same version on every node.")
        token = CancelToken()
        with self._lock:
            self._running.add(token)
        try:
            with self._serial:
                began = time.perf_counter()
                request = self._localise(payload)
                results = self._engine.generate(request, cancel=token)
        finally:
            with self._lock:
                self._running.discard(token)
        if len(results) != 1:
            raise ModelError(f"{self.node} made {len(results)} images for one task.")
        image = results[0].image.convert(PIXEL_MODE)
        return WorkerAnswer(payload.key, image.width, image.height, PIXEL_MODE, image.tobytes(),
                            results[0].recipe.to_dict(), tuple(results[0].warnings), time.perf_counter() - began)

    def cancel(self) -> None:
        with self._lock:
            for token in self._running:
                token.cancel()

    def _localise(self, payload: TaskPayload) -> GenerationRequest:
        """The request with this node's copies of its files (found by SHA-256, else refused)."""
        request, files = payload.request, payload.files
        self._catalog.located[request.model] = locate_model(files.model, self._models, self._hash_cache, self.node)
        folders = model_folders_of(self._config)
        loras = tuple(replace(spec, path=locate_file(ref, folders, self._hash_cache, self.node, "LoRA"))
                      for spec, ref in zip(request.loras, files.loras))
        adapter = request.ip_adapter
        if adapter is not None and files.ip_adapter is not None:
            adapter = locate_ip_adapter(files.ip_adapter, adapter, folders, self._hash_cache, self.node)
        return replace(request, loras=loras, ip_adapter=adapter)


# ---------------------------------------------------------------------- the desktop's side


def expected_recipe_fields(request: GenerationRequest, files: TaskFiles) -> dict[str, Any]:
    """What the recipe of ``request``'s image must say, whoever made it (device and version aside)."""
    from studio.generation.engine import image_sha256

    with_image = request.init_image is not None
    return {
        "prompt": request.prompt, "negative_prompt": request.negative_prompt, "seed": request.seed,
        "steps": request.steps, "guidance": float(request.guidance), "width": request.width,
        "height": request.height, "scheduler": request.scheduler, "mode": request.mode.value,
        "model_hash": files.model.sha256,
        "strength": float(request.strength) if with_image else None,
        "init_image_hash": image_sha256(request.init_image) if with_image else None,
        "mask_hash": image_sha256(request.mask_image) if request.mask_image is not None else None,
        "loras": tuple((ref.sha256, float(spec.weight)) for ref, spec in zip(files.loras, request.loras)),
        "ip_adapter": ((files.ip_adapter.sha256, float(request.ip_adapter_scale))
                       if files.ip_adapter is not None else None),
        "ip_adapter_image_hash": (image_sha256(request.ip_adapter_image)
                                  if files.ip_adapter is not None and request.ip_adapter_image is not None else None),
    }


def accept_answer(answer: Any, request: GenerationRequest, files: TaskFiles, expected: dict[str, Any],
                  node: str) -> GenerationResult:
    """``answer`` as a result, after checking it against the task: pixel format and size, and every
    field of the recipe the task decides. The recipe names the files as the desktop does.

    Raises ModelError (the answer is not used) when anything differs.
    """
    from PIL import Image

    def refuse(what: str) -> ModelError:
        return ModelError(f"{node} answered task {request.prompt[:40]!r} (seed {request.seed}) with {what}; "
                          "the answer was not used.", hint="Check that the node runs the same studio version.")

    if not isinstance(answer, WorkerAnswer):
        raise refuse(f"a {type(answer).__name__} instead of an image")
    if answer.mode != PIXEL_MODE or not isinstance(answer.pixels, bytes):
        raise refuse(f"pixels in {answer.mode!r}, not {PIXEL_MODE}")
    if (answer.width, answer.height) != (request.width, request.height):
        raise refuse(f"a {answer.width}x{answer.height} image instead of {request.width}x{request.height}")
    if len(answer.pixels) != request.width * request.height * len(PIXEL_MODE):
        raise refuse(f"{len(answer.pixels)} bytes of pixels, not {request.width * request.height * 3}")
    try:
        recipe = Recipe.from_dict(answer.recipe)
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        raise refuse(f"an unreadable recipe ({exc})") from exc
    got = {name: getattr(recipe, name) for name in expected}
    got["loras"] = tuple((sha, float(weight)) for _name, sha, weight in recipe.loras)
    got["ip_adapter"] = (recipe.ip_adapter[1], float(recipe.ip_adapter[2])) if recipe.ip_adapter else None
    wrong = [name for name, value in expected.items() if got[name] != value]
    if wrong:
        details = ", ".join(f"{name} {got[name]!r} instead of {expected[name]!r}" for name in wrong[:3])
        raise refuse(f"a recipe that differs from the task ({details})")
    recipe = replace(recipe, model_name=files.model.name,
                     loras=tuple((ref.name, sha, weight) for ref, (_n, sha, weight) in zip(files.loras, recipe.loras)),
                     ip_adapter=((files.ip_adapter.name, *recipe.ip_adapter[1:])
                                 if files.ip_adapter is not None and recipe.ip_adapter is not None else None))
    image = Image.frombytes(PIXEL_MODE, (answer.width, answer.height), answer.pixels)
    return GenerationResult(image=image, recipe=recipe, warnings=tuple(str(w) for w in answer.warnings))
