"""download_model against a loopback server that speaks the few hub routes huggingface_hub calls.

The server serves the demo model's real files as repository ``studio-tests/tiny-sd`` at one
commit: ``/api/models/{id}/revision/{rev}`` (the listing with sizes, git blob ids and LFS SHA-256s),
and ``/{id}/resolve/{rev}/{file}`` (HEAD and GET, with ETag, X-Repo-Commit, Content-Length and
ranges). Switches on the server cut a transfer short, corrupt a file or record what was asked.
"""
from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from studio.cancel import CancelToken
from studio.errors import Cancelled, InputError, ModelError, NetworkError, StorageError
from studio.generation.download import (DOWNLOAD_RECORD, RemoteFile, download_model, partial_folder, select_files)

REPO = "studio-tests/tiny-sd"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
BIG_FILE = "text_encoder/model.safetensors"


@dataclass
class FakeHub:
    """The repository's files and the server's switches (set by each test)."""

    files: dict[str, bytes]
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # (method, path, Range header)
    cut_first_get_of: str | None = None  # send half of this file, then drop the connection (once)
    corrupt: str | None = None  # flip a byte of this file in every GET (the listing keeps the true hash)
    ignore_range: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def listing(self) -> dict:
        siblings = []
        for name, data in sorted(self.files.items()):
            entry = {"rfilename": name, "size": len(data),
                     "blobId": hashlib.sha1(f"blob {len(data)}\0".encode() + data).hexdigest()}
            if name.endswith(".safetensors"):
                entry["lfs"] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
            siblings.append(entry)
        return {"_id": "x", "id": REPO, "modelId": REPO, "sha": COMMIT, "private": False, "disabled": False,
                "gated": False, "downloads": 0, "likes": 0, "tags": ["diffusers"], "siblings": siblings}

    def etag(self, name: str) -> str:
        data = self.files[name]
        if name.endswith(".safetensors"):
            return hashlib.sha256(data).hexdigest()
        return hashlib.sha1(f"blob {len(data)}\0".encode() + data).hexdigest()


def _handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            return None

        def _file(self) -> str | None:
            path = unquote(urlsplit(self.path).path)
            prefix = f"/{REPO}/resolve/"
            if not path.startswith(prefix):
                return None
            revision, _, name = path[len(prefix):].partition("/")
            return name if revision in (COMMIT, "main") and name in hub.files else None

        def _headers_for(self, name: str, length: int, status: int, extra: dict[str, str]) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(length))
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("ETag", f'"{hub.etag(name)}"')
            self.send_header("X-Repo-Commit", COMMIT)
            self.send_header("Accept-Ranges", "bytes")
            for key, value in extra.items():
                self.send_header(key, value)
            self.end_headers()

        def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
            with hub.lock:
                hub.requests.append(("HEAD", self.path, ""))
            name = self._file()
            if name is None:
                self.send_error(404)
                return
            self._headers_for(name, len(hub.files[name]), 200, {})

        def do_GET(self) -> None:  # noqa: N802
            range_header = self.headers.get("Range", "")
            with hub.lock:
                hub.requests.append(("GET", self.path, range_header))
            path = urlsplit(self.path).path
            if path == f"/api/models/{REPO}/revision/main" or path == f"/api/models/{REPO}/revision/{COMMIT}":
                body = json.dumps(hub.listing()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            name = self._file()
            if name is None:
                body = b'{"error": "Repository not found"}'
                self.send_response(404)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-Error-Code", "RepoNotFound")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            data = hub.files[name]
            if hub.corrupt == name:
                data = bytes([data[0] ^ 0xFF]) + data[1:]
            start = 0
            if range_header.startswith("bytes=") and not hub.ignore_range:
                start = int(range_header[6:].split("-")[0])
            body = data[start:]
            extra = {"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"} if start else {}
            self._headers_for(name, len(body), 206 if start else 200, extra)
            with hub.lock:
                cut = hub.cut_first_get_of == name
                if cut:
                    hub.cut_first_get_of = None
            if cut:
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body)

    return Handler


@pytest.fixture(scope="module")
def model_files(demo_model_dir: Path) -> dict[str, bytes]:
    """The demo model's files (built from configs), as the repository the fake hub serves."""
    folder = demo_model_dir
    files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
    files["unet/diffusion_pytorch_model.bin"] = b"pickle weights the studio must not download"
    files["README.md"] = b"# tiny-sd\n"
    return files


@pytest.fixture
def hub(model_files: dict[str, bytes], monkeypatch: pytest.MonkeyPatch):
    """A running fake hub (its URL in ``hub.url``); huggingface_hub allowed online for the test."""
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_TOKEN", "")  # never send a real token to the loopback server
    monkeypatch.setattr("studio.generation.download.RETRY_PAUSE_S", 0.01)
    state = FakeHub(dict(model_files))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    yield state
    server.shutdown()
    server.server_close()


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
    with pytest.raises(NetworkError):
        download_model(REPO, tmp_path / "m", endpoint=f"http://127.0.0.1:{port}", token=False)


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
