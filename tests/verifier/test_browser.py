"""The verifier page in a real browser (Debian's headless Chromium, driven over the DevTools
protocol): for fresh, tampered, re-encoded, stripped and foreign files, the page's verdict is the
one `studio verify --json` gives, whether the page is opened from its file or from the local
gateway at /verify/; text from the file is shown as text, never as HTML."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from chromium import Chromium, chromium_path
from png_encoder import RawImage, encode
from provenance_helpers import ANVIL_KEY_0, local_signer

from studio.generation.request import GenerationRequest
from studio.provenance.embed import (PROVENANCE_KEY, XMP_KEY, ExportRecord, png_with_provenance, read_embedded,
                                    xmp_packet)
from studio.provenance.manifest import SignedManifest
from studio.provenance.pixels import file_pixel_hash
from studio.provenance.png_text import png_bytes, read_png_text
from studio.workflows.generate import generate_works

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "verifier" / "index.html"
CHROMIUM = chromium_path()

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (`apt-get install chromium`; "
                                                ".ci/run installs it before the suite)"),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Chromium]:
    assert CHROMIUM is not None
    with Chromium(CHROMIUM) as running:
        yield running


def _text_chunks(path: Path) -> tuple[tuple[bytes, bytes], ...]:
    """The studio's text chunks of ``path``, as raw iTXt/tEXt chunks another tool would copy."""
    out = []
    for key, value in read_png_text(path).items():
        if key == "parameters":
            out.append((b"tEXt", key.encode() + b"\0" + value.encode("latin-1")))
        else:
            out.append((b"iTXt", key.encode("latin-1") + b"\0\0\0\0\0" + value.encode("utf-8")))
    return tuple(out)


def _save(image: Image.Image, path: Path, text: dict[str, str] | None = None) -> Path:
    info = PngInfo()
    for key, value in (text or {}).items():
        info.add_itxt(key, value) if key != "parameters" else info.add_text(key, value)
    image.save(path, format="PNG", pnginfo=info)
    return path


def make_cases(engine: Any, folder: Path) -> dict[str, tuple[Path, str]]:
    """Files of every kind the page meets, made with the studio's current code: name -> (path, verdict)."""
    signer = local_signer(ANVIL_KEY_0)
    request = GenerationRequest(prompt="a lighthouse <b>at</b> dusk <img src=x onerror=alert(1)>", width=64,
                                height=64, steps=2, seed=5, guidance=7.0, scheduler="euler_a")
    # signed, with this install's C2PA
    fresh = generate_works(request, engine, folder / "works", signer=signer, library=None)[0].path
    with Image.open(fresh) as opened:
        pixels = opened.convert("RGB")
    text = read_png_text(fresh)
    signed = SignedManifest.from_json(read_embedded(fresh.read_bytes()).provenance_json or "")
    cases: dict[str, tuple[Path, str]] = {"fresh": (fresh, "verified")}

    changed = pixels.copy()
    r, g, b = changed.getpixel((9, 9))
    changed.putpixel((9, 9), (r ^ 1, g, b))
    cases["one-pixel"] = (_save(changed, folder / "one-pixel.png", text), "tampered")

    other = Image.effect_noise((64, 64), 40).convert("RGB")
    swapped = folder / "swapped.png"
    swapped.write_bytes(png_with_provenance(other, signed, parameters=text["parameters"]))
    cases["swapped-manifest"] = (swapped, "tampered")

    # another tool re-encodes losslessly: Adam7 interlaced, other filters and compression, the text chunks copied
    raw = RawImage(64, 64, 2, 8, tuple(tuple(pixels.getpixel((x, y)) for x in range(64)) for y in range(64)))
    lossless = folder / "re-encoded-lossless.png"
    lossless.write_bytes(encode(raw, interlace=True, first_filter=3, extra_chunks=_text_chunks(fresh)))
    cases["re-encoded-lossless"] = (lossless, "verified")

    jpeg = io.BytesIO()
    pixels.save(jpeg, format="JPEG", quality=90)
    cases["re-encoded-lossy"] = (_save(Image.open(io.BytesIO(jpeg.getvalue())).convert("RGB"),
                                       folder / "re-encoded-lossy.png", text), "tampered")

    # a lossy copy whose XMP carries an export record tying it to the signed original: nobody signs
    # the record, and only this install's C2PA could vouch for it
    lossy = Image.open(io.BytesIO(jpeg.getvalue())).convert("RGB")
    record = ExportRecord("jpeg", 90, file_pixel_hash(png_bytes(lossy, {})), signed.manifest.pixel_hash)
    cases["lossy-export-record"] = (_save(lossy, folder / "export-record.png", {
        "parameters": text["parameters"], PROVENANCE_KEY: signed.to_json(),
        XMP_KEY: xmp_packet(signed, export=record)}), "unproven")

    cases["stripped"] = (_save(pixels, folder / "stripped.png"), "no-provenance")
    cases["foreign-a1111"] = (_save(other, folder / "a1111.png", {
        "parameters": "a cat\nNegative prompt: dog\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, "
                      "Size: 64x64, Model hash: abcdef0123, Model: sd15"}), "no-provenance")
    claimed = folder / "claimed.png"
    claimed.write_bytes(png_with_provenance(pixels, SignedManifest(signed.manifest), parameters=None))
    cases["claimed-unsigned"] = (claimed, "unproven")
    cut = folder / "truncated.png"
    cut.write_bytes(fresh.read_bytes()[: fresh.stat().st_size // 2])
    cases["truncated"] = (cut, "unreadable")
    return cases


def studio_verify(paths: list[Path]) -> dict[str, dict[str, Any]]:
    """`studio verify --json --offline` on ``paths``, by file name."""
    result = subprocess.run([sys.executable, "-m", "studio", "verify", "--json", "--offline", *map(str, paths)],
                            capture_output=True, text=True, timeout=240, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.stdout, result.stderr[-2000:]
    found = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return {Path(item["path"]).name: item for item in found}


def page_verdict(browser: Chromium, path: Path) -> dict[str, Any]:
    browser.evaluate("window.__verifierResult = null")
    browser.choose_file("#file", path)
    return dict(browser.wait_for("window.__verifierResult && JSON.parse(JSON.stringify(window.__verifierResult))"))


def test_the_page_gives_the_verdict_studio_verify_gives_on_every_kind_of_file(browser: Chromium, engine,
                                                                              tmp_path: Path) -> None:
    cases = make_cases(engine, tmp_path)
    expected = studio_verify([path for path, _ in cases.values()])
    browser.open(PAGE.as_uri())  # from its file: no server
    for name, (path, verdict) in cases.items():
        studio = expected[path.name]
        page = page_verdict(browser, path)
        assert studio["verdict"] == verdict, (name, studio["problems"])
        assert page["verdict"] == studio["verdict"], (name, page["problems"], studio["problems"])
        assert page["manifest_sha256"] == studio["manifest_sha256"], name
        assert page["signer"] == studio["signer"] and page["signature_valid"] == studio["signature_valid"], name
        if studio["pixel_hash_ok"] is not None:
            assert page["pixel_hash_ok"] == studio["pixel_hash_ok"], name
        shown = browser.evaluate("document.querySelector('.verdict').dataset.verdict")
        assert shown == verdict, name
    # the fresh work's recipe is shown as text: its HTML-looking prompt made no element
    page_verdict(browser, cases["fresh"][0])
    assert browser.evaluate("document.querySelectorAll('#result img').length") == 1  # the preview only
    assert browser.evaluate("document.querySelectorAll('#result b').length") == 0
    assert "<img src=x onerror=alert(1)>" in browser.evaluate("document.querySelector('.recipe').textContent")


def test_the_local_gateway_serves_the_page_at_verify(browser: Chromium, store, tmp_path: Path) -> None:
    from studio.storage.gateway import Gateway

    vectors = ROOT / "docs" / "spec-vectors"
    with Gateway(store) as gateway:
        browser.open(f"{gateway.url}/verify/")
        assert browser.evaluate("document.getElementById('gateway').value") == gateway.url
        for name, verdict in (("fresh.png", "verified"), ("one-pixel-changed.png", "tampered"),
                              ("a1111.png", "no-provenance")):
            assert page_verdict(browser, vectors / name)["verdict"] == verdict


def test_text_with_control_and_bidi_characters_is_shown_escaped(browser: Chromium, tmp_path: Path) -> None:
    from provenance_helpers import make_manifest, noise_image

    image = noise_image()
    manifest = make_manifest(image, prompt="gpj.\u202eexe\x1b[2J line\nbreak")
    path = tmp_path / "escapes.png"
    path.write_bytes(png_with_provenance(image, SignedManifest(manifest), parameters=None))
    browser.open(PAGE.as_uri())
    assert page_verdict(browser, path)["verdict"] == "verified"
    shown = browser.evaluate("document.querySelector('.recipe td').textContent")
    assert shown == "gpj.\\u202eexe\\x1b[2J line\\nbreak"
    assert PROVENANCE_KEY in read_png_text(path)


def _signed_work(path: Path, signer: Any, seed: int) -> Path:
    from provenance_helpers import make_manifest, noise_image

    from studio.workflows.generate import sign_manifest

    image = noise_image(32, seed)
    manifest = make_manifest(image, signer.address, prompt=f"a fox {seed}", seed=seed)
    path.write_bytes(png_with_provenance(image, sign_manifest(manifest, signer), parameters=f"a fox {seed}"))
    return path


def _check_on_chain(browser: Chromium, rpc: str, collection: str, token_id: int) -> dict[str, Any]:
    browser.evaluate("window.__verifierResult = null")
    browser.evaluate(f"""(() => {{ const form = document.getElementById('chain');
        form.rpc.value = {json.dumps(rpc)}; form.collection.value = {json.dumps(collection)};
        form.token.value = {json.dumps(str(token_id))}; form.requestSubmit(); }})()""")
    return dict(browser.wait_for("window.__verifierResult && window.__verifierResult.chain "
                                 "&& JSON.parse(JSON.stringify(window.__verifierResult))"))


def test_the_page_checks_a_minted_tokens_commitment_as_studio_verify_does(browser: Chromium, devnet, signers, library,
                                                                          store, tmp_path: Path) -> None:
    from studio.chain.devnet_server import DevnetServer
    from studio.storage.gateway import Gateway
    from studio.workflows.collections import create_collection
    from studio.workflows.mint import MintItem, mint_works
    from studio.workflows.verify import TokenRef, verify_file

    collection = create_collection(connection=devnet.connection(), signer=signers[0], library=library, name="Foxes",
                                   symbol="FOX", royalty_receiver=signers[0].address, royalty_bps=500)
    options = dict(signer=signers[0], connection=devnet.connection(), store=store, library=library)
    alone = _signed_work(tmp_path / "alone.png", signers[0], 1)
    batch = [_signed_work(tmp_path / f"batch-{i}.png", signers[0], 10 + i) for i in range(2)]
    single = mint_works([MintItem(alone, "Alone")], collection, **options).minted[0].token
    pair = [m.token for m in mint_works([MintItem(p, p.stem) for p in batch], collection, **options).minted]
    address = collection.address
    with Gateway(store) as gateway, DevnetServer(devnet, port=0, allowed_origins=[gateway.url]) as node:
        browser.open(f"{gateway.url}/verify/")
        cases = [(alone, single.token_id, "ok"), (batch[1], pair[1].token_id, "ok"),  # a single mint, a batch entry
                 (alone, pair[0].token_id, "mismatch")]                             # another work's token
        for path, token_id, state in cases:
            studio = verify_file(path, chain=False, library=library,
                                 tokens=[TokenRef("devnet", address, token_id)]).to_json()
            assert page_verdict(browser, path)["verdict"] == "verified"
            page = _check_on_chain(browser, node.url, address, token_id)
            (check,) = page["chain"]
            (expected,) = studio["chain"]
            assert check["state"] == expected["state"] == state, (check, expected)
            assert page["verdict"] == studio["verdict"], (page["problems"], studio["problems"])
            for key in ("commitment_ok", "image_ok", "provenance_ok", "metadata_cid"):
                assert check[key] == expected[key], key
            assert check["owner"].lower() == expected["owner"].lower()
        # a node that is not there is a note, not tampering
        page = _check_on_chain(browser, "http://127.0.0.1:9", address, single.token_id)
        assert page["chain"][0]["state"] == "unreachable" and page["verdict"] == "verified"
