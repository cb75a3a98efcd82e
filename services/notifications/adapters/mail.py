"""The mail port: an abstract transport, the real SMTP adapter, an .eml file adapter, a fake.

A contract test (tests/integration/test_mail_transports.py) runs the same checks
against every adapter.
"""

from __future__ import annotations

import abc
import email
import email.policy
import re
import smtplib
import ssl
import threading
import uuid
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse


class MailError(Exception):
    pass


class TemporaryMailFailure(MailError):
    """Worth trying again later (4xx, connection refused, timeout)."""


class ServerBusy(TemporaryMailFailure):
    """The receiving server wants fewer mails now or cannot be reached (421, 451 "too many",
    refused or dropped connections): every mail to its domain waits, none of them fails."""


class PermanentMailFailure(MailError):
    """Will never work as sent (5xx); `bounce`: the server refuses the recipient's address."""

    def __init__(self, reason: str, bounce: bool = True) -> None:
        super().__init__(reason)
        self.bounce = bounce


# A temporary refusal that asks for less mail (not greylisting, which is about one mail).
_TOO_MANY = re.compile(r"too many|rate|limit|throttl|slow down|try again in|busy", re.IGNORECASE)


def refusal(code: int, text: bytes | str, bounce: bool = True) -> MailError:
    """The failure an SMTP reply means, with the reply itself as reason ("550 5.1.1 ...")."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    reason = f"{code} {' '.join(text.split())}"
    if code == 421 or (400 <= code < 500 and _TOO_MANY.search(text)):
        return ServerBusy(reason)
    if 400 <= code < 500:
        return TemporaryMailFailure(reason)
    return PermanentMailFailure(reason, bounce=bounce)


class MailTransport(abc.ABC):
    @abc.abstractmethod
    def send(self, message: EmailMessage) -> None:
        """Hand one message over; raise Temporary/PermanentMailFailure if refused."""

    def send_raw(self, sender: str, recipient: str, data: bytes) -> None:
        """Hand over a message that is already rendered (RFC 5322 bytes, CRLF line ends).

        The fan-out sends this way: rendering with the `email` package's header
        folding cost about 20 ms per mail, which alone would make 20,000 mails
        take minutes.
        """
        self.send(email.message_from_bytes(data, policy=email.policy.default))  # type: ignore[arg-type]

    def close(self) -> None:  # noqa: B027 - optional for transports without connections
        pass


class SmtpTransport(MailTransport):
    """SMTP with connection reuse: one connection for many messages, reopened on failure."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        parsed = urlparse(url)
        if parsed.scheme not in ("smtp", "smtps", "smtp+starttls"):
            raise ValueError("SMTP URL must start with smtp://, smtps:// or smtp+starttls://")
        self.scheme = parsed.scheme
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or (465 if parsed.scheme == "smtps" else 25)
        self.username = unquote(parsed.username) if parsed.username else None
        self.password = unquote(parsed.password) if parsed.password else None
        self.timeout = timeout
        self._conn: smtplib.SMTP | None = None
        self._lock = threading.Lock()

    def _connect(self) -> smtplib.SMTP:
        if self._conn is not None:
            return self._conn
        if self.scheme == "smtps":
            conn: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.scheme == "smtp+starttls":
                conn.starttls(context=ssl.create_default_context())
        if self.username:
            conn.login(self.username, self.password or "")
        self._conn = conn
        return conn

    def send(self, message: EmailMessage) -> None:
        self._deliver(lambda conn: conn.send_message(message))

    def send_raw(self, sender: str, recipient: str, data: bytes) -> None:
        self._deliver(lambda conn: _hand_over(conn, sender, recipient, data))

    def _deliver(self, hand_over: Callable[[smtplib.SMTP], dict[str, Any]]) -> None:
        with self._lock:
            for attempt in (1, 2):
                try:
                    conn = self._connect()
                    refused = hand_over(conn)
                except smtplib.SMTPServerDisconnected as exc:
                    self._drop()
                    if attempt == 2:  # a reused connection may have timed out: try once fresh
                        raise ServerBusy(f"connection closed: {exc}") from exc
                    continue
                except smtplib.SMTPConnectError as exc:  # refused in the greeting: the server
                    self._drop()
                    raise ServerBusy(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
                except smtplib.SMTPRecipientsRefused as exc:
                    code, text = max(exc.recipients.values())  # the worst of the replies
                    raise self._refused(code, text, bounce=True) from exc
                except smtplib.SMTPSenderRefused as exc:  # our sender, not their address
                    raise self._refused(exc.smtp_code, exc.smtp_error, bounce=False) from exc
                except smtplib.SMTPResponseException as exc:
                    raise self._refused(exc.smtp_code, exc.smtp_error, bounce=True) from exc
                except (TimeoutError, OSError, smtplib.SMTPException) as exc:
                    self._drop()
                    raise ServerBusy(f"not reachable: {exc}") from exc
                if refused:
                    code, text = max(refused.values())
                    raise refusal(code, text)
                return

    def _refused(self, code: int, text: bytes | str, bounce: bool) -> MailError:
        if code == 421:  # the server closes this connection
            self._drop()
        else:
            self._reset_or_drop()
        return refusal(code, text, bounce)

    def _reset_or_drop(self) -> None:
        try:
            if self._conn is not None:
                self._conn.rset()
        except Exception:  # noqa: BLE001 - a broken connection is simply dropped
            self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001
                pass

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.quit()
                except Exception:  # noqa: BLE001
                    pass
            self._drop()


# An address that needs no parsing to be put in angle brackets (what the fan-out sends to).
_PLAIN_ADDRESS = re.compile(r'[^\s<>()\[\]\\,;:"@]+@[^\s<>()\[\]\\,;:"@]+')


def _angle_address(address: str) -> str:
    if _PLAIN_ADDRESS.fullmatch(address):
        return f"<{address}>"
    return smtplib.quoteaddr(address)


def _hand_over(conn: smtplib.SMTP, sender: str, recipient: str, data: bytes) -> dict[str, Any]:
    """`conn.sendmail(sender, [recipient], data)` for one recipient, with what it raises.

    smtplib parses both addresses with the `email` package on every mail (about a
    tenth of the sender's CPU in the fan-out); a plain address needs only brackets.
    """
    conn.ehlo_or_helo_if_needed()
    size = f" SIZE={len(data)}" if conn.does_esmtp and conn.has_extn("size") else ""
    code, resp = conn.docmd("MAIL", f"FROM:{_angle_address(sender)}{size}")
    if code != 250:
        _abandon(conn, code)
        raise smtplib.SMTPSenderRefused(code, resp, sender)
    code, resp = conn.docmd("RCPT", f"TO:{_angle_address(recipient)}")
    if code not in (250, 251):
        _abandon(conn, code)
        raise smtplib.SMTPRecipientsRefused({recipient: (code, resp)})
    code, resp = conn.data(data)
    if code != 250:
        _abandon(conn, code)
        raise smtplib.SMTPDataError(code, resp)
    return {}


def _abandon(conn: smtplib.SMTP, code: int) -> None:
    # As smtplib does: 421 means the server closes; otherwise start the next mail afresh.
    if code == 421:
        conn.close()
        return
    try:
        conn.rset()
    except smtplib.SMTPServerDisconnected:
        pass


class FileTransport(MailTransport):
    """Writes each message as an .eml file: the default when no SMTP server is configured."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{uuid.uuid4()}.eml"
        tmp = self.directory / (name + ".tmp")
        tmp.write_bytes(bytes(message))
        tmp.rename(self.directory / name)  # appears whole or not at all

    def send_raw(self, sender: str, recipient: str, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{uuid.uuid4()}.eml"
        tmp = self.directory / (name + ".tmp")
        tmp.write_bytes(data)
        tmp.rename(self.directory / name)


class MemoryTransport(MailTransport):
    """A fake for unit tests: keeps messages in a list; can be told to fail."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []
        self.fail_with: MailError | None = None

    def send(self, message: EmailMessage) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append(message)


def transport_from_settings(smtp_url: str | None, mail_dir: Path) -> MailTransport:
    return SmtpTransport(smtp_url) if smtp_url else FileTransport(mail_dir)
