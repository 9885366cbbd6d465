"""C2PA Content Credentials: the per-install chain, signing PNG/JPEG/WebP, and reading back with c2pa-python.

Every check goes through the real c2pa native library and real files made with Pillow; tampering is
done on the signed bytes the way a person or a tool would (a flipped byte, a re-encoded pixel, a
chunk added after signing, another image's manifest pasted in).
"""
from __future__ import annotations

import datetime as dt
import io
import json
import os
import stat
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import pytest
from PIL import Image

from studio import __version__
from studio.errors import InputError, StudioError
from studio.provenance.c2pa import (
    C2PA_CLAIM_SIGNING_EKU,
    INTERMEDIATE_KEY_FILE,
    SIGNER_FILE,
    STUDIO_ASSERTION_LABEL,
    TRAINED_ALGORITHMIC_MEDIA,
    TRUST_ANCHOR_FILE,
    C2paCredentials,
    c2pa_available,
    default_credentials_dir,
    read_c2pa,
    sign_c2pa,
)

REPO = Path(__file__).resolve().parents[2]
MANIFEST = {
    "schema": "provenance-studio/manifest@1",
    "prompt": "a lighthouse at dusk, oil on canvas",
    "negative_prompt": "",
    "seed": 1234,
    "steps": 4,
    "guidance": 7.5,
    "size": [64, 64],
    "model": {"name": "demo", "sha256": "ab" * 32},
    "parents": [],
    "creator": "0x" + "12" * 20,
    "signature": "0x" + "cd" * 65,
    "title": "Phare — 灯台",
    "reproducible": True,
    "lora": None,
    "palette": [0, 1, 2, 255],
    "offsets": [-1, 300, 2 ** 63 - 1],
    "price_wei": str(10 ** 30),
}
FORMATS = [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")]


@pytest.fixture(scope="module")
def credentials(tmp_path_factory: pytest.TempPathFactory) -> C2paCredentials:
    return C2paCredentials.load_or_create(tmp_path_factory.mktemp("install") / "c2pa")


@pytest.fixture(scope="module")
def other_install(tmp_path_factory: pytest.TempPathFactory) -> C2paCredentials:
    return C2paCredentials.load_or_create(tmp_path_factory.mktemp("other-install") / "c2pa")


def picture(seed: int = 0) -> Image.Image:
    """A 64x64 image with detail in it (noise compresses into more than a few bytes, in every format)."""
    bands = [Image.effect_noise((64, 64), 60 + 10 * (seed + band)) for band in range(3)]
    return Image.merge("RGB", bands)


def encode(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def png_chunks(data: bytes) -> list[tuple[int, bytes, int]]:
    """(offset, type, data length) of each chunk of a PNG."""
    chunks, offset = [], 8
    while offset < len(data):
        (length,), kind = struct.unpack(">I", data[offset:offset + 4]), data[offset + 4:offset + 8]
        chunks.append((offset, kind, length))
        offset += 12 + length
    return chunks


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def flip_image_byte(data: bytes, fmt: str) -> bytes:
    """One bit changed in the middle of the compressed image data (IDAT, the JPEG scan, the VP8 chunk)."""
    if fmt == "PNG":
        offset, _, length = next(c for c in png_chunks(data) if c[1] == b"IDAT")
        index = offset + 8 + length // 2
    elif fmt == "JPEG":
        scan = data.rindex(b"\xff\xda")
        start = scan + 2 + struct.unpack(">H", data[scan + 2:scan + 4])[0]
        index = (start + len(data) - 2) // 2
        while data[index] in (0xFE, 0xFF) or data[index - 1] == 0xFF:  # never make or break a marker
            index += 1
    else:
        offset = 12
        while data[offset:offset + 4] not in (b"VP8 ", b"VP8L"):
            offset += 8 + struct.unpack("<I", data[offset + 4:offset + 8])[0] + 1 & ~1
        index = offset + 8 + struct.unpack("<I", data[offset + 4:offset + 8])[0] // 2
    changed = bytearray(data)
    changed[index] ^= 0x01
    return bytes(changed)


# --- the per-install chain ---------------------------------------------------------------------

def test_credentials_are_created_once_in_the_data_folder_and_reused(studio_home: Path) -> None:
    first = C2paCredentials.load_or_create()
    second = C2paCredentials.load_or_create()

    assert first.directory == default_credentials_dir() == studio_home.resolve() / "data" / "provenance" / "c2pa"
    assert second.cert_chain_pem == first.cert_chain_pem
    assert second.trust_anchor_pem == first.trust_anchor_pem
    assert second.fingerprint == first.fingerprint
    assert first.trust_anchor_path.read_bytes() == first.trust_anchor_pem
    for secret in (SIGNER_FILE, INTERMEDIATE_KEY_FILE):
        assert stat.S_IMODE((first.directory / secret).stat().st_mode) == 0o600
    assert not [p for p in first.directory.iterdir() if p.name.endswith(".tmp")]
    assert b"PRIVATE KEY" not in first.cert_chain_pem + first.trust_anchor_pem
    assert "PRIVATE" not in repr(first)


def test_studios_creating_the_chain_at_the_same_moment_agree_on_one(tmp_path: Path) -> None:
    folder = tmp_path / "c2pa"
    start = threading.Barrier(6)
    fingerprints: list[str] = []

    def open_studio() -> None:
        start.wait()
        fingerprints.append(C2paCredentials.load_or_create(folder).fingerprint)

    workers = [threading.Thread(target=open_studio) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert len(fingerprints) == 6 and set(fingerprints) == {C2paCredentials.load_or_create(folder).fingerprint}
    assert not [p for p in folder.iterdir() if p.name.startswith("replaced-")]


def test_signing_certificate_has_what_c2pa_requires(credentials: C2paCredentials) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    signer, intermediate = x509.load_pem_x509_certificates(credentials.cert_chain_pem)
    root = x509.load_pem_x509_certificate(credentials.trust_anchor_pem)
    signer.verify_directly_issued_by(intermediate)
    intermediate.verify_directly_issued_by(root)
    root.verify_directly_issued_by(root)

    assert isinstance(signer.public_key(), ec.EllipticCurvePublicKey)
    assert signer.public_key().curve.name == "secp256r1"
    assert signer.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    usage = signer.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.key_cert_sign
    ekus = {oid.dotted_string for oid in signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value}
    assert {C2PA_CLAIM_SIGNING_EKU, ExtendedKeyUsageOID.EMAIL_PROTECTION.dotted_string} <= ekus
    assert signer.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    now = dt.datetime.now(dt.timezone.utc)
    for cert in (signer, intermediate, root):
        assert cert.not_valid_before_utc <= now < cert.not_valid_after_utc
    assert signer.not_valid_after_utc <= intermediate.not_valid_after_utc <= root.not_valid_after_utc
    assert intermediate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert credentials.signer_not_after == signer.not_valid_after_utc


def test_signing_certificate_near_expiry_is_renewed_under_the_same_root(tmp_path: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    folder = tmp_path / "c2pa"
    original = C2paCredentials.load_or_create(folder)
    old_signer, intermediate = x509.load_pem_x509_certificates(original.cert_chain_pem)
    intermediate_key = serialization.load_pem_private_key((folder / INTERMEDIATE_KEY_FILE).read_bytes(), None)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(old_signer.subject).issuer_name(intermediate.subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=10)))
    for extension in old_signer.extensions:
        builder = builder.add_extension(extension.value, extension.critical)
    expiring = builder.sign(intermediate_key, hashes.SHA256())
    pem = serialization.Encoding.PEM
    (folder / SIGNER_FILE).write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        + expiring.public_bytes(pem) + intermediate.public_bytes(pem))

    renewed = C2paCredentials.load_or_create(folder)

    assert renewed.trust_anchor_pem == original.trust_anchor_pem
    assert renewed.signer_not_after - now > dt.timedelta(days=365 * 10)
    assert x509.load_pem_x509_certificates(renewed.cert_chain_pem)[0].serial_number != expiring.serial_number
    assert stat.S_IMODE((folder / SIGNER_FILE).stat().st_mode) == 0o600
    signed = sign_c2pa(encode(picture(), "PNG"), "image/png", MANIFEST, credentials=renewed)
    assert read_c2pa(signed, "image/png", trust=original).state == "trusted"


def test_unusable_chain_files_are_kept_aside_and_a_new_chain_is_made(tmp_path: Path) -> None:
    folder = tmp_path / "c2pa"
    original = C2paCredentials.load_or_create(folder)
    (folder / SIGNER_FILE).write_bytes(b"-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")

    fresh = C2paCredentials.load_or_create(folder)

    assert fresh.fingerprint != original.fingerprint
    kept = [p for p in folder.iterdir() if p.name.startswith("replaced-")]
    assert len(kept) == 1
    assert (kept[0] / TRUST_ANCHOR_FILE).read_bytes() == original.trust_anchor_pem
    assert (kept[0] / INTERMEDIATE_KEY_FILE).exists()
    signed = sign_c2pa(encode(picture(), "PNG"), "image/png", MANIFEST, credentials=fresh)
    assert read_c2pa(signed, "image/png", trust=fresh).state == "trusted"


# --- signing and reading -----------------------------------------------------------------------

@pytest.mark.parametrize(("fmt", "mime"), FORMATS)
def test_signed_image_reads_trusted_with_the_anchor_and_valid_without(
        credentials: C2paCredentials, other_install: C2paCredentials, fmt: str, mime: str) -> None:
    original = encode(picture(), fmt)
    signed = sign_c2pa(original, mime, MANIFEST, credentials=credentials, title="Lighthouse")

    trusted = read_c2pa(signed, mime, trust=credentials)
    untrusted = read_c2pa(signed, mime)
    foreign = read_c2pa(signed, mime, trust=other_install)

    assert (trusted.present, trusted.state, trusted.errors) == (True, "trusted", [])
    assert (untrusted.present, untrusted.state, untrusted.errors) == (True, "valid", [])
    assert (foreign.state, foreign.errors) == ("valid", [])
    for report in (trusted, untrusted, foreign):
        assert report.studio_manifest == MANIFEST
        assert report.generator == f"Provenance Studio/{__version__}"
        assert report.digital_source_type == TRAINED_ALGORITHMIC_MEDIA
        assert report.signed_by and report.signed_by.startswith("Provenance Studio install ")
    with Image.open(io.BytesIO(signed)) as image:
        assert image.format == fmt and image.size == (64, 64)


def test_c2pa_reader_sees_the_created_action_and_the_studio_assertion(credentials: C2paCredentials) -> None:
    import c2pa

    signed = sign_c2pa(encode(picture(), "PNG"), "image/png", MANIFEST, credentials=credentials, title="Lighthouse")
    with c2pa.Reader("image/png", io.BytesIO(signed)) as reader:
        store = json.loads(reader.json())
    active = store["manifests"][store["active_manifest"]]

    assert active["title"] == "Lighthouse"
    assert active["claim_generator_info"][0]["name"] == "Provenance Studio"
    assert active["claim_generator_info"][0]["version"] == __version__
    actions = [action for assertion in active["assertions"] if assertion["label"].startswith("c2pa.actions")
               for action in assertion["data"]["actions"]]
    assert {"action": "c2pa.created", "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA}.items() <= actions[0].items()
    studio = [a for a in active["assertions"] if a["label"] == STUDIO_ASSERTION_LABEL]
    assert len(studio) == 1 and studio[0].get("kind") == "Json"  # stored as JSON, byte for byte
    assert "thumbnail" not in active
    with c2pa.Reader("image/png", io.BytesIO(signed)) as reader:
        crjson = json.loads(reader.crjson())
    cr_manifest = next(m for m in crjson["manifests"] if m["label"] == store["active_manifest"])
    assert cr_manifest["assertions"][STUDIO_ASSERTION_LABEL] == MANIFEST


@pytest.mark.parametrize(("fmt", "mime"), FORMATS)
def test_one_changed_byte_of_image_data_makes_it_invalid(credentials: C2paCredentials, fmt: str, mime: str) -> None:
    signed = sign_c2pa(encode(picture(), fmt), mime, MANIFEST, credentials=credentials)

    report = read_c2pa(flip_image_byte(signed, fmt), mime, trust=credentials)

    assert report.present and report.state == "invalid"
    assert report.errors and not any(e.startswith("signingCredential.untrusted") for e in report.errors)


def test_manifest_pasted_into_an_image_with_one_other_pixel_is_invalid(credentials: C2paCredentials) -> None:
    image = picture()
    signed = sign_c2pa(encode(image, "PNG"), "image/png", MANIFEST, credentials=credentials)
    offset, _, length = next(c for c in png_chunks(signed) if c[1] == b"caBX")
    manifest_chunk = signed[offset:offset + 12 + length]
    edited = image.copy()
    red, green, blue = edited.getpixel((10, 10))
    edited.putpixel((10, 10), ((red + 1) % 256, green, blue))
    reencoded = encode(edited, "PNG")
    ihdr_end = 8 + 12 + 13
    pasted = reencoded[:ihdr_end] + manifest_chunk + reencoded[ihdr_end:]

    report = read_c2pa(pasted, "image/png", trust=credentials)

    assert report.present and report.state == "invalid"
    assert any(e.startswith("assertion.dataHash.mismatch") for e in report.errors)
    assert read_c2pa(reencoded, "image/png").state == "absent"  # Pillow drops the caBX chunk


def test_text_written_before_signing_survives_and_a_chunk_added_after_breaks_it(
        credentials: C2paCredentials) -> None:
    from studio.provenance.png_text import png_bytes

    with_text = png_bytes(picture(), {"parameters": "a lighthouse\nSteps: 4, Seed: 1234"})
    signed = sign_c2pa(with_text, "image/png", MANIFEST, credentials=credentials)
    with Image.open(io.BytesIO(signed)) as image:
        assert image.text["parameters"] == "a lighthouse\nSteps: 4, Seed: 1234"
    assert read_c2pa(signed, "image/png", trust=credentials).state == "trusted"

    iend = next(c[0] for c in png_chunks(signed) if c[1] == b"IEND")
    later = signed[:iend] + png_chunk(b"tEXt", b"Comment\x00added later") + signed[iend:]

    assert read_c2pa(later, "image/png", trust=credentials).state == "invalid"


@pytest.mark.parametrize(("fmt", "mime"), [("JPEG", "image/jpeg"), ("WEBP", "image/webp")])
def test_a_segment_or_chunk_added_after_signing_breaks_jpeg_and_webp(credentials: C2paCredentials, fmt: str,
                                                                    mime: str) -> None:
    signed = sign_c2pa(encode(picture(), fmt), mime, MANIFEST, credentials=credentials)
    if fmt == "JPEG":
        comment = b"\xff\xfe" + struct.pack(">H", 2 + 11) + b"added later"
        later = signed[:2] + comment + signed[2:]
    else:
        grown = bytearray(signed + b"EXTR" + struct.pack("<I", 4) + b"late")
        grown[4:8] = struct.pack("<I", len(grown) - 8)
        later = bytes(grown)

    report = read_c2pa(later, mime, trust=credentials)

    assert report.state == "invalid"
    assert any(e.startswith("assertion.dataHash.mismatch") for e in report.errors)


def test_signing_again_replaces_the_manifest(credentials: C2paCredentials) -> None:
    first = sign_c2pa(encode(picture(), "PNG"), "image/png", {"version": 1}, credentials=credentials)
    second = sign_c2pa(first, "image/png", {"version": 2}, credentials=credentials)

    report = read_c2pa(second, "image/png", trust=credentials)

    assert report.state == "trusted" and report.studio_manifest == {"version": 2}
    assert [c[1] for c in png_chunks(second)].count(b"caBX") == 1


def test_expired_signing_certificate_reads_valid_with_the_reason_not_tampered(tmp_path: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    folder = tmp_path / "c2pa"
    install = C2paCredentials.load_or_create(folder)
    old_signer, intermediate = x509.load_pem_x509_certificates(install.cert_chain_pem)
    intermediate_key = serialization.load_pem_private_key((folder / INTERMEDIATE_KEY_FILE).read_bytes(), None)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(old_signer.subject).issuer_name(intermediate.subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(seconds=2)))
    for extension in old_signer.extensions:
        builder = builder.add_extension(extension.value, extension.critical)
    short_lived = builder.sign(intermediate_key, hashes.SHA256())
    pem = serialization.Encoding.PEM
    credentials = C2paCredentials(
        folder, install.trust_anchor_pem, short_lived.public_bytes(pem) + intermediate.public_bytes(pem),
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        short_lived.not_valid_after_utc, install.fingerprint)
    signed = sign_c2pa(encode(picture(), "PNG"), "image/png", MANIFEST, credentials=credentials)
    assert read_c2pa(signed, "image/png", trust=install).state == "trusted"
    time.sleep(max(0.0, (short_lived.not_valid_after_utc - dt.datetime.now(dt.timezone.utc)).total_seconds()) + 1.2)

    report = read_c2pa(signed, "image/png", trust=install)

    assert report.state == "valid"
    assert [e.split(":")[0] for e in report.errors] == ["signingCredential.expired"]
    with pytest.raises(StudioError, match="signing certificate could not sign"):
        sign_c2pa(encode(picture(), "PNG"), "image/png", MANIFEST, credentials=credentials)


def test_manifest_from_another_tool_reads_without_a_studio_manifest(credentials: C2paCredentials) -> None:
    import c2pa

    definition = {"claim_generator_info": [{"name": "Other Camera App", "version": "2.0"}],
                  "assertions": [{"label": STUDIO_ASSERTION_LABEL, "data": ["not", "a", "mapping"], "kind": "Json"}]}
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(
        c2pa.C2paSigningAlg.ES256, credentials.cert_chain_pem, credentials._signer_key_pem, None))
    builder = c2pa.Builder(definition)
    builder.set_intent(c2pa.C2paBuilderIntent.CREATE, c2pa.C2paDigitalSourceType.DIGITAL_CAPTURE)
    signed = io.BytesIO()
    builder.sign(signer, "image/jpeg", io.BytesIO(encode(picture(), "JPEG")), signed)
    signer.close()

    report = read_c2pa(signed.getvalue(), "image/jpeg")

    assert (report.present, report.state, report.studio_manifest) == (True, "valid", None)
    assert report.generator == "Other Camera App/2.0"
    assert report.digital_source_type == "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"


# --- files without C2PA and bad input ----------------------------------------------------------

@pytest.mark.parametrize(("fmt", "mime"), FORMATS)
def test_file_without_c2pa_is_absent(fmt: str, mime: str, credentials: C2paCredentials) -> None:
    report = read_c2pa(encode(picture(), fmt), mime, trust=credentials)

    assert (report.present, report.state, report.studio_manifest, report.errors) == (False, "absent", None, [])


@pytest.mark.parametrize("data", [b"", b"not an image at all", os.urandom(4096), b"\x89PNG\r\n\x1a\n" + b"\0" * 40,
                                  b"\xff\xd8\xff\xe0" + b"\0" * 20, b"RIFF\x10\0\0\0WEBPVP8 "],
                         ids=["empty", "text", "random", "png-signature-only", "jpeg-header-only", "webp-header-only"])
@pytest.mark.parametrize("mime", ["image/png", "image/jpeg", "image/webp", "application/octet-stream"])
def test_non_image_bytes_give_a_report_not_an_exception(data: bytes, mime: str) -> None:
    report = read_c2pa(data, mime)

    assert report.state in {"absent", "invalid"}
    assert report.present is (report.state == "invalid")
    assert report.studio_manifest is None


@pytest.mark.parametrize(("fmt", "mime"), FORMATS)
def test_truncated_signed_file_is_invalid_and_names_the_problem(credentials: C2paCredentials, fmt: str,
                                                                 mime: str) -> None:
    signed = sign_c2pa(encode(picture(), fmt), mime, MANIFEST, credentials=credentials)

    report = read_c2pa(signed[: len(signed) - 40], mime, trust=credentials)

    assert report.present and report.state == "invalid" and report.errors


def test_signing_refuses_unsupported_types_bad_images_and_non_json_manifests(credentials: C2paCredentials) -> None:
    png = encode(picture(), "PNG")
    with pytest.raises(InputError, match="image/gif"):
        sign_c2pa(png, "image/gif", MANIFEST, credentials=credentials)
    with pytest.raises(InputError, match="PNG"):
        sign_c2pa(b"not a png", "image/png", MANIFEST, credentials=credentials)
    with pytest.raises(InputError, match="JSON"):
        sign_c2pa(png, "image/png", {"when": dt.datetime.now()}, credentials=credentials)
    with pytest.raises(InputError, match="JSON"):
        sign_c2pa(png, "image/png", {"guidance": float("nan")}, credentials=credentials)
    with pytest.raises(InputError, match="as strings"):
        sign_c2pa(png, "image/png", {"price": {"wei": [10 ** 30]}}, credentials=credentials)
    assert read_c2pa(sign_c2pa(png, "PNG", {"ok": True}, credentials=credentials), "image/png").state == "valid"


# --- loading -----------------------------------------------------------------------------------

def _run_python(code: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO,
                            timeout=60, check=True)
    return result.stdout.strip()


def test_importing_the_module_loads_neither_c2pa_nor_cryptography() -> None:
    out = _run_python("import sys, studio.provenance.c2pa\n"
                      "print(sorted(m for m in ('c2pa', 'cryptography') if m in sys.modules))")
    assert out == "[]"


def test_without_the_c2pa_library_reading_reports_it_and_signing_says_what_to_do(tmp_path: Path) -> None:
    assert c2pa_available() is True
    out = _run_python(
        "import json, sys\n"
        "sys.modules['c2pa'] = None  # what a missing or broken native library looks like to Python\n"
        "from studio.errors import StudioError\n"
        "from studio.provenance.c2pa import C2paCredentials, c2pa_available, read_c2pa, sign_c2pa\n"
        f"creds = C2paCredentials.load_or_create({str(tmp_path / 'c2pa')!r})\n"
        "report = read_c2pa(b'\\x89PNG\\r\\n\\x1a\\n', 'image/png')\n"
        "try:\n"
        "    sign_c2pa(b'x', 'image/png', {}, credentials=creds)\n"
        "    message = None\n"
        "except StudioError as exc:\n"
        "    message = str(exc)\n"
        "print(json.dumps([c2pa_available(), report.state, report.errors, message]))\n")
    available, state, errors, message = json.loads(out.splitlines()[-1])

    assert available is False and state == "absent"
    assert errors and "C2PA support is not available" in errors[0]
    assert message and "Reinstall" in message
