"""The devnet's Ethereum JSON-RPC methods, over py-evm's chain (eth-tester's `PyEVMBackend` holds it).

This module answers the reads (blocks, state, receipts, logs, filters, fees) and the admin
methods; calls, estimates, sending, the pool and mining are in studio/chain/devnet_txpool.py.

Every method takes wire parameters and returns wire results (studio/chain/devnet_wire.py),
so the in-process web3 of the studio and `studio devnet serve` answer exactly alike. The chain
mines one block per transaction (automine, as anvil and hardhat do); with automine turned off
(`evm_setAutomine`, an admin method) transactions wait in a pool, where a transaction with the
same sender and nonce and fees 10% higher replaces the earlier one, until `evm_mine`.

Callers hold the devnet's lock around `dispatch`; this class has no locking of its own.
"""
from __future__ import annotations

import itertools
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any, Callable

from studio.chain import devnet_wire as wire
from studio.chain.devnet_txpool import SUGGESTED_TIP, ZERO_ADDRESS, TransactionMethods
from studio.chain.devnet_wire import (INVALID_PARAMS, METHOD_NOT_FOUND, SERVER_ERROR, BlockId, RpcError, hex_data,
                                      hex_quantity)


MAX_FEE_HISTORY_BLOCKS = 1024
MAX_FILTERS = 256

#: Methods that move the chain's clock, mining or history: off on a served devnet unless --admin.
ADMIN_METHODS = frozenset({"evm_mine", "evm_snapshot", "evm_revert", "evm_increaseTime",
                           "evm_setNextBlockTimestamp", "evm_setAutomine", "testing_timeTravel"})
#: Methods that sign with the node's own test accounts.
UNLOCKED_METHODS = frozenset({"eth_sendTransaction", "eth_signTransaction", "eth_sign", "personal_sign",
                              "eth_signTypedData_v4"})


@dataclass
class _Filter:
    kind: str  # "logs", "blocks" or "pending"
    criteria: wire.LogFilter | None
    last_block: int
    seen_pending: int = 0


@dataclass
class _Snapshot:
    head: bytes
    pool: dict[tuple[bytes, int], Any]
    automine: bool
    time_offset: int
    later_ids: list[int] = field(default_factory=list)


class DevnetRpc(TransactionMethods):
    """JSON-RPC methods of one devnet chain; `dispatch(method, params)` answers one request."""

    def __init__(self, backend: Any, chain_id: int) -> None:
        self.backend = backend
        self.chain_id = chain_id
        self.automine = True
        self.time_offset = 0
        self.next_timestamp: int | None = None
        self.pool: dict[tuple[bytes, int], Any] = {}
        self.filters: OrderedDict[int, _Filter] = OrderedDict()
        self._filter_ids = itertools.count(1)
        self._snapshots: dict[int, _Snapshot] = {}
        self._snapshot_ids = itertools.count(1)
        self._pending_seen: deque[bytes] = deque(maxlen=4096)
        self._pending_count = 0
        self._dropped: dict[bytes, str] = {}
        self._keys = {key.public_key.to_canonical_address(): key for key in backend.account_keys}
        self.methods: dict[str, Callable[[list[Any]], Any]] = {
            name[4:]: getattr(self, name) for name in dir(self) if name.startswith("rpc_")}

    # ------------------------------------------------------------ dispatch
    def dispatch(self, method: str, params: list[Any], *, admin: bool = True, unlocked: bool = True) -> Any:
        handler = self.methods.get(method)
        if handler is None or (method in ADMIN_METHODS and not admin) or (method in UNLOCKED_METHODS
                                                                             and not unlocked):
            hint = ""
            if method in ADMIN_METHODS:
                hint = " (an admin method: start the server with `studio devnet serve --admin`)"
            elif method in UNLOCKED_METHODS:
                hint = " (the node's accounts sign only for local programs, not for web pages)"
            raise RpcError(METHOD_NOT_FOUND, f"the method {method} does not exist/is not available{hint}")
        if method == "eth_accounts" and not unlocked:
            return []
        return handler(params)

    # ------------------------------------------------------------ chain access
    @property
    def chain(self) -> Any:
        return self.backend.chain

    def head(self) -> Any:
        return self.chain.get_canonical_head()

    def _block_by_number(self, number: int) -> Any | None:
        from eth.exceptions import HeaderNotFound

        if number > self.head().block_number:
            return None
        try:
            return self.chain.get_canonical_block_by_number(number)
        except HeaderNotFound:
            return None

    def _canonical(self, number: int) -> Any:
        """The canonical block `number`, which must exist (at most the head)."""
        return self.chain.get_canonical_block_by_number(number)

    def _block_by_hash(self, block_hash: bytes) -> Any | None:
        from eth.exceptions import BlockNotFound, HeaderNotFound

        try:
            block = self.chain.get_block_by_hash(block_hash)
        except (HeaderNotFound, BlockNotFound):
            return None
        return block if block.number <= self.head().block_number else None

    def _is_canonical(self, block: Any) -> bool:
        canonical = self._block_by_number(block.number)
        return canonical is not None and canonical.hash == block.hash

    def block(self, ident: BlockId) -> Any | None:
        """The block `ident` names (None if there is none); "pending" is the block being built."""
        if ident.hash is not None:
            block = self._block_by_hash(ident.hash)
            if block is not None and ident.require_canonical and not self._is_canonical(block):
                raise RpcError(SERVER_ERROR, f"hash {hex_data(ident.hash)} is not currently canonical")
            return block
        if ident.tag == "pending":
            return self.chain.get_block()
        if ident.tag == "earliest":
            return self._block_by_number(0)
        if ident.tag is not None:
            return self._block_by_number(self.head().block_number)
        assert ident.number is not None
        return self._block_by_number(ident.number)

    def _header_for_state(self, ident: BlockId) -> Any:
        block = self.block(ident)
        if block is None:
            what = f"hash {hex_data(ident.hash)}" if ident.hash is not None else f"number {ident.number}"
            raise RpcError(SERVER_ERROR, f"header for {what} not found")
        return block.header

    def _state(self, ident: BlockId) -> Any:
        return self.chain.get_vm(at_header=self._header_for_state(ident)).state

    def _receipts(self, block: Any) -> tuple[Any, ...]:
        return tuple(block.get_receipts(self.chain.chaindb))

    def _block_size(self, block: Any) -> int:
        import rlp

        return len(rlp.encode(block))

    @staticmethod
    def _blob_base_fee(header: Any) -> int:
        from eth._utils.calculations import fake_exponential

        excess = getattr(header, "excess_blob_gas", None) or 0
        fraction = 5_007_716 if getattr(header, "requests_hash", None) is not None else 3_338_477
        return fake_exponential(1, excess, fraction)

    def _locate_transaction(self, tx_hash: bytes) -> tuple[Any, int] | None:
        from eth.exceptions import TransactionNotFound

        try:
            number, index = self.chain.chaindb.get_transaction_index(tx_hash)
        except TransactionNotFound:
            return None
        block = self._block_by_number(number)
        if block is None or index >= len(block.transactions) or block.transactions[index].hash != tx_hash:
            return None
        return block, index

    # ------------------------------------------------------------ node and network
    def rpc_web3_clientVersion(self, params: list[Any]) -> str:
        wire.expect_params(params, 0, 0)
        from studio import __version__

        return f"ProvenanceStudio/devnet/v{__version__}"

    def rpc_web3_sha3(self, params: list[Any]) -> str:
        (payload,) = wire.expect_params(params, 1, 1)
        from eth_utils import keccak

        return hex_data(keccak(wire.data(payload)))

    def rpc_net_version(self, params: list[Any]) -> str:
        wire.expect_params(params, 0, 0)
        return str(self.chain_id)

    def rpc_net_listening(self, params: list[Any]) -> bool:
        wire.expect_params(params, 0, 0)
        return True

    def rpc_net_peerCount(self, params: list[Any]) -> str:
        wire.expect_params(params, 0, 0)
        return "0x0"

    def rpc_eth_chainId(self, params: list[Any]) -> str:
        wire.expect_params(params, 0, 0)
        return hex_quantity(self.chain_id)

    def rpc_eth_syncing(self, params: list[Any]) -> bool:
        wire.expect_params(params, 0, 0)
        return False

    def rpc_eth_coinbase(self, params: list[Any]) -> str:
        wire.expect_params(params, 0, 0)
        return "0x" + ZERO_ADDRESS.hex()

    def rpc_eth_accounts(self, params: list[Any]) -> list[str]:
        wire.expect_params(params, 0, 0)
        return ["0x" + bytes(a).hex() for a in self._keys]

    def rpc_eth_blockNumber(self, params: list[Any]) -> str:
        wire.expect_params(params, 0, 0)
        return hex_quantity(self.head().block_number)

    # ------------------------------------------------------------ fees
    def rpc_eth_gasPrice(self, params: list[Any]) -> str:
        wire.expect_params(params, 0, 0)
        return hex_quantity(self._next_base_fee() + SUGGESTED_TIP)

    def rpc_eth_maxPriorityFeePerGas(self, params: list[Any]) -> str:
        wire.expect_params(params, 0, 0)
        return hex_quantity(SUGGESTED_TIP)

    def rpc_eth_blobBaseFee(self, params: list[Any]) -> str:
        wire.expect_params(params, 0, 0)
        return hex_quantity(self._blob_base_fee(self.chain.header))

    def rpc_eth_feeHistory(self, params: list[Any]) -> dict[str, Any]:
        """EIP-1559 fee history: blockCount+1 base fees oldest first (the last is the next block's)."""
        count_param, newest_param, percentiles_param = wire.expect_params(params, 2, 3)
        count = min(wire.quantity(count_param, "blockCount", maximum=2**64 - 1), MAX_FEE_HISTORY_BLOCKS)
        ident = wire.block_id(newest_param, allow_hash=False)
        percentiles: list[float] | None = None
        if percentiles_param is not None:
            if not isinstance(percentiles_param, list) or len(percentiles_param) > 100 or not all(
                    isinstance(p, (int, float)) and not isinstance(p, bool) and 0 <= p <= 100
                    for p in percentiles_param):
                raise wire.invalid("rewardPercentiles must be numbers from 0 to 100")
            if any(b < a for a, b in zip(percentiles_param, percentiles_param[1:])):
                raise wire.invalid(f"invalid reward percentiles: {percentiles_param} must increase monotonically")
            percentiles = [float(p) for p in percentiles_param]
        head_number = self.head().block_number
        newest = head_number if ident.tag is not None and ident.tag != "earliest" else (
            0 if ident.tag == "earliest" else ident.number)
        assert newest is not None
        if newest > head_number:
            raise wire.invalid(f"request beyond head block: requested {newest}, head {head_number}")
        if count == 0:
            return {"oldestBlock": "0x0", "baseFeePerGas": [], "gasUsedRatio": [], "baseFeePerBlobGas": [],
                    "blobGasUsedRatio": []}
        oldest = max(0, newest - count + 1)
        blocks = [self._canonical(n) for n in range(oldest, newest + 1)]
        base_fees, ratios, blob_fees, blob_ratios, rewards = [], [], [], [], []
        for block in blocks:
            header = block.header
            base_fees.append(hex_quantity(header.base_fee_per_gas))
            ratios.append(header.gas_used / header.gas_limit if header.gas_limit else 0.0)
            blob_fees.append(hex_quantity(self._blob_base_fee(header)))
            max_blob = 1_179_648 if getattr(header, "requests_hash", None) is not None else 786_432
            blob_ratios.append((getattr(header, "blob_gas_used", 0) or 0) / max_blob)
            if percentiles is not None:
                rewards.append([hex_quantity(r) for r in self._block_rewards(block, percentiles)])
        last = blocks[-1].header
        if newest == head_number:
            next_header = self.chain.header
        else:
            next_header = self._canonical(newest + 1).header
        base_fees.append(hex_quantity(next_header.base_fee_per_gas))
        blob_fees.append(hex_quantity(self._blob_base_fee(next_header) if next_header is not last else 1))
        result: dict[str, Any] = {"oldestBlock": hex_quantity(oldest), "baseFeePerGas": base_fees,
                                  "gasUsedRatio": ratios, "baseFeePerBlobGas": blob_fees,
                                  "blobGasUsedRatio": blob_ratios}
        if percentiles:  # geth leaves "reward" out when no percentile was asked for
            result["reward"] = rewards
        return result

    def _block_rewards(self, block: Any, percentiles: list[float]) -> list[int]:
        """Each percentile's priority fee, weighted by gas used, as geth computes it."""
        if not block.transactions:
            return [0 for _ in percentiles]
        base_fee = block.header.base_fee_per_gas
        receipts = self._receipts(block)
        used = []
        previous = 0
        for tx, receipt in zip(block.transactions, receipts):
            tip = wire.effective_gas_price(tx, base_fee) - base_fee
            used.append((tip, receipt.gas_used - previous))
            previous = receipt.gas_used
        used.sort()
        total = sum(gas for _, gas in used)
        rewards, index, cumulative = [], 0, used[0][1]
        for percentile in percentiles:
            threshold = total * percentile / 100
            while cumulative < threshold and index < len(used) - 1:
                index += 1
                cumulative += used[index][1]
            rewards.append(used[index][0])
        return rewards

    # ------------------------------------------------------------ state
    def rpc_eth_getBalance(self, params: list[Any]) -> str:
        account, ident = wire.expect_params(params, 1, 2)
        return hex_quantity(self._state(wire.block_id(ident)).get_balance(wire.address(account)))

    def rpc_eth_getCode(self, params: list[Any]) -> str:
        account, ident = wire.expect_params(params, 1, 2)
        return hex_data(self._state(wire.block_id(ident)).get_code(wire.address(account)))

    def rpc_eth_getStorageAt(self, params: list[Any]) -> str:
        account, slot, ident = wire.expect_params(params, 2, 3)
        key = wire.quantity(slot, "storage slot") if not (isinstance(slot, str) and len(slot) == 66) else \
            int.from_bytes(wire.hash32(slot, "storage slot"), "big")
        value = self._state(wire.block_id(ident)).get_storage(wire.address(account), key)
        return hex_data(int(value).to_bytes(32, "big"))

    def rpc_eth_getTransactionCount(self, params: list[Any]) -> str:
        account, ident_param = wire.expect_params(params, 1, 2)
        sender = wire.address(account)
        ident = wire.block_id(ident_param)
        if ident.tag == "pending":
            return hex_quantity(self._pending_nonce(sender))
        return hex_quantity(self._state(ident).get_nonce(sender))

    # ------------------------------------------------------------ blocks
    def _format_block(self, block: Any | None, full: Any) -> dict[str, Any] | None:
        if block is None:
            return None
        if not isinstance(full, bool):
            raise wire.invalid("the second parameter (full transactions) must be true or false")
        pending = block.number > self.head().block_number
        return wire.format_block(block, full=full, size=self._block_size(block), pending=pending)

    def rpc_eth_getBlockByNumber(self, params: list[Any]) -> dict[str, Any] | None:
        ident, full = wire.expect_params(params, 1, 2)
        return self._format_block(self.block(wire.block_id(ident, allow_hash=False)), False if full is None
                                  else full)

    def rpc_eth_getBlockByHash(self, params: list[Any]) -> dict[str, Any] | None:
        block_hash, full = wire.expect_params(params, 1, 2)
        return self._format_block(self._block_by_hash(wire.hash32(block_hash, "block hash")),
                                  False if full is None else full)

    def _count(self, block: Any | None) -> str | None:
        return None if block is None else hex_quantity(len(block.transactions))

    def rpc_eth_getBlockTransactionCountByNumber(self, params: list[Any]) -> str | None:
        (ident,) = wire.expect_params(params, 1, 1)
        return self._count(self.block(wire.block_id(ident, allow_hash=False)))

    def rpc_eth_getBlockTransactionCountByHash(self, params: list[Any]) -> str | None:
        (block_hash,) = wire.expect_params(params, 1, 1)
        return self._count(self._block_by_hash(wire.hash32(block_hash, "block hash")))

    def rpc_eth_getUncleCountByBlockNumber(self, params: list[Any]) -> str | None:
        (ident,) = wire.expect_params(params, 1, 1)
        return None if self.block(wire.block_id(ident, allow_hash=False)) is None else "0x0"

    def rpc_eth_getUncleCountByBlockHash(self, params: list[Any]) -> str | None:
        (block_hash,) = wire.expect_params(params, 1, 1)
        return None if self._block_by_hash(wire.hash32(block_hash, "block hash")) is None else "0x0"

    def rpc_eth_getUncleByBlockNumberAndIndex(self, params: list[Any]) -> None:
        wire.expect_params(params, 2, 2)
        return None

    def rpc_eth_getUncleByBlockHashAndIndex(self, params: list[Any]) -> None:
        wire.expect_params(params, 2, 2)
        return None

    # ------------------------------------------------------------ transactions and receipts
    def rpc_eth_getTransactionByHash(self, params: list[Any]) -> dict[str, Any] | None:
        (tx_hash_param,) = wire.expect_params(params, 1, 1)
        tx_hash = wire.hash32(tx_hash_param, "transaction hash")
        found = self._locate_transaction(tx_hash)
        if found is not None:
            block, index = found
            return wire.format_transaction(block.transactions[index], block, index)
        for tx in self.pool.values():
            if tx.hash == tx_hash:
                return wire.format_transaction(tx, None, None)
        return None

    def _transaction_at(self, block: Any | None, index_param: Any) -> dict[str, Any] | None:
        index = wire.quantity(index_param, "index", maximum=2**32)
        if block is None or index >= len(block.transactions):
            return None
        pending = block.number > self.head().block_number
        return wire.format_transaction(block.transactions[index], None if pending else block,
                                       None if pending else index)

    def rpc_eth_getTransactionByBlockNumberAndIndex(self, params: list[Any]) -> dict[str, Any] | None:
        ident, index = wire.expect_params(params, 2, 2)
        return self._transaction_at(self.block(wire.block_id(ident, allow_hash=False)), index)

    def rpc_eth_getTransactionByBlockHashAndIndex(self, params: list[Any]) -> dict[str, Any] | None:
        block_hash, index = wire.expect_params(params, 2, 2)
        return self._transaction_at(self._block_by_hash(wire.hash32(block_hash, "block hash")), index)

    def rpc_eth_getTransactionReceipt(self, params: list[Any]) -> dict[str, Any] | None:
        (tx_hash_param,) = wire.expect_params(params, 1, 1)
        found = self._locate_transaction(wire.hash32(tx_hash_param, "transaction hash"))
        if found is None:
            return None
        block, index = found
        return wire.format_receipt(block, self._receipts(block), index, blob_base_fee=self._blob_base_fee(block.header))

    def rpc_eth_getBlockReceipts(self, params: list[Any]) -> list[dict[str, Any]] | None:
        (ident,) = wire.expect_params(params, 1, 1)
        block = self.block(wire.block_id(ident))
        if block is None or block.number > self.head().block_number:
            return None
        receipts = self._receipts(block)
        fee = self._blob_base_fee(block.header)
        return [wire.format_receipt(block, receipts, i, blob_base_fee=fee) for i in range(len(block.transactions))]

    # ------------------------------------------------------------ logs and filters
    def _range(self, criteria: wire.LogFilter) -> tuple[int, int]:
        head = self.head().block_number

        def resolve(ident: BlockId) -> int:
            if ident.tag == "earliest":
                return 0
            if ident.tag is not None:
                return head
            assert ident.number is not None
            return ident.number

        return resolve(criteria.from_block), min(resolve(criteria.to_block), head)

    def _logs_in(self, block: Any, criteria: wire.LogFilter) -> list[dict[str, Any]]:
        if not block.header.bloom:
            return []
        found = []
        log_index = 0
        for index, receipt in enumerate(self._receipts(block)):
            for entry in receipt.logs:
                topics = [int(t).to_bytes(32, "big") for t in entry.topics]
                if criteria.matches(entry.address, topics):
                    found.append(wire.format_log(entry, block, block.transactions[index], index, log_index))
                log_index += 1
        return found

    def logs(self, criteria: wire.LogFilter, *, after: int | None = None) -> list[dict[str, Any]]:
        if criteria.block_hash is not None:
            block = self._block_by_hash(criteria.block_hash)
            if block is None:
                raise RpcError(SERVER_ERROR, "unknown block")
            return self._logs_in(block, criteria)
        start, end = self._range(criteria)
        if after is not None:
            start = max(start, after + 1)
        if criteria.from_block.number is not None and criteria.to_block.number is not None and start > end + 1 \
                and after is None:
            raise RpcError(INVALID_PARAMS, "invalid block range params")
        found: list[dict[str, Any]] = []
        for number in range(start, end + 1):
            found.extend(self._logs_in(self.chain.get_canonical_block_by_number(number), criteria))
        return found

    def rpc_eth_getLogs(self, params: list[Any]) -> list[dict[str, Any]]:
        (criteria,) = wire.expect_params(params, 1, 1)
        return self.logs(wire.log_filter(criteria))

    def _new_filter(self, kind: str, criteria: wire.LogFilter | None) -> str:
        filter_id = next(self._filter_ids)
        self.filters[filter_id] = _Filter(kind, criteria, self.head().block_number, self._pending_count)
        while len(self.filters) > MAX_FILTERS:
            self.filters.popitem(last=False)
        return hex_quantity(filter_id)

    def rpc_eth_newFilter(self, params: list[Any]) -> str:
        (criteria,) = wire.expect_params(params, 1, 1)
        return self._new_filter("logs", wire.log_filter(criteria))

    def rpc_eth_newBlockFilter(self, params: list[Any]) -> str:
        wire.expect_params(params, 0, 0)
        return self._new_filter("blocks", None)

    def rpc_eth_newPendingTransactionFilter(self, params: list[Any]) -> str:
        wire.expect_params(params, 0, 1)
        return self._new_filter("pending", None)

    def _filter(self, param: Any) -> tuple[int, _Filter]:
        filter_id = wire.quantity(param, "filter id", maximum=2**64)
        found = self.filters.get(filter_id)
        if found is None:
            raise RpcError(SERVER_ERROR, "filter not found")
        return filter_id, found

    def rpc_eth_getFilterChanges(self, params: list[Any]) -> list[Any]:
        (param,) = wire.expect_params(params, 1, 1)
        _, found = self._filter(param)
        head = self.head().block_number
        if found.kind == "pending":
            fresh = min(self._pending_count - found.seen_pending, len(self._pending_seen))
            found.seen_pending = self._pending_count
            return [hex_data(h) for h in list(self._pending_seen)[len(self._pending_seen) - fresh:]]
        start, found.last_block = found.last_block, head
        if found.kind == "blocks":
            return [hex_data(self.chain.get_canonical_block_hash(n)) for n in range(start + 1, head + 1)]
        assert found.criteria is not None
        return self.logs(found.criteria, after=start)

    def rpc_eth_getFilterLogs(self, params: list[Any]) -> list[Any]:
        (param,) = wire.expect_params(params, 1, 1)
        _, found = self._filter(param)
        if found.criteria is None:
            raise RpcError(SERVER_ERROR, "filter not found")
        return self.logs(found.criteria)

    def rpc_eth_uninstallFilter(self, params: list[Any]) -> bool:
        (param,) = wire.expect_params(params, 1, 1)
        return self.filters.pop(wire.quantity(param, "filter id", maximum=2**64), None) is not None

    # ------------------------------------------------------------ admin: mining, time, snapshots
    def rpc_evm_mine(self, params: list[Any]) -> str:
        (timestamp,) = wire.expect_params(params, 0, 1)
        if isinstance(timestamp, dict):  # hardhat/anvil's {timestamp, blocks}
            blocks = wire.quantity(timestamp.get("blocks", 1), "blocks", maximum=1000)
            timestamp = timestamp.get("timestamp")
        else:
            blocks = 1
        for _ in range(blocks):
            if timestamp is not None:
                self.next_timestamp = wire.quantity(timestamp, "timestamp", maximum=2**63)
                timestamp = None
            if not self._mine_ready(one_per_block=False):
                self._mine([])
        return "0x0"

    def rpc_evm_setAutomine(self, params: list[Any]) -> None:
        (enabled,) = wire.expect_params(params, 1, 1)
        if not isinstance(enabled, bool):
            raise wire.invalid("evm_setAutomine takes true or false")
        self.automine = enabled
        if enabled:
            self._mine_ready(one_per_block=True)
        return None

    def rpc_evm_increaseTime(self, params: list[Any]) -> str:
        (seconds,) = wire.expect_params(params, 1, 1)
        self.time_offset += wire.quantity(seconds, "seconds", maximum=2**40)
        return hex_quantity(self.time_offset)

    def rpc_evm_setNextBlockTimestamp(self, params: list[Any]) -> None:
        (timestamp,) = wire.expect_params(params, 1, 1)
        value = wire.quantity(timestamp, "timestamp", maximum=2**63)
        if value <= self.head().timestamp:
            raise wire.invalid(f"timestamp {value} is not after the latest block's {self.head().timestamp}")
        self.next_timestamp = value
        return None

    def rpc_testing_timeTravel(self, params: list[Any]) -> bool:
        (timestamp,) = wire.expect_params(params, 1, 1)
        self.rpc_evm_setNextBlockTimestamp([timestamp])
        self.rpc_evm_mine([])
        return True

    def rpc_evm_snapshot(self, params: list[Any]) -> str:
        wire.expect_params(params, 0, 0)
        snapshot_id = next(self._snapshot_ids)
        self._snapshots[snapshot_id] = _Snapshot(self.head().hash, dict(self.pool), self.automine, self.time_offset)
        return hex_quantity(snapshot_id)

    def rpc_evm_revert(self, params: list[Any]) -> bool:
        (param,) = wire.expect_params(params, 1, 1)
        snapshot_id = wire.quantity(param, "snapshot id", maximum=2**64)
        snapshot = self._snapshots.get(snapshot_id)
        if snapshot is None:
            return False
        self.backend.revert_to_snapshot(snapshot.head)
        self.pool, self.automine, self.time_offset = dict(snapshot.pool), snapshot.automine, snapshot.time_offset
        for later in [i for i in self._snapshots if i >= snapshot_id]:  # this one and later ones are used up
            del self._snapshots[later]
        return True

