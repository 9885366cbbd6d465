"""Sending from the wallet on anvil: 50 concurrent sends, replacement with automine off, history, waits."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from studio.chain.history import CONFIRMED, DROPPED, PENDING, REPLACED, TxHistory
from studio.chain.networks import NetworkRegistry
from studio.chain.nonces import NonceManager
from studio.chain.sender import TxSender
from studio.chain.transactions import Connection, LocalSigner
from studio.errors import ChainError, InputError, NetworkError

RECIPIENT = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"


@pytest.fixture
def local_network(chain, tmp_path):
    return NetworkRegistry(tmp_path).add_custom("anvil", "Test anvil", chain.url, chain.chain_id)


@pytest.fixture
def history(tmp_path):
    return TxHistory(tmp_path / "history.sqlite")


def make_sender(chain, network, account, history=None, nonces=None, **kwargs):
    return TxSender(Connection.from_url(chain.url), network, LocalSigner(account), history=history,
                    nonces=nonces or NonceManager(), **kwargs)


def test_fifty_concurrent_sends_get_fifty_consecutive_nonces(chain, local_network, accounts, history):
    nonces = NonceManager()
    sender = make_sender(chain, local_network, accounts[5], history, nonces)
    start = chain.web3.eth.get_transaction_count(accounts[5].address)
    prepared = sender.prepare(RECIPIENT, value=1)
    before = chain.web3.eth.get_balance(RECIPIENT)

    def send_one(_):
        return sender.send(prepared)

    with ThreadPoolExecutor(max_workers=16) as pool:
        sent = list(pool.map(send_one, range(50)))
    assert sorted(s.nonce for s in sent) == list(range(start, start + 50))
    receipts = [sender.wait(s.tx_hash, timeout=30) for s in sent]
    assert all(r.gas_used == 21_000 for r in receipts)
    assert chain.web3.eth.get_balance(RECIPIENT) == before + 50
    assert chain.web3.eth.get_transaction_count(accounts[5].address) == start + 50
    assert {e.status for e in history.entries(sender=accounts[5].address)} == {CONFIRMED}


def test_a_failed_broadcast_leaves_no_nonce_gap(chain, local_network, accounts):
    nonces = NonceManager()
    sender = make_sender(chain, local_network, accounts[6], nonces=nonces)
    start = chain.web3.eth.get_transaction_count(accounts[6].address)
    prepared = sender.prepare(RECIPIENT, value=1)
    broken = type(prepared)(prepared.preview, {**prepared.tx, "gas": 20_000}, prepared.fee)  # intrinsic gas too low
    with pytest.raises(ChainError):
        sender.send(broken)
    sent = sender.send(prepared)
    assert sent.nonce == start
    sender.wait(sent.tx_hash, timeout=30)


def test_a_transaction_is_in_the_history_before_its_broadcast_and_one_never_broadcast_is_dropped(
        chain, local_network, accounts, history):
    sender = make_sender(chain, local_network, accounts[6], history)
    prepared = sender.prepare(RECIPIENT, value=1)
    seen = []

    def journal(signed) -> None:  # what the batch run does between signing and broadcasting
        seen.append((history.get(signed.tx_hash).status, signed.nonce, sender.is_known(signed.tx_hash), signed.raw))

    sent = sender.send(prepared, on_signed=journal)
    assert [(status, nonce, known) for status, nonce, known, _ in seen] == [(PENDING, sent.nonce, False)]
    assert sender.wait(sent.tx_hash, timeout=30).succeeded and history.get(sent.tx_hash).status == CONFIRMED

    def crash(signed) -> None:
        seen.append(signed)
        raise OSError("the journal's disk is full")

    with pytest.raises(OSError):
        sender.send(prepared, on_signed=crash)
    never = seen[-1]
    assert history.get(never.tx_hash).status == DROPPED and not sender.is_known(never.tx_hash)
    assert sender.send(prepared).nonce == never.nonce  # no gap
    broken = type(prepared)(prepared.preview, {**prepared.tx, "gas": 20_000}, prepared.fee)  # intrinsic gas too low
    with pytest.raises(ChainError):
        sender.send(broken)
    assert history.entries(status=DROPPED, sender=accounts[6].address)[0].gas_limit == 20_000


def test_the_same_signed_bytes_broadcast_again_are_the_same_transaction(chain, local_network, accounts, history):
    sender = make_sender(chain, local_network, accounts[4], history)
    signed = []
    chain.rpc("evm_setAutomine", [False])
    try:
        sent = sender.send(sender.prepare(RECIPIENT, value=2), on_signed=signed.append)
        sender.rebroadcast(signed[0].raw)  # the node already holds it: nothing new, no error
        assert chain.web3.eth.get_transaction_count(accounts[4].address, "pending") == sent.nonce + 1
        chain.rpc("evm_mine")
    finally:
        chain.rpc("evm_setAutomine", [True])
    assert sender.wait(sent.tx_hash, timeout=10).succeeded and history.get(sent.tx_hash).status == CONFIRMED
    assert not sender.nonce_taken(sent.tx_hash, sent.nonce + 1) and sender.nonce_taken("0x" + "ab" * 32, sent.nonce)


def test_speed_up_and_cancel_replace_pending_transactions(chain, local_network, accounts, history):
    sender = make_sender(chain, local_network, accounts[7], history)
    chain.rpc("evm_setAutomine", [False])
    try:
        first = sender.send(sender.prepare(RECIPIENT, value=5, speed="slow"))
        second = sender.send(sender.prepare(RECIPIENT, value=7, speed="slow"))
        assert second.nonce == first.nonce + 1
        faster = sender.speed_up(first.tx_hash)
        assert faster.nonce == first.nonce and faster.preview.max_fee_per_gas > first.preview.max_fee_per_gas
        cancelled = sender.cancel(second.tx_hash)
        assert cancelled.nonce == second.nonce and cancelled.preview.to == accounts[7].address
        assert history.get(first.tx_hash).status == REPLACED
        assert history.get(first.tx_hash).replaced_by == faster.tx_hash
        assert history.get(faster.tx_hash).status == PENDING
        with pytest.raises(NetworkError, match="not mined within"):
            sender.wait(faster.tx_hash, timeout=0.3, poll=0.05)
        chain.rpc("evm_mine")
    finally:
        chain.rpc("evm_setAutomine", [True])
    receipt = sender.wait(faster.tx_hash, timeout=10)
    sender.wait(cancelled.tx_hash, timeout=10)
    assert chain.web3.eth.get_transaction_receipt(faster.tx_hash)["status"] == 1
    mined = chain.web3.eth.get_block(receipt.block_number, full_transactions=True)["transactions"]
    hashes = {"0x" + bytes(t["hash"]).hex() for t in mined}
    assert faster.tx_hash in hashes and cancelled.tx_hash in hashes
    assert first.tx_hash not in hashes and second.tx_hash not in hashes
    cancel_tx = next(t for t in mined if "0x" + bytes(t["hash"]).hex() == cancelled.tx_hash)
    assert cancel_tx["value"] == 0 and cancel_tx["to"] == accounts[7].address
    assert history.get(faster.tx_hash).status == CONFIRMED
    with pytest.raises(InputError, match="already mined"):
        sender.speed_up(faster.tx_hash)


def test_preview_names_studio_contracts_and_decodes_the_call(world, tmp_path):
    network = NetworkRegistry(tmp_path).add_custom("anvil", "Test anvil", world.node.url, world.node.chain_id)
    token_id = world.mint()
    artist = make_sender(world.node, network, world.artist,
                         known_contracts={world.market.address: "Studio marketplace"})
    prepared = artist.prepare_request(world.collection.approve_tx(world.market.address, token_id))
    assert prepared.preview.call.contract == "StudioCollection"
    assert prepared.preview.call.function == "approve"
    assert dict(prepared.preview.call.args)["tokenId"] == token_id
    assert prepared.preview.max_fee_wei == prepared.preview.gas_limit * prepared.preview.max_fee_per_gas
    buy = world.market.buy_tx(world.collection.address, token_id, 10**15)
    with pytest.raises(ChainError, match="not listed"):  # the eth_call simulation decodes the custom error
        artist.prepare_request(buy)
    collector = make_sender(world.node, network, world.collectors[0],
                            known_contracts={world.market.address: "Studio marketplace"})
    world.collection.set_approval_for_all(world.artist, world.market.address)
    world.market.list(world.artist, world.collection.address, token_id, 10**15)
    preview = collector.prepare_request(buy).preview
    assert preview.to_name == "Studio marketplace" and preview.value_wei == 10**15
    assert ("Function", "StudioMarketplace.buy") in preview.lines()


def test_mainnet_value_needs_confirmation(chain, tmp_path, accounts):
    network = NetworkRegistry(tmp_path).add_custom("pretend-main", "Pretend mainnet", chain.url, chain.chain_id,
                                                   is_mainnet=True)
    sender = make_sender(chain, network, accounts[4])
    prepared = sender.prepare(RECIPIENT, value=1)
    assert prepared.preview.requires_confirmation
    with pytest.raises(InputError, match="real money"):
        sender.send(prepared)
    sender.wait(sender.send(prepared, confirmed=True).tx_hash, timeout=30)


def test_typed_data_for_another_chain_is_refused(chain, local_network, accounts):
    from studio.chain.vouchers import MintVoucher, voucher_typed_data

    sender = make_sender(chain, local_network, accounts[0])
    voucher = MintVoucher(b"\x01" * 32, 1, 1, 2**40)
    with pytest.raises(ChainError, match="chain id 1,"):
        sender.sign_typed_data(voucher_typed_data(voucher, RECIPIENT, 1))
    typed = voucher_typed_data(voucher, RECIPIENT, chain.chain_id)
    preview = sender.preview_typed_data(typed)
    assert preview.primary_type == "MintVoucher" and ("price", "1") in preview.fields
    signature = sender.sign_typed_data(typed)
    anvil_signature = chain.rpc("eth_signTypedData_v4", [accounts[0].address, _jsonable(typed)])
    assert "0x" + signature.hex() == anvil_signature


def _jsonable(value):
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def test_contract_calls_sent_at_once_from_one_account_all_land(chain, accounts):
    """Connection.send (a web3 call sent through TxSender) holds the account's nonce lane like every send."""
    connection = Connection.from_url(chain.url)
    signer = LocalSigner(accounts[7])
    start = chain.web3.eth.get_transaction_count(signer.address)
    before = chain.web3.eth.get_balance(RECIPIENT)

    def send_one(_):
        return connection.send(signer, {"to": RECIPIENT, "value": 3}, action="Paying")

    with ThreadPoolExecutor(max_workers=8) as pool:
        receipts = list(pool.map(send_one, range(20)))
    assert len({r.tx_hash for r in receipts}) == 20
    assert chain.web3.eth.get_transaction_count(signer.address) == start + 20
    assert chain.web3.eth.get_balance(RECIPIENT) == before + 60


@pytest.mark.parametrize("node_says, expected", [
    ("replacement transaction underpriced", "offers too little fee"),
    ("max fee per gas less than block base fee: maxFeePerGas: 1, baseFee: 7", "below the network's current base fee"),
    ("insufficient funds for gas * price + value", "more ETH than the account holds"),
    ("something new", "which said: something new."),
])
def test_node_refusals_read_as_sentences(node_says, expected):
    from web3.exceptions import Web3RPCError

    from studio.chain.transactions import as_studio_error

    raw = Web3RPCError(str({"code": -32000, "message": node_says}),
                       rpc_response={"jsonrpc": "2.0", "id": 1, "error": {"code": -32000, "message": node_says}})
    error = as_studio_error(raw, "Sending")
    assert isinstance(error, ChainError) and expected in str(error) and "{" not in str(error)


def test_a_real_underpriced_replacement_is_explained(chain, accounts):
    connection = Connection.from_url(chain.url)
    signer = LocalSigner(accounts[7])
    chain.rpc("evm_setAutomine", [False])
    try:
        nonce = chain.web3.eth.get_transaction_count(signer.address, "pending")
        tx = {"to": RECIPIENT, "value": 1, "gas": 21_000, "nonce": nonce, "chainId": connection.chain_id,
              "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9}
        chain.web3.eth.send_raw_transaction(signer.sign_transaction(tx))
        same_fee = signer.sign_transaction({**tx, "value": 2})
        with pytest.raises(ChainError, match="offers too little fee"):
            try:
                chain.web3.eth.send_raw_transaction(same_fee)
            except Exception as exc:
                from studio.chain.transactions import as_studio_error

                raise as_studio_error(exc, "Sending") from exc
    finally:
        chain.rpc("evm_setAutomine", [True])
        chain.rpc("evm_mine")
