"""Making avatars end to end: a single avatar, one from a photo, a character sheet, a collection.

Every avatar is saved as a work with its provenance and recorded in the library (the Gallery)
through ``studio.workflows.generate.save_work``; the manifest's ``pipeline`` is ``"avatar"``
and an input photo or reference is a parent (``init``, the SHA-256 of its PNG encoding; with an
IP-Adapter also ``ip_adapter``, and the adapter's file in ``adapters``).

A collection (``make_collection``) samples unique trait combinations, generates one avatar per
combination and writes, in its folder:

- ``collection.json``: the plan (table, seed, template, settings, each item's traits, prompt and
  seed), written once; a rerun with other settings is refused rather than mixed in;
- ``progress.log``: one line per finished item (index, file, SHA-256), appended and synced, so a
  rerun after a crash or a cancel skips what is done and makes the same set;
- ``NNNN.png`` avatars, ``manifest.json`` for ``studio batch-mint`` (attributes as trait → value,
  which batch-mint writes as OpenSea ``attributes``), ``rarity.json`` and ``rarity.csv``.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from studio.errors import Cancelled, InputError, NotFound, StorageError
from studio.generation.avatars import AvatarRequest, FamilySettings, StylePreset, find_preset, generation_request
from studio.generation.request import GenerationProgress, GenerationRequest, GenerationResult
from studio.generation.traits import RarityReport, TraitTable, rarity_report
from studio.workflows.generate import AUTO, SavedWork, c2pa_credentials, free_path, save_work

if TYPE_CHECKING:
    from PIL.Image import Image

    from studio.library.db import Library

log = logging.getLogger(__name__)

PLAN_FILE = "collection.json"
PROGRESS_FILE = "progress.log"
MANIFEST_FILE = "manifest.json"
PLAN_VERSION = 1
MAX_COLLECTION = 10_000
MAX_SHEET = 16


# ====================================================================== saving

def save_avatar(result: GenerationResult, path: Path, *, library: "Library | None", signer: Any = None,
                c2pa: Any = None, title: str | None = None) -> SavedWork:
    """Write ``result`` at ``path`` with provenance whose pipeline is ``avatar``, and record it in ``library``."""
    return save_work(result, path, library=library, signer=signer, c2pa=c2pa, pipeline="avatar", title=title)


def _credentials(c2pa: Any) -> Any:
    return c2pa_credentials() if isinstance(c2pa, str) and c2pa == AUTO else c2pa


def _resolve(engine: Any, request: AvatarRequest, data_dir: Path | None) -> GenerationRequest:
    preset = find_preset(request.preset, data_dir)
    info = engine.validate(GenerationRequest(prompt="", model=request.model, width=64, height=64, steps=1))
    generation = generation_request(request, preset, info)
    engine.validate(generation)
    return generation


def _run(engine: Any, generation: GenerationRequest, out_dir: Path, stem: str, *, library: "Library | None",
         progress: Callable[[GenerationProgress], None] | None, cancel: Any,
         on_saved: Callable[[SavedWork], None] | None, signer: Any, c2pa: Any, preview_every: int) -> list[SavedWork]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    credentials = _credentials(c2pa)
    saved: list[SavedWork] = []

    def keep(result: GenerationResult) -> None:
        work = save_avatar(result, free_path(out_dir, f"{stem}_{result.recipe.seed}"), library=library,
                           signer=signer, c2pa=credentials)
        saved.append(work)
        if on_saved is not None:
            on_saved(work)

    engine.generate(generation, progress=progress, cancel=cancel, preview_every=preview_every, on_result=keep)
    return saved


# ====================================================================== single, photo, sheet

def make_single(request: AvatarRequest, engine: Any, out_dir: Path, *, library: "Library | None",
                progress: Callable[[GenerationProgress], None] | None = None, cancel: Any = None,
                on_saved: Callable[[SavedWork], None] | None = None, signer: Any = None, c2pa: Any = AUTO,
                data_dir: Path | None = None, preview_every: int = 0) -> list[SavedWork]:
    """Square avatars in the request's style preset (``request.count`` of them, seeds seed, seed+1...),
    from the words alone (no photo, so no adapter)."""
    return _run(engine, _resolve(engine, replace(request, photo=None, adapter=None), data_dir), out_dir, "avatar",
                library=library, progress=progress, cancel=cancel, on_saved=on_saved, signer=signer, c2pa=c2pa,
                preview_every=preview_every)


def make_from_photo(request: AvatarRequest, photo: "Image", engine: Any, out_dir: Path, *, library: "Library | None",
                    progress: Callable[[GenerationProgress], None] | None = None, cancel: Any = None,
                    on_saved: Callable[[SavedWork], None] | None = None, signer: Any = None, c2pa: Any = AUTO,
                    data_dir: Path | None = None, preview_every: int = 0) -> list[SavedWork]:
    """Avatars restyled from ``photo`` (image-to-image at ``request.strength``, centre-cropped
    square); the photo's hash is recorded as the ``init`` parent in each avatar's provenance.
    With ``request.adapter`` the photo is also the IP-Adapter's reference (parent ``ip_adapter``),
    or only that when ``request.photo_as_init`` is false."""
    uses_init = request.adapter is None or request.photo_as_init
    if uses_init and not 0.0 < request.strength <= 1.0:
        raise InputError(f"The strength {request.strength} is out of range.",
                         hint="Use a value above 0 and at most 1 (about 0.5 keeps a likeness).")
    return _run(engine, _resolve(engine, replace(request, photo=photo), data_dir), out_dir, "avatar",
                library=library, progress=progress, cancel=cancel, on_saved=on_saved, signer=signer, c2pa=c2pa,
                preview_every=preview_every)


@dataclass(frozen=True)
class CharacterSheet:
    """Variations of one character: the works (seeds base, base+1, ...) and their grid image."""

    works: tuple[SavedWork, ...]
    grid: Path


def sheet_grid(images: Sequence["Image"], *, gap: int = 4) -> "Image":
    """The images (same size) in a near-square grid on a dark background."""
    from PIL import Image

    if not images:
        raise InputError("A sheet needs at least one image.")
    width, height = images[0].size
    columns = math.ceil(math.sqrt(len(images)))
    rows = math.ceil(len(images) / columns)
    grid = Image.new("RGB", (columns * width + (columns + 1) * gap, rows * height + (rows + 1) * gap), (24, 24, 28))
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        grid.paste(image.convert("RGB"), (gap + column * (width + gap), gap + row * (height + gap)))
    return grid


def make_character_sheet(request: AvatarRequest, reference: "Image", engine: Any, out_dir: Path, *,
                         library: "Library | None",
                         progress: Callable[[GenerationProgress], None] | None = None, cancel: Any = None,
                         on_saved: Callable[[SavedWork], None] | None = None, signer: Any = None,
                         c2pa: Any = AUTO, data_dir: Path | None = None, preview_every: int = 0) -> CharacterSheet:
    """``request.count`` variations of the character in ``reference`` (image-to-image from it, seeds
    ``seed + i``), each saved as a work, and a grid of them saved as ``sheet_<seed>.png``."""
    from studio.fileio import atomic_write_bytes

    if not 2 <= request.count <= MAX_SHEET:
        raise InputError(f"A character sheet has 2 to {MAX_SHEET} variations, not {request.count}.")
    if request.seed is None:
        import secrets

        request = replace(request, seed=secrets.randbits(32))
    works = make_from_photo(request, reference, engine, out_dir, library=library, progress=progress, cancel=cancel,
                            on_saved=on_saved, signer=signer, c2pa=c2pa, data_dir=data_dir,
                            preview_every=preview_every)
    from io import BytesIO

    from PIL import Image

    images = []
    for work in works:
        with Image.open(work.path) as image:
            images.append(image.convert("RGB"))
    buffer = BytesIO()
    sheet_grid(images).save(buffer, format="PNG")
    grid = free_path(Path(out_dir), f"sheet_{request.seed}")
    atomic_write_bytes(grid, buffer.getvalue())
    return CharacterSheet(tuple(works), grid)


# ====================================================================== collections

@dataclass(frozen=True)
class CollectionItem:
    index: int
    file: str
    seed: int
    prompt: str
    attributes: dict[str, str]


@dataclass(frozen=True)
class CollectionProgress:
    """Where a collection run is: ``done`` of ``total`` avatars, and the current one's step."""

    done: int
    total: int
    index: int | None = None
    step: int = 0
    steps: int = 0
    skipped: int = 0           # done by an earlier run
    preview: Any = None        # the current avatar as it forms (a PIL image), with preview_every

    @property
    def fraction(self) -> float:
        partial = self.step / self.steps if self.steps else 0.0
        return min(1.0, (self.done + partial) / self.total) if self.total else 1.0

    @property
    def text(self) -> str:
        line = f"{self.done}/{self.total} avatars"
        if self.index is not None and self.steps:
            line += f" · #{self.index + 1} step {self.step}/{self.steps}"
        if self.skipped:
            line += f" · {self.skipped} from an earlier run"
        return line


@dataclass(frozen=True)
class CollectionResult:
    folder: Path
    items: tuple[CollectionItem, ...]
    manifest: Path
    rarity: RarityReport
    generated: int             # in this run (the rest were done before)


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def plan_collection(table: TraitTable, count: int, seed: int, *, template: str | None = None,
                    preset: StylePreset | None = None) -> list[CollectionItem]:
    """The items of a collection: unique trait combinations for ``seed``, each with its prompt
    (the template, in the preset's style when given) and image seed ``seed + index``."""
    if not 1 <= count <= MAX_COLLECTION:
        raise InputError(f"A collection has 1 to {MAX_COLLECTION:,} avatars, not {count:,}.")
    template = template if template is not None else table.template
    if not template:
        raise InputError("The collection needs a prompt template.",
                         hint="Give --template, or add a template to the trait table, e.g. "
                              + ", ".join("{" + c.key + "}" for c in table.categories) + ".")
    width = max(4, len(str(count)))
    items = []
    for index, combination in enumerate(table.sample(count, seed)):
        prompt = table.prompt_for(combination, template)
        if preset is not None:
            prompt = preset.prompt_for(prompt)
        items.append(CollectionItem(index, f"{index + 1:0{width}d}.png", seed + index, prompt,
                                    table.attributes(combination)))
    return items


def _plan_document(table: TraitTable, count: int, seed: int, template: str, settings: dict[str, Any],
                   items: list[CollectionItem]) -> dict[str, Any]:
    return {"version": PLAN_VERSION, "count": count, "seed": seed, "template": template, "settings": settings,
            "table": table.to_dict(),
            "items": [{"index": i.index, "file": i.file, "seed": i.seed, "prompt": i.prompt,
                       "attributes": i.attributes} for i in items]}


def _read_plan(folder: Path) -> dict[str, Any] | None:
    path = folder / PLAN_FILE
    if not path.exists():
        return None
    from studio.safejson import loads

    try:
        data = loads(path.read_bytes(), what=PLAN_FILE)
    except (OSError, InputError) as exc:
        raise InputError(f"The collection plan {path} is damaged ({exc}).",
                         hint="Move the folder away (or delete collection.json) to start again.") from exc
    if not isinstance(data, dict) or data.get("version") != PLAN_VERSION or not isinstance(data.get("items"), list):
        raise InputError(f"{path} is not a collection plan this studio reads.",
                         hint="Use another folder for the collection.")
    return data


def _read_done(folder: Path) -> dict[int, str]:
    """Finished items from ``progress.log`` (index -> SHA-256); a torn last line is ignored."""
    done: dict[int, str] = {}
    try:
        text = (folder / PROGRESS_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return done
    except OSError as exc:
        raise StorageError(f"Could not read {folder / PROGRESS_FILE}: {exc.strerror or exc}.") from exc
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0].isdigit() and len(parts[2]) == 64:
            done[int(parts[0])] = parts[2]
    return done


def _append_done(folder: Path, item: CollectionItem, sha256: str) -> None:
    path = folder / PROGRESS_FILE
    try:
        torn = path.exists() and path.stat().st_size > 0 and not path.read_bytes().endswith(b"\n")
        with open(path, "a", encoding="utf-8") as log_file:
            # a line torn by a crash is ended first, so that this one stays whole
            log_file.write(("\n" if torn else "") + f"{item.index} {item.file} {sha256}\n")
            log_file.flush()
            os.fsync(log_file.fileno())
    except OSError as exc:
        raise StorageError(f"Could not record progress in {folder / PROGRESS_FILE}: {exc.strerror or exc}.",
                           hint="Free some disk space and run the collection again; it continues.") from exc


def make_collection(table: TraitTable, count: int, seed: int, out_dir: Path, engine: Any, *,
                    library: "Library | None", template: str | None = None, preset: str | None = None, model: str = "demo",
                    size: int | None = None, steps: int | None = None, guidance: float | None = None,
                    progress: Callable[[CollectionProgress], None] | None = None, cancel: Any = None,
                    on_saved: Callable[[CollectionItem, SavedWork], None] | None = None,
                    signer: Any = None, c2pa: Any = AUTO, data_dir: Path | None = None,
                    name: str | None = None, description: str = "", preview_every: int = 0) -> CollectionResult:
    """Generate ``count`` avatars with unique traits into ``out_dir``, resumably.

    Rerunning with the same arguments skips finished items (their files checked against the
    progress log) and produces the same set; other arguments on a started folder are refused.
    Cancelled is raised between or during items; what is finished stays finished. Each avatar
    is recorded in ``library`` as "<name> #<n>".
    """
    out_dir = Path(out_dir)
    title = name or table.name or "Avatar"
    style = find_preset(preset, data_dir) if preset else None
    template = template if template is not None else table.template
    items = plan_collection(table, count, seed, template=template, preset=style)
    info = engine.validate(GenerationRequest(prompt="", model=model, width=64, height=64, steps=1))
    base = generation_request(AvatarRequest(prompt=items[0].prompt, preset=style.key if style else "",
                                            model=model, size=size, steps=steps, guidance=guidance),
                              style or _PLAIN, info)
    settings = {"model": model, "model_path": str(info.path), "preset": preset or "", "size": base.width,
                "steps": base.steps, "guidance": base.guidance, "scheduler": base.scheduler,
                "negative_prompt": base.negative_prompt}
    document = _plan_document(table, count, seed, template, settings, items)
    existing = _read_plan(out_dir)
    if existing is not None and existing != json.loads(json.dumps(document)):
        changed = [k for k in ("count", "seed", "template", "settings", "table") if existing.get(k) != document[k]]
        raise InputError(f"{out_dir} holds a collection made with other settings ({', '.join(changed) or 'items'} "
                         "differ); it is not mixed with this one.",
                         hint="Run again with the same settings to continue it, or choose another folder.")
    out_dir.mkdir(parents=True, exist_ok=True)
    if existing is None:
        from studio.fileio import atomic_write_text

        atomic_write_text(out_dir / PLAN_FILE, json.dumps(document, indent=1, ensure_ascii=False) + "\n")

    done = _read_done(out_dir)
    finished = {i.index for i in items
                if i.index in done and (out_dir / i.file).is_file() and _file_sha256(out_dir / i.file) == done[i.index]}
    skipped = len(finished)
    if library is not None:  # avatars an earlier run made (perhaps before it recorded them) reach the Gallery
        _record_finished(library, out_dir, [i for i in items if i.index in finished], done, title)
    credentials = _credentials(c2pa)
    generated = 0
    if progress is not None:
        progress(CollectionProgress(len(finished), count, skipped=skipped))
    for item in items:
        if item.index in finished:
            continue
        if cancel is not None and cancel.cancelled:
            raise Cancelled(f"Stopped after {len(finished)} of {count} avatars; run again to continue.")
        request = replace(base, prompt=item.prompt, seed=item.seed, count=1)

        def on_step(step: GenerationProgress, item: CollectionItem = item) -> None:
            if progress is not None:
                progress(CollectionProgress(len(finished), count, item.index, step.step, step.steps, skipped,
                                            step.preview))

        results = engine.generate(request, progress=on_step, cancel=cancel, preview_every=preview_every)
        work = save_avatar(results[0], out_dir / item.file, library=library, signer=signer, c2pa=credentials,
                           title=f"{title} #{item.index + 1}")
        _append_done(out_dir, item, _file_sha256(work.path))
        finished.add(item.index)
        generated += 1
        if on_saved is not None:
            on_saved(item, work)
        if progress is not None:
            progress(CollectionProgress(len(finished), count, skipped=skipped))
    return _finish(out_dir, table, items, title, description, generated)


def _record_finished(library: "Library", folder: Path, items: list[CollectionItem], done: dict[int, str],
                     title: str) -> None:
    from studio.errors import StudioError
    from studio.workflows.library import add_saved_work

    for item in items:
        if library.work_by_sha256(done[item.index]) is None:
            try:
                add_saved_work(library, folder / item.file, title=f"{title} #{item.index + 1}")
            except StudioError as exc:
                log.warning("%s is not in the library: %s", item.file, exc)


#: No style: the collection's template as it is, with plain settings per family.
_PLAIN = StylePreset("plain", "No style", "{prompt}", "", {
    "sd1": FamilySettings(512, 25, 7.0, "euler"), "sd2": FamilySettings(768, 25, 7.0, "euler"),
    "sdxl": FamilySettings(1024, 30, 6.0, "euler")})


def _finish(out_dir: Path, table: TraitTable, items: list[CollectionItem], name: str, description: str,
            generated: int) -> CollectionResult:
    from studio.fileio import atomic_write_text

    report = rarity_report([i.attributes for i in items], table.names)
    ranks = {a.index: a.rank for a in report.avatars}
    works = [{"file": i.file, "name": f"{name} #{i.index + 1}",
              "description": description or f"Rarity rank {ranks[i.index]} of {len(items)}.",
              "attributes": i.attributes} for i in items]
    manifest = out_dir / MANIFEST_FILE
    atomic_write_text(manifest, json.dumps({"works": works}, indent=1, ensure_ascii=False) + "\n")
    atomic_write_text(out_dir / "rarity.json", json.dumps(report.to_dict(), indent=1, ensure_ascii=False) + "\n")
    atomic_write_text(out_dir / "rarity.csv", report.to_csv())
    return CollectionResult(out_dir, tuple(items), manifest, report, generated)


def collection_rarity(folder: Path) -> RarityReport:
    """The rarity report of the collection in ``folder`` (from its plan)."""
    folder = Path(folder)
    plan = _read_plan(folder)
    if plan is None:
        raise NotFound(f"{folder} holds no avatar collection (no {PLAN_FILE}).",
                       hint="Give the folder `studio avatars collection` wrote.")
    table = TraitTable.from_dict(plan["table"])
    return rarity_report([item["attributes"] for item in plan["items"]], table.names)


def finished_items(folder: Path) -> tuple[tuple[CollectionItem, Path], ...]:
    """The avatars of the collection in ``folder`` made so far (by any run), in the plan's order;
    empty when the folder holds no collection."""
    folder = Path(folder)
    plan = _read_plan(folder)
    if plan is None:
        return ()
    done = _read_done(folder)
    found = []
    for entry in plan["items"]:
        path = folder / str(entry.get("file", ""))
        if entry.get("index") in done and path.is_file():
            item = CollectionItem(int(entry["index"]), path.name, int(entry["seed"]), str(entry["prompt"]),
                                  dict(entry["attributes"]))
            found.append((item, path))
    return tuple(found)


def collection_status(folder: Path) -> tuple[int, int]:
    """(finished, total) avatars of the collection in ``folder``."""
    plan = _read_plan(Path(folder))
    if plan is None:
        raise NotFound(f"{folder} holds no avatar collection (no {PLAN_FILE}).")
    done = _read_done(Path(folder))
    return sum(1 for item in plan["items"] if item["index"] in done), len(plan["items"])
