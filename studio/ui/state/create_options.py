"""The Create tab's generation options beyond the basic recipe: the sigma schedule, clip skip, batch
size, hires fix, a variation seed and the ControlNet units (their own view-model, ``control``).

A small view-model of its own (``CreateState.options``): the tab binds to these properties, and
:meth:`CreateOptions.request_fields` turns them into `GenerationRequest` fields, checking what can be
checked without torch. :meth:`CreateOptions.apply_request` fills them back from a request (PNG Info's
"Send to Create").
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

from PySide6.QtCore import QObject, Signal

from studio.generation.request import GenerationRequest, HiresFix, Outpaint
from studio.ui.binding import Field
from studio.ui.state.control_units import ControlUnits
from studio.ui.workers import BackgroundPool

#: Hires fix upscalers offered by name; an upscaler model file can be chosen too.
HIRES_UPSCALERS: dict[str, str] = {"latent": "Latent", "lanczos": "Lanczos"}


class CreateOptions(QObject):
    """Sigma schedule, clip skip, batch size, hires fix, variation and the control units (``control``)."""

    sigmas_changed = Signal(str)
    clip_skip_changed = Signal(int)
    batch_size_changed = Signal(int)
    hires_changed = Signal(bool)
    hires_scale_changed = Signal(float)
    hires_upscaler_changed = Signal(str)
    hires_steps_changed = Signal(int)
    hires_denoise_changed = Signal(float)
    variation_seed_changed = Signal(object)  # seeds reach 2**32 - 1, beyond a C int
    variation_strength_changed = Signal(float)
    outpaint_left_changed = Signal(int)
    outpaint_right_changed = Signal(int)
    outpaint_top_changed = Signal(int)
    outpaint_bottom_changed = Signal(int)
    vae_changed = Signal(str)
    embeddings_changed = Signal(object)
    vae_choices_changed = Signal(object)
    embedding_choices_changed = Signal(object)

    sigmas = Field("default")          # "default", "karras" or "exponential"
    clip_skip = Field(1)
    batch_size = Field(1)              # images made together in one pass
    hires = Field(False)
    hires_scale = Field(2.0)
    hires_upscaler = Field("latent")   # "latent", "lanczos" or the path of an upscaler model file
    hires_steps = Field(0)             # 0: as many as the first pass
    hires_denoise = Field(0.5)
    variation_seed = Field(0)
    variation_strength = Field(0.0)    # 0: no variation
    #: Image to image only: pixels added on each side of the init image, painted as an inpaint of the new area.
    outpaint_left = Field(0)
    outpaint_right = Field(0)
    outpaint_top = Field(0)
    outpaint_bottom = Field(0)
    vae = Field("")                    # a VAE file or folder instead of the model's own; "" for the model's
    embeddings = Field(())        # textual-inversion files (str paths), each called by its name in the prompt
    #: What the pickers offer: the VAEs and embeddings found in the models folders (str paths).
    vae_choices = Field(())
    embedding_choices = Field(())

    def __init__(self, parent: QObject | None = None, *, background: BackgroundPool,
                 model_folders: Callable[[], Sequence[Path]] = lambda: ()) -> None:
        super().__init__(parent)
        #: The ControlNet / T2I-Adapter units; ``model_folders`` are where preprocessors find their models.
        self.control = ControlUnits(background, model_folders, self)

    def toggle_embedding(self, path: str, on: bool) -> None:
        """Load the embedding ``path`` with the next generations (on), or not (off)."""
        chosen = [p for p in self.embeddings if p != path]
        self.embeddings = tuple(chosen + [path]) if on else tuple(chosen)

    def outpaint(self) -> Outpaint | None:
        sides = (int(self.outpaint_left), int(self.outpaint_right), int(self.outpaint_top), int(self.outpaint_bottom))
        if not any(sides):
            return None
        left, right, top, bottom = sides
        return Outpaint(left=left, right=right, top=top, bottom=bottom)

    def request_fields(self) -> dict[str, Any]:
        """These options as `GenerationRequest` keyword arguments (a unit missing its model or picture is refused)."""
        hires = None
        if self.hires:
            hires = HiresFix(scale=float(self.hires_scale), upscaler=self.hires_upscaler, steps=int(self.hires_steps),
                             denoise=float(self.hires_denoise))
        control = self.control.units()
        strength = float(self.variation_strength)
        return {"sigmas": self.sigmas, "clip_skip": int(self.clip_skip), "batch_size": int(self.batch_size),
                "hires": hires, "control": control, "vae": self._vae(), "embeddings": self._embeddings(),
                "variation_seed": int(self.variation_seed) if strength > 0 else None,
                "variation_strength": strength}

    def _vae(self) -> Path | None:
        if not self.vae:
            return None
        from studio.generation.vae import check_vae

        check_vae(Path(self.vae))
        return Path(self.vae)

    def _embeddings(self) -> tuple[Path, ...]:
        from studio.generation.prompts import check_embedding

        for path in self.embeddings:
            check_embedding(Path(path))
        return tuple(Path(path) for path in self.embeddings)

    def apply_request(self, request: GenerationRequest) -> None:
        """Take these options from ``request`` (control units without their pictures: a recipe names them by hash)."""
        self.sigmas, self.clip_skip, self.batch_size = request.sigmas, request.clip_skip, request.batch_size
        self.hires = request.hires is not None
        if request.hires is not None:
            self.hires_scale, self.hires_upscaler = float(request.hires.scale), request.hires.upscaler
            self.hires_steps, self.hires_denoise = int(request.hires.steps), float(request.hires.denoise)
        if request.variation_seed is not None and request.variation_strength > 0:
            self.variation_seed, self.variation_strength = request.variation_seed, float(request.variation_strength)
        else:
            self.variation_strength = 0.0
        self.control.apply(request.control)
        self.vae = str(request.vae) if request.vae is not None else ""
        self.embeddings = tuple(str(path) for path in request.embeddings)
        sides = request.outpaint or Outpaint()
        self.outpaint_left, self.outpaint_right = sides.left, sides.right
        self.outpaint_top, self.outpaint_bottom = sides.top, sides.bottom
