"""The Python API for scripts: what the ``studio`` command does, as plain functions.

Storage (CIDs, publish, fetch, CAR export), and the studio's main workflows for notebooks and
scripts: ``generate``, ``verify``, ``mint``, ``batch_mint`` and ``list_token``. Each function reads
the settings of the current studio home (``STUDIO_HOME`` or the platform folders) where it
needs them, returns plain values (CIDs as text, bytes), and raises :class:`studio.errors.StudioError`
subclasses whose messages say what to do. Nothing here imports Qt, and the storage modules are
imported only when a function runs, so ``import studio.api`` stays cheap::

    from studio import api

    cid = api.cid_of("art.png", cid_version=1)   # what `ipfs add --only-hash --cid-version=1` prints
    assert api.publish("art.png", cid_version=1) == cid
    assert api.fetch(f"ipfs://{cid}") == open("art.png", "rb").read()

    report = api.batch_mint("drop.csv", collection="0x…", network="devnet")   # see docs/batch.md
    print(report.to_json()["tokens"])

Functions that sign take ``signer=`` (any object with ``address`` and ``sign_transaction``, e.g.
``studio.chain.transactions.LocalSigner``) or unlock the studio wallet's ``account`` with the
password in ``STUDIO_WALLET_PASSWORD`` (never an argument, so it stays out of notebooks).
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

if TYPE_CHECKING:
    from studio.storage.store import ContentStore
    from studio.workflows.batch import BatchPlan, BatchProgress, BatchReport
    from studio.workflows.mint import MintResult
    from studio.workflows.verify import Verdict

__all__ = ["batch_mint", "cid_of", "export_car", "fetch", "generate", "list_token", "mint", "png_info", "publish",
           "upscale", "verify"]


def cid_of(path: Path | str, cid_version: int = 0, *, include_hidden: bool = False) -> str:
    """The CID of a file or folder, computed locally exactly as Kubo's ``ipfs add [-r] --only-hash``.

    ``cid_version=0`` is Kubo's default (``Qm…``); 1 gives raw leaves in base32 (``bafk…``/``bafy…``),
    the form the contracts commit to. Nothing is stored.
    """
    from studio.storage.unixfs import cid_of_path

    return str(cid_of_path(path, cid_version=_version(cid_version), include_hidden=include_hidden))


def publish(path: Path | str, backend: "str | ContentStore | None" = None, *, cid_version: int = 0,
            include_hidden: bool = False, pinning_token: str | None = None) -> str:
    """Store and pin a file or folder where the settings keep works; returns its CID.

    ``backend`` is ``None`` (the ``storage_backend`` setting), a name (``"local"``, ``"kubo"``,
    ``"pinning"``) or a backend object. A pinning service's token is ``pinning_token`` or the
    ``STUDIO_PINNING_TOKEN`` environment variable; it is never stored. The CID is the one the
    studio computed itself (Kubo's answer is checked against it).
    """
    version = _version(cid_version)
    if backend is None or isinstance(backend, str):
        from studio.config import load_config
        from studio.storage.backends import backend_from_config

        backend = backend_from_config(load_config(), name=backend, pinning_token=pinning_token)
    return str(backend.add_path(Path(path), cid_version=version, include_hidden=include_hidden))


def fetch(uri: str, *, gateways: Sequence[str] | None = None, max_bytes: int | None = None) -> bytes:
    """The bytes an ``ipfs://``, ``https://`` or ``data:`` URI names.

    IPFS content comes from the local store first, then the gateways (the ``gateways`` setting
    unless given), and is checked against its CID; content over ``max_bytes`` (the
    ``fetch_max_bytes`` setting unless given) is refused. Other schemes (``file:``…) are refused.
    """
    from studio.config import load_config
    from studio.storage.backends import fetcher_from_config

    fetcher = fetcher_from_config(load_config(), gateways=None if gateways is None else tuple(gateways),
                                  max_bytes=max_bytes)
    return fetcher.fetch(uri).data


def export_car(path: Path | str, out: Path | str, *, cid_version: int = 0, include_hidden: bool = False) -> str:
    """Write the exact blocks of a file or folder to the CARv1 file ``out`` (written atomically),
    for ``ipfs dag import`` or a pinning service; returns the root CID."""
    from studio.storage.car import export_car as write

    return str(write(path, out, cid_version=_version(cid_version), include_hidden=include_hidden))


def _version(cid_version: int) -> int:
    if cid_version not in (0, 1) or isinstance(cid_version, bool):
        from studio.errors import InputError

        raise InputError(f"cid_version must be 0 or 1, not {cid_version!r}.",
                         hint="0 is Kubo's default (Qm…); 1 gives base32 CIDs with raw leaves (bafk…/bafy…).")
    return cid_version


# ---------------------------------------------------------------- generation and verification

def generate(prompt: str, *, model: str | None = None, count: int = 1, seed: int | None = None,
             steps: int | None = None, width: int | None = None, height: int | None = None,
             out_dir: Path | str | None = None, **options: Any) -> list[Path]:
    """Generate ``count`` images locally and save them with their provenance; returns their paths.
    Each is recorded in the studio's library, so the Gallery shows it.

    Defaults (model, steps, size, scheduler) are the studio's, as ``studio generate`` uses them;
    ``options`` passes other GenerationRequest fields (negative_prompt, guidance, scheduler...).
    """
    from studio.config import load_config
    from studio.generation.models import ModelCatalog
    from studio.workflows.generate import generate_works
    from studio.workflows.requests import studio_engine, studio_request

    config = load_config()
    catalog = ModelCatalog(config)
    request = studio_request(config, catalog, prompt, model=model, seed=seed, steps=steps or None, width=width,
                             height=height, count=count, **options)
    engine = studio_engine(config, catalog)
    engine.validate(request)
    from studio.library.db import Library

    with Library.default() as library:
        saved = generate_works(request, engine, Path(out_dir) if out_dir else config.paths.works_dir,
                               library=library)
    return [work.path for work in saved]


def upscale(path: Path | str, *, upscaler: str = "lanczos", scale: float = 2.0,
            out_dir: Path | str | None = None) -> Path:
    """Upscale a picture (Lanczos, or an upscaler model file) into a new work naming its source; its path."""
    from studio.config import load_config
    from studio.generation.engine import Engine
    from studio.generation.models import ModelCatalog
    from studio.workflows.upscale import upscale_work

    config = load_config()
    engine = Engine(ModelCatalog(config), device=config["device"], precision=config["precision"],
                    memory_saving=config["memory_saving"], hash_cache=config.paths.hash_cache_file)
    from studio.library.db import Library

    with Library.default() as library:
        return upscale_work(Path(path), engine, Path(out_dir) if out_dir else config.paths.works_dir,
                            library=library, upscaler=upscaler, scale=scale).path


def png_info(path: Path | str) -> Any:
    """The generation parameters an image carries (studio, A1111, ComfyUI, InvokeAI) and the request they
    make (``ImageParameters``: source, fields, request, notes)."""
    from studio.config import load_config
    from studio.generation.models import ModelCatalog
    from studio.workflows.pnginfo import read_parameters

    config = load_config()
    return read_parameters(Path(path), catalog=ModelCatalog(config), weights=config.model_folders())


def verify(path: Path | str) -> "Verdict":
    """Check a work's embedded provenance: manifest, pixel hash, creator's signature, C2PA."""
    from studio.workflows.verify import verify_file

    return verify_file(Path(path))


# ---------------------------------------------------------------- minting and listing

@contextmanager
def _chain(network: str | None, signer: Any, account: str | None) -> Iterator[tuple[Any, Any, Any]]:
    """(network, connection, signer): the given signer, or the wallet's account unlocked with
    STUDIO_WALLET_PASSWORD for the length of the call."""
    from studio.chain.history import TxHistory
    from studio.chain.networks import NetworkRegistry, connect
    from studio.chain.sender import NetworkSigner
    from studio.config import load_config
    from studio.errors import InputError

    chosen = NetworkRegistry.default().get(network or load_config()["network"])
    connection = connect(chosen)
    history = TxHistory.default()  # what a script sends is in the wallet's history too
    if signer is not None:
        yield chosen, connection, NetworkSigner(signer, chosen, history)
        return
    from studio.chain.wallet import Wallet, password_from_environment

    password = password_from_environment()
    if password is None:
        raise InputError("Signing needs the wallet password, and STUDIO_WALLET_PASSWORD is not set.",
                         hint="Set STUDIO_WALLET_PASSWORD, or pass signer= (e.g. a LocalSigner).")
    wallet = Wallet.default()
    wallet.unlock(password)
    try:
        yield chosen, connection, NetworkSigner(wallet.signer(wallet.account(account).address), chosen, history)
    finally:
        wallet.lock()


def mint(files: Sequence[Path | str], collection: str, *, names: Sequence[str] | None = None,
         description: str = "", network: str | None = None, signer: Any = None,
         account: str | None = None) -> "MintResult":
    """Mint works into one of your collections (one token, or one batch for several files).

    A work already minted into the collection is refused; a failed run can simply be repeated.
    """
    from studio.library.db import Library
    from studio.workflows.mint import MintItem, mint_works

    paths = [Path(f) for f in files]
    labels = list(names) if names is not None else [p.stem for p in paths]
    items = [MintItem(path, label, description) for path, label in zip(paths, labels)]
    with _chain(network, signer, account) as (chosen, connection, signing), Library.default() as library:
        return mint_works(items, collection, signer=signing, connection=connection, store=_store(),
                          library=library, network=chosen)


def batch_mint(manifest: Path | str, collection: str, *, network: str | None = None, signer: Any = None,
               account: str | None = None, batch_size: int | None = None, list_price_eth: str | float | None = None,
               dry_run: bool = False, progress: "Callable[[BatchProgress], None] | None" = None,
               ) -> "BatchReport | BatchPlan":
    """Mint every work of a CSV/JSON manifest or folder (docs/batch.md), exactly once, resumably.

    Every row is validated first (``ManifestErrors`` lists each problem). The journal next to the
    manifest makes a repeated call finish an interrupted batch. ``dry_run`` returns the plan (CIDs,
    transactions, estimated gas and cost) without uploading or sending anything.
    """
    from studio.library.db import Library
    from studio.workflows import batch

    size = batch_size or batch.DEFAULT_BATCH_SIZE
    price = batch.parse_eth(list_price_eth) if list_price_eth is not None else None
    batch.read_manifest(manifest)  # the rows' problems before any password is needed
    with _chain(network, signer, account) as (chosen, connection, signing), Library.default() as library:
        if dry_run:
            return batch.plan_batch(manifest, collection, signer=signing, connection=connection, library=library,
                                    network=chosen, batch_size=size, list_price_wei=price)
        return batch.batch_mint(manifest, collection, signer=signing, connection=connection, store=_store(),
                                library=library, network=chosen, batch_size=size, list_price_wei=price,
                                progress=progress)


def list_token(collection: str, token_id: int, price_eth: str | float, *, network: str | None = None,
               signer: Any = None, account: str | None = None) -> Any:
    """List one of your tokens on the network's studio marketplace at a fixed price in ETH."""
    from studio.workflows import market
    from studio.workflows.batch import parse_eth
    from studio.workflows.collections import marketplace_address

    with _chain(network, signer, account) as (chosen, connection, signing):
        return market.list_token(connection=connection, signer=signing, marketplace=marketplace_address(chosen),
                                 collection=collection, token_id=token_id, price_wei=parse_eth(price_eth),
                                 confirm=lambda preview: True, network=chosen)


def _store() -> "ContentStore":
    from studio.config import load_config
    from studio.storage.backends import backend_from_config

    return backend_from_config(load_config())
