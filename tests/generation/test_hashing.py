"""Model hashes: SHA-256 of a file or of a folder's files, each file hashed once and cached."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

import studio.generation.hashing as hashing
from studio.generation.hashing import file_sha256, folder_files, model_hash
from studio.generation.request import ModelFamily, ModelFormat, ModelInfo


def single(path: Path) -> ModelInfo:
    return ModelInfo(name=path.stem, path=path, family=ModelFamily.SD1, format=ModelFormat.SINGLE_FILE)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Records every file actually read for hashing (cache misses)."""
    calls: list[Path] = []
    real = hashing.file_sha256
    monkeypatch.setattr(hashing, "file_sha256", lambda path: calls.append(Path(path)) or real(path))
    return calls


def test_file_sha256_matches_hashlib_across_chunks(tmp_path: Path) -> None:
    data = os.urandom(hashing.CHUNK * 2 + 123)
    path = tmp_path / "model.safetensors"
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()


def test_single_file_hash_is_cached_until_size_or_mtime_changes(tmp_path: Path, counted: list[Path]) -> None:
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"weights-1")
    cache = tmp_path / "cache" / "hashes.json"
    first = model_hash(single(path), cache)
    assert first == hashlib.sha256(b"weights-1").hexdigest()
    assert model_hash(single(path), cache) == first
    assert counted == [path]
    entry = json.loads(cache.read_text())["files"][str(path.resolve())]
    assert entry["size"] == 9 and entry["sha256"] == first

    path.write_bytes(b"weights-22")  # size changes
    assert model_hash(single(path), cache) == hashlib.sha256(b"weights-22").hexdigest()
    assert len(counted) == 2

    stat = path.stat()
    path.write_bytes(b"weights-33")  # same size, new mtime
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    assert model_hash(single(path), cache) == hashlib.sha256(b"weights-33").hexdigest()
    assert len(counted) == 3


def test_cache_with_stale_digest_but_same_stat_is_trusted(tmp_path: Path, counted: list[Path]) -> None:
    """The cache is keyed by path, size and mtime: that is the contract (no re-read)."""
    path = tmp_path / "m.safetensors"
    path.write_bytes(b"abc")
    cache = tmp_path / "hashes.json"
    model_hash(single(path), cache)
    data = json.loads(cache.read_text())
    data["files"][str(path.resolve())]["sha256"] = "f" * 64
    cache.write_text(json.dumps(data))
    assert model_hash(single(path), cache) == "f" * 64
    assert len(counted) == 1


def test_corrupt_cache_is_ignored_and_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "m.safetensors"
    path.write_bytes(b"abc")
    cache = tmp_path / "hashes.json"
    cache.write_text("{not json")
    assert model_hash(single(path), cache) == hashlib.sha256(b"abc").hexdigest()
    assert json.loads(cache.read_text())["version"] == hashing.CACHE_VERSION
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left


def test_folder_hash_follows_the_documented_scheme(demo_model_dir: Path, tmp_path: Path) -> None:
    info = ModelInfo(name="demo", path=demo_model_dir, family=ModelFamily.SD1, format=ModelFormat.DIFFUSERS)
    value = model_hash(info, tmp_path / "hashes.json")
    files = [p for p in demo_model_dir.rglob("*") if p.is_file() and p.suffix in (".json", ".txt", ".safetensors", ".bin")]
    assert any(p.suffix == ".safetensors" for p in files) and (demo_model_dir / "model_index.json") in files
    assert sorted(files) == sorted(folder_files(demo_model_dir))
    expected_text = "".join(f"{rel}\0{hashlib.sha256((demo_model_dir / rel).read_bytes()).hexdigest()}\n"
                            for rel in sorted(p.relative_to(demo_model_dir).as_posix() for p in files))
    assert value == hashlib.sha256(expected_text.encode()).hexdigest()


def test_folder_hash_ignores_other_files_and_changes_with_weights(tmp_path: Path, counted: list[Path]) -> None:
    folder = tmp_path / "model"
    (folder / "unet").mkdir(parents=True)
    (folder / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline",
                                                         "unet": ["diffusers", "UNet2DConditionModel"]}))
    (folder / "unet" / "config.json").write_text("{}")
    weights = folder / "unet" / "diffusion_pytorch_model.safetensors"
    weights.write_bytes(b"w1")
    info = ModelInfo(name="m", path=folder, family=ModelFamily.SD1, format=ModelFormat.DIFFUSERS)
    cache = tmp_path / "hashes.json"
    first = model_hash(info, cache)
    (folder / "notes.md").write_text("readme")
    (folder / ".cache").mkdir()
    (folder / ".cache" / "x.json").write_text("{}")
    assert model_hash(info, cache) == first
    assert len(counted) == 3  # each file read once, then the cache answers
    weights.write_bytes(b"w2")
    assert model_hash(info, cache) != first
    assert counted[-1] == weights.resolve()
