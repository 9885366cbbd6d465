"""Files made to fool `verify`, built here from their parts: every one must fail to verify, for the
right reason. A victim (anvil account 0) signs a work; an attacker with another install's self-made
C2PA chain, another key and a text editor tries to pass something else off as that work."""
from __future__ import annotations

import io
import struct
import zlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from provenance_helpers import ANVIL_ADDRESS_0, ANVIL_KEY_0, make_manifest, noise_image, sign

from studio.provenance.c2pa import STUDIO_ASSERTION_LABEL, C2paCredentials, sign_c2pa
from studio.provenance.embed import ExportRecord, STUDIO_XMP_NS, export_image, png_with_provenance, xmp_packet
from studio.provenance.manifest import SignedManifest, pixel_hash, typed_data
from studio.provenance.verify import verify_bytes
from studio.workflows.verify import verify_file

pytestmark = pytest.mark.usefixtures("studio_home")  # this install's trust anchor, when made, lives there


@pytest.fixture(scope="module")
def attacker_c2pa(tmp_path_factory: pytest.TempPathFactory) -> C2paCredentials:
    """Another install's certificate chain: anyone can make one."""
    return C2paCredentials.load_or_create(tmp_path_factory.mktemp("attacker") / "c2pa")


@pytest.fixture
def victim_work(signer: Any) -> tuple[Image.Image, SignedManifest]:
    image = noise_image(seed=1)
    return image, sign(make_manifest(image, signer.address, prompt="the victim's lighthouse"), signer)


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def before_iend(data: bytes, *chunks: bytes) -> bytes:
    return data[:-12] + b"".join(chunks) + data[-12:]


def itxt(key: str, text: str) -> bytes:
    return chunk(b"iTXt", key.encode("latin-1") + b"\0\0\0\0\0" + text.encode("utf-8"))


# --- manifests hidden where the studio did not look ---------------------------------------------

def test_a_victims_manifest_inside_another_installs_c2pa_on_other_pixels_is_tampered(
        victim_work, attacker_c2pa: C2paCredentials, tmp_path: Path) -> None:
    _, signed = victim_work
    plain = png(noise_image(seed=2))  # the attacker's image: no studio:provenance chunk, no XMP
    forged = write(tmp_path / "forged.png", sign_c2pa(plain, "image/png", signed.to_dict(), credentials=attacker_c2pa))
    verdict = verify_file(forged)
    assert verdict.verdict == "tampered" and verdict.source == "c2pa" and verdict.c2pa == "valid"
    assert verdict.pixel_hash_ok is False and verdict.manifest == signed.manifest
    assert any("pixels do not match" in problem for problem in verdict.problems)
    assert any("does not trust" in note for note in verdict.notes)


def test_the_victims_own_pixels_resigned_by_another_install_still_verify_as_the_victims(
        victim_work, attacker_c2pa: C2paCredentials, tmp_path: Path) -> None:
    image, signed = victim_work  # a copy of the work itself: the wallet signature, not the C2PA signer, proves it
    copy = write(tmp_path / "copy.png", sign_c2pa(png(image), "image/png", signed.to_dict(), credentials=attacker_c2pa))
    verdict = verify_file(copy)
    assert verdict.verdict == "verified", verdict.problems
    assert (verdict.source, verdict.c2pa, verdict.signer) == ("c2pa", "valid", ANVIL_ADDRESS_0)
    assert verdict.c2pa_signer and "install" in verdict.c2pa_signer


def test_c2pa_from_an_untrusted_signer_alone_proves_nothing(attacker_c2pa: C2paCredentials, tmp_path: Path) -> None:
    import c2pa

    definition = {"claim_generator_info": [{"name": "Totally Real Camera", "version": "1"}]}
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(
        c2pa.C2paSigningAlg.ES256, attacker_c2pa.cert_chain_pem, attacker_c2pa._signer_key_pem, None))
    builder = c2pa.Builder(definition)
    builder.set_intent(c2pa.C2paBuilderIntent.CREATE, c2pa.C2paDigitalSourceType.DIGITAL_CAPTURE)
    out = io.BytesIO()
    builder.sign(signer, "image/png", io.BytesIO(png(noise_image(seed=3))), out)
    signer.close()
    verdict = verify_file(write(tmp_path / "camera.png", out.getvalue()))
    assert (verdict.verdict, verdict.source, verdict.c2pa) == ("unproven", "c2pa", "valid")
    assert verdict.manifest is None and verdict.signer is None
    assert any("nothing proves who made it" in problem for problem in verdict.problems)


def test_this_installs_trusted_c2pa_vouches_for_its_own_work(signer, tmp_path: Path) -> None:
    from studio.workflows.generate import c2pa_credentials

    image = noise_image(seed=4)
    signed = sign(make_manifest(image, signer.address), signer)
    path = write(tmp_path / "own.png", png_with_provenance(image, signed, parameters="p", c2pa_credentials=c2pa_credentials()))
    verdict = verify_file(path)
    assert (verdict.verdict, verdict.c2pa, verdict.signer) == ("verified", "trusted", ANVIL_ADDRESS_0)


def test_a_c2pa_manifest_that_disagrees_with_the_png_chunk_is_tampered(
        victim_work, other_signer, attacker_c2pa: C2paCredentials, tmp_path: Path) -> None:
    image, signed = victim_work
    own = sign(make_manifest(image, other_signer.address), other_signer)  # same pixels, the attacker's claim
    data = sign_c2pa(png_with_provenance(image, signed, parameters="p"), "image/png", own.to_dict(),
                     credentials=attacker_c2pa)
    verdict = verify_file(write(tmp_path / "two-stories.png", data))
    assert verdict.verdict == "tampered" and verdict.c2pa == "valid"
    assert any("different studio manifests" in problem and "C2PA" in problem for problem in verdict.problems)


def test_a_repeated_c2pa_studio_assertion_is_checked_too(victim_work, other_signer, attacker_c2pa: C2paCredentials,
                                                         tmp_path: Path) -> None:
    import c2pa

    image, signed = victim_work
    other = sign(make_manifest(image, other_signer.address), other_signer)
    definition = {"claim_generator_info": [{"name": "X", "version": "1"}],
                  "assertions": [{"label": STUDIO_ASSERTION_LABEL, "data": signed.to_dict(), "kind": "Json"},
                                 {"label": STUDIO_ASSERTION_LABEL, "data": other.to_dict(), "kind": "Json"}]}
    c2pa_signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(
        c2pa.C2paSigningAlg.ES256, attacker_c2pa.cert_chain_pem, attacker_c2pa._signer_key_pem, None))
    builder = c2pa.Builder(definition)
    builder.set_intent(c2pa.C2paBuilderIntent.CREATE, c2pa.C2paDigitalSourceType.TRAINED_ALGORITHMIC_MEDIA)
    out = io.BytesIO()
    builder.sign(c2pa_signer, "image/png", io.BytesIO(png(image)), out)
    c2pa_signer.close()
    verdict = verify_file(write(tmp_path / "repeated.png", out.getvalue()))
    assert verdict.verdict == "tampered"
    assert any("a repeated C2PA assertion" in problem for problem in verdict.problems)


def test_a_second_png_manifest_chunk_with_another_story_is_tampered(victim_work, other_signer, tmp_path: Path) -> None:
    image, signed = victim_work
    data = png_with_provenance(image, signed, parameters="p")
    claim = SignedManifest(make_manifest(image, None, prompt="made by someone else"))
    verdict = verify_file(write(tmp_path / "two.png", before_iend(data, itxt("studio:provenance", claim.to_json()))))
    assert verdict.verdict == "tampered" and verdict.signature_valid is True  # the first chunk alone would verify
    assert any("repeated PNG text chunk" in problem for problem in verdict.problems)
    # the same manifest written twice tells one story: it verifies (with a note)
    twice = write(tmp_path / "twice.png", before_iend(data, itxt("studio:provenance", signed.to_json())))
    assert verify_file(twice).verdict == "verified"


def test_a_manifest_in_the_png_xmp_that_disagrees_with_the_chunk_is_tampered(victim_work, other_signer,
                                                                            tmp_path: Path) -> None:
    image, signed = victim_work
    other = sign(make_manifest(image, other_signer.address), other_signer)
    data = png_with_provenance(image, signed, parameters="p")
    packet = xmp_packet(other, include_manifest=True)
    verdict = verify_file(write(tmp_path / "xmp.png", before_iend(data, itxt("XML:com.adobe.xmp", packet))))
    assert verdict.verdict == "tampered"
    assert any("XMP" in problem and "disagree" in problem for problem in verdict.problems)


def with_xmp_segment(jpeg: bytes, packet: str) -> bytes:
    """``jpeg`` with one more APP1 XMP segment after SOI (the scan, and so the pixels, unchanged)."""
    segment = b"http://ns.adobe.com/xap/1.0/\x00" + packet.encode("utf-8")
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(segment) + 2) + segment + jpeg[2:]


def test_a_second_jpeg_xmp_segment_with_another_manifest_is_tampered(signer, other_signer, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    noise_image(seed=10).save(buffer, format="JPEG", quality=90)
    plain = buffer.getvalue()
    decoded = Image.open(io.BytesIO(plain))
    decoded.load()
    signed = sign(make_manifest(decoded, signer.address), signer)  # signed for the JPEG's own pixels
    one = with_xmp_segment(plain, xmp_packet(signed, include_manifest=True))
    assert verify_file(write(tmp_path / "one.jpg", one)).verdict == "verified"
    other = sign(make_manifest(decoded, other_signer.address), other_signer)
    two = with_xmp_segment(one, xmp_packet(other, include_manifest=True))  # Pillow reads only the last one
    verdict = verify_file(write(tmp_path / "two.jpg", two))
    assert verdict.verdict == "tampered"
    assert any("JPEG XMP segment" in problem and "disagree" in problem for problem in verdict.problems)


def test_a_second_webp_xmp_chunk_with_another_manifest_is_tampered(signer, other_signer, make_work,
                                                                   tmp_path: Path) -> None:
    webp = export_image(make_work(signer=signer), tmp_path / "w.webp", "webp")
    data = webp.read_bytes()
    with Image.open(webp) as image:
        image.load()
        other = sign(make_manifest(image, other_signer.address), other_signer)
    body = xmp_packet(other, include_manifest=True).encode()
    extra = b"XMP " + struct.pack("<I", len(body)) + body + (b"\0" if len(body) % 2 else b"")
    riff = data[:4] + struct.pack("<I", len(data) - 8 + len(extra)) + data[8:] + extra
    verdict = verify_file(write(tmp_path / "two.webp", riff))
    assert verdict.verdict == "tampered"
    assert any("WebP XMP chunk" in problem for problem in verdict.problems)


def test_an_unreadable_xmp_packet_naming_the_studio_namespace_is_tampered(victim_work, tmp_path: Path) -> None:
    image, signed = victim_work
    data = png_with_provenance(image, signed, parameters="p")
    hidden = (f'<!DOCTYPE x [<!ENTITY e "x">]><x:xmpmeta xmlns:x="adobe:ns:meta/" xmlns:studio="{STUDIO_XMP_NS}">'
              "<studio:provenance>&e;</studio:provenance></x:xmpmeta>")
    verdict = verify_file(write(tmp_path / "dtd.png", before_iend(data, itxt("XML:com.adobe.xmp", hidden))))
    assert verdict.verdict == "tampered"
    assert any("cannot be checked" in problem for problem in verdict.problems)


# --- claims without proof ------------------------------------------------------------------------

def test_an_unsigned_manifest_naming_a_creator_is_unproven_and_names_no_proven_creator(tmp_path: Path) -> None:
    image = noise_image(seed=5)
    claim = SignedManifest(make_manifest(image, ANVIL_ADDRESS_0))  # "made by account 0", and no signature
    verdict = verify_file(write(tmp_path / "claim.png", png_with_provenance(image, claim, parameters="p")))
    assert verdict.verdict == "unproven" and verdict.pixel_hash_ok is True
    assert verdict.signer is None and verdict.creator is None and verdict.claimed_creator == ANVIL_ADDRESS_0
    assert any("a claim, not proof" in problem for problem in verdict.problems)
    out = verdict.to_json()
    assert out["signer"] is None and out["manifest"]["creator"] is None
    assert out["manifest"]["claimed_creator"] == ANVIL_ADDRESS_0


def test_a_signed_work_checked_without_a_signature_checker_is_unproven(victim_work, tmp_path: Path) -> None:
    image, signed = victim_work
    data = png_with_provenance(image, signed, parameters="p")
    verdict = verify_bytes(data, name="work.png")  # the provenance layer alone cannot recover signatures
    assert verdict.verdict == "unproven" and verdict.creator is None
    assert verdict.to_json()["manifest"]["creator"] is None


def test_a_signature_over_another_manifest_is_invalid(victim_work, tmp_path: Path) -> None:
    """The victim's signature moved onto a manifest rewritten for the attacker's pixels."""
    _, signed = victim_work
    other = noise_image(seed=6)
    moved = SignedManifest(replace(signed.manifest, pixel_hash=pixel_hash(other)), signed.signature)
    verdict = verify_file(write(tmp_path / "moved.png", png_with_provenance(other, moved, parameters="p")))
    assert verdict.verdict == "invalid-signature" and verdict.pixel_hash_ok is True
    assert verdict.signature_valid is False and verdict.creator is None
    assert (verdict.signer or "").lower() != ANVIL_ADDRESS_0.lower()


def test_a_personal_sign_of_the_manifest_hash_is_not_an_eip712_signature(tmp_path: Path) -> None:
    from eth_account import Account
    from eth_account.messages import encode_defunct

    image = noise_image(seed=7)
    manifest = make_manifest(image, ANVIL_ADDRESS_0)
    wrong_kind = Account.from_key(ANVIL_KEY_0).sign_message(encode_defunct(hexstr=manifest.manifest_hash))
    signed = SignedManifest(manifest, "0x" + bytes(wrong_kind.signature).hex())
    verdict = verify_file(write(tmp_path / "191.png", png_with_provenance(image, signed, parameters="p")))
    assert verdict.verdict == "invalid-signature" and verdict.creator is None


def test_a_made_up_export_record_does_not_tie_other_pixels_to_a_signature(
        victim_work, attacker_c2pa: C2paCredentials, tmp_path: Path) -> None:
    _, signed = victim_work
    buffer = io.BytesIO()
    noise_image(seed=8).save(buffer, format="JPEG", quality=90)
    decoded = pixel_hash(Image.open(io.BytesIO(buffer.getvalue())))
    record = ExportRecord("jpeg", 90, decoded, signed.manifest.pixel_hash)  # "these pixels are that work's export"
    forged = io.BytesIO()
    noise_image(seed=8).save(forged, format="JPEG", quality=90,
                             xmp=xmp_packet(signed, include_manifest=True, export=record).encode())
    verdict = verify_file(write(tmp_path / "export.jpg", forged.getvalue()))
    assert verdict.verdict == "unproven" and verdict.pixel_hash_ok is False
    assert any("unsigned export record" in problem for problem in verdict.problems)
    # another install's C2PA over it changes nothing: only this install's signature vouches for an export
    resigned = sign_c2pa(forged.getvalue(), "image/jpeg", signed.to_dict(), credentials=attacker_c2pa)
    verdict = verify_file(write(tmp_path / "export-c2pa.jpg", resigned))
    assert (verdict.verdict, verdict.c2pa) == ("unproven", "valid")


def test_this_studio_refuses_to_export_a_work_whose_pixels_do_not_match(victim_work, tmp_path: Path) -> None:
    from studio.errors import InputError

    _, signed = victim_work
    pasted = write(tmp_path / "pasted.png", png_with_provenance(noise_image(seed=9), signed, parameters="p"))
    with pytest.raises(InputError, match="do not match its manifest"):
        export_image(pasted, tmp_path / "out.jpg", "jpeg")
    assert not (tmp_path / "out.jpg").exists()


def test_the_manifest_a_typed_data_signature_covers_is_the_whole_manifest(victim_work) -> None:
    """The digest signed is over the canonical manifest: any field changes it (the basis of every check above)."""
    _, signed = victim_work
    base = typed_data(signed.manifest)["message"]
    for field, value in (("prompt", "x"), ("seed", 8), ("model_name", "other"), ("created", "2026-11-28T12:00:01Z")):
        assert typed_data(replace(signed.manifest, **{field: value}))["message"]["manifestHash"] != base["manifestHash"]


# --- decompression bombs --------------------------------------------------------------------------

def bmp_header(width: int, height: int) -> bytes:
    return (b"BM" + struct.pack("<IHHI", 58, 0, 0, 54)
            + struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 4, 0, 0, 0, 0) + b"\0" * 4)


def gif_header(width: int, height: int) -> bytes:
    return (b"GIF89a" + struct.pack("<HH", width, height) + b"\x00\x00\x00"
            + b"," + struct.pack("<HHHH", 0, 0, width, height) + b"\x00\x02\x02\x4c\x01\x00;")


def jpeg_header(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="JPEG")
    data = bytearray(buffer.getvalue())
    sof = data.find(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def webp_header(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="WEBP", lossless=True)
    data = bytearray(buffer.getvalue())
    at = data.find(b"VP8L") + 9  # after the chunk header and the 0x2f signature: 14 bits each, minus one
    rest = int.from_bytes(data[at:at + 4], "little") & ~((1 << 28) - 1)
    data[at:at + 4] = ((width - 1) | ((height - 1) << 14) | rest).to_bytes(4, "little")
    return bytes(data)


def png_header(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


BOMBS = {"bomb.bmp": bmp_header(20_000, 20_000), "bomb.gif": gif_header(60_000, 60_000),
         "bomb.jpg": jpeg_header(60_000, 60_000), "bomb.webp": webp_header(16_384, 16_384),
         # between Pillow's limit and twice it Pillow only warns, and would decode 300 MB
         "between.png": png_header(10_000, 10_000), "between.jpg": jpeg_header(10_000, 10_000)}


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_images_declaring_more_pixels_than_the_limit_are_unreadable_without_decoding(name: str, tmp_path: Path) -> None:
    verdict = verify_file(write(tmp_path / name, BOMBS[name]))
    assert verdict.verdict == "unreadable"
    assert "decompression bomb" in verdict.problems[0] and name in verdict.problems[0]
