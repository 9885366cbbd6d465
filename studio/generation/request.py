"""The data that crosses the generation boundary: requests in, results and progress out."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL.Image import Image


class ModelFamily(str, enum.Enum):
    """The architecture a checkpoint belongs to; it decides configs, sizes and defaults."""

    SD1 = "sd1"
    SD2 = "sd2"
    SDXL = "sdxl"

    @property
    def label(self) -> str:
        return {"sd1": "SD 1.x", "sd2": "SD 2.x", "sdxl": "SDXL"}[self.value]

    @property
    def native_size(self) -> int:
        return {"sd1": 512, "sd2": 768, "sdxl": 1024}[self.value]


class ModelFormat(str, enum.Enum):
    DIFFUSERS = "diffusers"      # a folder with model_index.json
    SINGLE_FILE = "single_file"  # one .safetensors (or, opted in, .ckpt) checkpoint
    DEMO = "demo"                # the built-in tiny model


@dataclass(frozen=True)
class ModelInfo:
    """A model found on disk (or the demo), before it is loaded."""

    name: str
    path: Path
    family: ModelFamily
    format: ModelFormat
    variant: str = "base"  # "base", "turbo" or "lcm": decides steps/guidance defaults and schedulers
    size_bytes: int = 0
    is_pickle: bool = False

    @property
    def is_demo(self) -> bool:
        return self.format is ModelFormat.DEMO

    @property
    def label(self) -> str:
        if self.is_demo:
            return "Demo model (tiny, random weights: abstract images)"
        variant = "" if self.variant == "base" else f" {self.variant.upper() if self.variant == 'lcm' else self.variant.title()}"
        return f"{self.name} ({self.family.label}{variant})"


@dataclass(frozen=True)
class LoraSpec:
    path: Path
    weight: float = 1.0


@dataclass(frozen=True)
class IpAdapterSpec:
    """An IP-Adapter on disk for a request: the weight file, the image encoder folder it needs,
    and what is known of it (``sha256`` of the weight file when already computed, else "")."""

    path: Path
    image_encoder: Path | None
    sha256: str = ""
    family: str | None = None   # "sd1", "sdxl" or None when its name does not say
    face_id: bool = False

    @property
    def name(self) -> str:
        return Path(self.path).name


class GenerationMode(str, enum.Enum):
    TEXT_TO_IMAGE = "txt2img"
    IMAGE_TO_IMAGE = "img2img"
    INPAINT = "inpaint"


@dataclass(frozen=True)
class GenerationRequest:
    """Everything that decides the pixels. ``seed=None`` means a random seed, chosen and recorded.

    ``init_image`` selects image-to-image; ``init_image`` with ``mask_image`` (white = repaint)
    selects inpainting, where ``mask_blur`` feathers the mask's edge, ``inpaint_area`` "masked"
    paints only the mask's box grown by ``inpaint_padding`` pixels at full size, and the original
    is kept outside the mask (``studio.generation.inpaint``). Batch image *i* uses seed ``seed + i``. ``ip_adapter`` with
    ``ip_adapter_image`` (a reference picture) guides any mode by that picture at
    ``ip_adapter_scale`` (0: ignored, 1: strong).
    """

    prompt: str
    negative_prompt: str = ""
    model: str = "demo"
    seed: int | None = None
    steps: int = 20
    guidance: float = 7.0
    width: int = 512
    height: int = 512
    count: int = 1
    scheduler: str = "euler"
    init_image: "Image | None" = field(default=None, compare=False)
    strength: float = 0.75
    mask_image: "Image | None" = field(default=None, compare=False)
    mask_blur: int = 4
    inpaint_area: str = "whole"    # "whole" picture, or only the "masked" area (cropped with padding)
    inpaint_padding: int = 32
    loras: tuple[LoraSpec, ...] = ()
    ip_adapter: IpAdapterSpec | None = None
    ip_adapter_scale: float = 0.6
    ip_adapter_image: "Image | None" = field(default=None, compare=False)

    @property
    def mode(self) -> GenerationMode:
        if self.init_image is None:
            return GenerationMode.TEXT_TO_IMAGE
        return GenerationMode.INPAINT if self.mask_image is not None else GenerationMode.IMAGE_TO_IMAGE


@dataclass(frozen=True)
class Recipe:
    """What made one image: written into the PNG, shown in the UI, printed by ``--json``."""

    prompt: str
    negative_prompt: str
    model_name: str
    model_hash: str          # SHA-256 of the weights, hex
    model_family: str
    seed: int
    steps: int
    guidance: float
    width: int
    height: int
    scheduler: str
    mode: str
    strength: float | None = None
    init_image_hash: str | None = None
    mask_hash: str | None = None
    loras: tuple[tuple[str, str, float], ...] = ()  # (file name, sha256, weight)
    ip_adapter: tuple[str, str, float] | None = None  # (file name, sha256, scale)
    ip_adapter_image_hash: str | None = None
    device: str = ""
    dtype: str = ""
    generator: str = ""      # "provenance-studio <version>"
    mask_blur: int | None = None        # inpainting only: the options that decide its pixels
    inpaint_area: str | None = None
    inpaint_padding: int | None = None

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        data = asdict(self)
        data["loras"] = [{"name": n, "sha256": h, "weight": w} for n, h, w in self.loras]
        if self.ip_adapter is not None:
            name, sha, scale = self.ip_adapter
            data["ip_adapter"] = {"name": name, "sha256": sha, "scale": scale}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Recipe":
        data = dict(data)
        data["loras"] = tuple((l["name"], l["sha256"], float(l["weight"])) for l in data.get("loras", ()))
        adapter = data.get("ip_adapter")
        if isinstance(adapter, dict):
            data["ip_adapter"] = (adapter["name"], adapter["sha256"], float(adapter["scale"]))
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


def request_from_recipe(recipe: Recipe, *, init_image: "Image | None" = None,
                        mask_image: "Image | None" = None) -> GenerationRequest:
    """The request that makes ``recipe``'s image again (its seed, one image), given the input images
    it names by hash: checked against those hashes. LoRAs and adapters need their files: refused."""
    from studio.errors import InputError
    from studio.generation.engine import image_sha256

    if recipe.loras or recipe.ip_adapter is not None:
        raise InputError("The recipe uses LoRAs or an IP-Adapter, which are not rebuilt from a recipe.",
                         hint="Generate again with the same files chosen.")
    for what, image, expected in (("init image", init_image, recipe.init_image_hash),
                                  ("mask", mask_image, recipe.mask_hash)):
        if (image is None) != (expected is None):
            raise InputError(f"The recipe {'needs' if expected else 'has no'} {what}.")
        if image is not None and image_sha256(image) != expected:
            raise InputError(f"This {what} is not the one the recipe names (its SHA-256 differs).")
    fields: dict[str, Any] = {}
    if recipe.mode == GenerationMode.INPAINT.value:
        fields = {"mask_blur": recipe.mask_blur if recipe.mask_blur is not None else 0,
                  "inpaint_area": recipe.inpaint_area or "whole",
                  "inpaint_padding": recipe.inpaint_padding if recipe.inpaint_padding is not None else 0}
    return GenerationRequest(prompt=recipe.prompt, negative_prompt=recipe.negative_prompt, model=recipe.model_name,
                             seed=recipe.seed, steps=recipe.steps, guidance=recipe.guidance, width=recipe.width,
                             height=recipe.height, count=1, scheduler=recipe.scheduler, init_image=init_image,
                             strength=recipe.strength if recipe.strength is not None else 0.75,
                             mask_image=mask_image, **fields)


@dataclass(frozen=True)
class GenerationResult:
    image: "Image"
    recipe: Recipe
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class GenerationProgress:
    """One step of a running request; ``preview`` is set every few steps when asked for."""

    image_index: int      # 0-based index in the batch
    image_count: int
    step: int             # steps done for this image
    steps: int
    elapsed_s: float
    preview: "Image | None" = None

    @property
    def fraction(self) -> float:
        total = self.image_count * self.steps
        return (self.image_index * self.steps + self.step) / total if total else 1.0

    @property
    def eta_s(self) -> float | None:
        fraction = self.fraction
        return self.elapsed_s * (1 - fraction) / fraction if fraction > 0 else None
