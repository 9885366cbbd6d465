"""Checking an image file's provenance: one `Verdict` per file, never an exception.

What is checked: every studio manifest the file carries (PNG chunks, XMP packets, the C2PA
assertion) parses and they are all the same one; its pixel hash matches the decoded pixels (for
a lossy export, through an export record that only this install's C2PA signature can vouch
for); the creator's EIP-712 signature recovers to the creator the manifest names (recovery is
passed in as ``recover``, since Ethereum libraries live in ``chain/``); and the C2PA manifest
validates. A creator is shown as proven only by a valid signature; a C2PA signature is proof
of origin only when this install trusts its chain. Files from other tools are recognised
(A1111, ComfyUI, InvokeAI) and reported as carrying no provenance, with their recipe.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from studio.errors import InputError
from studio.provenance.embed import MAX_FILE_BYTES, Embedded, decode_image, read_embedded
from studio.provenance.foreign import ForeignMetadata, RecipeSummary, read_foreign
from studio.provenance.manifest import SCHEMA_V1, Manifest, SignedManifest, typed_data
from studio.provenance.pixels import canonical_samples, pixel_hash_v1, pixel_hash_v2
from studio.provenance.png_text import PNG_SIGNATURE

#: ``verified``: a manifest signed by the creator it names, for these pixels, agreeing everywhere
#: in the file (or an unsigned one that names no creator); ``unproven``: intact, but nothing proves
#: who made it (a creator named without a signature, an untrusted C2PA signer alone, a lossy
#: export without this install's C2PA); see docs/provenance.md.
VERDICTS = ("verified", "unproven", "no-provenance", "tampered", "invalid-signature", "unreadable")
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
    c2pa_signer: str | None = None         # who signed the C2PA claim, as its certificate says (not proof)

    @property
    def ok(self) -> bool:
        return self.verdict == "verified"

    @property
    def creator(self) -> str | None:
        """The creator proven by a valid signature; None when nothing proves one."""
        return self.signer if self.signature_valid else None

    @property
    def claimed_creator(self) -> str | None:
        """The creator the manifest names, proven or not."""
        return self.manifest.creator if self.manifest is not None else None

    @property
    def recipe(self) -> RecipeSummary | None:
        """The studio manifest's recipe, else another tool's; None when the file carries neither."""
        if self.manifest is not None:
            return RecipeSummary.of_manifest(self.manifest)
        return self.foreign

    def to_json(self) -> dict[str, Any]:
        """One JSON object per file, as ``studio verify --json`` prints it.

        In ``manifest``, ``creator`` is the proven creator (null unless the signature is valid) and
        ``claimed_creator`` what the manifest names; ``manifest_sha256`` is the SHA-256 (hex) of the
        manifest's canonical form, what its signature commits to."""
        manifest: dict[str, Any] | None = None
        if self.manifest is not None:
            manifest = self.manifest.to_dict()
            manifest["creator"] = self.creator
            manifest["claimed_creator"] = self.claimed_creator
        return {
            "path": self.path, "verdict": self.verdict, "source": self.source, "format": self.format,
            "manifest_sha256": self.manifest.manifest_hash if self.manifest is not None else None,
            "signature_valid": self.signature_valid, "signer": self.signer,
            "pixel_hash_ok": self.pixel_hash_ok, "c2pa": self.c2pa, "c2pa_signer": self.c2pa_signer,
            "manifest": manifest, "signature": self.signature,
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
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)  # never more than the limit, whatever the file claims
    except OSError as exc:
        return Verdict(str(path), "unreadable", problems=(f"{path.name} could not be read ({exc.strerror or exc}).",))
    return verify_bytes(data, name=str(path), recover=recover, c2pa_trust=c2pa_trust)


def verify_bytes(data: bytes, *, name: str = "the file", recover: Recover | None = None,
                 c2pa_trust: Any = None) -> Verdict:
    """Verify an image given as bytes (``name`` is used in messages and as the verdict's path).

    Every studio manifest the file carries (PNG chunks, XMP packets, the C2PA assertion) is
    read; they must all be the same, and that one manifest must describe these pixels and carry
    its creator's signature. See docs/provenance.md for the verdict rules.
    """
    try:
        embedded = read_embedded(data, name=Path(name).name)
        image = decode_image(data, Path(name).name)
        # the samples every conforming decoder gets (docs/provenance-spec.md): a PNG one of them
        # refuses (a damaged image chunk, a palette index out of range) is unreadable here too
        samples = canonical_samples(data, image, Path(name).name) if data.startswith(PNG_SIGNATURE) else None
    except InputError as exc:
        return Verdict(name, "unreadable", problems=(str(exc),))
    notes = list(embedded.problems)
    problems: list[str] = []
    unproven: list[str] = []   # why nothing proves who made it (the verdict is then "unproven")
    c2pa_state, c2pa_report = _check_c2pa(data, embedded, c2pa_trust, problems, notes)
    c2pa_signer = c2pa_report.signed_by if c2pa_report is not None else None
    if c2pa_state == "valid":
        notes.append(f"The C2PA manifest is signed by {c2pa_signer or 'a certificate'}, which this studio does "
                     "not trust: it shows the file is intact since then, not who made it.")

    found = _read_manifests(embedded, c2pa_report, problems)

    def outcome(verdict: str, source: str, **fields: Any) -> Verdict:
        return Verdict(name, verdict, source=source, c2pa=c2pa_state, c2pa_signer=c2pa_signer, format=embedded.format,
                       problems=tuple(problems + unproven), notes=tuple(notes), **fields)

    if not found:  # another tool's recipe, if any, is shown only for files without a studio manifest
        foreign = read_foreign(embedded.text) if embedded.text else None
        if problems:  # damaged or unreadable manifests, or an invalid C2PA manifest
            return outcome("tampered", "studio" if embedded.manifests or embedded.unreadable else "c2pa",
                           foreign=foreign)
        if c2pa_state == "trusted":
            notes.append("The C2PA manifest was signed by this studio, but the file carries no studio manifest.")
            return outcome("verified", "c2pa", foreign=foreign)
        if c2pa_state == "valid":
            unproven.append("The file carries no studio manifest, and its C2PA manifest is signed by a certificate "
                            "this studio does not trust (anyone can make one): nothing proves who made it.")
            return outcome("unproven", "c2pa", foreign=foreign)
        return outcome("no-provenance", foreign.source if foreign else "none", foreign=foreign)

    where, signed = found[0]
    manifest = signed.manifest
    different = [other_where for other_where, other in found[1:] if other.to_dict() != signed.to_dict()]
    if different:
        problems.append(f"The file carries different studio manifests: {where} and {different[0]} disagree, "
                        "and other apps may show either one.")
    pixels_ok = _check_pixels(samples, image, manifest, embedded, c2pa_state, problems, notes, unproven)
    signature_valid, signer = _check_signature(signed, recover, problems, notes, unproven)
    if embedded.xmp is not None and embedded.xmp.creator and manifest.creator \
            and embedded.xmp.creator.lower() != manifest.creator.lower():
        notes.append(f"The XMP names {embedded.xmp.creator[:42]} as creator, the manifest {manifest.creator}.")

    if signature_valid is False:
        verdict = "invalid-signature"
    elif problems:
        verdict = "tampered"
    elif unproven:
        verdict = "unproven"
    else:
        verdict = "verified"
    return outcome(verdict, "c2pa" if where.endswith(C2PA_WHERE.removeprefix("the ")) else "studio",
                   signature_valid=signature_valid, signer=signer, pixel_hash_ok=pixels_ok, manifest=manifest,
                   signature=signed.signature)


C2PA_WHERE = "the C2PA assertion org.provenance-studio.manifest"  # c2pa.STUDIO_ASSERTION_LABEL


def _read_manifests(embedded: Embedded, c2pa_report: Any,
                    problems: list[str]) -> list[tuple[str, SignedManifest]]:
    """Every studio manifest in the file, parsed, with where it was; damaged ones become problems."""
    found: list[tuple[str, SignedManifest]] = []
    for item in embedded.manifests:
        try:
            found.append((item.where, SignedManifest.from_json(item.text)))
        except InputError as exc:
            problems.append(f"The studio manifest in {item.where} is damaged: {exc}")
    for index, value in enumerate(c2pa_report.studio_assertions if c2pa_report is not None else ()):
        where = C2PA_WHERE if index == 0 else f"a repeated {C2PA_WHERE.removeprefix('the ')}"
        try:
            found.append((where, SignedManifest.from_dict(value)))
        except InputError as exc:
            problems.append(f"The studio manifest in {where} is damaged: {exc}")
    problems += [f"The file holds {where}: a manifest there cannot be checked." for where in embedded.unreadable]
    return found


def _check_pixels(samples: tuple[int, int, str, bytes] | None, image: Any, manifest: Manifest,
                  embedded: Embedded, c2pa_state: str, problems: list[str], notes: list[str],
                  unproven: list[str]) -> bool:
    if manifest.schema == SCHEMA_V1:
        actual = pixel_hash_v1(image)
    else:
        try:
            actual = pixel_hash_v2(*(samples or canonical_samples(b"", image)))
        except InputError as exc:  # a JPEG or WebP in a form without RGBA samples
            problems.append(f"The pixels cannot be hashed: {exc}")
            return False
    if actual == manifest.pixel_hash:
        return True
    export = embedded.export
    if export is not None and export.source_pixel_hash == manifest.pixel_hash and export.pixel_hash == actual:
        kind = export.format.upper()
        if c2pa_state == "trusted":
            # this install's C2PA signature binds the export record to these bytes, and the studio
            # exports only works whose pixels match their manifest
            notes.append(f"This is a lossy {kind} export made by this studio (its C2PA signature vouches for the "
                         "export record); the creator's signature covers the original's pixels.")
            return True
        unproven.append(f"This is a lossy {kind} export: the creator signed the original's pixels, not these, and "
                        "only an unsigned export record ties them together (anyone can write one). Compare it "
                        "with the original, or ask for the original PNG.")
        return False
    if (image.width, image.height) != (manifest.width, manifest.height):
        problems.append(f"The image is {image.width}x{image.height} but the manifest describes "
                        f"{manifest.width}x{manifest.height}: the manifest belongs to another image.")
    else:
        problems.append("The pixels do not match the manifest's pixel hash: the image was changed "
                        "after it was saved, or the manifest belongs to another image.")
    return False


def _check_signature(signed: SignedManifest, recover: Recover | None, problems: list[str], notes: list[str],
                     unproven: list[str]) -> tuple[bool | None, str | None]:
    manifest = signed.manifest
    if signed.signature is None:
        if manifest.creator is not None:
            unproven.append(f"The manifest names {manifest.creator} as its creator but carries no signature: that "
                            "is a claim, not proof (the studio never writes a creator without a signature).")
        else:
            notes.append("The manifest is not signed: it says how the image was made, not by whom.")
        return None, None
    if recover is None:
        unproven.append("The signature was not checked (no signature checker was given), so the creator the "
                        "manifest names is not proven.")
        return None, None
    try:
        _check_signature_form(signed.signature)
        signer = recover(typed_data(manifest), signed.signature)
    except InputError as exc:
        problems.append(f"The signature is invalid: {exc}")
        return False, None
    if manifest.creator is None or signer.lower() != manifest.creator.lower():
        problems.append(f"The signature was made by {signer}, but the manifest names "
                        f"{manifest.creator} as its creator.")
        return False, signer
    return True, signer


#: the order of secp256k1's group: r and s of a signature lie in 1..n-1
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def _check_signature_form(signature: str) -> None:
    """The spec's form of a signature (docs/provenance-spec.md): r and s from 1 to n-1, v 27 or 28
    (0 and 1 read as 27 and 28). Ethereum libraries accept more (EIP-155 v values); a verifier
    following the spec does not, so neither does this one."""
    raw = bytes.fromhex(signature[2:])
    r, s, v = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big"), raw[64]
    if v not in (0, 1, 27, 28):
        raise InputError(f"its v byte is {v}, not 27 or 28.")
    if not (0 < r < SECP256K1_N and 0 < s < SECP256K1_N):
        raise InputError("its r or s is outside 1..n-1, so no key made it.")


def _check_c2pa(data: bytes, embedded: Embedded, trust: Any, problems: list[str],
                notes: list[str]) -> tuple[str, Any]:
    """The C2PA state of the file and its report (None when there is none to read)."""
    try:
        from studio.provenance import c2pa
    except ImportError:
        return "unavailable", None
    if not c2pa.c2pa_available() or embedded.mime is None:
        if embedded.mime is not None and embedded.may_hold_c2pa and b"c2pa" in data:
            notes.append("The file may carry a C2PA manifest, which could not be checked here (the c2pa "
                         "library is not available).")
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
    return report.state, report
