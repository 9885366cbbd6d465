"""The Avatars tab's view-model: single avatars, character sheets and trait collections.

Holds what the tab shows as properties with change signals, checks input before anything is
queued, and runs the avatar workflows on the GPU lane (one generation at a time, with the Create
tab's jobs). Every avatar is saved and recorded in the library by the workflows (the Gallery shows
it); a collection's images are shown as they are made, and those of a folder made earlier when
the folder is chosen. "Mint collection…" asks the window for the batch mint dialog. No widgets here.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QImage

from studio.assets import asset_path
from studio.errors import InputError, NotFound, StudioError
from studio.generation.avatars import DEFAULT_PRESET, FACE_ID_NOTICE, StylePreset, load_presets
from studio.generation.traits import TraitTable
from studio.ui.binding import Field
from studio.ui.state.jobs import JobProgress, ResultItem, ResultsModel
from studio.ui.workers import BackgroundPool, FunctionJob, GpuLane, Job, error_message

if TYPE_CHECKING:
    from studio.config import Config
    from studio.generation.traits import RarityReport
    from studio.library.db import Library

log = logging.getLogger(__name__)

SINGLE, SHEET, COLLECTION = "single", "sheet", "collection"
MODES = {SINGLE: "Single", SHEET: "Character sheet", COLLECTION: "Collection"}
EXAMPLE_TRAITS = asset_path("examples", "avatar_traits.yaml")


class TraitRowsModel(QAbstractTableModel):
    """The trait table as editable rows: one value per row (category, value, weight, prompt, rules)."""

    COLUMNS = ("Category", "Value", "Weight", "Prompt words", "Excludes", "Requires")
    edited = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[list[str]] = []

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return self._rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.ToolTipRole and index.column() >= 4:
            return "“Category: Value” pairs, separated by ;"
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        return super().flags(index) | Qt.ItemFlag.ItemIsEditable

    def setData(self, index: QModelIndex | QPersistentModelIndex, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or role != Qt.ItemDataRole.EditRole:
            return False
        self._rows[index.row()][index.column()] = str(value).strip()
        self.dataChanged.emit(index, index)
        self.edited.emit()
        return True

    @property
    def rows(self) -> list[list[str]]:
        return [list(row) for row in self._rows]

    def set_table(self, table: TraitTable) -> None:
        self.beginResetModel()
        self._rows = [[c.name, v.name, f"{v.weight:g}", v.prompt if v.prompt is not None else v.name,
                       "; ".join(f"{a}: {b}" for a, b in v.excludes), "; ".join(f"{a}: {b}" for a, b in v.requires)]
                      for c in table.categories for v in c.values]
        self.endResetModel()
        self.edited.emit()

    def add_row(self, category: str = "") -> int:
        row = len(self._rows)
        self.beginInsertRows(QModelIndex(), row, row)
        self._rows.append([category, "", "1", "", "", ""])
        self.endInsertRows()
        self.edited.emit()
        return row

    def remove_rows(self, rows: list[int]) -> None:
        for row in sorted(set(rows), reverse=True):
            if 0 <= row < len(self._rows):
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._rows[row]
                self.endRemoveRows()
        self.edited.emit()

    def to_table(self, template: str, name: str = "") -> TraitTable:
        """The rows as a validated table (InputError lists what is wrong, by row)."""
        categories: dict[str, list[dict[str, Any]]] = {}
        for number, (category, value, weight, prompt, excludes, requires) in enumerate(self._rows, start=1):
            if not category and not value:
                continue
            if not category or not value:
                raise InputError(f"Row {number} needs both a category and a value.")
            try:
                weight_value = float(weight or "1")
            except ValueError:
                raise InputError(f"Row {number} ({value}): the weight “{weight}” is not a number.") from None
            item: dict[str, Any] = {"name": value, "weight": weight_value, "prompt": prompt}
            for key, text in (("excludes", excludes), ("requires", requires)):
                refs = [part.strip() for part in text.split(";") if part.strip()]
                if refs:
                    item[key] = refs
            categories.setdefault(category, []).append(item)
        return TraitTable.from_dict({"name": name, "template": template,
                                     "categories": [{"name": c, "values": v} for c, v in categories.items()]})


class AvatarsState(QObject):
    """What the Avatars tab shows and does; every action is validated before a job is queued."""

    mode_changed = Signal(str)
    preset_changed = Signal(str)
    prompt_changed = Signal(str)
    photo_path_changed = Signal(str)
    strength_changed = Signal(float)
    size_changed = Signal(int)
    steps_changed = Signal(int)
    seed_changed = Signal(int)
    count_changed = Signal(int)
    reference_path_changed = Signal(str)
    sheet_count_changed = Signal(int)
    template_changed = Signal(str)
    collection_count_changed = Signal(int)
    collection_seed_changed = Signal(int)
    collection_name_changed = Signal(str)
    out_dir_changed = Signal(str)
    busy_changed = Signal(bool)
    status_changed = Signal(str)
    progress_changed = Signal(object)       # JobProgress
    adapters_changed = Signal(str)          # the status line
    adapter_choices_changed = Signal()      # the usable adapters found (adapter_choices)
    adapter_changed = Signal(str)           # the chosen adapter's file name, "" for none
    adapter_scale_changed = Signal(float)
    licence_acknowledged_changed = Signal(bool)
    photo_as_init_changed = Signal(bool)    # False: the photo/reference only through the adapter
    presets_changed = Signal()
    error = Signal(str)
    sheet_ready = Signal(object)            # CharacterSheet
    collection_done = Signal(object)        # CollectionResult
    rarity_changed = Signal(object)         # RarityReport
    collection_manifest_changed = Signal(str)   # the finished collection's manifest.json, "" while none
    mint_collection_requested = Signal(object)  # Path of the manifest: the window opens the batch mint
    preview_changed = Signal(object)        # QImage of the avatar forming (null when none)
    possible_changed = Signal(str)          # "864 combinations (661 valid)"
    backend_text_changed = Signal(str)
    workers_changed = Signal(object)        # tuple of WorkerStatus

    mode = Field(SINGLE)
    preset = Field(DEFAULT_PRESET)
    prompt = Field("")
    photo_path = Field("")
    strength = Field(0.55)
    size = Field(0)              # 0: the preset's size for the model
    steps = Field(0)             # 0: the preset's steps
    seed = Field(-1)             # -1: random
    count = Field(1)
    reference_path = Field("")
    sheet_count = Field(6)
    template = Field("")
    collection_count = Field(100)
    collection_seed = Field(7)
    collection_name = Field("")  # the tokens' name: "<name> #1"…
    out_dir = Field("")
    busy = Field(False)
    status = Field("")
    adapters = Field("")
    adapter = Field("")
    adapter_scale = Field(0.6)
    licence_acknowledged = Field(False)
    photo_as_init = Field(True)
    collection_manifest = Field("")
    possible = Field("")
    backend_text = Field("")     # where a collection is made: this computer, or the Ray cluster of the settings
    workers = Field(())          # a collection run on a cluster: each worker (WorkerStatus: state, avatars made)

    def __init__(self, config: "Config", catalog: Any, lane: GpuLane, background: BackgroundPool,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.config = config
        self.catalog = catalog
        self.lane = lane
        self.background = background
        self.library: "Library | None" = None     # the window's; None: each job opens the studio's library
        self.results = ResultsModel(self)        # single avatars, newest first
        self.sheet_results = ResultsModel(self)  # the last sheet's variations
        self.collection_results = ResultsModel(self)  # the collection folder's avatars, in order
        self.traits = TraitRowsModel(self)
        self.traits.edited.connect(self._count_possible)
        self.template_changed.connect(lambda _text: self._count_possible())
        self.presets: list[StylePreset] = load_presets(config.paths.data_dir)
        self.licence_notice = FACE_ID_NOTICE
        self.adapter_downloads: tuple[str, ...] = ()
        self.adapter_choices: tuple[Any, ...] = ()   # IpAdapterFiles usable with the photo
        self.rarity: "RarityReport | None" = None
        self._job: Job | None = None
        self._folder_ticket = 0
        self._collection_items: dict[int, ResultItem] = {}
        self.out_dir_changed.connect(lambda _folder: self.load_collection_folder())
        self.out_dir = str(config.paths.data_dir / "avatar-collections" / "collection")
        self.refresh_backend()
        if EXAMPLE_TRAITS.exists():
            self.load_traits(EXAMPLE_TRAITS)

    # -- model and presets -----------------------------------------------------------------

    @property
    def model_name(self) -> str:
        return self.config["default_model"] or "demo"

    def preset_labels(self) -> list[tuple[str, str]]:
        return [(p.key, p.label + (" (yours)" if p.user else "")) for p in self.presets]

    def current_preset(self) -> StylePreset:
        for preset in self.presets:
            if preset.key == self.preset:
                return preset
        return self.presets[0]

    def save_preset(self, preset: StylePreset | dict) -> None:
        """Save the user's preset (new, or an edit of a shipped one) and choose it."""
        from studio.generation.avatars import save_user_preset

        try:
            saved = save_user_preset(preset, self.config.paths.data_dir)
        except StudioError as exc:
            self.error.emit(str(exc))
            return
        self.presets = load_presets(self.config.paths.data_dir)
        self.presets_changed.emit()
        self.preset = saved.key

    def refresh_adapters(self) -> None:
        """Look for IP-Adapters in the models folders (in the background) and update the status line."""
        from studio.generation.avatars import find_ip_adapters

        folders, target = self.config.model_folders(), self.config.paths.models_dir
        job = FunctionJob("Looking for IP-Adapters", lambda _p, _c: find_ip_adapters(folders, target))
        job.to(self).succeeded.connect(self._on_adapters)
        self.background.start(job)

    def _on_adapters(self, report: Any) -> None:
        self.adapter_downloads = report.downloads
        self.adapter_choices = tuple(report.available)
        if self.adapter and all(a.name != self.adapter for a in self.adapter_choices):
            self.adapter = ""
        self.adapter_choices_changed.emit()
        self.adapters = report.summary + ("" if report.available else
                                          " To keep a photo's likeness, put one in the models folder "
                                          "(Settings › Storage); the tooltip lists the files.")

    # -- input ------------------------------------------------------------------------------

    def _open_image(self, path: str, what: str) -> Any:
        from studio.safeimage import load_image

        if not path:
            raise InputError(f"Choose a {what} first.")
        try:
            return load_image(path, what=f"The {what} {Path(path).name}")
        except NotFound:
            raise InputError(f"The {what} {path} does not exist.") from None

    def _chosen_adapter(self) -> Any:
        """The chosen IP-Adapter (None for none), its licence checked before anything is queued."""
        if not self.adapter:
            return None
        from studio.generation.avatars import check_adapter_licence

        adapter = next((a for a in self.adapter_choices if a.name == self.adapter), None)
        if adapter is None:
            raise InputError(f"The IP-Adapter {self.adapter} is no longer in the models folders.",
                             hint="Choose another adapter, or none.")
        check_adapter_licence(adapter, bool(self.licence_acknowledged))
        return adapter

    def _request(self, *, count: int, strength: float) -> Any:
        from studio.generation.avatars import AvatarRequest

        return AvatarRequest(prompt=self.prompt, preset=self.preset, model=self.model_name,
                             seed=None if self.seed < 0 else self.seed, count=count, strength=strength,
                             size=self.size or None, steps=self.steps or None, adapter=self._chosen_adapter(),
                             adapter_scale=float(self.adapter_scale), photo_as_init=bool(self.photo_as_init),
                             licence_acknowledged=bool(self.licence_acknowledged))

    def _check_idle(self) -> None:
        if self.busy:
            raise InputError("Avatars are being made already.", hint="Wait for them, or press Cancel.")

    # -- actions ----------------------------------------------------------------------------

    def generate_single(self) -> Job | None:
        """Queue single avatars (from the photo when one is chosen)."""
        try:
            self._check_idle()
            photo = self._open_image(self.photo_path, "photo") if self.photo_path else None
            if not self.prompt.strip() and photo is None:
                raise InputError("Describe the avatar, or choose a photo.")
            request = self._request(count=self.count, strength=self.strength)
            if request.adapter is not None and photo is None:
                raise InputError(f"The IP-Adapter {request.adapter.name} reads a photo.",
                                 hint="Choose a photo, or set the adapter to none.")
        except StudioError as exc:
            self.error.emit(str(exc))
            return None
        works_dir, preview_every = self.config.paths.works_dir, self._preview_every()

        def run(progress: Any, cancel: Any) -> Any:
            from studio.workflows.avatars import make_from_photo, make_single

            engine = self.lane.engine()
            progress(JobProgress("Starting…", None))
            with self._library() as library:
                kwargs = dict(progress=self._step_reporter(progress), cancel=cancel,
                              on_saved=self._saved_reporter(job), data_dir=self.config.paths.data_dir,
                              library=library, preview_every=preview_every)
                if photo is not None:
                    return make_from_photo(request, photo, engine, works_dir, **kwargs)
                return make_single(request, engine, works_dir, **kwargs)

        job = _AvatarJob(f"Avatar “{self.prompt[:30]}”", run, self)
        job.to(self).saved.connect(lambda item: self.results.prepend(item))
        return self._start(job)

    def generate_sheet(self) -> Job | None:
        """Queue a character sheet from the reference image."""
        try:
            self._check_idle()
            reference = self._open_image(self.reference_path, "reference image")
            if not 2 <= self.sheet_count <= 16:
                raise InputError(f"A sheet has 2 to 16 variations, not {self.sheet_count}.")
            request = self._request(count=self.sheet_count, strength=self.strength)
        except StudioError as exc:
            self.error.emit(str(exc))
            return None
        works_dir, preview_every = self.config.paths.works_dir, self._preview_every()
        self.sheet_results.set_items([])

        def run(progress: Any, cancel: Any) -> Any:
            from studio.workflows.avatars import make_character_sheet

            engine = self.lane.engine()
            progress(JobProgress("Starting…", None))
            with self._library() as library:
                return make_character_sheet(request, reference, engine, works_dir, library=library,
                                            progress=self._step_reporter(progress), cancel=cancel,
                                            on_saved=self._saved_reporter(job), data_dir=self.config.paths.data_dir,
                                            preview_every=preview_every)

        job = _AvatarJob("Character sheet", run, self)
        job.to(self).saved.connect(self.sheet_results.append)
        job.to(self).succeeded.connect(self.sheet_ready.emit)
        return self._start(job)

    def use_as_reference(self, row: int) -> None:
        """Make variation ``row`` of the sheet the new reference (to keep refining one character)."""
        self.reference_path = str(self.sheet_results.item(row).path)

    def refresh_backend(self) -> None:
        """Say where a collection will be made (the generation backend of the settings)."""
        from studio.generation.backends import cluster_address

        address = cluster_address(self.config)
        self.backend_text = ("Made on this computer." if address is None else
                             f"Made on the Ray cluster at {address} (Settings › Generation); each avatar is "
                             "signed and saved here as it arrives.")

    def generate_collection(self) -> Job | None:
        """Queue the collection (continuing one already started in the same folder) on this computer
        or, when the settings say so, on a Ray cluster."""
        try:
            self._check_idle()
            table = self.traits.to_table(self.template)
            table.sample(self.collection_count, self.collection_seed)  # N too large: say so now
            if not self.out_dir:
                raise InputError("Choose a folder for the collection.")
        except StudioError as exc:
            self.error.emit(str(exc))
            return None
        count, seed, out_dir = self.collection_count, self.collection_seed, Path(self.out_dir)
        template, size, steps = self.template, self.size or None, self.steps or None
        preset, preview_every = self.preset, self._preview_every()
        name = " ".join(self.collection_name.split()) or None
        self.collection_manifest = ""
        self.refresh_backend()
        self.workers = ()
        from studio.generation.backends import cluster_address, open_backend

        address = cluster_address(self.config)

        def run(progress: Any, cancel: Any) -> Any:
            from studio.ui.images import pil_to_qimage
            from studio.workflows.avatars import make_collection

            engine = self.lane.engine()
            progress(JobProgress("Starting…" if address is None else f"Connecting to {address}…", None))
            shown: list[tuple[Any, ...]] = [()]

            def report(step: Any) -> None:
                preview = pil_to_qimage(step.preview) if step.preview is not None else None
                progress(JobProgress(step.text, step.fraction, preview))
                workers = tuple(step.workers) if address is not None else ()
                if workers != shown[0]:
                    shown[0] = workers
                    job.workers.emit(workers)

            backend = open_backend(self.config, engine, address, catalog=self.catalog)
            try:
                with self._library() as library:
                    return make_collection(table, count, seed, out_dir, backend, library=library, template=template,
                                           preset=preset, model=self.model_name, size=size, steps=steps,
                                           cancel=cancel, progress=report, on_saved=self._collection_reporter(job),
                                           data_dir=self.config.paths.data_dir, preview_every=preview_every,
                                           name=name)
            finally:
                backend.close()

        job = _AvatarJob(f"Collection of {count}" + ("" if address is None else " on the Ray cluster"), run, self)
        job.workers.connect(lambda workers: setattr(self, "workers", workers))
        job.to(self).saved.connect(self._show_collection_item)
        job.to(self).succeeded.connect(self._on_collection)
        self._folder_ticket += 1  # a folder still being read must not replace what this run shows
        return self._start(job)

    def _on_collection(self, result: Any) -> None:
        self.rarity = result.rarity
        self.rarity_changed.emit(self.rarity)
        self.collection_manifest = str(result.manifest)
        self.collection_done.emit(result)

    def _show_collection_item(self, made: tuple[int, ResultItem]) -> None:
        """An avatar of the collection, in its place by number (a rerun fills the gaps)."""
        index, item = made
        self._collection_items[index] = item
        self.collection_results.set_items([self._collection_items[i] for i in sorted(self._collection_items)])

    def load_collection_folder(self) -> Job | None:
        """Show the avatars, rarity and mint readiness of the collection in the chosen folder (read
        in the background); a folder without a collection shows nothing."""
        folder = Path(self.out_dir) if self.out_dir else None
        self._folder_ticket += 1
        ticket = self._folder_ticket
        self._collection_items = {}
        self.collection_results.set_items([])
        self.collection_manifest = ""
        if folder is None or self.busy:
            return None

        def read(_progress: Any, _cancel: Any) -> Any:
            from studio.ui.images import load_thumbnail
            from studio.workflows.avatars import MANIFEST_FILE, collection_rarity, finished_items

            found = finished_items(folder)
            items = {item.index: _collection_result(item, path, load_thumbnail(path)) for item, path in found}
            rarity = collection_rarity(folder) if found else None
            manifest = folder / MANIFEST_FILE
            return items, rarity, str(manifest) if manifest.is_file() else ""

        job = FunctionJob(f"Reading {folder.name}", read)
        job.to(self).succeeded.connect(lambda found: self._on_folder_read(ticket, found))
        job.to(self).failed.connect(lambda exc: log.info("The collection folder %s is unreadable: %s", folder, exc))
        return self.background.start(job)

    def _on_folder_read(self, ticket: int, found: Any) -> None:
        if ticket != self._folder_ticket:
            return  # another folder was chosen, or a run started, since
        items, rarity, manifest = found
        self._collection_items = dict(items)
        self.collection_results.set_items([items[i] for i in sorted(items)])
        if rarity is not None:
            self.rarity = rarity
            self.rarity_changed.emit(rarity)
        self.collection_manifest = manifest

    def mint_collection(self) -> bool:
        """“Mint collection…”: ask the window for the batch mint dialog with the finished collection."""
        if not self.collection_manifest or not Path(self.collection_manifest).is_file():
            self.error.emit("Make the collection first: its manifest is written when every avatar is done.")
            return False
        self.mint_collection_requested.emit(Path(self.collection_manifest))
        return True

    def cancel(self) -> None:
        if self._job is not None:
            self._job.cancel()

    # -- trait tables -----------------------------------------------------------------------

    def load_traits(self, path: Path | str) -> bool:
        from studio.generation.traits import load_trait_table

        try:
            table = load_trait_table(path)
        except StudioError as exc:
            self.error.emit(str(exc))
            return False
        self.template = table.template
        self.collection_name = table.name
        self.traits.set_table(table)
        return True

    def save_traits(self, path: Path | str) -> bool:
        from studio.generation.traits import save_trait_table

        try:
            save_trait_table(self.traits.to_table(self.template, self.collection_name), path)
        except StudioError as exc:
            self.error.emit(str(exc))
            return False
        self.status = f"Saved the trait table to {path}."
        return True

    def _count_possible(self) -> None:
        try:
            table = self.traits.to_table(self.template)
        except StudioError as exc:
            self.possible = str(exc.message)
            return
        valid = table.count_valid()
        self.possible = (f"{valid:,} possible avatars" + (f" ({table.raw_count:,} before the rules)"
                                                        if valid != table.raw_count else "")
                         if valid is not None else f"up to {table.raw_count:,} possible avatars")

    # -- jobs -------------------------------------------------------------------------------

    def _step_reporter(self, progress: Any) -> Any:
        from studio.ui.images import pil_to_qimage
        from studio.ui.state.jobs import format_progress

        return lambda step: progress(JobProgress(format_progress(step), step.fraction,
                                                 pil_to_qimage(step.preview) if step.preview is not None else None))

    def _saved_reporter(self, job: "_AvatarJob") -> Any:
        from studio.ui.images import load_thumbnail

        return lambda work: job.saved.emit(ResultItem(work, load_thumbnail(work.path)))

    def _collection_reporter(self, job: "_AvatarJob") -> Any:
        from studio.ui.images import load_thumbnail

        return lambda item, work: job.saved.emit(
            (item.index, ResultItem(work, load_thumbnail(work.path), f"#{item.index + 1}")))

    def _preview_every(self) -> int:
        return max(0, int(self.config["preview_every"]))

    def _library(self) -> Any:
        """A context for the job: the window's library, or the studio's opened for the job and closed after."""
        from contextlib import nullcontext

        if self.library is not None:
            return nullcontext(self.library)
        from studio.library.db import Library

        return Library.default()

    def _start(self, job: Job) -> Job:
        self._job = job
        self.busy = True
        self.status = "Queued…"
        outlet = job.to(self)
        outlet.progressed.connect(self._on_progress)
        outlet.failed.connect(lambda exc: self.error.emit(error_message(exc)))
        cancelled = "Cancelled; what was finished is saved in the Gallery."
        outlet.cancelled.connect(lambda: setattr(self, "status", cancelled))
        outlet.succeeded.connect(lambda result: setattr(self, "status", _done_text(result)))
        outlet.ended.connect(self._on_ended)
        self.lane.submit(job)
        return job

    def _on_progress(self, progress: JobProgress) -> None:
        self.status = ""  # the progress strip says where the job is; the line below it says how it ended
        self.progress_changed.emit(progress)
        if progress.preview is not None:
            self.preview_changed.emit(progress.preview)

    def _on_ended(self) -> None:
        self._job = None
        self.busy = False
        self.preview_changed.emit(QImage())


def _done_text(result: Any) -> str:
    """How a finished job is summed up under the progress strip."""
    if hasattr(result, "manifest"):  # a collection
        report = getattr(result, "report", None)
        where = ""
        if report is not None and report.nodes and report.backend != "this computer":
            where = " Made on " + ", ".join(f"{n.node}: {n.done}" + (f" ({n.lost} lost and made again)" if n.lost
                                                                       else "") for n in report.nodes) + "."
        return (f"Done: {len(result.items)} avatars ({result.generated} made now) in {result.folder}; "
                f"the Gallery shows them.{where}")
    works = result.works if hasattr(result, "works") else result
    count = len(works)
    return f"Done: {count} avatar{'s' if count != 1 else ''} saved; the Gallery shows {'them' if count != 1 else 'it'}."


def _collection_result(item: Any, path: Path, thumbnail: QImage) -> ResultItem:
    """A collection avatar read back from its folder, for the results grid."""
    from studio.workflows.generate import SavedWork, read_recipe

    return ResultItem(SavedWork(path, read_recipe(path), ()), thumbnail, f"#{item.index + 1}")


class _AvatarJob(FunctionJob):
    """A function job that also reports each saved avatar."""

    saved = Signal(object)  # ResultItem
    workers = Signal(object)   # a cluster run's workers: a tuple of WorkerStatus
