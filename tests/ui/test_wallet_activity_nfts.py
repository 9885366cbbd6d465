"""The Wallet tab per account: its activity is every transaction the studio sent for it (a deployment,
batch mints, approvals, listings, a purchase, an offer) with who sent it, and its NFTs are what it holds
across the collections the studio knows: its own mints, tokens bought (the market's events) and
tokens of a collection opened in Collections (its transfer logs)."""
from __future__ import annotations

from pathlib import Path

import pytest

from collector_world import build_world
from studio.ui.tabs.wallet import WalletTab
from wallet_helpers import ACCOUNT_1, ACCOUNT_2, JOB_MS, refresh, unlock, wait_job


@pytest.fixture
def world_state(qtbot, wallet_state, library, tmp_path: Path):
    unlock(qtbot, wallet_state)
    wallet_state.library = library
    world = build_world(wallet_state.session, library, tmp_path)
    return wallet_state, world


def test_activity_lists_deployments_batch_mints_and_sales_by_account(qtbot, world_state) -> None:
    state, world = world_state
    tab = WalletTab(state)
    qtbot.addWidget(tab)
    refresh(qtbot, state)
    history = state.activity.history
    rows = [(e.description, history.names.get(e.sender.lower())) for e in history.entries()]
    actions = [action for action, _who in rows]
    assert ("Deploying the collection Drop (DROP)", "Account 1") in rows
    assert actions.count("Minting 2 works in Drop") == 2
    assert all(who in ("Account 1", "Account 2") for _a, who in rows)
    assert any(who == "Account 2" and "Buying" in action for action, who in rows)
    tab.history_account.setCurrentIndex(tab.history_account.findData(ACCOUNT_2))
    assert state.activity.account == ACCOUNT_2
    mine = [e.description for e in state.activity.history.entries()]
    assert mine and all(e.sender == ACCOUNT_2 for e in state.activity.history.entries())
    assert not any("Minting" in action for action in mine)


def test_nfts_of_each_account_across_mints_purchases_and_opened_collections(qtbot, world_state) -> None:
    from studio.workflows.collector import open_collection

    state, world = world_state
    open_collection(world.elsewhere, connection=world.connection, library=world.library)  # as Collections does
    tab = WalletTab(state)
    qtbot.addWidget(tab)
    refresh(qtbot, state)
    wait_job(qtbot, state.activity.load_nfts())
    held = {(h.owner, h.collection_name, h.token_id, h.listed_price_wei) for h in state.activity.nfts._rows}
    first, second, third, fourth = world.tokens
    assert held == {(ACCOUNT_2, "Drop", first, None), (ACCOUNT_1, "Drop", second, 2 * 10**17),
                    (ACCOUNT_1, "Drop", third, None), (ACCOUNT_1, "Drop", fourth, None),
                    (ACCOUNT_2, "Elsewhere", 1, None)}
    with qtbot.waitSignal(state.activity.nfts_loaded, timeout=JOB_MS):
        tab.history_account.setCurrentIndex(tab.history_account.findData(ACCOUNT_2))
    nfts = state.activity.nfts
    shown = [[nfts.data(nfts.index(r, c)) for c in range(4)] for r in range(nfts.rowCount())]
    assert shown == [["Account 2", "Drop", f"#{first}", "held · your work"], ["Account 2", "Elsewhere", "#1", "held"]]
    tab.lower_tabs.setCurrentIndex(1)
    assert not tab.nfts_empty.isVisibleTo(tab)
