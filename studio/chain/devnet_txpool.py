"""The devnet's transactions: calls and gas estimates, sending (checked as geth's pool checks),
the pool of waiting transactions and mining, and signing with the node's test accounts.

A mixin of `studio.chain.devnet_rpc.DevnetRpc`, which owns the chain, the pool and the clock;
kept apart because this is where the devnet executes code and changes state, while the rest
of the RPC reads.
"""
from __future__ import annotations

import logging
import os
import time
from typing import Any

from studio.chain import devnet_wire as wire
from studio.chain.devnet_wire import (EXECUTION_REVERTED, INVALID_PARAMS, SERVER_ERROR, TRANSACTION_REJECTED,
                                      CallRequest, RpcError, hex_data, hex_quantity)

log = logging.getLogger(__name__)

#: Priority fee the devnet suggests (eth_maxPriorityFeePerGas), like anvil's and hardhat's 1 gwei.
SUGGESTED_TIP = 10**9
#: A replacement must raise both fees by this many percent (geth's default price bump).
PRICE_BUMP_PERCENT = 10
ZERO_ADDRESS = b"\x00" * 20
ERROR_SELECTOR = bytes.fromhex("08c379a0")
#: eth_simulateV1's bounds on the devnet (a page of a wallet's preview, not a load test).
MAX_SIMULATED_BLOCKS = 16
MAX_SIMULATED_CALLS = 256
#: Where eth_simulateV1's traced ETH transfers say they come from (the ERC-7528 native-asset address).
NATIVE_ASSET = bytes.fromhex("eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee")
TRANSFER_TOPIC = int("ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef", 16)


class TransactionMethods:
    """eth_call, eth_estimateGas, eth_sendRawTransaction, eth_sendTransaction, eth_sign*; the pool and mining."""

    chain_id: int
    automine: bool
    time_offset: int
    next_timestamp: int | None
    pool: dict[tuple[bytes, int], Any]
    _keys: dict[bytes, Any]
    _pending_seen: Any
    _pending_count: int
    _dropped: dict[bytes, str]

    @property
    def chain(self) -> Any:
        raise NotImplementedError

    def head(self) -> Any:
        raise NotImplementedError

    def _header_for_state(self, ident: wire.BlockId) -> Any:
        raise NotImplementedError

    def _next_base_fee(self) -> int:
        return int(self.chain.header.base_fee_per_gas)

    def _pending_nonce(self, sender: bytes) -> int:
        nonce = self.chain.get_vm().state.get_nonce(sender)
        while (sender, nonce) in self.pool:
            nonce += 1
        return nonce

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

    # ------------------------------------------------------------ simulation (eth_simulateV1)
    def rpc_eth_simulateV1(self, params: list[Any]) -> list[dict[str, Any]]:
        """Run calls on a throwaway copy of the state after a block, one after the other, and answer
        what each did (status, return data, gas, logs), as geth's eth_simulateV1 does. With
        ``traceTransfers`` every ETH movement is one more ERC-20-shaped Transfer log from
        0xEeee…EEeE; ``validation`` is not enforced (no signatures, fees charged as eth_call does).
        Block and state overrides are refused: the devnet simulates on its real state only."""
        payload, ident_param = (wire.expect_params(params, 1, 2) + [None])[:2]
        if not isinstance(payload, dict) or not isinstance(payload.get("blockStateCalls"), list):
            raise wire.invalid("eth_simulateV1 takes an object with a blockStateCalls list")
        blocks = payload["blockStateCalls"]
        if len(blocks) > MAX_SIMULATED_BLOCKS:
            raise wire.invalid(f"at most {MAX_SIMULATED_BLOCKS} simulated blocks")
        trace = bool(payload.get("traceTransfers"))
        header = self._header_for_state(wire.block_id(ident_param if ident_param is not None else "latest"))
        state = self.chain.get_vm(at_header=header).state
        snapshot = state.snapshot()
        answers = []
        try:
            for number, block in enumerate(blocks, start=1):
                if not isinstance(block, dict) or not isinstance(block.get("calls", []), list):
                    raise wire.invalid("each blockStateCall is an object with a calls list")
                if block.get("stateOverrides") or block.get("blockOverrides"):
                    raise wire.invalid("state and block overrides are not supported by the devnet")
                calls = block.get("calls", [])
                if len(calls) > MAX_SIMULATED_CALLS:
                    raise wire.invalid(f"at most {MAX_SIMULATED_CALLS} calls in a simulated block")
                answers.append(self._simulate_block(state, header, number,
                                                    [wire.call_request(c) for c in calls], trace))
        finally:
            state.revert(snapshot)
        return answers

    def _simulate_block(self, state: Any, header: Any, offset: int, requests: list[CallRequest],
                        trace: bool) -> dict[str, Any]:
        from eth_utils import ValidationError, keccak

        number = header.block_number + offset
        block_hash = keccak(b"studio-devnet-simulation" + number.to_bytes(8, "big") + header.hash)
        timestamp = header.timestamp + 12 * offset
        calls, used, log_index = [], 0, 0
        for tx_index, request in enumerate(requests):
            free = self._is_free(request)
            gas = request.gas or header.gas_limit
            transaction = self._spoof(request, state, gas, free)
            if free:
                state.delta_balance(request.sender or ZERO_ADDRESS, gas * state.execution_context.base_fee_per_gas)
            try:
                computation = state.apply_transaction(transaction)
            except ValidationError as exc:
                raise _validation_error(str(exc), request) from exc
            gas_used = gas - computation.get_gas_remaining() - min(computation.get_gas_refund(),
                                                                   (gas - computation.get_gas_remaining()) // 5)
            used += gas_used
            tx_hash = keccak(block_hash + tx_index.to_bytes(4, "big"))
            entries = _traced_logs(computation) if trace else [
                (address, topics, data) for address, topics, data in computation.get_log_entries()]
            logs = []
            for address, topics, data in entries:
                logs.append({"address": hex_data(address),
                             "topics": [hex_data(int(t).to_bytes(32, "big")) for t in topics],
                             "data": hex_data(data), "blockNumber": hex_quantity(number),
                             "blockHash": hex_data(block_hash), "blockTimestamp": hex_quantity(timestamp),
                             "transactionHash": hex_data(tx_hash), "transactionIndex": hex_quantity(tx_index),
                             "logIndex": hex_quantity(log_index), "removed": False})
                log_index += 1
            call: dict[str, Any] = {"status": "0x0" if computation.is_error else "0x1",
                                    "returnData": hex_data(computation.output), "gasUsed": hex_quantity(gas_used),
                                    "logs": logs if not computation.is_error else []}
            if computation.is_error:
                error = _execution_error(computation.error)
                call["error"] = error.as_json()
            calls.append(call)
        return {"number": hex_quantity(number), "hash": hex_data(block_hash), "parentHash": hex_data(header.hash),
                "timestamp": hex_quantity(timestamp), "gasLimit": hex_quantity(header.gas_limit),
                "gasUsed": hex_quantity(used), "baseFeePerGas": hex_quantity(header.base_fee_per_gas or 0),
                "miner": hex_data(ZERO_ADDRESS), "transactions": [], "calls": calls}

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
            self._dropped.clear()
            self._mine_ready(one_per_block=True)
            if transaction.hash in self._dropped:  # py-evm refused what the checks above let through
                raise RpcError(SERVER_ERROR, self._dropped[transaction.hash])
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
                self._dropped[transaction.hash] = str(exc)
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


def _traced_logs(computation: Any) -> list[tuple[bytes, tuple[int, ...], bytes]]:
    """The logs of a computation with its ETH movements among them, as geth's traceTransfers gives
    them: each call or creation that moves value adds a Transfer(from, to, value) log from the
    native-asset address, before the logs of what it ran; a reverted call moved nothing."""
    entries: list[tuple[float, tuple[bytes, tuple[int, ...], bytes]]] = []
    last = [-1.0]

    def walk(node: Any) -> None:
        if node.is_error:
            return
        msg = node.msg
        own = sorted(node._log_entries)  # (counter, address, topics, data) of this frame only
        if msg.value and msg.should_transfer_value:  # a delegate call inherits its value but moves none
            first = min((entry[0] for entry in node.get_raw_log_entries()), default=None)
            key = first - 0.5 if first is not None else last[0] + 0.001
            last[0] = max(last[0], key)
            entries.append((key, (NATIVE_ASSET, (TRANSFER_TOPIC, int.from_bytes(msg.sender, "big"),
                                                 int.from_bytes(msg.storage_address, "big")),
                                  msg.value.to_bytes(32, "big"))))
        for counter, address, topics, data in own:
            entries.append((float(counter), (address, tuple(topics), data)))
            last[0] = max(last[0], float(counter))
        for child in node.children:
            walk(child)

    walk(computation)
    return [entry for _key, entry in sorted(entries, key=lambda item: item[0])]


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
        return RpcError(EXECUTION_REVERTED, message, hex_data(bytes(payload)))
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
