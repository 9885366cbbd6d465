"""Nonces for many transactions sent at once from one account, with no gap and no duplicate.

`NonceManager.reserve` holds the account's lane while a transaction is signed and broadcast:
the nonce is used only when the node accepted the transaction, so a failure leaves no gap; the
slow part (waiting for the receipt) happens outside the lane, so a batch still overlaps.
"""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator


class NonceManager:
    """One lane per (chain id, address); shared by every sender of a process."""

    trust_seconds = 30.0

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._lanes: dict[tuple[int, str, str], threading.Lock] = {}
        self._next: dict[tuple[int, str, str], tuple[int, float]] = {}

    def _lane(self, key: tuple[int, str, str]) -> threading.Lock:
        with self._guard:
            return self._lanes.setdefault(key, threading.Lock())

    @contextmanager
    def reserve(self, chain_id: int, address: str, pending_count: Callable[[], int], *,
                node: str = "") -> Iterator[int]:
        """Yield the next nonce; it counts as used only if the block exits without an exception.

        `pending_count` asks the node (eth_getTransactionCount "pending"), so transactions sent by
        another program are respected; our own count is a floor for `trust_seconds` after a send,
        for load-balanced RPCs whose pending count lags behind (and no longer, so a node that was
        reset is believed). `node` names the node (two devnets can share a chain id); a failure
        inside the block drops our count, so the node's is used next time.
        """
        key = (int(chain_id), address.lower(), node)
        with self._lane(key):
            counted = int(pending_count())
            ours, when = self._next.get(key, (0, 0.0))
            nonce = max(counted, ours) if time.monotonic() - when < self.trust_seconds else counted
            try:
                yield nonce
            except BaseException:
                self._next.pop(key, None)
                raise
            self._next[key] = (nonce + 1, time.monotonic())

    def forget(self, chain_id: int, address: str, node: str = "") -> None:
        """Drop our count (after a reset node) so the node's count is used again."""
        self._next.pop((int(chain_id), address.lower(), node), None)

    def forget_node(self, node: str) -> None:
        """Drop every count for one node: after it was reverted to a snapshot or restarted."""
        for key in [key for key in self._next if key[2] == node]:
            self._next.pop(key, None)


_shared = NonceManager()


def shared_nonce_manager() -> NonceManager:
    return _shared


def node_key(connection: Any) -> str:
    """Which node a connection talks to: its URL, or the identity of an in-process devnet."""
    provider = connection.web3.provider
    devnet = getattr(provider, "devnet", None)
    return f"devnet:{id(devnet)}" if devnet is not None else str(getattr(provider, "endpoint_uri", id(provider)))
