"""Lazy listings on the embedded devnet: vouchers signed for the collection's current epoch, optionally
reserved for one buyer, carried whole in the voucher JSON; "cancel all lazy listings" voids every
voucher signed before in one transaction, and the library follows (at once and from the event)."""
from __future__ import annotations

import json

import pytest

from studio.chain.vouchers import voucher_signer
from studio.errors import Cancelled, InputError
from studio.library import market as lm
from studio.library.db import Library
from studio.library.market import MarketStore
from studio.workflows import lazy_listings as lw
from studio.workflows import market as wm
from studio.workflows.collections import create_collection

from test_market import Previews, _signers

PRICE = 10**17


class Lazy:
    def __init__(self, devnet, library: Library) -> None:
        self.devnet = devnet
        self.connection = devnet.connection()
        self.artist, self.buyer, self.other = _signers(3)
        self.marketplace = devnet.studio_contracts()["StudioMarketplace"]
        self.store = MarketStore(library)
        self.collection = create_collection(connection=self.connection, signer=self.artist, library=library,
                                            name="Dawns", symbol="DAWN", royalty_receiver=self.artist.address,
                                            royalty_bps=500).address
        self.chain_id = self.connection.chain_id

    def list(self, name: str, **extra):
        return lw.lazy_list(connection=self.connection, signer=self.artist, store=self.store,
                            collection=self.collection, metadata=json.dumps({"name": name}).encode(),
                            price_wei=PRICE, confirm=extra.pop("confirm", Previews()), **extra)

    def buy(self, signer, voucher):
        return lw.buy_voucher(connection=self.connection, signer=signer, voucher=voucher, confirm=Previews(),
                              store=self.store, marketplace=self.marketplace)


@pytest.fixture
def lazy(studio_home):
    from studio.chain.devnet import Devnet

    devnet = Devnet.shared()
    with Library.default() as library:
        yield Lazy(devnet, library)
    devnet.close()


def test_a_voucher_reserved_for_one_buyer_carries_its_redeemer_and_epoch_and_only_they_can_buy(lazy):
    previews = Previews()
    row = lazy.list("for two", redeemer=lazy.buyer.address, confirm=previews)
    [preview] = previews.seen
    fields = dict(preview.fields)
    assert preview.primary_type == "MintVoucher" and fields["redeemer"] == lazy.buyer.address
    assert fields["epoch"] == "0" and preview.action == "Signing a mint voucher"
    data = json.loads(row.voucher_json)
    assert (data["version"], data["form"]) == (2, 2)
    assert (data["voucher"]["redeemer"], data["voucher"]["epoch"]) == (lazy.buyer.address, "0")
    signed = lw.parse_voucher_json(row.voucher_json)
    assert (signed.voucher.redeemer, signed.voucher.epoch) == (lazy.buyer.address, 0)
    assert voucher_signer(signed) == lazy.artist.address and row.epoch == 0
    with pytest.raises(InputError, match="reserved for"):
        lazy.buy(lazy.other, row)
    bought = lazy.buy(lazy.buyer, row)
    assert lazy.store.voucher(row.id).status == lm.REDEEMED and bought.token_id is not None
    with pytest.raises(InputError, match="cannot be the artist"):
        lazy.list("self", redeemer=lazy.artist.address)


def test_cancel_all_lazy_listings_voids_every_earlier_voucher_in_one_transaction(lazy):
    first, second = lazy.list("one"), lazy.list("two")
    with pytest.raises(InputError, match="Only the collection's owner"):
        lw.cancel_all_lazy_listings(connection=lazy.connection, signer=lazy.buyer, collection=lazy.collection,
                                    confirm=Previews(), store=lazy.store)
    with pytest.raises(Cancelled):
        lw.cancel_all_lazy_listings(connection=lazy.connection, signer=lazy.artist, collection=lazy.collection,
                                    confirm=Previews(False), store=lazy.store)
    assert len(lazy.store.vouchers(lazy.chain_id)) == 2
    previews = Previews()
    result = lw.cancel_all_lazy_listings(connection=lazy.connection, signer=lazy.artist, collection=lazy.collection,
                                         confirm=previews, store=lazy.store, marketplace=lazy.marketplace)
    [preview] = previews.seen
    assert preview.action == "Cancelling every lazy listing" and preview.call.function == "cancelAllVouchers"
    assert "(2 open" in dict(preview.details)["Cancels"] and result.tx_hash
    assert lazy.store.vouchers(lazy.chain_id) == []
    assert {lazy.store.voucher(r.id).status for r in (first, second)} == {lm.CANCELLED}
    with pytest.raises(InputError, match="cancelled"):
        lazy.buy(lazy.buyer, first)
    with pytest.raises(InputError, match="The artist cancelled this lazy listing"):
        lazy.buy(lazy.buyer, first.voucher_json)  # the file a buyer kept elsewhere
    # a later sync reads VouchersCancelled and keeps them cancelled; a new voucher is for epoch 1
    wm.sync_market(lazy.connection, lazy.marketplace, lazy.store)
    assert {lazy.store.voucher(r.id).status for r in (first, second)} == {lm.CANCELLED}
    third = lazy.list("three")
    assert third.epoch == 1 and json.loads(third.voucher_json)["voucher"]["epoch"] == "1"
    wm.sync_market(lazy.connection, lazy.marketplace, lazy.store)
    assert [v.id for v in lazy.store.vouchers(lazy.chain_id)] == [third.id]
    bought = lazy.buy(lazy.buyer, third)
    assert lazy.store.voucher(third.id).status == lm.REDEEMED and bought.price_wei == PRICE


def test_a_voucher_file_of_the_first_version_still_reads(lazy):
    row = lazy.list("old file")
    data = json.loads(row.voucher_json)
    old = {"format": data["format"], "version": 1, "chain_id": data["chain_id"], "collection": data["collection"],
           "metadata_cid": data["metadata_cid"], "signature": data["signature"],
           "voucher": {k: v for k, v in data["voucher"].items() if k not in ("redeemer", "epoch")}}
    signed = lw.parse_voucher_json(json.dumps(old))
    assert (signed.version, signed.voucher.redeemer, signed.voucher.epoch) == (2, None, 0)
    assert lazy.buy(lazy.buyer, json.dumps(old)).token_id is not None
