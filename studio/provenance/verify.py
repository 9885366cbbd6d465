"""Checking an image file's provenance: one `Verdict` per file, never an exception.

What is checked: the studio manifest parses; its pixel hash matches the decoded pixels (for a
lossy JPEG export, through its export record); the creator's EIP-712 signature recovers to
the creator the manifest names (recovery is passed in as ``recover``, since Ethereum libraries
live in ``chain/``); and the C2PA manifest validates and carries the same studio manifest.
Files from other tools are recognised (A1111, ComfyUI, InvokeAI) and reported as carrying
no provenance, with their recipe.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from studio.errors import InputError
from studio.provenance.embed import Embedded, decode_image, read_embedded
from studio.provenance.foreign import ForeignMetadata, read_foreign
from studio.provenance.manifest import Manifest, SignedManifest, pixel_hash, typed_data

VERDICTS = ("verified", "no-provenance", "tampered", "invalid-signature", "unreadable")
SOURCES = ("studio", "c2pa", "a1111", "comfyui", "invokeai", "none")

#: ``recover(full_message, signature) -> address``; raises InputError for a malformed signature.
Recover = Callable[[dict[str, Any], str], str]

CHAIN_STATES = ("ok", "mismatch", "unreachable", "not-found")


@dataclass(frozen=True)
class ChainCheck:
    """What the chain says about one token minted from the file (filled in by a workflow: this
    package reads no chain). ``mismatch`` is evidence of tampering; ``unreachable`` (node or
    metadata out of reach) and ``not-found`` (no such token, e.g. a reset devnet) are notes."""

    network: str                       # the network's key, or "chain <id>" when none is configured
    chain_id: int | None
    collection: str
    token_id: int
    state: str                         # one of CHAIN_STATES
    owner: str | None = None
    token_uri: str | None = None
    metadata_cid: str | None = None    # the CID of the metadata that was checked
    commitment_ok: bool | None = None  # the metadata's bytes are what the contract committed to
    image_ok: bool | None = None       # the metadata's image is this file
    provenance_ok: bool | None = None  # the metadata's provenance is this file's manifest
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"network": self.network, "chain_id": self.chain_id, "collection": self.collection,
                "token_id": self.token_id, "state": self.state, "owner": self.owner, "token_uri": self.token_uri,
                "metadata_cid": self.metadata_cid, "commitment_ok": self.commitment_ok, "image_ok": self.image_ok,
                "provenance_ok": self.provenance_ok, "problems": list(self.problems), "notes": list(self.notes)}


@dataclass(frozen=True)
class Verdict:
    """What verifying one file found, in plain values (the CLI prints it, the GUI shows it)."""

    path: str
    verdict: str
    source: str = "none"
    signature_valid: bool | None = None   # None: not signed, or not checked
    signer: str | None = None             # the address the signature recovers to
    pixel_hash_ok: bool | None = None     # None: no manifest to compare with
    c2pa: str = "absent"                  # valid, trusted, invalid, absent, unavailable
    manifest: Manifest | None = None
    signature: str | None = None
    foreign: ForeignMetadata | None = None
    format: str | None = None
    problems: tuple[str, ...] = ()         # what makes the file fail
    notes: tuple[str, ...] = field(default=())  # worth knowing, but not a failure
    chain: tuple[ChainCheck, ...] = ()     # one per token minted from the file, when checked

    @property
    def ok(self) -> bool:
        return self.verdict == "verified"

    def to_json(self) -> dict[str, Any]:
        """One JSON object per file, as ``studio verify --json`` prints it."""
        return {
            "path": self.path, "verdict": self.verdict, "source": self.source, "format": self.format,
            "signature_valid": self.signature_valid, "signer": self.signer,
            "pixel_hash_ok": self.pixel_hash_ok, "c2pa": self.c2pa,
            "manifest": self.manifest.to_dict() if self.manifest else None, "signature": self.signature,
            "foreign": self.foreign.to_dict() if self.foreign else None,
            "problems": list(self.problems), "notes": list(self.notes),
            "chain": [check.to_json() for check in self.chain],
        }


def verify_file(path: Path, *, recover: Recover | None = None, c2pa_trust: Any = None) -> Verdict:
    """Verify the image at ``path``; a missing, unreadable or hostile file gets a verdict too."""
    path = Path(path)
    if not path.is_file():
        return Verdict(str(path), "unreadable", problems=(f"{path} does not exist or is not a file.",))
    try:
        data = path.read_bytes()
    except OSError as exc:
        return Verdict(str(path), "unreadable", problems=(f"{path.name} could not be read ({exc.strerror or exc}).",))
    return verify_bytes(data, name=str(path), recover=recover, c2pa_trust=c2pa_trust)


def verify_bytes(data: bytes, *, name: str = "the file", recover: Recover | None = None,
                 c2pa_trust: Any = None) -> Verdict:
    """Verify an image given as bytes (``name`` is used in messages and as the verdict's path)."""
    try:
        embedded = read_embedded(data, name=Path(name).name)
        image = decode_image(data, Path(name).name)
    except InputError as exc:
        return Verdict(name, "unreadable", problems=(str(exc),))
    notes = list(embedded.problems)
    problems: list[str] = []
    c2pa_state, c2pa_manifest = _check_c2pa(data, embedded, c2pa_trust, problems, notes)

    if embedded.provenance_json is None:
        foreign = read_foreign(embedded.text) if embedded.text else None
        if c2pa_state in ("valid", "trusted", "invalid"):
            verdict = "tampered" if problems else "verified"
            return Verdict(name, verdict, source="c2pa", c2pa=c2pa_state, foreign=foreign,
                           format=embedded.format, problems=tuple(problems), notes=tuple(notes))
        return Verdict(name, "no-provenance", source=foreign.source if foreign else "none", c2pa=c2pa_state,
                       foreign=foreign, format=embedded.format, problems=tuple(problems), notes=tuple(notes))

    try:
        signed = SignedManifest.from_json(embedded.provenance_json)
    except InputError as exc:
        problems.append(f"The studio manifest is damaged: {exc}")
        return Verdict(name, "tampered", source="studio", c2pa=c2pa_state, format=embedded.format,
                       problems=tuple(problems), notes=tuple(notes))
    manifest = signed.manifest

    pixels_ok = _check_pixels(image, manifest, embedded, problems, notes)
    signature_valid, signer = _check_signature(signed, recover, problems, notes)
    if c2pa_manifest is not None and c2pa_manifest != signed.to_dict():
        problems.append("The C2PA manifest carries a different studio manifest than the file's own.")
    if embedded.xmp is not None and embedded.xmp.creator and manifest.creator \
            and embedded.xmp.creator.lower() != manifest.creator.lower():
        notes.append(f"The XMP names {embedded.xmp.creator[:42]} as creator, the manifest {manifest.creator}.")

    if signature_valid is False:
        verdict = "invalid-signature"
    elif problems:
        verdict = "tampered"
    else:
        verdict = "verified"
    return Verdict(name, verdict, source="studio", signature_valid=signature_valid, signer=signer,
                   pixel_hash_ok=pixels_ok, c2pa=c2pa_state, manifest=manifest, signature=signed.signature,
                   format=embedded.format, problems=tuple(problems), notes=tuple(notes))


def _check_pixels(image: Any, manifest: Manifest, embedded: Embedded, problems: list[str],
                  notes: list[str]) -> bool:
    actual = pixel_hash(image)
    if actual == manifest.pixel_hash:
        return True
    export = embedded.export
    if export is not None and export.source_pixel_hash == manifest.pixel_hash and export.pixel_hash == actual:
        notes.append(f"This is a lossy {export.format.upper()} export: its pixels match the export record, "
                     "which ties them to the signed original; the signature covers the original's pixels.")
        return True
    if (image.width, image.height) != (manifest.width, manifest.height):
        problems.append(f"The image is {image.width}x{image.height} but the manifest describes "
                        f"{manifest.width}x{manifest.height}: the manifest belongs to another image.")
    else:
        problems.append("The pixels do not match the manifest's pixel hash: the image was changed "
                        "after it was saved, or the manifest belongs to another image.")
    return False


def _check_signature(signed: SignedManifest, recover: Recover | None, problems: list[str],
                     notes: list[str]) -> tuple[bool | None, str | None]:
    manifest = signed.manifest
    if signed.signature is None:
        notes.append("The manifest is not signed: it says how the image was made, not by whom.")
        return None, None
    if recover is None:
        notes.append("The signature was not checked (no signature checker was given).")
        return None, None
    try:
        signer = recover(typed_data(manifest), signed.signature)
    except InputError as exc:
        problems.append(f"The signature is invalid: {exc}")
        return False, None
    if manifest.creator is None or signer.lower() != manifest.creator.lower():
        problems.append(f"The signature was made by {signer}, but the manifest names "
                        f"{manifest.creator} as its creator.")
        return False, signer
    return True, signer


def _check_c2pa(data: bytes, embedded: Embedded, trust: Any, problems: list[str],
                notes: list[str]) -> tuple[str, dict[str, Any] | None]:
    """The C2PA state of the file and the studio manifest its assertion carries, if any."""
    try:
        from studio.provenance import c2pa
    except ImportError:
        return "unavailable", None
    if not c2pa.c2pa_available() or embedded.mime is None:
        return "unavailable", None
    if not embedded.may_hold_c2pa:
        return "absent", None
    try:
        report = c2pa.read_c2pa(data, embedded.mime, trust=trust)
    except InputError as exc:
        problems.append(f"The C2PA manifest could not be read: {exc}")
        return "invalid", None
    if not report.present:
        return "absent", None
    if report.state == "invalid":
        problems.append("The C2PA manifest does not validate: " + ("; ".join(report.errors) or "no reason given"))
    elif report.errors:
        notes.extend(f"C2PA: {error}" for error in report.errors)
    return report.state, report.studio_manifest
