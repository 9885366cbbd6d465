"""Canonical JSON: one byte string per value, so that hashes and signatures over JSON agree.

`jcs` is RFC 8785, the JSON Canonicalization Scheme (numbers as ECMAScript writes them, so
``7.0`` is ``7``; keys sorted by UTF-16 code units; strings escaped minimally; UTF-8), through
Trail of Bits' ``rfc8785`` package. Any JavaScript, Go or Rust JCS library gives the same bytes:
it is what ``studio.provenance/2`` manifests and token metadata are hashed over.

`python_sorted_json` is the older form (Python's ``json.dumps`` with sorted keys and no
whitespace) that ``studio.provenance/1`` manifests were hashed over; it is kept only to verify
them. Its numbers are Python's (``7.0``), which is why it was replaced.
"""
from __future__ import annotations

import json
from typing import Any

from studio.errors import InputError

#: The largest whole number JSON readers keep exactly (IEEE 754 doubles); RFC 8785 refuses larger.
MAX_SAFE_INTEGER = 2**53 - 1


def jcs(value: Any) -> bytes:
    """``value`` (dicts, lists, str, int, float, bool, None) as RFC 8785 canonical JSON bytes.

    Raises InputError for what JCS cannot write: NaN or infinity, whole numbers beyond
    ±(2**53 - 1), lone surrogates, keys that are not text.
    """
    import rfc8785

    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as exc:
        raise InputError(f"The value cannot be written as canonical JSON (RFC 8785): {exc}.",
                         hint="Whole numbers must stay within ±9007199254740991; text must be valid Unicode.") \
            from exc
    except (TypeError, ValueError, RecursionError) as exc:  # a type JCS has no form for
        raise InputError(f"The value cannot be written as canonical JSON (RFC 8785): {exc}.") from exc


def python_sorted_json(value: Any) -> bytes:
    """The ``studio.provenance/1`` form: ``json.dumps(sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)`` as UTF-8, NaN refused. Only for verifying manifests made with it."""
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False).encode("utf-8")
    except (TypeError, ValueError, UnicodeEncodeError) as exc:
        raise InputError(f"The value cannot be written as canonical JSON: {exc}.") from exc
