"""Batch manifests: a CSV file, a JSON file or a folder of images (with sidecars), read and
validated in full before anything is uploaded or sent (docs/batch.md).

A CSV file has a header row; a JSON file is a list of objects, or ``{"works": [...]}``; in a
folder of images, an optional sidecar ``NAME.png.json`` or ``NAME.json`` holds the other fields.
Fields: ``file`` (relative to the manifest), ``name``, ``description``, ``attributes`` (a JSON
object, or ``trait:value;trait:value`` in CSV), ``price`` (ETH, to list the token), ``royalty``
(``2.5%``, ``250bps``), ``license``. :class:`ManifestErrors` lists every bad row and field at once.
"""
from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable, Sequence

from studio.errors import InputError, NotFound, StudioError
from studio.safeimage import MAX_PIXELS

MAX_NAME = 100
MAX_DESCRIPTION = 5000
MAX_ATTRIBUTES = 64
MAX_PRICE_WEI = 2**96 - 1
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
FIELDS = ("file", "name", "description", "attributes", "price", "royalty", "license")
WEI_PER_ETH = 10**18
#: The largest manifest file (CSV or JSON) and sidecar read; a 10,000-row manifest is about 2 MB.
MAX_MANIFEST_BYTES = 32 * 1024 * 1024
MAX_SIDECAR_BYTES = 1024 * 1024
#: The largest image file and the most pixels one may declare (Pillow's own default limit).
MAX_IMAGE_BYTES = 256 * 1024 * 1024
MAX_IMAGE_PIXELS = MAX_PIXELS


@dataclass(frozen=True)
class ManifestRow:
    """One work of a manifest, validated: the file exists, is an image, and every field is usable."""

    row: int  # 1-based, as people count data rows
    file: Path
    name: str
    description: str = ""
    attributes: tuple[tuple[str, str | int | float | bool], ...] = ()
    price_wei: int | None = None
    royalty_bps: int | None = None
    license: str = "all-rights-reserved"
    sha256: str = ""
    width: int = 0
    height: int = 0


@dataclass(frozen=True)
class RowError:
    row: int  # 0 for the manifest as a whole (its header, its shape)
    field: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.field}: {self.message}" if self.row else f"{self.field}: {self.message}"


class ManifestErrors(InputError):
    """Every problem of a manifest at once; nothing was uploaded or sent."""

    def __init__(self, source: Path, errors: Sequence[RowError]) -> None:
        self.source = source
        self.errors = tuple(errors)
        count = len(self.errors)
        lines = "\n".join(f"  {e}" for e in self.errors)
        super().__init__(f"{source.name} has {count} problem{'s' if count != 1 else ''}; nothing was uploaded "
                         f"or minted:\n{lines}", hint="Fix these rows and run the command again.")


def read_manifest(source: Path | str) -> list[ManifestRow]:
    """Read and validate a CSV, JSON or folder manifest; ManifestErrors lists every problem.

    Manifest files are read bounded (``MAX_MANIFEST_BYTES``, regular files only: a FIFO or
    ``/dev/zero`` is refused at once), and so is every image (``MAX_IMAGE_BYTES``, at most
    ``MAX_IMAGE_PIXELS`` declared: a decompression bomb is one row's problem, the others are
    still checked).
    """
    source = Path(source)
    if not source.exists():
        raise NotFound(f"The manifest {source} does not exist.")
    errors: list[RowError] = []
    if source.is_dir():
        entries, base = _folder_entries(source, errors), source
    elif source.suffix.lower() == ".csv":
        entries, base = _csv_entries(source, errors), source.parent
    elif source.suffix.lower() == ".json":
        entries, base = _json_entries(source, errors), source.parent
    else:
        raise InputError(f"{source.name} is not a manifest the studio reads.",
                         hint="Use a .csv or .json file, or a folder of images (see docs/batch.md).")
    rows: list[ManifestRow] = []
    seen_paths: dict[Path, int] = {}
    seen_content: dict[str, int] = {}
    for number, entry in entries:
        row = _validate_row(number, entry, base, errors)
        if row is None:
            continue
        resolved = row.file.resolve()
        if resolved in seen_paths:
            errors.append(RowError(number, "file", f"{row.file.name} is already row {seen_paths[resolved]}"))
            continue
        if row.sha256 in seen_content:
            errors.append(RowError(number, "file", f"{row.file.name} is the same image as row "
                                                   f"{seen_content[row.sha256]}"))
            continue
        seen_paths[resolved] = number
        seen_content[row.sha256] = number
        rows.append(row)
    if not entries and not errors:
        errors.append(RowError(0, "manifest", "it lists no works"))
    if errors:
        raise ManifestErrors(source, sorted(errors, key=lambda e: e.row))
    return rows


def _csv_entries(path: Path, errors: list[RowError]) -> list[tuple[int, dict[str, Any]]]:
    from studio.fileio import read_text_bounded

    text = read_text_bounded(path, MAX_MANIFEST_BYTES, what=f"The manifest {path.name}")
    reader = csv.DictReader(io.StringIO(text))
    try:
        return _csv_rows(reader, errors)
    except csv.Error as exc:  # a field over csv's limit (128 KiB), a NUL byte, an unclosed quote...
        raise InputError(f"The manifest {path.name} is not readable CSV after line {reader.line_num}: {exc}.",
                         hint=f"Keep each field under {csv.field_size_limit():,} characters and quote fields "
                              "that hold commas or line breaks.") from exc


def _csv_rows(reader: csv.DictReader, errors: list[RowError]) -> list[tuple[int, dict[str, Any]]]:
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "file" not in header:
        errors.append(RowError(0, "header", f"the first line must name the columns, with at least 'file' "
                                            f"(columns: {', '.join(FIELDS)})"))
        return []
    unknown = [h for h in header if h not in FIELDS]
    if unknown:
        errors.append(RowError(0, "header", f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                                            f"(columns: {', '.join(FIELDS)})"))
    reader.fieldnames = header
    entries = []
    for number, record in enumerate(reader, start=1):
        if None in record:
            errors.append(RowError(number, "row", "it has more values than the header has columns"))
        entry = {k: v.strip() for k, v in record.items() if k is not None and isinstance(v, str) and v.strip()}
        if entry:
            entries.append((number, entry))
    return entries


def _json_entries(path: Path, errors: list[RowError]) -> list[tuple[int, dict[str, Any]]]:
    from studio.fileio import read_bounded
    from studio.safejson import loads

    what = f"The manifest {path.name}"
    document = loads(read_bounded(path, MAX_MANIFEST_BYTES, what=what), what=what, max_bytes=MAX_MANIFEST_BYTES)
    works = document.get("works") if isinstance(document, dict) else document
    if not isinstance(works, list):
        errors.append(RowError(0, "manifest", 'it must be a list of objects, or {"works": [...]}'))
        return []
    entries = []
    for number, entry in enumerate(works, start=1):
        if not isinstance(entry, dict):
            errors.append(RowError(number, "row", "it is not an object"))
            continue
        for key in entry:
            if key not in FIELDS:
                errors.append(RowError(number, str(key), f"unknown field (fields: {', '.join(FIELDS)})"))
        entries.append((number, {k: v for k, v in entry.items() if k in FIELDS}))
    return entries


def _folder_entries(folder: Path, errors: list[RowError]) -> list[tuple[int, dict[str, Any]]]:
    from studio.fileio import read_bounded
    from studio.safejson import loads

    images = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    entries = []
    for number, image in enumerate(images, start=1):
        entry: dict[str, Any] = {"file": image.name, "name": image.stem}
        for sidecar in (image.with_name(image.name + ".json"), image.with_suffix(".json")):
            if sidecar.exists():
                try:
                    extra = loads(read_bounded(sidecar, MAX_SIDECAR_BYTES, what=sidecar.name), what=sidecar.name,
                                  max_bytes=MAX_SIDECAR_BYTES)
                except StudioError as exc:
                    errors.append(RowError(number, "sidecar", f"{sidecar.name} is not readable JSON ({exc.message})"))
                    break
                if not isinstance(extra, dict):
                    errors.append(RowError(number, "sidecar", f"{sidecar.name} must hold one JSON object"))
                    break
                for key, value in extra.items():
                    if key not in FIELDS or key == "file":
                        errors.append(RowError(number, str(key), f"unknown field in {sidecar.name}"))
                    else:
                        entry[key] = value
                break
        entries.append((number, entry))
    return entries


def _validate_row(number: int, entry: dict[str, Any], base: Path, errors: list[RowError]) -> ManifestRow | None:
    from studio.workflows.mint import parse_license

    before = len(errors)

    def problem(field_name: str, message: str) -> None:
        errors.append(RowError(number, field_name, message))

    file_value = entry.get("file")
    path = None
    sha256, size = "", (0, 0)
    if not isinstance(file_value, str) or not file_value.strip():
        problem("file", "missing (the image to mint)")
    else:
        path = Path(file_value.strip())
        path = path if path.is_absolute() else base / path
        sha256, size = _check_image(path, problem)
    name = entry.get("name", path.stem if path is not None else "")
    if not isinstance(name, str) or not name.strip():
        problem("name", "missing (the token's name)")
    elif len(name.strip()) > MAX_NAME:
        problem("name", f"{len(name.strip())} characters, at most {MAX_NAME}")
    description = entry.get("description", "")
    if not isinstance(description, str):
        problem("description", "must be text")
    elif len(description) > MAX_DESCRIPTION:
        problem("description", f"{len(description)} characters, at most {MAX_DESCRIPTION}")
    attributes = _attributes(entry.get("attributes"), problem)
    price = _price(entry.get("price"), problem)
    royalty = _royalty(entry.get("royalty"), problem)
    license_id = "all-rights-reserved"
    if entry.get("license") not in (None, ""):
        try:
            license_id = parse_license(str(entry["license"]))
        except InputError as exc:
            problem("license", exc.message)
    if len(errors) > before or path is None:
        return None
    return ManifestRow(number, path, name.strip(), description.strip(), attributes, price, royalty, license_id,
                       sha256, size[0], size[1])


def _check_image(path: Path, problem: Callable[[str, str], None]) -> tuple[str, tuple[int, int]]:
    from studio.safeimage import ImageBomb, image_size, read_image_file

    try:
        data = read_image_file(path, what=f"The image {path.name}", max_bytes=MAX_IMAGE_BYTES)
    except NotFound:
        problem("file", f"{path} does not exist")
        return "", (0, 0)
    except StudioError as exc:
        problem("file", exc.message)
        return "", (0, 0)
    try:
        size = image_size(data, what=path.name, max_pixels=MAX_IMAGE_PIXELS)
    except ImageBomb as exc:
        problem("file", exc.message)
        return "", (0, 0)
    except InputError as exc:
        cause = exc.__cause__.__class__.__name__ if exc.__cause__ is not None else "unreadable"
        problem("file", f"{path.name} is not a readable image ({cause}); mint PNG, JPEG or WebP")
        return "", (0, 0)
    return hashlib.sha256(data).hexdigest(), size


def _number(text: str) -> str | int | float:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text) if "." in text else text
    except ValueError:
        return text


def _attributes(value: Any, problem: Callable[[str, str], None]) -> tuple[tuple[str, Any], ...]:
    if value in (None, ""):
        return ()
    if isinstance(value, str) and value.lstrip().startswith("{"):
        from studio.safejson import loads

        try:
            value = loads(value, what="The attributes")
        except (ValueError, InputError) as exc:
            problem("attributes", f"not a JSON object ({exc})")
            return ()
    pairs: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        pairs = [(str(k), v) for k, v in value.items()]
    elif isinstance(value, str):
        for part in value.split(";"):
            if not part.strip():
                continue
            key, sep, text = part.partition(":")
            if not sep or not key.strip() or not text.strip():
                problem("attributes", f"{part.strip()!r} is not trait:value")
                return ()
            pairs.append((key.strip(), _number(text.strip())))
    else:
        problem("attributes", "must be a JSON object or trait:value;trait:value")
        return ()
    if len(pairs) > MAX_ATTRIBUTES:
        problem("attributes", f"{len(pairs)} traits, at most {MAX_ATTRIBUTES}")
        return ()
    for key, item in pairs:
        if not key.strip() or not isinstance(item, (str, int, float, bool)):
            problem("attributes", f"trait {key!r} needs a text or number value")
            return ()
    return tuple(pairs)


def parse_eth(value: Any) -> int:
    """Wei from an amount of ETH ("0.05", 0.05, "1"); InputError when it is not a positive amount."""
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise InputError(f"{value!r} is not an amount of ETH (e.g. 0.05).") from exc
    wei = amount * WEI_PER_ETH
    if not amount.is_finite() or amount <= 0 or wei != wei.to_integral_value():
        raise InputError(f"{value!r} is not a positive amount of ETH with at most 18 decimals.")
    if wei > MAX_PRICE_WEI:
        raise InputError(f"{value!r} ETH is more than the marketplace accepts.")
    return int(wei)


def _price(value: Any, problem: Callable[[str, str], None]) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        problem("price", "must be an amount of ETH")
        return None
    try:
        return parse_eth(value)
    except InputError as exc:
        problem("price", exc.message)
        return None


def _royalty(value: Any, problem: Callable[[str, str], None]) -> int | None:
    from studio.workflows.collections import parse_royalty

    if value in (None, ""):
        return None
    text = str(value).strip()
    if not text.lower().endswith(("%", "bps")):
        text += "%"
    try:
        return parse_royalty(text)
    except InputError as exc:
        problem("royalty", exc.message)
        return None
