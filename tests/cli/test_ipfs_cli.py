"""``studio ipfs``: Kubo's CIDs from the command line, CAR export, local add, verified get, serve."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from studio.cli.main import main
from studio.storage.car import read_car

from known_cids import HELLO_V0, HELLO_V1

REPO = Path(__file__).resolve().parents[2]


def test_cid_prints_what_kubo_prints(hello: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ipfs", "cid", str(hello)]) == 0
    assert main(["ipfs", "cid", str(hello), "--cid-version", "1"]) == 0
    assert capsys.readouterr().out.split() == [HELLO_V0, HELLO_V1]


def test_cid_of_a_folder_and_as_a_real_command(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = subprocess.run([sys.executable, "-m", "studio", "ipfs", "cid", str(tmp_path / "empty")],
                            capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn"


def test_missing_file_is_a_clear_input_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ipfs", "cid", str(tmp_path / "nope.png")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_car_export_writes_the_blocks_under_the_printed_root(hello: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "hello.car"
    assert main(["ipfs", "car", str(hello), "-o", str(out), "--cid-version", "1"]) == 0
    assert capsys.readouterr().out.strip() == HELLO_V1
    with open(out, "rb") as stream:
        roots, blocks = read_car(stream)
        assert [str(r) for r in roots] == [HELLO_V1] and [b for _, b in blocks] == [b"hello world"]


def test_add_then_get_from_the_local_store(hello: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ipfs", "add", str(hello), "--cid-version", "1"]) == 0
    cid = capsys.readouterr().out.strip()
    out = tmp_path / "copy.txt"
    assert main(["ipfs", "get", f"ipfs://{cid}", "-o", str(out), "--gateway", "http://127.0.0.1:9"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert out.read_bytes() == b"hello world" and report["source"] == "local" and report["verified"]
    assert main(["ipfs", "get", "file:///etc/passwd"]) == 2
    assert "only ipfs://, https:// and data:" in capsys.readouterr().err.lower()


def test_serve_answers_over_http_then_stops(hello: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ipfs", "add", str(hello)]) == 0
    cid = capsys.readouterr().out.strip()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(main(["ipfs", "serve", "--port", str(port),
                                                                "--seconds", "3"])))
    thread.start()
    url = f"http://127.0.0.1:{port}/ipfs/{cid}"
    for _ in range(50):
        try:
            response = requests.get(url, timeout=2)
            break
        except requests.ConnectionError:
            time.sleep(0.05)
    assert response.content == b"hello world"
    thread.join(10)
    assert codes == [0]


def _saved_settings(**values: object) -> None:
    from studio.config import load_config

    config = load_config()
    for key, value in values.items():
        config.set(key, value)
    config.save()


def test_get_uses_the_gateways_and_size_limit_from_settings(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    from studio.storage.gateway import Gateway
    from studio.storage.store import LocalStore

    elsewhere = LocalStore(tmp_path / "another-computer")  # not this studio's store
    cid = elsewhere.add_bytes(b"served by a gateway over loopback", cid_version=1)
    big = elsewhere.add_bytes(b"x" * 5000, cid_version=1)
    with Gateway(elsewhere, port=0) as gateway:
        _saved_settings(gateways=f"{gateway.url}", fetch_max_bytes=4096)
        out = tmp_path / "fetched.bin"
        assert main(["ipfs", "get", f"ipfs://{cid}", "-o", str(out)]) == 0
        report = json.loads(capsys.readouterr().out)
        assert out.read_bytes() == b"served by a gateway over loopback"
        assert report["source"] == gateway.url and report["verified"]
        assert main(["ipfs", "get", f"ipfs://{big}", "-o", str(tmp_path / "big.bin")]) == 2
        assert "limit of 4,096 bytes" in capsys.readouterr().err
        assert main(["ipfs", "get", f"ipfs://{big}", "-o", str(tmp_path / "big.bin"), "--max-bytes", "8000"]) == 0
    _saved_settings(gateways="gateway.example.org")
    assert main(["ipfs", "get", f"ipfs://{cid}"]) == 2
    assert "Gateways" in capsys.readouterr().err


def test_serve_listens_on_the_port_from_settings(hello: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ipfs", "add", str(hello)]) == 0
    cid = capsys.readouterr().out.strip()
    _saved_settings(local_gateway_port=0)  # any free port; the command prints the address
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(main(["ipfs", "serve", "--seconds", "2"])))
    thread.start()
    printed = ""
    for _ in range(100):
        printed += capsys.readouterr().out
        if "http://127.0.0.1:" in printed:
            break
        time.sleep(0.03)
    base = printed.split("Serving the local store at ", 1)[1].split("/ipfs/", 1)[0]
    assert base.rsplit(":", 1)[1] not in ("0", "8080")
    assert requests.get(f"{base}/ipfs/{cid}", timeout=2).content == b"hello world"
    thread.join(10)
    assert codes == [0]
