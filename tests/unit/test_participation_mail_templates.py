"""The participation mails: one template per kind in both languages, readable wording, senders."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest

from services.notifications.adapters.mails import TEMPLATES, compose, sender_header

CONTEXTS: dict[str, dict[str, object]] = {
    "citizen_link": dict(purpose="sign_in", display_name="Anna", town_name="Olpe",
                         link_url="http://x/stadt/olpe/anmelden/link?token=t", expires="morgen"),
    "comment_replied": dict(replier="Bernd", excerpt="Gute Idee", measure_title="Radweg",
                            code="VEP-RAD-02", measure_url="http://x/massnahmen/VEP-RAD-02",
                            settings_url="http://x/stadt/olpe/meine-daten", town_name="Olpe"),
    "idea_accepted": dict(title="Bank", town_name="Olpe", town_url="http://x/stadt/olpe", note="",
                          code="IDEE-OLPE-1A2B3C4D", measure_url="http://x/massnahmen/IDEE-OLPE-1A2B3C4D"),
    "idea_declined": dict(title="Bank", town_name="Olpe", town_url="http://x/stadt/olpe",
                          reason="Kein Platz."),
    "consultation_milestone": dict(town_name="Olpe", title="Mobilität", milestone="closed",
                                   starts_on="1.3.", ends_on="31.3.", town_url="http://x/stadt/olpe",
                                   unsubscribe_url="http://x/abo/abmelden?token=a.b",
                                   preferences_url="http://x/abo/einstellungen?token=c.d"),
}


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("kind", sorted(CONTEXTS))
def test_every_participation_mail_is_one_file_in_both_languages_with_an_html_alternative(
    kind: str, lang: str
) -> None:
    assert (Path(TEMPLATES) / f"{kind}.txt").is_file()
    mail = compose(kind, lang, **CONTEXTS[kind])
    assert mail.subject and "\n" not in mail.subject and "{{" not in mail.text
    assert f'lang="{lang}"' in mail.html and "<a href=" in mail.html


MILESTONES = ["opened", "closing_soon", "closed", "results_published"]


@pytest.mark.parametrize("lang", ["de", "en"])
def test_each_milestone_has_its_own_words(lang: str) -> None:
    mails = {m: compose("consultation_milestone", lang,
                        **dict(CONTEXTS["consultation_milestone"], milestone=m))
             for m in MILESTONES}
    subjects = {m: mail.subject for m, mail in mails.items()}
    assert len(set(subjects.values())) == len(MILESTONES), subjects
    assert len({mail.text for mail in mails.values()}) == len(MILESTONES)
    assert all("Mobilität" in s for s in subjects.values())


def test_a_milestone_mail_speaks_the_language_asked_for() -> None:
    for m in MILESTONES:
        context = dict(CONTEXTS["consultation_milestone"], milestone=m)
        german, english = (compose("consultation_milestone", lang, **context) for lang in ("de", "en"))
        assert german.subject != english.subject and german.text != english.text, m


@pytest.mark.parametrize("name", ["Menden (Sauerland) – Bürgerbeteiligung",
                                  "5 für Südwestfalen – Beteiligung", "Plain, with (comment)"])
def test_the_sender_name_survives_encoding(name: str) -> None:
    header = sender_header(name, "beteiligung@soesmart.example")
    assert header.isascii()
    message = email.message_from_string(f"From: {header}\r\n\r\n", policy=email.policy.default)
    address = message["From"].addresses[0]
    assert (address.display_name, address.addr_spec) == (name, "beteiligung@soesmart.example")
