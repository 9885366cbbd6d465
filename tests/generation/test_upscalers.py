"""Upscaler model files of the ESRGAN family (built here with random weights in the real layouts),
Lanczos, and the errors for files that are not upscalers."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio.errors import InputError, ModelError, NotFound
from studio.generation.upscalers import load_upscaler, upscale_image

from tiny_upscalers import compact_state, rrdb_state, save, to_old_esrgan


def picture(size: int = 16) -> Image.Image:
    return Image.fromarray(np.random.default_rng(1).integers(0, 255, (size, size, 3), dtype=np.uint8))


def test_an_esrgan_file_loads_as_a_4x_upscaler(tmp_path: Path) -> None:
    model = load_upscaler(save(rrdb_state(), tmp_path / "4x-tiny.safetensors"))
    assert (model.architecture, model.scale) == ("ESRGAN", 4)
    out = model.upscale(picture())
    assert out.size == (64, 64) and out.mode == "RGB"
    assert np.array_equal(np.asarray(out), np.asarray(model.upscale(picture())))


def test_the_original_esrgan_layout_reads_as_the_same_network(tmp_path: Path) -> None:
    state = rrdb_state(seed=3, ups=2)
    new = load_upscaler(save(state, tmp_path / "new.safetensors"))
    old = load_upscaler(save(to_old_esrgan(state), tmp_path / "old.safetensors"))
    assert old.scale == 4
    assert np.array_equal(np.asarray(new.upscale(picture())), np.asarray(old.upscale(picture())))


def test_a_2x_esrgan_and_a_compact_realesrgan_have_their_own_factors(tmp_path: Path) -> None:
    assert load_upscaler(save(rrdb_state(ups=1), tmp_path / "2x.safetensors")).scale == 2
    compact = load_upscaler(save(compact_state(), tmp_path / "compact.safetensors"))
    assert (compact.architecture, compact.scale) == ("RealESRGAN compact", 4)
    assert compact.upscale(picture(8)).size == (32, 32)


def test_a_model_then_lanczos_reaches_the_exact_size_asked(tmp_path: Path) -> None:
    model = load_upscaler(save(rrdb_state(), tmp_path / "4x.safetensors"))
    assert upscale_image(picture(), "model", 2.0, model).size == (32, 32)
    assert upscale_image(picture(10), "lanczos", 1.5).size == (15, 15)


def test_files_that_are_not_upscalers_are_refused_with_advice(tmp_path: Path) -> None:
    import torch

    with pytest.raises(NotFound):
        load_upscaler(tmp_path / "missing.safetensors")
    pickle = tmp_path / "4x.pth"
    pickle.write_bytes(b"x")
    with pytest.raises(InputError, match="pickle"):
        load_upscaler(pickle)
    lora = save({"lora_unet_down.lora_down.weight": torch.zeros(4, 4)}, tmp_path / "lora.safetensors")
    with pytest.raises(ModelError, match="not an upscaler model the studio can read"):
        load_upscaler(lora)
    broken = rrdb_state()
    broken["conv_last.weight"] = torch.zeros(3, 5, 3, 3)
    with pytest.raises(ModelError, match="do not fit"):
        load_upscaler(save(broken, tmp_path / "broken.safetensors"))


def test_large_pictures_are_upscaled_in_tiles_without_seams(tmp_path: Path) -> None:
    model = load_upscaler(save(rrdb_state(seed=2), tmp_path / "4x.safetensors"))
    big = picture(40)
    whole = np.asarray(model.upscale(big, tile=1000)).astype(int)
    tiled = np.asarray(model.upscale(big, tile=24, overlap=8)).astype(int)
    assert tiled.shape == whole.shape == (160, 160, 3)
    assert np.abs(tiled - whole).max() <= 1  # the overlap covers the network's reach: no seam
