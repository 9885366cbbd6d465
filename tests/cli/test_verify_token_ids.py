"""``studio verify --token NETWORK:COLLECTION:ID`` with ids no ERC-721 token can have: an input error
(exit 2) with a message, never a web3 traceback; decimal and hex ids within uint256 are taken."""
from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from studio.cli.main import main
from studio.provenance.embed import png_with_provenance
from studio.provenance.manifest import Manifest, SignedManifest, pixel_hash

COLLECTION = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def work(path: Path) -> Path:
    image = Image.new("RGB", (16, 16), (200, 10, 10))
    manifest = Manifest(generator_name="provenance-studio", generator_version="0.1.0", model_name="demo",
                        model_sha256="ab" * 32, model_family="sd1", pipeline="txt2img", prompt="a fox",
                        negative_prompt="", seed=1, steps=2, guidance=7.0, scheduler="euler", width=16, height=16,
                        pixel_hash=pixel_hash(image), created="2026-11-28T12:00:00Z")
    path.write_bytes(png_with_provenance(image, SignedManifest(manifest), parameters="a fox"))
    return path


@pytest.mark.parametrize(("token_id", "says"), [
    (str(2 ** 256), "larger than 2^256-1"), ("9" * 78, "larger than 2^256-1"), ("9" * 5000, "larger than 2^256-1"),
    ("0x1" + "0" * 64, "larger than 2^256-1"), ("-1", "negative"), ("-0x1", "negative"), ("abc", "not a whole number"),
    ("1.5", "not a whole number"), ("1e3", "not a whole number"), ("", "not a whole number"),
    ("\u0663", "not a whole number"),  # an Arabic-Indic three: int() would take it
])
def test_token_ids_no_erc721_can_have_are_input_errors(token_id: str, says: str, tmp_path: Path,
                                                        studio_home: Path, capsys) -> None:
    good = work(tmp_path / "good.png")
    assert main(["verify", str(good), "--token", f"devnet:{COLLECTION}:{token_id}"]) == 2
    captured = capsys.readouterr()
    assert says in captured.err and "MismatchedABI" not in captured.err and captured.out == ""


def test_token_ids_in_decimal_and_hex_up_to_2_256_minus_1_are_accepted() -> None:
    from studio.errors import InputError
    from studio.workflows.verify import MAX_TOKEN_ID, TokenRef

    assert TokenRef.parse(f"devnet:{COLLECTION}:{MAX_TOKEN_ID}").token_id == 2 ** 256 - 1
    assert TokenRef.parse(f"devnet:{COLLECTION}:0x2a").token_id == 42
    assert TokenRef.parse(f"devnet:{COLLECTION}:0x" + "f" * 64).token_id == MAX_TOKEN_ID
    assert TokenRef.parse(f"devnet:{COLLECTION}:007").token_id == 7
    with pytest.raises(InputError):
        TokenRef("devnet", COLLECTION, 2 ** 256)
    with pytest.raises(InputError):
        TokenRef("devnet", COLLECTION, -1)


def test_a_token_at_an_address_without_a_contract_is_a_note_not_a_traceback(tmp_path: Path, studio_home: Path,
                                                                             capsys) -> None:
    good = work(tmp_path / "good.png")  # nothing is deployed on this studio home's fresh devnet
    assert main(["verify", str(good), "--offline", "--token", f"devnet:{COLLECTION}:0x1f"]) == 0
    out = capsys.readouterr().out
    assert f"token 31 of {COLLECTION} on devnet: not-found" in out
    assert "no contract at that address" in out
