"""An IPFS Pinning Service API client (the open spec: ``POST /pins``, ``GET /pins/{requestid}``).

The access token is passed in by the caller (the wallet keeps it encrypted at rest) and is
only ever sent in the ``Authorization`` header: it is never logged nor shown in ``repr``.
The spec pins by CID: the service fetches the blocks from the IPFS network or from the
``origins`` given, so content should be added to a reachable node first.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

from studio.cancel import Cancellable
from studio.errors import Cancelled, InputError, NetworkError, StorageError
from studio.storage.cid import Cid

log = logging.getLogger(__name__)

STATUSES = ("queued", "pinning", "pinned", "failed")


@dataclass(frozen=True)
class PinStatus:
    """One pin request as the service reports it."""

    requestid: str
    status: str
    cid: str
    name: str | None = None
    delegates: tuple[str, ...] = ()
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "PinStatus":
        try:
            pin = data["pin"]
            status = data["status"]
            if status not in STATUSES:
                raise ValueError(f"unknown status {status!r}")
            return cls(str(data["requestid"]), status, str(pin["cid"]), pin.get("name"),
                       tuple(data.get("delegates", ())), dict(data.get("info") or {}))
        except (KeyError, TypeError, ValueError) as exc:
            raise NetworkError(f"The pinning service sent a pin status the studio cannot read ({exc}).") from exc


class PinningService:
    """Client of one Pinning Service API endpoint (e.g. ``https://api.pinata.cloud/psa``)."""

    def __init__(self, endpoint: str, access_token: str, *, timeout: float = 30.0, retries: int = 3,
                 backoff: float = 0.5, poll_interval: float = 2.0, session=None) -> None:
        import requests

        if not access_token:
            raise InputError("The pinning service needs an access token.",
                             hint="Paste the token from your provider in Settings → Storage.")
        self.endpoint = endpoint.rstrip("/")
        self._token = access_token
        self.timeout, self.retries, self.backoff, self.poll_interval = timeout, retries, backoff, poll_interval
        self.session = session or requests.Session()

    def __repr__(self) -> str:
        return f"PinningService({self.endpoint!r}, access_token=***)"

    def _request(self, method: str, path: str, *, json_body: dict | None = None,
                 params: dict | None = None, retry: bool = True) -> Any:
        import requests

        url = f"{self.endpoint}{path}"
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        attempts = self.retries + 1 if retry else 1
        for attempt in range(attempts):
            try:
                response = self.session.request(method, url, json=json_body, params=params, headers=headers,
                                                timeout=self.timeout)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt + 1 < attempts:
                    time.sleep(self.backoff * 2 ** attempt)
                    continue
                raise NetworkError(f"The pinning service at {self.endpoint} could not be reached.",
                                   hint="Check your connection and the service address.") from exc
            if (response.status_code >= 500 or response.status_code == 429) and attempt + 1 < attempts:
                time.sleep(self.backoff * 2 ** attempt)
                continue
            if response.status_code == 401:
                raise NetworkError("The pinning service refused the access token.",
                                   hint="Check or renew the token in Settings → Storage.")
            if response.status_code >= 400:
                raise NetworkError(f"The pinning service answered HTTP {response.status_code}: {_reason(response)}.")
            if response.status_code == 202 and method == "DELETE":
                return None
            try:
                return response.json()
            except ValueError as exc:
                raise NetworkError("The pinning service sent an answer that is not JSON.") from exc
        raise NetworkError(f"The pinning service at {self.endpoint} kept failing.")  # pragma: no cover

    def pin(self, cid: Cid | str, *, name: str | None = None, origins: Sequence[str] = (),
            meta: dict[str, str] | None = None) -> PinStatus:
        """Ask the service to pin ``cid``; returns the queued request."""
        body: dict[str, Any] = {"cid": str(cid)}
        if name:
            body["name"] = name[:255]
        if origins:
            body["origins"] = list(origins)
        if meta:
            body["meta"] = dict(meta)
        # A POST retried after a lost answer could queue twice; the spec makes that harmless (same CID).
        status = PinStatus.from_json(self._request("POST", "/pins", json_body=body))
        log.info("pin request %s for %s: %s", status.requestid, cid, status.status)
        return status

    def status(self, requestid: str) -> PinStatus:
        return PinStatus.from_json(self._request("GET", f"/pins/{requestid}"))

    def pins(self, *, cid: Cid | str | None = None, status: Sequence[str] = ()) -> list[PinStatus]:
        params: dict[str, str] = {}
        if cid is not None:
            params["cid"] = str(cid)
        if status:
            params["status"] = ",".join(status)
        data = self._request("GET", "/pins", params=params)
        return [PinStatus.from_json(item) for item in data.get("results", [])]

    def remove(self, requestid: str) -> None:
        self._request("DELETE", f"/pins/{requestid}")

    def wait(self, requestid: str, *, timeout: float = 600.0, cancel: Cancellable | None = None) -> PinStatus:
        """Poll until the pin is ``pinned`` (returned) or ``failed`` (StorageError), or time runs out."""
        deadline = time.monotonic() + timeout
        while True:
            current = self.status(requestid)
            if current.status == "pinned":
                return current
            if current.status == "failed":
                raise StorageError(f"The pinning service could not pin {current.cid}.",
                                   hint="It could not fetch the content: make sure it is on a reachable "
                                        "IPFS node (or given as an origin), then pin again.")
            if cancel is not None and cancel.cancelled:
                raise Cancelled()
            if time.monotonic() >= deadline:
                raise NetworkError(f"{current.cid} is still {current.status} at the pinning service after "
                                   f"{timeout:.0f} s.", hint="It may finish later; check its status again.")
            time.sleep(self.poll_interval)


def _reason(response) -> str:
    try:
        error = response.json()["error"]
        return f"{error.get('reason', '')} {error.get('details', '')}".strip()
    except (ValueError, KeyError, TypeError):
        return response.text.strip()[:200]
