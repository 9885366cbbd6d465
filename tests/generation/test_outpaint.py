"""Outpainting: the init image extended on a larger canvas, the new area (and a seam) painted, the
extension recorded, and the work reproduced exactly from the original picture."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio.errors import InputError
from studio.generation.engine import Engine, image_sha256
from studio.generation.outpaint import outpaint_canvas
from studio.generation.request import Outpaint

from options_helpers import round_trip, small


def picture() -> Image.Image:
    image = Image.new("RGB", (64, 64), (30, 120, 200))
    image.paste((220, 60, 40), (0, 0, 64, 20))
    return image


def test_the_canvas_keeps_the_picture_and_stretches_its_edges_into_the_new_area() -> None:
    canvas, mask = outpaint_canvas(picture(), Outpaint(right=32, top=16, overlap=8))
    assert canvas.size == mask.size == (96, 80)
    pixels, painted = np.asarray(canvas), np.asarray(mask) > 0
    assert np.array_equal(pixels[16:80, 0:64], np.asarray(picture()))
    assert painted[:16].all() and painted[:, 64:].all()                 # the new area
    assert painted[16:24, :64].all() and painted[16:, 56:64].all()      # the seams
    assert not painted[24:80, 0:56].any()                               # the rest of the picture is kept
    assert abs(int(pixels[60, 90, 2]) - 200) < 40                       # the blue continues to the right


def test_outpainting_makes_the_larger_image_and_records_the_extension(engine: Engine) -> None:
    outpaint = Outpaint(left=0, right=32, top=0, bottom=0)
    result = engine.generate(small(init_image=picture(), outpaint=outpaint, width=96, height=64, strength=1.0,
                                   steps=2))[0]
    assert result.image.size == (96, 64)
    recipe = result.recipe
    assert recipe.mode == "inpaint" and recipe.outpaint == outpaint
    assert recipe.init_image_hash == image_sha256(picture()) and recipe.mask_hash is None
    assert recipe.settings()["outpaint"] == {"left": 0, "right": 32, "top": 0, "bottom": 0, "overlap": 8}


def test_outpaint_settings_that_cannot_work_are_refused(engine: Engine) -> None:
    with pytest.raises(InputError, match="size 64x64 is not the extended"):
        engine.validate(small(init_image=picture(), outpaint=Outpaint(right=32)))
    with pytest.raises(InputError, match="multiple of 8"):
        engine.validate(small(init_image=picture(), outpaint=Outpaint(right=30), width=96))
    with pytest.raises(InputError, match="makes its own mask"):
        engine.validate(small(init_image=picture(), mask_image=Image.new("L", (64, 64)),
                              outpaint=Outpaint(right=32), width=96))
    with pytest.raises(InputError, match="at least one side"):
        engine.validate(small(init_image=picture(), outpaint=Outpaint()))


def test_an_outpainted_work_reproduces_exactly_from_the_original(engine: Engine, tmp_path: Path) -> None:
    picture().save(tmp_path / "original.png")
    request = small(init_image=picture(), outpaint=Outpaint(left=16, bottom=16), width=80, height=80,
                    strength=1.0, steps=2)
    [reproduction] = round_trip(request, engine, tmp_path / "works", inputs={"init": tmp_path / "original.png"})
    assert (reproduction.method, reproduction.match) == ("exact", True)


def test_the_original_is_kept_outside_the_seam_with_the_inpaint_options(engine: Engine) -> None:
    for options in (dict(), dict(mask_blur=0, inpaint_area="masked", inpaint_padding=16)):
        result = engine.generate(small(init_image=picture(), outpaint=Outpaint(right=32), width=96, height=64,
                                       strength=1.0, steps=2, **options))[0]
        kept = np.asarray(result.image)[:, :40]
        assert np.array_equal(kept, np.asarray(picture())[:, :40])  # composited back, not re-encoded
        assert result.recipe.inpaint_area == options.get("inpaint_area", "whole")
