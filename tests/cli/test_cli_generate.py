"""The ``studio`` command end to end: generate, models, errors and exit codes."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from studio.cli.generate import parse_lora, parse_size
from studio.cli.main import main
from studio.errors import InputError
from studio.paths import studio_paths
from studio.workflows.generate import read_recipe

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def demo_home(studio_home: Path, demo_model_dir: Path) -> Path:
    """The studio home with the session's demo model already in place (saves rebuilding it)."""
    shutil.copytree(demo_model_dir, studio_paths().demo_model_dir)
    return studio_home


def test_generate_json_prints_one_object_per_saved_image(demo_home: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code = main(["generate", "a cat", "--size", "64x64", "--steps", "2", "--seed", "5", "--count", "2",
                 "--out", str(out), "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert [line["recipe"]["seed"] for line in lines] == [5, 6]
    for line in lines:
        path = Path(line["path"])
        assert path.parent == out and path.exists()
        assert read_recipe(path).to_dict() == line["recipe"]
        assert line["recipe"]["steps"] == 2 and line["recipe"]["guidance"] == 7.0  # the model's default
        assert line["warnings"] == []


def test_generate_defaults_to_the_works_folder_and_prints_paths(demo_home: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "a dog", "--size", "64", "--steps", "1", "--scheduler", "ddim"]) == 0
    printed = capsys.readouterr().out.split()
    assert len(printed) == 1
    path = Path(printed[0])
    assert path.parent == studio_paths().works_dir
    assert read_recipe(path).scheduler == "ddim"


def test_init_image_and_mask_options_make_an_inpaint(demo_home: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    init = tmp_path / "init.png"
    Image.new("RGB", (64, 64), (200, 40, 40)).save(init)
    mask = tmp_path / "mask.png"
    Image.new("L", (64, 64), 255).save(mask)
    code = main(["generate", "a cat", "--size", "64x64", "--steps", "4", "--init-image", str(init),
                 "--strength", "0.5", "--mask", str(mask), "--out", str(tmp_path / "o"), "--json"])
    assert code == 0
    recipe = json.loads(capsys.readouterr().out)["recipe"]
    assert recipe["mode"] == "inpaint" and recipe["strength"] == 0.5 and recipe["mask_hash"]


def test_bad_size_exits_2_with_a_clear_message(demo_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "a cat", "--size", "100x64", "--steps", "1"]) == 2
    err = capsys.readouterr().err
    assert "not a multiple of 8" in err and "96 or 104" in err
    assert "Traceback" not in err
    assert not any(studio_paths().works_dir.iterdir())


def test_missing_model_and_files_exit_2(demo_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "x", "--model", "no-such-model"]) == 2
    assert "no-such-model" in capsys.readouterr().err
    assert main(["generate", "x", "--size", "64x64", "--init-image", str(tmp_path / "nope.png")]) == 2
    assert "nope.png" in capsys.readouterr().err
    assert main(["generate", "x", "--size", "sixty"]) == 2


def test_argument_errors_return_2_without_exiting(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate"]) == 2
    assert "prompt" in capsys.readouterr().err
    assert main([]) == 2


def test_size_and_lora_parsing(tmp_path: Path) -> None:
    assert parse_size("512x768") == (512, 768) and parse_size("640") == (640, 640)
    with pytest.raises(InputError):
        parse_size("big")
    assert parse_lora("a/style.safetensors:0.6").weight == 0.6
    spec = parse_lora("a/style.safetensors")
    assert spec.weight == 1.0 and spec.path == Path("a/style.safetensors")
    assert parse_lora(r"C:\loras\ink.safetensors").path == Path(r"C:\loras\ink.safetensors")


def test_models_lists_the_demo(demo_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:4] == ["NAME", "FAMILY", "VARIANT", "FORMAT"]
    assert any(line.startswith("demo") for line in out.splitlines()[1:])
    assert main(["models", "--json"]) == 0
    names = [json.loads(line).get("name") for line in capsys.readouterr().out.splitlines()]
    assert "demo" in names


def test_cli_starts_without_importing_torch() -> None:
    code = ("import sys; from studio.cli.main import build_parser; build_parser(); "
            "print('torch' in sys.modules, 'diffusers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


@pytest.mark.slow
def test_python_dash_m_studio_generate(demo_home: Path, tmp_path: Path) -> None:
    env = dict(os.environ, STUDIO_HOME=str(demo_home))
    done = subprocess.run([sys.executable, "-m", "studio", "generate", "a cat", "--size", "64x64", "--steps", "2",
                           "--seed", "3", "--out", str(tmp_path), "--json"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    line = json.loads(done.stdout.strip())
    assert Path(line["path"]).exists() and line["recipe"]["seed"] == 3
    bad = subprocess.run([sys.executable, "-m", "studio", "generate", "a cat", "--size", "65x64"],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert bad.returncode == 2 and "multiple of 8" in bad.stderr and "Traceback" not in bad.stderr


def test_sign_signs_with_the_wallet_and_the_gallery_library_records_the_work(
        demo_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import studio.chain.keystore as keystore
    from studio.library.db import Library

    monkeypatch.setattr(keystore, "DEFAULT_KDF_N", 2**10)
    monkeypatch.delenv("STUDIO_WALLET_PASSWORD", raising=False)
    password = tmp_path / "password"
    password.write_text("a long wallet password\n")
    phrase = tmp_path / "phrase"
    phrase.write_text("test test test test test test test test test test test junk\n")
    assert main(["wallet", "import", "--phrase-file", str(phrase), "--password-file", str(password)]) == 0
    code = main(["generate", "a signed cat", "--size", "64x64", "--steps", "2", "--seed", "3", "--json",
                 "--sign", "--password-file", str(password)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    path = Path(json.loads(captured.out.splitlines()[-1])["path"])
    assert main(["verify", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert report["verdict"] == "verified"
    assert report["signer"].lower() == "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
    library = Library.default()
    try:
        assert [Path(w.path).resolve() for w in library.works()] == [path.resolve()]
    finally:
        library.close()


def test_sign_without_a_wallet_is_refused_before_generating(demo_home: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["generate", "a cat", "--size", "64x64", "--steps", "2", "--sign"])
    assert code == 2 and "no wallet to sign with" in capsys.readouterr().err
