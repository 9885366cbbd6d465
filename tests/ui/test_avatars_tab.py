"""The Avatars tab offscreen: single avatars, a character sheet and a collection through the GPU lane."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

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

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "generation"))
from tiny_ip_adapter import build_tiny_ip_adapter  # noqa: E402

FACE_ID = "ip-adapter-faceid_sd15.bin"


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


@pytest.fixture(scope="module")
def tiny_adapter_folder(demo_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny real IP-Adapter for the demo model in h94's layout (built once for the module)."""
    root = tmp_path_factory.mktemp("adapter") / "IP-Adapter"
    build_tiny_ip_adapter(root, demo_model_dir)
    return root


@pytest.fixture
def adapter_tab(qtbot, demo_config: Config, tiny_adapter_folder: Path, tab: AvatarsTab) -> AvatarsTab:
    """The tab once the studio's models folder holds the tiny adapter and a FaceID-type file."""
    models = demo_config.paths.models_dir / "IP-Adapter"
    shutil.copytree(tiny_adapter_folder, models)
    # FaceID weights are refused before they are read (no InsightFace embeddings): a name is enough.
    (models / "models" / FACE_ID).write_bytes(b"not read")
    tab.state.refresh_adapters()
    qtbot.waitUntil(lambda: len(tab.state.adapter_choices) == 2, timeout=10_000)
    return tab


def photo_file(folder: Path) -> Path:
    image = Image.new("RGB", (96, 72), (200, 120, 40))
    for x in range(96):
        image.putpixel((x, x % 72), (10, 200, 90))
    path = folder / "me.png"
    image.save(path)
    return path


def wait_idle(qtbot, state: AvatarsState) -> None:
    qtbot.waitUntil(lambda: not state.busy, timeout=120_000)


@pytest.mark.slow
def test_single_avatar_from_the_tab_is_square_with_an_avatar_manifest_and_reaches_the_gallery(
        qtbot, tab: AvatarsTab, demo_config: Config) -> None:
    from studio.library.db import Library

    state = tab.state
    demo_config.set("preview_every", 1)
    qtbot.waitUntil(lambda: bool(state.adapters), timeout=10_000)
    assert "image-to-image" in tab.adapters_label.text() and "non-commercial" in tab.licence_label.text()
    assert "`studio" not in tab.adapters_label.text()  # the tab's help names no command line
    tab.prompt_edit.setPlainText("a fox astronaut")
    tab.preset_combo.setCurrentIndex(tab.preset_combo.findData("cyberpunk"))
    tab.seed_spin.setValue(11)
    assert (state.prompt, state.preset, state.seed) == ("a fox astronaut", "cyberpunk", 11)
    seen: list[tuple[str, str, bool]] = []
    state.progress_changed.connect(lambda p: seen.append((tab.status.text(), tab.progress.label.text(),
                                                          tab.status.isVisible())))
    with qtbot.waitSignal(state.preview_changed, timeout=60_000,
                          check_params_cb=lambda image: not image.isNull()):  # the avatar forming, live
        qtbot.mouseClick(tab.generate_button, Qt.MouseButton.LeftButton)
        assert state.busy and not tab.generate_button.isEnabled()
    assert tab.preview.isVisible() and not tab.preview.pixmap().isNull()
    wait_idle(qtbot, state)
    assert state.results.rowCount() == 1
    # the progress text is shown once, in the strip; the line below says how the job ended
    assert seen and all(status == "" and not visible for status, _strip, visible in seen)
    assert any(strip.startswith("step ") for _status, strip, _visible in seen)
    assert tab.status.text() == "Done: 1 avatar saved; the Gallery shows it." and not tab.preview.isVisible()
    path = state.results.item(0).path
    with Image.open(path) as image:
        assert image.size == (64, 64)
    manifest = SignedManifest.from_json(read_png_text(path)["studio:provenance"]).manifest
    assert manifest.pipeline == "avatar" and "cyberpunk portrait" in manifest.prompt and manifest.seed == 11
    with Library.default() as library:  # what the Gallery reads, also after a restart
        [work] = library.works()
        assert Path(work.path) == path.resolve() and work.model == "demo" and "fox astronaut" in work.prompt


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
def test_sheet_and_collection_from_the_tab_show_their_images_and_offer_the_mint(
        qtbot, tab: AvatarsTab, tmp_path: Path, demo_config: Config) -> None:
    from studio.library.db import Library

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
    assert not tab.mint_collection_button.isEnabled()  # nothing made in the default folder yet
    state.collection_count, state.collection_seed = 3, 2
    tab.out_edit.setText(str(tmp_path / "drop"))
    with qtbot.waitSignal(state.collection_done, timeout=120_000) as done:
        qtbot.mouseClick(tab.collection_button, Qt.MouseButton.LeftButton)
    result = done.args[0]
    wait_idle(qtbot, state)
    assert len(read_manifest(result.manifest)) == 3
    assert tab.rarity_table.rowCount() == len(result.rarity.shares) > 0
    grid = state.collection_results
    assert [grid.data(grid.index(row)) for row in range(grid.rowCount())] == ["#1", "#2", "#3"]
    assert [grid.item(row).path.name for row in range(3)] == [item.file for item in result.items]
    assert tab.mint_collection_button.isEnabled() and "Ready to mint" in tab.mint_hint.text()
    with qtbot.waitSignal(state.mint_collection_requested, timeout=3_000) as asked:
        qtbot.mouseClick(tab.mint_collection_button, Qt.MouseButton.LeftButton)
    assert asked.args == [result.manifest]
    with Library.default() as library:  # every avatar is in the Gallery, the collection's by number
        titles = sorted(w.title for w in library.works())
    assert titles[:3] == ["Demo Avatars #1", "Demo Avatars #2", "Demo Avatars #3"] and len(titles) == 5

    # a restart: choosing the folder shows what was made there, ready to mint
    again = AvatarsState(demo_config, state.catalog, state.lane, state.background)
    again.out_dir = str(tmp_path / "drop")
    qtbot.waitUntil(lambda: again.collection_results.rowCount() == 3, timeout=10_000)
    assert again.collection_manifest == str(result.manifest) and again.rarity is not None
    again.out_dir = str(tmp_path / "elsewhere")
    qtbot.waitUntil(lambda: again.collection_results.rowCount() == 0 and not again.collection_manifest,
                    timeout=10_000)
    assert not again.mint_collection()


def test_without_adapters_the_drop_down_offers_none_and_the_status_says_what_to_download(qtbot,
                                                                                       tab: AvatarsTab) -> None:
    state = tab.state
    qtbot.waitUntil(lambda: bool(state.adapters), timeout=10_000)
    for controls in (tab.single_adapter, tab.sheet_adapter):
        assert [controls.combo.itemText(i) for i in range(controls.combo.count())] == ["None"]
        assert not controls.combo.isEnabled() and not controls.scale_spin.isEnabled()
        assert controls.licence_check.isHidden() and controls.licence_label.isHidden()
    assert "No IP-Adapter found" in tab.adapters_label.text()
    assert "ip-adapter_sd15.safetensors" in tab.adapters_label.toolTip()


@pytest.mark.slow
def test_a_photo_through_the_chosen_adapter_is_recorded_in_the_manifest(qtbot, adapter_tab: AvatarsTab,
                                                                         tmp_path: Path) -> None:
    from studio.generation.engine import image_sha256
    from studio.generation.hashing import file_sha256

    tab, state = adapter_tab, adapter_tab.state
    combo = tab.single_adapter.combo
    labels = [combo.itemText(i) for i in range(combo.count())]
    assert labels == ["None", "ip-adapter-faceid_sd15 (FaceID, non-commercial, SD 1.5)",
                      "ip-adapter_sd15 (IP-Adapter, SD 1.5)"]
    combo.setCurrentIndex(combo.findData("ip-adapter_sd15.safetensors"))
    assert state.adapter == "ip-adapter_sd15.safetensors"
    assert tab.sheet_adapter.combo.currentData() == state.adapter          # one choice for both modes
    assert tab.single_adapter.licence_check.isHidden() and tab.single_adapter.scale_spin.isEnabled()
    tab.single_adapter.scale_spin.setValue(0.8)
    assert state.adapter_scale == pytest.approx(0.8)
    photo = photo_file(tmp_path)
    tab.photo_edit.setText(str(photo))
    tab.prompt_edit.setPlainText("me as a comic hero")
    tab.seed_spin.setValue(3)
    qtbot.mouseClick(tab.generate_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, state)
    assert state.status.startswith("Done: 1 avatar saved"), tab.error_banner.label.text()
    with Image.open(photo) as image:
        square = image_sha256(image.convert("RGB").crop((12, 0, 84, 72)))
    manifest = SignedManifest.from_json(read_png_text(state.results.item(0).path)["studio:provenance"]).manifest
    assert [(a.name, a.sha256, a.weight) for a in manifest.adapters] == [
        ("ip-adapter_sd15.safetensors", file_sha256(state.adapter_choices[1].path), pytest.approx(0.8))]
    assert [(p.role, p.sha256) for p in manifest.parents] == [("init", square), ("ip_adapter", square)]

    assert tab.strength_spin.isEnabled()
    tab.single_adapter.only_check.setChecked(True)
    assert state.photo_as_init is False and tab.sheet_adapter.only_check.isChecked()
    assert not tab.strength_spin.isEnabled()
    qtbot.mouseClick(tab.generate_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, state)
    assert state.results.rowCount() == 2 and state.status.startswith("Done: "), tab.error_banner.label.text()
    manifest = SignedManifest.from_json(read_png_text(state.results.item(0).path)["studio:provenance"]).manifest
    assert [(p.role, p.sha256) for p in manifest.parents] == [("ip_adapter", square)]
    assert manifest.adapters[0].name == "ip-adapter_sd15.safetensors"

    # FaceID, licence acknowledged: queued, then refused by the engine (no InsightFace embeddings), said in the tab
    combo.setCurrentIndex(combo.findData(FACE_ID))
    tab.single_adapter.licence_check.setChecked(True)
    qtbot.mouseClick(tab.generate_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, state)
    assert "face embeddings from InsightFace" in tab.error_banner.label.text() and state.results.rowCount() == 2

    combo.setCurrentIndex(0)
    assert state.adapter == "" and not tab.single_adapter.scale_spin.isEnabled() and tab.strength_spin.isEnabled()


def test_a_faceid_choice_needs_the_licence_ticked_before_anything_is_queued(qtbot, adapter_tab: AvatarsTab,
                                                                            tmp_path: Path) -> None:
    tab, state = adapter_tab, adapter_tab.state
    controls = tab.single_adapter
    assert controls.licence_check.isHidden()
    controls.combo.setCurrentIndex(controls.combo.findData(FACE_ID))
    assert state.adapter == FACE_ID
    assert controls.licence_check.isVisible() and controls.licence_label.isVisible()
    assert "non-commercial research only" in controls.licence_label.text()
    assert not controls.licence_check.isChecked()
    tab.photo_edit.setText(str(photo_file(tmp_path)))
    tab.prompt_edit.setPlainText("me")
    qtbot.mouseClick(tab.generate_button, Qt.MouseButton.LeftButton)
    assert "non-commercial research only" in tab.error_banner.label.text() and tab.error_banner.isVisible()
    assert not state.busy and state.lane.is_idle and state.results.rowCount() == 0

    state.mode = SHEET                        # the sheet shows the same choice and the same refusal
    assert tab.sheet_adapter.licence_check.isVisible()
    state.mode = "single"
    controls.licence_check.setChecked(True)
    assert state.licence_acknowledged and tab.sheet_adapter.licence_check.isChecked()
    tab.photo_edit.setText("")
    qtbot.mouseClick(tab.generate_button, Qt.MouseButton.LeftButton)
    assert "reads a photo" in tab.error_banner.label.text()   # past the licence: the next check speaks

    controls.combo.setCurrentIndex(controls.combo.findData("ip-adapter_sd15.safetensors"))
    assert controls.licence_check.isHidden() and controls.licence_label.isHidden()


@pytest.mark.slow
def test_a_collection_on_the_cluster_of_the_settings_shows_each_worker_as_it_goes(
        qtbot, tab: AvatarsTab, tmp_path: Path, demo_config: Config, ray_cluster: Any) -> None:
    state = tab.state
    assert tab.backend_label.text() == "Made on this computer."
    demo_config.set("generation_backend", "ray_cluster")
    demo_config.set("ray_address", ray_cluster.address)
    demo_config.set("ray_cpus_per_worker", 2)
    state.refresh_backend()  # as the window does when these settings change
    assert f"Ray cluster at {ray_cluster.address}" in tab.backend_label.text()
    assert tab.workers_table.isHidden()  # no run yet

    state.mode = COLLECTION
    state.collection_count, state.collection_seed = 4, 3
    tab.out_edit.setText(str(tmp_path / "drop"))
    seen: list[tuple[Any, ...]] = []
    state.workers_changed.connect(seen.append)
    with qtbot.waitSignal(state.collection_done, timeout=300_000) as done:
        qtbot.mouseClick(tab.collection_button, Qt.MouseButton.LeftButton)
    result = done.args[0]
    wait_idle(qtbot, state)
    assert len(read_manifest(result.manifest)) == 4 and result.report.done == 4
    assert state.collection_results.rowCount() == 4  # each avatar shown as it arrived

    # while it ran: each worker starting, then working
    states = {w.state for workers in seen for w in workers}
    assert {"starting", "working"} <= states
    # at the end: a row per worker, with where it ran and how many avatars it made
    table = tab.workers_table
    assert table.isVisible() and table.rowCount() == 2
    rows = [[table.item(row, column).text() for column in range(table.columnCount())]
            for row in range(table.rowCount())]
    assert sorted(row[0] for row in rows) == ["worker 1", "worker 2"]
    # a worker that was still starting when the others had made every avatar says so, with none made
    worked = [row for row in rows if row[2] != "starting"]
    assert worked and all(row[3] == "0" for row in rows if row[2] == "starting")
    assert all(row[1].startswith("node ") and row[1].endswith("2 threads") for row in worked)
    assert all(row[2] == "idle" and row[4] == "" for row in worked)
    assert sum(int(row[3]) for row in rows) == 4
    assert "Made on node " in state.status and ": 4." in state.status

    # back to this computer: the next run has no worker table
    demo_config.set("generation_backend", "this_computer")
    state.refresh_backend()
    assert tab.backend_label.text() == "Made on this computer."
    tab.out_edit.setText(str(tmp_path / "here"))
    with qtbot.waitSignal(state.collection_done, timeout=300_000):
        qtbot.mouseClick(tab.collection_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, state)
    assert tab.workers_table.isHidden() and state.workers == ()


@pytest.mark.slow
def test_cancel_during_a_cluster_collection_stops_the_workers_task_and_collection_again_continues(
        qtbot, tab: AvatarsTab, tmp_path: Path, demo_config: Config, ray_cluster: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from cluster_workers import HoldingWorker, stopped_tasks

    from studio.library.db import Library
    from studio.workflows.journal import read_done

    # the cluster's one worker makes two avatars, then holds the next until cancelled (a slow GPU)
    monkeypatch.setattr("studio.generation.cluster.RayNodeWorker", HoldingWorker)
    ray_cluster.clear_records()
    state = tab.state
    for key, value in (("generation_backend", "ray_cluster"), ("ray_address", ray_cluster.address),
                       ("ray_cpus_per_worker", 2), ("ray_max_workers", 1)):
        demo_config.set(key, value)
    state.refresh_backend()
    state.mode = COLLECTION
    state.collection_count, state.collection_seed = 4, 3
    out = tmp_path / "drop"
    tab.out_edit.setText(str(out))

    qtbot.mouseClick(tab.collection_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: state.collection_results.rowCount() == 2, timeout=300_000)
    assert tab.cancel_button.isEnabled()
    qtbot.mouseClick(tab.cancel_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, state)
    assert state.status == "Cancelled; what was finished is saved in the Gallery."
    assert 2 in stopped_tasks(ray_cluster.record_dir)  # the worker stopped the avatar it was making
    assert set(read_done(out)) == {0, 1}
    with Library.default() as library:  # in the Gallery, as logged
        assert {w.sha256 for w in library.works()} == set(read_done(out).values()) and len(library.works()) == 2

    with qtbot.waitSignal(state.collection_done, timeout=300_000) as done:  # the same run again continues
        qtbot.mouseClick(tab.collection_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, state)
    assert done.args[0].generated == 2 and len(read_manifest(done.args[0].manifest)) == 4
    assert set(read_done(out)) == {0, 1, 2, 3}
    with Library.default() as library:  # each avatar once: no row left from the cancelled run
        works = library.works()
    assert len(works) == 4 and len({w.title for w in works}) == 4
    assert {w.sha256 for w in works} == set(read_done(out).values())
