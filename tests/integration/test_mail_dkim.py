"""Mail signed with DKIM: a receiving server's copy verifies against the published key.

The key pair is made with openssl as the README says; dkimpy verifies what a real
SMTP server on loopback received, with the DNS lookup answered by the test's record.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import dkim
import pytest

from services.notifications.adapters.dkim_signer import DkimConfigurationError, DkimSigner
from services.notifications.service_layer.handlers import NotificationsApp
from soesmart.config import Settings
from soesmart.contracts import CommentReplied, MeasureStatusChanged, Source, Subscribe
from tests.support.smtp import SmtpServer
from tests.support.subscribers import add_confirmed_subscribers

SELECTOR = "sw2027"
DOMAIN = "soesmart.example"


@pytest.fixture(scope="module")
def key_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """(private key file, the TXT record of the public key) as the README makes them."""
    directory = tmp_path_factory.mktemp("dkim")
    private = directory / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(private), "2048"], check=True,
                   capture_output=True)
    public = subprocess.run(["openssl", "rsa", "-in", str(private), "-pubout", "-outform", "DER"],
                            check=True, capture_output=True).stdout
    return private, f"v=DKIM1; k=rsa; p={base64.b64encode(public).decode()}".encode()


def dns_answering(record: bytes) -> object:
    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        return record if name == f"{SELECTOR}._domainkey.{DOMAIN}.".encode() else None
    return lookup


def signing_settings(settings: Settings, smtp_server: SmtpServer, key: Path) -> Settings:
    return settings.model_copy(update=dict(
        smtp_url=smtp_server.url, mail_from=f"beteiligung@{DOMAIN}", mail_batch_seconds=0.0,
        dkim_selector=SELECTOR, dkim_private_key_file=key))


def test_every_kind_of_mail_arrives_with_a_signature_that_verifies_against_the_public_key(
    settings: Settings, smtp_server: SmtpServer, key_pair: tuple[Path, bytes]
) -> None:
    # Given a service that signs with the key, and mail of three kinds
    key, record = key_pair
    app = NotificationsApp(signing_settings(settings, smtp_server, key))
    app.subscribe(Subscribe(email="neu@example.org", measure_code="VEP-RAD-02"), "Radweg")
    add_confirmed_subscribers(app.engine, ["abo@example.org"])
    app.on_measure_status_changed(MeasureStatusChanged(
        source=Source(service="measures"), code="VEP-RAD-02", title="Radweg über die Brücke",
        old_status="in_consultation", new_status="decided", changed_by="Koordination",
        revision=2))
    app.on_comment_replied(CommentReplied(
        source=Source(service="participation", town="olpe"), town="olpe",
        comment_id=uuid.uuid4(), parent_id=uuid.uuid4(), measure_code="VEP-RAD-02",
        measure_title="Radweg", replier_display_name="Jörg Ö.", excerpt="Grüße",
        recipient_email="antwort@example.org"))

    # When they go out to a real SMTP server
    app.bundle_due()
    assert app.send_due() == 3

    # Then each copy as received carries a signature of the From domain that dkimpy
    # verifies with the published key, covering the headers readers and filters judge
    assert len(smtp_server.handler.raw) == 3
    for raw in smtp_server.handler.raw:
        assert dkim.verify(raw, dnsfunc=dns_answering(record)), raw[:400]
        header = raw.split(b"\r\n\r\n", 1)[0].decode()
        signature = re.search(r"DKIM-Signature:(.*?)\r\n(?=\S)", header, re.S).group(1)
        fields = dict(f.strip().split("=", 1) for f in signature.split(";") if "=" in f)
        assert fields["d"] == DOMAIN and fields["s"] == SELECTOR
        signed = {h.strip() for h in re.sub(r"\s", "", fields["h"]).split(":")}
        assert {"from", "subject", "date", "message-id", "list-unsubscribe",
                "list-unsubscribe-post"} <= signed
        # ... and a copy changed on the way does not verify
        tampered = raw.replace(b"Subject: ", b"Subject: Re: ", 1)
        assert not dkim.verify(tampered, dnsfunc=dns_answering(record))


def test_a_from_outside_the_signing_domain_or_an_unreadable_key_is_refused_with_a_reason(
    settings: Settings, tmp_path: Path, key_pair: tuple[Path, bytes]
) -> None:
    key, _ = key_pair
    good = settings.model_copy(update=dict(mail_from=f"beteiligung@mail.{DOMAIN}",
                                           dkim_selector=SELECTOR, dkim_domain=DOMAIN,
                                           dkim_private_key_file=key))
    assert DkimSigner.from_settings(good) is not None  # a subdomain is aligned
    cases = {
        "not in the signing domain": dict(mail_from="beteiligung@andere-stadt.example"),
        "cannot read the key": dict(dkim_private_key_file=tmp_path / "missing.pem"),
        "not an RSA private key": dict(dkim_private_key_file=None,
                                       dkim_private_key="-----BEGIN PRIVATE KEY-----\nx\n"),
        "no SOESMART_DKIM_SELECTOR": dict(dkim_selector=None),
    }
    for reason, change in cases.items():
        with pytest.raises(DkimConfigurationError, match=reason):
            DkimSigner.from_settings(good.model_copy(update=change))


def test_the_notifications_process_refuses_to_start_with_a_misaligned_sender(
    settings: Settings, key_pair: tuple[Path, bytes]
) -> None:
    key, _ = key_pair
    env = dict(os.environ, SOESMART_BROKER_URL=settings.broker_url,
               SOESMART_DATA_DIR=str(settings.data_dir), SOESMART_DKIM_SELECTOR=SELECTOR,
               SOESMART_DKIM_DOMAIN=DOMAIN, SOESMART_DKIM_PRIVATE_KEY_FILE=str(key),
               SOESMART_MAIL_FROM="beteiligung@andere-stadt.example")
    done = subprocess.run([sys.executable, "-m", "launcher.service_main", "notifications"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr[-2000:]
    assert "notifications refused to start" in done.stderr
    assert "is not in the signing domain 'soesmart.example'" in done.stderr
    assert "Traceback" not in done.stderr
