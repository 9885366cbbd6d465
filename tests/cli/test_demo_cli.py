"""`studio demo` end to end in a fresh studio home: the whole path on the devnet and the local store,
its report (text and --json), a second run in the same home, and a failing step that exits 1."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from studio.cli.main import main

ARTIST = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
COLLECTOR = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
STEPS = ["accounts", "generate", "provenance", "store", "deploy", "mint", "list", "buy", "verify"]


@pytest.fixture
def home(studio_home: Path, demo_model_dir: Path):
    """A studio home whose demo model is already built (a copy of the session's), with no wallet."""
    from studio.config import load_config

    target = load_config().paths.demo_model_dir
    if not target.exists():
        shutil.copytree(demo_model_dir, target)
    yield studio_home
    import studio.chain.devnet as devnet_module

    for devnet in list(devnet_module._shared.values()):
        devnet.close()


@pytest.mark.slow
def test_the_demo_runs_the_whole_path_and_reports_every_step(home: Path, capsys) -> None:
    from studio.chain.wallet import Wallet
    from studio.library.db import Library
    from studio.workflows.verify import verify_file

    assert main(["demo", "--json", "--count", "2", "--price", "0.02"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True and [s["step"] for s in report["steps"]] == STEPS
    assert all(s["ok"] and all(s["checks"].values()) for s in report["steps"])
    steps = {s["step"]: s["details"] for s in report["steps"]}
    assert (steps["accounts"]["artist"], steps["accounts"]["collector"]) == (ARTIST, COLLECTOR)
    files = [Path(f) for f in steps["generate"]["files"]]
    assert len(files) == 2 and all(f.is_file() and home in f.parents for f in files)  # the studio's works folder
    assert [m["signer"] for m in steps["provenance"]["manifests"]] == [ARTIST, ARTIST]
    assert [t["token_id"] for t in steps["mint"]["tokens"]] == [1, 2]
    assert [t["media_cid"] for t in steps["mint"]["tokens"]] == steps["store"]["cids"]
    buy = steps["buy"]
    price = 2 * 10**16
    wei = {key: int(value) for key, value in buy.items() if key.endswith("_wei") and isinstance(value, str)}
    assert wei["royalty_wei"] == price * 5 // 100 and buy["royalty_receiver"] == ARTIST
    paid = int(buy["balances_before_wei"]["collector"]) - int(buy["balances_after_wei"]["collector"])
    assert paid == price + wei["gas_fee_wei"]
    assert wei["artist_received_wei"] == wei["seller_proceeds_wei"] + wei["royalty_wei"] == price
    assert steps["verify"]["owner"] == COLLECTOR and steps["verify"]["verdict"] == "verified"
    assert steps["verify"]["image"] == f"ipfs://{steps['store']['cids'][0]}"
    verdict = verify_file(files[0])
    assert verdict.ok and verdict.signer == ARTIST  # the file on disk checks out on its own too
    with Library.default() as library:
        (collection,) = library.collections(1337)
        assert collection.address == steps["deploy"]["collection"] and collection.owner == ARTIST
        assert len(library.tokens(1337, collection.address)) == 2
    assert not Wallet.default().exists  # no wallet was made or touched

    # again in the same home (the devnet kept its state): a new collection, and the text report
    assert main(["demo", "--count", "1"]) == 0
    out = capsys.readouterr().out
    assert "your wallet is not used or changed" in out and out.rstrip().endswith("Everything checked out.")
    for step in STEPS:
        assert f"[ok  ] {step}" in out
    assert "collector 10000" not in out and "→" in out  # balances before → after
    with Library.default() as library:
        assert len(library.collections(1337)) == 2


@pytest.mark.slow
def test_a_step_that_fails_stops_the_demo_and_exits_1(home: Path, capsys) -> None:
    assert main(["demo", "--json", "--count", "1", "--price", "2000000"]) == 1  # more than the collector has
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    steps = {s["step"]: s for s in report["steps"]}
    assert steps["accounts"]["checks"]["collector can pay"] is False
    assert list(steps)[-1] == "buy" and "verify" not in steps
    assert steps["buy"]["error"] and "Token 1" in steps["buy"]["error"]
    assert all(steps[name]["ok"] for name in ("generate", "provenance", "store", "deploy", "mint", "list"))


def test_bad_options_are_refused_before_anything_runs(home: Path, capsys) -> None:
    assert main(["demo", "--count", "9"]) == 2
    assert "1 to 4 works" in capsys.readouterr().err
    assert main(["demo", "--size", "100"]) == 2
