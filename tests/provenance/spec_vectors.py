"""The test vectors of docs/provenance-spec.md, committed under docs/spec-vectors/.

Each vector is a PNG and what a verifier must find in it: the verdict, the canonical manifest bytes
and their SHA-256, the pixel hash, the EIP-712 digest, the signature and its signer. They are made
here with the studio's own code (and the tests' own PNG encoder, for the kinds of PNG the studio
does not write), from fixed inputs, with anvil's public test keys: the same every time.

    PYTHONPATH=. .venv/bin/python tests/provenance/spec_vectors.py   # rewrite docs/spec-vectors/

tests/provenance/test_spec_vectors.py checks the committed files against the code, and runs the
JavaScript verifier (verifier/) over them under node.
"""
from __future__ import annotations

import atexit
import functools
import hashlib
import json
import shutil
import struct
import sys
import tempfile
import zlib
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
VECTORS_DIR = ROOT / "docs" / "spec-vectors"
INDEX = VECTORS_DIR / "vectors.json"
sys.path.insert(0, str(HERE))

from PIL import Image  # noqa: E402

from png_encoder import RawImage, encode, random_image  # noqa: E402
from provenance_helpers import ANVIL_ADDRESS_0, ANVIL_KEY_0, ANVIL_KEY_1, local_signer  # noqa: E402

from studio.provenance.embed import PARAMETERS_KEY, PROVENANCE_KEY, XMP_KEY, png_with_provenance, xmp_packet  # noqa: E402
from studio.provenance.manifest import (  # noqa: E402
    SCHEMA_V1, Manifest, SignedManifest, WeightsRef, pixel_hash, typed_data)
from studio.provenance.pixels import file_pixel_hash  # noqa: E402

PROMPT = "a lighthouse at dusk, “oil” 灯台 ☃ 😀 tab\there"


def _noise(size: int, seed: int) -> Image.Image:
    import random

    rng = random.Random(seed)
    return Image.frombytes("RGB", (size, size), bytes(rng.randrange(256) for _ in range(size * size * 3)))


def _manifest(pixel: str, width: int, height: int, creator: str | None, **fields: Any) -> Manifest:
    values: dict[str, Any] = dict(
        generator_name="provenance-studio", generator_version="0.1.0", model_name="demo", model_sha256="ab" * 32,
        model_family="sd1", pipeline="txt2img", prompt=PROMPT, negative_prompt="fog", seed=4_294_967_295, steps=20,
        guidance=7.0, scheduler="euler_a", width=width, height=height, created="2026-11-28T12:00:00Z",
        pixel_hash=pixel, creator=creator, device="cpu", dtype="float32",
        loras=(WeightsRef("ink.safetensors", "fe" * 32, 0.5), WeightsRef("line.safetensors", "cd" * 32, 1.0)))
    values.update(fields)
    return Manifest(**values)


def _sign(manifest: Manifest, key: str) -> SignedManifest:
    signature = bytes(local_signer(key).sign_typed_data(typed_data(manifest)))
    return SignedManifest(manifest, "0x" + signature.hex())


def _itxt(key: str, text: str) -> tuple[bytes, bytes]:
    return b"iTXt", key.encode("latin-1") + b"\0\0\0\0\0" + text.encode("utf-8")


def _chunks(signed: SignedManifest, parameters: str | None = "a lighthouse\nSteps: 20") -> tuple[tuple[bytes, bytes], ...]:
    """The text chunks a studio PNG carries, in the studio's order."""
    out: list[tuple[bytes, bytes]] = []
    if parameters:
        out.append((b"tEXt", PARAMETERS_KEY.encode() + b"\0" + parameters.encode("latin-1")))
    return (*out, _itxt(PROVENANCE_KEY, signed.to_json()), _itxt(XMP_KEY, xmp_packet(signed)))


def _with_chunks(png: bytes, chunks: tuple[tuple[bytes, bytes], ...]) -> bytes:
    """``png`` with ``chunks`` inserted after IHDR."""
    head = 8 + 8 + 13 + 4
    body = b"".join(struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
                    for kind, data in chunks)
    return png[:head] + body + png[head:]


def _raw_signed(raw: RawImage, key: str | None, *, interlace: bool = False, pixel: str | None = None,
                **fields: Any) -> bytes:
    plain = encode(raw, interlace=interlace, first_filter=2)
    creator = ANVIL_ADDRESS_0 if key else None
    manifest = _manifest(pixel or file_pixel_hash(plain), raw.width, raw.height, creator, **fields)
    signed = _sign(manifest, key) if key else SignedManifest(manifest)
    return _with_chunks(plain, _chunks(signed))


def _studio_png(image: Image.Image, signed: SignedManifest) -> bytes:
    return png_with_provenance(image, signed, parameters="a lighthouse\nSteps: 20")


def _fresh() -> tuple[Image.Image, SignedManifest]:
    image = _noise(16, 1)
    return image, _sign(_manifest(pixel_hash(image), 16, 16, ANVIL_ADDRESS_0), ANVIL_KEY_0)


def fresh() -> bytes:
    return _studio_png(*_fresh())


def inpainted() -> bytes:
    from studio.provenance.manifest import InpaintRef

    image = _noise(16, 7)
    manifest = _manifest(pixel_hash(image), 16, 16, ANVIL_ADDRESS_0, pipeline="inpaint", strength=0.75,
                         inpaint=InpaintRef(mask_blur=4, area="masked", padding=32))
    return _studio_png(image, _sign(manifest, ANVIL_KEY_0))


def with_settings() -> bytes:
    image = _noise(16, 9)
    settings = {"sigmas": "karras", "clip_skip": 2, "hires": {"scale": 1.5, "denoise": 0.45, "upscaler": "latent"},
                "variation": {"seed": 9007199254740991, "strength": 1e-7}, "control": [{"type": "canny", "weight": 1.0}],
                "é": True, "\U0001f600": None, "a\u00e9b": "te\u0301xt"}
    manifest = _manifest(pixel_hash(image), 16, 16, ANVIL_ADDRESS_0, settings=settings)
    return _studio_png(image, _sign(manifest, ANVIL_KEY_0))


def version_1() -> bytes:
    image = _noise(16, 5)
    manifest = _manifest(pixel_hash(image, SCHEMA_V1), 16, 16, ANVIL_ADDRESS_0, schema=SCHEMA_V1, strength=0.1)
    return _studio_png(image, _sign(manifest, ANVIL_KEY_0))


def sixteen_bit_interlaced() -> bytes:
    return _raw_signed(random_image(7, 5, 6, 16, seed=16), ANVIL_KEY_0, interlace=True, guidance=6.5, strength=0.75,
                       pipeline="img2img")


def palette_unsigned() -> bytes:
    raw = random_image(9, 6, 3, 4, seed=4, palette_size=11, transparency=bytes([0, 128, 255]))
    return _raw_signed(raw, None, guidance=1e-7, loras=())


def grey_colour_key() -> bytes:
    raw = random_image(10, 3, 0, 2, seed=2, transparency=struct.pack(">H", 1))
    return _raw_signed(raw, ANVIL_KEY_0, guidance=12.25, prompt="x" * 300 + "\u2028\x01\"\\/é")


def one_pixel_changed() -> bytes:
    image, signed = _fresh()
    image = image.copy()
    r, g, b = image.getpixel((3, 4))
    image.putpixel((3, 4), (r ^ 1, g, b))
    return _studio_png(image, signed)


def swapped_manifest() -> bytes:
    _image, signed = _fresh()
    return _studio_png(_noise(16, 2), signed)


def claimed_without_signature() -> bytes:
    image, signed = _fresh()
    return _studio_png(image, SignedManifest(signed.manifest))


def signed_by_someone_else() -> bytes:
    image, signed = _fresh()
    return _studio_png(image, _sign_as(signed.manifest, ANVIL_KEY_1))


def _sign_as(manifest: Manifest, key: str) -> SignedManifest:
    """A signature by ``key`` over a manifest naming someone else (what a forger can make)."""
    from eth_account import Account
    from eth_account.messages import encode_typed_data

    signed = Account.sign_message(encode_typed_data(full_message=typed_data(manifest)), key)
    return SignedManifest(manifest, "0x" + bytes(signed.signature).hex())


def eip155_v() -> bytes:
    image, signed = _fresh()
    assert signed.signature is not None
    raw = bytearray(bytes.fromhex(signed.signature[2:]))
    raw[64] = 35 + (raw[64] - 27)  # an EIP-155 style v: some libraries accept it, the spec does not
    return _studio_png(image, SignedManifest(signed.manifest, "0x" + raw.hex()))


def xmp_disagrees() -> bytes:
    image, signed = _fresh()
    other = _sign(_manifest(signed.manifest.pixel_hash, 16, 16, ANVIL_ADDRESS_0, prompt="a lighthouse at noon"),
                  ANVIL_KEY_0)
    plain = png_with_provenance(image, signed, parameters=None)
    return _with_chunks(plain, (_itxt(XMP_KEY, xmp_packet(other, include_manifest=True)),))


def stripped_of(image: Image.Image) -> bytes:
    import io

    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def stripped() -> bytes:
    return stripped_of(_fresh()[0])


def a1111() -> bytes:
    import io

    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("parameters", "a cat\nNegative prompt: dog\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, "
                                "Size: 16x16, Model hash: abcdef0123, Model: sd15")
    buffer = io.BytesIO()
    _noise(16, 3).save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def palette_index_past_end() -> bytes:
    raw = random_image(6, 4, 3, 8, seed=6, palette_size=4)
    rows = [list(row) for row in raw.pixels]
    rows[3][5] = (7,)  # the palette has entries 0..3
    # no decoder gives this image's pixels, so no pixel hash describes it
    return _raw_signed(RawImage(6, 4, 3, 8, tuple(tuple(row) for row in rows), raw.palette), ANVIL_KEY_0,
                       pixel="00" * 32)


def transparency_too_long() -> bytes:
    raw = random_image(6, 4, 3, 2, seed=7, palette_size=3)
    return encode(RawImage(6, 4, 3, 2, raw.pixels, raw.palette, bytes([0, 10, 20, 30])))  # 4 alphas, 3 colours


def truncated() -> bytes:
    data = fresh()
    return data[: len(data) * 2 // 3]


# --- C2PA (section 5.6): a chain made for the vectors, which no verifier trusts --------------------

@functools.cache
def _c2pa_install(name: str) -> Any:
    """A studio install's C2PA chain, made afresh (in a temporary folder) each time the vectors are made."""
    from studio.provenance.c2pa import C2paCredentials

    folder = Path(tempfile.mkdtemp(prefix=f"spec-vectors-{name}-"))
    atexit.register(shutil.rmtree, folder, True)
    return C2paCredentials.load_or_create(folder / "c2pa")


def _png_chunks(png: bytes) -> list[tuple[int, bytes, bytes]]:
    """(offset, kind, body) of every chunk of a well-formed PNG."""
    out, at = [], 8
    while at < len(png):
        length, kind = struct.unpack(">I4s", png[at:at + 8])
        out.append((at, kind, png[at + 8:at + 8 + length]))
        at += 12 + length
    return out


def _replace_chunk(png: bytes, kind: bytes, edit: Callable[[bytes], bytes]) -> bytes:
    """``png`` with the first ``kind`` chunk's body edited (its CRC made right: only the content changes)."""
    at, _kind, body = next(chunk for chunk in _png_chunks(png) if chunk[1] == kind)
    new = edit(body)
    return (png[:at] + struct.pack(">I", len(new)) + kind + new + struct.pack(">I", zlib.crc32(kind + new))
            + png[at + 12 + len(body):])


def c2pa_signed() -> bytes:
    image, signed = _fresh()
    return png_with_provenance(image, signed, parameters="a lighthouse\nSteps: 20",
                               c2pa_credentials=_c2pa_install("studio"))


def c2pa_signature_altered() -> bytes:
    def flip(store: bytes) -> bytes:
        # the claim's COSE signature (ES256: a 64-byte string) ends the store: the signature box is the
        # active manifest's last box, the active manifest the store's last
        assert store[-66:-64] == b"\x58\x40", "the store does not end with an ES256 signature"
        return store[:-40] + bytes([store[-40] ^ 0x01]) + store[-39:]
    return _replace_chunk(c2pa_signed(), b"caBX", flip)


def c2pa_binding_broken() -> bytes:
    # a byte outside the studio's chunks and the pixels: only the C2PA hard binding covers it
    return _replace_chunk(c2pa_signed(), b"tEXt", lambda body: body.replace(b"Steps: 20", b"Steps: 21"))


def c2pa_forged() -> bytes:
    from studio.provenance.c2pa import sign_c2pa

    _image, signed = _fresh()
    return sign_c2pa(stripped_of(_noise(16, 2)), "image/png", signed.to_dict(), credentials=_c2pa_install("attacker"))


def c2pa_only() -> bytes:
    import io

    import c2pa

    install = _c2pa_install("attacker")
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, install.cert_chain_pem,
                                                       install._signer_key_pem, None))
    try:
        builder = c2pa.Builder({"claim_generator_info": [{"name": "Totally Real Camera", "version": "1"}]})
        builder.set_intent(c2pa.C2paBuilderIntent.CREATE, c2pa.C2paDigitalSourceType.DIGITAL_CAPTURE)
        out = io.BytesIO()
        builder.sign(signer, "image/png", io.BytesIO(stripped_of(_noise(16, 4))), out)
    finally:
        signer.close()
    return out.getvalue()


#: name -> (how it is made, the verdict every verifier must give, what it shows)
VECTORS: dict[str, tuple[Callable[[], bytes], str, str]] = {
    "fresh": (fresh, "verified", "a studio work, signed (RGB, 8-bit; guidance 7.0 is written 7)"),
    "version-1": (version_1, "verified", "a studio.provenance/1 work as the previous release made it"),
    "inpainted": (inpainted, "verified", "an inpainted work, with its optional inpaint member (mask blur, area, padding)"),
    "with-settings": (with_settings, "verified", "a work with the optional settings member (nested objects, a list, "
                      "1e-7, 2^53 - 1, keys outside ASCII sorted by UTF-16 code units)"),
    "rgba16-interlaced": (sixteen_bit_interlaced, "verified", "16-bit RGBA, Adam7 interlaced"),
    "palette-unsigned": (palette_unsigned, "verified", "4-bit palette with tRNS, unsigned (guidance 1e-7)"),
    "grey2-colour-key": (grey_colour_key, "verified", "2-bit grey with a tRNS colour key; control characters"),
    "one-pixel-changed": (one_pixel_changed, "tampered", "the fresh work with one pixel changed"),
    "swapped-manifest": (swapped_manifest, "tampered", "the fresh work's manifest on another image"),
    "claimed-unsigned": (claimed_without_signature, "unproven", "a creator named without a signature"),
    "signed-by-another": (signed_by_someone_else, "invalid-signature", "signed by a key that is not the creator's"),
    "eip155-v": (eip155_v, "invalid-signature", "a signature whose v byte is 35 or 36"),
    "xmp-disagrees": (xmp_disagrees, "tampered", "an XMP packet carrying another manifest"),
    "stripped": (stripped, "no-provenance", "the fresh work's pixels without metadata"),
    "a1111": (a1111, "no-provenance", "an AUTOMATIC1111 image (recipe in tEXt parameters)"),
    "palette-index-past-end": (palette_index_past_end, "unreadable", "a palette index past the palette's end"),
    "trns-too-long": (transparency_too_long, "unreadable", "a tRNS chunk longer than the palette"),
    "truncated": (truncated, "unreadable", "the fresh work cut short"),
    "c2pa-signed": (c2pa_signed, "verified", "the fresh work with C2PA signed by an install the verifier does not "
                                             "trust (C2PA valid)"),
    "c2pa-signature-altered": (c2pa_signature_altered, "tampered", "c2pa-signed with one bit of its C2PA claim "
                                                                   "signature changed (C2PA invalid)"),
    "c2pa-binding-broken": (c2pa_binding_broken, "tampered", "c2pa-signed with its parameters text changed: only "
                                                             "the C2PA hard binding covers it (C2PA invalid)"),
    "c2pa-forged": (c2pa_forged, "tampered", "the fresh work's signed manifest inside another install's C2PA, on "
                                             "other pixels (C2PA valid)"),
    "c2pa-only": (c2pa_only, "unproven", "C2PA from a self-made certificate and no studio manifest (C2PA valid)"),
}


def signed_manifest_of(data: bytes) -> SignedManifest | None:
    """The vector's signed manifest: its PNG chunk's, else its C2PA assertion's; None when it has none."""
    from studio.provenance.c2pa import read_c2pa
    from studio.provenance.embed import read_embedded

    try:
        embedded = read_embedded(data)
    except Exception:  # noqa: BLE001 - an unreadable vector describes only its verdict
        return None
    if embedded.provenance_json is not None:
        return SignedManifest.from_json(embedded.provenance_json)
    if b"caBX" in data:
        found = read_c2pa(data, "image/png").studio_assertions
        return SignedManifest.from_dict(found[0]) if found else None
    return None


def describe(name: str, data: bytes) -> dict[str, Any]:
    """What a verifier must find in vector ``name`` (computed with the studio's code)."""
    from eth_account.messages import encode_typed_data
    from eth_utils import keccak

    from studio.chain.signatures import recover_typed_data

    _make, verdict, about = VECTORS[name]
    entry: dict[str, Any] = {"name": name, "file": f"{name}.png", "about": about, "verdict": verdict,
                             "file_sha256": hashlib.sha256(data).hexdigest()}
    signed = signed_manifest_of(data) if verdict != "unreadable" else None
    if signed is None:
        return entry
    manifest = signed.manifest
    entry.update(schema=manifest.schema, canonical=f"{name}.canonical.json", manifest_sha256=manifest.manifest_hash,
                 pixel_hash=manifest.pixel_hash, signature=signed.signature, creator=manifest.creator)
    if manifest.creator is not None:
        signable = encode_typed_data(full_message=typed_data(manifest))
        entry["eip712_digest"] = keccak(b"\x19" + signable.version + signable.header + signable.body).hex()
    if signed.signature is not None:
        try:
            entry["recovers_to"] = recover_typed_data(typed_data(manifest), signed.signature)
        except Exception:  # noqa: BLE001
            entry["recovers_to"] = None
    return entry


def write_vectors(folder: Path = VECTORS_DIR) -> list[dict[str, Any]]:
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for name, (make, _verdict, _about) in VECTORS.items():
        data = make()
        (folder / f"{name}.png").write_bytes(data)
        entry = describe(name, data)
        if "canonical" in entry:
            signed = signed_manifest_of(data)
            assert signed is not None
            (folder / entry["canonical"]).write_bytes(signed.manifest.canonical_json())
        entries.append(entry)
    (folder / "vectors.json").write_text(json.dumps({"vectors": entries}, indent=1, ensure_ascii=False) + "\n",
                                         encoding="utf-8")
    return entries


if __name__ == "__main__":
    for item in write_vectors():
        print(f"{item['name']:20} {item['verdict']}")
