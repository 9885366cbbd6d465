"""Outbound HTTP to addresses that strangers name (a token's metadata and image links).

Two guards, both enforced where the socket is made, so neither a redirect, a DNS answer that
changes between the check and the connection (DNS rebinding), nor an odd spelling of an address
(``0x7f000001``, ``2130706433``, ``[::ffff:127.0.0.1]``) gets around them:

* **Public addresses only.** :class:`AddressGuard` refuses loopback, private, link-local,
  carrier-grade NAT, multicast and reserved addresses (IPv4 and IPv6), checked on the URL's
  host before asking (every address it resolves to) and again on the connected socket's peer.
  The user's own services (the gateways in Settings, a node they named) are the exception: their
  ``host:port`` is on the guard's allow-list.
* **A total deadline.** A read timeout is per ``recv``: a server dripping one byte every few
  seconds would hold a fetch for ever. :func:`deadline` gives one fetch a budget of wall-clock
  seconds; when it runs out every connection the fetch opened is shut down (its blocked read
  returns at once) and the fetch ends with :class:`DeadlinePassed`.

:func:`guard_session` mounts both on a ``requests.Session``.
"""
from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
import urllib.parse
from typing import Any, Iterable, Iterator

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from studio.errors import InputError, NetworkError

_DEFAULT_PORTS = {"http": 80, "https": 443}
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class PrivateAddress(InputError):
    """A link names an address on this computer or a private network, which the studio does not open."""


class DeadlinePassed(NetworkError):
    """A fetch did not finish within its total time budget."""


def is_public(address: str) -> bool:
    """Whether an IP address (text) is one on the public internet (IPv4-mapped IPv6 unwrapped)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (
            ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None)
        if embedded is not None:  # ::ffff:127.0.0.1, 2002:7f00:1::, 64:ff9b::7f00:1 reach IPv4 addresses
            ip = embedded
    return ip.is_global and not ip.is_multicast


def _origin_key(url: str) -> tuple[str, int] | None:
    try:
        parts = urllib.parse.urlsplit(url.strip())
        if not parts.hostname:
            return None
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower(), 0)
    except ValueError:  # a bad port or IPv6 literal
        return None
    return parts.hostname.lower().strip("[]"), port


class AddressGuard:
    """Which hosts a fetch may connect to: public ones, and the user's own services by ``host:port``."""

    def __init__(self, own_services: Iterable[str] = ()) -> None:
        self.own: frozenset[tuple[str, int]] = frozenset(k for k in map(_origin_key, own_services) if k)

    def is_own(self, host: str, port: int) -> bool:
        return (host.lower().strip("[]"), port) in self.own

    def check_url(self, url: str) -> None:
        """Refuse (PrivateAddress) a URL whose host is, or resolves to, a non-public address."""
        key = _origin_key(url)
        if key is None:
            raise InputError(f"{_shown(url)} is not a web address with a host.")
        host, port = key
        if self.is_own(host, port):
            return
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError, OSError) as exc:
            raise NetworkError(f"The address {host} could not be found ({exc.__class__.__name__}).",
                               hint="Check the link, or try again later.") from exc
        for info in infos:
            address = str(info[4][0])
            if not is_public(address):
                raise _refused(url, host, address)

    def check_peer(self, host: str, port: int, sock: socket.socket) -> None:
        """Refuse a connection whose peer turned out not to be public (a DNS answer that changed)."""
        if self.is_own(host, port):
            return
        try:
            address = str(sock.getpeername()[0])
        except OSError:
            return  # not connected: the request fails on its own
        if not is_public(address):
            raise _refused(f"{host}:{port}", host, address)


def _refused(url: str, host: str, address: str) -> PrivateAddress:
    where = host if host == address else f"{host} ({address})"
    return PrivateAddress(f"{_shown(url)} points at {where}, an address on this computer or a private network; "
                          "the studio does not open such links from other people's content.",
                          hint="If it is your own gateway or node, add it to “Gateways” in Settings → Storage.")


def _shown(url: str) -> str:
    text = "".join(ch if ch.isprintable() else "?" for ch in url)
    return text if len(text) <= 100 else text[:99] + "…"


# ----------------------------------------------------------------------------- deadlines

class Deadline:
    """A wall-clock budget for one fetch; the connections it opened are shut down when it passes."""

    def __init__(self, seconds: float, what: str) -> None:
        self.seconds = seconds
        self.what = what
        self.ends = time.monotonic() + seconds
        self.passed = False
        self._connections: list[Any] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def remaining(self) -> float:
        return max(0.0, self.ends - time.monotonic())

    def watch(self, connection: Any) -> None:
        with self._lock:
            if self.passed:
                raise self.error()
            self._connections.append(connection)

    def error(self) -> DeadlinePassed:
        return DeadlinePassed(f"{self.what} did not finish within {self.seconds:g} s; it was stopped.",
                              hint="The server is too slow or sends on purpose slowly; try again later.")

    def _expire(self) -> None:
        with self._lock:
            self.passed = True
            connections = list(self._connections)
        for connection in connections:
            sock = getattr(connection, "sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)  # wakes a blocked recv in another thread

    def __enter__(self) -> "Deadline":
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()


_active = threading.local()


@contextlib.contextmanager
def deadline(seconds: float | None, what: str = "The download") -> Iterator[Deadline | None]:
    """Run the block with a total budget of `seconds` for the guarded connections this thread opens.

    When the budget passes, their sockets are shut down and the block's request fails; the
    failure is raised as :class:`DeadlinePassed` (whatever requests made of it). ``None``: no budget.
    Nested scopes keep the outer budget.
    """
    if seconds is None or getattr(_active, "deadline", None) is not None:
        yield getattr(_active, "deadline", None)
        return
    with Deadline(seconds, what) as budget:
        _active.deadline = budget
        try:
            yield budget
        except Exception as exc:
            if budget.passed and not isinstance(exc, DeadlinePassed):
                raise budget.error() from exc
            raise
        finally:
            _active.deadline = None


def _current_deadline() -> Deadline | None:
    return getattr(_active, "deadline", None)


# ----------------------------------------------------------------------------- the adapter

def _guarded_connection(base: type, guard: AddressGuard) -> type:
    class GuardedConnection(base):
        def _new_conn(self) -> socket.socket:
            budget = _current_deadline()
            if budget is not None:
                if budget.passed:
                    raise budget.error()
                timeout = getattr(self, "timeout", None)
                if isinstance(timeout, (int, float)):  # not urllib3's "default" sentinel
                    self.timeout = min(float(timeout), max(0.05, budget.remaining()))
            sock = super()._new_conn()
            if not (getattr(self, "proxy", None) or getattr(self, "_tunnel_host", None)):
                try:
                    guard.check_peer(self.host, int(self.port or 0), sock)
                except PrivateAddress:
                    sock.close()
                    raise
            return sock

    return GuardedConnection


def _guarded_pool(base: type, connection: type) -> type:
    class GuardedPool(base):
        ConnectionCls = connection

        def _get_conn(self, timeout: float | None = None) -> Any:
            conn = super()._get_conn(timeout)
            budget = _current_deadline()
            if budget is not None:
                try:
                    budget.watch(conn)
                except DeadlinePassed:
                    self._put_conn(conn)
                    raise
            return conn

    return GuardedPool


class GuardedAdapter(HTTPAdapter):
    """requests' adapter whose connections are checked by an AddressGuard and watched by deadlines."""

    def __init__(self, guard: AddressGuard, **kwargs: Any) -> None:
        self.guard = guard
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _guarded_pool(HTTPConnectionPool, _guarded_connection(HTTPConnection, self.guard)),
            "https": _guarded_pool(HTTPSConnectionPool, _guarded_connection(HTTPSConnection, self.guard)),
        }

    def __getstate__(self) -> dict[str, Any]:  # requests pickles adapters with the session
        state: dict[str, Any] = dict(super().__getstate__())  # type: ignore[call-overload]
        state["guard"] = self.guard
        return state


def guard_session(session: requests.Session, guard: AddressGuard) -> requests.Session:
    """Mount a GuardedAdapter for http:// and https:// on `session` (replacing the default ones)."""
    for prefix in ("https://", "http://"):
        current = session.adapters.get(prefix)
        if isinstance(current, GuardedAdapter) and current.guard.own == guard.own:
            continue
        session.mount(prefix, GuardedAdapter(guard))
    return session
