"""The one retry loop (studio.retry): passing failures are tried again with doubling pauses up to a
cap, others are raised at once, and the last failure becomes the caller's message."""
from __future__ import annotations

import pytest

from studio.errors import Cancelled, NetworkError
from studio.retry import RetryPolicy, retry


class Flaky:
    """Fails with ``error`` the first ``failures`` calls, then answers."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures, self.error, self.calls = failures, error, 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "answer"


def _passing(exc: Exception) -> bool:
    return isinstance(exc, ConnectionError)


def test_a_passing_failure_is_tried_again_with_doubling_pauses_up_to_the_cap() -> None:
    pauses: list[float] = []
    call = Flaky(4, ConnectionError("dropped"))
    policy = RetryPolicy(attempts=6, first_delay=0.5, max_delay=1.5)
    assert retry(call, policy=policy, retryable=_passing, sleep=pauses.append) == "answer"
    assert call.calls == 5 and pauses == [0.5, 1.0, 1.5, 1.5]


def test_other_failures_are_raised_at_once_without_a_pause() -> None:
    pauses: list[float] = []
    call = Flaky(1, ValueError("a bug, not the network"))
    with pytest.raises(ValueError, match="a bug"):
        retry(call, policy=RetryPolicy(attempts=5), retryable=_passing, sleep=pauses.append)
    assert call.calls == 1 and pauses == []


def test_the_last_failure_becomes_the_callers_error_chained_to_it() -> None:
    pauses: list[float] = []
    call = Flaky(10, ConnectionError("dropped"))

    def give_up(exc: Exception, tries: int) -> Exception:
        return NetworkError(f"The node failed {tries} times ({exc}).")

    with pytest.raises(NetworkError, match=r"failed 3 times \(dropped\)") as raised:
        retry(call, policy=RetryPolicy(attempts=3, first_delay=0.1), retryable=_passing, give_up=give_up,
              sleep=pauses.append)
    assert isinstance(raised.value.__cause__, ConnectionError) and call.calls == 3 and pauses == [0.1, 0.2]
    single = Flaky(10, ConnectionError("dropped"))
    with pytest.raises(ConnectionError):  # without give_up, the failure itself
        retry(single, policy=RetryPolicy(attempts=1), retryable=_passing, sleep=pauses.append)
    assert single.calls == 1


def test_before_retry_sees_each_failure_and_can_stop_the_tries() -> None:
    seen: list[tuple[str, int]] = []

    def stop_on_second(exc: Exception, failures: int) -> None:
        seen.append((str(exc), failures))
        if failures == 2:
            raise Cancelled("Stopped.")

    call = Flaky(10, ConnectionError("dropped"))
    with pytest.raises(Cancelled):
        retry(call, policy=RetryPolicy(attempts=6), retryable=_passing, before_retry=stop_on_second,
              sleep=lambda _: None)
    assert seen == [("dropped", 1), ("dropped", 2)] and call.calls == 2
