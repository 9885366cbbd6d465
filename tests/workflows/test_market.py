"""Selling and buying on the embedded devnet (and a re-org on anvil): listings, lazy vouchers,
offers, previews that are refused, validation before anything is sent, and the library's view."""
from __future__ import annotations

import json

import pytest

from studio.chain.vouchers import voucher_signer
from studio.errors import Cancelled, InputError, NotFound
from studio.library import market as lm
from studio.library.db import Library, WorkQuery
from studio.library.market import MarketStore
from studio.storage.cid import Cid
from studio.workflows import market as wm
from studio.workflows import lazy_listings as lw
from studio.workflows.collections import create_collection
from studio.workflows.publish import file_commitment

TEST_MNEMONIC = "test test test test test test test test test test test junk"
PRICE = 10**17


class Previews:
    """A confirm callback that records what it was shown and answers `answer`."""

    def __init__(self, answer: bool = True) -> None:
        self.answer, self.seen = answer, []

    def __call__(self, preview) -> bool:
        self.seen.append(preview)
        return self.answer

    @property
    def actions(self) -> list[str]:
        return [getattr(p, "action", None) or p.kind for p in self.seen]


def _signers(count: int = 10):
    from eth_account import Account

    from studio.chain.transactions import LocalSigner

    Account.enable_unaudited_hdwallet_features()
    return [LocalSigner(Account.from_mnemonic(TEST_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}"))
            for i in range(count)]


class Market:
    """The devnet with a collection (artist 0, royalty 5% to account 9), its marketplace and a library."""

    def __init__(self, devnet, library: Library) -> None:
        self.devnet = devnet
        self.connection = devnet.connection()
        self.accounts = _signers()
        self.artist, self.buyer, self.bidder = self.accounts[0], self.accounts[1], self.accounts[2]
        self.royalty_receiver = self.accounts[9]
        self.marketplace = devnet.studio_contracts()["StudioMarketplace"]
        self.store = MarketStore(library)
        self.collection = create_collection(connection=self.connection, signer=self.artist, library=library,
                                            name="Dawns", symbol="DAWN",
                                            royalty_receiver=self.royalty_receiver.address, royalty_bps=500).address
        self.chain_id = self.connection.chain_id

    def contract(self):
        from studio.chain.contracts import CollectionContract

        return CollectionContract(self.connection, self.collection)

    def mint(self, to=None, content: bytes = b'{"name": "dawn"}') -> int:
        minted = self.contract().mint(self.artist, (to or self.artist).address, file_commitment(content))
        return minted.first_token_id

    def balance(self, signer) -> int:
        return self.connection.balance(signer.address)

    def kw(self, signer, confirm=None, **extra):
        return {"connection": self.connection, "signer": signer, "marketplace": self.marketplace,
                "collection": self.collection, "confirm": confirm or Previews(), "store": self.store, **extra}


@pytest.fixture
def market(studio_home):
    from studio.chain.devnet import Devnet

    devnet = Devnet.shared()
    with Library.default() as library:
        yield Market(devnet, library)
    devnet.close()


def test_list_then_buy_pays_seller_and_royalty_and_the_library_follows(market):
    token = market.mint()
    previews = Previews()
    listed = wm.list_token(**market.kw(market.artist, previews), token_id=token, price_wei=PRICE)
    assert previews.actions == [f"Approving the marketplace for token {token}", "Listing the token"]
    assert len(listed.receipts) == 2
    [row] = market.store.active_listings(market.chain_id)
    assert (row.collection, row.token_id, row.seller, row.price_wei) == (market.collection, token,
                                                                         market.artist.address, PRICE)
    assert [(t.token_id, t.listed) for t in market.store.my_tokens(market.chain_id, market.artist.address)] == [
        (token, True)]
    quote = wm.quote_listing(market.connection, market.marketplace, market.collection, token)
    before = {s.address: market.balance(s) for s in (market.artist, market.buyer, market.royalty_receiver)}
    bought = wm.buy_listing(**market.kw(market.buyer), token_id=token, expected_price_wei=PRICE)
    royalty = PRICE * 500 // 10_000
    assert quote.royalty_wei == royalty and quote.proceeds_wei == PRICE - royalty
    assert market.balance(market.artist) - before[market.artist.address] == PRICE - royalty
    assert market.balance(market.royalty_receiver) - before[market.royalty_receiver.address] == royalty
    assert before[market.buyer.address] - market.balance(market.buyer) == PRICE + bought.fee_wei
    assert market.contract().owner_of(token) == market.buyer.address
    assert market.store.active_listings(market.chain_id) == []
    sold = market.store.listing(market.chain_id, market.collection, token)
    assert (sold.status, sold.buyer) == (lm.SOLD_STATUS, market.buyer.address)
    assert [t.token_id for t in market.store.my_tokens(market.chain_id, market.buyer.address)] == [token]
    assert market.store.my_tokens(market.chain_id, market.artist.address) == []
    with pytest.raises(InputError, match="not listed"):
        wm.buy_listing(**market.kw(market.bidder), token_id=token)


def test_second_listing_needs_no_new_approval_when_the_marketplace_is_approved_for_all(market):
    market.contract().set_approval_for_all(market.artist, market.marketplace)
    previews = Previews()
    wm.list_token(**market.kw(market.artist, previews), token_id=market.mint(), price_wei=5)
    assert previews.actions == ["Listing the token"]


def test_change_price_and_cancel_listing(market):
    token = market.mint()
    wm.list_token(**market.kw(market.artist), token_id=token, price_wei=PRICE)
    with pytest.raises(InputError, match="already listed"):
        wm.list_token(**market.kw(market.artist), token_id=token, price_wei=PRICE)
    with pytest.raises(InputError, match="only its seller"):
        wm.change_price(**market.kw(market.buyer), token_id=token, price_wei=1)
    with pytest.raises(InputError, match="more than zero"):
        wm.change_price(**market.kw(market.artist), token_id=token, price_wei=0)
    wm.change_price(**market.kw(market.artist), token_id=token, price_wei=PRICE // 2)
    assert market.store.active_listings(market.chain_id)[0].price_wei == PRICE // 2
    with pytest.raises(InputError, match="changed to"):
        wm.buy_listing(**market.kw(market.buyer), token_id=token, expected_price_wei=PRICE)
    with pytest.raises(InputError, match="only its seller"):
        wm.cancel_listing(**market.kw(market.buyer), token_id=token)
    wm.cancel_listing(**market.kw(market.artist), token_id=token)
    assert market.contract().owner_of(token) == market.artist.address
    assert market.store.active_listings(market.chain_id) == []
    assert market.store.listing(market.chain_id, market.collection, token).status == lm.CANCELLED
    with pytest.raises(InputError, match="not listed"):
        wm.cancel_listing(**market.kw(market.artist), token_id=token)


def test_validation_refuses_before_any_preview(market):
    token = market.mint()
    previews = Previews()
    with pytest.raises(InputError, match="more than zero"):
        wm.list_token(**market.kw(market.artist, previews), token_id=token, price_wei=0)
    with pytest.raises(InputError, match="belongs to"):
        wm.list_token(**market.kw(market.buyer, previews), token_id=token, price_wei=1)
    with pytest.raises(NotFound, match="does not exist"):
        wm.list_token(**market.kw(market.artist, previews), token_id=token + 50, price_wei=1)
    with pytest.raises(InputError, match="is yours"):
        wm.make_offer(**market.kw(market.artist, previews), token_id=token, amount_wei=1)
    with pytest.raises(InputError, match="no offer"):
        wm.withdraw_offer(**market.kw(market.buyer, previews), token_id=token)
    with pytest.raises(InputError, match="holds nothing"):
        wm.withdraw_proceeds(connection=market.connection, signer=market.artist, marketplace=market.marketplace,
                             confirm=previews)
    wm.list_token(**market.kw(market.artist), token_id=token, price_wei=wm.MAX_PRICE_WEI)
    with pytest.raises(InputError, match="holds only"):
        wm.buy_listing(**market.kw(market.buyer, previews), token_id=token)
    with pytest.raises(InputError, match="You are the seller"):
        wm.buy_listing(**market.kw(market.artist, previews), token_id=token)
    assert previews.seen == []


def test_a_refused_preview_sends_nothing(market):
    token = market.mint()
    nonce_before = market.connection.web3.eth.get_transaction_count(market.artist.address)
    refuse = Previews(answer=False)
    with pytest.raises(Cancelled, match="nothing was sent"):
        wm.list_token(**market.kw(market.artist, refuse), token_id=token, price_wei=PRICE)
    assert len(refuse.seen) == 1 and refuse.seen[0].sender == market.artist.address
    assert market.connection.web3.eth.get_transaction_count(market.artist.address) == nonce_before
    assert market.contract().owner_of(token) == market.artist.address
    wm.list_token(**market.kw(market.artist), token_id=token, price_wei=PRICE)
    balance = market.balance(market.buyer)
    with pytest.raises(Cancelled):
        wm.buy_listing(**market.kw(market.buyer, Previews(answer=False)), token_id=token)
    assert market.balance(market.buyer) == balance
    assert market.contract().owner_of(token) == market.marketplace
    with pytest.raises(Cancelled, match="not signed"):
        lw.lazy_list(connection=market.connection, signer=market.artist, store=market.store,
                     collection=market.collection, metadata=b'{"name": "never"}', price_wei=1,
                     confirm=Previews(answer=False))
    assert market.store.vouchers(market.chain_id) == []


def test_lazy_voucher_is_bought_minted_to_the_buyer_and_pays_the_artist(market):
    from studio.storage.store import LocalStore

    content = LocalStore.default()
    metadata = b'{"name": "Lazy dawn", "image": "ipfs://bafkreiexample"}'
    previews = Previews()
    row = lw.lazy_list(connection=market.connection, signer=market.artist, store=market.store,
                       collection=market.collection, metadata=metadata, price_wei=PRICE, confirm=previews,
                       content_store=content)
    assert previews.seen[0].primary_type == "MintVoucher"  # the artist saw what is signed; no gas
    assert row.status == lm.ACTIVE and row.voucher_cid and row.metadata_cid == file_commitment(metadata).cid
    assert content.cat(Cid.parse(row.voucher_cid)) == row.voucher_json.encode()
    assert content.cat(Cid.parse(row.metadata_cid)) == metadata
    signed = lw.parse_voucher_json(row.voucher_json)
    assert voucher_signer(signed) == market.artist.address
    assert [v.id for v in market.store.vouchers(market.chain_id)] == [row.id]
    with pytest.raises(InputError, match="Only the collection's owner"):
        lw.lazy_list(connection=market.connection, signer=market.buyer, store=market.store,
                     collection=market.collection, metadata=metadata, price_wei=PRICE, confirm=Previews())
    with pytest.raises(InputError, match="yourself"):
        lw.buy_voucher(connection=market.connection, signer=market.artist, voucher=row, confirm=Previews())
    artist_before = market.balance(market.artist)
    bought = lw.buy_voucher(connection=market.connection, signer=market.buyer, voucher=row, confirm=Previews(),
                            store=market.store, marketplace=market.marketplace)
    assert market.contract().owner_of(bought.token_id) == market.buyer.address
    assert market.contract().token_uri(bought.token_id) == f"ipfs://{row.metadata_cid}"
    assert market.balance(market.artist) - artist_before == PRICE
    redeemed = market.store.voucher(row.id)
    assert (redeemed.status, redeemed.token_id, redeemed.redeemer) == (lm.REDEEMED, bought.token_id,
                                                                       market.buyer.address)
    assert market.store.vouchers(market.chain_id) == []
    assert bought.token_id in [t.token_id for t in market.store.my_tokens(market.chain_id, market.buyer.address)]
    with pytest.raises(InputError, match="already bought"):
        lw.buy_voucher(connection=market.connection, signer=market.bidder, voucher=row.voucher_json,
                       confirm=Previews())
    with pytest.raises(InputError, match="not a studio mint voucher"):
        lw.parse_voucher_json(json.dumps({"format": "other"}))


def test_offers_are_made_withdrawn_and_accepted(market):
    token = market.mint()
    bidder, buyer = market.bidder, market.buyer
    wm.make_offer(**market.kw(bidder), token_id=token, amount_wei=300)
    wm.make_offer(**market.kw(bidder), token_id=token, amount_wei=200)  # adds to the escrow
    assert [(o.buyer, o.amount_wei) for o in market.store.offers_by(market.chain_id, bidder.address)] == [
        (bidder.address, 500)]
    before = market.balance(bidder)
    withdrawn = wm.withdraw_offer(**market.kw(bidder), token_id=token)
    assert market.balance(bidder) == before + 500 - withdrawn.fee_wei
    assert market.store.offers_by(market.chain_id, bidder.address) == []
    wm.make_offer(**market.kw(buyer), token_id=token, amount_wei=PRICE)
    wm.make_offer(**market.kw(bidder), token_id=token, amount_wei=PRICE // 2)
    incoming = wm.incoming_offers(market.connection, market.marketplace, market.store, market.artist.address)
    assert [(o.buyer, o.amount_wei) for o in incoming] == [(buyer.address, PRICE), (bidder.address, PRICE // 2)]
    with pytest.raises(InputError, match="only its owner"):
        wm.accept_offer(**market.kw(bidder), token_id=token, buyer=buyer.address)
    with pytest.raises(InputError, match="offer changed"):
        wm.accept_offer(**market.kw(market.artist), token_id=token, buyer=buyer.address, amount_wei=PRICE - 1)
    previews = Previews()
    artist_before = market.balance(market.artist)
    accepted = wm.accept_offer(**market.kw(market.artist, previews), token_id=token, buyer=buyer.address,
                               amount_wei=PRICE)
    assert previews.actions == [f"Approving the marketplace for token {token}", "Accepting the offer"]
    royalty = PRICE * 500 // 10_000
    assert market.balance(market.artist) - artist_before == PRICE - royalty - accepted.fee_wei
    assert market.contract().owner_of(token) == buyer.address
    assert [o.status for o in market.store.offers_for(market.chain_id, market.collection, token, status=None)
            if o.buyer == buyer.address] == [lm.ACCEPTED]
    # The other offer stays in escrow and is now an offer to the new owner.
    assert [o.buyer for o in wm.incoming_offers(market.connection, market.marketplace, market.store,
                                                buyer.address)] == [bidder.address]


def test_seller_accepts_an_offer_on_a_listed_token(market):
    token = market.mint()
    wm.list_token(**market.kw(market.artist), token_id=token, price_wei=PRICE)
    wm.make_offer(**market.kw(market.bidder), token_id=token, amount_wei=PRICE // 4)
    previews = Previews()
    wm.accept_offer(**market.kw(market.artist, previews), token_id=token, buyer=market.bidder.address)
    assert previews.actions == ["Accepting the offer"]
    assert market.contract().owner_of(token) == market.bidder.address
    assert market.store.active_listings(market.chain_id) == []


@pytest.fixture
def anvil_market(studio_home):
    """A marketplace and collection on a private anvil node (re-orgs need evm_snapshot/evm_revert)."""
    from studio.chain.anvil import AnvilProcess
    from studio.chain.contracts import CollectionContract, MarketplaceContract
    from studio.chain.transactions import Connection

    process = AnvilProcess()
    try:
        connection = Connection.from_url(process.url)
        signers = _signers()
        collection, _ = CollectionContract.deploy(connection, signers[0], name="Fork", symbol="FRK",
                                                  royalty_receiver=signers[9].address, royalty_bps=500)
        market, _ = MarketplaceContract.deploy(connection, signers[8])
        with Library.default() as library:
            yield connection, signers, collection, market, MarketStore(library)
    finally:
        process.stop()


def test_sync_rolls_back_a_reorg_and_keeps_the_library_consistent(anvil_market):
    from studio.chain.nonces import shared_nonce_manager, node_key

    connection, signers, collection, market, store = anvil_market
    artist, buyer = signers[0], signers[1]
    token = collection.mint(artist, artist.address, file_commitment(b'{"name": "fork"}')).first_token_id
    kw = {"connection": connection, "marketplace": market.address, "collection": collection.address,
          "confirm": Previews(), "store": store}
    wm.list_token(signer=artist, token_id=token, price_wei=PRICE, **kw)
    snapshot = connection.web3.provider.make_request("evm_snapshot", [])["result"]
    wm.buy_listing(signer=buyer, token_id=token, **kw)
    assert store.active_listings(connection.chain_id) == []
    assert store.owner_of(connection.chain_id, collection.address, token) == buyer.address
    # The purchase's block leaves the chain; another branch grows longer without it.
    assert connection.web3.provider.make_request("evm_revert", [snapshot])["result"] is True
    shared_nonce_manager().forget_node(node_key(connection))
    connection.web3.provider.make_request("anvil_mine", ["0x3"])
    result = wm.sync_market(connection, market.address, store)
    assert result.rolled_back_from is not None
    [listing] = store.active_listings(connection.chain_id)
    assert (listing.token_id, listing.seller) == (token, artist.address)
    assert store.owner_of(connection.chain_id, collection.address, token) == market.address
    # Idempotent: syncing again changes nothing.
    assert wm.sync_market(connection, market.address, store).new_events == 0
    assert store.active_listings(connection.chain_id) == [listing]


def _work_file(folder, name: str = "dawn.png", colour=(200, 120, 40)):
    from PIL import Image

    path = folder / name
    Image.new("RGB", (32, 32), colour).save(path)
    return path


def test_a_bought_lazy_listing_records_its_token_against_the_work_which_cannot_be_minted_twice(market, tmp_path):
    """Whoever redeems the voucher (here a buyer with no studio library), the artist's next sync
    records the token against the work: the Gallery shows it minted and a mint is refused, also
    before that sync and after a restart."""
    from studio.storage.store import LocalStore
    from studio.workflows.mint import MintItem, estimate_mint, mint_works

    library, content = market.store.library, LocalStore.default()
    item = MintItem(_work_file(tmp_path), "Lazy dawn")
    row = lw.lazy_list_work(connection=market.connection, signer=market.artist, store=market.store,
                            collection=market.collection, item=item, price_wei=PRICE, content_store=content,
                            confirm=Previews())
    [work] = library.works()
    assert row.work_id == work.id and library.tokens_of_work(work.id) == []
    with pytest.raises(InputError, match="lazily listed"):  # a mint now would make a second token later
        mint_works([item], market.collection, signer=market.artist, connection=market.connection, store=content,
                   library=library)
    # The buyer redeems from elsewhere: the artist's library has not seen it yet.
    bought = lw.buy_voucher(connection=market.connection, signer=market.buyer, voucher=row.voucher_json,
                            confirm=Previews())
    with pytest.raises(InputError, match="bought"):
        mint_works([item], market.collection, signer=market.artist, connection=market.connection, store=content,
                   library=library)
    wm.sync_market(market.connection, market.marketplace, market.store)
    [token] = library.tokens_of_work(work.id)
    assert (token.collection, token.token_id, token.owner) == (market.collection, bought.token_id,
                                                               market.buyer.address)
    assert token.metadata_cid == row.metadata_cid and token.tx_hash == bought.tx_hash
    with pytest.raises(InputError, match=f"already minted in Dawns as token {bought.token_id}"):
        mint_works([item], market.collection, signer=market.artist, connection=market.connection, store=content,
                   library=library)
    library.close()
    with Library.default() as reopened:  # a restart
        assert [t.token_id for t in reopened.tokens_of_work(work.id)] == [bought.token_id]
        with pytest.raises(InputError, match="already minted"):
            estimate_mint([item], market.collection, signer=market.artist, connection=market.connection,
                          library=reopened, store=content)
        assert reopened.work_rows(WorkQuery(status="not-minted")) == []


def test_an_expired_escrow_offer_stops_showing_as_active_but_can_be_withdrawn(market):
    token = market.mint()
    bidder = market.bidder
    expiry = market.connection.latest_block_time() + 300
    wm.make_offer(**market.kw(bidder), token_id=token, amount_wei=500, expiry=expiry)
    [offer] = wm.incoming_offers(market.connection, market.marketplace, market.store, market.artist.address)
    assert (offer.buyer, offer.amount_wei, offer.expiry) == (bidder.address, 500, expiry)
    market.devnet.request("evm_increaseTime", [600])
    market.devnet.request("evm_mine", [])
    assert wm.incoming_offers(market.connection, market.marketplace, market.store, market.artist.address) == []
    now = market.connection.latest_block_time()
    assert market.store.offers_for(market.chain_id, market.collection, token, now=now) == []
    [mine] = market.store.offers_by(market.chain_id, bidder.address)  # still there: its ETH waits to be withdrawn
    assert mine.expired(now) and mine.status == lm.ACTIVE
    with pytest.raises(InputError, match="has expired"):
        wm.accept_offer(**market.kw(market.artist), token_id=token, buyer=bidder.address)
    before = market.balance(bidder)
    withdrawn = wm.withdraw_offer(**market.kw(bidder), token_id=token)
    assert market.balance(bidder) - before == 500 - withdrawn.fee_wei
    assert market.store.offers_by(market.chain_id, bidder.address) == []


def test_a_work_whose_file_changed_since_it_was_saved_is_not_lazily_listed(market, tmp_path):
    """Listed by id (the Gallery's way), the file is hashed before anything is stored or signed."""
    from PIL import Image

    from studio.storage.store import LocalStore
    from studio.workflows.library import add_saved_work
    from studio.workflows.mint import MintItem

    library, content = market.store.library, LocalStore.default()
    path = _work_file(tmp_path)
    work = add_saved_work(library, path, owned=False)
    Image.new("RGB", (32, 32), (1, 1, 1)).save(path)
    previews = Previews()
    with pytest.raises(InputError, match=f"The file of work {work.id} \\(dawn.png\\) changed since it was saved"):
        lw.lazy_list_work(connection=market.connection, signer=market.artist, store=market.store,
                          collection=market.collection, item=MintItem.of_work(work, "Edited"), price_wei=PRICE,
                          content_store=content, confirm=previews)
    assert previews.seen == [] and market.store.vouchers(market.connection.chain_id) == []  # nothing signed
    assert content.pins() == []  # nothing stored
