"""``pip install .`` gives a working studio: the wheel carries the assets, the compiled contracts,
the user guide and the verifier page, and the installed package finds them (not the checkout's copies)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(out)], check=True, cwd=ROOT, timeout=300)
    (built,) = out.glob("provenance_studio-*.whl")
    return built


@pytest.mark.slow
def test_the_wheel_carries_assets_contract_artifacts_and_the_guide(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in (ROOT / "assets").rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            assert f"studio/_data/assets/{path.relative_to(ROOT / 'assets').as_posix()}" in names
    artifacts = sorted(p.name for p in (ROOT / "contracts" / "build").glob("*.json"))
    assert artifacts and all(f"studio/_data/contracts/build/{name}" in names for name in artifacts)
    assert "studio/_data/docs/guide.md" in names
    assert {"studio/_data/verifier/index.html", "studio/_data/verifier/dist/verifier.js",
            "studio/_data/verifier/dist/c2pa-engine.js"} <= names
    assert not any(name.startswith("studio/_data/verifier/") and ("/src/" in name or "node_modules" in name)
                   for name in names)
    assert "studio/__init__.py" in names and "studio/ui/main_window.py" in names
    assert not any(name.startswith(("assets/", "contracts/", "docs/", "tests/", "packaging/")) for name in names)
    entry_points = zipfile.ZipFile(wheel).read(
        next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert "studio = studio.cli.main:main" in entry_points and "studio-gui = studio.ui.app:main" in entry_points


@pytest.mark.slow
def test_an_unpacked_wheel_finds_its_own_data_not_the_checkout(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    script = (
        "import json, studio.assets as a, studio.chain.artifacts as c\n"
        "from studio.generation.demo import _CONFIG_DIR\n"
        "print(json.dumps({'file': a.__file__, 'assets': str(a.ASSETS_DIR), 'build': str(c.BUILD_DIR),"
        " 'guide': a.guide_path().read_text(encoding='utf-8')[:40],"
        " 'verifier': str(__import__('studio.storage.gateway', fromlist=['x']).verifier_dir()),"
        " 'icon': a.asset_path('icons', 'provenance-studio-128.png').is_file(),"
        " 'demo': sorted(p.name for p in _CONFIG_DIR.iterdir()),"
        " 'market': c.load_artifact('StudioMarketplace').name, 'names': c.artifact_names()}))\n"
    )
    # run from an empty folder with only the unpacked wheel (and the venv's site-packages) importable
    env = {**os.environ, "PYTHONPATH": str(site), "PYTHONSAFEPATH": "1"}
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    data = site / "studio" / "_data"
    assert Path(found["file"]).is_relative_to(site)
    assert found["assets"] == str(data / "assets") and found["build"] == str(data / "contracts" / "build")
    assert found["icon"] and found["market"] == "StudioMarketplace"
    assert found["names"] == sorted(p.stem for p in (ROOT / "contracts" / "build").glob("*.json"))
    assert found["demo"] == sorted(p.name for p in (ROOT / "assets" / "models" / "demo").iterdir())
    assert found["guide"] == (ROOT / "docs" / "guide.md").read_text(encoding="utf-8")[:40]
    assert found["verifier"] == str(data / "verifier") and (data / "verifier" / "dist" / "verifier.js").is_file()


def test_a_checkout_reads_the_data_beside_the_package() -> None:
    from studio import assets
    from studio.chain import artifacts

    assert assets.ASSETS_DIR == ROOT / "assets" and artifacts.BUILD_DIR == ROOT / "contracts" / "build"
    assert assets.guide_path() == ROOT / "docs" / "guide.md"
