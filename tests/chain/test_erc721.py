"""Reading a stranger's ERC-721 (the HostileNFT test contract) on anvil and on the embedded devnet: every
view call answers a value or a CallFailed with a reason, never an exception; Transfer logs are read in
ranges that shrink when the node refuses, and an ERC-20 shaped Transfer is skipped."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from studio.chain.erc721 import CallFailed, ERC721Reader, failed
from studio.chain.transactions import Connection, LocalSigner
from studio.errors import InputError, NotFound
from studio.storage.store import LocalStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hostile_collection import ROYALTY_BPS, deploy_hostile  # noqa: E402

LABELS = ("good-data", "revert", "bare-revert", "garbage", "huge-string", "burn-gas")


def _check_reader(connection, deployer, holder: str) -> None:
    hostile = deploy_hostile(connection, deployer, LocalStore.default(), to=holder, only=LABELS)
    reader = ERC721Reader(connection, hostile.address)

    assert reader.name() == "<b>Hostile</b> <img src=x onerror=alert(1)>"
    assert reader.symbol() == "H<i>N</i>"
    assert reader.standards() == ("ERC721", "ERC721Metadata", "ERC721Enumerable", "ERC2981")
    assert reader.total_supply() == len(LABELS)
    assert [reader.token_by_index(i) for i in range(len(LABELS))] == list(range(1, len(LABELS) + 1))
    assert failed(reader.token_by_index(99))

    good = hostile.by_label("good-data")
    assert reader.token_uri(good).startswith("data:application/json;base64,")
    assert reader.owner_of(good) == holder
    assert reader.royalty_info(good, 10_000) == (deployer.address, ROYALTY_BPS)

    outcomes = {label: reader.token_uri(hostile.by_label(label)) for label in LABELS[1:]}
    for label in ("revert", "bare-revert", "garbage", "huge-string"):
        assert isinstance(outcomes[label], CallFailed), label
        assert outcomes[label].reason
    assert "400,064 bytes" in outcomes["huge-string"].reason
    assert "not a valid string" in outcomes["garbage"].reason
    # A gas burner either runs out of gas or returns junk: never a hang or an exception.
    assert isinstance(outcomes["burn-gas"], (CallFailed, str))
    assert failed(reader.royalty_info(hostile.by_label("garbage"), 10_000))
    assert failed(reader.owner_of(999))
    assert failed(reader.token_uri(999))

    transfers = reader.transfers(0, reader.head(), chunk=3)
    assert [t.token_id for t in transfers] == list(range(1, len(LABELS) + 1))
    assert all(t.to == holder and int(t.sender, 16) == 0 for t in transfers)


def test_hostile_collection_on_anvil_answers_values_or_reasons(chain, accounts):
    connection = Connection.from_url(chain.url)
    _check_reader(connection, LocalSigner(accounts[0]), accounts[1].address)


def test_hostile_collection_on_the_devnet_answers_values_or_reasons(studio_home):
    from studio.chain.devnet import Devnet, devnet_account_signer

    devnet = Devnet(None)
    try:
        _check_reader(devnet.connection(), devnet_account_signer(0), devnet_account_signer(1).address)
    finally:
        devnet.close()


def test_revert_reasons_are_kept_on_anvil(chain, accounts):
    connection = Connection.from_url(chain.url)
    hostile = deploy_hostile(connection, LocalSigner(accounts[0]), LocalStore.default(), only=("revert",))
    outcome = ERC721Reader(connection, hostile.address).token_uri(1)
    assert isinstance(outcome, CallFailed)
    assert "withheld" in outcome.reason


def test_an_address_without_code_is_not_a_collection(chain, accounts):
    connection = Connection.from_url(chain.url)
    with pytest.raises(NotFound, match="no contract"):
        ERC721Reader(connection, accounts[5].address)
    with pytest.raises(InputError, match="not an Ethereum address"):
        ERC721Reader(connection, "0x1234")


def test_a_contract_that_is_no_erc721_fails_each_call_with_a_reason(world):
    """The marketplace is a contract, but not a collection: names and tokens fail, politely."""
    reader = ERC721Reader(world.connection, world.market.address)
    assert failed(reader.name())
    assert failed(reader.token_uri(1))
    assert failed(reader.owner_of(1))
    assert "ERC721" not in reader.standards()


def test_a_refused_wide_range_is_read_in_smaller_ranges(chain, accounts):
    connection = Connection.from_url(chain.url)
    hostile = deploy_hostile(connection, LocalSigner(accounts[0]), LocalStore.default(),
                             only=("good-data", "revert", "garbage"))
    reader = ERC721Reader(connection, hostile.address)
    real_get_logs = connection.web3.eth.get_logs
    asked: list[int] = []

    class Refusing:
        def __getattr__(self, name):
            return getattr(connection.web3.eth, name)

        def get_logs(self, params):
            width = params["toBlock"] - params["fromBlock"] + 1
            asked.append(width)
            if width > 4:
                raise ValueError({"code": -32005, "message": "query returned more than 10000 results"})
            return real_get_logs(params)

    class Web3:
        eth = Refusing()

    reader.connection = type("C", (), {"web3": Web3(), "chain_id": connection.chain_id})()
    transfers = reader.transfers(0, reader.head(), chunk=1000)
    assert [t.token_id for t in transfers] == [1, 2, 3]
    assert asked[0] > 4 and max(asked[1:]) <= 8  # refused, halved, then grows back by doubling
