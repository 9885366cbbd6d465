"""The Help menu's windows: the user guide (docs/guide.md as Markdown), the keyboard shortcuts and
the About box with the versions a bug report needs.

The About box reads versions from the installed packages' metadata, so opening it never imports
torch (seconds of start-up): torch's own version is shown as loaded only once a job loaded it.
"""
from __future__ import annotations

import platform
import sys
from importlib import metadata
from pathlib import Path

from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHeaderView, QLabel, QTableWidget, QTableWidgetItem,
                               QTextBrowser, QVBoxLayout, QWidget)

from studio import __version__
from studio.assets import guide_path

#: Libraries listed in the About box: (what people call it, its distribution names on PyPI).
ABOUT_PACKAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("diffusers", ("diffusers",)),
    ("transformers", ("transformers",)),
    ("PySide6", ("PySide6-Essentials", "PySide6")),
    ("web3", ("web3",)),
    ("c2pa", ("c2pa-python",)),
)


def installed_version(*distributions: str) -> str | None:
    """The version of the first of ``distributions`` that is installed (read from its metadata,
    without importing it), or None."""
    for name in distributions:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def torch_version() -> str:
    """torch's version: the loaded module's (with its CUDA build) once imported, else the
    installed one from metadata marked as not loaded; never imports torch."""
    torch = sys.modules.get("torch")
    if torch is not None:
        cuda = getattr(getattr(torch, "version", None), "cuda", None)
        return f"{torch.__version__} (loaded{', CUDA ' + cuda if cuda else ', CPU build'})"
    installed = installed_version("torch")
    return f"{installed} (not loaded yet)" if installed else "not installed"


def about_versions() -> list[tuple[str, str]]:
    """(component, version) rows for the About box and bug reports."""
    rows = [("Provenance Studio", __version__),
            ("Python", f"{platform.python_version()} ({platform.system()} {platform.machine()})"),
            ("torch", torch_version())]
    for label, distributions in ABOUT_PACKAGES:
        rows.append((label, installed_version(*distributions) or "not installed"))
    return rows


def about_html() -> str:
    """The About box's text: what the studio is, then a table of versions."""
    rows = "".join(f"<tr><td>{name}&nbsp;&nbsp;</td><td>{version}</td></tr>" for name, version in about_versions())
    return (f"<h3>Provenance Studio {__version__}</h3>"
            "<p>Local diffusion art with its recipe and signed provenance written into every image, "
            "minted from a built-in wallet.</p>"
            f"<table>{rows}</table>"
            "<p>Press F1 for the user guide.</p>")


class GuideDialog(QDialog):
    """docs/guide.md rendered as Markdown, read-only (from the checkout or the installed wheel)."""

    def __init__(self, parent: QWidget | None = None, path: Path | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Provenance Studio: user guide")
        self.path = path or guide_path()
        self.browser = QTextBrowser()
        self.browser.setReadOnly(True)
        self.browser.setOpenExternalLinks(True)
        self.browser.setSearchPaths([str(self.path.parent)])
        try:
            self.browser.setMarkdown(self.path.read_text(encoding="utf-8"))
        except OSError as exc:
            self.browser.setPlainText(f"The user guide could not be read ({self.path}: {exc.strerror or exc}). "
                                      "Reinstall the studio, or read docs/guide.md in its repository.")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser, 1)
        layout.addWidget(buttons)
        self.resize(820, 760)


class ShortcutsDialog(QDialog):
    """A table of the keyboard shortcuts: keys on the left, what they do on the right."""

    def __init__(self, shortcuts: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.table = QTableWidget(len(shortcuts), 2)
        self.table.setHorizontalHeaderLabels(["Keys", "Action"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        for row, (keys, action) in enumerate(shortcuts):
            self.table.setItem(row, 0, QTableWidgetItem(keys))
            self.table.setItem(row, 1, QTableWidgetItem(action))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        note = QLabel("In the prompt boxes Ctrl+Enter generates as well; on macOS Ctrl is the ⌘ key.")
        note.setProperty("muted", True)
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.resize(520, 420)

    def rows(self) -> list[tuple[str, str]]:
        def text(row: int, column: int) -> str:
            item = self.table.item(row, column)
            return item.text() if item is not None else ""

        return [(text(r, 0), text(r, 1)) for r in range(self.table.rowCount())]
