"""An anvil node from npm (contracts/node_modules), started once per session on a free loopback port.

The fixture fails, rather than skips, when the node binary is missing: the chain tests are part
of the suite, and `python3 dev.py test` installs the contract tools before running it.
"""
from __future__ import annotations

from typing import Iterator

import pytest

from studio.chain.anvil import ANVIL_CHAIN_ID, TEST_MNEMONIC, AnvilProcess, anvil_binary


class AnvilNode:
    """The running node as tests see it: URL, raw RPC, snapshots and time travel."""

    def __init__(self, process: AnvilProcess) -> None:
        from web3 import Web3

        self.process = process
        self.url = process.url
        self.chain_id = ANVIL_CHAIN_ID
        self.web3 = Web3(Web3.HTTPProvider(self.url, request_kwargs={"timeout": 30}))

    def rpc(self, method: str, params: list | None = None):
        response = self.web3.provider.make_request(method, params or [])
        if "error" in response:
            raise RuntimeError(f"{method}: {response['error']}")
        return response["result"]

    def snapshot(self) -> str:
        return self.rpc("evm_snapshot")

    def revert(self, snapshot_id: str) -> None:
        from studio.chain.nonces import shared_nonce_manager

        assert self.rpc("evm_revert", [snapshot_id]) is True
        shared_nonce_manager().forget_node(self.url)  # the node's nonces went back

    def latest_timestamp(self) -> int:
        return int(self.web3.eth.get_block("latest")["timestamp"])

    def set_next_timestamp(self, timestamp: int) -> None:
        """The next mined block carries `timestamp` (seconds)."""
        self.rpc("evm_setNextBlockTimestamp", [timestamp])


@pytest.fixture(scope="session")
def anvil() -> Iterator[AnvilNode]:
    """One anvil node for the session; stopped at the end."""
    binary = anvil_binary()
    if not binary.exists():
        pytest.fail(
            f"The anvil test node is missing ({binary}). Run `python3 dev.py test` "
            "(it installs the contract tools with `npm ci` in contracts/) and run the tests again.",
            pytrace=False,
        )
    process = AnvilProcess()
    try:
        yield AnvilNode(process)
    finally:
        process.stop()


@pytest.fixture
def chain(anvil: AnvilNode) -> Iterator[AnvilNode]:
    """The session node, reverted after the test to the state it had before it."""
    snapshot_id = anvil.snapshot()
    try:
        yield anvil
    finally:
        anvil.revert(snapshot_id)


@pytest.fixture(scope="session")
def accounts():
    """The ten standard anvil accounts as eth-account LocalAccounts (m/44'/60'/0'/0/i)."""
    from eth_account import Account

    Account.enable_unaudited_hdwallet_features()
    return [Account.from_mnemonic(TEST_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}") for i in range(10)]


class World:
    """A fresh collection and marketplace on the test node, with named accounts.

    artist (account 0) owns the collection (5% default royalty to royalty_receiver, account 9);
    operator (account 8) owns the marketplace; collectors are accounts 1-4.
    """

    def __init__(self, node: AnvilNode, accounts) -> None:
        from studio.chain.contracts import CollectionContract, MarketplaceContract
        from studio.chain.transactions import Connection

        self.node = node
        self.connection = Connection.from_url(node.url)
        self.accounts = accounts
        self.artist = accounts[0]
        self.collectors = accounts[1:5]
        self.operator = accounts[8]
        self.royalty_receiver = accounts[9]
        self.collection, _ = CollectionContract.deploy(
            self.connection, self.artist, name="Studio Test", symbol="STT",
            royalty_receiver=self.royalty_receiver.address, royalty_bps=500)
        self.market, _ = MarketplaceContract.deploy(self.connection, self.operator)

    def balance(self, address: str) -> int:
        return self.connection.balance(address)

    def mint(self, to: str | None = None, content: bytes = b'{"name": "work"}') -> int:
        """Mint one token (to the artist by default) and return its id."""
        from studio.workflows.publish import file_commitment

        minted = self.collection.mint(self.artist, to or self.artist.address, file_commitment(content))
        return minted.first_token_id

    def deploy_probe(self, owner):
        """A PaymentProbe contract operated by `owner` (accepts, rejects or re-enters on ETH)."""
        from studio.chain.artifacts import load_artifact

        artifact = load_artifact("PaymentProbe")
        factory = self.connection.web3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        receipt = self.connection.send(_signer(owner), factory.constructor())
        return self.connection.web3.eth.contract(address=receipt.contract_address, abi=artifact.abi)


def _signer(account):
    from studio.chain.transactions import LocalSigner

    return LocalSigner(account)


@pytest.fixture
def world(chain: AnvilNode, accounts) -> World:
    return World(chain, accounts)
