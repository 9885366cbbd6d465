"""`studio wallet wrap|unwrap` on the devnet: ETH into WETH and back through the preview, and refusals."""
from __future__ import annotations

import json

from tests.cli.test_wallet_cli import close_devnets, fast_kdf, files, run  # noqa: F401 (fixtures)

ACCOUNT0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def _balances() -> tuple[int, int]:
    from studio.chain.devnet import Devnet
    from studio.chain.seaport_contract import WethContract

    devnet = Devnet.shared()
    connection = devnet.connection()
    weth = devnet.deployed_contract("WETH9")
    return connection.balance(ACCOUNT0), WethContract(connection, weth).balance_of(ACCOUNT0) if weth else 0


def _deploy_weth() -> None:
    """WETH on the devnet before balances are read (its deployer is the devnet's account 0, the wallet's)."""
    from studio.chain.devnet import Devnet
    from studio.chain.networks import NetworkRegistry
    from studio.workflows.seaport_market import seaport_venue

    seaport_venue(NetworkRegistry.default().get("devnet"), Devnet.shared().connection())


def test_wrap_then_unwrap_moves_eth_into_weth_and_back_less_only_the_fees(capsys, files):  # noqa: F811
    run(capsys, "wallet", "import", "--phrase-file", files / "phrase", "--password-file", files / "password")
    _deploy_weth()
    eth_before, weth_before = _balances()
    code, out, err = run(capsys, "wallet", "wrap", "0.5", "--password-file", files / "password", "--json")
    assert code == 0, err
    assert "Wrapping ETH" in err and "WETH, one for one" in err  # the preview, before signing
    wrapped = json.loads(out)
    eth, weth = _balances()
    assert weth == weth_before + 5 * 10**17
    assert eth == eth_before - 5 * 10**17 - int(wrapped["fee_wei"])

    code, out, err = run(capsys, "wallet", "unwrap", "0.2", "--password-file", files / "password", "--json")
    assert code == 0, err
    assert "Unwrapping WETH" in err
    unwrapped = json.loads(out)
    eth_after, weth_after = _balances()
    assert weth_after == weth - 2 * 10**17
    assert eth_after == eth + 2 * 10**17 - int(unwrapped["fee_wei"])
    code, out, _ = run(capsys, "wallet", "history", "--json")
    assert {e["tx_hash"] for e in json.loads(out)} >= {wrapped["tx_hash"], unwrapped["tx_hash"]}


def test_unwrapping_more_than_held_is_refused_and_sends_nothing(capsys, files):  # noqa: F811
    run(capsys, "wallet", "import", "--phrase-file", files / "phrase", "--password-file", files / "password")
    code, out, err = run(capsys, "wallet", "unwrap", "3", "--password-file", files / "password", "--json")
    assert code == 2
    error = json.loads(out)
    assert "more than the account holds" in error["error"] and error["exit"] == 2
    code, out, _ = run(capsys, "wallet", "history", "--json")
    assert json.loads(out) == []


def test_wrapping_the_whole_balance_is_refused_for_the_gas(capsys, files):  # noqa: F811
    run(capsys, "wallet", "import", "--phrase-file", files / "phrase", "--password-file", files / "password")
    _deploy_weth()
    eth, _ = _balances()
    code, out, err = run(capsys, "wallet", "wrap", f"{eth}wei", "--password-file", files / "password")
    assert code == 2
    assert "leaves too little for the fee" in err and "Nothing was sent" in err
    assert _balances()[0] == eth
