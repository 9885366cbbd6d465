"""The studio.pixels/2 hash follows its written definition for every kind of PNG: each colour type and
bit depth, palettes and tRNS, 16-bit samples and Adam7 interlacing, encoded by the tests' own encoder
(not Pillow) and compared with what the definition gives from the stored samples."""
from __future__ import annotations

import io
import struct

import pytest
from PIL import Image

from studio.errors import InputError
from studio.provenance.pixels import PNG_DEPTHS, canonical_samples, file_pixel_hash, image_pixel_hash, pixel_hash_v2

from png_encoder import RawImage, encode, expected_samples, random_image

CASES = [(colour, depth) for colour, depths in PNG_DEPTHS.items() for depth in depths]


def _with_key(image: RawImage) -> RawImage:
    """A grey or truecolour image with a tRNS colour key that its first pixel matches."""
    count = 1 if image.colour_type == 0 else 3
    key = tuple(min(v, 2**image.bit_depth - 1) for v in (1, 2, 3)[:count])
    rows = [list(row) for row in image.pixels]
    rows[0][0] = key
    return RawImage(image.width, image.height, image.colour_type, image.bit_depth,
                    tuple(tuple(row) for row in rows), None, struct.pack(f">{count}H", *key))


@pytest.mark.parametrize("colour, depth, trns", [(c, d, t) for c, d in CASES for t in (False, True)
                                                  if not (t and c in (4, 6))])  # tRNS only without alpha
@pytest.mark.parametrize("interlace", [False, True], ids=["progressive", "adam7"])
def test_every_colour_type_and_depth_hashes_as_the_definition_says(colour: int, depth: int, interlace: bool,
                                                                   trns: bool) -> None:
    palette = min(2**depth, 6) if colour == 3 else 0
    image = random_image(13, 9, colour, depth, seed=colour * 100 + depth, palette_size=palette,
                         transparency=bytes([0, 77, 200])[:palette] if colour == 3 and trns else None)
    if colour in (0, 2) and trns:
        image = _with_key(image)
    data = encode(image, interlace=interlace, first_filter=depth % 5)
    layout, samples = expected_samples(image)
    assert canonical_samples(data) == (13, 9, layout, samples)
    assert file_pixel_hash(data) == pixel_hash_v2(13, 9, layout, samples)


def test_sixteen_bit_samples_count_in_full_and_big_endian() -> None:
    image = random_image(5, 4, 2, 16, seed=3)
    rows = [list(row) for row in image.pixels]
    low_only = list(rows[1][2])
    low_only[0] ^= 1  # a change in the low byte of one sample: invisible on screen, still a change
    rows[1][2] = tuple(low_only)
    changed = RawImage(5, 4, 2, 16, tuple(tuple(row) for row in rows))
    assert file_pixel_hash(encode(image)) != file_pixel_hash(encode(changed))
    layout, samples = expected_samples(image)
    assert layout == "RGB16" and samples[:2] == struct.pack(">H", image.pixels[0][0][0])


def test_the_in_memory_hash_is_the_hash_of_the_png_pillow_writes() -> None:
    for mode in ("RGB", "RGBA", "L", "LA", "P", "1"):
        image = Image.effect_noise((17, 11), 60).convert(mode)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        assert image_pixel_hash(image) == file_pixel_hash(buffer.getvalue()), mode


def test_metadata_and_colour_chunks_are_not_pixels() -> None:
    image = random_image(6, 6, 2, 8, seed=1)
    plain = encode(image)
    profiled = encode(image, extra_chunks=((b"gAMA", struct.pack(">I", 45455)), (b"sRGB", b"\x00"),
                                           (b"tEXt", b"Comment\x00hello")))
    assert file_pixel_hash(plain) == file_pixel_hash(profiled)
    assert file_pixel_hash(plain) == file_pixel_hash(encode(image, interlace=True, first_filter=3))


def test_a_damaged_image_chunk_or_palette_index_is_refused() -> None:
    data = bytearray(encode(random_image(4, 4, 2, 8, seed=2)))
    data[16] ^= 1  # inside IHDR: the CRC no longer matches
    with pytest.raises(InputError, match="CRC"):
        canonical_samples(bytes(data))
    image = random_image(4, 4, 3, 8, seed=2, palette_size=4)
    rows = [list(row) for row in image.pixels]
    rows[3][3] = (9,)  # past the four-entry palette
    beyond = RawImage(4, 4, 3, 8, tuple(tuple(row) for row in rows), image.palette)
    with pytest.raises(InputError, match="palette"):
        canonical_samples(encode(beyond))
    too_long = RawImage(4, 4, 3, 8, image.pixels, image.palette, bytes(5))  # PNG allows one alpha per entry
    with pytest.raises(InputError, match="tRNS"):
        canonical_samples(encode(too_long))
    with pytest.raises(InputError, match="tRNS"):
        canonical_samples(encode(RawImage(4, 4, 6, 8, random_image(4, 4, 6, 8).pixels, None, bytes(2))))
