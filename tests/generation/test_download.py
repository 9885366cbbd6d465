"""download_model against a loopback server that speaks the hub routes huggingface_hub calls
(fake_hub.py): the demo model's real files as repository ``studio-tests/tiny-sd``.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest
from fake_hub import BIG_FILE, COMMIT, REPO, FakeHub, model_repo_files, serve_fake_hub

from studio.cancel import CancelToken
from studio.errors import Cancelled, InputError, ModelError, NetworkError, StorageError
from studio.generation.download import DOWNLOAD_RECORD, RemoteFile, download_model, partial_folder, select_files


@pytest.fixture(scope="module")
def model_files(demo_model_dir: Path) -> dict[str, bytes]:
    """The demo model's files (built from configs), as the repository the fake hub serves."""
    return model_repo_files(demo_model_dir)


@pytest.fixture
def hub(model_files: dict[str, bytes], monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    """A running fake hub; huggingface_hub allowed online for the test."""
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr("studio.generation.download.RETRY_PAUSE_S", 0.01)
    with serve_fake_hub(model_files) as state:
        yield state


def _gets(hub: FakeHub, name: str) -> list[str]:
    return [rng for method, path, rng in hub.requests if method == "GET" and path.endswith("/" + name)]


def test_download_fetches_the_pipeline_files_verified_and_scannable(hub: FakeHub, tmp_path: Path) -> None:
    from studio.generation.models import scan_models

    updates: list[tuple[float, str]] = []
    dest = tmp_path / "models" / "tiny-sd"
    result = download_model(REPO, dest, lambda f, t: updates.append((f, t)), endpoint=hub.url, token=False)

    assert result.path == dest and result.commit == COMMIT
    assert "unet/diffusion_pytorch_model.bin" not in result.files and "README.md" not in result.files
    for name in result.files:
        assert (dest / name).read_bytes() == hub.files[name]
    assert not partial_folder(dest).exists()
    assert not list(dest.rglob("*.part"))
    record = json.loads((dest / DOWNLOAD_RECORD).read_text())
    assert record["repo_id"] == REPO and record["commit"] == COMMIT
    fractions = [f for f, _ in updates]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any(BIG_FILE in text for _, text in updates)
    found = scan_models([tmp_path / "models"], include_hf_cache=False)
    assert [m.path for m in found.models] == [dest]

    # a second call finds the same commit already there and downloads nothing
    before = len(_gets(hub, BIG_FILE))
    again = download_model(REPO, dest, endpoint=hub.url, token=False)
    assert again.commit == COMMIT and len(_gets(hub, BIG_FILE)) == before


def test_cancelled_download_resumes_from_where_it_stopped(hub: FakeHub, tmp_path: Path) -> None:
    dest = tmp_path / "tiny-sd"
    token = CancelToken()

    def cancel_midway(fraction: float, text: str) -> None:
        if BIG_FILE in text and 0.2 < fraction:
            token.cancel()

    with pytest.raises(Cancelled):
        download_model(REPO, dest, cancel_midway, token, endpoint=hub.url, token=False)
    assert not dest.exists()
    part = partial_folder(dest) / (BIG_FILE + ".part")
    kept = part.stat().st_size
    assert 0 < kept < len(hub.files[BIG_FILE])

    download_model(REPO, dest, endpoint=hub.url, token=False)
    assert _gets(hub, BIG_FILE)[-1] == f"bytes={kept}-"
    assert (dest / BIG_FILE).read_bytes() == hub.files[BIG_FILE]


def test_dropped_connection_is_resumed_with_a_range_request(hub: FakeHub, tmp_path: Path) -> None:
    hub.cut_first_get_of = BIG_FILE
    dest = tmp_path / "tiny-sd"
    download_model(REPO, dest, endpoint=hub.url, token=False)
    ranges = _gets(hub, BIG_FILE)
    assert len(ranges) == 2 and ranges[0] == ""
    resumed_at = int(ranges[1].removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_at <= len(hub.files[BIG_FILE]) // 2  # what arrived before the drop is kept
    assert (dest / BIG_FILE).read_bytes() == hub.files[BIG_FILE]


def test_server_ignoring_the_range_restarts_the_file_cleanly(hub: FakeHub, tmp_path: Path) -> None:
    hub.cut_first_get_of = BIG_FILE
    hub.ignore_range = True
    dest = tmp_path / "tiny-sd"
    download_model(REPO, dest, endpoint=hub.url, token=False)
    assert (dest / BIG_FILE).read_bytes() == hub.files[BIG_FILE]


def test_corrupted_file_is_detected_deleted_and_nothing_is_installed(hub: FakeHub, tmp_path: Path) -> None:
    hub.corrupt = "unet/diffusion_pytorch_model.safetensors"
    dest = tmp_path / "tiny-sd"
    with pytest.raises(StorageError, match="corrupted"):
        download_model(REPO, dest, endpoint=hub.url, token=False)
    assert not dest.exists()
    work = partial_folder(dest)
    assert not (work / "unet" / "diffusion_pytorch_model.safetensors").exists()
    assert not (work / "unet" / "diffusion_pytorch_model.safetensors.part").exists()

    hub.corrupt = None  # the hub is fixed: the files already verified are kept, the bad one fetched again
    gets_before = len(_gets(hub, BIG_FILE))
    download_model(REPO, dest, endpoint=hub.url, token=False)
    assert len(_gets(hub, BIG_FILE)) == gets_before
    assert (dest / "unet" / "diffusion_pytorch_model.safetensors").read_bytes() == \
        hub.files["unet/diffusion_pytorch_model.safetensors"]


def test_a_partial_file_tampered_with_on_disk_is_fetched_again(hub: FakeHub, tmp_path: Path) -> None:
    dest = tmp_path / "tiny-sd"
    work = partial_folder(dest)
    (work / "vae").mkdir(parents=True)
    (work / "vae" / "config.json").write_bytes(b'{"not": "the real config"}')
    download_model(REPO, dest, endpoint=hub.url, token=False)
    assert (dest / "vae" / "config.json").read_bytes() == hub.files["vae/config.json"]


def test_unknown_repository_says_so(hub: FakeHub, tmp_path: Path) -> None:
    with pytest.raises(NetworkError, match="no model called studio-tests/missing"):
        download_model("studio-tests/missing", tmp_path / "m", endpoint=hub.url, token=False)


def test_unreachable_hub_is_a_network_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(NetworkError) as raised:
        download_model(REPO, tmp_path / "m", endpoint=f"http://127.0.0.1:{port}", token=False)
    assert str(raised.value).startswith(f"The model hub at 127.0.0.1:{port} refused the connection")
    assert "Errno" not in str(raised.value)


def test_a_hub_name_that_cannot_be_looked_up_is_said_in_words(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    with pytest.raises(NetworkError) as raised:  # .invalid never resolves (RFC 2606)
        download_model(REPO, tmp_path / "m", endpoint="http://hub.nonexistent.invalid", token=False)
    message = str(raised.value)
    assert message.startswith("The name hub.nonexistent.invalid could not be looked up"), message
    assert "offline" in message and "Errno" not in message and "Name or service" not in message


def test_offline_mode_is_reported_not_bypassed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(NetworkError, match="HF_HUB_OFFLINE"):
        download_model(REPO, tmp_path / "m", endpoint="http://127.0.0.1:9", token=False)


def test_destination_holding_something_else_is_refused(hub: FakeHub, tmp_path: Path) -> None:
    dest = tmp_path / "tiny-sd"
    dest.mkdir()
    (dest / "photo.png").write_bytes(b"mine")
    with pytest.raises(InputError, match="holds something else"):
        download_model(REPO, dest, endpoint=hub.url, token=False)
    assert (dest / "photo.png").read_bytes() == b"mine"


def test_bad_model_id_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="owner/name"):
        download_model("just-a-name", tmp_path / "m")


def _remote(name: str) -> RemoteFile:
    return RemoteFile(name, 1, None, "0" * 40)


def test_select_files_prefers_the_variant_and_skips_pickles_and_extras() -> None:
    files = [_remote(n) for n in ("model_index.json", "README.md", "v1-5-pruned.safetensors",
                                  "unet/config.json", "unet/diffusion_pytorch_model.safetensors",
                                  "unet/diffusion_pytorch_model.fp16.safetensors", "unet/diffusion_pytorch_model.bin",
                                  "unet/diffusion_pytorch_model.non_ema.safetensors",
                                  "tokenizer/vocab.json", "tokenizer/merges.txt")]
    plain = [f.name for f in select_files(files)]
    assert plain == ["model_index.json", "tokenizer/merges.txt", "tokenizer/vocab.json", "unet/config.json",
                     "unet/diffusion_pytorch_model.safetensors"]
    fp16 = [f.name for f in select_files(files, "fp16")]
    assert "unet/diffusion_pytorch_model.fp16.safetensors" in fp16
    assert "unet/diffusion_pytorch_model.safetensors" not in fp16


def test_select_files_refuses_pickle_only_components_and_non_diffusers_repos() -> None:
    with pytest.raises(ModelError, match="pickle"):
        select_files([_remote("model_index.json"), _remote("unet/config.json"),
                      _remote("unet/diffusion_pytorch_model.bin")])
    with pytest.raises(ModelError, match="model_index.json"):
        select_files([_remote("model.safetensors")])


def test_models_download_command_installs_the_model_where_the_catalog_lists_it(
        hub: FakeHub, studio_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`studio models download` runs the welcome's workflow: verified files in the models folder, listed."""
    from studio.cli.main import main

    assert main(["models", "download", REPO, "--endpoint", hub.url, "--json"]) == 0
    out, err = capsys.readouterr()
    installed = json.loads(out.strip().splitlines()[-1])
    assert installed["repo_id"] == REPO and installed["commit"] == COMMIT
    assert installed["family"] == "sd1" and Path(installed["path"]).is_dir()
    assert "Downloading" in err  # progress and words on stderr, the result alone on stdout

    assert main(["models", "list", "--json"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert any(Path(entry.get("path", "")) == Path(installed["path"]) for entry in listed)


def test_models_download_of_an_unknown_repository_is_a_json_error(
        hub: FakeHub, studio_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from studio.cli.main import main

    code = main(["models", "download", "nobody/nothing", "--endpoint", hub.url, "--json"])
    error = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == error["exit"] and code in (1, 2)
    assert "nobody/nothing" in error["error"] and set(error) == {"error", "hint", "exit"}
