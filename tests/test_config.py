"""Settings and folders: typed values, bad stored values fall back, STUDIO_HOME owns everything."""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from studio.config import SETTINGS, load_config
from studio.errors import InputError, StorageError
from studio.paths import studio_paths


def test_studio_home_puts_config_data_and_cache_under_one_folder(studio_home: Path) -> None:
    paths = studio_paths().ensure()
    for folder in (paths.config_dir, paths.data_dir, paths.cache_dir, paths.works_dir, paths.logs_dir):
        assert folder.is_dir()
        assert folder.resolve().is_relative_to(studio_home.resolve())


def test_without_studio_home_uses_platform_folders(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("STUDIO_HOME")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    paths = studio_paths()
    assert paths.config_dir == tmp_path / "xdg-config" / "ProvenanceStudio"
    assert paths.data_dir == tmp_path / "xdg-data" / "ProvenanceStudio"


def test_defaults_when_no_settings_file() -> None:
    config = load_config()
    for setting in SETTINGS:
        assert config[setting.key] == setting.default


def test_saved_settings_survive_a_restart() -> None:
    config = load_config()
    config.set("device", "cpu")
    config.set("preview_every", 5)
    config.save()
    again = load_config()
    assert again["device"] == "cpu"
    assert again["preview_every"] == 5


def test_bad_stored_values_fall_back_to_defaults_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    paths = studio_paths().ensure()
    paths.settings_file.write_text(json.dumps(
        {"device": "quantum", "preview_every": "often", "scan_hf_cache": False, "mystery": 1}))
    with caplog.at_level(logging.WARNING):
        config = load_config()
    assert config["device"] == "auto"
    assert config["preview_every"] == 2
    assert config["scan_hf_cache"] is False  # a good value is kept
    assert "device" in caplog.text and "mystery" in caplog.text


def test_corrupt_settings_file_does_not_stop_start_up(caplog: pytest.LogCaptureFixture) -> None:
    paths = studio_paths().ensure()
    paths.settings_file.write_text("{not json")
    with caplog.at_level(logging.WARNING):
        config = load_config()
    assert config["device"] == "auto"
    assert "unreadable" in caplog.text


def test_setting_a_bad_value_is_refused_with_the_help_text() -> None:
    config = load_config()
    with pytest.raises(InputError, match="Device"):
        config.set("device", "gpu9000")
    with pytest.raises(InputError):
        config.set("preview_every", 999)
    assert config["device"] == "auto"


def test_failed_save_keeps_the_previous_file(monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config()
    config.set("device", "cpu")
    config.save()
    before = config.paths.settings_file.read_text()

    def disk_full(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    config.set("device", "mps")
    with pytest.raises(StorageError, match="disk is full"):
        config.save()
    assert config.paths.settings_file.read_text() == before
    assert not [p for p in config.paths.config_dir.iterdir() if p.name.startswith(".settings.json-")]
