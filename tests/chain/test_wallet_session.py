"""The wallet session a view-model drives: network status, balances, send with preview, history."""
from __future__ import annotations

import pytest

from studio.cancel import CancelToken
from studio.chain.history import TxHistory
from studio.chain.networks import NetworkRegistry
from studio.chain.session import WalletSession
from studio.chain.wallet import Wallet
from studio.errors import Cancelled, ChainError, InputError, WalletLocked

TEST_PHRASE = "test test test test test test test test test test test junk"
RECIPIENT = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"


@pytest.fixture
def session(tmp_path, studio_home):
    wallet = Wallet(tmp_path / "wallet.json", kdf_n=2**10)
    wallet.create("session-password", phrase=TEST_PHRASE, accounts=2)
    yield WalletSession(wallet, NetworkRegistry(tmp_path), TxHistory(tmp_path / "history.sqlite"))
    import studio.chain.devnet as devnet_module

    for devnet in list(devnet_module._shared.values()):
        devnet.close()


def test_status_balances_send_and_history_on_the_devnet(session):
    status = session.network_status()
    assert status.usable and status.reported_chain_id == 1337
    progress = []
    balances = session.balances(progress=lambda f, line: progress.append(f))
    assert [b.name for b in balances] == ["Account 1", "Account 2"] and balances[0].balance_wei > 0
    assert progress[-1] == 1.0
    with pytest.raises(WalletLocked):
        session.prepare_send(RECIPIENT, 1)
    session.wallet.unlock("session-password")
    with pytest.raises(InputError):
        session.validate_send("not an address", 1)
    prepared = session.prepare_send(RECIPIENT, 10**15)
    assert prepared.preview.network == "Studio devnet (built in)" and not prepared.preview.requires_confirmation
    sent = session.send(prepared, confirmed=False)
    receipt = session.wait(sent, timeout=10)
    assert receipt.gas_used == 21_000
    (entry,) = session.history_entries()
    assert entry.tx_hash == sent.tx_hash and entry.status == "confirmed"
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        session.balances(cancel=token)


def test_an_unreachable_node_is_a_status_not_an_exception(session, tmp_path):
    session.registry.add_custom("dead", "Nothing here", "http://127.0.0.1:9", 5)
    session.switch_network("dead")
    status = session.network_status()
    assert not status.usable and not status.connected and "does not answer" in status.problem


def test_a_preview_made_on_another_network_is_not_signed(session):
    session.wallet.unlock("session-password")
    prepared = session.prepare_send(RECIPIENT, 10**15)
    session.registry.add_custom("other", "Other chain", "http://127.0.0.1:9", 5)
    session.switch_network("other")
    with pytest.raises(InputError, match="preview was made for Studio devnet"):
        session.send(prepared, confirmed=True)
    session.switch_network("devnet")
    assert session.history_entries() == []


def test_more_than_the_balance_is_refused_in_plain_words(session):
    session.wallet.unlock("session-password")
    with pytest.raises(ChainError, match=r"The amount \(2000000\.5 ETH\) is more than the account holds "
                                         r"\(1000000 ETH\)"):
        session.prepare_send(RECIPIENT, 2_000_000_5 * 10**17)


def test_messages_are_previewed_and_signed_by_the_chosen_account(session):
    from eth_account import Account
    from eth_account.messages import encode_defunct

    second = session.wallet.accounts()[1].address
    preview = session.preview_message("hello", second)
    assert preview.signer == second and preview.text == "hello"
    with pytest.raises(WalletLocked):
        session.sign_message("hello", second)
    session.wallet.unlock("session-password")
    with pytest.raises(InputError):
        session.sign_message("", second)
    signature = session.sign_message("hello", second)
    assert Account.recover_message(encode_defunct(text="hello"), signature=signature) == second


def test_replacing_needs_a_pending_transaction_of_this_network(session):
    session.wallet.unlock("session-password")
    sent = session.send(session.prepare_send(RECIPIENT, 10**15), confirmed=False)
    session.wait(sent, timeout=10)
    with pytest.raises(InputError, match="already mined"):
        session.speed_up(sent.tx_hash)
    with pytest.raises(InputError, match="already mined"):
        session.cancel_pending(sent.tx_hash)
    session.history.record(tx_hash="0x" + "cd" * 32, network="sepolia", chain_id=11155111,
                           sender=session.wallet.accounts()[0].address, recipient=RECIPIENT, nonce=0, value_wei=1,
                           description="Send ETH", max_fee_per_gas=1, max_priority_fee_per_gas=1, gas_limit=21_000)
    with pytest.raises(InputError, match="was sent on sepolia"):
        session.speed_up("0x" + "cd" * 32)
