"""Fee suggestions and gas estimates: EIP-1559 from eth_feeHistory, legacy gas price where there is no base fee.

Money is integer wei. `suggest_fees` gives three levels (slow / normal / fast) that a preview
shows as a maximum fee; `estimate_gas` adds a margin because state can change between the
estimate and the block that includes the transaction.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from studio.errors import ChainError

GWEI = 10**9
SPEEDS = ("slow", "normal", "fast")
_PERCENTILES = (10, 50, 90)
_BASE_MULTIPLIER = {"slow": 1.25, "normal": 2.0, "fast": 2.5}
_LEGACY_MULTIPLIER = {"slow": 0.9, "normal": 1.0, "fast": 1.25}
DEFAULT_GAS_MARGIN = 0.2


@dataclass(frozen=True)
class FeeLevel:
    """Fees of one speed: EIP-1559 (`max_fee_per_gas`, `max_priority_fee_per_gas`) or legacy `gas_price`."""

    speed: str
    max_fee_per_gas: int
    max_priority_fee_per_gas: int | None = None  # None: a legacy (type 0) transaction with gas_price

    @property
    def eip1559(self) -> bool:
        return self.max_priority_fee_per_gas is not None

    def tx_fields(self) -> dict[str, int]:
        """The fee fields of a transaction dict."""
        if self.max_priority_fee_per_gas is not None:
            return {"maxFeePerGas": self.max_fee_per_gas, "maxPriorityFeePerGas": self.max_priority_fee_per_gas}
        return {"gasPrice": self.max_fee_per_gas}

    def max_cost(self, gas: int) -> int:
        """The most this transaction can pay in fees, in wei."""
        return gas * self.max_fee_per_gas

    def bumped(self, percent: int = 15) -> "FeeLevel":
        """Fees raised by at least `percent` (nodes replace a pending transaction only above +10%)."""
        def up(value: int) -> int:
            return value * (100 + percent) // 100 + 1

        priority = self.max_priority_fee_per_gas
        return FeeLevel(self.speed, up(self.max_fee_per_gas), up(priority) if priority is not None else None)


@dataclass(frozen=True)
class FeeSuggestion:
    """The three levels, with the next block's base fee (None on legacy chains)."""

    slow: FeeLevel
    normal: FeeLevel
    fast: FeeLevel
    base_fee_per_gas: int | None

    def level(self, speed: str) -> FeeLevel:
        if speed not in SPEEDS:
            raise ValueError(f"speed is one of {SPEEDS}, not {speed!r}")
        return getattr(self, speed)


def _median(values: list[int]) -> int:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else 0


def suggest_fees(connection: Any, *, blocks: int = 10) -> FeeSuggestion:
    """Fee levels from the last `blocks` blocks' priority fees (10th/50th/90th percentile)."""
    from studio.chain.transactions import as_studio_error

    eth = connection.web3.eth
    try:
        latest = eth.get_block("latest")
        if latest.get("baseFeePerGas") is None:
            price = int(eth.gas_price)
            levels = {s: FeeLevel(s, max(1, int(price * _LEGACY_MULTIPLIER[s]))) for s in SPEEDS}
            return FeeSuggestion(**levels, base_fee_per_gas=None)
        history = eth.fee_history(blocks, "latest", list(_PERCENTILES))
    except Exception as exc:
        raise as_studio_error(exc, "Reading the network's fees") from exc
    base_fees = [int(b) for b in history.get("baseFeePerGas", [])]
    next_base = base_fees[-1] if base_fees else int(latest["baseFeePerGas"])
    rewards = [[int(r) for r in block] for block in (history.get("reward") or []) if block]
    tips = [_median([block[i] for block in rewards]) for i in range(len(_PERCENTILES))] if rewards else [0, 0, 0]
    if not any(tips):
        # Empty recent blocks (a quiet testnet, a devnet): fall back to the node's own suggestion.
        try:
            suggested = int(connection.web3.provider.make_request("eth_maxPriorityFeePerGas", []).get("result", "0x0"),
                            16)
        except Exception:
            suggested = 0
        tips = [suggested // 2, suggested, suggested * 2] if suggested else [0, 0, 0]
    tips = sorted(tips)
    levels = {}
    for speed, tip in zip(SPEEDS, tips):
        levels[speed] = FeeLevel(speed, int(next_base * _BASE_MULTIPLIER[speed]) + tip, tip)
    return FeeSuggestion(**levels, base_fee_per_gas=next_base)


def with_margin(gas: int, margin: float = DEFAULT_GAS_MARGIN) -> int:
    """A gas limit with room for state that changes before inclusion; a plain transfer's 21,000 is exact."""
    if gas == 21_000:
        return gas
    return int(gas * (1 + margin)) + 10_000


def estimate_gas(connection: Any, tx: dict[str, Any], *, margin: float = DEFAULT_GAS_MARGIN,
                 action: str = "The transaction") -> int:
    """eth_estimateGas plus a margin (a plain transfer stays at exactly 21,000)."""
    from studio.chain.transactions import as_studio_error

    request = {k: v for k, v in tx.items() if k in ("from", "to", "data", "value")}
    try:
        gas = int(connection.web3.eth.estimate_gas(request))
    except Exception as exc:
        error = as_studio_error(exc, action)
        if isinstance(error, Exception) and error is not exc:
            raise error from exc
        raise ChainError(f"{action} cannot be estimated: {exc}") from exc
    return with_margin(gas, margin)
