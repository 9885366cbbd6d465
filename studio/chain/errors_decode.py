"""Turn revert data from the studio's contracts into errors people can read.

Custom errors (`VoucherAlreadyUsed(uint256)`, `OwnableUnauthorizedAccount(address)`, ...) are
recognised by their selectors, read from every committed artifact's ABI, and given a sentence
that says what happened and what to do.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

from studio.errors import ChainError


class ContractRevert(ChainError):
    """A contract refused a call; `error_name` and `error_args` name the custom error."""

    def __init__(self, message: str, *, error_name: str, error_args: tuple[Any, ...] = (),
                 hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.error_name = error_name
        self.error_args = error_args


@dataclass(frozen=True)
class _ErrorSpec:
    name: str
    types: tuple[str, ...]


def _pct(bps: int) -> str:
    return f"{bps / 100:g}%"


_MESSAGES: dict[str, Callable[..., str]] = {
    # access
    "OwnableUnauthorizedAccount": lambda account: f"Only the contract's owner can do this; {account} is not the owner.",
    "OwnableInvalidOwner": lambda owner: f"{owner} cannot become the owner.",
    # collection
    "RoyaltyTooHigh": lambda bps, cap: f"A royalty of {_pct(bps)} is above the collection's cap of {_pct(cap)}.",
    "InvalidContentDigest": lambda: "The token has no content commitment (the digest is empty).",
    "InvalidBatchSize": lambda count, cap: f"A batch holds 1 to {cap} tokens, not {count}.",
    "VoucherExpired": lambda expiry, now: "This voucher has expired; ask the artist for a new one.",
    "VoucherAlreadyUsed": lambda nonce: "This voucher was already redeemed (or the artist cancelled it).",
    "InvalidVoucherSignature": lambda: (
        "This voucher is not signed by the collection's artist for this chain and contract, "
        "or one of its fields was changed after signing."),
    "WrongPayment": lambda sent, price: f"The payment must be exactly {price} wei; {sent} wei was sent.",
    "NothingToWithdraw": lambda: "There is nothing to withdraw for this account.",
    "WithdrawFailed": lambda: "The withdrawal could not be sent to that address; choose another one.",
    "ERC2981InvalidDefaultRoyaltyReceiver": lambda receiver: "The royalty receiver cannot be the zero address.",
    "ERC2981InvalidTokenRoyaltyReceiver": lambda token_id, receiver: "The royalty receiver cannot be the zero address.",
    "ERC2981InvalidDefaultRoyalty": lambda numerator, denominator: "The royalty is above 100%.",
    "ERC2981InvalidTokenRoyalty": lambda token_id, numerator, denominator: "The royalty is above 100%.",
    # ERC-721 (ERC721A and OpenZeppelin)
    "OwnerQueryForNonexistentToken": lambda: "This token does not exist.",
    "URIQueryForNonexistentToken": lambda: "This token does not exist.",
    "ApprovalQueryForNonexistentToken": lambda: "This token does not exist.",
    "ERC721NonexistentToken": lambda token_id: f"Token {token_id} does not exist.",
    "TransferCallerNotOwnerNorApproved": lambda: (
        "The token cannot be moved: the marketplace is not approved for it, or the caller does not own it."),
    "TransferFromIncorrectOwner": lambda: "The token is not owned by this account (it may be listed or sold).",
    "ERC721InsufficientApproval": lambda operator, token_id: (
        f"The marketplace is not approved to move token {token_id}; approve it first."),
    "ERC721IncorrectOwner": lambda sender, token_id, owner: f"Token {token_id} is owned by {owner}, not {sender}.",
    "ApprovalCallerNotOwnerNorApproved": lambda: "Only the token's owner can approve it.",
    "MintToZeroAddress": lambda: "Tokens cannot be minted to the zero address.",
    "TransferToZeroAddress": lambda: "Tokens cannot be sent to the zero address.",
    "MintZeroQuantity": lambda: "A mint needs at least one token.",
    # marketplace
    "InvalidPrice": lambda: "A price or offer must be more than zero (and below 2^96 wei).",
    "NotListed": lambda collection, token_id: f"Token {token_id} is not listed for sale.",
    "NotSeller": lambda caller, seller: "Only the seller of this listing can do this.",
    "NoOffer": lambda collection, token_id, buyer: f"{buyer} has no offer on token {token_id}.",
    "OfferChanged": lambda expected, actual: (
        f"The offer is now {actual} wei, not the {expected} wei you accepted; review it again."),
    "NotTokenOwner": lambda caller: "Only the token's owner can accept an offer for it.",
    "FeeTooHigh": lambda bps, cap: f"A marketplace fee of {_pct(bps)} is above the cap of {_pct(cap)}.",
    "InvalidFeeRecipient": lambda: "The fee recipient cannot be the zero address.",
    "ReentrancyGuardReentrantCall": lambda: "The marketplace refused a nested (re-entrant) call.",
}

_ERROR_STRING = "0x08c379a0"  # Error(string)
_PANIC = "0x4e487b71"  # Panic(uint256)


@lru_cache(maxsize=1)
def _known_errors() -> dict[str, _ErrorSpec]:
    from eth_utils import function_signature_to_4byte_selector

    from studio.chain.artifacts import artifact_names, load_artifact

    specs: dict[str, _ErrorSpec] = {}
    for name in artifact_names():
        for entry in load_artifact(name).errors():
            types = tuple(_abi_type(item) for item in entry["inputs"])
            signature = f"{entry['name']}({','.join(types)})"
            selector = "0x" + function_signature_to_4byte_selector(signature).hex()
            specs[selector] = _ErrorSpec(entry["name"], types)
    return specs


def _abi_type(item: dict[str, Any]) -> str:
    if item["type"].startswith("tuple"):
        inner = ",".join(_abi_type(component) for component in item["components"])
        return f"({inner}){item['type'][5:]}"
    return item["type"]


def decode_revert(data: str | bytes | None, *, action: str = "The transaction") -> ChainError:
    """The ChainError for revert `data` (hex or bytes); unknown data gives a generic message."""
    if isinstance(data, (bytes, bytearray)):
        data = "0x" + bytes(data).hex()
    data = (data or "0x").lower()
    if not data.startswith("0x"):
        data = "0x" + data
    selector, payload = data[:10], bytes.fromhex(data[10:]) if len(data) > 10 else b""
    from eth_abi import decode

    if selector == _ERROR_STRING:
        (reason,) = decode(["string"], payload)
        return ContractRevert(f"{action} was rejected: {reason}.", error_name="Error", error_args=(reason,))
    if selector == _PANIC:
        (code,) = decode(["uint256"], payload)
        return ContractRevert(f"{action} failed an internal check of the contract (panic 0x{code:02x}).",
                              error_name="Panic", error_args=(code,))
    spec = _known_errors().get(selector)
    if spec is None:
        detail = f" (revert data {data})" if len(data) > 2 else " without a reason"
        return ContractRevert(f"{action} was rejected by the contract{detail}.", error_name="", error_args=())
    try:
        args = tuple(decode(list(spec.types), payload))
    except Exception:  # malformed arguments: still report the error by name
        args = ()
    describe = _MESSAGES.get(spec.name)
    try:
        sentence = describe(*args) if describe else f"The contract reported {spec.name}{args}."
    except TypeError:
        sentence = f"The contract reported {spec.name}."
    return ContractRevert(sentence, error_name=spec.name, error_args=args)


def known_error_names() -> set[str]:
    """Names of every custom error in the committed artifacts (tests check each has a message)."""
    return {spec.name for spec in _known_errors().values()}


def has_message(name: str) -> bool:
    return name in _MESSAGES
