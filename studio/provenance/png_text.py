"""PNG text chunks: the recipe travels inside the image.

Latin-1 text goes into ``tEXt`` chunks (A1111's ``parameters`` is read there by sites such as
Civitai, which miss ``iTXt``); anything else into UTF-8 ``iTXt``. Files are written atomically.
Reading walks the chunks itself, capping each text chunk at 1 MiB (compressed or inflated), so a
hostile file cannot make a reader allocate without bound.
"""
from __future__ import annotations

import io
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from studio.errors import InputError, NotFound
from studio.fileio import atomic_write_bytes


def _is_latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def png_bytes(image: Any, text: Mapping[str, str]) -> bytes:
    """Encode ``image`` as PNG with ``text`` as text chunks (keys: 1-79 Latin-1 characters)."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for key, value in text.items():
        if not 1 <= len(key) <= 79 or not _is_latin1(key):
            raise InputError(f"“{key}” cannot be a PNG text key.",
                             hint="Keys are 1 to 79 Latin-1 characters.")
        if _is_latin1(value):
            info.add_text(key, value)
        else:
            info.add_itxt(key, value)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def write_png(image: Any, path: Path, text: Mapping[str, str]) -> None:
    """Save ``image`` as a PNG at ``path`` with ``text`` chunks, atomically.

    A full disk raises StorageError and leaves neither a partial file nor a temp file.
    """
    atomic_write_bytes(Path(path), png_bytes(image, text))


def read_png_text(path: Path) -> dict[str, str]:
    """All text chunks (tEXt, zTXt, iTXt) of the PNG at ``path``, each capped at 1 MiB."""
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"The file {path} does not exist.")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path.name} could not be read ({exc.strerror or exc}).") from exc
    if not data.startswith(PNG_SIGNATURE):
        raise InputError(f"{path.name} is not a PNG.",
                         hint="Recipes are read from PNG files made by the studio or A1111.")
    chunks = read_text_chunks(data)
    if not chunks.complete:
        raise InputError(f"{path.name} is not a readable PNG image ({'; '.join(chunks.problems)}).",
                         hint="The file may be damaged or cut short.")
    return dict(chunks.text)


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_TEXT_CHUNK = 1 << 20          # per chunk, compressed or not (Pillow's MAX_TEXT_CHUNK)
MAX_TEXT_TOTAL = 16 << 20         # all text chunks of one file together
_TEXT_TYPES = (b"tEXt", b"zTXt", b"iTXt")


@dataclass(frozen=True)
class PngTextChunks:
    """The text chunks of a PNG in file order, and what was wrong on the way.

    ``complete`` is true when the chunk structure ran from IHDR to IEND without a cut;
    ``problems`` names skipped chunks (too big, bad CRC, bad encoding) and truncation.
    """

    text: Mapping[str, str]
    order: tuple[tuple[str, str], ...]   # (chunk type, key) as they appear
    problems: tuple[str, ...]
    complete: bool
    kinds: frozenset[str] = frozenset()  # every chunk type seen (e.g. "caBX" when C2PA is present)
    repeated: tuple[tuple[str, str], ...] = ()  # (key, value) of each later chunk whose key came before
    skipped_keys: tuple[str, ...] = ()          # keys of text chunks that were skipped (too big, damaged)


def read_text_chunks(data: bytes) -> PngTextChunks:
    """Walk the chunks of PNG ``data`` and decode its text chunks, never trusting a length.

    A chunk over ``MAX_TEXT_CHUNK`` (before or after decompression) is skipped with a problem
    noted; a repeated key keeps its first value in ``text`` and its later ones in ``repeated``
    (other readers may show the last). Nothing in a chunk is executed or evaluated.
    """
    text: dict[str, str] = {}
    repeated: list[tuple[str, str]] = []
    skipped: list[str] = []
    order: list[tuple[str, str]] = []
    problems: list[str] = []
    kinds: set[str] = set()
    if not data.startswith(PNG_SIGNATURE):
        return PngTextChunks({}, (), ("not a PNG file",), False)
    offset, total, complete, first = len(PNG_SIGNATURE), 0, False, True
    while offset + 8 <= len(data):
        length = int.from_bytes(data[offset:offset + 4], "big")
        kind = data[offset + 4:offset + 8]
        end = offset + 12 + length
        if first and kind != b"IHDR":
            problems.append("the PNG does not start with its header chunk")
            break
        first = False
        if length > 0x7FFFFFFF or end > len(data):
            problems.append(f"the file is cut short inside a {kind.decode('latin-1')!r} chunk")
            break
        kinds.add(kind.decode("latin-1"))
        if kind == b"IEND":
            complete = True
            break
        if kind in _TEXT_TYPES:
            body = data[offset + 8:offset + 8 + length]
            crc = int.from_bytes(data[offset + 8 + length:end], "big")
            name = kind.decode("ascii")
            if length > MAX_TEXT_CHUNK or total + length > MAX_TEXT_TOTAL:
                problems.append(f"a {name} chunk of {length:,} bytes was skipped (the limit is {MAX_TEXT_CHUNK:,})")
                skipped.append(_peek_key(body))
            elif zlib.crc32(kind + body) != crc:
                problems.append(f"a {name} chunk is damaged (CRC mismatch) and was skipped")
                skipped.append(_peek_key(body))
            else:
                total += length
                try:
                    key, value = _decode_text(kind, body)
                except ValueError as exc:
                    problems.append(f"a {name} chunk was skipped: {exc}")
                    skipped.append(_peek_key(body))
                else:
                    order.append((name, key))
                    if key in text:
                        problems.append(f"the text key {key[:79]!r} appears twice; the first one counts")
                        repeated.append((key, value))
                    else:
                        text[key] = value
        offset = end
    else:
        problems.append("the file is cut short (no end chunk)")
    return PngTextChunks(text, tuple(order), tuple(problems), complete, frozenset(kinds), tuple(repeated),
                         tuple(skipped))


def _peek_key(body: bytes) -> str:
    """The key of a text chunk that is not decoded (empty when it has none)."""
    key, sep, _rest = body[:80].partition(b"\0")
    return key.decode("latin-1") if sep else ""


def _inflate(compressed: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(compressed, MAX_TEXT_CHUNK)
    except zlib.error as exc:
        raise ValueError(f"its compressed text is damaged ({exc})") from exc
    if inflater.unconsumed_tail:
        raise ValueError(f"its text inflates past {MAX_TEXT_CHUNK:,} bytes")
    return out


def _decode_text(kind: bytes, body: bytes) -> tuple[str, str]:
    key_raw, sep, rest = body.partition(b"\0")
    if not sep or not 1 <= len(key_raw) <= 79:
        raise ValueError("its key is missing or longer than 79 bytes")
    key = key_raw.decode("latin-1")
    if kind == b"tEXt":
        return key, rest.decode("latin-1")
    if kind == b"zTXt":
        if not rest or rest[0] != 0:
            raise ValueError("it uses an unknown compression method")
        return key, _inflate(rest[1:]).decode("latin-1")
    if len(rest) < 2:
        raise ValueError("it is too short")
    compressed, method, rest = rest[0], rest[1], rest[2:]
    _language, sep1, rest = rest.partition(b"\0")
    _translated, sep2, raw = rest.partition(b"\0")
    if not (sep1 and sep2):
        raise ValueError("its language fields are not terminated")
    if compressed:
        if method != 0:
            raise ValueError("it uses an unknown compression method")
        raw = _inflate(raw)
    try:
        return key, raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError("its text is not UTF-8") from exc
