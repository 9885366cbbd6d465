"""The Market tab's view-model on the real embedded devnet: the artist lists one minted token (a Seaport
order: one approval, then no gas) and lazily lists an unminted work, the collector (the wallet's
second account) buys both; balances, royalties, "My collection" and the order book follow. Bulk
listing under one signature, WETH offers accepted, a listing whose token moved never for sale, cancel
one and cancel all, search and sort with the collection's name on every row. The escrow marketplace's
listings still buy and cancel; a declined preview sends nothing; an escrow listing cancelled while its
buyer reads the preview fails with the contract's decoded reason.

The fixtures here (`market_env`, `market_state`) and helpers are imported by test_market_tab.py.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest
from PIL import Image

from studio.errors import InputError, WalletLocked
from studio.library.db import Library
from studio.library.market import CANCELLED, REDEEMED, SOLD_STATUS
from studio.library.orders import FILLED
from studio.ui.state.market import LAZY, LISTING, SEAPORT, MarketState, PreviewRequest
from wallet_helpers import ACCOUNT_1, ACCOUNT_2, JOB_MS, PASSWORD, TEST_PHRASE, refresh, unlock, wait_job

PRICE = 10**17            # 0.1 ETH
LAZY_PRICE = 2 * 10**17   # 0.2 ETH
ROYALTY_BPS = 500


def hd_signer(index: int) -> Any:
    from eth_account import Account

    from studio.chain.transactions import LocalSigner

    Account.enable_unaudited_hdwallet_features()
    return LocalSigner(Account.from_mnemonic(TEST_PHRASE, account_path=f"m/44'/60'/0'/0/{index}"))


def signed_work(path: Path, signer: Any, seed: int) -> Path:
    """A small PNG carrying a studio manifest signed by `signer` (what the Create tab saves)."""
    from studio.provenance.embed import write_png_with_provenance
    from studio.provenance.manifest import Manifest, pixel_hash
    from studio.workflows.generate import sign_manifest

    rng = random.Random(seed)
    image = Image.frombytes("RGB", (64, 64), bytes(rng.randrange(256) for _ in range(64 * 64 * 3)))
    manifest = Manifest(generator_name="provenance-studio", generator_version="0.1.0", model_name="demo",
                        model_sha256="ab" * 32, model_family="sd1", pipeline="txt2img", prompt=f"dawn {seed}",
                        negative_prompt="", seed=seed, steps=2, guidance=6.5, scheduler="euler", width=64,
                        height=64, created="2026-11-28T12:00:00Z", pixel_hash=pixel_hash(image),
                        creator=signer.address, device="cpu", dtype="float32")
    write_png_with_provenance(image, path, sign_manifest(manifest, signer), parameters=f"dawn {seed}")
    return path


@dataclass
class MarketEnv:
    """A collection of the artist (account 1, royalty 5% to account 10 of the phrase), one minted token,
    one unminted work in the library, on the embedded devnet."""

    library: Library
    connection: Any
    collection: Any        # library Collection
    token_id: int          # minted to the artist, not listed
    lazy_work: Any         # library Work, not minted
    royalty_receiver: str
    artist: Any            # LocalSigner of ACCOUNT_1 (for moves made "elsewhere")

    def balance(self, address: str) -> int:
        return self.connection.balance(address)

    def owner_of(self, token_id: int) -> str:
        from studio.chain.contracts import CollectionContract

        return CollectionContract(self.connection, self.collection.address).owner_of(token_id)

    def mint(self, seed: int, tmp: Path) -> int:
        from studio.storage.store import LocalStore
        from studio.workflows.mint import MintItem, mint_works

        path = signed_work(tmp / f"work-{seed}.png", self.artist, seed)
        result = mint_works([MintItem(path, f"Dawn {seed}")], self.collection, signer=self.artist,
                            connection=self.connection, store=LocalStore.default(), library=self.library)
        return result.minted[0].token.token_id


@pytest.fixture
def market_env(tmp_path: Path, wallet_session) -> Iterator[MarketEnv]:
    from studio.chain.devnet import Devnet
    from studio.library.db import Work
    from studio.workflows.collections import create_collection

    devnet = Devnet.shared()
    connection = devnet.connection()
    artist, receiver = hd_signer(0), hd_signer(9).address
    assert artist.address == ACCOUNT_1
    with Library.default() as library:
        collection = create_collection(connection=connection, signer=artist, library=library, name="Dawns",
                                       symbol="DAWN", royalty_receiver=receiver, royalty_bps=ROYALTY_BPS)
        env = MarketEnv(library, connection, collection, -1, None, receiver, artist)
        env.token_id = env.mint(1, tmp_path)
        lazy_path = signed_work(tmp_path / "lazy.png", artist, 2)
        import hashlib

        env.lazy_work = library.add_work(Work(0, str(lazy_path), hashlib.sha256(lazy_path.read_bytes()).hexdigest(),
                                              None, "Lazy dawn", "dawn 2", "demo", 1.0, 64, 64))
        yield env


@pytest.fixture
def market_state(qtbot, wallet_state, market_env, pool) -> Iterator[MarketState]:
    state = MarketState(wallet_state, market_env.library, pool, sync_interval_ms=60_000)
    yield state
    state.stop()
    pool.shutdown()


class Answers:
    """Answers the state's preview requests with `answer`, recording what was asked."""

    def __init__(self, state: MarketState, answer: bool = True) -> None:
        self.answer, self.seen = answer, []
        state.preview_requested.connect(self._on_request)

    def _on_request(self, request: PreviewRequest) -> None:
        self.seen.append(request)
        request.answer(self.answer)

    @property
    def actions(self) -> list[str]:
        return [getattr(r.preview, "action", None) or r.preview.primary_type for r in self.seen]

    @property
    def senders(self) -> list[str]:
        """Who signs each: a transaction's sender, a signature's signer."""
        return [getattr(r.preview, "sender", None) or r.preview.signer for r in self.seen]


def weth(env: "MarketEnv", account: str) -> int:
    from studio.chain.seaport_contract import WethContract
    from studio.chain.devnet import Devnet

    return WethContract(env.connection, Devnet.shared().seaport_contracts()["WETH9"]).balance_of(account)


def sync(qtbot, state: MarketState) -> None:
    """Read the market now (after the sync an action started, if one runs)."""
    qtbot.waitUntil(lambda: not state.syncing, timeout=JOB_MS)
    with qtbot.waitSignal(state.synced, timeout=JOB_MS):
        assert state.refresh() is not None
    qtbot.waitUntil(lambda: not state.syncing, timeout=JOB_MS)


def cards_loaded(qtbot, state: MarketState) -> None:
    qtbot.waitUntil(lambda: all(r.card is not None for r in state.listings.rows() + state.held.rows()),
                    timeout=JOB_MS)


def act(qtbot, state: MarketState, job) -> Any:
    """Wait for an action job; returns its outcome (raises what it failed with)."""
    outcome = wait_job(qtbot, job)
    qtbot.waitUntil(lambda: not state.busy, timeout=JOB_MS)
    return outcome


def held(state: MarketState, owner: str, token_id: int):
    return next(t for t in state.held.rows() if t.owner == owner and t.token_id == token_id)


def ready(qtbot, wallet_state, state: MarketState) -> None:
    unlock(qtbot, wallet_state)
    refresh(qtbot, wallet_state)
    sync(qtbot, state)


# ---- the whole path -------------------------------------------------------------------------


def test_artist_lists_and_lazily_lists_collector_buys_both(qtbot, wallet_state, market_state, market_env):
    state, env = market_state, market_env
    ready(qtbot, wallet_state, state)
    mine = held(state, ACCOUNT_1, env.token_id)
    assert not mine.listed and state.listings.rowCount() == 0
    answers = Answers(state)

    act(qtbot, state, state.trades.list_token(mine, "0.1", duration=30 * 86_400))
    assert answers.actions == [f"Approving Seaport for Dawns ({env.collection.address})", "Signing the listing"]
    assert answers.senders == [ACCOUNT_1, ACCOUNT_1] and not answers.seen[1].is_transaction
    assert answers.seen[1].preview.primary_type == "OrderComponents"
    assert [c.address for c in state.my_collections()] == [env.collection.address]
    assert env.lazy_work.id in [w.id for w in state.unminted_works(env.collection.address)]
    outcome = act(qtbot, state, state.trades.lazy_list(env.collection, env.lazy_work, "Lazy dawn", "0.2",
                                                description="Signed, not minted"))
    assert answers.actions[-1] == "Signing a mint voucher" and not answers.seen[-1].is_transaction
    assert outcome.result.price_wei == LAZY_PRICE
    sync(qtbot, state)
    cards_loaded(qtbot, state)
    listing, lazy = state.listings.rows()
    assert (listing.kind, listing.token_id, listing.price_wei, listing.seller) == (SEAPORT, env.token_id, PRICE,
                                                                                  ACCOUNT_1)
    assert 29 * 86_400 < listing.ends - env.connection.latest_block_time() <= 30 * 86_400
    assert (lazy.kind, lazy.token_id, lazy.price_wei) == (LAZY, None, LAZY_PRICE)
    assert (listing.card.details.name, lazy.card.details.name) == ("Dawn 1", "Lazy dawn")
    assert listing.card.details.artist == ACCOUNT_1 and listing.card.details.royalty_bps == ROYALTY_BPS
    assert listing.card.badge == lazy.card.badge == "✓ Verified"
    assert listing.card.thumbnail is not None and not listing.card.thumbnail.isNull()
    assert state.listings.data(state.listings.index(0, 2)) == "Dawns"  # the collection's name
    assert state.listings.data(state.listings.index(0, 4)) == "0.1 ETH"
    assert state.listings.data(state.listings.index(0, 5)) == "5%"

    with pytest.raises(InputError, match="your own listing"):
        state.trades.buy(listing)
    wallet_state.select_account(ACCOUNT_2)
    before = {a: env.balance(a) for a in (ACCOUNT_1, ACCOUNT_2, env.royalty_receiver)}
    bought = act(qtbot, state, state.trades.buy(listing))
    bought_lazy = act(qtbot, state, state.trades.buy(lazy))
    assert answers.actions[-2:] == ["Buying the token", "Buying (minting) the token"]
    royalty = PRICE * ROYALTY_BPS // 10_000
    fees = bought.result.fee_wei + bought_lazy.result.fee_wei
    assert env.balance(ACCOUNT_1) - before[ACCOUNT_1] == PRICE - royalty + LAZY_PRICE
    assert env.balance(env.royalty_receiver) - before[env.royalty_receiver] == royalty
    assert before[ACCOUNT_2] - env.balance(ACCOUNT_2) == PRICE + LAZY_PRICE + fees
    new_token = bought_lazy.result.token_id
    assert env.owner_of(env.token_id) == env.owner_of(new_token) == ACCOUNT_2

    sync(qtbot, state)
    assert state.listings.rowCount() == 0
    assert sorted(t.token_id for t in state.held.rows() if t.owner == ACCOUNT_2) == sorted([env.token_id, new_token])
    assert [t for t in state.held.rows() if t.owner == ACCOUNT_1] == []
    chain_id = env.connection.chain_id
    assert state.orders_store.get(chain_id, listing.order.seaport, listing.order.order_hash).status == FILLED
    [voucher] = state.store.vouchers(chain_id, status=None)
    assert (voucher.status, voucher.token_id, voucher.redeemer) == (REDEEMED, new_token, ACCOUNT_2)
    cards_loaded(qtbot, state)
    assert held(state, ACCOUNT_2, new_token).card.details.name == "Lazy dawn"
    assert "Bought token" in state.notice


# ---- refusals before anything starts, a declined preview, a revert -----------------------------


def test_actions_are_refused_before_a_worker_starts(qtbot, wallet_state, market_state, market_env):
    state = market_state
    wallet_state.wallet.unlock(PASSWORD)
    with pytest.raises(InputError, match="not been read"):
        state.trades.make_offer(market_env.collection.address, market_env.token_id, "0.01")
    sync(qtbot, state)
    token = held(state, ACCOUNT_1, market_env.token_id)
    for price, problem in (("", "Enter an amount"), ("0", "more than zero"), ("-1", "negative"),
                           ("lots", "not an amount")):
        with pytest.raises(InputError, match=problem):
            state.trades.list_token(token, price)
    with pytest.raises(InputError, match="not listed"):
        state.trades.change_price(token, "1")
    with pytest.raises(InputError, match="is yours"):
        state.trades.make_offer(market_env.collection.address, market_env.token_id, "0.01")
    wallet_state.lock()
    with pytest.raises(WalletLocked):
        state.trades.list_token(token, "0.1")
    assert not state.busy


def test_declined_preview_sends_nothing(qtbot, wallet_state, market_state, market_env):
    state, env = market_state, market_env
    ready(qtbot, wallet_state, state)
    nonce = env.connection.web3.eth.get_transaction_count(ACCOUNT_1)
    answers = Answers(state, answer=False)
    with qtbot.waitSignal(state.action_declined, timeout=JOB_MS):
        state.trades.list_token(held(state, ACCOUNT_1, env.token_id), "0.1")
    qtbot.waitUntil(lambda: not state.busy, timeout=JOB_MS)
    assert len(answers.seen) == 1 and "Nothing was signed" in state.notice and state.error == ""
    assert env.connection.web3.eth.get_transaction_count(ACCOUNT_1) == nonce
    assert env.owner_of(env.token_id) == ACCOUNT_1


def test_listing_cancelled_while_the_buyer_reads_the_preview_fails_with_the_reason(
        qtbot, wallet_state, market_state, market_env):
    from studio.workflows import market as wm

    state, env = market_state, market_env
    ready(qtbot, wallet_state, state)
    answers = Answers(state)  # noqa: F841 (kept alive: Qt holds the slot weakly)
    act(qtbot, state, state.trades.list_token(held(state, ACCOUNT_1, env.token_id), "0.1", escrow=True))
    state.preview_requested.disconnect()
    sync(qtbot, state)
    [listing] = state.listings.rows()
    assert listing.kind == LISTING and held(state, ACCOUNT_1, env.token_id).venue == "escrow"
    wallet_state.select_account(ACCOUNT_2)
    balance = env.balance(ACCOUNT_2)
    asked: list[PreviewRequest] = []
    state.preview_requested.connect(asked.append)
    job = state.trades.buy(listing)
    qtbot.waitUntil(lambda: bool(asked), timeout=JOB_MS)
    assert asked[0].preview.value_wei == PRICE and state.busy
    # Meanwhile, elsewhere, the artist takes the token back.
    wm.cancel_listing(connection=env.connection, signer=env.artist, marketplace=state.marketplace(),
                      collection=env.collection.address, token_id=env.token_id, confirm=lambda p: True)
    failures: list = []
    state.action_failed.connect(failures.append)
    asked[0].answer(True)
    with pytest.raises(Exception) as raised:
        wait_job(qtbot, job)
    from studio.chain.errors_decode import ContractRevert

    assert isinstance(raised.value, ContractRevert) and raised.value.error_name == "NotListed"  # decoded on chain
    assert "is not listed for sale" in str(raised.value)
    assert state.error == str(raised.value) and failures
    assert env.owner_of(env.token_id) == ACCOUNT_1
    assert balance - env.balance(ACCOUNT_2) < PRICE  # at most the fee of the reverted transaction


def test_weth_offers_are_made_seen_incoming_and_accepted(qtbot, wallet_state, market_state, market_env):
    state, env = market_state, market_env
    ready(qtbot, wallet_state, state)
    answers = Answers(state)
    wallet_state.select_account(ACCOUNT_2)
    act(qtbot, state, state.trades.make_offer(env.collection.address, env.token_id, "0.05"))
    assert answers.actions == ["Wrapping ETH", "Approving Seaport for your WETH", "Signing the offer"]
    assert answers.seen[0].preview.value_wei == PRICE // 2 and answers.senders == [ACCOUNT_2] * 3
    sync(qtbot, state)
    assert state.weth_held(ACCOUNT_2) == PRICE // 2
    [made] = state.offers_made.rows()
    assert state.offers_incoming.rowCount() == 0 and state.held.rowCount() == 0  # Account 2 holds nothing
    wallet_state.select_account(ACCOUNT_1)  # the holder acts to accept
    [incoming] = state.offers_incoming.rows()
    assert made.offer == incoming.offer and incoming.offer.buyer == ACCOUNT_2 and state.offers_made.rowCount() == 0
    assert (incoming.offer.venue, incoming.offer.currency) == (SEAPORT, "WETH")
    assert state.offers_incoming.data(state.offers_incoming.index(0, 4)) == "0.05 WETH"
    assert state.offers_incoming.data(state.offers_incoming.index(0, 2)) == "Dawns"
    assert held(state, ACCOUNT_1, env.token_id).best_offer.amount_wei == PRICE // 2
    accepted = act(qtbot, state, state.trades.accept_offer(incoming))
    assert answers.actions[-2:] == [f"Approving Seaport for Dawns ({env.collection.address})", "Accepting the offer"]
    assert answers.senders[-2:] == [ACCOUNT_1, ACCOUNT_1]  # the acting account, the holder
    royalty = (PRICE // 2) * ROYALTY_BPS // 10_000
    assert weth(env, ACCOUNT_1) == PRICE // 2 - royalty and accepted.result.order.status == FILLED
    assert env.owner_of(env.token_id) == ACCOUNT_2
    sync(qtbot, state)
    assert state.offers_made.rowCount() == state.offers_incoming.rowCount() == state.held.rowCount() == 0
    wallet_state.select_account(ACCOUNT_2)
    assert [t.owner for t in state.held.rows()] == [ACCOUNT_2]


def test_an_escrow_offer_is_withdrawn_and_a_seaport_offer_cancelled(qtbot, wallet_state, market_state, market_env):
    state, env = market_state, market_env
    ready(qtbot, wallet_state, state)
    answers = Answers(state)
    wallet_state.select_account(ACCOUNT_2)
    before = env.balance(ACCOUNT_2)
    made = act(qtbot, state, state.trades.make_offer(env.collection.address, env.token_id, "0.05", escrow=True))
    assert answers.actions == ["Making the offer"] and answers.seen[0].preview.value_wei == PRICE // 2
    sync(qtbot, state)
    [line] = state.offers_made.rows()
    assert line.offer.venue == "escrow" and state.offers_made.data(state.offers_made.index(0, 6)) == "open"
    withdrawn = act(qtbot, state, state.trades.withdraw_offer(line))
    assert before - env.balance(ACCOUNT_2) == made.result.fee_wei + withdrawn.result.fee_wei
    act(qtbot, state, state.trades.make_offer(env.collection.address, None, "0.01"))  # a collection offer, in WETH
    sync(qtbot, state)
    [line] = state.offers_made.rows()
    assert (line.offer.venue, line.offer.token_id) == (SEAPORT, None)
    act(qtbot, state, state.trades.withdraw_offer(line))
    assert answers.actions[-1] == "Cancelling the collection offer"
    sync(qtbot, state)
    assert state.offers_made.rowCount() == 0 and state.my_orders.rowCount() == 0


def test_change_price_and_cancel_from_my_collection(qtbot, wallet_state, market_state, market_env):
    state, env = market_state, market_env
    ready(qtbot, wallet_state, state)
    answers = Answers(state)
    act(qtbot, state, state.trades.list_token(held(state, ACCOUNT_1, env.token_id), "0.1"))
    sync(qtbot, state)
    token = held(state, ACCOUNT_1, env.token_id)
    assert token.listed and token.price_wei == PRICE and token.venue == SEAPORT
    assert state.held.data(state.held.index(0, 4)).startswith("0.1 ETH · Seaport until ")
    with pytest.raises(InputError, match="price it has now"):
        state.trades.change_price(token, "0.1")
    act(qtbot, state, state.trades.change_price(token, "0.25"))
    assert answers.actions[-2:] == ["Cancelling the listing", "Signing the listing"]  # the old price is void
    sync(qtbot, state)
    assert [(r.kind, r.price_wei) for r in state.listings.rows()] == [(SEAPORT, 25 * 10**16)]
    act(qtbot, state, state.trades.cancel_listing(held(state, ACCOUNT_1, env.token_id)))
    sync(qtbot, state)
    assert state.listings.rowCount() == 0 and not held(state, ACCOUNT_1, env.token_id).listed
    assert env.owner_of(env.token_id) == ACCOUNT_1 and state.my_orders.rowCount() == 0


def test_bulk_listing_search_sort_and_a_moved_token_never_for_sale(qtbot, wallet_state, market_state, market_env,
                                                                 tmp_path):
    state, env = market_state, market_env
    second, third = env.mint(3, tmp_path), env.mint(4, tmp_path)
    ready(qtbot, wallet_state, state)
    answers = Answers(state)
    tokens = [held(state, ACCOUNT_1, t) for t in (env.token_id, second, third)]
    with pytest.raises(InputError, match="Give each token a price"):
        state.trades.list_tokens(tokens, ["0.1"])
    act(qtbot, state, state.trades.list_tokens(tokens, ["0.3", "0.1", "0.2"], duration=86_400))
    assert answers.actions == [f"Approving Seaport for Dawns ({env.collection.address})",
                               "Signing 3 listings with one signature"]
    assert answers.seen[1].preview.primary_type == "BulkOrder"
    sync(qtbot, state)
    assert [r.price_wei for r in state.listings.rows()] == [PRICE, 2 * PRICE, 3 * PRICE]  # cheapest first
    assert state.my_orders.rowCount() == 3
    cards_loaded(qtbot, state)
    state.listings.set_sort("price_high")
    assert [r.price_wei for r in state.listings.rows()] == [3 * PRICE, 2 * PRICE, PRICE]
    state.listings.set_query("dawn 3")
    assert [r.token_id for r in state.listings.rows()] == [second]
    state.listings.set_query(f"#{third}")
    assert [r.token_id for r in state.listings.rows()] == [third]
    state.listings.set_query("DAWNS")  # the collection's name matches every row
    assert state.listings.rowCount() == 3
    state.listings.set_query(env.collection.address[:10])
    assert state.listings.rowCount() == 3
    state.listings.set_query("nothing like it")
    assert state.listings.rowCount() == 0 and len(state.listings.all_rows) == 3
    state.listings.set_query("")

    # The artist gives one token away elsewhere: its listing can no longer be filled, and is not for sale.
    env_contract = __import__("studio.chain.contracts", fromlist=["CollectionContract"]).CollectionContract(
        env.connection, env.collection.address)
    env_contract.transfer(env.artist, hd_signer(5).address, second)
    sync(qtbot, state)
    assert sorted(r.token_id for r in state.listings.rows()) == [env.token_id, third]
    stale = next(line for line in state.my_orders.rows() if line.order.token_id == second)
    assert stale.order.status == "unfillable"
    assert state.my_orders.data(state.my_orders.index(state.my_orders.rows().index(stale), 5)) == \
        "unfillable: The seller no longer holds this token."
    act(qtbot, state, state.trades.cancel_all_orders())
    assert answers.actions[-1] == "Cancelling all your Seaport orders"
    sync(qtbot, state)
    assert state.listings.rowCount() == 0 and state.my_orders.rowCount() == 0


def test_cancel_all_lazy_listings_of_a_collection(qtbot, wallet_state, market_state, market_env):
    state, env = market_state, market_env
    ready(qtbot, wallet_state, state)
    answers = Answers(state)
    act(qtbot, state, state.trades.lazy_list(env.collection, env.lazy_work, "Lazy dawn", "0.2", redeemer=ACCOUNT_2))
    assert dict(answers.seen[0].preview.fields)["redeemer"] == ACCOUNT_2
    sync(qtbot, state)
    assert [r.kind for r in state.listings.rows()] == [LAZY]
    wallet_state.select_account(ACCOUNT_2)
    with pytest.raises(InputError, match="belongs to Account 1"):
        state.trades.cancel_all_lazy(env.collection)
    wallet_state.select_account(ACCOUNT_1)
    act(qtbot, state, state.trades.cancel_all_lazy(env.collection))
    assert answers.actions[-1] == "Cancelling every lazy listing"
    sync(qtbot, state)
    assert state.listings.rowCount() == 0
    [voucher] = state.store.vouchers(env.connection.chain_id, status=None)
    assert voucher.status == CANCELLED


def test_switching_network_forgets_the_old_market(qtbot, wallet_state, market_state, market_env):
    state = market_state
    sync(qtbot, state)
    assert state.held.rowCount() == 1 and state.last_block > 0
    wallet_state.network_key_changed.emit("elsewhere")  # what a switch announces
    assert state.held.rowCount() == 0 and state.last_block == -1 and state.snapshot is None
    qtbot.waitUntil(lambda: state.held.rowCount() == 1, timeout=JOB_MS)  # read again on the (same) network


def test_the_market_is_read_again_while_visible_and_not_when_hidden(qtbot, wallet_state, market_env, pool):
    state = MarketState(wallet_state, market_env.library, pool, sync_interval_ms=150)
    reads: list[int] = []
    state.synced.connect(lambda: reads.append(state.last_block))
    state.set_visible(True)
    assert state.timer.isActive()
    qtbot.waitUntil(lambda: len(reads) >= 3, timeout=JOB_MS)
    state.set_visible(False)
    assert not state.timer.isActive()
    qtbot.waitUntil(lambda: not state.syncing, timeout=JOB_MS)
    settled = len(reads)
    qtbot.wait(450)
    assert len(reads) == settled
    state.stop()


def test_withdrawing_payments_when_none_are_held_says_so(qtbot, wallet_state, market_state, market_env):
    state = market_state
    ready(qtbot, wallet_state, state)
    with pytest.raises(InputError, match="holds nothing"):
        act(qtbot, state, state.trades.withdraw_proceeds())
    assert "holds nothing" in state.error
