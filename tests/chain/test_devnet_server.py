"""`studio devnet serve` under hostile requests: web pages (cross-origin posts, DNS rebinding),
node-admin methods, and requests that lie about their size or arrive slowly."""
from __future__ import annotations

import http.client
import json
import socket
from typing import Any, Iterator

import pytest

from studio.chain import devnet_server
from studio.chain.devnet import Devnet
from studio.chain.devnet_server import MAX_BODY, DevnetServer
from studio.errors import InputError

from rpc_nodes import RECIPIENT

SENDER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
APP = "http://localhost:3000"


@pytest.fixture
def server() -> Iterator[DevnetServer]:
    with DevnetServer(Devnet(None), port=0, allowed_origins=[APP]) as running:
        yield running


def request(server: DevnetServer, body: bytes | str, headers: dict[str, str] | None = None,
            method: str = "POST") -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        connection.request(method, "/", body=body, headers={"Content-Type": "application/json", **(headers or {})})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def rpc(method: str, params: list[Any] | None = None) -> str:
    return json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []})


def balance(server: DevnetServer, account: str) -> int:
    status, _, body = request(server, rpc("eth_getBalance", [account, "latest"]))
    assert status == 200
    return int(json.loads(body)["result"], 16)


def raw_exchange(server: DevnetServer, data: bytes) -> bytes:
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            if b"\r\n\r\n" in b"".join(chunks) and b"Connection: close" in b"".join(chunks):
                return b"".join(chunks)


def test_a_cross_origin_page_cannot_move_funds(server):
    before = balance(server, RECIPIENT)
    send = rpc("eth_sendTransaction", [{"from": SENDER, "to": RECIPIENT, "value": hex(5 * 10**18)}])
    status, headers, _ = request(server, send, {"Origin": "https://evil.example", "Content-Type": "text/plain"})
    assert status == 403 and "access-control-allow-origin" not in headers
    status, headers, _ = request(server, "", {"Origin": "https://evil.example",
                                              "Access-Control-Request-Method": "POST"}, method="OPTIONS")
    assert status == 403 and "access-control-allow-origin" not in headers
    assert balance(server, RECIPIENT) == before


def test_a_rebound_host_name_is_refused(server):
    status, _, body = request(server, rpc("eth_accounts"), {"Host": "attacker.example:8545"})
    assert status == 403 and b"loopback" in body
    for host in (f"localhost:{server.port}", f"127.0.0.1:{server.port}", f"[::1]:{server.port}"):
        assert request(server, rpc("eth_chainId"), {"Host": host})[0] == 200


def test_an_allowed_origin_is_answered_for_itself_but_never_signs_with_node_accounts(server):
    status, headers, _ = request(server, "", {"Origin": APP, "Access-Control-Request-Method": "POST"},
                                 method="OPTIONS")
    assert status == 204 and headers["access-control-allow-origin"] == APP and headers["vary"] == "Origin"
    status, headers, body = request(server, rpc("eth_chainId"), {"Origin": APP})
    assert status == 200 and headers["access-control-allow-origin"] == APP and json.loads(body)["result"] == "0x539"
    before = balance(server, RECIPIENT)
    send = rpc("eth_sendTransaction", [{"from": SENDER, "to": RECIPIENT, "value": "0x5"}])
    answer = json.loads(request(server, send, {"Origin": APP})[2])
    assert answer["error"]["code"] == -32601 and "web pages" in answer["error"]["message"]
    assert json.loads(request(server, rpc("eth_accounts"), {"Origin": APP})[2])["result"] == []
    assert balance(server, RECIPIENT) == before
    # a local program (no Origin) may use the node's test accounts
    answer = json.loads(request(server, send)[2])
    assert answer["result"].startswith("0x") and balance(server, RECIPIENT) == before + 5


def test_the_wildcard_origin_is_refused():
    with pytest.raises(InputError, match="not an origin"):
        DevnetServer(Devnet(None), port=0, allowed_origins=["*"])


def test_admin_methods_are_off_unless_asked_for(server):
    def head() -> int:
        return int(json.loads(request(server, rpc("eth_blockNumber"))[2])["result"], 16)

    before = head()
    for method, params in (("evm_mine", []), ("testing_timeTravel", [4_000_000_000]), ("evm_snapshot", []),
                           ("evm_revert", ["0x1"]), ("evm_increaseTime", [3600]), ("evm_setAutomine", [False])):
        answer = json.loads(request(server, rpc(method, params))[2])
        assert answer["error"]["code"] == -32601 and "--admin" in answer["error"]["message"], method
    assert head() == before
    with DevnetServer(Devnet(None), port=0, admin=True) as admin:
        assert json.loads(request(admin, rpc("evm_mine"))[2])["result"] == "0x0"


@pytest.mark.parametrize("length, status", [("-1", 400), ("abc", 400), ("1e3", 400), (str(10**12), 413)])
def test_a_lying_content_length_is_refused_before_reading(server, length, status):
    reply = raw_exchange(server, f"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {length}\r\n\r\n"
                                 .encode() + b"x" * 100)
    assert reply.startswith(f"HTTP/1.1 {status}".encode()), reply[:200]
    assert request(server, rpc("eth_chainId"))[0] == 200  # and it keeps serving


def test_a_request_without_length_or_over_the_cap_is_refused(server):
    reply = raw_exchange(server, b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                                 b"5\r\nhello\r\n0\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 411")
    reply = raw_exchange(server, b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 411")
    reply = raw_exchange(server, f"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {MAX_BODY + 1}\r\n\r\n"
                                 .encode() + b"[" * 1000)
    assert reply.startswith(b"HTTP/1.1 413")  # answered without reading the body


def test_a_slow_client_holds_up_no_one_and_is_cut_off(server, monkeypatch):
    monkeypatch.setattr(devnet_server, "READ_TIMEOUT", 0.5)
    with socket.create_connection((server.host, server.port), timeout=10) as slow:
        slow.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{\"jsonrpc\"")
        # meanwhile others are answered
        status, _, body = request(server, rpc("eth_chainId"))
        assert status == 200 and json.loads(body)["result"] == "0x539"
        # and the slow request is dropped once its time is up: the server closes the connection
        assert slow.recv(1024) == b""
    with socket.create_connection((server.host, server.port), timeout=10) as drip:
        drip.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # headers that never end
        assert drip.recv(1024) == b""


def test_json_rpc_errors_for_broken_requests(server):
    def answer(body: str | bytes) -> Any:
        status, _, data = request(server, body)
        assert status == 200
        return json.loads(data)

    assert answer("{\"jsonrpc\": ")["error"]["code"] == -32700
    assert answer("[]")["error"]["code"] == -32600
    assert answer("{\"id\": 1}")["error"]["code"] == -32600
    assert answer(rpc("eth_getBalance", ["0x12"]))["error"]["code"] == -32602
    assert answer(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": {}}))["error"][
        "code"] == -32602
    too_many = json.dumps([{"jsonrpc": "2.0", "id": i, "method": "eth_chainId"} for i in range(1001)])
    assert answer(too_many)["error"]["code"] == -32600
    batch = answer(json.dumps([{"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}, 5]))
    assert batch[0]["result"] == "0x539" and batch[1]["error"]["code"] == -32600
