"""A Kubo node over its RPC API as a storage backend.

``/api/v0/add`` is called with the options that give the CID the studio computes itself
(``cid-version``, ``raw-leaves`` for v1, ``chunker=size-262144``, no wrapping directory), and
the CID Kubo answers is checked against the local one: a mismatch is an error, and the
mismatching pin is removed again. Files stream from disk (multipart with a known length).
"""
from __future__ import annotations

import json
import logging
import os
import time
import urllib.parse
from pathlib import Path
from typing import Iterator

from studio.cancel import Cancellable, ProgressCallback
from studio.errors import InputError, NetworkError, StorageError
from studio.storage.cid import Cid
from studio.storage.unixfs import add_bytes, add_path

log = logging.getLogger(__name__)

DEFAULT_API = "http://127.0.0.1:5001"


class _Multipart:
    """A multipart/form-data body of files and folders, streamed, with its length known up front."""

    def __init__(self, path: Path, include_hidden: bool) -> None:
        self.boundary = "studio-" + os.urandom(12).hex()
        self._parts: list[tuple[bytes, Path | bytes]] = []
        root = path.name
        if path.is_dir():
            self._add_dir(path, root, include_hidden)
        else:
            self._part(root, "application/octet-stream", path)
        self._closing = f"--{self.boundary}--\r\n".encode()

    def _part(self, name: str, content_type: str, body: Path | bytes) -> None:
        quoted = urllib.parse.quote(name, safe="")
        head = (f"--{self.boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{quoted}\"\r\n"
                f"Content-Type: {content_type}\r\n\r\n").encode()
        self._parts.append((head, body))

    def _add_dir(self, folder: Path, name: str, include_hidden: bool) -> None:
        self._part(name, "application/x-directory", b"")
        for entry in sorted(os.scandir(folder), key=lambda e: os.fsencode(e.name)):
            if not include_hidden and entry.name.startswith("."):
                continue
            child = f"{name}/{entry.name}"
            if entry.is_symlink():
                self._part(child, "application/symlink", os.readlink(entry.path).encode())
            elif entry.is_dir():
                self._add_dir(Path(entry.path), child, include_hidden)
            else:
                self._part(child, "application/octet-stream", Path(entry.path))

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        total = len(self._closing)
        for head, body in self._parts:
            total += len(head) + (body.stat().st_size if isinstance(body, Path) else len(body)) + 2
        return total

    def __iter__(self) -> Iterator[bytes]:
        for head, body in self._parts:
            yield head
            if isinstance(body, Path):
                with open(body, "rb") as stream:
                    while chunk := stream.read(1 << 20):
                        yield chunk
            else:
                yield body
            yield b"\r\n"
        yield self._closing


class KuboBackend:
    """Adds and pins through a Kubo node's RPC API, checking every CID it returns."""

    name = "kubo"

    def __init__(self, api_url: str = DEFAULT_API, *, timeout: float = 120.0, retries: int = 3,
                 backoff: float = 0.5, session=None) -> None:
        import requests

        self.api_url = api_url.rstrip("/")
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self.session = session or requests.Session()

    def _post(self, command: str, params: dict[str, str], *, body=None, headers=None) -> list[dict]:
        import requests

        url = f"{self.api_url}/api/v0/{command}"
        for attempt in range(self.retries + 1):
            try:
                response = self.session.post(url, params=params, data=body, headers=headers, timeout=self.timeout)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt < self.retries:
                    delay = self.backoff * 2 ** attempt
                    log.info("Kubo at %s unreachable, retrying in %.1f s", self.api_url, delay)
                    time.sleep(delay)
                    continue
                raise NetworkError(f"The Kubo node at {self.api_url} could not be reached.",
                                   hint="Start the IPFS daemon (`ipfs daemon`) or check the API address "
                                        "in Settings → Storage.") from exc
            if response.status_code >= 500 and attempt < self.retries and body is None:
                time.sleep(self.backoff * 2 ** attempt)
                continue
            if response.status_code != 200:
                try:
                    message = response.json().get("Message", response.text)
                except ValueError:
                    message = response.text
                raise NetworkError(f"Kubo refused /api/v0/{command}: {message.strip()[:200]}",
                                   hint="Check the node's logs and version.")
            try:
                return [json.loads(line) for line in response.text.splitlines() if line.strip()]
            except ValueError as exc:
                raise NetworkError(f"Kubo sent an answer the studio cannot read for /api/v0/{command}.") from exc
        raise NetworkError(f"The Kubo node at {self.api_url} kept failing.")  # pragma: no cover

    @staticmethod
    def add_params(cid_version: int, include_hidden: bool = False) -> dict[str, str]:
        """The `ipfs add` options whose CID the studio reproduces locally."""
        return {"cid-version": str(cid_version), "raw-leaves": "true" if cid_version == 1 else "false",
                "chunker": "size-262144", "pin": "true", "wrap-with-directory": "false",
                "hidden": "true" if include_hidden else "false", "progress": "false"}

    def version(self) -> str:
        return str(self._post("version", {})[0].get("Version", "?"))

    def add_path(self, path: Path | str, *, cid_version: int = 1, include_hidden: bool = False,
                 progress: ProgressCallback | None = None, cancel: Cancellable | None = None) -> Cid:
        """Add and pin a file or folder; returns the CID once Kubo's matches the local one."""
        path = Path(path)
        expected = add_path(path, cid_version=cid_version, include_hidden=include_hidden,
                            progress=progress, cancel=cancel).cid
        body = _Multipart(path, include_hidden)
        answers = self._post("add", self.add_params(cid_version, include_hidden), body=body,
                             headers={"Content-Type": body.content_type})
        return self._check(expected, answers)

    def add_bytes(self, data: bytes, *, cid_version: int = 1, name: str = "data") -> Cid:
        expected = add_bytes(data, cid_version=cid_version).cid
        boundary = "studio-" + os.urandom(12).hex()
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
                f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        answers = self._post("add", self.add_params(cid_version), body=body,
                             headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        return self._check(expected, answers)

    def _check(self, expected: Cid, answers: list[dict]) -> Cid:
        if not answers or "Hash" not in answers[-1]:
            raise NetworkError("Kubo answered /api/v0/add without a CID.")
        try:
            returned = Cid.parse(answers[-1]["Hash"])
        except InputError as exc:
            raise NetworkError(f"Kubo answered an unreadable CID {answers[-1]['Hash']!r}.") from exc
        if returned != expected:
            try:
                self._post("pin/rm", {"arg": str(returned)})
            except NetworkError:
                log.warning("Could not unpin mismatching CID %s from Kubo", returned)
            raise StorageError(f"Kubo stored the content as {returned}, not {expected} as computed locally.",
                               hint="The node may use other import settings (chunker, raw leaves); "
                                    "nothing was recorded.")
        return returned

    def pin(self, cid: Cid) -> None:
        """Pin content already known to the node (or fetchable by it)."""
        answers = self._post("pin/add", {"arg": str(cid)})
        pinned = answers[-1].get("Pins", []) if answers else []
        if str(cid) not in pinned and str(cid.to_v1()) not in pinned:
            raise NetworkError(f"Kubo did not confirm the pin of {cid}.")
