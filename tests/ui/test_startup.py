"""``python main.py --quit-after-show`` opens the window without importing torch and exits 0."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_window_opens_without_torch_and_reports_its_start_time(studio_home: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", STUDIO_HOME=str(studio_home))
    done = subprocess.run([sys.executable, "-X", "importtime", "main.py", "--quit-after-show"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    match = re.search(r"window shown after ([0-9.]+) s \(torch not loaded\)", done.stdout)
    assert match, done.stdout
    assert 0 < float(match.group(1)) < 30
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "PySide6.QtWidgets" in imported and "studio.ui.main_window" in imported
    heavy = {name for name in imported if name.split(".")[0] in {"torch", "diffusers", "transformers", "web3"}}
    assert not heavy, f"imported at start-up: {sorted(heavy)[:5]}"


@pytest.mark.slow
def test_check_tabs_opens_every_tab_and_exits_zero(studio_home: Path) -> None:
    """The smoke test a packager runs (`--check-tabs`), here on the source tree."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", STUDIO_HOME=str(studio_home))
    done = subprocess.run([sys.executable, "main.py", "--check-tabs"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    opened = re.findall(r"^tab opened: (.+)$", done.stdout, re.M)
    assert opened == ["Create", "Avatars", "Gallery", "Market", "Collections", "Wallet"]
    assert "tabs checked: 6 of 6 opened" in done.stdout
