"""Generation backends without a cluster: this computer's engine behind the backend interface,
single-image tasks, the backend setting, what a run's progress says, and a cluster address where
nothing answers (refused at once, with what to do)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from studio.cancel import CancelToken
from studio.config import load_config
from studio.errors import Cancelled, InputError
from studio.generation.backends import (GenerationBackend, GenerationTask, LocalBackend, RunProgress, TaskResult,
                                        as_backend, check_tasks, cluster_address, open_backend, single_image_tasks)
from studio.generation.engine import Engine
from studio.generation.request import GenerationProgress, GenerationRequest


def small(**fields) -> GenerationRequest:
    values = dict(prompt="a lighthouse at dusk", width=64, height=64, steps=2, seed=11)
    values.update(fields)
    return GenerationRequest(**values)


def test_a_request_becomes_one_task_per_image_with_the_engines_seeds() -> None:
    tasks = single_image_tasks(small(count=3, seed=40), first_key=5)
    assert [(t.key, t.request.seed, t.request.count) for t in tasks] == [(5, 40, 1), (6, 41, 1), (7, 42, 1)]
    random = single_image_tasks(small(count=2, seed=None))
    assert random[0].request.seed is not None and random[1].request.seed == random[0].request.seed + 1


def test_a_run_refuses_tasks_that_a_second_worker_could_not_remake() -> None:
    with pytest.raises(InputError, match="one image with a fixed seed"):
        check_tasks([GenerationTask(0, small(seed=None))])
    with pytest.raises(InputError, match="one image"):
        check_tasks([GenerationTask(0, small(count=2))])
    with pytest.raises(InputError, match="Two tasks are called 3"):
        check_tasks([GenerationTask(3, small()), GenerationTask(3, small(seed=12))])


def test_the_local_backend_makes_each_task_as_the_engine_does_and_reports_it(engine: Engine) -> None:
    backend = as_backend(engine)
    assert isinstance(backend, LocalBackend) and isinstance(backend, GenerationBackend)
    assert not isinstance(engine, GenerationBackend) and as_backend(backend) is backend
    tasks = single_image_tasks(small(count=2, seed=3))
    made: list[TaskResult] = []
    progress: list[RunProgress] = []
    report = backend.run_tasks(tasks, on_result=made.append, progress=progress.append)
    direct = engine.generate(small(count=2, seed=3))
    assert [m.task.key for m in made] == [0, 1]
    for result, expected in zip(made, direct):
        assert np.array_equal(np.asarray(result.result.image), np.asarray(expected.image))
        assert result.result.recipe == expected.recipe and result.node == "this computer"
    assert (report.done, report.total, [(n.node, n.done) for n in report.nodes]) == (2, 2, [("this computer", 2)])
    assert report.lines()[0].startswith("2 of 2 images on this computer")
    steps = [p for p in progress if p.step is not None]
    assert steps and steps[0].key == 0 and steps[-1].key == 1  # step by step, with the task it belongs to
    assert progress[-1].done == 2 and progress[-1].fraction == 1.0 and progress[-1].eta_s == 0.0


def test_cancelling_the_local_backend_stops_before_the_next_task(engine: Engine) -> None:
    cancel = CancelToken()
    made: list[int] = []

    def keep(result: TaskResult) -> None:
        made.append(result.task.key)
        cancel.cancel()

    with pytest.raises(Cancelled):
        LocalBackend(engine).run_tasks(single_image_tasks(small(count=3)), on_result=keep, cancel=cancel)
    assert made == [0]


def test_the_time_left_follows_the_pace_of_finished_images() -> None:
    assert RunProgress(0, 10, 5.0).eta_s is None
    assert RunProgress(1, 10, 4.0, first_done_s=4.0).eta_s == pytest.approx(36.0)
    # loading made the first image slow: the pace is taken from the ones after it
    assert RunProgress(3, 10, 10.0, first_done_s=6.0).eta_s == pytest.approx(2.0 * 7)
    step = GenerationProgress(image_index=0, image_count=1, step=5, steps=10, elapsed_s=1.0)
    assert RunProgress(0, 3, 1.0, step=step).eta_s == pytest.approx(2.0 * 3 - 1.0)
    assert RunProgress(0, 4, 1.0, step=step).fraction == pytest.approx(0.5 / 4)
    assert RunProgress(4, 4, 9.0, first_done_s=1.0).eta_s == 0.0


def test_the_backend_follows_cluster_then_settings(studio_home: Path) -> None:
    config = load_config()
    assert cluster_address(config) is None  # this computer by default
    assert cluster_address(config, "") == "local"  # --cluster alone: the address of the settings
    assert cluster_address(config, "ray://head:10001") == "ray://head:10001"
    config.set("generation_backend", "ray_cluster")
    config.set("ray_address", "auto")
    assert cluster_address(config) == "auto"
    assert cluster_address(config, this_computer=True) is None  # --no-cluster
    with pytest.raises(InputError):
        config.set("generation_backend", "somewhere")


def test_a_cluster_backend_is_made_without_connecting_and_says_where(studio_home: Path, demo_catalog, engine) -> None:
    config = load_config()
    config.set("ray_cpus_per_worker", 1)
    backend = open_backend(config, engine, "ray://head.example:10001", catalog=demo_catalog)
    try:
        assert backend.label == "the Ray cluster at ray://head.example:10001"
        assert backend.validate(small()).name == "demo"  # checked on the desktop, nothing sent
        with pytest.raises(InputError, match="multiple of 8"):
            backend.validate(small(width=65))
    finally:
        backend.close()
    assert open_backend(config, engine, None).engine is engine  # type: ignore[attr-defined]


def _closed_port() -> int:
    """A loopback port where nothing listens (it was free a moment ago)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_cluster_address_where_nothing_answers_fails_at_once_saying_what_to_do(
        studio_home: Path, demo_catalog, tmp_path: Path) -> None:
    from studio.errors import NetworkError
    from studio.generation.cluster import RayBackend

    port = _closed_port()
    backend = RayBackend(demo_catalog, address=f"127.0.0.1:{port}", hash_cache=tmp_path / "hashes.json")
    try:
        with pytest.raises(NetworkError) as caught:
            backend.run_tasks(single_image_tasks(small(count=2)), on_result=lambda done: None)
    finally:
        backend.close()
    assert caught.value.message.startswith(f"Nothing answers at 127.0.0.1:{port}")
    assert "ray start --head" in (caught.value.hint or "") and "Settings" in (caught.value.hint or "")
    for address in ("head.example", "ray://head.example", "head.example:port", ":6379", "head:70000"):
        backend = RayBackend(demo_catalog, address=address, hash_cache=tmp_path / "hashes.json")
        with pytest.raises(InputError, match="is not a Ray cluster address") as caught:
            backend.run_tasks(single_image_tasks(small()), on_result=lambda done: None)
        assert "ray://HOST:10001" in (caught.value.hint or "")


def test_the_cli_names_an_unreachable_cluster_and_how_to_fix_it(
        studio_home: Path, demo_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    from studio.cli.exit_codes import Exit
    from studio.cli.main import main
    from studio.paths import studio_paths

    shutil.copytree(demo_model_dir, studio_paths().demo_model_dir)
    port = _closed_port()
    code = main(["generate", "a lighthouse", "--size", "64x64", "--steps", "2", "--out", str(tmp_path / "out"),
                 f"--cluster=127.0.0.1:{port}"])
    err = capsys.readouterr().err
    assert code == Exit.FAILED
    assert f"error: Nothing answers at 127.0.0.1:{port}" in err and "ray start --head" in err
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())  # nothing half-made
