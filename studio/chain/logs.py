"""Reading a node's logs and block hashes, whatever limits its provider sets.

    logs, requests = read_logs(connection, {"address": [...], "topics": [...]}, first, last,
                               chunk=2_000, max_chunk=2_000, what="market events")

``eth_getLogs`` is asked in block ranges: a range the provider refuses (too wide, too many results)
is halved, and after each served range the next one doubles again up to ``max_chunk``. The market
indexer and the ERC-721 reader both read this way. A node that does not answer raises
`NetworkError`; a decoded refusal stays the `ChainError` it is.
"""
from __future__ import annotations

import logging
from typing import Any

from studio.cancel import Cancellable, ProgressCallback
from studio.chain.transactions import as_studio_error, hex_string
from studio.errors import Cancelled, ChainError, NetworkError, StudioError

log = logging.getLogger(__name__)

_RANGE_REFUSALS = ("range", "too many", "more than", "limit", "exceed", "too large", "response size", "too wide")


def read_logs(connection: Any, params: dict[str, Any], first: int, last: int, *, chunk: int, max_chunk: int,
              what: str, cancel: Cancellable | None = None, stopped: str = "Stopped reading the chain.",
              progress: ProgressCallback | None = None) -> tuple[list[Any], int]:
    """The logs matching ``params`` (address, topics) in blocks [first, last], and how many requests it took."""
    found: list[Any] = []
    size = max(1, chunk)
    block = first
    requests = 0
    while block <= last:
        if cancel is not None and cancel.cancelled:
            raise Cancelled(stopped)
        end = min(last, block + size - 1)
        requests += 1
        try:
            found += connection.web3.eth.get_logs({**params, "fromBlock": block, "toBlock": end})
        except Exception as exc:
            if range_refused(exc) and end > block:
                size = max(1, (end - block + 1) // 2)
                log.info("The node refused blocks %d-%d (%s); reading %d at a time", block, end, exc, size)
                continue
            raise node_error(exc, f"Reading {what} of blocks {block}-{end}") from exc
        block = end + 1
        size = min(max_chunk, size * 2)
        if progress is not None and last > first:
            progress(min(0.99, (block - first) / (last - first + 1)), f"Reading {what}: block {end}")
    return found, requests


def block_hash(connection: Any, number: int) -> str | None:
    """The node's hash of block ``number``, or None when it has no such block (a shorter chain)."""
    from web3.exceptions import BlockNotFound

    try:
        block = connection.web3.eth.get_block(number)
    except BlockNotFound:
        return None
    except Exception as exc:
        raise node_error(exc, f"Reading block {number}") from exc
    return hex_string(block["hash"])


def head(connection: Any) -> int:
    """The number of the node's latest block."""
    try:
        return int(connection.web3.eth.block_number)
    except Exception as exc:
        raise node_error(exc, "Asking the node for its latest block") from exc


def node_error(exc: Exception, what: str) -> Exception:
    """A failed node request as a StudioError: a decoded ChainError, or NetworkError for a node away."""
    if isinstance(exc, StudioError):
        return exc
    error = as_studio_error(exc, what)
    if isinstance(error, ChainError) and not isinstance(error, NetworkError):
        return error
    return NetworkError(f"{what} failed: the node did not answer ({exc.__class__.__name__}).",
                        hint="Check that the node is running and the network's RPC URL; the view keeps what it "
                             "had and catches up on the next read.")


def range_refused(exc: Exception) -> bool:
    """Whether a getLogs error is a provider's cap on range or result size (not a dead node)."""
    if isinstance(exc, (OSError, ConnectionError)) or exc.__class__.__module__.startswith(("requests", "urllib3")):
        return False
    text = str(exc).lower()
    return "-32005" in text or any(word in text for word in _RANGE_REFUSALS)
