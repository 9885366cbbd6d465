"""Verified fetching of ``ipfs://``, ``https://`` and ``data:`` URIs (token metadata, media).

``ipfs://`` content comes from the local store first, then from each gateway of the user's
ordered list; whatever a gateway returns is checked against the CID before use, so a gateway
that serves other bytes is detected, logged and skipped. Folder paths (``ipfs://<cid>/0``)
are resolved through the folder's own block, fetched with ``?format=raw`` and verified too.
Every response is capped in size and time; no other schemes (``file:``, ``http:``) are read.
Verified ``ipfs://`` results are cached on disk (content under a CID never changes).
"""
from __future__ import annotations

import base64
import hashlib
import logging
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from studio.errors import InputError, NetworkError, NotFound, StorageError
from studio.fileio import atomic_write_bytes
from studio.storage.cid import DAG_PB, RAW, Cid
from studio.storage.store import LocalStore
from studio.storage.unixfs import T_DIRECTORY, add_bytes, decode_node

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_GATEWAYS = ("https://ipfs.io", "https://dweb.link")


@dataclass(frozen=True)
class Fetched:
    """Fetched bytes and where they came from; ``cid`` is set when they were verified against it."""

    data: bytes
    source: str  # "local", "cache", "data", a gateway base URL, or the https URL
    cid: Cid | None = None


class _TooLarge(Exception):
    pass


class _Lied(Exception):
    pass


class Fetcher:
    """Fetch URIs with verification, caps, timeouts, retries with backoff, and a small cache."""

    def __init__(self, *, store: LocalStore | None = None, gateways: Sequence[str] = DEFAULT_GATEWAYS,
                 cache_dir: Path | None = None, max_bytes: int = DEFAULT_MAX_BYTES, timeout: float = 20.0,
                 retries: int = 2, backoff: float = 0.25, session=None) -> None:
        import requests

        self.store = store
        self.gateways = [g.rstrip("/") for g in gateways]
        for gateway in self.gateways:
            if urllib.parse.urlsplit(gateway).scheme not in ("http", "https"):
                raise InputError(f"Gateway {gateway!r} is not an http(s) URL.",
                                 hint="Gateways look like https://ipfs.io or http://127.0.0.1:8080.")
        self.cache_dir = cache_dir
        self.max_bytes, self.timeout, self.retries, self.backoff = max_bytes, timeout, retries, backoff
        self.session = session or requests.Session()

    # ------------------------------------------------------------ entry point
    def fetch(self, uri: str) -> Fetched:
        """The bytes at ``uri``; raises InputError (bad URI), NetworkError or StorageError."""
        scheme = urllib.parse.urlsplit(uri).scheme.lower()
        if scheme == "ipfs":
            return self._fetch_ipfs(uri)
        if scheme == "https":
            data = self._get_capped(uri)
            return Fetched(data, uri)
        if scheme == "data":
            return Fetched(self._decode_data_uri(uri), "data")
        raise InputError(f"The URI {uri[:80]!r} is not an ipfs://, https:// or data: URI.",
                         hint="For safety the studio reads no other schemes (no file:, no http:).")

    # ------------------------------------------------------------ data:
    def _decode_data_uri(self, uri: str) -> bytes:
        header, sep, payload = uri[5:].partition(",")
        if not sep:
            raise InputError("A data: URI needs a comma before its content.")
        if len(payload) > self.max_bytes * 4 // 3 + 4:
            raise InputError(f"The data: URI is over the size limit of {self.max_bytes:,} bytes.")
        if header.endswith(";base64"):
            try:
                data = base64.b64decode(payload, validate=True)
            except ValueError as exc:
                raise InputError("The data: URI's base64 content is damaged.") from exc
        else:
            data = urllib.parse.unquote_to_bytes(payload)
        if len(data) > self.max_bytes:
            raise InputError(f"The data: URI is over the size limit of {self.max_bytes:,} bytes.")
        return data

    # ------------------------------------------------------------ ipfs://
    def _fetch_ipfs(self, uri: str) -> Fetched:
        rest = uri[len("ipfs://"):]
        if rest.startswith("ipfs/"):
            rest = rest[5:]
        root_text, _, path = rest.partition("/")
        root = Cid.parse(root_text)
        path = "/".join(urllib.parse.unquote(p) for p in path.split("/") if p)
        cached = self._from_cache(root, path)
        if cached is not None:
            return cached
        if self.store is not None:
            try:
                if self.store.has(root):
                    data = self.store.cat(root, path, max_bytes=self.max_bytes)
                    return Fetched(data, "local", self.store.resolve(root, path).cid)
            except NotFound:
                pass
        problems: list[str] = []
        for gateway in self.gateways:
            try:
                cid = self._resolve_path(gateway, root, path)
                data = self._fetch_verified(gateway, cid)
            except _Lied as exc:
                log.warning("Gateway %s served bytes that do not match %s; skipping it.", gateway, exc)
                problems.append(f"{gateway} served wrong bytes")
                continue
            except _TooLarge:
                problems.append(f"{gateway} sent more than {self.max_bytes:,} bytes")
                continue
            except NetworkError as exc:
                problems.append(f"{gateway}: {exc.message}")
                continue
            self._to_cache(root, path, data)
            return Fetched(data, gateway, cid)
        if not self.gateways:
            raise NotFound(f"{uri} is not in the local store and no gateway is configured.",
                           hint="Add a gateway in Settings → Storage.")
        raise NetworkError(f"Could not fetch {uri}: " + "; ".join(problems) + ".",
                           hint="Check your connection or add another gateway in Settings → Storage.")

    def _resolve_path(self, gateway: str, root: Cid, path: str) -> Cid:
        cid = root
        for part in [p for p in path.split("/") if p]:
            if cid.codec != DAG_PB:
                raise NetworkError(f"{root}/{path}: {part!r} is below a file, not a folder.")
            node = decode_node(self._fetch_block(gateway, cid))
            if node.kind != T_DIRECTORY:
                raise NetworkError(f"{root}/{path}: {part!r} is below a file, not a folder.")
            link = next((l for l in node.links if l.name == part), None)
            if link is None:
                raise NetworkError(f"{root}/{path} does not exist (no entry {part!r}).")
            cid = link.cid
        return cid

    def _fetch_block(self, gateway: str, cid: Cid) -> bytes:
        block = self._get_capped(f"{gateway}/ipfs/{cid}?format=raw", accept="application/vnd.ipld.raw",
                                 raise_too_large=True)
        if not cid.verify(block):
            raise _Lied(str(cid))
        return block

    def _fetch_verified(self, gateway: str, cid: Cid) -> bytes:
        if cid.codec == RAW:
            return self._fetch_block(gateway, cid)
        data = self._get_capped(f"{gateway}/ipfs/{cid}", raise_too_large=True)
        # Rebuild the DAG as `ipfs add` lays it out; a match proves these are the bytes named.
        if add_bytes(data, cid_version=cid.version).cid.multihash != cid.multihash:
            raise _Lied(str(cid))
        return data

    # ------------------------------------------------------------ HTTP
    def _get_capped(self, url: str, *, accept: str | None = None, raise_too_large: bool = False) -> bytes:
        import requests

        headers = {"Accept": accept} if accept else {}
        for attempt in range(self.retries + 1):
            try:
                with self.session.get(url, headers=headers, timeout=self.timeout, stream=True,
                                      allow_redirects=True) as response:
                    if urllib.parse.urlsplit(response.url).scheme not in ("https", "http") or (
                            url.startswith("https:") and not response.url.startswith("https:")):
                        raise NetworkError(f"{url} redirected to a non-https address; not followed.")
                    if response.status_code >= 500 and attempt < self.retries:
                        time.sleep(self.backoff * 2 ** attempt)
                        continue
                    if response.status_code != 200:
                        raise NetworkError(f"{_host(url)} answered HTTP {response.status_code}.")
                    length = response.headers.get("Content-Length")
                    if length and length.isdigit() and int(length) > self.max_bytes:
                        return self._too_large(url, raise_too_large)
                    body = bytearray()
                    for chunk in response.iter_content(64 * 1024):
                        body += chunk
                        if len(body) > self.max_bytes:
                            return self._too_large(url, raise_too_large)
                    return bytes(body)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt < self.retries:
                    time.sleep(self.backoff * 2 ** attempt)
                    continue
                raise NetworkError(f"{_host(url)} could not be reached ({type(exc).__name__}).",
                                   hint="Check the connection or the gateway address.") from exc
            except requests.RequestException as exc:
                raise NetworkError(f"Fetching from {_host(url)} failed: {exc}.") from exc
        raise NetworkError(f"{_host(url)} kept failing.")  # pragma: no cover - loop always returns or raises

    def _too_large(self, url: str, raise_internal: bool) -> bytes:
        if raise_internal:
            raise _TooLarge(url)
        raise NetworkError(f"{_host(url)} sent more than the limit of {self.max_bytes:,} bytes; stopped.",
                           hint="Raise the size limit in Settings → Storage if you trust this source.")

    # ------------------------------------------------------------ cache
    def _cache_path(self, root: Cid, path: str) -> Path | None:
        if self.cache_dir is None:
            return None
        key = hashlib.sha256(f"{root.to_v1()}/{path}".encode()).hexdigest()
        return self.cache_dir / key[:2] / key

    def _from_cache(self, root: Cid, path: str) -> Fetched | None:
        file = self._cache_path(root, path)
        if file is None or not file.exists():
            return None
        try:
            return Fetched(file.read_bytes(), "cache")
        except OSError:
            return None

    def _to_cache(self, root: Cid, path: str, data: bytes) -> None:
        file = self._cache_path(root, path)
        if file is not None:
            try:
                atomic_write_bytes(file, data)
            except StorageError as exc:  # a full cache never fails a fetch
                log.warning("Could not cache %s/%s: %s", root, path, exc)


def _host(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
