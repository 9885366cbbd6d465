"""Loading models offline: diffusers folders, original single-file checkpoints (converted from the
demo pipeline), pickles only when allowed, and clear errors for wrong or damaged files."""
from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest
from model_files import save_ldm_checkpoint, save_tiny_sdxl, write_checkpoint

from studio.errors import InputError, ModelError
from studio.generation.loading import load_pipeline
from studio.generation.models import detect_model
from studio.generation.request import ModelFamily, ModelFormat, ModelInfo


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a connection (to the Hugging Face hub or elsewhere) fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def reference(demo_model_dir: Path):
    from diffusers import StableDiffusionPipeline

    return StableDiffusionPipeline.from_pretrained(demo_model_dir, local_files_only=True, safety_checker=None,
                                                   requires_safety_checker=False)


@pytest.fixture(scope="module")
def ldm_checkpoint(demo_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo pipeline's weights in the original Stable Diffusion single-file layout."""
    return save_ldm_checkpoint(demo_model_dir, tmp_path_factory.mktemp("ldm") / "demo-ldm.safetensors")


def assert_same_weights(pipe, reference) -> None:
    import torch

    for name in ("unet", "vae", "text_encoder"):
        mine, theirs = getattr(pipe, name).state_dict(), getattr(reference, name).state_dict()
        assert mine.keys() == theirs.keys(), name
        assert all(torch.equal(mine[k], theirs[k]) for k in theirs), name


def render(pipe) -> np.ndarray:
    import torch

    pipe.set_progress_bar_config(disable=True)
    image = pipe("a lighthouse at dusk", num_inference_steps=2, height=64, width=64,
                 generator=torch.Generator("cpu").manual_seed(11)).images[0]
    return np.asarray(image)


def test_diffusers_folder_loads_offline_without_a_safety_checker(demo_model_dir: Path, reference,
                                                                 no_network: None) -> None:
    from diffusers import StableDiffusionPipeline

    pipe = load_pipeline(detect_model(demo_model_dir))
    assert isinstance(pipe, StableDiffusionPipeline) and pipe.safety_checker is None
    assert_same_weights(pipe, reference)


def test_dtype_is_applied(demo_model_dir: Path) -> None:
    import torch

    pipe = load_pipeline(detect_model(demo_model_dir), dtype=torch.bfloat16)
    assert pipe.unet.dtype == torch.bfloat16 and pipe.vae.dtype == torch.bfloat16


def test_tiny_sdxl_folder_loads_as_an_sdxl_pipeline(tmp_path: Path, no_network: None) -> None:
    from diffusers import StableDiffusionXLPipeline

    info = detect_model(save_tiny_sdxl(tmp_path / "tiny-sdxl"))
    pipe = load_pipeline(info)
    assert isinstance(pipe, StableDiffusionXLPipeline) and pipe.text_encoder_2 is not None


def test_single_file_checkpoint_loads_offline_with_identical_weights_and_pixels(
        ldm_checkpoint: Path, demo_model_dir: Path, reference, no_network: None) -> None:
    info = detect_model(ldm_checkpoint)
    assert (info.family, info.format) == (ModelFamily.SD1, ModelFormat.SINGLE_FILE)
    pipe = load_pipeline(info, config_dir=demo_model_dir)
    assert_same_weights(pipe, reference)
    assert np.array_equal(render(pipe), render(reference))


def test_pickle_checkpoint_is_refused_with_the_reason_and_loads_when_allowed(
        ldm_checkpoint: Path, demo_model_dir: Path, reference, tmp_path: Path) -> None:
    import torch
    from safetensors.torch import load_file

    ckpt = tmp_path / "demo-sd15.ckpt"
    torch.save({"state_dict": load_file(str(ldm_checkpoint))}, ckpt)
    info = detect_model(ckpt)
    assert info.is_pickle and info.family is ModelFamily.SD1
    with pytest.raises(InputError) as refused:
        load_pipeline(info, config_dir=demo_model_dir)
    assert "arbitrary code" in refused.value.message and "Settings" in refused.value.hint
    assert_same_weights(load_pipeline(info, config_dir=demo_model_dir, allow_pickle=True), reference)


def test_truncated_checkpoint_is_corrupt(ldm_checkpoint: Path, demo_model_dir: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.safetensors"
    data = ldm_checkpoint.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    info = ModelInfo(name="cut", path=cut, family=ModelFamily.SD1, format=ModelFormat.SINGLE_FILE)
    with pytest.raises(ModelError) as error:
        load_pipeline(info, config_dir=demo_model_dir)
    assert "incomplete" in error.value.message and "again" in error.value.hint


def test_lora_file_given_as_a_model_says_it_is_a_lora(tmp_path: Path) -> None:
    lora = write_checkpoint(tmp_path / "ink.safetensors", {"lora_unet_down_blocks_0_x.lora_down.weight": (4, 32),
                                                           "lora_unet_down_blocks_0_x.lora_up.weight": (32, 4)})
    info = ModelInfo(name="ink", path=lora, family=ModelFamily.SD1, format=ModelFormat.SINGLE_FILE)
    with pytest.raises(ModelError, match="LoRA"):
        load_pipeline(info)


def test_checkpoint_that_does_not_fit_the_family_config_is_refused(ldm_checkpoint: Path,
                                                                   no_network: None) -> None:
    """The tiny demo weights against the shipped full-size SD 1.5 config: a clear error, no hub."""
    with pytest.raises(ModelError) as error:
        load_pipeline(detect_model(ldm_checkpoint))
    assert "demo-ldm" in error.value.message and "SD 1.x" in error.value.message


def test_missing_model_is_a_model_error(tmp_path: Path) -> None:
    for fmt, path in ((ModelFormat.DIFFUSERS, tmp_path / "gone"), (ModelFormat.SINGLE_FILE, tmp_path / "x.safetensors")):
        with pytest.raises(ModelError, match="no longer at"):
            load_pipeline(ModelInfo(name="gone", path=path, family=ModelFamily.SD1, format=fmt))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="model_index.json"):
        load_pipeline(ModelInfo(name="empty", path=tmp_path / "empty", family=ModelFamily.SD1,
                                format=ModelFormat.DIFFUSERS))
