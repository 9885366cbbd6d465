"""``studio generate`` with the Create options (sampler and schedule, clip skip, hires fix, ControlNet,
variations, batches, styles, an X/Y/Z plot), ``studio upscale``, ``pnginfo``, ``styles``, ``history``,
and ``verify --reproduce`` with the pictures and weights a work needs."""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from studio.cli.main import main
from studio.paths import studio_paths
from studio.workflows.generate import read_recipe

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "generation"))
from tiny_control import tiny_controlnet  # noqa: E402


@pytest.fixture
def demo_home(studio_home: Path, demo_model_dir: Path) -> Path:
    shutil.copytree(demo_model_dir, studio_paths().demo_model_dir)
    return studio_home


def lines(capsys: pytest.CaptureFixture[str]) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_generate_takes_the_create_options_and_records_them(demo_home: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["styles", "save", "ink", "--prompt", "{prompt}, ink drawing", "--negative", "color", "--json"]) == 0
    capsys.readouterr()
    code = main(["generate", "a (red:1.2) fox", "--size", "64", "--steps", "2", "--seed", "3", "--sampler", "dpmpp_2m",
                 "--sigmas", "karras", "--clip-skip", "2", "--hires", "1.5", "--hires-steps", "2",
                 "--variation-seed", "9", "--variation-strength", "0.3", "--batch-size", "2", "--style", "ink",
                 "--out", str(tmp_path / "out"), "--json"])
    assert code == 0
    found = lines(capsys)
    assert len(found) == 2
    recipe = read_recipe(Path(found[1]["path"]))
    assert (recipe.scheduler, recipe.sigmas, recipe.clip_skip, recipe.batch_index) == ("dpmpp_2m", "karras", 2, 1)
    assert recipe.prompt == "a (red:1.2) fox, ink drawing" and recipe.negative_prompt == "color"
    assert recipe.hires is not None and recipe.hires.width == 96
    assert found[1]["recipe"]["settings"]["variation"] == {"seed": 10, "strength": 0.3}
    assert main(["history", "--json"]) == 0
    assert lines(capsys)[0]["prompts"][0]["prompt"] == "a (red:1.2) fox, ink drawing"


def test_a_controlnet_work_reproduces_with_its_picture_and_weights(demo_home: Path, demo_model_dir: Path,
                                                                   tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    model = tiny_controlnet(demo_model_dir, tmp_path / "weights", seed=4)
    picture = tmp_path / "shapes.png"
    image = Image.new("RGB", (64, 64), "white")
    ImageDraw.Draw(image).ellipse((8, 8, 56, 56), fill="black")
    image.save(picture)
    assert main(["generate", "a fox", "--size", "64", "--steps", "2", "--seed", "1",
                 "--control", f"model={model},image={picture},pre=canny,weight=0.7,end=0.8",
                 "--out", str(tmp_path / "out"), "--json"]) == 0
    path = lines(capsys)[0]["path"]
    assert main(["verify", path, "--reproduce", "--offline", "--json"]) == 2
    assert "control0" in lines(capsys)[0]["reproduce"]["error"]
    assert main(["verify", path, "--reproduce", "--offline", "--input", f"control0={picture}",
                 "--weights", str(tmp_path / "weights"), "--json"]) in (0, 3)
    result = lines(capsys)[0]["reproduce"]
    assert (result["method"], result["match"]) == ("exact", True)


def test_an_xyz_plot_prints_each_work_then_the_grid(demo_home: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "a red fox", "--size", "64", "--steps", "1", "--seed", "2", "--x", "steps=1,2",
                 "--y", "prompt_sr=red,blue", "--out", str(tmp_path / "out"), "--json"]) == 0
    found = lines(capsys)
    assert len(found) == 5 and Path(found[4]["grid"]).exists()
    assert [line["recipe"]["steps"] for line in found[:4]] == [1, 2, 1, 2]
    assert main(["generate", "a fox", "--size", "64", "--x", "colour=1,2", "--json"]) == 2


def test_upscale_and_pnginfo(demo_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "a fox", "--size", "64", "--steps", "1", "--seed", "4", "--sigmas", "exponential",
                 "--sampler", "unipc", "--out", str(tmp_path / "out"), "--json"]) == 0
    source = lines(capsys)[0]["path"]
    assert main(["upscale", source, "--scale", "2", "--out", str(tmp_path / "big"), "--json"]) == 0
    upscaled = lines(capsys)[0]
    assert upscaled["recipe"]["mode"] == "upscale" and upscaled["recipe"]["width"] == 128
    assert main(["verify", upscaled["path"], "--reproduce", "--offline", "--input", f"init={source}", "--json"]) == 0
    assert lines(capsys)[0]["reproduce"]["match"] is True
    # an upscaler model file (Real-ESRGAN compact, x2): recorded by name and SHA-256, found again by --weights
    from tiny_upscalers import compact_state, save

    model = save(compact_state(seed=5, scale=2), tmp_path / "weights" / "tiny-x2.safetensors")
    assert main(["upscale", source, "--upscaler", str(model), "--scale", "3", "--out", str(tmp_path / "big"),
                 "--json"]) == 0
    by_model = lines(capsys)[0]
    assert (by_model["recipe"]["width"], by_model["recipe"]["height"]) == (192, 192)
    assert by_model["recipe"]["settings"]["upscale"]["upscaler"] == "tiny-x2.safetensors"
    with Image.open(by_model["path"]) as picture, Image.open(upscaled["path"]) as lanczos:
        assert picture.size == (192, 192) and lanczos.size == (128, 128)
    assert main(["verify", by_model["path"], "--reproduce", "--offline", "--input", f"init={source}",
                 "--weights", str(tmp_path / "weights"), "--json"]) == 0
    assert lines(capsys)[0]["reproduce"]["match"] is True
    assert main(["upscale", source, "--upscaler", str(tmp_path / "gone.pth"), "--json"]) == 2
    failure = lines(capsys)[0]
    assert "gone.pth does not exist" in failure["error"] and "Lanczos" in failure["hint"]
    assert main(["pnginfo", source, "--json"]) == 0
    info = lines(capsys)[0]
    assert info["source"] == "studio" and info["request"]["sigmas"] == "exponential"
    assert info["request"]["scheduler"] == "unipc" and info["notes"] == []
    assert main(["pnginfo", source]) == 0  # the text: the lines the Create tab's PNG Info shows
    text = capsys.readouterr().out.splitlines()
    assert text[0] == str(source) and text[1] == "  Written by: studio"
    assert any(line.startswith("  scheduler: unipc") for line in text)


def test_outpaint_from_the_command_line(demo_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    init = tmp_path / "init.png"
    Image.new("RGB", (64, 64), (30, 120, 200)).save(init)
    assert main(["generate", "a sea", "--init-image", str(init), "--strength", "1", "--outpaint", "0,32,0,16",
                 "--steps", "2", "--seed", "1", "--out", str(tmp_path / "out"), "--json"]) == 0
    recipe = lines(capsys)[0]["recipe"]
    assert (recipe["width"], recipe["height"], recipe["mode"]) == (96, 80, "inpaint")
    assert main(["generate", "a sea", "--outpaint", "0,32,0,0", "--json"]) == 2
