"""`studio demo`: the artist's whole path, headless, on the embedded defaults of the current studio home.

generate (the demo model) → provenance signed by the artist → store (the local store) → deploy a
collection (and the devnet's marketplace) → mint → list one token → a collector buys it → verify
the file and the token. The artist and the collector are the devnet's public test accounts 0 and 1,
signing with their well-known keys: no wallet of the user is read, unlocked or changed.

Each step is a :class:`DemoStep` with a line for people, the values it produced (addresses, token
ids, CIDs, transaction hashes, balances) and the checks it made; the demo is ``ok`` only when
every check held. A step that raises stops the demo, recorded as a failed step.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from studio.errors import StudioError

if TYPE_CHECKING:
    from studio.config import Config

DEMO_PROMPT = "a lighthouse at dawn, long exposure"
DEMO_SEED = 20261128
DEFAULT_PRICE_WEI = 10**16  # 0.01 ETH
ROYALTY_BPS = 500
ACCOUNTS_NOTE = ("The artist and the collector are the devnet's public test accounts 0 and 1 (well-known keys, "
                 "never real funds); your wallet is not used or changed.")


@dataclass
class DemoStep:
    """One step: its name, a line for people, what it produced, and the checks it made."""

    name: str
    summary: str
    details: dict[str, Any] = field(default_factory=dict)
    checks: dict[str, bool] = field(default_factory=dict)
    error: str | None = None
    more: list[str] = field(default_factory=list)  # further lines for people (balances and such)

    @property
    def ok(self) -> bool:
        return self.error is None and all(self.checks.values())

    def to_json(self) -> dict[str, Any]:
        return {"step": self.name, "ok": self.ok, "summary": self.summary, "details": _plain(self.details),
                "checks": dict(self.checks), "error": self.error}


@dataclass
class DemoReport:
    steps: list[DemoStep] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(step.ok for step in self.steps)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "note": ACCOUNTS_NOTE, "steps": [step.to_json() for step in self.steps]}


def _plain(value: Any, wei: bool = False) -> Any:
    """JSON-safe values: amounts under a ``*_wei`` key as decimal strings (they pass 2**53), paths as text."""
    if isinstance(value, dict):
        return {str(k): _plain(v, wei or str(k).endswith("_wei")) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, wei) for v in value]
    if isinstance(value, Path):
        return str(value)
    if wei and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def demo_signers() -> tuple[Any, Any]:
    """(artist, collector): signers of the devnet's test accounts 0 and 1."""
    from studio.chain.devnet import devnet_account_signer

    return devnet_account_signer(0), devnet_account_signer(1)


def run_demo(*, config: "Config | None" = None, count: int = 2, size: int = 64, steps: int = 4,
             price_wei: int = DEFAULT_PRICE_WEI,
             on_step: Callable[[DemoStep], None] | None = None) -> DemoReport:
    """Run every step on the devnet of the current studio home; ``on_step`` sees each as it ends."""
    from studio.config import load_config
    from studio.errors import InputError

    if not 1 <= count <= 4:
        raise InputError("The demo makes 1 to 4 works.")
    if size % 8 or not 64 <= size <= 512:
        raise InputError("The demo's size is a multiple of 8 from 64 to 512 (64 or 128 are quick).")
    if price_wei <= 0:
        raise InputError("The listing price must be more than 0.")
    config = config or load_config()
    run = _DemoRun(config, count, size, steps, price_wei)
    report = DemoReport()
    for name, step in (("accounts", run.accounts), ("generate", run.generate), ("provenance", run.provenance),
                       ("store", run.store), ("deploy", run.deploy), ("mint", run.mint), ("list", run.list),
                       ("buy", run.buy), ("verify", run.verify)):
        try:
            result = step()
        except StudioError as exc:
            result = DemoStep(name, f"{name} failed", error=str(exc))
        report.steps.append(result)
        if on_step is not None:
            on_step(result)
        if result.error is not None:
            break
    run.close()
    return report


class _DemoRun:
    """The demo's state from one step to the next."""

    def __init__(self, config: "Config", count: int, size: int, steps: int, price_wei: int) -> None:
        self.config, self.count, self.size, self.steps, self.price_wei = config, count, size, steps, price_wei
        self.paths: list[Path] = []
        self.media_cids: list[str] = []
        self.collection: Any = None
        self.marketplace = ""
        self.minted: Any = None
        self.library: Any = None

    def close(self) -> None:
        """Close the library this run opened (the devnet stays: the caller may keep using it)."""
        if self.library is not None:
            self.library.close()
            self.library = None

    # -- the chain and the stores, opened on first use ---------------------------------------------

    def accounts(self) -> DemoStep:
        from studio.chain.networks import NetworkRegistry, connect

        self.artist, self.collector = demo_signers()
        self.network = NetworkRegistry.default().get("devnet")
        self.connection = connect(self.network)
        balances = {"artist": self.connection.balance(self.artist.address),
                    "collector": self.connection.balance(self.collector.address)}
        return DemoStep("accounts", f"Artist {self.artist.address} (test account 0), collector "
                                    f"{self.collector.address} (test account 1) on {self.network.name} "
                                    f"(chain {self.connection.chain_id})",
                        {"artist": self.artist.address, "collector": self.collector.address,
                         "chain_id": self.connection.chain_id, "balances_wei": balances},
                        {"devnet chain id": self.connection.chain_id == self.network.chain_id,
                         "collector can pay": balances["collector"] > self.price_wei})

    def generate(self) -> DemoStep:
        from studio.generation.request import GenerationRequest
        from studio.workflows.generate import generate_works
        from studio.workflows.requests import studio_engine

        engine = studio_engine(self.config)
        request = GenerationRequest(prompt=DEMO_PROMPT, model="demo", seed=DEMO_SEED, steps=self.steps,
                                    guidance=7.0, width=self.size, height=self.size, count=self.count)
        started = time.perf_counter()
        works = generate_works(request, engine, self.config.paths.works_dir, library=self._library(),
                               signer=self.artist)
        took = time.perf_counter() - started
        self.paths = [work.path for work in works]
        return DemoStep("generate", f"Generated {len(works)} work{'s' if len(works) != 1 else ''} with the demo "
                                    f"model ({self.size}x{self.size}, {self.steps} steps) in {took:.1f} s",
                        {"files": self.paths, "prompt": DEMO_PROMPT, "seeds": [w.recipe.seed for w in works]},
                        {"every image saved": len(works) == self.count and all(p.is_file() for p in self.paths)})

    def provenance(self) -> DemoStep:
        from studio.workflows.verify import verify_file

        verdicts = [verify_file(path) for path in self.paths]
        return DemoStep("provenance", f"Each work carries a manifest signed by the artist {self.artist.address}",
                        {"manifests": [{"file": v.path, "manifest_sha256": v.manifest.manifest_hash if v.manifest
                                        else None, "signer": v.signer, "verdict": v.verdict, "c2pa": v.c2pa}
                                       for v in verdicts]},
                        {"signed by the artist": all(v.signature_valid and v.signer == self.artist.address
                                                     for v in verdicts),
                         "pixels match the manifest": all(v.pixel_hash_ok for v in verdicts)})

    def store(self) -> DemoStep:
        from studio.storage.store import LocalStore
        from studio.storage.unixfs import cid_of_path

        self.content = LocalStore.default(self.config.paths)
        self.media_cids = [str(self.content.add_path(path, cid_version=1)) for path in self.paths]
        expected = [str(cid_of_path(path, cid_version=1)) for path in self.paths]
        return DemoStep("store", f"Stored the works in the local store ({self.content.name}): "
                                 + ", ".join(self.media_cids),
                        {"cids": self.media_cids},
                        {"CIDs computed locally agree": self.media_cids == expected,
                         "the store keeps them": all(self.content.has(_cid(c)) for c in self.media_cids)})

    def _library(self) -> Any:
        """The studio's library, opened once for this run (the Gallery shows what the demo made)."""
        if self.library is None:
            from studio.library.db import Library

            self.library = Library(self.config.paths.library_file)
        return self.library

    def deploy(self) -> DemoStep:
        from studio.workflows.collections import create_collection, marketplace_address

        self.marketplace = marketplace_address(self.network, self.config)
        self._library()
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        self.collection = create_collection(
            connection=self.connection, signer=self.artist, library=self.library, name=f"Demo dawns {stamp}",
            symbol="DEMO", royalty_receiver=self.artist.address, royalty_bps=ROYALTY_BPS,
            description="Made by `studio demo`")
        from studio.chain.contracts import CollectionContract

        owner = CollectionContract(self.connection, self.collection.address).owner()
        return DemoStep("deploy", f"Deployed the collection {self.collection.name} at {self.collection.address} "
                                  f"(royalty {ROYALTY_BPS / 100:g}% to the artist); marketplace {self.marketplace}",
                        {"collection": self.collection.address, "deploy_tx": self.collection.deploy_tx,
                         "marketplace": self.marketplace, "royalty_bps": ROYALTY_BPS},
                        {"the artist owns the collection": owner == self.artist.address})

    def mint(self) -> DemoStep:
        from studio.workflows.mint import MintItem, mint_works

        items = [MintItem(path, f"Dawn #{index + 1}", "Made by `studio demo` with the demo model.",
                          (("Seed", DEMO_SEED + index),), "CC-BY-4.0") for index, path in enumerate(self.paths)]
        result = mint_works(items, self.collection, signer=self.artist, connection=self.connection,
                            store=self.content, library=self.library, network=self.network)
        self.minted = result
        tokens = [{"token_id": m.token.token_id, "file": m.work.path, "media_cid": m.token.media_cid,
                   "metadata_cid": m.token.metadata_cid} for m in result.minted]
        recorded = self.library.tokens(self.connection.chain_id, self.collection.address)
        return DemoStep("mint", f"Minted token{'s' if len(tokens) != 1 else ''} "
                                f"{', '.join(str(t['token_id']) for t in tokens)} in {result.tx_hash}",
                        {"tx_hash": result.tx_hash, "fee_wei": result.fee_wei, "tokens": tokens},
                        {"one token per work": len(tokens) == len(self.paths),
                         "the library records them": len(recorded) == len(tokens),
                         "images are the stored ones": [t["media_cid"] for t in tokens] == self.media_cids})

    def list(self) -> DemoStep:
        from studio.library.market import MarketStore
        from studio.workflows.market import list_token

        self.market = MarketStore(self.library)
        self.token_id = self.minted.minted[0].token.token_id
        receipt = list_token(connection=self.connection, signer=self.artist, marketplace=self.marketplace,
                             collection=self.collection.address, token_id=self.token_id, price_wei=self.price_wei,
                             confirm=_yes, store=self.market, network=self.network)
        listing = self.market.listing(self.connection.chain_id, self.collection.address, self.token_id)
        return DemoStep("list", f"Listed token {self.token_id} at {_eth(self.price_wei)} "
                                f"({len(receipt.receipts)} transaction{'s' if len(receipt.receipts) != 1 else ''}: "
                                f"{', '.join(r.tx_hash for r in receipt.receipts)})",
                        {"token_id": self.token_id, "price_wei": self.price_wei,
                         "transactions": [r.tx_hash for r in receipt.receipts]},
                        {"the market shows the listing": listing is not None})

    def buy(self) -> DemoStep:
        from studio.chain.contracts import CollectionContract, MarketplaceContract
        from studio.workflows.market import buy_listing, quote_listing

        quote = quote_listing(self.connection, self.marketplace, self.collection.address, self.token_id)
        market = MarketplaceContract(self.connection, self.marketplace)
        people = {"artist": self.artist.address, "collector": self.collector.address}
        before = {who: self.connection.balance(a) for who, a in people.items()}
        owed_before = {who: market.pending_withdrawal(a) for who, a in people.items()}
        receipt = buy_listing(connection=self.connection, signer=self.collector, marketplace=self.marketplace,
                              collection=self.collection.address, token_id=self.token_id, confirm=_yes,
                              expected_price_wei=self.price_wei, store=self.market, network=self.network)
        after = {who: self.connection.balance(a) for who, a in people.items()}
        owed_after = {who: market.pending_withdrawal(a) for who, a in people.items()}
        artist_gain = (after["artist"] - before["artist"]) + (owed_after["artist"] - owed_before["artist"])
        artist_share = quote.proceeds_wei + (quote.royalty_wei if quote.royalty_receiver == self.artist.address
                                             else 0)
        owner = CollectionContract(self.connection, self.collection.address).owner_of(self.token_id)
        return DemoStep("buy", f"The collector bought token {self.token_id} for {_eth(self.price_wei)} in "
                               f"{receipt.tx_hash}: royalty {_eth(quote.royalty_wei)} to "
                               f"{quote.royalty_receiver}, marketplace fee {_eth(quote.fee_wei)}, the artist "
                               f"received {_eth(artist_gain)}",
                        {"tx_hash": receipt.tx_hash, "gas_fee_wei": receipt.fee_wei,
                         "balances_before_wei": before, "balances_after_wei": after,
                         "royalty_wei": quote.royalty_wei, "royalty_receiver": quote.royalty_receiver,
                         "marketplace_fee_wei": quote.fee_wei, "seller_proceeds_wei": quote.proceeds_wei,
                         "artist_received_wei": artist_gain},
                        {"the collector owns the token": owner == self.collector.address,
                         "the collector paid the price and the gas":
                             before["collector"] - after["collector"] == self.price_wei + receipt.fee_wei,
                         "the artist got the proceeds and the royalty": artist_gain == artist_share,
                         "the royalty is the collection's": quote.royalty_wei
                         == self.price_wei * ROYALTY_BPS // 10_000},
                        more=[f"{who:<9} {_eth(before[who])} → {_eth(after[who])}"
                              + (f" (+{_eth(owed_after[who] - owed_before[who])} to withdraw)"
                                 if owed_after[who] != owed_before[who] else "") for who in people])

    def verify(self) -> DemoStep:
        import json

        from studio.chain.contracts import CollectionContract
        from studio.storage.unixfs import cid_of_path
        from studio.workflows.verify import verify_file

        sold = self.minted.minted[0]
        path = Path(sold.work.path)
        verdict = verify_file(path)
        contract = CollectionContract(self.connection, self.collection.address)
        uri = contract.token_uri(self.token_id)
        cid, _, inner = uri.removeprefix("ipfs://").partition("/")
        metadata = json.loads(self.content.cat(_cid(cid), inner))
        file_cid = str(cid_of_path(path, cid_version=1))
        manifest_hash = verdict.manifest.manifest_hash if verdict.manifest else None
        return DemoStep("verify", f"{path.name}: {verdict.verdict}; token {self.token_id} → {uri} names the same "
                                  f"image ({file_cid}) and manifest, owned by the collector",
                        {"file": path, "verdict": verdict.verdict, "signer": verdict.signer, "c2pa": verdict.c2pa,
                         "token_uri": uri, "image": metadata.get("image"), "file_cid": file_cid,
                         "owner": contract.owner_of(self.token_id)},
                        {"the file verifies": verdict.ok and verdict.signer == self.artist.address,
                         "the token's image is the file": metadata.get("image") == f"ipfs://{file_cid}",
                         "the token's provenance is the file's":
                             (metadata.get("provenance") or {}).get("manifest_sha256") == manifest_hash,
                         "the collector owns it": contract.owner_of(self.token_id) == self.collector.address})


def _yes(_preview: Any) -> bool:
    """The demo confirms its own previews: its accounts are the devnet's test accounts."""
    return True


def _cid(text: str) -> Any:
    from studio.storage.cid import Cid

    return Cid.parse(text)


def _eth(wei: int) -> str:
    from decimal import Decimal

    text = f"{Decimal(int(wei)) / Decimal(10**18):.18f}".rstrip("0").rstrip(".")
    return f"{text} ETH"
