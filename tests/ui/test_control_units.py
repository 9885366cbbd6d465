"""The Create tab's ControlNet units: added and removed in the window, each with its map thumbnail
made in the background, refused with the unit named when its model or picture is missing, two units
generating together and recorded, and a two-unit work sent back to Create by PNG Info. Tiny
ControlNets of the demo model's shape (random weights), the real window offscreen."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage
from PySide6.QtWidgets import QApplication

from studio.generation.engine import image_sha256
from studio.ui.state.control_units import MAX_UNITS, ControlUnitState
from studio.workflows.generate import read_recipe

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "generation"))
from tiny_control import tiny_controlnet  # noqa: E402


def shapes(path: Path, size: int = 96) -> Path:
    image = Image.new("RGB", (size, size), (240, 240, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 12, 50, 60), fill=(20, 20, 20))
    draw.ellipse((40, 40, 90, 90), fill=(200, 30, 30))
    image.save(path)
    return path


def map_pixels(unit: ControlUnitState) -> np.ndarray:
    image = unit.map_image
    assert isinstance(image, QImage) and not image.isNull()
    rgba = image.convertToFormat(QImage.Format.Format_RGBA8888)
    raw = bytes(rgba.constBits())[: rgba.bytesPerLine() * rgba.height()]
    return np.frombuffer(raw, np.uint8).reshape(rgba.height(), rgba.bytesPerLine() // 4, 4)[:, :rgba.width(), :3]


def test_units_are_added_removed_and_numbered_in_the_window(qtbot, window) -> None:
    panel, units = window.create_tab.options_panel.control_units, window.create_state.options.control
    assert len(units) == 0 and not panel.empty_label.isHidden()
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    assert len(units) == 2 and panel.empty_label.isHidden()
    first, second = units.items
    assert [panel.box(i).title.text() for i in range(2)] == ["UNIT 1", "UNIT 2"]
    second.preprocessor, second.weight = "canny", 0.6
    box = panel.boxes[second]
    assert box.preprocessor.currentData() == "canny" and box.weight.value() == 0.6
    assert not box.thresholds.isHidden() and panel.boxes[first].thresholds.isHidden()
    box.start.setValue(0.2)
    box.end.setValue(0.7)
    assert (second.start, second.end) == (0.2, 0.7)

    qtbot.mouseClick(panel.boxes[first].remove_button, Qt.MouseButton.LeftButton)
    assert units.items == (second,) and second.number == 1 and list(panel.boxes) == [second]
    assert box.title.text() == "UNIT 1"
    while units.can_add():
        qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    assert len(units) == MAX_UNITS and not panel.add_button.isEnabled()
    qtbot.mouseClick(panel.box(0).remove_button, Qt.MouseButton.LeftButton)
    assert len(units) == MAX_UNITS - 1 and panel.add_button.isEnabled() and len(panel.boxes) == MAX_UNITS - 1


def test_a_units_canny_map_appears_and_follows_its_thresholds_and_preprocessor(qtbot, window,
                                                                              tmp_path: Path) -> None:
    panel, units = window.create_tab.options_panel.control_units, window.create_state.options.control
    unit = units.add()
    box = panel.boxes[unit]
    assert box.map_view.isHidden() and "Choose a picture" in box.map_status.text()
    unit.preprocessor = "canny"
    picture = shapes(tmp_path / "shapes.png")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(picture))])  # dropped on the unit: its picture (not a file to verify)
    copy, left, none = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QApplication.sendEvent(box, QDragEnterEvent(QPoint(5, 5), copy, mime, left, none))
    QApplication.sendEvent(box, QDropEvent(QPointF(5, 5), copy, mime, left, none))
    assert unit.image == str(picture) and box.choose_image.text() == "shapes.png"
    qtbot.waitUntil(lambda: unit.map_image is not None, timeout=30_000)
    assert not box.map_view.isHidden() and not box.map_view.pixmap().isNull() and box.map_error_box.isHidden()
    edges = map_pixels(unit)
    assert edges.shape[:2] == (96, 96) and edges.max() > 200  # white edges on black
    assert (edges == 0).mean() > 0.5 and box.map_status.isHidden()

    box.low_threshold.setValue(1000)
    box.high_threshold.setValue(1020)  # stronger than any edge: an empty map
    assert (unit.low_threshold, unit.high_threshold) == (1000, 1020)
    qtbot.waitUntil(lambda: not unit.map_busy and map_pixels(unit).max() == 0, timeout=30_000)

    box.preprocessor.setCurrentIndex(box.preprocessor.findData("none"))
    box.preprocessor.activated.emit(box.preprocessor.currentIndex())
    assert unit.preprocessor == "none" and box.thresholds.isHidden()
    qtbot.waitUntil(lambda: not unit.map_busy and map_pixels(unit).max() > 0, timeout=30_000)
    picture = map_pixels(unit)
    assert tuple(picture[75, 75]) == pytest.approx((200, 30, 30), abs=3)  # "none": the picture itself


def test_a_map_asked_for_earlier_never_replaces_the_latest(qtbot, window, tmp_path: Path) -> None:
    unit = window.create_state.options.control.add()
    unit.preprocessor, unit.image = "canny", str(shapes(tmp_path / "shapes.png", 400))
    slow = unit.make_map()  # a canny map of a large picture, then at once the picture itself
    unit.preprocessor = "none"
    latest = unit.make_map()
    assert slow is not None and latest is not None and slow is not latest
    qtbot.waitUntil(lambda: slow.state.value in ("done", "cancelled", "failed") and not unit.map_busy,
                    timeout=30_000)
    qtbot.wait(50)  # the slow job's queued answer, if it came last, is delivered by now
    assert tuple(map_pixels(unit)[32, 32]) == pytest.approx((200, 30, 30), abs=3)  # the picture, halved


def test_a_preprocessor_without_its_model_or_a_gone_picture_says_so_in_the_unit(qtbot, window,
                                                                               tmp_path: Path) -> None:
    panel, units = window.create_tab.options_panel.control_units, window.create_state.options.control
    unit = units.add()
    box = panel.boxes[unit]
    unit.image = str(shapes(tmp_path / "shapes.png"))
    unit.preprocessor = "depth"
    qtbot.waitUntil(lambda: unit.map_error != "", timeout=30_000)
    assert "depth preprocessor needs a depth-estimation model" in unit.map_error
    assert not box.map_error_box.isHidden() and "annotators" in box.map_error.text() and box.map_view.isHidden()
    unit.preprocessor, unit.image = "lineart", str(tmp_path / "gone.png")
    qtbot.waitUntil(lambda: "does not exist" in unit.map_error, timeout=30_000)
    assert unit.map_image is None and "gone.png" in box.map_error.text()


def test_a_unit_missing_its_model_or_picture_is_refused_naming_the_unit(qtbot, window, tmp_path: Path) -> None:
    state, units = window.create_state, window.create_state.options.control
    state.prompt = "a boat"
    model = tmp_path / "controlnet-canny"
    model.mkdir()
    first, second = units.add(str(model)), units.add()
    first.image = str(shapes(tmp_path / "shapes.png"))
    assert state.generate() is None and "Control unit 2 has no model" in state.error
    second.model = str(tmp_path / "gone.safetensors")
    assert state.generate() is None and state.error.startswith("Control unit 2: the model")
    assert "gone.safetensors does not exist" in state.error
    second.model = str(model)
    assert state.generate() is None and "Control unit 2 needs a control picture" in state.error
    second.image = str(tmp_path / "gone.png")
    assert state.generate() is None and "Control unit 2: the control picture" in state.error
    second.image, second.start, second.end = first.image, 0.8, 0.3
    assert state.generate() is None and "Control unit 2: start 0.8 and end 0.3" in state.error
    second.start, second.end, second.preprocessor = 0.0, 1.0, "canny"
    second.low_threshold, second.high_threshold = 300, 100
    assert state.generate() is None and "Control unit 2: the low Canny threshold is above the high one" in state.error
    assert state.lane.is_idle and not window.create_tab.error_banner.isHidden()


@pytest.mark.slow
def test_two_units_generate_together_are_recorded_and_come_back_with_send_to_create(
        qtbot, window, demo_model_dir: Path, tmp_path: Path) -> None:
    state, tab = window.create_state, window.create_tab
    models = state.config.paths.models_dir
    edges_net = tiny_controlnet(demo_model_dir, models, seed=1)
    lines_net = tiny_controlnet(demo_model_dir, models, seed=2, as_file=True)
    picture = shapes(tmp_path / "shapes.png", 64)
    units = state.options.control
    first, second = units.add(str(edges_net)), units.add(str(lines_net))
    first.image, first.preprocessor, first.low_threshold, first.high_threshold = str(picture), "canny", 50, 150
    second.image, second.preprocessor, second.weight, second.start, second.end = str(picture), "lineart", 0.7, 0.1, 0.8
    state.prompt, state.random_seed, state.seed = "a boat", False, 11
    with qtbot.waitSignal(state.job_finished, timeout=120_000):
        qtbot.mouseClick(tab.generate_button, Qt.MouseButton.LeftButton)
    assert state.error == "" and state.results.rowCount() == 1
    work = state.results.items[0].path
    recipe = read_recipe(work)
    sha = image_sha256(Image.open(picture).convert("RGB"))
    assert [(r.model_name, r.preprocessor, r.image_sha256) for r in recipe.control] == [
        ("controlnet-tiny-1", "canny", sha), ("control-tiny-2.safetensors", "lineart", sha)]
    assert (recipe.control[0].low_threshold, recipe.control[0].high_threshold) == (50, 150)
    assert (recipe.control[1].weight, recipe.control[1].start, recipe.control[1].end) == (0.7, 0.1, 0.8)

    units.clear()
    assert len(units) == 0 and not tab.options_panel.control_units.boxes
    with qtbot.waitSignal(state.prompts.png_info_ready_changed, timeout=30_000):
        state.prompts.read_png_info(work)
    qtbot.mouseClick(tab.png_info.send, Qt.MouseButton.LeftButton)
    back = units.items
    assert [(Path(u.model), u.preprocessor, u.image) for u in back] == [(edges_net, "canny", ""),
                                                                         (lines_net, "lineart", "")]
    assert (back[0].low_threshold, back[0].high_threshold) == (50, 150)
    assert (back[1].weight, back[1].start, back[1].end) == (0.7, 0.1, 0.8)
    panel = tab.options_panel.control_units
    assert [panel.box(i).model_label.text() for i in range(2)] == ["controlnet-tiny-1", "control-tiny-2.safetensors"]
    assert "choose each unit's picture again" in tab.warning_banner.label.text()
    assert state.generate() is None and "Control unit 1 needs a control picture" in state.error
