"""A collection's page and a token's history, as OpenSea shows them, from what the studio knows.

    page = collection_page(view, connection=c, library=lib, fetcher=f, marketplace=m)   # banner, numbers, traits
    ids = tokens_with_traits(lib, chain_id, address, {"Mood": {"calm"}})                 # a trait filter
    events = token_activity(token_id, view=view, connection=c, library=lib)               # mint, sales, offers …
    report = token_provenance(lib, network, collection, token_id, connect=…)               # manifest, signer, commitment

The page's banner, description, creator and royalty come from the library when the studio made the
collection, else from its contract (owner, ERC-2981); its items and owners from the transfer logs the
collector read; floor, volume, sales and listed count from the market's indexed events and the
Seaport order book; trait counts from the metadata of its tokens (read once, then kept in the
library's metadata cache; at most `MAX_TRAIT_TOKENS` are read for one page). Everything a stranger's
contract or metadata says goes through the collector's cleaning (`clean_text`, `safe_preview`).
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Mapping

from studio.cancel import Cancellable, ProgressCallback
from studio.errors import Cancelled, NetworkError, StudioError

if TYPE_CHECKING:
    from studio.library.activity import MarketStats, TokenEvent
    from studio.library.db import Library
    from studio.workflows.collector import CollectionView

log = logging.getLogger(__name__)

MAX_TRAIT_TOKENS = 500


@dataclass(frozen=True)
class TraitCount:
    trait: str
    value: str
    count: int


@dataclass(frozen=True)
class CollectionPage:
    """What the collection page shows above its tokens."""

    chain_id: int
    address: str
    name: str
    symbol: str
    description: str
    creator: str | None          # the contract's owner (the artist, for a studio collection)
    royalty_bps: int | None      # None: no ERC-2981 answer
    royalty_receiver: str | None
    banner: bytes | None         # a PNG the studio encoded from the collection's image
    items: int
    owners: int
    stats: "MarketStats"
    traits: tuple[TraitCount, ...] = ()
    traits_read: int = 0         # tokens whose metadata the trait counts come from
    studio_made: bool = False    # deployed from this library


def collection_page(view: "CollectionView", *, connection: Any, library: "Library", fetcher: Any = None,
                    marketplace: str | None = None, max_tokens: int = MAX_TRAIT_TOKENS,
                    progress: ProgressCallback | None = None, cancel: Cancellable | None = None) -> CollectionPage:
    """The page of an opened collection; metadata not cached yet is read for the trait counts."""
    from studio.chain.erc721 import ERC721Reader, failed
    from studio.library.activity import holder_count, market_stats
    from studio.workflows.collector import _capped, clean_text, safe_preview, token_ids

    reader = ERC721Reader(connection, view.address)
    own = library.collection(view.chain_id, view.address)
    description, creator, banner = "", None, None
    royalty_bps: int | None = None
    royalty_receiver: str | None = None
    if own is not None:
        description, creator = own.description, own.owner
        royalty_bps, royalty_receiver = own.royalty_bps, own.royalty_receiver or own.owner
        if own.image_cid:
            try:
                banner, _note = safe_preview(_capped(fetcher).fetch(f"ipfs://{own.image_cid}").data)
            except StudioError as exc:
                log.info("The banner of %s was not read: %s", view.address, exc)
    else:
        owner = reader.owner()
        if not failed(owner):
            creator = _checksum(str(owner))
        ids = token_ids(view, 0, 1, connection=connection, library=library)
        if ids and isinstance(ids[0], int) and "ERC2981" in view.standards:
            royalty = reader.royalty_info(ids[0], 10_000)
            if not failed(royalty):
                royalty_receiver, royalty_bps = royalty[0], int(royalty[1])
    traits, read = trait_counts(view, connection=connection, library=library, fetcher=fetcher,
                                max_tokens=max_tokens, progress=progress, cancel=cancel)
    escrows = [marketplace] if marketplace else []
    return CollectionPage(view.chain_id, view.address, view.name, view.symbol, clean_text(description, 2_000),
                          creator, royalty_bps, royalty_receiver, banner, view.token_count,
                          holder_count(library, view.chain_id, view.address, escrows),
                          market_stats(library, view.chain_id, view.address), traits, read, own is not None)


def trait_counts(view: "CollectionView", *, connection: Any, library: "Library", fetcher: Any = None,
                 max_tokens: int = MAX_TRAIT_TOKENS, progress: ProgressCallback | None = None,
                 cancel: Cancellable | None = None) -> tuple[tuple[TraitCount, ...], int]:
    """(trait, value, how many tokens have it) for the collection, by trait then most common first, and
    how many tokens they were counted over. Tokens whose metadata is not cached yet are read first."""
    from studio.chain.erc721 import ERC721Reader, failed
    from studio.library.activity import cached_traits, remember_metadata
    from studio.workflows.collector import _capped, _metadata, _traits, clean_text, token_ids

    cached = cached_traits(library, view.chain_id, view.address)
    wanted = [t for t in token_ids(view, 0, min(view.token_count, max_tokens), connection=connection, library=library)
              if isinstance(t, int)]
    missing = [t for t in wanted if t not in cached]
    if missing:
        reader, capped = ERC721Reader(connection, view.address), _capped(fetcher)
        fresh: list[tuple[int, str, tuple[tuple[str, str], ...]]] = []
        for done, token_id in enumerate(missing):
            if cancel is not None and cancel.cancelled:
                raise Cancelled("Stopped reading the collection's traits.")
            uri = reader.token_uri(token_id)
            if failed(uri):
                continue
            try:
                metadata = _metadata(capped, str(uri).strip())
            except NetworkError:
                raise
            except StudioError as exc:  # a broken token has no traits to count
                log.info("No traits for token %s of %s: %s", token_id, view.address, exc)
                continue
            fresh.append((token_id, clean_text(metadata.get("name"), 120), _traits(metadata.get("attributes"))))
            if progress is not None:
                progress((done + 1) / len(missing), f"Reading traits: {done + 1} of {len(missing)} tokens")
        remember_metadata(library, view.chain_id, view.address, fresh)
        cached.update((token_id, traits) for token_id, _name, traits in fresh)
    counted = [cached[t] for t in wanted if t in cached]
    counts = Counter(pair for traits in counted for pair in dict.fromkeys(traits))
    ordered = sorted(counts.items(), key=lambda item: (item[0][0].lower(), -item[1], item[0][1].lower()))
    return tuple(TraitCount(trait, value, count) for (trait, value), count in ordered), len(counted)


def tokens_with_traits(library: "Library", chain_id: int, collection: str,
                       wanted: Mapping[str, set[str]]) -> list[int]:
    """Ids of the collection's tokens (with cached metadata) that have, for every trait asked, one of
    its asked values (OpenSea's filter: values of one trait widen, traits narrow)."""
    from studio.library.activity import cached_traits

    asked = {trait: values for trait, values in wanted.items() if values}
    found = []
    for token_id, traits in sorted(cached_traits(library, chain_id, collection).items()):
        have: dict[str, set[str]] = {}
        for trait, value in traits:
            have.setdefault(trait, set()).add(value)
        if all(have.get(trait, set()) & values for trait, values in asked.items()):
            found.append(token_id)
    return found


# ---------------------------------------------------------------- a token's history

def token_activity(token_id: int, *, collection: str, connection: Any, library: "Library",
                   start_block: int = 0, cancel: Cancellable | None = None) -> list["TokenEvent"]:
    """A token's activity, oldest first: its mint and transfers, listings, sales and offers with
    their prices and times. The market's indexed events come first; a collection the market does not
    watch has its token's Transfer logs read from the node."""
    from dataclasses import replace

    from studio.chain.erc721 import ERC721Reader
    from studio.library.activity import ZERO, TokenEvent, token_events

    events = token_events(library, connection.chain_id, collection, token_id)
    if not any(e.kind in ("mint", "transfer") for e in events):
        reader = ERC721Reader(connection, collection)
        for move in reader.token_transfers(token_id, start_block, reader.head(), cancel=cancel):
            kind = "mint" if move.sender.lower() == ZERO else "burn" if move.to.lower() == ZERO else "transfer"
            events.append(TokenEvent(kind, move.block_number, None, "collection", move.sender, move.to))
    times: dict[int, int | None] = {}
    dated = []
    for event in events:
        if event.block >= 0 and event.when is None:
            if event.block not in times:
                times[event.block] = connection.block_time(event.block)
            seconds = times[event.block]
            event = replace(event, when=float(seconds) if seconds is not None else None)
        dated.append(event)
    return sorted(dated, key=lambda e: (e.when or 0, e.block))


@dataclass(frozen=True)
class ProvenanceReport:
    """What the studio can say about where a token comes from."""

    known: bool                        # minted from a work in this library
    lines: tuple[tuple[str, str], ...]  # (label, text) for the detail pane
    verdict: str = ""                  # the file's verdict ("verified", "tampered", …); "" when unknown
    signer: str | None = None
    commitment_ok: bool | None = None


def token_provenance(library: "Library", network: Any, collection: str, token_id: int, *,
                     connect: Callable[[Any], Any], registry: Any = None, fetcher: Any = None) -> ProvenanceReport:
    """The provenance of a token minted from one of the library's works: its file verified (manifest,
    pixels, signer, C2PA) and the token's on-chain commitment compared with its metadata."""
    from studio.workflows.verify import TokenRef, verify_file

    token = library.token(network.chain_id, collection, token_id)
    work = library.work(token.work_id) if token is not None and token.work_id is not None else None
    if work is None:
        return ProvenanceReport(False, (("Provenance", "Not minted from a work in this library: the studio knows "
                                                       "no manifest for it."),))
    from pathlib import Path

    if not Path(work.path).is_file():
        return ProvenanceReport(True, (("Work", work.title or Path(work.path).name),
                                       ("Provenance", f"The work's file is missing ({work.path}): it cannot be "
                                                      "verified here.")))
    verdict = verify_file(Path(work.path), tokens=[TokenRef(network.key, collection, token_id)], registry=registry,
                          fetcher=fetcher, connect=connect)
    lines: list[tuple[str, str]] = [("Work", work.title or Path(work.path).name), ("Verdict", verdict.verdict)]
    manifest = verdict.manifest
    lines.append(("Signer", verdict.creator or ("not signed" if verdict.signature_valid is None else
                                                "the signature does not match")))
    if manifest is not None:
        lines.append(("Manifest", f"{manifest.model_name} · seed {manifest.seed} · {manifest.steps} steps · "
                                  f"{manifest.width}×{manifest.height} · made {manifest.created}"))
        lines.append(("Prompt", manifest.prompt[:300]))
        lines.append(("Pixels", "match the manifest" if verdict.pixel_hash_ok else "do NOT match the manifest"
                      if verdict.pixel_hash_ok is False else "not checked"))
    check = next((c for c in verdict.chain if c.token_id == token_id), None)
    commitment_ok = check.commitment_ok if check is not None else None
    if check is not None:
        state = {True: "matches the metadata", False: "does NOT match the metadata", None: "not checked"}
        lines.append(("On-chain commitment", f"{state[commitment_ok]} ({check.metadata_cid or 'no CID'})"))
    lines += [("Problem", problem) for problem in verdict.problems[:4]]
    lines += [("Note", note) for note in verdict.notes[:2]]
    return ProvenanceReport(True, tuple(lines), verdict.verdict, verdict.creator, commitment_ok)


def _checksum(address: str) -> str:
    from studio.chain.contracts import checksum

    return checksum(address)
