"""Inpainting as AUTOMATIC1111 does it around the pipeline: a feathered mask, an optional padded
crop painted at full resolution ("only masked"), and the original pasted back outside the mask.

A diffusion pipeline re-encodes the whole picture through the VAE, so even pixels far from the mask
come back changed. `composite` puts the original pixels back wherever the feathered mask is 0, and
blends over the feather, so only the masked area (and its soft edge) is new.

    plan = plan_inpaint(init, mask, InpaintOptions(mask_blur=4, area="masked", padding=32), 512, 512)
    painted = pipe(image=plan.image, mask_image=plan.mask, ...).images[0]
    final = composite(init, painted, plan)

Everything here is plain PIL and NumPy and deterministic, so the same inputs and options give the
same pixels (what reproducing a work relies on).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from studio.errors import InputError

if TYPE_CHECKING:
    from PIL.Image import Image

WHOLE, MASKED = "whole", "masked"
AREAS = {WHOLE: "Whole picture", MASKED: "Only masked"}
MAX_MASK_BLUR = 64
MAX_PADDING = 256
DEFAULT_MASK_BLUR = 4
DEFAULT_PADDING = 32


@dataclass(frozen=True)
class InpaintOptions:
    """How the mask is used: ``mask_blur`` feathers its edge (pixels); ``area`` is ``"whole"``
    (paint the whole picture) or ``"masked"`` (paint only the mask's box grown by ``padding``
    pixels, scaled up to the requested size, then scaled back and pasted)."""

    mask_blur: int = DEFAULT_MASK_BLUR
    area: str = WHOLE
    padding: int = DEFAULT_PADDING

    def check(self) -> None:
        if not isinstance(self.mask_blur, int) or not 0 <= self.mask_blur <= MAX_MASK_BLUR:
            raise InputError(f"The mask blur must be 0 to {MAX_MASK_BLUR} pixels, not {self.mask_blur}.")
        if self.area not in AREAS:
            raise InputError(f"{self.area!r} is not an inpaint area.", hint="Use “whole” or “masked”.")
        if not isinstance(self.padding, int) or not 0 <= self.padding <= MAX_PADDING:
            raise InputError(f"The masked area padding must be 0 to {MAX_PADDING} pixels, not {self.padding}.")


@dataclass(frozen=True)
class InpaintPlan:
    """What the pipeline paints (``image`` and ``mask`` at the requested size) and how its output
    goes back: into ``box`` of the original (None: the whole picture), blended by ``feather``."""

    image: "Image"
    mask: "Image"
    feather: "Image"                       # the blurred mask at the original's size (L)
    box: tuple[int, int, int, int] | None  # left, top, right, bottom in the original


def feathered(mask: "Image", blur: int) -> "Image":
    """The mask (L, white = repaint) with its edge softened by a Gaussian blur of ``blur`` pixels."""
    from PIL import ImageFilter

    mask = mask.convert("L")
    return mask.filter(ImageFilter.GaussianBlur(blur)) if blur > 0 else mask


def crop_box(mask: "Image", padding: int, width: int, height: int) -> tuple[int, int, int, int]:
    """The box around the mask's painted pixels grown by ``padding`` and then to the aspect ratio
    of ``width``×``height`` (so the crop is not distorted when scaled), kept inside the image."""
    image_w, image_h = mask.size
    found = mask.point(lambda v: 255 if v > 0 else 0).getbbox()
    if found is None:
        return 0, 0, image_w, image_h
    left, top, right, bottom = found
    left, top = max(0, left - padding), max(0, top - padding)
    right, bottom = min(image_w, right + padding), min(image_h, bottom + padding)
    box_w, box_h = right - left, bottom - top
    ratio = width / height
    if box_w / box_h < ratio:  # too narrow: widen around the centre
        box_w = min(image_w, round(box_h * ratio))
    else:                      # too flat: heighten around the centre
        box_h = min(image_h, round(box_w / ratio))
    centre_x, centre_y = (left + right) / 2, (top + bottom) / 2
    left = int(min(max(0, round(centre_x - box_w / 2)), image_w - box_w))
    top = int(min(max(0, round(centre_y - box_h / 2)), image_h - box_h))
    return left, top, left + box_w, top + box_h


def plan_inpaint(init: "Image", mask: "Image", options: InpaintOptions, width: int, height: int) -> InpaintPlan:
    """What to give the pipeline for ``init`` (RGB) and ``mask`` (L) of the same size."""
    from PIL import Image as PILImage

    options.check()
    feather = feathered(mask, options.mask_blur)
    if options.area == WHOLE:
        return InpaintPlan(init, feather, feather, None)
    box = crop_box(feather, options.padding, width, height)
    image = init.crop(box).resize((width, height), PILImage.Resampling.LANCZOS)
    crop_mask = feather.crop(box).resize((width, height), PILImage.Resampling.BILINEAR)
    return InpaintPlan(image, crop_mask, feather, box)


def composite(init: "Image", painted: "Image", plan: InpaintPlan) -> "Image":
    """The original with the painted area blended in by the feathered mask: unchanged where it is 0."""
    from PIL import Image as PILImage

    init = init.convert("RGB")
    painted = painted.convert("RGB")
    if plan.box is not None:
        left, top, right, bottom = plan.box
        canvas = init.copy()
        canvas.paste(painted.resize((right - left, bottom - top), PILImage.Resampling.LANCZOS), (left, top))
        painted = canvas
    elif painted.size != init.size:
        painted = painted.resize(init.size, PILImage.Resampling.LANCZOS)
    return PILImage.composite(painted, init, plan.feather)
