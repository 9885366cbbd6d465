"""The one way the studio sends a transaction: preview, sign, record, broadcast, wait.

    sender = TxSender(connection, network, wallet.signer())
    prepared = sender.prepare_request(collection.mint_batch_tx(to, commitment))  # eth_call + estimate + fees
    show(prepared.preview)                              # the person reads it
    sent = sender.send(prepared, confirmed=True)        # nonce lane: sign, record in the history, broadcast
    receipt = sender.wait(sent.tx_hash, timeout=120)    # decoded revert as ChainError
    receipt = sender.transact(request, confirm=ask)     # the four steps in one call

Every call here talks to a node: run it off the GUI thread. Nonces come from a shared
`NonceManager` lane per account, held while the transaction is signed, recorded and broadcast,
so many sends at once never collide and a failed broadcast leaves no gap. Each signed transaction
goes into the wallet's `TxHistory` *before* it is broadcast (a run killed in between still shows
it) and its status follows it. A `send` may hand the signed transaction to ``on_signed`` first (the
batch journal keeps it there, so a killed run broadcasts the same bytes again, never a new nonce).
Requests to the node are tried again under the sender's `RetryPolicy` when the node drops them or
rate-limits (one try by default; the batch run allows several); a broadcast tried again is the
same signed bytes, and a node that answers "already known" got it.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable, Mapping, TypeVar

from studio.chain.fees import FeeLevel, estimate_gas, suggest_fees
from studio.chain.history import CONFIRMED, DROPPED, FAILED, PENDING, REPLACED, TxHistory
from studio.chain.networks import Network, check_chain_id
from studio.chain.nonces import NonceManager, node_key, shared_nonce_manager
from studio.chain.transactions import (Connection, MessagePreview, Signer, TxPreview, TxReceipt, TxRequest,
                                       as_studio_error, decode_call, message_preview, signed_tx_hash, translated,
                                       typed_data_preview)
from studio.errors import Cancelled, ChainError, InputError, NetworkError, StudioError
from studio.retry import ONCE, RetryPolicy, retry

if TYPE_CHECKING:
    from studio.cancel import Cancellable
    from studio.chain.simulation import Simulation

T = TypeVar("T")

#: What a node answers when it already holds the very transaction sent again.
_ALREADY_KNOWN = ("already known", "known transaction", "already imported")


@dataclass(frozen=True)
class PreparedTx:
    """A simulated, estimated transaction and its preview, ready to sign."""

    preview: TxPreview
    tx: dict[str, Any]  # unsigned, without nonce
    fee: FeeLevel
    #: A nonce the person chose (advanced gas); None: the account's next one, from its nonce lane.
    nonce: int | None = None


@dataclass(frozen=True)
class GasSettings:
    """What a person may change in the preview's advanced gas: fees per gas (wei), gas limit, nonce.

    None keeps what the studio chose. `TxSender.with_gas` checks them against the node (the fee
    against the base fee, the limit against the estimate, the nonce against the account's)."""

    max_fee_per_gas: int | None = None
    max_priority_fee_per_gas: int | None = None
    gas_limit: int | None = None
    nonce: int | None = None

    @property
    def empty(self) -> bool:
        return all(value is None for value in (self.max_fee_per_gas, self.max_priority_fee_per_gas, self.gas_limit,
                                               self.nonce))


@dataclass(frozen=True)
class SignedTx:
    """A transaction signed with its nonce, not yet broadcast: its bytes can be broadcast again as they are."""

    tx_hash: str
    nonce: int
    raw: bytes
    preview: TxPreview


@dataclass(frozen=True)
class SentTx:
    """A transaction the node accepted."""

    tx_hash: str
    nonce: int
    preview: TxPreview


class StillPending(NetworkError):
    """A transaction was not mined within the time given; it may still be."""


def rpc_retryable(error: Exception) -> bool:
    """Whether a failed node request may pass if tried again: the node was away, dropped the
    connection, or limited the rate (HTTP 429)."""
    if isinstance(error, StillPending):
        return False
    text = str(error).lower()
    return isinstance(error, NetworkError) or any(word in text for word in ("429", "too many requests", "rate limit"))


#: Actions that say nothing more than "a transaction": the history names the call instead.
GENERIC_ACTIONS = frozenset({"The transaction", "Transaction"})


class TxSender:
    """Sends from one signer on one network connection."""

    def __init__(self, connection: Connection, network: Network, signer: Signer, *,
                 nonces: NonceManager | None = None, history: TxHistory | None = None,
                 known_contracts: Mapping[str, str] | None = None, retry: RetryPolicy = ONCE,
                 cancel: "Cancellable | None" = None) -> None:
        self.connection = connection
        self.network = network
        self.signer = signer
        self.nonces = nonces or shared_nonce_manager()
        self.history = history
        self.known_contracts = {k.lower(): v for k, v in (known_contracts or {}).items()}
        self.retry = retry
        self.cancel_token = cancel  # stops the pauses between tries

    @classmethod
    def for_signer(cls, connection: Connection, signer: Signer, network: Network | None = None,
                   history: TxHistory | None = None, *, retry: RetryPolicy = ONCE,
                   cancel: "Cancellable | None" = None) -> "TxSender":
        """A sender for ``signer`` on ``connection``. The network and the history are the given ones,
        else the signer's own (a wallet's `NetworkSigner` carries both), else a network named after
        the node's chain id and no history."""
        network = network or getattr(signer, "network", None) or Network(
            f"chain-{connection.chain_id}", f"Chain {connection.chain_id}", connection.chain_id, None)
        check_chain_id(connection.chain_id, network, where=network.rpc_url)
        return cls(connection, network, signer, history=history or getattr(signer, "history", None),
                   known_contracts=known_contracts(network, connection), retry=retry, cancel=cancel)

    @property
    def _eth(self) -> Any:
        return self.connection.web3.eth

    # ---- talking to the node
    def retrying(self, call: Callable[[], T], action: str) -> T:
        """``call()`` (a request to this sender's node) under the sender's retry policy, its failure
        as one of the studio's errors."""
        def check_cancel(error: Exception, failures: int) -> None:
            if self.cancel_token is not None and self.cancel_token.cancelled:
                raise Cancelled(f"Cancelled while the node was asked again ({action}).")

        def give_up(error: Exception, tries: int) -> Exception:
            return NetworkError(f"{action} failed {tries} times; the node keeps dropping or refusing requests "
                                f"({error}).", hint="Check the node or try again later.")

        return retry(lambda: translated(call, action), policy=self.retry, retryable=rpc_retryable,
                     before_retry=check_cancel,
                     give_up=give_up if self.retry.attempts > 1 else None)

    # ---- chain id guard
    def ensure_chain(self) -> None:
        """Ask the node its chain id (once per connection) and refuse when it is not the network's."""
        if self.connection.checked_chain_id == self.network.chain_id:
            return
        reported = self.retrying(self.connection.reported_chain_id, "Checking the network")
        check_chain_id(reported, self.network, where=self.network.rpc_url)
        self.connection.checked_chain_id = reported

    # ---- prepare
    def prepare(self, to: str | None, *, value: int = 0, data: str | bytes = "0x", speed: str = "normal",
                fee: FeeLevel | None = None, action: str = "The transaction", gas: int | None = None,
                simulate: bool = True) -> PreparedTx:
        """Check with eth_call (reverts decoded), estimate gas with a margin, run the transaction on the
        node to see what the sender sends, receives and approves (`simulate`: for a preview someone
        reads), and build the preview."""
        from studio.chain.contracts import checksum
        from studio.chain.fees import with_margin

        if value < 0:
            raise InputError("An amount cannot be negative.")
        data_hex = "0x" + bytes(data).hex() if isinstance(data, (bytes, bytearray)) else (data or "0x")
        tx: dict[str, Any] = {"from": self.signer.address, "value": int(value), "data": data_hex}
        if to is not None:
            tx["to"] = checksum(to, "recipient")
        self.retrying(lambda: self._eth.call(tx), action)
        estimate = gas
        if gas is None:
            estimate = self.retrying(lambda: estimate_gas(self.connection, tx, margin=0.0, action=action), action)
            gas = with_margin(estimate)
        chosen = fee or self.retrying(lambda: suggest_fees(self.connection), "Reading the network's fees").level(speed)
        balance = self.retrying(lambda: self.connection.balance(self.signer.address), action)
        if balance < value + gas * chosen.max_fee_per_gas:
            raise ChainError(f"{action} needs up to {value + gas * chosen.max_fee_per_gas} wei (amount plus maximum "
                             f"fee); the account holds {balance} wei.",
                             hint="Add funds to the account or lower the amount.")
        to_address = tx.get("to")
        preview = TxPreview(
            network=self.network.name, network_key=self.network.key, chain_id=self.network.chain_id,
            is_mainnet=self.network.is_mainnet, sender=self.signer.address, to=to_address,
            to_name=self.known_contracts.get(to_address.lower()) if to_address else None,
            value_wei=int(value), data=data_hex, call=decode_call(data_hex), gas_limit=gas,
            max_fee_per_gas=chosen.max_fee_per_gas, max_priority_fee_per_gas=chosen.max_priority_fee_per_gas,
            action=action, gas_estimate=estimate,
            simulation=self.simulate(tx, gas_used=estimate) if simulate else None)
        tx["gas"] = gas
        tx.update(chosen.tx_fields())
        return PreparedTx(preview, tx, chosen)

    def simulate(self, tx: Mapping[str, Any], *, gas_used: int | None = None) -> "Simulation":
        """Run ``tx`` on the node without sending it: what the sender would send, receive and approve."""
        from studio.chain.simulation import simulate

        return simulate(self.connection, tx, known_contracts=self.known_contracts, gas_used=gas_used)

    def prepare_request(self, request: TxRequest, *, speed: str = "normal", simulate: bool = True) -> PreparedTx:
        """`prepare` for a request a contract wrapper built (``collection.mint_batch_tx(...)``)."""
        prepared = self.prepare(request.to, value=request.value_wei, data=request.data, speed=speed,
                                action=request.action, gas=request.gas, simulate=simulate)
        if request.details or request.flows:
            prepared = replace(prepared, preview=replace(prepared.preview, details=request.details or
                                                         prepared.preview.details, flows=request.flows))
        return prepared

    # ---- advanced gas
    def with_gas(self, prepared: PreparedTx, settings: GasSettings) -> PreparedTx:
        """The prepared transaction with the fees, gas limit or nonce a person chose, checked first:
        fees positive, the tip at most the max fee, the max fee at least the next base fee, the limit
        between the estimate and the block's gas limit, the nonce neither used nor leaving a gap,
        and the account able to pay the new maximum. Raises InputError saying what to change."""
        if settings.empty:
            return prepared
        preview = prepared.preview
        max_fee = preview.max_fee_per_gas if settings.max_fee_per_gas is None else int(settings.max_fee_per_gas)
        tip = preview.max_priority_fee_per_gas if settings.max_priority_fee_per_gas is None else \
            int(settings.max_priority_fee_per_gas)
        limit = preview.gas_limit if settings.gas_limit is None else int(settings.gas_limit)
        if max_fee <= 0:
            raise InputError("The max fee per gas must be more than zero.")
        if tip is not None:
            if tip < 0:
                raise InputError("The priority fee cannot be negative.")
            if tip > max_fee:
                raise InputError(f"The priority fee ({_gwei(tip)}) is more than the max fee ({_gwei(max_fee)}).",
                                 hint="Raise the max fee or lower the priority fee.")
        elif settings.max_priority_fee_per_gas is not None:
            raise InputError(f"{self.network.name} takes legacy transactions: only a gas price, no priority fee.")
        base_fee = self.retrying(lambda: suggest_fees(self.connection).base_fee_per_gas, "Reading the network's fees")
        if base_fee is not None and max_fee < base_fee:
            raise InputError(f"The max fee ({_gwei(max_fee)}) is below the network's base fee ({_gwei(base_fee)}): "
                             "the transaction would never be mined.", hint=f"Set at least {_gwei(base_fee)}.")
        needed = preview.gas_estimate or 21_000
        if limit < max(21_000, needed):
            raise InputError(f"A gas limit of {limit:,} is below what the transaction needs ({max(21_000, needed):,}): "
                             "it would run out of gas and fail, and the fee would still be paid.",
                             hint=f"Set at least {max(21_000, needed):,}.")
        block_limit = self.retrying(lambda: int(self._eth.get_block("latest")["gasLimit"]), "Reading the latest block")
        if limit > block_limit:
            raise InputError(f"A gas limit of {limit:,} is more than a block holds ({block_limit:,}).")
        nonce = prepared.nonce
        if settings.nonce is not None:
            nonce = int(settings.nonce)
            address = self.signer.address
            used = self.retrying(lambda: self.connection.transaction_count(address), "Counting the account's transactions")
            pending = self.retrying(lambda: self.connection.transaction_count(address, pending=True),
                                    "Counting the account's transactions")
            if nonce < used:
                raise InputError(f"Nonce {nonce} is already used: this account's next nonce is {pending}.",
                                 hint=f"Use {used}" + (f" to {pending}" if pending > used else "") +
                                      " (a nonce of a pending transaction replaces it).")
            if nonce > pending:
                raise InputError(f"Nonce {nonce} would leave a gap: the account's next nonce is {pending}, and the "
                                 "transaction would wait until the nonces before it are used.",
                                 hint=f"Use {pending}, or a pending transaction's nonce to replace it.")
        fee = FeeLevel("custom", max_fee, tip)
        balance = self.retrying(lambda: self.connection.balance(self.signer.address), "Reading the balance")
        if balance < preview.value_wei + limit * max_fee:
            raise InputError(f"With these settings the transaction may cost up to {preview.value_wei + limit * max_fee} "
                             f"wei (amount plus maximum fee); the account holds {balance} wei.",
                             hint="Lower the max fee or the gas limit.")
        tx = {k: v for k, v in prepared.tx.items() if k not in ("gas", "maxFeePerGas", "maxPriorityFeePerGas",
                                                                "gasPrice")}
        tx["gas"] = limit
        tx.update(fee.tx_fields())
        return replace(prepared, tx=tx, fee=fee, nonce=nonce,
                       preview=replace(preview, gas_limit=limit, max_fee_per_gas=max_fee,
                                       max_priority_fee_per_gas=tip, nonce=nonce))

    # ---- send
    def send(self, prepared: PreparedTx, *, confirmed: bool = False,
             on_signed: Callable[[SignedTx], None] | None = None) -> SentTx:
        """Sign, record in the history, and broadcast, holding the account's nonce lane.

        On a mainnet, value moves only with `confirmed=True` (CLI: --yes). ``on_signed`` sees the
        signed transaction before it is broadcast (to journal it); raising there sends nothing.
        """
        if prepared.preview.requires_confirmation and not confirmed:
            raise InputError(f"{prepared.preview.action} moves real money on {self.network.name} and was not "
                             "confirmed.", hint="Read the preview and confirm it (on the command line: --yes).")
        self.ensure_chain()
        tx = {k: v for k, v in prepared.tx.items() if k != "from"}
        tx["chainId"] = self.network.chain_id
        address = self.signer.address
        if prepared.nonce is not None:  # chosen by the person (checked by `with_gas`): no lane to reserve
            tx["nonce"] = prepared.nonce
            signed = self._sign_record_broadcast(tx, replace(prepared.preview, nonce=prepared.nonce), prepared.fee,
                                                 on_signed)
            self.nonces.forget(self.network.chain_id, address, node=node_key(self.connection))
            return SentTx(signed.tx_hash, prepared.nonce, signed.preview)
        with self.nonces.reserve(self.network.chain_id, address,
                                 lambda: self.retrying(lambda: self.connection.transaction_count(address, pending=True),
                                                       "Counting the account's transactions"),
                                 node=node_key(self.connection)) as nonce:
            tx["nonce"] = nonce
            signed = self._sign_record_broadcast(tx, replace(prepared.preview, nonce=nonce), prepared.fee, on_signed)
        return SentTx(signed.tx_hash, nonce, signed.preview)

    def _sign_record_broadcast(self, tx: dict[str, Any], preview: TxPreview, fee: FeeLevel,
                               on_signed: Callable[[SignedTx], None] | None = None) -> SignedTx:
        raw = bytes(self.signer.sign_transaction(tx))
        signed = SignedTx(signed_tx_hash(raw), int(tx["nonce"]), raw, preview)
        self._record(signed.tx_hash, preview, fee, int(tx["gas"]))
        try:
            if on_signed is not None:
                on_signed(signed)
            self.broadcast(raw, preview.action)
        except NetworkError:  # the node was away: whether it got the transaction is not known
            raise
        except BaseException:  # not broadcast, or refused: it will never be mined
            self._set_status(signed.tx_hash, DROPPED)
            raise
        return signed

    def broadcast(self, raw: bytes, action: str) -> None:
        """Send signed bytes; a node that already holds them (or, when tried again, whose nonce
        is now used) got them."""
        tries = 0

        def send() -> None:
            nonlocal tries
            tries += 1
            try:
                self._eth.send_raw_transaction(raw)
            except Exception as exc:
                text = str(exc).lower()
                if any(answer in text for answer in _ALREADY_KNOWN) or (tries > 1 and "nonce too low" in text):
                    return
                raise

        self.retrying(send, action)

    def rebroadcast(self, raw: bytes, action: str = "Broadcasting again") -> None:
        """Broadcast a transaction signed earlier (a resumed run), as it was signed: same nonce, same hash."""
        self.broadcast(raw, action)
        self._set_status(signed_tx_hash(raw), PENDING)

    def _record(self, tx_hash: str, preview: TxPreview, fee: FeeLevel, gas: int) -> None:
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

    def _set_status(self, tx_hash: str, status: str, **fields: Any) -> None:
        if self.history is None:
            return
        try:
            self.history.set_status(tx_hash, status, **fields)
        except StudioError:  # a transaction sent elsewhere is not in our history
            pass

    # ---- wait
    def receipt(self, tx_hash: str) -> TxReceipt | None:
        """The receipt if the transaction is mined (its history status follows), else None."""
        found = self.retrying(lambda: self.connection.receipt(tx_hash), "Reading a receipt")
        if found is not None:
            self._set_status(tx_hash, CONFIRMED if found.succeeded else FAILED, block_number=found.block_number,
                             gas_used=found.gas_used)
        return found

    def wait(self, tx_hash: str, *, timeout: float = 120.0, poll: float = 0.2, cancel: "Cancellable | None" = None,
             check: bool = True, action: str = "The transaction") -> TxReceipt:
        """Wait for the receipt. A reverted transaction raises its decoded ChainError (unless
        ``check`` is False: the receipt says so); `StillPending` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while (found := self.receipt(tx_hash)) is None:
            if cancel is not None and cancel.cancelled:
                raise Cancelled("Stopped waiting; the transaction may still be mined (see the history).")
            if time.monotonic() >= deadline:
                raise StillPending(f"The transaction {tx_hash} was not mined within {timeout:g} s.",
                                   hint="It is still pending: wait longer, speed it up, or cancel it.")
            time.sleep(poll)
        if check and not found.succeeded:
            raise self._explain_failure(tx_hash, found, action)
        return found

    def _explain_failure(self, tx_hash: str, receipt: TxReceipt, action: str) -> Exception:
        """Replay a mined-but-reverted transaction as a call to learn its revert reason.

        The call runs in the context of the block that mined it (its timestamp); a reverted
        transaction changed no contract state, so that block's state is the one it saw.
        """
        try:
            tx = self._eth.get_transaction(tx_hash)
            replay = {"to": tx["to"], "data": tx["input"], "value": tx["value"], "from": receipt.sender or tx["from"]}
            self._eth.call(replay, receipt.block_number)
        except Exception as exc:
            error = as_studio_error(exc, action)
            if isinstance(error, StudioError):
                return error
        return ChainError(f"{action} was mined but reverted (gas used {receipt.gas_used}).",
                          hint="It may have run out of gas; try again.")

    def transact(self, request: TxRequest, *, confirm: Callable[[TxPreview], "bool | GasSettings"] | None = None,
                 speed: str = "normal", timeout: float = 120.0, cancel: "Cancellable | None" = None) -> TxReceipt:
        """Prepare, show the preview to ``confirm`` (False: `Cancelled`, nothing sent; `GasSettings`: the
        person's advanced gas, applied), send and wait.

        Without ``confirm`` the caller has decided already (a script, a contract wrapper's method).
        A node lost while waiting raises `StillPending`, naming the transaction that was sent.
        """
        prepared = self.prepare_request(request, speed=speed, simulate=confirm is not None)
        if confirm is not None:
            prepared = self.confirmed(prepared, confirm(prepared.preview), request.action)
        sent = self.send(prepared, confirmed=True)
        try:
            return self.wait(sent.tx_hash, timeout=timeout, cancel=cancel, action=request.action)
        except NetworkError as exc:
            raise StillPending(f"{request.action} was sent ({sent.tx_hash}) but is not confirmed yet: {exc.message}",
                               hint="It may still be mined: the wallet's history follows it.") from exc

    def confirmed(self, prepared: PreparedTx, answer: "bool | GasSettings", action: str) -> PreparedTx:
        """What a ``confirm`` callback answered about ``prepared``'s preview: False cancels (nothing is
        sent), True sends it as prepared, `GasSettings` (the preview's advanced gas) are applied first."""
        if isinstance(answer, GasSettings):
            return self.with_gas(prepared, answer)
        if not answer:
            raise Cancelled(f"{action} was not confirmed; nothing was sent.")
        return prepared

    def send_and_wait(self, prepared: PreparedTx, *, confirmed: bool = False, timeout: float = 120.0) -> TxReceipt:
        return self.wait(self.send(prepared, confirmed=confirmed).tx_hash, timeout=timeout,
                         action=prepared.preview.action)

    # ---- what became of a transaction signed earlier
    def is_known(self, tx_hash: str) -> bool:
        """Whether the node knows the transaction (mined, or waiting in its pool)."""
        return self.retrying(lambda: self.connection.transaction_known(tx_hash), "Looking up a transaction")

    def nonce_taken(self, tx_hash: str, nonce: int) -> bool:
        """Whether the account's ``nonce`` went to another mined transaction, so ``tx_hash`` (signed
        with it, unknown to the node) can never land; it is marked dropped in the history."""
        used = self.retrying(lambda: self.connection.transaction_count(self.signer.address),
                             "Counting the account's transactions")
        if used <= nonce:
            return False
        self._set_status(tx_hash, DROPPED)
        return True

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
        signed = self._sign_record_broadcast(tx, preview, fee)
        self._set_status(old_hash, REPLACED, replaced_by=signed.tx_hash)
        return SentTx(signed.tx_hash, int(old["nonce"]), preview)

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


def _gwei(wei: int) -> str:
    return f"{wei / 10**9:.9f}".rstrip("0").rstrip(".") + " gwei"


def known_contracts(network: Network, connection: Connection | None = None) -> dict[str, str]:
    """address -> name of the contracts a preview names and a simulation trusts as spenders: the
    devnet's own (marketplace, Seaport, WETH); elsewhere the canonical Seaport 1.6, the network's
    WETH and the studio marketplace set for it in settings."""
    in_process = getattr(getattr(connection.web3, "provider", None), "devnet", None) if connection else None
    if in_process is not None:  # a connection to the embedded devnet, whatever the network was called
        return dict(in_process.known_contracts())
    if network.embedded:
        from studio.chain.devnet import Devnet

        return Devnet.shared().known_contracts()
    from studio.chain.seaport import CANONICAL_SEAPORT
    from studio.chain.seaport_contract import WETH_ADDRESSES

    known = {CANONICAL_SEAPORT: "Seaport 1.6"}
    if network.chain_id in WETH_ADDRESSES:
        known[WETH_ADDRESSES[network.chain_id]] = "WETH"
    try:
        from studio.config import load_config

        text = load_config().values.get("marketplace_addresses", "")
    except StudioError:
        text = ""
    for line in str(text or "").splitlines():
        key, _sep, address = line.strip().partition("=")
        if key.strip().lower() == network.key and address.strip().startswith("0x"):
            known[address.strip()] = "Studio marketplace"
    return known


def history_status(entry_status: str) -> str:
    """A word for people for a history status."""
    return {PENDING: "pending", CONFIRMED: "confirmed", FAILED: "failed (reverted)", REPLACED: "replaced",
            DROPPED: "dropped (never mined)"}.get(entry_status, entry_status)


class NetworkSigner:
    """The wallet's `Signer` bound to one network: it refuses any transaction or typed data for another chain.

    Wrapping the wallet's signer in this checks each transaction's chain id against the network
    the person chose, so a node serving another chain never gets a signature. It also carries the
    wallet's `TxHistory`: whatever a workflow or a contract wrapper sends with it through
    `TxSender.for_signer` is recorded there (mints, batch runs, deployments, listings).
    """

    def __init__(self, signer: Signer, network: Network, history: TxHistory | None = None) -> None:
        self._signer = signer
        self.network = network
        self.history = history

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
