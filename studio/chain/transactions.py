"""Connecting to a node and sending locally signed transactions.

Nothing here holds a private key: a transaction is signed by a `Signer` (the wallet provides
one; tests use `LocalSigner` over an eth-account LocalAccount) and sent raw. Reverts are
decoded into `ChainError`s that name the contract's custom error in words.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from studio.errors import ChainError, InputError, NetworkError


@runtime_checkable
class Signer(Protocol):
    """Signs for one account; the key stays wherever the signer keeps it."""

    @property
    def address(self) -> str: ...

    def sign_transaction(self, transaction: dict[str, Any]) -> bytes:
        """The signed raw transaction, ready for eth_sendRawTransaction."""

    def sign_typed_data(self, full_message: dict[str, Any]) -> bytes:
        """A 65-byte EIP-712 signature of `full_message` (domain, types, primaryType, message)."""


class LocalSigner:
    """`Signer` over an eth-account LocalAccount (tests, scripts, and the unlocked wallet)."""

    def __init__(self, account: Any) -> None:
        self._account = account

    @property
    def address(self) -> str:
        return self._account.address

    def sign_transaction(self, transaction: dict[str, Any]) -> bytes:
        return bytes(self._account.sign_transaction(transaction).raw_transaction)

    def sign_typed_data(self, full_message: dict[str, Any]) -> bytes:
        return bytes(self._account.sign_typed_data(full_message=full_message).signature)

    def __repr__(self) -> str:  # never show the key
        return f"LocalSigner({self.address})"


def as_signer(signer_or_account: Any) -> Signer:
    """Accept a Signer, or wrap an eth-account LocalAccount in one."""
    if isinstance(signer_or_account, Signer) and not hasattr(signer_or_account, "key"):
        return signer_or_account
    if hasattr(signer_or_account, "sign_transaction") and hasattr(signer_or_account, "address"):
        return LocalSigner(signer_or_account)
    raise InputError("A transaction needs a signer (an unlocked wallet account).")


@dataclass(frozen=True)
class TxReceipt:
    """What a mined transaction did, in plain values (wei, gas, hex strings)."""

    tx_hash: str
    block_number: int
    gas_used: int
    effective_gas_price: int
    contract_address: str | None = None

    @property
    def fee_wei(self) -> int:
        return self.gas_used * self.effective_gas_price


class Connection:
    """A web3 connection to one node, with the chain id it reported."""

    def __init__(self, web3: Any, chain_id: int) -> None:
        self.web3 = web3
        self.chain_id = chain_id

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 30.0) -> "Connection":
        """Connect over HTTP; raises NetworkError when the node does not answer."""
        from web3 import Web3

        web3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": timeout}))
        try:
            chain_id = int(web3.eth.chain_id)
        except Exception as exc:
            raise NetworkError(f"The node at {url} does not answer ({exc.__class__.__name__}).",
                               hint="Check the network settings and that the node is running.") from exc
        return cls(web3, chain_id)

    def balance(self, address: str) -> int:
        """Balance of `address` in wei."""
        return int(self._rpc(lambda: self.web3.eth.get_balance(address)))

    def _rpc(self, call):
        try:
            return call()
        except (OSError, ConnectionError) as exc:
            raise NetworkError(f"The node stopped answering ({exc}).",
                               hint="Check the connection and try again.") from exc

    def call(self, function: Any, *, action: str = "The call", sender: str | None = None) -> Any:
        """Run a view function; reverts become ChainError."""
        try:
            return function.call({"from": sender} if sender else {})
        except Exception as exc:
            raise _as_studio_error(exc, action) from exc

    def send(self, signer: Signer, function_or_tx: Any, *, value: int = 0,
             action: str = "The transaction") -> TxReceipt:
        """Estimate, sign with `signer`, send raw and wait for the receipt.

        `function_or_tx` is a bound contract function, a constructor, or a transaction dict.
        """
        return self.send_with_logs(signer, function_or_tx, value=value, action=action)[0]

    def send_with_logs(self, signer: Signer, function_or_tx: Any, *, value: int = 0,
                       action: str = "The transaction") -> tuple[TxReceipt, Any]:
        """`send`, also returning web3's receipt (with logs) for event decoding."""
        if value < 0:
            raise InputError("An amount of ETH cannot be negative.")
        eth = self.web3.eth
        base = {"from": signer.address, "value": value, "chainId": self.chain_id}
        try:
            nonce = eth.get_transaction_count(signer.address, "pending")
            latest = eth.get_block("latest")
            priority = int(eth.max_priority_fee)
            base_fee = int(latest.get("baseFeePerGas") or 0)
            fees = {"maxPriorityFeePerGas": priority, "maxFeePerGas": 2 * base_fee + priority}
            if isinstance(function_or_tx, dict):
                tx = {**base, **function_or_tx, **fees, "nonce": nonce}
                if "gas" not in tx:
                    tx["gas"] = int(eth.estimate_gas(tx))
            else:  # build_transaction estimates the gas, and raises the decoded revert if any
                tx = function_or_tx.build_transaction({**base, **fees, "nonce": nonce})
            tx["gas"] = int(tx["gas"]) * 6 // 5 + 10_000  # margin for state changing in between
        except Exception as exc:
            raise _as_studio_error(exc, action) from exc
        tx.pop("from", None)
        raw = signer.sign_transaction(tx)
        try:
            tx_hash = eth.send_raw_transaction(raw)
            receipt = eth.wait_for_transaction_receipt(tx_hash, timeout=120)
        except Exception as exc:
            raise _as_studio_error(exc, action) from exc
        if receipt["status"] != 1:
            raise self._explain_failure(tx, receipt, action)
        address = receipt.get("contractAddress")
        return TxReceipt(
            tx_hash="0x" + bytes(receipt["transactionHash"]).hex(),
            block_number=int(receipt["blockNumber"]),
            gas_used=int(receipt["gasUsed"]),
            effective_gas_price=int(receipt["effectiveGasPrice"]),
            contract_address=str(address) if address else None,
        ), receipt

    def _explain_failure(self, tx: dict[str, Any], receipt: Any, action: str) -> ChainError:
        """Replay a mined-but-reverted transaction as a call to learn its revert reason.

        The call runs in the context of the block that mined it (its timestamp); a reverted
        transaction changed no contract state, so that block's state is the one it saw.
        """
        replay = {k: tx[k] for k in ("to", "data", "value") if k in tx}
        replay["from"] = receipt["from"]
        try:
            self.web3.eth.call(replay, int(receipt["blockNumber"]))
        except Exception as exc:
            return _as_studio_error(exc, action)
        return ChainError(f"{action} was mined but reverted (gas used {receipt['gasUsed']}).",
                          hint="It may have run out of gas; try again.")


def _as_studio_error(exc: Exception, action: str) -> Exception:
    """Map a web3/requests exception to the studio's errors."""
    from web3 import exceptions as web3_errors

    from studio.chain.errors_decode import decode_revert
    from studio.errors import StudioError

    if isinstance(exc, StudioError):
        return exc
    if isinstance(exc, (web3_errors.ContractCustomError, web3_errors.ContractLogicError)):
        data = exc.data if isinstance(exc.data, str) else None
        if data and data not in ("0x", "no data"):
            return decode_revert(data, action=action)
        reason = str(exc.message or exc)
        if reason.startswith("execution reverted: "):
            return ChainError(f"{action} was rejected: {reason[len('execution reverted: '):]}.")
        return ChainError(f"{action} was rejected by the contract without a reason.")
    if isinstance(exc, web3_errors.Web3RPCError):
        text = str(exc.message or exc)
        if "insufficient funds" in text.lower():
            return ChainError(f"{action} needs more ETH than the account holds (amount plus gas).",
                              hint="Add funds to the account or lower the amount.")
        if "nonce" in text.lower():
            return ChainError(f"{action} used a stale nonce ({text}).", hint="Try again.")
        return ChainError(f"{action} was refused by the node: {text}")
    if isinstance(exc, (OSError, ConnectionError, web3_errors.ProviderConnectionError)) or \
            exc.__class__.__module__.startswith(("requests", "urllib3")):
        return NetworkError(f"The node could not be reached ({exc.__class__.__name__}).",
                            hint="Check the network settings and that the node is running.")
    if isinstance(exc, web3_errors.Web3ValidationError):
        return InputError(f"{action} has invalid arguments: {exc}")
    return exc
