"""The Gallery tab with pytest-qt: a real library, real image files and real widgets, offscreen."""
from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path
from typing import Iterator

import pytest
from PIL import Image
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from studio.config import Config, load_config
from studio.library.db import Library, Token, Work, WorkQuery
from studio.provenance.embed import write_png_with_provenance
from studio.provenance.manifest import Manifest, SignedManifest, pixel_hash
from studio.ui.state.gallery import PAGE, GalleryState
from studio.ui.tabs.gallery import GalleryTab
from studio.ui.widgets.thumbnails import ThumbnailLoader
from studio.ui.workers import BackgroundPool
from studio.workflows.library import add_saved_work

ADDRESS = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
ARTIST = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def studio_png(path: Path, seed: int, prompt: str, model: str = "demo") -> Path:
    rng = random.Random(seed)
    image = Image.frombytes("RGB", (48, 48), rng.randbytes(48 * 48 * 3))
    manifest = Manifest(
        generator_name="provenance-studio", generator_version="0.1.0", model_name=model, model_sha256="ab" * 32,
        model_family="sd1", pipeline="txt2img", prompt=prompt, negative_prompt="", seed=seed, steps=2,
        guidance=6.5, scheduler="euler_a", width=48, height=48, created="2026-11-28T12:00:00Z",
        pixel_hash=pixel_hash(image), device="cpu", dtype="float32")
    write_png_with_provenance(image, path, SignedManifest(manifest), parameters=prompt, c2pa_credentials=None)
    return path


@pytest.fixture
def config(studio_home: Path) -> Config:
    return load_config()


@pytest.fixture
def library(config: Config) -> Iterator[Library]:
    lib = Library.default()
    yield lib
    lib.close()


@pytest.fixture
def works(config: Config, library: Library) -> list[Work]:
    """Five studio works in the works folder: two foxes (one favourite, one made with sdxl), three others."""
    prompts = [("a red fox in the snow", "demo"), ("a harbour at night", "demo"), ("a fox cub asleep", "sdxl"),
               ("a castle on a hill", "demo"), ("a koi pond", "demo")]
    made = [add_saved_work(library, studio_png(config.paths.works_dir / f"w{n}.png", n, prompt, model))
            for n, (prompt, model) in enumerate(prompts)]
    library.update_work(made[0].id, favourite=True)
    return made


@pytest.fixture
def tab(qtbot, config: Config, library: Library, pool: BackgroundPool) -> Iterator[GalleryTab]:
    state = GalleryState(config, library, pool)
    widget = GalleryTab(state)
    qtbot.addWidget(widget)
    widget.resize(1200, 760)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    state.shutdown()


def shown_titles(tab: GalleryTab) -> list[str]:
    model = tab.state.model
    return [model.data(model.index(row)) for row in range(model.rowCount())]


def test_the_grid_shows_every_work_newest_first_with_thumbnails_from_the_disk_cache(qtbot, tab: GalleryTab,
                                                                                   works: list[Work],
                                                                                   config: Config) -> None:
    tab.state.refresh()
    assert tab.stack.currentIndex() == 1 and tab.grid_stack.currentIndex() == 0
    assert sorted(shown_titles(tab)) == sorted(work.title for work in works)
    assert tab.count_label.text() == "5 works shown"
    loader = tab.state.loader
    qtbot.waitUntil(lambda: loader.cached_count == 5, timeout=10_000)
    assert all(loader.pixmap(work.sha256) is not None for work in works)
    thumbs = list((config.paths.cache_dir / "thumbnails").rglob("*.jpg"))
    assert len(thumbs) == 5


@pytest.mark.parametrize("processes", [True, False], ids=["helper-process", "worker-thread"])
def test_missing_thumbnails_are_made_in_a_helper_process_or_on_the_worker_thread(
        qtbot, config: Config, works: list[Work], processes: bool) -> None:
    loader = ThumbnailLoader(config.paths.cache_dir, processes=processes)
    loaded: list[str] = []
    loader.loaded.connect(loaded.extend)
    for work in works[:2]:
        loader.request(work.sha256, work.path)
    loader.request("ee" * 32, str(config.paths.works_dir / "gone.png"))
    qtbot.waitUntil(lambda: len(loaded) == 3, timeout=20_000)
    assert all(loader.pixmap(work.sha256) is not None for work in works[:2])
    assert loader.failed("ee" * 32) and loader.pixmap("ee" * 32) is None
    assert len(list((config.paths.cache_dir / "thumbnails").rglob("*.jpg"))) == 2
    assert loader.use_processes is processes  # the helper did not fail over to the thread
    assert loader.shutdown()


def test_a_helper_process_that_cannot_take_work_leaves_thumbnails_to_the_worker_thread(
        qtbot, config: Config, works: list[Work], monkeypatch) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from studio.ui.widgets import thumbnails

    closed = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    closed.shutdown()  # submitting now raises, as for a helper that died
    monkeypatch.setattr(thumbnails, "_helpers", closed)
    loader = ThumbnailLoader(config.paths.cache_dir, processes=True)
    loader.request(works[0].sha256, works[0].path)
    qtbot.waitUntil(lambda: loader.pixmap(works[0].sha256) is not None, timeout=20_000)
    assert not loader.use_processes and thumbnails._helpers is None  # a fresh helper is started next time
    assert loader.shutdown()


def test_cells_are_drawn_once_and_redrawn_when_what_they_show_changes(qtbot, tab: GalleryTab, works: list[Work],
                                                                     library: Library) -> None:
    tab.state.refresh()
    loader, delegate, grid = tab.state.loader, tab.grid.itemDelegate(), tab.grid
    qtbot.waitUntil(lambda: loader.cached_count == 5, timeout=20_000)
    grid.viewport().grab()
    drawn = delegate.cached_cells
    assert drawn >= 5
    before = grid.viewport().grab().toImage()
    assert delegate.cached_cells == drawn          # painted again from the cache, nothing redrawn
    row = tab.state.model.row_of_work(works[1].id)
    changed = replace(library.work(works[1].id), favourite=True)
    tab.state.model.update_work(changed)            # the star appears: that cell alone is drawn anew
    after = grid.viewport().grab().toImage()
    assert delegate.cached_cells == drawn + 1
    cell = grid.visualRect(tab.state.model.index(row))
    assert any(before.pixel(x, y) != after.pixel(x, y)
               for x in range(cell.left(), cell.right(), 3) for y in range(cell.top(), cell.bottom(), 3))
    delegate.clear_cache()
    assert delegate.cached_cells == 0


def test_typing_a_search_narrows_the_grid_and_clearing_it_shows_all(qtbot, tab: GalleryTab,
                                                                    works: list[Work]) -> None:
    tab.state.refresh()
    qtbot.keyClicks(tab.search, "fox")
    qtbot.waitUntil(lambda: tab.state.count == 2, timeout=3_000)
    assert sorted(shown_titles(tab)) == ["a fox cub asleep", "a red fox in the snow"]
    tab.search.setText("zebra")
    qtbot.waitUntil(lambda: tab.state.count == 0, timeout=3_000)
    assert tab.grid_stack.currentIndex() == 1 and tab.no_match.isVisible()
    tab.search.clear()
    qtbot.waitUntil(lambda: tab.state.count == 5, timeout=3_000)


def test_filters_by_model_favourites_and_minted_status(qtbot, tab: GalleryTab, works: list[Work],
                                                       library: Library) -> None:
    library.record_tokens([Token(1337, ADDRESS, 0, works[3].id, None, None, "0x1", ARTIST, 1.0)])
    tab.state.refresh()
    assert [tab.model_filter.itemText(i) for i in range(tab.model_filter.count())] == ["All models", "demo", "sdxl"]
    tab.model_filter.setCurrentIndex(tab.model_filter.findData("sdxl"))
    assert shown_titles(tab) == ["a fox cub asleep"]
    tab.model_filter.setCurrentIndex(0)
    tab.favourites.click()
    assert shown_titles(tab) == ["a red fox in the snow"]
    tab.favourites.click()
    tab.status_filter.setCurrentIndex(tab.status_filter.findData("minted"))
    assert shown_titles(tab) == ["a castle on a hill"]
    tab.status_filter.setCurrentIndex(tab.status_filter.findData("not-minted"))
    assert tab.state.count == 4
    tab.sort.setCurrentIndex(tab.sort.findData("title"))
    assert shown_titles(tab) == ["a fox cub asleep", "a harbour at night", "a koi pond", "a red fox in the snow"]


def test_selecting_a_work_shows_its_recipe_and_verified_provenance(qtbot, tab: GalleryTab,
                                                                   works: list[Work]) -> None:
    tab.state.refresh()
    tab.state.set_sort("oldest")
    recipes: list[object] = []
    tab.state.use_settings_requested.connect(recipes.append)
    with qtbot.waitSignal(tab.state.detail_changed, timeout=3_000):
        tab.select_row(0)
    pane = tab.detail
    assert pane.content.isVisible() and pane.title.text() == "a red fox in the snow"
    assert pane.prompt.toPlainText() == "a red fox in the snow"
    assert (pane.model.text(), pane.seed.text(), pane.size_label.text()) == ("demo", "0", "48 × 48")
    assert pane.source.text() == "Provenance Studio manifest" and pane.tokens.text() == "Not minted"
    assert pane.model.textFormat() == Qt.TextFormat.PlainText and pane.verify.textFormat() == Qt.TextFormat.PlainText
    qtbot.waitUntil(lambda: pane.verify.text().startswith("Verified"), timeout=30_000)
    assert "pixels match" in pane.verify.text()
    qtbot.waitUntil(lambda: pane.image.pixmap() is not None and not pane.image.pixmap().isNull(), timeout=10_000)
    pane.use_settings.click()
    assert recipes == [Path(works[0].path)]  # the file: the Create tab reads its whole recipe from it
    pane.copy_prompt.click()
    from PySide6.QtGui import QGuiApplication

    assert QGuiApplication.clipboard().text() == "a red fox in the snow"


def test_a_tampered_file_is_reported_in_the_detail_pane(qtbot, tab: GalleryTab, config: Config,
                                                        library: Library) -> None:
    path = studio_png(config.paths.works_dir / "t.png", 9, "a lighthouse")
    work = add_saved_work(library, path)
    with Image.open(path) as image:       # repaint one pixel, keep the metadata
        pixels = image.copy()
        info = dict(image.text)
    pixels.putpixel((0, 0), (255, 0, 0))
    from PIL.PngImagePlugin import PngInfo

    meta = PngInfo()
    for key, value in info.items():
        meta.add_itxt(key, value) if key == "studio:provenance" else meta.add_text(key, value)
    pixels.save(path, pnginfo=meta)
    tab.state.refresh()
    tab.select_row(0)
    assert tab.state.detail.work.id == work.id
    qtbot.waitUntil(lambda: tab.detail.verify.text().startswith("Tampered"), timeout=30_000)


def test_delete_key_moves_to_trash_and_restore_brings_it_back(qtbot, tab: GalleryTab, works: list[Work],
                                                              library: Library) -> None:
    tab.state.refresh()
    tab.grid.setFocus()
    tab.select_row(1)
    doomed = tab.state.detail.work
    qtbot.keyClick(tab.grid, Qt.Key.Key_Delete)
    assert tab.state.count == 4 and doomed.title not in shown_titles(tab)
    assert library.work(doomed.id).in_trash
    assert "Moved 1 work to the trash." in tab.message_line.label.text()
    tab.trash_view.click()
    assert shown_titles(tab) == [doomed.title] and tab.empty_trash.isVisible()
    assert tab.count_label.text() == "1 work in the trash"
    tab.select_row(0)
    assert tab.detail.restore.isVisible() and not tab.detail.delete.isVisible()
    qtbot.keyClick(tab.grid, Qt.Key.Key_Delete)           # Delete in the trash does nothing
    assert library.work(doomed.id).in_trash
    tab.detail.restore.click()
    assert tab.state.count == 0 and tab.no_match.text() == "The trash is empty."
    tab.trash_view.click()
    assert tab.state.count == 5 and not library.work(doomed.id).in_trash


def test_emptying_the_trash_deletes_the_studios_copy(qtbot, tab: GalleryTab, works: list[Work],
                                                     library: Library, monkeypatch: pytest.MonkeyPatch) -> None:
    tab.state.refresh()
    tab.select_row(0)
    doomed = tab.state.detail.work
    tab.detail.delete.click()
    tab.trash_view.click()
    monkeypatch.setattr(QMessageBox, "question", lambda *args, **kwargs: QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(tab.state.message_changed, timeout=10_000):
        tab.empty_trash.click()
    assert "Removed 1 work for good" in tab.state.message
    assert library.work(doomed.id) is None and not Path(doomed.path).exists()
    assert tab.state.count == 0


def test_a_minted_work_is_kept_out_of_the_trash_with_a_message(qtbot, tab: GalleryTab, works: list[Work],
                                                               library: Library) -> None:
    library.record_tokens([Token(1337, ADDRESS, 7, works[0].id, None, None, "0x1", ARTIST, 1.0)])
    tab.state.refresh()
    tab.state.set_status_filter("minted")
    tab.select_row(0)
    assert tab.detail.tokens.text().startswith("#7 in") and not tab.detail.delete.isEnabled()
    tab.grid.setFocus()
    qtbot.keyClick(tab.grid, Qt.Key.Key_Delete)
    assert "minted" in tab.error_line.label.text() and tab.error_line.isVisible()
    assert not library.work(works[0].id).in_trash


def test_enter_opens_the_detail_and_arrows_move_the_selection(qtbot, tab: GalleryTab, works: list[Work]) -> None:
    tab.state.refresh()
    tab.splitter.setSizes([1200, 0])
    tab.grid.setFocus()
    tab.select_row(0)
    qtbot.keyClick(tab.grid, Qt.Key.Key_Right)
    assert tab.grid.currentIndex().row() == 1
    assert tab.state.detail.work.title == shown_titles(tab)[1]
    with qtbot.waitSignal(tab.state.detail_requested, timeout=2_000):
        qtbot.keyClick(tab.grid, Qt.Key.Key_Return)
    assert tab.splitter.sizes()[1] > 0


def test_dragging_works_out_carries_their_files(tab: GalleryTab, works: list[Work]) -> None:
    tab.state.refresh()
    model = tab.state.model
    indexes = [model.index(0), model.index(1)]
    mime = model.mimeData(indexes)
    paths = sorted(url.toLocalFile() for url in mime.urls())
    assert paths == sorted(model.data(index, model.PathRole) for index in indexes)
    assert all(Path(path).is_file() for path in paths)
    assert model.flags(indexes[0]) & Qt.ItemFlag.ItemIsDragEnabled
    assert model.supportedDragActions() == Qt.DropAction.CopyAction
    assert tab.grid.dragEnabled()


def test_favourite_and_tags_edits_are_saved_and_searchable(qtbot, tab: GalleryTab, works: list[Work],
                                                           library: Library) -> None:
    tab.state.refresh()
    tab.state.set_search("koi")
    tab.select_row(0)
    tab.detail.favourite.click()
    assert library.work(tab.state.detail.work.id).favourite and tab.detail.favourite.text() == "★ Favourite"
    tab.detail.tags.setFocus()
    tab.detail.tags.setText("water, Japan")
    qtbot.keyClick(tab.detail.tags, Qt.Key.Key_Return)
    assert library.work(tab.state.detail.work.id).tags == ("water", "Japan")
    assert shown_titles(tab) == ["a koi pond"] and tab.state.model.data(tab.state.model.index(0),
                                                                       tab.state.model.FavouriteRole)
    tab.state.set_search("japan")
    assert shown_titles(tab) == ["a koi pond"]


def test_empty_state_explains_and_an_imported_folder_fills_the_grid(qtbot, tab: GalleryTab, tmp_path: Path) -> None:
    assert tab.stack.currentIndex() == 0 and tab.state.library_empty
    folder = tmp_path / "pictures"
    folder.mkdir()
    studio_png(folder / "one.png", 1, "imported lighthouse")
    Image.new("RGB", (20, 20), "teal").save(folder / "plain.jpg")
    (folder / "readme.txt").write_text("hello")
    with qtbot.waitSignal(tab.state.message_changed, timeout=20_000):
        tab.state.import_folder(folder)
    assert tab.state.message.startswith("Imported 2 works, 1 skipped.")
    assert "readme.txt" in tab.state.message
    assert tab.stack.currentIndex() == 1 and tab.state.count == 2


def test_a_work_added_by_another_connection_appears_when_the_tab_is_shown(qtbot, tab: GalleryTab, config: Config,
                                                                          library: Library) -> None:
    with Library.default() as other:                      # as a generation job does
        add_saved_work(other, studio_png(config.paths.works_dir / "new.png", 3, "a new moon"))
    assert tab.state.count == 0
    tab.hide()
    tab.show()
    qtbot.waitUntil(lambda: tab.state.count == 1, timeout=3_000)
    assert not tab.state.refresh_if_changed()


def test_pages_are_fetched_only_as_rows_are_shown(qtbot, config: Config, library: Library,
                                                  pool: BackgroundPool) -> None:
    library.add_works([(Work(0, f"/missing/{n}.png", f"{n:064x}", None, f"work {n:04d}", "", "demo", float(n),
                             8, 8), None) for n in range(PAGE * 2 + 50)])
    state = GalleryState(config, library, pool)
    model = state.model
    assert model.rowCount() == PAGE * 2 + 50 and model._pages == {}
    assert model.data(model.index(PAGE * 2 + 10)) == "work 0039"
    assert list(model._pages) == [2]
    assert model.data(model.index(0)) == f"work {PAGE * 2 + 49:04d}"
    assert sorted(model._pages) == [0, 2]
    assert model.data(model.index(PAGE * 2 + 50)) is None and model.data(QModelIndex()) is None
    model.data(model.index(0), Qt.ItemDataRole.DecorationRole)    # a missing file: marked, never retried
    qtbot.waitUntil(lambda: state.loader.failed(f"{PAGE * 2 + 49:064x}"), timeout=5_000)
    state.shutdown()


def test_thumbnails_far_apart_repaint_only_their_own_rows(qtbot, config: Config, library: Library,
                                                          pool: BackgroundPool) -> None:
    """A batch of thumbnails for rows far apart must not signal every row in between: an icon-mode
    view re-measures each row of a dataChanged range, thousands of them on the GUI thread."""
    count = PAGE * 2 + 50
    library.add_works([(Work(0, f"/missing/{n}.png", f"{n:064x}", None, f"work {n:04d}", "", "demo", float(n),
                             8, 8), None) for n in range(count)])
    state = GalleryState(config, library, pool)
    model = state.model
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda first, last, _roles=(): changed.append((first.row(), last.row())))
    for row in (0, 1, PAGE * 2 + 10):
        model.data(model.index(row), Qt.ItemDataRole.DecorationRole)
    shas = [model.data(model.index(row), model.Sha256Role) for row in (0, 1, PAGE * 2 + 10)]
    qtbot.waitUntil(lambda: all(state.loader.failed(sha) for sha in shas), timeout=5_000)
    assert sorted(changed) == [(0, 1), (PAGE * 2 + 10, PAGE * 2 + 10)] or sorted(changed) == [
        (0, 0), (1, 1), (PAGE * 2 + 10, PAGE * 2 + 10)]   # one batch, or the first two in separate ones
    assert model.row_of_work(model.data(model.index(PAGE * 2 + 10), model.WorkIdRole)) == PAGE * 2 + 10
    state.shutdown()


def test_a_library_failure_keeps_the_saved_image_and_warns(tmp_path: Path, config: Config) -> None:
    from studio.generation.request import Recipe
    from studio.ui.state.jobs import not_recorded
    from studio.workflows.generate import SavedWork, record_work

    recipe = Recipe("p", "", "demo", "ab" * 32, "sd1", 1, 2, 6.5, 64, 64, "euler_a", "txt2img")
    gone = SavedWork(tmp_path / "vanished.png", recipe, ())
    with Library(tmp_path / "lib.db") as lib:
        warned = record_work(lib, gone)
        assert warned.path == gone.path and "not added to the Gallery" in warned.warnings[-1]
        assert lib.count_works(WorkQuery()) == 0
    assert "disk is full" in not_recorded(gone, "The disk is full.").warnings[-1]


@pytest.mark.slow
def test_every_create_tab_save_is_recorded_in_the_library(qtbot, window) -> None:
    state = window.create_state
    state.prompt = "a gallery test"
    with qtbot.waitSignal(state.job_finished, timeout=180_000):
        state.generate()
    assert state.results.rowCount() == 1 and not state.error
    saved = state.results.item(0).path
    with Library.default() as lib:
        work = lib.work_by_sha256(__import__("hashlib").sha256(saved.read_bytes()).hexdigest())
        assert work is not None and work.source == "studio" and work.prompt == "a gallery test" and work.owned
        assert lib.work_manifest(work.id) is not None


def test_the_window_records_create_tab_saves_in_the_gallery(window, qtbot):
    """The main window shares one library: a generated image shows up in the Gallery tab."""
    tabs = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert tabs[:3] == ["Create", "Avatars", "Gallery"]
    state = window.create_state
    state.prompt = "a lighthouse"
    job = state.generate()
    assert job is not None, state.error
    qtbot.waitUntil(lambda: window.gallery_state.model.rowCount() == 1, timeout=60_000)
    works = window.library.works()
    assert len(works) == 1 and Path(works[0].path).exists() and works[0].prompt == "a lighthouse"


def test_use_settings_sends_the_recipe_another_tool_wrote(qtbot, tab: GalleryTab, config: Config,
                                                          library: Library) -> None:
    from studio.provenance.png_text import write_png

    path = config.paths.works_dir / "a1111.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_png(Image.new("RGB", (64, 48), (9, 9, 9)), path,
              {"parameters": "a lighthouse at dawn\nNegative prompt: blurry\nSteps: 23, Sampler: Euler a, "
                             "CFG scale: 6.5, Seed: 1234, Size: 64x48, Model: dreamy"})
    add_saved_work(library, path, owned=False)
    tab.state.refresh()
    recipes: list[object] = []
    tab.state.use_settings_requested.connect(recipes.append)
    tab.select_row(0)
    pane = tab.detail
    assert pane.source.text() == "AUTOMATIC1111 parameters"
    assert pane.use_settings.isEnabled()
    pane.use_settings.click()
    assert recipes == [path]
    path.unlink()  # a work whose file went: said, nothing sent
    pane.use_settings.click()
    assert recipes == [path] and "missing" in tab.state.error


def test_mint_asks_for_the_mint_dialog_only_for_works_not_minted(qtbot, tab: GalleryTab, works: list[Work],
                                                                 library: Library) -> None:
    library.record_tokens([Token(1337, ADDRESS, 7, works[0].id, None, None, "0x1", ARTIST, 1.0)])
    tab.state.refresh()
    tab.state.set_sort("oldest")
    asked: list[list[int]] = []
    tab.state.mint_requested.connect(asked.append)
    tab.select_row(1)
    assert tab.detail.mint.isEnabled()
    with qtbot.waitSignal(tab.state.mint_requested, timeout=3_000):
        tab.detail.mint.click()
    assert asked == [[works[1].id]]

    tab.select_row(0)  # minted: the button is off, and asking anyway says why
    assert not tab.detail.mint.isEnabled() and tab.detail.mint.toolTip() == "Minted already"
    assert tab.state.mint_selected() == []
    assert "minted already" in tab.error_line.label.text()
    assert len(asked) == 1


def test_a_bought_lazy_listing_shows_its_token_and_mint_stays_off_after_a_restart(qtbot, tab: GalleryTab,
                                                                                  works: list[Work],
                                                                                  library: Library, config: Config,
                                                                                  pool: BackgroundPool) -> None:
    from eth_account import Account

    from studio.chain.devnet import Devnet
    from studio.chain.transactions import LocalSigner
    from studio.library.market import MarketStore
    from studio.storage.store import LocalStore
    from studio.workflows import market as wm
    from studio.workflows import lazy_listings as lw
    from studio.workflows.collections import create_collection
    from studio.workflows.mint import MintItem
    from wallet_helpers import TEST_PHRASE, close_devnets

    Account.enable_unaudited_hdwallet_features()
    artist, buyer = (LocalSigner(Account.from_mnemonic(TEST_PHRASE, account_path=f"m/44'/60'/0'/0/{i}"))
                     for i in range(2))
    connection = Devnet.shared().connection()
    try:
        store = MarketStore(library)
        collection = create_collection(connection=connection, signer=artist, library=library, name="Dawns",
                                       symbol="DAWN", royalty_receiver=artist.address, royalty_bps=500).address
        marketplace = Devnet.shared().studio_contracts()["StudioMarketplace"]
        work = works[1]
        row = lw.lazy_list_work(connection=connection, signer=artist, store=store, collection=collection,
                                item=MintItem(Path(work.path), "Harbour"), price_wei=10**17,
                                content_store=LocalStore.default(), confirm=lambda preview: True)
        tab.state.refresh()
        tab.select_row(tab.state.model.row_of_work(work.id))
        assert "Lazily listed in Dawns" in tab.detail.tokens.text() and "0.1 ETH" in tab.detail.tokens.text()
        assert not tab.detail.mint.isEnabled()
        bought = lw.buy_voucher(connection=connection, signer=buyer, voucher=row.voucher_json,
                                confirm=lambda preview: True)
        wm.sync_market(connection, marketplace, store)  # what the Market tab does while it shows
        tab.hide()
        tab.show()  # coming back to the Gallery reads what the sync recorded
        assert tab.detail.tokens.text() == f"#{bought.token_id} in Dawns on chain {connection.chain_id}"
        assert not tab.detail.mint.isEnabled() and tab.detail.mint.toolTip() == "Minted already"
        tab.state.set_status_filter("not-minted")
        assert work.title not in shown_titles(tab)
    finally:
        close_devnets()
    restarted = GalleryState(config, Library.default(), pool)  # a restart: a new library connection and state
    restarted.set_status_filter("minted")
    assert restarted.model.rowCount() == 1
    restarted.select_rows([0], 0)
    assert restarted.detail is not None and not restarted.detail.mintable
    assert restarted.mint_selected() == []
    restarted.shutdown()
    restarted.library.close()


def test_a_signed_works_detail_wraps_its_signer_and_clips_no_button_at_1360x860(qtbot, window, config: Config,
                                                                                 tmp_path: Path) -> None:
    from eth_account import Account

    from studio.chain.transactions import LocalSigner
    from studio.workflows.generate import sign_manifest
    from wallet_helpers import TEST_PHRASE

    Account.enable_unaudited_hdwallet_features()
    signer = LocalSigner(Account.from_mnemonic(TEST_PHRASE, account_path="m/44'/60'/0'/0/0"))
    image = Image.frombytes("RGB", (48, 48), random.Random(3).randbytes(48 * 48 * 3))
    manifest = Manifest(
        generator_name="provenance-studio", generator_version="0.1.0", model_name="demo", model_sha256="ab" * 32,
        model_family="sd1", pipeline="txt2img", prompt="a lighthouse at dusk", negative_prompt="", seed=3, steps=2,
        guidance=6.5, scheduler="euler_a", width=48, height=48, created="2026-11-28T12:00:00Z",
        pixel_hash=pixel_hash(image), device="cpu", dtype="float32", creator=signer.address)
    path = config.paths.works_dir / "a_long_file_name_of_a_signed_work_2026-11-28_120000_3.png"
    write_png_with_provenance(image, path, sign_manifest(manifest, signer), parameters="p", c2pa_credentials=None)
    add_saved_work(window.library, path)
    window.tabs.setCurrentWidget(window.gallery_page)  # the page builds the Gallery on its first showing
    tab = window.gallery_tab
    tab.state.refresh()
    tab.select_row(0)
    qtbot.waitUntil(lambda: "Verified: signed by" in tab.detail.verify.text(), timeout=30_000)
    assert window.size().width() == 1360 and window.size().height() == 860
    pane = tab.detail
    viewport = pane.viewport().rect()
    assert pane.widget().width() <= viewport.width()  # nothing wider than the pane: no clipping
    assert signer.address in pane.verify.text() and pane.verify.height() > pane.verify.fontMetrics().height()
    for button in (pane.copy_prompt, pane.use_settings, pane.export, pane.mint, pane.favourite, pane.delete):
        corner = button.mapTo(pane.viewport(), button.rect().bottomRight())
        assert button.isVisible() and corner.x() <= viewport.right(), button.text()
    pane.verify.selectAll()
    pane.verify.copy()
    assert QApplication.clipboard().text() == pane.verify.text()  # copying gives the address as it is


def test_a_work_whose_file_carries_control_characters_is_shown_with_escapes(qtbot, tab: GalleryTab, config: Config,
                                                                           library: Library) -> None:
    hostile = "a sea\x1b[2J\x1b]0;owned\x07\r\u202egnp.exe\nVerified: signed by 0xf39F"
    work = add_saved_work(library, studio_png(config.paths.works_dir / "sea\x1b[1A.png", 9, hostile,
                                              model="m\x1b[31m"))
    library.update_work(work.id, title=hostile)
    stored = library.work(work.id).title
    tab.state.refresh()
    model = tab.state.model
    (title,) = [model.data(model.index(row)) for row in range(model.rowCount())]
    assert title.startswith("a sea\\x1b[2J\\x1b]0;owned\\x07") and "\\u202egnp.exe" in title
    with qtbot.waitSignal(tab.state.detail_changed, timeout=3_000):
        tab.select_row(0)
    pane = tab.detail
    qtbot.waitUntil(lambda: pane.verify.text().startswith("Verified"), timeout=30_000)
    shown = [pane.title.text(), pane.prompt.toPlainText(), pane.model.text(), pane.file.text(), pane.verify.text()]
    for text in shown:
        assert not [c for c in text if c in "\x1b\r\x07\u202e"], repr(text)
    assert pane.prompt.toPlainText().count("\n") == 1  # the prompt's own line break, kept in its box
    assert pane.model.text() == "m\\x1b[31m" and "sea\\x1b[1A.png" in pane.file.text()
    pane.title.setFocus()
    pane.title.editingFinished.emit()  # leaving the field unchanged does not rewrite the stored title
    assert library.work(work.id).title == stored
