"""JSON from strangers (PNG chunks, token metadata, manifests, keystore files, RPC bodies).

`json.loads` recurses in C once per nesting level; after web3 is imported the interpreter's
recursion limit is very high, so a crafted ``[[[[…`` crashes the process instead of raising.
`loads` therefore checks the text before the parser sees it, in time linear in its length:

* its size against ``max_bytes`` (callers reading a file or a response cap it before reading,
  with :func:`studio.fileio.read_bounded` or a capped HTTP read, and pass the same cap here);
* its nesting depth against ``max_depth``: strings are blanked by one regular expression that
  matches at every quote, terminated or not, so it never rescans (the older pattern retried at
  each escaped quote of an unterminated string: 32 KB took seconds, 128 KB a minute), then the
  brackets left are counted with C-level iterators;
* its number of values (containers and commas outside strings) against ``max_values``, which
  bounds the memory of the parsed result: a document of empty objects costs about 70 bytes per
  value in Python, far more than its text.

Every malformed input becomes an :class:`~studio.errors.InputError` naming ``what`` was read.
"""
from __future__ import annotations

import json
import re
from itertools import accumulate
from pathlib import Path
from typing import Any

from studio.errors import InputError

MAX_DEPTH = 64
#: Default size cap of one document; callers with larger needs (an RPC node's logs) pass their own.
MAX_BYTES = 16 * 1024 * 1024
#: Default cap on containers plus commas: a million values parse to at most ~100 MB of objects.
MAX_VALUES = 1_000_000

# A string from its opening quote to its closing quote, or to the end of the text when it is not
# closed: every alternative at the end can match, so a match never fails and is never retried.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
# byte value of a bracket (after latin-1 encoding) -> +1 / -1; every other byte is 0
_STEP = tuple(1 if b in b"[{" else -1 if b in b"]}" else 0 for b in range(256))


def _outside_strings(text: str) -> str:
    return _STRING.sub("", text)


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in `text` (0 for a scalar); linear time."""
    if text.count("[") + text.count("{") == 0:
        return 0
    brackets = _NOT_BRACKET.sub("", _outside_strings(text)).encode("latin-1")
    return max(0, max(accumulate(map(_STEP.__getitem__, brackets)), default=0))


def check(text: str, *, what: str = "The JSON", max_depth: int = MAX_DEPTH, max_values: int = MAX_VALUES) -> None:
    """Raise InputError when `text` nests deeper than `max_depth` or holds more than `max_values` values."""
    opening = text.count("[") + text.count("{")
    if opening <= max_depth and opening + text.count(",") <= max_values:
        return  # cannot exceed either bound: skip the scan (most documents)
    outside = _outside_strings(text)
    brackets = _NOT_BRACKET.sub("", outside)
    values = brackets.count("[") + brackets.count("{") + outside.count(",")
    if values > max_values:
        raise InputError(f"{what} holds more than {max_values:,} values, more than the studio reads from one "
                         "document; it was not read.")
    deepest = max(accumulate(map(_STEP.__getitem__, brackets.encode("latin-1"))), default=0)
    if deepest > max_depth:
        raise InputError(f"{what} is nested more than {max_depth} levels deep, which no real file needs; "
                         "it was not read.")


def loads(data: str | bytes | bytearray | memoryview, *, what: str = "The JSON", max_depth: int = MAX_DEPTH,
          max_bytes: int = MAX_BYTES, max_values: int = MAX_VALUES) -> Any:
    """Parse untrusted JSON; too large, too deep, not UTF-8 or malformed input raises `InputError`."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        if len(data) > max_bytes:
            raise _too_large(what, len(data), max_bytes)
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"{what} is not UTF-8 text.") from exc
    elif not isinstance(data, str):
        raise InputError(f"{what} is not text ({type(data).__name__}).")
    elif len(data) > max_bytes:
        raise _too_large(what, len(data), max_bytes)
    check(data, what=what, max_depth=max_depth, max_values=max_values)
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise InputError(f"{what} is not valid JSON ({_short(exc)}).") from exc


def load_file(path: Path | str, *, what: str | None = None, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH,
              max_values: int = MAX_VALUES) -> Any:
    """Parse a JSON file someone handed us: a regular file, at most `max_bytes`, checked as `loads` does.

    Raises NotFound when it does not exist, InputError when it is not a regular file, too large or
    not JSON, StorageError when it cannot be read.
    """
    from studio.fileio import read_bounded

    path = Path(path)
    label = what or f"The file {path.name}"
    data = read_bounded(path, max_bytes, what=label)
    return loads(data, what=label, max_depth=max_depth, max_bytes=max_bytes, max_values=max_values)


def _too_large(what: str, size: int, limit: int) -> InputError:
    return InputError(f"{what} is {size:,} bytes, over the limit of {limit:,}; it was not read.")


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 200 else text[:199] + "…"
