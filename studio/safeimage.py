"""Images from outside (files to mint or verify, reference photos, a stranger's token image), opened
with bounds: at most ``max_bytes`` read (never a FIFO or a device), the pixel count the header
declares checked against ``max_pixels`` *before* anything is decoded, and every way Pillow fails
on a damaged or hostile file turned into one :class:`~studio.errors.InputError` naming the file.

Pillow's own decompression-bomb check only warns between its limit and twice it, and raises
``DecompressionBombError`` (not an ``OSError``) above; a BMP, GIF, JPEG or WebP header of a few
bytes can declare billions of pixels. Here any image over ``max_pixels`` is refused alike::

    with open_image(path, what=path.name) as image:   # header read, size checked, nothing decoded
        image.load()
    width, height = image_size(data, what="row 3's file")   # opened and verified, never decoded
"""
from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Sequence

from studio.errors import InputError, StudioError

if TYPE_CHECKING:
    from PIL.Image import Image

#: Pillow's own default limit (``Image.MAX_IMAGE_PIXELS``): about 0.25 GiB of 24-bit pixels.
MAX_PIXELS = 89_478_485
#: The largest image file read from disk (a 16k×16k PNG of noise is about 1 GiB; real art is far smaller).
MAX_FILE_BYTES = 512 * 1024 * 1024


class ImageBomb(InputError):
    """An image whose header declares more pixels than the studio decodes (a decompression bomb)."""


def read_image_file(path: Path | str, *, what: str | None = None, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """An image file's bytes: a regular file of at most `max_bytes` (never a FIFO or /dev/zero)."""
    from studio.fileio import read_bounded

    return read_bounded(path, max_bytes, what=what or f"The image {Path(path).name}")


@contextlib.contextmanager
def open_image(source: bytes | bytearray | memoryview | Path | str, *, what: str | None = None,
               max_pixels: int = MAX_PIXELS, formats: Sequence[str] | None = None,
               max_bytes: int = MAX_FILE_BYTES) -> Iterator["Image"]:
    """Open an image from bytes or a path with its declared size checked; nothing is decoded yet.

    Inside the ``with`` block, Pillow errors raised while decoding (``load()``, ``convert()``,
    ``verify()``) are turned into InputError too. ``formats`` limits the decoders tried
    (e.g. ``("PNG", "JPEG", "GIF", "WEBP")``). Raises :class:`ImageBomb` for too many pixels,
    InputError for anything unreadable, NotFound for a missing path.
    """
    from PIL import Image

    if isinstance(source, (str, Path)):
        label = what or Path(source).name
        data = read_image_file(source, what=f"The image {label}", max_bytes=max_bytes)
    else:
        label = what or "the image"
        data = bytes(source)
        if len(data) > max_bytes:
            raise InputError(f"{label} is {len(data):,} bytes, over the limit of {max_bytes:,}; not read.")
    try:
        with warnings.catch_warnings():  # between the limit and twice it Pillow only warns: refused below instead
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=tuple(formats) if formats else None)
    except Image.DecompressionBombError as exc:
        raise ImageBomb(f"{label} declares far more pixels than the studio decodes ({_reason(exc)}); "
                        "not decoded (a decompression bomb?).") from exc
    except Exception as exc:  # Pillow raises many kinds (OSError, SyntaxError, struct.error...) for bad files
        raise InputError(f"{label} is not an image the studio can read ({_reason(exc)}).",
                         hint="Use a PNG, JPEG or WebP file.") from exc
    try:
        width, height = image.size
        if width <= 0 or height <= 0:
            raise InputError(f"{label} declares an empty image ({width}×{height}).")
        if width * height > max_pixels:
            raise ImageBomb(f"{label} declares {width:,}×{height:,} = {width * height:,} pixels, over the limit of "
                            f"{max_pixels:,}; not decoded (a decompression bomb?).",
                            hint="Use an image of at most about "
                                 f"{int(max_pixels ** 0.5):,}×{int(max_pixels ** 0.5):,} pixels.")
        try:
            yield image
        except (StudioError, AttributeError, NameError, AssertionError):
            raise  # the studio's own errors, and bugs in the caller's block, go through as they are
        except Image.DecompressionBombError as exc:
            raise ImageBomb(f"{label} holds more pixels than the studio decodes ({_reason(exc)}).") from exc
        except Exception as exc:  # the decoders' many kinds: OSError, SyntaxError, struct.error, IndexError...
            raise InputError(f"{label} is damaged: it could not be decoded ({_reason(exc)}).",
                             hint="Use an intact PNG, JPEG or WebP file.") from exc
    finally:
        image.close()


def image_size(source: bytes | bytearray | memoryview | Path | str, *, what: str | None = None,
               max_pixels: int = MAX_PIXELS, formats: Sequence[str] | None = None) -> tuple[int, int]:
    """(width, height) of an image whose structure Pillow verified, without decoding its pixels."""
    with open_image(source, what=what, max_pixels=max_pixels, formats=formats) as image:
        size = image.size
        image.verify()
    return size


def load_image(source: bytes | bytearray | memoryview | Path | str, *, what: str | None = None,
               max_pixels: int = MAX_PIXELS, formats: Sequence[str] | None = None) -> "Image":
    """The image decoded in full (a truncated file fails here, not later), detached from its source."""
    with open_image(source, what=what, max_pixels=max_pixels, formats=formats) as image:
        image.load()
        return image.copy()


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    return text if len(text) <= 120 else text[:119] + "…"
