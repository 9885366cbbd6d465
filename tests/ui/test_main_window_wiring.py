"""What the main window joins: verify from the menu or a drop, the Gallery's "use settings" into Create."""
from __future__ import annotations

from pathlib import Path

from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from studio.generation.request import Recipe


def _a1111_png(path: Path) -> Path:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "a quiet harbour\nNegative prompt: blur\n"
                                "Steps: 7, Sampler: Euler a, CFG scale: 5.5, Seed: 1234, Size: 64x64")
    Image.new("RGB", (64, 64), (10, 80, 120)).save(path, pnginfo=info)
    return path


def test_only_the_create_tab_is_built_until_each_tab_is_first_shown(window, qtbot) -> None:
    """Start-up builds the Create tab alone; the wallet's view-model follows the first paint (status
    bar, signatures), each other tab its first visit."""
    pages = {"Avatars": window.avatars_page, "Gallery": window.gallery_page, "Market": window.market_page,
             "Collections": window.collector_page, "Wallet": window.wallet_page}
    assert window.tabs.currentWidget() is window.create_tab
    assert not any(page.built for page in pages.values())
    assert (window.market_state, window.collector_state, window.wallet_tab) == (None, None, None)
    qtbot.waitUntil(lambda: window.wallet_state is not None, timeout=5_000)
    assert window.chain_label.text().startswith("No wallet · ")
    assert not any(page.built for page in pages.values())
    for name, page in pages.items():
        window.tabs.setCurrentWidget(page)
        assert page.built and window.tabs.tabText(window.tabs.currentIndex()) == name
        qtbot.waitUntil(lambda: page.content.isVisible(), timeout=5_000)
    assert window.market_state is not None and window.collector_state is not None
    assert window.wallet_tab is window.wallet_page.content and window.market_tab is window.market_page.content
    window.tabs.setCurrentWidget(window.create_tab)


def test_dropping_an_image_on_the_window_opens_verify(window, qtbot, tmp_path: Path) -> None:
    path = _a1111_png(tmp_path / "foreign.png")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    actions = Qt.DropAction.CopyAction
    enter = QDragEnterEvent(QPoint(20, 20), actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    drop = QDropEvent(QPointF(20, 20), actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)
    from studio.ui.dialogs.verify import VerifyDialog

    qtbot.waitUntil(lambda: any(isinstance(w, VerifyDialog) and w.isVisible() for w in QApplication.topLevelWidgets()),
                    timeout=10_000)
    assert window.verify_action.text() == "Verify file…"
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, VerifyDialog):
            widget.close()


def test_dropping_a_file_that_is_not_an_image_says_why_nothing_opened(window, qtbot, tmp_path: Path) -> None:
    from studio.ui.dialogs.verify import VerifyDialog

    path = tmp_path / "notes.pdf"
    path.write_bytes(b"%PDF-1.4")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    actions = Qt.DropAction.CopyAction
    enter = QDragEnterEvent(QPoint(20, 20), actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()  # the drag is taken, so the drop arrives and can be answered
    drop = QDropEvent(QPointF(20, 20), actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)
    message = window.statusBar().currentMessage()
    assert message.startswith("Not opened: notes.pdf is not an image.") and "PNG, JPEG or WebP" in message
    assert not any(isinstance(w, VerifyDialog) and w.isVisible() for w in QApplication.topLevelWidgets())


def test_gallery_use_settings_fills_the_create_tab_with_the_whole_recipe(window, qtbot, tmp_path: Path) -> None:
    from studio.provenance.png_text import write_png

    path = tmp_path / "a1111.png"  # hires fix, clip skip and a variation: more than prompt, seed and size
    write_png(Image.new("RGB", (64, 64), (9, 9, 9)), path,
              {"parameters": "a red fox\nNegative prompt: fog\nSteps: 3, Sampler: Euler, CFG scale: 4.5, Seed: 77, "
                             "Size: 64x64, Clip skip: 2, Variation seed: 5, Variation seed strength: 0.25, "
                             "Hires upscale: 2, Hires steps: 2, Hires upscaler: Latent, Denoising strength: 0.4"})
    window.tabs.setCurrentIndex(1)
    state = window.create_state
    with qtbot.waitSignal(state.settings_applied, timeout=30_000):
        window.gallery_state.use_settings_requested.emit(path)
    assert window.tabs.currentWidget() is window.create_tab
    assert (state.prompt, state.negative_prompt, state.seed, state.steps) == ("a red fox", "fog", 77, 3)
    options = state.options
    assert (options.clip_skip, options.variation_seed, options.variation_strength) == (2, 5, 0.25)
    assert (options.hires, options.hires_scale, options.hires_steps, options.hires_denoise) == (True, 2.0, 2, 0.4)
    assert window.statusBar().currentMessage().startswith("The Create tab now holds these settings.")


def test_gallery_use_settings_of_a_damaged_file_says_so_and_keeps_the_form(window, qtbot, tmp_path: Path) -> None:
    path = tmp_path / "broken.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    state = window.create_state
    state.prompt = "kept"
    window.gallery_state.use_settings_requested.emit(path)
    qtbot.waitUntil(lambda: bool(state.error), timeout=30_000)
    assert state.prompt == "kept"


def test_gallery_mint_opens_the_mint_dialog_for_the_chosen_works(window, qtbot, tmp_path: Path) -> None:
    from studio.ui.dialogs.mint import MintDialog

    work = tmp_path / "a.png"
    Image.new("RGB", (64, 64), (200, 30, 30)).save(work)
    from studio.workflows.library import add_saved_work

    window.gallery_state.mint_requested.emit([add_saved_work(window.library, work, owned=False).id])
    qtbot.waitUntil(lambda: any(isinstance(w, MintDialog) and w.isVisible() for w in QApplication.topLevelWidgets()),
                    timeout=10_000)
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, MintDialog):
            widget.close()
    assert window.wallet_state is not None  # the mint dialog needed the wallet
    window.tabs.setCurrentWidget(window.collector_page)  # the Collections tab is built on its first visit
    assert window.collector_state is not None and window.collector_page.layout().count() == 1


def test_avatars_mint_collection_opens_the_batch_mint_dialog_over_the_window_library(window, qtbot,
                                                                                    tmp_path: Path) -> None:
    from studio.ui.dialogs.batch_mint import BatchMintDialog

    manifest = tmp_path / "manifest.json"
    manifest.write_text('{"works": []}')
    assert window.avatars_state.library is window.library  # avatars are recorded where the Gallery reads
    window.avatars_state.mint_collection_requested.emit(manifest)
    qtbot.waitUntil(lambda: any(isinstance(w, BatchMintDialog) and w.isVisible()
                                for w in QApplication.topLevelWidgets()), timeout=10_000)
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, BatchMintDialog):
            assert widget.library is window.library and widget.state.manifest == manifest
            widget.close()


def test_saving_the_light_theme_restyles_the_window_and_later_dialogs_not_the_application(qtbot, window) -> None:
    """Settings › Appearance › light › Save: the window and what opens from it turn light; the
    application's style sheet (whose replacement re-polished every widget, a 2-6 s freeze) is not
    used once the window exists; Gallery cells drawn in the old colours are dropped."""
    from PySide6.QtGui import QColor

    from studio.config import SETTINGS
    from studio.ui import theme

    app = QApplication.instance()
    assert app.styleSheet() == "" and window.styleSheet() == theme.style_sheet("dark")
    delegate = window.gallery_tab.grid.itemDelegate()
    delegate._cells[("stale",)] = object()  # a cell drawn in the old colours
    dialog = window.settings_dialog()
    qtbot.addWidget(dialog)
    assert "applies when you press Save" in next(s.help for s in SETTINGS if s.key == "theme")
    combo = dialog.editors["theme"]
    combo.setCurrentIndex(combo.findData("light"))
    assert theme.current_theme() == "dark"  # choosing is not applying
    try:
        assert dialog.save()
        window.apply_settings(dialog.changed_keys)
        assert theme.current_theme() == "light" and delegate.cached_cells == 0
        assert app.styleSheet() == "" and window.styleSheet() == theme.style_sheet("light")
        button = window.create_tab.cancel_button
        image = button.grab().toImage()
        centre = QColor(image.pixel(button.rect().center()))
        assert centre.name() == theme.THEMES["light"]["raised"]
        guide = window.open_guide()  # opened after the switch, from the window
        qtbot.waitExposed(guide)
        corner = QColor(guide.grab().toImage().pixel(2, 2))
        assert corner.name() == theme.THEMES["light"]["background"]
        guide.close()
    finally:
        window.config.set("theme", "dark")
        window.apply_settings({"theme"})
    assert theme.current_theme() == "dark" and window.styleSheet() == theme.style_sheet("dark")


def test_dialogs_made_after_a_theme_change_use_its_colours(qapp) -> None:
    from studio.ui import theme
    from studio.ui.dialogs.unlock import error_label

    try:
        theme.apply_theme(qapp, "light")
        assert theme.THEMES["light"]["error_text"] in error_label().styleSheet()
    finally:
        theme.apply_theme(qapp, "dark")
    assert theme.THEMES["dark"]["error_text"] in error_label().styleSheet()
