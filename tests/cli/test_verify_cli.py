"""``studio verify``: exit codes per verdict, the most serious winning, JSON lines, and --reproduce."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from studio.cli.main import main
from studio.paths import studio_paths
from studio.provenance.embed import png_with_provenance
from studio.provenance.manifest import Manifest, SignedManifest, pixel_hash, typed_data
from studio.workflows.generate import sign_manifest

ANVIL_KEY_0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ANVIL_ADDRESS_0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
ANVIL_KEY_1 = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"


def local_signer(key: str):
    from eth_account import Account

    from studio.chain.transactions import LocalSigner

    return LocalSigner(Account.from_key(key))


def noise_image(seed: int = 0) -> Image.Image:
    import random

    rng = random.Random(seed)
    return Image.frombytes("RGB", (32, 32), bytes(rng.randrange(256) for _ in range(32 * 32 * 3)))


def make_manifest(image: Image.Image, creator: str) -> Manifest:
    return Manifest(generator_name="provenance-studio", generator_version="0.1.0", model_name="demo",
                    model_sha256="ab" * 32, model_family="sd1", pipeline="txt2img", prompt="a fox",
                    negative_prompt="", seed=1, steps=2, guidance=7.0, scheduler="euler", width=32, height=32,
                    pixel_hash=pixel_hash(image), created="2026-11-28T12:00:00Z", creator=creator)


def write_work(path: Path, signer) -> Path:
    image = noise_image()
    path.write_bytes(png_with_provenance(image, sign_manifest(make_manifest(image, signer.address), signer),
                                         parameters="a fox"))
    return path


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    good = write_work(tmp_path / "good.png", local_signer(ANVIL_KEY_0))
    plain = tmp_path / "plain.png"
    noise_image().save(plain)
    edited = tmp_path / "edited.png"
    image = noise_image()
    image.putpixel((0, 0), (1, 2, 3))
    edited.write_bytes(png_with_provenance(image, SignedManifest.from_json(
        Image.open(good).text["studio:provenance"]), parameters="p"))
    claimed = make_manifest(noise_image(), ANVIL_ADDRESS_0)
    forged = tmp_path / "forged.png"
    forged.write_bytes(png_with_provenance(noise_image(), SignedManifest(
        claimed, "0x" + local_signer(ANVIL_KEY_1).sign_typed_data(typed_data(claimed)).hex()), parameters="p"))
    broken = tmp_path / "broken.png"
    broken.write_bytes(good.read_bytes()[:100])
    return {"good": good, "plain": plain, "edited": edited, "forged": forged, "broken": broken}


@pytest.mark.parametrize("name, code, verdict", [
    ("good", 0, "verified"), ("plain", 3, "no-provenance"), ("edited", 4, "tampered"),
    ("forged", 4, "invalid-signature"), ("broken", 2, "unreadable")])
def test_each_verdict_has_its_exit_code(files, name: str, code: int, verdict: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(files[name]), "--json"]) == code
    line = json.loads(capsys.readouterr().out)
    assert line["verdict"] == verdict and line["path"] == str(files[name])


def test_the_most_serious_finding_wins_and_every_file_gets_a_line(files, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(files["good"]), str(files["plain"])]) == 3
    assert main(["verify", str(files["plain"]), str(files["broken"])]) == 2
    assert main(["verify", str(files["broken"]), str(files["edited"]), str(files["good"]), "--json"]) == 4
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert [line["verdict"] for line in lines] == ["unreadable", "tampered", "verified"]


def test_human_output_names_signer_and_problems(files, capsys: pytest.CaptureFixture[str]) -> None:
    main(["verify", str(files["good"]), str(files["edited"])])
    out = capsys.readouterr().out
    assert f"signed by {ANVIL_ADDRESS_0} (signature valid)" in out
    assert "edited.png: tampered" in out and "problem: The pixels do not match" in out


def test_a_studio_recipe_and_another_tools_are_shown_in_the_same_rows_and_words(
        files, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from PIL.PngImagePlugin import PngInfo

    a1111 = tmp_path / "a1111.png"
    info = PngInfo()
    info.add_text("parameters", "a red fox\nNegative prompt: blurry\n"
                                "Steps: 20, Sampler: DPM++ 2M Karras, CFG scale: 6.5, Seed: 9, Size: 32x32, Model: m")
    noise_image(3).save(a1111, pnginfo=info)
    main(["verify", "--offline", str(files["good"]), str(a1111)])
    lines = capsys.readouterr().out.splitlines()
    assert "  recipe: model demo (abababababab), seed 1, steps 2, guidance 7, sampler Euler, size 32×32, " \
           "pipeline txt2img, created 2026-11-28T12:00:00Z" in lines
    assert "  recipe from a1111: model m, seed 9, steps 20, guidance 6.5, sampler DPM++ 2M Karras, size 32×32" in lines
    assert "  prompt: a fox" in lines and "  prompt: a red fox" in lines

    main(["verify", "--offline", "--json", str(a1111)])
    foreign = json.loads(capsys.readouterr().out)["foreign"]
    assert (foreign["negative_prompt"], foreign["scheduler"]) == ("blurry", "DPM++ 2M Karras")  # the manifest's names


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify"]) == 2


def test_reproduce_with_the_demo_model(studio_home: Path, demo_model_dir: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(demo_model_dir, studio_paths().demo_model_dir)
    out = tmp_path / "works"
    assert main(["generate", "a cat", "--size", "64x64", "--steps", "2", "--seed", "3", "--out", str(out)]) == 0
    path = next(out.glob("*.png"))
    capsys.readouterr()
    assert main(["verify", str(path), "--reproduce", "--json"]) == 0
    line = json.loads(capsys.readouterr().out)
    assert line["verdict"] == "verified" and line["signature_valid"] is None
    assert line["reproduce"]["method"] == "exact" and line["reproduce"]["match"] is True


# ---------------------------------------------------------------- the on-chain check of minted works

@pytest.fixture
def minted_on_devnet(studio_home: Path, tmp_path: Path):
    """Two signed works, each minted as its own token on the embedded devnet; the library knows both."""
    from studio.chain.devnet import Devnet
    from studio.library.db import Library
    from studio.storage.store import LocalStore
    from studio.workflows.collections import create_collection
    from studio.workflows.mint import MintItem, mint_works

    devnet = Devnet.shared()
    signer = local_signer(ANVIL_KEY_0)
    first = write_work(tmp_path / "first.png", signer)
    second = tmp_path / "second.png"
    image = noise_image(5)
    manifest = replace_pixels(make_manifest(image, signer.address), image)
    second.write_bytes(png_with_provenance(image, sign_manifest(manifest, signer), parameters="a fox"))
    with Library.default() as library:
        collection = create_collection(connection=devnet.connection(), signer=signer, library=library,
                                       name="Foxes", symbol="FOX", royalty_receiver=signer.address, royalty_bps=0)
        tokens = [mint_works([MintItem(path, path.stem)], collection, signer=signer, connection=devnet.connection(),
                             store=LocalStore.default(), library=library).minted[0].token
                  for path in (first, second)]
    yield {"first": first, "second": second, "collection": collection.address, "tokens": tokens}
    devnet.close()


def replace_pixels(manifest: Manifest, image: Image.Image) -> Manifest:
    from dataclasses import replace

    return replace(manifest, pixel_hash=pixel_hash(image), seed=5)


def test_a_minted_work_is_checked_on_chain_in_json_and_text(minted_on_devnet, capsys) -> None:
    first, (token, _) = minted_on_devnet["first"], minted_on_devnet["tokens"]
    assert main(["verify", str(first), "--json"]) == 0
    line = json.loads(capsys.readouterr().out)
    (chain,) = line["chain"]
    assert (chain["network"], chain["token_id"], chain["state"], chain["owner"]) == \
        ("devnet", token.token_id, "ok", ANVIL_ADDRESS_0)
    assert chain["commitment_ok"] and chain["image_ok"] and chain["provenance_ok"]
    assert main(["verify", str(first)]) == 0
    out = capsys.readouterr().out
    assert f"token {token.token_id} of {token.collection} on devnet: ok, owned by {ANVIL_ADDRESS_0}" in out
    assert "commitment matches, image matches, provenance matches" in out


def test_a_token_of_another_work_makes_the_file_tampered(minted_on_devnet, capsys) -> None:
    other = minted_on_devnet["tokens"][1]
    ref = f"devnet:{minted_on_devnet['collection']}:{other.token_id}"
    assert main(["verify", str(minted_on_devnet["first"]), "--offline", "--token", ref, "--json"]) == 4
    line = json.loads(capsys.readouterr().out)
    assert line["verdict"] == "tampered" and [c["state"] for c in line["chain"]] == ["mismatch"]
    assert line["chain"][0]["image_ok"] is False and line["chain"][0]["provenance_ok"] is False


def test_offline_skips_the_library_tokens_and_a_malformed_token_is_a_usage_error(minted_on_devnet, capsys) -> None:
    assert main(["verify", str(minted_on_devnet["first"]), "--offline", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["chain"] == []
    assert main(["verify", str(minted_on_devnet["first"]), "--token", "devnet:12"]) == 2
    assert "NETWORK:COLLECTION:ID" in capsys.readouterr().err


def test_an_unreachable_node_is_a_note_and_exit_0(minted_on_devnet, capsys) -> None:
    import socket

    from studio.chain.networks import NetworkRegistry

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    NetworkRegistry.default().add_custom("deadnet", "Dead node", f"http://127.0.0.1:{port}", 31999)
    ref = f"deadnet:{minted_on_devnet['collection']}:0"
    assert main(["verify", str(minted_on_devnet["first"]), "--token", ref, "--json"]) == 0
    line = json.loads(capsys.readouterr().out)
    assert {c["network"]: c["state"] for c in line["chain"]} == {"devnet": "ok", "deadnet": "unreachable"}
    assert any("not a sign of tampering" in note for note in line["notes"])
