"""Embedding: the chunks a studio PNG carries and their order, XMP, exports, and hostile chunks."""
from __future__ import annotations

import io
import zlib
from pathlib import Path

import pytest
from PIL import Image
from provenance_helpers import make_manifest, noise_image, sign

from studio.errors import InputError
from studio.provenance.embed import (DIGITAL_SOURCE_TYPE, export_image, parse_xmp, png_with_provenance,
                                     read_embedded)
from studio.provenance.manifest import SignedManifest, pixel_hash
from studio.provenance.png_text import MAX_TEXT_CHUNK, read_text_chunks


def chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    out, offset = [], 8
    while offset < len(data):
        length = int.from_bytes(data[offset:offset + 4], "big")
        out.append((data[offset + 4:offset + 8], data[offset + 8:offset + 8 + length]))
        offset += 12 + length
    return out


def chunk(kind: bytes, body: bytes) -> bytes:
    return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")


def insert_before_iend(data: bytes, extra: bytes) -> bytes:
    return data[:-12] + extra + data[-12:]


def test_a_studio_png_carries_parameters_then_manifest_then_xmp(signer) -> None:
    image = noise_image()
    signed = sign(make_manifest(image, signer.address, prompt="a “lighthouse” <at> dusk & fog"), signer)
    data = png_with_provenance(image, signed, parameters="a lighthouse\nSteps: 2")
    text_chunks = [(kind, body.split(b"\0", 1)[0]) for kind, body in chunks(data)
                   if kind in (b"tEXt", b"iTXt", b"zTXt")]
    assert text_chunks == [(b"tEXt", b"parameters"), (b"iTXt", b"studio:provenance"),
                           (b"iTXt", b"XML:com.adobe.xmp")]
    kinds = [kind for kind, _ in chunks(data)]
    assert kinds.index(b"iTXt") < kinds.index(b"IDAT") and kinds[-1] == b"IEND"
    embedded = read_embedded(data)
    assert SignedManifest.from_json(embedded.provenance_json) == signed
    assert embedded.text["parameters"] == "a lighthouse\nSteps: 2"
    assert embedded.xmp is not None
    assert embedded.xmp.digital_source_type == DIGITAL_SOURCE_TYPE
    assert embedded.xmp.creator == signer.address
    assert embedded.xmp.description == "a “lighthouse” <at> dusk & fog"
    assert embedded.problems == ()
    with Image.open(io.BytesIO(data)) as decoded:  # Pillow reads the XMP packet as XMP
        assert b"trainedAlgorithmicMedia" in decoded.info["XML:com.adobe.xmp"].encode()


def test_c2pa_is_signed_last_and_carries_the_same_manifest(signer, studio_home: Path) -> None:
    from studio.provenance.c2pa import C2paCredentials, read_c2pa

    credentials = C2paCredentials.load_or_create(studio_home / "c2pa")
    image = noise_image()
    signed = sign(make_manifest(image, signer.address), signer)
    data = png_with_provenance(image, signed, parameters="p", c2pa_credentials=credentials)
    assert b"caBX" in [kind for kind, _ in chunks(data)]
    report = read_c2pa(data, "image/png", trust=credentials)
    assert report.state == "trusted" and report.studio_manifest == signed.to_dict()
    assert SignedManifest.from_json(read_embedded(data).provenance_json) == signed
    # a text chunk added after signing breaks the C2PA binding
    assert read_c2pa(insert_before_iend(data, chunk(b"tEXt", b"late\0edit")), "image/png").state == "invalid"


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_exports_keep_xmp_manifest_and_c2pa(fmt: str, signer, tmp_path: Path, studio_home: Path) -> None:
    from studio.provenance.c2pa import C2paCredentials, read_c2pa

    credentials = C2paCredentials.load_or_create(studio_home / "c2pa")
    image = noise_image()
    signed = sign(make_manifest(image, signer.address), signer)
    src = tmp_path / "work.png"
    src.write_bytes(png_with_provenance(image, signed, parameters="p"))
    dest = export_image(src, tmp_path / f"work.{fmt}", fmt, c2pa_credentials=credentials)
    data = dest.read_bytes()
    embedded = read_embedded(data)
    assert embedded.format == fmt.upper()
    assert embedded.xmp is not None and embedded.xmp.digital_source_type == DIGITAL_SOURCE_TYPE
    assert embedded.xmp.creator == signer.address
    assert SignedManifest.from_json(embedded.provenance_json) == signed
    report = read_c2pa(data, f"image/{fmt}", trust=credentials)
    assert report.state == "trusted" and report.studio_manifest == signed.to_dict()
    with Image.open(dest) as exported:
        exported_hash = pixel_hash(exported)
    if fmt == "webp":  # lossless: the signed pixel hash still holds, no export record needed
        assert exported_hash == signed.manifest.pixel_hash and embedded.export is None
    else:
        assert embedded.export is not None
        assert embedded.export.pixel_hash == exported_hash != signed.manifest.pixel_hash
        assert embedded.export.source_pixel_hash == signed.manifest.pixel_hash


def test_export_refuses_unknown_formats_and_files_without_provenance(tmp_path: Path) -> None:
    plain = tmp_path / "plain.png"
    noise_image().save(plain)
    with pytest.raises(InputError, match="no studio provenance"):
        export_image(plain, tmp_path / "x.jpg", "jpeg")
    with pytest.raises(InputError, match="Cannot export"):
        export_image(plain, tmp_path / "x.gif", "gif")
    assert not (tmp_path / "x.jpg").exists()


def test_oversized_bombed_and_damaged_text_chunks_are_skipped_not_read() -> None:
    buffer = io.BytesIO()
    noise_image(8).save(buffer, format="PNG")
    base = buffer.getvalue()
    huge = chunk(b"tEXt", b"huge\0" + b"x" * (MAX_TEXT_CHUNK + 10))
    bomb = chunk(b"zTXt", b"bomb\0\0" + zlib.compress(b"\0" * (64 << 20), 9))
    bad_crc = chunk(b"tEXt", b"bad\0value")[:-4] + b"\0\0\0\0"
    good = chunk(b"tEXt", b"good\0kept")
    found = read_text_chunks(insert_before_iend(base, huge + bomb + bad_crc + good))
    assert dict(found.text) == {"good": "kept"} and found.complete
    assert any("was skipped (the limit is" in p for p in found.problems)
    assert any("inflates past" in p for p in found.problems)
    assert any("CRC mismatch" in p for p in found.problems)


def test_truncated_and_lying_lengths_are_reported_as_cut_short() -> None:
    buffer = io.BytesIO()
    noise_image(8).save(buffer, format="PNG")
    data = buffer.getvalue()
    cut = read_text_chunks(data[: len(data) // 2])
    assert not cut.complete and any("cut short" in p for p in cut.problems)
    lying = data[:8] + (0xFFFFFFF0).to_bytes(4, "big") + data[12:]
    assert not read_text_chunks(lying).complete


def test_xmp_with_entities_is_refused_and_reading_goes_on(signer) -> None:
    laughs = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
              '<x:xmpmeta xmlns:x="adobe:ns:meta/">&b;</x:xmpmeta>')
    with pytest.raises(InputError, match="DTD or entities"):
        parse_xmp(laughs)
    with pytest.raises(InputError, match="not well-formed"):
        parse_xmp("<x:xmpmeta")
    buffer = io.BytesIO()
    noise_image(8).save(buffer, format="PNG")
    xmp = b"XML:com.adobe.xmp\0\0\0\0\0" + laughs.encode()
    embedded = read_embedded(insert_before_iend(buffer.getvalue(), chunk(b"iTXt", xmp)))
    assert embedded.xmp is None and any("DTD" in p for p in embedded.problems)


def test_a_non_image_is_an_input_error() -> None:
    with pytest.raises(InputError, match="not an image"):
        read_embedded(b"%PDF-1.7 not an image at all")
