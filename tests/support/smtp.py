"""Real SMTP servers on loopback (aiosmtpd) that keep what they receive and can refuse.

Besides the plain one: a server that greylists, one that throttles and one that
rejects a domain, as receiving servers in the real world do.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
from collections import Counter
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.support.infra import free_port


class RecordingHandler:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []  # as received, for checking signatures
        self.lock = threading.Lock()
        # set to e.g. "451 4.3.0 try later" or "550 5.1.1 no such user" to refuse mail
        self.refuse_with: str | None = None
        self.refusals = 0

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        if self.refuse_with:
            self.refusals += 1
            return self.refuse_with
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(msg)  # type: ignore[arg-type]
            self.raw.append(envelope.content)
        return "250 OK"


class GreylistingHandler(RecordingHandler):
    """Refuses every new sender/recipient pair with 451 for `seconds` after first seeing it."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds
        self.first_seen: dict[tuple[str, str], float] = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        pair = (envelope.mail_from, address)
        first = self.first_seen.setdefault(pair, time.monotonic())
        if time.monotonic() - first < self.seconds:
            self.refusals += 1
            return "451 4.7.1 Greylisted, please try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


class ThrottlingHandler(RecordingHandler):
    """Takes `per_connection` mails per connection, then answers 421 and closes; and refuses
    the first try of every `nth` mail at the end of DATA with 451 "too many" (as a server
    counting mails per minute would, but the same in every run).

    A mail refused after DATA was seen whole, so `attempted` counts the Message-IDs of
    every try: the retried mail must arrive under the same one.
    """

    def __init__(self, per_connection: int, nth: int) -> None:
        super().__init__()
        self.per_connection = per_connection
        self.nth = nth
        self.on_connection: Counter[int] = Counter()
        self.attempted: Counter[str] = Counter()
        self.closed = 0

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # type: ignore[no-untyped-def]
        if self.on_connection[id(session)] >= self.per_connection:
            self.closed += 1
            asyncio.get_running_loop().call_soon(server.transport.close)
            return "421 4.7.0 Too many messages on one connection, closing"
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        message_id = str(msg["Message-ID"])
        with self.lock:
            self.attempted[message_id] += 1
            first_try = self.attempted[message_id] == 1
            if first_try and len(self.attempted) % self.nth == 0:
                self.refusals += 1
                return "451 4.7.1 Too many messages, slow down"
        self.on_connection[id(session)] += 1
        return await super().handle_DATA(server, session, envelope)


class RejectingHandler(RecordingHandler):
    """Refuses every recipient of a domain for good (550)."""

    def __init__(self, domain: str) -> None:
        super().__init__()
        self.domain = domain

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if address.lower().endswith("@" + self.domain):
            self.refusals += 1
            return "550 5.7.1 Mail for this domain is not accepted here"
        envelope.rcpt_tos.append(address)
        return "250 OK"


class SmtpServer:
    def __init__(self, handler: RecordingHandler | None = None) -> None:
        self.handler = handler or RecordingHandler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[EmailMessage]:
        with self.handler.lock:
            return list(self.handler.messages)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()
