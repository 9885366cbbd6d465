"""Storage and the chain layer name the same content by the same CID.

studio.chain.content computes the contract's commitments without importing storage (domains do
not import each other); these tests hold the two implementations to one answer.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from storage_data import seeded_bytes

from studio.chain.content import directory_commitment, directory_node, file_commitment
from studio.storage.cid import DAG_PB, Cid
from studio.storage.metadata import NftMetadata
from studio.storage.unixfs import add_bytes, add_path


@pytest.mark.parametrize("count", [1, 3, 12])  # 12: names "10" and "11" sort before "2" by bytes
def test_batch_directory_cid_is_what_ipfs_add_r_gives_for_the_folder(tmp_path: Path, count: int) -> None:
    files = [NftMetadata(name=f"Work {i}", image=f"ipfs://{add_bytes(seeded_bytes(str(i), 50), cid_version=1).cid}")
             .to_bytes() for i in range(count)]
    folder = tmp_path / "batch"
    folder.mkdir()
    for index, content in enumerate(files):
        (folder / str(index)).write_bytes(content)
    blocks: dict[Cid, bytes] = {}
    root = add_path(folder, cid_version=1, sink=lambda cid, block: blocks.__setitem__(cid, block)).cid
    commitment = directory_commitment(files)
    assert str(root) == commitment.cid
    assert root == Cid.from_digest(commitment.digest, codec=DAG_PB)
    assert blocks[root] == directory_node(files)


def test_single_file_commitment_is_the_raw_cidv1_of_the_file() -> None:
    content = NftMetadata(name="Solo", image="ipfs://QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn").to_bytes()
    assert file_commitment(content).cid == str(add_bytes(content, cid_version=1).cid)
    # a full 256 KiB chunk is still one raw block; the chain layer's size limit is that chunk
    chunk = seeded_bytes("chunk", 256 * 1024)
    assert file_commitment(chunk).cid == str(add_bytes(chunk, cid_version=1).cid)
