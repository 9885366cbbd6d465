"""The verifier page in a real browser (Debian's headless Chromium, driven over the DevTools
protocol): for fresh, tampered, re-encoded, stripped and foreign files, and files whose C2PA is
intact, broken or forged, the page's verdict is the one `studio verify --json` gives (for C2PA, on
an install that did not sign the file: the page trusts no install), whether the page is opened from
its file or from the local gateway at /verify/; text from the file is shown as text, never as HTML."""
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


def studio_verify(paths: list[Path], home: Path | None = None) -> dict[str, dict[str, Any]]:
    """`studio verify --json --offline` on ``paths``, by file name (with ``home`` as STUDIO_HOME if given)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **({"STUDIO_HOME": str(home)} if home is not None else {})}
    result = subprocess.run([sys.executable, "-m", "studio", "verify", "--json", "--offline", *map(str, paths)],
                            capture_output=True, text=True, timeout=240, cwd=ROOT, env=env)
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


def _c2pa_alone(png: bytes, credentials: Any) -> bytes:
    """``png`` with a C2PA manifest (a "captured" action) and no studio assertion, as any C2PA tool writes."""
    import c2pa

    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, credentials.cert_chain_pem,
                                                       credentials._signer_key_pem, None))
    try:
        builder = c2pa.Builder({"claim_generator_info": [{"name": "Totally Real Camera", "version": "1"}]})
        builder.set_intent(c2pa.C2paBuilderIntent.CREATE, c2pa.C2paDigitalSourceType.DIGITAL_CAPTURE)
        out = io.BytesIO()
        builder.sign(signer, "image/png", io.BytesIO(png), out)
    finally:
        signer.close()
    return out.getvalue()


def make_c2pa_cases(engine: Any, folder: Path) -> dict[str, tuple[Path, str, str]]:
    """Files with C2PA, made by this test's install (the signer's) and by another install's self-made
    chain (an attacker's): name -> (path, verdict, C2PA state) as an install that trusts neither sees them."""
    from provenance_helpers import noise_image
    from spec_vectors import _replace_chunk, stripped_of

    from studio.provenance.c2pa import C2paCredentials, sign_c2pa

    attacker = C2paCredentials.load_or_create(folder / "attacker-install")
    request = GenerationRequest(prompt="a heron in reeds", width=64, height=64, steps=2, seed=11, guidance=7.0,
                                scheduler="euler_a")
    # a fresh work, signed by its creator and, as every save is, with this install's C2PA
    fresh = generate_works(request, engine, folder / "works", signer=local_signer(ANVIL_KEY_0), library=None)[0].path
    data = fresh.read_bytes()
    assert b"caBX" in data
    signed = SignedManifest.from_json(read_embedded(data).provenance_json or "")
    cases: dict[str, tuple[Path, str, str]] = {"c2pa-fresh": (fresh, "verified", "valid")}

    def write(name: str, content: bytes) -> Path:
        (folder / name).write_bytes(content)
        return folder / name

    def flip_signature(store: bytes) -> bytes:  # the claim's ES256 signature is the store's last 64 bytes
        assert store[-66:-64] == b"\x58\x40"
        return store[:-20] + bytes([store[-20] ^ 0x80]) + store[-19:]

    cases["c2pa-signature-altered"] = (write("signature-altered.png", _replace_chunk(data, b"caBX", flip_signature)),
                                       "tampered", "invalid")
    # a byte no studio manifest and no pixel covers: the C2PA hard binding alone sees it
    cases["c2pa-binding-broken"] = (write("binding-broken.png", _replace_chunk(
        data, b"tEXt", lambda body: body.replace(b"a heron", b"a crane"))), "tampered", "invalid")
    # the #16 forgery: the creator's signed manifest in another install's C2PA, on other pixels, nothing else
    forged = sign_c2pa(stripped_of(noise_image(64, 9)), "image/png", signed.to_dict(), credentials=attacker)
    cases["c2pa-forged"] = (write("forged.png", forged), "tampered", "valid")
    # the work's own pixels re-signed by anyone still show the creator: the wallet signature names the artist
    with Image.open(fresh) as opened:
        copy = sign_c2pa(stripped_of(opened.convert("RGB")), "image/png", signed.to_dict(), credentials=attacker)
    cases["c2pa-resigned-copy"] = (write("resigned.png", copy), "verified", "valid")
    # C2PA alone, from a self-made chain: intact, but nothing proves who made it
    cases["c2pa-only"] = (write("c2pa-only.png", _c2pa_alone(stripped_of(noise_image(64, 10)), attacker)),
                          "unproven", "valid")
    return cases


def test_the_page_validates_c2pa_and_agrees_with_studio_verify_on_another_install(browser: Chromium, engine,
                                                                                tmp_path: Path) -> None:
    cases = make_c2pa_cases(engine, tmp_path)
    # another machine's studio: a fresh home, whose install has not signed (so trusts none of) these files
    elsewhere = studio_verify([path for path, _, _ in cases.values()], home=tmp_path / "another-install")
    browser.open(PAGE.as_uri())
    for name, (path, verdict, c2pa) in cases.items():
        studio = elsewhere[path.name]
        page = page_verdict(browser, path)
        assert (studio["verdict"], studio["c2pa"]) == (verdict, c2pa), (name, studio["problems"])
        assert (page["verdict"], page["c2pa"]) == (verdict, c2pa), (name, page["problems"], page["notes"])
        for key in ("source", "manifest_sha256", "signer", "signature_valid", "pixel_hash_ok", "c2pa_signer"):
            assert page[key] == studio[key], (name, key, page[key], studio[key])
        if c2pa == "invalid":
            assert any("C2PA manifest does not validate" in problem for problem in page["problems"]), name
    # what the page shows for a valid C2PA: intact, signed by the install its certificate names, not trusted
    page_verdict(browser, cases["c2pa-fresh"][0])
    shown = browser.evaluate("document.querySelector('.facts').textContent")
    assert "valid, not trusted" in shown and "Provenance Studio install" in shown
    # only the signer's own install trusts its C2PA; the page, like every other install, says valid
    home = studio_verify([cases["c2pa-fresh"][0]])[cases["c2pa-fresh"][0].name]
    assert (home["verdict"], home["c2pa"]) == ("verified", "trusted")


def test_the_local_gateway_serves_the_page_at_verify(browser: Chromium, store, tmp_path: Path) -> None:
    from studio.storage.gateway import Gateway

    vectors = ROOT / "docs" / "spec-vectors"
    with Gateway(store) as gateway:
        browser.open(f"{gateway.url}/verify/")
        assert browser.evaluate("document.getElementById('gateway').value") == gateway.url
        for name, verdict in (("fresh.png", "verified"), ("one-pixel-changed.png", "tampered"),
                              ("a1111.png", "no-provenance"),  # and the C2PA engine, loaded from the gateway:
                              ("c2pa-signed.png", "verified"), ("c2pa-signature-altered.png", "tampered")):
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
