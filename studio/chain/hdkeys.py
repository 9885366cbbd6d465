"""BIP-39 recovery phrases and BIP-44 derivation on m/44'/60'/0'/0/i (MetaMask's and anvil's accounts)."""
from __future__ import annotations

from studio.errors import InputError

#: The derivation path of account `i`: `ACCOUNT_PATH.format(i)`.
ACCOUNT_PATH = "m/44'/60'/0'/0/{}"
PHRASE_LENGTHS = (12, 15, 18, 21, 24)


def generate_phrase(words: int = 12) -> str:
    """A new random English BIP-39 phrase of 12 or 24 (or 15/18/21) words."""
    from eth_account.hdaccount import Language, Mnemonic

    if words not in PHRASE_LENGTHS:
        raise InputError(f"A recovery phrase has 12 or 24 words, not {words}.")
    return Mnemonic(Language.ENGLISH).generate(words)


def normalize_phrase(phrase: str) -> str:
    """The phrase in canonical form (lowercase, single spaces), checked against the BIP-39 word list
    and its checksum; InputError says what is wrong without repeating the phrase."""
    from eth_account.hdaccount import Language, Mnemonic

    words = phrase.strip().lower().split()
    if len(words) not in PHRASE_LENGTHS:
        raise InputError(f"A recovery phrase has 12 or 24 words; this one has {len(words)}.",
                         hint="Check that every word is there, separated by spaces.")
    mnemonic = Mnemonic(Language.ENGLISH)
    unknown = [i + 1 for i, word in enumerate(words) if word not in mnemonic.wordlist]
    if unknown:
        raise InputError(f"Word {', '.join(map(str, unknown))} of the phrase is not in the BIP-39 English word list.",
                         hint="Check the spelling of those words.")
    canonical = " ".join(words)
    if not mnemonic.is_mnemonic_valid(canonical):
        raise InputError("The phrase's checksum does not match: a word is wrong or the order is changed.",
                         hint="Compare it word by word with your written copy.")
    return canonical


def phrase_seed(phrase: str, passphrase: str = "") -> bytes:
    """The 64-byte BIP-39 seed of a (valid) phrase."""
    from eth_account.hdaccount import seed_from_mnemonic

    return seed_from_mnemonic(normalize_phrase(phrase), passphrase)


def derive_key(seed: bytes, path: str) -> bytes:
    """The private key at a BIP-32 `path` below `seed`."""
    from eth_account.hdaccount import key_from_seed

    return key_from_seed(seed, path)


def address_of(private_key: bytes) -> str:
    """The checksummed address of a private key."""
    from eth_account import Account

    return Account.from_key(private_key).address


def parse_private_key(text: str) -> bytes:
    """A raw private key from hex (with or without 0x); InputError without echoing the text."""
    cleaned = text.strip().lower().removeprefix("0x")
    if len(cleaned) != 64:
        raise InputError(f"A private key is 64 hexadecimal characters; this one has {len(cleaned)}.")
    try:
        key = bytes.fromhex(cleaned)
    except ValueError as exc:
        raise InputError("A private key holds only hexadecimal characters (0-9, a-f).") from exc
    order = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    if not 0 < int.from_bytes(key, "big") < order:
        raise InputError("This is not a valid secp256k1 private key (zero or too large).")
    return key
