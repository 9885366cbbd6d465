"""Links from strangers' metadata never reach this computer or a private network (in any spelling,
through DNS, a redirect or a DNS answer that changes), unless it is the user's own gateway; and a
server dripping bytes is cut off at the fetch's deadline. Real loopback servers throughout."""
from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

import pytest
import requests
from loopback import self_signed_cert, serve

from studio.errors import InputError, NetworkError
from studio.storage.cid import cid_v1_raw_of
from studio.storage.fetch import VerifiedFetcher
from studio.storage.netguard import DeadlinePassed, PrivateAddress, is_public
from studio.storage.store import LocalStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hostile_servers import counting, drip  # noqa: E402

BLOCK = b"a block only the user's own gateway has"
CID = cid_v1_raw_of(BLOCK)
MISSING = cid_v1_raw_of(b"a block nobody has")


def _fetcher(tmp_path: Path, **kwargs) -> VerifiedFetcher:
    return VerifiedFetcher(store=LocalStore(tmp_path / "store"), **{"gateways": (), **kwargs})


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "0x7f000001", "2130706433", "127.1", "0177.0.0.1",
                                  "[::1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[64:ff9b::7f00:1]"])
def test_links_to_this_computer_are_refused_in_every_spelling(tmp_path: Path, host: str):
    with counting() as (port, asked):
        with pytest.raises(PrivateAddress, match="an address on this computer or a private network"):
            _fetcher(tmp_path).fetch(f"https://{host}:{port}/metadata.json")
        assert asked == []


@pytest.mark.parametrize("url", ["https://10.1.2.3/x", "https://172.16.0.1/x", "https://192.168.1.1/x",
                                 "https://169.254.169.254/latest/meta-data/", "https://100.64.0.1/x",
                                 "https://0.0.0.0/x", "https://[fc00::1]/x", "https://[fd12:3456::1]/x",
                                 "https://[fe80::1]/x", "https://[::]/x", "https://224.0.0.1/x"])
def test_private_link_local_and_reserved_ranges_are_refused(tmp_path: Path, url: str):
    with pytest.raises(PrivateAddress):
        _fetcher(tmp_path).fetch(url)


def test_public_addresses_are_public():
    assert all(is_public(a) for a in ("93.184.216.34", "2606:4700::1111", "64:ff9b::808:808"))
    assert not any(is_public(a) for a in ("127.0.0.1", "::1", "2002:7f00:1::", "not an address"))


def test_the_users_own_loopback_gateway_is_used_and_another_loopback_port_is_not(tmp_path: Path):
    def gateway(method, path, headers, body):
        return (200, {}, BLOCK) if path.startswith(f"/ipfs/{CID}") else (404, {}, b"")

    with serve(gateway) as own, counting() as (port, asked):
        fetcher = _fetcher(tmp_path, gateways=(own,))
        assert fetcher.fetch(f"ipfs://{CID}").data == BLOCK
        # a link naming another loopback "gateway" for content the user's gateway lacks
        with pytest.raises(NetworkError, match="127.0.0.1.*private network"):
            fetcher.fetch(f"https://127.0.0.1:{port}/ipfs/{MISSING}")
        assert asked == []


def test_a_redirect_to_this_computer_is_refused(tmp_path: Path):
    cert, key = self_signed_cert(tmp_path)
    with counting() as (port, asked):
        def site(method, path, headers, body):
            targets = {"/to-loopback": f"https://127.0.0.1:{port}/x", "/to-localhost": f"https://localhost:{port}/x",
                       "/to-metadata-service": "https://169.254.169.254/latest/meta-data/"}
            return (302, {"Location": targets[path]}, b"") if path in targets else (200, {}, b'{"ok": 1}')

        with serve(site, tls=(cert, key)) as base:
            session = requests.Session()
            session.verify = str(cert)
            fetcher = _fetcher(tmp_path, session=session, trusted_hosts=(base,))  # the test's site is "own"
            assert fetcher.fetch(f"{base}/ok").data == b'{"ok": 1}'
            for path in ("/to-loopback", "/to-localhost", "/to-metadata-service"):
                with pytest.raises(PrivateAddress):
                    fetcher.fetch(f"{base}{path}")
        assert asked == []


def test_a_gateway_redirecting_to_a_private_address_is_refused_at_the_connection(tmp_path: Path):
    with counting() as (port, asked):
        def gateway(method, path, headers, body):
            return 302, {"Location": f"http://127.0.0.1:{port}{path}"}, b""

        with serve(gateway) as own:
            with pytest.raises(NetworkError, match="127.0.0.1.*private network"):
                _fetcher(tmp_path, gateways=(own,), attempts=1).fetch(f"ipfs://{CID}")
        assert asked == []


def test_a_dns_answer_that_turns_private_after_the_check_is_caught_at_the_connection(tmp_path: Path, monkeypatch):
    real = socket.getaddrinfo
    answers = iter(["93.184.216.34"])  # public for the check, then this computer (DNS rebinding)

    def rebinding(host, port, *args, **kwargs):
        if host == "rebind.example":
            address = next(answers, "127.0.0.1")
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with counting() as (port, asked):
        with pytest.raises(PrivateAddress, match="rebind.example \\(127.0.0.1\\)"):
            _fetcher(tmp_path, attempts=1).fetch(f"https://rebind.example:{port}/metadata.json")
        assert asked == []


@pytest.mark.parametrize("headers_too", [False, True], ids=["body", "headers"])
def test_a_server_dripping_a_byte_at_a_time_is_cut_off_at_the_deadline(tmp_path: Path, headers_too: bool):
    with drip(interval=0.25, limit=200, headers_too=headers_too) as (own, log):
        fetcher = _fetcher(tmp_path, gateways=(own,), deadline=1.0)
        with pytest.raises(DeadlinePassed, match="did not finish within 1 s"):
            fetcher.fetch(f"ipfs://{CID}")
        for _ in range(100):  # the server notices the closed connection at its next byte
            if log.cut_off:
                break
            time.sleep(0.05)
        assert log.cut_off >= 1 and log.finished == 0


def test_only_https_ipfs_and_data_links_are_opened_whatever_the_address(tmp_path: Path):
    with pytest.raises(InputError, match="does not open http"):
        _fetcher(tmp_path).fetch("http://93.184.216.34/x")
