"""Setuptools build step: copies the data the studio reads at run time into the wheel.

``assets/``, ``contracts/build/*.json``, ``docs/guide.md`` and the verifier page (``verifier/index.html``
and ``verifier/dist/*.js``) live at the top of the repository
(where the design puts them), outside the ``studio`` package, so setuptools' package data cannot
reach them. This ``build_py`` copies them to ``studio/_data/`` in the build folder, so a wheel
(``pip install .``) carries them; ``studio.assets.data_dir`` finds them there, or in the checkout.
pyproject.toml names this class in ``[tool.setuptools] cmdclass``.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent.parent

#: (source in the repository, destination under studio/_data, file pattern)
DATA = (
    ("assets", "assets", "**/*"),
    ("contracts/build", "contracts/build", "*.json"),
    ("docs", "docs", "guide.md"),
    # the verifier page the local gateway serves at /verify/ (its built script, not its sources)
    ("verifier", "verifier", "index.html"),
    ("verifier/dist", "verifier/dist", "*.js"),  # verifier.js and c2pa-engine.js
)


def data_files() -> list[tuple[Path, Path]]:
    """Every (source file, path relative to studio/_data) the wheel carries."""
    files = []
    for source, destination, pattern in DATA:
        folder = ROOT / source
        for path in sorted(folder.glob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts:
                files.append((path, Path(destination) / path.relative_to(folder)))
    return files


class BuildPyWithData(build_py):
    """``build_py`` that also copies the studio's data files into ``studio/_data``."""

    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "studio" / "_data"
        for source, relative in data_files():
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            if not self.dry_run:
                shutil.copyfile(source, destination)
