"""The pixel hash: which pixels a manifest describes, defined so that any decoder can recompute it.

``studio.provenance/2`` manifests use :func:`pixel_hash_v2`, written out in
docs/provenance-spec.md ("The pixel hash"): SHA-256 of ::

    "studio.pixels/2\\n" + "<width>x<height>\\n" + "<layout>\\n" + samples

``samples`` is every pixel (rows top to bottom, pixels left to right) as red, green, blue and, when
the image has alpha (an alpha channel, or a tRNS chunk), alpha: ``layout`` is ``RGB8``, ``RGBA8``,
``RGB16`` or ``RGBA16``, 16 when the PNG stores 16-bit samples (each sample is then two bytes,
big-endian). Greyscale is repeated into red, green and blue; 1, 2 and 4-bit grey are scaled to 8
bits (times 255, 85, 17); a palette image gives its palette's colours, and tRNS gives alpha (a
palette's alpha table, or a colour key for grey and truecolour, compared with the stored samples;
elsewhere alpha is the largest sample). Interlaced images are de-interlaced first. Colour
management (iCCP, sRGB, gAMA, cHRM, cICP) is not applied and not hashed: the samples as stored.
JPEG and WebP files hash the samples their decoder gives (exact for lossless WebP; a JPEG's depend
on the decoder).

``studio.provenance/1`` manifests use :func:`pixel_hash_v1`, Pillow's own view of the image (its
mode name, size, palette and raw bytes), which other decoders cannot reproduce for every PNG.

Pillow decodes 16-bit truecolour PNGs to 8 bits; to read all 16, the decoder is run twice over
the same tile, once keeping the high byte of each sample and once the low one (``RGB;16B`` and
``RGB;16L``): the unfiltering is the PNG decoder's, only the unpacking differs. 16-bit grey with
alpha is read with a raw 32-bit unpacker. tests/provenance/test_pixels.py checks every colour type
and bit depth, interlaced or not, against PNGs encoded by the tests themselves.
"""
from __future__ import annotations

import hashlib
import struct
import zlib
from dataclasses import dataclass
from typing import Any

from studio.errors import InputError
from studio.provenance.png_text import PNG_SIGNATURE

PIXELS_V2 = "studio.pixels/2"
#: Colour types (PNG IHDR) and the bit depths each allows.
PNG_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
_IMAGE_CHUNKS = (b"IHDR", b"PLTE", b"tRNS", b"IDAT")


@dataclass(frozen=True)
class PngHeader:
    """What a PNG says about its pixels, before any is decoded."""

    width: int
    height: int
    bit_depth: int
    colour_type: int
    interlaced: bool
    palette: bytes | None    # PLTE: RGB triples
    transparency: bytes | None  # tRNS as stored


def png_header(data: bytes, name: str = "the file") -> PngHeader:
    """IHDR, PLTE and tRNS of a PNG (chunks up to the first IDAT, CRCs checked).

    A damaged image chunk (a bad CRC, a chunk cut short, a missing IHDR) is an InputError: the
    file is unreadable, as the spec says, whatever a lenient decoder would make of it."""
    if not data.startswith(PNG_SIGNATURE):
        raise InputError(f"{name} is not a PNG.")
    offset = len(PNG_SIGNATURE)
    fields: dict[bytes, bytes] = {}
    while True:
        if offset + 8 > len(data):
            raise InputError(f"{name} ends before its image data.", hint="The file may be cut short.")
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        end = offset + 8 + length
        if end + 4 > len(data):
            raise InputError(f"{name} is cut short inside its {kind.decode('latin-1')!r} chunk.")
        if kind in _IMAGE_CHUNKS:
            crc = int.from_bytes(data[end:end + 4], "big")
            if zlib.crc32(data[offset + 4:end]) != crc:
                raise InputError(f"The {kind.decode('latin-1')} chunk of {name} is damaged (its CRC does not match).")
        if not fields and kind != b"IHDR":
            raise InputError(f"{name} does not start with an IHDR chunk.")
        if kind == b"IDAT":
            break
        if kind in _IMAGE_CHUNKS and kind not in fields:
            fields[kind] = data[offset + 8:end]
        offset = end + 4
    ihdr = fields[b"IHDR"]
    if len(ihdr) != 13:
        raise InputError(f"The IHDR chunk of {name} is {len(ihdr)} bytes, not 13.")
    width, height, depth, colour, _compression, _filter, interlace = struct.unpack(">IIBBBBB", ihdr)
    if depth not in PNG_DEPTHS.get(colour, ()):
        raise InputError(f"{name} declares colour type {colour} with bit depth {depth}, which PNG does not allow.")
    if width == 0 or height == 0 or interlace > 1:
        raise InputError(f"{name} declares an image of {width}x{height} pixels, interlace {interlace}.")
    palette = fields.get(b"PLTE")
    if colour == 3 and (palette is None or not palette or len(palette) % 3 or len(palette) > 768):
        raise InputError(f"{name} is a palette image without a valid palette (PLTE).")
    transparency = fields.get(b"tRNS")
    if transparency is not None:
        allowed = {0: len(transparency) == 2, 2: len(transparency) == 6,
                   3: palette is not None and len(transparency) <= len(palette) // 3}.get(colour, False)
        if not allowed:  # PNG forbids it; decoders differ on what they make of it
            raise InputError(f"The tRNS chunk of {name} ({len(transparency)} bytes) does not fit colour type {colour}.")
    return PngHeader(width, height, depth, colour, bool(interlace), palette if colour == 3 else None, transparency)


def pixel_hash_v2(width: int, height: int, layout: str, samples: Any) -> str:
    """SHA-256 (hex) of the ``studio.pixels/2`` header and the ``samples`` (bytes, or any contiguous
    buffer of them) in ``layout`` (``RGB8``, ``RGBA8``, ``RGB16`` or ``RGBA16``)."""
    digest = hashlib.sha256(f"{PIXELS_V2}\n{width}x{height}\n{layout}\n".encode("ascii"))
    digest.update(samples)
    return digest.hexdigest()


def pixel_hash_v1(image: Any) -> str:
    """``studio.provenance/1``: SHA-256 over Pillow's mode name, the size, the palette (palette
    images only) and Pillow's decoded bytes."""
    header = f"{image.mode}\n{image.width}x{image.height}\n".encode("ascii")
    digest = hashlib.sha256(header)
    if image.mode in ("P", "PA"):
        digest.update(bytes(image.getpalette() or ()))
    digest.update(image.tobytes())
    return digest.hexdigest()


def image_pixel_hash(image: Any) -> str:
    """The ``studio.pixels/2`` hash of an 8-bit image in memory (what the studio is about to save
    as PNG): the same as :func:`file_pixel_hash` of the PNG Pillow writes for it."""
    if image.mode not in ("1", "L", "LA", "P", "PA", "RGB", "RGBA"):
        raise InputError(f"An image in Pillow's mode {image.mode} has no 8-bit pixel hash.",
                         hint="Convert it to RGB or RGBA first.")
    alpha = image.mode in ("LA", "PA", "RGBA") or "transparency" in image.info
    if image.mode == "RGB" and not alpha:
        return pixel_hash_v2(image.width, image.height, "RGB8", image.tobytes())
    converted = image.convert("RGBA" if alpha else "RGB")
    return pixel_hash_v2(image.width, image.height, "RGBA8" if alpha else "RGB8", converted.tobytes())


def file_pixel_hash(data: bytes, image: Any = None, name: str = "the file") -> str:
    """The ``studio.pixels/2`` hash of an image file's bytes. ``image``: the file already decoded
    by Pillow, if at hand (spares decoding an 8-bit PNG twice)."""
    return pixel_hash_v2(*canonical_samples(data, image, name))


def canonical_samples(data: bytes, image: Any = None, name: str = "the file") -> tuple[int, int, str, bytes]:
    """``(width, height, layout, samples)`` as the pixel hash defines them: RGBA when the image has
    alpha (an alpha channel or tRNS), else RGB; 16-bit samples big-endian."""
    if not data.startswith(PNG_SIGNATURE):
        decoded = image if image is not None else _decode(data, name)
        alpha = decoded.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in decoded.info
        try:
            converted = decoded.convert("RGBA" if alpha else "RGB")
        except (ValueError, OSError) as exc:  # e.g. a float TIFF: no 8-bit form is defined
            raise InputError(f"{name} holds pixels of a kind the pixel hash does not define ({decoded.mode}).") \
                from exc
        return converted.width, converted.height, "RGBA8" if alpha else "RGB8", converted.tobytes()
    header = png_header(data, name)
    alpha = header.colour_type in (4, 6) or header.transparency is not None
    layout = ("RGBA" if alpha else "RGB") + ("16" if header.bit_depth == 16 else "8")
    if header.bit_depth == 16:
        values = _sixteen_bit(data, header, name)
        return header.width, header.height, layout, (values if alpha else values[..., :3]).astype(">u2").tobytes()
    decoded = image if image is not None else _decode(data, name)
    if not alpha and header.colour_type in (0, 2) and decoded.mode in ("1", "L", "RGB"):
        # Pillow's own conversion gives exactly these samples (grey repeated; 1, 2, 4-bit grey scaled)
        rgb = decoded if decoded.mode == "RGB" else decoded.convert("RGB")
        return header.width, header.height, layout, rgb.tobytes()
    if header.colour_type == 6 and decoded.mode == "RGBA":
        return header.width, header.height, layout, decoded.tobytes()
    rgba = _eight_bit(decoded, header, name)
    return header.width, header.height, layout, (rgba if alpha else rgba[..., :3]).tobytes()


def _decode(data: bytes, name: str) -> Any:
    from studio.provenance.embed import decode_image

    return decode_image(data, name)


def _eight_bit(image: Any, header: PngHeader, name: str) -> Any:
    """RGBA uint8 samples of a PNG of bit depth 1 to 8, from Pillow's decoded image."""
    import numpy as np

    height, width, colour, depth = header.height, header.width, header.colour_type, header.bit_depth
    out = np.empty((height, width, 4), dtype=np.uint8)
    if colour == 3:
        indices = np.asarray(image, dtype=np.uint8)
        palette = np.frombuffer(header.palette or b"", dtype=np.uint8).reshape(-1, 3)
        if int(indices.max()) >= len(palette):
            raise InputError(f"{name} uses palette entry {int(indices.max())}, but its palette has "
                             f"{len(palette)} entries.")
        alphas = np.full(len(palette), 255, dtype=np.uint8)
        table = (header.transparency or b"")[:len(palette)]
        alphas[:len(table)] = np.frombuffer(table, dtype=np.uint8)
        out[..., :3] = palette[indices]
        out[..., 3] = alphas[indices]
        return out
    if colour in (0, 4):
        grey = np.asarray(image.convert("L") if colour == 0 else image.getchannel("L"), dtype=np.uint8)
        out[..., 0] = out[..., 1] = out[..., 2] = grey
        if colour == 4:
            out[..., 3] = np.asarray(image.getchannel("A"), dtype=np.uint8)
            return out
        out[..., 3] = 255
        key = _colour_key(header, 1)
        if key is not None and key[0] < 2**depth:
            out[..., 3][grey == key[0] * (255 // (2**depth - 1))] = 0
        return out
    rgb = np.asarray(image.convert("RGBA") if colour == 6 else image, dtype=np.uint8)
    if colour == 6:
        return rgb.copy()
    out[..., :3] = rgb
    out[..., 3] = 255
    key = _colour_key(header, 3)
    if key is not None and max(key) < 256:
        out[..., 3][np.all(rgb == np.array(key, dtype=np.uint8), axis=-1)] = 0
    return out


def _colour_key(header: PngHeader, count: int) -> tuple[int, ...] | None:
    """The tRNS colour key of a grey (1 value) or truecolour (3 values) PNG, or None."""
    if header.transparency is None or len(header.transparency) < 2 * count:
        return None
    return struct.unpack(f">{count}H", header.transparency[:2 * count])


def _sixteen_bit(data: bytes, header: PngHeader, name: str) -> Any:
    """RGBA uint16 samples of a 16-bit PNG (see the module's note on how Pillow is made to give them)."""
    import numpy as np

    height, width, colour = header.height, header.width, header.colour_type
    out = np.empty((height, width, 4), dtype=np.uint16)
    if colour == 0:
        grey = np.asarray(_decode_as(data, name, None), dtype=np.uint16)  # I;16: values, native order
        out[..., 0] = out[..., 1] = out[..., 2] = grey
        out[..., 3] = 65535
        key = _colour_key(header, 1)
        if key is not None:
            out[..., 3][grey == key[0]] = 0
        return out
    if colour == 4:  # L and A, two bytes each: a raw 32-bit copy gives L_hi, L_lo, A_hi, A_lo
        raw = np.asarray(_decode_as(data, name, "RGBA"), dtype=np.uint16)
        out[..., 0] = out[..., 1] = out[..., 2] = (raw[..., 0] << 8) | raw[..., 1]
        out[..., 3] = (raw[..., 2] << 8) | raw[..., 3]
        return out
    mode = "RGB" if colour == 2 else "RGBA"
    high = np.asarray(_decode_as(data, name, f"{mode};16B"), dtype=np.uint16)
    low = np.asarray(_decode_as(data, name, f"{mode};16L"), dtype=np.uint16)
    values = (high << 8) | low
    if colour == 6:
        return values
    out[..., :3] = values
    out[..., 3] = 65535
    key = _colour_key(header, 3)
    if key is not None:
        out[..., 3][np.all(values == np.array(key, dtype=np.uint16), axis=-1)] = 0
    return out


def _decode_as(data: bytes, name: str, rawmode: str | None) -> Any:
    """The PNG decoded by Pillow (a bomb refused before decoding), its tile's unpacker replaced by
    ``rawmode`` when given."""
    from studio.safeimage import open_image

    with open_image(data, what=name, formats=("PNG",)) as image:
        if rawmode is not None:
            decoder: Any = image  # a PngImageFile: its tile names the unpacker
            decoder.tile = [tile._replace(args=rawmode) for tile in decoder.tile]
        image.load()
        return image.copy()
