"""HTTP calls of the storage backends: retries with backoff, size caps, and errors for people.

Kubo, pinning services and gateways all go through :func:`call`, so a peer that is down gets
the same treatment everywhere: a few tries with growing pauses, then one clear
:class:`~studio.errors.NetworkError`. Request headers (which may carry an access token) are
never logged or put in a message.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable, Iterator

import requests

from studio import safejson
from studio.errors import InputError, NetworkError
from studio.retry import RetryPolicy, retry

log = logging.getLogger(__name__)

#: (connect, read) seconds for one request.
DEFAULT_TIMEOUT = (5.0, 30.0)
#: The largest JSON answer a service (Kubo, a pinning service) may send.
MAX_JSON_ANSWER = 8 * 1024 * 1024
_RETRY_STATUSES = {429, 502, 503, 504}


class _Busy(Exception):
    """A peer that answered with a status worth trying again (429, 502-504)."""


def call(session: requests.Session, method: str, url: str, *, what: str, attempts: int = 3,
         backoff: float = 0.5, sleep: Callable[[float], None] = time.sleep,
         timeout: tuple[float, float] = DEFAULT_TIMEOUT, **kwargs: Any) -> requests.Response:
    """One HTTP request, retried (the studio's `retry`) on connection errors, timeouts, 429 and 502-504.

    ``what`` names the peer for messages ("the Kubo node at http://…"). Returns the response
    (any other status is the caller's to judge); raises NetworkError once every try failed.
    A body given as an iterator cannot be replayed, so such requests get one try.
    """
    if not isinstance(kwargs.get("data"), (bytes, str, dict, type(None))):
        attempts = 1
    if session.verify is not True:  # a caller's own trust store wins over REQUESTS_CA_BUNDLE
        kwargs.setdefault("verify", session.verify)

    def once() -> requests.Response:
        try:
            response = session.request(method, url, timeout=timeout, **kwargs)
        except requests.exceptions.SSLError as exc:
            raise NetworkError(f"{what} could not be trusted: its TLS certificate did not verify.",
                               hint="Check the address; a proxy or a wrong clock can cause this too.") from exc
        if response.status_code in _RETRY_STATUSES:
            response.close()
            raise _Busy(f"answered HTTP {response.status_code} (busy or failing)")
        return response

    def problem(exc: Exception) -> str:
        if isinstance(exc, _Busy):
            return str(exc)
        return "did not answer in time" if isinstance(exc, requests.Timeout) else "could not be reached"

    def give_up(exc: Exception, tries: int) -> Exception:
        return NetworkError(f"{what} {problem(exc)} after {tries} tries.",
                            hint="Check that it is running and reachable, or choose another storage backend "
                                 "in Settings; nothing was recorded.")

    return retry(once, policy=RetryPolicy(attempts, backoff, float("inf")), give_up=give_up, sleep=sleep,
                 retryable=lambda exc: isinstance(exc, (_Busy, requests.ConnectionError, requests.Timeout)),
                 before_retry=lambda exc, failures: log.info("%s %s (try %d of %d)", what, problem(exc), failures,
                                                             attempts))


def read_capped(response: requests.Response, limit: int, *, what: str) -> bytes:
    """The response body, refusing more than ``limit`` bytes (checked while streaming)."""
    declared = response.headers.get("Content-Length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        response.close()
        raise ResponseTooLarge(f"{what} sent {int(declared):,} bytes, over the limit of {limit:,}.")
    out = bytearray()
    try:
        for chunk in _chunks(response):
            out += chunk
            if len(out) > limit:
                raise ResponseTooLarge(f"{what} sent more than the limit of {limit:,} bytes.")
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise NetworkError(f"{what} broke off while sending: {exc.__class__.__name__}.",
                           hint="Try again later.") from exc
    finally:
        response.close()
    return bytes(out)


def json_answer(response: requests.Response, *, what: str, limit: int = MAX_JSON_ANSWER) -> Any:
    """A service's JSON answer, read with a size cap and parsed with :mod:`studio.safejson`;
    a body too large, too deep or not JSON is a NetworkError naming ``what`` answered."""
    data = read_capped(response, limit, what=what)
    try:
        return safejson.loads(data, what=f"The answer of {what}", max_bytes=limit)
    except InputError as exc:
        raise NetworkError(exc.message, hint="Check that the address is the service you meant.") from exc


def json_lines(response: requests.Response, *, what: str, limit: int = MAX_JSON_ANSWER) -> list[Any]:
    """A service's newline-delimited JSON answer (Kubo's ``add``), capped and parsed like `json_answer`."""
    data = read_capped(response, limit, what=what)
    try:
        return [safejson.loads(line, what=f"The answer of {what}", max_bytes=limit)
                for line in data.splitlines() if line.strip()]
    except InputError as exc:
        raise NetworkError(exc.message, hint="Check that the address is the service you meant.") from exc


def _chunks(response: requests.Response) -> Iterator[bytes]:
    return response.iter_content(chunk_size=64 * 1024)


class ResponseTooLarge(NetworkError):
    """A peer sent more bytes than the caller allows."""

    def __init__(self, message: str) -> None:
        super().__init__(message, hint="Raise the size limit only if you expect content that large.")
