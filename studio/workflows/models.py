"""Getting a model onto this machine: one workflow for the welcome dialog and `studio models download`.

The download itself (resumable, verified, cancellable) is studio.generation.download; this puts
it where the catalog looks (the models folder, one folder per repository) and answers with the
model as the catalog lists it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from studio.cancel import Cancellable, ProgressCallback
from studio.errors import ModelError

if TYPE_CHECKING:
    from studio.config import Config
    from studio.generation.download import DownloadedModel
    from studio.generation.models import ModelInfo


@dataclass(frozen=True)
class InstalledModel:
    """A downloaded model, and how the catalog sees it."""

    download: "DownloadedModel"
    model: "ModelInfo"


def download_into_catalog(config: "Config", repo_id: str, *, variant: str | None = None,
                          endpoint: str | None = None, progress: ProgressCallback | None = None,
                          cancel: Cancellable | None = None) -> InstalledModel:
    """Download the diffusers model ``repo_id`` into the models folder and return it as the catalog
    lists it (the download resumes where an earlier one stopped)."""
    from studio.generation.download import default_destination, download_model
    from studio.generation.models import ModelCatalog

    dest = default_destination(config.paths.models_dir, repo_id.strip())
    downloaded = download_model(repo_id, dest, progress, cancel, endpoint=endpoint, variant=variant)
    catalog = ModelCatalog(config)
    for info in catalog.models():
        if Path(info.path).resolve() == downloaded.path.resolve():
            return InstalledModel(downloaded, info)
    raise ModelError(f"{repo_id} was downloaded to {downloaded.path}, but the model scan does not list it.",
                     hint="Check the folder with `studio models`; the reason it was skipped is listed there.")
