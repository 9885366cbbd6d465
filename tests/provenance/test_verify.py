"""Verifying files: works from the demo model round-trip, and every kind of bad file gets its verdict."""
from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo
from provenance_helpers import ANVIL_ADDRESS_0, ANVIL_ADDRESS_1, make_manifest, noise_image, sign, write_work

from studio.errors import InputError
from studio.generation.engine import Engine
from studio.generation.request import GenerationRequest
from studio.provenance.embed import export_image, png_with_provenance
from studio.provenance.manifest import SignedManifest, typed_data
from studio.provenance.png_text import read_png_text
from studio.workflows.generate import generate_works, read_recipe
from studio.workflows.verify import reproduce_work, verify_file


def demo_work(engine: Engine, folder: Path, signer=None, seed: int = 11) -> Path:
    request = GenerationRequest(prompt="a lighthouse, oil painting", negative_prompt="text", width=64, height=64,
                                steps=2, seed=seed, guidance=6.5, scheduler="euler_a")
    return generate_works(request, engine, folder, signer=signer, library=None)[0].path


def resave(path: Path, dest: Path, *, change_pixel: bool = False, keep_text: bool = True) -> Path:
    """What an image editor does: decode, maybe edit, save again (keeping the text chunks if asked)."""
    with Image.open(path) as image:
        image.load()
        copy = image.copy()
    if change_pixel:
        r, g, b = copy.getpixel((5, 5))[:3]
        copy.putpixel((5, 5), ((r + 1) % 256, g, b))
    info = PngInfo()
    if keep_text:
        for key, value in read_png_text(path).items():
            info.add_itxt(key, value)
    copy.save(dest, format="PNG", pnginfo=info)
    return dest


def test_a_signed_demo_work_verifies_with_signer_pixels_and_trusted_c2pa(engine, signer, tmp_path: Path) -> None:
    path = demo_work(engine, tmp_path / "works", signer)
    verdict = verify_file(path)
    assert verdict.verdict == "verified", verdict.problems
    assert (verdict.source, verdict.signature_valid, verdict.signer) == ("studio", True, ANVIL_ADDRESS_0)
    assert verdict.pixel_hash_ok is True and verdict.c2pa == "trusted"
    assert verdict.manifest is not None and verdict.manifest.creator == ANVIL_ADDRESS_0
    assert verdict.manifest.pipeline == "txt2img" and verdict.manifest.device == "cpu"
    assert read_recipe(path).seed == verdict.manifest.seed == 11
    assert verdict.problems == () and verdict.notes == ()
    assert json.loads(json.dumps(verdict.to_json()))["verdict"] == "verified"


def test_one_changed_pixel_is_tampered(engine, signer, tmp_path: Path) -> None:
    path = demo_work(engine, tmp_path / "works", signer)
    verdict = verify_file(resave(path, tmp_path / "edited.png", change_pixel=True))
    assert verdict.verdict == "tampered"
    assert verdict.pixel_hash_ok is False and verdict.signature_valid is True
    assert any("pixels do not match" in problem for problem in verdict.problems)
    # the same re-save without the edit still verifies: metadata-preserving edits keep the pixel hash
    assert verify_file(resave(path, tmp_path / "same.png")).verdict == "verified"


def test_stripped_metadata_means_no_provenance(engine, tmp_path: Path) -> None:
    path = demo_work(engine, tmp_path / "works")
    verdict = verify_file(resave(path, tmp_path / "stripped.png", keep_text=False))
    assert (verdict.verdict, verdict.source, verdict.manifest, verdict.c2pa) == ("no-provenance", "none", None, "absent")


def test_a_manifest_pasted_from_another_image_is_tampered(signer, tmp_path: Path) -> None:
    original, other = noise_image(seed=1), noise_image(seed=2)
    signed = sign(make_manifest(original, signer.address), signer)
    pasted = tmp_path / "pasted.png"
    pasted.write_bytes(png_with_provenance(other, signed, parameters="p"))
    verdict = verify_file(pasted)
    assert verdict.verdict == "tampered" and verdict.signature_valid is True and verdict.pixel_hash_ok is False
    bigger = tmp_path / "bigger.png"
    bigger.write_bytes(png_with_provenance(noise_image(32), signed, parameters="p"))
    assert any("belongs to another image" in p for p in verify_file(bigger).problems)


def test_a_signature_by_another_key_is_invalid(signer, other_signer, tmp_path: Path) -> None:
    image = noise_image()
    claimed = make_manifest(image, ANVIL_ADDRESS_0)   # claims to be account 0 ...
    forged = "0x" + bytes(other_signer.sign_typed_data(typed_data(claimed))).hex()  # ... signed by account 1
    path = tmp_path / "forged.png"
    path.write_bytes(png_with_provenance(image, SignedManifest(claimed, forged), parameters="p"))
    verdict = verify_file(path)
    assert verdict.verdict == "invalid-signature"
    assert verdict.signature_valid is False and verdict.signer == ANVIL_ADDRESS_1
    assert verdict.pixel_hash_ok is True
    # a garbage signature of the right shape is invalid too, not a crash
    garbage = tmp_path / "garbage.png"
    garbage.write_bytes(png_with_provenance(image, SignedManifest(claimed, "0x" + "ff" * 65), parameters="p"))
    assert verify_file(garbage).verdict == "invalid-signature"


def test_an_edited_prompt_under_a_valid_signature_is_invalid(signer, tmp_path: Path) -> None:
    image = noise_image()
    signed = sign(make_manifest(image, signer.address), signer)
    edited = SignedManifest(replace(signed.manifest, prompt="something else"), signed.signature)
    path = tmp_path / "edited.png"
    path.write_bytes(png_with_provenance(image, edited, parameters="p"))
    assert verify_file(path).verdict == "invalid-signature"


def test_an_unsigned_work_verifies_but_says_it_is_unsigned(make_work) -> None:
    verdict = verify_file(make_work())
    assert verdict.verdict == "verified" and verdict.signature_valid is None and verdict.signer is None
    assert any("not signed" in note for note in verdict.notes)


def test_unreadable_files_each_get_a_verdict(make_work, tmp_path: Path) -> None:
    data = make_work().read_bytes()
    cases = {"truncated.png": data[: len(data) // 2], "text.png": b"hello, not an image",
             "empty.png": b"", "header-only.png": data[:8]}
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        verdict = verify_file(tmp_path / name)
        assert verdict.verdict == "unreadable", name
        assert verdict.problems and "Traceback" not in verdict.problems[0]
    assert verify_file(tmp_path / "missing.png").verdict == "unreadable"
    assert verify_file(tmp_path).verdict == "unreadable"


def _with_chunk(data: bytes, kind: bytes, body: bytes) -> bytes:
    import zlib

    return data[:-12] + len(body).to_bytes(4, "big") + kind + body + \
        zlib.crc32(kind + body).to_bytes(4, "big") + data[-12:]


def test_oversized_and_damaged_manifests_are_tampered(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    noise_image().save(buffer, format="PNG")
    oversized = tmp_path / "oversized.png"
    oversized.write_bytes(_with_chunk(buffer.getvalue(), b"iTXt",
                                      b"studio:provenance\0\0\0\0\0" + b"{" * (2 << 20)))
    verdict = verify_file(oversized)  # a manifest chunk that cannot be read cannot vouch for anything
    assert verdict.verdict == "tampered" and any("skipped" in note for note in verdict.notes)
    assert any("studio:provenance that was skipped" in problem for problem in verdict.problems)
    damaged = tmp_path / "damaged.png"
    damaged.write_bytes(_with_chunk(buffer.getvalue(), b"iTXt", b'studio:provenance\0\0\0\0\0{"manifest": 1}'))
    verdict = verify_file(damaged)
    assert verdict.verdict == "tampered" and "damaged" in verdict.problems[0]


def test_a_chunk_added_after_c2pa_signing_is_tampered(signer, tmp_path: Path, studio_home: Path) -> None:
    from studio.workflows.generate import c2pa_credentials

    path = write_work(tmp_path / "w.png", signer=signer, c2pa=c2pa_credentials())
    assert verify_file(path).c2pa == "trusted"
    path.write_bytes(_with_chunk(path.read_bytes(), b"tEXt", b"Comment\0added later"))
    verdict = verify_file(path)
    assert verdict.verdict == "tampered" and verdict.c2pa == "invalid"
    assert verdict.signature_valid is True and verdict.pixel_hash_ok is True


def test_foreign_pngs_have_no_provenance_but_show_their_recipe(tmp_path: Path) -> None:
    info = PngInfo()
    info.add_text("parameters", "a fox\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 9, Size: 64x64")
    path = tmp_path / "a1111.png"
    noise_image().save(path, pnginfo=info)
    verdict = verify_file(path)
    assert (verdict.verdict, verdict.source) == ("no-provenance", "a1111")
    assert verdict.foreign is not None and (verdict.foreign.prompt, verdict.foreign.seed) == ("a fox", 9)


def test_exports_verify_and_an_edited_jpeg_does_not(signer, make_work, tmp_path: Path, studio_home: Path) -> None:
    from studio.workflows.generate import c2pa_credentials

    src = make_work(signer=signer)
    webp = verify_file(export_image(src, tmp_path / "w.webp", "webp"))
    assert webp.verdict == "verified" and webp.format == "WEBP" and webp.notes == ()
    # a lossy export made (and C2PA-signed) by this install: its C2PA vouches for the export record
    jpeg_path = export_image(src, tmp_path / "w.jpg", "jpeg", c2pa_credentials=c2pa_credentials())
    jpeg = verify_file(jpeg_path)
    assert jpeg.verdict == "verified" and jpeg.signer == ANVIL_ADDRESS_0 and jpeg.c2pa == "trusted"
    assert any("lossy JPEG export made by this studio" in note for note in jpeg.notes)
    # the same export without Content Credentials: only an unsigned record ties its pixels to the signed ones
    bare = verify_file(export_image(src, tmp_path / "bare.jpg", "jpeg"))
    assert bare.verdict == "unproven" and bare.pixel_hash_ok is False and bare.signature_valid is True
    assert any("unsigned export record" in problem for problem in bare.problems)
    with Image.open(jpeg_path) as image:
        xmp = image.info["xmp"]
        edited = image.copy()
    edited.paste((255, 0, 0), (0, 0, 16, 16))
    edited.save(tmp_path / "edited.jpg", format="JPEG", quality=92, xmp=xmp)
    assert verify_file(tmp_path / "edited.jpg").verdict == "tampered"


def test_reproduce_regenerates_exactly_on_the_same_device(engine, tmp_path: Path) -> None:
    path = demo_work(engine, tmp_path / "works", seed=5)
    result = reproduce_work(path, engine)
    assert (result.method, result.match, result.device) == ("exact", True, "cpu")


def test_reproduce_on_another_device_compares_perceptually(engine, tmp_path: Path) -> None:
    path = demo_work(engine, tmp_path / "works", seed=6)
    signed = SignedManifest.from_json(read_png_text(path)["studio:provenance"])
    moved = replace(signed.manifest, device="cuda", dtype="float16")
    with Image.open(path) as image:
        image.load()
        (tmp_path / "cuda.png").write_bytes(png_with_provenance(image, SignedManifest(moved), parameters="p"))
    result = reproduce_work(tmp_path / "cuda.png", engine)
    assert result.method == "perceptual" and result.match and result.distance is not None and result.distance <= 10
    other_seed = replace(moved, seed=999)
    with Image.open(path) as image:
        image.load()
        (tmp_path / "other.png").write_bytes(png_with_provenance(image, SignedManifest(other_seed), parameters="p"))
    assert reproduce_work(tmp_path / "other.png", engine).distance > 0


def test_reproduce_refuses_what_it_cannot_regenerate(engine, make_work) -> None:
    with pytest.raises(InputError, match="input images"):
        reproduce_work(make_work(pipeline="img2img", strength=0.5,
                                 parents=({"role": "init", "sha256": "01" * 32},)), engine)
    with pytest.raises(InputError, match="not the one that made"):
        reproduce_work(make_work(model_sha256="00" * 32, width=64, height=64, steps=2), engine)


def test_reproduce_regenerates_a_text_only_avatar_and_refuses_one_from_a_photo(engine, tmp_path: Path) -> None:
    from studio.generation.avatars import AvatarRequest
    from studio.workflows.avatars import make_from_photo, make_single

    request = AvatarRequest("a fox knight", preset="pixel_art", seed=8, size=64, steps=2)
    avatar = make_single(request, engine, tmp_path / "text", c2pa=None, library=None)[0].path
    assert SignedManifest.from_json(read_png_text(avatar)["studio:provenance"]).manifest.pipeline == "avatar"
    result = reproduce_work(avatar, engine)
    assert (result.method, result.match) == ("exact", True)

    from_photo = make_from_photo(request, noise_image(72, seed=3), engine, tmp_path / "photo", c2pa=None,
                                 library=None)[0].path
    with pytest.raises(InputError, match=r"input images \(init\).*cannot be reproduced without them"):
        reproduce_work(from_photo, engine)


def test_an_inpainted_work_reproduces_exactly_from_its_inputs_and_recorded_options(engine, tmp_path: Path) -> None:
    """The manifest records the mask blur, the inpaint area and its padding; given the same init
    image and mask, reproduce regenerates identical pixels (and refuses other inputs)."""
    init = engine.generate(GenerationRequest(prompt="a harbour", width=64, height=64, steps=2, seed=5))[0].image
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (10, 12, 30, 40))
    request = GenerationRequest(prompt="a red boat", width=64, height=64, steps=3, seed=9, init_image=init,
                                mask_image=mask, strength=0.8, mask_blur=3, inpaint_area="masked", inpaint_padding=6)
    path = generate_works(request, engine, tmp_path, library=None)[0].path
    manifest = SignedManifest.from_json(read_png_text(path)["studio:provenance"]).manifest
    assert manifest.inpaint is not None and manifest.inpaint.to_dict() == {"mask_blur": 3, "area": "masked",
                                                                          "padding": 6}
    assert read_recipe(path).inpaint_area == "masked" and "Mask blur: 3" in read_png_text(path)["parameters"]
    assert verify_file(path, chain=False).verdict == "verified"
    result = reproduce_work(path, engine, init_image=init, mask_image=mask)
    assert (result.method, result.match) == ("exact", True)
    with pytest.raises(InputError, match=r"input images \(init, mask\)"):
        reproduce_work(path, engine, init_image=init)
    with pytest.raises(InputError, match="mask is not the one"):
        reproduce_work(path, engine, init_image=init, mask_image=mask.rotate(90))
    plain = generate_works(GenerationRequest(prompt="p", width=64, height=64, steps=2, seed=1), engine, tmp_path,
                           library=None)[0].path
    assert '"inpaint"' not in read_png_text(plain)["studio:provenance"]  # other works' manifests are unchanged
