"""The Gallery tab's view-model: what the library shows (search, filters, sort, trash), the selected
work's details and provenance, and the actions on works. No widgets here.

:class:`GalleryModel` is the grid's list model. It is virtualized: it knows the number of matching
works, fetches rows from SQLite in pages as the view asks for them (ids, titles, hashes and paths
only) and asks a :class:`~studio.ui.widgets.thumbnails.ThumbnailLoader` for thumbnails, which
arrive later from worker threads. The detail pane's reading of one work is in
:mod:`studio.ui.state.gallery_detail`.
"""
from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from PySide6.QtCore import QAbstractListModel, QMimeData, QModelIndex, QObject, QPersistentModelIndex, Qt, QUrl, Signal
from PySide6.QtGui import QImage

from studio.errors import StudioError
from studio.text import printable
from studio.library.db import Library, Work, WorkQuery, WorkRow
# the detail pane's parts (FOREIGN_SOURCES, token_lines, verify_summary) are importable from here as before
from studio.ui.state.gallery_detail import (FOREIGN_SOURCES, FileChecks, WorkDetail, foreign_recipe, lazy_listings_of,
                                            read_detail, token_lines, verify_summary)
from studio.ui.widgets.thumbnails import CELL_ROLE, FAVOURITE_ROLE, SHA256_ROLE, ThumbnailLoader
from studio.ui.workers import BackgroundPool, FunctionJob, Job, error_message

if TYPE_CHECKING:
    from studio.config import Config
    from studio.workflows.library import ImportReport, TrashReport

log = logging.getLogger(__name__)

PAGE = 200
EMPTY_LIBRARY_TEXT = (
    "Every image you generate on the Create tab is saved here with its provenance. "
    "You can also import a folder of images: the studio's own works keep their signed recipe, and "
    "images from AUTOMATIC1111, ComfyUI or InvokeAI keep their prompts.")
SORT_LABELS = {"newest": "Newest first", "oldest": "Oldest first", "title": "Title A–Z"}
STATUS_LABELS = {"any": "Any status", "minted": "Minted", "listed": "Listed for sale", "not-minted": "Not minted"}
DATE_RANGES = {"any": "Any time", "today": "Today", "week": "Last 7 days", "month": "Last 30 days",
               "year": "Last 365 days"}
_DAYS = {"week": 7, "month": 30, "year": 365}


class GalleryModel(QAbstractListModel):
    """The works matching a query, in pages fetched on demand; thumbnails load lazily.

    A query reads the ids of every matching work at once (a few milliseconds for 10,000 works);
    a page of rows is then fetched by id, so scrolling deep into a big library never runs an
    ``OFFSET`` query that steps over every row before it on the GUI thread."""

    WorkIdRole = Qt.ItemDataRole.UserRole + 1
    Sha256Role = SHA256_ROLE
    PathRole = Qt.ItemDataRole.UserRole + 3
    FavouriteRole = FAVOURITE_ROLE
    CellRole = CELL_ROLE

    def __init__(self, library: Library, loader: ThumbnailLoader, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._library = library
        self._loader = loader
        self._query = WorkQuery()
        self._ids: list[int] = []
        self._row_of_id: dict[int, int] | None = None   # built when first needed
        self._pages: dict[int, list[WorkRow | None]] = {}
        self._rows_of: dict[str, list[int]] = {}   # sha256 -> loaded rows showing it
        loader.loaded.connect(self._on_thumbnails)

    @property
    def query(self) -> WorkQuery:
        return self._query

    def set_query(self, query: WorkQuery) -> None:
        """Show the works matching ``query`` (reads their ids now, fetches rows when painted)."""
        ids = self._library.work_ids(query)
        self.beginResetModel()
        self._query, self._ids, self._row_of_id = query, ids, None
        self._pages.clear()
        self._rows_of.clear()
        self.endResetModel()
        self._loader.forget_pending()

    def reload(self) -> None:
        self.set_query(self._query)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def row(self, row: int) -> WorkRow | None:
        """The work shown at ``row`` (fetching its page when needed), or None past the end or
        where the work was deleted since the query."""
        if not 0 <= row < len(self._ids):
            return None
        page_number, offset = divmod(row, PAGE)
        page = self._pages.get(page_number)
        if page is None:
            first = page_number * PAGE
            page = self._pages[page_number] = self._library.work_rows_by_id(self._ids[first:first + PAGE])
            for n, item in enumerate(page):
                if item is not None:
                    self._rows_of.setdefault(item.sha256, []).append(first + n)
        return page[offset] if offset < len(page) else None

    def row_of_work(self, work_id: int) -> int | None:
        """The row of a work among the works matching the query, or None."""
        if self._row_of_id is None:
            self._row_of_id = {work: row for row, work in enumerate(self._ids)}
        return self._row_of_id.get(work_id)

    def update_work(self, work: Work) -> None:
        """Show an edited title or favourite flag in place; the row stays where it is until the
        next query (a work does not jump away while it is being edited)."""
        row = self.row_of_work(work.id)
        page = self._pages.get(row // PAGE) if row is not None else None
        if row is None or page is None:  # not fetched yet: it is read fresh when it is shown
            return
        shown = page[row % PAGE]
        page[row % PAGE] = WorkRow(work.id, work.sha256, work.title, work.path, work.favourite,
                                   *((shown.signed, shown.minted, shown.listed) if shown is not None else ()))
        index = self.index(row)
        self.dataChanged.emit(index, index)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        item = self.row(index.row())
        if item is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return printable(item.title) if item.title else "Untitled"
        if role == Qt.ItemDataRole.DecorationRole or role == CELL_ROLE:
            pixmap = self._loader.pixmap(item.sha256)
            if pixmap is None:
                self._loader.request(item.sha256, item.path)
            if role == CELL_ROLE:  # the delegate's one call per paint
                return (printable(item.title) if item.title else "Untitled", item.sha256, item.favourite, pixmap,
                        badges_of(item))
            return pixmap
        if role == Qt.ItemDataRole.ToolTipRole:
            from studio.ui.widgets.thumbnails import BADGES

            words = [BADGES[name][2] for name in badges_of(item)]
            return (printable(item.title) if item.title else "Untitled") + (f"\n{' · '.join(words)}" if words else "")
        if role == self.WorkIdRole:
            return item.id
        if role == self.Sha256Role:
            return item.sha256
        if role == self.PathRole:
            return item.path
        if role == self.FavouriteRole:
            return item.favourite
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsDragEnabled if index.isValid() else base

    def mimeTypes(self) -> list[str]:
        return ["text/uri-list"]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        """The dragged works as file URLs (files that still exist)."""
        mime = QMimeData()
        paths = [self.data(index, self.PathRole) for index in indexes]
        mime.setUrls([QUrl.fromLocalFile(path) for path in dict.fromkeys(paths) if path and Path(path).is_file()])
        return mime

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction

    def _on_thumbnails(self, shas: list[str]) -> None:
        """Say which rows have their thumbnail now: one signal per run of neighbouring rows. A
        single signal from the first to the last row would make an icon-mode view re-measure
        every cell in between (thousands, when the batch holds a cell scrolled past long ago)."""
        for first, last in _runs(sorted({row for sha256 in shas for row in self._rows_of.get(sha256, ())})):
            self.dataChanged.emit(self.index(first), self.index(last), [Qt.ItemDataRole.DecorationRole])


def badges_of(row: WorkRow) -> tuple[str, ...]:
    """The badges a Gallery cell shows for a work, in the order drawn: signed, minted, listed."""
    return tuple(name for name, on in (("signed", row.signed), ("minted", row.minted), ("listed", row.listed)) if on)


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """Sorted row numbers as (first, last) runs of consecutive rows."""
    runs: list[tuple[int, int]] = []
    for row in rows:
        if runs and row == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs


class GalleryState(QObject):
    """What the Gallery shows and does. Filters are plain properties; each change re-queries."""

    query_changed = Signal(object)          # WorkQuery
    count_changed = Signal(int)             # works matching the query
    library_empty_changed = Signal(bool)    # no works at all (the empty state)
    models_changed = Signal(object)         # list[str]
    collections_changed = Signal(object)    # list[Collection]
    detail_changed = Signal(object)         # WorkDetail | None
    preview_changed = Signal(object)        # QImage (null while loading or when unreadable)
    verify_changed = Signal(str)
    detail_requested = Signal()             # Enter on a work: show the detail pane
    error_changed = Signal(str)
    message_changed = Signal(str)
    busy_changed = Signal(bool)
    progress_changed = Signal(str)
    #: "Use settings": the selected work's recipe for the Create tab: a studio Recipe, or the
    #: ForeignMetadata another tool wrote (both name prompt, negative_prompt, seed, steps, guidance,
    #: scheduler, width and height alike).
    use_settings_requested = Signal(object)
    #: "Mint…": the files of the chosen works not minted yet (list[Path]), for the mint dialog.
    mint_requested = Signal(object)

    def __init__(self, config: "Config", library: Library, background: BackgroundPool,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.config = config
        self.library = library
        self.background = background
        self.loader = ThumbnailLoader(config.paths.cache_dir, parent=self)
        self.model = GalleryModel(library, self.loader, self)
        self._query = WorkQuery()
        self._date_range = "any"
        self._detail: WorkDetail | None = None
        self._selected_ids: tuple[int, ...] = ()
        self._library_empty = True
        self._error = ""
        self._message = ""
        self._busy_jobs: set[Job] = set()
        self.checks = FileChecks(background, self, on_verdict=self.verify_changed.emit,
                                 on_preview=self.preview_changed.emit)
        self._data_version = self._read_data_version()
        self.model.set_query(self._query)
        self._reload_lists()

    # -- the query ----------------------------------------------------------------------

    @property
    def query(self) -> WorkQuery:
        return self._query

    @property
    def count(self) -> int:
        return self.model.rowCount()

    @property
    def library_empty(self) -> bool:
        return self._library_empty

    @property
    def date_range(self) -> str:
        return self._date_range

    def set_search(self, text: str) -> None:
        self._set_query(text=text)

    def set_model_filter(self, model: str | None) -> None:
        self._set_query(model=model or None)

    def set_collection_filter(self, address: str | None) -> None:
        self._set_query(collection=address or None)

    def set_status_filter(self, status: str) -> None:
        self._set_query(status=status)

    def set_favourites_only(self, on: bool) -> None:
        self._set_query(favourites=bool(on))

    def set_sort(self, sort: str) -> None:
        self._set_query(sort=sort)

    def set_trash_view(self, on: bool) -> None:
        """Show the trash instead of the library."""
        self._set_query(trash=bool(on))

    def set_date_range(self, key: str, now: float | None = None) -> None:
        """One of DATE_RANGES: works created since the start of today, or in the last N days."""
        if key not in DATE_RANGES:
            raise ValueError(f"unknown date range {key!r}")
        self._date_range = key
        now = time.time() if now is None else now
        if key == "any":
            start = None
        elif key == "today":
            local = time.localtime(now)
            start = time.mktime((local.tm_year, local.tm_mon, local.tm_mday, 0, 0, 0, 0, 0, -1))
        else:
            start = now - _DAYS[key] * 86_400
        self._set_query(created_from=start, created_to=None)

    def _set_query(self, **changes: Any) -> None:
        query = replace(self._query, **changes)
        if query == self._query:
            return
        self._query = query
        self._requery()
        self.query_changed.emit(query)

    def _requery(self) -> None:
        try:
            self.model.set_query(self._query)
        except StudioError as exc:
            self.error = str(exc)
            return
        self._after_query()

    def _reload_lists(self) -> None:
        """What changes only when works are added or removed: the empty state and the filter choices."""
        empty = self.library.count_works(WorkQuery()) == 0 and self.library.count_works(WorkQuery(trash=True)) == 0
        if empty != self._library_empty:
            self._library_empty = empty
            self.library_empty_changed.emit(empty)
        self.models_changed.emit(self.library.models_in_use())
        self.collections_changed.emit(self.library.all_collections())

    def _after_query(self) -> None:
        self.count_changed.emit(self.model.rowCount())
        if self._detail is not None and self.model.row_of_work(self._detail.work.id) is None:
            current = self.library.work(self._detail.work.id)
            if current is None or current.in_trash != self._query.trash:
                self._show_detail(None)

    def refresh(self) -> None:
        """Read the library again (after a work was added elsewhere, e.g. by the Create tab)."""
        self._data_version = self._read_data_version()
        self._requery()
        self._reload_lists()
        if self._detail is not None:
            self._show_detail(self.library.work(self._detail.work.id))

    def refresh_if_changed(self) -> bool:
        """Re-read only when the library changed since: through another connection (a generation
        job, the CLI) or through this one (a market sync recorded a lazily listed work's token)."""
        if self._read_data_version() == self._data_version:
            return False
        self.refresh()
        return True

    def _read_data_version(self) -> tuple[int, int]:
        try:
            return self.library.version()
        except StudioError:
            return -1, -1

    # -- selection and the detail pane ---------------------------------------------------

    @property
    def detail(self) -> WorkDetail | None:
        return self._detail

    @property
    def selected_ids(self) -> tuple[int, ...]:
        return self._selected_ids

    def select_rows(self, rows: Sequence[int], current: int | None = None) -> None:
        """The grid's selection: the works to act on, and the one whose details are shown."""
        items = [self.model.row(row) for row in rows]
        self._selected_ids = tuple(item.id for item in items if item is not None)
        item = self.model.row(current) if current is not None else None
        if item is None and items and items[-1] is not None:
            item = items[-1]
        if item is None:
            self._show_detail(None)
        elif self._detail is None or self._detail.work.id != item.id:
            self._show_detail(self.library.work(item.id))

    def open_detail(self, row: int) -> None:
        """Enter or double-click on a work: select it and ask for the detail pane."""
        self.select_rows([row], row)
        if self._detail is not None:
            self.detail_requested.emit()

    def _show_detail(self, work: Work | None) -> None:
        self.checks.forget()  # what is still checked of the work shown before is dropped
        if work is None:
            self._detail = None
            self.detail_changed.emit(None)
            return
        self._detail = read_detail(self.library, work)
        self.detail_changed.emit(self._detail)
        self.verify_changed.emit("Checking provenance…" if self._detail.file_exists else
                                 "The file is missing: it was moved or deleted outside the studio.")
        self.preview_changed.emit(QImage())
        if self._detail.file_exists:
            self.checks.start(work)

    # -- actions -------------------------------------------------------------------------

    def copy_prompt_text(self) -> str:
        """The selected work's prompt (the tab puts it on the clipboard)."""
        return self._detail.work.prompt if self._detail is not None else ""

    def use_settings(self) -> bool:
        """Ask whoever listens (the Create tab) to take the selected work's recipe: sends the work's
        file, which carries the studio's own recipe or the one AUTOMATIC1111, ComfyUI or InvokeAI wrote."""
        if self._detail is None:
            return False
        path = Path(self._detail.work.path)
        if not path.is_file():
            self.error = f"The file of this work is missing ({path}); restore it to reuse its settings."
            return False
        recipe: Any = self._detail.recipe or foreign_recipe(self._detail.work)
        if recipe is None:
            self.error = "This work carries no recipe to reuse; copy its prompt instead."
            return False
        self.use_settings_requested.emit(path)
        return True

    def mint_selected(self) -> list[int]:
        """Ask for the mint dialog with the selected works that are not minted yet and whose file
        exists; returns their ids."""
        works = [self.library.work(work_id) for work_id in self._selected_ids]
        work_ids = [w.id for w in works if w is not None and not w.in_trash and Path(w.path).is_file()
                    and not self.library.tokens_of_work(w.id) and not lazy_listings_of(self.library, w.id)]
        if not work_ids:
            self.error = ("The selected works are minted already, lazily listed (the buyer mints them), or their "
                          "files are missing: nothing to mint.")
            return []
        self.mint_requested.emit(work_ids)
        return work_ids

    def set_favourite(self, on: bool) -> None:
        if self._detail is None:
            return
        self._update(self._detail.work.id, favourite=on)

    def set_tags(self, text: str) -> None:
        if self._detail is None:
            return
        self._update(self._detail.work.id, tags=text)

    def set_title(self, text: str) -> None:
        if self._detail is None:
            return
        self._update(self._detail.work.id, title=text)

    def _update(self, work_id: int, **changes: Any) -> None:
        try:
            work = self.library.update_work(work_id, **changes)
        except StudioError as exc:
            self.error = str(exc)
            return
        self.error = ""
        self.model.update_work(work)
        if "favourite" not in changes:
            self._reload_lists()
        self._detail = replace(self._detail, work=work) if self._detail is not None else None
        self.detail_changed.emit(self._detail)

    def trash_selected(self) -> int:
        """Move the selected works to the trash (Delete key). Returns how many moved."""
        if self._query.trash or not self._selected_ids:
            return 0
        try:
            moved = self.library.trash_works(self._selected_ids)
        except StudioError as exc:
            self.error = str(exc)
            return 0
        self.error = ""
        self.message = f"Moved {moved} work{'s' if moved != 1 else ''} to the trash."
        self._selected_ids = ()
        self._show_detail(None)
        self._requery()
        self._reload_lists()
        return moved

    def restore_selected(self) -> int:
        """Take the selected works out of the trash."""
        if not self._selected_ids:
            return 0
        restored = self.library.restore_works(self._selected_ids)
        self.message = f"Restored {restored} work{'s' if restored != 1 else ''}."
        self._selected_ids = ()
        self._show_detail(None)
        self._requery()
        return restored

    def empty_trash(self) -> Job:
        """Forget the works in the trash and delete the studio's own files of them (in a worker)."""
        def run(_progress: Callable[[Any], None], _cancel: Any) -> "TrashReport":
            from studio.workflows.library import empty_trash

            return empty_trash(self.library, data_dir=self.config.paths.data_dir,
                               cache_dir=self.config.paths.cache_dir)

        return self._run("Emptying the trash", run, self._on_trash_emptied)

    def _on_trash_emptied(self, report: "TrashReport") -> None:
        kept = f"; {len(report.files_kept)} files outside the studio were left where they are" \
            if report.files_kept else ""
        self.message = f"Removed {report.removed} work{'s' if report.removed != 1 else ''} for good{kept}."
        self._show_detail(None)
        self.refresh()

    def import_folder(self, folder: str | Path) -> Job:
        """Import a folder of images in a worker; progress lines follow, then a summary."""
        def run(progress: Callable[[Any], None], cancel: Any) -> "ImportReport":
            from studio.workflows.library import import_folder

            return import_folder(self.library, Path(folder), lambda _fraction, text: progress(text), cancel,
                                 data_dir=self.config.paths.data_dir)

        job = self._run(f"Import {Path(folder).name}", run, self._on_imported)
        job.to(self).progressed.connect(lambda text: self.progress_changed.emit(f"Importing {text}"))
        return job

    def _on_imported(self, report: "ImportReport") -> None:
        lines = [report.summary()]
        lines += [f"Skipped {Path(path).name}: {reason}" for path, reason in report.skipped[:5]]
        if len(report.skipped) > 5:
            lines.append(f"… and {len(report.skipped) - 5} more skipped.")
        self.message = "\n".join(lines)
        self.refresh()

    def export_selected(self, dest: str | Path) -> Job | None:
        """Export the selected work with its metadata (copy, or JPEG/WebP by the name's extension)."""
        if self._detail is None:
            return None
        work = self._detail.work

        def run(_progress: Callable[[Any], None], _cancel: Any) -> Path:
            from studio.workflows.library import export_work

            return export_work(work, Path(dest))

        return self._run(f"Export {Path(work.path).name}", run,
                         lambda path: setattr(self, "message", f"Exported to {path}."))

    def _run(self, title: str, fn: Callable[[Callable[[Any], None], Any], Any],
             done: Callable[[Any], None]) -> Job:
        job = FunctionJob(title, fn)
        job.to(self).succeeded.connect(done)
        job.to(self).failed.connect(lambda exc: setattr(self, "error", error_message(exc)))
        job.to(self).cancelled.connect(lambda: self.refresh())
        job.to(self).ended.connect(lambda: self._job_ended(job))
        self._busy_jobs.add(job)
        self.busy_changed.emit(True)
        self.error = ""
        self.background.start(job)
        return job

    def _job_ended(self, job: Job) -> None:
        self._busy_jobs.discard(job)
        self.progress_changed.emit("")
        if not self._busy_jobs:
            self.busy_changed.emit(False)

    @property
    def busy(self) -> bool:
        return bool(self._busy_jobs)

    def cancel_jobs(self) -> None:
        for job in list(self._busy_jobs):
            job.cancel()

    # -- messages ------------------------------------------------------------------------

    @property
    def error(self) -> str:
        return self._error

    @error.setter
    def error(self, text: str) -> None:
        if text != self._error:
            self._error = text
            self.error_changed.emit(text)

    @property
    def message(self) -> str:
        return self._message

    @message.setter
    def message(self, text: str) -> None:
        if text != self._message:
            self._message = text
            self.message_changed.emit(text)

    def shutdown(self) -> None:
        """Stop thumbnail decoding (the window is closing)."""
        self.loader.shutdown()

