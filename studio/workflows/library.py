"""Filling the library from image files, and looking after its files: thumbnails, exports, the trash.

Where files live (see docs/library.md):

- the Create tab's saves are recorded where they were written (``<data>/works``, unique names);
  they are the studio's own files (``Work.owned``);
- an imported folder's images are copied, content-addressed, to
  ``<data>/library/originals/<first two hex digits>/<sha256>.<ext>``; a copy is written once and
  never overwritten (the same bytes always have the same name), so the user's folder can move or
  change without the library losing its works;
- thumbnails are a disposable cache, ``<cache>/thumbnails/<size>/<first two hex>/<sha256>.jpg``;
- emptying the trash deletes the database rows, the thumbnails and the files the library owns,
  and never a file outside the studio's data folder.
"""
from __future__ import annotations

import calendar
import hashlib
import io
import logging
import time
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Sequence

from studio.cancel import Cancellable
from studio.errors import Cancelled, InputError, NotFound, StudioError
from studio.fileio import atomic_write_bytes
from studio.library.db import UNSAVED, Library, Work

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".png": "png", ".jpg": "jpg", ".jpeg": "jpg", ".webp": "webp"}
THUMBNAIL_SIZE = 192
THUMBNAIL_BACKGROUND = (44, 48, 57)  # transparent pixels over the grid's cell colour
TITLE_LENGTH = 60


@dataclass(frozen=True)
class WorkFile:
    """What a file says about itself: the library's fields plus the manifest JSON, if any."""

    sha256: str
    pixel_hash: str
    title: str
    prompt: str
    model: str
    seed: int | None
    source: str
    created: float
    width: int
    height: int
    manifest_json: str | None


@dataclass(frozen=True)
class ImportReport:
    """What importing a folder did: works added, files already in the library, files skipped and why."""

    added: tuple[Work, ...]
    known: tuple[Work, ...]
    skipped: tuple[tuple[str, str], ...]   # (path, reason for people)

    def summary(self) -> str:
        parts = [f"Imported {len(self.added)} work{'s' if len(self.added) != 1 else ''}"]
        if self.known:
            parts.append(f"{len(self.known)} already in the library")
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped")
        return ", ".join(parts) + "."


@dataclass(frozen=True)
class TrashReport:
    """What emptying the trash removed, and which files it left because they are not the studio's."""

    removed: int
    files_deleted: tuple[str, ...]
    files_kept: tuple[str, ...]


def originals_dir(data_dir: Path) -> Path:
    """Where imported images are copied, named by their SHA-256."""
    return Path(data_dir) / "library" / "originals"


def thumbnails_dir(cache_dir: Path, size: int = THUMBNAIL_SIZE) -> Path:
    return Path(cache_dir) / "thumbnails" / str(size)


def thumbnail_path(cache_dir: Path, sha256: str, size: int = THUMBNAIL_SIZE) -> Path:
    """The cached thumbnail of the work whose file has this SHA-256 (it may not exist yet)."""
    return thumbnails_dir(cache_dir, size) / sha256[:2] / f"{sha256}.jpg"


# -- reading files -----------------------------------------------------------------------

def _short_title(prompt: str, fallback: str) -> str:
    text = " ".join(prompt.split())
    if not text:
        return fallback
    if len(text) <= TITLE_LENGTH:
        return text
    cut = text[:TITLE_LENGTH].rsplit(" ", 1)[0] or text[:TITLE_LENGTH]
    return cut.rstrip(",;:.") + "…"


def _manifest_time(created: str) -> float | None:
    try:
        return float(calendar.timegm(datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").timetuple()))
    except ValueError:
        return None


def read_work_file(path: Path, data: bytes | None = None) -> WorkFile:
    """Decode an image file and read its recipe: the studio manifest, else another tool's metadata
    (A1111, ComfyUI, InvokeAI), else none. A file that is not a readable image is an InputError."""
    from studio.provenance.embed import decode_image, read_embedded
    from studio.provenance.foreign import read_foreign
    from studio.provenance.manifest import SignedManifest
    from studio.provenance.pixels import file_pixel_hash

    path = Path(path)
    if data is None:
        data = read_image_bytes(path)
    embedded = read_embedded(data, name=path.name)
    image = decode_image(data, path.name)
    sha256 = content_sha256(data)
    try:
        mtime = path.stat().st_mtime
    except OSError:
        mtime = time.time()
    manifest_json = embedded.provenance_json
    manifest = None
    if manifest_json is not None:
        try:
            manifest = SignedManifest.from_json(manifest_json).manifest
        except StudioError as exc:  # a damaged manifest: keep the image, verify will say what is wrong
            log.info("%s carries a damaged studio manifest: %s", path.name, exc)
    if manifest is not None:
        return WorkFile(sha256, manifest.pixel_hash, _short_title(manifest.prompt, path.stem), manifest.prompt,
                        manifest.model_name, manifest.seed, "studio", _manifest_time(manifest.created) or mtime,
                        image.width, image.height, manifest_json)
    foreign = read_foreign(embedded.text) if embedded.text else None
    pixels = file_pixel_hash(data, image, path.name)
    if foreign is not None:
        return WorkFile(sha256, pixels, _short_title(foreign.prompt, path.stem), foreign.prompt,
                        foreign.model or "", foreign.seed, foreign.source, mtime, image.width, image.height,
                        manifest_json)
    return WorkFile(sha256, pixels, path.stem, "", "", None, "", mtime, image.width, image.height, manifest_json)


def content_sha256(data: bytes) -> str:
    """The SHA-256 (hex) a work is known by in the library: the hash of its file's bytes."""
    return hashlib.sha256(data).hexdigest()


def read_image_bytes(path: Path) -> bytes:
    """An image file's bytes, read bounded (a regular file, at most safeimage.MAX_FILE_BYTES);
    NotFound when it is missing, InputError when it cannot be read."""
    from studio.safeimage import read_image_file

    try:
        return read_image_file(path, what=f"The image {path.name}")
    except NotFound as exc:
        raise NotFound(f"The image {path} does not exist.") from exc
    except StudioError as exc:
        raise InputError(exc.message, hint=exc.hint) from exc


def _work_of(info: WorkFile, path: Path, *, owned: bool) -> Work:
    return Work(UNSAVED, str(path), info.sha256, info.pixel_hash, info.title, info.prompt, info.model, info.created,
                info.width, info.height, seed=info.seed, source=info.source, owned=owned)


def add_saved_work(library: Library, path: Path, *, owned: bool = True, title: str | None = None) -> Work:
    """Record an image the studio just saved (where it lies), with the recipe its provenance names.

    The same bytes saved twice are one work. ``owned``: the file is the studio's own, so
    emptying the trash may delete it. ``title``: the Gallery's title (else the prompt's start).
    Images are saved through ``studio.workflows.generate.save_work``, which calls this."""
    path = Path(path).resolve()
    data = read_image_bytes(path)
    known = library.work_by_sha256(content_sha256(data))
    if known is not None:
        return known
    info = read_work_file(path, data)
    work = _work_of(info, path, owned=owned)
    if title and title.strip():
        work = replace(work, title=" ".join(title.split()))
    return library.add_work(work, manifest_json=info.manifest_json)


def import_folder(library: Library, folder: Path, progress: Callable[[float, str], None] | None = None,
                  cancel: Cancellable | None = None, *, data_dir: Path | None = None) -> ImportReport:
    """Import every PNG, JPEG and WebP image under ``folder`` (and its subfolders).

    Each image is copied into the library's originals; its studio manifest or another tool's
    recipe fills the prompt, model and seed. Other files and broken images are skipped and
    listed in the report. Cancelling stops between files: what was imported stays.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise NotFound(f"The folder {folder} does not exist.", hint="Choose a folder of images.")
    originals = originals_dir(data_dir if data_dir is not None else _data_dir())
    files = sorted(p for p in folder.rglob("*")
                   if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    added: list[Work] = []
    known: list[Work] = []
    skipped: list[tuple[str, str]] = []
    for number, path in enumerate(files):
        if cancel is not None and cancel.cancelled:
            raise Cancelled(f"Import cancelled after {number} of {len(files)} files; "
                            f"the {len(added)} works imported stay in the library.")
        if progress is not None:
            progress(number / len(files), f"{number + 1}/{len(files)}: {path.name}")
        suffix = path.suffix.lower()
        if suffix not in IMAGE_SUFFIXES:
            skipped.append((str(path), "not a PNG, JPEG or WebP image"))
            continue
        try:
            data = read_image_bytes(path)
            existing = library.work_by_sha256(content_sha256(data))
            if existing is not None:
                known.append(existing)
                continue
            info = read_work_file(path, data)
        except InputError as exc:
            skipped.append((str(path), exc.message))
            continue
        copy = originals / info.sha256[:2] / f"{info.sha256}.{IMAGE_SUFFIXES[suffix]}"
        if not copy.exists():  # content-addressed: an existing copy already holds these bytes
            atomic_write_bytes(copy, data)
        added.append(library.add_work(_work_of(info, copy, owned=True), manifest_json=info.manifest_json))
    if progress is not None:
        progress(1.0, f"Imported {len(added)} of {len(files)} files")
    return ImportReport(tuple(added), tuple(known), tuple(skipped))


# -- thumbnails --------------------------------------------------------------------------

def ensure_thumbnail(source: Path, sha256: str, cache_dir: Path, size: int = THUMBNAIL_SIZE) -> Path:
    """The work's thumbnail in the disk cache, made now if missing (a JPEG at most ``size`` pixels
    on its longer side; transparency over the grid's colour). Call it off the GUI thread."""
    target = thumbnail_path(cache_dir, sha256, size)
    if target.exists():
        return target
    from PIL import Image, UnidentifiedImageError

    source = Path(source)
    try:
        with Image.open(source) as image:
            image.draft("RGB", (size, size))  # JPEG: decode at a reduced scale
            image.thumbnail((size, size), Image.Resampling.BILINEAR, reducing_gap=2.0)
            if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
                rgba = image.convert("RGBA")
                flat = Image.new("RGB", rgba.size, THUMBNAIL_BACKGROUND)
                flat.paste(rgba, mask=rgba.getchannel("A"))
            else:
                flat = image.convert("RGB")
    except FileNotFoundError as exc:
        raise NotFound(f"The image {source} is missing.",
                       hint="It was moved or deleted outside the studio; restore it or remove the work.") from exc
    except Image.DecompressionBombError as exc:
        raise InputError(f"{source.name} claims more pixels than the studio will decode.") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InputError(f"{source.name} could not be read for a thumbnail ({str(exc)[:100]}).") from exc
    buffer = io.BytesIO()
    flat.save(buffer, format="JPEG", quality=85)
    atomic_write_bytes(target, buffer.getvalue())
    return target


def thumbnail_job(source: str, sha256: str, cache_dir: str, size: int = THUMBNAIL_SIZE) -> tuple[str | None, str]:
    """:func:`ensure_thumbnail` for a helper process: ``(path, "")``, or ``(None, message)`` when the
    file cannot give one. Plain strings both ways, so nothing but text crosses the process boundary."""
    try:
        return str(ensure_thumbnail(Path(source), sha256, Path(cache_dir), size)), ""
    except StudioError as exc:
        return None, str(exc)
    except Exception as exc:  # a bug: say what it was; the grid marks the cell broken and goes on
        log.exception("Making the thumbnail of %s failed", source)
        return None, f"unexpected {exc.__class__.__name__}: {exc}"


def lower_priority() -> None:
    """Start-up of a thumbnail helper process: yield the CPU to the window's process."""
    import os

    try:
        os.nice(10)
    except (AttributeError, OSError):  # Windows has no nice(); a refused nice changes nothing
        pass


# -- export and the trash ---------------------------------------------------------------

def export_work(work: Work, dest: Path, *, c2pa: Any = "auto") -> Path:
    """Write a copy of the work with its metadata to ``dest``. The same format as the original is
    a byte-for-byte copy; ``.jpg``/``.webp`` from a studio PNG goes through the provenance export
    (XMP manifest, export record, C2PA). ``c2pa`` is as for ``studio.workflows.generate.save_work``."""
    source, dest = Path(work.path), Path(dest)
    if not source.is_file():
        raise NotFound(f"The work's file {source} is missing.",
                       hint="It was moved or deleted outside the studio.")
    wanted = IMAGE_SUFFIXES.get(dest.suffix.lower())
    have = IMAGE_SUFFIXES.get(source.suffix.lower())
    if wanted is None:
        raise InputError(f"Cannot export to {dest.suffix or 'a file without an extension'}.",
                         hint="Name the file .png, .jpg or .webp.")
    if dest.resolve() == source.resolve():
        raise InputError("The export would overwrite the original.", hint="Choose another name or folder.")
    if wanted == have:
        atomic_write_bytes(dest, read_image_bytes(source))
        return dest
    if have != "png" or wanted == "png":
        raise InputError(f"A {source.suffix} work can only be exported as {source.suffix}.",
                         hint="JPEG and WebP exports are made from the studio's PNG works.")
    from studio.provenance.embed import export_image
    from studio.workflows.generate import c2pa_credentials

    credentials = c2pa_credentials() if isinstance(c2pa, str) and c2pa == "auto" else c2pa
    return export_image(source, dest, wanted, c2pa_credentials=credentials)


def trash_works(library: Library, work_ids: Sequence[int]) -> int:
    """Move works to the trash; nothing is deleted until the trash is emptied."""
    return library.trash_works(work_ids)


def empty_trash(library: Library, *, data_dir: Path | None = None, cache_dir: Path | None = None) -> TrashReport:
    """Forget the works in the trash, deleting their thumbnails and the files the studio owns
    (its saves and the library's copies inside the data folder); other files are left alone."""
    data = Path(data_dir if data_dir is not None else _data_dir()).resolve()
    cache = Path(cache_dir) if cache_dir is not None else _cache_dir()
    works = library.purge_trash()
    size_dirs = [folder for folder in (cache / "thumbnails").glob("*") if folder.is_dir()]
    deleted: list[str] = []
    kept: list[str] = []
    for work in works:
        for size_dir in size_dirs:
            (size_dir / work.sha256[:2] / f"{work.sha256}.jpg").unlink(missing_ok=True)
        path = Path(work.path)
        if not work.owned or not _inside(path, data):
            kept.append(str(path))
            continue
        try:
            path.unlink(missing_ok=True)
            deleted.append(str(path))
        except OSError as exc:
            log.warning("Could not delete %s from the emptied trash: %s", path, exc)
            kept.append(str(path))
    return TrashReport(len(works), tuple(deleted), tuple(kept))


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder)
        return True
    except (ValueError, OSError):
        return False


def _data_dir() -> Path:
    from studio.paths import studio_paths

    return studio_paths().data_dir


def _cache_dir() -> Path:
    from studio.paths import studio_paths

    return studio_paths().cache_dir

