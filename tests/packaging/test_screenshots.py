"""packaging/screenshots.py keeps working: it drives the real app offscreen and writes a PNG per tab
and of the verify dialog, each small and showing real content (not a blank or single-colour frame)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageStat

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = ("create", "avatars", "gallery", "market", "collections", "wallet", "verify")


@pytest.mark.slow
def test_screenshot_script_writes_every_tab_with_content(tmp_path: Path) -> None:
    out = tmp_path / "shots"
    result = subprocess.run([sys.executable, str(ROOT / "packaging" / "screenshots.py"), "--out", str(out),
                             "--width", "900"], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    # No background job failed on the way (the token counter once lost an import race with the
    # pipeline's load on the first start and logged its traceback here).
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert sorted(p.stem for p in out.glob("*.png")) == sorted(EXPECTED)
    for name in EXPECTED:
        with Image.open(out / f"{name}.png") as image:
            assert image.width <= 900 and image.height > 200, (name, image.size)
            grey = image.convert("L")
            assert ImageStat.Stat(grey).stddev[0] > 10, f"{name}.png looks blank"
            assert len(grey.getcolors(256) or []) > 16, f"{name}.png has almost no detail"
    with Image.open(out / "create.png") as create:  # the generated images are in the frame: many hues
        assert len(create.convert("RGB").getcolors(1 << 16) or []) > 64


def test_committed_screenshots_exist_for_every_tab_and_stay_small() -> None:
    for name in EXPECTED:
        path = ROOT / "docs" / "screenshots" / f"{name}.png"
        with Image.open(path) as image:
            assert image.width <= 1100
        assert path.stat().st_size < 400 * 1024
