"""Verify a file's provenance end to end, and regenerate a work from its recipe to compare.

This is where provenance meets the chain (signature recovery, the tokens minted from a work),
storage (the tokens' metadata, fetched verified) and this install's C2PA certificate (the trust
anchor for works made here); the CLI and the GUI call these.

The on-chain check of a minted work: the token's content commitment (read from the contract)
must be the CID of the metadata the studio finds for it, the metadata's image must be this
file's CID, and the metadata's provenance this file's signed manifest. Any difference makes
the verdict "tampered"; a node or gateway out of reach is only a note.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from studio.errors import ChainError, InputError, NetworkError, NotFound, StorageError, StudioError
from studio.provenance.embed import decode_image, read_embedded
from studio.provenance.manifest import Manifest, SignedManifest, pixel_hash
from studio.provenance.verify import ChainCheck, Verdict
from studio.provenance.verify import verify_file as _verify_file

if TYPE_CHECKING:
    from studio.chain.networks import Network, NetworkRegistry
    from studio.library.db import Library, Token

PERCEPTUAL_MATCH_BITS = 10   # of 64: dHash distance up to which two images count as the same picture


def install_c2pa_trust() -> Any:
    """This install's C2PA credentials as a trust anchor, if they exist (verify never creates them)."""
    try:
        from studio.provenance import c2pa
    except ImportError:
        return None
    from studio.paths import studio_paths

    folder = studio_paths().data_dir / "provenance" / "c2pa"
    if not c2pa.c2pa_available() or not folder.is_dir() or not any(folder.iterdir()):
        return None
    return c2pa.C2paCredentials.load_or_create(folder)


_TOKEN_REF = re.compile(r"^(?P<network>[a-z0-9][a-z0-9-]{0,39}):(?P<collection>0x[0-9a-fA-F]{40}):(?P<id>[^:]*)$")
_TOKEN_REF_HINT = "Write NETWORK:COLLECTION:ID, e.g. devnet:0x5FbDB2315678afecb367f032d93F642f64180aa3:0."
#: ERC-721 token ids are uint256
MAX_TOKEN_ID = 2 ** 256 - 1


@dataclass(frozen=True)
class TokenRef:
    """A token named by the user: ``NETWORK:COLLECTION:ID`` (``devnet:0x5FbD…:3``; the id in decimal,
    or in hex with ``0x``)."""

    network: str
    collection: str
    token_id: int

    def __post_init__(self) -> None:
        if isinstance(self.token_id, bool) or not isinstance(self.token_id, int) \
                or not 0 <= self.token_id <= MAX_TOKEN_ID:
            raise InputError(f"Token id {str(self.token_id)[:90]} is not a whole number from 0 to 2^256-1.",
                             hint="ERC-721 token ids are unsigned 256-bit numbers.")

    @classmethod
    def parse(cls, text: str) -> "TokenRef":
        match = _TOKEN_REF.match(text.strip())
        if match is None:
            raise InputError(f"{text[:120]!r} does not name a token.", hint=_TOKEN_REF_HINT)
        return cls(match["network"].lower(), match["collection"], parse_token_id(match["id"]))


def parse_token_id(text: str) -> int:
    """A token id written by a person (decimal, or hex with ``0x``), within uint256; else an InputError."""
    shown = repr(text[:90])
    if re.fullmatch(r"[0-9]+", text):
        value = int(text) if len(text) <= 80 else MAX_TOKEN_ID + 1
    elif re.fullmatch(r"0[xX][0-9a-fA-F]+", text):
        value = int(text, 16) if len(text) <= 70 else MAX_TOKEN_ID + 1
    elif re.fullmatch(r"-[0-9]+|-0[xX][0-9a-fA-F]+", text):
        raise InputError(f"The token id {shown} is negative; token ids are whole numbers from 0.",
                         hint=_TOKEN_REF_HINT)
    else:
        raise InputError(f"The token id {shown} is not a whole number.",
                         hint="Write it in decimal (42) or in hex with 0x (0x2a).")
    if value > MAX_TOKEN_ID:
        raise InputError(f"The token id {shown} is larger than 2^256-1, the largest id an ERC-721 token can have.",
                         hint="Check that the id was copied whole and nothing was added to it.")
    return value


def verify_file(path: Path, *, c2pa_trust: Any = "auto", chain: bool = False, tokens: Sequence[TokenRef] = (),
                library: "Library | None" = None, registry: "NetworkRegistry | None" = None,
                fetcher: Any = None, connect: "Callable[[Network], Any] | None" = None) -> Verdict:
    """Verify the image at ``path``: manifest, pixel hash, creator's signature and C2PA.

    With ``chain``, the tokens the library knows for this work (by SHA-256, else by the manifest's
    pixel hash) are checked on chain too; ``tokens`` are checked in any case. ``library``,
    ``registry``, ``fetcher`` and ``connect`` default to this studio home's.
    """
    from studio.chain.signatures import recover_typed_data

    trust = install_c2pa_trust() if isinstance(c2pa_trust, str) and c2pa_trust == "auto" else c2pa_trust
    verdict = _verify_file(Path(path), recover=recover_typed_data, c2pa_trust=trust)
    if verdict.verdict == "unreadable" or not (chain or tokens):
        return verdict
    return check_on_chain(verdict, Path(path).read_bytes(), tokens=tokens, use_library=chain, library=library,
                          registry=registry, fetcher=fetcher, connect=connect)


def check_on_chain(verdict: Verdict, data: bytes, *, tokens: Sequence[TokenRef] = (), use_library: bool = True,
                   library: "Library | None" = None, registry: "NetworkRegistry | None" = None,
                   fetcher: Any = None, connect: "Callable[[Network], Any] | None" = None) -> Verdict:
    """``verdict`` with a chain section per token (named, or known to the library for this file);
    a mismatch turns it "tampered" (an invalid signature stays the worse finding)."""
    from studio.chain.networks import NetworkRegistry
    from studio.chain.networks import connect as connect_network

    registry = registry or NetworkRegistry.default()
    connect = connect or (lambda network: connect_network(network, timeout=10))
    targets: list[tuple[str, int | None, str, int, "Token | None"]] = []
    notes: list[str] = []
    for ref in tokens:
        targets.append((ref.network, None, ref.collection, ref.token_id, None))
    if use_library:
        try:
            known = _library_tokens(verdict, data, library)
        except StudioError as exc:
            known = []
            notes.append(f"The library could not be read to find this work's tokens: {exc}")
        named = {(ref.collection.lower(), ref.token_id) for ref in tokens}
        for token in known:
            if (token.collection.lower(), token.token_id) not in named:
                targets.append(("", token.chain_id, token.collection, token.token_id, token))
    if not targets:
        return replace(verdict, notes=verdict.notes + tuple(notes)) if notes else verdict
    file_cid = _file_cid(data)
    checks = []
    connections: dict[str, Any] = {}
    for key, chain_id, collection, token_id, row in targets:
        network, problem = _network(registry, key, chain_id)
        label = network.key if network is not None else (key or f"chain {chain_id}")
        if network is None:
            checks.append(ChainCheck(label, chain_id, collection, token_id, "unreachable", notes=(problem,)))
            continue
        checks.append(_check_token(verdict, file_cid, network, collection, token_id, row, fetcher, connect,
                                   connections))
    problems = [f"Token {c.token_id} of {c.collection} on {c.network}: {p}" for c in checks for p in c.problems]
    notes += [f"Token {c.token_id} of {c.collection} on {c.network}: {n}" for c in checks for n in c.notes]
    outcome = verdict.verdict
    if problems and outcome in ("verified", "unproven", "no-provenance"):
        outcome = "tampered"
    return replace(verdict, verdict=outcome, chain=tuple(checks), problems=verdict.problems + tuple(problems),
                   notes=verdict.notes + tuple(notes))


def _library_tokens(verdict: Verdict, data: bytes, library: "Library | None") -> list["Token"]:
    """The tokens minted from this file (same SHA-256) or from the work its manifest describes."""
    from studio.library.db import Library

    own = library is None
    library = library or Library.default()
    try:
        work = library.work_by_sha256(hashlib.sha256(data).hexdigest())
        works = [work] if work is not None else []
        if not works and verdict.manifest is not None:
            works = [w for w in library.works() if w.pixel_hash == verdict.manifest.pixel_hash]
        return [token for w in works for token in library.tokens_of_work(w.id)]
    finally:
        if own:
            library.close()


def _network(registry: "NetworkRegistry", key: str, chain_id: int | None) -> tuple["Network | None", str]:
    if key:
        try:
            return registry.get(key), ""
        except StudioError as exc:
            return None, str(exc)
    for network in registry.all():
        if network.chain_id == chain_id:
            return network, ""
    return None, (f"No network with chain id {chain_id} is configured, so the token was not checked "
                  "(add one with `studio network add`).")


def _file_cid(data: bytes) -> str:
    from studio.storage.unixfs import add_bytes

    return str(add_bytes(data, cid_version=1).cid)


def _check_token(verdict: Verdict, file_cid: str, network: "Network", collection: str, token_id: int,
                 row: "Token | None", fetcher: Any, connect: Callable[["Network"], Any],
                 connections: dict[str, Any]) -> ChainCheck:
    """Read one token from the chain and compare its committed metadata with the file."""
    from studio.chain.contracts import CollectionContract

    def unreachable(what: str, exc: Exception) -> ChainCheck:
        return ChainCheck(network.key, network.chain_id, collection, token_id, "unreachable",
                          notes=(f"{what} ({exc}); the token was not checked. This is not a sign of tampering.",))

    try:
        if network.key not in connections:
            connections[network.key] = connect(network)
        connection = connections[network.key]
        if int(connection.chain_id) != network.chain_id:
            raise NetworkError(f"the node serves chain {connection.chain_id}, not {network.chain_id}")
        contract = CollectionContract(connection, collection)
        commitment, index = contract.content_of(token_id)
        owner = contract.owner_of(token_id)
        token_uri = contract.token_uri(token_id)
    except NetworkError as exc:
        return unreachable(f"The node of {network.name} could not be reached", exc)
    except (ChainError, InputError, NotFound) as exc:
        return ChainCheck(network.key, network.chain_id, collection, token_id, "not-found",
                          notes=(f"The token could not be read from {network.name}: {exc}",))
    problems: list[str] = []
    found = ChainCheck(network.key, network.chain_id, collection, token_id, "ok", owner=owner, token_uri=token_uri)
    uri = f"ipfs://{row.metadata_cid}" if row is not None and row.metadata_cid else token_uri
    try:
        fetcher = fetcher or _default_fetcher()
        metadata_bytes = fetcher.fetch(uri).data
        expected = _committed_cid(commitment, index, fetcher)
    except (NetworkError, NotFound, StorageError) as exc:
        return replace(unreachable("Its metadata could not be fetched", exc), owner=owner, token_uri=token_uri)
    except InputError as exc:
        problems.append(f"Its metadata cannot be read: {exc}")
        return replace(found, state="mismatch", commitment_ok=False, problems=tuple(problems))
    actual = _file_cid(metadata_bytes)
    commitment_ok = actual == expected
    if not commitment_ok:
        problems.append(f"The metadata found for it ({actual}) is not what the contract committed to "
                        f"({expected}): the metadata was replaced.")
    image_ok, provenance_ok = _compare_metadata(metadata_bytes, verdict, file_cid, problems)
    return replace(found, state="mismatch" if problems else "ok", metadata_cid=actual,
                   commitment_ok=commitment_ok, image_ok=image_ok, provenance_ok=provenance_ok,
                   problems=tuple(problems))


def _default_fetcher() -> Any:
    from studio.config import load_config
    from studio.storage.backends import fetcher_from_config

    return fetcher_from_config(load_config())


def _committed_cid(commitment: Any, index: int, fetcher: Any) -> str:
    """The CID of the token's metadata file, as the on-chain commitment names it."""
    from studio.storage.cid import DAG_PB, RAW, Cid
    from studio.storage.unixfs import T_DIRECTORY, decode_node

    if not commitment.directory:
        return str(Cid.from_digest(commitment.digest, codec=RAW))
    folder = Cid.from_digest(commitment.digest, codec=DAG_PB)
    node = decode_node(fetcher.get_block(folder))
    if node.kind != T_DIRECTORY:
        raise InputError(f"The committed batch {folder} is not a folder.")
    link = next((link for link in node.links if link.name == str(index)), None)
    if link is None:
        raise InputError(f"The committed batch {folder} has no entry {index}.")
    return str(link.cid.to_v1())


def _compare_metadata(data: bytes, verdict: Verdict, file_cid: str,
                      problems: list[str]) -> tuple[bool | None, bool | None]:
    """Does the metadata name this file as its image, and this file's signed manifest?"""
    from studio import safejson
    from studio.storage.cid import Cid

    try:
        metadata = safejson.loads(data, what="The token metadata")
    except StudioError as exc:
        problems.append(f"Its metadata is not readable JSON: {exc}")
        return None, None
    if not isinstance(metadata, dict):
        problems.append("Its metadata is not a JSON object.")
        return None, None
    image = metadata.get("image")
    try:
        image_ok = isinstance(image, str) and image.startswith("ipfs://") and \
            str(Cid.parse(image.removeprefix("ipfs://").split("/")[0]).to_v1()) == file_cid and "/" not in \
            image.removeprefix("ipfs://")
    except StudioError:
        image_ok = False
    if not image_ok:
        problems.append(f"Its metadata names another image ({str(image)[:120]}), not this file ({file_cid}).")
    provenance = metadata.get("provenance")
    if not isinstance(provenance, dict):
        if verdict.manifest is None:
            return image_ok, None
        problems.append("Its metadata carries no provenance, but this file carries a studio manifest.")
        return image_ok, False
    if verdict.manifest is None:
        problems.append("Its metadata carries a provenance manifest, but this file carries none.")
        return image_ok, False
    ok = True
    if "manifest" in provenance:  # the full signed manifest (older tokens carry only a summary)
        try:
            claimed = SignedManifest(Manifest.from_dict(provenance["manifest"]), provenance.get("signature"))
        except InputError as exc:
            problems.append(f"The manifest in its metadata is damaged: {exc}")
            return image_ok, False
        if claimed.manifest.manifest_hash != verdict.manifest.manifest_hash:
            problems.append("The manifest in its metadata is not this file's manifest.")
            ok = False
        if claimed.signature != verdict.signature:
            problems.append("The signature in its metadata is not this file's signature.")
            ok = False
    if provenance.get("manifest_sha256") not in (None, verdict.manifest.manifest_hash):
        problems.append("The manifest hash in its metadata is not this file's manifest's hash.")
        ok = False
    if provenance.get("pixel_hash") not in (None, verdict.manifest.pixel_hash):
        problems.append("The pixel hash in its metadata is not this file's manifest's pixel hash.")
        ok = False
    if "manifest" not in provenance and "manifest_sha256" not in provenance:
        problems.append("The provenance in its metadata names no manifest.")
        ok = False
    return image_ok, ok


@dataclass(frozen=True)
class Reproduction:
    """How a regenerated image compares with the file: exactly, or by perceptual hash."""

    method: str              # "exact" (same device and dtype) or "perceptual"
    match: bool
    distance: int | None     # dHash bits that differ (of 64), for the perceptual method
    device: str              # where it was regenerated
    dtype: str
    reason: str              # one sentence for people

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, "match": self.match, "distance": self.distance, "device": self.device,
                "dtype": self.dtype, "reason": self.reason}


def perceptual_hash(image: Any) -> int:
    """64-bit difference hash (dHash): neighbouring brightness on a 9x8 thumbnail."""
    from PIL import Image

    small = image.convert("L").resize((9, 8), Image.Resampling.LANCZOS)
    pixels = small.tobytes()
    bits = 0
    for row in range(8):
        for col in range(8):
            bits = (bits << 1) | int(pixels[row * 9 + col] > pixels[row * 9 + col + 1])
    return bits


def reproduce_work(path: Path, engine: Any, *, inputs: "Mapping[str, Path] | None" = None,
                   weights: Sequence[Path] | None = None, init_image: Any = None,
                   mask_image: Any = None) -> Reproduction:
    """Regenerate the work at ``path`` from its manifest with ``engine``'s local model and compare.

    ``inputs`` gives the pictures the work was made from by role (``init``, ``mask``, ``control0``
    ...: files; ``init_image`` and ``mask_image`` may be given as PIL images instead), checked
    against the hashes the manifest names; its recorded options (mask blur, inpaint area and padding,
    outpaint, hires, control units ...) are used as they were. Weights files (LoRAs, VAE, embeddings,
    upscaler and ControlNet models) are looked up by name and SHA-256 in ``weights`` (default: the
    models folders).
    Same device and dtype as recorded: the pixels must match exactly. Otherwise floating-point
    differences are expected, and the images are compared by perceptual-hash distance.
    """
    from studio.safeimage import load_image
    from studio.workflows.generate import recipe_from_manifest
    from studio.workflows.recipes import WeightsFinder, request_from_recipe

    path = Path(path)
    data = path.read_bytes()
    embedded = read_embedded(data, name=path.name)
    if embedded.provenance_json is None:
        raise InputError(f"{path.name} carries no studio manifest to reproduce from.")
    manifest = SignedManifest.from_json(embedded.provenance_json).manifest
    pictures = {role: load_image(Path(file), what=f"The {role} picture {file}") for role, file in (inputs or {}).items()}
    for role, image in (("init", init_image), ("mask", mask_image)):
        if image is not None:
            pictures[role] = image
    roles = [parent.role for parent in manifest.parents]
    missing = [role for role in roles if role not in pictures]
    if missing:
        raise InputError(f"{path.name} was made from input images ({', '.join(roles)}), which a manifest names "
                         "only by their hashes: it cannot be reproduced without them.",
                         hint="Give each with --input ROLE=FILE (" + ", ".join(f"{r}=FILE" for r in missing) + ").")
    if weights is None:
        from studio.config import load_config

        weights = load_config().model_folders()
    recipe = recipe_from_manifest(manifest)
    if manifest.pipeline == "upscale":
        from studio.workflows.upscale import reproduce_upscale

        result = reproduce_upscale(recipe, pictures, WeightsFinder(list(weights)), engine)
    else:
        request = request_from_recipe(recipe, inputs=pictures, weights=WeightsFinder(list(weights)))
        results = engine.generate(request)
        result = results[recipe.batch_index if recipe.batch_size > 1 else 0]
    if result.recipe.model_hash != manifest.model_sha256:
        raise InputError(f"The local model “{manifest.model_name}” is not the one that made {path.name}: "
                         "its weights have another SHA-256.",
                         hint="Install the exact model the manifest names to reproduce the work.")
    device, dtype = result.recipe.device, result.recipe.dtype
    same_runtime = result.recipe.runtime == recipe.runtime  # channels-last and compiled kernels move low bits
    if (device, dtype) == (manifest.device, manifest.dtype) and same_runtime:
        same = pixel_hash(result.image, manifest.schema) == manifest.pixel_hash
        reason = ("Regenerated on the same device and dtype: the pixels are identical." if same else
                  "Regenerated on the same device and dtype, but the pixels differ.")
        return Reproduction("exact", same, None, device, dtype, reason)
    distance = bin(perceptual_hash(result.image) ^ perceptual_hash(decode_image(data, path.name))).count("1")
    match = distance <= PERCEPTUAL_MATCH_BITS
    made = f"{manifest.device}/{manifest.dtype}" + (f" with {', '.join(recipe.runtime)}" if recipe.runtime else "")
    now = f"{device}/{dtype}" + (f" with {', '.join(result.recipe.runtime)}" if result.recipe.runtime else "")
    reason = (f"Regenerated on {now} (the work was made on {made}): "
              f"perceptual-hash distance {distance} of 64 bits, "
              f"{'within' if match else 'over'} the limit of {PERCEPTUAL_MATCH_BITS}.")
    return Reproduction("perceptual", match, distance, device, dtype, reason)
