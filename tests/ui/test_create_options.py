"""The Create options beyond the basic recipe (schedule, clip skip, batch size, hires fix, variation, a
ControlNet unit; more of the units in test_control_units.py), styles, the prompt history and PNG Info's Send to Create: in the view-model, and
through the real widgets offscreen. The demo model at 64x64 with 2 steps generates for real."""
from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import Qt

from studio.config import Config
from studio.errors import InputError, NotFound
from studio.generation.request import HiresFix
from studio.provenance.png_text import write_png
from studio.ui.main_window import engine_factory
from studio.ui.state.create import CreateState
from studio.ui.workers import BackgroundPool, GpuLane
from studio.workflows.generate import read_recipe

A1111 = ("a castle on a hill\nNegative prompt: fog\n"
         "Steps: 12, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 5.5, Seed: 42, Size: 64x64, "
         "Model: somebody-elses-model, Clip skip: 2, Denoising strength: 0.4, Hires upscale: 1.5, Hires steps: 3, "
         "Hires upscaler: Latent, Variation seed: 9, Variation seed strength: 0.25, Version: v1.10.1")


@pytest.fixture
def state(qtbot, demo_config: Config):
    from studio.generation.models import ModelCatalog

    demo_config.set("default_model", "demo")
    catalog = ModelCatalog(demo_config)
    lane = GpuLane(engine_factory(demo_config, catalog))
    background = BackgroundPool()
    state = CreateState(demo_config, catalog, lane, background)
    state.prompt, state.width, state.height, state.steps = "a boat", 64, 64, 2
    yield state
    lane.shutdown()
    background.shutdown()


def a1111_png(tmp_path: Path) -> Path:
    path = tmp_path / "from-a1111.png"
    write_png(Image.new("RGB", (8, 8)), path, {"parameters": A1111})
    return path


def test_the_options_become_the_requests_fields(state: CreateState) -> None:
    options = state.options
    state.scheduler = "dpmpp_2m"
    options.sigmas, options.clip_skip, options.batch_size = "karras", 2, 3
    options.hires, options.hires_scale, options.hires_upscaler = True, 1.5, "lanczos"
    options.hires_steps, options.hires_denoise = 4, 0.35
    options.variation_seed, options.variation_strength = 77, 0.3
    request = state.build_request()
    assert (request.sigmas, request.clip_skip, request.batch_size) == ("karras", 2, 3)
    assert request.hires == HiresFix(scale=1.5, upscaler="lanczos", steps=4, denoise=0.35)
    assert (request.variation_seed, request.variation_strength) == (77, 0.3)
    options.hires, options.variation_strength = False, 0.0
    request = state.build_request()
    assert request.hires is None and request.variation_seed is None and request.control == ()


def test_a_controlnet_unit_needs_its_model_and_picture(state: CreateState, tmp_path: Path) -> None:
    units = state.options.control
    unit = units.add(str(tmp_path / "gone.safetensors"))
    with pytest.raises(NotFound, match="Control unit 1: the model .*gone.safetensors does not exist"):
        state.build_request()
    model = tmp_path / "control-canny"
    model.mkdir()
    unit.model = str(model)
    with pytest.raises(InputError, match="Control unit 1 needs a control picture"):
        state.build_request()
    assert state.generate() is None and "needs a control picture" in state.error and state.lane.is_idle
    picture = tmp_path / "edges.png"
    Image.new("RGB", (64, 64), "white").save(picture)
    unit.image, unit.preprocessor, unit.weight = str(picture), "canny", 0.8
    unit.start, unit.end, unit.low_threshold, unit.high_threshold = 0.1, 0.9, 40, 120
    (request_unit,) = state.build_request().control
    assert (request_unit.model, request_unit.preprocessor, request_unit.weight) == (model, "canny", 0.8)
    assert (request_unit.start, request_unit.end) == (0.1, 0.9)
    assert (request_unit.low_threshold, request_unit.high_threshold) == (40, 120)
    assert request_unit.image is not None and request_unit.image.size == (64, 64)
    units.remove(unit)
    assert state.build_request().control == ()


def test_euler_a_keeps_only_its_own_schedule(state: CreateState) -> None:
    state.scheduler = "dpmpp_2m"
    state.options.sigmas = "karras"
    state.scheduler = "euler_a"
    assert state.options.sigmas == "default"


def test_a_batch_with_hires_fix_and_a_variation_is_made_and_recorded(qtbot, state: CreateState) -> None:
    state.random_seed, state.seed = False, 500
    options = state.options
    options.batch_size, options.hires, options.hires_scale, options.hires_steps = 2, True, 1.5, 2
    options.variation_seed, options.variation_strength = 9, 0.5
    with qtbot.waitSignal(state.job_finished, timeout=120_000):
        assert state.generate() is not None, state.error
    assert state.error == "" and state.results.rowCount() == 2
    recipes = [read_recipe(item.path) for item in state.results.items]
    assert sorted(r.seed for r in recipes) == [500, 501]
    for item, recipe in zip(state.results.items, recipes):
        with Image.open(item.path) as image:
            assert image.size == (96, 96)  # painted again at 1.5 times the recipe's 64x64
        assert (recipe.width, recipe.height, recipe.batch_size) == (64, 64, 2)
        assert recipe.hires is not None and recipe.hires.scale == 1.5
        assert recipe.variation_strength == 0.5 and recipe.variation_seed - recipe.seed == 9 - 500  # as A1111: +i each
    from studio.ui.state.jobs import recipe_text

    text = recipe_text(next(r for r in recipes if r.seed == 500))
    assert "Hires fix: ×1.5 with latent" in text and "Variation: seed 9 at 0.5" in text and "Batch: image" in text
    # the generation put its prompt at the top of the history
    assert state.prompts.history[0].prompt == "a boat"


def test_styles_are_saved_applied_and_deleted_and_the_history_gives_prompts_back(state: CreateState) -> None:
    changed: list[list] = []
    state.prompts.styles_changed.connect(changed.append)
    state.prompt, state.negative_prompt = "{prompt}, ink drawing", "colour"
    state.prompts.save_style("ink")
    assert [s.name for s in changed[-1]] == ["ink"] and [s.name for s in state.prompts.styles] == ["ink"]
    state.prompt, state.negative_prompt = "a heron", ""
    state.prompts.apply_style("ink")
    assert (state.prompt, state.negative_prompt) == ("a heron, ink drawing", "colour")
    state.prompts.apply_style("nope")
    assert "nope" in state.error
    state.prompts.delete_style("ink")
    assert state.prompts.styles == [] and changed[-1] == []

    from studio.workflows.prompt_library import record_prompt

    record_prompt("first", "", state.prompts.data_dir)
    record_prompt("second", "blur", state.prompts.data_dir)
    state.prompts.use_history(1)
    assert (state.prompt, state.negative_prompt) == ("first", "")
    state.prompts.use_history(0)
    assert (state.prompt, state.negative_prompt) == ("second", "blur")


def test_png_info_reads_another_tools_image_and_sends_its_settings_to_create(qtbot, state: CreateState,
                                                                           tmp_path: Path) -> None:
    assert state.send_to_create() == [] and "PNG Info first" in state.error
    with qtbot.waitSignal(state.prompts.png_info_ready_changed, timeout=30_000):
        state.prompts.read_png_info(a1111_png(tmp_path))
    assert "Written by: a1111" in state.prompts.png_info_text and "a castle on a hill" in state.prompts.png_info_text
    skipped = state.send_to_create()
    assert (state.prompt, state.negative_prompt, state.seed, state.random_seed) == ("a castle on a hill", "fog",
                                                                                    42, False)
    assert (state.steps, state.guidance, state.scheduler, state.width, state.height) == (12, 5.5, "dpmpp_2m", 64, 64)
    options = state.options
    assert (options.sigmas, options.clip_skip) == ("karras", 2)
    assert (options.hires, options.hires_scale, options.hires_steps, options.hires_denoise) == (True, 1.5, 3, 0.4)
    assert (options.variation_seed, options.variation_strength) == (9, 0.25)
    assert state.model_choice.model_name == "demo" and any("somebody-elses-model" in note for note in skipped)
    assert state.warning == "\n".join(skipped)


def test_png_info_of_a_file_that_is_no_image_says_why(qtbot, state: CreateState, tmp_path: Path) -> None:
    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    with qtbot.waitSignal(state.error_changed, timeout=30_000):
        state.prompts.read_png_info(bad)
    assert state.error and not state.prompts.png_info_ready and state.prompts.png_info_text == ""


def test_the_tab_shows_and_sets_the_options_and_sends_png_info_to_the_form(qtbot, window, tmp_path: Path) -> None:
    tab, state = window.create_tab, window.create_state
    options, extras, panel = state.options, tab.extras, tab.options_panel
    assert panel.hires_box.isHidden() and not panel.control_units.boxes and tab.png_info.isHidden()
    qtbot.mouseClick(panel.hires, Qt.MouseButton.LeftButton)
    assert options.hires and not panel.hires_box.isHidden()
    panel.hires_scale.setValue(1.5)
    panel.hires_denoise.setValue(0.3)
    assert (options.hires_scale, options.hires_denoise) == (1.5, 0.3)
    extras.batch_size.setValue(2)
    extras.clip_skip.setValue(2)
    assert (options.batch_size, options.clip_skip) == (2, 2)
    qtbot.keyClicks(panel.variation_seed, "123")
    assert options.variation_seed == 123

    state.scheduler = "euler_a"
    assert not extras.schedule.isEnabled()
    state.scheduler = "dpmpp_2m"
    assert extras.schedule.isEnabled()
    extras.schedule.setCurrentIndex(extras.schedule.findData("karras"))
    extras.schedule.activated.emit(extras.schedule.currentIndex())
    assert options.sigmas == "karras"

    unit = options.control.add(str(tmp_path / "control.safetensors"))
    assert panel.control_units.box(0).model_label.text() == "control.safetensors"
    qtbot.mouseClick(panel.control_units.box(0).remove_button, Qt.MouseButton.LeftButton)
    assert unit not in options.control.items and not panel.control_units.boxes

    qtbot.keyClicks(tab.prompt_edit, "a lake")
    qtbot.waitUntil(lambda: tab.prompt_tools.token_count.text() == "2/75", timeout=30_000)
    state.prompt = "{prompt}, watercolour"
    state.prompts.save_style("wash")
    tools = tab.prompt_tools
    assert tools.style_combo.currentData() == "wash" and tools.apply_style.isEnabled()
    state.prompt = "a lake"
    qtbot.mouseClick(tools.apply_style, Qt.MouseButton.LeftButton)
    assert tab.prompt_edit.toPlainText() == "a lake, watercolour"

    with qtbot.waitSignal(state.prompts.png_info_ready_changed, timeout=30_000):
        state.prompts.read_png_info(a1111_png(tmp_path))
    assert not tab.png_info.isHidden() and "a castle on a hill" in tab.png_info.text.toPlainText()
    assert tab.png_info.send.isEnabled()
    qtbot.mouseClick(tab.png_info.send, Qt.MouseButton.LeftButton)
    assert tab.prompt_edit.toPlainText() == "a castle on a hill" and tab.seed_edit.text() == "42"
    assert extras.schedule.currentData() == "karras" and extras.clip_skip.value() == 2
    assert panel.hires.isChecked() and panel.hires_scale.value() == 1.5 and panel.hires_steps.value() == 3
    assert panel.variation_seed.text() == "9" and panel.variation_strength.value() == 0.25
    assert tab.warning_banner.isVisible() and "somebody-elses-model" in tab.warning_banner.label.text()
    qtbot.mouseClick(tab.png_info.close_button, Qt.MouseButton.LeftButton)
    assert tab.png_info.isHidden()


def test_the_token_counter_counts_the_prompt_as_the_model_reads_it(qtbot, state: CreateState) -> None:
    state.prompt = "a red fox"
    qtbot.waitUntil(lambda: state.prompts.token_count == "3/75", timeout=30_000)
    state.prompt = ", ".join(["lighthouse"] * 50)  # 99 tokens: a second chunk of 75 begins
    qtbot.waitUntil(lambda: state.prompts.token_count.endswith("/150"), timeout=30_000)
    assert int(state.prompts.token_count.split("/")[0]) > 75
    state.prompt = "  "
    qtbot.waitUntil(lambda: state.prompts.token_count == "", timeout=30_000)


def test_upscale_on_a_result_adds_a_larger_work_naming_its_source(qtbot, window, tmp_path: Path) -> None:
    tab, state = window.create_tab, window.create_state
    state.prompt = "a kite"
    assert not tab.results.upscale_button.isEnabled()
    with qtbot.waitSignal(state.job_finished, timeout=60_000):
        qtbot.mouseClick(tab.generate_button, Qt.MouseButton.LeftButton)
    source = state.results.item(0)
    assert tab.results.upscale_button.isEnabled()
    with qtbot.waitSignal(state.job_finished, timeout=60_000):
        qtbot.mouseClick(tab.results.upscale_button, Qt.MouseButton.LeftButton)
    assert state.error == "" and state.results.rowCount() == 2
    bigger = state.results.item(0)
    recipe = read_recipe(bigger.path)
    assert recipe.mode == "upscale" and recipe.upscale is not None and recipe.upscale.upscaler == "lanczos"
    assert recipe.prompt == "a kite" and recipe.init_image_hash is not None
    with Image.open(bigger.path) as picture:
        assert picture.size == (128, 128)
    assert "Upscaled: ×2 with lanczos" in tab.results.recipe_view.toPlainText()
    assert state.upscale_result(1, str(tmp_path / "gone.safetensors")) is None
    assert "gone.safetensors does not exist" in state.error and window.lane.is_idle
    assert source.path.is_file()


def test_outpainting_in_image_to_image_extends_the_canvas_and_is_recorded(qtbot, window, tmp_path: Path) -> None:
    tab, state = window.create_tab, window.create_state
    init = tmp_path / "init.png"
    Image.new("RGB", (64, 64), (30, 120, 200)).save(init)
    assert tab.inputs_panel.outpaint_row.isHidden()
    state.prompt = "a sea"
    state.inputs.init_image_path, state.inputs.mode, state.inputs.strength = str(init), "img2img", 1.0
    assert not tab.inputs_panel.outpaint_row.isHidden()
    tab.inputs_panel.outpaint_row.spins["right"].setValue(32)
    tab.inputs_panel.outpaint_row.spins["bottom"].setValue(16)
    request = state.build_request()
    assert (request.width, request.height) == (96, 80) and request.outpaint is not None
    assert (request.outpaint.right, request.outpaint.bottom, request.outpaint.left) == (32, 16, 0)
    with qtbot.waitSignal(state.job_finished, timeout=60_000):
        assert state.generate() is not None, state.error
    assert state.error == ""
    made = state.results.item(0)
    with Image.open(made.path) as picture:
        assert picture.size == (96, 80)
        assert picture.getpixel((10, 10)) == (30, 120, 200)  # the init image is kept outside the new area
    assert read_recipe(made.path).outpaint == request.outpaint
    state.inputs.mode = "inpaint"  # outpainting belongs to image to image: an inpaint has its own mask
    assert tab.inputs_panel.outpaint_row.isHidden()
