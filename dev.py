#!/usr/bin/env python3
"""Set up (once) and run Provenance Studio from a fresh clone.

    python3 dev.py run [studio args...]    set up what is missing, then open the studio
    python3 dev.py test [pytest args...]   set up what is missing, then run the whole test suite
    python3 dev.py test --latest [...]     the suite against the newest versions pyproject.toml allows
                                           (in .venv-latest: an upgrade is tried, never installed silently)
    python3 dev.py lock                    resolve the newest allowed versions again and rewrite the lock
    python3 dev.py setup                   only the set-up

Set-up means a virtual environment in .venv holding exactly what the lock names, the contract
tools (solc, OpenZeppelin, anvil, cast, ethers) in contracts/node_modules from npm (`npm ci` over
contracts/package-lock.json), and the verifier page's libraries and bundler in verifier/node_modules
(`npm ci` over verifier/package-lock.json).

The lock (locks/<platform>.txt) pins every Python package, transitive ones included, to one file
by its SHA-256: the file that was resolved, installed and tested. It is made by pip itself
(`pip install --dry-run --report`) and installed with `pip install --require-hashes --no-deps`,
so a fresh machine gets the same bytes and nothing the resolver finds newer on the day. pip is
used rather than uv or pip-tools because it is already there (nothing to bootstrap), it honours
the machine's pip configuration (PyTorch's CPU wheel from a local folder or its own index), and
its report records the exact file it chose. torch is the CPU build 2.13.0; STUDIO_TORCH_INDEX
(e.g. https://download.pytorch.org/whl/cu124) installs a CUDA build from that index instead,
outside the lock. A platform with no lock file falls back to the ranges in pyproject.toml, with
a warning; `python3 dev.py lock` there writes one.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
LATEST_VENV = ROOT / ".venv-latest"
LOCKS = ROOT / "locks"
TORCH_PIN = "torch==2.13.0"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
# installed beside the project so that `pip install -e .` builds without fetching anything unlocked
BUILD_REQUIREMENTS = ("setuptools>=68", "wheel")


def lock_file() -> Path:
    """The lock of this platform: OS, machine and Python version decide which wheels apply."""
    machine = platform.machine().lower().replace("amd64", "x86_64").replace("arm64", "aarch64")
    return LOCKS / f"{sys.platform}-{machine}-py{sys.version_info.major}{sys.version_info.minor}.txt"


def _python(env_dir: Path = VENV) -> Path:
    return env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _wanted_stamp(lock: Path | None) -> str:
    digest = hashlib.sha256()
    for path in (ROOT / "pyproject.toml", ROOT / "dev.py", ROOT / "contracts" / "package-lock.json",
                 ROOT / "verifier" / "package-lock.json", lock):
        if path is not None and path.exists():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    digest.update(os.environ.get("STUDIO_TORCH_INDEX", "").encode())
    return digest.hexdigest()


def _run(*args: str | Path, **kwargs) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], check=True, **kwargs)


def _pip(python: Path) -> list[str | Path]:
    return [python, "-m", "pip", "install", "--disable-pip-version-check", "-q"]


def _create_venv(env_dir: Path) -> Path:
    if sys.version_info < (3, 11):
        sys.exit(f"Provenance Studio needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    if not _python(env_dir).exists():
        print(f"Creating a virtual environment in {env_dir} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(env_dir)
    return _python(env_dir)


# ---------------------------------------------------------------- the lock

def read_lock(path: Path) -> list[tuple[str, str, str]]:
    """(name, version, sha256) of every package the lock pins."""
    pins = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        requirement, _, digest = line.partition(" --hash=sha256:")
        name, _, version = requirement.partition("==")
        if not version or len(digest) != 64:
            sys.exit(f"{path}: a line is not 'name==version --hash=sha256:<64 hex>': {line!r}. "
                     "Run `python3 dev.py lock` to write it again.")
        pins.append((name, version, digest))
    return pins


def _write_requirements(pins: list[tuple[str, str, str]], path: Path) -> None:
    path.write_text("".join(f"{name}=={version} --hash=sha256:{digest}\n" for name, version, digest in pins))


def _is_torch_stack(name: str) -> bool:
    """torch and the CUDA packages only a CUDA torch pulls in (a CUDA index replaces them all)."""
    name = name.lower().replace("_", "-")
    return name == "torch" or name.startswith("nvidia-") or name == "triton"


def install_locked(python: Path, lock: Path) -> None:
    """Exactly the lock's files (hash-checked, no resolver), then the studio itself, editable."""
    pins = read_lock(lock)
    torch_index = os.environ.get("STUDIO_TORCH_INDEX")
    torch_pins = [pin for pin in pins if _is_torch_stack(pin[0])]
    rest = [pin for pin in pins if not _is_torch_stack(pin[0])]
    with tempfile.TemporaryDirectory() as tmp:
        if torch_index:
            print(f"STUDIO_TORCH_INDEX is set: torch comes from {torch_index}, outside the lock.", flush=True)
            _run(*_pip(python), "torch>=2.4,<2.15", "--index-url", torch_index)
        else:
            torch_file = Path(tmp) / "torch.txt"
            _write_requirements(torch_pins, torch_file)
            try:  # the machine's own configuration first (a local wheel folder, a mirror) ...
                _run(*_pip(python), "--require-hashes", "--no-deps", "-r", torch_file)
            except subprocess.CalledProcessError:  # ... then PyTorch's index of CPU builds
                _run(*_pip(python), "--require-hashes", "--no-deps", "-r", torch_file,
                     "--extra-index-url", TORCH_CPU_INDEX)
        rest_file = Path(tmp) / "rest.txt"
        _write_requirements(rest, rest_file)
        _run(*_pip(python), "--require-hashes", "--no-deps", "-r", rest_file)
    _run(*_pip(python), "--no-deps", "--no-build-isolation", "-e", ROOT)
    _run(python, "-m", "pip", "check")  # the lock is whole: every installed package's requirements are met


def resolve_newest(python: Path) -> list[dict]:
    """What pip would install today for this platform, within pyproject.toml's ranges (nothing is installed)."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        _run(python, "-m", "pip", "install", "--disable-pip-version-check", "-q", "--dry-run", "--ignore-installed",
             "--report", report, TORCH_PIN, f"{ROOT}[dev]", *BUILD_REQUIREMENTS)
        return json.loads(report.read_text())["install"]


def write_lock(python: Path, path: Path) -> None:
    entries = resolve_newest(python)
    pins = []
    for entry in entries:
        name, version = entry["metadata"]["name"], entry["metadata"]["version"]
        if name.lower().replace("_", "-") == "provenance-studio":
            continue
        archive = entry["download_info"].get("archive_info") or {}
        digest = (archive.get("hashes") or {}).get("sha256")
        if digest is None and str(archive.get("hash", "")).startswith("sha256="):
            digest = archive["hash"].split("=", 1)[1]
        if digest is None:
            sys.exit(f"pip gave no SHA-256 for {name} {version} ({entry['download_info'].get('url')}); "
                     "a lock needs one for every file.")
        pins.append((name, version, digest))
    pins.sort(key=lambda pin: pin[0].lower())
    path.parent.mkdir(parents=True, exist_ok=True)
    header = (f"# Provenance Studio dependency lock for {path.stem} (CPython {sys.version_info.major}."
              f"{sys.version_info.minor}).\n"
              f"# Written by `python3 dev.py lock` on {time.strftime('%Y-%m-%d')}: the newest versions "
              "pyproject.toml allowed that day,\n"
              "# each pinned to the one file pip chose, by SHA-256. `python3 dev.py setup` installs exactly these "
              "with\n# `pip install --require-hashes --no-deps`; torch is PyTorch's CPU build (" + TORCH_CPU_INDEX +
              ").\n")
    path.write_text(header + "".join(f"{n}=={v} --hash=sha256:{d}\n" for n, v, d in pins), encoding="utf-8")
    print(f"Wrote {path.relative_to(ROOT)}: {len(pins)} packages.", flush=True)


# ---------------------------------------------------------------- set-up

def _npm_ci() -> None:
    for folder in (ROOT / "contracts", ROOT / "verifier"):  # contract tools; the verifier page's build tools
        if (folder / "package-lock.json").exists():
            npm = shutil.which("npm")
            if npm is None:
                sys.exit("Node.js (npm) is needed for the contract tools, the anvil test node and the verifier "
                         "page; install Node.js 20+.")
            _run(npm, "ci", "--no-audit", "--no-fund", cwd=folder)


def setup() -> Path:
    """Create or refresh .venv when the lock, pyproject.toml or this script changed."""
    lock = lock_file()
    has_lock = lock.exists()
    stamp = VENV / ".studio-setup"
    wanted = _wanted_stamp(lock if has_lock else None)
    if stamp.exists() and stamp.read_text() == wanted and _python().exists():
        return _python()
    python = _create_venv(VENV)
    if has_lock:
        install_locked(python, lock)
    else:
        print(f"WARNING: there is no dependency lock for this platform ({lock.relative_to(ROOT)}); installing the "
              "newest versions pyproject.toml allows, which were not necessarily tested. "
              "`python3 dev.py lock` writes a lock for this platform.", file=sys.stderr, flush=True)
        _install_ranges(python, upgrade=False)
    _npm_ci()
    stamp.write_text(wanted)
    return python


def _install_ranges(python: Path, *, upgrade: bool) -> None:
    index = os.environ.get("STUDIO_TORCH_INDEX")
    if index:
        _run(*_pip(python), "torch>=2.4,<2.15", "--index-url", index)
    else:
        _run(*_pip(python), TORCH_PIN)
    extra = ["--upgrade", "--upgrade-strategy", "eager"] if upgrade else []
    _run(*_pip(python), *extra, "-e", f"{ROOT}[dev]")


def setup_latest() -> Path:
    """A separate environment with the newest versions the ranges allow, resolved afresh every time."""
    python = _create_venv(LATEST_VENV)
    _install_ranges(python, upgrade=True)
    _npm_ci()
    subprocess.run([str(python), "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check"])
    return python


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test", "setup", "lock"}:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "lock":
        python = _python() if _python().exists() else _create_venv(VENV)
        write_lock(python, lock_file())
        print("Run `python3 dev.py test` to install the new lock and test it before committing it.")
        return 0
    latest = command == "test" and "--latest" in rest
    if latest:
        rest = [arg for arg in rest if arg != "--latest"]
        python = setup_latest()
    else:
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
