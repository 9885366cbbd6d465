"""A Kubo node as a storage backend, over its RPC API (``/api/v0/add``, ``/api/v0/pin/add``).

The studio computes the CID itself first, uploads with the options that make Kubo lay the
content out the same way (256 KiB chunks, balanced DAG, raw leaves exactly for CIDv1), and pins
only once Kubo's CID equals its own: a node with other defaults (a different chunker, trickle
layout) is caught instead of silently minting a different CID. Upload streams, so a large
folder never sits in memory.
"""
from __future__ import annotations

import logging
import os
import stat
import urllib.parse
import uuid
from pathlib import Path
from typing import Any, Iterator

import requests

from studio.cancel import Cancellable, ProgressCallback
from studio.errors import InputError, NetworkError, StorageError
from studio.storage import http
from studio.storage.cid import Cid
from studio.storage.unixfs import CHUNK_SIZE, add_bytes, add_path

log = logging.getLogger(__name__)

DEFAULT_API = "http://127.0.0.1:5001"


def add_options(cid_version: int) -> dict[str, str]:
    """Query options of ``/api/v0/add`` that give the CID :mod:`studio.storage.unixfs` computes."""
    return {"cid-version": str(cid_version), "raw-leaves": "true" if cid_version == 1 else "false",
            "chunker": f"size-{CHUNK_SIZE}", "hash": "sha2-256", "trickle": "false", "inline": "false",
            "wrap-with-directory": "false", "pin": "false", "progress": "false"}


class KuboBackend:
    """Content added to (and pinned on) the Kubo node whose RPC API is at ``api_url``."""

    name = "kubo"

    def __init__(self, api_url: str = DEFAULT_API, *, session: requests.Session | None = None,
                 attempts: int = 3, backoff: float = 0.5, include_hidden: bool = False) -> None:
        self.api_url = api_url.rstrip("/")
        self.session = session or requests.Session()
        self.attempts, self.backoff, self.include_hidden = attempts, backoff, include_hidden

    def _call(self, command: str, *, params: dict[str, str] | None = None, attempts: int | None = None,
              **kwargs: Any) -> requests.Response:
        return http.call(self.session, "POST", f"{self.api_url}/api/v0/{command}", params=params,
                         what=f"The Kubo node at {self.api_url}", attempts=attempts or self.attempts,
                         backoff=self.backoff, timeout=(5.0, 600.0), stream=True, **kwargs)

    def _post(self, command: str, *, params: dict[str, str] | None = None, attempts: int | None = None,
              **kwargs: Any) -> requests.Response:
        response = self._call(command, params=params, attempts=attempts, **kwargs)
        if response.status_code != 200:
            detail = _kubo_message(response)
            raise StorageError(f"The Kubo node refused {command}: {detail}.",
                               hint="Check the node's log; nothing was pinned.")
        return response

    @property
    def _what(self) -> str:
        return f"the Kubo node at {self.api_url}"

    def _json(self, response: requests.Response) -> Any:
        return http.json_answer(response, what=self._what)

    def version(self) -> str:
        """The node's version (also a cheap check that the RPC API answers)."""
        answer = self._json(self._post("version"))
        return str(answer.get("Version", "unknown")) if isinstance(answer, dict) else "unknown"

    def add_path(self, path: Path | str, *, cid_version: int = 1, include_hidden: bool | None = None,
                 progress: ProgressCallback | None = None, cancel: Cancellable | None = None) -> Cid:
        """Upload a file or folder, check Kubo's CID against the local one, then pin it."""
        path = Path(path)
        hidden = self.include_hidden if include_hidden is None else include_hidden
        expected = add_path(path, cid_version=cid_version, include_hidden=hidden, progress=progress,
                            cancel=cancel).cid
        boundary = uuid.uuid4().hex
        body = _multipart(path, boundary, hidden)
        return self._add_and_pin(expected, cid_version, body, boundary)

    def add_bytes(self, data: bytes, *, cid_version: int = 1, name: str = "data") -> Cid:
        expected = add_bytes(data, cid_version=cid_version).cid
        boundary = uuid.uuid4().hex
        body = b"".join([_part_head(boundary, name, "application/octet-stream"), data, b"\r\n",
                         f"--{boundary}--\r\n".encode()])
        return self._add_and_pin(expected, cid_version, body, boundary)

    def _add_and_pin(self, expected: Cid, cid_version: int, body: bytes | Iterator[bytes], boundary: str) -> Cid:
        response = self._post("add", params=add_options(cid_version), data=body,
                              headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        entries = http.json_lines(response, what=self._what)
        hashes = [entry["Hash"] for entry in entries if isinstance(entry, dict) and "Hash" in entry]
        if not hashes:
            raise StorageError("The Kubo node answered the upload without a CID.", hint="Check the node's log.")
        returned = hashes[-1]
        if returned != str(expected):
            self._unpin_quietly(returned)
            raise StorageError(f"The Kubo node computed {returned} but the studio computed {expected}; "
                               "nothing was pinned.",
                               hint="The node may use other import settings (chunker, layout); "
                                    "the studio's CID is the one the contract would commit.")
        self.pin(expected)
        return expected

    def pin(self, cid: Cid | str) -> None:
        """Pin ``cid`` (recursively) on the node."""
        answer = self._json(self._post("pin/add", params={"arg": str(cid), "recursive": "true"}))
        pins = answer.get("Pins") if isinstance(answer, dict) else None
        pins = pins if isinstance(pins, list) else []
        if str(cid) not in pins and str(Cid.parse(str(cid)).to_v1()) not in pins:
            raise StorageError(f"The Kubo node did not confirm the pin of {cid}.", hint="Check the node's log.")

    def has(self, cid: Cid | str) -> bool:
        """Whether the node keeps ``cid`` pinned recursively (``/api/v0/pin/ls``)."""
        wanted = Cid.parse(str(cid)).to_v1()
        response = self._call("pin/ls", params={"arg": str(cid), "type": "recursive"})
        if response.status_code == 200:
            answer = self._json(response)
            keys = (answer.get("Keys") if isinstance(answer, dict) else None) or {}
            return any(Cid.parse(str(key)).to_v1() == wanted for key in keys)
        detail = _kubo_message(response)
        if "not pinned" in detail:
            return False
        raise StorageError(f"The Kubo node could not list the pin of {cid}: {detail}.", hint="Check the node's log.")

    def _unpin_quietly(self, cid: str) -> None:
        try:
            self._post("pin/rm", params={"arg": cid}, attempts=1).close()
        except StorageError as exc:  # unpinned already (we add with pin=false): nothing to undo
            log.debug("pin/rm %s: %s", cid, exc)


def _kubo_message(response: requests.Response) -> str:
    try:
        answer = http.json_answer(response, what="the Kubo node", limit=64 * 1024)
    except NetworkError:
        return f"HTTP {response.status_code}"
    message = answer.get("Message") if isinstance(answer, dict) else None
    return str(message)[:500] if message else f"HTTP {response.status_code}"


def _part_head(boundary: str, filename: str, content_type: str) -> bytes:
    quoted = urllib.parse.quote(filename, safe="")
    return (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{quoted}\"\r\n"
            f"Content-Type: {content_type}\r\n\r\n").encode()


def _multipart(root: Path, boundary: str, include_hidden: bool) -> Iterator[bytes]:
    """The multipart body ``ipfs add -r`` sends: folders as ``application/x-directory`` parts,
    files streamed, names as paths below the added folder."""
    def entries(folder: Path, prefix: str) -> Iterator[bytes]:
        for entry in sorted(os.scandir(folder), key=lambda e: os.fsencode(e.name)):
            if not include_hidden and entry.name.startswith("."):
                continue
            name = f"{prefix}/{entry.name}"
            mode = entry.stat(follow_symlinks=False).st_mode
            if stat.S_ISLNK(mode):
                yield _part_head(boundary, name, "application/symlink") + os.readlink(entry.path).encode() + b"\r\n"
            elif stat.S_ISDIR(mode):
                yield _part_head(boundary, name, "application/x-directory") + b"\r\n"
                yield from entries(Path(entry.path), name)
            else:
                yield _part_head(boundary, name, "application/octet-stream")
                yield from _file_chunks(Path(entry.path))
                yield b"\r\n"

    def body() -> Iterator[bytes]:
        if root.is_dir():
            yield _part_head(boundary, root.name, "application/x-directory") + b"\r\n"
            yield from entries(root, root.name)
        else:
            yield _part_head(boundary, root.name, "application/octet-stream")
            yield from _file_chunks(root)
            yield b"\r\n"
        yield f"--{boundary}--\r\n".encode()

    return body()


def _file_chunks(path: Path) -> Iterator[bytes]:
    try:
        with open(path, "rb") as stream:
            while chunk := stream.read(1024 * 1024):
                yield chunk
    except OSError as exc:
        raise InputError(f"{path} could not be read while uploading: {exc.strerror or exc}.") from exc
