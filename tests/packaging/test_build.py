"""The installable app: icons and desktop entry (fast), and the PyInstaller build started for real (slow).

The build test runs ``packaging/build.py`` into a temporary folder, opens the built window offscreen
to its main window and then every tab (``--check-tabs``), makes a work with the built ``studio generate`` (torch and diffusers inside the
package) and checks it with the built ``studio verify`` (c2pa's native library inside the package).
It takes about 6-9 minutes on 2 cores; it runs in every full test run (CI included) and can be
left out locally with ``STUDIO_SKIP_PACKAGE=1``.
"""
from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from studio import __version__

ROOT = Path(__file__).resolve().parents[2]
ICONS = ROOT / "assets" / "icons"
APP = "provenance-studio"


def test_icons_exist_at_every_size_and_the_ico_and_icns_open() -> None:
    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        with Image.open(ICONS / f"{APP}-{size}.png") as png:
            assert png.size == (size, size) and png.mode == "RGBA"
            assert png.getpixel((size // 2, size // 2))[3] == 255  # drawn, not blank
            assert png.getpixel((0, 0))[3] == 0  # rounded tile: transparent corners
    with Image.open(ICONS / f"{APP}.ico") as ico:
        assert (256, 256) in ico.info["sizes"] and (16, 16) in ico.info["sizes"]
    with Image.open(ICONS / f"{APP}.icns") as icns:
        assert icns.format == "ICNS" and icns.size[0] >= 256


def test_make_icons_draws_the_same_icon_again(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, str(ROOT / "packaging" / "make_icons.py"), str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    with Image.open(tmp_path / f"{APP}-64.png") as fresh, Image.open(ICONS / f"{APP}-64.png") as committed:
        assert fresh.tobytes() == committed.tobytes()


def test_desktop_entry_names_the_program_and_the_icon() -> None:
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # keys are case-sensitive
    entry.read(ROOT / "packaging" / "linux" / f"{APP}.desktop", encoding="utf-8")
    section = entry["Desktop Entry"]
    assert section["Type"] == "Application" and section["Name"] == "Provenance Studio"
    assert section["Exec"].split()[0] == APP and section["TryExec"] == APP
    assert section["Icon"] == APP and section["Terminal"] == "false"
    assert section["Categories"].endswith(";")


def test_version_is_written_once_and_read_dynamically() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject and 'attr = "studio.__version__"' in pyproject
    assert 'studio-gui = "studio.ui.app:main"' in pyproject
    assert "\nversion = " not in pyproject.split("[tool.setuptools.dynamic]")[0]
    # studio/__init__.py stays tiny: importing it for the version loads nothing else of the studio
    probe = subprocess.run([sys.executable, "-c", "import sys, studio; print(studio.__version__, "
                            "sorted(m for m in sys.modules if m.startswith('studio.')))"],
                           capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert probe.stdout.split(" ", 1) == [__version__, "[]\n"]


def _run(args: list[str], env: dict[str, str], timeout: int) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=timeout)


@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.skipif(os.environ.get("STUDIO_SKIP_PACKAGE") == "1",
                    reason="STUDIO_SKIP_PACKAGE=1: the PyInstaller build (6-9 min on 2 cores) was left out")
def test_built_app_opens_its_window_and_its_command_line_generates_and_verifies(tmp_path: Path) -> None:
    build = _run([sys.executable, str(ROOT / "packaging" / "build.py"), "--dist", str(tmp_path / "dist"),
                  "--work", str(tmp_path / "work")], dict(os.environ), timeout=1700)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    app_dir = tmp_path / "dist" / APP
    assert f"App folder: {app_dir}" in build.stdout
    assert (app_dir / "share" / "applications" / f"{APP}.desktop").is_file()
    assert (app_dir / "share" / "icons" / "hicolor" / "256x256" / "apps" / f"{APP}.png").is_file()
    assert not list(app_dir.rglob("libcudnn*")) and not list(app_dir.rglob("*.rlib"))
    # the verifier page the local gateway serves at /verify/ (found beside the studio package)
    (page,) = app_dir.rglob("verifier/dist/verifier.js")
    assert page.read_bytes() == (ROOT / "verifier" / "dist" / "verifier.js").read_bytes()
    assert (page.parent / "c2pa-engine.js").read_bytes() == (ROOT / "verifier" / "dist" / "c2pa-engine.js").read_bytes()
    assert (page.parent.parent / "index.html").is_file()

    env = {**os.environ, "STUDIO_HOME": str(tmp_path / "home"), "QT_QPA_PLATFORM": "offscreen",
           "HF_HUB_OFFLINE": "1"}
    shown = _run([str(app_dir / APP), "--quit-after-show"], env, timeout=120)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "window shown after" in shown.stdout and "(torch not loaded)" in shown.stdout
    tabs = _run([str(app_dir / APP), "--check-tabs"], env, timeout=180)
    assert tabs.returncode == 0, tabs.stdout + tabs.stderr
    assert "tabs checked: 6 of 6 opened" in tabs.stdout, tabs.stdout

    version = _run([str(app_dir / "studio"), "--version"], env, timeout=60)
    assert version.stdout.strip() == f"provenance-studio {__version__}"

    made = _run([str(app_dir / "studio"), "generate", "a lighthouse at dusk", "--model", "demo", "--steps", "2",
                 "--size", "64x64", "--seed", "7", "--out", str(tmp_path / "works"), "--json"], env, timeout=300)
    assert made.returncode == 0, made.stderr[-3000:]
    work = Path(json.loads(made.stdout.strip().splitlines()[-1])["path"])
    checked = _run([str(app_dir / "studio"), "verify", "--offline", "--json", str(work)], env, timeout=120)
    assert checked.returncode == 0, checked.stderr[-3000:]
    report = json.loads(checked.stdout.strip().splitlines()[-1])
    assert report["verdict"] == "verified" and report["pixel_hash_ok"] is True and report["c2pa"] == "trusted"
