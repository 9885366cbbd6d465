"""The example script of assets/examples runs as a user would run it (a new process, the devnet),
and the Python API's batch_mint reports bad rows before asking for any password."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from studio import api
from studio.workflows.batch import ManifestErrors

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_batch_mint_example_runs_on_the_devnet(tmp_path):
    result = subprocess.run([sys.executable, str(REPO / "assets" / "examples" / "batch_mint_example.py"),
                             "--out", str(tmp_path / "work")], cwd=REPO, capture_output=True, text=True,
                            timeout=300, env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "dry run: 4 works" in out and "minted 4 of 4" in out and "running it again minted nothing new" in out
    assert "token 1: Dawn #1 ipfs://" in out and "listed for 0.01 ETH" in out and "listed for 0.02 ETH" in out
    assert (tmp_path / "work" / "manifest.csv.journal.sqlite").exists()


def test_api_batch_mint_reports_bad_rows_without_a_password(tmp_path, monkeypatch):
    monkeypatch.delenv("STUDIO_WALLET_PASSWORD", raising=False)
    (tmp_path / "m.csv").write_text("file,name,price\nnope.png,A,free\n")
    with pytest.raises(ManifestErrors, match="row 1, file: .*nope.png does not exist"):
        api.batch_mint(tmp_path / "m.csv", "0x" + "12" * 20, network="devnet")


def test_api_signing_without_signer_or_password_says_what_to_do(tmp_path, monkeypatch):
    from PIL import Image

    from studio.errors import InputError

    monkeypatch.delenv("STUDIO_WALLET_PASSWORD", raising=False)
    Image.new("RGB", (8, 8)).save(tmp_path / "a.png")
    with pytest.raises(InputError, match="STUDIO_WALLET_PASSWORD"):
        api.mint([tmp_path / "a.png"], "0x" + "12" * 20, network="devnet")
    with pytest.raises(InputError, match="STUDIO_WALLET_PASSWORD"):
        api.list_token("0x" + "12" * 20, 1, "0.1", network="devnet")
