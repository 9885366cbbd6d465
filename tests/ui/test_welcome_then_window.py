"""The first run end to end in a fresh process with Qt warnings fatal: the welcome's failure paths,
then the main window (see welcome_then_window.py for the path walked and why)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_welcome_failure_paths_then_the_window_destroy_no_qt_object_off_its_thread(studio_home: Path,
                                                                                  tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", STUDIO_HOME=str(studio_home),
               HF_HUB_CACHE=str(tmp_path / "empty-hf-cache"), PYTHONPATH=str(ROOT))
    for offline in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):  # the download really tries the (closed) hub
        env.pop(offline, None)
    env.pop("STUDIO_NO_WELCOME", None)
    done = subprocess.run([sys.executable, str(Path(__file__).with_name("welcome_then_window.py"))], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr[-4000:]}"
    assert "first run ended cleanly" in done.stdout
    assert "QObject::" not in done.stderr and "another thread" not in done.stderr, done.stderr[-4000:]
