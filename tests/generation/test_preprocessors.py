"""The control-map preprocessors that need no model: canny edges, lineart, tile; and the clear errors
of those that need model files."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from studio.errors import InputError, ModelError
from studio.generation.preprocessors import canny, lineart, preprocess, tile


def square() -> Image.Image:
    image = Image.new("RGB", (64, 64), "white")
    ImageDraw.Draw(image).rectangle((16, 16, 47, 47), fill="black")
    return image


def test_canny_finds_the_outline_of_a_square_and_nothing_inside_or_outside() -> None:
    edges = np.asarray(canny(square()))[..., 0] > 0
    assert edges[:, 13:19].any() and edges[:, 45:51].any()     # the left and right sides
    assert not edges[24:40, 24:40].any()                       # flat inside
    assert not edges[:6, :].any() and not edges[58:, :].any()  # flat outside
    assert edges.sum() < 64 * 8                                # thin lines, not bands


def test_canny_thresholds_decide_how_faint_an_edge_may_be() -> None:
    faint = Image.new("RGB", (64, 64), (128, 128, 128))
    ImageDraw.Draw(faint).rectangle((16, 16, 47, 47), fill=(150, 150, 150))
    assert np.asarray(canny(faint, 10, 30)).any()
    assert not np.asarray(canny(faint, 100, 200)).any()
    with pytest.raises(InputError, match="out of order"):
        canny(square(), 200, 100)


def test_lineart_draws_white_lines_where_the_picture_has_dark_strokes() -> None:
    drawing = Image.new("RGB", (64, 64), "white")
    ImageDraw.Draw(drawing).line((8, 32, 56, 32), fill="black", width=2)
    lines = np.asarray(lineart(drawing))[..., 0]
    assert lines[32:34, 10:54].min() > 100 and lines[:20].max() < 5


def test_tile_keeps_the_picture_or_softens_it() -> None:
    assert np.array_equal(np.asarray(tile(square())), np.asarray(square()))
    soft = np.asarray(tile(square(), 4.0)).astype(int)
    assert soft.shape == (64, 64, 3) and 0 < np.abs(soft - np.asarray(square())).max()


def test_model_based_preprocessors_say_which_files_they_need(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"annotators/depth"):
        preprocess(square(), "depth", model_folders=[tmp_path])
    with pytest.raises(ModelError, match="OpenPose"):
        preprocess(square(), "pose", model_folders=[tmp_path])
    with pytest.raises(InputError, match="Unknown preprocessor"):
        preprocess(square(), "hed")


def tiny_depth_model(models: Path) -> Path:
    """A Depth Anything model (transformers layout) of a few thousand random weights, where the studio
    looks for one: <models folder>/annotators/depth."""
    import torch
    from transformers import (DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config,
                              DPTImageProcessor)

    backbone = Dinov2Config(hidden_size=32, num_hidden_layers=4, num_attention_heads=2, intermediate_size=37,
                            image_size=56, patch_size=14, out_features=["stage1", "stage2", "stage3", "stage4"],
                            out_indices=[1, 2, 3, 4], reshape_hidden_states=False)
    config = DepthAnythingConfig(backbone_config=backbone, reassemble_hidden_size=32, patch_size=14,
                                 neck_hidden_sizes=[8, 16, 32, 32], fusion_hidden_size=16, head_hidden_size=8)
    torch.manual_seed(0)
    folder = models / "annotators" / "depth"
    DepthAnythingForDepthEstimation(config).save_pretrained(folder, safe_serialization=True)
    DPTImageProcessor(size={"height": 56, "width": 56}, keep_aspect_ratio=False, do_pad=False).save_pretrained(folder)
    return folder


def test_depth_runs_with_a_local_depth_model(tmp_path: Path) -> None:
    from studio.generation.preprocessors import check_preprocessor

    tiny_depth_model(tmp_path / "models")
    check_preprocessor("depth", [tmp_path / "elsewhere", tmp_path / "models"])
    first = preprocess(square(), "depth", model_folders=[tmp_path / "models"])
    assert first.size == (64, 64) and first.mode == "RGB"
    values = np.asarray(first)[..., 0]
    assert values.min() == 0 and values.max() == 255  # spread over the whole range, near bright
    assert np.array_equal(values, np.asarray(preprocess(square(), "depth", model_folders=[tmp_path / "models"]))[..., 0])
