"""Build the one-folder app for this platform: ``python3 packaging/build.py``.

It builds with the first Python environment that has the studio's dependencies: ``--venv`` if
given, else the virtual environment this script runs in, else the repository's ``.venv``, else a
new ``build/venv`` (CPU torch, the studio and its dependencies installed from the package
registry). PyInstaller |PYINSTALLER| is installed into that environment if it is missing. The
app folder (``provenance-studio`` and ``studio`` side by side) is printed at the end.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "packaging" / "studio.spec"
PYINSTALLER = "pyinstaller==6.22.3"
#: The CPU build of torch, pinned so pip does not resolve a CUDA build with gigabytes of libraries.
CPU_TORCH = "torch==2.13.0"
APP_NAME = "provenance-studio"

__doc__ = __doc__.replace("|PYINSTALLER|", PYINSTALLER.split("==")[1])


def venv_python(folder: Path) -> Path:
    return folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def has_studio_deps(python: Path) -> bool:
    """Whether ``python`` can import the studio's heavy dependencies (checked without running them)."""
    probe = "import importlib.util as u, sys; sys.exit(0 if all(u.find_spec(m) for m in " \
            "('torch', 'diffusers', 'PySide6', 'web3', 'c2pa')) else 1)"
    return python.exists() and subprocess.run([str(python), "-c", probe], cwd=ROOT).returncode == 0


def choose_python(requested: Path | None) -> Path:
    """The interpreter to build with; creates ``build/venv`` when no environment has the studio's dependencies."""
    if requested is not None:
        python = venv_python(requested)
        if not has_studio_deps(python):
            sys.exit(f"{requested} is not a virtual environment with the studio's dependencies installed.")
        return python
    here = Path(sys.executable)
    if sys.prefix != sys.base_prefix and has_studio_deps(here):
        return here
    repo_venv = venv_python(ROOT / ".venv")
    if has_studio_deps(repo_venv):
        return repo_venv
    build_venv = ROOT / "build" / "venv"
    python = venv_python(build_venv)
    if not has_studio_deps(python):
        print(f"Creating a build environment in {build_venv} (downloads about 1.5 GB)…", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(build_venv)
        subprocess.run([str(python), "-m", "pip", "install", CPU_TORCH, str(ROOT)], check=True)
    return python


def ensure_pyinstaller(python: Path) -> None:
    wanted = PYINSTALLER.split("==")[1]
    found = subprocess.run([str(python), "-c", "import PyInstaller; print(PyInstaller.__version__)"],
                           capture_output=True, text=True)
    if found.returncode == 0 and found.stdout.strip() == wanted:
        return
    print(f"Installing {PYINSTALLER} into {python.parent.parent}…", flush=True)
    subprocess.run([str(python), "-m", "pip", "install", PYINSTALLER], check=True)


def add_desktop_files(app_dir: Path) -> None:
    """Linux: put the desktop entry and the icons next to the programs, ready to install."""
    share = app_dir / "share"
    (share / "applications").mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "packaging" / "linux" / f"{APP_NAME}.desktop", share / "applications")
    for png in sorted((ROOT / "assets" / "icons").glob(f"{APP_NAME}-*.png")):
        size = png.stem.rsplit("-", 1)[1]
        target = share / "icons" / "hicolor" / f"{size}x{size}" / "apps"
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(png, target / f"{APP_NAME}.png")


def build(python: Path, dist: Path, work: Path) -> Path:
    """Run PyInstaller on the spec; returns the app folder."""
    started = time.perf_counter()
    subprocess.run([str(python), "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
                    "--distpath", str(dist), "--workpath", str(work), str(SPEC)], cwd=ROOT, check=True)
    app_dir = dist / APP_NAME
    if sys.platform.startswith("linux"):
        add_desktop_files(app_dir)
    print(f"Built in {time.perf_counter() - started:.0f} s.", flush=True)
    return app_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the Provenance Studio app folder for this platform.")
    parser.add_argument("--venv", type=Path, help="build with this virtual environment")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="where the app folder goes (default: dist/)")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "pyinstaller",
                        help="PyInstaller's working folder (default: build/pyinstaller/)")
    args = parser.parse_args(argv)
    python = choose_python(args.venv)
    ensure_pyinstaller(python)
    app_dir = build(python, args.dist.resolve(), args.work.resolve())
    suffix = ".exe" if os.name == "nt" else ""
    print(f"App folder: {app_dir}")
    if sys.platform == "darwin":
        print(f"App bundle: {args.dist.resolve() / 'Provenance Studio.app'}")
    print(f"  window:       {app_dir / (APP_NAME + suffix)}")
    print(f"  command line: {app_dir / ('studio' + suffix)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
