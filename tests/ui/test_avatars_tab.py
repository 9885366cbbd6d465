"""The Avatars tab offscreen: single avatars, a character sheet and a collection through the GPU lane."""
from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import Qt

from studio.config import Config
from studio.generation.models import ModelCatalog
from studio.provenance.manifest import SignedManifest
from studio.provenance.png_text import read_png_text
from studio.ui.main_window import engine_factory
from studio.ui.state.avatars import COLLECTION, SHEET, AvatarsState
from studio.ui.tabs.avatars import AvatarsTab
from studio.ui.workers import BackgroundPool, GpuLane
from studio.workflows.batch import read_manifest


@pytest.fixture
def tab(qtbot, demo_config: Config):
    demo_config.set("default_model", "demo")
    catalog = ModelCatalog(demo_config)
    lane = GpuLane(engine_factory(demo_config, catalog))
    background = BackgroundPool()
    state = AvatarsState(demo_config, catalog, lane, background)
    state.size, state.steps = 64, 2
    widget = AvatarsTab(state)
    qtbot.addWidget(widget)
    widget.resize(1100, 700)
    widget.show()
    yield widget
    lane.shutdown()
    background.shutdown()


def wait_idle(qtbot, state: AvatarsState) -> None:
    qtbot.waitUntil(lambda: not state.busy, timeout=120_000)


@pytest.mark.slow
def test_single_avatar_from_the_tab_is_square_with_an_avatar_manifest(qtbot, tab: AvatarsTab) -> None:
    state = tab.state
    qtbot.waitUntil(lambda: bool(state.adapters), timeout=10_000)
    assert "image-to-image" in tab.adapters_label.text() and "non-commercial" in tab.licence_label.text()
    tab.prompt_edit.setPlainText("a fox astronaut")
    tab.preset_combo.setCurrentIndex(tab.preset_combo.findData("cyberpunk"))
    tab.seed_spin.setValue(11)
    assert (state.prompt, state.preset, state.seed) == ("a fox astronaut", "cyberpunk", 11)
    qtbot.mouseClick(tab.generate_button, Qt.MouseButton.LeftButton)
    assert state.busy and not tab.generate_button.isEnabled()
    wait_idle(qtbot, state)
    assert state.results.rowCount() == 1 and state.status == "Done."
    path = state.results.item(0).path
    with Image.open(path) as image:
        assert image.size == (64, 64)
    manifest = SignedManifest.from_json(read_png_text(path)["studio:provenance"]).manifest
    assert manifest.pipeline == "avatar" and "cyberpunk portrait" in manifest.prompt and manifest.seed == 11


def test_problems_are_shown_before_anything_is_queued(qtbot, tab: AvatarsTab, tmp_path: Path) -> None:
    state = tab.state
    qtbot.mouseClick(tab.generate_button, Qt.MouseButton.LeftButton)
    assert "Describe the avatar" in tab.error_banner.label.text() and not state.busy
    state.mode = SHEET
    assert tab.pages.currentIndex() == 1 and tab.mode_buttons[SHEET].isChecked()
    qtbot.mouseClick(tab.sheet_button, Qt.MouseButton.LeftButton)
    assert "Choose a reference image first" in tab.error_banner.label.text()
    state.mode = COLLECTION
    assert "possible avatars" in tab.possible_label.text()
    state.collection_count = 5000
    qtbot.mouseClick(tab.collection_button, Qt.MouseButton.LeftButton)
    assert "fewer than the 5,000 asked for" in tab.error_banner.label.text()
    state.template = "{hat} only"
    assert "names {hat}" in tab.possible_label.text()
    assert state.lane.is_idle


def test_trait_table_edits_load_and_save(qtbot, tab: AvatarsTab, tmp_path: Path) -> None:
    state = tab.state
    rows = state.traits.rowCount()
    assert rows == 22 and tab.template_edit.text().startswith("portrait of a {expression}")
    before = state.possible
    row = state.traits.add_row("Background")
    for column, value in ((1, "Lava"), (2, "4"), (3, "flowing lava")):
        state.traits.setData(state.traits.index(row, column), value)
    assert state.possible != before
    state.traits.setData(state.traits.index(row, 2), "heavy")
    assert "weight “heavy” is not a number" in state.possible
    state.traits.setData(state.traits.index(row, 2), "4")
    assert state.save_traits(tmp_path / "mine.json")
    state.traits.remove_rows([row])
    assert state.traits.rowCount() == rows
    assert state.load_traits(tmp_path / "mine.json") and state.traits.rowCount() == rows + 1
    assert state.traits.to_table(state.template).category("Background").value("Lava").weight == 4.0


@pytest.mark.slow
def test_sheet_and_collection_from_the_tab(qtbot, tab: AvatarsTab, tmp_path: Path) -> None:
    state = tab.state
    reference = tmp_path / "ref.png"
    Image.new("RGB", (64, 64), (90, 30, 160)).save(reference)
    state.mode = SHEET
    tab.reference_edit.setText(str(reference))
    state.sheet_count, state.seed = 2, 4
    with qtbot.waitSignal(state.sheet_ready, timeout=120_000) as ready:
        qtbot.mouseClick(tab.sheet_button, Qt.MouseButton.LeftButton)
    assert state.sheet_results.rowCount() == 2 and ready.args[0].grid.is_file()
    tab.sheet_grid.setCurrentIndex(state.sheet_results.index(1, 0))
    qtbot.mouseClick(tab.use_reference_button, Qt.MouseButton.LeftButton)
    assert state.reference_path == str(state.sheet_results.item(1).path)
    wait_idle(qtbot, state)

    state.mode = COLLECTION
    state.collection_count, state.collection_seed = 3, 2
    tab.out_edit.setText(str(tmp_path / "drop"))
    with qtbot.waitSignal(state.collection_done, timeout=120_000) as done:
        qtbot.mouseClick(tab.collection_button, Qt.MouseButton.LeftButton)
    result = done.args[0]
    assert len(read_manifest(result.manifest)) == 3
    assert tab.rarity_table.rowCount() == len(result.rarity.shares) > 0
    assert tab.mint_edit.text() == f"studio batch-mint {result.manifest} --collection ADDRESS"
