"""Publishing works: where they are kept, with which access token, and what the chain commits to.

Storage names content (``studio.storage``: Kubo-exact CIDs) and keeps it (the backend the
settings choose); the chain stores a commitment to it (``studio.chain.content.Commitment``) and
the wallet keeps a pinning service's token encrypted (``studio.chain.wallet``). The domains do
not import each other: this workflow joins them, passing plain data (a digest and a CID's text,
a token string) from one to the other.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Protocol, Sequence

from studio.cancel import Cancellable, ProgressCallback
from studio.chain.content import MAX_BATCH, Commitment
from studio.errors import InputError
from studio.storage.backends import TOKEN_ENV, backend_from_config, read_token_file
from studio.storage.cid import DAG_PB, RAW, Cid
from studio.storage.unixfs import CHUNK_SIZE, BlockSink, add_bytes, add_directory

if TYPE_CHECKING:
    from studio.config import Config
    from studio.storage.store import ContentStore

#: The wallet's service secret that holds the pinning service's access token.
PINNING_SECRET = "pinning"


class SecretKeeper(Protocol):
    """What the token lookup needs of a wallet (``studio.chain.wallet.Wallet`` is one)."""

    @property
    def is_unlocked(self) -> bool: ...

    def service_secret(self, name: str) -> str | None: ...


def pinning_token(wallet: SecretKeeper | None = None, *, token_file: Path | str | None = None,
                  environ: Mapping[str, str] | None = None) -> str:
    """The pinning service's access token, from the first place that has one:

    a token file given for this command (``--token-file``), the ``STUDIO_PINNING_TOKEN``
    environment variable, then the wallet's encrypted ``pinning`` secret (the wallet unlocked).
    Raises InputError saying how to give one when none does. The token is never logged.
    """
    if token_file is not None:
        return read_token_file(token_file)
    from_env = (environ if environ is not None else os.environ).get(TOKEN_ENV, "").strip()
    if from_env:
        return from_env
    ways = (f"set the environment variable {TOKEN_ENV}, pass --token-file FILE (a file holding only the "
            "token), or keep it encrypted in the wallet with `studio ipfs token set`")
    if wallet is not None and wallet.is_unlocked:
        kept = wallet.service_secret(PINNING_SECRET)
        if kept:
            return kept
        raise InputError("The pinning service needs an access token, and the wallet keeps none.",
                         hint=f"To give one, {ways}.")
    raise InputError("The pinning service needs an access token, and none was given.",
                     hint=f"To give one, {ways}; a token kept in the wallet is used when the wallet is "
                          "unlocked (--password-file F or STUDIO_WALLET_PASSWORD on the command line). "
                          "The token is never kept in the settings.")


def store_from_config(config: "Config", wallet: SecretKeeper | None = None, *, name: str | None = None,
                      token_file: Path | str | None = None,
                      environ: Mapping[str, str] | None = None) -> "ContentStore":
    """The backend the settings choose (``name`` overrides ``storage_backend``); a pinning
    service gets its token from :func:`pinning_token` (token file, environment, wallet)."""
    choice = (name or config["storage_backend"]).strip().lower()
    token = pinning_token(wallet, token_file=token_file, environ=environ) if choice == "pinning" else None
    return backend_from_config(config, name=name, pinning_token=token, environ=environ)


def publish_work(path: Path | str, config: "Config", *, wallet: SecretKeeper | None = None,
                 backend: "ContentStore | None" = None, name: str | None = None, cid_version: int = 1,
                 include_hidden: bool = False, token_file: Path | str | None = None,
                 progress: ProgressCallback | None = None, cancel: Cancellable | None = None) -> Cid:
    """Store and pin a work's file or folder where the settings keep works; returns its CID (the
    one the studio computed itself; Kubo's answer is checked against it). CIDv1 by default, the
    form the contracts commit to."""
    store = backend if backend is not None else store_from_config(config, wallet, name=name, token_file=token_file)
    return store.add_path(Path(path), cid_version=cid_version, include_hidden=include_hidden,
                          progress=progress, cancel=cancel)


def commitment_of(cid: Cid | str, *, count: int | None = None) -> Commitment:
    """The commitment a mint makes to content already stored under ``cid``.

    A raw CID (one file of one block, as token metadata is) commits one token; a dag-pb CID must
    name a directory whose entries ``0``..``count-1`` are the tokens' metadata files.
    """
    cid = Cid.parse(cid) if isinstance(cid, str) else cid
    if cid.codec == RAW:
        if count not in (None, 1):
            raise InputError("A single file commits one token; a batch commits a directory.")
        return Commitment(cid.digest, directory=False, cid=str(cid.to_v1()))
    if count is None:
        raise InputError(f"{cid} is a folder or a file of several blocks; a mint commits such a CID only as a "
                         "batch directory.",
                         hint="Give the number of tokens (entries 0..n-1), or mint a metadata file of at most "
                              f"{CHUNK_SIZE // 1024} KiB stored with CID version 1.")
    return Commitment(cid.digest, directory=cid.codec == DAG_PB, count=count, cid=str(cid.to_v1()))


def file_commitment(content: bytes, *, sink: BlockSink | None = None) -> Commitment:
    """Commitment of one token's metadata file: its raw CIDv1 (``ipfs add --cid-version=1``).

    ``sink`` receives the block, to store it. A file over one 256 KiB chunk is refused: its CID
    would be a dag-pb file DAG, which the contract does not commit to.
    """
    if len(content) > CHUNK_SIZE:
        raise InputError(
            f"Token metadata is {len(content):,} bytes; a single mint commits a file of at most "
            f"{CHUNK_SIZE:,} bytes (one IPFS block). Keep images out of the metadata file.")
    return commitment_of(add_bytes(content, cid_version=1, sink=sink).cid)


def directory_commitment(files: Sequence[bytes], *, sink: BlockSink | None = None) -> Commitment:
    """Commitment of a batch: the UnixFS directory (CIDv1) holding ``files`` as entries
    ``0``..``n-1``, exactly what ``ipfs add -r --cid-version=1`` gives for that folder.

    ``sink`` receives every block (the files' and the directory's), to store or export them.
    """
    if not 1 <= len(files) <= MAX_BATCH:
        raise InputError(f"A batch holds 1 to {MAX_BATCH} tokens, not {len(files)}.")
    added = add_directory({str(index): content for index, content in enumerate(files)}, cid_version=1, sink=sink)
    return commitment_of(added.cid, count=len(files))
