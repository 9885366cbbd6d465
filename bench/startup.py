"""Benchmark: how long the studio's window takes to appear and how much CPU it costs, against a bare
PySide6 window with a tab widget measured in the same run.

Absolute start-up times swing by a factor of two on a loaded machine, so every run starts the
bare window and the studio one after the other (fresh processes, offscreen Qt, a throwaway studio
home, bytecode compiled once before the timed runs as an installed studio has it), and the
verdict compares the two: the studio's window is shown within 0.5 s of its start and costs at most
2.5 times the bare window's CPU.

    python bench/startup.py            # 5 pairs of runs, a table
    python bench/startup.py -n 10 --json
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SHOWN_S = 0.5
TARGET_CPU_RATIO = 2.5
SHOWN = re.compile(r"window shown after ([0-9.]+) s \(torch (loaded|not loaded)\)")
CPU = re.compile(r"process cpu ([0-9.]+) s at show \(web3 (loaded|not loaded)\)")

#: The baseline: what any PySide6 application with a tabbed main window pays to show it.
BARE_WINDOW = r"""
import time
started = time.perf_counter()
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QTabWidget, QWidget

class Window(QMainWindow):
    def __init__(self):
        super().__init__()
        self.resize(1360, 860)
        self.tabs = QTabWidget()
        for name in ("Create", "Avatars", "Gallery", "Market", "Collections", "Wallet"):
            self.tabs.addTab(QWidget(), name)
        self.setCentralWidget(self.tabs)
        self.statusBar().addPermanentWidget(QLabel("ready"))
        self._shown = False

    def showEvent(self, event):
        super().showEvent(event)
        if not self._shown:
            self._shown = True
            QTimer.singleShot(0, self.report)

    def report(self):
        print(f"window shown after {time.perf_counter() - started:.3f} s (torch not loaded)")
        print(f"process cpu {time.process_time():.3f} s at show (web3 not loaded)", flush=True)
        app.quit()

app = QApplication(sys.argv[:1])
window = Window()
window.show()
sys.exit(app.exec())
"""


def _environment(home: Path, pycache: Path) -> dict[str, str]:
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"), STUDIO_HOME=str(home),
               PYTHONPYCACHEPREFIX=str(pycache), STUDIO_NO_WELCOME="1")
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed studio starts from compiled bytecode
    env.setdefault("PYTHONPATH", str(ROOT))
    return env


def run_once(command: list[str], env: dict[str, str]) -> dict[str, float | bool]:
    """One fresh process: seconds to the window shown and CPU seconds spent by then."""
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    shown, cpu = SHOWN.search(done.stdout), CPU.search(done.stdout)
    if done.returncode != 0 or shown is None or cpu is None:
        raise SystemExit(f"{' '.join(command[1:])} failed (exit {done.returncode}):\n{done.stdout}{done.stderr}")
    return {"shown_s": float(shown.group(1)), "cpu_s": float(cpu.group(1)),
            "torch": shown.group(2) == "loaded", "web3": cpu.group(2) == "loaded"}


def _summary(runs: list[dict[str, float | bool]]) -> dict[str, object]:
    shown = [float(r["shown_s"]) for r in runs]
    cpu = [float(r["cpu_s"]) for r in runs]
    return {"shown_s": {"min": min(shown), "median": statistics.median(shown)},
            "cpu_s": {"min": min(cpu), "median": statistics.median(cpu)},
            "torch_loaded_at_show": any(bool(r["torch"]) for r in runs),
            "web3_loaded_at_show": any(bool(r["web3"]) for r in runs)}


def measure(runs: int) -> dict[str, object]:
    studio = [sys.executable, str(ROOT / "main.py"), "--quit-after-show"]
    bare = [sys.executable, "-c", BARE_WINDOW]
    with tempfile.TemporaryDirectory(prefix="studio-startup-") as folder:
        env = _environment(Path(folder) / "home", Path(folder) / "pycache")
        run_once(bare, env), run_once(studio, env)  # compiles the bytecode and makes the home
        pairs = [(run_once(bare, env), run_once(studio, env)) for _ in range(runs)]
    bare_summary, studio_summary = _summary([b for b, _ in pairs]), _summary([s for _, s in pairs])
    ratio = statistics.median(float(s["cpu_s"]) / float(b["cpu_s"]) for b, s in pairs)
    shown_median = studio_summary["shown_s"]["median"]  # type: ignore[index]
    return {
        "runs": runs, "bare": bare_summary, "studio": studio_summary, "cpu_ratio": ratio,
        "targets": {"shown_s": TARGET_SHOWN_S, "cpu_ratio": TARGET_CPU_RATIO},
        "meets_targets": shown_median <= TARGET_SHOWN_S and ratio <= TARGET_CPU_RATIO
                         and not studio_summary["torch_loaded_at_show"] and not studio_summary["web3_loaded_at_show"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=5, help="pairs of fresh processes (default 5)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args(argv)
    result = measure(args.runs)
    if args.json:
        print(json.dumps(result))
        return 0
    bare, studio = result["bare"], result["studio"]
    print(f"Start-up over {args.runs} pairs of fresh processes: a bare PySide6 window with a tab widget, "
          "then the studio\n")
    print(f"{'measure':<30}{'bare min':>10}{'median':>9}{'studio min':>12}{'median':>9}{'target':>10}")
    for key, label, target in (("shown_s", "window shown (s)", f"{TARGET_SHOWN_S:.2f}"),
                               ("cpu_s", "CPU at show (s)", "")):
        print(f"{label:<30}{bare[key]['min']:>10.2f}{bare[key]['median']:>9.2f}"  # type: ignore[index]
              f"{studio[key]['min']:>12.2f}{studio[key]['median']:>9.2f}{target:>10}")  # type: ignore[index]
    print(f"\nstudio CPU / bare CPU (median of pairs): {result['cpu_ratio']:.2f}x (target at most "
          f"{TARGET_CPU_RATIO:.1f}x)")
    print(f"torch loaded before the window showed: {'yes' if studio['torch_loaded_at_show'] else 'no'}; "  # type: ignore[index]
          f"web3: {'yes' if studio['web3_loaded_at_show'] else 'no'}")  # type: ignore[index]
    print("meets targets" if result["meets_targets"] else "MISSES targets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
