"""EIP-712 lazy-mint vouchers: the artist signs off-chain, a collector redeems on-chain.

The typed data matches `StudioCollection.MintVoucher` field for field; the domain
(name "StudioCollection", version "1", chain id, collection address) binds a voucher to one
collection on one chain. A voucher may name the one account allowed to redeem it (`redeemer`),
and carries the collection's voucher epoch: `cancelAllVouchers` starts a new epoch, which voids
every voucher signed before in one transaction.

Collections deployed before the epoch existed take the first form of the voucher (six fields);
`SignedVoucher.version` says which form was signed (`collection_voucher_version` reads it).
"""
from __future__ import annotations

from dataclasses import dataclass

from studio.chain.transactions import Signer
from studio.errors import InputError

VOUCHER_FIELDS = [
    {"name": "contentDigest", "type": "bytes32"},
    {"name": "price", "type": "uint256"},
    {"name": "royaltyReceiver", "type": "address"},
    {"name": "royaltyBps", "type": "uint96"},
    {"name": "nonce", "type": "uint256"},
    {"name": "expiry", "type": "uint256"},
    {"name": "redeemer", "type": "address"},
    {"name": "epoch", "type": "uint256"},
]
#: The first form, signed for collections without a voucher epoch.
VOUCHER_FIELDS_V1 = VOUCHER_FIELDS[:6]
DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
MAX_ROYALTY_BPS = 1000


@dataclass(frozen=True)
class MintVoucher:
    """An offer to mint one token committed to `content_digest` for `price_wei`, until `expiry`.

    `royalty_receiver` None means the token follows the collection's default royalty; `redeemer`
    None means anyone may redeem it; `epoch` must be the collection's current voucher epoch.
    """

    content_digest: bytes
    price_wei: int
    nonce: int
    expiry: int
    royalty_receiver: str | None = None
    royalty_bps: int = 0
    redeemer: str | None = None
    epoch: int = 0

    def __post_init__(self) -> None:
        if len(self.content_digest) != 32 or self.content_digest == bytes(32):
            raise InputError("A voucher needs the 32-byte content digest of the token's metadata.")
        if self.price_wei < 0:
            raise InputError("A voucher price cannot be negative.")
        if not 0 <= self.royalty_bps <= MAX_ROYALTY_BPS:
            raise InputError(f"A royalty is between 0% and {MAX_ROYALTY_BPS / 100:g}%.")
        if self.nonce < 0 or self.expiry < 0 or self.epoch < 0:
            raise InputError("A voucher's nonce, expiry and epoch are positive numbers.")

    def as_struct(self, version: int = 2) -> tuple:
        """The voucher as the contract's tuple argument (`version` 1: a collection without epochs)."""
        fields = (self.content_digest, self.price_wei, self.royalty_receiver or ZERO_ADDRESS,
                  self.royalty_bps, self.nonce, self.expiry)
        return fields if version == 1 else (*fields, self.redeemer or ZERO_ADDRESS, self.epoch)


@dataclass(frozen=True)
class SignedVoucher:
    """A voucher with the artist's signature and the collection and chain it is valid on."""

    voucher: MintVoucher
    collection: str
    chain_id: int
    signature: bytes
    version: int = 2  # 1: the six-field form of collections without a voucher epoch

    def as_struct(self) -> tuple:
        """The voucher as the collection's `redeem` takes it."""
        return self.voucher.as_struct(self.version)


def voucher_typed_data(voucher: MintVoucher, collection: str, chain_id: int, version: int = 2) -> dict:
    """The full EIP-712 message (as for eth_signTypedData_v4) the artist signs."""
    if version == 1 and (voucher.redeemer or voucher.epoch):
        raise InputError("This collection's vouchers cannot name a redeemer or an epoch (it predates them).")
    message = {
        "contentDigest": voucher.content_digest,
        "price": voucher.price_wei,
        "royaltyReceiver": voucher.royalty_receiver or ZERO_ADDRESS,
        "royaltyBps": voucher.royalty_bps,
        "nonce": voucher.nonce,
        "expiry": voucher.expiry,
    }
    if version != 1:
        message.update(redeemer=voucher.redeemer or ZERO_ADDRESS, epoch=voucher.epoch)
    return {
        "types": {"EIP712Domain": DOMAIN_FIELDS, "MintVoucher": VOUCHER_FIELDS_V1 if version == 1 else VOUCHER_FIELDS},
        "primaryType": "MintVoucher",
        "domain": {"name": "StudioCollection", "version": "1", "chainId": chain_id,
                   "verifyingContract": collection},
        "message": message,
    }


def sign_voucher(signer: Signer, voucher: MintVoucher, collection: str, chain_id: int,
                 version: int = 2) -> SignedVoucher:
    """Have the artist's signer sign `voucher` for one collection on one chain (`version` 1 for a
    collection deployed before voucher epochs; `CollectionContract.voucher_version` tells)."""
    signature = signer.sign_typed_data(voucher_typed_data(voucher, collection, chain_id, version))
    return SignedVoucher(voucher, collection, chain_id, bytes(signature), version)


def voucher_signer(signed: SignedVoucher) -> str:
    """The address that signed a voucher (to check it is the artist before paying)."""
    from eth_account import Account
    from eth_account.messages import encode_typed_data

    message = encode_typed_data(full_message=voucher_typed_data(signed.voucher, signed.collection, signed.chain_id,
                                                                signed.version))
    try:
        return Account.recover_message(message, signature=signed.signature)
    except Exception as exc:
        raise InputError("The voucher's signature is malformed.") from exc
