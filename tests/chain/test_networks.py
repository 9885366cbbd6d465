"""Network registry, RPC overrides, custom networks, and the chain-id guard against a real anvil."""
from __future__ import annotations

import pytest

from studio.chain.anvil import TEST_MNEMONIC, AnvilProcess
from studio.chain.networks import (BUILTIN_NETWORKS, DEVNET_CHAIN_ID, NetworkRegistry, check_chain_id,
                                   parse_rpc_overrides)
from studio.errors import ChainError, InputError, NotFound


def test_builtin_networks_cover_the_issue_and_mark_mainnets(tmp_path):
    registry = NetworkRegistry(tmp_path)
    keys = [n.key for n in registry.all()]
    assert keys[0] == "devnet"
    assert set(keys) >= {"devnet", "sepolia", "base-sepolia", "ethereum", "base", "polygon", "optimism", "arbitrum"}
    assert registry.get("ethereum").chain_id == 1 and registry.get("ethereum").requires_confirmation
    assert registry.get("ethereum").marker == "MAINNET"
    assert not registry.get("sepolia").requires_confirmation and registry.get("sepolia").marker == "testnet"
    assert registry.get("devnet").chain_id == DEVNET_CHAIN_ID and registry.get("devnet").embedded
    assert len({n.chain_id for n in BUILTIN_NETWORKS}) == len(BUILTIN_NETWORKS)


def test_rpc_urls_from_settings_replace_the_public_ones(tmp_path):
    overrides = parse_rpc_overrides("# mine\nsepolia = https://rpc.example/sepolia\n\nbase=https://b.example\n")
    registry = NetworkRegistry(tmp_path, overrides)
    assert registry.get("sepolia").rpc_url == "https://rpc.example/sepolia"
    assert registry.get("base").rpc_url == "https://b.example"
    with pytest.raises(InputError, match="Line 1"):
        parse_rpc_overrides("sepolia: https://x")


def test_rpc_urls_setting_is_read_from_the_config(studio_home, monkeypatch):
    import studio.config as config_module
    from studio.config import Setting, load_config

    if "rpc_urls" not in config_module.SETTINGS_BY_KEY:  # the setting proposed for studio/config.py
        monkeypatch.setitem(config_module.SETTINGS_BY_KEY, "rpc_urls", Setting(
            "rpc_urls", "RPC URLs", "", "One `network=URL` per line, e.g. sepolia=https://…"))

    config = load_config()
    config.values["rpc_urls"] = "sepolia=https://rpc.example/s"
    config.save()
    assert NetworkRegistry.default().get("sepolia").rpc_url == "https://rpc.example/s"


def test_custom_networks_persist_and_can_be_removed(tmp_path):
    registry = NetworkRegistry(tmp_path)
    added = registry.add_custom("anvil", "My anvil", "http://127.0.0.1:8545", 31337)
    assert added.marker == "local" and added.custom
    assert NetworkRegistry(tmp_path).get("anvil").chain_id == 31337
    with pytest.raises(InputError, match="built-in"):
        registry.add_custom("sepolia", "x", "http://127.0.0.1:1", 5)
    with pytest.raises(InputError, match="http"):
        registry.add_custom("bad", "x", "ftp://x", 5)
    registry.remove_custom("anvil")
    with pytest.raises(NotFound):
        registry.get("anvil")


def test_chain_id_mismatch_message_says_why():
    network = BUILTIN_NETWORKS[1]
    with pytest.raises(ChainError, match="serves chain id 5.*Sepolia.*11155111.*Nothing was signed"):
        check_chain_id(5, network)
    check_chain_id(11155111, network)


def test_wallet_refuses_to_sign_for_a_node_on_another_chain(tmp_path):
    """A 'Sepolia' whose RPC URL points at an anvil on chain 999: refused before any signature."""
    from eth_account import Account

    from studio.chain.sender import TxSender
    from studio.chain.nonces import NonceManager
    from studio.chain.transactions import Connection, LocalSigner

    Account.enable_unaudited_hdwallet_features()
    account = Account.from_mnemonic(TEST_MNEMONIC, account_path="m/44'/60'/0'/0/0")
    signed = []

    class CountingSigner(LocalSigner):
        def sign_transaction(self, transaction):
            signed.append(transaction)
            return super().sign_transaction(transaction)

    with AnvilProcess(chain_id=999) as node:
        registry = NetworkRegistry(tmp_path, {"sepolia": node.url})
        network = registry.get("sepolia")
        connection = Connection.from_url(node.url)
        sender = TxSender(connection, network, CountingSigner(account), nonces=NonceManager())
        prepared = sender.prepare("0x70997970C51812dc3A010C7d01b50e0d17dc79C8", value=1)
        with pytest.raises(ChainError, match="serves chain id 999.*Sepolia"):
            sender.send(prepared)
        assert signed == []
        assert connection.web3.eth.get_transaction_count(account.address) == 0
        # The same node registered with its real chain id signs and sends.
        custom = registry.add_custom("local-999", "Local 999", node.url, 999)
        receipt = TxSender(connection, custom, CountingSigner(account), nonces=NonceManager()).send_and_wait(
            TxSender(connection, custom, CountingSigner(account)).prepare(
                "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", value=1))
        assert receipt.gas_used == 21_000 and len(signed) == 1


def test_contract_calls_through_a_network_signer_refuse_another_chain(chain, accounts, tmp_path):
    """The contract wrappers send through TxSender, which refuses a node serving another chain than the signer's."""
    from studio.chain.contracts import MarketplaceContract
    from studio.chain.sender import NetworkSigner
    from studio.chain.transactions import Connection, LocalSigner

    registry = NetworkRegistry(tmp_path, {"sepolia": chain.url})
    connection = Connection.from_url(chain.url)
    with pytest.raises(ChainError, match="serves chain id 31337.*Sepolia"):
        MarketplaceContract.deploy(connection, NetworkSigner(LocalSigner(accounts[0]), registry.get("sepolia")))
    local = registry.add_custom("anvil", "Test anvil", chain.url, chain.chain_id)
    market, _ = MarketplaceContract.deploy(connection, NetworkSigner(LocalSigner(accounts[0]), local))
    assert market.fee()[1] == accounts[0].address
