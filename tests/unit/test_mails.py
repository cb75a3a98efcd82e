"""Mails people can read: German templates, HTML alternative, RFC 8058 headers, signed links."""

from __future__ import annotations

import email
import email.policy

import pytest
from jinja2 import ChoiceLoader, DictLoader

from services.notifications.adapters import mails
from services.notifications.adapters.mails import compose, render_raw, sign, verify


def status_mail(lang: str = "de", note: str = "Beschluss vom 1. Dezember"):  # type: ignore[no-untyped-def]
    return compose("measure_status_changed", lang, title="Radweg <b>Bahntrasse</b>",
                   code="VEP-RAD-02", old_status="In der Beteiligung", new_status="Beschlossen",
                   progress=None, note=note, measure_url="http://x/massnahmen/VEP-RAD-02",
                   unsubscribe_url="http://x/abo/abmelden?token=abc.def")


def test_the_status_mail_is_german_by_default_and_names_the_new_status() -> None:
    mail = status_mail()
    assert mail.subject.startswith("Neuer Stand: ")
    assert "Beschlossen" in mail.text and "Beschluss vom 1. Dezember" in mail.text


def test_the_english_mail_is_english() -> None:
    assert status_mail("en").subject.startswith("Update: ")


def test_html_alternative_escapes_text_and_links_urls() -> None:
    mail = status_mail(note="<script>alert(1)</script>")
    assert "<script>" not in mail.html and "&lt;script&gt;" in mail.html
    assert '<a href="http://x/abo/abmelden?token=abc.def">' in mail.html
    assert 'lang="de"' in mail.html


def test_messages_carry_one_click_unsubscribe_headers_and_utf8() -> None:
    raw = render_raw(sender_name="Bürgerbeteiligung Soest", sender_address="b@soest.example",
                     recipient="a@example.org", mail=status_mail(), message_id="<m1@soest.example>",
                     unsubscribe_url="http://x/abo/abmelden?token=t",
                     unsubscribe_post_url="http://x/abo/abmelden/one-click?token=t")
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["List-Unsubscribe"] == "<http://x/abo/abmelden/one-click?token=t>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["Message-ID"] == "<m1@soest.example>" and msg["Date"]
    assert msg["From"].addresses[0].display_name == "Bürgerbeteiligung Soest"
    assert msg["Subject"].startswith("Neuer Stand: ")
    plain = msg.get_body(("plain",))
    assert plain.get_content_charset() == "utf-8" and "Beschlossen" in plain.get_content()
    assert "&lt;b&gt;" in msg.get_body(("html",)).get_content()


def test_a_signed_link_cannot_be_reused_for_another_subscription() -> None:
    signature = sign("secret", "unsubscribe", "sub-1")
    assert verify("secret", "unsubscribe", "sub-1", signature)
    assert not verify("secret", "unsubscribe", "sub-2", signature)
    assert not verify("other-secret", "unsubscribe", "sub-1", signature)
    assert not verify("secret", "confirm", "sub-1", signature)


def test_a_template_that_changes_a_link_is_rendered_for_each_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a template an admin changed so that it shows the link altered (here: upper case)
    loader = ChoiceLoader([DictLoader({"shout.txt": (
        "{% block subject %}Neu{% endblock %}{% block text %}{{ title }}: "
        "{{ unsubscribe_url|upper }}{% endblock %}")}), mails._env("de").loader])
    monkeypatch.setattr(mails._env("de"), "loader", loader)
    cache = mails.ComposeCache()
    # When two addresses' mails are composed through the cache
    composed = [cache.compose("shout", "de", {"unsubscribe_url": f"http://h/abo?token={n}x"},
                              title="Radweg") for n in (1, 2)]
    # Then each is what rendering it on its own gives
    assert [m.text for m in composed] == ["Radweg: HTTP://H/ABO?TOKEN=1X\n",
                                          "Radweg: HTTP://H/ABO?TOKEN=2X\n"]


def test_the_cache_gives_each_address_what_its_own_rendering_gives() -> None:
    # The real templates, through the real loader: a status mail to two addresses
    shared = dict(title="Radweg", code="VEP-RAD-02", old_status="In der Beteiligung",
                  new_status="Beschlossen", progress=None, note="",
                  measure_url="http://x/massnahmen/VEP-RAD-02")
    cache = mails.ComposeCache()
    for n in (1, 2):
        personal = {"unsubscribe_url": f"http://x/abo/abmelden?token={n}.sig"}
        assert cache.compose("measure_status_changed", "de", personal, **shared) == compose(
            "measure_status_changed", "de", **shared, **personal)
