"""Lazy listings: a work sold before it is minted, as an EIP-712 mint voucher the artist signs (no gas).

    row = lazy_list(connection=c, signer=artist, store=s, collection=a, metadata=m, price_wei=p, confirm=ask)
    buy_voucher(connection=c, signer=collector, voucher=row, confirm=ask)     # pays the artist, mints to the buyer
    cancel_all_lazy_listings(connection=c, signer=artist, collection=a, confirm=ask, store=s)  # one transaction

The voucher commits to the token's metadata, its price, expiry and royalty, and, on collections
that have voucher epochs, to the collection's current epoch and (optionally) the one account
allowed to redeem it. `cancel_all_lazy_listings` starts a new epoch, which voids every voucher
signed before. The voucher JSON (`studio buy --voucher FILE`) carries all of it.
"""
from __future__ import annotations

import json
import secrets
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from studio.chain.transactions import Flow
from studio.errors import Cancelled, ChainError, InputError
from studio.library.market import ACTIVE, CANCELLED, MarketStore, VoucherRow
from studio.workflows.market import (Confirm, MarketReceipt, check_balance, check_price, collection_contract,
                                     collection_label, hex_text, sync_market, transact)

if TYPE_CHECKING:
    from studio.chain.contracts import CollectionContract
    from studio.chain.history import TxHistory
    from studio.chain.networks import Network
    from studio.chain.transactions import Connection, Signer
    from studio.chain.vouchers import SignedVoucher
    from studio.storage.store import ContentStore
    from studio.workflows.mint import MintItem

DEFAULT_VOUCHER_DAYS = 30
VOUCHER_FORMAT = "studio-mint-voucher"
#: The voucher file's own version: 2 names the redeemer, the epoch and the signed form.
VOUCHER_FILE_VERSION = 2
#: The largest voucher file read (a voucher is under 1 KB).
MAX_VOUCHER_BYTES = 64 * 1024


def lazy_list(*, connection: "Connection", signer: "Signer", store: MarketStore, collection: str, metadata: bytes,
              price_wei: int, confirm: Confirm, expiry: int | None = None, nonce: int | None = None,
              royalty_receiver: str | None = None, royalty_bps: int = 0, redeemer: str | None = None,
              content_store: "ContentStore | None" = None, work_id: int | None = None,
              media_cid: str | None = None) -> VoucherRow:
    """List a work that is not minted yet: the artist signs a mint voucher (no gas, no transaction).

    The voucher commits to the token's metadata file (`metadata`, its raw CIDv1); whoever
    redeems it (only `redeemer`, when named) pays `price_wei` to the artist and receives the newly
    minted token. It is signed in the form the collection takes, for its current voucher epoch. The
    voucher is kept in the library and, with a `content_store`, the metadata and the voucher JSON
    are published there too (so a buyer elsewhere can fetch both). With `work_id` (the library's
    work it sells), its redemption records the token against that work.
    """
    from studio.chain.contracts import checksum
    from studio.chain.transactions import typed_data_preview
    from studio.chain.vouchers import MintVoucher, sign_voucher, voucher_typed_data
    from studio.workflows.publish import file_commitment

    check_price(price_wei)
    token = collection_contract(connection, collection)
    artist = token.owner()
    if artist != signer.address:
        raise InputError(f"Only the collection's owner ({artist}) can sign its mint vouchers, not {signer.address}.")
    version = token.voucher_version()
    if redeemer is not None and version == 1:
        raise InputError("This collection was deployed before vouchers could name their buyer.",
                         hint="Leave the buyer out: anyone may buy the lazy listing.")
    redeemer = checksum(redeemer, "buyer") if redeemer else None
    if redeemer is not None and redeemer == artist:
        raise InputError("The buyer named in a voucher cannot be the artist.")
    epoch = token.voucher_epoch()
    commitment = file_commitment(metadata)
    now = int(time.time())
    expiry = now + DEFAULT_VOUCHER_DAYS * 86_400 if expiry is None else int(expiry)
    if expiry <= now:
        raise InputError("A voucher's expiry must be in the future.")
    chain_id = connection.chain_id
    if nonce is None:
        nonce = _fresh_nonce(token, store, chain_id)
    elif token.is_nonce_used(nonce) or nonce in store.used_nonces(chain_id, token.address):
        raise InputError(f"Voucher nonce {nonce} was already used in this collection.",
                         hint="Leave the nonce out and the studio picks a fresh one.")
    voucher = MintVoucher(commitment.digest, price_wei, nonce, expiry,
                          checksum(royalty_receiver, "royalty receiver") if royalty_receiver else None, royalty_bps,
                          redeemer, epoch)
    typed = voucher_typed_data(voucher, token.address, chain_id, version)
    preview = replace(typed_data_preview(signer.address, typed), action="Signing a mint voucher")
    if not confirm(preview):
        raise Cancelled("The voucher was not signed; nothing was listed.")
    signed = sign_voucher(signer, voucher, token.address, chain_id, version)
    metadata_cid = commitment.cid
    if content_store is not None:
        stored = str(content_store.add_bytes(metadata, cid_version=1))
        if stored != metadata_cid:
            raise ChainError(f"The storage backend named the metadata {stored}, not {metadata_cid}; nothing was "
                             "listed.", hint="Check the storage backend's settings (CID version 1, raw leaves).")
    text = voucher_json(signed, metadata_cid=metadata_cid)
    row = store.add_voucher(VoucherRow(None, chain_id, token.address, nonce, artist, price_wei, expiry,
                                       "0x" + commitment.digest.hex(), metadata_cid, None, text, ACTIVE, None, None,
                                       time.time(), work_id, media_cid, epoch=epoch))
    if content_store is not None:
        cid = str(content_store.add_bytes(text.encode("utf-8"), cid_version=1))
        store.set_voucher_cid(row.id, cid)  # type: ignore[arg-type]
        row = store.voucher(row.id)  # type: ignore[arg-type]
    return row


def lazy_list_work(*, connection: "Connection", signer: "Signer", store: MarketStore, collection: str,
                   item: "MintItem", price_wei: int, content_store: "ContentStore", confirm: Confirm,
                   expiry: int | None = None, redeemer: str | None = None) -> VoucherRow:
    """Lazily list a work file of the library: store its image, build its token metadata (name,
    description, license, traits, the embedded provenance summary) as a mint would, then sign
    the voucher (`lazy_list`). Refused for a work already minted or lazily listed in the collection.
    """
    from studio.chain.contracts import checksum
    from studio.workflows.mint import checked_media_cid, read_work_file

    check_price(price_wei)
    address = checksum(collection, "collection address")
    library = store.library
    entry = read_work_file(item, library)
    for token in library.tokens_of_work(entry.work.id):
        if token.chain_id == connection.chain_id and token.collection.lower() == address.lower():
            raise InputError(f"{item.path.name} is already minted in this collection as token {token.token_id}.",
                             hint="List that token instead.")
    entry.build_metadata(checked_media_cid(entry))
    for voucher in store.vouchers(connection.chain_id, collection=address):
        if voucher.metadata_cid == entry.metadata_cid:
            raise InputError(f"{item.path.name} is already lazily listed at {voucher.price_wei} wei.",
                             hint="Buyers can buy that listing; it mints the token.")
    stored = str(content_store.add_path(item.path, cid_version=1))
    if stored != entry.media_cid:
        raise ChainError(f"The storage backend named the image {stored}, not {entry.media_cid}; nothing was listed.",
                         hint="Check the storage backend's settings (CID version 1, raw leaves).")
    receiver: str | None = None
    if item.royalty_bps is not None:
        known = library.collection(connection.chain_id, address)
        receiver = (known.royalty_receiver if known is not None else None) or signer.address
    return lazy_list(connection=connection, signer=signer, store=store, collection=address,
                     metadata=entry.metadata, price_wei=price_wei, confirm=confirm, expiry=expiry,
                     content_store=content_store, royalty_receiver=receiver,
                     royalty_bps=item.royalty_bps if item.royalty_bps is not None else 0, redeemer=redeemer,
                     work_id=entry.work.id, media_cid=entry.media_cid)


def buy_voucher(*, connection: "Connection", signer: "Signer", voucher: "SignedVoucher | VoucherRow | str",
                confirm: Confirm, store: MarketStore | None = None, marketplace: str | None = None,
                network: "Network | None" = None, history: "TxHistory | None" = None,
                timeout: float = 120.0) -> MarketReceipt:
    """Redeem a lazy listing: pay the artist its price; the token is minted to the buyer."""
    from studio.chain.vouchers import voucher_signer

    signed = _signed(voucher)
    if signed.chain_id != connection.chain_id:
        raise InputError(f"This voucher is for chain {signed.chain_id}, but the node serves chain "
                         f"{connection.chain_id}.", hint="Switch to the network the voucher was made on.")
    token = collection_contract(connection, signed.collection)
    if signed.version == 2 and token.voucher_version() == 1 and signed.voucher.redeemer is None and \
            signed.voucher.epoch == 0:  # a file from before voucher epochs names no form: the collection's
        signed = replace(signed, version=1)
    item = signed.voucher
    artist = token.owner()
    if voucher_signer(signed) != artist:
        raise InputError("This voucher was not signed by the collection's current owner, so it cannot be redeemed.")
    if artist == signer.address:
        raise InputError("You signed this voucher yourself; buying it would pay you.",
                         hint="Mint the work instead.")
    if item.redeemer is not None and item.redeemer.lower() != signer.address.lower():
        raise InputError(f"This lazy listing is reserved for {item.redeemer}; only that account can buy it.")
    if token.is_nonce_used(item.nonce):
        raise InputError("This lazy listing was already bought or withdrawn.")
    if signed.version == 2 and item.epoch != token.voucher_epoch():
        raise InputError("The artist cancelled this lazy listing (with all their earlier ones).",
                         hint="Ask the artist for a new one.")
    if connection.latest_block_time() > item.expiry:
        raise InputError("This lazy listing has expired.", hint="Ask the artist for a new one.")
    check_balance(connection, signer, item.price_wei, "The lazy listing")
    royalty = (f"{item.royalty_bps / 100:g} % to {item.royalty_receiver}" if item.royalty_receiver else
               "the collection's default")
    details: list[tuple[str, str | int]] = [
        ("Mints", f"a new token of {collection_label(token)} to you"), ("Price", int(item.price_wei)),
        ("Content", "0x" + item.content_digest.hex()), ("Royalty", royalty), ("Voucher nonce", str(item.nonce)),
        ("Valid until", time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(item.expiry)))]
    if item.redeemer is not None:
        details.append(("Reserved for", f"{item.redeemer} (you)"))
    details += [("Signed by", f"{artist} (the collection's owner)"), ("Signature", hex_text(signed.signature))]
    request = replace(token.redeem_tx(signed, action="Buying (minting) the token"), details=tuple(details),
                      flows=(Flow("You", signer.address, "sends", item.price_wei),
                             Flow("You", signer.address, "receives", 0, "now", "the token, minted"),
                             Flow("The artist", artist, "receives", item.price_wei)))
    receipt = transact(connection, signer, request, confirm=confirm, network=network, history=history,
                       timeout=timeout)
    token_id = token.redeemed_token_id(receipt)
    if token_id is None:
        raise ChainError(f"The purchase {receipt.tx_hash} was mined but minted no token.",
                         hint="Look the transaction up in a block explorer.")
    result = MarketReceipt("buy-voucher", token.address, token_id, item.price_wei, (receipt,))
    if store is not None and marketplace is not None:
        sync_market(connection, marketplace, store, collections=[token.address])
    return result


def cancel_all_lazy_listings(*, connection: "Connection", signer: "Signer", collection: str, confirm: Confirm,
                             store: MarketStore | None = None, marketplace: str | None = None,
                             network: "Network | None" = None, history: "TxHistory | None" = None,
                             timeout: float = 120.0) -> MarketReceipt:
    """Void every mint voucher of a collection signed so far, in one transaction (a new voucher epoch).

    The collection's owner only; the library marks its lazy listings of the collection cancelled
    (at once, and again from the `VouchersCancelled` event on the next sync)."""
    token = collection_contract(connection, collection)
    artist = token.owner()
    if artist != signer.address:
        raise InputError(f"Only the collection's owner ({artist}) can cancel its lazy listings.")
    if token.voucher_version() == 1:
        raise InputError("This collection was deployed before vouchers had epochs; cancel its lazy listings one "
                         "by one.")
    chain_id = connection.chain_id
    active = store.vouchers(chain_id, collection=token.address, include_expired=True) if store is not None else []
    epoch = token.voucher_epoch()
    request = replace(token.cancel_all_vouchers_tx(), action="Cancelling every lazy listing",
                      details=(("Collection", collection_label(token)),
                               ("Cancels", f"every mint voucher signed until now ({len(active)} open in this "
                                           "library; copies given away elsewhere too)"),
                               ("Voucher epoch", f"{epoch} ends; new vouchers are signed for {epoch + 1}")),
                      flows=(Flow("You", signer.address, "sends", 0, "now", "no ETH (only the fee)"),))
    receipt = transact(connection, signer, request, confirm=confirm, network=network, history=history,
                       timeout=timeout)
    if store is not None:
        store.set_vouchers_status(chain_id, token.address, CANCELLED, before_epoch=epoch + 1)
        if marketplace is not None:
            sync_market(connection, marketplace, store, collections=[token.address])
    return MarketReceipt("cancel-all-lazy", token.address, None, None, (receipt,))


# ---------------------------------------------------------------- vouchers as files

def voucher_json(signed: "SignedVoucher", *, metadata_cid: str | None = None) -> str:
    """A signed voucher as the JSON a buyer needs (`studio buy --voucher FILE`)."""
    item = signed.voucher
    return json.dumps({
        "format": VOUCHER_FORMAT, "version": VOUCHER_FILE_VERSION, "chain_id": signed.chain_id,
        "collection": signed.collection, "metadata_cid": metadata_cid, "form": signed.version,
        "voucher": {"contentDigest": "0x" + item.content_digest.hex(), "price": str(item.price_wei),
                    "royaltyReceiver": item.royalty_receiver, "royaltyBps": item.royalty_bps,
                    "nonce": str(item.nonce), "expiry": item.expiry, "redeemer": item.redeemer,
                    "epoch": str(item.epoch)},
        "signature": "0x" + signed.signature.hex(),
    }, indent=2)


def parse_voucher_json(text: str) -> "SignedVoucher":
    """Read a voucher file (version 1 files, from before epochs, too); InputError when it is not one."""
    from studio.chain.contracts import checksum
    from studio.chain.vouchers import MintVoucher, SignedVoucher

    from studio import safejson

    try:
        data = safejson.loads(text, what="The voucher file", max_bytes=MAX_VOUCHER_BYTES)
        if not isinstance(data, dict) or data.get("format") != VOUCHER_FORMAT:
            raise ValueError("not a studio mint voucher")
        fields = data["voucher"]
        redeemer = fields.get("redeemer") or None
        voucher = MintVoucher(bytes.fromhex(fields["contentDigest"].removeprefix("0x")), int(fields["price"]),
                              int(fields["nonce"]), int(fields["expiry"]), fields.get("royaltyReceiver") or None,
                              int(fields.get("royaltyBps") or 0),
                              checksum(redeemer, "redeemer") if redeemer else None, int(fields.get("epoch") or 0))
        form = int(data.get("form") or 2)
        if form not in (1, 2):
            raise ValueError(f"unknown voucher form {form}")
        return SignedVoucher(voucher, data["collection"], int(data["chain_id"]),
                             bytes.fromhex(data["signature"].removeprefix("0x")), form)
    except InputError as exc:
        raise InputError(f"This is not a studio mint voucher ({exc.message}).",
                         hint="Use the voucher JSON the artist's studio wrote.") from exc
    except (ValueError, KeyError, TypeError, AttributeError, OverflowError) as exc:
        raise InputError(f"This is not a studio mint voucher ({exc}).",
                         hint="Use the voucher JSON the artist's studio wrote.") from exc


# ---------------------------------------------------------------- helpers

def _fresh_nonce(token: "CollectionContract", store: MarketStore, chain_id: int) -> int:
    used = store.used_nonces(chain_id, token.address)
    while True:
        nonce = secrets.randbits(64)
        if nonce not in used and not token.is_nonce_used(nonce):
            return nonce


def _signed(voucher: "SignedVoucher | VoucherRow | str") -> "SignedVoucher":
    if isinstance(voucher, VoucherRow):
        if voucher.status != ACTIVE:
            raise InputError(f"This lazy listing is {voucher.status}; it cannot be bought.")
        return parse_voucher_json(voucher.voucher_json)
    if isinstance(voucher, str):
        return parse_voucher_json(voucher)
    return voucher
