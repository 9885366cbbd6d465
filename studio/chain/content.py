"""The content commitments StudioCollection stores, computed off-chain exactly as the contract does.

A token commits to the sha2-256 digest of a CID:
- a single mint or a redeemed voucher commits one file (the token's metadata JSON), as a CIDv1
  with the raw codec: ``tokenURI = ipfs://<base32 CIDv1 raw>``;
- a batch mint commits one UnixFS directory (CIDv1, dag-pb codec) whose entries are named
  ``0``, ``1``, ... in mint order: ``tokenURI = ipfs://<base32 CIDv1 dag-pb>/<index>``.

Files are single raw blocks (what ``ipfs add --cid-version=1`` makes of a file up to one
256 KiB chunk; metadata JSON is far smaller), and the directory is the plain, unsharded UnixFS
node kubo writes for it, so any IPFS node serving the same bytes serves the same CIDs.
"""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Sequence

from studio.errors import InputError

RAW_CODEC = 0x55
DAG_PB_CODEC = 0x70
MAX_SINGLE_BLOCK = 256 * 1024
MAX_BATCH = 1000  # StudioCollection.MAX_BATCH


@dataclass(frozen=True)
class Commitment:
    """What a mint stores on-chain: a sha2-256 digest and whether it names a directory."""

    digest: bytes
    directory: bool
    count: int = 1

    def __post_init__(self) -> None:
        if len(self.digest) != 32 or self.digest == bytes(32):
            raise InputError("A content digest is 32 bytes and not all zero.")

    @property
    def cid(self) -> str:
        return cid_from_digest(self.digest, directory=self.directory)

    def token_uri(self, index: int = 0) -> str:
        """The URI the contract returns for the `index`-th token of this mint."""
        return token_uri(self.digest, directory=self.directory, index=index)


def cid_from_digest(digest: bytes, *, directory: bool) -> str:
    """Multibase base32 CIDv1 (prefix ``b``) of a sha2-256 digest, as `StudioCollection.cidOf`."""
    if len(digest) != 32:
        raise InputError(f"A sha2-256 digest is 32 bytes, not {len(digest)}.")
    codec = DAG_PB_CODEC if directory else RAW_CODEC
    binary = bytes([0x01, codec, 0x12, 0x20]) + digest
    return "b" + base64.b32encode(binary).decode("ascii").lower().rstrip("=")


def token_uri(digest: bytes, *, directory: bool, index: int = 0) -> str:
    """`tokenURI` of a token committed to `digest` (entry `index` when it is a directory)."""
    cid = cid_from_digest(digest, directory=directory)
    return f"ipfs://{cid}/{index}" if directory else f"ipfs://{cid}"


def file_commitment(content: bytes) -> Commitment:
    """Commitment of one token's metadata file (raw CIDv1)."""
    if len(content) > MAX_SINGLE_BLOCK:
        raise InputError(
            f"Token metadata is {len(content):,} bytes; the commitment scheme takes files up to "
            f"{MAX_SINGLE_BLOCK:,} bytes (one IPFS block). Keep images out of the metadata file."
        )
    return Commitment(hashlib.sha256(content).digest(), directory=False)


def directory_commitment(files: Sequence[bytes]) -> Commitment:
    """Commitment of a batch: the UnixFS directory holding `files` as entries ``0``..``n-1``."""
    if not 1 <= len(files) <= MAX_BATCH:
        raise InputError(f"A batch holds 1 to {MAX_BATCH} tokens, not {len(files)}.")
    return Commitment(hashlib.sha256(directory_node(files)).digest(), directory=True, count=len(files))


def directory_node(files: Sequence[bytes]) -> bytes:
    """The dag-pb block of a UnixFS directory of raw-leaf files named by their index."""
    links = []
    for index, content in enumerate(files):
        if len(content) > MAX_SINGLE_BLOCK:
            raise InputError(f"File {index} of the batch is over {MAX_SINGLE_BLOCK:,} bytes.")
        cid = bytes([0x01, RAW_CODEC, 0x12, 0x20]) + hashlib.sha256(content).digest()
        links.append((str(index).encode(), cid, len(content)))
    links.sort(key=lambda link: link[0])  # dag-pb orders links by name bytes
    node = bytearray()
    for name, cid, size in links:
        link = _field_bytes(1, cid) + _field_bytes(2, name) + _varint(3 << 3) + _varint(size)
        node += _field_bytes(2, link)
    node += _field_bytes(1, b"\x08\x01")  # UnixFS Data { Type: Directory }
    return bytes(node)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field_bytes(field: int, payload: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(payload)) + payload
