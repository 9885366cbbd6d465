"""``studio avatars`` end to end with the demo model: presets, adapters, single, sheet, collection, rarity."""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from PIL import Image

from studio.assets import asset_path
from studio.cli.main import main
from studio.generation.engine import image_sha256
from studio.paths import studio_paths
from studio.provenance.manifest import SignedManifest
from studio.provenance.png_text import read_png_text
from studio.workflows.batch import read_manifest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "generation"))
from tiny_ip_adapter import build_tiny_ip_adapter  # noqa: E402

TRAITS = asset_path("examples", "avatar_traits.yaml")


@pytest.fixture
def demo_home(studio_home: Path, demo_model_dir: Path) -> Path:
    shutil.copytree(demo_model_dir, studio_paths().demo_model_dir)
    return studio_home


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_presets_and_adapters_are_listed(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "avatars", "presets", "--json")
    keys = [p["key"] for p in json.loads(out)]
    assert code == 0 and {"anime", "3d_render", "pixel_art", "oil_painting", "comic", "cyberpunk"} <= set(keys)
    code, out, _ = run(capsys, "avatars", "presets")
    assert code == 0 and "Pixel art" in out and "SDXL 1024px" in out
    code, out, _ = run(capsys, "avatars", "adapters", "--json")
    report = json.loads(out)
    assert code == 0 and report["available"] == [] and "non-commercial" in report["licence_notice"]
    assert any(str(studio_paths().models_dir) in line for line in report["downloads"])


@pytest.mark.slow
def test_single_from_a_photo_and_a_sheet(demo_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    photo = tmp_path / "me.png"
    Image.new("RGB", (80, 80), (120, 60, 200)).save(photo)
    code, out, err = run(capsys, "avatars", "single", "me as a knight", "--preset", "oil_painting", "--photo",
                         str(photo), "--strength", "0.5", "--size", "64", "--steps", "2", "--seed", "3",
                         "--out", str(tmp_path / "out"), "--json")
    assert code == 0, err
    line = json.loads(out)
    manifest = SignedManifest.from_json(read_png_text(Path(line["path"]))["studio:provenance"]).manifest
    with Image.open(photo) as image:
        assert [(p.role, p.sha256) for p in manifest.parents] == [("init", image_sha256(image.convert("RGB")))]
    assert manifest.pipeline == "avatar" and "oil painting portrait" in manifest.prompt

    code, out, err = run(capsys, "avatars", "sheet", str(photo), "a knight", "--count", "4", "--size", "64",
                         "--steps", "2", "--seed", "9", "--out", str(tmp_path / "sheet"))
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 5 and lines[-1].startswith("sheet: ")
    assert Path(lines[-1][7:]).is_file()

    code, _, err = run(capsys, "avatars", "single", "x", "--preset", "nope", "--size", "64")
    assert code == 2 and "no avatar preset “nope”" in err


@pytest.mark.slow
def test_collection_continues_where_it_stopped_and_reports_rarity(demo_home: Path, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "drop"
    args = ["avatars", "collection", str(TRAITS), "--count", "4", "--seed", "7", "--out", str(out),
            "--size", "64", "--steps", "2"]
    code, stdout, err = run(capsys, *args, "--json")
    assert code == 0, err
    lines = [json.loads(line) for line in stdout.splitlines()]
    assert [line["index"] for line in lines[:4]] == [0, 1, 2, 3]
    summary = lines[-1]
    assert summary["generated"] == 4 and summary["mint"].startswith("studio batch-mint ")
    assert len(read_manifest(Path(summary["manifest"]))) == 4
    # as after a crash: the last avatar's line never reached the progress log
    log = out / "progress.log"
    log.write_text("".join(log.read_text().splitlines(keepends=True)[:3]))
    code, stdout, err = run(capsys, *args)
    assert code == 0, err
    assert "Continuing: 3 of 4" in err and "(1 made now)" in stdout

    code, stdout, _ = run(capsys, "avatars", "rarity", str(out), "--json")
    report = json.loads(stdout)
    assert code == 0 and report["total"] == 4 and len(report["avatars"]) == 4
    code, stdout, _ = run(capsys, "avatars", "rarity", str(out), "--top", "2")
    assert code == 0 and "Background:" in stdout and "Rarest 2:" in stdout

    code, _, err = run(capsys, *args[:3], "--count", "5000", "--out", str(tmp_path / "big"))
    assert code == 2 and "at most 864 different avatars" in err
    code, _, err = run(capsys, "avatars", "rarity", str(tmp_path))
    assert code == 2 and "holds no avatar collection" in err


@pytest.mark.slow
def test_single_with_an_ip_adapter_records_it_and_faceid_needs_the_licence(
        demo_home: Path, demo_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from studio.generation.hashing import file_sha256

    weights = build_tiny_ip_adapter(studio_paths().models_dir / "IP-Adapter", demo_model_dir)
    faceid = studio_paths().models_dir / "IP-Adapter-FaceID" / "ip-adapter-faceid_sd15.bin"
    faceid.parent.mkdir()
    faceid.write_bytes(b"not read")
    code, out, _ = run(capsys, "avatars", "adapters", "--json")
    assert code == 0 and {a["name"] for a in json.loads(out)["available"]} == {weights.name, faceid.name}

    photo = tmp_path / "me.png"
    Image.new("RGB", (80, 80), (120, 60, 200)).save(photo)
    with Image.open(photo) as image:
        photo_sha = image_sha256(image.convert("RGB"))
    common = ["--preset", "anime", "--photo", str(photo), "--size", "64", "--steps", "2", "--seed", "3",
              "--out", str(tmp_path / "out"), "--json"]
    code, out, err = run(capsys, "avatars", "single", "me", *common, "--adapter", "ip-adapter_sd15",
                         "--adapter-scale", "0.8")
    assert code == 0, err
    manifest = SignedManifest.from_json(read_png_text(Path(json.loads(out)["path"]))["studio:provenance"]).manifest
    assert [(a.name, a.sha256, a.weight) for a in manifest.adapters] == [(weights.name, file_sha256(weights), 0.8)]
    assert [(p.role, p.sha256) for p in manifest.parents] == [("init", photo_sha), ("ip_adapter", photo_sha)]

    code, out, err = run(capsys, "avatars", "single", "me", *common, "--adapter", weights.name, "--adapter-only")
    assert code == 0, err
    manifest = SignedManifest.from_json(read_png_text(Path(json.loads(out)["path"]))["studio:provenance"]).manifest
    assert [(p.role, p.sha256) for p in manifest.parents] == [("ip_adapter", photo_sha)]

    code, out, _ = run(capsys, "avatars", "single", "me", *common, "--adapter", "ip-adapter-faceid_sd15")
    error = json.loads(out)  # under --json the error is one JSON object on stdout
    said = f"{error['error']} {error['hint']}"
    assert code == error["exit"] != 0 and "non-commercial research only" in said
    assert "--accept-noncommercial-licence" in said
    code, out, _ = run(capsys, "avatars", "single", "me", *common, "--adapter", "nope")
    error = json.loads(out)
    said = f"{error['error']} {error['hint']}"
    assert code == error["exit"] != 0 and "no usable IP-Adapter “nope”" in said and weights.name in said
    code, _, err = run(capsys, "avatars", "single", "me", "--size", "64", "--adapter", weights.name)
    assert code != 0 and "--adapter needs --photo" in err
