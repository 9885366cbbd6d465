"""JSON from strangers (PNG chunks, token metadata, model headers, keystore files, RPC bodies).

`json.loads` recurses in C once per nesting level; after web3 is imported the interpreter's
recursion limit is very high, so a crafted ``[[[[…`` crashes the process instead of raising.
`loads` measures the nesting depth first (strings removed, then a running count over the
brackets only: linear and cheap), and turns every malformed input into an `InputError`.
"""
from __future__ import annotations

import json
import re
from typing import Any

from studio.errors import InputError

MAX_DEPTH = 64
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in `text` (0 for a scalar)."""
    depth = deepest = 0
    for match in _BRACKETS.finditer(_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def loads(data: str | bytes, *, what: str = "The JSON", max_depth: int = MAX_DEPTH) -> Any:
    """Parse untrusted JSON; too deep, not UTF-8 or malformed input raises `InputError`."""
    if isinstance(data, (bytes, bytearray)):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"{what} is not UTF-8 text.") from exc
    if nesting_depth(data) > max_depth:
        raise InputError(f"{what} is nested more than {max_depth} levels deep, which no real file needs; "
                         "it was not read.")
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise InputError(f"{what} is not valid JSON ({exc}).") from exc
