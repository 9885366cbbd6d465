"""Reading any ERC-721 contract, trusting nothing it returns.

    reader = ERC721Reader(connection, "0x...")      # NotFound when no contract lives there
    reader.name()            # "Some Name", or a CallFailed saying why not
    reader.token_uri(7)      # "ipfs://...", or CallFailed("... reverted: ...")
    reader.transfers(0, head)  # every ERC-721 Transfer log, in adaptive block ranges

A stranger's contract may revert, return bytes that do not decode, return a string of megabytes or
spin until its gas runs out. Each view call here is a raw ``eth_call`` with a gas cap, its answer is
size-checked before it is decoded, and every failure becomes a :class:`CallFailed` value (a reason
for people) instead of an exception, so one broken token never stops a listing. Only a node that
does not answer raises (`NetworkError`): that is no token's fault and the whole page waits for it.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

from typing_extensions import TypeIs

from studio.cancel import Cancellable, ProgressCallback
from studio.chain.logs import block_hash as _block_hash, head as _head, node_error, read_logs
from studio.chain.transactions import hex_string as _hex
from studio.errors import NetworkError, NotFound, StudioError

log = logging.getLogger(__name__)

#: ERC-165 interface ids, by the names people know them by.
INTERFACES = {"ERC721": "80ac58cd", "ERC721Metadata": "5b5e139f", "ERC721Enumerable": "780e9d63",
              "ERC2981": "2a55205a"}
TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"

#: Gas given to each view call: far more than an honest view needs, little enough to end a loop fast.
CALL_GAS = 2_000_000
#: Largest answer decoded (a tokenURI may be a data: URI with an embedded image).
MAX_RETURN_BYTES = 256 * 1024
MAX_NAME_CHARS = 200
DEFAULT_LOG_CHUNK = 10_000
MAX_LOG_CHUNK = 500_000

_SELECTORS = {"name": "06fdde03", "symbol": "95d89b41", "tokenURI": "c87b56dd", "ownerOf": "6352211e",
              "supportsInterface": "01ffc9a7", "totalSupply": "18160ddd", "tokenByIndex": "4f6ccce7",
              "royaltyInfo": "2a55205a", "getApproved": "081812fc", "isApprovedForAll": "e985e9c5",
              "owner": "8da5cb5b"}

T = TypeVar("T")


@dataclass(frozen=True)
class CallFailed:
    """A view call that gave no usable answer, and why, in words for people."""

    reason: str

    def __str__(self) -> str:
        return self.reason


@dataclass(frozen=True)
class TransferLog:
    """One ERC-721 Transfer: `to` is the zero address for a burn, `sender` for a mint."""

    block_number: int
    block_hash: str
    log_index: int
    token_id: int
    sender: str
    to: str


def failed(value: object) -> TypeIs[CallFailed]:
    """Whether a reader's answer is a failure (reads better than isinstance at call sites)."""
    return isinstance(value, CallFailed)


class ERC721Reader:
    """Guarded view calls and Transfer logs of one ERC-721 contract."""

    def __init__(self, connection: Any, address: str, *, call_gas: int = CALL_GAS,
                 max_return_bytes: int = MAX_RETURN_BYTES) -> None:
        from studio.chain.contracts import checksum

        self.connection = connection
        self.address = checksum(address, "collection address")
        self.call_gas = call_gas
        self.max_return_bytes = max_return_bytes
        code = self._node(lambda: connection.web3.eth.get_code(self.address), "Reading the contract's code")
        if not code:
            raise NotFound(f"There is no contract at {self.address} on this network.",
                           hint="Check the address and that the wallet is on the network the collection lives on.")

    # ---- plumbing
    def _node(self, call: Callable[[], T], what: str) -> T:
        """A node request whose failure is the node's (not the contract's): raised as NetworkError."""
        try:
            return call()
        except Exception as exc:
            raise node_error(exc, what) from exc

    def raw_call(self, function: str, args: tuple[tuple[str, Any], ...] = ()) -> bytes | CallFailed:
        """The undecoded answer of a view function, or why there is none."""
        from eth_abi import encode

        from studio.chain.transactions import as_studio_error

        data = "0x" + _SELECTORS[function]
        if args:
            data += encode([kind for kind, _ in args], [value for _, value in args]).hex()
        try:
            answer = self.connection.web3.eth.call({"to": self.address, "data": data, "gas": self.call_gas})
        except Exception as exc:
            error = as_studio_error(exc, f"{function}()")
            if isinstance(error, NetworkError):
                raise error from exc
            if isinstance(error, StudioError):
                return CallFailed(_short(error.message))
            text = str(exc).lower()
            if "gas" in text:
                return CallFailed(f"{function}() ran out of gas ({self.call_gas:,}): the contract loops or does "
                                  "far more work than a view should.")
            return CallFailed(f"{function}() failed: {_short(str(exc)) or exc.__class__.__name__}.")
        answer = bytes(answer)
        if len(answer) > self.max_return_bytes:
            return CallFailed(f"{function}() returned {len(answer):,} bytes, more than the {self.max_return_bytes:,} "
                              "a collection needs; it was not read.")
        if not answer:
            return CallFailed(f"{function}() returned nothing: the contract does not have this function.")
        return answer

    def _decoded(self, function: str, kind: str, args: tuple[tuple[str, Any], ...] = ()) -> Any:
        from eth_abi import decode

        answer = self.raw_call(function, args)
        if isinstance(answer, CallFailed):
            return answer
        try:
            (value,) = decode([kind], answer)
        except Exception as exc:  # garbage: wrong length, bad padding, bad offsets, not UTF-8
            return CallFailed(f"{function}() returned {len(answer)} bytes that are not a valid {kind} "
                              f"({exc.__class__.__name__}).")
        return value

    # ---- the contract
    def name(self) -> str | CallFailed:
        return self._text("name")

    def symbol(self) -> str | CallFailed:
        return self._text("symbol")

    def _text(self, function: str) -> str | CallFailed:
        value = self._decoded(function, "string")
        if isinstance(value, CallFailed):
            return value
        return value[:MAX_NAME_CHARS]

    def supports(self, interface: str) -> bool:
        """ERC-165: whether the contract says it supports `interface` (a name of INTERFACES or hex id)."""
        interface_id = bytes.fromhex(INTERFACES.get(interface, interface.removeprefix("0x")))
        value = self._decoded("supportsInterface", "bool", (("bytes4", interface_id),))
        return value is True

    def standards(self) -> tuple[str, ...]:
        """The interfaces of INTERFACES the contract claims (an ERC-165 liar that claims all is caught)."""
        if self.supports("ffffffff"):
            return ()
        return tuple(name for name in INTERFACES if self.supports(name))

    def total_supply(self) -> int | CallFailed:
        return self._decoded("totalSupply", "uint256")

    def token_by_index(self, index: int) -> int | CallFailed:
        return self._decoded("tokenByIndex", "uint256", (("uint256", index),))

    # ---- tokens
    def token_uri(self, token_id: int) -> str | CallFailed:
        return self._decoded("tokenURI", "string", (("uint256", token_id),))

    def owner_of(self, token_id: int) -> str | CallFailed:
        from studio.chain.contracts import checksum

        value = self._decoded("ownerOf", "address", (("uint256", token_id),))
        if isinstance(value, CallFailed):
            return value
        if int(value, 16) == 0:
            return CallFailed(f"Token {token_id} has no owner (it was burned or never minted).")
        return checksum(value)

    def may_move(self, token_id: int, owner: str, operator: str) -> bool | CallFailed:
        """Whether `operator` may transfer `owner`'s token (approved for it, or for all of `owner`'s)."""
        from studio.chain.contracts import checksum

        for_all = self._decoded("isApprovedForAll", "bool", (("address", checksum(owner)),
                                                            ("address", checksum(operator))))
        if for_all is True:
            return True
        approved = self._decoded("getApproved", "address", (("uint256", token_id),))
        if isinstance(approved, CallFailed):
            return for_all if isinstance(for_all, CallFailed) else False
        return int(approved, 16) == int(operator, 16)

    def owner(self) -> str | CallFailed:
        """The contract's owner (Ownable's ``owner()``): the artist of a collection, when it says."""
        return self._decoded("owner", "address")

    def royalty_info(self, token_id: int, price_wei: int) -> tuple[str | None, int] | CallFailed:
        """ERC-2981 (receiver, amount) for a sale at `price_wei`; receiver None when nobody is paid."""
        from eth_abi import decode

        from studio.chain.contracts import checksum

        answer = self.raw_call("royaltyInfo", (("uint256", token_id), ("uint256", price_wei)))
        if isinstance(answer, CallFailed):
            return answer
        try:
            receiver, amount = decode(["address", "uint256"], answer)
        except Exception as exc:
            return CallFailed(f"royaltyInfo() returned {len(answer)} bytes that are not (address, amount) "
                              f"({exc.__class__.__name__}).")
        if int(receiver, 16) == 0 or amount == 0:
            return None, 0
        return checksum(receiver), int(amount)

    # ---- Transfer logs
    def head(self) -> int:
        return _head(self.connection)

    def block_hash(self, number: int) -> str | None:
        """The node's hash of block `number` (None when it has no such block)."""
        return _block_hash(self.connection, number)

    def transfers(self, first: int, last: int, *, chunk: int = DEFAULT_LOG_CHUNK,
                  progress: ProgressCallback | None = None, cancel: Cancellable | None = None) -> list[TransferLog]:
        """ERC-721 Transfer logs of blocks [first, last], read in ranges that adapt to the provider (see
        `read_logs`). Logs that are not ERC-721 transfers (an ERC-20 shaped Transfer has 3 topics) are skipped."""
        logs, _ = read_logs(self.connection, {"address": self.address, "topics": [TRANSFER_TOPIC]}, first, last,
                            chunk=chunk, max_chunk=MAX_LOG_CHUNK, what="the transfers", cancel=cancel,
                            stopped="Stopped reading the collection's transfers.", progress=progress)
        found = [t for t in (_transfer(entry) for entry in logs) if t is not None]
        found.sort(key=lambda t: (t.block_number, t.log_index))
        return found

    def token_transfers(self, token_id: int, first: int, last: int, *,
                        cancel: Cancellable | None = None) -> list[TransferLog]:
        """The Transfer logs of one token (its mint, then each move) in blocks [first, last]."""
        topic = "0x" + int(token_id).to_bytes(32, "big").hex()
        logs, _ = read_logs(self.connection, {"address": self.address, "topics": [TRANSFER_TOPIC, None, None, topic]},
                            first, last, chunk=DEFAULT_LOG_CHUNK, max_chunk=MAX_LOG_CHUNK, what="the token's transfers",
                            cancel=cancel, stopped="Stopped reading the token's transfers.")
        found = [t for t in (_transfer(entry) for entry in logs) if t is not None]
        found.sort(key=lambda t: (t.block_number, t.log_index))
        return found


def _transfer(entry: Any) -> TransferLog | None:
    from studio.chain.contracts import checksum

    topics = entry["topics"]
    if len(topics) != 4 or _hex(topics[0]) != TRANSFER_TOPIC:
        return None
    try:
        return TransferLog(int(entry["blockNumber"]), _hex(entry["blockHash"]), int(entry["logIndex"]),
                           int(_hex(topics[3]), 16), checksum("0x" + _hex(topics[1])[-40:]),
                           checksum("0x" + _hex(topics[2])[-40:]))
    except (StudioError, ValueError, TypeError, KeyError) as exc:
        log.debug("Skipping an undecodable Transfer log: %s", exc)
        return None


def _short(text: str, limit: int = 300) -> str:
    """A contract's own words, kept short (a revert reason can be as long as the contract likes)."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + "…"
