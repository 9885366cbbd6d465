"""The worker's side of a cluster run, without Ray: a node finds the task's files by SHA-256 in its
own studio home (or refuses, naming itself), makes the same pixels as this computer, and the desktop
accepts an answer only when it matches its task."""
from __future__ import annotations

import shutil
import sys
from dataclasses import replace
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

from studio.errors import ModelError
from studio.generation.engine import Engine
from studio.generation.models import detect_model
from studio.generation.placement import NodeRefused, locate_file, locate_model, task_files
from studio.generation.remote import NodeWorker, TaskPayload, WorkerAnswer, accept_answer, expected_recipe_fields
from studio.generation.request import GenerationRequest, LoraSpec

sys.path.insert(0, str(Path(__file__).resolve().parent))
from model_files import save_demo_lora  # noqa: E402


def small(**fields) -> GenerationRequest:
    values = dict(prompt="a harbour in the rain", width=64, height=64, steps=2, seed=21)
    values.update(fields)
    return GenerationRequest(**values)


def node_home(root: Path, demo_model_dir: Path) -> Path:
    """A node's studio home with its own copy of the demo model (the same bytes as the desktop's)."""
    shutil.copytree(demo_model_dir, root / "data" / "demo-model")
    return root


@pytest.fixture(scope="module")
def node(demo_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeWorker]:
    """A worker as a node runs it, reading its own studio home."""
    home = node_home(tmp_path_factory.mktemp("node-a"), demo_model_dir)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STUDIO_HOME", str(home))
        worker = NodeWorker(node="node-a", threads=2)
    yield worker


@pytest.fixture(scope="module")
def lora(demo_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_demo_lora(demo_model_dir, tmp_path_factory.mktemp("desk-loras"))


def payload_for(request: GenerationRequest, engine: Engine, tmp_path: Path) -> TaskPayload:
    info = engine.validate(request)
    return TaskPayload(0, request, task_files(request, info, tmp_path / "desk-hashes.json"))


def test_a_node_makes_the_pixels_and_recipe_this_computer_makes(node: NodeWorker, engine: Engine, lora: Path,
                                                                tmp_path: Path, demo_model_dir: Path) -> None:
    """Same seed, model, sampler, device type and thread count: the same pixels, with or without a
    LoRA the node keeps in its own models folder (found by its hash, not by the desktop's path)."""
    node_lora = node._config.paths.models_dir / "loras" / lora.name
    node_lora.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(lora, node_lora)
    for request in (small(), small(loras=(LoraSpec(lora, 0.8),), scheduler="euler_a", seed=5)):
        payload = payload_for(request, engine, tmp_path)
        answer = node.run(payload)
        result = accept_answer(answer, request, payload.files, expected_recipe_fields(request, payload.files), "node-a")
        local = engine.generate(request)[0]
        assert np.array_equal(np.asarray(result.image), np.asarray(local.image))
        assert result.recipe == local.recipe  # the desktop's names for the model and the LoRA, same hashes
        assert answer.elapsed_s > 0 and answer.mode == "RGB" and len(answer.pixels) == 64 * 64 * 3


def test_a_node_without_the_model_refuses_and_names_itself(node: NodeWorker, engine: Engine, tmp_path: Path,
                                                           demo_model_dir: Path) -> None:
    desk_model = tmp_path / "desk" / "tiny"
    shutil.copytree(demo_model_dir, desk_model)
    info = detect_model(desk_model)
    ref = task_files(small(model=str(desk_model)), info, tmp_path / "h.json").model
    moved = replace(ref, path=str(tmp_path / "elsewhere" / "tiny"))  # not on shared storage
    no_copy = r"node-a has no copy of the model “tiny” \(SHA-256 [0-9a-f]{12}…\)"
    with pytest.raises(NodeRefused, match=no_copy) as refusal:
        node.run(TaskPayload(0, small(model="tiny"), replace(task_files(small(), engine.validate(small()),
                                                                         tmp_path / "h.json"), model=moved)))
    assert refusal.value.node == "node-a" and "models folder" in str(refusal.value)

    # another model of that name on the node: refused, both hashes named
    from studio.config import load_config
    from studio.generation.models import ModelCatalog

    other_home = tmp_path / "node-b"
    shutil.copytree(demo_model_dir, other_home / "data" / "models" / "tiny")
    config_file = other_home / "data" / "models" / "tiny" / "scheduler" / "scheduler_config.json"
    config_file.write_text(config_file.read_text().replace("}", ', "steps_offset": 1}', 1))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STUDIO_HOME", str(other_home))
        catalog = ModelCatalog(load_config())
        with pytest.raises(NodeRefused, match="node-b has another model called “tiny”.*this run needs the one"):
            locate_model(moved, catalog, tmp_path / "b.json", "node-b")
        # the same bytes under another name are found by their hash, and take the desktop's name
        shutil.copytree(desk_model, other_home / "data" / "models" / "tiny-copy")
        catalog.refresh()
        found = locate_model(moved, catalog, tmp_path / "b.json", "node-b")
    assert found.name == "tiny" and Path(found.path).name == "tiny-copy"
    # a node that mounts the desktop's storage uses the file there
    assert Path(locate_model(ref, catalog, tmp_path / "b.json", "node-b").path) == desk_model


def test_loras_are_found_by_hash_and_another_file_of_the_same_name_is_refused(lora: Path, tmp_path: Path,
                                                                             demo_model_dir: Path) -> None:
    from studio.generation.hashing import cached_file_sha256
    from studio.generation.placement import FileRef

    ref = FileRef(lora.name, cached_file_sha256(lora, tmp_path / "h.json"), "/desk/only/style.safetensors")
    folder = tmp_path / "node-models"
    with pytest.raises(NodeRefused, match="node-c has no copy of the LoRA style.safetensors"):
        locate_file(ref, [folder], tmp_path / "h.json", "node-c", "LoRA")
    impostor = save_demo_lora(demo_model_dir, folder / "a" / "b", seed=1)
    with pytest.raises(NodeRefused, match="node-c has another LoRA file called style.safetensors"):
        locate_file(ref, [folder], tmp_path / "h.json", "node-c", "LoRA")
    shutil.copyfile(lora, folder / "a" / "style.safetensors")
    assert locate_file(ref, [folder], tmp_path / "h.json", "node-c", "LoRA") == folder / "a" / "style.safetensors"
    assert impostor.exists()


def test_an_answer_that_differs_from_its_task_is_not_used(node: NodeWorker, engine: Engine, tmp_path: Path) -> None:
    request = small(seed=99)
    payload = payload_for(request, engine, tmp_path)
    expected = expected_recipe_fields(request, payload.files)
    good = node.run(payload)
    assert accept_answer(good, request, payload.files, expected, "node-a").recipe.seed == 99
    recipe = dict(good.recipe)
    tampered = {
        "a 128x64 image instead of 64x64": replace(good, width=128),
        "pixels in 'RGBA'": replace(good, mode="RGBA"),
        "bytes of pixels": replace(good, pixels=good.pixels[:-3]),
        "seed 100 instead of 99": replace(good, recipe={**recipe, "seed": 100}),
        "prompt 'a cat' instead of": replace(good, recipe={**recipe, "prompt": "a cat"}),
        "model_hash 'ff": replace(good, recipe={**recipe, "model_hash": "ff" * 32}),
        "steps 30 instead of 2": replace(good, recipe={**recipe, "steps": 30}),
        "an unreadable recipe": replace(good, recipe={"prompt": "x"}),
    }
    for what, answer in tampered.items():
        with pytest.raises(ModelError, match="node-a answered") as refused:
            accept_answer(answer, request, payload.files, expected, "node-a")
        assert what in str(refused.value) and "not used" in str(refused.value), what
    with pytest.raises(ModelError, match="a dict instead of an image"):
        accept_answer({"pixels": good.pixels}, request, payload.files, expected, "node-a")
    assert isinstance(good, WorkerAnswer)


def test_a_node_running_another_studio_version_refuses(node: NodeWorker, engine: Engine, tmp_path: Path) -> None:
    payload = replace(payload_for(small(), engine, tmp_path), studio_version="0.0.1")
    with pytest.raises(ModelError, match="node-a runs Provenance Studio .*, the desktop 0.0.1"):
        node.run(payload)


def test_a_demo_model_another_worker_saved_meanwhile_is_kept_as_it_is(
        demo_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two cluster workers on one node may both build the demo model: the second keeps the first's
    folder (which the first may be loading) instead of replacing it."""
    from studio.generation import demo

    folder = tmp_path / "node-home" / "demo-model"
    weights = folder / "vae" / "diffusion_pytorch_model.safetensors"
    build = demo.build_demo_pipeline
    theirs: list[int] = []

    def build_while_another_saves() -> object:
        pipeline = build()
        shutil.copytree(demo_model_dir, folder)  # the other worker finishes first
        theirs.append(weights.stat().st_ino)
        return pipeline

    monkeypatch.setattr(demo, "build_demo_pipeline", build_while_another_saves)
    info = demo.ensure_demo_model(folder)
    assert info.path == folder and theirs == [weights.stat().st_ino]  # the very file the other one saved
    assert [p.name for p in folder.parent.iterdir()] == ["demo-model"]  # no copy of its own left behind
