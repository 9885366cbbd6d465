"""ControlNet and T2I-Adapter units on the demo pipeline (tiny models with random weights): maps,
several units with weights and start/end, records in the recipe, errors, and exact reproduction."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from studio.errors import InputError, ModelError, NotFound
from studio.generation.engine import Engine, image_sha256
from studio.generation.request import ControlUnit

from options_helpers import pixels, round_trip, small
from tiny_control import tiny_controlnet, tiny_t2i_adapter


def shapes(size: int = 64) -> Image.Image:
    image = Image.new("RGB", (size, size), (240, 240, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 12, 40, 44), fill=(20, 20, 20))
    draw.ellipse((30, 30, 58, 58), fill=(200, 30, 30))
    return image


@pytest.fixture(scope="module")
def controlnets(demo_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("controlnets")
    return {"folder": tiny_controlnet(demo_model_dir, folder, seed=1),
            "file": tiny_controlnet(demo_model_dir, folder, seed=2, as_file=True),
            "t2i": tiny_t2i_adapter(folder, seed=3)}


def test_a_controlnet_steers_the_image_and_is_recorded_with_its_map(engine: Engine,
                                                                    controlnets: dict[str, Path]) -> None:
    plain = engine.generate(small())[0]
    unit = ControlUnit(model=controlnets["folder"], image=shapes(), preprocessor="canny")
    guided = engine.generate(small(control=(unit,)))[0]
    assert not np.array_equal(pixels(plain), pixels(guided))
    [record] = guided.recipe.control
    assert (record.model_name, record.kind, record.preprocessor) == ("controlnet-tiny-1", "controlnet", "canny")
    assert record.image_sha256 == image_sha256(shapes()) and len(record.model_sha256) == 64
    [control_map] = guided.control_maps
    assert control_map.size == (64, 64)
    values = np.asarray(control_map)
    assert set(np.unique(values)) == {0, 255}  # canny edges, white on black


def test_weight_and_start_end_change_the_result(engine: Engine, controlnets: dict[str, Path]) -> None:
    def run(**unit) -> np.ndarray:
        spec = ControlUnit(model=controlnets["folder"], image=shapes(), preprocessor="lineart", **unit)
        return pixels(engine.generate(small(steps=4, control=(spec,)))[0])

    full = run()
    assert not np.array_equal(full, run(weight=0.3))
    assert not np.array_equal(full, run(start=0.5))
    assert np.array_equal(full, run())


def test_several_units_act_together_a_single_file_controlnet_among_them(engine: Engine,
                                                                        controlnets: dict[str, Path]) -> None:
    first = ControlUnit(model=controlnets["folder"], image=shapes(), preprocessor="canny", weight=0.8)
    second = ControlUnit(model=controlnets["file"], image=shapes().rotate(90), preprocessor="tile",
                         start=0.2, end=0.8)
    one = engine.generate(small(control=(first,)))[0]
    both = engine.generate(small(control=(first, second)))[0]
    assert not np.array_equal(pixels(one), pixels(both))
    assert [r.model_name for r in both.recipe.control] == ["controlnet-tiny-1", "control-tiny-2.safetensors"]
    assert len(both.control_maps) == 2


def test_a_t2i_adapter_guides_text_to_image(engine: Engine, controlnets: dict[str, Path]) -> None:
    unit = ControlUnit(model=controlnets["t2i"], image=shapes(), preprocessor="lineart")
    guided = engine.generate(small(control=(unit,)))[0]
    assert guided.recipe.control[0].kind == "t2i_adapter"
    assert not np.array_equal(pixels(guided), pixels(engine.generate(small())[0]))
    with pytest.raises(InputError, match="whole sampling"):
        engine.validate(small(control=(ControlUnit(model=controlnets["t2i"], image=shapes(), end=0.5),)))
    with pytest.raises(InputError, match="cannot guide one image together"):
        engine.validate(small(control=(unit, ControlUnit(model=controlnets["folder"], image=shapes()))))


def test_a_controlnet_guides_image_to_image_and_inpainting_too(engine: Engine, controlnets: dict[str, Path]) -> None:
    unit = ControlUnit(model=controlnets["folder"], image=shapes(), preprocessor="canny")
    result = engine.generate(small(steps=4, init_image=shapes(), strength=0.6, control=(unit,)))[0]
    assert result.recipe.mode == "img2img" and result.recipe.control[0].preprocessor == "canny"
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (0, 0, 32, 64))
    inpaint = engine.generate(small(steps=4, init_image=shapes(), mask_image=mask, strength=0.9, control=(unit,)))[0]
    assert inpaint.recipe.mode == "inpaint" and len(inpaint.control_maps) == 1


def test_bad_units_are_refused_before_any_work(engine: Engine, controlnets: dict[str, Path],
                                               demo_model_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        engine.validate(small(control=(ControlUnit(model=tmp_path / "none.safetensors", image=shapes()),)))
    with pytest.raises(InputError, match="has no picture"):
        engine.validate(small(control=(ControlUnit(model=controlnets["folder"]),)))
    with pytest.raises(InputError, match="do not make a part"):
        engine.validate(small(control=(ControlUnit(model=controlnets["folder"], image=shapes(), start=0.8,
                                                   end=0.2),)))
    with pytest.raises(ModelError, match="not a ControlNet"):
        engine.validate(small(control=(ControlUnit(model=demo_model_dir / "vae" / "diffusion_pytorch_model.safetensors",
                                                   image=shapes()),)))
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (0, 0, 16, 16))
    with pytest.raises(InputError, match="Only masked"):
        engine.validate(small(init_image=shapes(), mask_image=mask, inpaint_area="masked",
                              control=(ControlUnit(model=controlnets["folder"], image=shapes()),)))
    with pytest.raises(ModelError, match="depth-estimation model"):
        engine.generate(small(control=(ControlUnit(model=controlnets["folder"], image=shapes(),
                                                   preprocessor="depth"),)))
    with pytest.raises(ModelError, match="OpenPose"):
        engine.generate(small(control=(ControlUnit(model=controlnets["folder"], image=shapes(),
                                                   preprocessor="pose"),)))


def test_a_controlled_work_reproduces_exactly_given_its_pictures(engine: Engine, controlnets: dict[str, Path],
                                                                tmp_path: Path) -> None:
    shapes().save(tmp_path / "pose.png")
    shapes().rotate(90).save(tmp_path / "tile.png")
    units = (ControlUnit(model=controlnets["folder"], image=shapes(), preprocessor="canny", weight=0.8,
                         low_threshold=50, high_threshold=150),
             ControlUnit(model=controlnets["file"], image=shapes().rotate(90), preprocessor="tile", end=0.7))
    [reproduction] = round_trip(small(control=units), engine, tmp_path / "works",
                                weights=[controlnets["folder"].parent],
                                inputs={"control0": tmp_path / "pose.png", "control1": tmp_path / "tile.png"})
    assert (reproduction.method, reproduction.match) == ("exact", True)


def test_a_hostile_controlnet_config_is_refused_without_parsing_it_whole(tmp_path: Path) -> None:
    """A ControlNet folder is outside data: its config.json is read bounded in size and depth."""
    from studio.generation.control import control_kind

    folder = tmp_path / "cn"
    folder.mkdir()
    (folder / "config.json").write_text('{"_class_name": "' + "C" * (2 << 20) + '"}')
    with pytest.raises(ModelError, match="not readable JSON"):
        control_kind(folder)
    (folder / "config.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ModelError, match="not readable JSON"):
        control_kind(folder)
    (folder / "config.json").write_text('{"_class_name": "T2IAdapter"}')
    assert control_kind(folder) == "t2i_adapter"
