"""Prompt styles (saved prompt and negative pairs, applied as A1111 applies them) and the history of
recent prompts, each a small JSON file in the studio's data folder (``styles.json``,
``prompt-history.json``) written atomically; a damaged file is set aside and started afresh."""
from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from studio.errors import InputError, NotFound
from studio.fileio import atomic_write_text

log = logging.getLogger(__name__)

STYLES_FILE = "styles.json"
HISTORY_FILE = "prompt-history.json"
MAX_HISTORY = 200
MAX_STYLES = 500
MAX_FILE_BYTES = 4 * 1024 * 1024
PLACEHOLDER = "{prompt}"


@dataclass(frozen=True)
class PromptStyle:
    """A saved style: its prompt and negative prompt. ``{prompt}`` in either marks where the user's text
    goes; without it the style's text is added after the user's, separated by a comma."""

    name: str
    prompt: str = ""
    negative_prompt: str = ""


@dataclass(frozen=True)
class HistoryEntry:
    prompt: str
    negative_prompt: str
    used: float  # seconds since the epoch


def _data_dir() -> Path:
    from studio.paths import studio_paths

    return studio_paths().data_dir


def _read(path: Path) -> Any:
    from studio import safejson
    from studio.fileio import read_bounded

    if not path.exists():
        return None
    try:
        return safejson.loads(read_bounded(path, MAX_FILE_BYTES, what=f"The file {path.name}"), what=path.name)
    except Exception as exc:  # noqa: BLE001 - a damaged list must never stop generating: keep it aside
        aside = path.with_name(path.name + f".damaged-{int(time.time())}")
        log.warning("%s is unreadable (%s); it was moved to %s and a new one started.", path, exc, aside.name)
        try:
            path.rename(aside)
        except OSError:
            pass
        return None


def _merge(text: str, addition: str) -> str:
    if not addition:
        return text
    if PLACEHOLDER in addition:
        return addition.replace(PLACEHOLDER, text)
    return f"{text}, {addition}" if text else addition


def apply_style(prompt: str, negative_prompt: str, style: PromptStyle) -> tuple[str, str]:
    """(prompt, negative) with ``style`` applied, as A1111's styles do."""
    return _merge(prompt, style.prompt), _merge(negative_prompt, style.negative_prompt)


def load_styles(data_dir: Path | None = None) -> list[PromptStyle]:
    data = _read((data_dir or _data_dir()) / STYLES_FILE)
    styles = []
    for item in data.get("styles", []) if isinstance(data, dict) else []:
        if isinstance(item, dict) and isinstance(item.get("name"), str) and item["name"].strip():
            styles.append(PromptStyle(item["name"], str(item.get("prompt", "")), str(item.get("negative_prompt", ""))))
    return styles


def save_style(style: PromptStyle, data_dir: Path | None = None) -> list[PromptStyle]:
    """Add ``style``, or replace the one of the same name; the styles after."""
    name = style.name.strip()
    if not name or len(name) > 100:
        raise InputError("A style needs a name of 1 to 100 characters.")
    if not style.prompt and not style.negative_prompt:
        raise InputError(f"The style “{name}” has neither a prompt nor a negative prompt.")
    folder = data_dir or _data_dir()
    styles = [s for s in load_styles(folder) if s.name != name] + [PromptStyle(name, style.prompt, style.negative_prompt)]
    if len(styles) > MAX_STYLES:
        raise InputError(f"There are already {MAX_STYLES} styles.", hint="Delete some first.")
    _write_styles(folder, styles)
    return styles


def delete_style(name: str, data_dir: Path | None = None) -> list[PromptStyle]:
    folder = data_dir or _data_dir()
    styles = load_styles(folder)
    if not any(s.name == name for s in styles):
        raise NotFound(f"There is no style “{name}”.")
    kept = [s for s in styles if s.name != name]
    _write_styles(folder, kept)
    return kept


def find_style(name: str, data_dir: Path | None = None) -> PromptStyle:
    for style in load_styles(data_dir):
        if style.name == name:
            return style
    raise NotFound(f"There is no style “{name}”.", hint="List the styles, or save one first.")


def _write_styles(folder: Path, styles: list[PromptStyle]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / STYLES_FILE, json.dumps({"version": 1, "styles": [asdict(s) for s in styles]}, indent=1))


def prompt_history(data_dir: Path | None = None) -> list[HistoryEntry]:
    """Recent prompts, newest first (at most 200, each pair once)."""
    data = _read((data_dir or _data_dir()) / HISTORY_FILE)
    entries = []
    for item in data.get("prompts", []) if isinstance(data, dict) else []:
        if isinstance(item, dict) and isinstance(item.get("prompt"), str):
            used = item.get("used")
            entries.append(HistoryEntry(item["prompt"], str(item.get("negative_prompt", "")),
                                        float(used) if isinstance(used, (int, float)) else 0.0))
    return entries


def record_prompt(prompt: str, negative_prompt: str = "", data_dir: Path | None = None) -> None:
    """Put ``prompt`` at the top of the history (never fails a generation: problems are logged)."""
    if not prompt.strip():
        return
    folder = data_dir or _data_dir()
    try:
        entries = [e for e in prompt_history(folder) if (e.prompt, e.negative_prompt) != (prompt, negative_prompt)]
        entries.insert(0, HistoryEntry(prompt, negative_prompt, time.time()))
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(folder / HISTORY_FILE, json.dumps(
            {"version": 1, "prompts": [asdict(e) for e in entries[:MAX_HISTORY]]}, indent=1))
    except OSError as exc:
        log.warning("Could not record the prompt in the history: %s", exc)
