"""The manifest: canonical JSON, strict parsing, the pixel hash, and the EIP-712 signature over it."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest
from PIL import Image

from studio.chain.signatures import recover_typed_data
from studio.canonical import jcs
from studio.errors import InputError
from studio.provenance.manifest import SCHEMA, SCHEMA_V1, Manifest, ParentRef, SignedManifest, WeightsRef, pixel_hash, typed_data

from provenance_helpers import ANVIL_ADDRESS_0, ANVIL_ADDRESS_1, make_manifest, noise_image, sign


def test_canonical_json_is_rfc8785_and_round_trips() -> None:
    manifest = make_manifest(noise_image(), ANVIL_ADDRESS_0, prompt="灯台 at dusk, “oil”",
                             loras=(WeightsRef("ink.safetensors", "fe" * 32, 0.8),),
                             parents=(ParentRef("init", "01" * 32),), pipeline="img2img", strength=0.6,
                             guidance=7.0)
    raw = manifest.canonical_json()
    assert SCHEMA == "studio.provenance/2"
    assert b'"guidance":7,' in raw  # ECMAScript's number form, not Python's 7.0
    assert raw == json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() \
        .replace(b"7.0", b"7")
    assert "灯台".encode() in raw and b" " not in raw.replace("灯台 at dusk, “oil”".encode(), b"")
    assert json.loads(raw)["schema"] == SCHEMA
    assert Manifest.from_json(raw) == manifest
    assert Manifest.from_json(raw).manifest_hash == manifest.manifest_hash


def test_a_version_1_manifest_keeps_its_python_form_and_hash() -> None:
    v1 = make_manifest(noise_image(), ANVIL_ADDRESS_0, schema="studio.provenance/1", guidance=7.0,
                       pixel_hash=pixel_hash(noise_image(), "studio.provenance/1"))
    raw = v1.canonical_json()
    assert b'"guidance":7.0,' in raw and b'"schema":"studio.provenance/1"' in raw
    again = SignedManifest.from_json(SignedManifest(v1).to_json()).manifest
    assert again.schema == "studio.provenance/1" and again.manifest_hash == v1.manifest_hash
    assert Manifest.from_json(jcs(v1.to_dict())).manifest_hash == v1.manifest_hash  # 7 read back is 7.0


def test_a_version_2_manifest_holds_only_whole_numbers_every_json_reader_keeps() -> None:
    with pytest.raises(InputError, match="2\\^53"):
        make_manifest(noise_image(), seed=2**53)
    assert make_manifest(noise_image(), seed=2**53 - 1).seed == 2**53 - 1
    assert make_manifest(noise_image(), seed=2**60, schema="studio.provenance/1",
                         pixel_hash="00" * 32).seed == 2**60


def test_parsing_refuses_unknown_missing_and_malformed_fields() -> None:
    good = make_manifest(noise_image()).to_dict()
    cases = [
        ({**good, "extra": 1}, "unexpected extra"),
        ({k: v for k, v in good.items() if k != "seed"}, "missing seed"),
        ({**good, "schema": "studio.provenance/99"}, "not one this studio reads"),
        ({**good, "pixel_hash": "xyz"}, "pixel_hash"),
        ({**good, "creator": "0x123"}, "creator"),
        ({**good, "seed": -1}, "seed"),
        ({**good, "seed": True}, "seed"),
        ({**good, "guidance": "7"}, "guidance"),
        ({**good, "pipeline": "rm -rf"}, "unknown pipeline"),
        ({**good, "created": "yesterday"}, "creation time"),
        ({**good, "loras": [{"name": "x"}]}, "LoRA"),
        ({**good, "prompt": "x" * 20_000}, "at most"),
    ]
    for data, message in cases:
        with pytest.raises(InputError, match=message):
            Manifest.from_dict(data)
    for text in ("not json", "[1, 2]", "[" * 100_000):
        with pytest.raises(InputError):
            SignedManifest.from_json(text)
    with pytest.raises(InputError, match="not valid JSON"):
        Manifest.from_json('{"guidance": NaN')


def test_pixel_hash_ignores_metadata_and_sees_every_pixel_mode_and_size() -> None:
    image = noise_image()
    with_info = image.copy()
    with_info.info["parameters"] = "anything"
    assert pixel_hash(with_info) == pixel_hash(image)
    changed = image.copy()
    r, g, b = changed.getpixel((10, 20))
    changed.putpixel((10, 20), ((r + 1) % 256, g, b))
    assert pixel_hash(changed) != pixel_hash(image)
    assert pixel_hash(image.convert("RGBA")) != pixel_hash(image)  # an alpha channel is part of the pixels
    see_through = image.convert("RGBA")
    see_through.putpixel((0, 0), see_through.getpixel((0, 0))[:3] + (254,))
    assert pixel_hash(see_through) != pixel_hash(image.convert("RGBA"))
    grey = image.convert("L")
    assert pixel_hash(grey) == pixel_hash(grey.convert("RGB"))  # grey is its colour repeated
    flat = Image.new("L", (4, 8), 0)
    assert pixel_hash(flat) != pixel_hash(Image.new("L", (8, 4), 0))  # same bytes, other size
    # version 1 hashed Pillow's own mode names: RGB and RGBA differ there
    assert pixel_hash(image.convert("RGBA"), "studio.provenance/1") != pixel_hash(image, "studio.provenance/1")


def test_signature_recovers_the_creator_and_any_edit_changes_the_signer(signer) -> None:
    manifest = make_manifest(noise_image(), signer.address)
    signed = sign(manifest, signer)
    assert signed.signature is not None and len(signed.signature) == 132
    assert recover_typed_data(typed_data(manifest), signed.signature) == ANVIL_ADDRESS_0
    edited = replace(manifest, prompt="a lighthouse at noon")
    assert recover_typed_data(typed_data(edited), signed.signature) != ANVIL_ADDRESS_0


def test_typed_data_has_no_chain_id_and_commits_to_the_sha256_of_the_json(signer) -> None:
    import hashlib

    manifest = make_manifest(noise_image(), signer.address)
    message = typed_data(manifest)
    assert message["domain"] == {"name": "Provenance Studio", "version": "1"}
    assert message["message"]["manifestHash"] == "0x" + hashlib.sha256(manifest.canonical_json()).hexdigest()
    assert message["message"]["pixelHash"] == "0x" + manifest.pixel_hash
    with pytest.raises(InputError, match="names its creator"):
        typed_data(replace(manifest, creator=None))


def test_a_signer_cannot_sign_a_manifest_naming_someone_else(signer) -> None:
    with pytest.raises(InputError, match="signed by the creator"):
        sign(make_manifest(noise_image(), ANVIL_ADDRESS_1), signer)


def test_malformed_signatures_are_input_errors(signer) -> None:
    manifest = make_manifest(noise_image(), signer.address)
    with pytest.raises(InputError):
        SignedManifest(manifest, "0x1234")
    with pytest.raises(InputError, match="65 bytes"):
        recover_typed_data(typed_data(manifest), "0x" + "00" * 64)
    with pytest.raises(InputError):
        recover_typed_data(typed_data(manifest), "0x" + "ff" * 65)  # v = 255: no key makes this
    with pytest.raises(InputError, match="not hex"):
        recover_typed_data(typed_data(manifest), "0x" + "zz" * 65)


def test_deep_json_is_refused_before_parsing_even_with_a_raised_recursion_limit() -> None:
    import sys

    from studio.safejson import nesting_depth

    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(100_000)  # what importing eth_account does; the C decoder would overflow the stack
    try:
        with pytest.raises(InputError, match="nested more than 64 levels"):
            SignedManifest.from_json("[" * 200_000)
    finally:
        sys.setrecursionlimit(previous)
    assert nesting_depth('{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}') == 1
    assert nesting_depth("[" * 65 + "]" * 65) == 65


def test_generation_settings_are_optional_and_leave_older_manifests_as_they_were() -> None:
    plain = make_manifest(noise_image(8))
    assert "settings" not in plain.to_dict()
    old_hash = plain.manifest_hash
    assert Manifest.from_json(plain.canonical_json()).manifest_hash == old_hash
    settings = {"sigmas": "karras", "hires": {"scale": 2.0, "upscaler": "latent", "steps": 10, "denoise": 0.4},
                "control": [{"model": {"name": "c", "sha256": "ab" * 32, "kind": "controlnet"}}]}
    rich = replace(plain, settings=settings)
    assert rich.to_dict()["settings"] == settings and rich.manifest_hash != old_hash
    assert Manifest.from_json(rich.canonical_json()) == rich
    for bad in ([1, 2], {"x": float("inf")}, {"x": object()}, {"x": "y" * 70_000}):
        with pytest.raises(InputError, match="settings"):
            replace(plain, settings=bad)
    data = json.loads(rich.canonical_json())
    data["settings"] = "karras"
    with pytest.raises(InputError, match="settings"):
        Manifest.from_dict(data)
    data["settings"] = {}  # left out when there are none: an empty object would not hash as it was signed
    with pytest.raises(InputError, match="settings member is present but empty"):
        Manifest.from_dict(data)
    with pytest.raises(InputError, match="belongs to studio.provenance/2"):
        replace(rich, schema=SCHEMA_V1)
