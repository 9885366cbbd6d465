"""What a mint commits to, computed by storage (the one CID implementation) through the publish
workflow: a metadata file's raw CIDv1, a batch's UnixFS directory as ``ipfs add -r`` makes it."""
from __future__ import annotations

from pathlib import Path

import pytest
from storage_data import seeded_bytes

from studio.errors import InputError
from studio.storage.cid import DAG_PB, RAW, Cid
from studio.storage.metadata import NftMetadata
from studio.storage.store import LocalStore
from studio.storage.unixfs import add_bytes, add_directory, add_path, decode_node
from studio.workflows.publish import commitment_of, directory_commitment, file_commitment

EMPTY_DIRECTORY_V0 = "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn"  # what every IPFS implementation knows


def _metadata_files(count: int) -> list[bytes]:
    return [NftMetadata(name=f"Work {i}", image=f"ipfs://{add_bytes(seeded_bytes(str(i), 50), cid_version=1).cid}")
            .to_bytes() for i in range(count)]


@pytest.mark.parametrize("count", [1, 3, 12])  # 12: names "10" and "11" sort before "2" by bytes
def test_batch_commitment_is_what_ipfs_add_r_gives_for_the_folder(tmp_path: Path, count: int) -> None:
    files = _metadata_files(count)
    folder = tmp_path / "batch"
    folder.mkdir()
    for index, content in enumerate(files):
        (folder / str(index)).write_bytes(content)
    on_disk: dict[Cid, bytes] = {}
    root = add_path(folder, cid_version=1, sink=on_disk.__setitem__).cid
    in_memory: dict[Cid, bytes] = {}
    commitment = directory_commitment(files, sink=in_memory.__setitem__)
    assert commitment.cid == str(root) and commitment.cid.startswith("bafybei")
    assert (commitment.digest, commitment.directory, commitment.count) == (root.digest, True, count)
    assert in_memory == on_disk  # the same blocks, ready to store or export
    assert [commitment.token_uri(i) for i in (0, count - 1)] == [f"ipfs://{root}/0", f"ipfs://{root}/{count - 1}"]


def test_batch_directory_links_are_sorted_by_name_bytes_and_carry_sizes() -> None:
    blocks: dict[Cid, bytes] = {}
    commitment = directory_commitment([b"a" * 5 for _ in range(11)], sink=blocks.__setitem__)
    node = decode_node(blocks[Cid.parse(commitment.cid)])
    assert [link.name for link in node.links] == ["0", "1", "10", "2", "3", "4", "5", "6", "7", "8", "9"]
    assert {link.tsize for link in node.links} == {5}
    assert all(link.cid.codec == RAW for link in node.links)


def test_an_empty_in_memory_folder_has_the_well_known_cid() -> None:
    assert str(add_directory({}, cid_version=0).cid) == EMPTY_DIRECTORY_V0


def test_single_file_commitment_is_the_raw_cidv1_of_the_file() -> None:
    assert file_commitment(b"hello world").cid == "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
    content = NftMetadata(name="Solo", image=f"ipfs://{EMPTY_DIRECTORY_V0}").to_bytes()
    single = file_commitment(content)
    assert single.cid == str(add_bytes(content, cid_version=1).cid)
    assert single.token_uri() == f"ipfs://{single.cid}" and not single.directory
    chunk = seeded_bytes("chunk", 256 * 1024)  # a full 256 KiB chunk is still one raw block
    assert file_commitment(chunk).cid == str(add_bytes(chunk, cid_version=1).cid)


def test_changing_one_byte_of_one_file_changes_the_batch_commitment() -> None:
    files = [f'{{"name": "work {i}"}}'.encode() for i in range(20)]
    changed = list(files)
    changed[7] = changed[7].replace(b"7", b"8")
    assert directory_commitment(files).digest != directory_commitment(changed).digest
    assert file_commitment(files[7]).digest != file_commitment(changed[7]).digest


def test_commitment_of_stored_content_matches_the_computed_one(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "ipfs")
    content = b'{"name": "stored"}'
    stored = store.add_bytes(content, cid_version=1)
    assert commitment_of(stored) == file_commitment(content)
    assert commitment_of(str(stored)).cid == file_commitment(content).cid
    # a CIDv0 of a folder commits under its CIDv1 text (same digest)
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "0").write_bytes(content)
    v0 = add_path(folder, cid_version=0).cid
    assert commitment_of(v0, count=1).cid == str(v0.to_v1()) and commitment_of(v0, count=1).directory


def test_content_a_mint_cannot_commit_to_is_refused_with_a_reason() -> None:
    with pytest.raises(InputError, match="one IPFS block"):
        file_commitment(b"x" * (256 * 1024 + 1))
    with pytest.raises(InputError, match="1 to 1000"):
        directory_commitment([])
    with pytest.raises(InputError, match="1 to 1000"):
        directory_commitment([b"{}"] * 1001)
    big_file = add_bytes(seeded_bytes("big", 300_000), cid_version=1).cid  # two chunks: a dag-pb file DAG
    assert big_file.codec == DAG_PB
    with pytest.raises(InputError, match="batch directory"):
        commitment_of(big_file)
    with pytest.raises(InputError, match="one token"):
        commitment_of(file_commitment(b"{}").cid or "", count=2)
    with pytest.raises(InputError, match="entry"):
        add_directory({"a/b": b""})
