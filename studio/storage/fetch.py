"""Verified fetching of ``ipfs://``, ``https://`` and ``data:`` URIs.

``ipfs://<cid>/<path>`` is read from the local store first, then from the user's gateways in
order. Gateways are asked for single blocks (``?format=raw``, the trustless-gateway form) and
every block is hashed against the CID that named it, so a gateway that sends wrong bytes is
caught, skipped for the rest of this fetcher's life, and the next one is asked. An
``https://…/ipfs/<cid>/…`` link is fetched the same verified way. Other ``https://`` URLs are
fetched as they are (nothing to verify against); ``data:`` URIs are decoded. No other scheme
(``file:``, ``http:``, ``ftp:``) is ever opened. Results land in a small on-disk cache: IPFS
content for good (it cannot change), https content for a few minutes.

Links come from strangers' metadata, so (:mod:`studio.storage.netguard`) no request goes to a
loopback, private or link-local address, however spelled, resolved or redirected to, unless it is
one of the user's own services (the configured gateways, ``trusted_hosts``); and each fetch has a
total ``deadline``, so a server dripping a byte every few seconds cannot hold it.
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import requests

from studio.errors import InputError, NetworkError, NotFound, StorageError
from studio.fileio import atomic_write_bytes, atomic_write_text
from studio.storage import http, netguard
from studio.storage.cid import RAW, Cid
from studio.storage.gateway import sniff_content_type
from studio.storage.store import LocalStore
from studio.storage.unixfs import T_DIRECTORY, T_FILE, T_RAW, decode_node

if TYPE_CHECKING:
    from studio.paths import StudioPaths

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
MAX_BLOCK = 2 * 1024 * 1024  # no honest UnixFS block is larger
DEFAULT_GATEWAYS = ("https://ipfs.io", "https://dweb.link")
#: Total seconds one fetch may take (all its blocks, gateways and redirects together).
DEFAULT_DEADLINE = 300.0


@dataclass(frozen=True)
class Fetched:
    """Bytes fetched for a URI, what they are, and where they came from (``local``, ``cache``,
    ``data``, a gateway's base URL, or the https URL itself)."""

    uri: str
    data: bytes
    content_type: str
    source: str
    verified: bool  # bytes checked against a CID


@dataclass
class FetchCache:
    """Fetched bytes on disk, keyed by URI; the oldest entries go once ``max_bytes`` is passed."""

    folder: Path
    max_bytes: int = 64 * 1024 * 1024
    https_ttl: float = 300.0

    def _paths(self, uri: str) -> tuple[Path, Path]:
        key = hashlib.sha256(uri.encode("utf-8")).hexdigest()
        return self.folder / f"{key}.bin", self.folder / f"{key}.json"

    def get(self, uri: str) -> Fetched | None:
        data_path, meta_path = self._paths(uri)
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            data = data_path.read_bytes()
        except (OSError, ValueError):
            return None
        if meta.get("uri") != uri or len(data) != meta.get("size"):
            return None
        if not meta.get("verified") and time.time() - float(meta.get("stored", 0)) > self.https_ttl:
            return None
        return Fetched(uri, data, str(meta.get("content_type")), "cache", bool(meta.get("verified")))

    def put(self, item: Fetched) -> None:
        if len(item.data) > self.max_bytes:
            return
        data_path, meta_path = self._paths(item.uri)
        try:
            atomic_write_bytes(data_path, item.data)
            # the description is written last: an entry without it is never read
            atomic_write_text(meta_path, json.dumps({"uri": item.uri, "size": len(item.data), "stored": time.time(),
                                                     "content_type": item.content_type,
                                                     "verified": item.verified}))
            self._trim()
        except StorageError as exc:  # a cache that cannot be written only costs a refetch
            log.warning("fetch cache not updated: %s", exc)

    def _trim(self) -> None:
        entries = sorted(self.folder.glob("*.bin"), key=lambda p: p.stat().st_mtime, reverse=True)
        total = 0
        for path in entries:
            total += path.stat().st_size
            if total > self.max_bytes:
                path.with_suffix(".json").unlink(missing_ok=True)
                path.unlink(missing_ok=True)


@dataclass
class VerifiedFetcher:
    """Fetches URIs for the studio, verifying IPFS content against its CID.

    ``gateways`` are base URLs (``https://ipfs.io``) tried in order; plain ``http://`` is
    accepted only for loopback gateways. ``session`` lets a caller set TLS trust or a proxy (a
    guarded adapter is mounted on it). ``trusted_hosts`` are base URLs of the user's own services
    on private addresses that links may name (the gateways always are); ``deadline`` is the total
    seconds of one fetch (None: no limit).
    """

    store: LocalStore | None = None
    gateways: Sequence[str] = DEFAULT_GATEWAYS
    cache: FetchCache | None = None
    max_bytes: int = DEFAULT_MAX_BYTES
    timeout: tuple[float, float] = (5.0, 20.0)
    attempts: int = 2
    session: requests.Session = field(default_factory=requests.Session)
    distrusted: set[str] = field(default_factory=set)
    trusted_hosts: Sequence[str] = ()
    deadline: float | None = DEFAULT_DEADLINE

    def __post_init__(self) -> None:
        self.gateways = tuple(_check_gateway(url) for url in self.gateways)
        self.guard = netguard.AddressGuard([*self.gateways, *self.trusted_hosts])
        netguard.guard_session(self.session, self.guard)

    @classmethod
    def default(cls, gateways: Sequence[str] = DEFAULT_GATEWAYS, *, paths: "StudioPaths | None" = None,
                max_bytes: int = DEFAULT_MAX_BYTES) -> "VerifiedFetcher":
        """A fetcher over the local store and cache folder of ``paths`` (default: this studio home's)."""
        from studio.paths import studio_paths

        paths = paths or studio_paths()
        return cls(store=LocalStore.default(paths), gateways=gateways,
                   cache=FetchCache(paths.cache_dir / "fetch"), max_bytes=max_bytes)

    def fetch(self, uri: str) -> Fetched:
        """The bytes ``uri`` names, verified where a CID names them; raises InputError for a URI
        that is not allowed, NotFound or NetworkError when no source has it."""
        uri = uri.strip()
        with netguard.deadline(self.deadline, f"Fetching {_shown(uri)}"):
            return self._fetch(uri)

    def _fetch(self, uri: str) -> Fetched:
        try:
            scheme = urllib.parse.urlsplit(uri).scheme.lower()
        except ValueError as exc:  # "https://[::1" and the like
            raise InputError(f"{_shown(uri)!r} is not a well-formed link.") from exc
        if scheme == "data":
            return self._decode_data(uri)
        if scheme == "ipfs":
            cid, path = parse_ipfs_uri(uri)
            return self._cached(f"ipfs://{cid}/{path}".rstrip("/"), lambda key: self._fetch_ipfs(key, cid, path))
        if scheme == "https":
            inner = _ipfs_in_gateway_url(uri)
            if inner is not None:
                cid, path, origin = inner
                extra = () if origin in self.gateways else (origin,)
                return self._cached(f"ipfs://{cid}/{path}".rstrip("/"),
                                    lambda key: self._fetch_ipfs(key, cid, path, extra))
            return self._cached(uri, self._fetch_https)
        raise InputError(f"The studio does not open {scheme or 'scheme-less'}: links ({uri[:80]!r}).",
                         hint="Only ipfs://, https:// and data: URIs are fetched.")

    # ------------------------------------------------------------------ sources
    def _cached(self, key: str, fetch) -> Fetched:
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None and len(hit.data) <= self.max_bytes:
                return hit
        item: Fetched = fetch(key)
        if self.cache is not None:
            self.cache.put(item)
        return item

    def _decode_data(self, uri: str) -> Fetched:
        head, sep, payload = uri[5:].partition(",")
        if not sep:
            raise InputError("A data: URI needs a comma before its content.")
        params = head.split(";")
        media = params[0] or "text/plain;charset=US-ASCII"
        if len(payload) > self.max_bytes * 4 // 3 + 4:
            raise InputError(f"The data: URI holds more than the limit of {self.max_bytes:,} bytes.")
        try:
            data = (base64.b64decode(urllib.parse.unquote(payload), validate=True) if "base64" in params[1:]
                    else urllib.parse.unquote_to_bytes(payload))
        except ValueError as exc:
            raise InputError("The data: URI's base64 content is damaged.") from exc
        if len(data) > self.max_bytes:
            raise InputError(f"The data: URI holds {len(data):,} bytes, over the limit of {self.max_bytes:,}.")
        return Fetched(uri, data, media, "data", verified=False)

    def _fetch_https(self, uri: str) -> Fetched:
        url = uri
        for _ in range(5):
            self.guard.check_url(url)  # each hop: a redirect to 127.0.0.1 is refused like a link to it
            response = http.call(self.session, "GET", url, what=f"{urllib.parse.urlsplit(url).netloc}",
                                 attempts=self.attempts, timeout=self.timeout, stream=True, allow_redirects=False)
            if response.is_redirect:
                response.close()
                try:
                    target = urllib.parse.urljoin(url, response.headers.get("Location", ""))
                    scheme = urllib.parse.urlsplit(target).scheme
                except ValueError as exc:
                    raise InputError(f"{uri[:80]} redirects to a malformed address; not followed.") from exc
                if scheme != "https":
                    raise InputError(f"{uri[:80]} redirects to a non-https address; not followed.")
                url = target
                continue
            if response.status_code == 404:
                response.close()
                raise NotFound(f"{uri[:120]} does not exist (HTTP 404).")
            if response.status_code != 200:
                response.close()
                raise NetworkError(f"{urllib.parse.urlsplit(url).netloc} answered HTTP {response.status_code} "
                                   f"for {uri[:120]}.", hint="Try again later.")
            data = http.read_capped(response, self.max_bytes, what=urllib.parse.urlsplit(url).netloc)
            kind = response.headers.get("Content-Type") or sniff_content_type(url, data[:512])
            return Fetched(uri, data, kind, uri, verified=False)
        raise NetworkError(f"{uri[:120]} redirects too many times.")

    def _fetch_ipfs(self, key: str, cid: Cid, path: str, extra_gateways: Sequence[str] = ()) -> Fetched:
        if self.store is not None and self.store.has(cid):
            data = self.store.cat(cid, path, max_bytes=self.max_bytes)
            name = path.rsplit("/", 1)[-1]
            return Fetched(key, data, sniff_content_type(name, data[:512]), "local", verified=True)
        blocks = _BlockSource(self, tuple(extra_gateways))
        target = _resolve(blocks, cid, path)
        data = _read_file(blocks, target, self.max_bytes, f"{key}")
        name = path.rsplit("/", 1)[-1]
        return Fetched(key, data, sniff_content_type(name, data[:512]), blocks.last_source, verified=True)

    def get_block(self, cid: Cid, extra_gateways: Sequence[str] = ()) -> bytes:
        """One block by CID, from the local store or a gateway, verified."""
        return _BlockSource(self, tuple(extra_gateways)).get(cid)


class _BlockSource:
    """Blocks for one fetch: local store, then each trusted gateway in order."""

    def __init__(self, fetcher: VerifiedFetcher, extra: tuple[str, ...]) -> None:
        self.fetcher = fetcher
        self.gateways = [*fetcher.gateways, *(_check_gateway(g) for g in extra)]
        self.last_source = "local"

    def get(self, cid: Cid) -> bytes:
        fetcher = self.fetcher
        if fetcher.store is not None and fetcher.store.has_block(cid):
            try:
                return fetcher.store.get_block(cid)
            except StorageError as exc:  # a damaged local block: a gateway may still have it
                log.warning("%s", exc)
        problems: list[str] = []
        for gateway in self.gateways:
            if gateway in fetcher.distrusted:
                continue
            try:
                fetcher.guard.check_url(gateway)  # a gateway named by a link (the configured ones are own)
                response = http.call(fetcher.session, "GET", f"{gateway}/ipfs/{cid}?format=raw",
                                     what=f"the gateway {gateway}", attempts=fetcher.attempts,
                                     timeout=fetcher.timeout, stream=True,
                                     headers={"Accept": "application/vnd.ipld.raw"})
                if response.status_code != 200:
                    response.close()
                    problems.append(f"{gateway} answered HTTP {response.status_code}")
                    continue
                block = http.read_capped(response, MAX_BLOCK, what=f"the gateway {gateway}")
            except http.ResponseTooLarge as exc:
                fetcher.distrusted.add(gateway)
                problems.append(exc.message)
                continue
            except netguard.PrivateAddress as exc:
                fetcher.distrusted.add(gateway)
                problems.append(exc.message)
                continue
            except NetworkError as exc:
                if isinstance(exc, netguard.DeadlinePassed):
                    raise
                problems.append(exc.message)
                continue
            if not cid.verify(block):
                log.warning("gateway %s sent bytes that do not match %s; skipping it from now on", gateway, cid)
                fetcher.distrusted.add(gateway)
                problems.append(f"{gateway} sent bytes that do not match the CID (skipped from now on)")
                continue
            self.last_source = gateway
            return block
        if not self.gateways:
            raise NotFound(f"{cid} is not in the local store and no gateway is configured.",
                           hint="Add a gateway in Settings, or add the content locally.")
        raise NetworkError(f"No gateway gave a verified copy of {cid}: " + ("; ".join(problems) or
                           "every gateway was skipped for sending wrong bytes earlier") + ".",
                           hint="Check the network, or add another gateway in Settings.")


def _resolve(blocks: _BlockSource, cid: Cid, path: str) -> Cid:
    for part in [p for p in path.split("/") if p]:
        if cid.codec == RAW:
            raise NotFound(f"{cid} is a file; it has no entry {part!r}.")
        node = decode_node(blocks.get(cid))
        if node.kind != T_DIRECTORY:
            raise NotFound(f"{cid} is not a plain folder; cannot follow {part!r}.",
                           hint="Sharded (HAMT) folders are not supported.")
        link = next((l for l in node.links if l.name == part), None)
        if link is None:
            raise NotFound(f"The folder {cid} has no entry {part!r}.")
        cid = link.cid
    return cid


def _read_file(blocks: _BlockSource, cid: Cid, limit: int, label: str) -> bytes:
    out = bytearray()
    stack = [cid]
    while stack:
        current = stack.pop()
        block = blocks.get(current)
        if current.codec == RAW:
            out += block
        else:
            node = decode_node(block)
            if node.kind not in (T_FILE, T_RAW):
                raise InputError(f"{label} is a folder or link, not a file.")
            if current == cid and node.filesize is not None and node.filesize > limit:
                raise InputError(f"{label} is {node.filesize:,} bytes, over the limit of {limit:,}.")
            out += node.data
            stack.extend(link.cid for link in reversed(node.links))
        if len(out) > limit:
            raise InputError(f"{label} is larger than the limit of {limit:,} bytes.")
    return bytes(out)


def parse_ipfs_uri(uri: str) -> tuple[Cid, str]:
    """``ipfs://<cid>[/path]`` as (CID, path); a clear InputError otherwise."""
    rest = uri.strip()[len("ipfs://"):]
    if rest.startswith("ipfs/"):
        rest = rest[len("ipfs/"):]
    text, _, path = rest.partition("/")
    path = urllib.parse.unquote(path.split("?", 1)[0].split("#", 1)[0]).strip("/")
    if any(part in (".", "..") for part in path.split("/")):
        raise InputError(f"{uri[:80]!r} has '.' or '..' in its path.")
    return Cid.parse(text), path


def _ipfs_in_gateway_url(url: str) -> tuple[Cid, str, str] | None:
    parts = urllib.parse.urlsplit(url)
    segments = parts.path.split("/")
    if len(segments) < 3 or segments[1] != "ipfs":
        return None
    try:
        cid, path = parse_ipfs_uri("ipfs://" + "/".join(segments[2:]))
    except InputError:
        return None
    return cid, path, f"{parts.scheme}://{parts.netloc}"


def parse_gateway_list(text: str) -> tuple[str, ...]:
    """The ordered gateways of the "Gateways" setting (comma-separated base addresses), each
    checked; duplicates dropped. An empty text means no gateway: only the local store is read."""
    gateways: list[str] = []
    for item in text.split(","):
        if not item.strip():
            continue
        try:
            gateway = _check_gateway(item)
        except InputError as exc:
            raise InputError(f"The gateway list has a bad entry: {exc.message}",
                             hint="Fix “Gateways” in Settings → Storage: https:// base addresses separated "
                                  "by commas, e.g. https://ipfs.io, https://dweb.link.") from exc
        if gateway not in gateways:
            gateways.append(gateway)
    return tuple(gateways)


def _check_gateway(url: str) -> str:
    url = url.strip()
    parts = urllib.parse.urlsplit(url)
    if not parts.hostname:
        raise InputError(f"The gateway {url!r} is not a web address; give one like https://ipfs.io.")
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise InputError(f"The gateway {url!r} must be an https:// address (http:// only on this computer).")
    if parts.path.strip("/") or parts.query:
        raise InputError(f"Give the gateway {url!r} as its base address only, e.g. https://ipfs.io.")
    return f"{parts.scheme}://{parts.netloc}"


def _shown(uri: str) -> str:
    text = "".join(ch if ch.isprintable() else "?" for ch in uri)
    return text if len(text) <= 80 else text[:79] + "…"
