"""A small PNG encoder of the tests' own, independent of Pillow: every colour type and bit depth,
the five filters, Adam7 interlacing, PLTE and tRNS. With `expected_rgba` it gives what the pixel
hash must be computed over, straight from the samples (docs/provenance-spec.md), so that a
decoder's output is checked against the definition, not against another decoder.
"""
from __future__ import annotations

import random
import struct
import zlib
from dataclasses import dataclass

CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


@dataclass(frozen=True)
class RawImage:
    """Samples as a PNG stores them: ``pixels[y][x]`` is a tuple of ``CHANNELS[colour_type]`` ints."""

    width: int
    height: int
    colour_type: int
    bit_depth: int
    pixels: tuple[tuple[tuple[int, ...], ...], ...]
    palette: bytes | None = None
    transparency: bytes | None = None


def random_image(width: int, height: int, colour_type: int, bit_depth: int, *, seed: int = 0,
                 palette_size: int = 0, transparency: bytes | None = None) -> RawImage:
    rng = random.Random(seed)
    top = (palette_size or 2**bit_depth) - 1 if colour_type == 3 else 2**bit_depth - 1
    pixels = tuple(tuple(tuple(rng.randint(0, top) for _ in range(CHANNELS[colour_type])) for _ in range(width))
                   for _ in range(height))
    palette = bytes(rng.randrange(256) for _ in range(3 * palette_size)) if colour_type == 3 else None
    return RawImage(width, height, colour_type, bit_depth, pixels, palette, transparency)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _row_bytes(row: list[tuple[int, ...]], depth: int) -> bytes:
    samples = [value for pixel in row for value in pixel]
    if depth == 16:
        return b"".join(struct.pack(">H", value) for value in samples)
    if depth == 8:
        return bytes(samples)
    per_byte = 8 // depth
    out = bytearray()
    for start in range(0, len(samples), per_byte):
        group = samples[start:start + per_byte]
        byte = 0
        for index, value in enumerate(group):
            byte |= value << (8 - depth * (index + 1))
        out.append(byte)
    return bytes(out)


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def _filter(kind: int, line: bytes, prior: bytes, bpp: int) -> bytes:
    out = bytearray()
    for i, value in enumerate(line):
        a = line[i - bpp] if i >= bpp else 0
        b = prior[i] if prior else 0
        c = prior[i - bpp] if prior and i >= bpp else 0
        predictor = (0, a, b, (a + b) // 2, _paeth(a, b, c))[kind]
        out.append((value - predictor) & 0xFF)
    return bytes([kind]) + bytes(out)


def _scanlines(image: RawImage, rows: list[list[tuple[int, ...]]], first_filter: int) -> bytes:
    bpp = max(1, CHANNELS[image.colour_type] * image.bit_depth // 8)
    out = bytearray()
    prior = b""
    for index, row in enumerate(rows):
        line = _row_bytes(row, image.bit_depth)
        out += _filter((first_filter + index) % 5, line, prior, bpp)
        prior = line
    return bytes(out)


def encode(image: RawImage, *, interlace: bool = False, first_filter: int = 0,
           extra_chunks: tuple[tuple[bytes, bytes], ...] = ()) -> bytes:
    """The PNG file of ``image``: filters cycle None, Sub, Up, Average, Paeth row by row."""
    ihdr = struct.pack(">IIBBBBB", image.width, image.height, image.bit_depth, image.colour_type, 0, 0,
                       int(interlace))
    rows = [list(row) for row in image.pixels]
    if interlace:
        data = b""
        for x0, y0, dx, dy in ADAM7:
            sub = [row[x0::dx] for row in rows[y0::dy]]
            if sub and sub[0]:
                data += _scanlines(image, sub, first_filter)
    else:
        data = _scanlines(image, rows, first_filter)
    out = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr)
    for kind, body in extra_chunks:
        out += _chunk(kind, body)
    if image.palette is not None:
        out += _chunk(b"PLTE", image.palette)
    if image.transparency is not None:
        out += _chunk(b"tRNS", image.transparency)
    compressed = zlib.compress(data, 9)
    out += _chunk(b"IDAT", compressed[: len(compressed) // 2]) + _chunk(b"IDAT", compressed[len(compressed) // 2:])
    return out + _chunk(b"IEND", b"")


def expected_samples(image: RawImage) -> tuple[str, bytes]:
    """(layout, samples) of the spec's pixel hash, computed from the stored samples."""
    depth = 16 if image.bit_depth == 16 else 8
    has_alpha = image.colour_type in (4, 6) or image.transparency is not None
    top = 65535 if depth == 16 else 255
    key: tuple[int, ...] | None = None
    if image.transparency is not None and image.colour_type in (0, 2):
        count = 1 if image.colour_type == 0 else 3
        key = struct.unpack(f">{count}H", image.transparency[:2 * count])
    out = bytearray()
    for row in image.pixels:
        for pixel in row:
            if image.colour_type == 3:
                index = pixel[0]
                assert image.palette is not None
                rgb = tuple(image.palette[3 * index:3 * index + 3])
                table = image.transparency or b""
                rgba = (*rgb, table[index] if index < len(table) else 255)
            elif image.colour_type in (0, 4):
                grey = pixel[0]
                scaled = grey * (255 // (2**image.bit_depth - 1)) if image.bit_depth < 8 else grey
                alpha = pixel[1] if image.colour_type == 4 else (0 if key == (grey,) else top)
                rgba = (scaled, scaled, scaled, alpha)
            else:
                alpha = pixel[3] if image.colour_type == 6 else (0 if key == tuple(pixel) else top)
                rgba = (*pixel[:3], alpha)
            for value in rgba if has_alpha else rgba[:3]:
                out += struct.pack(">H", value) if depth == 16 else bytes([value])
    return ("RGBA" if has_alpha else "RGB") + str(depth), bytes(out)
