"""The wallet session a view-model drives: network status, balances, send with preview, history."""
from __future__ import annotations

import pytest

from studio.cancel import CancelToken
from studio.chain.history import TxHistory
from studio.chain.networks import NetworkRegistry
from studio.chain.session import WalletSession
from studio.chain.wallet import Wallet
from studio.errors import Cancelled, InputError, WalletLocked

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
