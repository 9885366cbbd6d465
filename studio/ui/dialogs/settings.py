"""The settings dialog, generated from :data:`studio.config.SETTINGS`, one page per section
(General, Generation, Storage, Wallet & networks, Appearance) picked from a list on the left.

A field per setting by the type of its default (choices: combo box, bool: check box, int: spin
box (a whole-number decimal spin box past 2**31), float: decimal spin box, str: line edit, with a
Browse button for folders, or a box of several lines for one-entry-per-line settings); the
network is a choice of the configured networks, and a folder whose setting is empty shows the real
default folder; the help text is the tooltip and a line under the field. Saving validates every value through ``Config.set`` and
writes once with ``Config.save``; an error keeps the dialog open with the message shown.
"""
from __future__ import annotations

from typing import Any, Callable

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog,
                               QFormLayout, QHBoxLayout, QLabel, QLineEdit, QListWidget, QPlainTextEdit, QPushButton,
                               QScrollArea, QSpinBox, QStackedWidget, QVBoxLayout, QWidget)

from studio.config import SECTIONS, SETTINGS, Config, Setting
from studio.errors import StudioError
from studio.ui import theme
from studio.ui.workers import error_message

INT_MIN, INT_MAX = -2**31, 2**31 - 1  # what a QSpinBox holds
MULTILINE_ROWS = 4


def network_choices() -> list[tuple[str, str]]:
    """(label, key) of every configured network, built-in and custom, for the network setting."""
    from studio.chain.networks import BUILTIN_NETWORKS, NetworkRegistry

    try:
        networks = NetworkRegistry.default().all()
    except StudioError:  # a damaged custom networks file: the built-in ones only
        networks = list(BUILTIN_NETWORKS)
    return [(f"{network.name} · {network.marker}", network.key) for network in networks]


class SettingsDialog(QDialog):
    """Edit and save the studio's settings; ``changed_keys`` lists what the last save changed."""

    def __init__(self, config: Config, parent: QWidget | None = None,
                 settings: tuple[Setting, ...] = SETTINGS,
                 actions: dict[str, tuple[str, Callable[[], None]]] | None = None) -> None:
        """``actions``: a button (label, callback) under a setting's field, for what is not a
        setting itself (the pinning service's token, kept encrypted in the wallet)."""
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(560)
        self.config = config
        self.changed_keys: set[str] = set()
        #: Choices known only when the dialog opens (the configured networks), by setting key.
        self.dynamic_choices: dict[str, list[tuple[str, Any]]] = {
            "network": network_choices(),
            "generation_backend": [("This computer", "this_computer"),
                                   ("A Ray cluster (at the address below)", "ray_cluster")]}
        #: What an empty folder setting means, shown in its field instead of a blank.
        self.default_folders: dict[str, str] = {"works_folder": str(config.paths.data_dir / "works")}
        self._readers: dict[str, Callable[[], Any]] = {}
        self.editors: dict[str, QWidget] = {}
        self.action_buttons: dict[str, QPushButton] = {}

        # one page per section (a header, then its fields), chosen from a list on the left
        self.section_list = QListWidget()
        self.section_list.setObjectName("settingsSections")
        self.section_list.setFixedWidth(170)
        self.pages = QStackedWidget()
        self.section_pages: dict[str, QWidget] = {}
        named = [*SECTIONS, *sorted({s.section for s in settings} - set(SECTIONS))]
        for section in [name for name in named if any(s.section == name for s in settings)]:
            page = self._section_page(section, [s for s in settings if s.section == section], config, actions)
            self.section_pages[section] = page
            self.pages.addWidget(page)
            self.section_list.addItem(section)
        self.section_list.currentRowChanged.connect(self.pages.setCurrentIndex)
        self.section_list.setCurrentRow(0)
        body = QHBoxLayout()
        body.addWidget(self.section_list)
        body.addWidget(self.pages, 1)

        self.error_label = QLabel()
        self.error_label.setObjectName("settingsError")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {theme.ERROR_TEXT};")
        self.error_label.setVisible(False)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        self.resize(820, 640)

    def _section_page(self, section: str, settings: list[Setting], config: Config,
                      actions: dict[str, tuple[str, Callable[[], None]]] | None) -> QWidget:
        """A scrollable page: the section's title, then a field, its help and any action per setting."""
        form_widget = QWidget()
        outer = QVBoxLayout(form_widget)
        title = QLabel(section)
        title.setObjectName("heroTitle")
        outer.addWidget(title)
        form = QFormLayout()
        form.setVerticalSpacing(4)
        outer.addLayout(form)
        outer.addStretch(1)
        for setting in settings:
            editor, read = self._editor_for(setting, config[setting.key])
            editor.setToolTip(setting.help)
            self.editors[setting.key] = editor
            self._readers[setting.key] = read
            help_line = QLabel(setting.help)
            help_line.setWordWrap(True)
            help_line.setProperty("muted", True)
            column = QVBoxLayout()
            column.setSpacing(2)
            column.addWidget(editor)
            column.addWidget(help_line)
            if actions and setting.key in actions:
                label, callback = actions[setting.key]
                button = QPushButton(label)
                button.clicked.connect(callback)
                self.action_buttons[setting.key] = button
                row = QHBoxLayout()
                row.addWidget(button)
                row.addStretch(1)
                column.addLayout(row)
            column.addSpacing(8)
            form.addRow(setting.label, column)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(form_widget)
        return scroll

    def show_section(self, section: str) -> None:
        """Turn to the page of ``section`` (one of :data:`studio.config.SECTIONS`)."""
        self.section_list.setCurrentRow(list(self.section_pages).index(section))

    def _editor_for(self, setting: Setting, value: Any) -> tuple[QWidget, Callable[[], Any]]:
        if setting.key in self.dynamic_choices:
            dynamic = QComboBox()
            for label, choice in self.dynamic_choices[setting.key]:
                dynamic.addItem(label, choice)
            if dynamic.findData(value) < 0:  # a stored key that is not configured (any more)
                dynamic.addItem(f"{value} (not configured)", value)
            dynamic.setCurrentIndex(dynamic.findData(value))
            return dynamic, dynamic.currentData
        if setting.multiline:
            lines = QPlainTextEdit(str(value))
            lines.setTabChangesFocus(True)
            lines.setFixedHeight(lines.fontMetrics().lineSpacing() * MULTILINE_ROWS + 14)
            return lines, lambda: lines.toPlainText().strip()
        if setting.choices is not None:
            combo = QComboBox()
            for choice in setting.choices:
                combo.addItem(str(choice), choice)
            combo.setCurrentIndex(max(0, combo.findData(value)))
            return combo, combo.currentData
        if isinstance(setting.default, bool):
            check = QCheckBox()
            check.setChecked(bool(value))
            return check, check.isChecked
        if isinstance(setting.default, int):
            low = int(setting.minimum) if setting.minimum is not None else INT_MIN
            high = int(setting.maximum) if setting.maximum is not None else INT_MAX
            if INT_MIN <= low and high <= INT_MAX:
                spin = QSpinBox()
                spin.setRange(low, high)
                spin.setValue(int(value))
                return spin, spin.value
            # past a C int (byte counts): whole numbers in a decimal spin box, exact up to 2**53
            big = QDoubleSpinBox()
            big.setDecimals(0)
            big.setRange(low, high)
            big.setGroupSeparatorShown(True)
            big.setValue(int(value))
            return big, lambda: int(big.value())
        if isinstance(setting.default, float):
            dspin = QDoubleSpinBox()
            dspin.setDecimals(3)
            dspin.setRange(setting.minimum if setting.minimum is not None else -1e9,
                           setting.maximum if setting.maximum is not None else 1e9)
            dspin.setValue(float(value))
            return dspin, dspin.value
        line = QLineEdit(str(value))
        if setting.key.endswith("_folder"):
            default = self.default_folders.get(setting.key, "")
            if default and not value:
                line.setText(default)
            box = QWidget()
            row = QHBoxLayout(box)
            row.setContentsMargins(0, 0, 0, 0)
            browse = QPushButton("Browse…")
            browse.clicked.connect(lambda: self._browse_folder(line, setting.label))
            row.addWidget(line, 1)
            row.addWidget(browse)
            # the default folder (or an emptied field) is stored as "the default", not as a path
            return box, lambda: "" if line.text().strip() in ("", default) else line.text().strip()
        return line, lambda: line.text().strip()

    def _browse_folder(self, line: QLineEdit, label: str) -> None:
        folder = QFileDialog.getExistingDirectory(self, label, line.text())
        if folder:
            line.setText(folder)

    def values(self) -> dict[str, Any]:
        return {key: read() for key, read in self._readers.items()}

    def save(self) -> bool:
        """Validate and write all values; close on success, else show the error and stay open."""
        before = {key: self.config[key] for key in self._readers}
        try:
            values = self.values()
            if "ray_address" in values:  # the cluster's address is checked here, not at the next run
                from studio.generation.backends import cluster_host_port

                cluster_host_port(str(values["ray_address"]))
            for key, value in values.items():
                self.config.set(key, value)
            self.config.save()
        except StudioError as exc:
            for key, value in before.items():  # leave the config as it was: nothing half-applied
                self.config.values[key] = value
            self.error_label.setText(error_message(exc))
            self.error_label.setVisible(True)
            return False
        self.changed_keys = {key for key in self._readers if self.config[key] != before[key]}
        self.accept()
        return True
