"""PNG text chunks: the recipe travels inside the image.

Latin-1 text goes into ``tEXt`` chunks (A1111's ``parameters`` is read there by sites such as
Civitai, which miss ``iTXt``); anything else into UTF-8 ``iTXt``. Files are written atomically.
"""
from __future__ import annotations

import io
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
    """All text chunks (tEXt, zTXt, iTXt) of the PNG at ``path``."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise NotFound(f"The file {path} does not exist.")
    try:
        with Image.open(path) as image:
            if image.format != "PNG":
                raise InputError(f"{path.name} is a {image.format or 'non-PNG'} file, not a PNG.",
                                 hint="Recipes are read from PNG files made by the studio or A1111.")
            image.load()
            return {str(k): str(v) for k, v in image.text.items()}
    except (UnidentifiedImageError, SyntaxError, ValueError, OSError) as exc:
        raise InputError(f"{path.name} is not a readable PNG image ({exc}).",
                         hint="The file may be damaged or of another kind.") from exc
