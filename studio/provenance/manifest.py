"""The provenance manifest: what made an image, by whom, and which pixels it describes.

A `Manifest` is plain data with a versioned schema, written out in docs/provenance-spec.md.
New works are ``studio.provenance/2``: its canonical JSON is RFC 8785 (JCS), the bytes any JCS
library gives, and its pixel hash is ``studio.pixels/2`` (`studio.provenance.pixels`), which any
PNG decoder can recompute. ``studio.provenance/1`` manifests (Python's sorted ``json.dumps`` and
Pillow's view of the pixels) are still read and verified. `typed_data` wraps the canonical hash
in an EIP-712 message that any Ethereum wallet can sign and anyone can check offline (the
domain has no chainId). Signing and recovering happen elsewhere: a workflow passes the message
to a wallet `Signer` and the signature to ``studio.chain.signatures``.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping

from studio import safejson
from studio.canonical import MAX_SAFE_INTEGER, jcs, python_sorted_json
from studio.errors import InputError
from studio.provenance.pixels import file_pixel_hash, image_pixel_hash, pixel_hash_v1

SCHEMA_V1 = "studio.provenance/1"
SCHEMA_V2 = "studio.provenance/2"
#: what new works are made with
SCHEMA = SCHEMA_V2
#: every schema this studio reads and verifies
SCHEMAS = (SCHEMA_V1, SCHEMA_V2)
PIPELINES = ("txt2img", "img2img", "inpaint", "avatar", "upscale")
DOMAIN = {"name": "Provenance Studio", "version": "1"}
PRIMARY_TYPE = "StudioProvenance"
TYPES = {
    "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"}],
    PRIMARY_TYPE: [
        {"name": "schema", "type": "string"},
        {"name": "manifestHash", "type": "bytes32"},
        {"name": "pixelHash", "type": "bytes32"},
        {"name": "creator", "type": "address"},
    ],
}
ZERO_ADDRESS = "0x" + "0" * 40

_SHA256 = re.compile(r"[0-9a-f]{64}")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_SIGNATURE = re.compile(r"0x[0-9a-fA-F]{130}")
MAX_TEXT = 16_384  # prompts and names longer than this are not a recipe but an attack on readers
MAX_SETTINGS_BYTES = 64 * 1024  # the canonical JSON of the settings object


@dataclass(frozen=True)
class WeightsRef:
    """A file of weights the image depends on (a LoRA or an adapter): its name, SHA-256 and weight."""

    name: str
    sha256: str
    weight: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "sha256": self.sha256, "weight": self.weight}


@dataclass(frozen=True)
class ParentRef:
    """An input image (``init``, ``mask``, ``reference`` ...) named by the SHA-256 of its PNG encoding."""

    role: str
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role, "sha256": self.sha256}


@dataclass(frozen=True)
class InpaintRef:
    """How an inpainted image used its mask: edge blur in pixels, ``"whole"`` picture or only the
    ``"masked"`` area grown by ``padding`` pixels (the pixels depend on these, so they are recorded)."""

    mask_blur: int
    area: str
    padding: int

    def to_dict(self) -> dict[str, Any]:
        return {"mask_blur": self.mask_blur, "area": self.area, "padding": self.padding}


INPAINT_AREAS = ("whole", "masked")


@dataclass(frozen=True)
class Manifest:
    """Everything that decides an image, plus who made it and a hash of its pixels."""

    generator_name: str
    generator_version: str
    model_name: str
    model_sha256: str
    model_family: str
    pipeline: str
    prompt: str
    negative_prompt: str
    seed: int
    steps: int
    guidance: float
    scheduler: str
    width: int
    height: int
    pixel_hash: str
    created: str
    strength: float | None = None
    loras: tuple[WeightsRef, ...] = ()
    adapters: tuple[WeightsRef, ...] = ()
    parents: tuple[ParentRef, ...] = ()
    device: str = ""
    dtype: str = ""
    creator: str | None = None
    schema: str = field(default=SCHEMA)
    #: Generation settings beyond the fields above (sigma schedule, clip skip, VAE, hires fix, control
    #: units, variation seed ...), only those that differ from their defaults; absent when empty, so a
    #: manifest without them reads and hashes as it always did.
    settings: Mapping[str, Any] = field(default_factory=dict)
    inpaint: InpaintRef | None = None   # inpainting only; absent from the JSON otherwise

    def __post_init__(self) -> None:
        if self.schema not in SCHEMAS:
            raise InputError(f"The manifest schema {str(self.schema)[:40]!r} is not one this studio reads.",
                             hint=f"This version reads {', '.join(SCHEMAS)}; a newer studio may read it.")
        for name in ("generator_name", "generator_version", "model_name", "model_family", "pipeline",
                     "prompt", "negative_prompt", "scheduler", "created", "device", "dtype"):
            _check_text(name, getattr(self, name))
        if self.pipeline not in PIPELINES:
            raise InputError(f"The manifest names an unknown pipeline {self.pipeline[:40]!r}.",
                             hint=f"Known pipelines: {', '.join(PIPELINES)}.")
        for name in ("model_sha256", "pixel_hash"):
            if not isinstance(getattr(self, name), str) or not _SHA256.fullmatch(getattr(self, name)):
                raise InputError(f"The manifest's {name} is not a SHA-256 in lowercase hex.")
        for name in ("seed", "steps", "width", "height"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InputError(f"The manifest's {name} must be a whole number of at least 0.")
            if value > MAX_SAFE_INTEGER and self.schema != SCHEMA_V1:
                raise InputError(f"The manifest's {name} is {value}; a {self.schema} manifest holds whole numbers "
                                 f"up to {MAX_SAFE_INTEGER} (2^53 - 1), which every JSON reader keeps exactly.")
        object.__setattr__(self, "guidance", _number("guidance", self.guidance))
        if self.strength is not None:
            object.__setattr__(self, "strength", _number("strength", self.strength))
        if self.creator is not None and (not isinstance(self.creator, str) or not _ADDRESS.fullmatch(self.creator)):
            raise InputError("The manifest's creator is not an Ethereum address (0x and 40 hex digits).")
        _parse_created(self.created)
        object.__setattr__(self, "loras", tuple(_weights(item, "LoRA") for item in self.loras))
        object.__setattr__(self, "adapters", tuple(_weights(item, "adapter") for item in self.adapters))
        object.__setattr__(self, "parents", tuple(_parent(item) for item in self.parents))
        object.__setattr__(self, "settings", _settings(self.settings))
        if self.settings and self.schema == SCHEMA_V1:
            raise InputError("The manifest's settings member belongs to studio.provenance/2.")
        if self.inpaint is not None:
            if self.pipeline != "inpaint":
                raise InputError("The manifest records inpaint options for a work that was not inpainted.")
            object.__setattr__(self, "inpaint", _inpaint(self.inpaint))

    # -- JSON --------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The manifest as the JSON object of the schema (nested generator and model)."""
        return {
            "schema": self.schema,
            "generator": {"name": self.generator_name, "version": self.generator_version},
            "model": {"name": self.model_name, "sha256": self.model_sha256, "family": self.model_family},
            "loras": [item.to_dict() for item in self.loras],
            "adapters": [item.to_dict() for item in self.adapters],
            "pipeline": self.pipeline,
            "prompt": self.prompt,
            "negative_prompt": self.negative_prompt,
            "seed": self.seed,
            "steps": self.steps,
            "guidance": self.guidance,
            "scheduler": self.scheduler,
            "width": self.width,
            "height": self.height,
            "strength": self.strength,
            "parents": [item.to_dict() for item in self.parents],
            "device": self.device,
            "dtype": self.dtype,
            "created": self.created,
            "pixel_hash": self.pixel_hash,
            "creator": self.creator,
            **({"settings": dict(self.settings)} if self.settings else {}),
        } | ({"inpaint": self.inpaint.to_dict()} if self.inpaint is not None else {})

    def canonical_json(self) -> bytes:
        """The bytes that are hashed and signed: RFC 8785 (JCS) for ``studio.provenance/2``,
        Python's sorted compact ``json.dumps`` for ``studio.provenance/1``."""
        if self.schema == SCHEMA_V1:
            return python_sorted_json(self.to_dict())
        return jcs(self.to_dict())

    @property
    def manifest_hash(self) -> str:
        """SHA-256 (hex) of the canonical JSON: what the EIP-712 signature commits to."""
        return hashlib.sha256(self.canonical_json()).hexdigest()

    @classmethod
    def from_dict(cls, data: Any) -> "Manifest":
        """Validate a parsed manifest object; unknown or missing fields are an InputError."""
        if not isinstance(data, Mapping):
            raise InputError("The provenance manifest is not a JSON object.")
        expected = {"schema", "generator", "model", "loras", "adapters", "pipeline", "prompt",
                    "negative_prompt", "seed", "steps", "guidance", "scheduler", "width", "height",
                    "strength", "parents", "device", "dtype", "created", "pixel_hash", "creator"}
        if data.get("schema") not in SCHEMAS:
            raise InputError(f"The manifest schema {str(data.get('schema'))[:40]!r} is not one this studio reads.",
                             hint=f"This version reads {', '.join(SCHEMAS)}; a newer studio may read it.")
        missing, extra = expected - set(data), set(data) - expected - {"settings", "inpaint"}
        if missing or extra:
            parts = ([f"missing {', '.join(sorted(missing))}"] if missing else []) + \
                    ([f"unexpected {', '.join(sorted(map(str, extra)))[:200]}"] if extra else [])
            raise InputError(f"The provenance manifest does not follow {data['schema']}: {'; '.join(parts)}.")
        if "settings" in data and isinstance(data["settings"], Mapping) and not data["settings"]:
            # The studio leaves settings out when there are none; an empty object would not hash the same.
            raise InputError("The manifest's settings member is present but empty; it is left out when there are none.")
        generator, model = data["generator"], data["model"]
        if not isinstance(generator, Mapping) or set(generator) != {"name", "version"}:
            raise InputError("The manifest's generator must be an object with name and version.")
        if not isinstance(model, Mapping) or set(model) != {"name", "sha256", "family"}:
            raise InputError("The manifest's model must be an object with name, sha256 and family.")
        for name in ("loras", "adapters", "parents"):
            if not isinstance(data[name], list):
                raise InputError(f"The manifest's {name} must be a list.")
        try:
            return cls(
                schema=data["schema"], generator_name=generator["name"], generator_version=generator["version"],
                model_name=model["name"], model_sha256=model["sha256"], model_family=model["family"],
                loras=tuple(data["loras"]), adapters=tuple(data["adapters"]), pipeline=data["pipeline"],
                prompt=data["prompt"], negative_prompt=data["negative_prompt"], seed=data["seed"],
                steps=data["steps"], guidance=data["guidance"], scheduler=data["scheduler"],
                width=data["width"], height=data["height"], strength=data["strength"],
                parents=tuple(data["parents"]), device=data["device"], dtype=data["dtype"],
                created=data["created"], pixel_hash=data["pixel_hash"], creator=data["creator"],
                settings=data.get("settings", {}), inpaint=data.get("inpaint"),
            )
        except TypeError as exc:  # a field of the wrong kind that slipped past the checks
            raise InputError(f"The provenance manifest has a field of the wrong kind ({exc}).") from exc

    @classmethod
    def from_json(cls, text: str | bytes) -> "Manifest":
        return cls.from_dict(_loads(text, "provenance manifest"))


@dataclass(frozen=True)
class SignedManifest:
    """A manifest and the creator's EIP-712 signature over it (``0x`` + 130 hex digits), if signed."""

    manifest: Manifest
    signature: str | None = None

    def __post_init__(self) -> None:
        if self.signature is not None and (not isinstance(self.signature, str)
                                           or not _SIGNATURE.fullmatch(self.signature)):
            raise InputError("The manifest's signature is not 65 bytes of hex (0x and 130 digits).")
        if self.signature is not None and self.manifest.creator is None:
            raise InputError("The manifest is signed but names no creator.")

    def to_dict(self) -> dict[str, Any]:
        return {"manifest": self.manifest.to_dict(), "signature": self.signature}

    def to_json(self) -> str:
        """The signed manifest as files carry it, in its schema's canonical form (readers parse it
        and hash the manifest's canonical form again; they never hash these bytes)."""
        serialise = python_sorted_json if self.manifest.schema == SCHEMA_V1 else jcs
        return serialise(self.to_dict()).decode("utf-8")

    @classmethod
    def from_dict(cls, data: Any) -> "SignedManifest":
        if not isinstance(data, Mapping) or set(data) != {"manifest", "signature"}:
            raise InputError("The signed manifest must be an object with manifest and signature.")
        return cls(Manifest.from_dict(data["manifest"]), data["signature"])

    @classmethod
    def from_json(cls, text: str | bytes) -> "SignedManifest":
        return cls.from_dict(_loads(text, "signed manifest"))


def typed_data(manifest: Manifest) -> dict[str, Any]:
    """The EIP-712 full message a creator signs for ``manifest``.

    ``manifestHash`` is the SHA-256 of the canonical manifest JSON (not keccak, so that
    checking it needs no Ethereum library); ``pixelHash`` and ``creator`` repeat the
    manifest's so that a wallet shows what is being signed. No chainId: it verifies offline.
    """
    if manifest.creator is None:
        raise InputError("Only a manifest that names its creator can be signed.",
                         hint="Unlock a wallet account to sign what you make.")
    return {
        "types": {name: [dict(item) for item in fields] for name, fields in TYPES.items()},
        "primaryType": PRIMARY_TYPE,
        "domain": dict(DOMAIN),
        "message": {
            "schema": manifest.schema,
            "manifestHash": "0x" + manifest.manifest_hash,
            "pixelHash": "0x" + manifest.pixel_hash,
            "creator": manifest.creator,
        },
    }


def pixel_hash(image: Any, schema: str = SCHEMA) -> str:
    """The pixel hash of an image in memory, as a manifest of ``schema`` records it.

    Metadata edits (text chunks, XMP, re-compression without loss) keep it; changing any
    pixel changes it. For a file's bytes use `studio.provenance.pixels.file_pixel_hash`.
    """
    return pixel_hash_v1(image) if schema == SCHEMA_V1 else image_pixel_hash(image)


def file_pixel_hash_for(schema: str, data: bytes, image: Any, name: str = "the file") -> str:
    """The pixel hash a manifest of ``schema`` gives the file ``data`` (``image``: its decoding)."""
    return pixel_hash_v1(image) if schema == SCHEMA_V1 else file_pixel_hash(data, image, name)


def utc_now() -> str:
    """The current time as the manifest writes it: UTC, ISO 8601, whole seconds, ``Z``."""
    return datetime.now(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- validation helpers ------------------------------------------------------------------

def _loads(text: str | bytes, what: str) -> Any:
    try:
        return safejson.loads(text, what=f"The {what}")
    except InputError as exc:
        raise InputError(str(exc)[:200], hint="The file's metadata may be damaged or edited by hand.") from exc


def _check_text(name: str, value: Any) -> None:
    if not isinstance(value, str):
        raise InputError(f"The manifest's {name} must be text.")
    if len(value) > MAX_TEXT:
        raise InputError(f"The manifest's {name} is {len(value):,} characters; at most {MAX_TEXT:,} are allowed.")


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"The manifest's {name} must be a finite number.")
    return float(value)


_CREATED = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")


def _parse_created(text: str) -> None:
    try:
        if not _CREATED.fullmatch(text):  # strptime alone takes one-digit fields and spaces
            raise ValueError(text)
        datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError as exc:
        raise InputError(f"The manifest's creation time {text[:40]!r} is not UTC ISO 8601 "
                         "(YYYY-MM-DDTHH:MM:SSZ).") from exc


def _weights(item: Any, what: str) -> WeightsRef:
    if isinstance(item, WeightsRef):
        value = item
    elif isinstance(item, Mapping) and set(item) == {"name", "sha256", "weight"}:
        value = WeightsRef(item["name"], item["sha256"], item["weight"])
    else:
        raise InputError(f"A {what} in the manifest must be an object with name, sha256 and weight.")
    _check_text(f"{what} name", value.name)
    if not isinstance(value.sha256, str) or not _SHA256.fullmatch(value.sha256):
        raise InputError(f"The {what} {value.name[:40]!r} in the manifest has no valid SHA-256.")
    return WeightsRef(value.name, value.sha256, _number(f"{what} weight", value.weight))


def _settings(value: Any) -> dict[str, Any]:
    """The settings object: JSON (text, finite numbers, booleans, null, lists, objects), at most 64 KiB."""
    if not isinstance(value, Mapping):
        raise InputError("The manifest's settings must be a JSON object.")

    def check(item: Any, depth: int) -> None:
        if depth > 8:
            raise InputError("The manifest's settings are nested too deeply.")
        if isinstance(item, Mapping):
            for key, inner in item.items():
                if not isinstance(key, str):
                    raise InputError("The manifest's settings have a key that is not text.")
                check(inner, depth + 1)
        elif isinstance(item, (list, tuple)):
            for inner in item:
                check(inner, depth + 1)
        elif isinstance(item, float) and not math.isfinite(item):
            raise InputError("The manifest's settings hold a number that is not finite.")
        elif item is not None and not isinstance(item, (str, int, float, bool)):
            raise InputError("The manifest's settings hold something that is not JSON.")

    check(value, 0)
    data = json.loads(json.dumps(value))  # a plain copy: tuples become lists, as they read back
    try:
        size = len(jcs(data))
    except InputError as exc:
        raise InputError(f"The manifest's settings cannot be written as canonical JSON ({exc}).") from exc
    if size > MAX_SETTINGS_BYTES:
        raise InputError(f"The manifest's settings are larger than {MAX_SETTINGS_BYTES // 1024} KiB.")
    return data


def _inpaint(item: Any) -> InpaintRef:
    if isinstance(item, InpaintRef):
        value = item
    elif isinstance(item, Mapping) and set(item) == {"mask_blur", "area", "padding"}:
        value = InpaintRef(item["mask_blur"], item["area"], item["padding"])
    else:
        raise InputError("The manifest's inpaint options must be an object with mask_blur, area and padding.")
    for name in ("mask_blur", "padding"):
        number = getattr(value, name)
        if not isinstance(number, int) or isinstance(number, bool) or not 0 <= number <= 4096:
            raise InputError(f"The manifest's inpaint {name} must be a whole number of pixels.")
    if value.area not in INPAINT_AREAS:
        raise InputError(f"The manifest's inpaint area {str(value.area)[:40]!r} is not one of "
                         f"{', '.join(INPAINT_AREAS)}.")
    return value


def _parent(item: Any) -> ParentRef:
    if isinstance(item, ParentRef):
        value = item
    elif isinstance(item, Mapping) and set(item) == {"role", "sha256"}:
        value = ParentRef(item["role"], item["sha256"])
    else:
        raise InputError("A parent image in the manifest must be an object with role and sha256.")
    _check_text("parent role", value.role)
    if not value.role or not isinstance(value.sha256, str) or not _SHA256.fullmatch(value.sha256):
        raise InputError("A parent image in the manifest needs a role and a valid SHA-256.")
    return value
