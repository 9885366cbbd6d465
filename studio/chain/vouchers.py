"""EIP-712 lazy-mint vouchers: the artist signs off-chain, a collector redeems on-chain.

The typed data matches `StudioCollection.MintVoucher` field for field; the domain
(name "StudioCollection", version "1", chain id, collection address) binds a voucher to one
collection on one chain.
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
]
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

    `royalty_receiver` None means the token follows the collection's default royalty.
    """

    content_digest: bytes
    price_wei: int
    nonce: int
    expiry: int
    royalty_receiver: str | None = None
    royalty_bps: int = 0

    def __post_init__(self) -> None:
        if len(self.content_digest) != 32 or self.content_digest == bytes(32):
            raise InputError("A voucher needs the 32-byte content digest of the token's metadata.")
        if self.price_wei < 0:
            raise InputError("A voucher price cannot be negative.")
        if not 0 <= self.royalty_bps <= MAX_ROYALTY_BPS:
            raise InputError(f"A royalty is between 0% and {MAX_ROYALTY_BPS / 100:g}%.")
        if self.nonce < 0 or self.expiry < 0:
            raise InputError("A voucher's nonce and expiry are positive numbers.")

    def as_struct(self) -> tuple:
        """The voucher as the contract's tuple argument."""
        return (self.content_digest, self.price_wei, self.royalty_receiver or ZERO_ADDRESS,
                self.royalty_bps, self.nonce, self.expiry)


@dataclass(frozen=True)
class SignedVoucher:
    """A voucher with the artist's signature and the collection and chain it is valid on."""

    voucher: MintVoucher
    collection: str
    chain_id: int
    signature: bytes


def voucher_typed_data(voucher: MintVoucher, collection: str, chain_id: int) -> dict:
    """The full EIP-712 message (as for eth_signTypedData_v4) the artist signs."""
    return {
        "types": {"EIP712Domain": DOMAIN_FIELDS, "MintVoucher": VOUCHER_FIELDS},
        "primaryType": "MintVoucher",
        "domain": {"name": "StudioCollection", "version": "1", "chainId": chain_id,
                   "verifyingContract": collection},
        "message": {
            "contentDigest": voucher.content_digest,
            "price": voucher.price_wei,
            "royaltyReceiver": voucher.royalty_receiver or ZERO_ADDRESS,
            "royaltyBps": voucher.royalty_bps,
            "nonce": voucher.nonce,
            "expiry": voucher.expiry,
        },
    }


def sign_voucher(signer: Signer, voucher: MintVoucher, collection: str, chain_id: int) -> SignedVoucher:
    """Have the artist's signer sign `voucher` for one collection on one chain."""
    signature = signer.sign_typed_data(voucher_typed_data(voucher, collection, chain_id))
    return SignedVoucher(voucher, collection, chain_id, bytes(signature))


def voucher_signer(signed: SignedVoucher) -> str:
    """The address that signed a voucher (to check it is the artist before paying)."""
    from eth_account import Account
    from eth_account.messages import encode_typed_data

    message = encode_typed_data(full_message=voucher_typed_data(signed.voucher, signed.collection, signed.chain_id))
    try:
        return Account.recover_message(message, signature=signed.signature)
    except Exception as exc:
        raise InputError("The voucher's signature is malformed.") from exc
