"""The committed contract artifacts: fresh against their sources, built as documented."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from studio.chain.artifacts import BUILD_DIR, CONTRACTS_DIR, artifact_names, load_artifact, source_is_current
from studio.chain.errors_decode import decode_revert, has_message, known_error_names
from studio.errors import NotFound

EXPECTED = {"StudioCollection", "StudioMarketplace", "StudioMarketplaceV1", "OZURIStorageReference",
            "ERC721AReference", "PaymentProbe", "RpcProbe", "ReturnBomb", "WETH9", "Seaport", "ConduitController"}
#: Compiled from npm sources with the compiler and settings their authors used (contracts/build.js VENDORED).
VENDORED = {"Seaport": ("0.8.24+", "seaport-core"), "ConduitController": ("0.8.14+", "seaport-core")}


def test_every_contract_has_an_artifact():
    assert EXPECTED <= set(artifact_names())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_artifact_is_not_stale_against_its_source(name):
    artifact = load_artifact(name)
    assert source_is_current(artifact), (
        f"build/{name}.json was built from another version of {artifact.source_path}; "
        "run `node build.js` in contracts/ and commit the artifacts.")


def test_every_solidity_source_has_a_current_artifact():
    ours = [name for name in artifact_names() if name not in VENDORED]
    sources = {load_artifact(name).source_path for name in ours}
    sources |= {path for name in ours for path in load_artifact(name).imported_hashes}
    on_disk = {str(path.relative_to(CONTRACTS_DIR)) for path in (CONTRACTS_DIR / "src").rglob("*.sol")}
    assert on_disk == sources


def test_artifacts_record_the_pinned_compiler_and_settings():
    package = json.loads((CONTRACTS_DIR / "package.json").read_text())
    solc_pin = package["devDependencies"]["solc"]
    assert all(ch.isdigit() or ch == "." for ch in solc_pin), "solc must be pinned to an exact version"
    for name in artifact_names():
        artifact = load_artifact(name)
        if name in VENDORED:
            continue
        assert artifact.compiler_version.startswith(solc_pin + "+")
        assert artifact.settings["optimizer"]["enabled"] is True
        assert artifact.settings["evmVersion"] == "cancun"
        assert artifact.bytecode.startswith("0x6") and len(artifact.deployed_bytecode) > 100


@pytest.mark.parametrize("name", sorted(VENDORED))
def test_vendored_artifacts_record_the_upstream_compiler_and_pinned_packages(name):
    package = json.loads((CONTRACTS_DIR / "package.json").read_text())["devDependencies"]
    artifact = load_artifact(name)
    version, vendor = VENDORED[name]
    assert artifact.compiler_version.startswith(version)
    assert artifact.settings["viaIR"] is True and artifact.settings["optimizer"]["enabled"] is True
    assert artifact.vendor_packages[vendor] == package[vendor]
    assert artifact.vendor_packages["seaport-types"] == package["seaport-types"]
    assert artifact.source_path.startswith("node_modules/") and artifact.imported_hashes
    assert all(path.startswith("node_modules/seaport-") for path in artifact.imported_hashes)


def test_seaport_runtime_fits_the_contract_size_limit():
    assert (len(load_artifact("Seaport").deployed_bytecode) - 2) // 2 <= 24_576


def test_a_changed_source_is_detected_as_stale(tmp_path):
    artifact = load_artifact("StudioMarketplace")
    edited = tmp_path / "StudioMarketplace.sol"
    edited.write_bytes(artifact.source_file.read_bytes() + b"\n// edited\n")
    moved = type(artifact)(**{**artifact.__dict__, "source_path": str(edited)})
    assert not source_is_current(moved)


def test_the_collection_is_stale_when_its_base_contract_changes(tmp_path):
    artifact = load_artifact("StudioCollection")
    assert set(artifact.imported_hashes) == {"src/base/ERC721BatchHeads.sol"}
    base = CONTRACTS_DIR / "src/base/ERC721BatchHeads.sol"
    edited = tmp_path / "ERC721BatchHeads.sol"
    edited.write_bytes(base.read_bytes() + b"\n// edited\n")
    assert source_is_current(artifact)
    moved = type(artifact)(**{**artifact.__dict__, "imported_hashes": {str(edited): artifact.imported_hashes[
        "src/base/ERC721BatchHeads.sol"]}})
    assert not source_is_current(moved)


@pytest.mark.slow
def test_a_fresh_build_reproduces_the_committed_artifacts():
    node = shutil.which("node")
    assert node, "Node.js is needed to rebuild the contracts"
    assert (CONTRACTS_DIR / "node_modules" / "solc").exists(), "run `python3 dev.py test` to install solc"
    result = subprocess.run([node, "build.js", "--check"], cwd=CONTRACTS_DIR, capture_output=True, text=True,
                            timeout=240)
    assert result.returncode == 0, result.stderr[-2000:]


def test_missing_artifact_is_a_not_found_with_a_hint(tmp_path):
    with pytest.raises(NotFound, match="build.js"):
        load_artifact("Nope", tmp_path)


def test_every_custom_error_has_a_message_for_people():
    names = known_error_names()
    assert {"VoucherAlreadyUsed", "InvalidVoucherSignature", "NotListed", "OwnableUnauthorizedAccount"} <= names
    missing = sorted(name for name in names if not has_message(name))
    # ERC721A declares errors for features the collection does not use; they still decode by name.
    unused = {"MintERC2309QuantityExceedsLimit", "OwnershipNotInitializedForExtraData", "SequentialUpToTooSmall",
              "SequentialMintExceedsLimit", "SpotMintTokenIdTooSmall", "TokenAlreadyExists",
              "NotCompatibleWithSpotMints", "TransferToNonERC721ReceiverImplementer", "BalanceQueryForZeroAddress",
              "ERC721InvalidOwner", "ERC721InvalidSender", "ERC721InvalidReceiver", "ERC721InvalidApprover",
              "ERC721InvalidOperator", "StringsInsufficientHexLength", "InvalidShortString", "StringTooLong",
              "ECDSAInvalidSignature", "ECDSAInvalidSignatureLength", "ECDSAInvalidSignatureS", "Rejected",
              "NotOperator", "StringsInvalidChar", "StringsInvalidAddressFormat",
              "TooLarge"}  # RpcProbe, a test contract for the devnet's conformance suite
    assert [name for name in missing if name not in unused] == []


def test_decode_known_unknown_and_string_reverts():
    from eth_utils import function_signature_to_4byte_selector

    selector = function_signature_to_4byte_selector("VoucherAlreadyUsed(uint256)").hex()
    error = decode_revert("0x" + selector + "00" * 31 + "07")
    assert error.error_name == "VoucherAlreadyUsed" and error.error_args == (7,)
    assert "already redeemed" in str(error)
    assert "0xdeadbeef" in str(decode_revert("0xdeadbeef"))
    from eth_abi import encode

    assert "too late" in str(decode_revert("0x08c379a0" + encode(["string"], ["too late"]).hex()))
