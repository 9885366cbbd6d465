"""The Wallet tab's view-model on the real embedded devnet: status line, balances, lock and idle lock,
validation before any worker starts, accounts, message signing, the secrets asked with the password.

The wallet fixtures (`wallet_session`, `wallet_state`, ...) are in conftest.py, the helpers in wallet_helpers.py.
"""
from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import pytest

from studio.chain.session import WalletSession
from studio.errors import InputError, WalletLocked
from studio.ui.state.wallet import WalletState
from studio.ui.workers import BackgroundPool

from wallet_helpers import ACCOUNT_2, DEVNET, JOB_MS, PASSWORD, TEST_PHRASE, refresh, unlock, wait_job


# ---- status, balances, lock -------------------------------------------------------------------


def test_refresh_checks_the_chain_id_and_reads_balances(qtbot, wallet_state: WalletState) -> None:
    state = wallet_state
    assert state.has_wallet and not state.unlocked
    assert state.chain_status == f"Wallet locked · {DEVNET}"
    assert [row.name for row in state.accounts.rows()] == ["Account 1", "Account 2"]
    assert state.accounts.rows()[0].balance_wei is None

    refresh(qtbot, state)

    assert state.network_ok
    assert state.network_line.startswith("Connected · chain 1337 · block ")
    balances = [row.balance_wei for row in state.accounts.rows()]
    assert all(b is not None and b > 1_000 * 10**18 for b in balances)
    assert state.accounts.data(state.accounts.index(0, 2)).endswith(" ETH")
    assert state.accounts.data(state.accounts.index(0, 1)) == "0xf39F…2266"
    assert not state.busy and state.activity.history.rowCount() == 0


def test_unlock_with_a_wrong_password_fails_and_stays_locked(qtbot, wallet_state: WalletState) -> None:
    state = wallet_state
    with pytest.raises(InputError, match="password"):
        wait_job(qtbot, state.unlock("not-the-password"))
    assert not state.unlocked and not state.wallet.is_unlocked
    with pytest.raises(InputError):
        state.unlock("")  # refused before a worker starts

    unlock(qtbot, state)
    assert state.unlocked
    assert state.chain_status == f"Account 1 0xf39F…2266 · {DEVNET}"
    state.select_account(ACCOUNT_2)
    assert state.chain_status == f"Account 2 0x7099…79C8 · {DEVNET}"

    state.lock()
    assert not state.unlocked and not state.wallet.is_unlocked
    assert state.chain_status == f"Wallet locked · {DEVNET}"


def test_idle_lock_fires_after_the_idle_time_and_not_before(qtbot, wallet_state: WalletState) -> None:
    state = wallet_state
    unlock(qtbot, state)
    state.set_idle_lock_minutes(2)
    assert not state.check_idle(now=time.monotonic() + 60)
    assert state.unlocked
    with qtbot.waitSignal(state.idle_locked, timeout=1000):
        assert state.check_idle(now=time.monotonic() + 121)
    assert not state.unlocked and not state.wallet.is_unlocked
    assert "locked itself after 2 minutes" in state.notice
    assert state.chain_status.startswith("Wallet locked")


def test_the_idle_timer_locks_on_its_own(qtbot, wallet_session: WalletSession, pool: BackgroundPool) -> None:
    state = WalletState(wallet_session, pool, idle_check_ms=20)
    try:
        unlock(qtbot, state)
        state.set_idle_lock_minutes(0.5 / 60)  # half a second
        with qtbot.waitSignal(state.idle_locked, timeout=5_000):
            pass
        assert not state.wallet.is_unlocked and not state.unlocked
        state.set_idle_lock_minutes(0)  # 0 never locks
        unlock(qtbot, state)
        assert not state.check_idle(now=time.monotonic() + 10**6)
    finally:
        state.stop()


def test_send_is_validated_before_any_worker_starts(qtbot, wallet_state: WalletState) -> None:
    state = wallet_state
    with pytest.raises(WalletLocked):
        state.transfers.prepare_send(ACCOUNT_2, "0.5")
    unlock(qtbot, state)
    with pytest.raises(InputError, match="recipient"):
        state.transfers.prepare_send("0x1234", "0.5")
    with pytest.raises(InputError, match="not an amount"):
        state.transfers.prepare_send(ACCOUNT_2, "half")
    with pytest.raises(InputError, match="negative"):
        state.transfers.prepare_send(ACCOUNT_2, "-1")
    with pytest.raises(InputError, match="speed"):
        state.transfers.prepare_send(ACCOUNT_2, "1", speed="warp")
    assert not state.busy and not state._running


def test_switching_to_an_unreachable_network_says_so_and_is_remembered(qtbot, wallet_state: WalletState) -> None:
    from studio.config import load_config

    state = wallet_state
    state.session.registry.add_custom("dead", "Nothing here", "http://127.0.0.1:9", 5)
    with qtbot.waitSignal(state.refreshed, timeout=JOB_MS):
        state.switch_network("dead")
    assert state.network_key == "dead" and not state.network_ok
    assert "does not answer" in state.network_line
    assert all(row.balance_wei is None for row in state.accounts.rows())
    assert state.chain_status.endswith("· Nothing here")
    assert load_config().values.get("network") == "dead"

    with qtbot.waitSignal(state.refreshed, timeout=JOB_MS):
        state.switch_network("devnet")
    assert state.network_ok and state.accounts.rows()[0].balance_wei


def test_add_account_derives_the_next_phrase_account(qtbot, wallet_state: WalletState) -> None:
    state = wallet_state
    with pytest.raises(WalletLocked):
        state.keys.add_account()
    unlock(qtbot, state)
    with qtbot.waitSignal(state.refreshed, timeout=JOB_MS):
        account = wait_job(qtbot, state.keys.add_account())
    assert account.address == "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
    assert [row.name for row in state.accounts.rows()] == ["Account 1", "Account 2", "Account 3"]
    assert state.current_account == account.address
    assert state.accounts.rows()[2].balance_wei > 0  # devnet account 2 is funded too


def test_sign_message_gives_a_signature_of_the_chosen_account(qtbot, wallet_state: WalletState) -> None:
    from eth_account import Account
    from eth_account.messages import encode_defunct

    state = wallet_state
    with pytest.raises(WalletLocked):
        state.transfers.preview_message("hello")
    unlock(qtbot, state)
    preview = state.transfers.preview_message("I made this work.", ACCOUNT_2)
    assert (preview.kind, preview.signer, preview.text) == ("personal message (EIP-191)", ACCOUNT_2,
                                                            "I made this work.")
    with pytest.raises(InputError):
        state.transfers.preview_message("")
    signature = wait_job(qtbot, state.transfers.sign_message("I made this work.", ACCOUNT_2))
    assert signature.startswith("0x") and len(signature) == 2 + 130
    assert Account.recover_message(encode_defunct(text="I made this work."), signature=signature) == ACCOUNT_2


def test_reveal_phrase_and_export_ask_the_password_again(qtbot, wallet_state: WalletState, tmp_path: Path) -> None:
    from studio.chain.keystore import decrypt_keystore

    state = wallet_state
    with pytest.raises(InputError, match="password"):
        wait_job(qtbot, state.keys.reveal_phrase("wrong-password"))
    assert wait_job(qtbot, state.keys.reveal_phrase(PASSWORD)) == TEST_PHRASE

    target = tmp_path / "out" / "account2.json"
    with pytest.raises(InputError, match="does not exist"):
        state.keys.export_keystore(ACCOUNT_2, PASSWORD, target)
    target.parent.mkdir()
    with pytest.raises(InputError, match="password"):
        wait_job(qtbot, state.keys.export_keystore(ACCOUNT_2, "wrong-password", target))
    assert not target.exists()
    with pytest.raises(InputError, match="8 characters"):
        state.keys.export_keystore(ACCOUNT_2, PASSWORD, target, keystore_password="short")
    saved = wait_job(qtbot, state.keys.export_keystore(ACCOUNT_2, PASSWORD, target, keystore_password="keystore-pass"))
    assert saved == target and stat.S_IMODE(os.stat(target).st_mode) == 0o600
    keystore = json.loads(target.read_text())
    assert keystore["address"].lower() == ACCOUNT_2[2:].lower()
    from eth_account import Account

    assert Account.from_key(decrypt_keystore(keystore, "keystore-pass")).address == ACCOUNT_2
