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
class HiresFix:
    """A1111's hires fix: the first pass at the request's size, an upscale by ``scale``, then an
    image-to-image pass at the larger size with its own ``steps`` (0: the first pass's) and ``denoise``.

    ``upscaler`` is ``"latent"`` (the latents resized, bilinear), ``"lanczos"`` (the decoded image
    resized) or the path of an upscaler model file (ESRGAN, Real-ESRGAN, SwinIR ...).
    """

    scale: float = 2.0
    upscaler: str = "latent"
    steps: int = 0
    denoise: float = 0.5


@dataclass(frozen=True)
class Outpaint:
    """Extend the init image by these many pixels on each side and paint the new area (an inpaint
    whose mask is the new area plus ``overlap`` pixels of the original along each new edge)."""

    left: int = 0
    right: int = 0
    top: int = 0
    bottom: int = 0
    overlap: int = 8

    def canvas_size(self, size: tuple[int, int]) -> tuple[int, int]:
        """The extended picture's size for an init image of ``size``."""
        return size[0] + self.left + self.right, size[1] + self.top + self.bottom

    def to_dict(self) -> dict[str, int]:
        return {"left": self.left, "right": self.right, "top": self.top, "bottom": self.bottom,
                "overlap": self.overlap}


@dataclass(frozen=True)
class ControlUnit:
    """One ControlNet (or T2I-Adapter) guiding a request: the model file or folder, the picture it
    reads, how that picture is turned into a control map (``preprocessor``: ``none`` when it already
    is one), its ``weight`` and the part of the sampling it acts in (``start``..``end``, 0-1)."""

    model: Path
    image: "Image | None" = field(default=None, compare=False)
    preprocessor: str = "none"
    weight: float = 1.0
    start: float = 0.0
    end: float = 1.0
    low_threshold: int = 100     # canny
    high_threshold: int = 200    # canny


@dataclass(frozen=True)
class GenerationRequest:
    """Everything that decides the pixels. ``seed=None`` means a random seed, chosen and recorded.

    ``init_image`` selects image-to-image; ``init_image`` with ``mask_image`` (white = repaint), or
    with ``outpaint``, selects inpainting, where ``mask_blur`` feathers the mask's edge,
    ``inpaint_area`` "masked" paints only the mask's box grown by ``inpaint_padding`` pixels at full
    size, and the original is kept outside the mask (``studio.generation.inpaint``). Image *i* overall
    (``count`` batches of ``batch_size``) uses seed ``seed + i``. ``ip_adapter`` with
    ``ip_adapter_image`` (a reference picture) guides any mode by that picture at ``ip_adapter_scale``
    (0: ignored, 1: strong). The sampler's sigma schedule, clip skip, VAE, prompt syntax, embeddings,
    hires fix, control units, variation seed and outpainting are documented in docs/generation.md.
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
    sigmas: str = "default"          # the sigma schedule: "default", "karras" or "exponential"
    clip_skip: int = 1               # A1111's count: 1 reads the text encoder's last layer, 2 the one before
    vae: Path | None = None          # a VAE file or folder of the model's family instead of the model's own
    prompt_syntax: str = "a1111"     # "a1111": (word:1.2), [word], chunks past 77 tokens; "plain": as typed
    embeddings: tuple[Path, ...] = ()  # textual-inversion files; each is called by its file name in prompts
    hires: HiresFix | None = None
    control: tuple[ControlUnit, ...] = ()
    variation_seed: int | None = None  # A1111's subseed: noise of this seed blended in at variation_strength
    variation_strength: float = 0.0
    batch_size: int = 1              # images made together in one pass; count is the number of passes
    outpaint: Outpaint | None = None  # extend init_image and paint the new area (width/height: the canvas)

    @property
    def mode(self) -> GenerationMode:
        if self.init_image is None:
            return GenerationMode.TEXT_TO_IMAGE
        if self.mask_image is not None or self.outpaint is not None:
            return GenerationMode.INPAINT
        return GenerationMode.IMAGE_TO_IMAGE


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
    # -- since the sampler/schedule split; the defaults are what older recipes meant --------------
    sigmas: str = "default"
    clip_skip: int = 1
    vae: tuple[str, str] | None = None           # (file or folder name, sha256)
    prompt_syntax: str = "plain"
    embeddings: tuple[tuple[str, str], ...] = ()  # (file name, sha256)
    hires: "HiresRecord | None" = None
    control: tuple["ControlRecord", ...] = ()
    variation_seed: int | None = None
    variation_strength: float = 0.0
    batch_size: int = 1
    batch_index: int = 0
    upscale: "UpscaleRecord | None" = None       # a standalone upscale of another image
    runtime: tuple[str, ...] = ()                # speed options that may move low bits: channels_last, compiled
    outpaint: Outpaint | None = None

    mask_blur: int | None = None        # inpainting only: the options that decide its pixels
    inpaint_area: str | None = None
    inpaint_padding: int | None = None

    def settings(self) -> dict[str, Any]:
        """The fields beyond the first manifest schema, only where they differ from their defaults:
        what the manifest's ``settings`` object carries (empty for a recipe an older studio could write)."""
        found: dict[str, Any] = {}
        if self.sigmas != "default":
            found["sigmas"] = self.sigmas
        if self.clip_skip != 1:
            found["clip_skip"] = self.clip_skip
        if self.vae is not None:
            found["vae"] = {"name": self.vae[0], "sha256": self.vae[1]}
        if self.prompt_syntax != "plain":
            found["prompt_syntax"] = self.prompt_syntax
        if self.embeddings:
            found["embeddings"] = [{"name": n, "sha256": h} for n, h in self.embeddings]
        if self.hires is not None:
            found["hires"] = self.hires.to_dict()
        if self.control:
            found["control"] = [unit.to_dict() for unit in self.control]
        if self.variation_seed is not None and self.variation_strength:
            found["variation"] = {"seed": self.variation_seed, "strength": self.variation_strength}
        if self.batch_size != 1:
            found["batch"] = {"size": self.batch_size, "index": self.batch_index}
        if self.upscale is not None:
            found["upscale"] = self.upscale.to_dict()
        if self.runtime:
            found["runtime"] = list(self.runtime)
        if self.outpaint is not None:
            found["outpaint"] = self.outpaint.to_dict()
        return found

    @staticmethod
    def settings_fields(settings: dict[str, Any]) -> dict[str, Any]:
        """Recipe fields from a manifest's ``settings`` object (the reverse of :meth:`settings`)."""
        fields: dict[str, Any] = {}
        if "sigmas" in settings:
            fields["sigmas"] = str(settings["sigmas"])
        if "clip_skip" in settings:
            fields["clip_skip"] = int(settings["clip_skip"])
        if isinstance(settings.get("vae"), dict):
            fields["vae"] = (str(settings["vae"]["name"]), str(settings["vae"]["sha256"]))
        if "prompt_syntax" in settings:
            fields["prompt_syntax"] = str(settings["prompt_syntax"])
        if settings.get("embeddings"):
            fields["embeddings"] = tuple((str(e["name"]), str(e["sha256"])) for e in settings["embeddings"])
        if isinstance(settings.get("hires"), dict):
            fields["hires"] = HiresRecord.from_dict(settings["hires"])
        if settings.get("control"):
            fields["control"] = tuple(ControlRecord.from_dict(unit) for unit in settings["control"])
        if isinstance(settings.get("variation"), dict):
            fields["variation_seed"] = int(settings["variation"]["seed"])
            fields["variation_strength"] = float(settings["variation"]["strength"])
        if isinstance(settings.get("batch"), dict):
            fields["batch_size"] = int(settings["batch"]["size"])
            fields["batch_index"] = int(settings["batch"]["index"])
        if isinstance(settings.get("upscale"), dict):
            fields["upscale"] = UpscaleRecord.from_dict(settings["upscale"])
        if settings.get("runtime"):
            fields["runtime"] = tuple(str(item) for item in settings["runtime"])
        if isinstance(settings.get("outpaint"), dict):
            fields["outpaint"] = Outpaint(**{key: int(settings["outpaint"][key])
                                             for key in ("left", "right", "top", "bottom", "overlap")})
        return fields

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        data = asdict(self)
        data["loras"] = [{"name": n, "sha256": h, "weight": w} for n, h, w in self.loras]
        if self.ip_adapter is not None:
            name, sha, scale = self.ip_adapter
            data["ip_adapter"] = {"name": name, "sha256": sha, "scale": scale}
        for key in ("sigmas", "clip_skip", "vae", "prompt_syntax", "embeddings", "hires", "control",
                    "variation_seed", "variation_strength", "batch_size", "batch_index", "upscale", "runtime", "outpaint"):
            data.pop(key)
        data["settings"] = self.settings()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Recipe":
        data = dict(data)
        data["loras"] = tuple((l["name"], l["sha256"], float(l["weight"])) for l in data.get("loras", ()))
        adapter = data.get("ip_adapter")
        if isinstance(adapter, dict):
            data["ip_adapter"] = (adapter["name"], adapter["sha256"], float(adapter["scale"]))
        settings = data.pop("settings", None)
        if isinstance(settings, dict):
            data.update(cls.settings_fields(settings))
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class HiresRecord:
    """How a hires fix ran: the upscaler (``latent``, ``lanczos`` or a model file by name and SHA-256)."""

    scale: float
    upscaler: str
    steps: int
    denoise: float
    upscaler_sha256: str | None = None
    width: int = 0    # the final size
    height: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"scale": self.scale, "upscaler": self.upscaler, "upscaler_sha256": self.upscaler_sha256,
                "steps": self.steps, "denoise": self.denoise, "width": self.width, "height": self.height}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "HiresRecord":
        sha = data.get("upscaler_sha256")
        return cls(scale=float(data["scale"]), upscaler=str(data["upscaler"]), steps=int(data["steps"]),
                   denoise=float(data["denoise"]), upscaler_sha256=str(sha) if sha else None,
                   width=int(data.get("width", 0)), height=int(data.get("height", 0)))


@dataclass(frozen=True)
class ControlRecord:
    """One control unit as recorded: its model (name, SHA-256, kind), the SHA-256 of the picture it
    was given (before preprocessing), the preprocessor and its settings."""

    model_name: str
    model_sha256: str
    kind: str              # "controlnet" or "t2i_adapter"
    image_sha256: str
    preprocessor: str
    weight: float
    start: float
    end: float
    low_threshold: int = 100
    high_threshold: int = 200

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"model": {"name": self.model_name, "sha256": self.model_sha256, "kind": self.kind},
                                "image_sha256": self.image_sha256, "preprocessor": self.preprocessor,
                                "weight": self.weight, "start": self.start, "end": self.end}
        if self.preprocessor == "canny":
            data["thresholds"] = [self.low_threshold, self.high_threshold]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ControlRecord":
        low, high = data.get("thresholds", (100, 200))
        return cls(model_name=str(data["model"]["name"]), model_sha256=str(data["model"]["sha256"]),
                   kind=str(data["model"]["kind"]), image_sha256=str(data["image_sha256"]),
                   preprocessor=str(data["preprocessor"]), weight=float(data["weight"]),
                   start=float(data["start"]), end=float(data["end"]), low_threshold=int(low),
                   high_threshold=int(high))


@dataclass(frozen=True)
class UpscaleRecord:
    """A standalone upscale: the upscaler (``lanczos`` or a model file by name and SHA-256) and the factor."""

    upscaler: str
    scale: float
    upscaler_sha256: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"upscaler": self.upscaler, "upscaler_sha256": self.upscaler_sha256, "scale": self.scale}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "UpscaleRecord":
        sha = data.get("upscaler_sha256")
        return cls(upscaler=str(data["upscaler"]), scale=float(data["scale"]), upscaler_sha256=str(sha) if sha else None)


@dataclass(frozen=True)
class GenerationResult:
    image: "Image"
    recipe: Recipe
    warnings: tuple[str, ...] = ()
    control_maps: tuple["Image", ...] = ()   # the preprocessed map of each control unit, for the GUI to show


@dataclass(frozen=True)
class GenerationProgress:
    """One step of a running request; ``preview`` is set every few steps when asked for."""

    image_index: int      # 0-based index in the batch
    image_count: int
    step: int             # steps done for this image
    steps: int
    elapsed_s: float
    preview: "Image | None" = None
    phase: str = "sampling"   # "warm-up" while torch.compile builds the UNet for a new size (step 0)

    @property
    def fraction(self) -> float:
        total = self.image_count * self.steps
        return (self.image_index * self.steps + self.step) / total if total else 1.0

    @property
    def eta_s(self) -> float | None:
        fraction = self.fraction
        return self.elapsed_s * (1 - fraction) / fraction if fraction > 0 else None

    @property
    def text(self) -> str:
        """'step 3/20 · image 1/2 · ETA 4 s'."""
        parts = [f"step {self.step}/{self.steps}"]
        if self.image_count > 1:
            parts.append(f"image {self.image_index + 1}/{self.image_count}")
        eta = self.eta_s
        if eta is not None:
            parts.append(f"ETA {eta:.0f} s" if eta >= 1 else "ETA <1 s")
        return " · ".join(parts)
