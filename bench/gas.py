#!/usr/bin/env python3
"""Gas per token of the studio's collection and marketplace, against OpenZeppelin and ERC721A.

Deploys side by side on a fresh anvil node: StudioCollection (with its content commitments),
an OpenZeppelin ERC721URIStorage reference (one URI string per token) and a plain ERC721A
reference (no per-token data). Every figure is the receipt's gasUsed on a collection that
already has tokens, minting to / buying by an account that already holds one.

    python bench/gas.py          print the table
    python bench/gas.py --json   print one JSON object
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGETS = {"mint 1": 100_000, "batch 100": 3_700, "buy": 100_000, "redeem voucher": 130_000}
URI = "ipfs://bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e/metadata.json"  # 73 chars


def measure() -> dict:
    from eth_account import Account

    from studio.chain.anvil import TEST_MNEMONIC, AnvilProcess
    from studio.chain.artifacts import load_artifact
    from studio.workflows.publish import directory_commitment, file_commitment
    from studio.chain.contracts import CollectionContract, MarketplaceContract
    from studio.chain.transactions import Connection, LocalSigner
    from studio.chain.vouchers import MintVoucher, sign_voucher

    Account.enable_unaudited_hdwallet_features()
    artist, collector, buyer, operator = (
        Account.from_mnemonic(TEST_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}") for i in range(4))
    with AnvilProcess() as node:
        conn = Connection.from_url(node.url)
        web3 = conn.web3

        def deploy_reference(name: str):
            artifact = load_artifact(name)
            factory = web3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
            address = conn.send(LocalSigner(artist), factory.constructor()).contract_address
            return web3.eth.contract(address=address, abi=artifact.abi)

        def gas(function, signer=artist, value: int = 0) -> int:
            return conn.send(LocalSigner(signer), function, value=value).gas_used

        ours, _ = CollectionContract.deploy(conn, artist, name="Studio", symbol="STD",
                                            royalty_receiver=artist.address, royalty_bps=500)
        oz, erc721a = deploy_reference("OZURIStorageReference"), deploy_reference("ERC721AReference")
        market, _ = MarketplaceContract.deploy(conn, operator)

        files = [f'{{"name": "work {i}", "image": "ipfs://bafkrei.../{i}.png"}}'.encode() for i in range(100)]
        # Warm-up: each collection already has tokens, held by the accounts used below.
        ours.mint(artist, artist.address, file_commitment(b"warm-up"))
        ours.mint(artist, buyer.address, file_commitment(b"warm-up buyer"))
        gas(oz.functions.mint(artist.address, URI))
        gas(erc721a.functions.mint(artist.address, 1))

        rows: dict[str, dict[str, float]] = {}
        per = lambda total, count: total / count  # noqa: E731
        rows["mint 1"] = {
            "ours": ours.mint(artist, artist.address, file_commitment(files[0])).receipt.gas_used,
            "oz": gas(oz.functions.mint(artist.address, URI)),
            "erc721a": gas(erc721a.functions.mint(artist.address, 1)),
        }
        for count in (10, 100):
            rows[f"batch {count}"] = {
                "ours": per(ours.mint_batch(artist, artist.address,
                                            directory_commitment(files[:count])).receipt.gas_used, count),
                "oz": per(gas(oz.functions.mintBatch(artist.address, [URI] * count)), count),
                "erc721a": per(gas(erc721a.functions.mint(artist.address, count)), count),
            }

        # Marketplace: list and buy a token of each collection (buyer already holds a token of each).
        ours.set_approval_for_all(artist, market.address)
        gas(oz.functions.setApprovalForAll(market.address, True))
        gas(erc721a.functions.setApprovalForAll(market.address, True))
        gas(oz.functions.mint(buyer.address, URI))
        gas(erc721a.functions.mint(buyer.address, 1))
        price = 10**17
        rows["list"], rows["buy"] = {}, {}
        for key, address in (("ours", ours.address), ("oz", oz.address), ("erc721a", erc721a.address)):
            market.list(artist, address, 4, price)  # the marketplace already holds a token of it
            rows["list"][key] = market.list(artist, address, 5, price).gas_used
            rows["buy"][key] = market.buy(buyer, address, 5, price).gas_used

        # Lazy mint: sequential nonces (one bitmap word per 256 vouchers), a collector who holds tokens.
        def voucher(nonce: int):
            return sign_voucher(LocalSigner(artist), MintVoucher(file_commitment(b"lazy %d" % nonce).digest, 10**16,
                                                                 nonce=nonce, expiry=2**40),
                                ours.address, conn.chain_id)

        first = ours.redeem(buyer, voucher(0)).receipt.gas_used
        steady = ours.redeem(buyer, voucher(1)).receipt.gas_used
        new_collector = ours.redeem(collector, voucher(2)).receipt.gas_used
        custom = ours.redeem(buyer, sign_voucher(
            LocalSigner(artist), MintVoucher(file_commitment(b"custom").digest, 10**16, nonce=3, expiry=2**40,
                                             royalty_receiver=collector.address, royalty_bps=800),
            ours.address, conn.chain_id)).receipt.gas_used
        rows["redeem voucher"] = {"ours": steady}
        rows["redeem voucher, first of 256 nonces"] = {"ours": first}
        rows["redeem voucher, collector's first token"] = {"ours": new_collector}
        rows["redeem voucher, own royalty"] = {"ours": custom}
    return {"unit": "gas per token (receipt gasUsed / tokens)", "rows": rows, "targets": TARGETS}


def render(result: dict) -> str:
    lines = [f"{'operation':<40}{'ours':>10}{'OZ URI':>10}{'ERC721A':>10}{'ours/OZ':>9}{'ours/A':>8}{'target':>9}"]
    for name, row in result["rows"].items():
        ours, oz, a = row.get("ours"), row.get("oz"), row.get("erc721a")
        cell = lambda v: f"{v:>10,.0f}" if v is not None else f"{'-':>10}"  # noqa: E731
        ratio = lambda v, w: f"{v / w:>8.2f}x" if v and w else f"{'-':>9}"  # noqa: E731
        target = result["targets"].get(name)
        mark = "" if target is None else (" ok" if ours <= target else " OVER")
        target_cell = f"{target:>9,}{mark}" if target else ""
        lines.append(f"{name:<40}{cell(ours)}{cell(oz)}{cell(a)}{ratio(ours, oz)}{ratio(ours, a)[1:]}{target_cell}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args(argv)
    result = measure()
    print(json.dumps(result) if args.json else render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
