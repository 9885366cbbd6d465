"""The studio's themes, dark (the default) and light: a Fusion palette for native-looking controls
plus a small style sheet, both drawn from one table of named colours per theme.

Colours are named once here; widgets pick roles through ``objectName``/properties
(``accent``, ``banner``, ``muted``) instead of setting colours themselves. Painting code reads
the module attributes (``theme.RAISED``) when it paints, so it follows the theme in use:
:func:`apply_theme` rebinds them.
"""
from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QWidget

THEMES: dict[str, dict[str, str]] = {
    "dark": {
        "background": "#1b1d23", "surface": "#23262e", "raised": "#2c3039", "border": "#3a3f4b",
        "text": "#e6e8ee", "muted": "#9aa1b1", "accent": "#6656e0", "accent_hover": "#6e5fe8",
        "on_accent": "#ffffff", "link": "#a99cff", "error_bg": "#4a2026", "error_text": "#ffb4bd",
        "warning_bg": "#4a3c1c", "warning_text": "#ffd98a", "ok_bg": "#1f3d27", "ok_text": "#8fd694",
        "disabled_text": "#5d6372", "disabled_border": "#2f333c", "checked_bg": "#3b3566",
        "accent_disabled_bg": "#4a4470", "accent_disabled_text": "#b9b4dc",
        "badge_signed": "#3fb27f", "badge_minted": "#6c8cff", "badge_listed": "#e0a13a", "badge_text": "#0d0f14",
    },
    "light": {
        "background": "#eef0f4", "surface": "#ffffff", "raised": "#f8f9fb", "border": "#c9ceda",
        "text": "#1d2029", "muted": "#5c6373", "accent": "#5b4ad6", "accent_hover": "#6e5ff0",
        "on_accent": "#ffffff", "link": "#5b4ad6", "error_bg": "#fde2e6", "error_text": "#a3162b",
        "warning_bg": "#fff0c7", "warning_text": "#6f4c00", "ok_bg": "#dcf3e1", "ok_text": "#1e6b34",
        "disabled_text": "#a2a8b5", "disabled_border": "#dde1e8", "checked_bg": "#e2ddff",
        "accent_disabled_bg": "#bdb5ef", "accent_disabled_text": "#f4f2ff",
        "badge_signed": "#3fb27f", "badge_minted": "#6c8cff", "badge_listed": "#e0a13a", "badge_text": "#0d0f14",
    },
}
#: Each text colour and the backgrounds it is drawn on (tests check WCAG AA, 4.5:1, for every pair
#: in both themes). Disabled text is left out on purpose: WCAG exempts inactive controls, and a
#: disabled label that reads like an active one would mislead.
TEXT_ON: dict[str, tuple[str, ...]] = {
    "text": ("background", "surface", "raised", "checked_bg"),
    "muted": ("background", "surface", "raised"),
    "link": ("background", "surface", "raised"),
    "on_accent": ("accent", "accent_hover"),
    "error_text": ("error_bg", "background", "surface", "raised"),
    "warning_text": ("warning_bg", "background", "surface", "raised"),
    "ok_text": ("ok_bg", "background", "surface", "raised"),
    "badge_text": ("badge_signed", "badge_minted", "badge_listed"),  # the marks on the Gallery's badges
}
EXEMPT_TEXT = ("disabled_text", "accent_disabled_text")  # not DISABLED_TEXT: _bind sets that
DEFAULT_THEME = "dark"

# the colours of the theme in use (rebound by apply_theme); painting code reads them at paint time
BACKGROUND = SURFACE = RAISED = BORDER = TEXT = MUTED = ACCENT = ACCENT_HOVER = LINK = ""
ERROR_BG = ERROR_TEXT = WARNING_BG = WARNING_TEXT = OK_BG = OK_TEXT = ""
_current = DEFAULT_THEME


def _bind(name: str) -> None:
    global _current
    _current = name
    globals().update({key.upper(): value for key, value in THEMES[name].items()})


_bind(DEFAULT_THEME)


def contrast(foreground: str, background: str) -> float:
    """The WCAG 2 contrast ratio of two ``#rrggbb`` colours (1 to 21; AA asks 4.5 for text)."""
    def luminance(colour: str) -> float:
        channels = [int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def current_theme() -> str:
    """The name of the theme last applied (``"dark"`` until another one is)."""
    return _current


ARROW_SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="18" height="18" viewBox="0 0 18 18">'
             '<path d="{path}" fill="{colour}"/></svg>')
ARROW_PATHS = {"down": "M3 6h12l-6 7z", "up": "M3 12h12l-6-7z"}


def arrow_images(name: str) -> dict[str, str]:
    """The drop-down and spin-box arrows of theme ``name`` as SVG files (written once to the studio's
    cache; a style sheet cannot draw a triangle itself), by kind: up, down, up-off, down-off."""
    from studio.paths import studio_paths

    c = THEMES[name]
    folder = studio_paths().cache_dir / "theme"
    found: dict[str, str] = {}
    for kind, path in ARROW_PATHS.items():
        for state, colour in (("", c["muted"]), ("-off", c["disabled_border"])):
            file = folder / f"arrow-{kind}{state}-{name}-{colour.lstrip('#')}.svg"
            if not file.exists():
                try:
                    folder.mkdir(parents=True, exist_ok=True)
                    file.write_text(ARROW_SVG.format(path=path, colour=colour), encoding="utf-8")
                except OSError:  # a read-only cache: Qt's own arrows are drawn instead
                    pass
            found[kind + state] = file.as_posix()
    return found


def style_sheet(name: str = DEFAULT_THEME) -> str:
    """The application style sheet in the colours of theme ``name``."""
    c = THEMES[name]
    a = arrow_images(name)
    return f"""
QMainWindow, QDialog {{ background: {c['background']}; }}
QTabWidget::pane {{ border: none; background: {c['background']}; }}
QTabBar::tab {{ background: transparent; color: {c['muted']}; padding: 8px 18px; border: none;
               border-bottom: 2px solid transparent; }}
QTabBar::tab:selected {{ color: {c['text']}; border-bottom: 2px solid {c['accent']}; }}
QFrame#panel {{ background: {c['surface']}; border: 1px solid {c['border']}; border-radius: 8px; }}
QLabel#sectionTitle {{ color: {c['muted']}; font-size: 8.5pt; font-weight: 600; letter-spacing: 1px;
                      text-transform: uppercase; }}
QLabel[muted="true"] {{ color: {c['muted']}; }}
QTextEdit[wrappingLabel="true"] {{ background: transparent; border: none; color: {c['text']};
    selection-background-color: {c['accent']}; selection-color: {c['on_accent']}; }}
QTextEdit[wrappingLabel="true"][muted="true"] {{ color: {c['muted']}; }}
QLabel#heroTitle {{ font-size: 16pt; font-weight: 600; }}
QPlainTextEdit, QLineEdit, QComboBox, QListView, QListWidget {{
    background: {c['raised']}; color: {c['text']}; border: 1px solid {c['border']}; border-radius: 6px; padding: 4px 6px;
    selection-background-color: {c['accent']}; }}
QComboBox {{ padding-right: 22px; }}
QComboBox::drop-down {{ subcontrol-origin: padding; subcontrol-position: center right; width: 20px; border: none;
    background: transparent; }}
QSpinBox, QDoubleSpinBox {{ background: {c['raised']}; color: {c['text']}; border: 1px solid {c['border']};
    border-radius: 6px; padding: 3px 20px 3px 4px; selection-background-color: {c['accent']}; }}
QSpinBox::up-button, QDoubleSpinBox::up-button, QSpinBox::down-button, QDoubleSpinBox::down-button {{
    subcontrol-origin: border; width: 18px; border: none; background: transparent; }}
QSpinBox::up-button, QDoubleSpinBox::up-button {{ subcontrol-position: top right; margin-top: 2px; }}
QSpinBox::down-button, QDoubleSpinBox::down-button {{ subcontrol-position: bottom right; margin-bottom: 2px; }}
QSpinBox::up-button:hover, QDoubleSpinBox::up-button:hover, QSpinBox::down-button:hover,
QDoubleSpinBox::down-button:hover {{ background: {c['checked_bg']}; border-radius: 3px; }}
QComboBox::down-arrow, QSpinBox::down-arrow, QDoubleSpinBox::down-arrow {{ image: url({a['down']});
    width: 9px; height: 9px; }}
QSpinBox::up-arrow, QDoubleSpinBox::up-arrow {{ image: url({a['up']}); width: 9px; height: 9px; }}
QComboBox::down-arrow:disabled, QSpinBox::down-arrow:disabled, QDoubleSpinBox::down-arrow:disabled,
QSpinBox::down-arrow:off, QDoubleSpinBox::down-arrow:off {{ image: url({a['down-off']}); }}
QSpinBox::up-arrow:disabled, QDoubleSpinBox::up-arrow:disabled, QSpinBox::up-arrow:off,
QDoubleSpinBox::up-arrow:off {{ image: url({a['up-off']}); }}
QSpinBox:disabled, QDoubleSpinBox:disabled, QComboBox:disabled, QLineEdit:disabled {{ color: {c['disabled_text']}; }}
QPlainTextEdit:focus, QLineEdit:focus, QSpinBox:focus, QDoubleSpinBox:focus, QComboBox:focus {{
    border: 1px solid {c['accent']}; }}
QComboBox QAbstractItemView {{ background: {c['raised']}; border: 1px solid {c['border']}; selection-background-color: {c['accent']}; }}
QPushButton, QToolButton {{ background: {c['raised']}; color: {c['text']}; border: 1px solid {c['border']};
    border-radius: 6px; padding: 5px 12px; }}
QToolButton[popupMode="2"] {{ padding-right: 18px; }}
QToolButton::menu-indicator {{ subcontrol-origin: padding; subcontrol-position: right center; right: 4px; }}
QPushButton:hover, QToolButton:hover {{ border-color: {c['accent']}; }}
QPushButton:disabled, QToolButton:disabled {{ color: {c['disabled_text']}; border-color: {c['disabled_border']}; }}
QPushButton:checked, QToolButton:checked {{ background: {c['checked_bg']}; border-color: {c['accent']}; }}
QPushButton[accent="true"] {{ background: {c['accent']}; border: none; color: {c['on_accent']}; font-weight: 600;
    padding: 8px 22px; }}
QPushButton[accent="true"]:hover {{ background: {c['accent_hover']}; }}
QPushButton[accent="true"]:disabled {{ background: {c['accent_disabled_bg']}; color: {c['accent_disabled_text']}; }}
QProgressBar {{ background: {c['raised']}; border: none; border-radius: 4px; height: 8px; text-align: center;
    color: transparent; }}
QProgressBar::chunk {{ background: {c['accent']}; border-radius: 4px; }}
QFrame#errorBanner {{ background: {c['error_bg']}; border-radius: 6px; }}
QFrame#errorBanner QLabel {{ color: {c['error_text']}; }}
QFrame#warningBanner {{ background: {c['warning_bg']}; border-radius: 6px; }}
QFrame#warningBanner QLabel {{ color: {c['warning_text']}; }}
QScrollArea {{ border: none; background: transparent; }}
QScrollArea > QWidget > QWidget {{ background: transparent; }}
QStatusBar {{ background: {c['surface']}; color: {c['muted']}; border-top: 1px solid {c['border']}; }}
QStatusBar QLabel {{ color: {c['muted']}; padding: 0 8px; }}
QMenuBar {{ background: {c['surface']}; color: {c['text']}; }}
QMenuBar::item:selected, QMenu::item:selected {{ background: {c['accent']}; }}
QMenu {{ background: {c['surface']}; color: {c['text']}; border: 1px solid {c['border']}; }}
QSplitter::handle {{ background: {c['background']}; }}
QToolTip {{ background: {c['raised']}; color: {c['text']}; border: 1px solid {c['border']}; }}
QSlider::groove:horizontal {{ height: 4px; background: {c['border']}; border-radius: 2px; }}
QSlider::handle:horizontal {{ background: {c['accent']}; width: 14px; margin: -6px 0; border-radius: 7px; }}
QCheckBox {{ color: {c['text']}; spacing: 6px; }}
QCheckBox::indicator {{ width: 16px; height: 16px; border: 1px solid {c['muted']}; border-radius: 4px;
    background: {c['raised']}; }}
QCheckBox::indicator:hover {{ border-color: {c['accent']}; }}
QCheckBox::indicator:checked {{ background: {c['accent']}; border-color: {c['accent']}; }}
QCheckBox::indicator:disabled {{ border-color: {c['disabled_border']}; background: {c['surface']}; }}
QScrollBar:vertical {{ background: transparent; width: 10px; margin: 2px; }}
QScrollBar:horizontal {{ background: transparent; height: 10px; margin: 2px; }}
QScrollBar::handle:vertical {{ background: {c['border']}; border-radius: 3px; min-height: 24px; }}
QScrollBar::handle:horizontal {{ background: {c['border']}; border-radius: 3px; min-width: 24px; }}
QScrollBar::handle:hover {{ background: {c['muted']}; }}
QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: transparent; }}
"""


def __getattr__(attribute: str) -> str:
    if attribute == "STYLE_SHEET":  # the default theme's sheet, made on first use (it writes the arrows)
        return style_sheet(DEFAULT_THEME)
    raise AttributeError(attribute)


def theme_palette(name: str = DEFAULT_THEME) -> QPalette:
    """The Fusion palette in the colours of theme ``name``."""
    c = THEMES[name]
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: c["background"], QPalette.ColorRole.WindowText: c["text"],
        QPalette.ColorRole.Base: c["raised"], QPalette.ColorRole.AlternateBase: c["surface"],
        QPalette.ColorRole.Text: c["text"], QPalette.ColorRole.Button: c["raised"],
        QPalette.ColorRole.ButtonText: c["text"], QPalette.ColorRole.Highlight: c["accent"],
        QPalette.ColorRole.HighlightedText: c["on_accent"], QPalette.ColorRole.ToolTipBase: c["raised"],
        QPalette.ColorRole.ToolTipText: c["text"], QPalette.ColorRole.PlaceholderText: c["muted"],
        QPalette.ColorRole.Link: c["link"],
        QPalette.ColorRole.Mid: c["border"], QPalette.ColorRole.Midlight: c["border"],
    }
    for role, colour in roles.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(c["disabled_text"]))
    return palette


def dark_palette() -> QPalette:
    return theme_palette("dark")


FONT_POINTS = 10.0


def _use_font(app: QApplication) -> None:
    """The studio's text size, on the application font (as a style-sheet rule on every widget it made
    each theme switch re-lay out the whole window)."""
    font = app.font()
    if font.pointSizeF() != FONT_POINTS:
        font.setPointSizeF(FONT_POINTS)
        app.setFont(font)


def apply_theme(app: QApplication, name: str = DEFAULT_THEME) -> None:
    """Fusion style, the palette and the style sheet of theme ``name`` (an unknown name: dark),
    for the whole application, at start-up (the welcome, before the main window, uses it); widgets
    made afterwards and every repaint use its colours."""
    name = name if name in THEMES else DEFAULT_THEME
    _bind(name)
    if app.style().name().lower() != "fusion":  # setting it again re-polishes every widget for nothing
        app.setStyle("Fusion")
    _use_font(app)
    app.setPalette(theme_palette(name))
    app.setStyleSheet(style_sheet(name))


def theme_window(window: QWidget, name: str = DEFAULT_THEME) -> None:
    """Colour ``window`` and every dialog opened from it (they are its children) with theme ``name``.

    The style sheet lives on the main window, not on the application: replacing an application's
    style sheet re-polishes every widget twice over (the old and new sheets, fonts, the style
    object; 2-6 s with all tabs built), while a window's re-styles only its own widgets (about a
    tenth of that). Call it first on a window that has no children yet, and again to switch."""
    name = name if name in THEMES else DEFAULT_THEME
    _bind(name)
    app = QApplication.instance()
    if isinstance(app, QApplication):
        if app.style().name().lower() != "fusion":
            app.setStyle("Fusion")
        _use_font(app)
        app.setPalette(theme_palette(name))
        if app.styleSheet():
            app.setStyleSheet("")  # the window's sheet takes over (cheap before the window has children)
    window.setStyleSheet(style_sheet(name))
