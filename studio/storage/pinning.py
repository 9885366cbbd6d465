"""An IPFS Pinning Service API endpoint as a storage backend (the open spec: ``POST /pins``,
``GET /pins/{requestid}``; Pinata, Filebase and others implement it).

The access token is given by the caller (from a token file, STUDIO_PINNING_TOKEN or the wallet's
encrypted section, never the settings), sent only as ``Authorization: Bearer``, and never logged, printed or put in an error. Where the
service takes CAR uploads (``car_upload_url``), the exact blocks are uploaded first, so the
service does not need to find them on the network; then the pin request is made and polled
until the service reports ``pinned`` (or ``failed``).
"""
from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import requests

from studio.cancel import Cancellable, ProgressCallback
from studio.errors import Cancelled, InputError, NetworkError, StorageError
from studio.logs import remember_secret
from studio.storage import http
from studio.storage.cid import Cid
from studio.storage.unixfs import add_bytes, add_path

log = logging.getLogger(__name__)

STATUSES = ("queued", "pinning", "pinned", "failed")


@dataclass(frozen=True)
class PinStatus:
    """A pin request as the service reports it."""

    requestid: str
    status: str
    cid: str
    name: str | None = None
    delegates: tuple[str, ...] = ()
    info: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "PinStatus":
        try:
            pin = data["pin"]
            status = str(data["status"])
            if status not in STATUSES:
                raise ValueError(status)
            return cls(str(data["requestid"]), status, str(pin["cid"]), pin.get("name"),
                       tuple(data.get("delegates") or ()), dict(data.get("info") or {}))
        except (KeyError, TypeError, ValueError) as exc:
            raise StorageError("The pinning service answered with a pin status the studio cannot read.",
                               hint="Check that the endpoint implements the IPFS Pinning Service API.") from exc


class PinningService:
    """Client of one Pinning Service API endpoint (e.g. ``https://api.pinata.cloud/psa``)."""

    name = "pinning"

    def __init__(self, endpoint: str, token: str, *, car_upload_url: str | None = None,
                 session: requests.Session | None = None, attempts: int = 3, backoff: float = 0.5,
                 poll_interval: float = 2.0, sleep: Callable[[float], None] = time.sleep) -> None:
        if not token.strip():
            raise InputError("The pinning service needs an access token.",
                             hint="Set STUDIO_PINNING_TOKEN, give a token file (--token-file), or keep it in the wallet "
                                  "(`studio ipfs token set`).")
        self.endpoint = endpoint.rstrip("/")
        self.car_upload_url = car_upload_url
        self._token = token.strip()
        remember_secret(self._token)  # masked in every log line, whatever its shape
        self.session = session or requests.Session()
        self.attempts, self.backoff, self.poll_interval, self._sleep = attempts, backoff, poll_interval, sleep

    def __repr__(self) -> str:  # the token never shows
        return f"PinningService({self.endpoint!r}, token=***)"

    def _request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self._token}", **kwargs.pop("headers", {})}
        response = http.call(self.session, method, url, what=f"The pinning service at {self.endpoint}",
                             attempts=self.attempts, backoff=self.backoff, sleep=self._sleep,
                             headers=headers, stream=True, **kwargs)
        if response.status_code in (401, 403):
            response.close()
            raise InputError(f"The pinning service at {self.endpoint} refused the access token "
                             f"(HTTP {response.status_code}).",
                             hint="Check or renew the token (the token file, STUDIO_PINNING_TOKEN, or the wallet's: "
                                  "`studio ipfs token set`).")
        if response.status_code >= 400:
            raise StorageError(f"The pinning service refused the request: {_reason(response)}.",
                               hint="Nothing was pinned; check the service's limits and your plan.")
        return response

    def _json(self, response: requests.Response) -> Any:
        return http.json_answer(response, what=f"the pinning service at {self.endpoint}")

    def request_pin(self, cid: Cid | str, *, name: str | None = None, origins: Sequence[str] = ()) -> PinStatus:
        """``POST /pins``: ask the service to pin ``cid``; returns the request's status."""
        body: dict[str, Any] = {"cid": str(cid)}
        if name:
            body["name"] = name
        if origins:
            body["origins"] = list(origins)
        return PinStatus.from_json(self._json(self._request("POST", f"{self.endpoint}/pins", json=body)))

    def status(self, requestid: str) -> PinStatus:
        """``GET /pins/{requestid}``."""
        return PinStatus.from_json(self._json(self._request("GET", f"{self.endpoint}/pins/{requestid}")))

    def has(self, cid: Cid | str) -> bool:
        """Whether the service reports ``cid`` as pinned for this token (``GET /pins?cid=…&status=pinned``)."""
        found = self._json(self._request("GET", f"{self.endpoint}/pins", params={"cid": str(cid), "status": "pinned"}))
        try:
            return int(found["count"]) > 0
        except (KeyError, TypeError, ValueError) as exc:
            raise StorageError("The pinning service answered a pin listing the studio cannot read.",
                               hint="Check that the endpoint implements the IPFS Pinning Service API.") from exc

    def wait_pinned(self, status: PinStatus, *, timeout: float = 600.0, cancel: Cancellable | None = None,
                    clock: Callable[[], float] = time.monotonic) -> PinStatus:
        """Poll until the request is ``pinned``; StorageError if ``failed``, NetworkError on timeout."""
        deadline = clock() + timeout
        interval = self.poll_interval
        while status.status in ("queued", "pinning"):
            if cancel is not None and cancel.cancelled:
                raise Cancelled("Stopped waiting; the pinning service keeps the request.")
            if clock() >= deadline:
                raise NetworkError(f"The pinning service still reports {status.cid} as {status.status} after "
                                   f"{timeout:.0f} s.", hint=f"It keeps trying; check later (request {status.requestid}).")
            self._sleep(interval)
            interval = min(interval * 1.5, 30.0)
            status = self.status(status.requestid)
        if status.status == "failed":
            raise StorageError(f"The pinning service could not pin {status.cid}: "
                               f"{status.info.get('status_details', 'no reason given')}.",
                               hint="Set the service's CAR upload address in Settings → Storage, or have an IPFS "
                                    "node you run provide the content, then retry.")
        return status

    def upload_car(self, car: Path) -> None:
        """Upload a CAR file to the service's CAR endpoint (streamed from disk)."""
        if not self.car_upload_url:
            raise InputError("This pinning service has no CAR upload address configured.")
        with open(car, "rb") as stream:
            self._request("POST", self.car_upload_url, data=stream,
                          headers={"Content-Type": "application/vnd.ipld.car"}).close()

    def add_path(self, path: Path | str, *, cid_version: int = 1, include_hidden: bool = False,
                 name: str | None = None, progress: ProgressCallback | None = None,
                 cancel: Cancellable | None = None, timeout: float = 600.0) -> Cid:
        """Pin a file or folder: its CAR uploaded where supported, then pinned and polled."""
        from studio.storage.car import export_car

        if self.car_upload_url:
            with tempfile.TemporaryDirectory(prefix="studio-car-") as folder:
                car = Path(folder) / "upload.car"
                cid = export_car(path, car, cid_version=cid_version, include_hidden=include_hidden,
                                 progress=progress, cancel=cancel)
                self.upload_car(car)
        else:
            cid = add_path(path, cid_version=cid_version, include_hidden=include_hidden, progress=progress,
                           cancel=cancel).cid
        self.wait_pinned(self.request_pin(cid, name=name or Path(path).name), timeout=timeout, cancel=cancel)
        return cid

    def add_bytes(self, data: bytes, *, cid_version: int = 1, name: str | None = None) -> Cid:
        with tempfile.TemporaryDirectory(prefix="studio-pin-") as folder:
            file = Path(folder) / (name or "data")
            file.write_bytes(data)
            cid = self.add_path(file, cid_version=cid_version, name=name)
        if cid != add_bytes(data, cid_version=cid_version).cid:  # pragma: no cover - same layout by construction
            raise StorageError("Internal CID mismatch while pinning bytes.")
        return cid


def _reason(response: requests.Response) -> str:
    try:
        error = http.json_answer(response, what="the pinning service", limit=64 * 1024).get("error", {})
        return ": ".join(str(part)[:300] for part in (error.get("reason"), error.get("details")) if part) \
            or f"HTTP {response.status_code}"
    except (NetworkError, AttributeError):
        return f"HTTP {response.status_code}"
