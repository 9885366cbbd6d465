"""The local IPFS gateway started with the studio: served over real HTTP while the app runs,
a taken port never stops the studio from opening, the port is released on quit."""
from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
import requests

from studio.config import load_config
from studio.errors import StorageError
from studio.storage.cid import Cid
from studio.storage.gateway import GatewayService
from studio.storage.store import LocalStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A loopback port another program listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        other.bind(("127.0.0.1", 0))
        other.listen(1)
        yield other.getsockname()[1]


def _port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _can_listen_on(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT of our own fetches is fine
        try:
            probe.bind(("127.0.0.1", port))
            probe.listen(1)
        except OSError:
            return False
        return True


def test_the_studio_serves_its_store_while_open_and_releases_the_port_on_quit(qapp) -> None:
    from PySide6.QtCore import QTimer

    from studio.ui.app import start_local_gateway

    config = load_config()
    config.set("local_gateway_port", 0)
    store = LocalStore.default(config.paths)
    cid = store.add_bytes(b"hello world", cid_version=0)
    assert str(cid) == "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD"

    service = start_local_gateway(qapp, config)
    try:
        assert service.url is not None and service.url.startswith("http://127.0.0.1:")
        assert service.status == f"Local gateway: {service.url}"
        port = _port_of(service.url)
        page = requests.get(f"{service.url}/ipfs/{cid}", timeout=10)
        assert page.status_code == 200 and page.content == b"hello world"
        raw = requests.get(f"{service.url}/ipfs/{cid}?format=raw", timeout=10)
        assert raw.status_code == 200 and Cid.parse(str(cid)).verify(raw.content)
        assert not _can_listen_on(port)

        QTimer.singleShot(0, qapp.quit)
        qapp.exec()  # a real quit: aboutToQuit stops the gateway
        assert service.url is None and service.status == "Local gateway stopped"
        assert _can_listen_on(port)
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{port}/ipfs/{cid}", timeout=5)
    finally:
        qapp.aboutToQuit.disconnect(service.stop)
        service.stop()


def test_a_taken_port_gives_way_to_a_free_one_and_says_so(taken_port: int, caplog) -> None:
    config = load_config()
    config.set("local_gateway_port", taken_port)
    service = GatewayService.from_config(config)
    with caplog.at_level(logging.INFO, logger="studio.storage.gateway"):
        url = service.start()
    try:
        assert url is not None and _port_of(url) != taken_port and service.error is None
        assert f"Port {taken_port} on 127.0.0.1 is taken" in caplog.text and url in caplog.text
        assert requests.get(f"{url}/ipfs/{Cid.parse('QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn')}",
                            timeout=10).status_code == 404  # serving, and nothing stored yet
    finally:
        service.stop()
    assert service.url is None


def test_the_configured_port_is_used_when_free(studio_home: Path) -> None:
    with socket.socket() as finder:
        finder.bind(("127.0.0.1", 0))
        free = finder.getsockname()[1]
    config = load_config()
    config.set("local_gateway_port", free)
    service = GatewayService.from_config(config)
    try:
        assert service.start() == f"http://127.0.0.1:{free}"
        assert service.start() == f"http://127.0.0.1:{free}"  # starting twice changes nothing
    finally:
        service.stop()
        service.stop()


def test_the_gateway_is_off_when_works_are_kept_on_kubo() -> None:
    config = load_config()
    config.set("storage_backend", "kubo")
    service = GatewayService.from_config(config)
    assert service.start() is None and service.url is None and service.error is None
    assert service.status == "Local gateway off (works are kept on kubo)"


def test_a_gateway_that_cannot_listen_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    # Loopback refusing every port cannot be arranged for real; the listener raises what Gateway.start raises.
    def refuse(self, port: int):
        raise StorageError(f"The local gateway could not listen on 127.0.0.1:{port}: Permission denied.")

    monkeypatch.setattr(GatewayService, "_listen", refuse)
    service = GatewayService.from_config(load_config())
    with caplog.at_level(logging.WARNING, logger="studio.storage.gateway"):
        assert service.start() is None
    assert service.error == "The local gateway could not listen on 127.0.0.1:0: Permission denied."
    assert service.status.startswith("Local gateway not running: ")
    assert "not running" in caplog.text


@pytest.mark.slow
def test_the_window_opens_and_exits_cleanly_when_the_gateway_port_is_taken(studio_home: Path,
                                                                         taken_port: int) -> None:
    config = load_config()
    config.set("local_gateway_port", taken_port)
    config.save()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", STUDIO_HOME=str(studio_home))
    done = subprocess.run([sys.executable, "main.py", "--quit-after-show"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "window shown after" in done.stdout
    log = (config.paths.logs_dir / "studio.log").read_text(encoding="utf-8")
    assert f"Port {taken_port} on 127.0.0.1 is taken" in log
    assert "local IPFS gateway at http://127.0.0.1:" in log and "local IPFS gateway stopped" in log


def test_the_status_bar_says_where_ipfs_links_open(window, qapp) -> None:
    from studio.ui.app import start_local_gateway

    config = load_config()
    config.set("local_gateway_port", 0)
    service = start_local_gateway(qapp, config)
    try:
        window.set_gateway_status(service.status, service.url)
        assert window.gateway_label.text() == "IPFS " + service.url.removeprefix("http://")
        assert window.gateway_label.toolTip() == service.status
    finally:
        qapp.aboutToQuit.disconnect(service.stop)
        service.stop()
    window.set_gateway_status(service.status, service.url)
    assert window.gateway_label.text() == "IPFS gateway off"
