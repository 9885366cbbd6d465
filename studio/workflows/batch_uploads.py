"""A batch's uploads: each row's image and token metadata, then each batch's folder of metadata.

Rows are stored on worker threads while earlier batches mint. A row is read again with the
manifest's bound and checked against the hash the manifest was validated with; what a store
already holds (an earlier run's upload) is not sent again; every CID the store answers must be the
one computed locally, or nothing is minted. The journal records each row's CIDs as it is stored.
"""
from __future__ import annotations

import hashlib
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from studio.errors import InputError, StorageError, StudioError
from studio.workflows.batch_journal import Journal, check_cancel, crash_point
from studio.workflows.batch_manifest import ManifestRow

if TYPE_CHECKING:
    from studio.cancel import Cancellable
    from studio.chain.content import Commitment
    from studio.storage.store import ContentStore


def image_bytes(row: ManifestRow) -> bytes:
    """A validated row's image, read again with the manifest's bound (it may have been swapped since)."""
    from studio.safeimage import read_image_file
    from studio.workflows.batch_manifest import MAX_IMAGE_BYTES

    return read_image_file(row.file, what=f"Row {row.row}'s image {row.file.name}", max_bytes=MAX_IMAGE_BYTES)


def embedded_manifest(row: ManifestRow) -> str | None:
    """The provenance manifest embedded in a row's file (kept with its work: the Gallery's "signed"
    badge and detail pane read it), or None when it carries none or can no longer be read."""
    from studio.provenance.embed import read_embedded

    try:
        data = image_bytes(row)
        if hashlib.sha256(data).hexdigest() != row.sha256:  # swapped since it was minted: not this work's
            return None
        return read_embedded(data, name=row.file.name).provenance_json
    except (OSError, StudioError):
        return None


def row_metadata(row: ManifestRow, media_cid: str, data: bytes) -> tuple[bytes, str]:
    """The token's metadata JSON (as `studio mint` writes it, provenance summary included) and its CID."""
    from studio.workflows.mint import MintItem, embedded_provenance, token_metadata

    _, provenance = embedded_provenance(data, row.file.name)
    item = MintItem(row.file, row.name, row.description, row.attributes, row.license, provenance=provenance)
    metadata = token_metadata(item, media_cid)
    return metadata.to_bytes(), metadata.cid


class BatchUploads:
    """Stores rows and batch folders in ``store``, recording each row's CIDs in ``journal``.

    ``uploaded`` counts the rows whose CIDs the journal holds (earlier runs included), for the
    progress line."""

    def __init__(self, store: "ContentStore", journal: Journal, cancel: "Cancellable | None") -> None:
        self.store = store
        self.journal = journal
        self.cancel = cancel
        self.uploaded = len(journal.uploaded())
        self._stored_now = 0  # rows stored by this run (the crash seam counts these)
        self._lock = threading.Lock()

    def upload(self, row: ManifestRow) -> bytes:
        """Store the image and its metadata (worker thread); returns the metadata file's bytes."""
        from studio.storage.cid import Cid

        check_cancel(self.cancel)
        data = image_bytes(row)
        if hashlib.sha256(data).hexdigest() != row.sha256:
            raise InputError(f"Row {row.row} ({row.file.name}) changed while the batch ran.",
                             hint="Leave the files alone until the batch is done, then run it again.")
        known = self.journal.uploaded().get(row.row)
        if known is not None and self.store.has(Cid.parse(known[0])):
            metadata, metadata_cid = row_metadata(row, known[0], data)
            if metadata_cid == known[1] and self.store.has(Cid.parse(metadata_cid)):
                return metadata
        media = str(self.store.add_path(row.file, cid_version=1))
        metadata, metadata_cid = row_metadata(row, media, data)
        stored = str(self.store.add_bytes(metadata, cid_version=1))
        if stored != metadata_cid:
            raise StorageError(f"{self.store.name} named the metadata of row {row.row} {stored}, not "
                               f"{metadata_cid}.", hint="Check the storage backend's settings (CID version 1).")
        self.journal.set_uploaded(row.row, media, metadata_cid)
        with self._lock:
            self._stored_now += 1
            self.uploaded += known is None
            count = self._stored_now
        crash_point("after-upload", count)
        return metadata

    def store_directory(self, files: Sequence[bytes]) -> "Commitment":
        """Store a batch's metadata files as one folder; its CID is the batch's commitment."""
        from studio.fileio import atomic_write_bytes
        from studio.workflows.publish import directory_commitment

        commitment = directory_commitment(files)
        with tempfile.TemporaryDirectory(prefix="studio-batch-") as folder:
            root = Path(folder) / "batch"
            root.mkdir()
            for index, content in enumerate(files):
                atomic_write_bytes(root / str(index), content)
            stored = str(self.store.add_path(root, cid_version=1))
        if stored != commitment.cid:
            raise StorageError(f"{self.store.name} named a batch folder {stored}, not {commitment.cid}; nothing "
                               "was minted.", hint="Check the storage backend's settings (CID version 1).")
        return commitment
