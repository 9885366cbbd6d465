"""Who signed a message: recovering the signer's address from an EIP-712 signature.

Signing happens through a `Signer` (the wallet); checking needs no key, only the message and
the signature, so anyone can verify a work's provenance offline.
"""
from __future__ import annotations

from typing import Any

from studio.errors import InputError


def recover_typed_data(full_message: dict[str, Any], signature: bytes | str) -> str:
    """The checksum address whose key produced ``signature`` over the EIP-712 ``full_message``.

    A malformed message or signature (wrong length, not hex, an impossible curve point) is an
    InputError; a well-formed signature by another key simply recovers another address.
    """
    from eth_account import Account
    from eth_account.messages import encode_typed_data

    if isinstance(signature, str):
        text = signature[2:] if signature.startswith(("0x", "0X")) else signature
        try:
            raw = bytes.fromhex(text)
        except ValueError as exc:
            raise InputError("The signature is not hex.") from exc
    else:
        raw = bytes(signature)
    if len(raw) != 65:
        raise InputError(f"An EIP-712 signature is 65 bytes, not {len(raw)}.")
    try:
        encoded = encode_typed_data(full_message=full_message)
    except Exception as exc:  # eth_account raises several kinds for a malformed message
        raise InputError(f"The signed message is not valid EIP-712 typed data ({str(exc)[:120]}).") from exc
    try:
        return str(Account.recover_message(encoded, signature=raw))
    except Exception as exc:  # bad v, r or s: no key could have made this signature
        raise InputError(f"The signature cannot come from any key ({str(exc)[:120]}).") from exc
