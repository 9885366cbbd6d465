#!/usr/bin/env python3
"""Set up (once) and run Provenance Studio from a fresh clone.

    python3 dev.py run [studio args...]   set up what is missing, then open the studio
    python3 dev.py test [pytest args...]  set up what is missing, then run the whole test suite

Set-up means a virtual environment in .venv with every dependency, and the contract tools
(solc, OpenZeppelin, anvil) in contracts/node_modules from npm. torch is pinned first:
the CPU build 2.13.0 by default; STUDIO_TORCH_INDEX (for example
https://download.pytorch.org/whl/cu124) installs a CUDA build instead.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
TORCH_PIN = "torch==2.13.0"
STAMP = VENV / ".studio-setup"


def _python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _wanted_stamp() -> str:
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "dev.py", "contracts/package-lock.json"):
        if (ROOT / name).exists():
            digest.update((ROOT / name).read_bytes())
    digest.update(os.environ.get("STUDIO_TORCH_INDEX", "").encode())
    return digest.hexdigest()


def _run(*args: str | Path, **kwargs) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], check=True, **kwargs)


def setup() -> Path:
    """Create or refresh .venv when pyproject.toml or this script changed."""
    if sys.version_info < (3, 11):
        sys.exit(f"Provenance Studio needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    wanted = _wanted_stamp()
    if STAMP.exists() and STAMP.read_text() == wanted and _python().exists():
        return _python()
    if not _python().exists():
        print(f"Creating a virtual environment in {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    pip = [_python(), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    index = os.environ.get("STUDIO_TORCH_INDEX")
    if index:
        _run(*pip, "torch>=2.4,<2.15", "--index-url", index)
    else:
        _run(*pip, TORCH_PIN)
    _run(*pip, "-e", f"{ROOT}[dev]")
    if (ROOT / "contracts" / "package-lock.json").exists():
        npm = shutil.which("npm")
        if npm is None:
            sys.exit("Node.js (npm) is needed for the contract tools and the anvil test node; install Node.js 20+.")
        _run(npm, "ci", "--no-audit", "--no-fund", cwd=ROOT / "contracts")
    STAMP.write_text(wanted)
    return _python()


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test", "setup"}:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    python = setup()
    env = dict(os.environ)
    if command == "setup":
        return 0
    if command == "run":
        return subprocess.call([str(python), str(ROOT / "main.py"), *rest], env=env)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    return subprocess.call([str(python), "-m", "pytest", *rest], env=env, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
