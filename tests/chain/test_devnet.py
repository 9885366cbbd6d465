"""The embedded devnet: funded test accounts, persistence across a restart, contracts on first use,
decoded reverts in-process, and `serve` over real HTTP with web3's HTTPProvider."""
from __future__ import annotations

import json
import urllib.request

import pytest

from studio.chain.devnet import Devnet
from studio.chain.devnet_persistence import dump_chain, load_chain
from studio.chain.devnet_server import DevnetServer
from studio.chain.networks import DEVNET_CHAIN_ID, NetworkRegistry
from studio.chain.nonces import NonceManager
from studio.chain.sender import TxSender
from studio.chain.transactions import LocalSigner
from studio.errors import ChainError, NetworkError, StorageError

RECIPIENT = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"


@pytest.fixture
def accounts():
    from eth_account import Account

    from studio.chain.anvil import TEST_MNEMONIC

    Account.enable_unaudited_hdwallet_features()
    return [Account.from_mnemonic(TEST_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}") for i in range(3)]


def send_eth(devnet, account, to, value, tmp_path):
    network = NetworkRegistry(tmp_path).get("devnet")
    sender = TxSender(devnet.connection(), network, LocalSigner(account), nonces=NonceManager())
    return sender.send_and_wait(sender.prepare(to, value=value), timeout=10)


def test_devnet_accounts_are_anvils_and_funded():
    devnet = Devnet(None)
    assert devnet.accounts[:2] == ["0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
                                   "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"]
    connection = devnet.connection()
    assert connection.chain_id == DEVNET_CHAIN_ID == connection.web3.eth.chain_id
    assert connection.balance(devnet.accounts[9]) > 10**21


def test_state_survives_a_restart(tmp_path, accounts):
    state = tmp_path / "devnet"
    devnet = Devnet(state)
    before = devnet.connection().balance(RECIPIENT)
    receipt = send_eth(devnet, accounts[0], RECIPIENT, 12345, tmp_path)
    contracts = devnet.studio_contracts()
    devnet.close()
    with pytest.raises(NetworkError, match="already open"):
        _open_twice(state)
    reopened = Devnet(state)
    connection = reopened.connection()
    assert connection.balance(RECIPIENT) == before + 12345
    assert connection.web3.eth.get_transaction_receipt(receipt.tx_hash)["status"] == 1
    assert reopened.studio_contracts() == contracts  # not deployed a second time
    assert connection.web3.eth.get_code(contracts["StudioMarketplace"]) not in (b"", "0x")
    # and it keeps going: the next nonce continues from the saved chain
    send_eth(reopened, accounts[0], RECIPIENT, 1, tmp_path)
    assert connection.web3.eth.get_transaction_count(accounts[0].address) == 3
    reopened.close()


def _open_twice(state):
    first = Devnet(state)
    try:
        Devnet(state)
    finally:
        first.close()


def test_saving_happens_shortly_after_a_change(tmp_path, accounts):
    import time

    devnet = Devnet(tmp_path / "devnet")
    send_eth(devnet, accounts[1], RECIPIENT, 7, tmp_path)
    deadline = time.monotonic() + 5
    while not devnet.chain_file.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert devnet.chain_file.exists()
    devnet.close()


def test_persistence_round_trip_and_damaged_file(accounts, tmp_path):
    from eth_tester import PyEVMBackend

    from studio.chain.anvil import TEST_MNEMONIC

    devnet = Devnet(None)
    send_eth(devnet, accounts[0], RECIPIENT, 99, tmp_path)
    data = dump_chain(devnet.backend)
    fresh = PyEVMBackend.from_mnemonic(TEST_MNEMONIC, num_accounts=10, hd_path="m/44'/60'/0'/0")
    load_chain(fresh, data)
    assert fresh.chain.get_canonical_head().block_number == devnet.backend.chain.get_canonical_head().block_number
    with pytest.raises(StorageError, match="truncated"):
        load_chain(fresh, data[:-10])
    with pytest.raises(StorageError, match="not a studio devnet"):
        load_chain(fresh, b"garbage")


def test_reverts_on_the_devnet_are_decoded(tmp_path, accounts):
    from studio.chain.contracts import MarketplaceContract, request_for

    devnet = Devnet(None)
    market = MarketplaceContract(devnet.connection(), devnet.studio_contracts()["StudioMarketplace"])
    network = NetworkRegistry(tmp_path).get("devnet")
    sender = TxSender(devnet.connection(), network, LocalSigner(accounts[1]), nonces=NonceManager(),
                      known_contracts=devnet.known_contracts())
    with pytest.raises(ChainError, match="not listed"):
        sender.prepare_request(market.buy_tx(RECIPIENT, 5, 10))
    deployer = TxSender(devnet.connection(), network, LocalSigner(accounts[0]), nonces=NonceManager(),
                        known_contracts=devnet.known_contracts())
    preview = deployer.prepare_request(request_for(market.contract.functions.setFee(100, RECIPIENT))).preview
    assert preview.to_name == "Studio marketplace" and preview.call.function == "setFee"


def test_serve_answers_web3_over_http(tmp_path, accounts):
    from web3 import Web3

    devnet = Devnet(None)
    with DevnetServer(devnet, port=0) as server:
        web3 = Web3(Web3.HTTPProvider(server.url, request_kwargs={"timeout": 10}))
        assert web3.eth.chain_id == DEVNET_CHAIN_ID
        assert web3.eth.get_balance(accounts[0].address) > 0
        tx = {"to": RECIPIENT, "value": 5, "gas": 21_000, "nonce": web3.eth.get_transaction_count(accounts[0].address),
              "maxFeePerGas": 3 * 10**9, "maxPriorityFeePerGas": 10**9, "chainId": DEVNET_CHAIN_ID}
        tx_hash = web3.eth.send_raw_transaction(accounts[0].sign_transaction(tx).raw_transaction)
        receipt = web3.eth.wait_for_transaction_receipt(tx_hash, timeout=10)
        assert receipt["status"] == 1 and receipt["gasUsed"] == 21_000
        block = web3.eth.get_block("latest")
        assert block["number"] == receipt["blockNumber"] and block["baseFeePerGas"] > 0
        history = web3.eth.fee_history(1, "latest", [50])
        assert history["baseFeePerGas"]
        # custom errors travel with their data, as from geth or anvil
        from studio.chain.contracts import MarketplaceContract
        from studio.chain.transactions import Connection

        market_address = devnet.studio_contracts()["StudioMarketplace"]
        market = MarketplaceContract(Connection.from_url(server.url), market_address)
        with pytest.raises(ChainError, match="not listed"):
            market.buy(accounts[1], RECIPIENT, 5, 10)
        # batches and errors for unknown methods
        body = json.dumps([{"jsonrpc": "2.0", "id": 1, "method": "net_version", "params": []},
                           {"jsonrpc": "2.0", "id": 2, "method": "no_such", "params": []}]).encode()
        request = urllib.request.Request(server.url, body, {"Content-Type": "application/json"})
        answers = json.loads(urllib.request.urlopen(request, timeout=5).read())
        assert answers[0] == {"jsonrpc": "2.0", "id": 1, "result": str(DEVNET_CHAIN_ID)}
        assert answers[1]["error"]["code"] == -32601


def test_serve_refuses_other_interfaces():
    with pytest.raises(NetworkError, match="loopback"):
        DevnetServer(Devnet(None), host="0.0.0.0")
