"""Minting works into a collection: store the image and its metadata, mint, record, never twice.

    estimate = estimate_mint(items, collection, signer=..., connection=..., library=..., store=...)
    show(estimate)                                  # CIDs computed locally, the transaction's preview
    result = mint_works(items, collection, signer=..., connection=..., store=..., library=...)

Steps for each call: find each work (a work of the library, by id: its file, SHA-256 and embedded
provenance manifest come from its record; a file: read, hashed and recorded), whose manifest goes
whole, with its signature and signer, into the token's metadata; upload the image (its bytes
hashed once there and refused if they no longer match the library's SHA-256) and then its
metadata JSON (attempt "uploaded" with both CIDs), prepare the transaction (simulated, fees
estimated: the preview), send it and record "sent" with its hash
*before* waiting, wait for the receipt, then record the tokens and "minted" in one transaction
of the library. One work mints alone (its metadata file is the commitment); several mint as one
batch committed to a UnixFS directory of their metadata files named ``0``..``n-1``.

Retry safety: a work already minted into the collection is refused; a "sent" attempt is
checked first (landed: its tokens are recorded and nothing is minted again; still pending: it is
waited for; dropped: the work is minted again with the same CIDs); an "uploaded" attempt is
reused. A failed upload records nothing; a revert marks the attempt "failed" with the reason and
leaves the work mintable.
"""
from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from studio.cancel import Cancellable, ProgressCallback
from studio.errors import Cancelled, ChainError, InputError, NetworkError, NotFound, StorageError, StudioError
from studio.library.db import FAILED, MINTED, SENT, UPLOADED, Collection, Library, MintAttempt, Token, UNSAVED, Work

if TYPE_CHECKING:
    from studio.chain.content import Commitment
    from studio.chain.contracts import CollectionContract
    from studio.chain.history import TxHistory
    from studio.chain.networks import Network
    from studio.chain.sender import GasSettings, PreparedTx, TxSender
    from studio.chain.transactions import Connection, Signer, TxPreview, TxReceipt
    from studio.storage.metadata import NftMetadata
    from studio.storage.store import ContentStore

#: License ids (SPDX where one exists) and the names people read.
LICENSES: dict[str, str] = {
    "CC0-1.0": "CC0 1.0 (public domain dedication)",
    "CC-BY-4.0": "CC BY 4.0 (attribution)",
    "CC-BY-NC-4.0": "CC BY-NC 4.0 (attribution, non-commercial)",
    "all-rights-reserved": "All rights reserved",
}
_LICENSE_ALIASES = {"cc0": "CC0-1.0", "cc-by": "CC-BY-4.0", "cc-by-nc": "CC-BY-NC-4.0", "arr": "all-rights-reserved",
                    "reserved": "all-rights-reserved"}
MAX_ROYALTY_BPS = 1000


def parse_license(text: str) -> str:
    """A license id from its id or a short name: "cc0", "CC-BY-4.0", "cc-by-nc", "all-rights-reserved"."""
    cleaned = text.strip()
    for license_id in LICENSES:
        if cleaned.lower() == license_id.lower():
            return license_id
    found = _LICENSE_ALIASES.get(cleaned.lower())
    if found is None:
        raise InputError(f"{text!r} is not a license the studio offers.",
                         hint="Choose one of: cc0, cc-by, cc-by-nc, all-rights-reserved.")
    return found


@dataclass(frozen=True)
class MintItem:
    """One work to mint and what its token says about it.

    ``work_id``: the library's work (its record gives the file's SHA-256 and manifest, so nothing is
    re-read before the upload); None: ``path`` is a file, read and recorded by the mint."""

    path: Path
    name: str
    description: str = ""
    attributes: tuple[tuple[str, str | int | float], ...] = ()  # (trait_type, value)
    license: str = "all-rights-reserved"
    royalty_bps: int | None = None  # None: the collection's royalty
    provenance: Mapping[str, Any] | None = None  # the signed manifest object, when the work carries one
    work_id: int | None = None

    @classmethod
    def of_work(cls, work: Work, name: str, description: str = "",
                attributes: Sequence[tuple[str, str | int | float]] = (), license: str = "all-rights-reserved",
                royalty_bps: int | None = None) -> "MintItem":
        """The item for a work of the library (what the mint dialog mints)."""
        return cls(Path(work.path), name, description, tuple(attributes), license, royalty_bps, work_id=work.id)

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))
        if not self.name.strip():
            raise InputError(f"{self.path.name} needs a name for its token.")
        if self.license not in LICENSES:
            object.__setattr__(self, "license", parse_license(self.license))
        if self.royalty_bps is not None and not 0 <= self.royalty_bps <= MAX_ROYALTY_BPS:
            raise InputError(f"The royalty of {self.name!r} must be between 0% and {MAX_ROYALTY_BPS / 100:g}%.")
        object.__setattr__(self, "attributes", tuple((str(k), v) for k, v in self.attributes))


@dataclass(frozen=True)
class PlannedToken:
    """What one work becomes, computed without uploading (the summary screen)."""

    path: Path
    name: str
    media_cid: str
    metadata_cid: str
    token_uri: str  # ipfs://<metadata CID>, or ipfs://<directory CID>/<i> in a batch


@dataclass(frozen=True)
class MintEstimate:
    storage: str  # the content store's name (local, kubo, pinning)
    tokens: tuple[PlannedToken, ...]
    batch: bool
    commitment_cid: str
    preview: "TxPreview"
    royalty_transactions: int  # per-token royalty overrides, one transaction each after the mint

    @property
    def max_fee_wei(self) -> int:
        return self.preview.max_fee_wei


@dataclass(frozen=True)
class MintedWork:
    work: Work
    token: Token
    recovered: bool = False  # minted by an earlier run whose transaction landed


@dataclass(frozen=True)
class MintResult:
    chain_id: int
    collection: str
    minted: tuple[MintedWork, ...]
    tx_hash: str | None  # the transaction of this run (None when everything was recovered)
    fee_wei: int | None
    problems: tuple[str, ...] = field(default=())  # e.g. a royalty override that could not be set

    def to_json(self) -> dict[str, Any]:
        return {"chain_id": self.chain_id, "collection": self.collection, "tx_hash": self.tx_hash,
                "fee_wei": None if self.fee_wei is None else str(self.fee_wei), "problems": list(self.problems),
                "tokens": [{"token_id": m.token.token_id, "file": m.work.path, "sha256": m.work.sha256,
                            "media_cid": m.token.media_cid, "metadata_cid": m.token.metadata_cid,
                            "tx_hash": m.token.tx_hash, "owner": m.token.owner, "recovered": m.recovered}
                           for m in self.minted]}


@dataclass
class MintEntry:
    """One work during a mint (or a lazy listing): its item, its library record, and once built,
    its token metadata and CIDs. ``data``: the file's bytes when they were read (and hashed) to find
    the work; a work of the library named by id is read once, at the upload."""

    item: MintItem
    work: Work
    data: bytes | None = None
    media_cid: str = ""
    metadata: bytes = b""
    metadata_cid: str = ""
    attempt: MintAttempt | None = None

    @property
    def recorded(self) -> MintAttempt:
        """The attempt recorded for this entry (every entry has one once its upload is recorded)."""
        if self.attempt is None:
            raise RuntimeError(f"The mint of work {self.work.id} has no recorded attempt.")
        return self.attempt

    def build_metadata(self, media_cid: str) -> None:
        """Build the token's metadata for the image stored as ``media_cid`` (computed or uploaded)."""
        metadata = token_metadata(self.item, media_cid)
        self.media_cid, self.metadata, self.metadata_cid = media_cid, metadata.to_bytes(), metadata.cid


# ---------------------------------------------------------------- public entry points

def estimate_mint(items: Sequence[MintItem], collection: Collection | str, *, signer: "Signer",
                  connection: "Connection", library: Library, store: "ContentStore",
                  network: "Network | None" = None, recipient: str | None = None,
                  speed: str = "normal") -> MintEstimate:
    """CIDs computed locally (nothing uploaded) and the mint's preview with its fee estimate.

    Raises what the mint would: an already minted work, a signer who may not mint (decoded revert).
    """
    from studio.chain.contracts import CollectionContract
    from studio.chain.sender import TxSender

    target = known_collection(library, connection, collection)
    entries = [read_work_file(item, library) for item in _unique(items)]
    contract = CollectionContract(connection, target.address)
    for entry in entries:
        _refuse_minted(library, target, entry)
        _refuse_lazily_listed(library, contract, target, entry)
        entry.build_metadata(_local_media_cid(entry.item.path))
    commitment = _commitment(entries)
    contract = CollectionContract(connection, target.address)
    sender = TxSender.for_signer(connection, signer, network)
    prepared = _prepare(sender, contract, commitment, recipient or signer.address, speed)
    planned = tuple(PlannedToken(e.item.path, e.item.name, e.media_cid, e.metadata_cid, commitment.token_uri(i))
                    for i, e in enumerate(entries))
    return MintEstimate(store.name, planned, commitment.directory, str(commitment.cid), prepared.preview,
                        sum(1 for e in entries if _needs_royalty(e.item, target)))


def mint_works(items: Sequence[MintItem], collection: Collection | str, *, signer: "Signer",
               connection: "Connection", store: "ContentStore", library: Library,
               network: "Network | None" = None, history: "TxHistory | None" = None,
               recipient: str | None = None, speed: str = "normal",
               confirm: Callable[["TxPreview"], "bool | GasSettings"] | None = None, timeout: float = 120.0,
               progress: ProgressCallback | None = None, cancel: Cancellable | None = None) -> MintResult:
    """Upload, mint (one token or one batch) and record; see the module docstring for retry safety.

    ``confirm`` sees the transaction's preview before anything is signed; False cancels (the
    uploads stay recorded, ready for the next run). Tokens go to ``recipient`` (default: the signer).
    """
    from studio.chain.contracts import CollectionContract
    from studio.chain.sender import TxSender

    report = progress or (lambda fraction, line: None)
    target = known_collection(library, connection, collection)
    contract = CollectionContract(connection, target.address)
    sender = TxSender.for_signer(connection, signer, network, history)
    to = recipient or signer.address
    entries = [read_work_file(item, library) for item in _unique(items)]

    # 1. What earlier runs left: landed transactions are recorded, minted works refused.
    report(0.02, "Checking earlier attempts")
    recovered: list[MintedWork] = []
    pending: list[MintEntry] = []
    for entry in entries:
        _refuse_minted(library, target, entry)
        _refuse_lazily_listed(library, contract, target, entry)
    for entry in entries:
        latest = library.latest_attempt(entry.work.id, target.chain_id, target.address)
        if latest is not None and latest.state == SENT:
            latest = _settle_sent(latest, library, contract, sender, target, timeout, cancel)
        token = _token_of(library, target, entry)
        if token is not None:  # landed in an earlier run (perhaps with another work of this list)
            recovered.append(MintedWork(entry.work, token, recovered=True))
            continue
        entry.attempt = latest if latest is not None and latest.state == UPLOADED else None
        pending.append(entry)
    if not pending:
        report(1.0, "Already minted by an earlier run")
        return MintResult(target.chain_id, target.address, tuple(recovered), None, None)

    # 2. Upload: the image, then its metadata; "uploaded" once both are stored.
    for index, entry in enumerate(pending):
        _check_cancel(cancel, "before uploading")
        report(0.05 + 0.4 * index / len(pending), f"Storing {entry.item.path.name} on {store.name}")
        _upload(entry, store, library, target, cancel)
    commitment = _commitment(pending)
    if commitment.directory:
        report(0.47, f"Storing the batch's metadata folder on {store.name}")
        _upload_directory(pending, store, commitment)

    # 3. Preview and estimate; the person (or --yes) confirms.
    _check_cancel(cancel, "before minting")
    report(0.5, "Preparing the transaction")
    try:
        prepared = _prepare(sender, contract, commitment, to, speed)
    except ChainError as exc:
        _fail(library, pending, exc)
        raise
    if confirm is not None:
        answer = confirm(prepared.preview)  # True, False, or the preview's advanced gas settings
        if not answer:
            raise Cancelled("Nothing was signed. The uploads are kept; minting again reuses them.")
        prepared = sender.confirmed(prepared, answer, "The mint")
    _check_cancel(cancel, "before signing")

    # 4. Send, record "sent" before waiting, wait.
    report(0.6, "Sending the mint")
    try:
        sent = sender.send(prepared, confirmed=True)
    except ChainError as exc:
        _fail(library, pending, exc)
        raise
    with library.connect():
        for position, entry in enumerate(pending):
            entry.attempt = library.record_attempt(replace(entry.recorded, state=SENT, tx_hash=sent.tx_hash,
                                                           error=None, position=position))
    report(0.7, f"Waiting for {sent.tx_hash}")
    try:
        receipt = sender.wait(sent.tx_hash, timeout=timeout, cancel=cancel, action=prepared.preview.action)
    except ChainError as exc:
        _fail(library, pending, exc)
        raise
    except NetworkError as exc:  # the attempts stay "sent": the next run looks the transaction up first
        raise NetworkError(f"The mint was sent ({sent.tx_hash}) but is not confirmed yet: {exc.message}",
                           hint="Mint the same works again once the node answers: the studio checks whether this "
                                "transaction landed, records its tokens, and never mints a work twice.") from exc

    # 5. Record the tokens and "minted" together; then per-token royalties.
    report(0.9, "Recording the tokens")
    minted = _record_landed(library, contract, target, [e.recorded for e in pending], sent.tx_hash, receipt,
                            owner=to)
    works = {e.work.id: e.work for e in pending}
    done = [MintedWork(works[token.work_id], token) for token in minted if token.work_id is not None]
    problems = _set_royalties(contract, signer, target, pending, minted, report)
    report(1.0, f"Minted {len(done)} token{'s' if len(done) != 1 else ''}")
    return MintResult(target.chain_id, target.address, tuple(recovered + done), sent.tx_hash, receipt.fee_wei,
                      tuple(problems))


# ---------------------------------------------------------------- reading works and building metadata

def _unique(items: Sequence[MintItem]) -> list[MintItem]:
    if not items:
        raise InputError("Choose at least one work to mint.")
    seen: dict[Path | int, MintItem] = {}
    for item in items:
        key = item.work_id if item.work_id is not None else item.path.resolve()
        if key in seen:
            raise InputError(f"{item.path.name} is in the list twice.")
        seen[key] = item
    return list(items)


def read_work_file(item: MintItem, library: Library) -> MintEntry:
    """The work to mint: a work of the library from its record (no file read), else the file read
    with its embedded provenance and remembered in the library (an already known file keeps its
    work); NotFound or InputError when it cannot be."""
    from studio.workflows.library import content_sha256

    if item.work_id is not None:
        return _recorded_entry(item, library)
    try:
        data = item.path.read_bytes()
    except FileNotFoundError as exc:
        raise NotFound(f"The work {item.path} does not exist.") from exc
    except OSError as exc:
        raise InputError(f"The work {item.path} could not be read ({exc.strerror or exc}).") from exc
    sha256 = content_sha256(data)
    manifest_json = embedded_manifest_json(data, item.path.name)
    manifest, summary = manifest_provenance(manifest_json)
    if item.provenance is None and summary is not None:
        item = replace(item, provenance=summary)
    known = library.work_by_sha256(sha256)
    if known is not None:
        return MintEntry(item, known, data)
    width, height = _image_size(item.path)
    if manifest is not None:
        prompt, model, pixels = manifest.prompt, manifest.model_name, manifest.pixel_hash
    else:
        (prompt, model), pixels = _recipe(item.path), None
    work = library.add_work(Work(UNSAVED, str(item.path.resolve()), sha256, pixels, item.name.strip(), prompt, model,
                                 item.path.stat().st_mtime, width, height),
                            manifest_json=manifest_json if manifest is not None else None)
    return MintEntry(item, work, data)


def _recorded_entry(item: MintItem, library: Library) -> MintEntry:
    """A work of the library as its record has it: its file, and the provenance of the manifest
    recorded when it was saved (the file is read for it only when the record holds none; it is
    hashed once, at the upload)."""
    work = library.work(item.work_id) if item.work_id is not None else None
    if work is None or work.in_trash:
        raise NotFound(f"Work {item.work_id} is not in the library{' (it is in the trash)' if work else ''}.",
                       hint="Choose the works to mint in the Gallery or the Create tab again.")
    provenance = item.provenance
    if provenance is None:
        manifest_json = library.work_manifest(work.id)
        if manifest_json is None:  # a plain image, or one recorded without its manifest: the file says
            manifest_json = _file_manifest_json(Path(work.path))
        provenance = manifest_provenance(manifest_json)[1]
    return MintEntry(replace(item, path=Path(work.path), provenance=provenance), work)


def embedded_provenance(data: bytes, name: str) -> tuple[Any, dict[str, Any] | None]:
    """The studio manifest embedded in the file (None when it has none or it is unreadable), and
    the provenance object the token's metadata carries: the full signed manifest (so the content
    commitment minted on chain commits to it too), plus the fields a marketplace card reads."""
    return manifest_provenance(embedded_manifest_json(data, name))


def embedded_manifest_json(data: bytes, name: str) -> str | None:
    """The provenance manifest's JSON embedded in an image's bytes (None: none, or unreadable)."""
    from studio.provenance.embed import read_embedded

    try:
        return read_embedded(data, name=name).provenance_json
    except StudioError:
        return None


def _file_manifest_json(path: Path) -> str | None:
    """:func:`embedded_manifest_json` of a file (None too when it cannot be read: the upload says why)."""
    from studio.workflows.library import read_image_bytes

    try:
        return embedded_manifest_json(read_image_bytes(path), path.name)
    except StudioError:
        return None


def manifest_provenance(manifest_json: str | None) -> tuple[Any, dict[str, Any] | None]:
    """:func:`embedded_provenance` from the manifest's JSON (as the library records it)."""
    from studio.provenance.manifest import SignedManifest

    if manifest_json is None:
        return None, None
    try:
        signed = SignedManifest.from_json(manifest_json)
    except StudioError:
        return None, None
    manifest = signed.manifest
    provenance = {"schema": manifest.schema, "manifest": manifest.to_dict(), "signature": signed.signature,
                  "signer": _signer_of(signed), "manifest_sha256": manifest.manifest_hash,
                  "pixel_hash": manifest.pixel_hash, "creator": manifest.creator,
                  "generator": f"{manifest.generator_name} {manifest.generator_version}",
                  "model": manifest.model_name, "model_sha256": manifest.model_sha256}
    return manifest, provenance


def _signer_of(signed: Any) -> str | None:
    """The address the manifest's signature recovers to, when it is the creator's; else None."""
    from studio.chain.signatures import recover_typed_data
    from studio.provenance.manifest import typed_data

    if signed.signature is None:
        return None
    try:
        signer = recover_typed_data(typed_data(signed.manifest), signed.signature)
    except StudioError:
        return None
    creator = signed.manifest.creator or ""
    return signer if signer.lower() == creator.lower() else None


def _image_size(path: Path) -> tuple[int, int]:
    from studio.safeimage import open_image

    with open_image(path, what=path.name) as image:  # a bomb, a FIFO or a damaged file: InputError
        return image.size


def _recipe(path: Path) -> tuple[str, str]:
    """(prompt, model) from the studio recipe in the PNG, or empty when it has none."""
    from studio.workflows.generate import read_recipe

    try:
        recipe = read_recipe(path)
    except StudioError:
        return "", ""
    return recipe.prompt, recipe.model_name


def _local_media_cid(path: Path) -> str:
    from studio.storage.unixfs import cid_of_path

    return str(cid_of_path(path, cid_version=1))


def checked_media_cid(entry: MintEntry) -> str:
    """The image's CID from its bytes, read and hashed once, before anything is stored (or taken as
    read to find the work): a file edited since the library recorded it is refused, since its token
    would not be the work it names."""
    from studio.storage.unixfs import add_bytes
    from studio.workflows.library import content_sha256, read_image_bytes

    path, work = entry.item.path, entry.work
    if entry.data is not None:
        return str(add_bytes(entry.data, cid_version=1).cid)
    data = read_image_bytes(path)
    if content_sha256(data) != work.sha256:
        raise InputError(f"The file of work {work.id} ({path.name}) changed since it was saved: its bytes no longer "
                         "match the SHA-256 the library recorded, so nothing was stored or minted.",
                         hint="Restore the saved file, or import the edited one into the Gallery as a new work and "
                              "mint that.")
    return str(add_bytes(data, cid_version=1).cid)


def token_metadata(item: MintItem, media_cid: str) -> "NftMetadata":
    """The token metadata every studio mint writes (single, batch, lazy listing): name,
    description, traits, license and the provenance object, for the image stored as ``media_cid``."""
    from studio.storage.metadata import Attribute, NftMetadata

    attributes = tuple(Attribute(trait_type=k, value=v) for k, v in item.attributes)
    return NftMetadata(name=item.name.strip(), description=item.description.strip(), image=f"ipfs://{media_cid}",
                       attributes=attributes + (Attribute(trait_type="License", value=LICENSES[item.license]),),
                       provenance=item.provenance, extra={"license": item.license})


def _commitment(entries: Sequence[MintEntry]):
    from studio.workflows.publish import directory_commitment, file_commitment

    if len(entries) == 1:
        return file_commitment(entries[0].metadata)
    return directory_commitment([e.metadata for e in entries])


# ---------------------------------------------------------------- library state

def known_collection(library: Library, connection: "Connection", collection: Collection | str) -> Collection:
    """The library's record of ``collection`` (a Collection or an address) on the node's chain;
    NotFound when the studio does not know it, InputError when it is on another chain."""
    if isinstance(collection, Collection):
        if collection.chain_id != connection.chain_id:
            raise InputError(f"The collection {collection.name} is on chain {collection.chain_id}, but the node "
                             f"serves chain {connection.chain_id}.", hint="Switch to the collection's network.")
        return collection
    known = library.collection(connection.chain_id, collection)
    if known is None:
        raise NotFound(f"The collection {collection} is not in the studio's library on chain {connection.chain_id}.",
                       hint="Create it (`studio collection create`) or import it (`studio collection import ADDR`).")
    return known


def _token_of(library: Library, target: Collection, entry: MintEntry) -> Token | None:
    return next((t for t in library.tokens_of_work(entry.work.id)
                 if t.chain_id == target.chain_id and t.collection.lower() == target.address.lower()), None)


def _refuse_minted(library: Library, target: Collection, entry: MintEntry) -> None:
    token = _token_of(library, target, entry)
    if token is not None:
        raise InputError(f"{entry.item.path.name} is already minted in {target.name} as token {token.token_id} "
                         f"(transaction {token.tx_hash}).",
                         hint="A work is minted once per collection; remove it from the list.")


def _refuse_lazily_listed(library: Library, contract: Any, target: Collection, entry: MintEntry) -> None:
    """A work lazily listed in the collection is minted by whoever buys it: a mint now would make a
    second token of it. A voucher the chain shows used was bought (or withdrawn) since the last
    sync of the market; an expired one can no longer be redeemed."""
    from studio.library.market import ACTIVE, MarketStore

    if not library.has_table("market_vouchers"):
        return
    for voucher in MarketStore(library).vouchers_of_work(entry.work.id, chain_id=target.chain_id,
                                                         collection=target.address):
        if voucher.status != ACTIVE:
            continue  # redeemed: its token is recorded (refused above); cancelled: never minted
        if contract.is_nonce_used(voucher.nonce):
            raise InputError(f"{entry.item.path.name} was bought through its lazy listing in {target.name}, so it "
                             "is minted already (to its buyer).",
                             hint="Open the Market tab (or run `studio market listings`) to record its token.")
        if not voucher.expired():
            until = time.strftime("%Y-%m-%d", time.localtime(voucher.expiry))
            raise InputError(f"{entry.item.path.name} is lazily listed in {target.name} until {until}: whoever "
                             "buys it mints its token, so minting it now would make a second one.",
                             hint="Let the buyer mint it, or mint it after the lazy listing expires.")


def _fail(library: Library, entries: Sequence[MintEntry], exc: StudioError) -> None:
    with library.connect():
        for entry in entries:
            if entry.attempt is not None:
                entry.attempt = library.record_attempt(replace(entry.attempt, state=FAILED, error=str(exc)))


def _check_cancel(cancel: Cancellable | None, when: str) -> None:
    if cancel is not None and cancel.cancelled:
        raise Cancelled(f"Cancelled {when}. What was stored is kept; minting again reuses it.")


# ---------------------------------------------------------------- storage

def _upload(entry: MintEntry, store: "ContentStore", library: Library, target: Collection,
            cancel: Cancellable | None) -> None:
    """Store the image, then its metadata; record "uploaded" (reusing an earlier attempt's row)."""
    from studio.storage.cid import Cid

    previous = entry.attempt
    entry.build_metadata(checked_media_cid(entry))
    if previous is not None and (previous.media_cid, previous.metadata_cid) == (entry.media_cid,
                                                                                  entry.metadata_cid) \
            and store.has(Cid.parse(entry.media_cid)) and store.has(Cid.parse(entry.metadata_cid)):
        return
    media = str(store.add_path(entry.item.path, cid_version=1, cancel=cancel))
    metadata = str(store.add_bytes(entry.metadata, cid_version=1))
    if (media, metadata) != (entry.media_cid, entry.metadata_cid):
        raise StorageError(f"{store.name} named {entry.item.path.name} differently than the studio computed "
                           f"({media} / {metadata} instead of {entry.media_cid} / {entry.metadata_cid}).",
                           hint="Check the storage backend's settings (CID version 1, raw leaves).")
    attempt = previous or MintAttempt(None, entry.work.id, target.chain_id, target.address, UPLOADED, None, None,
                                      None, None, 0.0)
    entry.attempt = library.record_attempt(replace(attempt, state=UPLOADED, media_cid=entry.media_cid,
                                                   metadata_cid=entry.metadata_cid, tx_hash=None, error=None))


def _upload_directory(entries: Sequence[MintEntry], store: "ContentStore", commitment) -> None:
    """The batch's folder of metadata files ``0``..``n-1``, stored so every token URI resolves."""
    from studio.fileio import atomic_write_bytes

    with tempfile.TemporaryDirectory(prefix="studio-batch-") as folder:
        root = Path(folder) / "batch"
        for index, entry in enumerate(entries):
            atomic_write_bytes(root / str(index), entry.metadata)
        stored = str(store.add_path(root, cid_version=1))
    if stored != commitment.cid:
        raise StorageError(f"{store.name} named the batch folder {stored}, not {commitment.cid} as the studio "
                           "computed; nothing was minted.",
                           hint="Check the storage backend's settings (CID version 1, raw leaves).")


# ---------------------------------------------------------------- chain

def _prepare(sender: "TxSender", contract: "CollectionContract", commitment: "Commitment", to: str,
             speed: str) -> "PreparedTx":
    request = contract.mint_batch_tx(to, commitment) if commitment.directory else contract.mint_tx(to, commitment)
    return sender.prepare_request(request, speed=speed)


def _settle_sent(attempt: MintAttempt, library: Library, contract: "CollectionContract", sender: "TxSender",
                 target: Collection, timeout: float, cancel: Cancellable | None) -> MintAttempt:
    """Find out what became of a "sent" attempt's transaction and record it.

    Landed: its tokens are recorded ("minted"). Reverted: "failed". Dropped (the node does not
    know it): back to "uploaded", so the work is minted again with the same CIDs. Still pending:
    waited for.
    """
    if attempt.tx_hash is None:
        raise RuntimeError(f"Attempt {attempt.id} is recorded as sent without a transaction hash.")
    tx_hash = _latest_replacement(sender, attempt.tx_hash)
    if not sender.is_known(tx_hash):
        return library.record_attempt(replace(attempt, state=UPLOADED, tx_hash=None,
                                              error=f"The transaction {attempt.tx_hash} was dropped by the network."))
    batch = [a for a in library.attempts(tx_hash=attempt.tx_hash) if a.state == SENT]
    try:
        receipt = sender.wait(tx_hash, timeout=timeout, cancel=cancel, action="The earlier mint")
    except ChainError as exc:
        with library.connect():
            for each in batch:
                library.record_attempt(replace(each, state=FAILED, error=str(exc)))
        return replace(attempt, state=FAILED, error=str(exc))
    if contract.minted_in(receipt) is None:  # replaced by a cancellation: nothing was minted
        with library.connect():
            for each in batch:
                library.record_attempt(replace(each, state=UPLOADED, tx_hash=None,
                                               error=f"The mint {attempt.tx_hash} was cancelled."))
        return replace(attempt, state=UPLOADED)
    batch = [replace(a, tx_hash=tx_hash) for a in batch]
    _record_landed(library, contract, target, batch, tx_hash, receipt, owner=None)
    return replace(attempt, state=MINTED)


def _latest_replacement(sender: "TxSender", tx_hash: str) -> str:
    """The transaction that finally took ``tx_hash``'s place (speed-up or cancel in the wallet history)."""
    seen = {tx_hash}
    while sender.history is not None:
        try:
            replaced_by = sender.history.get(tx_hash).replaced_by
        except StudioError:
            break
        if not replaced_by or replaced_by in seen:
            break
        tx_hash = replaced_by
        seen.add(tx_hash)
    return tx_hash


def _record_landed(library: Library, contract: "CollectionContract", target: Collection,
                   attempts: Sequence[MintAttempt], tx_hash: str, receipt: "TxReceipt", *,
                   owner: str | None) -> list[Token]:
    """Tokens ``first + position`` of a landed mint, recorded with their attempts as "minted".

    ``owner`` is the recipient of a mint just made; None asks the chain (a recovered mint's
    tokens may have moved since)."""
    minted = contract.minted_in(receipt)
    if minted is None:
        raise ChainError(f"The transaction {tx_hash} minted nothing in {target.name}.",
                         hint="It was not a mint of this collection; check the attempt in the library.")
    now = time.time()
    tokens = []
    for attempt in attempts:
        token_id = minted.first_token_id + attempt.position
        tokens.append(Token(target.chain_id, target.address, token_id, attempt.work_id, attempt.metadata_cid,
                            attempt.media_cid, tx_hash, owner or contract.owner_of(token_id), now))
    library.record_tokens(tokens, [replace(a, state=MINTED, error=None) for a in attempts])
    return tokens


def _needs_royalty(item: MintItem, target: Collection) -> bool:
    return item.royalty_bps is not None and item.royalty_bps != target.royalty_bps


def _set_royalties(contract: "CollectionContract", signer: "Signer", target: Collection, entries: Sequence[MintEntry],
                   tokens: Sequence[Token], report: ProgressCallback) -> list[str]:
    """Per-token royalty overrides, one transaction each; a failure is reported, the token stays minted."""
    problems = []
    for entry, token in zip(entries, tokens):
        bps = entry.item.royalty_bps
        if bps is None or not _needs_royalty(entry.item, target):
            continue
        report(0.95, f"Setting the royalty of token {token.token_id}")
        try:
            contract.set_token_royalty(signer, token.token_id, target.royalty_receiver or signer.address, bps)
        except StudioError as exc:
            problems.append(f"Token {token.token_id} is minted, but its royalty of {bps / 100:g}% was not set: {exc}")
    return problems
