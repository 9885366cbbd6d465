"""Screenshots of the Create tab's options for docs/generation.md, made by driving the real window
offscreen with the demo model in a temporary studio home (no GPU, no download, no network):

    .venv/bin/python packaging/create_screenshots.py    # docs/screenshots/create-options.png, controlnet.png, xyz-plot.png
    .venv/bin/python packaging/create_screenshots.py --out /tmp/shots

``create-options.png``: a work made with the hires fix and two ControlNet units (tiny ControlNets of
the demo's shape, on a canny and a line-art map), the sampling options and the hires fix in view;
``controlnet.png``: the same work, the window taller, the hires fix and both units with their maps in
view; ``xyz-plot.png``: a 2×2 X/Y/Z plot (steps × CFG scale) with its grid image selected.
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
CONTROLNET_HEIGHT = 1320


def tiny_controlnet(demo_model_dir: Path, folder: Path, name: str) -> Path:
    """A ControlNet shaped like the demo's UNet, from its (random) weights: it steers, it was not trained."""
    from diffusers import ControlNetModel, UNet2DConditionModel

    unet = UNet2DConditionModel.from_pretrained(demo_model_dir / "unet")
    model = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=(4, 8, 8, 16),
                                      load_weights_from_unet=True)
    path = folder / name
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


def line_drawing(folder: Path) -> Path:
    """A pencil-like drawing of a cliff and a tower on paper: what the line-art preprocessor reads."""
    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (256, 256), (236, 232, 222))
    draw = ImageDraw.Draw(picture)
    draw.line([(0, 200), (60, 170), (110, 180), (150, 130), (256, 140)], fill=(40, 40, 40), width=4)
    draw.rectangle((160, 40, 190, 135), outline=(30, 30, 30), width=4)
    draw.polygon([(155, 40), (175, 15), (195, 40)], outline=(30, 30, 30), width=4)
    for x in range(20, 256, 28):
        draw.arc((x - 30, 215, x + 30, 250), 200, 340, fill=(60, 60, 60), width=3)
    path = folder / "cliff-drawing.png"
    picture.save(path)
    return path


def take(out: Path, width: int) -> list[Path]:
    from PySide6.QtCore import QPoint
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
    canny_net = tiny_controlnet(Path(demo), extras, "control-canny-tiny")
    lineart_net = tiny_controlnet(Path(demo), extras, "control-lineart-tiny")
    sketch, drawing = control_picture(extras), line_drawing(extras)
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
    first, second = options.control.add(str(canny_net)), options.control.add(str(lineart_net))
    first.image, first.preprocessor, first.weight = str(sketch), "canny", 0.8
    second.image, second.preprocessor, second.weight, second.end = str(drawing), "lineart", 0.6, 0.7
    drive.wait_until(lambda: all(u.map_image is not None for u in options.control.items), 60, "the control maps")
    drive.run_job(state.generate(), 300, "a work with hires fix and two ControlNet units")
    drive.wait_until(lambda: not state.busy, 60, "the lane to be idle")
    tab.grid.setCurrentIndex(state.results.index(0))
    scroll.ensureWidgetVisible(tab.options_panel.control_units.box(0).preprocessor, 0, 0)
    drive.settle(0.5)
    written.append(save_png(window.grab().toImage(), out / "create-options.png", width))
    window.resize(WINDOW_SIZE[0], CONTROLNET_HEIGHT)  # tall enough for the hires fix and both units' maps
    drive.settle(0.5)
    top = tab.options_panel.hires.mapTo(scroll.widget(), QPoint(0, 0)).y()
    scroll.verticalScrollBar().setValue(top - 8)
    drive.settle(0.5)
    written.append(save_png(window.grab().toImage(), out / "controlnet.png", width))
    window.resize(*WINDOW_SIZE)

    options.hires = False
    options.control.clear()
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
