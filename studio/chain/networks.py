"""The networks the studio can sign on: the embedded devnet (default), testnets, mainnets and custom RPCs.

Built-in networks carry a public RPC URL that the user may replace in settings (`rpc_urls`, one
``key=URL`` per line); custom networks (an anvil or hardhat node, a private RPC) are kept in
``<data>/networks.json``. Mainnets are marked: value never moves on them without an explicit
confirmation (`Network.requires_confirmation`). Before the first signature on a connection the
node's chain id is checked against the network's (`check_chain_id`).
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from studio.errors import ChainError, InputError, NotFound, StorageError, StudioError
from studio.fileio import atomic_write_text

DEVNET_KEY = "devnet"
DEVNET_CHAIN_ID = 1337


@dataclass(frozen=True)
class Network:
    """One chain the wallet can use."""

    key: str
    name: str
    chain_id: int
    rpc_url: str | None  # None for the embedded devnet (in-process)
    is_mainnet: bool = False
    currency: str = "ETH"
    explorer: str | None = None
    custom: bool = False

    @property
    def embedded(self) -> bool:
        return self.key == DEVNET_KEY

    @property
    def requires_confirmation(self) -> bool:
        """Real money: the UI and CLI must ask (CLI: --yes) before value moves."""
        return self.is_mainnet

    @property
    def marker(self) -> str:
        """A short label for lists: MAINNET, testnet, local."""
        if self.is_mainnet:
            return "MAINNET"
        return "local" if self.embedded or (self.rpc_url or "").startswith(("http://127.", "http://localhost")) \
            else "testnet"


BUILTIN_NETWORKS: tuple[Network, ...] = (
    Network(DEVNET_KEY, "Studio devnet (built in)", DEVNET_CHAIN_ID, None),
    Network("sepolia", "Sepolia (Ethereum testnet)", 11155111, "https://ethereum-sepolia-rpc.publicnode.com",
            explorer="https://sepolia.etherscan.io"),
    Network("base-sepolia", "Base Sepolia (testnet)", 84532, "https://sepolia.base.org",
            explorer="https://sepolia.basescan.org"),
    Network("ethereum", "Ethereum", 1, "https://ethereum-rpc.publicnode.com", is_mainnet=True,
            explorer="https://etherscan.io"),
    Network("base", "Base", 8453, "https://mainnet.base.org", is_mainnet=True, explorer="https://basescan.org"),
    Network("polygon", "Polygon PoS", 137, "https://polygon-rpc.com", is_mainnet=True, currency="POL",
            explorer="https://polygonscan.com"),
    Network("optimism", "OP Mainnet (Optimism)", 10, "https://mainnet.optimism.io", is_mainnet=True,
            explorer="https://optimistic.etherscan.io"),
    Network("arbitrum", "Arbitrum One", 42161, "https://arb1.arbitrum.io/rpc", is_mainnet=True,
            explorer="https://arbiscan.io"),
)
_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


def parse_rpc_overrides(text: str) -> dict[str, str]:
    """The `rpc_urls` setting: ``key=URL`` per line (blank lines and # comments ignored)."""
    overrides: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, url = line.partition("=")
        if not sep or not url.strip().startswith(("http://", "https://")):
            raise InputError(f"Line {number} of the RPC URL setting is not `network=http(s)://…`.")
        overrides[key.strip().lower()] = url.strip()
    return overrides


def _check_url(url: str) -> str:
    url = url.strip()
    if not url.startswith(("http://", "https://")):
        raise InputError(f"An RPC URL starts with http:// or https://, not {url!r}.")
    return url


class NetworkRegistry:
    """Built-in and custom networks of one studio home."""

    def __init__(self, data_dir: Path, rpc_overrides: dict[str, str] | None = None) -> None:
        self.file = data_dir / "networks.json"
        self.rpc_overrides = dict(rpc_overrides or {})

    @classmethod
    def default(cls) -> "NetworkRegistry":
        """The registry of this studio home, with RPC URLs from settings."""
        from studio.config import load_config

        config = load_config()
        text = config.values.get("rpc_urls", "")
        try:
            overrides = parse_rpc_overrides(text) if isinstance(text, str) else {}
        except InputError:
            import logging

            logging.getLogger(__name__).warning("The rpc_urls setting is malformed; using the default RPC URLs.")
            overrides = {}
        return cls(config.paths.data_dir, overrides)

    def _custom(self) -> list[Network]:
        from studio import safejson

        try:
            raw = safejson.load_file(self.file, what="The custom network list", max_bytes=1024 * 1024)
        except NotFound:
            return []
        except StudioError as exc:
            raise StorageError(f"The custom network list {self.file} is damaged ({exc}).",
                               hint="Fix or delete the file and add the networks again.") from exc
        try:
            return [Network(**{**entry, "custom": True}) for entry in raw.get("networks", [])]
        except (TypeError, AttributeError) as exc:
            raise StorageError(f"The custom network list {self.file} has a bad entry.") from exc

    def all(self) -> list[Network]:
        networks = []
        for network in BUILTIN_NETWORKS:
            url = self.rpc_overrides.get(network.key)
            networks.append(replace(network, rpc_url=url) if url and not network.embedded else network)
        return networks + self._custom()

    def selected(self, key: str | None = None) -> Network:
        """`key` when given (an unknown key is an error), else the network chosen in settings.

        A settings value naming a network that no longer exists falls back to the devnet with a
        logged warning, like any bad setting.
        """
        if key:
            return self.get(key)
        from studio.config import load_config

        configured = str(load_config().values.get("network") or "devnet")
        try:
            return self.get(configured)
        except NotFound:
            import logging

            logging.getLogger(__name__).warning("The network setting names %r, which is unknown; using the devnet.",
                                                configured)
            return self.get("devnet")

    def get(self, key: str) -> Network:
        for network in self.all():
            if network.key == key.lower():
                return network
        raise NotFound(f"There is no network called {key!r}.",
                       hint="`studio network list` shows them; `studio network add` adds a custom RPC.")

    def add_custom(self, key: str, name: str, rpc_url: str, chain_id: int, *, is_mainnet: bool = False,
                   currency: str = "ETH", explorer: str | None = None) -> Network:
        """Add (or replace) a custom network, e.g. a local anvil at http://127.0.0.1:8545."""
        key = key.strip().lower()
        if not _KEY.match(key):
            raise InputError(f"A network key is lowercase letters, digits and dashes, not {key!r}.")
        if key in {n.key for n in BUILTIN_NETWORKS}:
            raise InputError(f"{key!r} is a built-in network; set its RPC URL in settings instead.")
        if chain_id <= 0:
            raise InputError("A chain id is a positive number.")
        network = Network(key, name.strip() or key, int(chain_id), _check_url(rpc_url), is_mainnet, currency,
                          explorer, custom=True)
        custom = [n for n in self._custom() if n.key != key] + [network]
        self._save(custom)
        return network

    def remove_custom(self, key: str) -> None:
        custom = self._custom()
        if key not in {n.key for n in custom}:
            raise NotFound(f"There is no custom network called {key!r}.")
        self._save([n for n in custom if n.key != key])

    def _save(self, custom: list[Network]) -> None:
        entries = []
        for network in custom:
            entry: dict[str, Any] = asdict(network)
            entry.pop("custom")
            entries.append(entry)
        atomic_write_text(self.file, json.dumps({"networks": entries}, indent=2))


def check_chain_id(reported: int, network: Network, *, where: str | None = None) -> None:
    """Refuse to sign when the node serves another chain than the network it claims to be."""
    if int(reported) != network.chain_id:
        raise ChainError(
            f"The node{f' at {where}' if where else ''} serves chain id {reported}, but {network.name} is chain "
            f"id {network.chain_id}. Nothing was signed.",
            hint="Check the network's RPC URL in settings: it points at another chain.")


def connect(network: Network, *, timeout: float = 30.0):
    """A `Connection` to the network's node (the embedded devnet in-process)."""
    if network.embedded:
        from studio.chain.devnet import Devnet

        return Devnet.shared().connection()
    if not network.rpc_url:
        raise InputError(f"{network.name} has no RPC URL.", hint="Set one in settings (RPC URLs).")
    from studio.chain.transactions import Connection

    return Connection.from_url(network.rpc_url, timeout=timeout)
