"""Collections on the embedded devnet: deploy and remember, import by address, the marketplace per network."""
from __future__ import annotations

from pathlib import Path

import pytest

from studio.cancel import CancelToken
from studio.errors import Cancelled, InputError, NotFound
from studio.workflows.collections import (create_collection, import_collection, marketplace_address,
                                          parse_marketplace_addresses, parse_royalty, preview_collection)


def _png(path: Path, colour: tuple[int, int, int] = (200, 40, 40)) -> Path:
    from PIL import Image

    Image.new("RGB", (16, 16), colour).save(path)
    return path


def test_a_created_collection_is_deployed_owned_by_the_artist_and_remembered(devnet, signers, library, store,
                                                                             tmp_path):
    from studio.chain.contracts import CollectionContract

    artist, receiver = signers[0], signers[1]
    steps = []
    collection = create_collection(connection=devnet.connection(), signer=artist, library=library, name=" Dawns ",
                                   symbol="DAWN", royalty_receiver=receiver.address, royalty_bps=500,
                                   description="Sunrises", image=_png(tmp_path / "cover.png"), store=store,
                                   progress=lambda f, line: steps.append(f))
    assert (collection.name, collection.owner, collection.royalty_bps) == ("Dawns", artist.address, 500)
    assert collection.deploy_tx and collection.image_cid and store.has(_cid(collection.image_cid))
    assert steps[-1] == 1.0
    contract = CollectionContract(devnet.connection(), collection.address)
    assert contract.owner() == artist.address
    assert contract.royalty_info(1, 10_000).amount_wei == 500
    assert library.collections(1337) == [collection]


def _cid(text: str):
    from studio.storage.cid import Cid

    return Cid.parse(text)


def test_the_deployment_preview_is_simulated_and_priced_without_sending(devnet, signers, library):
    connection = devnet.connection()
    before = connection.web3.eth.get_transaction_count(signers[0].address)
    preview = preview_collection(connection=connection, signer=signers[0], name="Dawns", symbol="DAWN",
                                 royalty_receiver=signers[1].address, royalty_bps=500)
    assert preview.to is None and preview.action.startswith("Deploying the collection ") and preview.chain_id == 1337
    assert preview.gas_limit > 1_000_000 and preview.max_fee_wei > 0
    assert connection.web3.eth.get_transaction_count(signers[0].address) == before
    with pytest.raises(InputError, match="between 0% and 10%"):
        preview_collection(connection=connection, signer=signers[0], name="Dawns", symbol="DAWN",
                           royalty_receiver=signers[1].address, royalty_bps=5000)


def test_bad_inputs_are_refused_before_anything_is_sent(devnet, signers, library):
    base = dict(connection=devnet.connection(), signer=signers[0], library=library, name="A", symbol="A",
                royalty_receiver=signers[0].address, royalty_bps=500)
    with pytest.raises(InputError, match="name and a symbol"):
        create_collection(**{**base, "symbol": "  "})
    with pytest.raises(InputError, match="between 0% and 10%"):
        create_collection(**{**base, "royalty_bps": 1001})
    with pytest.raises(InputError, match="not an Ethereum address"):
        create_collection(**{**base, "royalty_receiver": "nobody"})
    with pytest.raises(NotFound, match="does not exist"):
        create_collection(**{**base, "image": Path("/no/such/cover.png")})
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        create_collection(**base, cancel=token)
    assert library.collections(1337) == []


def test_importing_a_studio_collection_reads_its_name_owner_and_royalty(devnet, signers, library, tmp_path):
    from studio.chain.contracts import CollectionContract

    contract, _ = CollectionContract.deploy(devnet.connection(), signers[1], name="Elsewhere", symbol="ELS",
                                            royalty_receiver=signers[2].address, royalty_bps=250)
    imported = import_collection(connection=devnet.connection(), library=library, address=contract.address.lower())
    assert (imported.address, imported.name, imported.symbol, imported.owner) == \
        (contract.address, "Elsewhere", "ELS", signers[1].address)
    assert (imported.royalty_receiver, imported.royalty_bps, imported.deploy_tx) == (signers[2].address, 250, None)
    assert library.collection(1337, contract.address) == imported


def test_importing_something_else_says_it_is_not_a_studio_collection(devnet, signers, library):
    market = devnet.studio_contracts()["StudioMarketplace"]
    with pytest.raises(InputError, match="not a studio collection"):
        import_collection(connection=devnet.connection(), library=library, address=market)
    with pytest.raises(NotFound, match="no contract"):
        import_collection(connection=devnet.connection(), library=library, address=signers[2].address)
    assert library.collections(1337) == []


def test_the_devnet_marketplace_is_the_studio_deployment_and_other_networks_read_the_setting(devnet):
    from studio.chain.networks import NetworkRegistry
    from studio.config import load_config

    registry = NetworkRegistry.default()
    assert marketplace_address(registry.get("devnet")) == devnet.studio_contracts()["StudioMarketplace"]
    config = load_config()
    with pytest.raises(NotFound, match="sepolia=0x"):
        marketplace_address(registry.get("sepolia"), config)
    config.set("marketplace_addresses", "# ours\nsepolia=0x5FbDB2315678afecb367f032d93F642f64180aa3\n")
    assert marketplace_address(registry.get("sepolia"), config) == "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def test_marketplace_setting_lines_must_be_network_equals_address():
    with pytest.raises(InputError, match="Line 2"):
        parse_marketplace_addresses("base=0x5FbDB2315678afecb367f032d93F642f64180aa3\nsepolia 0x12")


@pytest.mark.parametrize("text, bps", [("5%", 500), ("2.5%", 250), ("0", 0), ("250bps", 250), ("10 %", 1000)])
def test_royalties_read_as_percent_or_basis_points(text, bps):
    assert parse_royalty(text) == bps


@pytest.mark.parametrize("text", ["11%", "-1%", "five", "2.555%"])
def test_bad_royalties_are_refused(text):
    with pytest.raises(InputError):
        parse_royalty(text)
