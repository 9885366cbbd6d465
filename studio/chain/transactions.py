"""Connecting to a node, reading it, and the plain values transactions are made of.

Nothing here holds a private key: a transaction is signed by a `Signer` (the wallet provides
one; tests use `LocalSigner` over an eth-account LocalAccount) and sent by the one sending path,
`studio.chain.sender.TxSender`. A `Connection` answers in plain values (`TxReceipt`, ints, hex
text) and every failure is one of the studio's errors: reverts are decoded into `ChainError`s that
name the contract's custom error in words, a node away is a `NetworkError`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Protocol, TypeVar, runtime_checkable

from studio.errors import ChainError, InputError, NetworkError, StudioError

if TYPE_CHECKING:
    from studio.chain.simulation import Simulation

T = TypeVar("T")


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
class TxRequest:
    """A transaction to send, before it is simulated or signed: what the contract wrappers build.

    ``to`` is None for a deployment (``data`` is then the contract's code and constructor
    arguments); ``gas`` fixes the gas limit instead of estimating it; ``action`` says what it does in
    the user's words ("Minting the batch") for previews and errors.
    """

    to: str | None
    data: str = "0x"
    value_wei: int = 0
    action: str = "The transaction"
    gas: int | None = None
    #: For the preview only (never signed): what the call does in words, and who sends and receives what.
    details: tuple[Detail, ...] = ()
    flows: tuple["Flow", ...] = ()


@dataclass(frozen=True)
class EventLog:
    """One log a transaction emitted, as plain hex text (the contract wrappers decode their own)."""

    address: str
    topics: tuple[str, ...]
    data: str
    log_index: int
    tx_index: int
    block_number: int
    block_hash: str
    tx_hash: str


@dataclass(frozen=True)
class TxReceipt:
    """What a mined transaction did, in plain values (wei, gas, hex strings).

    ``succeeded`` is False for a transaction that was mined but reverted (the sending path raises a
    decoded `ChainError` for it unless asked for the receipt as it is); ``logs`` are its events.
    """

    tx_hash: str
    block_number: int
    gas_used: int
    effective_gas_price: int
    contract_address: str | None = None
    succeeded: bool = True
    sender: str | None = None
    logs: tuple[EventLog, ...] = field(default=(), repr=False)

    @property
    def fee_wei(self) -> int:
        return self.gas_used * self.effective_gas_price


class Connection:
    """A connection to one node, with the chain id it reported: the studio's handle on a node.

    Its reads return plain values; every failure is one of the studio's errors. Sending goes
    through `TxSender` (``send`` below is that path for a web3 function a script or test holds).
    """

    def __init__(self, web3: Any, chain_id: int) -> None:
        self.web3 = web3
        self.chain_id = chain_id
        self.checked_chain_id: int | None = None  # set once a sender has compared it with its network

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 30.0) -> "Connection":
        """Connect over HTTP; raises NetworkError when the node does not answer."""
        from web3 import Web3

        web3 = Web3(bounded_http_provider(url, timeout=timeout))
        try:
            chain_id = int(web3.eth.chain_id)
        except Exception as exc:
            raise NetworkError(f"The node at {url} does not answer ({exc.__class__.__name__}).",
                               hint="Check the network settings and that the node is running.") from exc
        return cls(web3, chain_id)

    def _rpc(self, call: Callable[[], T], action: str) -> T:
        return translated(call, action)

    # ---- reads
    def balance(self, address: str) -> int:
        """Balance of `address` in wei."""
        return int(self._rpc(lambda: self.web3.eth.get_balance(address), "Reading the balance"))

    def reported_chain_id(self) -> int:
        """The chain id the node reports now (compare it with the network's: `check_chain_id`)."""
        return int(self._rpc(lambda: self.web3.eth.chain_id, "Asking the node its chain id"))

    def block_number(self) -> int:
        """The number of the node's latest block."""
        return int(self._rpc(lambda: self.web3.eth.block_number, "Asking the node for its latest block"))

    def latest_block_time(self) -> int:
        """The timestamp (seconds) of the node's latest block: the chain's idea of now."""
        return int(self._rpc(lambda: self.web3.eth.get_block("latest")["timestamp"], "Reading the latest block"))

    def block_time(self, number: int) -> int | None:
        """The timestamp (seconds) of block ``number``, or None when the node has no such block."""
        def ask() -> Any:
            block = self.web3.eth.get_block(int(number))
            return block["timestamp"] if block else None

        try:
            found = self._rpc(ask, f"Reading block {number}")
        except ChainError:
            return None
        return int(found) if found is not None else None

    def code_at(self, address: str) -> bytes:
        """The contract code at `address` (empty when no contract lives there)."""
        return bytes(self._rpc(lambda: self.web3.eth.get_code(address), f"Reading the code at {address}"))

    def transaction_count(self, address: str, *, pending: bool = False) -> int:
        """How many transactions `address` has had mined (or, with `pending`, sent): its next nonce."""
        block = "pending" if pending else "latest"
        return int(self._rpc(lambda: self.web3.eth.get_transaction_count(address, block),
                             "Counting the account's transactions"))

    def transaction_known(self, tx_hash: str) -> bool:
        """Whether the node knows the transaction (mined or waiting in its pool)."""
        from web3.exceptions import TransactionNotFound

        def ask() -> bool:
            try:
                self.web3.eth.get_transaction(tx_hash)
            except TransactionNotFound:
                return False
            return True

        return self._rpc(ask, "Looking up a transaction")

    def receipt(self, tx_hash: str) -> TxReceipt | None:
        """The receipt of a mined transaction, or None while it is not mined (or not known)."""
        from web3.exceptions import TransactionNotFound

        def ask() -> Any:
            try:
                return self.web3.eth.get_transaction_receipt(tx_hash)
            except TransactionNotFound:
                return None

        raw = self._rpc(ask, "Reading a receipt")
        return None if raw is None else _receipt(raw)

    def call(self, function: Any, *, action: str = "The call", sender: str | None = None) -> Any:
        """Run a web3 view function (the contract wrappers' reads); reverts become ChainError."""
        try:
            return function.call({"from": sender} if sender else {})
        except Exception as exc:
            raise as_studio_error(exc, action) from exc

    # ---- sending
    def send(self, signer: Any, function_or_tx: Any, *, value: int = 0,
             action: str = "The transaction") -> TxReceipt:
        """Send a web3 contract function, a constructor or a transaction dict through `TxSender`
        (simulate, estimate, sign, record, broadcast, wait) and return its receipt.

        For scripts and tests that hold a web3 function; the studio's own code uses the contract
        wrappers' typed methods, which build a `TxRequest` for the same path.
        """
        from studio.chain.contracts import request_for
        from studio.chain.sender import TxSender

        request = request_for(function_or_tx, value=value, action=action)
        return TxSender.for_signer(self, as_signer(signer)).transact(request)


def _receipt(raw: Any) -> TxReceipt:
    """A web3 receipt as a TxReceipt."""
    address = raw.get("contractAddress")
    logs = tuple(EventLog(str(entry["address"]), tuple(hex_string(t) for t in entry["topics"]),
                          hex_string(entry["data"]), int(entry["logIndex"]), int(entry["transactionIndex"]),
                          int(entry["blockNumber"]), hex_string(entry["blockHash"]),
                          hex_string(entry["transactionHash"]))
                 for entry in raw.get("logs") or ())
    return TxReceipt(tx_hash=hex_string(raw["transactionHash"]), block_number=int(raw["blockNumber"]),
                     gas_used=int(raw["gasUsed"]), effective_gas_price=int(raw.get("effectiveGasPrice") or 0),
                     contract_address=str(address) if address else None, succeeded=int(raw["status"]) == 1,
                     sender=str(raw["from"]) if raw.get("from") else None, logs=logs)


def hex_string(value: Any) -> str:
    """A hash, topic or data (bytes or text) as lower-case 0x-prefixed hex."""
    if isinstance(value, str):
        return value.lower() if value.startswith("0x") else "0x" + value.lower()
    return "0x" + bytes(value).hex()


#: The largest JSON-RPC answer read from a node (a block of logs is a few MB).
MAX_RPC_ANSWER = 32 * 1024 * 1024
#: Values (containers and commas) in one answer: 10,000 logs hold about 200,000.
MAX_RPC_VALUES = 2_000_000


def bounded_http_provider(url: str, *, timeout: float = 30.0, max_bytes: int = MAX_RPC_ANSWER) -> Any:
    """web3's HTTPProvider whose answers are read with a size cap (streamed, never more than
    `max_bytes`) and parsed with :mod:`studio.safejson` (depth and value count bounded), so a node
    or a proxy in front of it cannot exhaust memory or the stack with one answer."""
    import time

    from web3 import HTTPProvider
    from web3._utils.http_session_manager import HTTPSessionManager

    from studio import safejson

    class BoundedSessionManager(HTTPSessionManager):
        def make_post_request(self, endpoint_uri: Any, data: Any, **kwargs: Any) -> bytes:
            kwargs.setdefault("timeout", timeout)
            kwargs["stream"] = True
            started = time.monotonic()
            limit = kwargs["timeout"][1] if isinstance(kwargs["timeout"], tuple) else kwargs["timeout"]
            with self.get_response_from_post_request(endpoint_uri, data=data, **kwargs) as response:
                response.raise_for_status()
                declared = response.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise NetworkError(f"The node sent an answer of {int(declared):,} bytes, over the limit of "
                                       f"{max_bytes:,}.", hint="Ask for less at once (a smaller block range).")
                body = bytearray()
                for chunk in response.iter_content(chunk_size=64 * 1024):
                    body += chunk
                    if len(body) > max_bytes:
                        raise NetworkError(f"The node sent more than the limit of {max_bytes:,} bytes in one "
                                           "answer.", hint="Ask for less at once (a smaller block range).")
                    if time.monotonic() - started > float(limit) * 4:
                        raise NetworkError(f"The node took more than {float(limit) * 4:.0f} s to send one answer.",
                                           hint="Check the node and the connection.")
                return bytes(body)

    class BoundedHTTPProvider(HTTPProvider):
        @staticmethod
        def decode_rpc_response(raw_response: bytes) -> Any:
            try:
                return safejson.loads(raw_response, what="The node's answer", max_bytes=max_bytes,
                                      max_values=MAX_RPC_VALUES)
            except InputError as exc:
                raise NetworkError(exc.message, hint="Check that the address is an Ethereum JSON-RPC node.") from exc

    provider = BoundedHTTPProvider(url, request_kwargs={"timeout": timeout})
    provider._request_session_manager = BoundedSessionManager()  # noqa: SLF001 - the only way to cap the read
    return provider


def signed_tx_hash(raw: bytes) -> str:
    """The hash a signed raw transaction has on chain (0x + keccak-256 of its bytes), known before
    it is broadcast, so that it can be recorded first."""
    from eth_utils import keccak

    return "0x" + keccak(raw).hex()


def translated(call: Callable[[], T], action: str) -> T:
    """``call()`` (a request to a node), its web3/requests failure raised as the studio's error
    for doing ``action`` (chained to the original); an error nobody knows is raised as it is."""
    try:
        return call()
    except Exception as exc:
        error = as_studio_error(exc, action)
        if error is exc:
            raise
        raise error from exc


def as_studio_error(exc: Exception, action: str) -> Exception:
    """The studio's error for a web3/requests exception met while doing ``action`` (a decoded revert,
    a node's refusal, an unreachable node); anything else comes back as it is, for the caller to raise."""
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
        return _node_refusal(_rpc_message(exc), action)
    if isinstance(exc, (OSError, ConnectionError, web3_errors.ProviderConnectionError)) or \
            exc.__class__.__module__.startswith(("requests", "urllib3")):
        return NetworkError(f"The node could not be reached ({exc.__class__.__name__}).",
                            hint="Check the network settings and that the node is running.")
    if isinstance(exc, web3_errors.Web3ValidationError):
        return InputError(f"{action} has invalid arguments: {exc}")
    if isinstance(exc, web3_errors.BadFunctionCallOutput):  # an empty answer: no code there, or another kind
        return ChainError(f"{action} got no answer: there is no contract at that address on this network, or it "
                          "is not the kind of contract expected.", hint="Check the address and the network.")
    return exc


def _rpc_message(exc: Any) -> str:
    """The node's own words from a JSON-RPC error, without the dict around them."""
    response = getattr(exc, "rpc_response", None)
    error = response.get("error") if isinstance(response, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    return str(getattr(exc, "message", None) or exc)


#: What nodes (geth, anvil, reth, hosted RPCs) answer, and what the person can do about it.
_NODE_REFUSALS = (
    ("insufficient funds", "needs more ETH than the account holds (amount plus gas)",
     "Add funds to the account or lower the amount."),
    ("nonce too low", "used a nonce that is already taken (another app may have sent from this account)",
     "Try again: the studio asks the node for the next nonce."),
    ("replacement transaction underpriced", "would replace a pending transaction but offers too little fee",
     "Speed the pending transaction up with a higher fee, or wait for it."),
    ("already known", "was already sent and is waiting to be mined", "Wait for it in the history."),
    ("intrinsic gas too low", "was given too little gas", "Try again with the estimated gas."),
    ("less than block base fee", "offers a fee below the network's current base fee",
     "Try again: fees are read afresh each time, or choose a faster speed."),
    ("fee cap less than block base fee", "offers a fee below the network's current base fee",
     "Try again with a faster speed."),
    ("exceeds block gas limit", "needs more gas than a block holds", "Split it into smaller transactions."),
    ("rate limit", "was refused because the RPC limits requests", "Wait a moment, or set your own RPC URL in settings."),
    ("transaction type not supported", "uses fees this network does not support",
     "Check the network's settings (legacy gas price)."),
)


def _node_refusal(text: str, action: str) -> ChainError:
    lower = text.lower()
    for needle, what, hint in _NODE_REFUSALS:
        if needle in lower:
            return ChainError(f"{action} {what}.", hint=hint)
    return ChainError(f"{action} was refused by the node, which said: {text.rstrip('.')}.",
                      hint="Nothing was changed on chain; check the details and try again.")


# ---- previews: what a person reads before anything is signed


@dataclass(frozen=True)
class DecodedCall:
    """A call to one of the studio's contracts, decoded from its ABI."""

    contract: str  # the artifact name, e.g. "StudioMarketplace"
    function: str  # e.g. "buy"
    args: tuple[tuple[str, Any], ...]  # (argument name, value) in order

    @property
    def signature(self) -> str:
        return f"{self.function}({', '.join(name for name, _ in self.args)})"


@dataclass(frozen=True)
class Amount:
    """An amount in a preview's details, in wei of the network's currency (None) or of a token
    ("WETH"): the faces show it in ETH (or WETH), never as raw wei."""

    wei: int
    currency: str | None = None

    def __str__(self) -> str:
        return f"{self.wei} wei" + (f" of {self.currency}" if self.currency else "")


#: A preview detail: text, an amount in wei of the network's currency (int), or an `Amount`.
Detail = tuple[str, "str | int | Amount"]


@dataclass(frozen=True)
class Flow:
    """What one party sends or receives through a transaction, for the preview (money in wei).

    ``when`` says if it happens with this transaction ("now") or later ("when it sells"); ``what``
    names something that moves besides money ("token 3", "the token, minted")."""

    party: str                # "You", "The seller", "Royalty receiver", "Marketplace fee", "The artist"
    address: str | None
    direction: str            # "sends" or "receives"
    amount_wei: int = 0
    when: str = "now"
    what: str = ""
    currency: str | None = None  # None: the network's own (ETH); "WETH" for an offer's wrapped ether


@dataclass(frozen=True)
class TxPreview:
    """Everything the preview dialog (and `studio wallet send`) shows before a signature.

    Money is wei; the UI formats ETH. `to_name` is set when `to` is a known studio contract;
    `call` when the data decodes with one of our ABIs. `requires_confirmation` is True on a
    mainnet when value moves: the UI must ask, the CLI needs --yes.
    """

    network: str
    network_key: str
    chain_id: int
    is_mainnet: bool
    sender: str
    to: str | None
    to_name: str | None
    value_wei: int
    data: str
    call: DecodedCall | None
    gas_limit: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int | None
    nonce: int | None = None
    action: str = "Transaction"
    #: What the call does in people's words, shown instead of its raw arguments (deploy: name,
    #: symbol, royalty; approve: which marketplace), as (label, text) rows; an int is an amount in wei.
    details: tuple[Detail, ...] = ()
    #: What each party sends and receives (the workflow knows the sale's split).
    flows: tuple[Flow, ...] = ()
    #: What running it on the node showed: what the sender sends, receives and approves (None: not run).
    simulation: "Simulation | None" = None
    #: The estimated gas (the limit above adds a margin); an edited limit may not go below it.
    gas_estimate: int | None = None

    @property
    def max_fee_wei(self) -> int:
        """The most the fees can cost (gas limit times the maximum fee per gas)."""
        return self.gas_limit * self.max_fee_per_gas

    @property
    def max_total_wei(self) -> int:
        return self.value_wei + self.max_fee_wei

    @property
    def requires_confirmation(self) -> bool:
        return self.is_mainnet and self.value_wei > 0

    def lines(self) -> list[tuple[str, str]]:
        """(label, text) rows for a plain-text preview; amounts in wei, the UI formats ETH."""
        rows = [("Network", f"{self.network} (chain id {self.chain_id})" + ("  MAINNET: real money" if
                                                                              self.is_mainnet else "")),
                ("From", self.sender),
                ("To", f"{self.to_name} ({self.to})" if self.to_name else (self.to or "new contract"))]
        if self.call:
            rows.append(("Function", f"{self.call.contract}.{self.call.function}"))
        if self.details:
            rows.extend((label, f"{value} wei" if isinstance(value, int) else str(value)) for label, value in self.details)
        elif self.call:
            rows.extend((f"  {name}", _show(value)) for name, value in call_arguments(self.call))
        elif self.data not in ("", "0x"):
            rows.append(("Data", f"{(len(self.data) - 2) // 2} bytes, not a studio contract call"))
        rows += [("Value", f"{self.value_wei} wei"), ("Max fee", f"{self.max_fee_wei} wei"),
                 ("Gas limit", str(self.gas_limit))]
        rows += [(flow_label(flow), flow_text(flow, f"{flow.amount_wei} wei")) for flow in self.flows]
        if self.simulation is not None:
            rows.append(("Simulation", self.simulation.source))
            for change in self.simulation.changes:
                what = (f"{change.amount} wei" if change.kind == "ETH" else
                        f"{change.amount} (smallest units) of {change.name} ({change.contract})" if change.kind == "ERC-20"
                        else f"token #{change.token_id} of {change.name} ({change.contract})")
                rows.append(("You send" if change.direction == "sends" else "You receive", what))
            for grant in self.simulation.approvals:
                scope = {"all": "every token", "token": f"token #{grant.token_id}"}.get(
                    grant.scope, f"{grant.amount} (smallest units)")
                rows.append(("Approval", f"{'revokes ' if grant.revoked else ''}{grant.spender_name or grant.spender} "
                                         f"over {scope} of {grant.token_name}"))
            rows += [("Warning", warning) for warning in self.simulation.warnings]
        return rows


def flow_label(flow: Flow) -> str:
    """'You send', 'The seller receives' …: the row label of a flow."""
    noun = flow.party.split(" (")[0].split()[-1] if flow.party else ""
    plural = flow.party == "You" or noun in ("buyers", "sellers", "holders")  # "The buyers send"
    verb = flow.direction.removesuffix("s") if plural else flow.direction
    return f"{flow.party} {verb}"


def flow_text(flow: Flow, amount: str) -> str:
    """A flow's amount (formatted by the caller), what moves besides it, and when."""
    text = " and ".join([amount] + ([flow.what] if flow.what else [])) if flow.amount_wei or not flow.what \
        else flow.what
    return text + (f" ({flow.when})" if flow.when != "now" else "")


@dataclass(frozen=True)
class MessagePreview:
    """What a message signature (EIP-191 text or EIP-712 typed data) shows before signing."""

    kind: str  # "personal message (EIP-191)" or "typed data (EIP-712)"
    signer: str
    text: str | None = None
    primary_type: str | None = None
    domain: tuple[tuple[str, Any], ...] = ()
    fields: tuple[tuple[str, Any], ...] = ()
    chain_id: int | None = None
    #: What is signed in people's words ("Lists token 3 of Dawns", "Valid until"), as (label, text)
    #: rows (an int is an amount in wei): shown instead of raw fields too long to read (a Seaport order).
    details: tuple[Detail, ...] = ()
    #: What each party sends and receives once the signed order is filled (nothing moves when signing).
    flows: tuple[Flow, ...] = ()
    action: str = ""


def is_struct(value: Any) -> bool:
    """Whether a decoded argument is a struct: ((field name, value), ...)."""
    return isinstance(value, tuple) and bool(value) and all(
        isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str) for item in value)


def call_arguments(call: DecodedCall) -> list[tuple[str, Any]]:
    """The call's arguments as (name, value), a struct's fields as ``struct.field`` each."""
    rows: list[tuple[str, Any]] = []
    for name, value in call.args:
        if is_struct(value):
            rows.extend((f"{name}.{field}", part) for field, part in value)
        else:
            rows.append((name, value))
    return rows


def _show(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return str(value)


def decode_call(data: str | bytes | None) -> DecodedCall | None:
    """Decode call data with the studio's ABIs (None when no function of ours matches)."""
    if isinstance(data, (bytes, bytearray)):
        data = "0x" + bytes(data).hex()
    if not data or len(data) < 10:
        return None
    match = _function_selectors().get(data[:10].lower())
    if match is None:
        return None
    contract, entry = match
    from eth_abi import decode

    from studio.chain.errors_decode import _abi_type

    try:
        values = decode([_abi_type(item) for item in entry["inputs"]], bytes.fromhex(data[10:]))
    except Exception:
        return None
    names = [item.get("name") or f"arg{i}" for i, item in enumerate(entry["inputs"])]
    return DecodedCall(contract, entry["name"], tuple((name, _named(item, value))
                                                      for name, item, value in zip(names, entry["inputs"], values)))


def _named(abi_input: dict[str, Any], value: Any) -> Any:
    """A struct argument as ((field name, value), ...) so that previews show its fields by name."""
    components = abi_input.get("components")
    if components and isinstance(value, (list, tuple)) and not abi_input.get("type", "").endswith("]"):
        return tuple((item.get("name") or f"field{i}", _named(item, part))
                     for i, (item, part) in enumerate(zip(components, value)))
    return value


def _function_selectors() -> dict[str, tuple[str, dict[str, Any]]]:
    global _SELECTORS
    if _SELECTORS is None:
        from eth_utils import function_signature_to_4byte_selector

        from studio.chain.artifacts import artifact_names, load_artifact
        from studio.chain.errors_decode import _abi_type

        found: dict[str, tuple[str, dict[str, Any]]] = {}
        # The studio's own contracts first: a selector they share with a reference or test
        # contract (approve, transferFrom …) is named after the contract people actually use.
        for name in sorted(artifact_names(), key=lambda n: (not n.startswith("Studio"), n)):
            for entry in load_artifact(name).abi:
                if entry.get("type") != "function":
                    continue
                signature = f"{entry['name']}({','.join(_abi_type(i) for i in entry['inputs'])})"
                found.setdefault("0x" + function_signature_to_4byte_selector(signature).hex(), (name, entry))
        _SELECTORS = found
    return _SELECTORS


_SELECTORS: dict[str, tuple[str, dict[str, Any]]] | None = None


def message_preview(signer_address: str, message: str | bytes) -> MessagePreview:
    """Preview of an EIP-191 personal message (bytes shown as hex)."""
    text = message if isinstance(message, str) else "0x" + bytes(message).hex()
    return MessagePreview("personal message (EIP-191)", signer_address, text=text)


def typed_data_preview(signer_address: str, full_message: dict[str, Any]) -> MessagePreview:
    """Preview of EIP-712 typed data: domain, primary type and its fields."""
    domain = full_message.get("domain") or {}
    chain_id = domain.get("chainId")
    return MessagePreview(
        "typed data (EIP-712)", signer_address, primary_type=full_message.get("primaryType"),
        domain=tuple((k, _show(v)) for k, v in domain.items()),
        fields=tuple((k, _show(v)) for k, v in (full_message.get("message") or {}).items()),
        chain_id=int(chain_id) if chain_id is not None else None)
