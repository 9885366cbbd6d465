"""Benchmark: how long the window takes to appear, in fresh processes, against the 1.0 s target.

Runs ``python main.py --quit-after-show`` N times (offscreen Qt, a throwaway studio home), reads
the "window shown after X s" line each prints, and reports min/median of that figure and of the
whole process (start to exit).

    python bench/startup.py            # 5 runs, a table
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
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 1.0
SHOWN = re.compile(r"window shown after ([0-9.]+) s \(torch (loaded|not loaded)\)")


def run_once(home: Path) -> tuple[float, float, bool]:
    """(seconds to window shown, seconds for the whole process, torch loaded at show time)."""
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"), STUDIO_HOME=str(home))
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "--quit-after-show"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    total = time.perf_counter() - started
    match = SHOWN.search(done.stdout)
    if done.returncode != 0 or match is None:
        raise SystemExit(f"main.py --quit-after-show failed (exit {done.returncode}):\n{done.stdout}{done.stderr}")
    return float(match.group(1)), total, match.group(2) == "loaded"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=5, help="number of fresh processes (default 5)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args(argv)
    shown, total, torch_loaded = [], [], []
    with tempfile.TemporaryDirectory(prefix="studio-startup-") as home:
        for _ in range(args.runs):
            s, t, loaded = run_once(Path(home))
            shown.append(s)
            total.append(t)
            torch_loaded.append(loaded)
    result = {
        "runs": args.runs, "target_s": TARGET_S,
        "window_shown_s": {"min": min(shown), "median": statistics.median(shown)},
        "process_s": {"min": min(total), "median": statistics.median(total)},
        "torch_loaded_at_show": any(torch_loaded),
        "meets_target": statistics.median(shown) <= TARGET_S,
    }
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"Start-up over {args.runs} fresh processes (target: window shown within {TARGET_S:.1f} s)\n")
    print(f"{'measure':<28}{'min':>8}{'median':>9}{'target':>9}")
    print(f"{'window shown (s)':<28}{min(shown):>8.2f}{statistics.median(shown):>9.2f}{TARGET_S:>9.2f}")
    print(f"{'whole process (s)':<28}{min(total):>8.2f}{statistics.median(total):>9.2f}{'':>9}")
    print(f"\ntorch loaded before the window showed: {'yes' if any(torch_loaded) else 'no'}")
    print("meets target" if result["meets_target"] else "MISSES target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
