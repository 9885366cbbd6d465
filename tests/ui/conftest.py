"""Fixtures for GUI tests: a studio home holding the session's demo model, and the real window."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterator

import pytest

from studio.config import Config, load_config


@pytest.fixture
def demo_config(studio_home: Path, demo_model_dir: Path) -> Config:
    """Settings of a studio home whose demo model is already built (a copy of the session's, so
    that nothing a test does can change the shared one)."""
    config = load_config()
    target = config.paths.demo_model_dir
    if not target.exists():
        shutil.copytree(demo_model_dir, target)
    return config


@pytest.fixture
def window(qtbot, demo_config: Config) -> Iterator["MainWindow"]:  # noqa: F821
    """The real main window over the real catalog and engine, with the demo chosen at 64x64, 2 steps."""
    from studio.generation.models import ModelCatalog
    from studio.ui.main_window import MainWindow

    demo_config.set("default_model", "demo")
    demo_config.set("preview_every", 1)
    window = MainWindow(demo_config, ModelCatalog(demo_config))
    qtbot.addWidget(window)
    state = window.create_state
    state.width, state.height, state.steps = 64, 64, 2
    window.show()
    yield window
    window.close()
