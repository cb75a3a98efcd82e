"""One contract for every mail transport: the real SMTP adapter, the .eml writer and the fake."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from services.notifications.adapters.mail import (
    FileTransport,
    MailTransport,
    MemoryTransport,
    PermanentMailFailure,
    SmtpTransport,
    TemporaryMailFailure,
)
from tests.support.infra import free_port
from tests.support.smtp import SmtpServer


def message(to: str = "ziel@example.org") -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = "Grüße aus Bad Berleburg"
    msg["From"] = "Bürgerbeteiligung <b@example.org>"
    msg["To"] = to
    msg.set_content("Umlaute: äöüß", charset="utf-8")
    return msg


@pytest.fixture(params=["smtp", "file", "memory"])
def transport_and_inbox(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[MailTransport, Callable[[], list[EmailMessage]]]]:
    if request.param == "smtp":
        server = SmtpServer().start()
        transport = SmtpTransport(server.url)
        yield transport, lambda: server.messages
        transport.close()
        server.stop()
    elif request.param == "file":
        def read() -> list[EmailMessage]:
            return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
                    for p in sorted((tmp_path / "mail").glob("*.eml"))]
        yield FileTransport(tmp_path / "mail"), read
    else:
        fake = MemoryTransport()
        yield fake, lambda: fake.sent


def test_a_sent_message_arrives_whole_with_its_umlauts(transport_and_inbox) -> None:  # type: ignore[no-untyped-def]
    transport, inbox = transport_and_inbox
    transport.send(message())
    [received] = inbox()
    assert received["Subject"] == "Grüße aus Bad Berleburg"
    assert received.get_body(("plain",)).get_content().strip() == "Umlaute: äöüß"


def test_many_messages_arrive_each_once_and_in_order_where_the_transport_has_one(transport_and_inbox) -> None:  # type: ignore[no-untyped-def]
    transport, inbox = transport_and_inbox
    sent = [f"p{i}@example.org" for i in range(5)]
    for address in sent:
        transport.send(message(address))
    received = [str(m["To"]) for m in inbox()]
    if isinstance(transport, FileTransport):
        # A folder of .eml files has no order: every message is there once.
        assert sorted(received) == sent
    else:
        assert received == sent  # one SMTP connection (and the fake) keep the order of sending


def test_smtp_temporary_refusal_is_temporary() -> None:
    server = SmtpServer().start()
    server.handler.refuse_with = "451 4.3.0 Bitte später"
    try:
        with pytest.raises(TemporaryMailFailure):
            SmtpTransport(server.url).send(message())
    finally:
        server.stop()


def test_smtp_permanent_refusal_is_permanent() -> None:
    server = SmtpServer().start()
    server.handler.refuse_with = "550 5.1.1 Unbekannt"
    try:
        with pytest.raises(PermanentMailFailure):
            SmtpTransport(server.url).send(message())
    finally:
        server.stop()


def test_no_server_listening_is_a_temporary_failure() -> None:
    with pytest.raises(TemporaryMailFailure):
        SmtpTransport(f"smtp://127.0.0.1:{free_port()}", timeout=2).send(message())


def test_a_reused_connection_that_the_server_closed_is_reopened() -> None:
    server = SmtpServer().start()
    transport = SmtpTransport(server.url)
    try:
        transport.send(message("a@example.org"))
        transport._conn.sock.close()  # type: ignore[union-attr]  # the server side went away
        transport.send(message("b@example.org"))
        assert [str(m["To"]) for m in server.messages] == ["a@example.org", "b@example.org"]
    finally:
        transport.close()
        server.stop()


def test_a_rendered_message_arrives_whole_with_its_headers_and_umlauts(transport_and_inbox) -> None:  # type: ignore[no-untyped-def]
    from services.notifications.adapters.mails import ComposedMail, render_raw

    transport, inbox = transport_and_inbox
    data = render_raw(sender_name="Bürgerbeteiligung Südwestfalen", sender_address="b@example.org",
                      recipient="ziel@example.org", message_id="<id-1@example.org>",
                      mail=ComposedMail("Grüße aus Bad Berleburg", "Umlaute: äöüß\n", "<p>ä</p>"),
                      unsubscribe_url="http://x/abo/abmelden?token=t")
    transport.send_raw("b@example.org", "ziel@example.org", data)
    [received] = inbox()
    assert received["Subject"] == "Grüße aus Bad Berleburg"
    assert received["From"].addresses[0].display_name == "Bürgerbeteiligung Südwestfalen"
    assert received["Message-ID"] == "<id-1@example.org>"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert received.get_body(("plain",)).get_content().strip() == "Umlaute: äöüß"
    assert received.get_body(("html",)).get_content().strip() == "<p>ä</p>"
