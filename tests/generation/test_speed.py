"""Speed options: SDPA attention reported, channels-last and torch.compile recorded as runtime
(with the warm-up reported through progress), the fp16-safe SDXL VAE found, and the benchmark's
CPU smoke mode."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from studio.generation.engine import Engine
from studio.generation.request import GenerationProgress
from studio.generation.vae import find_fp16_fix_vae

from options_helpers import pixels, round_trip, small

REPO = Path(__file__).resolve().parents[2]


def test_attention_is_pytorchs_sdpa(engine: Engine) -> None:
    engine.generate(small(steps=1))
    report = engine.speed_report()
    assert report["attention"] == "sdpa" and report["compiled"] is False and report["channels_last"] is False


def test_channels_last_on_the_cpu_is_recorded_and_reproduce_says_so(demo_catalog, tmp_path: Path) -> None:
    fast = Engine(demo_catalog, hash_cache=tmp_path / "h.json", channels_last="on")
    result = fast.generate(small())[0]
    assert result.recipe.runtime == ("channels_last",) and fast.speed_report()["channels_last"]
    assert result.recipe.settings()["runtime"] == ["channels_last"]
    [same] = round_trip(small(), fast, tmp_path / "works")
    assert (same.method, same.match) == ("exact", True)
    from studio.workflows.generate import generate_works
    from studio.workflows.verify import reproduce_work

    work = generate_works(small(), fast, tmp_path / "more", library=None, c2pa=None)[0]
    plain = Engine(demo_catalog, hash_cache=tmp_path / "h.json", channels_last="off")
    other = reproduce_work(work.path, plain, weights=[])
    assert other.method == "perceptual" and "with channels_last" in other.reason and other.match


def test_a_compiled_unet_reports_its_warm_up_once_per_size(demo_catalog, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import studio.generation.engine as engine_module

    monkeypatch.setattr(engine_module, "COMPILE_BACKEND", "eager")  # no C++ compiler needed in the suite
    compiled = Engine(demo_catalog, hash_cache=tmp_path / "h.json", torch_compile=True)
    seen: list[GenerationProgress] = []
    first = compiled.generate(small(steps=2), progress=seen.append)[0]
    assert [p.phase for p in seen] == ["warm-up", "sampling", "sampling"] and seen[0].step == 0
    seen.clear()
    compiled.generate(small(steps=2, seed=8), progress=seen.append)
    assert [p.phase for p in seen] == ["sampling", "sampling"]
    assert first.recipe.runtime == ("compiled",) and compiled.speed_report()["compiled"]
    plain = Engine(demo_catalog, hash_cache=tmp_path / "h.json").generate(small(steps=2))[0]
    assert np.array_equal(pixels(first), pixels(plain))  # eager compilation keeps the arithmetic


def test_the_fp16_safe_sdxl_vae_is_found_by_its_name(tmp_path: Path) -> None:
    assert find_fp16_fix_vae([tmp_path]) is None
    folder = tmp_path / "vae" / "sdxl-vae-fp16-fix"
    folder.mkdir(parents=True)
    assert find_fp16_fix_vae([tmp_path]) is None  # a folder without a config is not a VAE
    (folder / "config.json").write_text("{}")
    assert find_fp16_fix_vae([tmp_path / "missing", tmp_path]) == folder


@pytest.mark.slow
def test_the_benchmark_runs_its_cpu_smoke_mode_and_prints_json() -> None:
    done = subprocess.run([sys.executable, str(REPO / "bench" / "generation.py"), "--smoke", "--json"],
                          capture_output=True, text=True, timeout=600, cwd=REPO,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert [row["arch"] for row in report["rows"]] == ["sd15", "sdxl"]
    for row in report["rows"]:
        assert row["studio_it_s"] > 0 and row["raw_it_s"] > 0 and row["identical_pixels"] is True
        assert row["studio_peak_mib"] > 0 and row["raw_peak_mib"] > 0
