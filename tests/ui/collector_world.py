"""A small market on the embedded devnet for the wallet's and the collector's views, made through the
studio's own workflows with the wallet's signers (so every transaction lands in its history):

Account 1 deploys "Drop" (a banner image, a description, 5 % royalty to itself) and batch-mints four
works (the first three signed by it, the last unsigned) with traits (Mood: calm, calm, stormy, calm; Set: dawn) in batches of two; it lists token 1 at
0.1 ETH, which Account 2 buys, lists token 2 at 0.2 ETH, and Account 2 offers 0.05 ETH on token 3.
A stranger (the test phrase's account 5) deploys "Elsewhere", a collection the studio did not
create, and mints one token to Account 2. The market is synced into the library.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from wallet_helpers import ACCOUNT_1, ACCOUNT_2

MOODS = ("calm", "calm", "stormy", "calm")


@dataclass
class World:
    connection: Any
    marketplace: str
    drop: Any          # the library's Collection
    elsewhere: str     # the stranger's collection address
    tokens: list[int]  # Drop's token ids, in manifest order
    library: Any
    store: Any


def yes(_preview: Any) -> bool:
    return True


def signed_work(path: Path, index: int, signer: Any) -> Path:
    """A studio PNG with its provenance manifest, signed by ``signer`` (None: unsigned)."""
    from studio.provenance.embed import write_png_with_provenance
    from studio.provenance.manifest import Manifest, SignedManifest, pixel_hash
    from studio.workflows.generate import sign_manifest

    image = Image.new("RGB", (16, 16), (index * 60, 40, 200 - index * 40))
    manifest = Manifest(generator_name="provenance-studio", generator_version="0.1.0", model_name="demo",
                        model_sha256="ab" * 32, model_family="sd1", pipeline="txt2img", prompt=f"harbour study {index}",
                        negative_prompt="", seed=index, steps=2, guidance=6.5, scheduler="euler_a", width=16,
                        height=16, created="2026-11-28T12:00:00Z", pixel_hash=pixel_hash(image),
                        creator=signer.address if signer is not None else None, device="cpu", dtype="float32")
    signed = sign_manifest(manifest, signer) if signer is not None else SignedManifest(manifest)
    write_png_with_provenance(image, path, signed, parameters=manifest.prompt)
    return path


def build_world(session: Any, library: Any, tmp_path: Path) -> World:
    from studio.chain.contracts import CollectionContract
    from studio.chain.devnet import Devnet, devnet_account_signer
    from studio.library.market import MarketStore
    from studio.storage.store import LocalStore
    from studio.workflows import market as wm
    from studio.workflows.batch import batch_mint
    from studio.workflows.collections import create_collection
    from studio.workflows.publish import file_commitment

    connection = session.connection()
    marketplace = Devnet.shared().studio_contracts()["StudioMarketplace"]
    store = LocalStore.default()
    artist, collector = session.contract_signer(ACCOUNT_1), session.contract_signer(ACCOUNT_2)
    banner = tmp_path / "banner.png"
    Image.new("RGB", (600, 200), (30, 90, 160)).save(banner)
    drop = create_collection(connection=connection, signer=artist, library=library, name="Drop", symbol="DROP",
                             royalty_receiver=ACCOUNT_1, royalty_bps=500, description="Four harbour studies.",
                             image=banner, store=store)
    art = tmp_path / "art"
    art.mkdir()
    lines = ["file,name,description,attributes"]
    for index, mood in enumerate(MOODS):
        signed_work(art / f"work-{index}.png", index, session.wallet.signer(ACCOUNT_1) if index < 3 else None)
        lines.append(f"art/work-{index}.png,Study {index},Number {index},Mood:{mood};Set:dawn")
    manifest = tmp_path / "drop.csv"
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = batch_mint(manifest, drop.address, signer=artist, connection=connection, store=store, library=library,
                        batch_size=2)
    tokens = [t.token_id for t in sorted(report.tokens, key=lambda t: t.row)]
    market = MarketStore(library)
    kw = {"connection": connection, "marketplace": marketplace, "collection": drop.address, "store": market}
    wm.list_token(signer=artist, token_id=tokens[0], price_wei=10**17, confirm=yes, **kw)
    wm.buy_listing(signer=collector, token_id=tokens[0], confirm=yes, **kw)
    wm.list_token(signer=artist, token_id=tokens[1], price_wei=2 * 10**17, confirm=yes, **kw)
    wm.make_offer(signer=collector, token_id=tokens[2], amount_wei=5 * 10**16, confirm=yes, **kw)
    stranger = devnet_account_signer(5)
    other, _ = CollectionContract.deploy(connection, stranger, name="Elsewhere", symbol="ELSE",
                                         royalty_receiver=stranger.address, royalty_bps=0)
    other.mint(stranger, ACCOUNT_2, file_commitment(b'{"name": "far"}'))
    wm.sync_market(connection, marketplace, market)
    return World(connection, marketplace, drop, other.address, tokens, library, store)
