"""The Gallery's detail pane, without widgets: what it shows of one work (its manifest, tokens,
listings and lazy listings, read from the library), the checks of its file on the background pool
(the verdict of verifying it, in a line for people, and its preview), and the recipe another tool
wrote into it.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QImage

from studio.errors import StudioError
from studio.library.db import Library, Token, Work
from studio.text import printable
from studio.ui.workers import BackgroundPool, FunctionJob, error_message

if TYPE_CHECKING:
    from studio.generation.request import Recipe
    from studio.provenance.manifest import Manifest
    from studio.provenance.verify import Verdict

log = logging.getLogger(__name__)

#: The detail pane's preview is read scaled to fit this many pixels.
PREVIEW_SIZE = 640


@dataclass(frozen=True)
class WorkDetail:
    """Everything the detail pane shows of one work."""

    work: Work
    manifest: "Manifest | None"
    tokens: tuple[Token, ...]
    listings: tuple[tuple[int, str, int, int], ...]   # (chain id, collection, token id, price in wei)
    file_exists: bool
    lazy_listings: tuple[tuple[int, str, int], ...] = ()  # (chain id, collection, price in wei): a buyer mints it
    collection_names: tuple[tuple[str, str], ...] = ()   # (address, name) of the collections named above

    def collection_name(self, address: str) -> str:
        """The collection's name where the library knows it, else its shortened address."""
        return next((name for known, name in self.collection_names if known.lower() == address.lower()),
                    f"{address[:8]}…{address[-4:]}")

    @property
    def mintable(self) -> bool:
        """Neither minted nor lazily listed (a lazy listing's buyer mints it), and its file is here."""
        return self.file_exists and not self.tokens and not self.lazy_listings and not self.work.in_trash

    @property
    def recipe(self) -> "Recipe | None":
        """The generation recipe, for studio works (what "Use settings" sends to the Create tab)."""
        if self.manifest is None:
            return None
        from studio.workflows.generate import recipe_from_manifest

        return recipe_from_manifest(self.manifest)


FOREIGN_SOURCES = ("a1111", "comfyui", "invokeai")


def foreign_recipe(work: Work) -> Any:
    """The recipe another tool wrote into a work's PNG (ForeignMetadata), or None."""
    if work.source not in FOREIGN_SOURCES or not Path(work.path).is_file():
        return None
    from studio.provenance.foreign import read_foreign
    from studio.provenance.png_text import read_png_text

    try:
        return read_foreign(read_png_text(Path(work.path)))
    except (StudioError, OSError, ValueError) as exc:
        log.info("The recipe in %s could not be read: %s", work.path, exc)
        return None


def verify_summary(verdict: "Verdict") -> str:
    """One or two lines for people saying what verifying the work's file found (safe to show:
    text from the file is passed through ``printable``); a creator is named as the signer only
    when the signature proves it."""
    from studio.text import printable

    c2pa = f", C2PA {verdict.c2pa}" if verdict.c2pa not in ("absent", "unavailable") else ""
    if verdict.verdict == "verified":
        if verdict.manifest is None:
            return f"Verified: C2PA manifest {verdict.c2pa}, signed by this studio."
        who = f"signed by {verdict.signer}" if verdict.signature_valid else "unsigned"
        return printable(f"Verified: {who}, pixels match the manifest{c2pa}.")
    if verdict.verdict == "unproven":
        reason = verdict.problems[0] if verdict.problems else "nothing proves who made it."
        return printable(f"Unproven: {reason}")
    if verdict.verdict == "no-provenance":
        if verdict.foreign is not None:
            return f"No studio provenance; recipe written by {verdict.foreign.source}."
        return "No provenance in this file."
    labels = {"tampered": "Tampered", "invalid-signature": "Invalid signature", "unreadable": "Unreadable"}
    problems = "; ".join(verdict.problems[:2])
    label = labels.get(verdict.verdict, verdict.verdict)
    return printable(f"{label}: {problems}" if problems else label)


def _format_eth(wei: int) -> str:
    text = f"{wei / 10**18:.6f}".rstrip("0").rstrip(".")
    return f"{text} ETH"


def token_lines(detail: WorkDetail) -> list[str]:
    """The work's tokens, listings and lazy listings as lines for people."""
    listed = {(chain, collection.lower(), token): price for chain, collection, token, price in detail.listings}
    lines = []
    for token in detail.tokens:
        line = f"#{token.token_id} in {detail.collection_name(token.collection)} on chain {token.chain_id}"
        price = listed.get((token.chain_id, token.collection.lower(), token.token_id))
        if price is not None:
            line += f" · listed at {_format_eth(price)}"
        lines.append(line)
    for chain, collection, price in detail.lazy_listings:
        lines.append(f"Lazily listed in {detail.collection_name(collection)} on chain {chain} at "
                     f"{_format_eth(price)}: the buyer mints it")
    return lines


def lazy_listings_of(library: Library, work_id: int) -> tuple[tuple[int, str, int], ...]:
    """The work's lazy listings a buyer can still redeem, as the library last read the market."""
    if not library.has_table("market_vouchers"):
        return ()
    from studio.library.market import ACTIVE, MarketStore

    return tuple((v.chain_id, v.collection, v.price_wei) for v in MarketStore(library).vouchers_of_work(work_id)
                 if v.status == ACTIVE and not v.expired())


def read_detail(library: Library, work: Work) -> WorkDetail:
    """What the detail pane shows of ``work``, as the library holds it (an unreadable stored
    manifest is logged and shown as none)."""
    manifest = None
    manifest_json = library.work_manifest(work.id)
    if manifest_json:
        from studio.provenance.manifest import SignedManifest

        try:
            manifest = SignedManifest.from_json(manifest_json).manifest
        except StudioError as exc:
            log.info("The stored manifest of work %s is unreadable: %s", work.id, exc)
    tokens = tuple(library.tokens_of_work(work.id))
    lazy = lazy_listings_of(library, work.id)
    names = {c.address.lower(): c.name for c in library.all_collections()}
    named = tuple((address, names[address.lower()]) for address in
                  {t.collection for t in tokens} | {collection for _, collection, _ in lazy}
                  if address.lower() in names)
    from studio.library.market import active_listing_prices

    return WorkDetail(work, manifest, tokens, tuple(active_listing_prices(library, work.id)),
                      Path(work.path).is_file(), lazy, named)


class FileChecks:
    """The slow parts of the detail pane, on the background pool: verifying the work's file and
    reading its preview. The answers for a work no longer shown are dropped (:meth:`forget`)."""

    def __init__(self, background: BackgroundPool, owner: QObject, *, on_verdict: Callable[[str], None],
                 on_preview: Callable[[QImage], None]) -> None:
        self.background = background
        self.owner = owner  # the jobs' parent
        self.on_verdict = on_verdict
        self.on_preview = on_preview
        self._ticket = 0

    def forget(self) -> None:
        """Drop the answers of the checks started so far."""
        self._ticket += 1

    def start(self, work: Work) -> None:
        """Verify ``work``'s file and read its preview; each answer arrives on the GUI thread."""
        ticket, path = self._ticket, Path(work.path)

        def verify(_progress: Callable[[Any], None], _cancel: Any) -> "Verdict":
            from studio.workflows.verify import verify_file

            return verify_file(path)

        def load(_progress: Callable[[Any], None], _cancel: Any) -> QImage:
            from PySide6.QtGui import QImageReader

            reader = QImageReader(work.path)
            size = reader.size()
            if size.isValid() and max(size.width(), size.height()) > PREVIEW_SIZE:
                reader.setScaledSize(size.scaled(PREVIEW_SIZE, PREVIEW_SIZE, Qt.AspectRatioMode.KeepAspectRatio))
            return reader.read()

        checked = FunctionJob(f"Verify {path.name}", verify, self.owner)
        checked.succeeded.connect(lambda verdict: self._verified(ticket, verdict))
        checked.failed.connect(lambda exc: self._verified(ticket, exc))
        self.background.start(checked)
        preview = FunctionJob(f"Preview {path.name}", load, self.owner)
        preview.succeeded.connect(lambda image: self._previewed(ticket, image))
        self.background.start(preview)

    def _verified(self, ticket: int, outcome: Any) -> None:
        if ticket != self._ticket:
            return  # another work was selected since
        if isinstance(outcome, BaseException):
            self.on_verdict(printable(f"Could not check: {error_message(outcome)}"))
        else:
            self.on_verdict(verify_summary(outcome))

    def _previewed(self, ticket: int, image: QImage) -> None:
        if ticket == self._ticket:
            self.on_preview(image)
