"""C2PA Content Credentials: a signed, standard record that the studio made an image with AI.

C2PA cannot sign with the wallet's secp256k1 key, so each install creates its own small X.509
chain (a root, an intermediate and an ES256 signing certificate) and signs with that. The chain
identifies the *install*; the *artist* is identified by the wallet signature that travels inside
the studio manifest, which is embedded here as the assertion :data:`STUDIO_ASSERTION_LABEL`.

Readers trust the chain only when given its root as a trust anchor: without it a good file reads
as ``valid``, with it as ``trusted``. Signing is offline (no timestamp authority), so a file's
C2PA signature lasts as long as the signing certificate (20 years, see :data:`SIGNER_YEARS`).

In a PNG the manifest is a ``caBX`` chunk bound to every other byte: write text chunks and XMP
first, sign last. ``c2pa`` and ``cryptography`` are imported inside functions (start-up speed).
"""
from __future__ import annotations

import datetime as dt
import functools
import io
import json
import logging
import os
import re
import secrets
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator

from studio import safejson
from studio.errors import InputError, StorageError, StudioError
from studio.fileio import atomic_write_bytes
from studio.paths import studio_paths

#: The largest JSON the C2PA reader may give for one file's manifest store.
_MAX_STORE_JSON = 64 * 1024 * 1024

log = logging.getLogger(__name__)

#: Label of the custom assertion that carries the studio manifest (reverse-domain, per C2PA).
STUDIO_ASSERTION_LABEL = "org.provenance-studio.manifest"
#: The claim generator's name; the version is ``studio.__version__``.
CLAIM_GENERATOR_NAME = "Provenance Studio"
#: IPTC digital source type recorded in the ``c2pa.created`` action.
TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
#: The formats the studio signs (its exports).
SUPPORTED_MIME_TYPES = ("image/png", "image/jpeg", "image/webp")

#: OID of c2pa-kp-claimSigning, the EKU the C2PA specification defines for claim signers.
C2PA_CLAIM_SIGNING_EKU = "1.3.6.1.4.1.62558.2.1"
ROOT_YEARS = 30
INTERMEDIATE_YEARS = 25
#: Without a timestamp authority a signature is checked against the certificate's dates *today*:
#: once the signing certificate expires, other readers call files signed with it invalid; so, long.
SIGNER_YEARS = 20
#: The signing certificate is renewed (same root, new key) when less than this is left.
RENEW_BEFORE = dt.timedelta(days=365)

TRUST_ANCHOR_FILE = "trust-anchor.pem"
SIGNER_FILE = "signer.pem"
INTERMEDIATE_KEY_FILE = "intermediate.key"

#: Failure codes that say "not trusted" or "expired", not "changed": they never make a report
#: ``invalid``. ``untrusted`` is left out of ``errors`` (the state says it); ``expired`` is kept.
_NOT_TAMPER_CODES = frozenset({"signingCredential.untrusted", "signingCredential.expired"})
_MIME_ALIASES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "image/jpg": "image/jpeg",
                 "image/pjpeg": "image/jpeg", "webp": "image/webp", "image/x-webp": "image/webp"}
#: Reading never goes to the network (no remote manifests, no OCSP).
_OFFLINE_VERIFY = {"remote_manifest_fetch": False, "ocsp_fetch": False}
#: No thumbnail: the image is its own preview, and a thumbnail of a 1024x1024 work adds hundreds
#: of kilobytes and most of the signing time.
_SIGN_SETTINGS = {"builder": {"thumbnail": {"enabled": False}}, "verify": _OFFLINE_VERIFY}
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n.*?-----END \1-----\r?\n?", re.DOTALL)


@dataclass(frozen=True)
class C2paReport:
    """What a file's C2PA manifest says, and whether it holds.

    ``state``: ``absent`` (no manifest), ``invalid`` (the image or the claim changed after
    signing, or the manifest is unreadable), ``valid`` (intact, signer not trusted by this
    reader) or ``trusted`` (intact, and the chain leads to the trust anchor given).
    ``errors``: c2pa validation codes with explanations, ``"code: explanation"``; never
    ``signingCredential.untrusted`` (the state says it), and a ``valid`` report may list
    ``signingCredential.expired`` (an old certificate, not a changed image).
    ``digital_source_type`` is the IPTC URI of the ``c2pa.created`` action.
    """

    present: bool
    state: str
    studio_manifest: dict | None = None
    generator: str | None = None
    digital_source_type: str | None = None
    errors: list[str] = field(default_factory=list)
    #: Who signed the claim, as the certificate says (e.g. "Provenance Studio install 1a2b3c4d").
    signed_by: str | None = None
    #: Every value of the studio assertion in the active manifest, repeated instances (``label__1``)
    #: and values that are not mappings included: a verifier checks them all.
    studio_assertions: tuple[Any, ...] = ()


class C2paCredentials:
    """This install's C2PA signing identity: a root CA, an intermediate and an ES256 signer.

    The keys are stored unencrypted, in files only the owner may read (0o600): the chain
    identifies the install, not the artist (the artist signs with the wallet, inside the studio
    manifest), and the studio must sign every save without asking for a password. The root's
    key is discarded once the intermediate is issued; the intermediate's key is kept to renew
    the signing certificate. Share :attr:`trust_anchor_pem` (``trust-anchor.pem``) with anyone
    who should see this install's files as trusted.
    """

    def __init__(self, directory: Path, trust_anchor_pem: bytes, cert_chain_pem: bytes,
                 signer_key_pem: bytes, signer_not_after: dt.datetime, fingerprint: str) -> None:
        self._directory = directory
        self._trust_anchor_pem = trust_anchor_pem
        self._cert_chain_pem = cert_chain_pem
        self._signer_key_pem = signer_key_pem
        self._signer_not_after = signer_not_after
        self._fingerprint = fingerprint

    def __repr__(self) -> str:
        return f"C2paCredentials(directory={str(self._directory)!r}, root={self._fingerprint[:23]}…)"

    @classmethod
    def load_or_create(cls, directory: Path | None = None) -> "C2paCredentials":
        """The install's chain from ``directory`` (default ``<data>/provenance/c2pa``), made on first use.

        A signing certificate close to expiry is renewed under the same root. Files that are
        missing or do not form a chain are moved to ``replaced-<time>/`` and a new chain is made.
        Raises :class:`StorageError` when the folder cannot be written.
        """
        folder = Path(directory) if directory is not None else default_credentials_dir()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"Could not create the C2PA certificate folder {folder}: {exc.strerror or exc}.",
                               hint="Check that you may write there.") from exc
        with _folder_lock(folder):
            return _load_or_create_locked(folder)

    @property
    def directory(self) -> Path:
        return self._directory

    @property
    def trust_anchor_path(self) -> Path:
        """The root certificate's file: what a reader needs in order to trust this install."""
        return self._directory / TRUST_ANCHOR_FILE

    @property
    def trust_anchor_pem(self) -> bytes:
        """The root certificate (PEM), the trust anchor for files this install signs."""
        return self._trust_anchor_pem

    @property
    def cert_chain_pem(self) -> bytes:
        """The signing certificate followed by the intermediate (PEM), as C2PA embeds them."""
        return self._cert_chain_pem

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the root certificate, colon-separated hex, for people comparing roots."""
        return self._fingerprint

    @property
    def signer_not_after(self) -> dt.datetime:
        """When the signing certificate expires (UTC)."""
        return self._signer_not_after


def default_credentials_dir() -> Path:
    """Where this studio keeps its C2PA chain: ``<data_dir>/provenance/c2pa``."""
    return studio_paths().data_dir / "provenance" / "c2pa"


@functools.cache
def c2pa_available() -> bool:
    """Whether c2pa-python and its native library load here; callers skip C2PA (and say so) when not."""
    try:
        _c2pa()
    except StudioError as exc:
        log.warning("%s", exc)
        return False
    return True


def sign_c2pa(data: bytes, mime: str, studio_manifest: dict, *, credentials: C2paCredentials,
              title: str | None = None) -> bytes:
    """``data`` with a signed C2PA manifest embedded: the created-by-AI action and the studio manifest.

    The claim generator is "Provenance Studio/<version>"; the ``c2pa.created`` action carries the
    digital source type trainedAlgorithmicMedia; ``studio_manifest`` (JSON-compatible) is the
    assertion :data:`STUDIO_ASSERTION_LABEL`. A manifest already in ``data`` is replaced. Nothing
    goes over the network. Raises :class:`InputError` for an unsupported type or unreadable image.
    """
    from studio import __version__

    mime = _signable_mime(mime)
    payload = _json_compatible(studio_manifest)
    c2pa = _c2pa()
    definition: dict[str, Any] = {
        "claim_generator_info": [{"name": CLAIM_GENERATOR_NAME, "version": __version__}],
        # Stored as a JSON assertion (not CBOR): the manifest the wallet signed comes back exactly
        # as written; c2pa's CBOR path turns lists of small numbers into byte strings.
        "assertions": [{"label": STUDIO_ASSERTION_LABEL, "data": payload, "kind": "Json"}],
    }
    if title:
        definition["title"] = title
    try:
        signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(
            c2pa.C2paSigningAlg.ES256, credentials.cert_chain_pem, credentials._signer_key_pem, None))
    except c2pa.C2paError as exc:
        raise StudioError(f"The studio's C2PA signing certificate could not be used: {_c2pa_message(exc)}.",
                          hint=f"Move the folder {credentials.directory} away; the studio then makes a "
                               "new certificate (files signed before keep the old root).") from exc
    context = None
    signed = io.BytesIO()
    try:
        context = c2pa.Context.from_dict(_SIGN_SETTINGS)
        builder = c2pa.Builder(definition, context=context)
        builder.set_intent(c2pa.C2paBuilderIntent.CREATE, c2pa.C2paDigitalSourceType.TRAINED_ALGORITHMIC_MEDIA)
        builder.sign(signer, mime, io.BytesIO(bytes(data)), signed)
    except c2pa.C2paError.Signature as exc:
        raise StudioError(f"The studio's C2PA signing certificate could not sign: {_c2pa_message(exc)}.",
                          hint="Restart the studio to load a renewed certificate; if that does not help, move "
                               f"the folder {credentials.directory} away to make a new one.") from exc
    except c2pa.C2paError as exc:
        kind = mime.split("/")[1].upper()
        raise InputError(f"Could not add Content Credentials (C2PA) to this {kind} image: {_c2pa_message(exc)}.",
                         hint=f"Check that the file is a complete {kind} image.") from exc
    finally:
        signer.close()
        if context is not None:
            context.close()
    return signed.getvalue()


def read_c2pa(data: bytes, mime: str, *, trust: C2paCredentials | None = None) -> C2paReport:
    """Read and validate the C2PA manifest in ``data``; never raises on bad input.

    With ``trust``, a chain leading to its root reads as ``trusted``; without it, an intact file
    reads as ``valid``. The official C2PA trust list is not consulted (the studio works offline).
    A truncated or non-image file gives ``invalid`` when it holds C2PA data, else ``absent``, with
    the reason in ``errors``.
    """
    try:
        c2pa = _c2pa()
    except StudioError as exc:
        return C2paReport(present=False, state="absent", errors=[str(exc)])
    data = bytes(data)
    settings: dict[str, Any] = {"verify": dict(_OFFLINE_VERIFY)}
    if trust is None:
        settings["verify"]["verify_trust"] = False
    else:
        settings["trust"] = {"trust_anchors": trust.trust_anchor_pem.decode("ascii")}
    try:
        context = c2pa.Context.from_dict(settings)
    except c2pa.C2paError as exc:
        return C2paReport(present=False, state="absent",
                          errors=[f"The C2PA reader could not be set up: {_c2pa_message(exc)}"])
    try:
        reader = c2pa.Reader(_readable_mime(mime), io.BytesIO(data), context=context)
        try:
            store = safejson.loads(reader.json(), what="The C2PA manifest store", max_bytes=_MAX_STORE_JSON)
            studio_all = _studio_assertions(safejson.loads(reader.crjson(), what="The C2PA manifest store",
                                                           max_bytes=_MAX_STORE_JSON), store.get("active_manifest"))
            studio = studio_all[0] if studio_all and isinstance(studio_all[0], dict) else None
        finally:
            reader.close()
    except c2pa.C2paError.ManifestNotFound:
        return C2paReport(present=False, state="absent")
    except InputError as exc:  # the reader's JSON of a hostile store: too large or too deep
        return C2paReport(present=True, state="invalid", errors=[exc.message])
    except (c2pa.C2paError, ValueError) as exc:
        present = _holds_c2pa_data(data)
        return C2paReport(present=present, state="invalid" if present else "absent",
                          errors=[f"The file could not be read as {mime}: {_c2pa_message(exc)}"])
    finally:
        context.close()
    return replace(_report_from_store(store, studio, trusted_reader=trust is not None), studio_assertions=studio_all)


# --- reading -------------------------------------------------------------------------------------

def _studio_assertions(crjson: dict, active_label: Any) -> tuple[Any, ...]:
    """Every instance of the studio assertion in the active manifest, as stored (c2pa's crJSON: its plain
    JSON report re-encodes arrays); a repeated assertion is labelled ``<label>__<n>``."""
    repeated = re.compile(re.escape(STUDIO_ASSERTION_LABEL) + r"(__[0-9]+)?")
    for manifest in crjson.get("manifests") or []:
        if isinstance(manifest, dict) and manifest.get("label") == active_label:
            assertions = manifest.get("assertions") or {}
            if not isinstance(assertions, dict):
                return ()
            return tuple(value for label, value in assertions.items()
                         if isinstance(label, str) and repeated.fullmatch(label))
    return ()


def _report_from_store(store: dict, studio: dict | None, *, trusted_reader: bool) -> C2paReport:
    manifests = store.get("manifests") or {}
    active = manifests.get(store.get("active_manifest")) if isinstance(manifests, dict) else None
    if not isinstance(active, dict):
        return C2paReport(present=True, state="invalid", errors=["The manifest store has no active manifest."])
    failures = _failures(store)
    changed = [entry for entry in failures if entry[0] not in _NOT_TAMPER_CODES]
    missing_state: list[tuple[str, str]] = []
    validation_state = str(store.get("validation_state") or "").lower()
    if changed:
        state = "invalid"
    elif validation_state == "trusted" and trusted_reader:
        state = "trusted"
    elif validation_state in {"valid", "trusted", "invalid"}:
        state = "valid"
    else:
        state = "invalid"
        missing_state = [("validation.missing", "the C2PA reader gave no validation state")]
    errors = [f"{code}: {explanation}" if explanation else code
              for code, explanation in failures + missing_state if code != "signingCredential.untrusted"]
    assertions = [a for a in active.get("assertions") or [] if isinstance(a, dict)]
    found_signature = active.get("signature_info")
    signature: dict[str, Any] = found_signature if isinstance(found_signature, dict) else {}
    signer_name = signature.get("common_name") or signature.get("issuer")
    return C2paReport(present=True, state=state,
                      studio_manifest=studio,
                      generator=_generator(active), digital_source_type=_created_source_type(assertions),
                      errors=errors, signed_by=str(signer_name) if signer_name else None)


def _failures(store: dict) -> list[tuple[str, str]]:
    """Every failure code of the active manifest and its ingredients, as (code, explanation)."""
    results = store.get("validation_results")
    entries: list[Any] = []
    if isinstance(results, dict):
        entries += (results.get("activeManifest") or {}).get("failure") or []
        for delta in results.get("ingredientDeltas") or []:
            entries += ((delta or {}).get("validationDeltas") or {}).get("failure") or []
    else:
        entries += store.get("validation_status") or []
    found = [(str(e.get("code", "")), str(e.get("explanation", ""))) for e in entries if isinstance(e, dict)]
    return _unique(found)


def _unique(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return list(dict.fromkeys(items))


def _generator(active: dict) -> str | None:
    info = active.get("claim_generator_info")
    if isinstance(info, list) and info and isinstance(info[0], dict) and info[0].get("name"):
        name, version = info[0]["name"], info[0].get("version")
        return f"{name}/{version}" if version else str(name)
    generator = active.get("claim_generator")
    return str(generator) if generator else None


def _created_source_type(assertions: list[dict]) -> str | None:
    """The digital source type of the ``c2pa.created`` action (assertion data comes from the file: check shapes)."""
    for assertion in assertions:
        data = assertion.get("data")
        if not str(assertion.get("label", "")).startswith("c2pa.actions") or not isinstance(data, dict):
            continue
        actions = data.get("actions")
        for action in actions if isinstance(actions, list) else []:
            if isinstance(action, dict) and action.get("action") == "c2pa.created":
                source = action.get("digitalSourceType")
                return source if isinstance(source, str) else None
    return None


def _holds_c2pa_data(data: bytes) -> bool:
    """Whether the bytes carry a C2PA JUMBF store (a ``jumd`` box labelled ``c2pa``) or a PNG ``caBX``."""
    return b"caBX" in data or (b"jumd" in data and b"c2pa" in data)


# --- signing helpers -----------------------------------------------------------------------------

def _signable_mime(mime: str) -> str:
    normal = _readable_mime(mime)
    if normal not in SUPPORTED_MIME_TYPES:
        raise InputError(f"The studio cannot add Content Credentials to “{mime}” files.",
                         hint="Export as PNG, JPEG or WebP.")
    return normal


def _readable_mime(mime: str) -> str:
    normal = (mime or "").strip().lower()
    return _MIME_ALIASES.get(normal, normal)


def _json_compatible(manifest: dict) -> dict:
    """A JSON copy of ``manifest`` that c2pa stores exactly; raises :class:`InputError` if there is none."""
    if not isinstance(manifest, dict):
        raise InputError("The studio manifest must be a mapping to go into a C2PA assertion.")
    try:
        copy = json.loads(json.dumps(manifest, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise InputError(f"The studio manifest cannot be written as JSON: {exc}.",
                         hint="Use strings, numbers, booleans, lists and mappings only.") from exc
    _check_integers(copy)
    return copy


def _check_integers(value: Any) -> None:
    """c2pa keeps integers to 64 bits and turns larger ones into floats: refuse them instead."""
    if isinstance(value, dict):
        for item in value.values():
            _check_integers(item)
    elif isinstance(value, list):
        for item in value:
            _check_integers(item)
    elif isinstance(value, int) and not isinstance(value, bool) and not -2 ** 63 <= value < 2 ** 64:
        raise InputError(f"The studio manifest holds the number {value}, too large for a C2PA assertion.",
                         hint="Write large numbers (such as wei amounts) as strings.")


def _c2pa_message(exc: BaseException) -> str:
    return str(exc).strip().rstrip(".") or type(exc).__name__


@functools.cache
def _c2pa_or_reason() -> tuple[Any, str | None]:
    try:
        import c2pa
    except Exception as exc:  # ImportError, OSError (native library), or the library's own check
        return None, f"{type(exc).__name__}: {exc}"
    if not all(hasattr(c2pa, name) for name in ("Builder", "Reader", "Signer", "Context", "C2paError")):
        return None, f"the module found at {getattr(c2pa, '__file__', '?')} is not c2pa-python 0.38"
    return c2pa, None


def _c2pa() -> Any:
    module, reason = _c2pa_or_reason()
    if module is None:
        raise StudioError(f"C2PA support is not available: the c2pa library did not load ({reason}).",
                          hint="Reinstall Provenance Studio; until then files are saved without Content Credentials.")
    return module


# --- the per-install chain -----------------------------------------------------------------------

@contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """Two studios (the window and the command line) must not both create a chain at once.

    Uses ``flock`` where the OS has it; elsewhere (Windows) runs unlocked, where the only race
    is two processes creating the very first chain in the same instant.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    try:
        handle = open(folder / ".lock", "a+b")
    except OSError as exc:
        raise StorageError(f"Could not open {folder / '.lock'}: {exc.strerror or exc}.",
                           hint="Check that you may write to the folder.") from exc
    with handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


class _BrokenChain(Exception):
    """The stored files do not form a usable chain (the message says why)."""


def _load_or_create_locked(folder: Path) -> C2paCredentials:
    stored = [folder / name for name in (TRUST_ANCHOR_FILE, SIGNER_FILE, INTERMEDIATE_KEY_FILE)]
    if not stored[0].exists():
        if any(path.exists() for path in stored):
            _move_aside(folder, stored, "the trust anchor is missing")
        return _create_chain(folder)
    try:
        root, intermediate, signer_cert, intermediate_key, signer_key = _read_chain(folder)
    except _BrokenChain as exc:
        _move_aside(folder, stored, str(exc))
        return _create_chain(folder)
    now = dt.datetime.now(dt.timezone.utc)
    if intermediate.not_valid_after_utc - now < RENEW_BEFORE:
        _move_aside(folder, stored, "the intermediate certificate is about to expire")
        return _create_chain(folder)
    if signer_cert.not_valid_after_utc - now < RENEW_BEFORE:
        log.info("Renewing the C2PA signing certificate in %s (it expires %s).", folder,
                 signer_cert.not_valid_after_utc.date())
        signer_key, signer_cert = _issue_signer(intermediate, intermediate_key, _install_id(root))
        _write_signer(folder, signer_key, signer_cert, intermediate)
    return _credentials(folder, root, intermediate, signer_cert, signer_key)


def _read_chain(folder: Path) -> tuple[Any, Any, Any, Any, Any]:
    """Parse the three files and check that they chain; raises :class:`_BrokenChain`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        root_pem = (folder / TRUST_ANCHOR_FILE).read_bytes()
        signer_pem = (folder / SIGNER_FILE).read_bytes()
        intermediate_key_pem = (folder / INTERMEDIATE_KEY_FILE).read_bytes()
    except OSError as exc:
        raise _BrokenChain(f"a file could not be read ({exc.strerror or exc})") from exc
    try:
        root = x509.load_pem_x509_certificate(root_pem)
        keys = [m.group(0) for m in _PEM_BLOCK.finditer(signer_pem) if m.group(1).endswith(b"PRIVATE KEY")]
        certs = x509.load_pem_x509_certificates(signer_pem)
        if len(keys) != 1 or len(certs) != 2:
            raise _BrokenChain(f"{SIGNER_FILE} should hold one key and two certificates")
        signer_key = serialization.load_pem_private_key(keys[0], password=None)
        intermediate_key = serialization.load_pem_private_key(intermediate_key_pem, password=None)
        signer_cert, intermediate = certs
        signer_cert.verify_directly_issued_by(intermediate)
        intermediate.verify_directly_issued_by(root)
        root.verify_directly_issued_by(root)
    except _BrokenChain:
        raise
    except Exception as exc:  # cryptography raises ValueError, TypeError or InvalidSignature here
        raise _BrokenChain(f"the certificates or keys do not parse or do not chain ({type(exc).__name__}: {exc})") \
            from exc
    if _public_der(signer_key.public_key()) != _public_der(signer_cert.public_key()):
        raise _BrokenChain("the signing key does not match the signing certificate")
    if _public_der(intermediate_key.public_key()) != _public_der(intermediate.public_key()):
        raise _BrokenChain("the intermediate key does not match the intermediate certificate")
    return root, intermediate, signer_cert, intermediate_key, signer_key


def _move_aside(folder: Path, paths: list[Path], reason: str) -> None:
    """Keep unusable files (never delete key material) and say so in the log."""
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    target = folder / f"replaced-{stamp}"
    try:
        target.mkdir(parents=True, exist_ok=True)
        for path in paths:
            if path.exists():
                os.replace(path, target / path.name)
    except OSError as exc:
        raise StorageError(f"Could not move the unusable C2PA certificate files in {folder} aside: "
                           f"{exc.strerror or exc}.", hint="Check that you may write to the folder.") from exc
    log.warning("The C2PA certificate chain in %s was not usable (%s); kept it in %s and made a new one. "
                "Readers that trusted the old root will not trust files signed from now on.",
                folder, reason, target)


def _create_chain(folder: Path) -> C2paCredentials:
    """A new root, intermediate and signer; files written keys first, trust anchor last."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    install_id = secrets.token_hex(4)
    now = dt.datetime.now(dt.timezone.utc)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name(f"Provenance Studio install {install_id} root CA")
    root = (_base_builder(root_name, root_name, root_key.public_key(), root_key.public_key(), now,
                         _years_from(now, ROOT_YEARS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(_ca_key_usage(), critical=True)
            .sign(root_key, hashes.SHA256()))
    intermediate_key = ec.generate_private_key(ec.SECP256R1())
    intermediate = (_base_builder(_name(f"Provenance Studio install {install_id} intermediate CA"), root_name,
                                  intermediate_key.public_key(), root_key.public_key(), now,
                                  _years_from(now, INTERMEDIATE_YEARS))
                    .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                    .add_extension(_ca_key_usage(), critical=True)
                    .sign(root_key, hashes.SHA256()))
    del root_key  # never stored: the intermediate's key is enough to renew the signer
    signer_key, signer_cert = _issue_signer(intermediate, intermediate_key, install_id)
    atomic_write_bytes(folder / INTERMEDIATE_KEY_FILE, _private_pem(intermediate_key), mode=0o600)
    _write_signer(folder, signer_key, signer_cert, intermediate)
    atomic_write_bytes(folder / TRUST_ANCHOR_FILE, _cert_pem(root), mode=0o644)
    log.info("Created this install's C2PA certificate chain in %s.", folder)
    return _credentials(folder, root, intermediate, signer_cert, signer_key)


def _issue_signer(intermediate: Any, intermediate_key: Any, install_id: str) -> tuple[Any, Any]:
    """An ES256 end-entity certificate as C2PA wants it: digitalSignature, a claim-signing EKU, not a CA."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

    now = dt.datetime.now(dt.timezone.utc)
    not_after = min(_years_from(now, SIGNER_YEARS), intermediate.not_valid_after_utc)
    key = ec.generate_private_key(ec.SECP256R1())
    usage = x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                          encipher_only=False, decipher_only=False)
    eku = x509.ExtendedKeyUsage([ObjectIdentifier(C2PA_CLAIM_SIGNING_EKU), ExtendedKeyUsageOID.EMAIL_PROTECTION])
    cert = (_base_builder(_name(f"Provenance Studio install {install_id}"), intermediate.subject,
                          key.public_key(), intermediate_key.public_key(), now, not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(usage, critical=True)
            .add_extension(eku, critical=False)
            .sign(intermediate_key, hashes.SHA256()))
    return key, cert


def _years_from(now: dt.datetime, years: int) -> dt.datetime:
    return now + dt.timedelta(days=365 * years + years // 4)


def _base_builder(subject: Any, issuer: Any, public_key: Any, issuer_public_key: Any, now: dt.datetime,
                  not_after: dt.datetime) -> Any:
    from cryptography import x509

    return (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(issuer).public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))  # a clock a little behind still accepts it
            .not_valid_after(not_after)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public_key), critical=False))


def _ca_key_usage() -> Any:
    from cryptography import x509

    return x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                         encipher_only=False, decipher_only=False)


def _name(common_name: str) -> Any:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, CLAIM_GENERATOR_NAME),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _install_id(root: Any) -> str:
    """The install id from the root's common name ("… install <id> root CA"), or a fresh one."""
    from cryptography.x509.oid import NameOID

    names = root.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    match = re.search(r"install ([0-9a-f]+)", str(names[0].value)) if names else None
    return match.group(1) if match else secrets.token_hex(4)


def _write_signer(folder: Path, key: Any, cert: Any, intermediate: Any) -> None:
    atomic_write_bytes(folder / SIGNER_FILE, _private_pem(key) + _cert_pem(cert) + _cert_pem(intermediate),
                       mode=0o600)


def _credentials(folder: Path, root: Any, intermediate: Any, signer_cert: Any, signer_key: Any) -> C2paCredentials:
    from cryptography.hazmat.primitives import hashes

    fingerprint = root.fingerprint(hashes.SHA256()).hex(":").upper()
    return C2paCredentials(folder, _cert_pem(root), _cert_pem(signer_cert) + _cert_pem(intermediate),
                           _private_pem(signer_key), signer_cert.not_valid_after_utc, fingerprint)


def _cert_pem(cert: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return cert.public_bytes(serialization.Encoding.PEM)


def _private_pem(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _public_der(public_key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
