"""Writing provenance into image files, and reading it back out, for PNG, JPEG and WebP.

A studio PNG carries, in this order: a ``tEXt`` ``parameters`` chunk (A1111's format, so
A1111, Forge and Civitai show the recipe), an ``iTXt`` ``studio:provenance`` chunk (the
signed manifest JSON), an XMP packet (``iTXt`` ``XML:com.adobe.xmp``: IPTC digital source
type ``trainedAlgorithmicMedia``, creator, description) and, last, a C2PA manifest when the
studio has C2PA credentials (any byte written after it would break its hard binding).

JPEG and WebP exports carry the signed manifest inside their XMP packet (``studio:provenance``).
WebP exports are lossless, so their pixels still match the signed pixel hash; a JPEG's pixels
cannot, so its XMP adds an export record (``studio:export``) tying the decoded JPEG pixels to
the signed original: the creator's signature covers the original, not the export.
"""
from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from studio import safejson
from studio.errors import InputError, NotFound
from studio.fileio import atomic_write_bytes
from studio.provenance.manifest import SignedManifest, file_pixel_hash_for
from studio.provenance.png_text import MAX_TEXT_CHUNK, PNG_SIGNATURE, read_text_chunks

PARAMETERS_KEY = "parameters"
PROVENANCE_KEY = "studio:provenance"
XMP_KEY = "XML:com.adobe.xmp"
DIGITAL_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
STUDIO_XMP_NS = "urn:provenance-studio:xmp:1/"
MAX_FILE_BYTES = 512 << 20
EXPORT_FORMATS = {"jpeg": ("JPEG", "image/jpeg", ".jpg"), "webp": ("WEBP", "image/webp", ".webp")}
MIME_BY_FORMAT = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}

_NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/",
    "studio": STUDIO_XMP_NS,
}
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class XmpInfo:
    """The parts of an XMP packet the studio reads."""

    digital_source_type: str | None = None
    creator: str | None = None
    description: str | None = None
    provenance: str | None = None   # the signed manifest JSON, in JPEG/WebP exports
    export: str | None = None       # the export record JSON, in lossy exports
    provenances: tuple[str, ...] = ()  # every studio:provenance value in the packet (a hostile one may repeat it)


@dataclass(frozen=True)
class ExportRecord:
    """Ties a lossy export's decoded pixels to the original the creator signed (not signed itself)."""

    format: str
    quality: int
    pixel_hash: str
    source_pixel_hash: str

    def to_json(self) -> str:
        return json.dumps({"format": self.format, "quality": self.quality, "pixel_hash": self.pixel_hash,
                           "source_pixel_hash": self.source_pixel_hash}, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> "ExportRecord":
        try:
            data = safejson.loads(text, what="The export record")
            record = cls(str(data["format"]), int(data["quality"]), str(data["pixel_hash"]),
                         str(data["source_pixel_hash"]))
        except (InputError, ValueError, TypeError, KeyError) as exc:
            raise InputError(f"The export record in the XMP packet is damaged ({str(exc)[:80]}).") from exc
        return record


@dataclass(frozen=True)
class Embedded:
    """Everything the studio reads from a file's metadata, and what was wrong on the way."""

    format: str                                   # "PNG", "JPEG", "WEBP" or Pillow's name
    mime: str | None
    text: dict[str, str]                          # PNG text chunks (empty for other formats)
    provenance_json: str | None                   # the signed manifest JSON, from iTXt or XMP
    xmp: XmpInfo | None
    export: ExportRecord | None
    problems: tuple[str, ...]
    may_hold_c2pa: bool = True                    # False only for a PNG without a caBX chunk
    #: every signed-manifest JSON in the file's metadata, in file order, with where it was found
    #: (``provenance_json`` is the first): a verifier must check them all, since other readers
    #: may show any of them
    manifests: tuple["FoundManifest", ...] = ()
    #: places that may hold a manifest but could not be read (a skipped chunk, a broken XMP packet)
    unreadable: tuple[str, ...] = ()


@dataclass(frozen=True)
class FoundManifest:
    """A signed manifest's JSON as found in a file, and where (for messages)."""

    where: str
    text: str


# -- writing ---------------------------------------------------------------------------

def _xml_text(text: str) -> str:
    return escape(_XML_INVALID.sub("", text))


def xmp_packet(signed: SignedManifest, *, include_manifest: bool = False,
               export: ExportRecord | None = None) -> str:
    """An XMP packet naming the image AI-made (IPTC), its creator and prompt.

    JPEG and WebP exports put the signed manifest (and, if lossy, the export record) in it too.
    """
    manifest = signed.manifest
    generator = f"{manifest.generator_name} {manifest.generator_version}"
    parts = [
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>',
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">',
        f'<rdf:RDF xmlns:rdf="{_NS["rdf"]}">',
        f'<rdf:Description rdf:about="" xmlns:dc="{_NS["dc"]}" xmlns:xmp="{_NS["xmp"]}" '
        f'xmlns:Iptc4xmpExt="{_NS["Iptc4xmpExt"]}" xmlns:studio="{STUDIO_XMP_NS}" '
        f'Iptc4xmpExt:DigitalSourceType="{DIGITAL_SOURCE_TYPE}" '
        f'xmp:CreatorTool={quoteattr(_XML_INVALID.sub("", generator))} '
        f'xmp:CreateDate="{manifest.created}">',
    ]
    if manifest.creator:
        parts.append(f"<dc:creator><rdf:Seq><rdf:li>{manifest.creator}</rdf:li></rdf:Seq></dc:creator>")
    parts.append('<dc:description><rdf:Alt><rdf:li xml:lang="x-default">'
                 f"{_xml_text(manifest.prompt)}</rdf:li></rdf:Alt></dc:description>")
    if include_manifest:
        parts.append(f"<studio:provenance>{_xml_text(signed.to_json())}</studio:provenance>")
    if export is not None:
        parts.append(f"<studio:export>{_xml_text(export.to_json())}</studio:export>")
    parts += ["</rdf:Description>", "</rdf:RDF>", "</x:xmpmeta>", '<?xpacket end="w"?>']
    return "".join(parts)


def png_with_provenance(image: Any, signed: SignedManifest, *, parameters: str | None,
                        c2pa_credentials: Any = None) -> bytes:
    """``image`` encoded as PNG with the parameters, manifest and XMP chunks, then C2PA if given."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    if parameters:
        info.add_text(PARAMETERS_KEY, parameters)  # Latin-1 goes to tEXt, anything else to iTXt
    info.add_itxt(PROVENANCE_KEY, signed.to_json())
    info.add_itxt(XMP_KEY, xmp_packet(signed))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info)
    data = buffer.getvalue()
    if c2pa_credentials is not None:
        data = _sign_c2pa(data, "image/png", signed, c2pa_credentials)
    return data


def write_png_with_provenance(image: Any, path: Path, signed: SignedManifest, *, parameters: str | None,
                              c2pa_credentials: Any = None) -> None:
    """Save ``image`` at ``path`` with its full provenance, atomically."""
    atomic_write_bytes(Path(path), png_with_provenance(image, signed, parameters=parameters,
                                                       c2pa_credentials=c2pa_credentials))


def _sign_c2pa(data: bytes, mime: str, signed: SignedManifest, credentials: Any) -> bytes:
    from studio.provenance.c2pa import sign_c2pa

    manifest = signed.manifest
    return sign_c2pa(data, mime, signed.to_dict(), credentials=credentials,
                     title=f"{manifest.prompt[:60] or 'Untitled'} (seed {manifest.seed})")


def export_image(src_png: Path, dest: Path, format: str, *, quality: int = 92,
                 c2pa_credentials: Any = None) -> Path:
    """Export a studio PNG as JPEG or WebP, keeping the XMP packet, the manifest and C2PA.

    WebP is written lossless (the signed pixel hash still matches); JPEG carries an export
    record tying its decoded pixels to the signed original.
    """
    key = format.lower().lstrip(".").replace("jpg", "jpeg")
    if key not in EXPORT_FORMATS:
        raise InputError(f"Cannot export to {format!r}.", hint="Choose jpeg or webp.")
    if not 1 <= quality <= 100:
        raise InputError(f"JPEG quality {quality} is outside 1-100.")
    pil_format, mime, _suffix = EXPORT_FORMATS[key]
    src_png = Path(src_png)
    if not src_png.is_file():
        raise NotFound(f"The file {src_png} does not exist.")
    data = src_png.read_bytes()
    embedded = read_embedded(data, name=src_png.name)
    if embedded.provenance_json is None:
        raise InputError(f"{src_png.name} carries no studio provenance to export.",
                         hint="Export works saved by Provenance Studio.")
    signed = SignedManifest.from_json(embedded.provenance_json)
    image = _decode(data, src_png.name)
    schema = signed.manifest.schema
    if file_pixel_hash_for(schema, data, image, src_png.name) != signed.manifest.pixel_hash:
        # an export (and the C2PA signature this install may add) vouches for the original's pixels
        raise InputError(f"The pixels of {src_png.name} do not match its manifest: the image was changed after it "
                         "was saved, or the manifest belongs to another image, so it cannot be exported with it.",
                         hint=f"Check it with `studio verify {src_png.name}`.")
    if image.mode not in ("RGB", "L") and key == "jpeg":
        image = image.convert("RGB")
    options: dict[str, Any] = {"quality": quality} if key == "jpeg" else {"lossless": True, "quality": 100}
    export: ExportRecord | None = None
    probe = io.BytesIO()  # the pixels a reader will decode do not depend on the XMP written next
    image.save(probe, format=pil_format, **options)
    exported_hash = file_pixel_hash_for(schema, probe.getvalue(), _decode(probe.getvalue(), Path(dest).name))
    if exported_hash != signed.manifest.pixel_hash:
        export = ExportRecord(key, quality, exported_hash, signed.manifest.pixel_hash)
    packet = xmp_packet(signed, include_manifest=True, export=export).encode("utf-8")
    if key == "jpeg" and len(packet) > 65_000:
        raise InputError("This work's provenance is too long for a JPEG's XMP segment (64 KiB).",
                         hint="Export it as WebP instead.")
    buffer = io.BytesIO()
    image.save(buffer, format=pil_format, xmp=packet, **options)
    out = buffer.getvalue()
    if c2pa_credentials is not None:
        out = _sign_c2pa(out, mime, signed, c2pa_credentials)
    atomic_write_bytes(Path(dest), out)
    return Path(dest)


# -- reading ---------------------------------------------------------------------------

def _decode(data: bytes, name: str) -> Any:
    """Decode pixels fully (so that a truncated file fails here), as an InputError if unreadable;
    a header declaring more pixels than ``safeimage.MAX_PIXELS`` is refused before decoding."""
    from studio.safeimage import load_image

    return load_image(data, what=name)


def decode_image(data: bytes, name: str = "the file") -> Any:
    """The decoded image in ``data`` (pixels loaded), or an InputError saying why not."""
    return _decode(data, name)


def parse_xmp(packet: str | bytes) -> XmpInfo:
    """Read the studio's fields from an XMP packet; DTDs and entities are refused, not expanded."""
    from xml.etree import ElementTree

    raw = packet.encode("utf-8") if isinstance(packet, str) else bytes(packet)
    if len(raw) > MAX_TEXT_CHUNK:
        raise InputError(f"The XMP packet is {len(raw):,} bytes; the limit is {MAX_TEXT_CHUNK:,}.")
    if b"<!DOCTYPE" in raw.upper() or b"<!ENTITY" in raw.upper():
        raise InputError("The XMP packet declares a DTD or entities; the studio does not expand them.")
    try:
        root = ElementTree.fromstring(raw)
    except ElementTree.ParseError as exc:
        raise InputError(f"The XMP packet is not well-formed XML ({exc}).") from exc

    def attr_or_element(prefix: str, name: str) -> str | None:
        tag = f"{{{_NS[prefix]}}}{name}"
        for description in root.iter(f"{{{_NS['rdf']}}}Description"):
            if tag in description.attrib:
                return description.attrib[tag]
            element = description.find(tag)
            if element is not None:
                items = [li.text or "" for li in element.iter(f"{{{_NS['rdf']}}}li")]
                return items[0] if items else (element.text or "")
        return None

    def every(prefix: str, name: str) -> tuple[str, ...]:
        tag = f"{{{_NS[prefix]}}}{name}"
        values: list[str] = []
        for element in root.iter():
            if tag in element.attrib:
                values.append(element.attrib[tag])
        values += [element.text or "" for element in root.iter(tag)]
        return tuple(values)

    return XmpInfo(
        digital_source_type=attr_or_element("Iptc4xmpExt", "DigitalSourceType"),
        creator=attr_or_element("dc", "creator"),
        description=attr_or_element("dc", "description"),
        provenance=attr_or_element("studio", "provenance"),
        export=attr_or_element("studio", "export"),
        provenances=every("studio", "provenance"),
    )


def read_embedded(data: bytes, *, name: str = "the file") -> Embedded:
    """The metadata of an image file's bytes, never trusting sizes; unreadable -> InputError.

    Every place a studio manifest can travel is read: each PNG ``studio:provenance`` chunk, and
    each XMP packet (PNG chunks, JPEG APP1 segments, WebP ``XMP `` chunks), however many there are.
    """
    if len(data) > MAX_FILE_BYTES:
        raise InputError(f"{name} is {len(data):,} bytes; the studio reads images up to {MAX_FILE_BYTES:,}.")
    problems: list[str] = []
    text: dict[str, str] = {}
    packets: list[tuple[str, str | bytes]] = []   # (where, XMP packet)
    found: list[FoundManifest] = []
    unreadable: list[str] = []
    may_hold_c2pa = True
    mime: str | None
    if data.startswith(PNG_SIGNATURE):
        chunks = read_text_chunks(data)
        problems.extend(chunks.problems)
        text = dict(chunks.text)
        if PROVENANCE_KEY in text:
            found.append(FoundManifest(f"the PNG text chunk {PROVENANCE_KEY}", text[PROVENANCE_KEY]))
        found += [FoundManifest(f"a repeated PNG text chunk {PROVENANCE_KEY}", value)
                  for key, value in chunks.repeated if key == PROVENANCE_KEY]
        if XMP_KEY in text:
            packets.append(("the PNG's XMP packet", text[XMP_KEY]))
        packets += [("a repeated PNG XMP packet", value) for key, value in chunks.repeated if key == XMP_KEY]
        unreadable += [f"a PNG text chunk {key} that was skipped" for key in chunks.skipped_keys
                       if key in (PROVENANCE_KEY, XMP_KEY)]
        image_format, mime = "PNG", "image/png"
        may_hold_c2pa = "caBX" in chunks.kinds or not chunks.complete
    else:
        image_format = _open_header(data, name, packets, unreadable)
        mime = MIME_BY_FORMAT.get(image_format)
    xmp: XmpInfo | None = None
    export: ExportRecord | None = None
    for where, packet in packets:
        try:
            info = parse_xmp(packet)
        except InputError as exc:
            problems.append(exc.message)
            raw = packet.encode("utf-8", "replace") if isinstance(packet, str) else bytes(packet)
            if STUDIO_XMP_NS.encode() in raw:
                unreadable.append(f"{where}, which names the studio's XMP namespace ({exc.message})")
            continue
        xmp = xmp or info
        found += [FoundManifest(f"{where} (studio:provenance)", value) for value in info.provenances]
    if xmp is not None and xmp.export:
        try:
            export = ExportRecord.from_json(xmp.export)
        except InputError as exc:
            problems.append(exc.message)
    provenance_json = found[0].text if found else None
    return Embedded(image_format, mime, text, provenance_json, xmp, export, tuple(problems), may_hold_c2pa,
                    tuple(found), tuple(unreadable))


_XMP_APP1 = b"http://ns.adobe.com/xap/1.0/\x00"
_XMP_EXTENSION_APP1 = b"http://ns.adobe.com/xmp/extension/\x00"


def _open_header(data: bytes, name: str, packets: list[tuple[str, str | bytes]], unreadable: list[str]) -> str:
    """Read a non-PNG image's header (no pixels decoded; a bomb refused), collecting its XMP packets."""
    from studio.safeimage import open_image

    with open_image(data, what=name, max_bytes=MAX_FILE_BYTES) as image:
        image_format = image.format or "unknown"
        if image_format == "JPEG":
            for marker, body in getattr(image, "applist", []):
                if marker == "APP1" and body.startswith(_XMP_APP1):
                    packets.append(("a JPEG XMP segment", body[len(_XMP_APP1):]))
                elif marker == "APP1" and body.startswith(_XMP_EXTENSION_APP1) \
                        and STUDIO_XMP_NS.encode() in body:
                    unreadable.append("an extended-XMP JPEG segment naming the studio's XMP namespace")
        elif image_format == "WEBP":
            packets += [("a WebP XMP chunk", body) for body in _riff_chunks(data, b"XMP ")]
        elif image.info.get("xmp"):
            packets.append((f"the {image_format} XMP packet", image.info["xmp"]))
    return image_format


def _riff_chunks(data: bytes, fourcc: bytes) -> list[bytes]:
    """The bodies of every ``fourcc`` chunk at the top level of a RIFF (WebP) file."""
    bodies: list[bytes] = []
    offset = 12
    while offset + 8 <= len(data):
        kind, size = data[offset:offset + 4], int.from_bytes(data[offset + 4:offset + 8], "little")
        if kind == fourcc:
            bodies.append(data[offset + 8:offset + 8 + size])
        offset += 8 + size + (size & 1)
    return bodies
