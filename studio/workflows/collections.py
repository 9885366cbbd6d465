"""An artist's collections: deploy a StudioCollection, import one by address, find the marketplace.

The library remembers every collection per chain (``studio.library``); the chain wrappers do the
deploying and the reading (``studio.chain.contracts``); an image for the collection goes to the
content store first, so the library can show it. The marketplace of a network is the studio's
own deployment on the devnet and the ``marketplace_addresses`` setting elsewhere.
"""
from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.cancel import Cancellable, ProgressCallback
from studio.errors import InputError, NotFound, StudioError
from studio.library.db import Collection, Library

if TYPE_CHECKING:
    from studio.chain.networks import Network
    from studio.chain.transactions import Connection, Signer, TxPreview
    from studio.config import Config
    from studio.storage.store import ContentStore

#: ERC-165 interface ids a StudioCollection answers for.
ERC721_INTERFACE = bytes.fromhex("80ac58cd")
ERC2981_INTERFACE = bytes.fromhex("2a55205a")
ERC4906_INTERFACE = bytes.fromhex("49064906")
MAX_ROYALTY_BPS = 1000
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


def parse_royalty(text: str) -> int:
    """A royalty in basis points from "5%", "2.5%" or "250bps" (at most 10%)."""
    cleaned = text.strip().lower().replace(" ", "")
    try:
        if cleaned.endswith("bps"):
            bps = int(cleaned[:-3])
        else:
            percent = float(cleaned.rstrip("%"))
            bps = round(percent * 100)
            if abs(percent * 100 - bps) > 1e-6:
                raise ValueError(text)
    except (ValueError, OverflowError) as exc:  # OverflowError: "1e310%" is infinite
        raise InputError(f"{text[:40]!r} is not a royalty (examples: 5%, 2.5%, 250bps).") from exc
    if not 0 <= bps <= MAX_ROYALTY_BPS:
        raise InputError(f"A royalty is between 0% and {MAX_ROYALTY_BPS / 100:g}%, not {text}.")
    return bps


def parse_marketplace_addresses(text: str) -> dict[str, str]:
    """The ``marketplace_addresses`` setting: ``network=0x…`` per line (blank lines and # comments ignored)."""
    found: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, address = line.partition("=")
        if not sep or not _ADDRESS.match(address.strip()):
            raise InputError(f"Line {number} of “Marketplace addresses” is not `network=0x…` (40 hex digits).",
                             hint="Fix it in Settings → Wallet, e.g. sepolia=0x5FbDB2315678afecb367f032d93F642f64180aa3.")
        found[key.strip().lower()] = address.strip()
    return found


def marketplace_address(network: "Network", config: "Config | None" = None,
                        progress: ProgressCallback | None = None) -> str:
    """The studio marketplace on ``network``: deployed by the studio on the devnet, else from settings."""
    if network.embedded:
        from studio.chain.devnet import Devnet

        return Devnet.shared().studio_contracts(progress)["StudioMarketplace"]
    if config is None:
        from studio.config import load_config

        config = load_config()
    address = parse_marketplace_addresses(config["marketplace_addresses"]).get(network.key)
    if address is None:
        raise NotFound(f"No studio marketplace is set for {network.name}.",
                       hint=f"Add a line {network.key}=0x… to “Marketplace addresses” in Settings "
                            "(the address of a StudioMarketplace deployed on that network).")
    return address


def seaport_addresses(network: "Network", connection: "Connection",
                      progress: ProgressCallback | None = None) -> tuple[str, str]:
    """(Seaport 1.6, WETH) on ``network``: deployed by the studio on the devnet; elsewhere the canonical
    Seaport, whose code is checked before use, and the network's canonical WETH."""
    if network.embedded:
        from studio.chain.devnet import Devnet

        contracts = Devnet.shared().seaport_contracts(progress)
        return contracts["Seaport"], contracts["WETH9"]
    from studio.chain.seaport import CANONICAL_SEAPORT
    from studio.chain.seaport_contract import WETH_ADDRESSES, check_seaport_code

    try:
        check_seaport_code(connection, CANONICAL_SEAPORT)
    except NotFound as exc:
        raise NotFound(exc.message, hint="Choose a network Seaport is deployed on, or use the studio's escrow "
                                         "marketplace (--escrow on the command line).") from exc
    weth = WETH_ADDRESSES.get(network.chain_id)
    if weth is None:
        raise NotFound(f"The studio does not know the WETH of {network.name}, which offers are made in.",
                       hint="Listings work; offers need a network with canonical WETH (Ethereum, Base, Sepolia …).")
    return CANONICAL_SEAPORT, weth


def preview_collection(*, connection: "Connection", signer: "Signer", name: str, symbol: str,
                       royalty_receiver: str, royalty_bps: int, network: "Network | None" = None) -> "TxPreview":
    """The deployment's preview (simulated, gas and fees estimated) for the confirmation step: the
    collection's name, symbol and royalty in words."""
    from dataclasses import replace

    from studio.chain.contracts import CollectionContract, checksum
    from studio.chain.sender import TxSender
    from studio.chain.transactions import Flow

    _check_collection_inputs(name, symbol, royalty_bps)
    receiver = checksum(royalty_receiver, "royalty receiver")
    request = CollectionContract.deploy_tx(connection, name=name.strip(), symbol=symbol.strip(),
                                           royalty_receiver=receiver, royalty_bps=royalty_bps)
    whose = " (you)" if receiver.lower() == signer.address.lower() else ""
    request = replace(request, details=(
        ("Deploys", "a new studio collection (ERC-721 with ERC-2981 royalties), owned by you"),
        ("Name", name.strip()), ("Symbol", symbol.strip()),
        ("Royalty", f"{royalty_bps / 100:g} % of each resale to {receiver}{whose}")),
        flows=(Flow("You", signer.address, "sends", 0, "now", "no ETH (only the fee)"),))
    return TxSender.for_signer(connection, signer, network).prepare_request(request).preview


def _check_collection_inputs(name: str, symbol: str, royalty_bps: int) -> None:
    if not name.strip() or not symbol.strip():
        raise InputError("A collection needs a name and a symbol.")
    if not 0 <= royalty_bps <= MAX_ROYALTY_BPS:
        raise InputError(f"A royalty is between 0% and {MAX_ROYALTY_BPS / 100:g}%.")


def create_collection(*, connection: "Connection", signer: "Signer", library: Library, name: str, symbol: str,
                      royalty_receiver: str, royalty_bps: int, description: str = "",
                      image: Path | None = None, store: "ContentStore | None" = None,
                      progress: ProgressCallback | None = None,
                      cancel: Cancellable | None = None) -> Collection:
    """Deploy a StudioCollection owned by ``signer`` and remember it in the library.

    The image (optional) is stored first, so a failed upload deploys nothing; the collection is
    recorded only once its deployment is mined.
    """
    from studio.chain.contracts import CollectionContract, checksum

    report = progress or (lambda fraction, line: None)
    _check_collection_inputs(name, symbol, royalty_bps)
    name, symbol = name.strip(), symbol.strip()
    receiver = checksum(royalty_receiver, "royalty receiver")
    image_cid = None
    if image is not None:
        image = Path(image)
        if not image.is_file():
            raise NotFound(f"The collection image {image} does not exist.")
        if store is None:
            raise InputError("A collection image needs a place to store it.",
                             hint="Choose the storage backend in Settings → Storage.")
        report(0.1, f"Storing the collection image on {store.name}")
        image_cid = str(store.add_path(image, cid_version=1, cancel=cancel))
    _check_cancel(cancel)
    report(0.3, "Deploying the collection")
    contract, receipt = CollectionContract.deploy(connection, signer, name=name, symbol=symbol,
                                                  royalty_receiver=receiver, royalty_bps=royalty_bps)
    collection = library.upsert_collection(Collection(
        chain_id=connection.chain_id, address=contract.address, name=name, symbol=symbol, owner=signer.address,
        royalty_receiver=receiver, royalty_bps=royalty_bps, description=description.strip(), image_cid=image_cid,
        deploy_tx=receipt.tx_hash, created=time.time()))
    report(1.0, f"Collection {name} deployed at {contract.address}")
    return collection


def import_collection(*, connection: "Connection", library: Library, address: str,
                      description: str = "") -> Collection:
    """Remember an existing StudioCollection, after checking that the address really is one."""
    from studio.chain.contracts import CollectionContract, checksum
    from studio.storage.cid import cid_v1_raw_from_digest

    address = checksum(address, "collection address")
    if not connection.code_at(address):
        raise NotFound(f"There is no contract at {address} on chain {connection.chain_id}.",
                       hint="Check the address and the network it was deployed on.")
    contract = CollectionContract(connection, address)
    not_ours = InputError(f"The contract at {address} is not a studio collection.",
                          hint="Only collections deployed by Provenance Studio (StudioCollection) can be imported.")
    try:
        if not all(contract.supports_interface(i) for i in (ERC721_INTERFACE, ERC2981_INTERFACE,
                                                              ERC4906_INTERFACE)):
            raise not_ours
        probe = hashlib.sha256(b"provenance studio").digest()
        if contract.cid_of(probe, False) != cid_v1_raw_from_digest(probe):
            raise not_ours
        name, symbol, owner = contract.name(), contract.symbol(), contract.owner()
        royalty = contract.royalty_info(0, 10_000)
    except InputError:
        raise
    except StudioError as exc:
        raise InputError(f"The contract at {address} is not a studio collection ({exc.message}).",
                         hint=not_ours.hint) from exc
    except Exception as exc:  # a contract without these functions answers with undecodable data
        raise InputError(f"The contract at {address} is not a studio collection.", hint=not_ours.hint) from exc
    known = library.collection(connection.chain_id, address)
    return library.upsert_collection(Collection(
        chain_id=connection.chain_id, address=address, name=name, symbol=symbol, owner=owner,
        royalty_receiver=royalty.receiver, royalty_bps=royalty.amount_wei,
        description=description.strip() or (known.description if known else ""),
        image_cid=known.image_cid if known else None, deploy_tx=known.deploy_tx if known else None,
        created=known.created if known else time.time()))


def _check_cancel(cancel: Cancellable | None) -> None:
    if cancel is not None and cancel.cancelled:
        from studio.errors import Cancelled

        raise Cancelled("Cancelled before deploying; nothing was sent.")


def collection_info(collection: Collection) -> dict[str, Any]:
    """A collection as plain JSON values (the CLI's --json and scripts)."""
    return {"chain_id": collection.chain_id, "address": collection.address, "name": collection.name,
            "symbol": collection.symbol, "owner": collection.owner, "royalty_receiver": collection.royalty_receiver,
            "royalty_bps": collection.royalty_bps, "description": collection.description,
            "image_cid": collection.image_cid, "deploy_tx": collection.deploy_tx, "created": collection.created}
