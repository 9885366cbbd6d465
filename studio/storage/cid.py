"""Content identifiers (CIDs) as IPFS writes them: multihash, multibase, CIDv0 and CIDv1.

This is the one module of the studio that names content by CID. The chain layer's commitments
(sha2-256 digests of CIDv1 raw or dag-pb) are made from these CIDs by a workflow
(``studio.workflows.publish``), so the contracts and storage always agree.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from studio.errors import InputError

RAW = 0x55
DAG_PB = 0x70
SHA2_256 = 0x12
SHA2_256_LENGTH = 32

_B58_ALPHABET = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {char: index for index, char in enumerate(_B58_ALPHABET)}


def varint(value: int) -> bytes:
    """Unsigned LEB128, the varint of multiformats and protobuf."""
    if value < 0:
        raise ValueError("varints are unsigned")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def read_varint(data: bytes | memoryview, offset: int = 0) -> tuple[int, int]:
    """Decode a varint at ``offset``; returns (value, offset after it)."""
    value = shift = 0
    while True:
        if offset >= len(data) or shift > 63:
            raise InputError("A varint is cut short or too long.", hint="The data is damaged.")
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, offset
        shift += 7


def base32_encode(data: bytes) -> str:
    """RFC 4648 base32, lower case, no padding (multibase ``b`` without the prefix)."""
    return base64.b32encode(data).decode("ascii").lower().rstrip("=")


def base32_decode(text: str) -> bytes:
    padded = text.upper() + "=" * (-len(text) % 8)
    try:
        return base64.b32decode(padded)
    except (ValueError, binascii.Error) as exc:
        raise InputError(f"{text!r} is not base32.") from exc


def base58btc_encode(data: bytes) -> str:
    """Bitcoin's base58 (multibase ``z`` without the prefix; CIDv0 is written in it)."""
    zeros = len(data) - len(data.lstrip(b"\0"))
    number = int.from_bytes(data, "big")
    out = bytearray()
    while number:
        number, rest = divmod(number, 58)
        out.append(_B58_ALPHABET[rest])
    return (b"1" * zeros + bytes(reversed(out))).decode("ascii")


def base58btc_decode(text: str) -> bytes:
    number = 0
    for char in text.encode("ascii", "replace"):
        if char not in _B58_INDEX:
            raise InputError(f"{text!r} is not base58btc.")
        number = number * 58 + _B58_INDEX[char]
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def multibase_encode(data: bytes, base: str = "base32") -> str:
    """Prefix-tagged text form of bytes: ``base32`` (``b…``) or ``base58btc`` (``z…``)."""
    if base == "base32":
        return "b" + base32_encode(data)
    if base == "base58btc":
        return "z" + base58btc_encode(data)
    raise InputError(f"Unsupported multibase {base!r}; use base32 or base58btc.")


def multibase_decode(text: str) -> bytes:
    if not text:
        raise InputError("An empty string is not multibase.")
    prefix, body = text[0], text[1:]
    if prefix == "b":
        return base32_decode(body)
    if prefix == "B":
        return base32_decode(body.lower())
    if prefix == "z":
        return base58btc_decode(body)
    raise InputError(f"Unsupported multibase prefix {prefix!r} in {text[:16]!r}.",
                     hint="The studio reads base32 (b…) and base58btc (z…) CIDs.")


def multihash_sha256(data: bytes) -> bytes:
    """The sha2-256 multihash of ``data`` (code 0x12, length 32, digest)."""
    return bytes((SHA2_256, SHA2_256_LENGTH)) + hashlib.sha256(data).digest()


@dataclass(frozen=True)
class Cid:
    """A CID: version, content codec (raw or dag-pb) and sha2-256 multihash.

    ``str(cid)`` is the form IPFS prints: base58btc for CIDv0 (``Qm…``), base32 for CIDv1.
    """

    version: int
    codec: int
    multihash: bytes

    def __post_init__(self) -> None:
        if self.version not in (0, 1):
            raise InputError(f"CID version {self.version} is not supported (0 or 1).")
        if self.version == 0 and self.codec != DAG_PB:
            raise InputError("A CIDv0 always names a dag-pb block.")
        if self.codec not in (RAW, DAG_PB):
            raise InputError(f"CID codec 0x{self.codec:x} is not supported (raw or dag-pb).",
                             hint="The studio handles files and folders made by `ipfs add`.")
        if len(self.multihash) != 34 or self.multihash[0] != SHA2_256 or self.multihash[1] != 32:
            raise InputError("Only sha2-256 multihashes are supported.")

    @classmethod
    def of_block(cls, block: bytes, *, codec: int = DAG_PB, version: int = 1) -> "Cid":
        """The CID of a block of bytes under ``codec``."""
        return cls(version, codec, multihash_sha256(block))

    @classmethod
    def from_digest(cls, digest: bytes, *, codec: int = RAW, version: int = 1) -> "Cid":
        if len(digest) != SHA2_256_LENGTH:
            raise InputError(f"A sha2-256 digest is 32 bytes, not {len(digest)}.")
        return cls(version, codec, bytes((SHA2_256, SHA2_256_LENGTH)) + digest)

    @classmethod
    def parse(cls, text: str) -> "Cid":
        """Read a CID as printed (``Qm…``, ``bafy…``, ``bafk…``), with a clear error otherwise."""
        text = text.strip()
        if len(text) == 46 and text.startswith("Qm"):
            return cls.from_bytes(base58btc_decode(text))
        try:
            return cls.from_bytes(multibase_decode(text))
        except InputError as exc:
            raise InputError(f"{text[:80]!r} is not a CID.",
                             hint="A CID looks like Qm… (46 characters) or bafy…/bafk….") from exc

    @classmethod
    def from_bytes(cls, data: bytes) -> "Cid":
        if len(data) == 34 and data[0] == SHA2_256:
            return cls(0, DAG_PB, bytes(data))
        version, offset = read_varint(data)
        if version != 1:
            raise InputError(f"CID version {version} is not supported.")
        codec, offset = read_varint(data, offset)
        return cls(1, codec, bytes(data[offset:]))

    @property
    def digest(self) -> bytes:
        """The 32-byte sha2-256 digest, what a contract commitment stores."""
        return self.multihash[2:]

    def to_bytes(self) -> bytes:
        """Binary CID, as dag-pb links and CAR files hold it."""
        if self.version == 0:
            return self.multihash
        return varint(1) + varint(self.codec) + self.multihash

    def to_v1(self) -> "Cid":
        return Cid(1, self.codec, self.multihash)

    def verify(self, block: bytes) -> bool:
        """Whether ``block`` hashes to this CID."""
        return hashlib.sha256(block).digest() == self.digest

    def __str__(self) -> str:
        if self.version == 0:
            return base58btc_encode(self.multihash)
        return multibase_encode(self.to_bytes(), "base32")


def cid_v1_from_digest(digest: bytes, *, codec: int = RAW) -> str:
    """Base32 CIDv1 text of a sha2-256 digest under ``codec`` (raw file or dag-pb node)."""
    return str(Cid.from_digest(digest, codec=codec))


def cid_v1_raw_from_digest(digest: bytes) -> str:
    """``bafkrei…`` CIDv1 (raw codec) of a sha2-256 digest: a file of one block."""
    return cid_v1_from_digest(digest, codec=RAW)


def cid_v1_raw_of(data: bytes) -> str:
    """CIDv1 raw of ``data`` as one block (what ``ipfs add --cid-version=1`` gives up to 256 KiB)."""
    return cid_v1_raw_from_digest(hashlib.sha256(data).digest())
