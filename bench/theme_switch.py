"""Benchmark: how long switching the theme (Settings › Appearance › Save) keeps the window busy.

Builds the real main window offscreen in a throwaway studio home with every tab built (the wallet
tabs included), then switches dark → light → dark N times two ways in the same process: the
studio's way (the style sheet on the main window, ``MainWindow.apply_settings``) and the former
way (replacing the application's style sheet), and reports min/median seconds of each, with the
number of widgets re-styled. Target: under 0.5 s.

    python bench/theme_switch.py            # 3 rounds, a table
    python bench/theme_switch.py -n 5 --json
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 0.5


def measure(rounds: int) -> dict:
    sys.path.insert(0, str(ROOT))
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(["theme-bench"])
    from studio.config import load_config
    from studio.generation.models import ModelCatalog
    from studio.ui import theme
    from studio.ui.main_window import MainWindow

    config = load_config()
    theme.apply_theme(app, "dark")
    window = MainWindow(config, ModelCatalog(config))
    window.resize(1360, 860)
    window.show()
    window.ensure_wallet()
    for index in range(window.tabs.count()):  # every tab shown once, as a person walking through them
        window.tabs.setCurrentIndex(index)
        app.processEvents()
    window.tabs.setCurrentIndex(0)
    app.processEvents()

    def timed(action) -> float:
        started = time.perf_counter()
        action()
        app.processEvents()  # the repaint belongs to the switch
        return time.perf_counter() - started

    def studio_way(name: str) -> None:
        config.set("theme", name)
        window.apply_settings({"theme"})

    window_way = [timed(lambda name=name: studio_way(name)) for _ in range(rounds) for name in ("light", "dark")]
    window.setStyleSheet("")
    app_way = [timed(lambda name=name: theme.apply_theme(app, name)) for _ in range(rounds) for name in ("light", "dark")]
    widgets = len(app.allWidgets())
    window.close()
    return {"rounds": rounds, "widgets": widgets, "target_s": TARGET_S,
            "window_sheet_s": {"min": min(window_way), "median": statistics.median(window_way)},
            "application_sheet_s": {"min": min(app_way), "median": statistics.median(app_way)},
            "meets_target": statistics.median(window_way) <= TARGET_S}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--rounds", type=int, default=3, help="dark→light→dark rounds (default 3)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory(prefix="studio-theme-bench-") as home:
        os.environ["STUDIO_HOME"] = home
        os.environ["STUDIO_NO_WELCOME"] = "1"
        result = measure(args.rounds)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"theme switch with every tab built ({result['widgets']} widgets), {args.rounds} rounds, "
          f"target {TARGET_S} s")
    print(f"{'how':<34}{'min s':>8}{'median s':>10}")
    for label, key in (("style sheet on the main window", "window_sheet_s"),
                       ("application style sheet (before)", "application_sheet_s")):
        print(f"{label:<34}{result[key]['min']:>8.3f}{result[key]['median']:>10.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
