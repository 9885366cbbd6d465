"""The Create tab's ControlNet / T2I-Adapter units: a list the user adds to and removes from, each
unit with its model, picture, preprocessor, weight, start/end and canny thresholds, and the control
map its preprocessor makes of the picture (made in the background, shown as a thumbnail).

:meth:`ControlUnits.units` turns them into the request's `ControlUnit` tuple, refusing what can be
refused without torch and naming the unit; :meth:`ControlUnits.apply` fills them back from a
request (PNG Info's "Send to Create", whose units carry no pictures).
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable, Sequence

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QImage

from studio.errors import InputError, NotFound
from studio.generation.request import ControlUnit
from studio.ui.binding import Field
from studio.ui.workers import BackgroundPool, FunctionJob, Job, error_message, job_of

log = logging.getLogger(__name__)

#: As many units as the engine takes (studio.generation.control.MAX_UNITS, not imported: it loads no torch,
#: but keeps the window's imports small).
MAX_UNITS = 4
#: The longest side of the picture a map is made from (the thumbnail is smaller still): a preview, not the
#: map the generation makes at the request's size.
MAP_PREVIEW_SIDE = 512
MAP_THUMBNAIL_SIDE = 200


def make_map_preview(path: Path, preprocessor: str, low: int, high: int, model_folders: Sequence[Path],
                     side: int = MAP_THUMBNAIL_SIDE) -> QImage:
    """The control map ``preprocessor`` makes of the picture at ``path``, as a thumbnail (worker thread)."""
    from PIL import Image

    from studio.generation.preprocessors import check_preprocessor, preprocess
    from studio.safeimage import open_image
    from studio.ui.images import pil_to_qimage

    check_preprocessor(preprocessor, model_folders)
    if not path.is_file():
        raise NotFound(f"The control picture {path} does not exist.", hint="Choose another picture.")
    with open_image(path, what=path.name) as image:
        image.load()
        picture = image.convert("RGB")
    picture.thumbnail((MAP_PREVIEW_SIDE, MAP_PREVIEW_SIDE), Image.Resampling.LANCZOS)
    control_map = preprocess(picture, preprocessor, low_threshold=low, high_threshold=high,
                             model_folders=model_folders)
    control_map.thumbnail((side, side), Image.Resampling.LANCZOS)
    return pil_to_qimage(control_map)


class ControlUnitState(QObject):
    """One unit as the form shows it; its map is made again when the picture, preprocessor or thresholds change."""

    model_changed = Signal(str)
    image_changed = Signal(str)
    preprocessor_changed = Signal(str)
    weight_changed = Signal(float)
    start_changed = Signal(float)
    end_changed = Signal(float)
    low_threshold_changed = Signal(int)
    high_threshold_changed = Signal(int)
    number_changed = Signal(int)
    map_image_changed = Signal(object)
    map_error_changed = Signal(str)
    map_busy_changed = Signal(bool)

    model = Field("")            # a ControlNet or T2I-Adapter file or folder
    image = Field("")            # the control picture's path
    preprocessor = Field("none")
    weight = Field(1.0)
    start = Field(0.0)
    end = Field(1.0)
    low_threshold = Field(100)   # canny only
    high_threshold = Field(200)
    number = Field(1)            # 1-based: "Control unit 2" in messages and the unit's title
    #: The map's thumbnail (a QImage), None while there is no picture or the map failed; the failure in map_error.
    map_image = Field(None)
    map_error = Field("")
    map_busy = Field(False)

    def __init__(self, background: BackgroundPool, model_folders: Callable[[], Sequence[Path]],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._background = background
        self._model_folders = model_folders
        self._map_job: Job | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(150)  # thresholds typed digit by digit make one map
        self._timer.timeout.connect(self.make_map)
        self.image_changed.connect(self._map_inputs_changed)
        self.preprocessor_changed.connect(self._map_inputs_changed)
        self.low_threshold_changed.connect(self._thresholds_changed)
        self.high_threshold_changed.connect(self._thresholds_changed)

    @property
    def label(self) -> str:
        return f"Control unit {self.number}"

    def _thresholds_changed(self, _value: int) -> None:
        if self.preprocessor == "canny":  # only Canny reads them
            self._map_inputs_changed()

    def _map_inputs_changed(self, *_: Any) -> None:
        if self._map_job is not None:
            self._map_job.cancel()
            self._map_job = None
        if not self.image:
            self._timer.stop()
            self.map_image, self.map_error, self.map_busy = None, "", False
            return
        self.map_busy = True
        self._timer.start()

    def make_map(self) -> Job | None:
        """Make the map's thumbnail of the current picture in the background (None: no picture)."""
        self._timer.stop()
        if not self.image:
            return None
        path, preprocessor = Path(self.image), self.preprocessor
        low, high, folders = int(self.low_threshold), int(self.high_threshold), list(self._model_folders())

        def make(_progress: Callable[[Any], None], _cancel: Any) -> QImage:
            return make_map_preview(path, preprocessor, low, high, folders)

        self.map_busy, self.map_error = True, ""
        job = self._map_job = FunctionJob(f"Making the {preprocessor} map of {path.name}", make)
        job.to(self).succeeded.connect(self._on_map)
        job.to(self).failed.connect(self._on_map_failed)
        return self._background.start(job)

    def _current(self) -> bool:
        """Whether the slot's job is the unit's latest map job (older answers are dropped)."""
        job = job_of(self.sender())
        return job is not None and job is self._map_job

    def _on_map(self, image: QImage) -> None:
        if self._current():
            self._map_job = None
            self.map_image, self.map_error, self.map_busy = image, "", False

    def _on_map_failed(self, exc: BaseException) -> None:
        if self._current():
            self._map_job = None
            self.map_image, self.map_error, self.map_busy = None, error_message(exc), False

    def control_unit(self) -> ControlUnit:
        """This unit for a request, its picture read; what is missing raises, naming the unit."""
        from studio.safeimage import open_image

        label = self.label
        if not self.model:
            raise InputError(f"{label} has no model.",
                             hint="Choose a ControlNet or T2I-Adapter file or folder for it, or remove the unit.")
        model = Path(self.model)
        if not model.exists():
            raise NotFound(f"{label}: the model {model} does not exist.", hint="Choose its file or folder again.")
        if not self.image:
            raise InputError(f"{label} needs a control picture.",
                             hint="Choose a picture for it (an edge map, a depth map or any image to preprocess), "
                                  "or remove the unit.")
        path = Path(self.image)
        if not path.is_file():
            raise NotFound(f"{label}: the control picture {path} does not exist.", hint="Choose another picture.")
        if not 0.0 <= float(self.start) < float(self.end) <= 1.0:
            raise InputError(f"{label}: start {float(self.start):g} and end {float(self.end):g} do not make a part "
                             "of the sampling.", hint="Use 0 ≤ start < end ≤ 1 (0 and 1: all of it).")
        if self.preprocessor == "canny" and not int(self.low_threshold) <= int(self.high_threshold):
            raise InputError(f"{label}: the low Canny threshold is above the high one.",
                             hint="Use a low threshold below the high one, e.g. 100 and 200.")
        with open_image(path, what=path.name) as image:
            image.load()
            picture = image.convert("RGB")
        return ControlUnit(model=model, image=picture, preprocessor=self.preprocessor, weight=float(self.weight),
                           start=float(self.start), end=float(self.end), low_threshold=int(self.low_threshold),
                           high_threshold=int(self.high_threshold))

    def take(self, unit: ControlUnit) -> None:
        """Take ``unit``'s settings; its picture only where the unit names one by path (never from a recipe)."""
        self.model, self.preprocessor, self.weight = str(unit.model), unit.preprocessor, float(unit.weight)
        self.start, self.end = float(unit.start), float(unit.end)
        self.low_threshold, self.high_threshold = int(unit.low_threshold), int(unit.high_threshold)
        self.image = ""


class ControlUnits(QObject):
    """The units of the next generations, in order (the engine takes at most :data:`MAX_UNITS`)."""

    units_changed = Signal(object)  # tuple[ControlUnitState, ...]

    def __init__(self, background: BackgroundPool, model_folders: Callable[[], Sequence[Path]],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._background = background
        self._model_folders = model_folders
        self._items: tuple[ControlUnitState, ...] = ()

    @property
    def items(self) -> tuple[ControlUnitState, ...]:
        return self._items

    def __len__(self) -> int:
        return len(self._items)

    def can_add(self) -> bool:
        return len(self._items) < MAX_UNITS

    def add(self, model: str = "") -> ControlUnitState:
        """A new unit at the end (``model``: its file or folder, when already chosen)."""
        if not self.can_add():
            raise InputError(f"At most {MAX_UNITS} control units guide one image.", hint="Remove one first.")
        unit = ControlUnitState(self._background, self._model_folders, self)
        unit.model = model
        self._set_items(self._items + (unit,))
        return unit

    def remove(self, unit: ControlUnitState) -> None:
        if unit not in self._items:
            return
        self._set_items(tuple(u for u in self._items if u is not unit))
        unit.deleteLater()  # its map job, if any, finds its outlet closed

    def clear(self) -> None:
        old, self._items = self._items, ()
        self.units_changed.emit(self._items)
        for unit in old:
            unit.deleteLater()

    def _set_items(self, items: tuple[ControlUnitState, ...]) -> None:
        self._items = items
        for number, unit in enumerate(items, start=1):
            unit.number = number
        self.units_changed.emit(items)

    def units(self) -> tuple[ControlUnit, ...]:
        """The request's units, pictures read; a unit missing its model or picture raises, naming it."""
        return tuple(unit.control_unit() for unit in self._items)

    def apply(self, units: Sequence[ControlUnit]) -> None:
        """Replace the units by ``units``' settings (their pictures are chosen again)."""
        self.clear()
        for unit in list(units)[:MAX_UNITS]:
            self.add().take(unit)
