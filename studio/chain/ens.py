"""ENS names for the Send dialog: ``alice.eth`` to the address its resolver gives, on networks that have ENS.

    address = resolve_name(connection, network, "alice.eth")

The lookup goes through the connection, as ENSIP-1 says: the name is normalised (ENSIP-15) and
hashed (namehash), the ENS registry at its one address names the name's resolver, and the resolver
answers ``addr(node)``. Only Ethereum and its Sepolia and Holesky test networks have the registry;
elsewhere (the embedded devnet, a local node, an L2) a name is refused at once with a message that
says so, before any node is asked. Off-chain names (ENSIP-10 wildcard resolvers, CCIP-read) are
not followed: such a name is reported as having no address.
"""
from __future__ import annotations

from typing import Any

from studio.errors import InputError, NotFound

#: The ENS registry (with fallback), deployed at the same address on each network that has ENS.
ENS_REGISTRY = "0x00000000000C2E074eC69A0dFb2997BA6C7d2e1e"
#: Chain ids with the ENS registry: Ethereum, Sepolia, Holesky.
ENS_CHAINS = frozenset({1, 11155111, 17000})
RESOLVER_SELECTOR = "0x0178b8bf"  # resolver(bytes32)
ADDR_SELECTOR = "0x3b3b57de"      # addr(bytes32)
ZERO = "0x" + "0" * 40


def looks_like_name(text: str) -> bool:
    """Whether what was typed is meant as an ENS name (``alice.eth``) rather than an address or a saved name."""
    text = text.strip()
    return "." in text and not text.startswith(".") and not text.endswith(".") and " " not in text \
        and not text.lower().startswith("0x")


def has_ens(chain_id: int) -> bool:
    return int(chain_id) in ENS_CHAINS


def check_ens_network(network: Any) -> None:
    """Refuse a name on a network without ENS (no node asked): the devnet, a local node, an L2."""
    if not has_ens(network.chain_id):
        where = "The studio devnet" if getattr(network, "embedded", False) else network.name
        raise InputError(f"{where} has no ENS: names like alice.eth cannot be resolved there.",
                         hint="Paste the recipient's 0x address, or pick one of your accounts or a saved name.")


def namehash(name: str) -> str:
    """The ENSIP-1 namehash of a name (normalised first), as 0x-hex."""
    from eth_utils import keccak

    node = b"\0" * 32
    normal = normalize(name)
    if normal:
        for label in reversed(normal.split(".")):
            node = keccak(node + keccak(label.encode("utf-8")))
    return "0x" + node.hex()


def normalize(name: str) -> str:
    """The name as ENSIP-15 normalises it; InputError when it is not a valid name.

    ASCII names (the great majority) are normalised here exactly as ENSIP-15 does for ASCII: lower
    case; letters, digits, "-", "$" and a leading "_"; no "--" in the third and fourth places. Other
    names go through web3's ENSIP-15 normaliser."""
    text = name.strip()
    if not text:
        raise InputError("Enter an ENS name, for example alice.eth.")
    if text.isascii():
        labels = text.lower().split(".")
        for label in labels:
            if not label:
                raise InputError(f"“{text[:80]}” is not a valid ENS name: it has an empty part between dots.")
            body = label.lstrip("_")
            if not all(c.isalnum() or c in "-$" for c in body):
                raise InputError(f"“{text[:80]}” is not a valid ENS name: only letters, digits, “-”, “$” and a "
                                 "leading “_” may appear in an ASCII name.")
            if len(label) >= 4 and label[2:4] == "--":
                raise InputError(f"“{text[:80]}” is not a valid ENS name: “--” may not be its 3rd and 4th characters.")
        return ".".join(labels)
    try:
        from ens.utils import normalize_name

        return str(normalize_name(text))
    except Exception as exc:  # the normaliser's own error classes say what is wrong with the name
        raise InputError(f"“{text[:80]}” is not a valid ENS name ({exc}).",
                         hint="Check the name, or paste the 0x address.") from exc


def resolve_name(connection: Any, network: Any, name: str) -> str:
    """The checksummed address ``name`` resolves to on ``network`` (through ``connection``).

    InputError on a network without ENS or for a malformed name; NotFound when the name has no
    resolver or its resolver gives no address."""
    from studio.chain.contracts import checksum

    check_ens_network(network)
    node = namehash(name)
    resolver = _address_call(connection, ENS_REGISTRY, RESOLVER_SELECTOR + node[2:], "Asking ENS for the resolver")
    if resolver == ZERO:
        raise NotFound(f"{normalize(name)} is not registered in ENS on {network.name} (it has no resolver).",
                       hint="Check the spelling, or paste the 0x address.")
    address = _address_call(connection, resolver, ADDR_SELECTOR + node[2:], f"Asking {normalize(name)}'s resolver")
    if address == ZERO:
        raise NotFound(f"{normalize(name)} has no Ethereum address set in ENS on {network.name}.",
                       hint="Ask its owner for an address, or paste the 0x address.")
    return checksum(address)


def _address_call(connection: Any, to: str, data: str, action: str) -> str:
    from studio.chain.transactions import translated

    answer = bytes(translated(lambda: connection.web3.eth.call({"to": to, "data": data}), action))
    if len(answer) < 32:
        return ZERO
    return "0x" + answer[12:32].hex()
