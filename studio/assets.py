"""Locating the studio's data files: ``assets/`` (model configs, icons, examples), the compiled
contracts and the user guide.

In a checkout (and the PyInstaller folder) they sit next to the ``studio`` package; an installed
wheel carries them inside it, in ``studio/_data`` (packaging/wheel_data.py copies them there).
"""
from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
PACKAGED_DATA = _PACKAGE / "_data"


def data_dir(name: str) -> Path:
    """The folder ``name`` (``"assets"``, ``"contracts/build"``, ``"docs"``): the wheel's copy
    when the studio is installed, else the one in the checkout beside the package."""
    packaged = PACKAGED_DATA / name
    if packaged.is_dir():
        return packaged
    return _PACKAGE.parent / name


ASSETS_DIR = data_dir("assets")


def asset_path(*parts: str) -> Path:
    """A file or folder under ``assets/``."""
    return ASSETS_DIR.joinpath(*parts)


def guide_path() -> Path:
    """The user guide (docs/guide.md), shown by Help → User guide."""
    return data_dir("docs") / "guide.md"
