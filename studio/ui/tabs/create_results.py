"""The Create tab's results: the image view and the grid of works under it, the selected work's
recipe and what can be done with it (reuse its seed, start from it, upscale it, show or copy its
file, mint it), and the context menu of a result.

The widgets sit in two columns of the tab (the image and grid in the middle, the recipe and buttons
on the right): :class:`CreateResults` makes them, the tab places them.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPoint, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication, QImage
from PySide6.QtWidgets import QGridLayout, QMenu, QPushButton, QSizePolicy, QWidget

from studio.ui.binding import Bindings
from studio.ui.state.create import CreateState
from studio.ui.state.jobs import ResultItem, recipe_text
from studio.ui.widgets.image_grid import ImageGrid
from studio.ui.widgets.image_view import ImageView
from studio.ui.widgets.wrapping_text import PlainTextView, breakable


class CreateResults:
    """The results' widgets and actions, for one tab (``owner``) over one :class:`CreateState`."""

    def __init__(self, state: CreateState, owner: QWidget) -> None:
        self.state, self.owner = state, owner
        self.bindings = Bindings(owner)
        self.viewer = ImageView("Your images appear here.\nWrite a prompt and press Generate.")
        self.grid = ImageGrid()
        self.grid.setModel(state.results)
        self.grid.setSelectionMode(ImageGrid.SelectionMode.ExtendedSelection)  # several works mint as one batch
        self.grid.setMinimumHeight(180)
        self.recipe_view = PlainTextView()
        self.recipe_view.setReadOnly(True)
        self.recipe_view.setPlaceholderText("Click a result to see how it was made.")
        self.reuse_seed = QPushButton("Reuse seed")
        self.use_as_init = QPushButton("Use as init image")
        self.show_in_folder = QPushButton("Show in folder")
        self.copy_path = QPushButton("Copy path")
        self.upscale_button = QPushButton("Upscale ×2")
        self.upscale_button.setToolTip("A new work twice the size (Lanczos; right-click a result for the hires "
                                       "fix's upscaler model)")
        self.mint_button = QPushButton("Mint…")
        self.mint_button.setProperty("accent", True)
        self.mint_button.setToolTip("Mint the selected results as tokens (Ctrl+click or Shift+click to select "
                                    "several)")
        #: Enabled with a selected result; ``for_a_work_itself`` not for a plot's grid image, a picture of
        #: works (the tab adds its own buttons, such as “Use selected result”).
        self.for_a_result: list[QPushButton] = [self.reuse_seed, self.use_as_init, self.show_in_folder,
                                                self.copy_path, self.upscale_button]
        self.for_a_work_itself: list[QPushButton] = [self.use_as_init, self.upscale_button]

    def buttons(self) -> QGridLayout:
        """The buttons under the recipe, two a row."""
        grid = QGridLayout()
        for index, button in enumerate((self.reuse_seed, self.use_as_init, self.show_in_folder, self.copy_path,
                                        self.upscale_button, self.mint_button)):
            grid.addWidget(button, index // 2, index % 2)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        return grid

    def bind(self) -> None:
        state, b = self.state, self.bindings
        b.connect(state.jobs.preview_changed, self._show_preview)
        b.connect(state.jobs.result_added, self._on_result_added)
        b.connect(self.grid.selectionModel().currentChanged, self._show_result)
        b.connect(self.grid.customContextMenuRequested, self._result_menu)
        b.connect(self.reuse_seed.clicked, lambda: self.with_selected(state.reuse_seed))
        b.connect(self.upscale_button.clicked, lambda: self.with_selected(state.upscale_result))
        b.connect(self.use_as_init.clicked, lambda: self.with_selected(state.use_result_as_init))
        b.connect(self.show_in_folder.clicked, lambda: self.with_selected(self._open_folder))
        b.connect(self.copy_path.clicked, lambda: self.with_selected(self._copy_path))
        b.connect(self.mint_button.clicked, self.mint_selected)
        b.connect(self.grid.selectionModel().selectionChanged, self._show_mint_enabled)
        self._show_result(QModelIndex())
        self._show_mint_enabled()

    def with_selected(self, action: Callable[[int], object]) -> None:
        """``action(row)`` on the current result, if there is one."""
        index = self.grid.currentIndex()
        if index.isValid():
            action(index.row())

    def selected_rows(self) -> list[int]:
        """The selected results' rows, in grid order."""
        return sorted({index.row() for index in self.grid.selectionModel().selectedIndexes()})

    def mint_selected(self) -> None:
        """“Mint…”: ask for the mint dialog with the selected results."""
        self.state.request_mint(self.selected_rows())

    def _show_preview(self, image: QImage) -> None:
        """The image forming; none (after a cancel): the selected result again, or nothing."""
        if image.isNull():
            index = self.grid.currentIndex()
            image = QImage(str(self.state.results.item(index.row()).path)) if index.isValid() else QImage()
        self.viewer.set_image(image)

    def _on_result_added(self, _item: ResultItem) -> None:
        index = self.state.results.index(0)
        self.grid.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def _show_mint_enabled(self, *_args: object) -> None:
        indexes = self.grid.selectionModel().selectedIndexes()  # a plot's grid image is no work to mint
        self.mint_button.setEnabled(bool(indexes) and all(self.state.results.item(i.row()).grid is None
                                                          for i in indexes))

    def _show_result(self, index: QModelIndex, _previous: QModelIndex | None = None) -> None:
        has = index.isValid()
        for button in self.for_a_result:
            button.setEnabled(has)
        if not has:
            self.recipe_view.clear()
            return
        item = self.state.results.item(index.row())
        for button in self.for_a_work_itself:
            button.setEnabled(item.grid is None)
        self.viewer.set_image(QImage(str(item.path)))
        text = item.note if item.grid is not None else recipe_text(item.work.recipe, item.path)
        self.recipe_view.setPlainText(breakable(text))  # paths break at "/", "_"

    def _result_menu(self, position: QPoint) -> None:
        index = self.grid.indexAt(position)
        if not index.isValid():
            return
        state, row = self.state, index.row()
        rows = self.selected_rows()
        if row not in rows:
            rows = [row]
        menu = QMenu(self.owner)
        menu.addAction(f"Mint {len(rows)} works…" if len(rows) > 1 else "Mint…", lambda: state.request_mint(rows))
        menu.addSeparator()
        menu.addAction("Upscale ×2 (Lanczos)", lambda: state.upscale_result(row))
        model = state.options.hires_upscaler
        if model not in ("latent", "lanczos"):  # the upscaler model file chosen for the hires fix
            menu.addAction(f"Upscale ×2 with {Path(model).name}", lambda: state.upscale_result(row, model))
        menu.addSeparator()
        menu.addAction("Reuse seed", lambda: state.reuse_seed(row))
        menu.addAction("Use as init image", lambda: state.use_result_as_init(row))
        menu.addAction("Show in folder", lambda: self._open_folder(row))
        menu.addAction("Copy path", lambda: self._copy_path(row))
        menu.exec(self.grid.viewport().mapToGlobal(position))

    def _open_folder(self, row: int) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.state.results.item(row).path.parent)))

    def _copy_path(self, row: int) -> None:
        QGuiApplication.clipboard().setText(str(self.state.results.item(row).path))
