"""Text from outside (prompts, file names, token names, metadata) made safe to show to people.

A file or a contract can carry terminal escapes (``ESC[2J`` clears the screen, ``ESC[1A
ESC[2K`` rewrites the line above, OSC sets the window title), carriage returns, newlines that
start a fake line, and bidirectional overrides (U+202E) that make ``gpj.exe`` read ``exe.jpg``.
Every human-readable output of such text goes through :func:`printable`, which shows these
characters as visible escapes (``\\x1b``, ``\\u202e``, ``\\n``) instead of obeying them.
"""
from __future__ import annotations

import functools
import json
import re
import unicodedata
from typing import Any

#: Unicode format characters that are kept: joiners shape Indic, Arabic and emoji sequences.
_KEPT_FORMAT = frozenset("\u200c\u200d")
#: controls (C0, DEL, C1), format characters (bidi overrides and isolates, invisible tags),
#: lone surrogates (undecodable bytes of a file name) and the line and paragraph separators
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_PLAIN_ASCII = re.compile(r"[\x20-\x7e]*")


@functools.lru_cache(maxsize=4096)
def _unsafe(char: str) -> bool:
    return char not in _KEPT_FORMAT and unicodedata.category(char) in _UNSAFE_CATEGORIES


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, kept by surrogateescape (file names)
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable(text: Any, *, multiline: bool = False) -> str:
    """``text`` with every control, format and line-breaking character shown as a visible escape.

    Newlines are escaped too (a field must not start a line of its own) unless ``multiline``,
    for a box made to show several lines (a prompt in a GUI text area), where newlines and tabs
    are kept; carriage returns are always escaped.
    """
    text = str(text)
    if _PLAIN_ASCII.fullmatch(text):
        return text
    kept = "\n\t" if multiline else ""
    return "".join(_escape(char) if char not in kept and _unsafe(char) else char for char in text)


def is_printable(text: str) -> bool:
    """Whether ``text`` holds no character that :func:`printable` would escape (newlines count)."""
    return printable(text) == text


def json_line(value: Any, *, indent: int | None = None) -> str:
    """``value`` as JSON that is safe on a terminal (one line unless ``indent``): UTF-8 text is kept,
    but control, format and line-breaking characters (which JSON escapes only below U+0020) are
    ``\\uXXXX``."""
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    if _PLAIN_ASCII.fullmatch(text):
        return text
    out = []
    for char in text:
        if char == "\n" or not _unsafe(char):  # only the indentation's own newlines are raw
            out.append(char)
            continue
        code = ord(char)
        if code >= 0x10000:
            code -= 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
        else:
            out.append(f"\\u{code:04x}")
    return "".join(out)
