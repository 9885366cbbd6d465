"""The devnet's Ethereum JSON-RPC methods, over py-evm's chain (eth-tester's `PyEVMBackend` holds it).

Every method takes wire parameters and returns wire results (studio/chain/devnet_wire.py),
so the in-process web3 of the studio and `studio devnet serve` answer exactly alike. The chain
mines one block per transaction (automine, as anvil and hardhat do); with automine turned off
(`evm_setAutomine`, an admin method) transactions wait in a pool, where a transaction with the
same sender and nonce and fees 10% higher replaces the earlier one, until `evm_mine`.

Callers hold the devnet's lock around `dispatch`; this class has no locking of its own.
"""
from __future__ import annotations

import itertools
import logging
import os
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any, Callable

from studio.chain import devnet_wire as wire
from studio.chain.devnet_wire import (EXECUTION_REVERTED, INVALID_PARAMS, METHOD_NOT_FOUND, SERVER_ERROR,
                                      TRANSACTION_REJECTED, BlockId, CallRequest, RpcError, hex_data,
                                      hex_quantity)

log = logging.getLogger(__name__)

#: Priority fee the devnet suggests (eth_maxPriorityFeePerGas), like anvil's and hardhat's 1 gwei.
SUGGESTED_TIP = 10**9
#: A replacement must raise both fees by this many percent (geth's default price bump).
PRICE_BUMP_PERCENT = 10
MAX_FEE_HISTORY_BLOCKS = 1024
MAX_FILTERS = 256
ZERO_ADDRESS = b"\x00" * 20
ERROR_SELECTOR = bytes.fromhex("08c379a0")

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


class DevnetRpc:
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

    def _next_base_fee(self) -> int:
        return int(self.chain.header.base_fee_per_gas)

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
        blocks = [self._block_by_number(n) for n in range(oldest, newest + 1)]
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
            next_header = self._block_by_number(newest + 1).header
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

    def _pending_nonce(self, sender: bytes) -> int:
        nonce = self.chain.get_vm().state.get_nonce(sender)
        while (sender, nonce) in self.pool:
            nonce += 1
        return nonce

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

    # ------------------------------------------------------------ calls and estimates
    def _spoof(self, request: CallRequest, state: Any, gas: int, free: bool) -> Any:
        """An unsigned transaction from `request`'s sender, run as if signed (py-evm's SpoofTransaction)."""
        from eth.vm.spoof import SpoofTransaction

        sender = request.sender or ZERO_ADDRESS
        base_fee = state.execution_context.base_fee_per_gas
        nonce = state.get_nonce(sender)
        if free:
            max_fee, tip = base_fee, 0
        elif request.gas_price is not None:
            max_fee = tip = request.gas_price
        else:
            tip = request.max_priority_fee_per_gas if request.max_priority_fee_per_gas is not None else 0
            max_fee = request.max_fee_per_gas if request.max_fee_per_gas is not None else base_fee + tip
        unsigned = self.chain.get_vm().get_transaction_builder().new_unsigned_dynamic_fee_transaction(
            chain_id=self.chain_id, nonce=nonce, max_priority_fee_per_gas=tip, max_fee_per_gas=max_fee, gas=gas,
            to=request.to or b"", value=request.value, data=request.input, access_list=request.access_list or ())
        return SpoofTransaction(unsigned, from_=sender)

    @staticmethod
    def _is_free(request: CallRequest) -> bool:
        return not any((request.gas_price, request.max_fee_per_gas, request.max_priority_fee_per_gas))

    def _run(self, request: CallRequest, header: Any, gas: int) -> Any:
        """Execute `request` on the state after `header` and throw the changes away; the computation."""
        from eth_utils import ValidationError

        state = self.chain.get_vm(at_header=header).state
        free = self._is_free(request)
        transaction = self._spoof(request, state, gas, free)
        snapshot = state.snapshot()
        try:
            if free:  # no fee asked: the sender is charged nothing, as geth does for such calls
                sender = request.sender or ZERO_ADDRESS
                state.delta_balance(sender, gas * state.execution_context.base_fee_per_gas)
            return state.apply_transaction(transaction)
        except ValidationError as exc:
            raise _validation_error(str(exc), request) from exc
        finally:
            state.revert(snapshot)

    def rpc_eth_call(self, params: list[Any]) -> str:
        call_param, ident_param, overrides = wire.expect_params(params, 1, 4)[:3]
        if overrides:
            raise wire.invalid("state overrides are not supported by the devnet")
        request = wire.call_request(call_param)
        header = self._header_for_state(wire.block_id(ident_param))
        computation = self._run(request, header, request.gas or header.gas_limit)
        if computation.is_error:
            raise _execution_error(computation.error)
        return hex_data(computation.output)

    def rpc_eth_estimateGas(self, params: list[Any]) -> str:
        call_param, ident_param, overrides = wire.expect_params(params, 1, 3)
        if overrides:
            raise wire.invalid("state overrides are not supported by the devnet")
        request = wire.call_request(call_param)
        return hex_quantity(self.estimate_gas(request, self._header_for_state(wire.block_id(ident_param))))

    def estimate_gas(self, request: CallRequest, header: Any) -> int:
        """The least gas with which `request` succeeds (binary search, as geth does)."""
        cap = request.gas or header.gas_limit
        state = self.chain.get_vm(at_header=header).state
        if request.to and not request.input and not state.get_code(request.to) and cap >= 21_000:
            self._run(request, header, 21_000)  # plain transfer: still checks funds
            return 21_000
        computation = self._run(request, header, cap)
        if computation.is_error:
            if _is_revert(computation.error):
                raise _execution_error(computation.error)
            raise RpcError(SERVER_ERROR, f"gas required exceeds allowance ({cap})")
        used = cap - computation.get_gas_remaining()
        low = max(used - 1, 20_999)
        high = min(cap, (used + computation.get_gas_refund() + 2300) * 64 // 63)
        if high < cap and self._run(request, header, high).is_error:
            low, high = high, cap
        while high - low > 1:
            middle = (low + high) // 2
            if self._run(request, header, middle).is_error:
                low = middle
            else:
                high = middle
        return high

    # ------------------------------------------------------------ sending
    def rpc_eth_sendRawTransaction(self, params: list[Any]) -> str:
        (raw_param,) = wire.expect_params(params, 1, 1)
        return hex_data(self.admit(self._decode(wire.data(raw_param, "raw transaction"))))

    def _decode(self, raw: bytes) -> Any:
        from eth_utils import ValidationError

        builder = self.chain.get_vm().get_transaction_builder()
        try:
            if raw[:1] == b"\x03":  # a blob transaction in network form: keep the payload, drop the sidecar
                from eth_tester.backends.pyevm.main import BlobTransaction

                blob = BlobTransaction.from_bytes(raw)
                blob.blob_data = None
                raw = bytes([blob.transaction_type]) + blob.payload()
            transaction = builder.decode(raw)
            transaction.sender  # recovers the signer: a bad signature fails here  # noqa: B018
        except ValidationError as exc:
            raise RpcError(INVALID_PARAMS, f"invalid transaction: {exc}") from exc
        except Exception as exc:
            raise RpcError(INVALID_PARAMS, "failed to decode transaction: " + (str(exc)[:200] or
                                                                               exc.__class__.__name__)) from exc
        return transaction

    def admit(self, transaction: Any) -> bytes:
        """Check `transaction` as geth's pool does, then mine it (automine) or queue it."""
        sender = transaction.sender
        state = self.chain.get_vm().state
        kind = getattr(transaction, "type_id", None) or 0
        chain_id = getattr(transaction, "chain_id", None)
        if (kind or chain_id is not None) and chain_id != self.chain_id:
            raise RpcError(TRANSACTION_REJECTED, f"invalid chain id for signer: have {chain_id} want {self.chain_id}")
        if any(tx.hash == transaction.hash for tx in self.pool.values()):
            raise RpcError(SERVER_ERROR, "already known")
        if transaction.gas > self.chain.header.gas_limit:
            raise RpcError(SERVER_ERROR, "exceeds block gas limit")
        intrinsic = transaction.intrinsic_gas
        if transaction.gas < intrinsic:
            raise RpcError(SERVER_ERROR, f"intrinsic gas too low: gas {transaction.gas}, minimum needed {intrinsic}")
        max_fee = int(transaction.max_fee_per_gas)
        tip = int(transaction.max_priority_fee_per_gas)
        if tip > max_fee:
            raise RpcError(TRANSACTION_REJECTED, "max priority fee per gas higher than max fee per gas")
        base_fee = self._next_base_fee()
        if max_fee < base_fee:
            raise RpcError(TRANSACTION_REJECTED, f"max fee per gas less than block base fee: address "
                                                 f"{_checksum(sender)}, maxFeePerGas: {max_fee}, baseFee: {base_fee}")
        next_nonce = state.get_nonce(sender)
        if transaction.nonce < next_nonce:
            raise RpcError(TRANSACTION_REJECTED, f"nonce too low: next nonce {next_nonce}, tx nonce {transaction.nonce}")
        balance = state.get_balance(sender)
        cost = transaction.gas * max_fee + transaction.value
        if kind == 3:
            cost += _blob_gas(transaction) * transaction.max_fee_per_blob_gas
        if balance < cost:
            raise RpcError(TRANSACTION_REJECTED, f"insufficient funds for gas * price + value: balance {balance}, "
                                                 f"tx cost {cost}, overshot {cost - balance}")
        previous = self.pool.get((sender, transaction.nonce))
        if previous is not None:
            bump = 100 + PRICE_BUMP_PERCENT
            if max_fee * 100 < previous.max_fee_per_gas * bump or tip * 100 < previous.max_priority_fee_per_gas * bump:
                raise RpcError(TRANSACTION_REJECTED, "replacement transaction underpriced")
        self.pool[(sender, transaction.nonce)] = transaction
        self._pending_seen.append(transaction.hash)
        self._pending_count += 1
        if self.automine:
            self._mine_ready(one_per_block=True)
        return transaction.hash

    def _ready_transactions(self) -> list[Any]:
        """Pool transactions whose nonces follow on from their senders' (by sender, then nonce)."""
        state = self.chain.get_vm().state
        ready = []
        for sender in sorted({s for s, _ in self.pool}):
            nonce = state.get_nonce(sender)
            while (sender, nonce) in self.pool:
                ready.append(self.pool[(sender, nonce)])
                nonce += 1
        return ready

    def _mine_ready(self, *, one_per_block: bool) -> int:
        """Mine what the pool holds ready: one block per transaction (automine) or all in one."""
        mined = 0
        while True:
            ready = self._ready_transactions()
            if not ready:
                return mined
            batch = ready[:1] if one_per_block else ready
            self._mine(batch)
            mined += 1
            if not one_per_block:
                return mined

    def _mine(self, transactions: list[Any]) -> Any:
        from eth_utils import ValidationError

        chain = self.chain
        parent = self.head()
        timestamp = self.next_timestamp if self.next_timestamp is not None else int(time.time()) + self.time_offset
        chain.header = chain.header.copy(timestamp=max(timestamp, parent.timestamp + 1))
        self.next_timestamp = None
        blob_gas = 0
        for transaction in transactions:
            self.pool.pop((transaction.sender, transaction.nonce), None)
            try:
                chain.apply_transaction(transaction)
            except ValidationError as exc:  # it no longer fits (funds spent by an earlier one): dropped, as geth does
                log.info("devnet dropped transaction %s: %s", hex_data(transaction.hash), exc)
                continue
            blob_gas += _blob_gas(transaction)
        extra: dict[str, Any] = {"mix_hash": os.urandom(32)}
        if getattr(chain.header, "blob_gas_used", None) is not None:
            extra["blob_gas_used"] = blob_gas
        return chain.mine_block(**extra)

    def rpc_eth_sendTransaction(self, params: list[Any]) -> str:
        (call_param,) = wire.expect_params(params, 1, 1)
        return hex_data(self.admit(self._sign_request(wire.call_request(call_param))))

    def rpc_eth_signTransaction(self, params: list[Any]) -> str:
        (call_param,) = wire.expect_params(params, 1, 1)
        import rlp

        transaction = self._sign_request(wire.call_request(call_param))
        encoded = transaction.encode() if hasattr(transaction, "encode") else rlp.encode(transaction)
        return hex_data(encoded)

    def _key(self, account: bytes | None) -> Any:
        if account is None:
            raise wire.invalid("from is required")
        key = self._keys.get(account)
        if key is None:
            raise RpcError(SERVER_ERROR, f"unknown account {_checksum(account)}")
        return key

    def _sign_request(self, request: CallRequest) -> Any:
        """A transaction from one of the node's accounts, with nonce, gas and fees filled in as geth does."""
        key = self._key(request.sender)
        sender = request.sender
        assert sender is not None
        nonce = request.nonce if request.nonce is not None else self._pending_nonce(sender)
        if request.chain_id is not None and request.chain_id != self.chain_id:
            raise RpcError(TRANSACTION_REJECTED, f"invalid chain id: have {request.chain_id} want {self.chain_id}")
        gas = request.gas if request.gas is not None else self.estimate_gas(request, self.head())
        builder = self.chain.get_vm().get_transaction_builder()
        to = request.to or b""
        if request.gas_price is not None:
            if request.type == 1 or request.access_list is not None:
                unsigned = builder.new_unsigned_access_list_transaction(
                    chain_id=self.chain_id, nonce=nonce, gas_price=request.gas_price, gas=gas, to=to,
                    value=request.value, data=request.input, access_list=request.access_list or ())
            else:
                unsigned = self.chain.get_vm().create_unsigned_transaction(
                    nonce=nonce, gas_price=request.gas_price, gas=gas, to=to, value=request.value, data=request.input)
                return unsigned.as_signed_transaction(key, chain_id=self.chain_id)
        else:
            tip = request.max_priority_fee_per_gas if request.max_priority_fee_per_gas is not None else SUGGESTED_TIP
            max_fee = request.max_fee_per_gas if request.max_fee_per_gas is not None else \
                2 * self._next_base_fee() + tip
            unsigned = builder.new_unsigned_dynamic_fee_transaction(
                chain_id=self.chain_id, nonce=nonce, max_priority_fee_per_gas=tip, max_fee_per_gas=max_fee, gas=gas,
                to=to, value=request.value, data=request.input, access_list=request.access_list or ())
        return unsigned.as_signed_transaction(key)

    # ------------------------------------------------------------ signing messages
    def _sign_message(self, account_param: Any, message_param: Any) -> str:
        from eth_account import Account
        from eth_account.messages import encode_defunct

        key = self._key(wire.address(account_param))
        signed = Account.sign_message(encode_defunct(primitive=wire.data(message_param, "message")), key.to_bytes())
        return hex_data(signed.signature)

    def rpc_eth_sign(self, params: list[Any]) -> str:
        account, message = wire.expect_params(params, 2, 2)
        return self._sign_message(account, message)

    def rpc_personal_sign(self, params: list[Any]) -> str:
        message, account = wire.expect_params(params, 2, 3)[:2]
        return self._sign_message(account, message)

    def rpc_eth_signTypedData_v4(self, params: list[Any]) -> str:
        account, typed = wire.expect_params(params, 2, 2)
        from eth_account import Account
        from eth_account.messages import encode_typed_data

        from studio import safejson
        from studio.errors import InputError

        key = self._key(wire.address(account))
        try:
            message = safejson.loads(typed, what="The typed data") if isinstance(typed, str) else typed
            signable = encode_typed_data(full_message=message)
        except (InputError, ValueError, TypeError, KeyError) as exc:
            raise wire.invalid(f"typed data: {exc}") from exc
        return hex_data(Account.sign_message(signable, key.to_bytes()).signature)

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


def _blob_gas(transaction: Any) -> int:
    if (getattr(transaction, "type_id", None) or 0) != 3:
        return 0
    return 131072 * len(transaction.blob_versioned_hashes)


def _checksum(account: bytes) -> str:
    from eth_utils import to_checksum_address

    return to_checksum_address(account)


def _is_revert(error: Exception) -> bool:
    from eth.exceptions import Revert

    return isinstance(error, Revert)


def _execution_error(error: Exception) -> RpcError:
    """A failed call as geth words it: code 3 with the revert data, or the EVM's error."""
    if _is_revert(error):
        payload = error.args[0] if error.args and isinstance(error.args[0], (bytes, bytearray)) else b""
        message = "execution reverted"
        if payload[:4] == ERROR_SELECTOR:
            try:
                from eth_abi import decode

                message += ": " + decode(["string"], payload[4:])[0]
            except Exception:  # a malformed Error(string): the data still goes back
                pass
        return RpcError(EXECUTION_REVERTED, message, hex_data(payload))
    from eth.exceptions import OutOfGas

    if isinstance(error, OutOfGas):
        return RpcError(SERVER_ERROR, "out of gas")
    return RpcError(SERVER_ERROR, str(error) or error.__class__.__name__)


def _validation_error(message: str, request: CallRequest) -> RpcError:
    """py-evm's refusal of a call, in geth's words."""
    lowered = message.lower()
    if "balance" in lowered or "afford" in lowered or "insufficient" in lowered:
        return RpcError(SERVER_ERROR, "insufficient funds for gas * price + value")
    if "base fee" in lowered:
        return RpcError(SERVER_ERROR, "max fee per gas less than block base fee")
    return RpcError(SERVER_ERROR, message)
