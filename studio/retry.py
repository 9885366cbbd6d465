"""Trying a call again after a passing failure, with growing pauses: the studio's one retry loop.

    policy = RetryPolicy(attempts=6, first_delay=0.2, max_delay=5.0)
    receipt = retry(lambda: node.receipt(tx_hash), policy=policy, retryable=lambda e: isinstance(e, NetworkError))

The caller says which failures pass (a dropped connection, HTTP 429) and may turn the last one
into a message for people (``give_up``); any other failure is raised at once. Transactions sent
again must be the same signed bytes (a node answers "already known"), never a new signature.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often a call is tried, and the pauses between tries (doubling from ``first_delay`` up to ``max_delay``)."""

    attempts: int = 6
    first_delay: float = 0.2
    max_delay: float = 5.0

    def delay(self, failures: int) -> float:
        """The pause after the ``failures``-th failed try (1, 2, ...)."""
        return min(self.first_delay * 2 ** (failures - 1), self.max_delay)


#: One try, no pause: the default where a person is waiting and sees the error at once.
ONCE = RetryPolicy(attempts=1)


def retry(call: Callable[[], T], *, policy: RetryPolicy, retryable: Callable[[Exception], bool],
          give_up: Callable[[Exception, int], Exception] | None = None,
          before_retry: Callable[[Exception, int], None] | None = None,
          sleep: Callable[[float], None] = time.sleep) -> T:
    """``call()``, tried up to ``policy.attempts`` times while it fails with a ``retryable`` error.

    ``before_retry(error, failures)`` runs before each pause (log it, or raise to stop: a cancel).
    When every try failed, ``give_up(last error, tries)`` names the error raised (chained to the last
    one); without it the last error itself is raised.
    """
    attempts = max(1, policy.attempts)
    failures = 0
    while True:
        try:
            return call()
        except Exception as exc:
            if not retryable(exc):
                raise
            failures += 1
            if failures >= attempts:
                if give_up is None:
                    raise
                raise give_up(exc, attempts) from exc
            if before_retry is not None:
                before_retry(exc, failures)
            sleep(policy.delay(failures))
