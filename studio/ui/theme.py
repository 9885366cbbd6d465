"""The studio's dark theme: a Fusion palette for native-looking controls plus a small style sheet.

Colours are named once here; widgets pick roles through ``objectName``/properties
(``accent``, ``banner``, ``muted``) instead of setting colours themselves.
"""
from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

BACKGROUND = "#1b1d23"
SURFACE = "#23262e"
RAISED = "#2c3039"
BORDER = "#3a3f4b"
TEXT = "#e6e8ee"
MUTED = "#9aa1b1"
ACCENT = "#7c6cf2"
ACCENT_HOVER = "#8f81ff"
ERROR_BG = "#4a2026"
ERROR_TEXT = "#ffb4bd"
WARNING_BG = "#4a3c1c"
WARNING_TEXT = "#ffd98a"

STYLE_SHEET = f"""
QWidget {{ font-size: 10pt; }}
QMainWindow, QDialog {{ background: {BACKGROUND}; }}
QTabWidget::pane {{ border: none; background: {BACKGROUND}; }}
QTabBar::tab {{ background: transparent; color: {MUTED}; padding: 8px 18px; border: none;
               border-bottom: 2px solid transparent; }}
QTabBar::tab:selected {{ color: {TEXT}; border-bottom: 2px solid {ACCENT}; }}
QFrame#panel {{ background: {SURFACE}; border: 1px solid {BORDER}; border-radius: 8px; }}
QLabel#sectionTitle {{ color: {MUTED}; font-size: 8.5pt; font-weight: 600; letter-spacing: 1px;
                      text-transform: uppercase; }}
QLabel[muted="true"] {{ color: {MUTED}; }}
QLabel#heroTitle {{ font-size: 16pt; font-weight: 600; }}
QPlainTextEdit, QLineEdit, QComboBox, QListView, QListWidget {{
    background: {RAISED}; color: {TEXT}; border: 1px solid {BORDER}; border-radius: 6px; padding: 4px 6px;
    selection-background-color: {ACCENT}; }}
QSpinBox, QDoubleSpinBox {{ padding: 3px 4px; }}
QPlainTextEdit:focus, QLineEdit:focus, QSpinBox:focus, QDoubleSpinBox:focus, QComboBox:focus {{
    border: 1px solid {ACCENT}; }}
QComboBox QAbstractItemView {{ background: {RAISED}; border: 1px solid {BORDER}; selection-background-color: {ACCENT}; }}
QPushButton, QToolButton {{ background: {RAISED}; color: {TEXT}; border: 1px solid {BORDER};
    border-radius: 6px; padding: 5px 12px; }}
QToolButton[popupMode="2"] {{ padding-right: 18px; }}
QToolButton::menu-indicator {{ subcontrol-origin: padding; subcontrol-position: right center; right: 4px; }}
QPushButton:hover, QToolButton:hover {{ border-color: {ACCENT}; }}
QPushButton:disabled, QToolButton:disabled {{ color: #5d6372; border-color: #2f333c; }}
QPushButton:checked, QToolButton:checked {{ background: #3b3566; border-color: {ACCENT}; }}
QPushButton[accent="true"] {{ background: {ACCENT}; border: none; color: white; font-weight: 600;
    padding: 8px 22px; }}
QPushButton[accent="true"]:hover {{ background: {ACCENT_HOVER}; }}
QPushButton[accent="true"]:disabled {{ background: #4a4470; color: #b9b4dc; }}
QProgressBar {{ background: {RAISED}; border: none; border-radius: 4px; height: 8px; text-align: center;
    color: transparent; }}
QProgressBar::chunk {{ background: {ACCENT}; border-radius: 4px; }}
QFrame#errorBanner {{ background: {ERROR_BG}; border-radius: 6px; }}
QFrame#errorBanner QLabel {{ color: {ERROR_TEXT}; }}
QFrame#warningBanner {{ background: {WARNING_BG}; border-radius: 6px; }}
QFrame#warningBanner QLabel {{ color: {WARNING_TEXT}; }}
QScrollArea {{ border: none; background: transparent; }}
QScrollArea > QWidget > QWidget {{ background: transparent; }}
QStatusBar {{ background: {SURFACE}; color: {MUTED}; border-top: 1px solid {BORDER}; }}
QStatusBar QLabel {{ color: {MUTED}; padding: 0 8px; }}
QMenuBar {{ background: {SURFACE}; color: {TEXT}; }}
QMenuBar::item:selected, QMenu::item:selected {{ background: {ACCENT}; }}
QMenu {{ background: {SURFACE}; color: {TEXT}; border: 1px solid {BORDER}; }}
QSplitter::handle {{ background: {BACKGROUND}; }}
QToolTip {{ background: {RAISED}; color: {TEXT}; border: 1px solid {BORDER}; }}
QSlider::groove:horizontal {{ height: 4px; background: {BORDER}; border-radius: 2px; }}
QSlider::handle:horizontal {{ background: {ACCENT}; width: 14px; margin: -6px 0; border-radius: 7px; }}
QCheckBox {{ color: {TEXT}; spacing: 6px; }}
QCheckBox::indicator {{ width: 16px; height: 16px; border: 1px solid {MUTED}; border-radius: 4px;
    background: {RAISED}; }}
QCheckBox::indicator:hover {{ border-color: {ACCENT}; }}
QCheckBox::indicator:checked {{ background: {ACCENT}; border-color: {ACCENT}; }}
QCheckBox::indicator:disabled {{ border-color: #2f333c; background: {SURFACE}; }}
QScrollBar:vertical {{ background: transparent; width: 10px; margin: 2px; }}
QScrollBar:horizontal {{ background: transparent; height: 10px; margin: 2px; }}
QScrollBar::handle:vertical {{ background: {BORDER}; border-radius: 3px; min-height: 24px; }}
QScrollBar::handle:horizontal {{ background: {BORDER}; border-radius: 3px; min-width: 24px; }}
QScrollBar::handle:hover {{ background: {MUTED}; }}
QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: transparent; }}
"""


def dark_palette() -> QPalette:
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: BACKGROUND, QPalette.ColorRole.WindowText: TEXT,
        QPalette.ColorRole.Base: RAISED, QPalette.ColorRole.AlternateBase: SURFACE,
        QPalette.ColorRole.Text: TEXT, QPalette.ColorRole.Button: RAISED,
        QPalette.ColorRole.ButtonText: TEXT, QPalette.ColorRole.Highlight: ACCENT,
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: RAISED,
        QPalette.ColorRole.ToolTipText: TEXT, QPalette.ColorRole.PlaceholderText: MUTED,
        QPalette.ColorRole.Link: ACCENT_HOVER,
    }
    for role, colour in roles.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#5d6372"))
    return palette


def apply_theme(app: QApplication) -> None:
    """Fusion style, the dark palette and the style sheet, for the whole application."""
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    app.setStyleSheet(STYLE_SHEET)
