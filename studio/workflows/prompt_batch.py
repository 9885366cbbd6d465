"""A batch of prompts from a file, made into works, resumably (``studio generate --prompts FILE``).

The file holds one prompt per line (blank lines and lines starting with ``#`` are skipped), or,
named ``*.csv``, a header row and one row per image: ``prompt`` (required) and optionally
``negative``, ``seed``, ``size`` (WxH, or one number) or ``width`` and ``height``, ``model``,
``steps``, ``guidance`` and ``scheduler``; an empty cell takes the run's default. Each row is read
as a :class:`~studio.provenance.foreign.RecipeSummary` (source ``prompts file``; its column
``negative`` is the ``negative_prompt``).

The run is a journal in its folder (studio.workflows.journal): ``batch.json`` (every image's full
settings and seed, written once), ``progress.log`` and the works, ``0001.png``... Each image is
saved through ``save_work`` (provenance, signature, C2PA, the library) as it arrives: on this
computer one after the other, on a cluster as its workers finish. Running the same command again
continues a stopped run and makes the same images; a changed file or other settings are refused.
"""
from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from studio.errors import InputError, NotFound
from studio.generation.backends import RunReport, as_backend
from studio.generation.request import GenerationRequest, LoraSpec
from studio.provenance.foreign import RecipeSummary
from studio.workflows.generate import AUTO, SavedWork
from studio.workflows.journal import JournalItem, JournalProgress, JournalRun, keep_plan, read_plan, run_journal
from studio.workflows.requests import parse_size, request_for_model

if TYPE_CHECKING:
    from studio.library.db import Library

PLAN_FILE = "batch.json"
PLAN_VERSION = 1
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_ROWS = 100_000
SOURCE = "prompts file"
CSV_COLUMNS = ("prompt", "negative", "seed", "size", "width", "height", "model", "steps", "guidance", "scheduler")


@dataclass(frozen=True)
class BatchDefaults:
    """What a row leaves empty: the command's options (None: the model's own default)."""

    model: str = "demo"
    negative_prompt: str = ""
    seed: int | None = None       # the first image's seed; image i uses seed + i (random when None)
    width: int | None = None
    height: int | None = None
    steps: int | None = None
    guidance: float | None = None
    scheduler: str | None = None
    loras: tuple[LoraSpec, ...] = ()


@dataclass(frozen=True)
class BatchResult(JournalRun):
    items: tuple[JournalItem, ...]


# ---------------------------------------------------------------------- the file

def read_prompts(path: Path) -> list[RecipeSummary]:
    """The rows of a prompts file (plain lines, or CSV for ``*.csv``); InputError names a bad row."""
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"The prompts file {path} does not exist.")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InputError(f"{path.name} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB.",
                         hint="Split it into several files.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path.name} is not a readable UTF-8 text file ({exc}).") from exc
    rows = _csv_rows(text, path.name) if path.suffix.lower() == ".csv" else \
        [RecipeSummary(SOURCE, line.strip()) for line in text.splitlines()
         if line.strip() and not line.lstrip().startswith("#")]
    if not rows:
        raise InputError(f"{path.name} holds no prompt.", hint="Write one prompt per line.")
    if len(rows) > MAX_ROWS:
        raise InputError(f"{path.name} holds {len(rows):,} prompts; a batch takes at most {MAX_ROWS:,}.")
    return rows


def _csv_rows(text: str, name: str) -> list[RecipeSummary]:
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip().lower() for c in reader.fieldnames or []]
    if "prompt" not in columns:
        raise InputError(f"{name} has no “prompt” column.",
                         hint="Its first row names the columns: prompt, and any of " + ", ".join(CSV_COLUMNS[1:]) + ".")
    unknown = [c for c in columns if c and c not in CSV_COLUMNS]
    if unknown:
        raise InputError(f"{name} has columns the studio does not know: {', '.join(unknown)}.",
                         hint="Known columns: " + ", ".join(CSV_COLUMNS) + ".")
    rows: list[RecipeSummary] = []
    for number, raw in enumerate(reader, start=2):
        if len(rows) > MAX_ROWS:
            break
        cells = {str(k).strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None}
        if not any(cells.values()):
            continue
        try:
            rows.append(_row(cells))
        except (ValueError, InputError) as exc:
            raise InputError(f"{name}, row {number}: {exc}") from exc
    return rows


def _row(cells: dict[str, str]) -> RecipeSummary:
    if not cells.get("prompt"):
        raise InputError("the prompt is empty.")
    width = height = None
    if cells.get("size"):
        width, height = parse_size(cells["size"])
    if cells.get("width"):
        width = int(cells["width"])
    if cells.get("height"):
        height = int(cells["height"])
    if (width is None) != (height is None):
        raise InputError("give both width and height, or a size.")
    return RecipeSummary(SOURCE, cells["prompt"], cells.get("negative") or "",
                     seed=int(cells["seed"]) if cells.get("seed") else None,
                     steps=int(cells["steps"]) if cells.get("steps") else None,
                     guidance=float(cells["guidance"]) if cells.get("guidance") else None,
                     scheduler=cells.get("scheduler") or None, width=width, height=height,
                     model=cells.get("model") or None)


# ---------------------------------------------------------------------- the run

def plan_batch(rows: list[RecipeSummary], defaults: BatchDefaults, backend: Any, base_seed: int) -> list[JournalItem]:
    """Every row as a one-image request with all its settings decided (each checked by ``backend``)."""
    width = max(4, len(str(len(rows))))
    items = []
    known: dict[str, Any] = {}
    for index, row in enumerate(rows):
        model = row.model or defaults.model
        if model not in known:
            known[model] = backend.validate(GenerationRequest(prompt="", model=model, width=64, height=64, steps=1))
        request = request_for_model(
            known[model], model, row.prompt, steps=row.steps or defaults.steps or None,
            guidance=row.guidance if row.guidance is not None else defaults.guidance,
            scheduler=row.scheduler or defaults.scheduler, width=row.width or defaults.width or None,
            height=row.height or defaults.height or None,
            negative_prompt=row.negative_prompt or defaults.negative_prompt,
            seed=row.seed if row.seed is not None else base_seed + index, count=1, loras=defaults.loras)
        try:
            backend.validate(request)
        except InputError as exc:
            raise InputError(f"Prompt {index + 1} (“{row.prompt[:40]}”): {exc.message}", hint=exc.hint) from exc
        items.append(JournalItem(index, f"{index + 1:0{width}d}.png", request))
    return items


def _document(items: list[JournalItem], base_seed: int, loras: tuple[LoraSpec, ...]) -> dict[str, Any]:
    return {"version": PLAN_VERSION, "seed": base_seed, "loras": [str(s.path) + f":{s.weight:g}" for s in loras],
            "items": [{"index": i.index, "file": i.file, "prompt": i.request.prompt,
                       "negative_prompt": i.request.negative_prompt, "model": i.request.model, "seed": i.request.seed,
                       "width": i.request.width, "height": i.request.height, "steps": i.request.steps,
                       "guidance": i.request.guidance, "scheduler": i.request.scheduler} for i in items]}


def generate_batch(rows: list[RecipeSummary], out_dir: Path, engine: Any, *, library: "Library | None",
                   defaults: BatchDefaults = BatchDefaults(), progress: Callable[[JournalProgress], None] | None = None,
                   cancel: Any = None, on_saved: Callable[[JournalItem, SavedWork], None] | None = None,
                   signer: Any = None, c2pa: Any = AUTO, preview_every: int = 0,
                   on_report: Callable[[RunReport], None] | None = None) -> BatchResult:
    """Make one work per row into ``out_dir`` on ``engine`` (this computer's engine, or a backend such
    as a Ray cluster), continuing the run already in that folder. ``signer`` signs each manifest here
    on the desktop. Raises Cancelled (what is saved stays saved), or ModelError after the run when
    some images could not be made (the others are saved; running again makes the missing ones).
    """
    backend = as_backend(engine)
    out_dir = Path(out_dir)
    existing = read_plan(out_dir, PLAN_FILE, version=PLAN_VERSION, what="prompt batch plan")
    if defaults.seed is not None:
        base_seed = defaults.seed
    elif existing is not None and isinstance(existing.get("seed"), int):
        base_seed = existing["seed"]   # a rerun without --seed continues with the seeds chosen first
    else:
        base_seed = secrets.randbits(32)
    items = plan_batch(rows, defaults, backend, base_seed)
    keep_plan(out_dir, PLAN_FILE, _document(items, base_seed, defaults.loras), version=PLAN_VERSION,
              what="prompt batch plan", kind="prompt batch", fields=("seed", "loras", "items"))
    run = run_journal(items, out_dir, backend, library=library, noun="images",
                      again="Run the same command again to make the missing ones.", signer=signer, c2pa=c2pa,
                      progress=progress, cancel=cancel, preview_every=preview_every, on_saved=on_saved,
                      on_report=on_report)
    return BatchResult(run.folder, run.generated, run.report, tuple(items))
