"""The X/Y/Z plot: one request varied along two or three axes, every cell generated and saved as a
normal work with its own recipe, and the cells laid out as labelled grid images (one per Z value).

Axes (A1111's "X/Y/Z plot" script): ``seed``, ``steps``, ``guidance`` (CFG), ``sampler``, ``sigmas``,
``model``, ``lora_weight`` (the request's first LoRA), ``clip_skip``, and ``prompt_sr`` (prompt
search and replace: the first value is the text to find, each value replaces it in the prompt and
the negative prompt; the first cell keeps the prompt as written).
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from studio.errors import InputError
from studio.generation.request import GenerationProgress, GenerationRequest, GenerationResult
from studio.workflows.generate import AUTO, SavedWork, c2pa_credentials, free_path, save_work

if TYPE_CHECKING:
    from studio.library.db import Library

log = logging.getLogger(__name__)

AXES = {"seed": "Seed", "steps": "Steps", "guidance": "CFG scale", "sampler": "Sampler", "sigmas": "Schedule type",
        "model": "Model", "lora_weight": "LoRA weight", "clip_skip": "Clip skip", "prompt_sr": "Prompt S/R"}
MAX_CELLS = 100
GRID_KEY = "studio:grid"


@dataclass(frozen=True)
class GridAxis:
    """One axis: what varies (a key of :data:`AXES`) and its values as written."""

    kind: str
    values: tuple[str, ...]

    @property
    def label(self) -> str:
        return AXES[self.kind]


def parse_axis(kind: str, text: str) -> GridAxis:
    """``"steps", "10, 20, 30"`` -> an axis; values are comma-separated (quotes keep a comma in a value)."""
    import csv

    if kind not in AXES:
        raise InputError(f"“{kind}” is not a grid axis.", hint=f"Axes: {', '.join(AXES)}.")
    values = tuple(value.strip() for value in next(csv.reader([text], skipinitialspace=True), []) if value.strip())
    if not values:
        raise InputError(f"The {AXES[kind]} axis has no values.", hint="Write them separated by commas, e.g. 10, 20, 30.")
    return GridAxis(kind, values)


def _number(axis: GridAxis, value: str, cast: Callable[[str], Any]) -> Any:
    try:
        return cast(value)
    except ValueError as exc:
        raise InputError(f"“{value}” is not a number for the {axis.label} axis.") from exc


def apply_axis(request: GenerationRequest, axis: GridAxis, value: str) -> GenerationRequest:
    """``request`` with ``axis`` set to ``value``."""
    kind = axis.kind
    if kind == "seed":
        return replace(request, seed=_number(axis, value, int))
    if kind == "steps":
        return replace(request, steps=_number(axis, value, int))
    if kind == "guidance":
        return replace(request, guidance=_number(axis, value, float))
    if kind == "clip_skip":
        return replace(request, clip_skip=_number(axis, value, int))
    if kind == "sampler":
        return replace(request, scheduler=value)
    if kind == "sigmas":
        return replace(request, sigmas=value)
    if kind == "model":
        return replace(request, model=value)
    if kind == "lora_weight":
        if not request.loras:
            raise InputError("The LoRA weight axis needs a LoRA in the request.", hint="Add a LoRA, or choose another axis.")
        first = replace(request.loras[0], weight=_number(axis, value, float))
        return replace(request, loras=(first, *request.loras[1:]))
    search = axis.values[0]
    if search not in request.prompt and search not in request.negative_prompt:
        raise InputError(f"Prompt S/R: “{search}” is not in the prompt.",
                         hint="The first value of the axis is the text to find; write it as it is in the prompt.")
    return replace(request, prompt=request.prompt.replace(search, value),
                   negative_prompt=request.negative_prompt.replace(search, value))


@dataclass(frozen=True)
class GridCell:
    x: int
    y: int
    z: int
    request: GenerationRequest


def grid_cells(base: GenerationRequest, axes: Sequence[GridAxis]) -> list[GridCell]:
    """Every cell of the plot (X fastest), each a one-image request; axes beyond those given have one value."""
    if not 1 <= len(axes) <= 3:
        raise InputError("An X/Y/Z plot has one, two or three axes.")
    kinds = [axis.kind for axis in axes]
    if len(set(kinds)) != len(kinds):
        raise InputError("Each axis of the plot must vary something else.")
    padded = list(axes) + [None] * (3 - len(axes))
    sizes = [len(axis.values) if axis is not None else 1 for axis in padded]
    if sizes[0] * sizes[1] * sizes[2] > MAX_CELLS:
        raise InputError(f"The plot has {sizes[0] * sizes[1] * sizes[2]} cells; at most {MAX_CELLS} are made at once.",
                         hint="Use fewer values.")
    one = replace(base, count=1, batch_size=1, seed=base.seed if base.seed is not None else _random_seed())
    cells = []
    for z in range(sizes[2]):
        for y in range(sizes[1]):
            for x in range(sizes[0]):
                request = one
                for axis, index in zip(padded, (x, y, z)):
                    if axis is not None:
                        request = apply_axis(request, axis, axis.values[index])
                cells.append(GridCell(x, y, z, request))
    return cells


def _random_seed() -> int:
    import secrets

    return secrets.randbits(32)  # one seed for every cell, as A1111 does, so that the axes alone differ


@dataclass(frozen=True)
class GridResult:
    works: tuple[SavedWork, ...]         # the cells in order, X fastest
    grids: tuple[Path, ...]              # one grid image per Z value


def make_grid(base: GenerationRequest, axes: Sequence[GridAxis], engine: Any, works_dir: Path, *,
              library: "Library | None",
              progress: Callable[[int, int, GenerationProgress], None] | None = None, cancel: Any = None,
              on_saved: Callable[[SavedWork], None] | None = None, signer: Any = None,
              c2pa: Any = AUTO) -> GridResult:
    """Generate and save every cell of the plot, then the grid images (``<time>_grid[_zN].png``).

    Every cell is validated before the first starts and saved through `save_work` (recorded in
    ``library``, as any work); ``progress(cell, cells, step)`` reports each step.
    """
    from studio.workflows.prompt_library import record_prompt

    cells = grid_cells(base, axes)
    for cell in cells:
        engine.validate(cell.request)
    credentials = c2pa_credentials() if isinstance(c2pa, str) and c2pa == AUTO else c2pa
    record_prompt(base.prompt, base.negative_prompt)
    works: list[SavedWork] = []
    images: list[Any] = []
    for index, cell in enumerate(cells):
        on_step = (lambda step, i=index: progress(i, len(cells), step)) if progress is not None else None

        def keep(result: GenerationResult) -> None:
            path = free_path(Path(works_dir), f"{datetime.now():%Y-%m-%d_%H%M%S}_{result.recipe.seed}")
            work = save_work(result, path, library=library, signer=signer, c2pa=credentials)
            works.append(work)
            images.append(result.image)
            if on_saved is not None:
                on_saved(work)

        engine.generate(cell.request, progress=on_step, cancel=cancel, on_result=keep)
    padded = list(axes) + [None] * (3 - len(axes))
    stamp = datetime.now().strftime("%Y-%m-%d_%H%M%S")
    grids = []
    z_values = padded[2].values if padded[2] is not None else ("",)
    for z, z_value in enumerate(z_values):
        in_z = [(cell, work, image) for cell, work, image in zip(cells, works, images) if cell.z == z]
        suffix = f"_z{z + 1}" if padded[2] is not None else ""
        path = _free_path(Path(works_dir) / f"{stamp}_grid{suffix}.png")
        title = f"{padded[2].label}: {z_value}" if padded[2] is not None else ""
        _save_grid(in_z, padded[0], padded[1], title, path)
        grids.append(path)
    return GridResult(tuple(works), tuple(grids))


def _free_path(path: Path) -> Path:
    counter = 2
    candidate = path
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}-{counter}.png")
        counter += 1
    return candidate


def _save_grid(cells: list[tuple[GridCell, SavedWork, Any]], x_axis: GridAxis | None, y_axis: GridAxis | None,
               title: str, path: Path) -> None:
    """The cells of one Z value laid out with their axis labels; the works they are, named in a text chunk."""
    from PIL import Image, ImageDraw

    from studio.provenance.png_text import write_png

    columns = len(x_axis.values) if x_axis is not None else 1
    rows = len(y_axis.values) if y_axis is not None else 1
    width = max(image.size[0] for _c, _w, image in cells)
    height = max(image.size[1] for _c, _w, image in cells)
    left = 120 if y_axis is not None else 0
    top = 24 + (20 if title else 0)
    sheet = Image.new("RGB", (left + columns * width, top + rows * height), "white")
    draw = ImageDraw.Draw(sheet)
    if title:
        draw.text((4, 2), title, fill="black")
    for column in range(columns):
        if x_axis is not None:
            draw.text((left + column * width + 4, top - 20), f"{x_axis.label}: {x_axis.values[column]}"[:40],
                      fill="black")
    for row in range(rows):
        if y_axis is not None:
            draw.text((4, top + row * height + 4), f"{y_axis.label}: {y_axis.values[row]}"[:18], fill="black")
    for cell, _work, image in cells:
        sheet.paste(image.convert("RGB"), (left + cell.x * width, top + cell.y * height))
    listing = {"x": x_axis.__dict__ if x_axis else None, "y": y_axis.__dict__ if y_axis else None, "title": title,
               "cells": [{"x": cell.x, "y": cell.y, "work": work.path.name} for cell, work, _i in cells]}
    path.parent.mkdir(parents=True, exist_ok=True)
    write_png(sheet, path, {GRID_KEY: json.dumps(listing, default=list)})
    log.info("Saved the grid %s", path)
