"""The on-chain check of `verify` on the devnet: a minted work's token commits to metadata that
names the file and its signed manifest; swapped files and replaced metadata are caught; a node
out of reach is a note."""
from __future__ import annotations

import json
import random
import socket
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from studio.errors import InputError
from studio.provenance.embed import png_with_provenance
from studio.provenance.manifest import Manifest, SignedManifest, pixel_hash
from studio.workflows.collections import create_collection
from studio.workflows.generate import sign_manifest
from studio.workflows.mint import MintItem, mint_works
from studio.workflows.verify import TokenRef, verify_file


def noise_image(seed: int) -> Image.Image:
    rng = random.Random(seed)
    return Image.frombytes("RGB", (32, 32), bytes(rng.randrange(256) for _ in range(32 * 32 * 3)))


def signed_work(path: Path, signer, seed: int) -> Path:
    image = noise_image(seed)
    manifest = Manifest(generator_name="provenance-studio", generator_version="0.1.0", model_name="demo",
                        model_sha256="ab" * 32, model_family="sd1", pipeline="txt2img", prompt=f"a fox {seed}",
                        negative_prompt="", seed=seed, steps=2, guidance=7.0, scheduler="euler", width=32,
                        height=32, pixel_hash=pixel_hash(image), created="2026-11-28T12:00:00Z",
                        creator=signer.address)
    path.write_bytes(png_with_provenance(image, sign_manifest(manifest, signer), parameters=f"a fox {seed}"))
    return path


@pytest.fixture
def collection(devnet, signers, library):
    return create_collection(connection=devnet.connection(), signer=signers[0], library=library, name="Foxes",
                             symbol="FOX", royalty_receiver=signers[0].address, royalty_bps=500)


@pytest.fixture
def minted(devnet, signers, library, store, collection, tmp_path):
    """Three signed works: one minted alone, two minted as one batch."""
    alone = signed_work(tmp_path / "alone.png", signers[0], 1)
    batch = [signed_work(tmp_path / f"batch-{i}.png", signers[0], 10 + i) for i in range(2)]
    options = dict(signer=signers[0], connection=devnet.connection(), store=store, library=library)
    single = mint_works([MintItem(alone, "Alone")], collection, **options).minted[0]
    pair = mint_works([MintItem(p, p.stem) for p in batch], collection, **options).minted
    return {"alone": (alone, single.token), "batch": [(p, m.token) for p, m in zip(batch, pair)]}


def test_a_minted_work_verifies_on_chain_with_owner_and_matching_commitment(minted, library, signers):
    path, token = minted["alone"]
    verdict = verify_file(path, chain=True, library=library)
    assert verdict.verdict == "verified", verdict.problems
    (check,) = verdict.chain
    assert (check.network, check.chain_id, check.token_id, check.state) == ("devnet", 1337, token.token_id, "ok")
    assert check.collection.lower() == token.collection.lower() and check.owner == signers[0].address
    assert check.commitment_ok and check.image_ok and check.provenance_ok
    assert check.metadata_cid == token.metadata_cid and check.token_uri == f"ipfs://{token.metadata_cid}"
    assert json.loads(json.dumps(verdict.to_json()))["chain"][0]["state"] == "ok"


def test_works_minted_in_a_batch_are_checked_through_the_committed_folder(minted, library):
    for path, token in minted["batch"]:
        verdict = verify_file(path, chain=True, library=library)
        (check,) = verdict.chain
        assert verdict.verdict == "verified" and check.state == "ok", verdict.problems
        assert check.token_uri.endswith(f"/{token.token_id - minted['batch'][0][1].token_id}")
        assert check.metadata_cid == token.metadata_cid


def test_the_token_metadata_carries_the_full_signed_manifest(minted, store, signers):
    from studio.provenance.embed import read_embedded
    from studio.storage.cid import Cid

    path, token = minted["alone"]
    metadata = json.loads(store.cat(Cid.parse(token.metadata_cid)))
    signed = SignedManifest.from_json(read_embedded(path.read_bytes()).provenance_json)
    provenance = metadata["provenance"]
    assert provenance["manifest"] == signed.manifest.to_dict() and provenance["signature"] == signed.signature
    assert provenance["signer"] == signers[0].address and provenance["schema"] == "studio.provenance/2"


def test_another_image_carrying_the_same_manifest_is_tampered_on_chain_too(minted, library, tmp_path):
    from studio.provenance.embed import read_embedded

    path, token = minted["alone"]
    signed = SignedManifest.from_json(read_embedded(path.read_bytes()).provenance_json)
    swapped = tmp_path / "swapped.png"
    swapped.write_bytes(png_with_provenance(noise_image(99), signed, parameters="a fox 1"))
    verdict = verify_file(swapped, chain=True, library=library)
    assert verdict.verdict == "tampered"
    (check,) = verdict.chain
    assert check.state == "mismatch" and check.image_ok is False and check.commitment_ok is True
    assert check.provenance_ok is True  # the manifest is the token's; the pixels are not
    assert any("names another image" in problem for problem in verdict.problems)


def test_metadata_that_is_not_what_the_contract_committed_to_is_caught(minted, library, store):
    from studio.storage.cid import Cid

    path, token = minted["alone"]
    metadata = json.loads(store.cat(Cid.parse(token.metadata_cid)))
    metadata["name"] = "Alone (royalty-free, says the forger)"
    forged = store.add_bytes(json.dumps(metadata).encode(), cid_version=1)
    library.record_tokens([replace(token, metadata_cid=str(forged))])
    verdict = verify_file(path, chain=True, library=library)
    assert verdict.verdict == "tampered"
    (check,) = verdict.chain
    assert check.state == "mismatch" and check.commitment_ok is False and check.metadata_cid == str(forged)
    assert any("not what the contract committed to" in problem for problem in verdict.problems)


def test_a_token_named_by_the_user_is_checked_and_one_of_another_work_is_a_mismatch(minted, library, collection):
    path, token = minted["alone"]
    other_path, other = minted["batch"][0]
    ok = verify_file(path, tokens=[TokenRef("devnet", collection.address, token.token_id)], library=library)
    assert ok.verdict == "verified" and [c.state for c in ok.chain] == ["ok"]
    wrong = verify_file(path, tokens=[TokenRef("devnet", collection.address, other.token_id)], library=library)
    assert wrong.verdict == "tampered" and wrong.chain[0].image_ok is False
    assert wrong.chain[0].provenance_ok is False


def test_a_token_that_does_not_exist_is_a_note_not_tampering(minted, collection, library):
    path, _ = minted["alone"]
    verdict = verify_file(path, tokens=[TokenRef("devnet", collection.address, 999)], library=library)
    assert verdict.verdict == "verified" and verdict.chain[0].state == "not-found"
    assert any("could not be read" in note for note in verdict.notes)


def test_an_unreachable_node_is_a_note_and_the_file_still_verifies(minted, library, collection):
    from studio.chain.networks import NetworkRegistry

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    registry = NetworkRegistry.default()
    registry.add_custom("deadnet", "Dead node", f"http://127.0.0.1:{port}", 31999)
    path, token = minted["alone"]
    library.record_tokens([replace(token, chain_id=31999)])  # the same work also minted on the dead chain
    verdict = verify_file(path, chain=True, library=library, registry=registry)
    assert verdict.verdict == "verified", verdict.problems
    states = {check.network: check.state for check in verdict.chain}
    assert states == {"devnet": "ok", "deadnet": "unreachable"}
    assert any("not a sign of tampering" in note for note in verdict.notes)


def test_token_references_are_parsed_strictly():
    ref = TokenRef.parse("devnet:0x5FbDB2315678afecb367f032d93F642f64180aa3:7")
    assert ref == TokenRef("devnet", "0x5FbDB2315678afecb367f032d93F642f64180aa3", 7)
    for text in ("devnet:0x5FbD:1", "0x5FbDB2315678afecb367f032d93F642f64180aa3:1", "devnet:0x" + "0" * 40 + ":-1"):
        with pytest.raises(InputError):
            TokenRef.parse(text)


def test_an_unproven_claim_named_with_a_token_of_another_work_is_tampered(minted, library, collection, signers,
                                                                          tmp_path):
    _, token = minted["alone"]
    image = noise_image(99)
    claim = Manifest(generator_name="provenance-studio", generator_version="0.1.0", model_name="demo",
                     model_sha256="ab" * 32, model_family="sd1", pipeline="txt2img", prompt="a fox",
                     negative_prompt="", seed=99, steps=2, guidance=7.0, scheduler="euler", width=32, height=32,
                     pixel_hash=pixel_hash(image), created="2026-11-28T12:00:00Z", creator=signers[0].address)
    path = tmp_path / "claim.png"
    path.write_bytes(png_with_provenance(image, SignedManifest(claim), parameters="a fox"))
    assert verify_file(path, library=library).verdict == "unproven"
    verdict = verify_file(path, tokens=[TokenRef("devnet", collection.address, token.token_id)], library=library)
    assert verdict.verdict == "tampered" and verdict.chain[0].state == "mismatch"
    assert verdict.chain[0].image_ok is False and verdict.chain[0].provenance_ok is False


def test_a_token_named_with_a_hex_id_is_the_same_token(minted, library, collection):
    path, token = minted["alone"]
    ref = TokenRef.parse(f"devnet:{collection.address}:{hex(token.token_id)}")
    verdict = verify_file(path, tokens=[ref], library=library)
    assert verdict.verdict == "verified" and [(c.token_id, c.state) for c in verdict.chain] == [(token.token_id, "ok")]
