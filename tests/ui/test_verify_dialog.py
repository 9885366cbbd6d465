"""The Verify dialog with real files, offscreen: the badge and signer of a signed work, a
one-pixel edit, another tool's PNG info handed to the Create tab, drops, and a minted work."""
from __future__ import annotations

import random
from pathlib import Path

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget

from studio.provenance.embed import png_with_provenance, read_embedded
from studio.provenance.manifest import Manifest, SignedManifest, pixel_hash
from studio.ui.dialogs.verify import VerifyDialog, open_verify_dialog
from studio.ui.widgets.file_drop import FileDropFilter
from studio.ui.workers import BackgroundPool
from studio.workflows.generate import sign_manifest

ANVIL_KEY_0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
A1111_PARAMETERS = ("a red fox in the snow, watercolor\nNegative prompt: blurry\n"
                    "Steps: 12, Sampler: Euler a, CFG scale: 6.5, Seed: 424242, Size: 64x64, Model: dreamshaper_8")


def signer():
    from eth_account import Account

    from studio.chain.transactions import LocalSigner

    return LocalSigner(Account.from_key(ANVIL_KEY_0))


def noise(seed: int) -> Image.Image:
    rng = random.Random(seed)
    return Image.frombytes("RGB", (48, 48), bytes(rng.randrange(256) for _ in range(48 * 48 * 3)))


def signed_work(path: Path, seed: int = 1) -> Path:
    image, account = noise(seed), signer()
    manifest = Manifest(generator_name="provenance-studio", generator_version="0.1.0", model_name="demo",
                        model_sha256="ab" * 32, model_family="sd1", pipeline="txt2img", prompt="a fox at dawn",
                        negative_prompt="", seed=seed, steps=2, guidance=7.0, scheduler="euler", width=48,
                        height=48, pixel_hash=pixel_hash(image), created="2026-11-28T12:00:00Z",
                        creator=account.address)
    path.write_bytes(png_with_provenance(image, sign_manifest(manifest, account), parameters="a fox at dawn"))
    return path


def one_pixel_edit(source: Path, target: Path) -> Path:
    signed = SignedManifest.from_json(read_embedded(source.read_bytes()).provenance_json)
    image = Image.open(source).convert("RGB")
    image.putpixel((0, 0), (1, 2, 3))
    target.write_bytes(png_with_provenance(image, signed, parameters="a fox at dawn"))
    return target


def a1111_png(path: Path) -> Path:
    info = PngInfo()
    info.add_text("parameters", A1111_PARAMETERS)
    noise(7).save(path, pnginfo=info)
    return path


@pytest.fixture
def pool(qtbot):
    pool = BackgroundPool()
    yield pool
    pool.shutdown()


@pytest.fixture
def dialog(qtbot, pool, studio_home):
    dialog = VerifyDialog(pool)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def verify(qtbot, dialog: VerifyDialog, path: Path):
    with qtbot.waitSignal(dialog.verified, timeout=30_000) as blocker:
        dialog.verify(path)
    return blocker.args[0]


def test_a_signed_studio_png_shows_verified_and_its_signer(qtbot, dialog, tmp_path):
    verdict = verify(qtbot, dialog, signed_work(tmp_path / "fox.png"))
    assert verdict.verdict == "verified"
    assert dialog.badge.text() == "✓ Verified"
    assert signer().address in dialog.signer_label.text() and "valid" in dialog.signer_label.text()
    assert dialog.pixels_label.text().startswith("✓") and "Provenance Studio" in dialog.source_label.text()
    assert dialog.recipe_labels["prompt"].text() == "a fox at dawn" and dialog.recipe_box.isVisible()
    assert not dialog.png_info_box.isVisible() and not dialog.chain_box.isVisible()
    assert not dialog.problems_label.isVisible() and not dialog.preview.pixmap().isNull()


def test_a_one_pixel_edit_shows_tampered_with_the_problem(qtbot, dialog, tmp_path):
    edited = one_pixel_edit(signed_work(tmp_path / "fox.png"), tmp_path / "edited.png")
    verify(qtbot, dialog, edited)
    assert dialog.badge.text() == "✗ Tampered"
    assert dialog.pixels_label.text().startswith("✗")
    assert dialog.problems_label.isVisible() and "pixels do not match" in dialog.problems_label.text()


@pytest.mark.slow
def test_an_a1111_png_shows_its_png_info_and_use_these_settings_fills_the_create_tab(qtbot, window, tmp_path):
    dialog = open_verify_dialog(window, a1111_png(tmp_path / "a1111.png"), window.background, window.create_state)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.verdict is not None, timeout=30_000)
    assert dialog.badge.text() == "No provenance" and "AUTOMATIC1111" in dialog.source_label.text()
    assert dialog.png_info_box.isVisible() and "AUTOMATIC1111" in dialog.png_info_box.title()
    assert dialog.png_info.isReadOnly() and A1111_PARAMETERS in dialog.png_info.toPlainText()
    assert dialog.recipe_labels["seed"].text() == "424242"
    with qtbot.waitSignal(dialog.settings_chosen) as chosen:
        qtbot.mouseClick(dialog.use_settings, Qt.MouseButton.LeftButton)
    state = window.create_state
    assert chosen.args[0].source == "a1111"
    qtbot.waitUntil(lambda: "Create tab now holds this recipe" in dialog.status.text(), timeout=30_000)
    assert state.prompt == "a red fox in the snow, watercolor" and state.negative_prompt == "blurry"
    assert (state.seed, state.random_seed, state.steps, state.guidance) == (424242, False, 12, 6.5)
    assert (state.width, state.height) == (64, 64)
    assert "Create tab now holds this recipe" in dialog.status.text()
    dialog.close()


def drop(widget: QWidget, paths: list[Path]) -> bool:
    """A drag entering ``widget`` and dropping ``paths``, as Qt delivers one; True when the drag
    was accepted (Qt delivers the drop only then)."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    if not enter.isAccepted():
        return False
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)
    return event.isAccepted()


def test_a_file_dropped_on_the_dialog_is_verified(qtbot, dialog, tmp_path):
    path = signed_work(tmp_path / "dropped.png")
    with qtbot.waitSignal(dialog.verified, timeout=30_000) as blocker:
        drop(dialog, [path])
    assert blocker.args[0].path == str(path) and dialog.badge.text() == "✓ Verified"


def test_the_drop_filter_emits_image_files_names_the_others_and_lets_other_drops_through(qtbot, tmp_path):
    from PySide6.QtCore import QMimeData

    widget = QWidget()
    qtbot.addWidget(widget)
    drops = FileDropFilter(widget)
    drops.watch(widget)
    seen, refused = [], []
    drops.files_dropped.connect(seen.append)
    drops.files_refused.connect(refused.append)
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    image = a1111_png(tmp_path / "b.PNG")
    assert drop(widget, [text]) is True and seen == [] and refused == [[text]]  # taken, to say why not
    assert drop(widget, [text, image]) is True
    assert seen == [[image]] and refused == [[text]] and widget.acceptDrops()
    mime = QMimeData()
    mime.setText("some words")  # not files: left to the widget under the cursor
    enter = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    enter.ignore()
    QApplication.sendEvent(widget, enter)
    assert not enter.isAccepted()


def test_a_minted_work_shows_its_token_checked_on_chain(qtbot, dialog, tmp_path):
    from studio.chain.devnet import Devnet
    from studio.library.db import Library
    from studio.storage.store import LocalStore
    from studio.workflows.collections import create_collection
    from studio.workflows.mint import MintItem, mint_works

    devnet = Devnet.shared()
    try:
        account = signer()
        path = signed_work(tmp_path / "minted.png")
        with Library.default() as library:
            collection = create_collection(connection=devnet.connection(), signer=account, library=library,
                                           name="Foxes", symbol="FOX", royalty_receiver=account.address,
                                           royalty_bps=0)
            mint_works([MintItem(path, "Fox")], collection, signer=account, connection=devnet.connection(),
                       store=LocalStore.default(), library=library)
        verdict = verify(qtbot, dialog, path)
        assert verdict.verdict == "verified" and verdict.chain[0].state == "ok"
        assert dialog.chain_box.isVisible()
        text = dialog.chain_label.text()
        assert "on devnet: ✓ Matches the chain" in text and account.address in text
        assert "commitment ✓, image ✓, provenance ✓" in text
    finally:
        devnet.close()


HOSTILE = ("a calm sea\x1b[2J\x1b[1A\x1b[2K\x1b]0;owned\x07\r\u202etxt.exe\x9b31m\n"
           "✓ Verified, signed by 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266")
RAW_CONTROLS = [chr(c) for c in range(0x20) if chr(c) != "\n"] + ["\x7f", "\x9b", "\u202e", "\u2028"]


def dialog_texts(dialog: VerifyDialog) -> list[str]:
    """Every text the dialog shows: labels, group titles, the PNG info box and the window title."""
    from PySide6.QtWidgets import QGroupBox, QLabel

    texts = [dialog.windowTitle(), dialog.png_info.toPlainText()]
    texts += [label.text() for label in dialog.findChildren(QLabel)]
    texts += [box.title() for box in dialog.findChildren(QGroupBox)]
    return texts


def test_control_characters_in_a_file_are_shown_as_escapes_in_every_label(qtbot, dialog, tmp_path):
    image = noise(3)
    manifest = Manifest(generator_name="provenance-studio", generator_version="0.1.0", model_name="m\x1b]0;x\x07",
                        model_sha256="ab" * 32, model_family="sd1", pipeline="txt2img", prompt=HOSTILE,
                        negative_prompt=HOSTILE, seed=1, steps=2, guidance=7.0, scheduler="eu\u202eler", width=48,
                        height=48, pixel_hash=pixel_hash(image), created="2026-11-28T12:00:00Z")
    path = tmp_path / "sea\x1b[2J\u202egnp.png"
    path.write_bytes(png_with_provenance(image, SignedManifest(manifest), parameters="p"))
    verify(qtbot, dialog, path)
    for text in dialog_texts(dialog):
        assert not [c for c in text if c in RAW_CONTROLS], repr(text)
    prompt = dialog.recipe_labels["prompt"].text()
    assert "\\x1b[2J" in prompt and "\\u202e" in prompt and "\\r" in prompt
    assert "\\x1b" in dialog.windowTitle() and "\\x1b" in dialog.file_label.text()
    info = a1111_png(tmp_path / "a1111.png")
    text = A1111_PARAMETERS.replace("a red fox", "a red\x1b[31m fox\u202e")
    png = PngInfo()
    png.add_text("parameters", text)
    noise(7).save(info, pnginfo=png)
    verify(qtbot, dialog, info)
    assert "\\x1b[31m" in dialog.png_info.toPlainText() and "\x1b" not in dialog.png_info.toPlainText()
    assert "\\u202e" in dialog.recipe_labels["prompt"].text()


def test_an_unsigned_creator_claim_is_shown_as_a_claim_not_as_the_signer(qtbot, dialog, tmp_path):
    image, account = noise(4), signer()
    manifest = Manifest(generator_name="provenance-studio", generator_version="0.1.0", model_name="demo",
                        model_sha256="ab" * 32, model_family="sd1", pipeline="txt2img", prompt="a fox",
                        negative_prompt="", seed=1, steps=2, guidance=7.0, scheduler="euler", width=48,
                        height=48, pixel_hash=pixel_hash(image), created="2026-11-28T12:00:00Z",
                        creator=account.address)
    path = tmp_path / "claim.png"
    path.write_bytes(png_with_provenance(image, SignedManifest(manifest), parameters="a fox"))
    verdict = verify(qtbot, dialog, path)
    assert verdict.verdict == "unproven" and dialog.badge.text() == "Unproven"
    signer_text = dialog.signer_label.text()
    assert signer_text.startswith("Not signed: claims") and "not proven" in signer_text
    assert "signature valid" not in signer_text


@pytest.mark.parametrize("name", ["bomb.gif", "bomb.webp"])
def test_a_decompression_bomb_shows_an_error_and_the_dialog_keeps_working(qtbot, dialog, tmp_path, name):
    import io
    import struct

    if name == "bomb.gif":
        data = (b"GIF89a" + struct.pack("<HH", 60_000, 60_000) + b"\x00\x00\x00,"
                + struct.pack("<HHHH", 0, 0, 60_000, 60_000) + b"\x00\x02\x02\x4c\x01\x00;")
    else:
        buffer = io.BytesIO()
        Image.new("RGB", (8, 8)).save(buffer, format="WEBP", lossless=True)
        webp = bytearray(buffer.getvalue())
        at = webp.find(b"VP8L") + 9
        rest = int.from_bytes(webp[at:at + 4], "little") & ~((1 << 28) - 1)
        webp[at:at + 4] = (16383 | 16383 << 14 | rest).to_bytes(4, "little")
        data = bytes(webp)
    bomb = tmp_path / name
    bomb.write_bytes(data)
    verdict = verify(qtbot, dialog, bomb)
    assert verdict.verdict == "unreadable" and dialog.badge.text() == "Unreadable"
    assert "decompression bomb" in dialog.problems_label.text() and dialog.preview.pixmap().isNull()
    # the next file is checked as usual
    assert verify(qtbot, dialog, signed_work(tmp_path / "fox.png")).verdict == "verified"
    assert dialog.badge.text() == "✓ Verified"
