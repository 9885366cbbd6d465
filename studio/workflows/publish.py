"""Publishing works: what the chain commits to, computed by storage.

Storage names content (``studio.storage``: Kubo-exact CIDs); the chain stores a commitment to it
(``studio.chain.content.Commitment``). The two domains do not import each other: this workflow
joins them, passing the digest and the CID's text from one to the other.
"""
from __future__ import annotations

from typing import Sequence

from studio.chain.content import MAX_BATCH, Commitment
from studio.errors import InputError
from studio.storage.cid import DAG_PB, RAW, Cid
from studio.storage.unixfs import CHUNK_SIZE, BlockSink, add_bytes, add_directory


def commitment_of(cid: Cid | str, *, count: int | None = None) -> Commitment:
    """The commitment a mint makes to content already stored under ``cid``.

    A raw CID (one file of one block, as token metadata is) commits one token; a dag-pb CID must
    name a directory whose entries ``0``..``count-1`` are the tokens' metadata files.
    """
    cid = Cid.parse(cid) if isinstance(cid, str) else cid
    if cid.codec == RAW:
        if count not in (None, 1):
            raise InputError("A single file commits one token; a batch commits a directory.")
        return Commitment(cid.digest, directory=False, cid=str(cid.to_v1()))
    if count is None:
        raise InputError(f"{cid} is a folder or a file of several blocks; a mint commits such a CID only as a "
                         "batch directory.",
                         hint="Give the number of tokens (entries 0..n-1), or mint a metadata file of at most "
                              f"{CHUNK_SIZE // 1024} KiB stored with CID version 1.")
    return Commitment(cid.digest, directory=cid.codec == DAG_PB, count=count, cid=str(cid.to_v1()))


def file_commitment(content: bytes, *, sink: BlockSink | None = None) -> Commitment:
    """Commitment of one token's metadata file: its raw CIDv1 (``ipfs add --cid-version=1``).

    ``sink`` receives the block, to store it. A file over one 256 KiB chunk is refused: its CID
    would be a dag-pb file DAG, which the contract does not commit to.
    """
    if len(content) > CHUNK_SIZE:
        raise InputError(
            f"Token metadata is {len(content):,} bytes; a single mint commits a file of at most "
            f"{CHUNK_SIZE:,} bytes (one IPFS block). Keep images out of the metadata file.")
    return commitment_of(add_bytes(content, cid_version=1, sink=sink).cid)


def directory_commitment(files: Sequence[bytes], *, sink: BlockSink | None = None) -> Commitment:
    """Commitment of a batch: the UnixFS directory (CIDv1) holding ``files`` as entries
    ``0``..``n-1``, exactly what ``ipfs add -r --cid-version=1`` gives for that folder.

    ``sink`` receives every block (the files' and the directory's), to store or export them.
    """
    if not 1 <= len(files) <= MAX_BATCH:
        raise InputError(f"A batch holds 1 to {MAX_BATCH} tokens, not {len(files)}.")
    added = add_directory({str(index): content for index, content in enumerate(files)}, cid_version=1, sink=sink)
    return commitment_of(added.cid, count=len(files))
