"""The Wallet's transfers: who a payment goes to (an address, an account, a name in the address book, an
ENS name), preparing, sending and replacing a transaction, paying a new account from the devnet, and
signing a message. Each checks what needs no node first (locked, recipient, amount), then works in a
background job of the :class:`WalletState` that owns this; a send reads the balances again after.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from studio.errors import InputError, StudioError
from studio.ui.money import format_eth, parse_eth, short_address
from studio.ui.workers import Job

if TYPE_CHECKING:
    from studio.chain.sender import GasSettings, PreparedTx, SentTx
    from studio.chain.transactions import MessagePreview, TxReceipt
    from studio.library.address_book import AddressBook, Contact
    from studio.ui.state.wallet import Report, WalletState

SPEEDS = ("slow", "normal", "fast")


@dataclass(frozen=True)
class SendOutcome:
    """What a finished send reports: the accepted transaction and its receipt."""

    sent: "SentTx"
    receipt: "TxReceipt"


class Transfers:
    """Sending from the wallet of one :class:`WalletState`, its address book and message signatures."""

    def __init__(self, state: "WalletState") -> None:
        self.state = state
        self._address_book: "AddressBook | None" = None

    # -- recipients and the address book ------------------------------------------------

    def address_book(self) -> "AddressBook":
        """The saved names of addresses (in the window's library)."""
        if self._address_book is None:
            from studio.library.address_book import AddressBook

            self._address_book = AddressBook(self.state.ensure_library())
        return self._address_book

    def contacts(self) -> list["Contact"]:
        return self.address_book().contacts()

    def save_contact(self, name: str, address: str) -> "Contact":
        """Save an address under a name (a checksummed address; the name unique)."""
        from studio.chain.contracts import checksum

        contact = self.address_book().save(name, checksum(address.strip(), "address"))
        self.state.flash_notice(f"Saved {contact.address} as “{contact.name}”.")
        return contact

    def remove_contact(self, address: str) -> None:
        self.address_book().remove(address)

    def describe_recipient(self, text: str) -> str:
        """What the Send dialog says under the recipient as it is typed (no node asked): the
        address a name stands for, that an ENS name is resolved on Review, or why it cannot be used."""
        if not text.strip():
            return ""
        try:
            found = self.state.session.recipient_here(text, self.address_book())
        except StudioError as exc:
            return str(exc).split("\n")[0]
        if found is None:
            return f"ENS name: resolved on {self.state.network.name} when you press Review."
        return f"{found.label}: {found.address}" if found.label else "Not in your address book."

    # -- sending ------------------------------------------------------------------------

    def validate_send(self, to: str, amount_text: str) -> int:
        """Checks that need no node (locked, recipient, amount); returns the amount in wei."""
        self.state.require_unlocked("send")
        value = parse_eth(amount_text, self.state.network.currency)
        if value < 0:
            raise InputError("An amount cannot be negative.")
        self.state.session.recipient_here(to, self.address_book())
        return value

    def prepare_send(self, to: str, amount_text: str, *, account: str | None = None,
                     speed: str = "normal") -> Job:
        """Resolve the recipient (an ENS name through the node), simulate and estimate in the
        background; the job's result is a PreparedTx to preview."""
        state = self.state
        value = self.validate_send(to, amount_text)
        if speed not in SPEEDS:
            raise InputError(f"The speed is one of {', '.join(SPEEDS)}.")
        sender = account or state.current_account
        state.account_row(sender)
        state.touch()
        session, book = state.session, self.address_book()

        def work(report: "Report", _cancel: Any) -> "PreparedTx":
            report(0.05, "Finding the recipient")
            recipient = session.resolve_recipient(to, book)
            return session.prepare_send(recipient.address, value, account=sender, speed=speed, progress=report,
                                        label=recipient.label)

        return state.start_job("Preparing the transaction", work)

    def max_amount(self, to: str, *, account: str | None = None, speed: str = "normal") -> Job:
        """The most the account can send to ``to`` (its balance less the largest fee), in wei, read in
        the background; a recipient is needed because a contract may take more gas than a transfer."""
        state = self.state
        state.require_unlocked("send")
        sender = account or state.current_account
        state.account_row(sender)
        session, book = state.session, self.address_book()
        session.recipient_here(to, book)  # a bad recipient is said now

        def work(report: "Report", _cancel: Any) -> int:
            report(0.2, "Reading the balance and the fees")
            return session.max_sendable(session.resolve_recipient(to, book).address, account=sender, speed=speed)

        return state.start_job("Working out the most you can send", work, quiet=True)

    def send(self, prepared: "PreparedTx", *, confirmed: bool, timeout: float = 120.0,
             gas: "GasSettings | None" = None) -> Job:
        """Sign, broadcast and wait for the receipt; the result is a SendOutcome. Refreshes after.
        ``gas``: the advanced gas set in the preview (checked against the node before signing)."""
        state = self.state
        state.require_unlocked("send")
        if prepared.preview.is_mainnet and not confirmed:
            raise InputError("This transaction is on a mainnet and was not confirmed. Nothing was signed.",
                             hint="Tick the confirmation in the preview.")
        state.touch()
        session = state.session

        def work(report: "Report", cancel: Any) -> SendOutcome:
            report(0.1, "Signing and sending")
            sent = session.send(prepared, confirmed=confirmed, gas=gas)
            report(0.5, f"Sent {short_address(sent.tx_hash)}; waiting for it to be mined")
            return SendOutcome(sent, session.wait(sent, timeout=timeout, cancel=cancel))

        job = state.start_job(prepared.preview.action, work)
        job.to(state).ended.connect(state.refresh)
        return job

    def _replace(self, what: str, title: str, work: Any) -> Job:
        """Send a replacement of a pending transaction (same nonce); the history is read again after."""
        state = self.state
        state.require_unlocked(what)
        state.touch()
        job = state.start_job(title, work)
        job.to(state).failed.connect(state.show_failure)
        job.to(state).ended.connect(state.refresh)
        return job

    def speed_up(self, tx_hash: str, *, confirmed: bool = False) -> Job:
        """Resend a pending transaction with higher fees (same nonce)."""
        session = self.state.session
        return self._replace("speed up a transaction", "Speeding up the transaction",
                             lambda _r, _c: session.speed_up(tx_hash, confirmed=confirmed))

    def cancel_pending(self, tx_hash: str) -> Job:
        """Replace a pending transaction by a 0-value transfer to itself."""
        session = self.state.session
        return self._replace("cancel a transaction", "Cancelling the transaction",
                             lambda _r, _c: session.cancel_pending(tx_hash))

    # -- devnet funds ---------------------------------------------------------------------

    @property
    def can_fund_from_devnet(self) -> bool:
        """The built-in devnet's test accounts can pay a new account (nowhere else)."""
        return self.state.network.embedded

    def fund_from_devnet(self, account: str | None = None) -> Job:
        """The devnet's test accounts pay 10 ETH to an account (the current one); no password needed."""
        from studio.chain.devnet import FUNDING_WEI

        state = self.state
        if not self.can_fund_from_devnet:
            raise InputError(f"{state.network.name} is not the built-in devnet: its test accounts cannot pay here.",
                             hint="Switch to the devnet, or use the network's faucet.")
        row = state.account_row(account)
        session, currency = state.session, state.network.currency

        def work(report: "Report", _cancel: Any) -> str:
            report(0.2, f"Asking the devnet's test accounts to pay {row.name}")
            payer, _receipt = session.fund_from_devnet(row.address, FUNDING_WEI)
            return (f"{row.name} received {format_eth(FUNDING_WEI, currency)} from the devnet's test account "
                    f"{short_address(payer)}.")

        job = state.start_job(f"Funding {row.name} from the devnet", work)
        job.to(state).succeeded.connect(lambda message: setattr(state, "notice", str(message)))
        job.to(state).failed.connect(state.show_failure)
        job.to(state).ended.connect(state.refresh)
        return job

    # -- messages -----------------------------------------------------------------------

    def preview_message(self, message: str, account: str | None = None) -> "MessagePreview":
        """What will be signed (no node, no key: fine on the GUI thread)."""
        self.state.require_unlocked("sign")
        return self.state.session.preview_message(message, account or self.state.current_account)

    def sign_message(self, message: str, account: str | None = None) -> Job:
        """EIP-191 signature in the background; the result is 0x hex."""
        self.preview_message(message, account)
        self.state.touch()
        session, who = self.state.session, account or self.state.current_account
        return self.state.start_job("Signing the message", lambda _r, _c: session.sign_message(message, who))
