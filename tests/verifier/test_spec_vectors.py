"""The committed test vectors of docs/provenance-spec.md (docs/spec-vectors/) hold for the studio's
code, and the JavaScript verifier written from the spec (verifier/src, run under node) agrees with
`studio verify --json` on every one of them; its JCS passes RFC 8785's own examples; the page's
committed bundle is what its sources build."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from spec_vectors import INDEX, VECTORS, VECTORS_DIR, describe, signed_manifest_of

from studio.provenance.pixels import file_pixel_hash

ROOT = Path(__file__).resolve().parents[2]
VERIFIER = ROOT / "verifier"
ENTRIES = json.loads(INDEX.read_text(encoding="utf-8"))["vectors"]
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None or not (VERIFIER / "node_modules" / "pngjs").exists(),
                                reason="Node.js and verifier/node_modules (`npm ci` in verifier/, which dev.py runs) "
                                       "are needed")


def test_every_vector_is_committed_and_described() -> None:
    assert [entry["name"] for entry in ENTRIES] == list(VECTORS)
    assert {entry["verdict"] for entry in ENTRIES} == {"verified", "unproven", "no-provenance", "tampered",
                                                        "invalid-signature", "unreadable"}


@pytest.mark.parametrize("entry", ENTRIES, ids=[entry["name"] for entry in ENTRIES])
def test_the_code_finds_in_each_vector_what_the_vector_says(entry: dict[str, Any]) -> None:
    from studio.chain.signatures import recover_typed_data
    from studio.provenance.verify import verify_file

    path = VECTORS_DIR / entry["file"]
    data = path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == entry["file_sha256"]
    assert describe(entry["name"], data) == entry  # canonical hash, digest, signer: as committed
    verdict = verify_file(path, recover=recover_typed_data)
    assert verdict.verdict == entry["verdict"], verdict.problems
    assert verdict.to_json()["manifest_sha256"] == entry.get("manifest_sha256")
    if "canonical" in entry:
        signed = signed_manifest_of(data)
        assert signed is not None
        manifest = signed.manifest
        assert manifest.canonical_json() == (VECTORS_DIR / entry["canonical"]).read_bytes()
        assert hashlib.sha256(manifest.canonical_json()).hexdigest() == entry["manifest_sha256"]
        if entry["verdict"] == "verified" and entry["schema"] == "studio.provenance/2":
            assert file_pixel_hash(data) == entry["pixel_hash"]


def test_the_vectors_are_made_again_the_same(tmp_path: Path) -> None:
    from spec_vectors import write_vectors

    again = write_vectors(tmp_path)
    committed = {entry["name"]: entry for entry in ENTRIES}
    for entry in again:
        name = entry["name"]
        # PNG bytes depend on the zlib that compressed them; everything a verifier checks must not
        assert {k: v for k, v in entry.items() if k != "file_sha256"} == \
            {k: v for k, v in committed[name].items() if k != "file_sha256"}, name
        if "canonical" in entry:
            assert (tmp_path / entry["canonical"]).read_bytes() == (VECTORS_DIR / entry["canonical"]).read_bytes()


def _node(script: str, *args: str) -> list[dict[str, Any]]:
    assert NODE is not None
    result = subprocess.run([NODE, script, *args], cwd=VERIFIER, capture_output=True, text=True, timeout=120)
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert lines, result.stderr[-2000:]
    return lines


@needs_node
def test_the_javascript_verifier_agrees_with_studio_verify_on_every_vector() -> None:
    found = {line["name"]: line for line in _node("test/vectors.mjs", str(VECTORS_DIR))}
    files = [str(VECTORS_DIR / entry["file"]) for entry in ENTRIES]
    result = subprocess.run([sys.executable, "-m", "studio", "verify", "--json", "--offline", *files],
                            capture_output=True, text=True, timeout=240, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    studio = {Path(item["path"]).stem: item for item in map(json.loads, result.stdout.splitlines())}
    assert set(found) == set(studio) == set(VECTORS)
    for name, js in found.items():
        assert js["ok"], (name, js["checks"], js["problems"])
        expected = studio[name]
        for key in ("verdict", "source", "manifest_sha256", "signer", "signature_valid", "pixel_hash_ok", "c2pa"):
            assert js[key] == expected[key], (name, key, js[key], expected[key])


@needs_node
def test_the_javascript_pixel_hash_is_the_studios_for_every_kind_of_png(tmp_path: Path) -> None:
    import struct

    from png_encoder import encode, random_image

    from studio.provenance.pixels import PNG_DEPTHS

    cases = []
    for colour, depths in PNG_DEPTHS.items():
        for depth in depths:
            for interlace in (False, True):
                for trns in (False, True) if colour in (0, 2, 3) else (False,):
                    entries = min(2**depth, 6) if colour == 3 else 0
                    key = {0: struct.pack(">H", 1), 2: struct.pack(">3H", 1, 2, 3), 3: bytes([0, 77, 200])[:entries]}
                    image = random_image(13, 9, colour, depth, seed=colour * 100 + depth, palette_size=entries,
                                         transparency=key[colour] if trns else None)
                    name = f"c{colour}-d{depth}{'-adam7' if interlace else ''}{'-trns' if trns else ''}.png"
                    data = encode(image, interlace=interlace, first_filter=depth % 5)
                    (tmp_path / name).write_bytes(data)
                    cases.append({"file": name, "hash": file_pixel_hash(data)})
    (tmp_path / "index.json").write_text(json.dumps(cases))
    lines = _node("test/pixels.mjs", str(tmp_path))
    assert len(lines) == len(cases) == 52
    assert all(line["ok"] for line in lines), [line for line in lines if not line["ok"]]


@needs_node
def test_the_javascript_jcs_passes_the_rfc_8785_examples() -> None:
    lines = _node("test/jcs.mjs")
    assert len(lines) >= 30 and all(line["ok"] for line in lines), [line for line in lines if not line["ok"]]


@needs_node
def test_the_page_refuses_a_changed_c2pa_engine_and_without_one_says_c2pa_is_unchecked() -> None:
    lines = _node("test/c2pa.mjs")
    assert len(lines) == 6 and all(line["ok"] for line in lines), [line for line in lines if not line["ok"]]


@needs_node
def test_the_committed_bundle_is_what_the_sources_build() -> None:
    assert NODE is not None
    result = subprocess.run([NODE, "build.mjs", "--check"], cwd=VERIFIER, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr + result.stdout


def test_the_verifier_pins_its_libraries_exactly() -> None:
    package = json.loads((VERIFIER / "package.json").read_text())
    lock = json.loads((VERIFIER / "package-lock.json").read_text())
    for name, version in package["devDependencies"].items():
        assert all(ch.isdigit() or ch == "." for ch in version), f"{name} must be pinned to an exact version"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version


def _settings_png(folder: Path, name: str, settings_text: str, *, schema: str | None = None) -> Path:
    """An unsigned studio PNG whose manifest carries ``settings_text`` (raw JSON, written as is)."""
    from spec_vectors import _itxt, _manifest, _noise, _with_chunks

    from studio.provenance.embed import PROVENANCE_KEY
    from studio.provenance.manifest import pixel_hash

    image = _noise(16, 3)
    data = _manifest(pixel_hash(image), 16, 16, None).to_dict()
    if schema is not None:
        data["schema"] = schema
    data["settings"] = "@SETTINGS@"
    text = json.dumps({"manifest": data, "signature": None}).replace('"@SETTINGS@"', settings_text)
    plain = folder / "plain.png"
    image.save(plain)
    path = folder / f"{name}.png"
    path.write_bytes(_with_chunks(plain.read_bytes(), (_itxt(PROVENANCE_KEY, text),)))
    return path


@needs_node
def test_the_javascript_verifier_and_studio_verify_read_the_settings_member_alike(tmp_path: Path) -> None:
    cases = {  # name -> (raw settings JSON, whether the manifest is intact)
        "fine": ('{"sigmas":"karras","hires":{"scale":1.5},"control":[{"weight":1}],"big":1e300}', True),
        "top-whole-number": ('{"seed":9007199254740991}', True),
        "empty": ("{}", False),
        "a-list": ("[1,2]", False),
        "text": ('"karras"', False),
        "whole-number-past-2-53": ('{"seed":9007199254740992}', False),
        "not-a-number": ('{"x":NaN}', False),
        "too-deep": ('{"a":' * 10 + "1" + "}" * 10, False),
        "too-large": ('{"x":"' + "y" * 70_000 + '"}', False),
    }
    folder = tmp_path / "vectors"
    folder.mkdir()
    files = {name: _settings_png(folder, name, text) for name, (text, _ok) in cases.items()}
    files["on-version-1"] = _settings_png(folder, "on-version-1", '{"sigmas":"karras"}', schema="studio.provenance/1")
    result = subprocess.run([sys.executable, "-m", "studio", "verify", "--json", "--offline",
                             *map(str, files.values())], capture_output=True, text=True, timeout=240, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    studio = {Path(item["path"]).stem: item for item in map(json.loads, result.stdout.splitlines())}
    assert set(studio) == set(files), result.stderr[-2000:]
    for name, (_text, intact) in cases.items():
        assert (studio[name]["verdict"] == "verified") is intact, (name, studio[name])
    assert studio["on-version-1"]["verdict"] != "verified"
    (folder / "vectors.json").write_text(json.dumps({"vectors": [
        {"name": name, "file": path.name, "verdict": studio[name]["verdict"]} for name, path in files.items()]}),
        encoding="utf-8")
    found = {line["name"]: line for line in _node("test/vectors.mjs", str(folder))}
    for name in files:
        assert found[name]["verdict"] == studio[name]["verdict"], (name, found[name], studio[name])
        assert found[name]["manifest_sha256"] == studio[name]["manifest_sha256"], name
