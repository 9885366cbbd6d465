"""ERC-721 token metadata in the OpenSea convention, validated and serialised canonically.

Canonical JSON (RFC 8785, the JSON Canonicalization Scheme: sorted keys, no whitespace, UTF-8,
numbers as ECMAScript writes them) means the same work always gives the same bytes, hence the
same CID and the same on-chain commitment, and a verifier in any language can recompute them.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import urlsplit

from studio.canonical import jcs
from studio.errors import InputError
from studio.storage.cid import Cid, cid_v1_raw_of

DISPLAY_TYPES = ("number", "boost_number", "boost_percentage", "date")
_URI_SCHEMES = ("ipfs", "https", "data", "ar")
#: The largest metadata document read from outside (the studio writes at most 256 KiB).
MAX_READ_BYTES = 1024 * 1024
_HEX_COLOUR = re.compile(r"[0-9A-Fa-f]{6}")


@dataclass(frozen=True)
class Attribute:
    """One trait: ``trait_type``/``value``, and a ``display_type`` for numbers and dates."""

    trait_type: str | None
    value: str | int | float
    display_type: str | None = None
    max_value: int | float | None = None

    def __post_init__(self) -> None:
        if self.trait_type is not None and not isinstance(self.trait_type, str):
            raise InputError(f"A trait name (trait_type) must be text, not {type(self.trait_type).__name__}.")
        number = isinstance(self.value, (int, float)) and not isinstance(self.value, bool)
        if not number and not isinstance(self.value, str):
            raise InputError(f"Trait {self.trait_type!r} has a value of type {type(self.value).__name__}; "
                             "use text or a number.")
        if isinstance(self.value, (int, float)) and number and not _finite(self.value):
            raise InputError(f"Trait {self.trait_type!r} must be a finite number.")
        if self.max_value is not None and (isinstance(self.max_value, bool) or
                                           not isinstance(self.max_value, (int, float)) or
                                           not _finite(self.max_value)):
            raise InputError(f"Trait {self.trait_type!r}: max_value must be a finite number.")
        if self.display_type is not None:
            if self.display_type not in DISPLAY_TYPES:
                raise InputError(f"Unknown display_type {self.display_type!r} for trait {self.trait_type!r}.",
                                 hint=f"Use one of: {', '.join(DISPLAY_TYPES)}.")
            if not number:
                raise InputError(f"Trait {self.trait_type!r} has display_type {self.display_type!r} "
                                 "but a text value; that display needs a number.")
            if self.display_type == "date" and (not isinstance(self.value, int) or self.value < 0):
                raise InputError(f"Trait {self.trait_type!r} is a date: give a Unix timestamp in seconds.")
        if self.max_value is not None and (not number or not isinstance(self.value, (int, float))
                                           or self.value > self.max_value):
            raise InputError(f"Trait {self.trait_type!r}: max_value needs a number value not above it.")
        if self.trait_type is not None and not self.trait_type.strip():
            raise InputError("A trait needs a name (trait_type), or none at all for a plain tag.")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": self.value}
        if self.trait_type is not None:
            out["trait_type"] = self.trait_type
        if self.display_type is not None:
            out["display_type"] = self.display_type
        if self.max_value is not None:
            out["max_value"] = self.max_value
        return out


def _finite(number: int | float) -> bool:
    try:
        return math.isfinite(number)
    except OverflowError:  # an int too large for a float
        return False


def _scheme(uri: str) -> str:
    try:
        return urlsplit(uri).scheme
    except ValueError:  # "https://[::1" and the like
        return ""


def _check_uri(label: str, uri: str | None, *, required: bool = False) -> None:
    if uri is None:
        if required:
            raise InputError(f"Token metadata needs an {label}.")
        return
    scheme = _scheme(uri)
    if scheme not in _URI_SCHEMES:
        raise InputError(f"The {label} {uri[:60]!r} is not an ipfs://, https:// or data: URI.",
                         hint="Upload the file first and use its ipfs:// URI.")
    if scheme == "ipfs":
        Cid.parse(uri[len("ipfs://"):].split("/", 1)[0])


@dataclass(frozen=True)
class NftMetadata:
    """The JSON a token's ``tokenURI`` points at."""

    name: str
    description: str = ""
    image: str | None = None
    animation_url: str | None = None
    external_url: str | None = None
    attributes: tuple[Attribute, ...] = ()
    background_color: str | None = None
    provenance: Mapping[str, Any] | None = None  # filled by the provenance issue's manifest summary
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for key in ("name", "description", "image", "animation_url", "external_url", "background_color"):
            value = getattr(self, key)
            if value is not None and not isinstance(value, str):
                raise InputError(f"Token metadata field {key!r} must be text, not {type(value).__name__}.")
        if self.name is None or not self.name.strip():
            raise InputError("Token metadata needs a name.")
        _check_uri("image", self.image, required=True)
        _check_uri("animation_url", self.animation_url)
        if self.external_url is not None and _scheme(self.external_url) not in ("https", "ipfs"):
            raise InputError(f"external_url {self.external_url[:60]!r} must be an https:// or ipfs:// link.")
        if self.background_color is not None and not _HEX_COLOUR.fullmatch(self.background_color):
            raise InputError(f"background_color {self.background_color!r} must be six hex digits without '#', "
                             "e.g. 1A2B3C.")
        object.__setattr__(self, "attributes", tuple(
            a if isinstance(a, Attribute) else Attribute(**a) for a in self.attributes))
        clash = set(self.extra) & {"name", "description", "image", "animation_url", "external_url",
                                   "attributes", "background_color", "provenance"}
        if clash:
            raise InputError(f"Extra metadata fields {sorted(clash)} clash with standard ones.")
        if self.provenance is not None:
            self._check_json("provenance", self.provenance)
        self._check_json("extra", self.extra)

    @staticmethod
    def _check_json(label: str, value: object) -> None:
        try:
            jcs(value)
        except InputError as exc:
            raise InputError(f"The {label} object cannot be written as JSON: {exc.message}",
                             hint=exc.hint) from exc

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "description": self.description, "image": self.image}
        for key in ("animation_url", "external_url", "background_color"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.attributes:
            out["attributes"] = [a.to_json() for a in self.attributes]
        if self.provenance is not None:
            out["provenance"] = dict(self.provenance)
        out.update(self.extra)
        return out

    def to_bytes(self) -> bytes:
        """Canonical serialisation, RFC 8785 (JCS): sorted keys, no whitespace, UTF-8 (attribute order is kept)."""
        return canonical_json(self.to_json())

    @property
    def cid(self) -> str:
        """CIDv1 (raw) of :meth:`to_bytes`, what ``ipfs add --cid-version=1`` gives for it."""
        data = self.to_bytes()
        if len(data) > 256 * 1024:
            raise InputError("Token metadata over 256 KiB; keep media out of the JSON.")
        return cid_v1_raw_of(data)

    @classmethod
    def from_json(cls, data: bytes | str | Mapping[str, Any]) -> "NftMetadata":
        """Read (and validate) metadata JSON, e.g. fetched from a token's URI."""
        if not isinstance(data, Mapping):
            from studio import safejson

            data = safejson.loads(data, what="Token metadata", max_bytes=MAX_READ_BYTES)
            if not isinstance(data, Mapping):
                raise InputError("Token metadata must be a JSON object.")
        known = {"name", "description", "image", "animation_url", "external_url", "background_color", "provenance"}
        fields = {k: v for k, v in data.items() if k in known}
        attributes = data.get("attributes", [])
        if not isinstance(attributes, list) or not all(isinstance(a, Mapping) for a in attributes):
            raise InputError("Token metadata attributes must be a list of objects.")
        attrs = tuple(Attribute(trait_type=a.get("trait_type"), value=a.get("value"),
                                display_type=a.get("display_type"), max_value=a.get("max_value"))
                      for a in attributes)
        extra = {k: v for k, v in data.items() if k not in known and k != "attributes"}
        try:
            return cls(attributes=attrs, extra=extra, **fields)
        except TypeError as exc:
            raise InputError(f"Token metadata has a field of the wrong type: {exc}.") from exc


def canonical_json(value: object) -> bytes:
    """RFC 8785 (JCS) bytes: one byte string per value, the same from any JCS library."""
    return jcs(value)
