"""The embedded devnet: an in-process EVM (eth-tester + py-evm) that needs no install and no network.

Its ten accounts are funded from the public test phrase (the same addresses as anvil and
hardhat: never real funds). Its chain is saved in ``<data>/devnet/`` shortly after every change
and when it closes, so its state survives a restart of the studio. The studio's marketplace is
deployed on first use (`studio_contracts`). `studio devnet serve` exposes the same devnet as
JSON-RPC on 127.0.0.1 (studio/chain/devnet_server.py) for MetaMask and other tools.
"""
from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import IO, Any

from studio.chain.anvil import TEST_MNEMONIC
from studio.chain.networks import DEVNET_CHAIN_ID
from studio.errors import NetworkError, StorageError
from studio.fileio import atomic_write_text

log = logging.getLogger(__name__)

HD_PATH = "m/44'/60'/0'/0"
ACCOUNT_COUNT = 10
STATE_CHANGING = {"eth_sendRawTransaction", "eth_sendTransaction", "evm_mine", "evm_revert",
                  "testing_timeTravel"}
#: Priority fee the devnet suggests (eth_maxPriorityFeePerGas), like hardhat's 1 gwei.
SUGGESTED_TIP = 10**9

_shared: dict[Path, "Devnet"] = {}
_shared_lock = threading.Lock()


class Devnet:
    """One embedded chain, saved under `state_dir` (None: in memory only, for tests)."""

    def __init__(self, state_dir: Path | None = None, *, save_delay: float = 0.5) -> None:
        from eth_tester import EthereumTester, PyEVMBackend

        self.state_dir = Path(state_dir) if state_dir else None
        self.chain_id = DEVNET_CHAIN_ID
        self.save_delay = save_delay
        self._lock = threading.RLock()
        self._save_timer: threading.Timer | None = None
        self._lock_file: IO[str] | None = None
        if self.state_dir:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            self._take_process_lock()
        backend = PyEVMBackend.from_mnemonic(TEST_MNEMONIC, num_accounts=ACCOUNT_COUNT, hd_path=HD_PATH)
        type(backend.chain).chain_id = self.chain_id  # the class is made per backend by eth-tester
        self.backend = backend
        self._meta: dict[str, Any] = {"version": 1, "chain_id": self.chain_id, "contracts": {}}
        if self.state_dir and self.chain_file.exists():
            from studio.chain.devnet_persistence import load_chain

            load_chain(backend, self.chain_file.read_bytes())
            self._meta.update(self._read_meta())
        self.tester = EthereumTester(backend)
        self._endpoints = _endpoints(self.chain_id)

    # ---- files
    @property
    def chain_file(self) -> Path:
        assert self.state_dir is not None
        return self.state_dir / "chain.bin"

    @property
    def meta_file(self) -> Path:
        assert self.state_dir is not None
        return self.state_dir / "devnet.json"

    def _read_meta(self) -> dict[str, Any]:
        try:
            return json.loads(self.meta_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("The devnet's %s is unreadable (%s); its contract list starts empty.", self.meta_file, exc)
            return {}

    def _take_process_lock(self) -> None:
        try:
            import fcntl
        except ImportError:  # Windows: no advisory lock; one studio process at a time is assumed
            return
        assert self.state_dir is not None  # only a devnet that is saved takes the lock
        handle = open(self.state_dir / "lock", "w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            handle.close()
            raise NetworkError("The devnet is already open in another studio process (perhaps "
                               "`studio devnet serve`).",
                               hint="Stop that process, or add its URL as a custom network and use that.") from exc
        self._lock_file = handle

    @classmethod
    def shared(cls) -> "Devnet":
        """The devnet of this studio home, one per process."""
        from studio.paths import studio_paths

        state_dir = studio_paths().ensure().data_dir / "devnet"
        with _shared_lock:
            devnet = _shared.get(state_dir)
            if devnet is None:
                import atexit

                devnet = _shared[state_dir] = cls(state_dir)
                atexit.register(devnet.close)
            return devnet

    # ---- requests
    def request(self, method: str, params: Any) -> dict[str, Any]:
        """One JSON-RPC request in eth-tester's own value format; reverts keep their data."""
        from eth_tester.exceptions import TransactionFailed

        namespace, _, endpoint = method.partition("_")
        delegator = self._endpoints.get(namespace, {}).get(endpoint)
        if delegator is None:
            return {"jsonrpc": "2.0", "id": 0, "error": {"code": -32601, "message": f"Method {method} is not supported"}}
        with self._lock:
            try:
                result = delegator(self.tester, params)
            except TransactionFailed as exc:
                return {"jsonrpc": "2.0", "id": 0, "error": _revert_error(exc)}
            except NotImplementedError:
                return {"jsonrpc": "2.0", "id": 0,
                        "error": {"code": -32601, "message": f"Method {method} is not implemented"}}
            except Exception as exc:  # eth-tester/py-evm validation: the client's request is wrong
                log.debug("devnet %s failed: %s", method, exc)
                return {"jsonrpc": "2.0", "id": 0, "error": {"code": -32000, "message": str(exc)}}
        if method in STATE_CHANGING:
            self._schedule_save()
        return {"jsonrpc": "2.0", "id": 0, "result": result}

    def wire_request(self, method: str, params: Any) -> dict[str, Any]:
        """One request as a JSON-RPC client sends it (hex quantities, camelCase): the server's path."""
        from web3.providers.eth_tester.middleware import request_formatters, result_formatters
        from web3.types import RPCEndpoint

        params = list(params or [])
        formatter = request_formatters.get(RPCEndpoint(method))
        if formatter is not None:
            try:
                params = formatter(params)
            except Exception as exc:
                return {"error": {"code": -32602, "message": f"Invalid params: {exc}"}}
        if method in ("eth_call", "eth_estimateGas") and params and isinstance(params[0], dict):
            params[0].setdefault("from", self.accounts[0])  # eth-tester insists on a funded sender
        response = self.request(method, params)
        if "error" in response:
            return {"error": response["error"]}
        result = response["result"]
        result_formatter = (result_formatters or {}).get(RPCEndpoint(method))
        if result_formatter is not None:
            result = result_formatter(result)
        return {"result": _to_wire(result)}

    @property
    def web3(self):
        """A Web3 talking to this devnet in-process."""
        from web3 import Web3

        return Web3(_DevnetProvider(self))

    def connection(self):
        from studio.chain.transactions import Connection

        return Connection(self.web3, self.chain_id)

    @property
    def accounts(self) -> list[str]:
        return list(self.tester.get_accounts())

    # ---- contracts
    def studio_contracts(self, progress=None) -> dict[str, str]:
        """Addresses of the studio's shared contracts on the devnet, deploying them on first use."""
        from eth_account import Account

        from studio.chain.contracts import MarketplaceContract
        from studio.chain.transactions import LocalSigner

        with self._lock:
            contracts = dict(self._meta.get("contracts") or {})
            connection = self.connection()
            address = contracts.get("StudioMarketplace")
            if not address or connection.web3.eth.get_code(address) in (b"", "0x"):
                if progress:
                    progress(0.1, "Deploying the studio marketplace on the devnet")
                Account.enable_unaudited_hdwallet_features()
                deployer = LocalSigner(Account.from_mnemonic(TEST_MNEMONIC, account_path=f"{HD_PATH}/0"))
                market, _ = MarketplaceContract.deploy(connection, deployer)
                contracts["StudioMarketplace"] = market.address
                self._meta["contracts"] = contracts
                self.save()
            if progress:
                progress(1.0, "Studio contracts ready")
            return contracts

    def known_contracts(self) -> dict[str, str]:
        """address -> name for previews ("Studio marketplace")."""
        names = {"StudioMarketplace": "Studio marketplace"}
        return {address: names.get(name, name) for name, address in (self._meta.get("contracts") or {}).items()}

    # ---- saving
    def _schedule_save(self) -> None:
        if not self.state_dir:
            return
        with self._lock:
            if self._save_timer is None:
                self._save_timer = threading.Timer(self.save_delay, self.save)
                self._save_timer.daemon = True
                self._save_timer.start()

    def save(self) -> None:
        """Write the chain and its contract list now (atomically)."""
        if not self.state_dir:
            return
        from studio.chain.devnet_persistence import dump_chain

        with self._lock:
            if self._save_timer is not None:
                self._save_timer.cancel()
                self._save_timer = None
            data = dump_chain(self.backend)
            meta = json.dumps(self._meta, indent=2)
        from studio.fileio import atomic_write_bytes

        try:
            atomic_write_bytes(self.chain_file, data, mode=0o600)
            atomic_write_text(self.meta_file, meta)
        except StorageError:
            log.exception("Could not save the devnet")
            raise

    def close(self) -> None:
        """Save and release the devnet's folder for another process."""
        self.save()
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None
        with _shared_lock:
            for key, value in list(_shared.items()):
                if value is self:
                    del _shared[key]

    def reset(self) -> None:
        """Forget the saved chain (the next open starts from genesis)."""
        if not self.state_dir:
            raise StorageError("An in-memory devnet has nothing saved to reset.")
        with self._lock:
            if self._save_timer is not None:
                self._save_timer.cancel()
                self._save_timer = None
            for path in (self.chain_file, self.meta_file):
                path.unlink(missing_ok=True)


def _endpoints(chain_id: int) -> dict[str, dict[str, Any]]:
    import copy

    from web3._utils.formatters import static_return
    from web3.providers.eth_tester.defaults import API_ENDPOINTS

    endpoints = copy.copy(API_ENDPOINTS)
    endpoints["eth"] = {**API_ENDPOINTS["eth"], "chainId": static_return(chain_id),
                        "maxPriorityFeePerGas": static_return(SUGGESTED_TIP)}
    endpoints["net"] = {**API_ENDPOINTS["net"], "version": static_return(str(chain_id))}
    endpoints["web3"] = {**API_ENDPOINTS["web3"], "clientVersion": static_return("ProvenanceStudio/devnet")}
    return endpoints


def _revert_error(exc: Exception) -> dict[str, Any]:
    """JSON-RPC error for a revert, with the revert data when there is some (as geth and anvil send it)."""
    raw = exc.args[0] if exc.args else b""
    while isinstance(raw, Exception):
        raw = raw.args[0] if raw.args else b""
    if isinstance(raw, str) and raw[:2] in ("b'", 'b"'):  # eth-tester passes str(revert_bytes)
        import ast

        try:
            raw = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            pass
    if isinstance(raw, (bytes, bytearray)):
        return {"code": 3, "message": "execution reverted", "data": "0x" + bytes(raw).hex()}
    return {"code": -32000, "message": str(raw) if str(raw).startswith("execution reverted")
            else f"execution reverted: {raw}"}


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _to_wire(value: Any, key: str = "") -> Any:
    """eth-tester values in JSON-RPC form: hex quantities and data, camelCase keys."""
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        if key == "logsBloom":
            return "0x" + value.to_bytes(256, "big").hex()
        return hex(value)
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, dict):
        return {_camel(k): _to_wire(v, _camel(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_wire(v) for v in value]
    return value


def _devnet_provider_class():
    from web3 import EthereumTesterProvider

    class DevnetProvider(EthereumTesterProvider):
        """web3's eth-tester provider, routed through the Devnet (lock, chain id, saving, revert data)."""

        def __init__(self, devnet: Devnet) -> None:
            super().__init__(devnet.tester, api_endpoints=devnet._endpoints)
            self.devnet = devnet

        def make_request(self, method, params):
            return self.devnet.request(method, params)

    return DevnetProvider


def _DevnetProvider(devnet: Devnet):
    return _devnet_provider_class()(devnet)


#: What "Fund from devnet" gives an account: plenty for minting and buying on the devnet.
FUNDING_WEI = 10 * 10**18


def fund_from_test_accounts(connection: Any, to: str, amount_wei: int = FUNDING_WEI) -> tuple[str, Any]:
    """Pay ``amount_wei`` to ``to`` from one of the devnet's test accounts (the public test phrase:
    never real funds): the one holding most that is not ``to``, the last of them on a tie. Returns
    (its address, the receipt).

    Only for the embedded devnet's connection: elsewhere these accounts hold nothing (or real money)."""
    from studio.chain.contracts import checksum
    from studio.errors import ChainError, InputError

    if connection.chain_id != DEVNET_CHAIN_ID:
        raise InputError("Only the built-in devnet can fund an account.",
                         hint="On a test network, ask one of its faucets; on a mainnet, buy or transfer ETH.")
    if amount_wei <= 0:
        raise InputError("The amount to fund must be more than zero.")
    recipient = checksum(to, "account")
    signers = [devnet_account_signer(index) for index in range(ACCOUNT_COUNT)]
    candidates = [(connection.balance(s.address), index, s) for index, s in enumerate(signers)
                  if s.address != recipient]
    # the richest, the last on a tie: the first test accounts are the ones people import and the demo uses
    balance, _index, payer = max(candidates, key=lambda c: (c[0], c[1]))
    if balance < amount_wei + 10**16:  # the amount and a generous fee
        raise ChainError("The devnet's test accounts have spent their ETH.",
                         hint="Reset the devnet (`studio devnet reset --yes`) to start again from genesis.")
    receipt = connection.send(payer, {"to": recipient, "value": amount_wei}, action="Funding from the devnet")
    return payer.address, receipt


def devnet_account_signer(index: int) -> Any:
    """A `LocalSigner` for the devnet's test account ``index`` (the public test phrase: never real funds)."""
    from eth_account import Account

    from studio.chain.transactions import LocalSigner

    Account.enable_unaudited_hdwallet_features()
    return LocalSigner(Account.from_mnemonic(TEST_MNEMONIC, account_path=f"{HD_PATH}/{index}"))
