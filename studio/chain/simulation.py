"""What a transaction would do to the sender's balances, learnt by running it before it is signed.

    simulation = simulate(connection, {"from": me, "to": market, "value": price, "data": call},
                          known_contracts={market: "Studio marketplace"})
    simulation.changes     # You send 0.1 ETH, you receive token 3 of Moons …
    simulation.approvals   # approvals the call grants (setApprovalForAll, approve)
    simulation.warnings    # setApprovalForAll, a spender nobody knows, a call that would fail

The node runs the transaction on a throwaway copy of its state, as Rabby's pre-execution does:
``eth_simulateV1`` with traced ETH transfers where the node has it (geth, reth, anvil, and the
embedded devnet, which runs it on a snapshot of its in-process chain), else ``debug_traceCall``
with the call tracer and its logs, else the call's data is decoded (approve, setApprovalForAll,
transfers) and the preview says the node could not run it. What moved is read from the logs it
emitted: ERC-20 and ERC-721 ``Transfer``, ``Approval``, ``ApprovalForAll``, WETH's ``Deposit`` and
``Withdrawal``, and ETH movements. Only the sender's own changes are kept, netted per coin;
tokens are listed one by one. A simulation never stops a transaction: a node that cannot run it
gives a result that says so.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from studio.errors import StudioError

log = logging.getLogger(__name__)

SIMULATED, TRACED, DECODED = "simulated", "traced", "decoded"
SOURCES = {SIMULATED: "Run on the node before signing (eth_simulateV1)",
           TRACED: "Traced on the node before signing (debug_traceCall)",
           DECODED: "Not run: the node offers no simulation, so this is read from the call's data"}
SENDS, RECEIVES = "sends", "receives"
ETH, ERC20, ERC721 = "ETH", "ERC-20", "ERC-721"

NATIVE_ASSET = "0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
ZERO_ADDRESS = "0x" + "0" * 40
TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
APPROVAL_TOPIC = "0x8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925"
APPROVAL_FOR_ALL_TOPIC = "0x17307eab39ab6107e8899845ad3d59bd9653f200f220920489ca2b5937696c31"
DEPOSIT_TOPIC = "0xe1fffcc4923d04b559f4d29a8bfc6cda04eb5b0d3c460751c2402c5c5cc9109c"
WITHDRAWAL_TOPIC = "0x7fcf532c15f0a6db0bd6d0e038bea71d30d808c7d98cb3bf7268a95bf5081b65"
UNLIMITED = 2**255  # an allowance this large is, in practice, "everything, for ever"
MAX_LOGS = 2_000  # a call emitting more is summarised from the first ones
#: JSON-RPC answers that mean "this node has no such method" (geth, erigon, anvil, hosted RPCs).
_UNSUPPORTED = ("not found", "does not exist", "not available", "not supported", "unsupported", "unknown method",
                "method not allowed", "not whitelisted", "is disabled")


@dataclass(frozen=True)
class AssetChange:
    """One thing the sender's account gives or gets: ETH (netted), an ERC-20 amount (netted) or one NFT."""

    direction: str                 # SENDS or RECEIVES
    kind: str                      # ETH, ERC20 or ERC721
    amount: int                    # wei for ETH; the token's smallest unit for ERC-20; 1 for an NFT
    contract: str | None = None    # the token's contract (None for ETH)
    name: str = ""                 # "ETH", "WETH", or the collection's name as its contract says
    token_id: int | None = None
    decimals: int = 18
    counterparty: str | None = None  # for an NFT: who it comes from or goes to


@dataclass(frozen=True)
class ApprovalGrant:
    """An approval the transaction gives (or takes back) from the sender's tokens."""

    token: str                     # the token contract
    token_name: str
    spender: str
    spender_name: str | None       # a contract the studio knows ("Studio marketplace"), else None
    scope: str                     # "all" (setApprovalForAll), "token" (one NFT) or "amount" (ERC-20)
    token_id: int | None = None
    amount: int | None = None
    revoked: bool = False
    spender_is_contract: bool | None = None  # None when not asked
    decimals: int = 18                       # of an ERC-20 amount

    @property
    def unlimited(self) -> bool:
        return self.scope == "amount" and (self.amount or 0) >= UNLIMITED


@dataclass(frozen=True)
class Simulation:
    """What running the transaction showed, for the preview (money in wei, token amounts raw)."""

    method: str                    # SIMULATED, TRACED or DECODED
    succeeded: bool = True
    changes: tuple[AssetChange, ...] = ()
    approvals: tuple[ApprovalGrant, ...] = ()
    warnings: tuple[str, ...] = ()
    gas_used: int | None = None
    error: str | None = None       # why it would fail, or why the node could not run it
    others: int = field(default=0, compare=False)  # transfers between other parties (not shown one by one)

    @property
    def source(self) -> str:
        return SOURCES.get(self.method, self.method)

    @property
    def ran(self) -> bool:
        """Whether the node ran it (rather than its data being read)."""
        return self.method in (SIMULATED, TRACED)


# ---------------------------------------------------------------- running it on the node

_methods_lock = threading.Lock()
_unsupported: dict[tuple[str, str], bool] = {}  # (node, method) the node said it does not have
_names: dict[tuple[int, str], tuple[str, int, bool]] = {}  # (chain, contract) -> (name, decimals, is NFT)


def simulate(connection: Any, tx: Mapping[str, Any], *, known_contracts: Mapping[str, str] | None = None,
             gas_used: int | None = None) -> Simulation:
    """Run ``tx`` (from, to, value, data) on the node without sending it and say what the sender
    would send, receive and approve. Never raises for what the node cannot do: the result then says
    it was only decoded (`DECODED`) and why."""
    sender = str(tx.get("from") or ZERO_ADDRESS)
    known = {k.lower(): v for k, v in (known_contracts or {}).items()}
    call = {"from": sender, "value": hex(int(tx.get("value") or 0)), "input": str(tx.get("data") or "0x")}
    if tx.get("to"):
        call["to"] = str(tx["to"])
    if tx.get("gas"):
        call["gas"] = hex(int(tx["gas"]))
    problem = None
    for method, run in ((SIMULATED, _simulate_v1), (TRACED, _trace_call)):
        name = "eth_simulateV1" if method == SIMULATED else "debug_traceCall"
        node = _node(connection)
        if _unsupported.get((node, name)):
            continue
        try:
            logs, status, used, error = run(connection, call)
        except _Unsupported:
            with _methods_lock:
                _unsupported[(node, name)] = True
            continue
        except StudioError as exc:
            problem = exc.message
            log.info("Simulating with %s failed: %s", name, exc.message)
            continue
        except Exception as exc:  # an answer of an unexpected shape: fall back, never block a signature
            problem = f"the node's answer to {name} could not be read ({exc.__class__.__name__})"
            log.info("Simulating with %s gave an unreadable answer", name, exc_info=True)
            continue
        return _summarise(connection, sender, logs, known, method=method, succeeded=status,
                          gas_used=used if used is not None else gas_used, error=error)
    decoded = _decoded(connection, sender, tx, known)
    note = "The node could not run it" + (f" ({problem})" if problem else "") + ": only its data was read."
    return Simulation(DECODED, True, decoded.changes, decoded.approvals, decoded.warnings + (note,), gas_used,
                      problem)


class _Unsupported(Exception):
    """The node has no such method."""


def _node(connection: Any) -> str:
    provider = getattr(connection.web3, "provider", None)
    return str(getattr(provider, "endpoint_uri", None) or id(provider))


def _request(connection: Any, method: str, params: list[Any]) -> Any:
    """One raw JSON-RPC request; a missing method raises `_Unsupported`, another error `ChainError`."""
    from studio.chain.transactions import translated
    from studio.errors import ChainError

    response = translated(lambda: connection.web3.provider.make_request(method, params), "Simulating the transaction")
    error = response.get("error") if isinstance(response, dict) else None
    if error:
        message = str(error.get("message", error)) if isinstance(error, dict) else str(error)
        code = error.get("code") if isinstance(error, dict) else None
        if code == -32601 or any(words in message.lower() for words in _UNSUPPORTED):
            raise _Unsupported(message)
        raise ChainError(f"The node refused to simulate the transaction: {message[:200]}")
    return response.get("result") if isinstance(response, dict) else None


def _simulate_v1(connection: Any, call: dict[str, Any]) -> tuple[list[dict[str, Any]], bool, int | None, str | None]:
    result = _request(connection, "eth_simulateV1", [
        {"blockStateCalls": [{"calls": [call]}], "traceTransfers": True, "validation": False}, "latest"])
    answer = result[0]["calls"][0]
    ok = int(answer.get("status", "0x1"), 16) == 1
    error = answer.get("error")
    reason = None
    if not ok:
        reason = _revert_reason(error)
    return list(answer.get("logs") or [])[:MAX_LOGS], ok, int(answer["gasUsed"], 16) if answer.get("gasUsed") \
        else None, reason


def _trace_call(connection: Any, call: dict[str, Any]) -> tuple[list[dict[str, Any]], bool, int | None, str | None]:
    traced = dict(call)
    traced["data"] = traced.pop("input")
    frame = _request(connection, "debug_traceCall", [traced, "latest",
                                                      {"tracer": "callTracer", "tracerConfig": {"withLog": True}}])
    logs: list[dict[str, Any]] = []

    def walk(node: dict[str, Any]) -> None:
        if node.get("error") or len(logs) >= MAX_LOGS:
            return  # a reverted frame moved nothing
        value = int(node.get("value") or "0x0", 16)
        if value and str(node.get("type", "CALL")).upper() in ("CALL", "CREATE", "CREATE2"):
            logs.append({"address": NATIVE_ASSET, "topics": [TRANSFER_TOPIC, _topic(node["from"]),
                                                             _topic(node.get("to") or ZERO_ADDRESS)],
                         "data": "0x" + value.to_bytes(32, "big").hex()})
        for entry in node.get("logs") or ():
            logs.append(entry)
        for child in node.get("calls") or ():
            walk(child)

    walk(frame)
    ok = not frame.get("error")
    return logs, ok, int(frame["gasUsed"], 16) if frame.get("gasUsed") else None, \
        None if ok else str(frame.get("revertReason") or frame.get("error"))


def _revert_reason(error: Any) -> str:
    if not isinstance(error, dict):
        return "it would revert"
    data = error.get("data")
    if isinstance(data, str) and data not in ("", "0x"):
        from studio.chain.errors_decode import decode_revert

        return decode_revert(data, action="It").message
    return str(error.get("message") or "it would revert")


def _topic(address: str) -> str:
    return "0x" + address.lower().removeprefix("0x").rjust(64, "0")


# ---------------------------------------------------------------- reading what moved

def _summarise(connection: Any, sender: str, logs: Iterable[dict[str, Any]], known: dict[str, str], *,
               method: str, succeeded: bool, gas_used: int | None, error: str | None) -> Simulation:
    """The sender's changes and approvals from a run's logs."""
    me = sender.lower()
    fungible: dict[str, int] = {}   # contract ("" for ETH) -> net amount (positive: receives)
    nfts: list[AssetChange] = []
    approvals: list[ApprovalGrant] = []
    others = 0
    for entry in logs:
        topics = [str(t).lower() for t in entry.get("topics") or ()]
        if not topics:
            continue
        emitter = str(entry.get("address", "")).lower()
        data = str(entry.get("data") or "0x")
        kind = topics[0]
        if kind == TRANSFER_TOPIC and len(topics) == 3:  # ETH (traced) or an ERC-20
            source, target, amount = _address(topics[1]), _address(topics[2]), _uint(data)
            key = "" if emitter == NATIVE_ASSET else emitter
            if source == me and target != me:
                fungible[key] = fungible.get(key, 0) - amount
            elif target == me and source != me:
                fungible[key] = fungible.get(key, 0) + amount
            else:
                others += 1
        elif kind == TRANSFER_TOPIC and len(topics) == 4:  # an ERC-721 token
            source, target, token_id = _address(topics[1]), _address(topics[2]), int(topics[3], 16)
            if source == me and target != me:
                nfts.append(AssetChange(SENDS, ERC721, 1, _checksum(emitter), token_id=token_id,
                                        counterparty=_checksum(target)))
            elif target == me and source != me:
                nfts.append(AssetChange(RECEIVES, ERC721, 1, _checksum(emitter), token_id=token_id,
                                        counterparty=None if source == ZERO_ADDRESS else _checksum(source)))
            else:
                others += 1
        elif kind in (DEPOSIT_TOPIC, WITHDRAWAL_TOPIC) and len(topics) == 2 and _address(topics[1]) == me:
            amount = _uint(data)  # WETH9 wraps and unwraps without a Transfer event
            fungible[emitter] = fungible.get(emitter, 0) + (amount if kind == DEPOSIT_TOPIC else -amount)
        elif kind == APPROVAL_TOPIC and len(topics) in (3, 4) and _address(topics[1]) == me:
            spender = _address(topics[2])
            if len(topics) == 4:
                approvals.append(ApprovalGrant(_checksum(emitter), "", _checksum(spender), None, "token",
                                               token_id=int(topics[3], 16), revoked=spender == ZERO_ADDRESS))
            else:
                amount = _uint(data)
                approvals.append(ApprovalGrant(_checksum(emitter), "", _checksum(spender), None, "amount",
                                               amount=amount, revoked=amount == 0))
        elif kind == APPROVAL_FOR_ALL_TOPIC and len(topics) == 3 and _address(topics[1]) == me:
            approvals.append(ApprovalGrant(_checksum(emitter), "", _checksum(_address(topics[2])), None, "all",
                                           revoked=_uint(data) == 0))
    changes: list[AssetChange] = []
    for contract, net in sorted(fungible.items()):
        if net == 0:
            continue
        direction = RECEIVES if net > 0 else SENDS
        if not contract:
            changes.append(AssetChange(direction, ETH, abs(net), None, "ETH"))
        else:
            name, decimals, _nft = _token_facts(connection, contract, known)
            changes.append(AssetChange(direction, ERC20, abs(net), _checksum(contract), name, decimals=decimals))
    for change in nfts:
        name, _decimals, _nft = _token_facts(connection, str(change.contract), known)
        changes.append(_with(change, name=name))
    named = [_named_approval(connection, grant, known) for grant in approvals]
    warnings = _warnings(named, succeeded, error)
    return Simulation(method, succeeded, tuple(changes), tuple(named), tuple(warnings), gas_used, error, others)


def _named_approval(connection: Any, grant: ApprovalGrant, known: dict[str, str]) -> ApprovalGrant:
    token_name, decimals, _nft = _token_facts(connection, grant.token, known)
    spender_name = known.get(grant.spender.lower())
    is_contract = None
    if spender_name is None and not grant.revoked:
        try:
            is_contract = bool(connection.code_at(grant.spender))
        except StudioError:
            is_contract = None
    return ApprovalGrant(grant.token, token_name, grant.spender, spender_name, grant.scope, grant.token_id,
                         grant.amount, grant.revoked, is_contract, decimals)


def _warnings(approvals: list[ApprovalGrant], succeeded: bool, error: str | None) -> list[str]:
    warnings = []
    if not succeeded:
        warnings.append(f"It would fail: {error or 'the call reverts'}. Signing it would only spend the fee.")
    for grant in approvals:
        if grant.revoked:
            continue
        who = grant.spender_name or grant.spender
        if grant.scope == "all":
            warnings.append(f"setApprovalForAll: {who} may move EVERY token you hold in {grant.token_name}, now and "
                            "later, until you revoke it. Give this only to a marketplace you trust.")
        elif grant.unlimited:
            warnings.append(f"Unlimited approval: {who} may spend all your {grant.token_name}, now and later.")
        if grant.spender_name is None:
            what = "an account that is not a contract" if grant.spender_is_contract is False else \
                "a contract the studio does not know"
            warnings.append(f"The approval goes to {what} ({grant.spender}). Approve only what you recognise: "
                            "this is how wallets are drained.")
    return warnings


def _token_facts(connection: Any, contract: str, known: dict[str, str]) -> tuple[str, int, bool]:
    """(name, decimals, is an NFT) of a token contract: the name the studio knows, else its symbol
    (ERC-20) or name (ERC-721) as the contract answers (cleaned, short), cached per chain."""
    key = (int(getattr(connection, "chain_id", 0)), contract.lower())
    cached = _names.get(key)
    if cached is not None:
        return cached
    nft = _call_bool(connection, contract, "0x01ffc9a7" + "80ac58cd".ljust(64, "0"))  # supportsInterface(ERC-721)
    decimals = 0 if nft else (_call_uint(connection, contract, "0x313ce567") or 18)  # decimals()
    name = known.get(contract.lower()) or _call_text(connection, contract, "0x06fdde03" if nft else "0x95d89b41") \
        or _call_text(connection, contract, "0x06fdde03") or f"token {contract[:6]}…{contract[-4:]}"
    facts = (name, min(int(decimals), 36), nft)
    _names[key] = facts
    return facts


def _eth_call(connection: Any, contract: str, data: str) -> bytes | None:
    try:
        return bytes(connection.web3.eth.call({"to": _checksum(contract), "data": data}))
    except Exception:  # a contract without that function: nothing to show, never an error
        return None


def _call_bool(connection: Any, contract: str, data: str) -> bool:
    answer = _eth_call(connection, contract, data)
    return answer is not None and len(answer) == 32 and int.from_bytes(answer, "big") == 1


def _call_uint(connection: Any, contract: str, data: str) -> int | None:
    answer = _eth_call(connection, contract, data)
    return int.from_bytes(answer, "big") if answer and len(answer) == 32 else None


def _call_text(connection: Any, contract: str, data: str) -> str:
    from studio.text import printable

    answer = _eth_call(connection, contract, data)
    if not answer:
        return ""
    try:
        from eth_abi import decode

        text = str(decode(["string"], answer)[0])
    except Exception:
        text = answer.rstrip(b"\0").decode("utf-8", "replace") if len(answer) == 32 else ""  # old bytes32 symbols
    return printable(text).strip()[:40]


# ---------------------------------------------------------------- no simulation: the call's data

def _decoded(connection: Any, sender: str, tx: Mapping[str, Any], known: dict[str, str]) -> Simulation:
    """What the call's data says it does, for a node that cannot run it: ETH sent, approvals,
    transfers of the sender's own tokens (the standard selectors)."""
    from eth_abi import decode

    data = str(tx.get("data") or "0x").lower()
    to = str(tx.get("to") or "")
    value = int(tx.get("value") or 0)
    logs: list[dict[str, Any]] = []
    if value and to:
        logs.append({"address": NATIVE_ASSET, "topics": [TRANSFER_TOPIC, _topic(sender), _topic(to)],
                     "data": "0x" + value.to_bytes(32, "big").hex()})
    selector, body = data[:10], bytes.fromhex(data[10:]) if len(data) > 10 and len(data) % 2 == 0 else b""
    try:
        if to and selector == "0x095ea7b3":  # approve(address,uint256)
            spender, amount = decode(["address", "uint256"], body)
            nft = _token_facts(connection, to, known)[2]
            logs.append({"address": to, "topics": [APPROVAL_TOPIC, _topic(sender), _topic(spender)] +
                         ([_word(amount)] if nft else []), "data": "0x" if nft else _word(amount)})
        elif to and selector == "0xa22cb465":  # setApprovalForAll(address,bool)
            operator, approved = decode(["address", "bool"], body)
            logs.append({"address": to, "topics": [APPROVAL_FOR_ALL_TOPIC, _topic(sender), _topic(operator)],
                         "data": _word(int(approved))})
        elif to and selector in ("0x23b872dd", "0x42842e0e", "0xb88d4fde"):  # transferFrom, safeTransferFrom
            source, target, amount = decode(["address", "address", "uint256"], body[:96])
            nft = _token_facts(connection, to, known)[2]
            logs.append({"address": to, "topics": [TRANSFER_TOPIC, _topic(source), _topic(target)] +
                         ([_word(amount)] if nft else []), "data": "0x" if nft else _word(amount)})
        elif to and selector == "0xa9059cbb":  # transfer(address,uint256)
            target, amount = decode(["address", "uint256"], body)
            logs.append({"address": to, "topics": [TRANSFER_TOPIC, _topic(sender), _topic(target)],
                         "data": _word(amount)})
    except Exception:  # data that does not decode as the selector says: only the ETH is known
        pass
    return _summarise(connection, sender, logs, known, method=DECODED, succeeded=True, gas_used=None, error=None)


def _word(value: int) -> str:
    return "0x" + int(value).to_bytes(32, "big").hex()


def _address(topic: str) -> str:
    return "0x" + topic[-40:]


def _uint(data: str) -> int:
    body = data.removeprefix("0x")[:64]
    return int(body, 16) if body else 0


def _checksum(address: str) -> str:
    from eth_utils import to_checksum_address

    return to_checksum_address(address)


def _with(change: AssetChange, **fields: Any) -> AssetChange:
    from dataclasses import replace

    return replace(change, **fields)
