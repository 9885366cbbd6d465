"""Image files whose headers declare far more pixels than anyone should decode (decompression bombs),
made byte by byte in a few hundred bytes each (imported by name; the tests folder has no packages)."""
from __future__ import annotations

import io
import struct
import zlib


def bomb_png(width: int = 60_000, height: int = 60_000) -> bytes:
    """A PNG header claiming 3.6 gigapixels over a few bytes of zeros."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + \
        chunk(b"IEND", b"")


def bomb_bmp(width: int = 50_000, height: int = 50_000) -> bytes:
    """A 24-bit BMP whose info header declares 2.5 gigapixels; the pixel array is absent."""
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + len(info), 0, 0, 14 + len(info)) + info


def bomb_gif(width: int = 65_535, height: int = 65_535) -> bytes:
    """A GIF whose logical screen and one frame declare 4.3 gigapixels, with one byte of LZW data."""
    screen = struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0) + b"\x02\x02\x44\x01\x00"
    return b"GIF89a" + screen + frame + b"\x3b"


def bomb_jpeg(width: int = 65_535, height: int = 65_535) -> bytes:
    """A baseline JPEG whose frame header (SOF0) declares 4.3 gigapixels; no scan data."""
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    sos = b"\xff\xda" + struct.pack(">HB", 12, 3) + b"\x01\x00\x02\x11\x03\x11\x00\x3f\x00"
    return b"\xff\xd8" + sof + sos + b"\x00" * 16 + b"\xff\xd9"


def bomb_webp(width: int = 16_383, height: int = 16_383) -> bytes:
    """An animated WebP whose canvas (VP8X) declares 268 megapixels around one tiny frame."""
    from PIL import Image

    small = io.BytesIO()
    Image.new("RGB", (1, 1), (200, 10, 10)).save(small, format="WEBP", lossless=True)
    frame_chunks = small.getvalue()[12:]  # the VP8L chunk of a 1×1 image

    def chunk(kind: bytes, body: bytes) -> bytes:
        return kind + struct.pack("<I", len(body)) + body + (b"\0" if len(body) % 2 else b"")

    def u24(value: int) -> bytes:
        return struct.pack("<I", value)[:3]

    vp8x = chunk(b"VP8X", bytes([0x02, 0, 0, 0]) + u24(width - 1) + u24(height - 1))
    anim = chunk(b"ANIM", b"\0\0\0\0" + b"\0\0")
    anmf = chunk(b"ANMF", u24(0) + u24(0) + u24(0) + u24(0) + u24(100) + b"\0" + frame_chunks)
    body = b"WEBP" + vp8x + anim + anmf
    return b"RIFF" + struct.pack("<I", len(body)) + body


BOMBS = {"png": bomb_png, "bmp": bomb_bmp, "gif": bomb_gif, "jpg": bomb_jpeg, "webp": bomb_webp}
