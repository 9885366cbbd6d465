"""The content commitment StudioCollection stores for a mint, and the token URIs it gives back.

A token commits to the sha2-256 digest of a CIDv1 and whether that CID names a directory:
- a single mint or a redeemed voucher commits one file (the token's metadata JSON), a CIDv1
  with the raw codec: ``tokenURI = ipfs://<CID>``;
- a batch mint commits one UnixFS directory (a CIDv1 with the dag-pb codec) whose entries are
  named ``0``, ``1``, ... in mint order: ``tokenURI = ipfs://<CID>/<index>``.

The chain layer does not compute CIDs: storage does (``studio.storage``), and a workflow passes
the digest and the CID's text in (``studio.workflows.publish.file_commitment`` and
``directory_commitment``), so one implementation names content for both.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from studio.errors import InputError

MAX_BATCH = 1000  # StudioCollection.MAX_BATCH


@dataclass(frozen=True)
class Commitment:
    """What a mint stores on-chain: a sha2-256 digest and whether it names a directory.

    ``count`` is the number of tokens a directory commits (entries ``0``..``count-1``). ``cid`` is
    the CID's text as storage printed it, for :meth:`token_uri`; a commitment read back from the
    chain has none (ask the contract's ``tokenURI`` instead). It does not take part in equality.
    """

    digest: bytes
    directory: bool
    count: int = 1
    cid: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if len(self.digest) != 32 or self.digest == bytes(32):
            raise InputError("A content digest is 32 bytes and not all zero.")
        if not 1 <= self.count <= MAX_BATCH:
            raise InputError(f"A batch holds 1 to {MAX_BATCH} tokens, not {self.count}.")
        if self.count != 1 and not self.directory:
            raise InputError("Only a directory commits more than one token; a file commits one.")

    def token_uri(self, index: int = 0) -> str:
        """The URI the contract returns for the `index`-th token of this mint."""
        if self.cid is None:
            raise InputError("This commitment carries no CID, so its token URI is not known here.",
                             hint="Build it with studio.workflows.publish (which computes the CID), "
                                  "or read tokenURI from the contract.")
        if not 0 <= index < self.count:
            raise InputError(f"This mint holds tokens 0 to {self.count - 1}, not {index}.")
        return f"ipfs://{self.cid}/{index}" if self.directory else f"ipfs://{self.cid}"
