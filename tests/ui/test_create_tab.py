"""The Create tab end to end: real widgets offscreen, the real catalog and engine, the demo model at
64x64 with 2 steps. Signals are armed before the clicks that trigger them."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage

from studio.config import load_config
from studio.workflows.generate import read_recipe


def works(window) -> list[Path]:
    return sorted(window.config.paths.works_dir.glob("*.png"))


def click_generate(qtbot, window, timeout: int = 60_000) -> None:
    with qtbot.waitSignal(window.create_state.job_finished, timeout=timeout):
        qtbot.mouseClick(window.create_tab.generate_button, Qt.MouseButton.LeftButton)


def test_window_opens_on_the_create_tab_and_detects_the_device(qtbot, window) -> None:
    assert window.tabs.tabText(0) == "Create" and window.tabs.currentWidget() is window.create_tab
    assert window.device_label.text() == "Device: detecting…"
    with qtbot.waitSignal(window.device_detected, timeout=60_000):
        window.detect_device()
    assert window.device_label.text() == "Device: CPU (fp32)"
    menus = [action.text() for action in window.menuBar().actions()]
    assert menus == ["&File", "&Help"]


def test_typed_prompt_generates_an_image_shown_in_the_grid_and_saved(qtbot, window) -> None:
    tab, state = window.create_tab, window.create_state
    previews: list[QImage] = []
    texts: list[str] = []
    state.jobs.preview_changed.connect(previews.append)
    state.progress_text_changed.connect(texts.append)
    qtbot.keyClicks(tab.prompt_edit, "a red fox in the snow")
    assert state.prompt == "a red fox in the snow"

    click_generate(qtbot, window)
    # after the last step the strip says the image is being saved, never a stale "step 2/2 · ETA <1 s"
    assert texts[-2:] == ["Saving…", texts[-1]] and texts[-1].startswith("Done: 1 image")
    assert not any(text.startswith("step 2/2") for text in texts)

    assert state.error == "" and not tab.error_banner.isVisible()
    assert state.results.rowCount() == 1 and tab.grid.model().rowCount() == 1
    item = state.results.item(0)
    assert works(window) == [item.path]
    recipe = read_recipe(item.path)
    assert (recipe.prompt, recipe.model_name, recipe.width, recipe.steps) == ("a red fox in the snow", "demo", 64, 2)
    assert f"Seed: {recipe.seed}" in tab.results.recipe_view.toPlainText()
    assert recipe.model_hash in tab.results.recipe_view.toPlainText()
    assert str(item.path) in tab.results.recipe_view.toPlainText().replace("\u200b", "")
    assert tab.grid.currentIndex().row() == 0 and tab.results.viewer.has_image()
    assert tab.grid.model().data(tab.grid.model().index(0), Qt.ItemDataRole.DisplayRole) == f"seed {recipe.seed}"
    assert previews and not previews[0].isNull()
    assert state.progress_text.startswith("Done: 1 image") and not state.busy and window.lane.is_idle

    qtbot.mouseClick(tab.results.copy_path, Qt.MouseButton.LeftButton)
    from PySide6.QtGui import QGuiApplication

    assert QGuiApplication.clipboard().text() == str(item.path)
    qtbot.mouseClick(tab.results.reuse_seed, Qt.MouseButton.LeftButton)
    assert not state.random_seed and state.seed == recipe.seed
    assert tab.seed_edit.text() == str(recipe.seed) and tab.seed_edit.isEnabled()


def test_cancel_stops_the_running_image_without_saving_it(qtbot, window) -> None:
    tab, state = window.create_tab, window.create_state
    state.prompt, state.steps = "a long run", 150
    steps_seen: list[str] = []
    on_worker: list[tuple[bool, str]] = []
    state.progress_text_changed.connect(steps_seen.append)
    with qtbot.waitSignal(state.job_finished, timeout=120_000):
        with qtbot.waitSignal(state.progress_text_changed, timeout=60_000,
                              check_params_cb=lambda text: text.startswith("step ")):
            qtbot.mouseClick(tab.generate_button, Qt.MouseButton.LeftButton)
            job = window.lane.current
            # on the worker thread, as each step ends: its text and whether Cancel was pressed by then
            job.progressed.connect(lambda p: on_worker.append((job.cancel_token.cancelled, p.text)),
                                   Qt.ConnectionType.DirectConnection)
        assert tab.cancel_button.isEnabled()
        qtbot.mouseClick(tab.cancel_button, Qt.MouseButton.LeftButton)
    assert state.progress_text == "Cancelled." and "Cancelling…" in steps_seen
    assert not tab.results.viewer.has_image()  # the half-made preview is gone (no result to show instead)
    steps_on_worker = [(cancelled, text) for cancelled, text in on_worker if text.startswith("step ")]
    assert steps_on_worker  # the worker-side record works
    assert len([text for cancelled, text in steps_on_worker if cancelled]) <= 1  # stops within one step
    last_step = max(int(text.split()[1].split("/")[0]) for text in steps_seen if text.startswith("step "))
    assert last_step < 150
    assert state.results.rowCount() == 0 and works(window) == []
    assert window.lane.is_idle and not state.busy and not tab.cancel_button.isEnabled()
    assert state.error == ""


def test_queued_jobs_run_in_order_and_a_removed_one_never_runs(qtbot, window) -> None:
    tab, state = window.create_tab, window.create_state
    finished: list[object] = []
    state.job_finished.connect(finished.append)
    for prompt in ("first", "second", "third"):
        state.prompt = prompt
        qtbot.mouseClick(tab.generate_button, Qt.MouseButton.LeftButton)
    assert state.queue.rowCount() == 3
    assert state.queue.data(state.queue.index(0)).startswith("Running · “first”")
    assert state.queue.data(state.queue.index(1)).startswith("Waiting · “second”")
    tab.queue_view.setCurrentIndex(state.queue.index(1))
    qtbot.mouseClick(tab.remove_queued, Qt.MouseButton.LeftButton)
    assert state.queue.rowCount() == 2
    qtbot.waitUntil(lambda: len(finished) == 2 and window.lane.is_idle, timeout=60_000)
    assert [state.results.item(i).work.recipe.prompt for i in range(2)] == ["third", "first"]  # newest first
    assert [read_recipe(p).prompt for p in works(window)] and len(works(window)) == 2
    assert state.queue.rowCount() == 0


def test_bad_input_is_shown_in_the_tab_and_the_next_job_still_runs(qtbot, window, tmp_path: Path) -> None:
    tab, state = window.create_tab, window.create_state
    state.prompt = "a lighthouse"
    state.width = 100
    qtbot.mouseClick(tab.generate_button, Qt.MouseButton.LeftButton)
    assert tab.error_banner.isVisible()
    assert tab.error_banner.label.text() == "The width 100 is not a multiple of 8. Use 96 or 104."
    assert window.lane.is_idle and state.queue.rowCount() == 0

    state.width = 64
    state.add_lora(tmp_path / "missing.safetensors", 0.8)
    qtbot.mouseClick(tab.generate_button, Qt.MouseButton.LeftButton)
    assert "missing.safetensors does not exist" in tab.error_banner.label.text()
    assert window.lane.is_idle

    # a LoRA file that exists but holds no LoRA passes the quick checks and fails in the lane
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    state.remove_lora(0)
    state.add_lora(broken)
    finished: list[object] = []
    state.job_finished.connect(finished.append)
    qtbot.mouseClick(tab.generate_button, Qt.MouseButton.LeftButton)
    state.remove_lora(0)
    qtbot.mouseClick(tab.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(finished) == 2 and window.lane.is_idle, timeout=60_000)
    assert finished[0].state.value == "failed" and finished[1].state.value == "done"
    assert tab.error_banner.label.text() and state.results.rowCount() == 1
    qtbot.mouseClick(tab.error_banner.close_button, Qt.MouseButton.LeftButton)
    assert not tab.error_banner.isVisible()


def test_a_prompt_longer_than_77_tokens_is_read_whole_without_a_warning(qtbot, window) -> None:
    tab, state = window.create_tab, window.create_state
    state.prompt = " ".join(["a very detailed painting of a quiet harbour at dawn"] * 12)
    click_generate(qtbot, window)
    assert not tab.warning_banner.isVisible()
    recipe = read_recipe(state.results.item(0).path)
    assert recipe.prompt == state.prompt and recipe.prompt_syntax == "a1111"  # chunked, A1111's way


def test_the_selected_images_file_name_wraps_between_its_parts_and_copies_whole(qtbot, window) -> None:
    from PySide6.QtGui import QGuiApplication

    tab, state = window.create_tab, window.create_state
    state.prompt = "a small house"
    click_generate(qtbot, window)
    path = state.results.item(0).path
    view = tab.results.recipe_view
    block = next(b for b in _blocks(view) if b.text().startswith("File:"))
    layout = block.layout()
    assert layout.lineCount() > 1  # the path is longer than the column is wide
    text = block.text()
    for number in range(layout.lineCount() - 1):  # every line ends at a separator, never inside a name
        line = layout.lineAt(number)
        end = text[line.textStart():line.textStart() + line.textLength()].rstrip(" ")
        assert end.endswith(("/", "_", "\u200b", ":")), end
    view.selectAll()
    view.copy()
    assert str(path) in QGuiApplication.clipboard().text() and "\u200b" not in QGuiApplication.clipboard().text()


def _blocks(view):
    block = view.document().firstBlock()
    while block.isValid():
        yield block
        block = block.next()


def test_result_as_init_image_then_inpaint_with_a_painted_mask(qtbot, window) -> None:
    tab, state = window.create_tab, window.create_state
    state.prompt = "a small house"
    click_generate(qtbot, window)
    qtbot.mouseClick(tab.results.use_as_init, Qt.MouseButton.LeftButton)
    assert state.inputs.mode == "img2img" and state.inputs.init_image_path == str(state.results.item(0).path)
    assert tab.inputs_panel.init_box.isVisible() and not tab.inputs_panel.mask_box.isVisible()
    state.inputs.strength = 0.5
    click_generate(qtbot, window)
    recipe = read_recipe(state.results.item(0).path)
    assert (recipe.mode, recipe.strength) == ("img2img", 0.5) and recipe.init_image_hash

    tab.inputs_panel.mode_combo.setCurrentIndex(tab.inputs_panel.mode_combo.findData("inpaint"))
    tab.inputs_panel.mode_combo.activated.emit(tab.inputs_panel.mode_combo.currentIndex())
    assert state.inputs.mode == "inpaint" and tab.inputs_panel.mask_box.isVisible()
    qtbot.mouseClick(tab.generate_button, Qt.MouseButton.LeftButton)
    assert tab.error_banner.label.text().startswith("Inpainting needs a mask.")

    canvas = tab.inputs_panel.mask_canvas
    centre = canvas.rect().center()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=centre)
    qtbot.mouseMove(canvas, centre + QPoint(20, 10))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=centre + QPoint(20, 10))
    assert state.inputs.mask is not None and state.inputs.mask.size() == QImage(state.inputs.init_image_path).size()
    assert not tab.inputs_panel.inpaint_padding.isEnabled()  # padding is for "only masked"
    tab.inputs_panel.mask_blur.setValue(6)
    tab.inputs_panel.inpaint_area.setCurrentIndex(tab.inputs_panel.inpaint_area.findData("masked"))
    tab.inputs_panel.inpaint_padding.setValue(12)
    assert (state.inputs.mask_blur, state.inputs.inpaint_area, state.inputs.inpaint_padding) == (6, "masked", 12)
    assert tab.inputs_panel.inpaint_padding.isEnabled()
    click_generate(qtbot, window)
    recipe = read_recipe(state.results.item(0).path)
    assert recipe.mode == "inpaint" and recipe.mask_hash and state.error == ""
    assert (recipe.mask_blur, recipe.inpaint_area, recipe.inpaint_padding) == (6, "masked", 12)


def test_empty_state_then_try_the_demo_model_builds_it_and_generates(qtbot, studio_home: Path) -> None:
    from studio.generation.models import ModelCatalog
    from studio.ui.main_window import MainWindow

    config = load_config()
    window = MainWindow(config, ModelCatalog(config))
    qtbot.addWidget(window)
    window.show()
    tab, state = window.create_tab, window.create_state
    assert state.model_choice.show_empty_state and tab.stack.currentIndex() == 0
    assert "No model found on this machine." in tab.empty_text.text()
    assert "its images are abstract" in tab.empty_text.text()

    qtbot.mouseClick(tab.try_demo, Qt.MouseButton.LeftButton)
    assert not state.model_choice.show_empty_state and tab.stack.currentIndex() == 1
    assert state.model is not None and state.model.is_demo and not tab.model_picker.remove_model_action.isEnabled()
    chosen = tab.model_picker.model_combo.currentText()
    assert "demo" in chosen.lower() and "abstract" in chosen
    assert load_config()["default_model"] == "demo"

    texts: list[str] = []
    state.progress_text_changed.connect(texts.append)
    state.prompt, state.width, state.height, state.steps = "anything", 64, 64, 2
    click_generate(qtbot, window, timeout=120_000)
    assert "Building the demo model…" in texts
    assert state.results.rowCount() == 1 and state.error == ""
    assert (config.paths.demo_model_dir / "model_index.json").is_file()
    window.close()


def test_seeds_up_to_2_to_the_32_pass_between_the_field_and_the_state(qtbot, window) -> None:
    tab, state = window.create_tab, window.create_state
    state.random_seed = False
    state.seed = 1234
    state.random_seed = True  # ticked: the box shows no number that would not be used
    assert tab.seed_edit.text() == "" and not tab.seed_edit.isEnabled()
    assert "random" in tab.seed_edit.placeholderText()
    state.seed = 99
    assert tab.seed_edit.text() == ""
    state.random_seed = False
    assert tab.seed_edit.text() == "99"
    state.random_seed = True
    qtbot.mouseClick(tab.random_seed, Qt.MouseButton.LeftButton)
    assert not state.random_seed and tab.seed_edit.isEnabled()
    state.seed = 4_294_967_295
    assert tab.seed_edit.text() == "4294967295"
    tab.seed_edit.clear()
    qtbot.keyClicks(tab.seed_edit, "3000000001")
    assert state.seed == 3_000_000_001
    state.prompt = "a kite"
    assert state.build_request().seed == 3_000_000_001


def test_a_model_folder_added_from_the_empty_state_is_selected_and_generates(qtbot, studio_home: Path,
                                                                             demo_model_dir: Path,
                                                                             tmp_path: Path) -> None:
    import shutil

    from studio.generation.models import ModelCatalog
    from studio.ui.main_window import MainWindow

    folder = tmp_path / "my-model"
    shutil.copytree(demo_model_dir, folder)  # a user's own diffusers folder (SD 1.x architecture)
    config = load_config()
    window = MainWindow(config, ModelCatalog(config))
    qtbot.addWidget(window)
    window.show()
    tab, state = window.create_tab, window.create_state
    assert state.model_choice.show_empty_state

    with qtbot.waitSignal(state.model_choice.model_name_changed, timeout=30_000):
        state.model_choice.add_model(folder)  # what "Add model folder…" does with the chosen folder
    assert not state.model_choice.show_empty_state and tab.stack.currentIndex() == 1
    assert state.model is not None and not state.model.is_demo and state.model.name == "my-model"
    assert tab.model_picker.model_combo.currentData() == "my-model" and tab.model_picker.remove_model_action.isEnabled()
    assert (state.width, state.height) == (512, 512) and (512, 768) in state.model_choice.size_presets
    assert ModelCatalog(load_config()).has_user_models  # remembered for the next start

    state.prompt, state.width, state.height, state.steps = "my own model", 64, 64, 2
    click_generate(qtbot, window)
    assert state.error == "" and state.results.rowCount() == 1
    recipe = read_recipe(state.results.item(0).path)
    assert recipe.model_name == "my-model" and recipe.model_hash
    window.close()
