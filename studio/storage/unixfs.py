"""Files and folders as UnixFS DAGs, laid out exactly as Kubo's ``ipfs add`` lays them out.

Files: fixed 256 KiB chunks, a balanced DAG of at most 174 links per node; CIDv0 wraps each
chunk in a dag-pb UnixFS node, CIDv1 keeps chunks as raw blocks (``--cid-version=1`` implies
``--raw-leaves``) and prints base32. Folders: one dag-pb UnixFS directory node per folder, links
sorted by name, hidden entries skipped and symlinks stored as UnixFS symlinks (never followed),
as ``ipfs add -r`` does by default.

Limit: Kubo shards a folder into a HAMT once the sum of its link names and CID bytes reaches
256 KiB (several thousand entries); such folders are refused here with a clear error.

Files stream in constant memory: a few 8 MiB buffers whatever the file size. Leaves are hashed
by a small thread pool (hashlib releases the GIL on large buffers), so several cores share the
sha2-256 work, which is nearly all of the work.
"""
from __future__ import annotations

import errno
import hashlib
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Mapping, Protocol

from studio.cancel import Cancellable, ProgressCallback
from studio.errors import InputError, StorageError
from studio.storage.cid import DAG_PB, RAW, Cid, read_varint, varint

CHUNK_SIZE = 256 * 1024
MAX_LINKS = 174
HAMT_THRESHOLD = 256 * 1024

# UnixFS Data.Type values
T_RAW, T_DIRECTORY, T_FILE, T_METADATA, T_SYMLINK, T_HAMT = 0, 1, 2, 3, 4, 5

#: Receives every block made, in an order where children come before parents.
BlockSink = Callable[[Cid, bytes], None]

_BATCH_CHUNKS = 32  # 8 MiB per read batch


@dataclass(frozen=True)
class Link:
    """A dag-pb link: the child's CID, its name in a folder ("" in a file), its cumulative size."""

    cid: Cid
    name: str
    tsize: int


@dataclass(frozen=True)
class Node:
    """A decoded dag-pb node with its UnixFS data."""

    links: tuple[Link, ...]
    kind: int
    data: bytes
    filesize: int | None
    blocksizes: tuple[int, ...]


@dataclass(frozen=True)
class Added:
    """What was made of a file or folder: its root CID and cumulative DAG size."""

    cid: Cid
    tsize: int
    size: int  # bytes of file content (0 for a folder's own node)


# ---------------------------------------------------------------- protobuf (dag-pb + UnixFS)

def _field(number: int, payload: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def _uint(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def unixfs_data(kind: int, data: bytes | None = None, filesize: int | None = None,
                blocksizes: tuple[int, ...] | list[int] = ()) -> bytes:
    """UnixFS ``Data`` message, fields written as go-unixfs writes them."""
    out = bytearray(_uint(1, kind))
    if data:
        out += _field(2, data)
    if filesize is not None:
        out += _uint(3, filesize)
    for size in blocksizes:
        out += _uint(4, size)
    return bytes(out)


def encode_node(links: list[Link] | tuple[Link, ...], data: bytes) -> bytes:
    """dag-pb block: links first (``Name`` always present, as Kubo writes it), then data."""
    out = bytearray()
    for link in links:
        body = _field(1, link.cid.to_bytes()) + _field(2, link.name.encode("utf-8")) + _uint(3, link.tsize)
        out += _field(2, body)
    out += _field(1, data)
    return bytes(out)


def _read_fields(data: bytes | memoryview) -> Iterator[tuple[int, int, object]]:
    offset = 0
    while offset < len(data):
        key, offset = read_varint(data, offset)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, offset = read_varint(data, offset)
            yield number, wire, value
        elif wire == 2:
            length, offset = read_varint(data, offset)
            if offset + length > len(data):
                raise InputError("A dag-pb block is cut short.", hint="The block is damaged.")
            yield number, wire, bytes(data[offset:offset + length])
            offset += length
        else:
            raise InputError(f"Unexpected protobuf wire type {wire} in a dag-pb block.")


def _field_bytes(value: object) -> bytes:
    if not isinstance(value, bytes):
        raise InputError("A dag-pb block has a number where bytes belong.", hint="The block is damaged.")
    return value


def _field_int(value: object) -> int:
    if not isinstance(value, int):
        raise InputError("A dag-pb block has bytes where a number belongs.", hint="The block is damaged.")
    return value


def decode_node(block: bytes) -> Node:
    """Read a dag-pb UnixFS node (links, type, inline data, sizes)."""
    links: list[Link] = []
    payload = b""
    for number, _, value in _read_fields(block):
        if number == 2:
            cid_bytes, name, tsize = b"", "", 0
            for inner, _, item in _read_fields(_field_bytes(value)):
                if inner == 1:
                    cid_bytes = _field_bytes(item)
                elif inner == 2:
                    name = _field_bytes(item).decode("utf-8", "replace")
                elif inner == 3:
                    tsize = _field_int(item)
            links.append(Link(Cid.from_bytes(cid_bytes), name, tsize))
        elif number == 1:
            payload = _field_bytes(value)
    kind, data, filesize, blocksizes = T_RAW, b"", None, []
    for number, _, value in _read_fields(payload):
        if number == 1:
            kind = _field_int(value)
        elif number == 2:
            data = _field_bytes(value)
        elif number == 3:
            filesize = _field_int(value)
        elif number == 4:
            blocksizes.append(_field_int(value))
    return Node(tuple(links), kind, data, filesize, tuple(blocksizes))


# ---------------------------------------------------------------- files

class ReadableStream(Protocol):
    """A binary stream that fills a buffer (a file opened ``rb``, ``io.BytesIO``)."""

    def readinto(self, buffer: bytearray | memoryview, /) -> int | None: ...


class _Leaves:
    """An iterator of file leaves (cid, tsize, filesize) with the one-item look-ahead Kubo's
    ``Done()`` needs; chunks are read in batches and hashed on a thread pool."""

    def __init__(self, stream: ReadableStream, version: int, sink: BlockSink | None,
                 pool: ThreadPoolExecutor | None, progress: Callable[[int], None] | None,
                 cancel: Cancellable | None) -> None:
        self._stream, self._version, self._sink = stream, version, sink
        self._pool, self._progress, self._cancel = pool, progress, cancel
        self._buffers = [bytearray(CHUNK_SIZE * _BATCH_CHUNKS) for _ in range(2 if pool else 1)]
        self._which = 0
        self._ready: list[tuple[Cid, int, int]] = []
        self._pending = None
        self._eof = False
        self._read_bytes = 0
        self._fill()

    def _read_batch(self) -> tuple[memoryview, int]:
        buffer = memoryview(self._buffers[self._which])
        self._which = (self._which + 1) % len(self._buffers)
        filled = 0
        while filled < len(buffer):
            count = self._stream.readinto(buffer[filled:])
            if not count:
                self._eof = True
                break
            filled += count
        return buffer, filled

    def _submit(self):
        if self._eof:
            return None
        if self._cancel is not None and self._cancel.cancelled:
            from studio.errors import Cancelled

            raise Cancelled()
        buffer, filled = self._read_batch()
        if not filled:
            return None
        chunks = [buffer[start:min(start + CHUNK_SIZE, filled)] for start in range(0, filled, CHUNK_SIZE)]
        self._read_bytes += filled
        if self._pool is None or self._sink is not None or len(chunks) < 2:
            return [self._leaf(chunk) for chunk in chunks]
        workers = self._pool._max_workers  # noqa: SLF001 - the pool is ours
        step = -(-len(chunks) // workers)
        return [self._pool.submit(self._leaves_of, chunks[i:i + step]) for i in range(0, len(chunks), step)]

    def _leaves_of(self, chunks: list[memoryview]) -> list[tuple[Cid, int, int]]:
        return [self._leaf(chunk) for chunk in chunks]

    def _leaf(self, chunk: memoryview) -> tuple[Cid, int, int]:
        size = len(chunk)
        if self._version == 1:
            cid = Cid.from_digest(hashlib.sha256(chunk).digest(), codec=RAW)
            if self._sink is not None:
                self._sink(cid, bytes(chunk))
            return cid, size, size
        # CIDv0 leaf: dag-pb { Data: UnixFS { Type: File, Data: chunk, filesize } }
        unixfs_head = _uint(1, T_FILE) + varint(2 << 3 | 2) + varint(size)
        unixfs_tail = _uint(3, size)
        head = varint(1 << 3 | 2) + varint(len(unixfs_head) + size + len(unixfs_tail)) + unixfs_head
        digest = hashlib.sha256(head)
        digest.update(chunk)
        digest.update(unixfs_tail)
        cid = Cid.from_digest(digest.digest(), codec=DAG_PB, version=0)
        block_size = len(head) + size + len(unixfs_tail)
        if self._sink is not None:
            self._sink(cid, head + bytes(chunk) + unixfs_tail)
        return cid, block_size, size

    def _fill(self) -> None:
        """Make sure a leaf is ready if the file has one more, keeping the next batch in flight."""
        while not self._ready:
            current = self._pending if self._pending is not None else self._submit()
            if current is None:
                self._pending = None
                return
            # read (and start hashing) the next batch while this one finishes
            self._pending = self._submit() if self._pool is not None and self._sink is None else None
            leaves: list[tuple[Cid, int, int]] = []
            for item in current:
                if isinstance(item, tuple):
                    leaves.append(item)
                else:
                    leaves.extend(item.result())
            self._ready = leaves[::-1]
            if self._progress is not None:
                self._progress(sum(leaf[2] for leaf in leaves))

    def done(self) -> bool:
        return not self._ready

    def next(self) -> tuple[Cid, int, int]:
        leaf = self._ready.pop()
        if not self._ready:
            self._fill()
        return leaf


class _FileNode:
    """An internal file node being filled with children (go-unixfs ``FSNodeOverDag``)."""

    def __init__(self) -> None:
        self.links: list[Link] = []
        self.blocksizes: list[int] = []

    def add(self, child: tuple[Cid, int, int]) -> None:
        cid, tsize, filesize = child
        self.links.append(Link(cid, "", tsize))
        self.blocksizes.append(filesize)

    def commit(self, version: int, sink: BlockSink | None) -> tuple[Cid, int, int]:
        filesize = sum(self.blocksizes)
        block = encode_node(self.links, unixfs_data(T_FILE, None, filesize, self.blocksizes))
        cid = Cid.of_block(block, codec=DAG_PB, version=version)
        if sink is not None:
            sink(cid, block)
        return cid, len(block) + sum(link.tsize for link in self.links), filesize


def _fill(leaves: _Leaves, node: _FileNode | None, depth: int, version: int,
          sink: BlockSink | None) -> tuple[Cid, int, int]:
    node = node or _FileNode()
    while len(node.links) < MAX_LINKS and not leaves.done():
        node.add(leaves.next() if depth == 1 else _fill(leaves, None, depth - 1, version, sink))
    return node.commit(version, sink)


def _default_workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


def add_stream(stream: ReadableStream, *, cid_version: int = 0, sink: BlockSink | None = None,
               workers: int | None = None, progress: Callable[[int], None] | None = None,
               cancel: Cancellable | None = None) -> Added:
    """UnixFS file DAG of everything ``stream`` yields, in Kubo's balanced layout.

    ``sink`` receives each block (to store or export them); without one only hashes are kept.
    ``progress`` gets the number of content bytes done since its last call.
    """
    if cid_version not in (0, 1):
        raise InputError(f"CID version {cid_version} is not supported; use 0 or 1.")
    workers = _default_workers() if workers is None else workers
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cid-hash") if workers > 1 else None
    try:
        leaves = _Leaves(stream, cid_version, sink, pool, progress, cancel)
        if leaves.done():  # empty file: one empty leaf
            if cid_version == 1:
                cid = Cid.of_block(b"", codec=RAW)
                block = b""
            else:
                block = encode_node([], unixfs_data(T_FILE, None, 0))
                cid = Cid.of_block(block, version=0)
            if sink is not None:
                sink(cid, block)
            return Added(cid, len(block), 0)
        root = leaves.next()
        depth = 1
        while not leaves.done():
            node = _FileNode()
            node.add(root)
            root = _fill(leaves, node, depth, cid_version, sink)
            depth += 1
        return Added(*root)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def add_bytes(data: bytes, *, cid_version: int = 0, sink: BlockSink | None = None) -> Added:
    """UnixFS file DAG of bytes in memory (metadata JSON, small media)."""
    import io

    return add_stream(io.BytesIO(data), cid_version=cid_version, sink=sink, workers=1)


def add_directory(files: Mapping[str, bytes], *, cid_version: int = 1,
                  sink: BlockSink | None = None) -> Added:
    """A folder held in memory, named and laid out as ``ipfs add -r`` lays out the same folder on
    disk: each entry a file DAG (raw leaves for CIDv1), the folder one dag-pb UnixFS directory node
    with links sorted by name bytes. A batch of token metadata files named ``0``..``n-1`` is such
    a folder; its root is what a batch mint commits to.
    """
    links: list[Link] = []
    estimate = 0
    for name, content in files.items():
        if not name or "/" in name or name in (".", ".."):
            raise InputError(f"{name!r} cannot name an entry of an IPFS folder.",
                             hint="Use a plain file name without slashes.")
        added = add_bytes(content, cid_version=cid_version, sink=sink)
        links.append(Link(added.cid, name, added.tsize))
        estimate += len(name.encode("utf-8")) + len(added.cid.to_bytes())
        if estimate >= HAMT_THRESHOLD:
            raise InputError(f"A folder of {len(files):,} entries is too large for one plain IPFS folder node.",
                             hint="Split it into several folders of a few thousand entries.")
    return _directory_of(links, cid_version, sink)


def _directory_of(links: list[Link], cid_version: int, sink: BlockSink | None) -> Added:
    """The folder node over ``links`` (sorted here by name bytes, as dag-pb requires)."""
    links = sorted(links, key=lambda link: link.name.encode("utf-8"))
    block = encode_node(links, unixfs_data(T_DIRECTORY))
    cid = Cid.of_block(block, codec=DAG_PB, version=cid_version)
    if sink is not None:
        sink(cid, block)
    return Added(cid, len(block) + sum(link.tsize for link in links), 0)


# ---------------------------------------------------------------- files and folders on disk

def _open_error(path: Path, exc: OSError) -> InputError:
    if exc.errno == errno.ELOOP:
        return InputError(f"{path} is a symbolic link that loops back on itself.",
                          hint="Remove or fix the link, then try again.")
    if isinstance(exc, PermissionError):
        return InputError(f"{path} cannot be read: permission denied.",
                          hint="Check the file's permissions.")
    if isinstance(exc, FileNotFoundError):
        return InputError(f"{path} does not exist.", hint="Check the path.")
    return InputError(f"{path} cannot be read: {exc.strerror or exc}.")


def add_path(path: Path | str, *, cid_version: int = 0, sink: BlockSink | None = None,
             include_hidden: bool = False, workers: int | None = None,
             progress: ProgressCallback | None = None, cancel: Cancellable | None = None) -> Added:
    """The DAG ``ipfs add [-r] --only-hash [--cid-version=1] PATH`` computes, as :class:`Added`.

    A file gives its file DAG; a folder gives the folder node, entries sorted by name, hidden
    entries skipped unless ``include_hidden`` (Kubo's ``--hidden``), symlinks inside it stored
    as UnixFS symlinks. A symlink given as ``path`` itself is followed, like Kubo does with
    its arguments; a link that loops raises :class:`InputError`.
    """
    path = Path(path)
    try:
        info = path.stat()
    except OSError as exc:
        raise _open_error(path, exc) from exc
    total = _total_size(path, include_hidden) if progress is not None and stat.S_ISDIR(info.st_mode) else info.st_size
    done = [0]

    def bytes_done(count: int) -> None:
        done[0] += count
        if progress is not None:
            progress(min(1.0, done[0] / total) if total else 1.0, f"hashing {path.name}")

    if stat.S_ISDIR(info.st_mode):
        return _add_folder(path, cid_version, sink, include_hidden, workers, bytes_done, cancel)
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{path} is neither a file nor a folder.", hint="Add a regular file or a folder.")
    return _add_file(path, cid_version, sink, workers, bytes_done, cancel)


def _add_file(path: Path, cid_version: int, sink: BlockSink | None, workers: int | None,
              progress: Callable[[int], None], cancel: Cancellable | None) -> Added:
    try:
        stream = open(path, "rb", buffering=0)
    except OSError as exc:
        raise _open_error(path, exc) from exc
    try:
        with stream:
            return add_stream(stream, cid_version=cid_version, sink=sink, workers=workers,
                              progress=progress, cancel=cancel)
    except OSError as exc:
        raise StorageError(f"Reading {path} failed: {exc.strerror or exc}.",
                           hint="Check the disk and try again.") from exc


def _add_folder(folder: Path, cid_version: int, sink: BlockSink | None, include_hidden: bool,
                workers: int | None, progress: Callable[[int], None], cancel: Cancellable | None) -> Added:
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: os.fsencode(entry.name))
    except OSError as exc:
        raise _open_error(folder, exc) from exc
    links: list[Link] = []
    estimate = 0
    for entry in entries:
        if not include_hidden and entry.name.startswith("."):
            continue
        child = Path(entry.path)
        try:
            mode = entry.stat(follow_symlinks=False).st_mode
        except OSError as exc:
            raise _open_error(child, exc) from exc
        if stat.S_ISLNK(mode):
            added = _add_symlink(child, cid_version, sink)
        elif stat.S_ISDIR(mode):
            added = _add_folder(child, cid_version, sink, include_hidden, workers, progress, cancel)
        elif stat.S_ISREG(mode):
            added = _add_file(child, cid_version, sink, workers, progress, cancel)
        else:
            raise InputError(f"{child} is a special file (device, socket or pipe) that IPFS cannot hold.",
                             hint="Move it out of the folder and try again.")
        name = _entry_name(child, entry.name)
        links.append(Link(added.cid, name, added.tsize))
        estimate += len(name.encode("utf-8")) + len(added.cid.to_bytes())
        if estimate >= HAMT_THRESHOLD:
            raise InputError(f"{folder} has too many entries for one plain IPFS folder node.",
                             hint="Kubo would shard it (HAMT), which the studio does not build; "
                                  "split it into sub-folders of a few thousand entries.")
    return _directory_of(links, cid_version, sink)


def _entry_name(path: Path, name: str) -> str:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InputError(f"The name of {path!s} is not valid UTF-8.",
                         hint="Rename it; IPFS folder entries are UTF-8 names.") from exc
    return name


def _add_symlink(path: Path, cid_version: int, sink: BlockSink | None) -> Added:
    try:
        target = os.readlink(path)
    except OSError as exc:
        raise _open_error(path, exc) from exc
    block = encode_node([], unixfs_data(T_SYMLINK, target.encode("utf-8", "surrogateescape")))
    cid = Cid.of_block(block, codec=DAG_PB, version=cid_version)
    if sink is not None:
        sink(cid, block)
    return Added(cid, len(block), 0)


def _total_size(folder: Path, include_hidden: bool) -> int:
    total = 0
    for root, dirs, files in os.walk(folder):
        if not include_hidden:
            dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if include_hidden or not name.startswith("."):
                try:
                    total += os.lstat(os.path.join(root, name)).st_size
                except OSError:
                    pass
    return total


def cid_of_path(path: Path | str, *, cid_version: int = 0, include_hidden: bool = False) -> Cid:
    """What ``ipfs add [-r] --only-hash [--cid-version=1] PATH`` prints for ``PATH``."""
    return add_path(path, cid_version=cid_version, include_hidden=include_hidden).cid
