"""Minting on the embedded devnet with the local store: one token, a batch, and every failure point."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from studio.cancel import CancelToken
from studio.errors import Cancelled, ChainError, InputError, NotFound, StorageError
from studio.workflows.collections import create_collection
from studio.workflows.mint import LICENSES, MintItem, estimate_mint, mint_works, parse_license

COLOURS = [(200, 40, 40), (40, 200, 40), (40, 40, 200), (200, 200, 40)]


@pytest.fixture
def collection(devnet, signers, library):
    return create_collection(connection=devnet.connection(), signer=signers[0], library=library, name="Dawns",
                             symbol="DAWN", royalty_receiver=signers[2].address, royalty_bps=500)


@pytest.fixture
def works(tmp_path) -> list[Path]:
    from PIL import Image

    paths = []
    for index, colour in enumerate(COLOURS):
        path = tmp_path / f"work-{index}.png"
        Image.new("RGB", (32, 24), colour).save(path)
        paths.append(path)
    return paths


@pytest.fixture
def mint(devnet, signers, library, store, collection):
    """mint(items, **overrides): mint_works with the test's chain, artist, store and library."""
    def run(items, **overrides):
        options = dict(signer=signers[0], connection=devnet.connection(), store=store, library=library)
        options.update(overrides)
        return mint_works(items, collection, **options)

    return run


def _contract(devnet, collection):
    from studio.chain.contracts import CollectionContract

    return CollectionContract(devnet.connection(), collection.address)


def _resolve(store, uri: str) -> dict:
    from studio.storage.cid import Cid

    assert uri.startswith("ipfs://")
    cid, _, path = uri[len("ipfs://"):].partition("/")
    return json.loads(store.cat(Cid.parse(cid), path))


def _media_cid(path: Path) -> str:
    from studio.storage.unixfs import cid_of_path

    return str(cid_of_path(path, cid_version=1))


def test_one_work_mints_one_token_whose_uri_resolves_to_metadata_naming_the_file(mint, devnet, collection, store,
                                                                                 library, works, signers):
    from studio.storage.cid import Cid

    steps = []
    item = MintItem(works[0], "Red dawn", "The first light", attributes=(("Mood", "calm"), ("Rank", 1)),
                    license="cc0")
    result = mint([item], progress=lambda f, line: steps.append((f, line)))
    (minted,) = result.minted
    token = minted.token
    assert (token.token_id, token.owner, token.tx_hash) == (1, signers[0].address, result.tx_hash)
    assert result.fee_wei > 0 and result.problems == () and steps[-1][0] == 1.0
    contract = _contract(devnet, collection)
    uri = contract.token_uri(1)
    assert uri == f"ipfs://{token.metadata_cid}"
    metadata = _resolve(store, uri)
    assert metadata["name"] == "Red dawn" and metadata["description"] == "The first light"
    assert metadata["image"] == f"ipfs://{_media_cid(works[0])}" == f"ipfs://{token.media_cid}"
    assert metadata["license"] == "CC0-1.0"
    assert {"trait_type": "License", "value": LICENSES["CC0-1.0"]} in metadata["attributes"]
    assert {"trait_type": "Rank", "value": 1} in metadata["attributes"]
    assert store.cat(Cid.parse(token.media_cid)) == works[0].read_bytes()
    work = minted.work
    assert (work.title, work.width, work.height, work.path) == ("Red dawn", 32, 24, str(works[0].resolve()))
    (attempt,) = library.attempts(work_id=work.id)
    assert (attempt.state, attempt.tx_hash, attempt.metadata_cid) == ("minted", result.tx_hash, token.metadata_cid)
    assert library.tokens(1337, collection.address, owner=signers[0].address) == [token]


def test_three_works_mint_as_one_batch_committed_to_a_folder_of_their_metadata(mint, devnet, collection, store,
                                                                               library, works):
    items = [MintItem(path, f"Work {i}") for i, path in enumerate(works[:3])]
    result = mint(items)
    assert [m.token.token_id for m in result.minted] == [1, 2, 3]
    assert len({m.token.tx_hash for m in result.minted}) == 1
    contract = _contract(devnet, collection)
    assert contract.total_supply() == 3
    directory = None
    for index, (path, minted) in enumerate(zip(works, result.minted)):
        uri = contract.token_uri(minted.token.token_id)
        cid, _, entry = uri[len("ipfs://"):].partition("/")
        assert entry == str(index)
        directory = directory or cid
        assert cid == directory
        metadata = _resolve(store, uri)
        assert metadata["name"] == f"Work {index}"
        assert metadata["image"] == f"ipfs://{_media_cid(path)}"
        assert minted.work.sha256 == library.work_by_sha256(minted.work.sha256).sha256
    assert [a.position for a in library.attempts(state="minted")] == [0, 1, 2]


def test_the_estimate_names_the_same_cids_without_uploading_and_prices_the_mint(mint, devnet, signers, library,
                                                                              store, collection, works):
    from studio.storage.cid import Cid

    items = [MintItem(path, f"Work {i}", royalty_bps=250 if i == 0 else None) for i, path in enumerate(works[:2])]
    estimate = estimate_mint(items, collection, signer=signers[0], connection=devnet.connection(), library=library,
                             store=store)
    assert estimate.batch and estimate.storage == "local" and estimate.royalty_transactions == 1
    assert estimate.preview.call.function == "mintBatch" and estimate.max_fee_wei > 0
    assert [t.token_uri for t in estimate.tokens] == [f"ipfs://{estimate.commitment_cid}/{i}" for i in range(2)]
    assert not any(store.has(Cid.parse(t.metadata_cid)) for t in estimate.tokens)
    result = mint(items)
    assert [(m.token.media_cid, m.token.metadata_cid) for m in result.minted] == \
        [(t.media_cid, t.metadata_cid) for t in estimate.tokens]
    contract = _contract(devnet, collection)
    assert contract.royalty_info(result.minted[0].token.token_id, 10_000).amount_wei == 250
    assert contract.royalty_info(result.minted[1].token.token_id, 10_000).amount_wei == 500


def test_minting_a_work_again_is_refused_with_its_token(mint, devnet, collection, works):
    mint([MintItem(works[0], "Once")])
    with pytest.raises(InputError, match="already minted in Dawns as token 1"):
        mint([MintItem(works[1], "New"), MintItem(works[0], "Once more")])
    assert _contract(devnet, collection).total_supply() == 1


def test_a_revert_leaves_the_attempt_failed_with_the_reason_and_the_work_mintable(mint, devnet, collection, library,
                                                                                 signers, works):
    with pytest.raises(ChainError, match="Only the contract's owner") as caught:
        mint([MintItem(works[0], "Stolen")], signer=signers[1])
    (attempt,) = library.attempts()
    assert attempt.state == "failed" and attempt.error == str(caught.value) and attempt.media_cid
    assert library.tokens(1337) == []
    result = mint([MintItem(works[0], "Stolen")])
    assert result.minted[0].token.token_id == 1
    assert [a.state for a in library.attempts()] == ["failed", "minted"]


def test_a_store_that_fails_records_nothing_and_a_retry_works(mint, devnet, collection, library, works, tmp_path):
    from studio.storage.store import LocalStore

    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the store's folder should be")
    with pytest.raises(StorageError):
        mint([MintItem(works[0], "Later")], store=LocalStore(blocked / "ipfs"))
    assert library.attempts() == [] and _contract(devnet, collection).total_supply() == 0
    result = mint([MintItem(works[0], "Later")])
    assert result.minted[0].token.token_id == 1


def test_declining_the_preview_keeps_the_uploads_and_the_next_run_reuses_them(mint, devnet, collection, library,
                                                                             works):
    previews = []

    def decline(preview):
        previews.append(preview)
        return False

    with pytest.raises(Cancelled, match="Nothing was signed"):
        mint([MintItem(works[0], "Maybe")], confirm=decline)
    assert previews[0].call.function == "mint"
    (uploaded,) = library.attempts()
    assert uploaded.state == "uploaded" and _contract(devnet, collection).total_supply() == 0
    result = mint([MintItem(works[0], "Maybe")], confirm=lambda preview: True)
    (minted,) = library.attempts()
    assert minted.id == uploaded.id and minted.state == "minted"
    assert (result.minted[0].token.media_cid, result.minted[0].token.metadata_cid) == \
        (uploaded.media_cid, uploaded.metadata_cid)


def test_cancelling_before_upload_records_nothing(mint, library, works):
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        mint([MintItem(works[0], "Never")], cancel=token)
    assert library.attempts() == []


def test_a_sent_mint_that_landed_is_recorded_not_repeated(mint, devnet, collection, library, works, monkeypatch):
    items = [MintItem(path, f"Work {i}") for i, path in enumerate(works[:2])]

    def crash(*args, **kwargs):
        raise StorageError("The studio stopped before recording the tokens.")

    with monkeypatch.context() as patch:
        patch.setattr(library, "record_tokens", crash)
        with pytest.raises(StorageError, match="stopped before recording"):
            mint(items)
    sent = library.attempts()
    assert [a.state for a in sent] == ["sent", "sent"] and library.tokens(1337) == []
    result = mint(items)
    assert result.tx_hash is None and all(m.recovered for m in result.minted)
    assert [m.token.token_id for m in result.minted] == [1, 2]
    assert {m.token.tx_hash for m in result.minted} == {sent[0].tx_hash}
    assert _contract(devnet, collection).total_supply() == 2
    assert [a.state for a in library.attempts()] == ["minted", "minted"]


def test_a_sent_mint_the_network_dropped_is_minted_again_with_the_same_cids(mint, devnet, collection, library,
                                                                            works):
    with pytest.raises(Cancelled):
        mint([MintItem(works[0], "Dropped")], confirm=lambda preview: False)
    (uploaded,) = library.attempts()
    library.record_attempt(replace(uploaded, state="sent", tx_hash="0x" + "ab" * 32))
    result = mint([MintItem(works[0], "Dropped")])
    (attempt,) = library.attempts()
    assert attempt.id == uploaded.id and attempt.state == "minted" and attempt.tx_hash == result.tx_hash
    assert result.minted[0].token.metadata_cid == uploaded.metadata_cid
    assert _contract(devnet, collection).total_supply() == 1


def test_an_unknown_collection_or_file_says_what_to_do(mint, devnet, signers, library, store, works, tmp_path):
    options = dict(signer=signers[0], connection=devnet.connection(), store=store, library=library)
    with pytest.raises(NotFound, match="collection import"):
        mint_works([MintItem(works[0], "X")], "0x" + "12" * 20, **options)
    with pytest.raises(NotFound, match="does not exist"):
        mint([MintItem(tmp_path / "missing.png", "X")])
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(InputError, match="not an image"):
        mint([MintItem(tmp_path / "notes.png", "X")])
    with pytest.raises(InputError, match="twice"):
        mint([MintItem(works[0], "X"), MintItem(works[0], "Y")])
    assert library.attempts() == [] and library.works() == []


def test_items_are_checked_as_they_are_made(works):
    with pytest.raises(InputError, match="needs a name"):
        MintItem(works[0], " ")
    with pytest.raises(InputError, match="between 0% and 10%"):
        MintItem(works[0], "X", royalty_bps=2000)
    with pytest.raises(InputError, match="not a license"):
        MintItem(works[0], "X", license="gpl")
    assert MintItem(works[0], "X", license="cc-by-nc").license == "CC-BY-NC-4.0"
    assert parse_license("CC-BY-4.0") == "CC-BY-4.0"


@pytest.fixture
def anvil_node():
    from studio.chain.anvil import AnvilProcess, anvil_binary

    if not anvil_binary().exists():
        pytest.fail(f"The anvil test node is missing ({anvil_binary()}). Run `python3 dev.py test`.", pytrace=False)
    with AnvilProcess() as node:
        yield node


@pytest.mark.slow
@pytest.mark.parametrize("replacement", ["speed_up", "cancel"])
def test_a_mint_replaced_in_the_wallet_is_followed_to_its_replacement(anvil_node, signers, library, store, works,
                                                                      tmp_path, replacement):
    """A mint still pending when the wait gave up, then sped up (it lands once) or cancelled (minted anew)."""
    from studio.chain.contracts import CollectionContract
    from studio.chain.history import TxHistory
    from studio.chain.transactions import Connection
    from studio.chain.sender import TxSender
    from studio.errors import NetworkError

    connection = Connection.from_url(anvil_node.url)
    history = TxHistory(tmp_path / "history.sqlite")
    target = create_collection(connection=connection, signer=signers[0], library=library, name="Nights",
                               symbol="NGT", royalty_receiver=signers[0].address, royalty_bps=0)
    options = dict(signer=signers[0], connection=connection, store=store, library=library, history=history)
    connection.web3.provider.make_request("evm_setAutomine", [False])
    with pytest.raises(NetworkError, match="not mined"):
        mint_works([MintItem(works[0], "Late")], target, timeout=0.3, **options)
    (sent,) = library.attempts()
    assert sent.state == "sent"
    sender = TxSender.for_signer(connection, signers[0], history=history)
    getattr(sender, replacement)(sent.tx_hash)
    connection.web3.provider.make_request("evm_mine", [])
    connection.web3.provider.make_request("evm_setAutomine", [True])
    result = mint_works([MintItem(works[0], "Late")], target, **options)
    contract = CollectionContract(connection, target.address)
    assert contract.total_supply() == 1
    (token,) = library.tokens(connection.chain_id)
    assert token.tx_hash != sent.tx_hash
    assert result.minted[0].recovered is (replacement == "speed_up")


def _studio_png(path: Path, prompt: str, seed: int, colour: tuple[int, int, int]):
    """A 16x16 PNG carrying an unsigned studio manifest; returns the manifest."""
    from PIL import Image

    from studio.provenance.embed import write_png_with_provenance
    from studio.provenance.manifest import Manifest, SignedManifest, pixel_hash

    image = Image.new("RGB", (16, 16), colour)
    manifest = Manifest(generator_name="provenance-studio", generator_version="0.1.0", model_name="demo",
                        model_sha256="ab" * 32, model_family="sd1", pipeline="txt2img", prompt=prompt,
                        negative_prompt="", seed=seed, steps=2, guidance=6.5, scheduler="euler_a", width=16,
                        height=16, pixel_hash=pixel_hash(image), created="2026-11-28T12:00:00Z")
    write_png_with_provenance(image, path, SignedManifest(manifest), parameters=prompt)
    return manifest


def test_a_work_with_embedded_provenance_carries_its_signed_manifest_into_the_token(mint, store, library, tmp_path):
    path = tmp_path / "lighthouse.png"
    manifest = _studio_png(path, "a lighthouse", 7, (10, 20, 30))
    (minted,) = mint([MintItem(path, "Lighthouse")]).minted
    metadata = _resolve(store, f"ipfs://{minted.token.metadata_cid}")
    assert metadata["provenance"]["manifest_sha256"] == manifest.manifest_hash
    assert metadata["provenance"]["pixel_hash"] == manifest.pixel_hash and metadata["provenance"]["signature"] is None
    assert metadata["provenance"]["manifest"] == manifest.to_dict()
    assert metadata["provenance"]["schema"] == manifest.schema and metadata["provenance"]["signer"] is None
    assert (minted.work.prompt, minted.work.model, minted.work.pixel_hash) == \
        ("a lighthouse", "demo", manifest.pixel_hash)


def test_a_work_of_the_library_mints_from_its_record_with_the_same_provenance_as_its_file(mint, store, library,
                                                                                        tmp_path):
    """By id, the token's metadata (the manifest recorded when the work was saved) is what minting
    the file would have written."""
    from studio.workflows.library import add_saved_work

    path = tmp_path / "harbour.png"
    manifest = _studio_png(path, "a harbour", 8, (70, 20, 30))
    work = add_saved_work(library, path, owned=False)
    (minted,) = mint([MintItem.of_work(work, "Harbour")]).minted
    assert minted.work == work and minted.token.media_cid == _media_cid(path)
    metadata = _resolve(store, f"ipfs://{minted.token.metadata_cid}")
    assert metadata["name"] == "Harbour" and metadata["provenance"]["manifest"] == manifest.to_dict()
    assert metadata["provenance"]["manifest_sha256"] == manifest.manifest_hash


def test_a_work_whose_file_changed_since_it_was_saved_is_refused_before_anything_is_stored(mint, store, library,
                                                                                            works):
    from PIL import Image

    from studio.storage.cid import Cid
    from studio.workflows.library import add_saved_work

    work = add_saved_work(library, works[0], owned=False)
    Image.new("RGB", (32, 24), (1, 2, 3)).save(works[0])
    with pytest.raises(InputError, match=f"The file of work {work.id} \\(work-0.png\\) changed since it was saved") \
            as refused:
        mint([MintItem.of_work(work, "Edited")])
    assert "as a new work" in (refused.value.hint or "")
    assert library.attempts(work_id=work.id) == [] and library.tokens_of_work(work.id) == []
    assert not store.has(Cid.parse(_media_cid(works[0])))
    works[0].unlink()
    with pytest.raises(NotFound):  # a file gone since: said as such, nothing stored either
        mint([MintItem.of_work(work, "Gone")])
    library.trash_works([work.id])
    with pytest.raises(NotFound, match=f"Work {work.id} is not in the library \\(it is in the trash\\)"):
        mint([MintItem.of_work(work, "Trashed")])


def test_a_work_recorded_without_its_manifest_still_mints_with_the_provenance_its_file_carries(mint, store, library,
                                                                                                tmp_path):
    """A record from before the library kept manifests: the file is read for it (and not hashed twice)."""
    import hashlib

    from studio.library.db import UNSAVED, Work

    path = tmp_path / "older.png"
    manifest = _studio_png(path, "an older save", 9, (30, 90, 30))
    work = library.add_work(Work(UNSAVED, str(path), hashlib.sha256(path.read_bytes()).hexdigest(), None, "Older", "",
                                 "", 1.0, 16, 16))
    assert library.work_manifest(work.id) is None
    (minted,) = mint([MintItem.of_work(work, "Older")]).minted
    assert _resolve(store, f"ipfs://{minted.token.metadata_cid}")["provenance"]["manifest"] == manifest.to_dict()


def test_minting_a_file_records_its_work_with_the_manifest_it_carries(mint, library, tmp_path):
    path = tmp_path / "fresh.png"
    manifest = _studio_png(path, "a fresh file", 10, (90, 30, 30))
    (minted,) = mint([MintItem(path, "Fresh")]).minted
    assert json.loads(library.work_manifest(minted.work.id))["manifest"] == manifest.to_dict()
