"""Avatars: square portrait requests from style presets, and what the user has for identity adapters.

A style preset is a prompt template (``{prompt}`` is the user's words) with a negative prompt and
settings per model family (size, steps, guidance, sampler). The studio ships presets in
``assets/avatars/presets.json``; the user's own (new ones, or edited copies of shipped ones under
the same key) live in ``<data>/avatars/presets.json`` and win over the shipped ones.

IP-Adapter weights are never downloaded: `find_ip_adapters` looks for them in the models folders
and says what is there and what to download where. FaceID-type adapters depend on InsightFace,
whose models are for non-commercial research only: `check_adapter_licence` refuses them unless the
user has acknowledged that.

No torch here: the GUI imports this at start-up.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from studio.assets import asset_path
from studio.errors import InputError, NotFound, StorageError
from studio.generation.request import GenerationRequest, IpAdapterSpec, ModelFamily, ModelInfo

if TYPE_CHECKING:
    from PIL.Image import Image

log = logging.getLogger(__name__)

PRESETS_FILE = asset_path("avatars", "presets.json")
USER_PRESETS_NAME = "presets.json"
FAMILIES = tuple(f.value for f in ModelFamily)
DEFAULT_PRESET = "anime"
DEFAULT_STRENGTH = 0.55  # keeps the photo's composition and likeness, restyles the rest
DEFAULT_ADAPTER_SCALE = 0.6  # follows the reference and still the prompt


# ====================================================================== presets

@dataclass(frozen=True)
class FamilySettings:
    """How a preset runs on one model family."""

    size: int
    steps: int
    guidance: float
    scheduler: str

    def to_dict(self) -> dict[str, Any]:
        return {"size": self.size, "steps": self.steps, "guidance": self.guidance, "scheduler": self.scheduler}


@dataclass(frozen=True)
class StylePreset:
    """A named style: the prompt template, negative prompt and settings per model family."""

    key: str
    label: str
    prompt: str                 # contains {prompt}
    negative_prompt: str
    families: Mapping[str, FamilySettings] = field(compare=False)
    user: bool = False          # saved by the user (shipped presets have user=False)

    def settings_for(self, family: ModelFamily | str) -> FamilySettings:
        key = family.value if isinstance(family, ModelFamily) else str(family)
        if key in self.families:
            return self.families[key]
        return self.families["sd1"]

    def prompt_for(self, words: str) -> str:
        """The preset's template around the user's words (an empty subject leaves no stray comma)."""
        text = self.prompt.replace("{prompt}", words.strip())
        return re.sub(r"^\s*,\s*", "", re.sub(r"(,\s*){2,}", ", ", text)).strip()

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "prompt": self.prompt, "negative_prompt": self.negative_prompt,
                "families": {k: v.to_dict() for k, v in self.families.items()}}


def _parse_preset(data: Any, where: str) -> StylePreset:
    from studio.generation.schedulers import LEGACY_SAMPLERS, SCHEDULERS

    if not isinstance(data, Mapping):
        raise InputError(f"{where} is not an object.")
    key = data.get("key")
    if not isinstance(key, str) or not re.fullmatch(r"[a-z0-9_\-]{1,40}", key):
        raise InputError(f"{where}: key must be 1-40 lowercase letters, digits, - or _.")
    label = data.get("label") or key
    prompt = data.get("prompt", "{prompt}")
    negative = data.get("negative_prompt", "")
    if not all(isinstance(v, str) for v in (label, prompt, negative)):
        raise InputError(f"{where} ({key}): label, prompt and negative_prompt must be text.")
    if "{prompt}" not in prompt:
        raise InputError(f"{where} ({key}): the prompt template needs {{prompt}} where the subject goes.",
                         hint="For example: “{prompt}, oil painting portrait”.")
    families_raw = data.get("families")
    if not isinstance(families_raw, Mapping) or "sd1" not in families_raw:
        raise InputError(f"{where} ({key}): families must give settings for at least sd1.")
    families: dict[str, FamilySettings] = {}
    for family, raw in families_raw.items():
        if family not in FAMILIES or not isinstance(raw, Mapping):
            raise InputError(f"{where} ({key}): unknown family {family!r} (families: {', '.join(FAMILIES)}).")
        size, steps, guidance, scheduler = (raw.get(k) for k in ("size", "steps", "guidance", "scheduler"))
        if not isinstance(size, int) or isinstance(size, bool) or size % 8 or not 64 <= size <= 2048:
            raise InputError(f"{where} ({key}, {family}): size must be a multiple of 8 from 64 to 2048.")
        if not isinstance(steps, int) or isinstance(steps, bool) or not 1 <= steps <= 150:
            raise InputError(f"{where} ({key}, {family}): steps must be 1 to 150.")
        if isinstance(guidance, bool) or not isinstance(guidance, (int, float)) or not 0 <= guidance <= 30:
            raise InputError(f"{where} ({key}, {family}): guidance must be 0 to 30.")
        if scheduler not in SCHEDULERS and scheduler not in LEGACY_SAMPLERS:
            raise InputError(f"{where} ({key}, {family}): unknown sampler {scheduler!r} "
                             f"(samplers: {', '.join(SCHEDULERS)}).")
        families[family] = FamilySettings(size, steps, float(guidance), scheduler)
    return StylePreset(key, label.strip() or key, prompt.strip(), negative.strip(), families)


def _read_presets(path: Path, what: str) -> list[StylePreset]:
    from studio.fileio import read_bounded
    from studio.safejson import loads

    try:
        document = loads(read_bounded(path, 4 * 1024 * 1024, what=what), what=what, max_bytes=4 * 1024 * 1024)
    except NotFound:
        return []
    except StorageError:
        raise
    except InputError as exc:
        raise InputError(f"{what} at {path} is not readable JSON ({exc}).",
                         hint="Fix or remove the file; the shipped presets still work without it.") from exc
    items = document.get("presets") if isinstance(document, Mapping) else None
    if not isinstance(items, list):
        raise InputError(f"{what} at {path} must be an object with a list of presets.")
    return [_parse_preset(item, f"{what}, preset {i}") for i, item in enumerate(items, start=1)]


def user_presets_file(data_dir: Path | None = None) -> Path:
    """Where the user's presets are kept: ``<data>/avatars/presets.json``."""
    if data_dir is None:
        from studio.paths import studio_paths

        data_dir = studio_paths().data_dir
    return Path(data_dir) / "avatars" / USER_PRESETS_NAME


def shipped_presets() -> list[StylePreset]:
    return _read_presets(PRESETS_FILE, "The studio's avatar presets")


def load_presets(data_dir: Path | None = None) -> list[StylePreset]:
    """The shipped presets in their order, each replaced by the user's edit of the same key, then the
    user's new presets. A damaged user file is logged and skipped (the shipped ones still work)."""
    presets = {p.key: p for p in shipped_presets()}
    try:
        user = _read_presets(user_presets_file(data_dir), "Your avatar presets")
    except (InputError, StorageError) as exc:
        log.warning("Ignoring the user's avatar presets: %s", exc)
        user = []
    for preset in user:
        presets[preset.key] = replace(preset, user=True)
    return list(presets.values())


def find_preset(key: str, data_dir: Path | None = None) -> StylePreset:
    presets = load_presets(data_dir)
    for preset in presets:
        if preset.key == key:
            return preset
    raise NotFound(f"There is no avatar preset “{key}”.",
                   hint=f"Presets: {', '.join(p.key for p in presets)} (see `studio avatars presets`).")


def save_user_preset(preset: StylePreset | Mapping[str, Any], data_dir: Path | None = None) -> StylePreset:
    """Add or replace (by key) one of the user's presets, atomically; returns it as saved."""
    from studio.fileio import atomic_write_text

    checked = _parse_preset(preset.to_dict() if isinstance(preset, StylePreset) else preset, "The preset")
    path = user_presets_file(data_dir)
    try:
        existing = _read_presets(path, "Your avatar presets")
    except InputError:
        log.warning("Replacing the unreadable avatar presets file %s", path)
        existing = []
    kept = [p for p in existing if p.key != checked.key] + [checked]
    atomic_write_text(path, json.dumps({"version": 1, "presets": [p.to_dict() for p in kept]}, indent=2) + "\n")
    return replace(checked, user=True)


def delete_user_preset(key: str, data_dir: Path | None = None) -> None:
    """Remove the user's preset ``key`` (a shipped preset of that key comes back as it was shipped)."""
    from studio.fileio import atomic_write_text

    path = user_presets_file(data_dir)
    existing = _read_presets(path, "Your avatar presets")
    if not any(p.key == key for p in existing):
        raise NotFound(f"You have no saved avatar preset “{key}”.", hint="Shipped presets cannot be deleted.")
    kept = [p for p in existing if p.key != key]
    atomic_write_text(path, json.dumps({"version": 1, "presets": [p.to_dict() for p in kept]}, indent=2) + "\n")


# ====================================================================== requests

@dataclass(frozen=True)
class AvatarRequest:
    """What the user asks for: a subject, a style, and optionally a photo to start from.

    ``size``, ``steps`` and ``guidance`` override the preset's settings for the model's family.
    With ``photo``, the avatar is image-to-image from it at ``strength`` (0 keeps the photo, 1
    ignores it). With an ``adapter`` (an IP-Adapter found on disk) the photo also goes to it as the
    reference picture at ``adapter_scale``; ``photo_as_init=False`` then uses it only that way
    (text-to-image guided by the photo). FaceID adapters need ``licence_acknowledged``.
    ``count`` images use seeds ``seed``, ``seed + 1`` ...
    """

    prompt: str
    preset: str = DEFAULT_PRESET
    model: str = "demo"
    seed: int | None = None
    count: int = 1
    photo: "Image | None" = field(default=None, compare=False)
    strength: float = DEFAULT_STRENGTH
    size: int | None = None
    steps: int | None = None
    guidance: float | None = None
    adapter: "IpAdapterFiles | None" = None
    adapter_scale: float = DEFAULT_ADAPTER_SCALE
    photo_as_init: bool = True
    licence_acknowledged: bool = False


def generation_request(request: AvatarRequest, preset: StylePreset, model: ModelInfo) -> GenerationRequest:
    """The square `GenerationRequest` for ``request`` in ``preset``'s style on ``model``.

    Few-step models (Turbo, LCM) keep their own steps, guidance and sampler: a preset's 25 steps
    at guidance 7 ruin their images.
    """
    from studio.generation.schedulers import FEW_STEP_VARIANTS, default_settings

    settings = preset.settings_for(model.family)
    steps, guidance, scheduler = settings.steps, settings.guidance, settings.scheduler
    if model.variant in FEW_STEP_VARIANTS:
        steps, guidance, scheduler = default_settings(model)
    size = request.size if request.size is not None else settings.size
    if not request.prompt.strip() and request.photo is None:
        raise InputError("An avatar needs a description or a photo.",
                         hint="Describe the character (e.g. “a fox astronaut”), or choose a photo.")
    photo = square_crop(request.photo) if request.photo is not None else None
    adapter = request.adapter
    if adapter is not None:
        check_adapter_licence(adapter, request.licence_acknowledged)
        if photo is None:
            raise InputError(f"The IP-Adapter {adapter.name} needs a photo or reference picture.",
                             hint="Choose a photo, or turn the adapter off.")
    init = photo if adapter is None or request.photo_as_init else None
    return GenerationRequest(
        prompt=preset.prompt_for(request.prompt), negative_prompt=preset.negative_prompt, model=request.model,
        seed=request.seed, steps=request.steps if request.steps is not None else steps,
        guidance=float(request.guidance) if request.guidance is not None else guidance,
        width=size, height=size, count=request.count, scheduler=scheduler,
        init_image=init, strength=request.strength,
        ip_adapter=adapter.spec() if adapter is not None else None, ip_adapter_scale=float(request.adapter_scale),
        ip_adapter_image=photo if adapter is not None else None,
    )


def square_crop(image: "Image") -> "Image":
    """The largest centred square of ``image`` in RGB (portraits are square; a photo rarely is)."""
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    return image.convert("RGB").crop((left, top, left + side, top + side))


# ====================================================================== identity adapters

FACE_ID_NOTICE = (
    "IP-Adapter FaceID, InstantID and PhotoMaker depend on InsightFace face models, which their "
    "maintainer licenses for non-commercial research only: selling or minting avatars made with them "
    "needs a commercial licence from InsightFace. The adapter is recorded in each image's provenance."
)


@dataclass(frozen=True)
class KnownAdapter:
    """An IP-Adapter the studio can tell the user about: where it comes from and where it goes."""

    weight_name: str
    family: str             # "sd1" or "sdxl"
    repo: str               # Hugging Face repository
    subfolder: str          # inside the repository (and inside <models>/<repo name>/)
    face_id: bool = False
    note: str = ""

    @property
    def folder_name(self) -> str:
        return self.repo.split("/")[-1]


KNOWN_ADAPTERS: tuple[KnownAdapter, ...] = (
    KnownAdapter("ip-adapter_sd15.safetensors", "sd1", "h94/IP-Adapter", "models",
                 note="general style and content from a picture"),
    KnownAdapter("ip-adapter-plus-face_sd15.safetensors", "sd1", "h94/IP-Adapter", "models",
                 note="keeps a face from a photo"),
    KnownAdapter("ip-adapter_sdxl_vit-h.safetensors", "sdxl", "h94/IP-Adapter", "sdxl_models",
                 note="SDXL, uses the ViT-H image encoder of models/image_encoder"),
    KnownAdapter("ip-adapter-plus-face_sdxl_vit-h.safetensors", "sdxl", "h94/IP-Adapter", "sdxl_models",
                 note="SDXL, keeps a face"),
    KnownAdapter("ip-adapter-faceid_sd15.bin", "sd1", "h94/IP-Adapter-FaceID", "", face_id=True,
                 note="face identity; needs the insightface package and its models (non-commercial)"),
)


@dataclass(frozen=True)
class IpAdapterFiles:
    """An IP-Adapter weights file found on disk, with the image encoder it needs."""

    path: Path
    image_encoder: Path | None
    family: str | None      # "sd1", "sdxl" or None when the name does not say
    face_id: bool

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def is_pickle(self) -> bool:
        return self.path.suffix.lower() != ".safetensors"

    def load_kwargs(self) -> dict[str, Any]:
        """Arguments for diffusers' ``pipe.load_ip_adapter`` that never touch the network (an
        ``image_encoder_folder`` with a slash is a path of its own, not a subfolder)."""
        return {"pretrained_model_name_or_path_or_dict": str(self.path.parent), "subfolder": "",
                "weight_name": self.path.name,
                "image_encoder_folder": str(self.image_encoder) if self.image_encoder is not None else None,
                "local_files_only": True}

    def spec(self) -> IpAdapterSpec:
        """What a `GenerationRequest` needs to load this adapter."""
        return IpAdapterSpec(self.path, self.image_encoder, family=self.family, face_id=self.face_id)


@dataclass(frozen=True)
class AdapterReport:
    """What the user has for identity-preserving avatars, and what they could download."""

    available: tuple[IpAdapterFiles, ...]
    incomplete: tuple[str, ...]     # found but unusable as they are, with why
    downloads: tuple[str, ...]      # what to download and where to put it

    def for_family(self, family: ModelFamily | str) -> tuple[IpAdapterFiles, ...]:
        key = family.value if isinstance(family, ModelFamily) else family
        key = "sd1" if key == "sd2" else key
        return tuple(a for a in self.available if a.family in (key, None))

    @property
    def summary(self) -> str:
        """One line for the tab's status: found adapters, or that photos use image-to-image."""
        if not self.available:
            return ("No IP-Adapter found: photos are used through image-to-image (works without downloads).")
        names = ", ".join(a.name + (" (FaceID: non-commercial)" if a.face_id else "") for a in self.available)
        return f"IP-Adapter found: {names}."

    def to_dict(self) -> dict[str, Any]:
        return {"available": [{"name": a.name, "path": str(a.path), "family": a.family, "face_id": a.face_id,
                               "image_encoder": str(a.image_encoder) if a.image_encoder else None}
                              for a in self.available],
                "incomplete": list(self.incomplete), "downloads": list(self.downloads)}


def _adapter_family(name: str) -> str | None:
    lower = name.lower()
    if "sdxl" in lower:
        return "sdxl"
    if "sd15" in lower or "sd1" in lower:
        return "sd1"
    return None


def _image_encoder_for(weights: Path) -> Path | None:
    """The image encoder folder (with config.json) next to the weights, or where h94/IP-Adapter keeps
    it: ``models/image_encoder`` (ViT-H, SD 1.5 and SDXL "vit-h") or ``sdxl_models/image_encoder``."""
    lower = weights.name.lower()
    root = weights.parent.parent
    candidates = [weights.parent / "image_encoder"]
    if "sdxl" in lower and "vit-h" not in lower:
        candidates.append(root / "sdxl_models" / "image_encoder")
    else:
        candidates.append(root / "models" / "image_encoder")
    for candidate in candidates:
        if (candidate / "config.json").is_file():
            return candidate
    return None


def _adapter_files(folder: Path, depth: int = 4) -> Iterable[Path]:
    if not folder.is_dir():
        return
    pending = [(folder, 0)]
    while pending:
        current, level = pending.pop()
        try:
            entries = sorted(current.iterdir())
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir() and level < depth and not entry.name.startswith("."):
                pending.append((entry, level + 1))
            elif entry.is_file() and entry.name.lower().startswith("ip-adapter") \
                    and entry.suffix.lower() in (".safetensors", ".bin"):
                yield entry


def find_ip_adapters(folders: Iterable[Path], models_dir: Path | None = None) -> AdapterReport:
    """Look for IP-Adapter weights (``ip-adapter*.safetensors`` / ``.bin``) and their image
    encoders in ``folders``; say what is missing and what could be downloaded (into ``models_dir``,
    by default the first folder)."""
    folders = [Path(f) for f in folders]
    target = Path(models_dir) if models_dir is not None else (folders[0] if folders else Path("models"))
    available: list[IpAdapterFiles] = []
    incomplete: list[str] = []
    seen: set[Path] = set()
    for folder in folders:
        for path in _adapter_files(folder):
            resolved = path.resolve()
            if resolved in seen:
                continue
            seen.add(resolved)
            encoder = _image_encoder_for(path)
            face_id = "faceid" in path.name.lower()
            if encoder is None and not face_id:
                incomplete.append(f"{path}: no image encoder found; put the image_encoder folder of "
                                  f"h94/IP-Adapter (models/image_encoder) next to its folder")
                continue
            available.append(IpAdapterFiles(path, encoder, _adapter_family(path.name), face_id))
    have = {a.name for a in available}
    downloads = tuple(
        f"{k.weight_name} ({k.note}) from huggingface.co/{k.repo}"
        f"{'/' + k.subfolder if k.subfolder else ''} into {target / k.folder_name / k.subfolder}"
        + ("" if k.face_id else f", with {k.repo}'s models/image_encoder folder into "
           f"{target / k.folder_name / 'models' / 'image_encoder'}")
        for k in KNOWN_ADAPTERS if k.weight_name not in have)
    return AdapterReport(tuple(available), tuple(incomplete), downloads)


def find_adapter(report: AdapterReport, name: str) -> IpAdapterFiles:
    """The available adapter called ``name`` (its file name, with or without the extension)."""
    for adapter in report.available:
        if name in (adapter.name, adapter.path.stem):
            return adapter
    names = ", ".join(a.name for a in report.available)
    raise NotFound(f"There is no usable IP-Adapter “{name}”.",
                   hint=(f"Adapters found: {names}." if names else "No IP-Adapter was found in the models folders.")
                   + " See `studio avatars adapters` for what is installed and what to download.")


def check_adapter_licence(adapter: IpAdapterFiles, acknowledged: bool) -> None:
    """Refuse a FaceID-type adapter until the user has acknowledged InsightFace's licence."""
    if adapter.face_id and not acknowledged:
        raise InputError(f"{adapter.name} uses InsightFace face models, licensed for non-commercial research only.",
                         hint="Acknowledge the licence (the Avatars tab's check box, or --accept-noncommercial-licence) "
                              "to use it; " + FACE_ID_NOTICE.split(": ", 1)[1])
