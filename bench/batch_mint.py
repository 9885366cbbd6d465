"""Batch minting benchmark: N works (small generated images) uploaded to the local store and batch
minted on a fresh anvil node, end to end, with the journal's cost measured two ways.

    python bench/batch_mint.py [--works 1000] [--batch-size 100] [--json]

Targets (issue 9): under 60 s end to end on 2 cores, at most 3,700 gas per token, journal overhead
under 10 % (its write time within the run, and a run with an in-memory journal for comparison).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def make_manifest(folder: Path, works: int) -> Path:
    from PIL import Image

    (folder / "art").mkdir(parents=True)
    lines = ["file,name,attributes"]
    for index in range(works):
        Image.new("RGB", (32, 32), (index % 256, index // 256 * 40 % 256, 200)).save(folder / "art" / f"{index:04d}.png")
        lines.append(f"art/{index:04d}.png,Work {index},Index:{index}")
    manifest = folder / "drop.csv"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


def one_run(node_url: str, home: Path, manifest: Path, batch_size: int, journal) -> dict:
    from eth_account import Account

    from studio.chain.anvil import TEST_MNEMONIC
    from studio.chain.transactions import Connection, LocalSigner
    from studio.library.db import Library
    from studio.storage.store import LocalStore
    from studio.workflows.batch import Journal, batch_mint
    from studio.workflows.collections import create_collection

    Account.enable_unaudited_hdwallet_features()
    signer = LocalSigner(Account.from_mnemonic(TEST_MNEMONIC, account_path="m/44'/60'/0'/0/0"))
    connection = Connection.from_url(node_url)
    with Library(home / "library.sqlite") as library:
        collection = create_collection(connection=connection, signer=signer, library=library, name="Bench",
                                       symbol="BNC", royalty_receiver=signer.address, royalty_bps=500)
        store = LocalStore(home / "store")
        book = Journal(journal)
        started = time.perf_counter()
        report = batch_mint(manifest, collection.address, signer=signer, connection=connection, store=store,
                            library=library, batch_size=batch_size, journal=book)
        seconds = time.perf_counter() - started
        book.close()
    mints = [t for t in report.transactions if t.kind == "mint"]
    return {"seconds": seconds, "minted": report.done, "mint_transactions": len(mints),
            "gas_per_token": sum(t.gas_used or 0 for t in mints) / report.done,
            "journal_write_seconds": book.write_seconds}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--works", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as folder:
        root = Path(folder)
        os.environ["STUDIO_HOME"] = str(root / "home")
        from studio.chain.anvil import AnvilProcess

        manifest = make_manifest(root / "files", args.works)
        with AnvilProcess() as node:
            on_disk = one_run(node.url, root / "run-disk", manifest, args.batch_size,
                              manifest.parent / "drop.csv.journal.sqlite")
            in_memory = one_run(node.url, root / "run-memory", manifest, args.batch_size, ":memory:")
    result = {
        "works": args.works, "batch_size": args.batch_size,
        "end_to_end_seconds": round(on_disk["seconds"], 2),
        "in_memory_journal_seconds": round(in_memory["seconds"], 2),
        "gas_per_token": round(on_disk["gas_per_token"]),
        "mint_transactions": on_disk["mint_transactions"],
        "journal_write_seconds": round(on_disk["journal_write_seconds"], 3),
        "journal_share_percent": round(100 * on_disk["journal_write_seconds"] / on_disk["seconds"], 2),
        "journal_vs_memory_percent": round(100 * (on_disk["seconds"] - in_memory["seconds"]) / in_memory["seconds"], 1),
    }
    if args.json:
        print(json.dumps(result))
        return 0
    rows = [("works", result["works"], ""), ("batch size", result["batch_size"], ""),
            ("end to end (journal on disk)", f"{result['end_to_end_seconds']} s", "target < 60 s"),
            ("end to end (journal in memory)", f"{result['in_memory_journal_seconds']} s", ""),
            ("gas per token (mint receipts)", result["gas_per_token"], "target <= 3,700"),
            ("mint transactions", result["mint_transactions"], ""),
            ("journal writes", f"{result['journal_write_seconds']} s ({result['journal_share_percent']} % of the run)",
             "target < 10 %"),
            ("disk vs memory journal", f"{result['journal_vs_memory_percent']:+} %", "noise included")]
    for label, value, target in rows:
        print(f"{label:<32} {str(value):<28} {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
