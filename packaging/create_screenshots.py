"""Screenshots of the Create tab's options for docs/generation.md, made by driving the real window
offscreen with the demo model in a temporary studio home (no GPU, no download, no network):

    .venv/bin/python packaging/create_screenshots.py               # docs/screenshots/create-options.png, xyz-plot.png
    .venv/bin/python packaging/create_screenshots.py --out /tmp/shots

``create-options.png``: a work made with the hires fix and a ControlNet unit (a tiny ControlNet of the
demo's shape with random weights, on a canny map), the options in view; ``xyz-plot.png``: a 2×2
X/Y/Z plot (steps × CFG scale) with its grid image selected.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "packaging")]  # "packaging" is also a PyPI package: import the script by name
from screenshots import Driver, save_png  # noqa: E402

WINDOW_SIZE = (1500, 925)


def tiny_controlnet(demo_model_dir: Path, folder: Path) -> Path:
    """A ControlNet shaped like the demo's UNet, from its (random) weights: it steers, it was not trained."""
    from diffusers import ControlNetModel, UNet2DConditionModel

    unet = UNet2DConditionModel.from_pretrained(demo_model_dir / "unet")
    model = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=(4, 8, 8, 16),
                                      load_weights_from_unet=True)
    path = folder / "control-canny-tiny"
    model.save_pretrained(path, safe_serialization=True)
    return path


def control_picture(folder: Path) -> Path:
    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (256, 256), "black")
    draw = ImageDraw.Draw(picture)
    draw.ellipse((48, 48, 208, 208), outline="white", width=10)
    draw.rectangle((100, 150, 156, 240), fill="white")
    path = folder / "lighthouse-sketch.png"
    picture.save(path)
    return path


def take(out: Path, width: int) -> list[Path]:
    from PySide6.QtWidgets import QApplication, QScrollArea

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(["provenance-studio"])
    from studio.config import load_config
    from studio.generation.demo import ensure_demo_model
    from studio.generation.models import ModelCatalog
    from studio.ui.main_window import MainWindow
    from studio.ui.theme import apply_theme

    config = load_config()
    config.set("default_model", "demo")
    config.set("preview_every", 0)
    apply_theme(app, config["theme"])
    demo = ensure_demo_model(config.paths.demo_model_dir).path
    extras = config.paths.models_dir
    extras.mkdir(parents=True, exist_ok=True)
    control = tiny_controlnet(Path(demo), extras)
    sketch = control_picture(extras)
    window = MainWindow(config, ModelCatalog(config))
    window.resize(*WINDOW_SIZE)
    window.show()
    drive = Driver(app)
    state, tab = window.create_state, window.create_tab
    scroll = next(parent for parent in _parents(tab.options_panel) if isinstance(parent, QScrollArea))
    written = []

    state.prompt = "a lighthouse on a cliff at dawn, long exposure, soft light"
    state.negative_prompt = "blurry"
    state.width, state.height, state.steps, state.random_seed, state.seed = 128, 128, 4, False, 7
    options = state.options
    options.hires, options.hires_scale, options.hires_upscaler, options.hires_steps = True, 2.0, "lanczos", 3
    options.hires_denoise = 0.45
    options.control_model, options.control_image, options.control_preprocessor = str(control), str(sketch), "canny"
    options.control_weight = 0.8
    drive.run_job(state.generate(), 300, "a work with hires fix and ControlNet")
    drive.wait_until(lambda: not state.busy, 60, "the lane to be idle")
    tab.grid.setCurrentIndex(state.results.index(0))
    scroll.ensureWidgetVisible(tab.options_panel.control_box, 0, 0)
    drive.settle(0.5)
    written.append(save_png(window.grab().toImage(), out / "create-options.png", width))

    options.hires, options.control_model = False, ""
    plot = state.plot
    plot.x_kind, plot.x_values, plot.y_kind, plot.y_values = "steps", "2, 6", "guidance", "3, 9"
    drive.run_job(state.make_plot(), 300, "a 2×2 X/Y/Z plot")
    drive.wait_until(lambda: not state.busy, 60, "the lane to be idle")
    tab.grid.setCurrentIndex(state.results.index(0))
    scroll.ensureWidgetVisible(tab.plot_panel, 0, 0)
    drive.settle(0.5)
    written.append(save_png(window.grab().toImage(), out / "xyz-plot.png", width))
    window.close()
    return written


def _parents(widget: Any) -> list[Any]:
    found = []
    while widget is not None:
        found.append(widget)
        widget = widget.parentWidget()
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--width", type=int, default=1500, help="the widest a PNG may be, in pixels")
    args = parser.parse_args(argv)
    home = Path(tempfile.mkdtemp(prefix="studio-create-shots-"))
    os.environ.update({"STUDIO_HOME": str(home), "STUDIO_NO_WELCOME": "1",
                       "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")})
    try:
        for path in take(args.out, args.width):
            print(path)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
