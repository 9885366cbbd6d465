"""Generation on a real Ray cluster: the session's (tests/local_ray.py: a head node on this computer,
no dashboard, four logical CPUs: two workers of two torch threads each), whose workers run the
studio's engine on the demo model. A 12-avatar collection survives a killed worker with every avatar made once and
bit-identical to this computer's; a worker whose answers differ from its tasks is not trusted; the
desktop signs, and nothing a worker receives holds a key; `studio avatars collection --cluster`
completes there, and a studio killed mid-run continues on rerun: each avatar made, logged and in the
library exactly once. (Cancel during a cluster run: tests/ui/test_avatars_tab.py.)"""
from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from studio.assets import asset_path
from studio.generation.backends import RunProgress, TaskResult, single_image_tasks
from studio.generation.cluster import RayBackend
from studio.generation.request import GenerationRequest
from studio.generation.traits import load_trait_table
from studio.workflows.verify import verify_file

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from cluster_workers import LyingWorker, StallingWorker, records, worker_pids  # noqa: E402
from local_ray import LocalCluster  # noqa: E402

TRAITS = asset_path("examples", "avatar_traits.yaml")
pytestmark = pytest.mark.slow


def backend_on(ray_cluster: LocalCluster, catalog: Any, tmp_path: Path, worker_class: type[Any]) -> RayBackend:
    return RayBackend(catalog, address=ray_cluster.address, hash_cache=tmp_path / "desk-hashes.json",
                      cpus_per_worker=2, worker_class=worker_class)


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def test_a_collection_survives_a_killed_worker_and_is_signed_here_with_no_key_sent(
        ray_cluster: LocalCluster, demo_catalog: Any, engine: Any, signers: list[Any], tmp_path: Path) -> None:
    from studio.workflows.avatars import make_collection

    ray_cluster.clear_records()
    table = load_trait_table(TRAITS)
    signer = signers[0]
    saved: list[int] = []
    killed: list[int] = []
    progress: list[Any] = []

    stalled = ray_cluster.record_dir / "stalled"

    def on_saved(item: Any, work: Any) -> None:
        saved.append(item.index)
        if not killed and stalled.exists():  # the worker hanging on a task dies, as a machine that goes away
            victim = int(stalled.read_text())
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)

    backend = backend_on(ray_cluster, demo_catalog, tmp_path, StallingWorker)
    try:
        result = make_collection(table, 12, 5, tmp_path / "drop", backend, library=None, size=64, steps=2,
                                 c2pa=None, signer=signer, on_saved=on_saved, progress=progress.append)
    finally:
        backend.close()

    # every avatar made once, the killed worker's tasks made by another worker
    assert killed and sorted(saved) == list(range(12)) and result.generated == 12
    report = result.report
    assert report is not None and report.done == 12 and not report.failures
    assert sum(n.lost for n in report.nodes) >= 1 and sum(n.done for n in report.nodes) == 12
    assert len(worker_pids(ray_cluster.record_dir) - set(killed)) >= 1
    shown = [w for p in progress for w in p.workers]
    assert any(w.state == "lost" for w in shown) and any(w.state == "working" for w in shown)
    # two workers, and a third started in place of the lost one
    assert {"worker 1", "worker 2", "worker 3"} <= {w.name.split(" · ")[0] for w in shown}

    # the same set as this computer makes, pixel for pixel (same seed, model, sampler, 2 threads)
    local = make_collection(table, 12, 5, tmp_path / "here", engine, library=None, size=64, steps=2, c2pa=None)
    assert [i.file for i in local.items] == [i.file for i in result.items]
    for item in result.items:
        assert np.array_equal(pixels(result.folder / item.file), pixels(local.folder / item.file)), item.file

    # signed on the desktop with the wallet's key ...
    for item in result.items[:3]:
        verdict = verify_file(result.folder / item.file, c2pa_trust=None)
        assert verdict.signature_valid and verdict.signer == signer.address and verdict.pixel_hash_ok
    # ... which no worker ever received: neither the key, nor the phrase, nor the signer
    sent = records(ray_cluster.record_dir)
    assert sum("-task-" in name for name in sent) >= 12 and any("-options" in name for name in sent)
    key = bytes(signer._account.key)
    secrets = [key, key.hex().encode(), key.hex().upper().encode(), b"test test test test", b"LocalSigner"]
    for name, data in sent.items():
        assert not any(secret in data for secret in secrets), f"{name} holds key material"
    for name, data in sent.items():  # a worker's options are the run's settings and nothing else
        if name.endswith("-options.pickle"):
            assert set(pickle.loads(data)) == {"threads", "precision", "memory_saving"}


def test_a_worker_whose_answers_differ_from_its_tasks_is_not_trusted(
        ray_cluster: LocalCluster, demo_catalog: Any, engine: Any, tmp_path: Path) -> None:
    ray_cluster.clear_records()
    request = GenerationRequest(prompt="a lighthouse at dusk", width=64, height=64, steps=2, seed=30, count=6)
    tasks = single_image_tasks(request)
    made: list[TaskResult] = []
    progress: list[RunProgress] = []
    backend = backend_on(ray_cluster, demo_catalog, tmp_path, LyingWorker)
    try:
        report = backend.run_tasks(tasks, on_result=made.append, progress=progress.append)
    finally:
        backend.close()
    liar = int((ray_cluster.record_dir / "liar").read_text())
    assert liar in worker_pids(ray_cluster.record_dir)  # it was given tasks, and answered
    assert sorted(r.task.key for r in made) == list(range(6)) and report.done == 6 and not report.failures
    local = engine.generate(request)
    for result in made:  # only honest answers were kept
        assert result.result.recipe.seed == result.task.request.seed
        assert np.array_equal(np.asarray(result.result.image), np.asarray(local[result.task.key].image))
    assert any("answered task" in note and "seed" in note and "not used" in note for note in report.notes)
    assert any(w.state == "refused" for p in progress for w in p.workers)


def test_studio_avatars_collection_with_cluster_completes_there(
        ray_cluster: LocalCluster, studio_home: Path, demo_model_dir: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    from studio.cli.main import main
    from studio.paths import studio_paths

    shutil.copytree(demo_model_dir, studio_paths().demo_model_dir)
    out = tmp_path / "drop"
    code = main(["avatars", "collection", str(TRAITS), "--count", "4", "--seed", "7", "--out", str(out),
                 "--size", "64", "--steps", "2", "--json", f"--cluster={ray_cluster.address}"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert sorted(line["index"] for line in lines[:4]) == [0, 1, 2, 3]
    summary = lines[-1]
    assert summary["generated"] == 4 and summary["report"]["done"] == 4
    assert summary["report"]["backend"] == f"the Ray cluster at {ray_cluster.address}"
    assert sum(node["done"] for node in summary["report"]["nodes"]) == 4
    assert "4 of 4 images on the Ray cluster" in captured.err


def library_rows(path: Path) -> list[tuple[str, str, str]]:
    """The library's works: (title, file, SHA-256), by title."""
    from studio.library.db import Library

    library = Library(path)
    try:
        return sorted((w.title, Path(w.path).name, w.sha256) for w in library.works())
    finally:
        library.close()


def check_collection_once(folder: Path, rows: list[tuple[str, str, str]], count: int) -> None:
    """Every avatar of the collection in ``folder`` is logged, saved and in the library exactly once."""
    from studio.workflows.journal import PROGRESS_FILE, file_sha256

    logged = [line.split() for line in (folder / PROGRESS_FILE).read_text().splitlines() if line.strip()]
    assert sorted(int(index) for index, _, _ in logged) == list(range(count))  # each once, none lost
    for _, file, sha in logged:
        assert file_sha256(folder / file) == sha
    assert len(rows) == count and len({title for title, _, _ in rows}) == count  # no duplicate rows
    assert {(file, sha) for _, file, sha in rows} == {(file, sha) for _, file, sha in logged}


def test_a_cluster_collection_whose_studio_was_killed_continues_on_rerun_with_each_avatar_once(
        ray_cluster: LocalCluster, studio_home: Path, demo_model_dir: Path, tmp_path: Path) -> None:
    from studio.library.db import library_path
    from studio.paths import studio_paths
    from studio.workflows.journal import read_done

    from studio.config import load_config

    shutil.copytree(demo_model_dir, studio_paths().demo_model_dir)
    config = load_config()
    config.set("ray_max_workers", 1)  # one worker a run is enough here, and starts sooner on two cores
    config.save()
    out = tmp_path / "drop"
    command = [sys.executable, "-m", "studio", "avatars", "collection", str(TRAITS), "--count", "10", "--seed", "7",
               "--out", str(out), "--size", "64", "--steps", "2", "--json", f"--cluster={ray_cluster.address}"]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parent.parent), os.environ.get("PYTHONPATH", "")])}

    # the studio (the cluster's driver) dies as a killed process does, in the middle of the run
    with open(tmp_path / "first.err", "w") as errors:
        first = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=errors, text=True)
        assert first.stdout is not None
        made = []
        try:
            for line in first.stdout:
                made.append(json.loads(line)["index"])
                if len(made) == 2:
                    os.kill(first.pid, signal.SIGKILL)
                    break
        finally:
            first.kill()
            first.wait(timeout=60)
            first.stdout.close()
    assert first.returncode == -signal.SIGKILL, (tmp_path / "first.err").read_text()
    before = read_done(out)
    assert set(made) <= set(before) and 2 <= len(before) < 10  # killed mid-run, what it saved is logged

    # the same command again: the rest, on the same cluster, none made twice, none lost
    second = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    lines = [json.loads(line) for line in second.stdout.splitlines()]
    again = [line["index"] for line in lines[:-1]]
    assert sorted(again) == sorted(set(range(10)) - set(before))
    assert lines[-1]["generated"] == 10 - len(before) and lines[-1]["report"]["done"] == 10 - len(before)
    assert f"Continuing: {len(before)} of 10 avatars were made by an earlier run." in second.stderr
    check_collection_once(out, library_rows(library_path()), 10)
