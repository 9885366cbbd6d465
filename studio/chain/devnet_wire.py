"""The devnet's JSON-RPC wire format: parameters read and results written as the Ethereum
execution-API specification (ethereum/execution-apis) and geth define them.

Reading is strict where a wrong value would mislead (an address of the wrong length, odd hex,
``data`` and ``input`` that disagree) and lenient where clients differ harmlessly (a JSON
number for a quantity, a missing block tag meaning "latest"). Every refusal is an `RpcError`
with the code and words geth and anvil use, so ethers, viem, web3.py and cast classify it.
Results are built from py-evm's own objects (blocks, transactions, receipts), never from
eth-tester's serialisers, whose receipt and log shapes predate the specification.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: JSON-RPC 2.0 and EIP-1474 error codes, as geth and anvil send them.
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
SERVER_ERROR = -32000
RESOURCE_NOT_FOUND = -32001
TRANSACTION_REJECTED = -32003
EXECUTION_REVERTED = 3

BLOCK_TAGS = ("latest", "earliest", "pending", "safe", "finalized")
UINT256_MAX = 2**256 - 1


class RpcError(Exception):
    """A JSON-RPC error answer: code, message and optional data (revert bytes)."""

    def __init__(self, code: int, message: str, data: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.data = code, message, data

    def as_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


def invalid(message: str) -> RpcError:
    return RpcError(INVALID_PARAMS, f"invalid params: {message}")


# ---------------------------------------------------------------- reading


def quantity(value: Any, what: str = "quantity", *, maximum: int = UINT256_MAX) -> int:
    """A QUANTITY: ``"0x1a"`` (a JSON number is accepted as well, as anvil does)."""
    if isinstance(value, bool):
        raise invalid(f"{what} must be a hex quantity, not {value!r}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value[:2] in ("0x", "0X") and 2 < len(value) <= 66:
        try:
            number = int(value[2:], 16)
        except ValueError:
            raise invalid(f"{what} is not a hex quantity: {value[:80]!r}") from None
    else:
        raise invalid(f"{what} must be a hex quantity like \"0x1\", not {str(value)[:80]!r}")
    if not 0 <= number <= maximum:
        raise invalid(f"{what} is out of range: {value!r}")
    return number


def data(value: Any, what: str = "data", *, length: int | None = None) -> bytes:
    """DATA: ``"0x…"`` with an even number of hex digits (exactly `length` bytes when given)."""
    if not isinstance(value, str) or value[:2] not in ("0x", "0X"):
        raise invalid(f"{what} must be hex data starting with 0x, not {str(value)[:80]!r}")
    digits = value[2:]
    if len(digits) % 2:
        raise invalid(f"{what} has an odd number of hex digits")
    try:
        raw = bytes.fromhex(digits)
    except ValueError:
        raise invalid(f"{what} is not hex data: {value[:80]!r}") from None
    if length is not None and len(raw) != length:
        raise invalid(f"{what} must be {length} bytes, not {len(raw)}")
    return raw


def address(value: Any, what: str = "address") -> bytes:
    return data(value, what, length=20)


def hash32(value: Any, what: str = "hash") -> bytes:
    return data(value, what, length=32)


@dataclass(frozen=True)
class BlockId:
    """A block named by tag, number or hash (EIP-1898 objects included)."""

    tag: str | None = None
    number: int | None = None
    hash: bytes | None = None
    require_canonical: bool = False


LATEST = BlockId(tag="latest")


def block_id(value: Any, *, allow_hash: bool = True) -> BlockId:
    """A block tag, a number, or an EIP-1898 object ``{"blockNumber"}`` / ``{"blockHash"}``."""
    if value is None:
        return LATEST
    if isinstance(value, str) and value in BLOCK_TAGS:
        return BlockId(tag=value)
    if isinstance(value, dict) and allow_hash:
        keys = set(value)
        if keys <= {"blockHash", "requireCanonical"} and "blockHash" in keys:
            canonical = value.get("requireCanonical", False)
            if not isinstance(canonical, bool):
                raise invalid("requireCanonical must be true or false")
            return BlockId(hash=hash32(value["blockHash"], "blockHash"), require_canonical=canonical)
        if keys == {"blockNumber"}:
            return block_id(value["blockNumber"], allow_hash=False)
        raise invalid("a block object holds either blockNumber or blockHash (EIP-1898)")
    if isinstance(value, str) and len(value) == 66 and allow_hash:
        return BlockId(hash=hash32(value, "block hash"))  # geth takes a bare hash too
    return BlockId(number=quantity(value, "block number", maximum=2**63 - 1))


@dataclass(frozen=True)
class CallRequest:
    """A transaction call object (eth_call, eth_estimateGas, eth_sendTransaction)."""

    sender: bytes | None
    to: bytes | None
    gas: int | None
    gas_price: int | None
    max_fee_per_gas: int | None
    max_priority_fee_per_gas: int | None
    value: int
    input: bytes
    nonce: int | None
    chain_id: int | None
    type: int | None
    access_list: tuple[tuple[bytes, tuple[int, ...]], ...] | None

    @property
    def is_dynamic_fee(self) -> bool:
        return self.gas_price is None and self.type not in (0, 1)


_CALL_KEYS = {"from", "to", "gas", "gasPrice", "maxFeePerGas", "maxPriorityFeePerGas", "value", "input", "data",
              "nonce", "chainId", "type", "accessList", "maxFeePerBlobGas", "blobVersionedHashes",
              "authorizationList"}


def call_request(value: Any) -> CallRequest:
    """Read a call object; ``input`` (the spec's name) and ``data`` (the old one) are both taken."""
    if not isinstance(value, dict):
        raise invalid("the transaction must be an object")
    unknown = set(value) - _CALL_KEYS
    if unknown:
        raise invalid(f"unknown transaction field {sorted(unknown)[0]!r}")
    payload = b""
    if value.get("input") is not None and value.get("data") is not None:
        payload = data(value["input"], "input")
        if data(value["data"], "data") != payload:
            raise invalid('both "data" and "input" are set and not equal. '
                          'Please use "input" to pass transaction call data')
    elif value.get("input") is not None:
        payload = data(value["input"], "input")
    elif value.get("data") is not None:
        payload = data(value["data"], "data")
    if value.get("gasPrice") is not None and (value.get("maxFeePerGas") is not None
                                              or value.get("maxPriorityFeePerGas") is not None):
        raise invalid("both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified")
    if value.get("blobVersionedHashes") or value.get("authorizationList"):
        raise invalid("blob (type 3) and set-code (type 4) transactions can only be sent signed "
                      "(eth_sendRawTransaction) on the devnet")

    def optional(key: str, maximum: int = UINT256_MAX) -> int | None:
        return None if value.get(key) is None else quantity(value[key], key, maximum=maximum)

    access = None
    if value.get("accessList") is not None:
        access = access_list(value["accessList"])
    return CallRequest(
        sender=None if value.get("from") is None else address(value["from"], "from"),
        to=None if value.get("to") is None else address(value["to"], "to"),
        gas=optional("gas", 2**64 - 1), gas_price=optional("gasPrice"),
        max_fee_per_gas=optional("maxFeePerGas"), max_priority_fee_per_gas=optional("maxPriorityFeePerGas"),
        value=optional("value") or 0, input=payload, nonce=optional("nonce", 2**64 - 1),
        chain_id=optional("chainId"), type=optional("type", 0xFF), access_list=access,
    )


def access_list(value: Any) -> tuple[tuple[bytes, tuple[int, ...]], ...]:
    if not isinstance(value, list):
        raise invalid("accessList must be a list")
    entries = []
    for entry in value:
        if not isinstance(entry, dict) or not isinstance(entry.get("storageKeys", []), list):
            raise invalid("accessList entries are {address, storageKeys}")
        keys = tuple(int.from_bytes(hash32(key, "storage key"), "big") for key in entry.get("storageKeys", []))
        entries.append((address(entry.get("address"), "accessList address"), keys))
    return tuple(entries)


@dataclass(frozen=True)
class LogFilter:
    """eth_getLogs / eth_newFilter criteria; `block_hash` (EIP-234) excludes the range."""

    from_block: BlockId
    to_block: BlockId
    block_hash: bytes | None
    addresses: tuple[bytes, ...]
    topics: tuple[tuple[bytes, ...] | None, ...]

    def matches(self, log_address: bytes, log_topics: list[bytes]) -> bool:
        if self.addresses and log_address not in self.addresses:
            return False
        if len(self.topics) > len(log_topics):
            return False
        return all(wanted is None or log_topics[i] in wanted for i, wanted in enumerate(self.topics))


def log_filter(value: Any) -> LogFilter:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise invalid("the filter must be an object")
    unknown = set(value) - {"fromBlock", "toBlock", "blockHash", "address", "topics"}
    if unknown:
        raise invalid(f"unknown filter field {sorted(unknown)[0]!r}")
    block_hash = None
    if value.get("blockHash") is not None:
        if value.get("fromBlock") is not None or value.get("toBlock") is not None:
            raise invalid("cannot specify both BlockHash and FromBlock/ToBlock, choose one or the other")
        block_hash = hash32(value["blockHash"], "blockHash")
    raw_address = value.get("address")
    if raw_address is None:
        addresses: tuple[bytes, ...] = ()
    elif isinstance(raw_address, list):
        addresses = tuple(address(item) for item in raw_address)
    else:
        addresses = (address(raw_address),)
    raw_topics = value.get("topics") or []
    if not isinstance(raw_topics, list) or len(raw_topics) > 4:
        raise invalid("topics is a list of at most 4 positions")
    topics: list[tuple[bytes, ...] | None] = []
    for position in raw_topics:
        if position is None:
            topics.append(None)
        elif isinstance(position, list):
            topics.append(None if not position else tuple(hash32(t, "topic") for t in position if t is not None))
        else:
            topics.append((hash32(position, "topic"),))
    return LogFilter(from_block=block_id(value.get("fromBlock"), allow_hash=False),
                     to_block=block_id(value.get("toBlock"), allow_hash=False),
                     block_hash=block_hash, addresses=addresses, topics=tuple(topics))


def expect_params(params: list[Any], minimum: int, maximum: int) -> list[Any]:
    """`params` padded with None up to `maximum`; too few or too many is -32602, as in geth."""
    if len(params) < minimum:
        raise invalid(f"missing value for required argument {len(params)}")
    if len(params) > maximum:
        raise invalid(f"too many arguments, want at most {maximum}")
    return list(params) + [None] * (maximum - len(params))


# ---------------------------------------------------------------- writing


def hex_quantity(value: int) -> str:
    return hex(value)


def hex_data(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def hex_address(value: bytes | None) -> str | None:
    return None if not value else "0x" + bytes(value).hex()


def bloom_hex(value: int) -> str:
    return "0x" + value.to_bytes(256, "big").hex()


def effective_gas_price(transaction: Any, base_fee: int | None) -> int:
    """What the sender paid per gas: the legacy price, or base fee plus the capped tip (EIP-1559)."""
    if _type_of(transaction) in (0, 1) or base_fee is None:
        return int(transaction.gas_price)
    return min(int(transaction.max_fee_per_gas), base_fee + int(transaction.max_priority_fee_per_gas))


def _type_of(transaction: Any) -> int:
    type_id = getattr(transaction, "type_id", None)
    return 0 if type_id is None else int(type_id)


def format_transaction(transaction: Any, block: Any | None, index: int | None) -> dict[str, Any]:
    """A transaction as geth's RPCTransaction (`block` None: pending)."""
    kind = _type_of(transaction)
    base_fee = getattr(block.header, "base_fee_per_gas", None) if block is not None else None
    result: dict[str, Any] = {
        "type": hex_quantity(kind),
        "hash": hex_data(transaction.hash),
        "nonce": hex_quantity(transaction.nonce),
        "blockHash": hex_data(block.hash) if block is not None else None,
        "blockNumber": hex_quantity(block.number) if block is not None else None,
        "transactionIndex": hex_quantity(index) if index is not None else None,
        "from": hex_address(transaction.sender),
        "to": hex_address(transaction.to),
        "value": hex_quantity(transaction.value),
        "gas": hex_quantity(transaction.gas),
        "input": hex_data(transaction.data),
    }
    if block is not None:
        result["blockTimestamp"] = hex_quantity(block.header.timestamp)
    if kind in (0, 1):
        result["gasPrice"] = hex_quantity(transaction.gas_price)
    else:
        result["gasPrice"] = hex_quantity(effective_gas_price(transaction, base_fee) if block is not None
                                          else transaction.max_fee_per_gas)
        result["maxFeePerGas"] = hex_quantity(transaction.max_fee_per_gas)
        result["maxPriorityFeePerGas"] = hex_quantity(transaction.max_priority_fee_per_gas)
    if kind == 3:
        result["maxFeePerBlobGas"] = hex_quantity(transaction.max_fee_per_blob_gas)
        result["blobVersionedHashes"] = [hex_data(h) for h in transaction.blob_versioned_hashes]
    if kind >= 1:
        result["accessList"] = [{"address": hex_address(entry[0]),
                                 "storageKeys": [hex_data(int(k).to_bytes(32, "big")) for k in entry[1]]}
                                for entry in transaction.access_list]
        result["chainId"] = hex_quantity(transaction.chain_id)
    if kind == 4:
        result["authorizationList"] = [
            {"chainId": hex_quantity(a.chain_id), "address": hex_address(a.address), "nonce": hex_quantity(a.nonce),
             "yParity": hex_quantity(a.y_parity), "r": hex_quantity(a.r), "s": hex_quantity(a.s)}
            for a in transaction.authorization_list]
    if kind == 0:
        chain_id = getattr(transaction, "chain_id", None)
        if chain_id is not None:
            result["chainId"] = hex_quantity(chain_id)
        result["v"] = hex_quantity(transaction.v)
    else:
        result["v"] = hex_quantity(transaction.y_parity)
        result["yParity"] = hex_quantity(transaction.y_parity)
    result["r"] = hex_quantity(transaction.r)
    result["s"] = hex_quantity(transaction.s)
    return result


def format_log(log: Any, block: Any, transaction: Any, tx_index: int, log_index: int) -> dict[str, Any]:
    return {
        "address": hex_address(log.address),
        "topics": [hex_data(int(t).to_bytes(32, "big")) for t in log.topics],
        "data": hex_data(log.data),
        "blockHash": hex_data(block.hash),
        "blockNumber": hex_quantity(block.number),
        "blockTimestamp": hex_quantity(block.header.timestamp),
        "transactionHash": hex_data(transaction.hash),
        "transactionIndex": hex_quantity(tx_index),
        "logIndex": hex_quantity(log_index),
        "removed": False,
    }


def format_receipt(block: Any, receipts: tuple[Any, ...], index: int, *, blob_base_fee: int | None) -> dict[str, Any]:
    """A receipt as the spec's ReceiptInfo: status (never a state root beside it), logsBloom, logs."""
    from eth._utils.address import generate_contract_address

    transaction = block.transactions[index]
    receipt = receipts[index]
    previous = receipts[index - 1].gas_used if index else 0
    first_log = sum(len(r.logs) for r in receipts[:index])
    to = transaction.to or None
    result: dict[str, Any] = {
        "type": hex_quantity(_type_of(transaction)),
        "status": "0x1" if receipt.state_root == b"\x01" else "0x0",
        "cumulativeGasUsed": hex_quantity(receipt.gas_used),
        "logs": [format_log(log, block, transaction, index, first_log + i) for i, log in enumerate(receipt.logs)],
        "logsBloom": bloom_hex(receipt.bloom),
        "transactionHash": hex_data(transaction.hash),
        "transactionIndex": hex_quantity(index),
        "blockHash": hex_data(block.hash),
        "blockNumber": hex_quantity(block.number),
        "blockTimestamp": hex_quantity(block.header.timestamp),
        "gasUsed": hex_quantity(receipt.gas_used - previous),
        "effectiveGasPrice": hex_quantity(effective_gas_price(transaction, getattr(block.header, "base_fee_per_gas",
                                                                                   None))),
        "from": hex_address(transaction.sender),
        "to": hex_address(to),
        "contractAddress": None if to else hex_address(generate_contract_address(transaction.sender,
                                                                                  transaction.nonce)),
    }
    if _type_of(transaction) == 3 and blob_base_fee is not None:
        result["blobGasUsed"] = hex_quantity(131072 * len(transaction.blob_versioned_hashes))
        result["blobGasPrice"] = hex_quantity(blob_base_fee)
    return result


def format_block(block: Any, *, full: bool, size: int, pending: bool = False) -> dict[str, Any]:
    """A block as the spec's Block object, with the post-merge and Cancun/Prague header fields."""
    header = block.header
    result: dict[str, Any] = {
        "number": hex_quantity(header.block_number),
        "hash": None if pending else hex_data(header.hash),
        "parentHash": hex_data(header.parent_hash),
        "nonce": None if pending else hex_data(header.nonce),
        "sha3Uncles": hex_data(header.uncles_hash),
        "logsBloom": bloom_hex(header.bloom),
        "transactionsRoot": hex_data(header.transaction_root),
        "stateRoot": hex_data(header.state_root),
        "receiptsRoot": hex_data(header.receipt_root),
        "miner": hex_address(header.coinbase) or "0x" + "00" * 20,
        "difficulty": hex_quantity(header.difficulty),
        "totalDifficulty": hex_quantity(header.difficulty),
        "extraData": hex_data(header.extra_data),
        "size": hex_quantity(size),
        "gasLimit": hex_quantity(header.gas_limit),
        "gasUsed": hex_quantity(header.gas_used),
        "timestamp": hex_quantity(header.timestamp),
        "mixHash": hex_data(header.mix_hash),
        "uncles": [],
    }
    if full:
        result["transactions"] = [format_transaction(tx, None if pending else block, None if pending else i)
                                  for i, tx in enumerate(block.transactions)]
    else:
        result["transactions"] = [hex_data(tx.hash) for tx in block.transactions]
    for key, attribute in (("baseFeePerGas", "base_fee_per_gas"), ("withdrawalsRoot", "withdrawals_root"),
                           ("blobGasUsed", "blob_gas_used"), ("excessBlobGas", "excess_blob_gas"),
                           ("parentBeaconBlockRoot", "parent_beacon_block_root"),
                           ("requestsHash", "requests_hash")):
        value = getattr(header, attribute, None)
        if value is not None:
            result[key] = hex_quantity(value) if isinstance(value, int) else hex_data(value)
    if getattr(header, "withdrawals_root", None) is not None:
        result["withdrawals"] = [
            {"index": hex_quantity(w.index), "validatorIndex": hex_quantity(w.validator_index),
             "address": hex_address(w.address), "amount": hex_quantity(w.amount)}
            for w in getattr(block, "withdrawals", ())]
    return result
