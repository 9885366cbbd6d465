"""Outpainting: the init image on a larger canvas and the mask of what is to be painted.

The new area starts as the image's edge pixels stretched outwards and blurred (A1111's "fill"), so
that the inpaint continues colours rather than inventing them from grey; the mask covers the new area
and ``overlap`` pixels of the original along each new edge, so that the seam is repainted too.
"""
from __future__ import annotations

from typing import Any

from studio.errors import InputError
from studio.generation.request import Outpaint

MAX_EXTEND = 2048


def check_outpaint(outpaint: Outpaint, image_size: tuple[int, int], request_size: tuple[int, int]) -> None:
    sides = (outpaint.left, outpaint.right, outpaint.top, outpaint.bottom)
    if any(not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= MAX_EXTEND for v in sides) or not any(sides):
        raise InputError("Outpainting extends each side by 0 to 2048 pixels, and at least one side by more than 0.")
    if not 0 <= outpaint.overlap <= 64:
        raise InputError(f"An outpaint overlap of {outpaint.overlap} pixels is out of range.", hint="Use 0 to 64 (8 is usual).")
    canvas = outpaint.canvas_size(image_size)
    if canvas[0] % 8 or canvas[1] % 8:
        raise InputError(f"The extended picture would be {canvas[0]}x{canvas[1]}, not a multiple of 8.",
                         hint="Extend the sides so that the width and the height are multiples of 8.")
    if canvas != request_size:
        raise InputError(f"The request's size {request_size[0]}x{request_size[1]} is not the extended picture's "
                         f"{canvas[0]}x{canvas[1]}.", hint="Set the width and height to the extended size.")


def outpaint_canvas(image: Any, outpaint: Outpaint) -> tuple[Any, Any]:
    """(canvas RGB, mask L: white = paint) for ``image`` extended by ``outpaint``."""
    import numpy as np
    from PIL import Image
    from scipy import ndimage

    rgb = np.asarray(image.convert("RGB"), dtype=np.float32)
    pad = ((outpaint.top, outpaint.bottom), (outpaint.left, outpaint.right), (0, 0))
    stretched = np.pad(rgb, pad, mode="edge")
    blurred = np.stack([ndimage.gaussian_filter(stretched[..., c], sigma=8.0) for c in range(3)], axis=-1)
    new_area = np.ones(stretched.shape[:2], dtype=bool)
    height, width = rgb.shape[:2]
    new_area[outpaint.top:outpaint.top + height, outpaint.left:outpaint.left + width] = False
    canvas = np.where(new_area[..., None], blurred, stretched).clip(0, 255).round().astype(np.uint8)
    mask = new_area.copy()
    o = outpaint.overlap
    top, left = outpaint.top, outpaint.left
    if outpaint.top:
        mask[top:top + o, left:left + width] = True
    if outpaint.bottom:
        mask[top + height - o:top + height, left:left + width] = True
    if outpaint.left:
        mask[top:top + height, left:left + o] = True
    if outpaint.right:
        mask[top:top + height, left + width - o:left + width] = True
    return Image.fromarray(canvas, mode="RGB"), Image.fromarray((mask * 255).astype(np.uint8), mode="L")
