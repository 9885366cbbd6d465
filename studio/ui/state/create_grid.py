"""The Create tab's X/Y/Z plot: up to three axes (what varies, and its values as A1111's script takes
them), and the job that makes every cell on the GPU lane through
:func:`studio.workflows.grid.make_grid`.

Each cell is saved and recorded as a normal work (it joins the results and the Gallery as it ends);
the grid image joins the results last, as a picture of those works, not a work itself.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QObject, Signal

from studio.errors import InputError
from studio.generation.request import GenerationRequest, ModelInfo
from studio.ui.binding import Field
from studio.ui.images import load_thumbnail
from studio.ui.state.jobs import JobProgress, ResultItem, format_progress, not_recorded, open_library
from studio.ui.workers import GpuLane, Job

if TYPE_CHECKING:
    from studio.cancel import CancelToken
    from studio.generation.request import GenerationProgress
    from studio.library.db import Library
    from studio.workflows.generate import SavedWork
    from studio.workflows.grid import GridAxis

#: What each axis's values look like, shown in its empty values box.
AXIS_EXAMPLES: dict[str, str] = {
    "seed": "e.g. 1, 2, 3", "steps": "e.g. 10, 20, 30", "guidance": "e.g. 4, 7, 10",
    "sampler": "e.g. euler, dpmpp_2m, unipc", "sigmas": "default, karras, exponential",
    "model": "model names, e.g. demo", "lora_weight": "e.g. 0.25, 0.5, 1", "clip_skip": "e.g. 1, 2",
    "prompt_sr": "text to find, then its replacements: boat, ship, raft",
}
AXIS_NAMES = ("x", "y", "z")


class GridPlot(QObject):
    """The plot's three axes as the tab edits them; an axis with no kind ("") is not used."""

    x_kind_changed = Signal(str)
    x_values_changed = Signal(str)
    y_kind_changed = Signal(str)
    y_values_changed = Signal(str)
    z_kind_changed = Signal(str)
    z_values_changed = Signal(str)

    x_kind = Field("")
    x_values = Field("")
    y_kind = Field("")
    y_values = Field("")
    z_kind = Field("")
    z_values = Field("")

    def axes(self) -> list["GridAxis"]:
        """The axes in use, X first, their values parsed (bad or missing values are refused)."""
        from studio.workflows.grid import parse_axis

        axes = []
        for name in AXIS_NAMES:
            kind, values = getattr(self, f"{name}_kind"), getattr(self, f"{name}_values")
            if kind:
                axes.append(parse_axis(kind, values))
        if not axes:
            raise InputError("The X/Y/Z plot has no axis.",
                             hint="Choose what varies along X (and Y, Z) and write its values, separated by commas.")
        return axes


class GridJob(Job):
    """One “Make plot” press: every cell generated and saved as a work, then the grid image(s)."""

    saved = Signal(object)  # ResultItem, as each cell is written, then one per grid image

    def __init__(self, request: GenerationRequest, axes: list["GridAxis"], model: ModelInfo, lane: GpuLane,
                 works_dir: Path, *, signer: Any = None, library: "Library | None" = None,
                 parent: QObject | None = None) -> None:
        from studio.workflows.grid import grid_cells

        cells = grid_cells(request, axes)
        self.cells = len(cells)
        #: What the results write under each cell: its values along the axes (“Steps 20 · CFG scale 7”).
        self.captions = [" · ".join(f"{axis.label} {axis.values[index]}" for axis, index in
                                    zip(axes, (cell.x, cell.y, cell.z))) for cell in cells]
        super().__init__(f"X/Y/Z plot: {' × '.join(axis.label for axis in axes)} ({self.cells} cells)", parent)
        self.request, self.axes, self.model = request, axes, model
        self._lane, self._works_dir, self.signer, self._library = lane, works_dir, signer, library
        self.started_at = 0.0

    def run(self, progress: Callable[[Any], None], cancel: "CancelToken") -> list["SavedWork"]:
        from studio.workflows.grid import make_grid

        self.started_at = time.perf_counter()
        progress(JobProgress("Starting the plot…", None))
        engine = self._lane.engine()
        cancel.raise_if_cancelled()
        library, opened, problem = open_library(self._library)

        def on_cell(cell: int, cells: int, step: "GenerationProgress") -> None:
            fraction = (cell + step.fraction) / cells
            progress(JobProgress(f"cell {cell + 1}/{cells} · {format_progress(step)}", fraction))

        made: list["SavedWork"] = []

        def on_saved(work: "SavedWork") -> None:
            caption = self.captions[len(made)] if len(made) < len(self.captions) else ""
            made.append(work)
            if problem:
                work = not_recorded(work, problem)
            self.saved.emit(ResultItem(work, load_thumbnail(work.path), caption=caption))

        try:
            plot = make_grid(self.request, self.axes, engine, self._works_dir, library=library, progress=on_cell,
                             cancel=cancel, on_saved=on_saved, signer=self.signer)
        finally:
            if opened and library is not None:
                library.close()
        labels = " × ".join(f"{axis.label} ({', '.join(axis.values)})" for axis in self.axes)
        for grid in plot.grids:
            note = (f"X/Y/Z plot: {labels}\n{len(plot.works)} cells, each saved as a work with its own recipe "
                    f"(in the results and the Gallery); this grid is a picture of them, not a work.\nFile: {grid}")
            self.saved.emit(ResultItem(plot.works[0], load_thumbnail(grid), caption="X/Y/Z plot", grid=grid,
                                       note=note))
        return [not_recorded(work, problem) if problem else work for work in plot.works]
