"""The Gallery tab: a search and filter bar over a virtualized thumbnail grid, and a detail pane for
the selected work. All bindings to :class:`GalleryState` are in :meth:`GalleryTab.bind`.

Text from files (titles, prompts, tags, foreign metadata) is shown as plain text only.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QImage, QKeyEvent, QPixmap, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFileDialog, QFormLayout, QFrame, QGridLayout, QHBoxLayout,
                               QLabel, QLineEdit, QListView, QMessageBox, QPlainTextEdit, QPushButton, QScrollArea,
                               QSizePolicy, QSplitter, QStackedWidget, QToolButton, QVBoxLayout, QWidget)

from studio.text import printable
from studio.ui.binding import Bindings
from studio.ui.state.gallery import (DATE_RANGES, EMPTY_LIBRARY_TEXT, FOREIGN_SOURCES, SORT_LABELS, STATUS_LABELS,
                                     GalleryState, WorkDetail, token_lines)
from studio.ui.widgets.banner import Banner
from studio.ui.widgets.empty_state import empty_or_workspace, empty_state_page
from studio.ui.widgets.wrapping_text import WrappingLabel
from studio.ui.widgets.thumbnails import CAPTION, CELL, GalleryDelegate

EXPORT_FILTER = "PNG, a copy (*.png);;JPEG with provenance (*.jpg);;WebP with provenance (*.webp)"
SEARCH_DELAY_MS = 120
PREVIEW_HEIGHT = 260


def _plain(label: QLabel) -> QLabel:
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _muted(text: str = "") -> QLabel:
    label = _plain(QLabel(text))
    label.setProperty("muted", True)
    return label


class GalleryGrid(QListView):
    """Thumbnails in rows; Delete sends the selection to the trash, Enter opens the detail pane,
    and works drag out as files."""

    delete_pressed = Signal()
    enter_pressed = Signal(int)

    def __init__(self, delegate: GalleryDelegate, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cell_delegate = delegate
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(400)
        self.setWrapping(True)
        self.setSpacing(0)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)  # columns never jump
        self.verticalScrollBar().setSingleStep(24)
        self.setItemDelegate(delegate)
        self.setMouseTracking(True)
        self._delegate = delegate

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Share the width evenly between the columns that fit, so no strip is left empty."""
        width = self.viewport().width() - 4
        columns = max(1, width // CELL)
        cell = max(CELL, width // columns - 1)
        if cell != self._delegate.cell_width:
            self._delegate.cell_width = cell
            self._delegate.clear_cache()  # cells drawn at the old width are not shown again
            self.setGridSize(QSize(cell, CELL + CAPTION))
        super().resizeEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.selectionModel().hasSelection():
            self.delete_pressed.emit()
            event.accept()
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.enter_pressed.emit(self.currentIndex().row())
            event.accept()
            return
        super().keyPressEvent(event)


class DetailPane(QScrollArea):
    """The selected work: image, title, recipe, provenance, tokens, and what can be done with it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # text wraps instead
        self.setMinimumWidth(300)
        body = QFrame()
        body.setObjectName("panel")
        self.image = QLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setMinimumHeight(160)
        self.image.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.title = QLineEdit()
        self.title.setPlaceholderText("Title")
        self.title.setToolTip("The work's title (press Enter to keep a change)")
        self.prompt = QPlainTextEdit()
        self.prompt.setReadOnly(True)
        self.prompt.setMaximumHeight(96)
        self.model = WrappingLabel()   # long names, addresses and paths wrap instead of widening the pane
        self.seed = _plain(QLabel())
        self.size_label = _plain(QLabel())
        self.created = _plain(QLabel())
        self.source = _plain(QLabel())
        self.verify = WrappingLabel()
        self.tokens = WrappingLabel()
        self.tags = QLineEdit()
        self.tags.setPlaceholderText("tags, separated by commas")
        self.file = WrappingLabel(muted=True)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for label, widget in (("Model", self.model), ("Seed", self.seed), ("Size", self.size_label),
                              ("Created", self.created), ("Recipe", self.source), ("Provenance", self.verify),
                              ("Tokens", self.tokens), ("Tags", self.tags)):
            form.addRow(label, widget)
        self.copy_prompt = QPushButton("Copy prompt")
        self.use_settings = QPushButton("Use settings")
        self.use_settings.setToolTip("Send this work's recipe to the Create tab")
        self.mint = QPushButton("Mint…")
        self.mint.setToolTip("Mint this work as a token (opens the mint dialog)")
        self.export = QPushButton("Export…")
        self.export.setToolTip("Save a copy with its metadata (PNG), or a JPEG/WebP with its provenance")
        self.favourite = QPushButton("☆ Favourite")
        self.favourite.setCheckable(True)
        self.delete = QPushButton("Move to trash")
        self.restore = QPushButton("Restore")
        actions = QGridLayout()  # two columns, so the pane stays narrow enough beside the grid
        actions.setHorizontalSpacing(6)
        actions.setVerticalSpacing(6)
        for index, button in enumerate((self.copy_prompt, self.use_settings, self.export, self.mint,
                                        self.favourite)):
            actions.addWidget(button, index // 2, index % 2)
        actions.addWidget(self.delete, 2, 1)
        actions.addWidget(self.restore, 2, 1)
        self.placeholder = _muted("Select a work to see its details.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.content = QWidget()
        inner = QVBoxLayout(self.content)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.setSpacing(8)
        inner.addWidget(self.image)
        inner.addWidget(self.title)
        inner.addLayout(actions)
        inner.addWidget(self.prompt)
        inner.addLayout(form)
        inner.addWidget(self.file)
        inner.addStretch(1)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(14, 14, 14, 14)
        layout.addWidget(self.placeholder)
        layout.addWidget(self.content)
        self.setWidget(body)
        self._pixmap = QPixmap()
        self.show_detail(None)

    def show_detail(self, detail: WorkDetail | None) -> None:
        self.placeholder.setVisible(detail is None)
        self.content.setVisible(detail is not None)
        if detail is None:
            return
        work = detail.work
        if not self.title.hasFocus():
            self.title.setText(printable(work.title))
            self.title.setCursorPosition(0)  # show the title's start, not its end
        self.prompt.setPlainText(printable(work.prompt, multiline=True) if work.prompt else "(no prompt recorded)")
        self.model.setText(printable(work.model) if work.model else "unknown")
        self.seed.setText(str(work.seed) if work.seed is not None else "unknown")
        self.size_label.setText(f"{work.width} × {work.height}")
        self.created.setText(datetime.fromtimestamp(work.created).strftime("%Y-%m-%d %H:%M"))
        self.source.setText({"studio": "Provenance Studio manifest", "a1111": "AUTOMATIC1111 parameters",
                             "comfyui": "ComfyUI graph", "invokeai": "InvokeAI metadata"}.get(work.source, "none"))
        self.tokens.setText("\n".join(printable(line) for line in token_lines(detail)) or "Not minted")
        if not self.tags.hasFocus():
            self.tags.setText(printable(", ".join(work.tags)))
        self.file.setText(printable(work.path if detail.file_exists else f"Missing: {work.path}"))
        self.use_settings.setEnabled(detail.manifest is not None or work.source in FOREIGN_SOURCES)
        self.mint.setEnabled(detail.mintable)
        self.mint.setToolTip("Minted already" if detail.tokens else
                             "Lazily listed: whoever buys it mints it" if detail.lazy_listings else
                             "Mint this work as a token (opens the mint dialog)")
        self.copy_prompt.setEnabled(bool(work.prompt))
        self.export.setEnabled(detail.file_exists)
        self.favourite.setChecked(work.favourite)
        self.favourite.setText("★ Favourite" if work.favourite else "☆ Favourite")
        self.delete.setVisible(not work.in_trash)
        self.delete.setEnabled(not detail.tokens)
        self.delete.setToolTip("Minted works stay in the library" if detail.tokens else "Move to the trash (Delete)")
        self.restore.setVisible(work.in_trash)

    def show_preview(self, image: QImage) -> None:
        self._pixmap = QPixmap.fromImage(image) if not image.isNull() else QPixmap()
        self._fit_preview()

    def _fit_preview(self) -> None:
        if self._pixmap.isNull():
            self.image.setPixmap(QPixmap())
            return
        width = max(64, self.viewport().width() - 40)
        self.image.setPixmap(self._pixmap.scaled(width, min(width, PREVIEW_HEIGHT), Qt.AspectRatioMode.KeepAspectRatio,
                                                 Qt.TransformationMode.SmoothTransformation))

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._fit_preview()


class GalleryTab(QWidget):
    """The widgets of the Gallery tab, observing one :class:`GalleryState`."""

    def __init__(self, state: GalleryState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.bindings = Bindings()
        self.stack = empty_or_workspace(self, self._build_empty_page(), self._build_workspace())
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(lambda: self.state.set_search(self.search.text()))
        self.bind(state)

    # -- building -----------------------------------------------------------------------

    def _build_empty_page(self) -> QWidget:
        self.empty_import = QPushButton("Import folder…")
        self.empty_import.setProperty("accent", True)
        return empty_state_page("Gallery", EMPTY_LIBRARY_TEXT, right=[self.empty_import])

    def _build_workspace(self) -> QWidget:
        page = QWidget()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search prompts, titles and tags")
        self.search.setClearButtonEnabled(True)
        self.model_filter = QComboBox()
        self.model_filter.setToolTip("Only works made with this model")
        self.collection_filter = QComboBox()
        self.collection_filter.setToolTip("Only works minted into this collection")
        self.status_filter = QComboBox()
        for key, label in STATUS_LABELS.items():
            self.status_filter.addItem(label, key)
        self.date_filter = QComboBox()
        for key, label in DATE_RANGES.items():
            self.date_filter.addItem(label, key)
        self.favourites = QToolButton()
        self.favourites.setText("★ Favourites")
        self.favourites.setCheckable(True)
        self.sort = QComboBox()
        for key, label in SORT_LABELS.items():
            self.sort.addItem(label, key)
        self.trash_view = QToolButton()
        self.trash_view.setText("Trash")
        self.trash_view.setCheckable(True)
        self.trash_view.setToolTip("Show the works moved to the trash")
        self.empty_trash = QPushButton("Empty trash…")
        self.import_button = QPushButton("Import folder…")
        bar = QHBoxLayout()
        bar.setSpacing(6)
        bar.addWidget(self.search, 3)
        for widget in (self.model_filter, self.collection_filter, self.status_filter, self.date_filter):
            bar.addWidget(widget, 1)
        bar.addWidget(self.favourites)
        bar.addWidget(self.sort)
        bar.addWidget(self.trash_view)
        bar.addWidget(self.empty_trash)
        bar.addWidget(self.import_button)

        self.error_line = Banner("errorBanner", dismiss_hides=True)
        self.message_line = Banner("warningBanner", dismiss_hides=True)
        self.progress = _muted()
        self.progress.setVisible(False)
        self.count_label = _muted()

        self.grid = GalleryGrid(GalleryDelegate(self.state.loader))
        self.grid.setModel(self.state.model)
        self.no_match = _muted("No works match the search and filters.")
        self.no_match.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.grid_stack = QStackedWidget()
        self.grid_stack.addWidget(self.grid)
        self.grid_stack.addWidget(self.no_match)
        self.detail = DetailPane()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.grid_stack)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([900, 360])

        layout = QVBoxLayout(page)
        layout.setContentsMargins(12, 12, 12, 8)
        layout.setSpacing(8)
        layout.addLayout(bar)
        layout.addWidget(self.error_line)
        layout.addWidget(self.message_line)
        layout.addWidget(self.progress)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.count_label)
        return page

    # -- bindings -----------------------------------------------------------------------

    def bind(self, state: GalleryState) -> None:
        """Every connection between the widgets and the view-model, in one place."""
        b = self.bindings
        b.connect(self.search.textChanged, lambda _text: self._search_timer.start())
        b.connect(self.search.returnPressed, self._search_now)
        b.connect(self.model_filter.currentIndexChanged,
                  lambda _i: state.set_model_filter(self.model_filter.currentData()))
        b.connect(self.collection_filter.currentIndexChanged,
                  lambda _i: state.set_collection_filter(self.collection_filter.currentData()))
        b.connect(self.status_filter.currentIndexChanged,
                  lambda _i: state.set_status_filter(self.status_filter.currentData()))
        b.connect(self.date_filter.currentIndexChanged, lambda _i: state.set_date_range(self.date_filter.currentData()))
        b.connect(self.favourites.toggled, state.set_favourites_only)
        b.connect(self.sort.currentIndexChanged, lambda _i: state.set_sort(self.sort.currentData()))
        b.connect(self.trash_view.toggled, state.set_trash_view)
        b.connect(self.empty_trash.clicked, self.confirm_empty_trash)
        b.connect(self.import_button.clicked, self.choose_import_folder)
        b.connect(self.empty_import.clicked, self.choose_import_folder)

        b.connect(self.grid.selectionModel().selectionChanged, self._on_selection)
        b.connect(self.grid.selectionModel().currentChanged, lambda _c, _p: self._on_selection())
        b.connect(self.grid.delete_pressed, self._delete_selected)
        b.connect(self.grid.enter_pressed, state.open_detail)
        b.connect(self.grid.doubleClicked, lambda index: state.open_detail(index.row()))
        b.connect(state.model.modelReset, self._on_model_reset)

        d = self.detail
        b.connect(d.copy_prompt.clicked, self.copy_prompt)
        b.connect(d.use_settings.clicked, state.use_settings)
        b.connect(d.mint.clicked, state.mint_selected)
        b.connect(d.export.clicked, self.choose_export)
        b.connect(d.favourite.toggled, self._on_favourite)
        b.connect(d.delete.clicked, self._delete_selected)
        b.connect(d.restore.clicked, state.restore_selected)
        b.connect(d.tags.editingFinished, lambda: state.set_tags(d.tags.text()))
        b.connect(d.title.editingFinished, self._on_title_edited)

        b.connect(state.count_changed, self._on_count)
        b.connect(state.library_empty_changed, lambda empty: self.stack.setCurrentIndex(0 if empty else 1))
        b.connect(state.models_changed, self._set_models)
        b.connect(state.collections_changed, self._set_collections)
        b.connect(state.query_changed, self._on_query)
        b.connect(state.detail_changed, d.show_detail)
        b.connect(state.preview_changed, d.show_preview)
        b.connect(state.verify_changed, d.verify.setText)
        b.connect(state.detail_requested, self._focus_detail)
        b.connect(state.error_changed, self.error_line.show_text)
        b.connect(state.message_changed, self.message_line.show_text)
        b.connect(state.progress_changed, self._on_progress)
        b.connect(state.busy_changed, lambda busy: self.import_button.setEnabled(not busy))

        self.stack.setCurrentIndex(0 if state.library_empty else 1)
        self._set_models(state.library.models_in_use())
        self._set_collections(state.library.all_collections())
        self._on_query(state.query)
        self._on_count(state.count)
        d.show_detail(state.detail)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.state.refresh_if_changed()

    # -- reactions ----------------------------------------------------------------------

    def _search_now(self) -> None:
        self._search_timer.stop()
        self.state.set_search(self.search.text())

    def _on_count(self, count: int) -> None:
        self.grid_stack.setCurrentIndex(0 if count else 1)
        where = "in the trash" if self.state.query.trash else "shown"
        self.count_label.setText(f"{count:,} work{'s' if count != 1 else ''} {where}")

    def _on_query(self, query: Any) -> None:
        self.empty_trash.setVisible(query.trash)
        self.no_match.setText("The trash is empty." if query.trash and not query.text
                              else "No works match the search and filters.")

    def _on_model_reset(self) -> None:
        """Works still shown stay selected across a re-read (a save elsewhere, a market sync, a search),
        so the detail pane keeps the work being looked at."""
        state, selection = self.state, self.grid.selectionModel()
        rows = [row for row in (state.model.row_of_work(work_id) for work_id in state.selected_ids) if row is not None]
        current = state.model.row_of_work(state.detail.work.id) if state.detail is not None else None
        if rows:
            selection.blockSignals(True)
            chosen = QItemSelection()
            for row in rows:
                chosen.select(state.model.index(row), state.model.index(row))
            selection.select(chosen, QItemSelectionModel.SelectionFlag.ClearAndSelect)
            if current is not None:
                selection.setCurrentIndex(state.model.index(current), QItemSelectionModel.SelectionFlag.NoUpdate)
            selection.blockSignals(False)
        self._on_selection()

    def _set_combo(self, combo: QComboBox, everything: str, items: list[tuple[str, str]]) -> None:
        current = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(everything, None)
        for label, key in items:
            combo.addItem(label, key)
        found = combo.findData(current)
        combo.setCurrentIndex(found if found >= 0 else 0)
        combo.blockSignals(False)
        if combo.currentData() != current:
            combo.currentIndexChanged.emit(combo.currentIndex())

    def _set_models(self, models: list[str]) -> None:
        self._set_combo(self.model_filter, "All models", [(name, name) for name in models])

    def _set_collections(self, collections: list[Any]) -> None:
        self._set_combo(self.collection_filter, "All collections",
                        [(f"{c.name} ({c.symbol})", c.address) for c in collections])

    def _on_selection(self, *_args: Any) -> None:
        rows = sorted(index.row() for index in self.grid.selectionModel().selectedIndexes())
        current = self.grid.currentIndex()
        self.state.select_rows(rows, current.row() if current.isValid() and current.row() in rows else None)

    def _on_favourite(self, on: bool) -> None:
        detail = self.state.detail
        if detail is not None and detail.work.favourite != on:
            self.state.set_favourite(on)

    def _on_title_edited(self) -> None:
        detail = self.state.detail
        if detail is not None and self.detail.title.text() not in (detail.work.title, printable(detail.work.title)):
            self.state.set_title(self.detail.title.text())

    def _on_progress(self, text: str) -> None:
        self.progress.setText(text)
        self.progress.setVisible(bool(text))

    def _focus_detail(self) -> None:
        sizes = self.splitter.sizes()
        if len(sizes) == 2 and sizes[1] == 0:
            self.splitter.setSizes([max(1, sizes[0] - 360), 360])
        self.detail.title.setFocus()

    def _delete_selected(self) -> None:
        if self.state.query.trash:
            return
        row = self.grid.currentIndex().row()
        if self.state.trash_selected():
            self.grid.clearSelection()
            next_index = self.state.model.index(min(max(row, 0), self.state.model.rowCount() - 1))
            if next_index.isValid():
                self.grid.setCurrentIndex(next_index)

    # -- actions that need a dialog or the clipboard ------------------------------------

    def copy_prompt(self) -> None:
        text = self.state.copy_prompt_text()
        if text:
            QGuiApplication.clipboard().setText(text)
            self.state.message = "Prompt copied."

    def choose_import_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import a folder of images")
        if folder:
            self.state.import_folder(folder)

    def choose_export(self) -> None:
        detail = self.state.detail
        if detail is None:
            return
        suggested = str(Path.home() / Path(detail.work.path).name)
        dest, _filter = QFileDialog.getSaveFileName(self, "Export the work", suggested, EXPORT_FILTER)
        if dest:
            self.state.export_selected(dest)

    def confirm_empty_trash(self) -> None:
        count = self.state.count if self.state.query.trash else 0
        answer = QMessageBox.question(
            self, "Empty the trash",
            f"Remove the {count:,} works in the trash for good? Their copies in the studio's folders are deleted; "
            "files elsewhere on your disk are left alone.")
        if answer == QMessageBox.StandardButton.Yes:
            self.state.empty_trash()

    def select_row(self, row: int) -> QModelIndex:
        """Make ``row`` the current and only selected work (tests and keyboard users)."""
        index = self.state.model.index(row)
        self.grid.setCurrentIndex(index)
        return index
