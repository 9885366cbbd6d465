"""``studio wallet``: create, import, list, export, lock, send, wrap, unwrap, sign, history, speed-up, cancel.

The password never travels on the command line: it comes from ``--password-file F``, the
environment variable STUDIO_WALLET_PASSWORD, or a prompt (in that order). Each command is its
own process and unlocks the wallet only for as long as it runs.
"""
from __future__ import annotations

import argparse
import getpass
import json
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

from studio.errors import Cancelled, InputError
from studio.text import printable

_UNITS = {"eth": 10**18, "ether": 10**18, "gwei": 10**9, "wei": 1}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("wallet", help="the built-in wallet: accounts, sending, signing",
                                   description="The studio's wallet. Passwords come from --password-file, "
                                               "the STUDIO_WALLET_PASSWORD environment variable, or a prompt; "
                                               "never from the command line.")
    commands = parser.add_subparsers(dest="wallet_command", metavar="SUBCOMMAND", required=True)

    def password_option(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--password-file", type=Path, metavar="F", help="read the wallet password from this file")

    create = commands.add_parser("create", help="create a wallet with a new recovery phrase")
    create.add_argument("--words", type=int, choices=(12, 24), default=12, help="phrase length (default 12)")
    create.add_argument("--accounts", type=int, default=1, help="accounts to derive (default 1)")
    create.add_argument("--phrase-out", type=Path, metavar="F",
                        help="write the new phrase to this file (owner-only) instead of printing it")
    create.add_argument("--json", action="store_true", help="print the accounts as JSON")
    password_option(create)
    create.set_defaults(func=run_create)

    imp = commands.add_parser("import", help="import a phrase, a private key or a v3 keystore")
    source = imp.add_mutually_exclusive_group(required=True)
    source.add_argument("--phrase-file", type=Path, metavar="F", help="a file holding a 12/24-word phrase")
    source.add_argument("--key-file", type=Path, metavar="F", help="a file holding a hex private key")
    source.add_argument("--keystore", type=Path, metavar="F", help="a v3 keystore JSON (geth, MetaMask)")
    imp.add_argument("--keystore-password-file", type=Path, metavar="F",
                     help="the keystore's own password (default: prompt, or the wallet password)")
    imp.add_argument("--count", type=int, default=1, help="phrase accounts to add (default 1)")
    imp.add_argument("--name", help="name of the imported key's account")
    imp.add_argument("--json", action="store_true", help="print a JSON list of {address, path}")
    password_option(imp)
    imp.set_defaults(func=run_import)

    lst = commands.add_parser("list", help="list the accounts (no password needed)")
    lst.add_argument("--json", action="store_true", help="print a JSON list of {address, path, name}")
    lst.add_argument("--balances", action="store_true", help="also show balances on the network")
    lst.add_argument("--network", help="network key (default: the network chosen in settings, the devnet at first)")
    lst.set_defaults(func=run_list)

    export = commands.add_parser("export", help="export an account as a v3 keystore, or show the phrase")
    export.add_argument("--account", help="address or name of the account to export (default: the first)")
    export.add_argument("--json", action="store_true",
                        help='print {"address", "path"} of the keystore written, or {"phrase"} with --phrase')
    target = export.add_mutually_exclusive_group(required=True)
    target.add_argument("--output", "-o", type=Path, metavar="F", help="write the keystore JSON here")
    target.add_argument("--phrase", action="store_true",
                        help="print the recovery phrase (the one ACCOUNT was made from; default: the first)")
    export.add_argument("--keystore-password-file", type=Path, metavar="F",
                        help="encrypt the keystore with this password (default: the wallet password)")
    password_option(export)
    export.set_defaults(func=run_export)

    lock = commands.add_parser("lock", help="say how the command line keeps the wallet locked")
    lock.add_argument("--json", action="store_true", help='print {"locked": true, "message": ...}')
    lock.set_defaults(func=run_lock)

    send = commands.add_parser("send", help="send ETH (preview first; mainnets need --yes)")
    send.add_argument("to", help="recipient address")
    send.add_argument("amount", help="amount: 0.01 (ETH), 0.01eth, 20gwei or 1000wei")
    _send_options(send)
    send.set_defaults(func=run_send)

    for name, helptext, func in (("wrap", "wrap ETH into WETH, what offers are made in (preview first)", "run_wrap"),
                                 ("unwrap", "unwrap WETH back into ETH (preview first)", "run_unwrap")):
        sub = commands.add_parser(name, help=helptext)
        sub.add_argument("amount", help="amount: 0.5 (ETH), 0.5eth, 20gwei or 1000wei")
        _send_options(sub)
        sub.set_defaults(func=globals()[func])

    for name, helptext, func in (("speed-up", "resend a pending transaction with higher fees", "run_speed_up"),
                                 ("cancel", "replace a pending transaction by an empty one", "run_cancel")):
        sub = commands.add_parser(name, help=helptext)
        sub.add_argument("tx_hash")
        _send_options(sub)
        sub.set_defaults(func=globals()[func])

    sign = commands.add_parser("sign", help="sign a message (EIP-191) or typed data (EIP-712)")
    what = sign.add_mutually_exclusive_group(required=True)
    what.add_argument("--message", help="text to sign (a message is not a secret)")
    what.add_argument("--message-file", type=Path, metavar="F", help="sign this file's text")
    what.add_argument("--typed-data-file", type=Path, metavar="F", help="EIP-712 JSON (domain, types, message)")
    sign.add_argument("--account", help="address or name of the account that signs (default: the first)")
    sign.add_argument("--network", help="network the typed data must be for (default: the devnet)")
    sign.add_argument("--yes", action="store_true", help="sign without asking")
    sign.add_argument("--json", action="store_true")
    password_option(sign)
    sign.set_defaults(func=run_sign)

    history = commands.add_parser("history", help="transactions sent from this studio, newest first")
    history.add_argument("--json", action="store_true")
    history.add_argument("--limit", type=int, default=50)
    history.add_argument("--account", help="only the transactions this account sent (name or address)")
    history.set_defaults(func=run_history)


def _send_options(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--account", help="address or name of the sending account (default: the first)")
    sub.add_argument("--network", help="network key (default: the network chosen in settings, the devnet at first)")
    sub.add_argument("--speed", choices=("slow", "normal", "fast"), default="normal")
    sub.add_argument("--yes", action="store_true", help="confirm without asking (required on mainnets)")
    sub.add_argument("--no-wait", action="store_true", help="print the hash and return without waiting")
    sub.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the receipt")
    sub.add_argument("--json", action="store_true")
    sub.add_argument("--password-file", type=Path, metavar="F", help="read the wallet password from this file")


# ---- passwords and files

def read_password(args: argparse.Namespace, *, new: bool = False, what: str = "Wallet password") -> str:
    """--password-file, then $STUDIO_WALLET_PASSWORD, then a prompt (twice for a new password)."""
    from studio.chain.wallet import password_from_environment, read_secret_file

    path = getattr(args, "password_file", None)
    if path:
        return read_secret_file(path, "password")
    from_env = password_from_environment()
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        raise InputError("The wallet needs a password and there is no terminal to ask for it.",
                         hint="Use --password-file F or set STUDIO_WALLET_PASSWORD.")
    password = getpass.getpass(f"{what}: ")
    if new and getpass.getpass("Repeat it: ") != password:
        raise InputError("The two passwords differ; nothing was changed.")
    return password


def _confirm(question: str, args: argparse.Namespace, *, required: bool) -> None:
    if getattr(args, "yes", False):
        return
    if not sys.stdin.isatty():
        if required:
            raise InputError("This moves real money and was not confirmed.", hint="Review the preview and add --yes.")
        return
    answer = input(f"{question} [y/N] ").strip().lower()
    if answer not in ("y", "yes"):
        raise Cancelled("Nothing was signed.")


def parse_amount(text: str) -> int:
    """An amount in wei from "0.01", "0.01eth", "20gwei" or "1000wei"."""
    cleaned = text.strip().lower().replace("_", "")
    unit = next((u for u in sorted(_UNITS, key=len, reverse=True) if cleaned.endswith(u)), None)
    number = cleaned[: -len(unit)].strip() if unit else cleaned
    try:
        value = Decimal(number) * _UNITS[unit or "eth"]
    except InvalidOperation as exc:
        raise InputError(f"{text!r} is not an amount (examples: 0.01, 20gwei, 1000wei).") from exc
    if value < 0 or value != value.to_integral_value():
        raise InputError(f"{text!r} is not a whole number of wei.")
    return int(value)


def format_eth(wei: int) -> str:
    text = f"{Decimal(wei) / Decimal(10**18):.18f}".rstrip("0").rstrip(".")
    return f"{text} ETH"


def _wallet():
    from studio.chain.wallet import Wallet

    return Wallet.default()


def _print_accounts(accounts, as_json: bool) -> None:
    if as_json:
        print(json.dumps([{"address": a.address, "path": a.path, "name": a.name, "phrase": a.phrase}
                          for a in accounts]))
    else:
        for account in accounts:
            where = f"{account.path} of {account.source}" if account.phrase else account.path or "imported key"
            print(printable(f"{account.address}  {account.name}  ({where})"))


# ---- commands

def run_create(args: argparse.Namespace) -> int:
    from studio.fileio import atomic_write_text

    wallet = _wallet()
    if wallet.exists:
        raise InputError(f"A wallet already exists ({wallet.path}).",
                         hint="Use `studio wallet import` to add accounts to it.")
    password = read_password(args, new=True, what="New wallet password")
    phrase = wallet.create(password, words=args.words, accounts=args.accounts)
    if args.phrase_out:
        atomic_write_text(args.phrase_out, phrase + "\n", mode=0o600)
        print(f"The recovery phrase is in {args.phrase_out}. Copy it to paper, then delete the file.",
              file=sys.stderr)
    else:
        print("Your recovery phrase (write it down, keep it offline; anyone who has it owns the funds):",
              file=sys.stderr)
        print(phrase)
    _print_accounts(wallet.accounts(), args.json)
    return 0


def run_import(args: argparse.Namespace) -> int:
    from studio.chain.wallet import read_secret_file

    wallet = _wallet()
    password = read_password(args, new=not wallet.exists,
                             what="Wallet password" if wallet.exists else "New wallet password")
    if args.phrase_file:
        added = wallet.import_phrase(read_secret_file(args.phrase_file, "phrase"), password, count=args.count)
    elif args.key_file:
        added = [wallet.import_private_key(read_secret_file(args.key_file, "key"), password, name=args.name)]
    else:
        keystore_text = _read_text(args.keystore)
        if args.keystore_password_file:
            keystore_password = read_secret_file(args.keystore_password_file, "password")
        elif sys.stdin.isatty():
            keystore_password = getpass.getpass("The keystore's own password: ")
        else:
            keystore_password = password
        added = [wallet.import_keystore(keystore_text, keystore_password, password, name=args.name)]
    _print_accounts(added, args.json)
    return 0


def _read_text(path: Path) -> bytes:
    from studio.chain.keystore import read_keystore_file

    return read_keystore_file(path)


def _read_message(path: Path) -> str:
    from studio.fileio import read_text_bounded

    return read_text_bounded(path, 1024 * 1024, what="The message file", regular_only=False)


def run_list(args: argparse.Namespace) -> int:
    wallet = _wallet()
    accounts = wallet.accounts()
    if not args.balances:
        _print_accounts(accounts, args.json)
        if not accounts and not args.json:
            print("No wallet yet: `studio wallet create` or `studio wallet import`.", file=sys.stderr)
        return 0
    from studio.chain.networks import NetworkRegistry, connect

    network = NetworkRegistry.default().selected(args.network)
    connection = connect(network)
    rows = [(a, connection.balance(a.address)) for a in accounts]
    if args.json:
        print(json.dumps([{"address": a.address, "path": a.path, "name": a.name, "balance_wei": str(b),
                           "network": network.key} for a, b in rows]))
    else:
        for account, balance in rows:
            print(printable(f"{account.address}  {account.name}  {format_eth(balance)} on {network.name}"))
    return 0


def run_export(args: argparse.Namespace) -> int:
    from studio.chain.wallet import read_secret_file
    from studio.fileio import atomic_write_text

    wallet = _wallet()
    password = read_password(args)
    if args.phrase:
        phrase = wallet.reveal_phrase(password, account=args.account)  # the account's phrase (the first: none)
        print("Anyone who sees this phrase owns every account made from it:", file=sys.stderr)
        print(json.dumps({"phrase": phrase}) if args.json else phrase)
        return 0
    keystore_password = (read_secret_file(args.keystore_password_file, "password")
                         if args.keystore_password_file else None)
    account = wallet.account(args.account)
    keystore = wallet.export_keystore(account.address, password, keystore_password=keystore_password)
    atomic_write_text(args.output, json.dumps(keystore, indent=2), mode=0o600)
    print(f"Wrote the keystore of 0x{keystore['address']} to {args.output} (owner-only). Anyone with the file "
          "and its password controls the account.", file=sys.stderr)
    if args.json:
        print(json.dumps({"address": account.address, "path": str(args.output)}))
    return 0


LOCK_MESSAGE = ("The command line never keeps the wallet unlocked: each command that signs asks for the password, "
                "holds the keys only while it runs, and forgets them when it exits. There is nothing to lock. "
                "(In the studio window, the Wallet tab's lock button and the idle timer lock it.)")


def run_lock(args: argparse.Namespace) -> int:
    print(json.dumps({"locked": True, "message": LOCK_MESSAGE}) if args.json else LOCK_MESSAGE)
    return 0


def _sender(args: argparse.Namespace):
    from studio.chain.history import TxHistory
    from studio.chain.networks import NetworkRegistry, connect
    from studio.chain.sender import TxSender

    network = NetworkRegistry.default().selected(args.network)
    wallet = _wallet()
    account = wallet.account(args.account)
    connection = connect(network)
    wallet.unlock(read_password(args))
    sender = TxSender.for_signer(connection, wallet.signer(account.address), network, TxHistory.default())
    return wallet, network, sender


def _show_preview(preview) -> None:
    print(f"-- {printable(preview.action)} --", file=sys.stderr)
    for label, text in preview.lines():
        if label in ("Value", "Max fee"):
            text = f"{text}  ({format_eth(preview.value_wei if label == 'Value' else preview.max_fee_wei)})"
        print(printable(f"{label:>10}: {text}"), file=sys.stderr)


def _finish(args: argparse.Namespace, sender, sent) -> int:
    if args.no_wait:
        print(json.dumps({"tx_hash": sent.tx_hash, "nonce": sent.nonce}) if args.json else sent.tx_hash)
        return 0
    receipt = sender.wait(sent.tx_hash, timeout=args.timeout)
    if args.json:
        print(json.dumps({"tx_hash": receipt.tx_hash, "nonce": sent.nonce, "block": receipt.block_number,
                          "gas_used": receipt.gas_used, "fee_wei": str(receipt.fee_wei)}))
    else:
        print(f"{receipt.tx_hash} confirmed in block {receipt.block_number} (fee {format_eth(receipt.fee_wei)})")
    return 0


def _send_prepared(args: argparse.Namespace, sender, prepared) -> int:
    """Show the preview, ask (where the network wants it), sign, send and wait: `send`, `wrap` and `unwrap`."""
    _show_preview(prepared.preview)
    _confirm("Sign and send?", args, required=prepared.preview.requires_confirmation)
    return _finish(args, sender, sender.send(prepared, confirmed=True))


def run_send(args: argparse.Namespace) -> int:
    wallet, network, sender = _sender(args)
    try:
        prepared = sender.prepare(args.to, value=parse_amount(args.amount), speed=args.speed, action="Send ETH")
        return _send_prepared(args, sender, prepared)
    finally:
        wallet.lock()


def run_wrap(args: argparse.Namespace) -> int:
    return _weth_command(args, unwrap=False)


def run_unwrap(args: argparse.Namespace) -> int:
    return _weth_command(args, unwrap=True)


def _weth_command(args: argparse.Namespace, *, unwrap: bool) -> int:
    """ETH -> WETH (or back) through the one preview, like `send`."""
    from studio.errors import NotFound
    from studio.workflows.weth import unwrap_request, weth_venue, wrap_request

    amount = parse_amount(args.amount)
    wallet, network, sender = _sender(args)
    try:
        venue = weth_venue(network, sender.connection)
        if venue is None:
            raise NotFound(f"{network.name} has no WETH the studio knows: there is nothing to "
                           f"{'unwrap' if unwrap else 'wrap'} into here.",
                           hint="Choose a network with WETH (the devnet, Ethereum, Base, Sepolia …) with --network.")
        account = sender.signer.address
        request = (unwrap_request(sender.connection, venue, account, amount) if unwrap else
                   wrap_request(sender.connection, venue, account, amount, speed=args.speed,
                                currency=network.currency))
        return _send_prepared(args, sender, sender.prepare_request(request, speed=args.speed))
    finally:
        wallet.lock()


def run_speed_up(args: argparse.Namespace) -> int:
    wallet, network, sender = _sender(args)
    try:
        _confirm(f"Replace {args.tx_hash} with higher fees?", args, required=network.requires_confirmation)
        sent = sender.speed_up(args.tx_hash, confirmed=True)
        _show_preview(sent.preview)
        return _finish(args, sender, sent)
    finally:
        wallet.lock()


def run_cancel(args: argparse.Namespace) -> int:
    wallet, network, sender = _sender(args)
    try:
        _confirm(f"Cancel {args.tx_hash} by replacing it?", args, required=False)
        sent = sender.cancel(args.tx_hash)
        _show_preview(sent.preview)
        return _finish(args, sender, sent)
    finally:
        wallet.lock()


def run_sign(args: argparse.Namespace) -> int:
    from studio.chain.networks import NetworkRegistry
    from studio.chain.sender import NetworkSigner
    from studio.chain.transactions import message_preview, typed_data_preview

    network = NetworkRegistry.default().selected(args.network)
    wallet = _wallet()
    account = wallet.account(args.account)
    typed = None
    if args.typed_data_file:
        from studio import safejson

        try:
            typed = safejson.load_file(args.typed_data_file, what=f"The typed-data file {args.typed_data_file.name}",
                                       max_bytes=1024 * 1024)
        except InputError as exc:
            raise InputError(f"{args.typed_data_file} is not readable EIP-712 JSON ({exc.message}).") from exc
        message = ""
    else:
        message = args.message if args.message is not None else _read_message(args.message_file)
    preview = typed_data_preview(account.address, typed) if typed else message_preview(account.address, message)
    print(f"-- Sign {preview.kind} as {account.address} --", file=sys.stderr)
    if preview.text is not None:  # its lines as lines; escapes, CRs and bidi overrides shown, not obeyed
        print(printable(preview.text, multiline=True), file=sys.stderr)
    for label, value in (("domain", preview.domain), (preview.primary_type or "message", preview.fields)):
        for key, text in value:
            print(printable(f"  {label}.{key}: {text}"), file=sys.stderr)
    _confirm("Sign?", args, required=False)
    wallet.unlock(read_password(args))
    try:
        signer = NetworkSigner(wallet.signer(account.address), network)
        signature = signer.sign_typed_data(typed) if typed else signer.sign_message(message)
    finally:
        wallet.lock()
    result = "0x" + signature.hex()
    print(json.dumps({"address": account.address, "signature": result}) if args.json else result)
    return 0


def run_history(args: argparse.Namespace) -> int:
    from studio.chain.history import TxHistory

    sender = _wallet().account(args.account).address if args.account else None
    entries = TxHistory.default().entries(sender=sender, limit=args.limit)
    if args.json:
        print(json.dumps([{"tx_hash": e.tx_hash, "network": e.network, "from": e.sender, "to": e.recipient,
                           "nonce": e.nonce, "value_wei": str(e.value_wei), "status": e.status,
                           "description": e.description, "replaced_by": e.replaced_by} for e in entries]))
    else:
        for e in entries:
            print(printable(f"{e.tx_hash}  {e.status:<9}  {e.network:<12} nonce {e.nonce:<4} {e.description}  "
                            f"{format_eth(e.value_wei)}"))
    return 0
