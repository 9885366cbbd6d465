"""The journal of a long run: its plan written once, and a log of the items finished, in any order.

A run folder (an avatar collection, a batch of prompts) holds its plan (JSON, written once: what
every item is; a rerun with another plan is refused rather than mixed in) and ``progress.log``,
one line per finished item, ``<index> <file> <sha256>``, appended and synced as soon as the item's
file is saved. Items may finish in any order (a cluster returns them as its workers finish). A
rerun, after a cancel, a crash of the studio or a lost cluster worker, skips every item whose file
is there with the logged hash and makes the others: nothing finished is made twice or lost.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterable

from studio.errors import InputError, StorageError

PROGRESS_FILE = "progress.log"


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_plan(folder: Path, name: str, *, version: int, what: str) -> dict[str, Any] | None:
    """The plan ``name`` in ``folder`` (None when there is none); a damaged or foreign one is refused."""
    path = Path(folder) / name
    if not path.exists():
        return None
    from studio.safejson import loads

    try:
        data = loads(path.read_bytes(), what=name)
    except (OSError, InputError) as exc:
        raise InputError(f"The {what} {path} is damaged ({exc}).",
                         hint=f"Move the folder away (or delete {name}) to start again.") from exc
    if not isinstance(data, dict) or data.get("version") != version or not isinstance(data.get("items"), list):
        raise InputError(f"{path} is not a {what} this studio reads.", hint="Use another folder.")
    return data


def keep_plan(folder: Path, name: str, document: dict[str, Any], *, version: int, what: str, kind: str,
              fields: Iterable[str]) -> None:
    """Write ``document`` as the folder's plan, or check that the plan there is the same; a plan made
    with other settings is refused, naming the ``fields`` that differ (``kind``: "collection"...)."""
    folder = Path(folder)
    existing = read_plan(folder, name, version=version, what=what)
    if existing is not None and existing != json.loads(json.dumps(document)):
        changed = [k for k in fields if existing.get(k) != document.get(k)]
        raise InputError(f"{folder} holds a {kind} made with other settings "
                         f"({', '.join(changed) or 'items'} differ); it is not mixed with this one.",
                         hint="Run again with the same settings to continue it, or choose another folder.")
    folder.mkdir(parents=True, exist_ok=True)
    if existing is None:
        from studio.fileio import atomic_write_text

        atomic_write_text(folder / name, json.dumps(document, indent=1, ensure_ascii=False) + "\n")


def read_done(folder: Path) -> dict[int, str]:
    """Finished items from ``progress.log`` (index -> SHA-256); a torn last line is ignored."""
    done: dict[int, str] = {}
    try:
        text = (Path(folder) / PROGRESS_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return done
    except OSError as exc:
        raise StorageError(f"Could not read {Path(folder) / PROGRESS_FILE}: {exc.strerror or exc}.") from exc
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0].isdigit() and len(parts[2]) == 64:
            done[int(parts[0])] = parts[2]
    return done


def append_done(folder: Path, index: int, file: str, sha256: str) -> None:
    """Log item ``index`` as finished (its file and hash), synced before returning."""
    path = Path(folder) / PROGRESS_FILE
    try:
        torn = path.exists() and path.stat().st_size > 0 and not path.read_bytes().endswith(b"\n")
        with open(path, "a", encoding="utf-8") as log_file:
            # a line torn by a crash is ended first, so that this one stays whole
            log_file.write(("\n" if torn else "") + f"{index} {file} {sha256}\n")
            log_file.flush()
            os.fsync(log_file.fileno())
    except OSError as exc:
        raise StorageError(f"Could not record progress in {path}: {exc.strerror or exc}.",
                           hint="Free some disk space and run again; it continues.") from exc


def finished_indexes(folder: Path, items: Iterable[tuple[int, str]], done: dict[int, str]) -> set[int]:
    """The items (index, file name) whose file is in ``folder`` with the hash ``done`` logged for it."""
    folder = Path(folder)
    return {index for index, file in items
            if index in done and (folder / file).is_file() and file_sha256(folder / file) == done[index]}
