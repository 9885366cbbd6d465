"""The mint dialog's editor of one work's token: name, description, traits (a table rows are added
to and removed from), license, and an own royalty instead of the collection's.

It shows a :class:`~studio.ui.state.mint.WorkDraft` and says ``edited`` when the person changes a
field (never while it fills itself); :meth:`WorkEditor.values` is what the draft becomes.
"""
from __future__ import annotations

from typing import Any, Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QFrame,
                               QHBoxLayout, QHeaderView, QLineEdit, QPlainTextEdit, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from studio.library.db import Collection
from studio.ui.dialogs.mint_common import muted_label
from studio.ui.state.mint import WorkDraft
from studio.workflows.mint import LICENSES


class WorkEditor(QFrame):
    """The form's fields for the work chosen in the dialog's list."""

    #: A field was changed by the person (or by :meth:`set_traits`): the draft is to be updated.
    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self._loading = False
        form = QFormLayout(self)
        form.setContentsMargins(14, 12, 14, 12)
        form.setVerticalSpacing(8)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("The token's name (required)")
        self.description_edit = QPlainTextEdit()
        self.description_edit.setPlaceholderText("What the work is; shown by wallets and markets")
        self.description_edit.setFixedHeight(64)
        self.traits = QTableWidget(0, 2)
        self.traits.setHorizontalHeaderLabels(["Trait", "Value"])
        self.traits.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.traits.verticalHeader().setVisible(False)
        self.traits.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.traits.setMinimumHeight(110)
        self.add_trait = QPushButton("Add trait")
        self.remove_trait = QPushButton("Remove trait")
        trait_buttons = QHBoxLayout()
        trait_buttons.addWidget(self.add_trait)
        trait_buttons.addWidget(self.remove_trait)
        trait_buttons.addStretch(1)
        traits_box = QVBoxLayout()
        traits_box.addWidget(self.traits)
        traits_box.addLayout(trait_buttons)
        self.license_combo = QComboBox()
        for license_id, label in LICENSES.items():
            self.license_combo.addItem(label, license_id)
        self.own_royalty = QCheckBox("Own royalty")
        self.own_royalty.setToolTip("This token's resale royalty instead of the collection's")
        self.royalty = QDoubleSpinBox()
        self.royalty.setRange(0.0, 10.0)
        self.royalty.setDecimals(2)
        self.royalty.setSingleStep(0.5)
        self.royalty.setSuffix(" %")
        self.royalty.setEnabled(False)
        self.collection_royalty = muted_label()
        royalty_row = QHBoxLayout()
        royalty_row.addWidget(self.own_royalty)
        royalty_row.addWidget(self.royalty)
        royalty_row.addSpacing(10)
        royalty_row.addWidget(self.collection_royalty, 1)
        form.addRow("Name", self.name_edit)
        form.addRow("Description", self.description_edit)
        form.addRow("Traits", traits_box)
        form.addRow("License", self.license_combo)
        form.addRow("Royalty", royalty_row)

        self.name_edit.textEdited.connect(self._changed)
        self.description_edit.textChanged.connect(self._changed)
        self.traits.itemChanged.connect(self._changed)
        self.license_combo.activated.connect(self._changed)
        self.own_royalty.toggled.connect(self._on_own_royalty)
        self.royalty.valueChanged.connect(self._changed)
        self.add_trait.clicked.connect(self._add_trait)
        self.remove_trait.clicked.connect(self._remove_trait)

    # -- the draft ------------------------------------------------------------------------------

    def show_draft(self, draft: WorkDraft, collection: Collection | None) -> None:
        """Fill the fields from ``draft`` (the royalty shows the collection's until an own one is set)."""
        self._loading = True
        try:
            self.name_edit.setText(draft.name)
            self.description_edit.setPlainText(draft.description)
            self.traits.setRowCount(0)
            for key, value in draft.traits:
                self._append_trait_row(key, value)
            self.license_combo.setCurrentIndex(max(0, self.license_combo.findData(draft.license)))
            self.own_royalty.setChecked(draft.royalty_percent is not None)
            self.royalty.setEnabled(draft.royalty_percent is not None)
            if draft.royalty_percent is not None:
                self.royalty.setValue(draft.royalty_percent)
            elif collection is not None:
                self.royalty.setValue(collection.royalty_bps / 100)
        finally:
            self._loading = False

    def show_collection(self, collection: Collection | None) -> None:
        """Say the chosen collection's royalty next to the own-royalty box."""
        self.collection_royalty.setText(
            f"The collection's: {collection.royalty_bps / 100:g} %" if collection is not None else "")

    def values(self) -> dict[str, Any]:
        """The draft's fields as typed (``MintState.update_draft`` takes them)."""
        traits = []
        for row in range(self.traits.rowCount()):
            key, value = self.traits.item(row, 0), self.traits.item(row, 1)
            traits.append((key.text() if key else "", value.text() if value else ""))
        return dict(name=self.name_edit.text(), description=self.description_edit.toPlainText(), traits=traits,
                    license=self.license_combo.currentData(),
                    royalty_percent=self.royalty.value() if self.own_royalty.isChecked() else None)

    def set_editing_enabled(self, enabled: bool) -> None:
        """Freeze the fields while the summary is computed."""
        for widget in (self.name_edit, self.description_edit, self.traits, self.add_trait, self.remove_trait,
                       self.license_combo, self.own_royalty):
            widget.setEnabled(enabled)
        self.royalty.setEnabled(enabled and self.own_royalty.isChecked())

    # -- traits ---------------------------------------------------------------------------------

    def set_traits(self, traits: Sequence[tuple[str, str]]) -> None:
        """Fill the traits table (what typing in it does, for scripts and tests)."""
        self._loading = True
        try:
            self.traits.setRowCount(0)
            for key, value in traits:
                self._append_trait_row(key, value)
        finally:
            self._loading = False
        self.edited.emit()

    def _append_trait_row(self, key: str = "", value: str = "") -> int:
        row = self.traits.rowCount()
        self.traits.insertRow(row)
        self.traits.setItem(row, 0, QTableWidgetItem(key))
        self.traits.setItem(row, 1, QTableWidgetItem(str(value)))
        return row

    def _add_trait(self) -> None:
        self._loading = True
        try:
            row = self._append_trait_row()
        finally:
            self._loading = False
        self.edited.emit()
        self.traits.setCurrentCell(row, 0)
        item = self.traits.item(row, 0)
        if item is not None:
            self.traits.editItem(item)

    def _remove_trait(self) -> None:
        rows = sorted({index.row() for index in self.traits.selectedIndexes()} or
                      ({self.traits.currentRow()} if self.traits.currentRow() >= 0 else set()), reverse=True)
        for row in rows:
            self.traits.removeRow(row)
        self._changed()

    # -- changes --------------------------------------------------------------------------------

    def _on_own_royalty(self, checked: bool) -> None:
        self.royalty.setEnabled(checked)
        self._changed()

    def _changed(self, *_args: Any) -> None:
        if not self._loading:
            self.edited.emit()
