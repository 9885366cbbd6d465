"""A node's JSON-RPC answers are read with a size cap and parsed with the bounded JSON reader: a hostile
node (or a proxy in front of one) on real loopback HTTP gets a clear NetworkError, never a hang,
a RecursionError or gigabytes of memory."""
from __future__ import annotations

import contextlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterator

import pytest

from studio.chain.transactions import Connection
from studio.errors import NetworkError

ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


@contextlib.contextmanager
def node(balance_answer: Callable[[int], bytes], *, declare_length: bool = True) -> Iterator[str]:
    """A loopback JSON-RPC node answering eth_chainId honestly and eth_getBalance with `balance_answer(id)`."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if request["method"] == "eth_chainId":
                body = json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": "0x7a69"}).encode()
            else:
                body = balance_answer(request["id"])
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if declare_length or request["method"] == "eth_chainId":
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _answer(result_text: str) -> Callable[[int], bytes]:
    return lambda rid: ('{"jsonrpc": "2.0", "id": %d, "result": %s}' % (rid, result_text)).encode()


def test_an_honest_answer_is_read():
    with node(_answer('"0x2a"')) as url:
        assert Connection.from_url(url).balance(ADDRESS) == 42


@pytest.mark.parametrize("result, words", [
    ("[" * 200_000 + "]" * 200_000, "nested"),                       # RecursionError before
    ('"' + '\\"' * (4 * 1024 * 1024), "not valid JSON"),             # 8 MiB of escaped quotes: hours before
    ("[" + ",".join(["{}"] * 2_100_000) + "]", "values"),            # gigabytes of empty objects
])
def test_a_hostile_answer_is_a_network_error(result, words):
    with node(_answer(result)) as url:
        connection = Connection.from_url(url)
        with pytest.raises(NetworkError, match=words):
            connection.balance(ADDRESS)


def test_an_answer_over_the_size_cap_is_not_read_to_the_end():
    from web3 import Web3

    from studio.chain.transactions import bounded_http_provider

    for declared, words in ((True, "over the limit of 1,048,576"), (False, "more than the limit of 1,048,576")):
        with node(_answer('"' + "a" * (2 * 1024 * 1024) + '"'), declare_length=declared) as url:
            web3 = Web3(bounded_http_provider(url, max_bytes=1024 * 1024))
            with pytest.raises(NetworkError, match=words):
                web3.eth.get_balance(ADDRESS)
