"""Files on disk: atomic writes (a crash or a full disk leaves the old file or the new one, never half)
and bounded reads of files someone handed us (never a FIFO, a device or more than a cap)."""
from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from studio.errors import InputError, NotFound, StorageError


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


def read_bounded(path: Path | str, max_bytes: int, *, what: str | None = None, regular_only: bool = True) -> bytes:
    """The bytes of a file someone handed us, refusing anything that could hang or exhaust memory.

    The file is opened without blocking (a FIFO with no writer does not hang the open) and checked
    on the open descriptor: anything but a regular file (a FIFO, ``/dev/zero``, a device, a socket)
    is refused at once unless ``regular_only`` is False (a password given through ``<(…)``), and
    no more than ``max_bytes`` are ever read, whatever the size claims. Raises NotFound when the
    file does not exist, InputError when it is not a regular file or is too large, StorageError
    when it cannot be read. ``what`` names it in messages ("The keystore file").
    """
    path = Path(path)
    label = what or "The file"
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError as exc:
        raise NotFound(f"{label} ({path}) does not exist.") from exc
    except IsADirectoryError as exc:
        raise InputError(f"{label} ({path}) is a folder, not a file.") from exc
    except OSError as exc:
        raise StorageError(f"{label} ({path}) could not be opened: {exc.strerror or exc}.",
                           hint="Check that the file exists and that you may read it.") from exc
    except ValueError as exc:  # a NUL character in the path
        raise InputError(f"{label} has a path with a NUL character in it, which no file has.") from exc
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InputError(f"{label} ({path}) is a folder, not a file.")
        regular = stat.S_ISREG(info.st_mode)
        if not regular and regular_only:
            raise InputError(f"{label} ({path}) is not a regular file ({_kind(info.st_mode)}); it was not read.",
                             hint="Give the path of an ordinary file.")
        if regular and info.st_size > max_bytes:
            raise InputError(f"{label} ({path}) is {info.st_size:,} bytes, over the limit of {max_bytes:,}; "
                             "it was not read.")
        if not regular:
            os.set_blocking(fd, True)  # a pipe the user chose: wait for its writer
        chunks: list[bytes] = []
        left = max_bytes + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        if left <= 0:
            raise InputError(f"{label} ({path}) holds more than the limit of {max_bytes:,} bytes; it was not read.")
        return b"".join(chunks)
    except OSError as exc:
        raise StorageError(f"{label} ({path}) could not be read: {exc.strerror or exc}.") from exc
    finally:
        os.close(fd)


def read_text_bounded(path: Path | str, max_bytes: int, *, what: str | None = None,
                      regular_only: bool = True) -> str:
    """`read_bounded` decoded as UTF-8 (a byte-order mark is dropped); InputError when it is not UTF-8."""
    data = read_bounded(path, max_bytes, what=what, regular_only=regular_only)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{what or f'The file {path}'} is not UTF-8 text (byte {exc.start}).") from exc


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not an ordinary file"
