"""Shared fixtures: a private studio home per test, and the demo model built once per session."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(autouse=True)
def studio_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test owns a temporary studio home (config, data and cache folders)."""
    home = tmp_path / "studio-home"
    monkeypatch.setenv("STUDIO_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def demo_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo model saved as a diffusers folder, built once for the whole session."""
    from studio.generation.demo import ensure_demo_model

    return ensure_demo_model(tmp_path_factory.mktemp("demo") / "demo-model").path


@pytest.fixture(scope="session", autouse=True)
def _pinned_threads() -> None:
    """Same seed and same thread count give identical pixels; pin the count for golden tests."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a hard dependency
        return
    torch.set_num_threads(2)
