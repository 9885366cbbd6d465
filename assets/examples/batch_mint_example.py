"""Batch minting from a script, on the studio's embedded devnet (nothing leaves this computer).

    python assets/examples/batch_mint_example.py [--out FOLDER]

It copies manifest.csv (next to this script) into FOLDER (default: a new temporary folder), draws
its four small images there, creates a collection with the devnet's first test account, validates
the manifest and prints the dry run, mints every row (listing those with a price), then runs the
same call again to show that a finished batch mints nothing twice. See docs/batch.md.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

TEST_MNEMONIC = "test test test test test test test test test test test junk"  # the devnet's public test keys


def draw_images(folder: Path) -> None:
    from PIL import Image, ImageDraw

    colours = {"dawn-1": (250, 170, 60), "dawn-2": (255, 210, 120), "dusk-1": (60, 80, 160), "dusk-2": (30, 40, 110)}
    (folder / "images").mkdir(parents=True, exist_ok=True)
    for name, colour in colours.items():
        image = Image.new("RGB", (64, 64), colour)
        ImageDraw.Draw(image).ellipse((20, 20, 44, 44), fill=(255, 255, 255))
        image.save(folder / "images" / f"{name}.png")


def main() -> int:
    parser = argparse.ArgumentParser(description="Batch mint the example manifest on the devnet.")
    parser.add_argument("--out", type=Path, help="working folder (default: a new temporary folder)")
    args = parser.parse_args()
    folder = args.out or Path(tempfile.mkdtemp(prefix="studio-example-"))
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / "manifest.csv"
    shutil.copyfile(HERE / "manifest.csv", manifest)
    draw_images(folder)

    from eth_account import Account

    from studio import api
    from studio.chain.devnet import Devnet
    from studio.chain.transactions import LocalSigner
    from studio.library.db import Library
    from studio.workflows.collections import create_collection

    Account.enable_unaudited_hdwallet_features()
    artist = LocalSigner(Account.from_mnemonic(TEST_MNEMONIC, account_path="m/44'/60'/0'/0/0"))
    with Library.default() as library:
        collection = create_collection(connection=Devnet.shared().connection(), signer=artist, library=library,
                                       name="Dawn and Dusk", symbol="DND", royalty_receiver=artist.address,
                                       royalty_bps=500)
    print(f"collection {collection.address}")

    plan = api.batch_mint(manifest, collection.address, network="devnet", signer=artist, dry_run=True)
    print(f"dry run: {len(plan.works)} works, {plan.transactions} transactions, about {plan.estimated_gas:,} gas "
          "for the mints")
    report = api.batch_mint(manifest, collection.address, network="devnet", signer=artist,
                            progress=lambda p: print(f"  [{p.minted}/{p.total}] {p.line}"))
    for token in report.tokens:
        listed = f", listed for {token.listed_wei / 10**18:g} ETH" if token.listed_wei else ""
        print(f"token {token.token_id}: {token.name} ipfs://{token.metadata_cid}{listed}")
    again = api.batch_mint(manifest, collection.address, network="devnet", signer=artist)
    assert [t.token_id for t in again.tokens] == [t.token_id for t in report.tokens]
    print(f"minted {report.done} of {report.total}; gas {report.gas_used:,}; running it again minted nothing new")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
