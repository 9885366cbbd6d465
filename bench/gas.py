#!/usr/bin/env python3
"""Gas per token of the studio's collection and marketplace, against OpenZeppelin and ERC721A.

Deploys side by side on a fresh anvil node: StudioCollection (with its content commitments),
an OpenZeppelin ERC721URIStorage reference (one URI string per token) and a plain ERC721A
reference (no per-token data). Every figure is the receipt's gasUsed on a collection that
already has tokens, minting to / buying by an account that already holds one.

The gas a collector pays for a batch-minted token: the first transfer of a token of an untouched
batch of 100 and of 1,000 (the worst of its head, second, middle, first-of-last-bitmap-word and
last tokens; each batch is ours' worst case to mint and to look up: it starts a 256-id bitmap word
of its own at id 256k + 200, so it runs into later words),
next to the transfer of a singly minted token, and `ownerOf`/`tokenURI` of the worst token as
`eth_estimateGas` of a call (21,000 intrinsic gas included). "list, 999th of batch 1000" is the
custody listing the issue measured (2,305,105 gas before the batch-head bitmap).

Selling: the escrow marketplace (StudioMarketplace) beside Seaport 1.6 on the same collection (5%
royalty paid on every sale, no marketplace fee, accounts that already hold tokens and WETH, each
operation measured after one like it): a Seaport listing or offer is a signature (0 gas) after a
one-time approval of Seaport (the collection, or WETH), buys and accepted offers take Seaport's
basic route, "cancel all" is `incrementCounter`.

    python bench/gas.py          print the table
    python bench/gas.py --json   print one JSON object
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGETS = {"mint 1": 100_000, "batch 100": 3_700, "batch 100, new bitmap word (worst)": 3_700,
           "buy": 100_000, "redeem voucher": 130_000,
           "ownerOf, worst of batch 100 (call)": 50_000, "ownerOf, worst of batch 1000 (call)": 50_000,
           "tokenURI, worst of batch 100 (call)": 100_000, "tokenURI, worst of batch 1000 (call)": 100_000}
#: First transfer of the worst token of an untouched batch, as a multiple of the transfer of a singly
#: minted token. The token has no storage slot of its own yet, so its first transfer must create
#: one (20,000 gas instead of 2,900 to rewrite one): about 1.41x of a 42,000-gas transfer before
#: any lookup, with any scheme that keeps a batch within 3,700 gas per token. The lookup then adds
#: at most three cold reads whatever the batch size; see contracts/README.md.
RATIO_TARGETS = {"first transfer, worst of batch 100": 1.6, "first transfer, worst of batch 1000": 1.6}
SINGLE_TRANSFER = "transfer, singly minted token"
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

        # What a collector pays: transfers and lookups of batch tokens, next to a singly minted token.
        def transfer(collection, key: str, token: int) -> int:
            if key == "ours":
                return ours.transfer(artist, buyer.address, token).gas_used
            return gas(collection.functions.transferFrom(artist.address, buyer.address, token))

        def minted(function) -> list[int]:
            """Send a reference collection's mint; the ids of its Transfer logs."""
            receipt = conn.send(LocalSigner(artist), function)
            return [int(log.topics[3], 16) for log in receipt.logs if len(log.topics) == 4]

        rows[SINGLE_TRANSFER] = {
            "ours": transfer(ours, "ours", ours.mint(artist, artist.address, file_commitment(b"single")).first_token_id),
            "oz": transfer(oz, "oz", minted(oz.functions.mint(artist.address, URI))[0]),
            "erc721a": transfer(erc721a, "erc721a", minted(erc721a.functions.mint(artist.address, 1))[0]),
        }
        oz_batch_100 = minted(oz.functions.mintBatch(artist.address, [URI] * 100))
        for count in (100, 1000):
            batch_files = [b'{"name": "batch %d work %d"}' % (count, i) for i in range(count)]
            heads = {}
            # The worst batch for ours: it starts a bitmap word nobody used yet (a new slot for its
            # head bit) at id 256k + 200, so it also runs into the next word (a carried head).
            # The padding batch before it starts in an earlier word.
            pad = (200 - (ours.total_supply() + 1)) % 256
            pad += 256 if pad <= 200 else 0
            ours.mint_batch(artist, artist.address, directory_commitment([b"pad %d" % i for i in range(pad)]))
            mint = ours.mint_batch(artist, artist.address, directory_commitment(batch_files))
            heads["ours"] = mint.first_token_id
            receipt = conn.send(LocalSigner(artist), erc721a.functions.mint(artist.address, count))
            heads["erc721a"] = int(receipt.logs[0].topics[3], 16)
            rows[f"batch {count}, new bitmap word (worst)"] = {
                "ours": mint.receipt.gas_used / count, "erc721a": receipt.gas_used / count}
            if count == 100:  # OpenZeppelin stores every token alike; a batch of 1,000 would not fit a block
                heads["oz"] = oz_batch_100[0]
            worst: dict[str, dict[str, float]] = {"ownerOf": {}, "tokenURI": {}, "transfer": {}}
            for key, head in heads.items():
                collection = {"ours": ours.contract, "oz": oz, "erc721a": erc721a}[key]
                last = head + count - 1
                # The last token first: ERC721A's scan from it is the longest before anything moves.
                positions = list(dict.fromkeys([last, max(head, last & ~255), head + count // 2, head + 1, head]))
                fn = collection.functions
                worst["ownerOf"][key] = max(fn.ownerOf(t).estimate_gas() for t in positions)
                worst["tokenURI"][key] = max(fn.tokenURI(t).estimate_gas() for t in positions)
                moved = [transfer(collection, key, last)]
                if count == 1000 and key != "oz":  # the listing of the 999th token
                    rows.setdefault("list, 999th of batch 1000", {})[key] = market.list(
                        artist, collection.address, last - 1, price).gas_used
                moved += [transfer(collection, key, t) for t in positions[1:]]
                worst["transfer"][key] = max(moved)
            rows[f"first transfer, worst of batch {count}"] = worst["transfer"]
            rows[f"ownerOf, worst of batch {count} (call)"] = worst["ownerOf"]
            rows[f"tokenURI, worst of batch {count} (call)"] = worst["tokenURI"]
        selling = measure_selling(conn, ours, market, artist, buyer, operator)
    ratios = {name: {key: rows[name][key] / rows[SINGLE_TRANSFER][key] for key in rows[name]}
              for name in RATIO_TARGETS}
    return {"unit": "gas per token (receipt gasUsed / tokens); calls: eth_estimateGas", "rows": rows,
            "targets": TARGETS, "ratios": ratios, "ratio_targets": RATIO_TARGETS, "selling": selling}


def measure_selling(conn, ours, market, artist, buyer, deployer) -> dict:
    """Gas of list, buy, make and accept an offer, cancel and cancel all: escrow marketplace vs Seaport."""
    from studio.chain.seaport import Payout, SaleTerms, listing_order, offer_order, sign_order
    from studio.chain.seaport_contract import SeaportContract, WethContract
    from studio.chain.transactions import LocalSigner
    from studio.workflows.publish import file_commitment

    seaport, weth = SeaportContract.deploy(conn, deployer), WethContract.deploy(conn, deployer)
    price = 10**17
    ours.set_approval_for_all(artist, seaport.address)  # one-time approvals, not counted per sale
    for account in (artist, buyer):
        weth.wrap(account, 10**18)
        weth.approve(account, seaport.address)

    def token() -> int:
        return ours.mint(artist, artist.address, file_commitment(b"sell %d" % next(serial))).first_token_id

    serial = iter(range(10**6))

    def now() -> int:
        return int(conn.web3.eth.get_block("latest")["timestamp"])

    def listing(token_id: int):
        receiver, royalty = ours.royalty_info(token_id, price).receiver, ours.royalty_info(token_id, price).amount_wei
        components = listing_order(seller=artist.address, collection=ours.address, token_id=token_id,
                                   terms=SaleTerms.split(price, artist.address, royalty=(receiver, royalty)),
                                   start_time=now() - 60, end_time=now() + 3600, counter=seaport.counter(artist.address))
        return sign_order(LocalSigner(artist), components, conn.chain_id, seaport.address)

    def offer(token_id: int):
        receiver, royalty = ours.royalty_info(token_id, price).receiver, ours.royalty_info(token_id, price).amount_wei
        components = offer_order(buyer=buyer.address, weth=weth.address, collection=ours.address, token_id=token_id,
                                 amount_wei=price, payouts=[Payout(receiver, royalty, "royalty")],
                                 start_time=now() - 60, end_time=now() + 3600, counter=seaport.counter(buyer.address))
        return sign_order(LocalSigner(buyer), components, conn.chain_id, seaport.address)

    escrow: dict[str, float] = {}
    sea: dict[str, float] = {"list": 0, "make offer": 0}
    for _ in range(2):  # the second round is the one kept: every slot and account already warm
        listed, offered, cancelled = token(), token(), token()
        escrow["list"] = market.list(artist, ours.address, listed, price).gas_used
        escrow["buy"] = market.buy(buyer, ours.address, listed, price).gas_used
        escrow["make offer"] = market.make_offer(buyer, ours.address, offered, price).gas_used
        escrow["accept offer"] = market.accept_offer(artist, ours.address, offered, buyer.address, price).gas_used
        market.list(artist, ours.address, cancelled, price)
        escrow["cancel"] = market.cancel(artist, ours.address, cancelled).gas_used
        listed, offered, cancelled = token(), token(), token()
        sea["buy"] = seaport.fulfil(buyer, listing(listed)).gas_used
        sea["accept offer"] = seaport.fulfil(artist, offer(offered)).gas_used
        sea["cancel"] = seaport.cancel(artist, [listing(cancelled).components]).gas_used
        sea["cancel all"] = seaport.increment_counter(artist).gas_used
    for total, parts in (("list + buy (the whole sale)", ("list", "buy")),
                         ("make + accept offer (the whole sale)", ("make offer", "accept offer"))):
        escrow[total], sea[total] = (sum(escrow[p] for p in parts), sum(sea[p] for p in parts))
    operations = ("list", "make offer", "buy", "accept offer", "cancel", "cancel all", "list + buy (the whole sale)",
                  "make + accept offer (the whole sale)")
    return {name: {"escrow": escrow.get(name), "seaport": sea.get(name)} for name in operations}


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
    lines.append("")
    lines.append(f"{'first transfer / singly minted transfer':<40}{'ours':>10}{'OZ URI':>10}{'ERC721A':>10}"
                 f"{'':>17}{'target':>9}")
    for name, row in result.get("ratios", {}).items():
        times = lambda v: f"{v:>9.2f}x" if v is not None else f"{'-':>10}"  # noqa: E731
        target = result["ratio_targets"][name]
        mark = " ok" if row["ours"] <= target else " OVER"
        lines.append(f"{name.replace('first transfer, ', ''):<40}{times(row.get('ours'))}{times(row.get('oz'))}"
                     f"{times(row.get('erc721a'))}{'':>17}{target:>8.2f}x{mark}")
    selling = result.get("selling")
    if selling:
        lines += ["", f"{'selling (5% royalty)':<40}{'escrow':>10}{'Seaport':>10}{'Seaport/escrow':>16}"]
        for name, row in selling.items():
            escrow, sea = row.get("escrow"), row.get("seaport")
            cell = lambda v: f"{v:>10,.0f}" if v is not None else f"{'-':>10}"  # noqa: E731
            ratio = f"{sea / escrow:>15.2f}x" if escrow and sea is not None else f"{'-':>16}"
            note = "  (a signature)" if sea == 0 else ""
            lines.append(f"{name:<40}{cell(escrow)}{cell(sea)}{ratio}{note}")
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
