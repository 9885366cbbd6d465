"""What the Wallet tab's view-model needs, in one object: wallet, current network, balances, sending.

Every method that touches a node or runs scrypt is slow: the view-model calls it through a
worker with a `progress` callback and a cancel token. Validation that needs no node (locked
wallet, bad address, negative amount) happens first, so a worker is never queued for a request
that cannot succeed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from studio.cancel import Cancellable, ProgressCallback
from studio.chain.history import HistoryEntry, TxHistory
from studio.chain.networks import Network, NetworkRegistry, connect
from studio.chain.sender import GasSettings, PreparedTx, SentTx, TxSender
from studio.chain.transactions import MessagePreview, TxReceipt, message_preview
from studio.chain.wallet import Wallet
from studio.errors import Cancelled, ChainError, InputError, StudioError, WalletLocked


@dataclass(frozen=True)
class NetworkStatus:
    """The network switcher's line: connected or not, and whether the chain id matches."""

    network: Network
    connected: bool
    reported_chain_id: int | None
    block_number: int | None
    problem: str | None  # a message for people when not usable

    @property
    def usable(self) -> bool:
        return self.connected and self.problem is None


@dataclass(frozen=True)
class Recipient:
    """Where a send goes: the address, and what the person typed it as (an account's name, a saved
    name, an ENS name), for the preview; `label` is empty for a bare address nobody named."""

    address: str
    label: str = ""
    ens: bool = False


@dataclass(frozen=True)
class AccountBalance:
    address: str
    name: str
    path: str | None
    balance_wei: int | None  # None when the node could not be asked


class WalletSession:
    """The wallet and the selected network for one window (or one script)."""

    def __init__(self, wallet: Wallet, registry: NetworkRegistry, history: TxHistory, *,
                 network_key: str = "devnet") -> None:
        self.wallet = wallet
        self.registry = registry
        self.history = history
        self.network = registry.get(network_key)
        self._connection: Any = None

    @classmethod
    def default(cls) -> "WalletSession":
        from studio.config import load_config

        key = load_config().values.get("network", "devnet")
        registry = NetworkRegistry.default()
        try:
            registry.get(key)
        except StudioError:
            key = "devnet"
        return cls(Wallet.default(), registry, TxHistory.default(), network_key=key)

    # ---- network
    def switch_network(self, key: str) -> Network:
        """Select another network (no node contact: call `network_status` next, off the GUI thread)."""
        self.network = self.registry.get(key)
        self._connection = None
        return self.network

    def connection(self) -> Any:
        if self._connection is None:
            self._connection = connect(self.network)
        return self._connection

    def network_status(self) -> NetworkStatus:
        """Connect and compare chain ids; never raises for a node that is down (the status says so)."""
        from studio.chain.networks import check_chain_id

        try:
            connection = self.connection()
            reported = connection.reported_chain_id()
            block = connection.block_number()
        except StudioError as exc:
            self._connection = None
            return NetworkStatus(self.network, False, None, None, str(exc))
        except Exception as exc:  # web3/requests failures: the node is unreachable
            self._connection = None
            return NetworkStatus(self.network, False, None, None,
                                 f"The node could not be reached ({exc.__class__.__name__}).")
        try:
            check_chain_id(reported, self.network, where=self.network.rpc_url)
        except StudioError as exc:
            return NetworkStatus(self.network, True, reported, block, str(exc))
        return NetworkStatus(self.network, True, reported, block, None)

    def known_contracts(self) -> dict[str, str]:
        if self.network.embedded:
            from studio.chain.devnet import Devnet

            return Devnet.shared().known_contracts()
        return {}

    # ---- accounts
    def balances(self, progress: ProgressCallback | None = None,
                 cancel: Cancellable | None = None) -> list[AccountBalance]:
        """Every account with its balance on the current network (None where the node failed)."""
        accounts = self.wallet.accounts()
        rows = []
        connection = self.connection()
        for index, account in enumerate(accounts):
            if cancel is not None and cancel.cancelled:
                raise Cancelled()
            try:
                balance: int | None = connection.balance(account.address)
            except StudioError:
                balance = None
            rows.append(AccountBalance(account.address, account.name, account.path, balance))
            if progress:
                progress((index + 1) / max(1, len(accounts)), f"Balance of {account.name}")
        return rows

    def fund_from_devnet(self, account: str, amount_wei: int | None = None) -> tuple[str, TxReceipt]:
        """Give a wallet account devnet ETH from the devnet's test accounts (the built-in devnet
        only); returns (the paying test account, the receipt)."""
        from studio.chain.devnet import FUNDING_WEI, fund_from_test_accounts

        if not self.network.embedded:
            raise InputError(f"{self.network.name} is not the built-in devnet: its test accounts cannot pay here.",
                             hint="Switch to the devnet, or use the network's faucet.")
        address = self.wallet.account(account).address
        return fund_from_test_accounts(self.connection(), address, FUNDING_WEI if amount_wei is None else amount_wei)

    # ---- sending
    def sender(self, account: str | None = None) -> TxSender:
        """A sender for an account on the current network (the wallet must be unlocked)."""
        if not self.wallet.is_unlocked:
            raise WalletLocked("The wallet is locked.", hint="Unlock it to send or sign.")
        return TxSender.for_signer(self.connection(), self.wallet.signer(account), self.network, self.history)

    def contract_signer(self, account: str | None = None):
        """The signer to pass to contract wrappers (mint, list, buy): refuses other chains."""
        from studio.chain.sender import NetworkSigner

        if not self.wallet.is_unlocked:
            raise WalletLocked("The wallet is locked.", hint="Unlock it to sign.")
        return NetworkSigner(self.wallet.signer(account), self.network, self.history)

    def validate_send(self, to: str, value_wei: int) -> None:
        """Checks that need no node, run on the GUI thread before a worker starts."""
        from studio.chain.contracts import checksum

        if not self.wallet.is_unlocked:
            raise WalletLocked("The wallet is locked.", hint="Unlock it to send.")
        if value_wei < 0:
            raise InputError("An amount cannot be negative.")
        checksum(to, "recipient")

    # ---- recipients: addresses, the wallet's accounts, saved names, ENS names
    def recipient_here(self, text: str, contacts: Any = None) -> Recipient | None:
        """The recipient when it needs no node: a 0x address, one of the wallet's account names, a
        name saved in the address book (``contacts``: an object with ``by_name``/``by_address``).
        None for an ENS name (see `resolve_recipient`); InputError for anything else, and for an
        ENS name on a network without ENS."""
        from studio.chain.contracts import checksum
        from studio.chain.ens import check_ens_network, looks_like_name

        text = text.strip()
        if not text:
            raise InputError("Enter the recipient: an 0x address, one of your accounts, a saved name or an ENS name.")
        accounts = self.wallet.accounts()
        if text.lower().startswith("0x"):
            address = checksum(text, "recipient")
            own = next((a for a in accounts if a.address.lower() == address.lower()), None)
            saved = contacts.by_address(address) if contacts is not None else None
            return Recipient(address, f"{own.name}, your account" if own else saved.name if saved else "")
        own = next((a for a in accounts if a.name.strip().lower() == text.lower()), None)
        if own is not None:
            return Recipient(own.address, f"{own.name}, your account")
        saved = contacts.by_name(text) if contacts is not None else None
        if saved is not None:
            return Recipient(saved.address, saved.name)
        if looks_like_name(text):
            check_ens_network(self.network)
            return None
        raise InputError(f"“{text[:60]}” is not an address, one of your accounts, or a name in your address book.",
                         hint="Paste an 0x address, pick a name from the list, or type an ENS name (alice.eth).")

    def resolve_recipient(self, text: str, contacts: Any = None) -> Recipient:
        """`recipient_here`, with ENS names resolved through the node (off the GUI thread)."""
        from studio.chain.ens import normalize, resolve_name

        found = self.recipient_here(text, contacts)
        if found is not None:
            return found
        return Recipient(resolve_name(self.connection(), self.network, text), normalize(text), ens=True)

    def max_sendable(self, to: str, *, account: str | None = None, speed: str = "normal") -> int:
        """The most ``account`` can send to ``to``: its balance less the largest fee the transfer may
        cost (gas limit times the max fee per gas of ``speed``); 0 when the fee alone is more."""
        from studio.chain.fees import estimate_gas, suggest_fees

        address = self.wallet.account(account).address
        connection = self.connection()
        balance = connection.balance(address)
        gas = 21_000
        if connection.code_at(to):  # a contract may need more than a plain transfer
            gas = estimate_gas(connection, {"from": address, "to": to, "value": 0}, action="Estimating the send")
        fee = suggest_fees(connection).level(speed).max_fee_per_gas * gas
        return max(0, balance - fee)

    def prepare_send(self, to: str, value_wei: int, *, account: str | None = None, speed: str = "normal",
                     progress: ProgressCallback | None = None, label: str = "") -> PreparedTx:
        """Simulate and estimate; the result's preview is what the dialog shows (``label``: what the
        recipient was typed as, shown beside its address)."""
        self.validate_send(to, value_wei)
        sender = self.sender(account)
        if progress:
            progress(0.1, "Reading the balance")
        balance = self.connection().balance(sender.signer.address)
        if value_wei > balance:  # said plainly, before the node's own wording of the same refusal
            currency = self.network.currency
            raise ChainError(f"The amount ({_in_eth(value_wei, currency)}) is more than the account holds "
                             f"({_in_eth(balance, currency)}). Nothing was sent.",
                             hint="Lower the amount, or add funds to the account first.")
        if progress:
            progress(0.2, "Simulating the transaction")
        prepared = sender.prepare(to, value=value_wei, speed=speed, action="Send ETH")
        if label:
            from dataclasses import replace

            prepared = replace(prepared, preview=replace(prepared.preview, to_name=label))
        if progress:
            progress(1.0, "Ready to sign")
        return prepared

    def send(self, prepared: PreparedTx, *, confirmed: bool, account: str | None = None,
             gas: GasSettings | None = None) -> SentTx:
        """Sign and broadcast what the person read (`confirmed` once they accepted a mainnet preview),
        with the advanced ``gas`` they set in the preview (checked against the node first).

        Refused when the network was switched after the preview: the person read another chain's name.
        """
        if prepared.preview.network_key != self.network.key:
            raise InputError(f"The preview was made for {prepared.preview.network}, but the wallet now uses "
                             f"{self.network.name}. Nothing was signed.",
                             hint="Review the transaction again on the network you want.")
        sender = self.sender(account or prepared.preview.sender)
        if gas is not None:
            prepared = sender.with_gas(prepared, gas)
        return sender.send(prepared, confirmed=confirmed)

    def wait(self, sent: SentTx, *, timeout: float = 120.0, cancel: Cancellable | None = None) -> TxReceipt:
        return self.sender(sent.preview.sender).wait(sent.tx_hash, timeout=timeout, cancel=cancel)

    def history_entries(self, limit: int = 200) -> list[HistoryEntry]:
        return self.history.entries(chain_id=self.network.chain_id, limit=limit)

    # ---- pending transactions
    def _pending_entry(self, tx_hash: str) -> HistoryEntry:
        entry = self.history.get(tx_hash)
        if entry.chain_id != self.network.chain_id:
            raise InputError(f"The transaction {tx_hash} was sent on {entry.network}, not {self.network.name}.",
                             hint="Switch to that network to replace it.")
        return entry

    def speed_up(self, tx_hash: str, *, confirmed: bool = False) -> SentTx:
        """Replace a pending transaction of ours by the same one with higher fees (same nonce)."""
        entry = self._pending_entry(tx_hash)
        return self.sender(entry.sender).speed_up(tx_hash, confirmed=confirmed)

    def cancel_pending(self, tx_hash: str) -> SentTx:
        """Replace a pending transaction of ours by a 0-value transfer to itself (same nonce, higher fees)."""
        entry = self._pending_entry(tx_hash)
        return self.sender(entry.sender).cancel(tx_hash)

    # ---- messages (no node needed)
    def preview_message(self, message: str, account: str | None = None) -> MessagePreview:
        """What the sign-message dialog shows before the signature (the wallet may be locked)."""
        if not message:
            raise InputError("Write the message to sign first.")
        return message_preview(self.wallet.account(account).address, message)

    def sign_message(self, message: str, account: str | None = None) -> str:
        """EIP-191 personal signature of `message`, as 0x-prefixed hex (65 bytes)."""
        if not message:
            raise InputError("Write the message to sign first.")
        if not self.wallet.is_unlocked:
            raise WalletLocked("The wallet is locked.", hint="Unlock it to sign.")
        return "0x" + self.wallet.signer(account).sign_message(message).hex()


def _in_eth(wei: int, currency: str = "ETH") -> str:
    """Wei as a plain ETH amount for error messages (every digit, no float)."""
    from decimal import Decimal, localcontext

    with localcontext() as context:
        context.prec = 100
        text = f"{Decimal(int(wei)) / 10**18:f}"
    return f"{text.rstrip('0').rstrip('.') if '.' in text else text} {currency}"
