"""The themes' colours: every text colour readable (WCAG AA) on what it is drawn on, in both themes;
no colour written outside the theme table; spin-box and drop-down arrows drawn in every state."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QComboBox, QFormLayout, QSpinBox, QStyle, QStyleOptionSpinBox, QWidget

from studio.ui import theme

UI = Path(theme.__file__).parent
AA = 4.5


@pytest.mark.parametrize("name", sorted(theme.THEMES))
def test_every_text_colour_reaches_wcag_aa_on_its_backgrounds(name: str) -> None:
    colours = theme.THEMES[name]
    failing = [(fg, bg, round(theme.contrast(colours[fg], colours[bg]), 2))
               for fg, backgrounds in theme.TEXT_ON.items() for bg in backgrounds
               if theme.contrast(colours[fg], colours[bg]) < AA]
    assert failing == []
    text_colours = {key for key in colours if key in ("text", "muted", "link", "on_accent") or key.endswith("_text")}
    assert text_colours == set(theme.TEXT_ON) | set(theme.EXEMPT_TEXT)  # none left unchecked


def test_contrast_is_computed_as_wcag_defines_it() -> None:
    assert theme.contrast("#ffffff", "#000000") == pytest.approx(21.0)
    assert theme.contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert theme.contrast("#8fd694", "#eef0f4") == pytest.approx(1.51, abs=0.01)  # the old light-theme green


def test_no_colour_is_written_outside_the_theme_table() -> None:
    literal = re.compile(r"#[0-9a-fA-F]{6}\b|rgb\(")
    found = [f"{path.relative_to(UI)}:{number}" for path in UI.rglob("*.py") if path.name != "theme.py"
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if literal.search(line)]
    assert found == []


@pytest.mark.parametrize("name", sorted(theme.THEMES))
def test_spin_box_arrows_stay_drawn_when_the_box_has_focus(qtbot, name: str) -> None:
    app = QApplication.instance()
    theme.apply_theme(app, name)
    try:
        page = QWidget()
        form = QFormLayout(page)
        focused, other, combo = QSpinBox(), QSpinBox(), QComboBox()
        focused.setValue(5)
        other.setValue(5)
        combo.addItems(["Whole picture", "Only masked"])
        for widget in (focused, other, combo):
            form.addRow(widget)
        qtbot.addWidget(page)
        page.resize(300, 120)
        page.show()
        qtbot.waitExposed(page)
        focused.setFocus()
        qtbot.waitUntil(focused.hasFocus)
        for spin in (focused, other):
            option = QStyleOptionSpinBox()
            spin.initStyleOption(option)
            up = spin.style().subControlRect(QStyle.ComplexControl.CC_SpinBox, option,
                                             QStyle.SubControl.SC_SpinBoxUp, spin)
            image = spin.grab().toImage()
            pixels = [QColor(image.pixel(QPoint(x, y))) for x in range(up.left(), up.right() + 1)
                      for y in range(up.top(), up.bottom() + 1)]
            arrow = QColor(theme.THEMES[name]["muted"])
            assert sum(1 for p in pixels if _near(p, arrow)) >= 4, f"no arrow drawn ({name}, focus={spin is focused})"
        arrow_box = combo.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, _combo_option(combo),
                                                 QStyle.SubControl.SC_ComboBoxArrow, combo)
        image = combo.grab().toImage()
        assert any(_near(QColor(image.pixel(QPoint(x, y))), QColor(theme.THEMES[name]["muted"]))
                   for x in range(arrow_box.left(), arrow_box.right() + 1)
                   for y in range(arrow_box.top(), arrow_box.bottom() + 1))
    finally:
        theme.apply_theme(app, "dark")


def _combo_option(combo: QComboBox):
    from PySide6.QtWidgets import QStyleOptionComboBox

    option = QStyleOptionComboBox()
    combo.initStyleOption(option)
    return option


def _near(a: QColor, b: QColor, tolerance: int = 24) -> bool:
    return abs(a.red() - b.red()) + abs(a.green() - b.green()) + abs(a.blue() - b.blue()) <= tolerance
