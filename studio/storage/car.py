"""CARv1 archives: the exact blocks of a file or folder, for ``ipfs dag import`` or a pinning service.

A CAR is a header (dag-cbor ``{"roots": [cid], "version": 1}``) then each block as
``varint(len) + cid + bytes``. Writing streams: the header's size depends only on the CID
version, so it is reserved first and filled in once the root is known; the archive appears
under its name only when complete.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Iterator

from studio.cancel import Cancellable, ProgressCallback
from studio.errors import InputError, StorageError
from studio.storage.cid import Cid, read_varint, varint


def _cbor_head(major: int, value: int) -> bytes:
    if value < 24:
        return bytes([major << 5 | value])
    if value < 256:
        return bytes([major << 5 | 24, value])
    return bytes([major << 5 | 25]) + value.to_bytes(2, "big")


def car_header(root: Cid) -> bytes:
    """The length-prefixed CARv1 header naming ``root`` (dag-cbor, keys in canonical order)."""
    cid_bytes = b"\0" + root.to_bytes()  # tag 42 holds the binary CID behind a multibase 0x00
    body = (bytes([0xA2]) + _cbor_head(3, 5) + b"roots" + bytes([0x81, 0xD8, 0x2A])
            + _cbor_head(2, len(cid_bytes)) + cid_bytes + _cbor_head(3, 7) + b"version" + b"\x01")
    return varint(len(body)) + body


def block_entry(cid: Cid, block: bytes) -> bytes:
    cid_bytes = cid.to_bytes()
    return varint(len(cid_bytes) + len(block)) + cid_bytes + block


class CarWriter:
    """Writes blocks once each (identical chunks are stored once, as IPFS does)."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._seen: set[bytes] = set()
        self.blocks = 0

    def __call__(self, cid: Cid, block: bytes) -> None:
        key = cid.multihash
        if key in self._seen:
            return
        self._seen.add(key)
        self._stream.write(block_entry(cid, block))
        self.blocks += 1


def export_car(path: Path | str, out: Path | str, *, cid_version: int = 0, include_hidden: bool = False,
               progress: ProgressCallback | None = None, cancel: Cancellable | None = None) -> Cid:
    """Write the CARv1 of ``path`` (file or folder, laid out as ``ipfs add``) to ``out``; returns its root."""
    from studio.storage.unixfs import add_path

    out = Path(out)
    placeholder = car_header(Cid.of_block(b"", version=cid_version))  # same length as the real one
    return _write_atomically(out, placeholder, lambda writer: add_path(
        path, cid_version=cid_version, sink=writer, include_hidden=include_hidden,
        progress=progress, cancel=cancel).cid)


def write_car(out: Path | str, root: Cid, blocks: Iterator[tuple[Cid, bytes]]) -> Cid:
    """Write a CAR of ``blocks`` (already made, e.g. from the local store) under ``root``."""
    def fill(writer: CarWriter) -> Cid:
        for cid, block in blocks:
            writer(cid, block)
        return root

    return _write_atomically(Path(out), car_header(root), fill)


def _write_atomically(out: Path, placeholder: bytes, fill) -> Cid:
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(placeholder)
            root: Cid = fill(CarWriter(stream))
            header = car_header(root)
            if len(header) != len(placeholder):
                raise AssertionError("CAR header size changed")  # pragma: no cover - by construction
            stream.seek(0)
            stream.write(header)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, out)
        return root
    except OSError as exc:
        raise StorageError(f"Could not write the CAR file {out}: {exc.strerror or exc}.",
                           hint="Check the free space and that you may write to that folder.") from exc
    finally:
        Path(tmp).unlink(missing_ok=True)


def read_car(stream: BinaryIO) -> tuple[list[Cid], Iterator[tuple[Cid, bytes]]]:
    """Roots and blocks of a CARv1; each block is checked against its CID as it is read."""
    length, header = _read_prefixed(stream)
    if length is None:
        raise InputError("The CAR file is empty.")
    roots = _parse_header(header)

    def blocks() -> Iterator[tuple[Cid, bytes]]:
        while True:
            size, entry = _read_prefixed(stream)
            if size is None:
                return
            cid, offset = _split_cid(entry)
            block = entry[offset:]
            if not cid.verify(block):
                raise StorageError(f"A block in the CAR file does not match its CID {cid}.",
                                   hint="The archive is damaged or was tampered with.")
            yield cid, block

    return roots, blocks()


def _read_prefixed(stream: BinaryIO) -> tuple[int | None, bytes]:
    raw = bytearray()
    while True:
        byte = stream.read(1)
        if not byte:
            if raw:
                raise InputError("The CAR file is cut short.")
            return None, b""
        raw += byte
        if not byte[0] & 0x80:
            break
    length, _ = read_varint(bytes(raw))
    if length > 8 * 1024 * 1024:
        raise InputError("A CAR section is larger than any IPFS block.", hint="The file is not a CAR.")
    data = stream.read(length)
    if len(data) != length:
        raise InputError("The CAR file is cut short.")
    return length, data


def _split_cid(entry: bytes) -> tuple[Cid, int]:
    if entry[:2] == b"\x12\x20":
        return Cid.from_bytes(entry[:34]), 34
    _, offset = read_varint(entry)
    _, offset = read_varint(entry, offset)
    end = offset + 34
    return Cid.from_bytes(entry[:end]), end


def _parse_header(header: bytes) -> list[Cid]:
    marker = bytes([0xD8, 0x2A])
    roots: list[Cid] = []
    at = header.find(marker)
    while at != -1:
        head = header[at + 2]
        if head == 0x58:
            size, start = header[at + 3], at + 4
        elif head >> 5 == 2 and head & 0x1F < 24:
            size, start = head & 0x1F, at + 3
        else:
            raise InputError("The CAR header is not understood.")
        roots.append(Cid.from_bytes(header[start + 1:start + size]))
        at = header.find(marker, start + size)
    if b"version\x01" not in header or not roots:
        raise InputError("Not a CARv1 file (no version 1 header with roots).")
    return roots
