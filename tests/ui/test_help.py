"""Help menu, keyboard shortcuts and the theme setting on the real main window (offscreen)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from studio.ui import theme
from studio.ui.dialogs.help import GuideDialog, ShortcutsDialog, about_versions

ROOT = Path(__file__).resolve().parents[2]


def test_help_menu_lists_the_guide_shortcuts_log_and_about(window) -> None:
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    assert [a.text() for a in help_menu.actions() if not a.isSeparator()] == \
        ["User guide", "Keyboard shortcuts", "Open log file", "About Provenance Studio"]
    assert window.guide_action.shortcut().toString() == "F1"


def test_user_guide_opens_rendered_markdown_read_only(qtbot, window) -> None:
    dialog = window.open_guide()
    qtbot.addWidget(dialog)
    text = dialog.browser.toPlainText()
    assert dialog.browser.isReadOnly() and dialog.path == ROOT / "docs" / "guide.md"
    assert "Troubleshooting" in text and "# " not in text.splitlines()[0]  # headings rendered, not raw Markdown
    assert "out of memory" in text.lower() and "wallet password" in text.lower()


def test_a_missing_guide_says_what_to_do(qtbot, tmp_path) -> None:
    dialog = GuideDialog(path=tmp_path / "guide.md")
    qtbot.addWidget(dialog)
    assert "could not be read" in dialog.browser.toPlainText() and "Reinstall" in dialog.browser.toPlainText()


def test_shortcuts_dialog_lists_generate_tabs_settings_and_help(qtbot, window) -> None:
    dialog = window.open_shortcuts()
    qtbot.addWidget(dialog)
    assert isinstance(dialog, ShortcutsDialog)
    rows = dict(dialog.rows())
    assert rows["Ctrl+Return"] == "Generate (Create tab)" and rows["F1"] == "User guide"
    assert rows["Ctrl+,"] == "Settings"
    for index in range(window.tabs.count()):
        assert rows[f"Ctrl+{index + 1}"] == f"Show the {window.tabs.tabText(index)} tab"


def test_ctrl_number_switches_tabs_and_ctrl_enter_generates(qtbot, window) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    gallery = [i for i in range(window.tabs.count()) if window.tabs.tabText(i) == "Gallery"][0]
    qtbot.keyClick(window, getattr(Qt.Key, f"Key_{gallery + 1}"), Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentIndex() == gallery
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentWidget() is window.create_tab
    window.create_state.prompt = "a quiet harbour"
    window.create_tab.generate_button.setFocus()  # any widget of the Create tab, not only the prompt box
    qtbot.waitUntil(window.create_tab.generate_button.hasFocus)
    with qtbot.waitSignal(window.create_state.job_finished, timeout=60_000):
        qtbot.keyClick(window.create_tab.generate_button, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert window.create_state.results.rowCount() == 1


def test_about_lists_versions_without_importing_torch() -> None:
    script = ("import json, sys\nfrom studio.ui.dialogs.help import about_versions, about_html\n"
              "rows = dict(about_versions()); about_html()\n"
              "print(json.dumps({'rows': rows, 'torch': 'torch' in sys.modules}))")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert not found["torch"]
    rows = found["rows"]
    from studio import __version__

    assert rows["Provenance Studio"] == __version__ and rows["torch"].endswith("(not loaded yet)")
    assert rows["Python"].startswith(f"{sys.version_info.major}.{sys.version_info.minor}.")
    for name in ("diffusers", "PySide6", "web3"):
        assert rows[name][0].isdigit(), (name, rows[name])


def test_about_shows_the_loaded_torch_version() -> None:
    import torch

    rows = dict(about_versions())
    assert rows["torch"].startswith(torch.__version__) and "(loaded" in rows["torch"]


def test_theme_setting_applies_light_and_back_to_dark(qtbot, window) -> None:
    app = QApplication.instance()
    try:
        window.config.set("theme", "light")
        window.apply_settings({"theme"})
        assert theme.current_theme() == "light" and theme.RAISED == theme.THEMES["light"]["raised"]
        assert app.palette().color(QPalette.ColorRole.Window).name() == theme.THEMES["light"]["background"]
        assert theme.THEMES["light"]["background"] in window.styleSheet()
        window.config.set("theme", "dark")
        window.apply_settings({"theme"})
        assert app.palette().color(QPalette.ColorRole.Window).name() == theme.THEMES["dark"]["background"]
        assert window.styleSheet() == theme.STYLE_SHEET and theme.RAISED == theme.THEMES["dark"]["raised"]
    finally:
        theme.apply_theme(app, "dark")


def test_a_light_theme_setting_is_applied_when_the_window_opens(qtbot, demo_config) -> None:
    from studio.generation.models import ModelCatalog
    from studio.ui.main_window import MainWindow

    app = QApplication.instance()
    demo_config.set("theme", "light")
    try:
        window = MainWindow(demo_config, ModelCatalog(demo_config))
        qtbot.addWidget(window)
        assert theme.current_theme() == "light"
        assert app.palette().color(QPalette.ColorRole.Base).name() == theme.THEMES["light"]["raised"]
    finally:
        theme.apply_theme(app, "dark")


def test_both_themes_name_the_same_colours() -> None:
    assert set(theme.THEMES["dark"]) == set(theme.THEMES["light"])
    for name in theme.THEMES:
        assert "{" not in theme.style_sheet(name).replace("{ ", "").split("}")[0]  # every placeholder filled


def test_the_guide_lists_the_tabs_in_the_windows_order(window) -> None:
    """Ctrl+1…Ctrl+6 follow the window's tabs; the guide's table of tabs must follow them too."""
    import re

    from studio.assets import guide_path

    text = guide_path().read_text(encoding="utf-8")
    section = text.split("## The window", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| (\w+) \|", section, flags=re.MULTILINE)
    guide_tabs = [name for name in rows if name not in ("Tab",)]
    assert guide_tabs == [window.tabs.tabText(i) for i in range(window.tabs.count())]
