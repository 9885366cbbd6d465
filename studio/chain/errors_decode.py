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
    "OfferExpired": lambda expiry, now: "This offer has expired; the buyer can only withdraw it now.",
    "InvalidExpiry": lambda expiry, latest: "An offer's expiry must be in the future and at most a year ahead.",
    "ProceedsTooLow": lambda proceeds, minimum: (
        f"The seller would receive {proceeds} wei, less than the {minimum} wei agreed (the fee or royalty "
        "went up since); review the sale again."),
    "InvalidRecipient": lambda to: f"Payments cannot be sent to {to}; choose another address.",
    # collection vouchers (version 2)
    "VoucherEpochEnded": lambda epoch, current: "The artist cancelled all vouchers signed before; ask for a new one.",
    "NotVoucherRedeemer": lambda caller, redeemer: f"This voucher can only be redeemed by {redeemer}.",
    # Seaport 1.6 (its custom errors, in the words of what the person can do)
    "BadContractSignature": lambda: "The order's contract signature (ERC-1271) is not valid.",
    "BadSignatureV": lambda v: "The order's signature is malformed (bad v value).",
    "InvalidSignature": lambda: "The order's signature is malformed.",
    "InvalidSigner": lambda: "The order was not signed by its offerer (or it was changed after signing).",
    "InvalidProof": lambda: "The bulk-order proof in the signature does not match the order.",
    "BadFraction": lambda: "The fill fraction is not valid for this order.",
    "InexactFraction": lambda: "The fill fraction does not divide the order's amounts exactly.",
    "PartialFillsNotEnabledForOrder": lambda: "This order can only be filled whole.",
    "InvalidTime": lambda start, end: "The order is not active now (it has not started or it has expired).",
    "OrderAlreadyFilled": lambda order_hash: "This order was already filled (the token was sold).",
    "OrderIsCancelled": lambda order_hash: "The offerer cancelled this order.",
    "OrderPartiallyFilled": lambda order_hash: "This order was already filled (in whole or in part).",
    "CannotCancelOrder": lambda: "Only the order's offerer (or its zone) can cancel it.",
    "ConsiderationNotMet": lambda order, index, shortfall: (
        f"The payment is {shortfall} short of what the order asks for."),
    "InsufficientNativeTokensSupplied": lambda: "Too little ETH was sent for this order.",
    "InvalidMsgValue": lambda value: "This order takes no ETH (it is paid in a token such as WETH).",
    "InvalidNativeOfferItem": lambda: "An order cannot offer ETH itself; offers are made in WETH.",
    "NativeTokenTransferGenericFailure": lambda account, amount: f"{amount} wei could not be paid to {account}.",
    "TokenTransferGenericFailure": lambda token, sender, to, identifier, amount: (
        f"The token could not be moved from {sender}: it moved elsewhere, or Seaport is no longer approved for it."),
    "BadReturnValueFromERC20OnTransfer": lambda token, sender, to, amount: (
        f"The {token} payment from {sender} failed: too small a balance or allowance for Seaport."),
    "ERC1155BatchTransferGenericFailure": lambda token, sender, to, ids, amounts: "A batch of tokens could not be moved.",
    "Invalid1155BatchTransferEncoding": lambda: "The batch transfer was encoded wrongly.",
    "InvalidERC721TransferAmount": lambda amount: "An ERC-721 token is moved one at a time (amount 1).",
    "NoContract": lambda account: f"There is no token contract at {account}.",
    "MissingItemAmount": lambda: "An order item has an amount of zero.",
    "UnusedItemParameters": lambda: "An ETH item of the order names a token or an id.",
    "InvalidBasicOrderParameterEncoding": lambda: "The basic order was encoded wrongly.",
    "MissingOriginalConsiderationItems": lambda: "The order lists fewer payments than it was signed with.",
    "ConsiderationLengthNotEqualToTotalOriginal": lambda: "The contract order changed its payments.",
    "CriteriaNotEnabledForItem": lambda: "A token id was given for an item that names its own token.",
    "InvalidCallToConduit": lambda conduit: "The conduit refused the transfer.",
    "InvalidConduit": lambda key, conduit: "The order names a conduit that does not exist.",
    "InvalidContractOrder": lambda order_hash: "The contract offerer refused the order.",
    "InvalidRestrictedOrder": lambda order_hash: "The order's zone refused the fill.",
    "OfferAndConsiderationRequiredOnFulfillment": lambda: "The match needs both offers and payments.",
    "MismatchedFulfillmentOfferAndConsiderationComponents": lambda index: "Matched items do not agree.",
    "MissingFulfillmentComponentOnAggregation": lambda side: "A match leaves an item out.",
    "InvalidFulfillmentComponentData": lambda: "A match names an item that does not exist.",
    "NoSpecifiedOrdersAvailable": lambda: "None of the orders can be filled now.",
    "ConsiderationCriteriaResolverOutOfRange": lambda: "The token chosen for the offer names a wrong item.",
    "OfferCriteriaResolverOutOfRange": lambda: "The token chosen for the order names a wrong item.",
    "OrderCriteriaResolverOutOfRange": lambda side: "The token chosen names an order that does not exist.",
    "UnresolvedConsiderationCriteria": lambda order, index: "A collection offer needs the token id to sell.",
    "UnresolvedOfferCriteria": lambda order, index: "A collection order needs the token id.",
    "NoReentrantCalls": lambda: "Seaport refused a nested (re-entrant) call.",
    "TStoreAlreadyActivated": lambda: "Transient storage is already active for this Seaport.",
    "TStoreNotSupported": lambda: "This network does not support transient storage.",
    "TloadTestContractDeploymentFailed": lambda: "Seaport could not test the network for transient storage.",
    # ConduitController and Ownable2Step
    "CallerIsNotOwner": lambda conduit: "Only the conduit's owner can do this.",
    "CallerIsNotNewPotentialOwner": lambda conduit: "Only the proposed new owner can accept the conduit.",
    "ChannelOutOfRange": lambda conduit: "That conduit channel does not exist.",
    "ConduitAlreadyExists": lambda conduit: f"A conduit already exists at {conduit}.",
    "InvalidCreator": lambda: "A conduit key must start with its creator's address.",
    "InvalidInitialOwner": lambda: "A conduit needs an owner.",
    "NewPotentialOwnerAlreadySet": lambda conduit, owner: f"{owner} is already the proposed owner.",
    "NewPotentialOwnerIsZeroAddress": lambda conduit: "The proposed owner cannot be the zero address.",
    "NoConduit": lambda: "There is no conduit with that key.",
    "NoPotentialOwnerCurrentlySet": lambda conduit: "No new owner was proposed.",
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
