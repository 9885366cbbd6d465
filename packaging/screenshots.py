"""Screenshots of every tab for the README, made by driving the real studio offscreen.

    .venv/bin/python packaging/screenshots.py               # writes docs/screenshots/*.png
    .venv/bin/python packaging/screenshots.py --out /tmp/shots

Everything happens in a temporary studio home (``STUDIO_HOME``) on the embedded devnet, with the
demo model, so the pictures need no GPU, no model download and no network: the ``studio`` command
imports the public test phrase into a wallet, makes three signed works, creates a collection,
mints two works and lists one; then the real main window opens offscreen, generates four images
in the Create tab, makes a small avatar collection in the Avatars tab, unlocks the wallet, opens
the collection, and each tab is grabbed once its content has loaded. The verify dialog is grabbed on a minted work. Each PNG is scaled to at most
``--width`` pixels wide and stored with a 256-colour palette, so the committed files stay small.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
TEST_PHRASE = "test test test test test test test test test test test junk"  # the devnet's public accounts
PASSWORD = "screenshots-only-password"
TABS = ("Create", "Avatars", "Gallery", "Market", "Collections", "Wallet")
WINDOW_SIZE = (1360, 860)


def studio_cli(*args: str, env: dict[str, str]) -> Any:
    """Run ``studio ARGS --json`` in the temporary home; returns its parsed JSON output."""
    result = subprocess.run([sys.executable, "-m", "studio", *args, "--json"], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"studio {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-2000:]}")
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError:
        return [json.loads(line) for line in lines]


def prepare_chain(home: Path, env: dict[str, str]) -> dict[str, Any]:
    """Wallet from the test phrase, three signed works, a collection with two minted and one listed."""
    secrets = home / "secrets"
    secrets.mkdir()
    (secrets / "phrase.txt").write_text(TEST_PHRASE + "\n", encoding="utf-8")
    (secrets / "password.txt").write_text(PASSWORD + "\n", encoding="utf-8")
    studio_cli("wallet", "import", "--phrase-file", str(secrets / "phrase.txt"),
               "--password-file", str(secrets / "password.txt"), env=env)
    made = studio_cli("generate", "a lighthouse at dusk, oil painting", "--model", "demo", "--seed", "7",
                      "--size", "128x128", "--steps", "4", "--count", "3", "--sign", env=env)
    works = [Path(item["path"]) for item in _items(made)]
    collection = _items(studio_cli("collection", "create", "--name", "Harbour Lights", "--symbol", "HRBR",
                                   "--royalty", "5%", "--yes", env=env))[0]["address"]
    studio_cli("mint", str(works[0]), str(works[1]), "--collection", collection, "--trait", "mood=calm",
               "--license", "cc0", "--yes", env=env)
    studio_cli("list", collection, "1", "--price", "0.05", "--yes", env=env)
    return {"collection": collection, "works": works}


def _items(output: Any) -> list[dict[str, Any]]:
    """The list of records a ``--json`` command printed (a list, or an object holding one)."""
    if isinstance(output, dict):
        return next((value for value in output.values() if isinstance(value, list)), [output])
    return output


class Driver:
    """Waits on the real window's jobs and signals without sleeping the event loop."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def wait_until(self, condition: Callable[[], bool], timeout: float = 60.0, what: str = "") -> None:
        from PySide6.QtCore import QEventLoop, QTimer

        deadline = time.monotonic() + timeout
        loop = QEventLoop()
        timer = QTimer()
        timer.setInterval(25)
        timer.timeout.connect(lambda: loop.quit() if condition() or time.monotonic() > deadline else None)
        timer.start()
        if not condition():
            loop.exec()
        timer.stop()
        if not condition():
            raise TimeoutError(f"timed out waiting for {what or condition}")

    def settle(self, seconds: float) -> None:
        """Let queued paints, thumbnail loads and animations finish."""
        from PySide6.QtCore import QEventLoop, QTimer

        loop = QEventLoop()
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        loop.exec()

    def run_job(self, job: Any, timeout: float = 120.0, what: str = "a job") -> Any:
        if job is None:
            return None
        outcome: list[tuple[str, Any]] = []
        job.succeeded.connect(lambda result: outcome.append(("ok", result)))
        job.failed.connect(lambda exc: outcome.append(("failed", exc)))
        self.wait_until(lambda: bool(outcome), timeout, what)
        kind, value = outcome[0]
        if kind == "failed":
            raise RuntimeError(f"{what} failed: {value}") from value
        return value


def save_png(image: Any, path: Path, width: int) -> Path:
    """Scale ``image`` (a QImage) to at most ``width`` pixels wide and save it as a small PNG."""
    from PIL import Image
    from PySide6.QtCore import QBuffer, QIODevice, Qt

    if image.width() > width:
        image = image.scaledToWidth(width, Qt.TransformationMode.SmoothTransformation)
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    import io

    with Image.open(io.BytesIO(bytes(buffer.data()))) as loaded:
        small = loaded.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    path.parent.mkdir(parents=True, exist_ok=True)
    small.save(path, optimize=True)
    return path


def take_screenshots(out: Path, width: int = 1100, home: Path | None = None) -> list[Path]:
    """Prepare a studio home, open the real window offscreen and write one PNG per tab plus
    ``verify.png``; returns the files written."""
    own_home = home is None
    home = Path(tempfile.mkdtemp(prefix="studio-screenshots-")) if home is None else home
    env = {**os.environ, "STUDIO_HOME": str(home / "studio"), "STUDIO_NO_WELCOME": "1",
           "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"), "STUDIO_WALLET_PASSWORD": PASSWORD}
    os.environ.update({key: env[key] for key in ("STUDIO_HOME", "STUDIO_NO_WELCOME", "QT_QPA_PLATFORM")})
    try:
        chain = prepare_chain(home, env)
        return _grab_window(out, width, chain)
    finally:
        if own_home:
            shutil.rmtree(home, ignore_errors=True)


def _grab_window(out: Path, width: int, chain: dict[str, Any]) -> list[Path]:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(["provenance-studio"])
    app.setApplicationName("Provenance Studio")
    from studio.config import load_config
    from studio.generation.models import ModelCatalog
    from studio.ui.main_window import MainWindow
    from studio.ui.theme import apply_theme

    config = load_config()
    config.set("default_model", "demo")
    config.set("preview_every", 0)
    apply_theme(app, config["theme"])
    window = MainWindow(config, ModelCatalog(config))
    window.resize(*WINDOW_SIZE)
    window.show()
    drive = Driver(app)
    written: list[Path] = []
    try:
        devices: list[str] = []
        window.device_detected.connect(devices.append)
        window.detect_device()
        drive.wait_until(lambda: bool(devices), 120, "the device in the status bar")
        wallet = window.ensure_wallet()
        drive.run_job(wallet.unlock(PASSWORD), what="unlocking the wallet")
        drive.run_job(wallet.refresh(), what="reading balances")

        state = window.create_state
        state.prompt = "a lighthouse on a cliff at dawn, long exposure, soft light"
        state.negative_prompt = "blurry"
        state.width, state.height, state.steps, state.count = 128, 128, 4, 4
        state.generate()
        drive.wait_until(lambda: state.results.rowCount() >= 4 and not state.busy, 300, "four images in Create")
        window.create_tab.grid.setCurrentIndex(state.results.index(0))

        def show(name: str) -> None:
            index = next(i for i in range(window.tabs.count()) if window.tabs.tabText(i) == name)
            window.tabs.setCurrentIndex(index)

        for name in TABS:
            show(name)
            if name == "Avatars":
                avatars = window.avatars_state
                avatars.mode = "collection"
                avatars.size, avatars.steps = 64, 2
                avatars.collection_count, avatars.collection_seed = 6, 7
                avatars.out_dir = str(window.config.paths.data_dir / "avatar-collections" / "screenshots")
                drive.run_job(avatars.generate_collection(), 300, "an avatar collection")
                drive.wait_until(lambda: avatars.collection_results.rowCount() == 6 and not avatars.busy, 60,
                                 "the collection's avatars")
            elif name == "Gallery":
                window.gallery_state.refresh()
                drive.wait_until(lambda: window.gallery_state.count >= 13, 60, "the gallery's works")
                grid = window.gallery_tab.grid
                grid.setCurrentIndex(grid.model().index(0, 0))
            elif name == "Market":
                drive.run_job(window.market_state.refresh(), what="the market")
            elif name == "Collections":
                drive.run_job(window.collector_state.open_collection(chain["collection"]), what="the collection")
                collector = window.collector_state
                drive.wait_until(lambda: not collector.loading and collector.model.rowCount() > 0
                                 and collector.model.card(0) is not None, 60, "the collection's tokens")
                window.collector_tab.grid.setCurrentIndex(collector.model.index(0))
                drive.wait_until(lambda: collector.detail is not None, 30, "the token's detail")
            elif name == "Wallet":
                drive.run_job(wallet.refresh(), what="the wallet")
            drive.settle(1.5)
            written.append(save_png(window.grab().toImage(), out / f"{name.lower()}.png", width))

        dialog = window.open_verify_dialog(chain["works"][0])
        verdicts: list[Any] = []
        dialog.verified.connect(verdicts.append)
        drive.wait_until(lambda: bool(verdicts), 120, "the verify dialog's verdict")
        drive.settle(1.0)
        written.append(save_png(dialog.grab().toImage(), out / "verify.png", width))
        dialog.close()
    finally:
        window.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots", help="folder for the PNGs")
    parser.add_argument("--width", type=int, default=1100, help="largest width of a PNG in pixels")
    args = parser.parse_args(argv)
    for path in take_screenshots(args.out, args.width):
        print(f"{path}  {path.stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
