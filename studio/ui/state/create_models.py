"""The Create tab's model choice (``CreateState.model_choice``): the models listed, the one chosen,
what it offers (samplers, sizes), adding and removing models, the demo, and the empty state.

Choosing a model sets the recipe's defaults for it (sampler, steps, guidance, size) on the
:class:`~studio.ui.state.create.CreateState` that owns this, before ``model_name_changed`` is said.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QObject, Signal

from studio.errors import NotFound, StudioError
from studio.generation.request import ModelFamily, ModelInfo
from studio.generation.schedulers import default_settings, schedulers_for
from studio.ui.binding import observed
from studio.ui.workers import FunctionJob, Job, error_message

if TYPE_CHECKING:
    from studio.ui.state.create import CreateState

log = logging.getLogger(__name__)

EMPTY_STATE_TEXT = ("No model found on this machine. Add a model (a .safetensors file or a diffusers folder) "
                    "or try the built-in demo model (tiny, random weights: its images are abstract).")

#: Sizes each family was trained around (width, height); the demo also offers small, fast ones.
SIZE_PRESETS: dict[ModelFamily, tuple[tuple[int, int], ...]] = {
    ModelFamily.SD1: ((512, 512), (512, 768), (768, 512), (640, 640), (576, 768), (768, 576)),
    ModelFamily.SD2: ((768, 768), (768, 1024), (1024, 768), (640, 640), (512, 512)),
    ModelFamily.SDXL: ((1024, 1024), (896, 1152), (1152, 896), (1216, 832), (832, 1216), (1344, 768),
                       (768, 1344)),
}
#: The demo is fast at small sizes; it also takes its family's sizes (about 1 s at 512x512 on a CPU).
DEMO_SIZE_PRESETS = ((256, 256), (128, 128), (64, 64), *SIZE_PRESETS[ModelFamily.SD1])


def size_presets_for(model: ModelInfo | None) -> tuple[tuple[int, int], ...]:
    if model is None:
        return SIZE_PRESETS[ModelFamily.SD1]
    if model.is_demo:
        return DEMO_SIZE_PRESETS
    return SIZE_PRESETS[model.family]


class ModelChoice(QObject):
    """The model list of the Create tab and the model chosen in it."""

    models_changed = Signal(object)
    model_name_changed = Signal(str)
    schedulers_changed = Signal(object)
    size_presets_changed = Signal(object)

    #: No model of the user's and the demo not chosen: the tab shows its empty state.
    show_empty_state_changed, show_empty_state = observed(False, bool)
    #: Files in the models folders that are not models, and why ("" when none).
    skipped_models_changed, skipped_models = observed("", str)

    def __init__(self, state: "CreateState") -> None:
        super().__init__(state)
        self._state = state
        self.catalog = state.catalog
        self._models: list[ModelInfo] = []
        self._model_name = ""
        self._schedulers: list[str] = []
        self._size_presets: tuple[tuple[int, int], ...] = ()
        self._demo_chosen = state.config["default_model"] == "demo"

    @property
    def models(self) -> list[ModelInfo]:
        return list(self._models)

    @property
    def model(self) -> ModelInfo | None:
        return next((m for m in self._models if m.name == self._model_name), None)

    @property
    def model_name(self) -> str:
        return self._model_name

    @model_name.setter
    def model_name(self, name: str) -> None:
        if name == self._model_name:
            return
        info = self.resolve(name)
        self._model_name = name
        self._apply_model_defaults(info)
        self.model_name_changed.emit(name)

    def resolve(self, name: str) -> ModelInfo:
        """The listed model called ``name``, without building or loading anything (for validation)."""
        info = next((m for m in self._models if m.name == name), None)
        if info is None:
            raise NotFound(f"No model called “{name}” in the list.", hint="Add it with “Add model…”.")
        return info

    def _apply_model_defaults(self, info: ModelInfo) -> None:
        state = self._state
        self._schedulers = schedulers_for(info)
        self.schedulers_changed.emit(list(self._schedulers))
        steps, guidance, scheduler = default_settings(info)
        state.scheduler, state.steps, state.guidance = scheduler, steps, float(guidance)
        self._size_presets = size_presets_for(info)
        self.size_presets_changed.emit(self._size_presets)
        if info.is_demo:
            state.width, state.height = 256, 256
        else:
            state.width = state.height = info.family.native_size

    @property
    def schedulers(self) -> list[str]:
        return list(self._schedulers)

    @property
    def size_presets(self) -> tuple[tuple[int, int], ...]:
        return self._size_presets

    def reload_models(self, select: str | None = None) -> None:
        """Re-read the catalog; keep the selection when possible, else pick the default model."""
        self._models = list(self.catalog.models())
        self.models_changed.emit(self.models)
        skipped = getattr(self.catalog, "skipped", ()) or ()
        skipped = tuple(skipped() if callable(skipped) else skipped)
        self.skipped_models = (f"{len(skipped)} file{'s' if len(skipped) != 1 else ''} skipped: "
                               + "; ".join(f"{Path(str(p)).name}: {why}" for p, why in skipped)) if skipped else ""
        names = [m.name for m in self._models]
        wanted = [select, self._model_name, self._state.config["default_model"]]
        user = [m.name for m in self._models if not m.is_demo]
        choice = next((n for n in wanted if n and n in names), None) or (user[0] if user else None) \
            or (names[0] if names else "")
        if choice != self._model_name:
            self._model_name = ""
            if choice:
                self.model_name = choice
        self._update_empty_state()

    def find_weights(self) -> Job:
        """Look for the VAEs and embeddings in the models folders in the background (the pickers offer them)."""
        folders = list(self._state.config.model_folders())
        options = self._state.options

        def scan(_progress: Callable[[Any], None], _cancel: Any) -> Any:
            from studio.generation.weights import scan_weights

            return scan_weights(folders)

        def show(found: Any) -> None:
            from shiboken6 import isValid

            if isValid(options):
                options.vae_choices = tuple(str(path) for path in found.vaes)
                options.embedding_choices = tuple(str(path) for path in found.embeddings)

        job = FunctionJob("Looking for VAEs and embeddings", scan)
        job.to(self).succeeded.connect(show)
        job.to(self).failed.connect(lambda exc: log.warning("Could not look for VAEs and embeddings: %s", exc))
        return self._state.background.start(job)

    def _update_empty_state(self) -> None:
        has_user_models = self.catalog.has_user_models
        if callable(has_user_models):  # a property or a method: both read the same
            has_user_models = has_user_models()
        self.show_empty_state = not has_user_models and not self._demo_chosen

    def use_demo(self) -> None:
        """“Try the demo model”: select it (built on first use by the GPU lane) and remember the choice."""
        state = self._state
        demo = next((m for m in self._models if m.is_demo), None)
        if demo is None:
            state.error = "The demo model is not available in this installation."
            return
        self._demo_chosen = True
        self.model_name = demo.name
        if state.width > 256 or state.height > 256:
            state.width, state.height = 256, 256
        try:
            state.config.set("default_model", demo.name)
            state.config.save()
        except StudioError as exc:  # the demo still works; only the choice is not remembered
            log.warning("Could not remember the demo choice: %s", exc)
        self._update_empty_state()

    def add_model(self, path: str | Path) -> Job:
        """Add a model file or folder in the background; select it when it is added."""
        path = Path(path)
        catalog = self.catalog

        def add(_progress: Callable[[Any], None], _cancel: Any) -> ModelInfo:
            return catalog.add(path)

        job = FunctionJob(f"Adding {path.name}", add)
        job.to(self).succeeded.connect(self._on_model_added)
        job.to(self).failed.connect(self._on_background_failed)
        self._state.progress_text = f"Adding the model {path.name}…"
        return self._state.background.start(job)

    def _on_model_added(self, info: ModelInfo) -> None:
        self.find_weights()  # a VAE or embedding may have come with it
        self._state.error = ""
        self._state.progress_text = f"Added {info.label}."
        self.reload_models(select=info.name)

    def remove_model(self) -> Job | None:
        """Take the selected added model off the list in the background (its files stay where they are)."""
        info = self.model
        if info is None or info.is_demo:
            self._state.error = "The demo model is built in and cannot be removed."
            return None
        catalog = self.catalog

        def remove(_progress: Callable[[Any], None], _cancel: Any) -> ModelInfo:
            catalog.remove(info.name)
            return info

        job = FunctionJob(f"Removing {info.name}", remove)
        job.to(self).succeeded.connect(self._on_model_removed)
        job.to(self).failed.connect(self._on_background_failed)
        return self._state.background.start(job)

    def _on_model_removed(self, info: ModelInfo) -> None:
        self._state.error = ""
        self._state.progress_text = f"Removed {info.name} from the list; its files are untouched."
        self.reload_models()

    def _on_background_failed(self, exc: BaseException) -> None:
        self._state.progress_text = ""
        self._state.error = error_message(exc)
