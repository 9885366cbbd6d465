"""Where the studio keeps its config, data and cache.

platformdirs chooses the usual folders per OS; the environment variable ``STUDIO_HOME``
puts all of them under one folder (tests and scripts use it to own a private studio).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "ProvenanceStudio"
HOME_ENV = "STUDIO_HOME"


@dataclass(frozen=True)
class StudioPaths:
    config_dir: Path
    data_dir: Path
    cache_dir: Path
    #: The "works folder" setting: where generated images go when the user chose a folder.
    works_folder: Path | None = None

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.json"

    @property
    def works_dir(self) -> Path:
        """Generated images, one PNG per work: the chosen works folder, else ``<data>/works``."""
        return self.works_folder if self.works_folder is not None else self.data_dir / "works"

    @property
    def models_dir(self) -> Path:
        """The default folder scanned for user models."""
        return self.data_dir / "models"

    @property
    def demo_model_dir(self) -> Path:
        return self.data_dir / "demo-model"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def library_file(self) -> Path:
        """The SQLite library of works, collections, tokens and listings."""
        return self.data_dir / "library.db"

    @property
    def wallet_file(self) -> Path:
        """The wallet (studio.chain.wallet): its accounts, and its keys encrypted."""
        return self.data_dir / "wallet" / "wallet.json"

    @property
    def hash_cache_file(self) -> Path:
        return self.cache_dir / "model-hashes.json"

    def ensure(self) -> "StudioPaths":
        for folder in (self.config_dir, self.data_dir, self.cache_dir, self.data_dir / "works",
                       self.models_dir, self.logs_dir):
            folder.mkdir(parents=True, exist_ok=True)
        return self


def studio_paths() -> StudioPaths:
    """The folders for this process: under ``$STUDIO_HOME`` when set, else the OS defaults."""
    home = os.environ.get(HOME_ENV)
    if home:
        root = Path(home).expanduser().resolve()
        return StudioPaths(root / "config", root / "data", root / "cache")
    import platformdirs

    return StudioPaths(
        Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
    )
