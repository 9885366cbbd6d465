"""The wallet's way to send: prepare (simulate, estimate, preview), send, wait, speed up, cancel.

    sender = TxSender(connection, network, wallet.signer())
    prepared = sender.prepare(to, value=10**17)        # eth_call + gas estimate; raises decoded reverts
    show(prepared.preview)                              # the person reads it
    sent = sender.send(prepared, confirmed=True)        # chain id checked before the first signature
    receipt = sender.wait(sent.tx_hash, timeout=120)

Every call here talks to a node: run it off the GUI thread. Nonces come from a shared
`NonceManager` lane per account, so many sends at once never collide; each accepted transaction
goes into the `TxHistory` with its status.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any, Mapping

from studio.chain.fees import FeeLevel, estimate_gas, suggest_fees
from studio.chain.history import CONFIRMED, FAILED, PENDING, REPLACED, TxHistory
from studio.chain.networks import Network, check_chain_id
from studio.chain.nonces import NonceManager, node_key, pending_counter, shared_nonce_manager
from studio.chain.transactions import (Connection, MessagePreview, Signer, TxPreview, TxReceipt, as_studio_error,
                                       decode_call, message_preview, typed_data_preview)
from studio.errors import ChainError, InputError, NetworkError


@dataclass(frozen=True)
class PreparedTx:
    """A simulated, estimated transaction and its preview, ready to sign."""

    preview: TxPreview
    tx: dict[str, Any]  # unsigned, without nonce
    fee: FeeLevel


@dataclass(frozen=True)
class SentTx:
    """A transaction the node accepted."""

    tx_hash: str
    nonce: int
    preview: TxPreview


#: Actions that say nothing more than "a transaction": the history names the call instead.
GENERIC_ACTIONS = frozenset({"The transaction", "Transaction"})


class TxSender:
    """Sends from one signer on one network connection."""

    def __init__(self, connection: Connection, network: Network, signer: Signer, *,
                 nonces: NonceManager | None = None, history: TxHistory | None = None,
                 known_contracts: Mapping[str, str] | None = None) -> None:
        self.connection = connection
        self.network = network
        self.signer = signer
        self.nonces = nonces or shared_nonce_manager()
        self.history = history
        self.known_contracts = {k.lower(): v for k, v in (known_contracts or {}).items()}

    @property
    def _eth(self):
        return self.connection.web3.eth

    # ---- chain id guard
    def ensure_chain(self) -> None:
        """Ask the node its chain id (once per connection) and refuse when it is not the network's."""
        checked = getattr(self.connection, "checked_chain_id", None)
        if checked == self.network.chain_id:
            return
        try:
            reported = int(self._eth.chain_id)
        except Exception as exc:
            raise as_studio_error(exc, "Checking the network") from exc
        check_chain_id(reported, self.network, where=self.network.rpc_url)
        self.connection.checked_chain_id = reported  # type: ignore[attr-defined]

    # ---- prepare
    def prepare(self, to: str | None, *, value: int = 0, data: str | bytes = "0x", speed: str = "normal",
                fee: FeeLevel | None = None, action: str = "The transaction") -> PreparedTx:
        """Simulate with eth_call (reverts decoded), estimate gas with a margin, and build the preview."""
        from studio.chain.contracts import checksum

        if value < 0:
            raise InputError("An amount cannot be negative.")
        data_hex = "0x" + bytes(data).hex() if isinstance(data, (bytes, bytearray)) else (data or "0x")
        tx: dict[str, Any] = {"from": self.signer.address, "value": int(value), "data": data_hex}
        if to is not None:
            tx["to"] = checksum(to, "recipient")
        try:
            self._eth.call(tx)
        except Exception as exc:
            raise as_studio_error(exc, action) from exc
        gas = estimate_gas(self.connection, tx, action=action)
        fee = fee or suggest_fees(self.connection).level(speed)
        try:
            balance = int(self._eth.get_balance(self.signer.address))
        except Exception as exc:
            raise as_studio_error(exc, action) from exc
        if balance < value + gas * fee.max_fee_per_gas:
            raise ChainError(f"{action} needs up to {value + gas * fee.max_fee_per_gas} wei (amount plus maximum "
                             f"fee); the account holds {balance} wei.",
                             hint="Add funds to the account or lower the amount.")
        to_address = tx.get("to")
        preview = TxPreview(
            network=self.network.name, network_key=self.network.key, chain_id=self.network.chain_id,
            is_mainnet=self.network.is_mainnet, sender=self.signer.address, to=to_address,
            to_name=self.known_contracts.get(to_address.lower()) if to_address else None,
            value_wei=int(value), data=data_hex, call=decode_call(data_hex), gas_limit=gas,
            max_fee_per_gas=fee.max_fee_per_gas, max_priority_fee_per_gas=fee.max_priority_fee_per_gas,
            action=action)
        tx["gas"] = gas
        tx.update(fee.tx_fields())
        return PreparedTx(preview, tx, fee)

    def prepare_call(self, function: Any, *, value: int = 0, speed: str = "normal",
                     action: str = "The transaction") -> PreparedTx:
        """`prepare` for a bound web3 contract function (its address and encoded arguments)."""
        return self.prepare(function.address, value=value, data=function._encode_transaction_data(),
                            speed=speed, action=action)

    # ---- send
    def send(self, prepared: PreparedTx, *, confirmed: bool = False) -> SentTx:
        """Sign and broadcast. On a mainnet, value moves only with `confirmed=True` (CLI: --yes)."""
        if prepared.preview.requires_confirmation and not confirmed:
            raise InputError(f"{prepared.preview.action} moves real money on {self.network.name} and was not "
                             "confirmed.", hint="Read the preview and confirm it (on the command line: --yes).")
        self.ensure_chain()
        tx = {k: v for k, v in prepared.tx.items() if k != "from"}
        tx["chainId"] = self.network.chain_id
        with self.nonces.reserve(self.network.chain_id, self.signer.address,
                                 pending_counter(self.connection, self.signer.address),
                                 node=node_key(self.connection)) as nonce:
            tx["nonce"] = nonce
            tx_hash = self._broadcast(tx, prepared.preview.action)
        preview = replace(prepared.preview, nonce=nonce)
        self.record_sent(tx_hash, preview, prepared.fee, tx["gas"])
        return SentTx(tx_hash, nonce, preview)

    def _broadcast(self, tx: dict[str, Any], action: str) -> str:
        raw = self.signer.sign_transaction(tx)
        try:
            return "0x" + bytes(self._eth.send_raw_transaction(raw)).hex()
        except Exception as exc:
            raise as_studio_error(exc, action) from exc

    def record_sent(self, tx_hash: str, preview: TxPreview, fee: FeeLevel, gas: int) -> None:
        """Put a transaction the node accepted into the history as pending (no history: nothing).
        Its line is the preview's action ("Listing the token"), else the function it calls."""
        if self.history is None:
            return
        description = (preview.action if preview.action not in GENERIC_ACTIONS else
                       f"{preview.call.contract}.{preview.call.function}" if preview.call else
                       "Send ETH" if preview.data in ("0x", "") else "Contract call")
        self.history.record(tx_hash=tx_hash, network=self.network.key, chain_id=self.network.chain_id,
                            sender=preview.sender, recipient=preview.to, nonce=int(preview.nonce or 0),
                            value_wei=preview.value_wei, description=description,
                            max_fee_per_gas=fee.max_fee_per_gas,
                            max_priority_fee_per_gas=fee.max_priority_fee_per_gas, gas_limit=gas)

    # ---- wait
    def record_outcome(self, tx_hash: str, receipt: Any) -> None:
        """Mark a transaction of the history confirmed or failed from its receipt (one sent elsewhere,
        not in the history, is left alone)."""
        if self.history is None:
            return
        try:
            self.history.set_status(tx_hash, CONFIRMED if receipt["status"] == 1 else FAILED,
                                    block_number=int(receipt["blockNumber"]), gas_used=int(receipt["gasUsed"]))
        except Exception:  # a transaction sent elsewhere is not in our history
            pass

    def wait(self, tx_hash: str, *, timeout: float = 120.0, poll: float = 0.2,
             cancel: Any = None) -> TxReceipt:
        """Wait for the receipt; ChainError when it reverted, NetworkError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                receipt = self._eth.get_transaction_receipt(tx_hash)
            except Exception as exc:
                if exc.__class__.__name__ != "TransactionNotFound":
                    raise as_studio_error(exc, "Waiting for the transaction") from exc
                receipt = None
            if receipt is not None:
                break
            if cancel is not None and getattr(cancel, "cancelled", False):
                from studio.errors import Cancelled

                raise Cancelled("Stopped waiting; the transaction may still be mined (see the history).")
            if time.monotonic() >= deadline:
                raise NetworkError(f"The transaction {tx_hash} was not mined within {timeout:g} s.",
                                   hint="It is still pending: wait longer, speed it up, or cancel it.")
            time.sleep(poll)
        ok = receipt["status"] == 1
        self.record_outcome(tx_hash, receipt)
        if not ok:
            tx = self._eth.get_transaction(tx_hash)
            replay = {"to": tx["to"], "data": tx["input"], "value": tx["value"]}
            raise self.connection._explain_failure(replay, receipt, "The transaction")
        address = receipt.get("contractAddress")
        return TxReceipt(tx_hash=tx_hash, block_number=int(receipt["blockNumber"]), gas_used=int(receipt["gasUsed"]),
                         effective_gas_price=int(receipt["effectiveGasPrice"]),
                         contract_address=str(address) if address else None)

    def send_and_wait(self, prepared: PreparedTx, *, confirmed: bool = False, timeout: float = 120.0) -> TxReceipt:
        return self.wait(self.send(prepared, confirmed=confirmed).tx_hash, timeout=timeout)

    # ---- replacement
    def _pending(self, tx_hash: str) -> dict[str, Any]:
        try:
            tx = self._eth.get_transaction(tx_hash)
        except Exception as exc:
            raise ChainError(f"The node does not know the transaction {tx_hash}.",
                             hint="It may have been dropped; check the history.") from exc
        if tx.get("blockNumber") is not None:
            raise InputError(f"The transaction {tx_hash} is already mined; it cannot be replaced.")
        if tx["from"].lower() != self.signer.address.lower():
            raise InputError("Only the account that sent a transaction can replace it.")
        return dict(tx)

    def _replacement_fee(self, old: dict[str, Any], percent: int) -> FeeLevel:
        if old.get("maxFeePerGas") is not None:
            previous = FeeLevel("replacement", int(old["maxFeePerGas"]), int(old["maxPriorityFeePerGas"]))
        else:
            previous = FeeLevel("replacement", int(old["gasPrice"]))
        bumped = previous.bumped(percent)
        current = suggest_fees(self.connection).fast
        if current.eip1559 == bumped.eip1559 and current.max_fee_per_gas > bumped.max_fee_per_gas:
            bumped = FeeLevel("replacement", current.max_fee_per_gas,
                              max(current.max_priority_fee_per_gas or 0, bumped.max_priority_fee_per_gas or 0)
                              if bumped.eip1559 else None)
        return bumped

    def _replace(self, old_hash: str, old: dict[str, Any], tx: dict[str, Any], fee: FeeLevel, action: str,
                 value: int, to: str | None, data: str, confirmed: bool) -> SentTx:
        self.ensure_chain()
        tx.update(fee.tx_fields())
        tx.update({"chainId": self.network.chain_id, "nonce": int(old["nonce"])})
        preview = TxPreview(self.network.name, self.network.key, self.network.chain_id, self.network.is_mainnet,
                            self.signer.address, to, self.known_contracts.get((to or "").lower()), value, data,
                            decode_call(data), int(tx["gas"]), fee.max_fee_per_gas, fee.max_priority_fee_per_gas,
                            int(old["nonce"]), action)
        if preview.requires_confirmation and not confirmed:
            raise InputError(f"{action} moves real money on {self.network.name} and was not confirmed.",
                             hint="Confirm it (on the command line: --yes).")
        new_hash = self._broadcast(tx, action)
        if self.history is not None:
            self.record_sent(new_hash, preview, fee, int(tx["gas"]))
            try:
                self.history.set_status(old_hash, REPLACED, replaced_by=new_hash)
            except Exception:
                pass
        return SentTx(new_hash, int(old["nonce"]), preview)

    def speed_up(self, tx_hash: str, *, percent: int = 15, confirmed: bool = False) -> SentTx:
        """Resend a pending transaction with the same nonce and higher fees."""
        old = self._pending(tx_hash)
        data = old.get("input")
        data_hex = "0x" + bytes(data).hex() if isinstance(data, (bytes, bytearray)) else (data or "0x")
        to = old.get("to")
        tx = {"value": int(old["value"]), "data": data_hex, "gas": int(old["gas"])}
        if to:
            tx["to"] = to
        return self._replace(tx_hash, old, tx, self._replacement_fee(old, percent), "Speeding up the transaction",
                             int(old["value"]), to, data_hex, confirmed)

    def cancel(self, tx_hash: str, *, percent: int = 15) -> SentTx:
        """Replace a pending transaction with a 0-value transfer to itself (same nonce, higher fees)."""
        old = self._pending(tx_hash)
        tx = {"to": self.signer.address, "value": 0, "data": "0x", "gas": 21_000}
        return self._replace(tx_hash, old, tx, self._replacement_fee(old, percent), "Cancelling the transaction",
                             0, self.signer.address, "0x", True)

    # ---- messages
    def preview_message(self, message: str | bytes) -> MessagePreview:
        return message_preview(self.signer.address, message)

    def sign_message(self, message: str | bytes) -> bytes:
        """EIP-191 signature (the signer must offer `sign_message`, as the wallet's does)."""
        sign = getattr(self.signer, "sign_message", None)
        if sign is None:
            raise InputError("This signer cannot sign messages.")
        return bytes(sign(message))

    def preview_typed_data(self, full_message: dict[str, Any]) -> MessagePreview:
        return typed_data_preview(self.signer.address, full_message)

    def sign_typed_data(self, full_message: dict[str, Any]) -> bytes:
        """EIP-712 signature; refused when the domain names another chain than this network."""
        preview = typed_data_preview(self.signer.address, full_message)
        if preview.chain_id is not None and preview.chain_id != self.network.chain_id:
            raise ChainError(f"The typed data is for chain id {preview.chain_id}, not {self.network.name} "
                             f"({self.network.chain_id}). Nothing was signed.",
                             hint="Switch to the network it was made for.")
        return bytes(self.signer.sign_typed_data(full_message))


def history_status(entry_status: str) -> str:
    """A word for people for a history status."""
    return {PENDING: "pending", CONFIRMED: "confirmed", FAILED: "failed (reverted)", REPLACED: "replaced"}.get(
        entry_status, entry_status)


class NetworkSigner:
    """A `Signer` bound to one network: it refuses any transaction or typed data for another chain.

    Contract calls that go through `Connection.send` (mints, listings) put the chain id the node
    reported into each transaction; wrapping the wallet's signer in this checks it against the
    network the person chose, so a node serving another chain never gets a signature.
    """

    def __init__(self, signer: Signer, network: Network) -> None:
        self._signer = signer
        self.network = network

    @property
    def address(self) -> str:
        return self._signer.address

    def sign_transaction(self, transaction: dict[str, Any]) -> bytes:
        chain_id = transaction.get("chainId")
        if chain_id is None:
            raise ChainError("A transaction without a chain id could be replayed on any chain; nothing was signed.")
        check_chain_id(int(chain_id), self.network)
        return self._signer.sign_transaction(transaction)

    def sign_typed_data(self, full_message: dict[str, Any]) -> bytes:
        chain_id = (full_message.get("domain") or {}).get("chainId")
        if chain_id is not None:
            check_chain_id(int(chain_id), self.network)
        return self._signer.sign_typed_data(full_message)

    def sign_message(self, message: str | bytes) -> bytes:
        return self._signer.sign_message(message)  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        return f"NetworkSigner({self.address} on {self.network.key})"
