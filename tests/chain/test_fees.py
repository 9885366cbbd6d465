"""Fee levels from eth_feeHistory on anvil, the legacy gas-price fallback, and gas margins."""
from __future__ import annotations

from studio.chain.fees import FeeLevel, estimate_gas, suggest_fees, with_margin
from studio.chain.transactions import Connection


def test_eip1559_levels_on_anvil_are_ordered_and_cover_the_next_base_fee(chain):
    fees = suggest_fees(Connection.from_url(chain.url))
    assert fees.base_fee_per_gas and fees.base_fee_per_gas > 0
    assert fees.slow.eip1559 and fees.fast.eip1559
    assert fees.slow.max_fee_per_gas <= fees.normal.max_fee_per_gas <= fees.fast.max_fee_per_gas
    assert fees.slow.max_fee_per_gas > fees.base_fee_per_gas
    assert fees.slow.max_priority_fee_per_gas <= fees.fast.max_priority_fee_per_gas
    assert set(fees.normal.tx_fields()) == {"maxFeePerGas", "maxPriorityFeePerGas"}


class _LegacyEth:
    """A node without EIP-1559 (no baseFeePerGas in blocks), as some chains still are."""

    gas_price = 5 * 10**9

    def get_block(self, _):
        return {"number": 1}


class _LegacyWeb3:
    eth = _LegacyEth()


class _LegacyConnection:
    web3 = _LegacyWeb3()


def test_legacy_chains_get_gas_price_levels():
    fees = suggest_fees(_LegacyConnection())
    assert fees.base_fee_per_gas is None and not fees.normal.eip1559
    assert fees.normal.tx_fields() == {"gasPrice": 5 * 10**9}
    assert fees.slow.max_fee_per_gas < fees.normal.max_fee_per_gas < fees.fast.max_fee_per_gas


def test_gas_estimate_has_a_margin_except_for_plain_transfers(chain, accounts):
    connection = Connection.from_url(chain.url)
    transfer = {"from": accounts[0].address, "to": accounts[1].address, "value": 1}
    assert estimate_gas(connection, transfer) == 21_000
    assert with_margin(100_000) == 130_000


def test_bumped_fees_clear_the_replacement_threshold():
    level = FeeLevel("normal", 100, 10)
    bumped = level.bumped()
    assert bumped.max_fee_per_gas >= 111 and bumped.max_priority_fee_per_gas >= 11
    assert FeeLevel("normal", 100).bumped().max_fee_per_gas >= 111
