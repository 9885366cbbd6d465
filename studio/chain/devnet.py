"""The embedded devnet: an in-process EVM (eth-tester + py-evm) that needs no install and no network.

Its ten accounts are funded from the public test phrase (the same addresses as anvil and
hardhat: never real funds). Its chain is saved in ``<data>/devnet/``: every change is journalled
to disk before the request that made it is answered (studio/chain/devnet_persistence.py), so
its state survives a restart of the studio, and a crash too. It speaks standard Ethereum
JSON-RPC (studio/chain/devnet_rpc.py; the methods are listed in docs/devnet.md). The studio's marketplace,
Seaport 1.6 (with its ConduitController) and WETH9 are deployed on first use (`studio_contracts`). `studio devnet serve` exposes the same devnet as
JSON-RPC on 127.0.0.1 (studio/chain/devnet_server.py) for MetaMask and other tools.
"""
from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

from studio.chain.anvil import TEST_MNEMONIC
from studio.chain.networks import DEVNET_CHAIN_ID
from studio.errors import NetworkError, StorageError
from studio.fileio import atomic_write_text

log = logging.getLogger(__name__)

HD_PATH = "m/44'/60'/0'/0"
ACCOUNT_COUNT = 10


_shared: dict[Path, "Devnet"] = {}
_shared_lock = threading.Lock()


class Devnet:
    """One embedded chain, saved under `state_dir` (None: in memory only, for tests)."""

    def __init__(self, state_dir: Path | None = None) -> None:
        from eth_tester import PyEVMBackend

        from studio.chain.devnet_persistence import ChainStore
        from studio.chain.devnet_rpc import DevnetRpc

        self.state_dir = Path(state_dir) if state_dir else None
        self.chain_id = DEVNET_CHAIN_ID
        self._lock = threading.RLock()
        self._lock_file: Any = None
        self._store: ChainStore | None = None
        if self.state_dir:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            self._take_process_lock()
        backend = PyEVMBackend.from_mnemonic(TEST_MNEMONIC, num_accounts=ACCOUNT_COUNT, hd_path=HD_PATH)
        type(backend.chain).chain_id = self.chain_id  # the class is made per backend by eth-tester
        self.backend = backend
        self._meta: dict[str, Any] = {"version": 1, "chain_id": self.chain_id, "contracts": {}}
        if self.state_dir:
            self._store = ChainStore(self.state_dir)
            try:
                self._store.open(backend)
            except BaseException:
                self._release_process_lock()
                raise
            self._meta.update(self._read_meta())
        self.rpc = DevnetRpc(backend, self.chain_id)

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
            meta = json.loads(self.meta_file.read_text(encoding="utf-8"))
            return meta if isinstance(meta, dict) else {}
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
        assert self.state_dir is not None
        handle = open(self.state_dir / "lock", "w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            handle.close()
            raise NetworkError("The devnet is already open in another studio process (perhaps "
                               "`studio devnet serve`).",
                               hint="Stop that process, or add its URL as a custom network and use that.") from exc
        self._lock_file = handle

    def _release_process_lock(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

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
    def request(self, method: str, params: Any, *, admin: bool = True, unlocked: bool = True) -> dict[str, Any]:
        """One JSON-RPC request in wire form: ``{"result": …}`` or ``{"error": {code, message, data}}``.

        A change to the chain is journalled to disk before the answer is returned, so whatever a
        client was told survives a crash. `admin` and `unlocked` gate the node-admin methods and
        the node's own signing accounts (the server decides them per request).
        """
        from eth_utils import ValidationError

        from studio.chain.devnet_wire import INTERNAL_ERROR, INVALID_PARAMS, SERVER_ERROR, RpcError

        if params is None:
            params = []
        if not isinstance(params, list):
            return {"error": {"code": INVALID_PARAMS, "message": "invalid params: params must be an array"}}
        with self._lock:
            try:
                answer: dict[str, Any] = {"result": self.rpc.dispatch(method, params, admin=admin,
                                                                        unlocked=unlocked)}
            except RpcError as exc:
                answer = {"error": exc.as_json()}
            except ValidationError as exc:  # py-evm refused something the checks above let through
                answer = {"error": {"code": SERVER_ERROR, "message": str(exc)}}
            except Exception:  # a bug of ours: answer the client, keep serving, log it
                log.exception("devnet %s failed", method)
                answer = {"error": {"code": INTERNAL_ERROR, "message": f"internal error in {method}"}}
            if self._store is not None:
                self._store.record(self.backend)
        return answer

    @property
    def web3(self) -> Any:
        """A Web3 talking to this devnet in-process, through the same JSON-RPC methods as `serve`."""
        from web3 import Web3

        return Web3(_DevnetProvider(self))

    def connection(self) -> Any:
        from studio.chain.transactions import Connection

        return Connection(self.web3, self.chain_id)

    @property
    def accounts(self) -> list[str]:
        from eth_utils import to_checksum_address

        return [to_checksum_address(key.public_key.to_canonical_address()) for key in self.backend.account_keys]

    # ---- contracts
    def studio_contracts(self, progress=None) -> dict[str, str]:
        """Addresses of the studio's shared contracts on the devnet, deploying the marketplace on first
        use (one deployed by an earlier studio is kept, so its listings and offers stay where they are)."""
        from studio.chain.contracts import MarketplaceContract

        return self._ensure_contracts([("StudioMarketplace", "the studio marketplace",
                                        lambda connection, deployer, _: MarketplaceContract.deploy(
                                            connection, deployer)[0].address)], progress)

    def seaport_contracts(self, progress=None) -> dict[str, str]:
        """Seaport 1.6, its ConduitController and WETH9 on the devnet, deployed on first use (about 3 s)."""
        from studio.chain.seaport_contract import SeaportContract, WethContract

        return self._ensure_contracts([
            ("ConduitController", "Seaport's conduit controller",
             lambda connection, deployer, _: SeaportContract._deploy_artifact(
                 connection, deployer, "ConduitController", action="Deploying Seaport's conduit controller")),
            ("Seaport", "Seaport 1.6", lambda connection, deployer, known: SeaportContract.deploy(
                connection, deployer, known["ConduitController"]).address),
            ("WETH9", "WETH", lambda connection, deployer, _: WethContract.deploy(connection, deployer).address),
        ], progress)

    def _ensure_contracts(self, steps: list[tuple[str, str, Any]], progress: Any) -> dict[str, str]:
        """Deploy each (name, words, deploy) whose contract is not on the chain yet, remembering the address."""
        with self._lock:
            contracts = dict(self._meta.get("contracts") or {})
            connection = self.connection()
            deployer = devnet_account_signer(0)
            changed = False
            for number, (name, words, deploy) in enumerate(steps):
                address = contracts.get(name)
                if not address or connection.web3.eth.get_code(address) in (b"", "0x"):
                    if progress:
                        progress(0.1 + 0.8 * number / len(steps), f"Deploying {words} on the devnet")
                    contracts[name] = deploy(connection, deployer, contracts)
                    changed = True
            if changed:
                self._meta["contracts"] = contracts
                self.save()
            if progress:
                progress(1.0, "Studio contracts ready")
            return {name: contracts[name] for name, _, _ in steps}

    def deployed_contract(self, name: str) -> str | None:
        """The address of a studio contract (``"WETH9"``) when it is on the chain already; never deploys."""
        with self._lock:
            address = (self._meta.get("contracts") or {}).get(name)
            if not address or self.connection().web3.eth.get_code(address) in (b"", "0x"):
                return None
            return str(address)

    def known_contracts(self) -> dict[str, str]:
        """address -> name for previews ("Studio marketplace", "Seaport 1.6", "WETH")."""
        names = {"StudioMarketplace": "Studio marketplace", "Seaport": "Seaport 1.6", "WETH9": "WETH",
                 "ConduitController": "Seaport conduit controller"}
        return {address: names.get(name, name) for name, address in (self._meta.get("contracts") or {}).items()}

    # ---- saving
    def save(self) -> None:
        """Fold the journal into a fresh snapshot and write the contract list (atomically)."""
        if not self.state_dir or self._store is None:
            return
        with self._lock:
            self._store.compact(self.backend)
            meta = json.dumps(self._meta, indent=2)
        try:
            atomic_write_text(self.meta_file, meta)
        except StorageError:
            log.exception("Could not save the devnet")
            raise

    def close(self) -> None:
        """Save and release the devnet's folder for another process."""
        if self._store is not None:
            self.save()
            self._store.close()
            self._store = None
        self._release_process_lock()
        with _shared_lock:
            for key, value in list(_shared.items()):
                if value is self:
                    del _shared[key]

    def reset(self) -> None:
        """Forget the saved chain (the next open starts from genesis)."""
        if not self.state_dir:
            raise StorageError("An in-memory devnet has nothing saved to reset.")
        with self._lock:
            if self._store is not None:
                self._store.remove()
                self._store = None
            self.meta_file.unlink(missing_ok=True)


def _devnet_provider_class() -> Any:
    from web3._utils.encoding import Web3JsonEncoder
    from web3.providers import JSONBaseProvider

    class DevnetProvider(JSONBaseProvider):
        """A web3 provider answering from the Devnet in-process, in JSON-RPC wire form (as over HTTP)."""

        def __init__(self, devnet: Devnet) -> None:
            super().__init__()
            self.devnet = devnet

        def make_request(self, method: Any, params: Any) -> Any:
            wire_params = json.loads(json.dumps(params, cls=Web3JsonEncoder))
            return {"jsonrpc": "2.0", "id": 0, **self.devnet.request(str(method), wire_params)}

        def is_connected(self, show_traceback: bool = False) -> bool:
            return True

    return DevnetProvider


def _DevnetProvider(devnet: Devnet) -> Any:
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
