"""Atomic file writes: a crash or a full disk leaves the old file or the new one, never half."""
from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from studio.errors import StorageError


def atomic_write_bytes(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` through a temp file in the same folder and ``os.replace``.

    ``mode`` (e.g. 0o600) is applied before the file becomes visible under its name.
    Raises :class:`StorageError` with advice; no temp file is left behind.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        if exc.errno == errno.ENOSPC:
            raise StorageError(f"The disk is full: could not write {path}.",
                               hint="Free some disk space and try again; nothing was changed.") from exc
        raise StorageError(f"Could not write {path}: {exc.strerror or exc}.",
                           hint="Check that the folder exists and that you may write to it.") from exc


def atomic_write_text(path: Path, text: str, *, mode: int | None = None) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), mode=mode)
