"""Composing mails from the template files, and the signed links inside them.

One template per kind of mail (`templates/<kind>.txt`); its texts come from the
notifications catalogue (`locale/<lang>/LC_MESSAGES/messages.po`) in the recipient's
language, its dates and numbers from Babel in the towns' time.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import Header
from email.utils import format_datetime, formataddr
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from soesmart import i18n, signing

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
CRLF = "\r\n"
_URL = re.compile(r"(https?://[^\s<>\"]+)")


@lru_cache(maxsize=len(i18n.LANGUAGES))
def _env(lang: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=False,  # text templates; HTML is built from escaped paragraphs below
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    return i18n.install(env, LOCALE_DIR, lang if lang in i18n.LANGUAGES else "de")


_html_env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True)


@dataclass(frozen=True)
class ComposedMail:
    subject: str
    text: str
    html: str
    lang: str = "de"  # the recipient's language (the legal footer is written in it)


def compose(template: str, lang: str, **context: object) -> ComposedMail:
    """Render `<template>.txt` in `lang`; its blocks give subject and text, HTML follows the text."""
    tpl = _env(lang).get_template(f"{template}.txt")
    ctx = tpl.new_context(dict(context))
    subject = "".join(tpl.blocks["subject"](ctx)).strip()
    text = "".join(tpl.blocks["text"](ctx)).strip() + "\n"
    paragraphs = [_html_paragraph(p) for p in text.split("\n\n") if p.strip()]
    html = _html_env.get_template("layout.html").render(
        lang=lang, subject=subject, paragraphs=paragraphs
    )
    return ComposedMail(subject=subject, text=text, html=html, lang=lang)


class ComposeCache:
    """Renders a template once per shared content and fills in each recipient's own links.

    A fan-out to 20,000 addresses composes the same mail 20,000 times except for
    the links signed per address; rendering it each time was about a tenth of the
    fan-out's CPU. Per (template, language, shared context) the template is rendered
    twice with two different stand-ins for the personal values; only if filling the
    second stand-ins into the first rendering gives exactly the second (the template
    shows those values unchanged, e.g. no filter on a link) is the rendering reused,
    otherwise each mail is rendered on its own, as `compose` does. Use one cache for
    one batch of mails (it grows with the distinct contents it has seen).
    """

    def __init__(self) -> None:
        self._prepared: dict[tuple[str, str, str], _Prepared | None] = {}

    def compose(self, template: str, lang: str, personal: Mapping[str, str],
                **shared: object) -> ComposedMail:
        key = (template, lang, json.dumps(shared, sort_keys=True, default=str))
        if key not in self._prepared:
            self._prepared[key] = _Prepared.make(template, lang, sorted(personal), shared)
        prepared = self._prepared[key]
        if prepared is None or set(personal) != set(prepared.names):
            return compose(template, lang, **shared, **personal)
        return prepared.fill(personal)


@dataclass(frozen=True)
class _Prepared:
    names: tuple[str, ...]
    stand_ins: tuple[str, ...]
    mail: ComposedMail

    @staticmethod
    def make(template: str, lang: str, names: list[str],
             shared: Mapping[str, object]) -> _Prepared | None:
        def rendering(stand_ins: tuple[str, ...]) -> _Prepared:
            values = dict(zip(names, stand_ins, strict=True))
            return _Prepared(tuple(names), stand_ins, compose(template, lang, **shared, **values))

        first = rendering(tuple(f"https://soesmart.invalid/{secrets.token_hex(8)}" for _ in names))
        # Another length and characters that HTML escapes: a template that does more
        # than show the value (truncate, upper, urlencode, ...) renders differently.
        second = rendering(tuple(f"http://x.invalid/{n}?a={secrets.token_hex(11)}&b='"
                                 for n in names))
        if first.fill(dict(zip(names, second.stand_ins, strict=True))) != second.mail:
            return None
        return first

    def fill(self, personal: Mapping[str, str]) -> ComposedMail:
        subject, text, html = self.mail.subject, self.mail.text, self.mail.html
        for name, stand_in in zip(self.names, self.stand_ins, strict=True):
            value = personal[name]
            subject = subject.replace(stand_in, value)
            text = text.replace(stand_in, value)
            html = html.replace(stand_in, str(escape(value)))
        return ComposedMail(subject=subject, text=text, html=html, lang=self.mail.lang)


def _html_paragraph(text: str) -> Markup:
    parts = []
    for chunk in _URL.split(text.strip()):
        if _URL.fullmatch(chunk):
            parts.append(Markup('<a href="{0}">{0}</a>').format(chunk))
        else:
            parts.append(escape(chunk))
    return Markup("").join(parts).replace("\n", Markup("<br>\n"))


def render_raw(
    *,
    sender_name: str,
    sender_address: str,
    recipient: str,
    mail: ComposedMail,
    message_id: str,
    unsubscribe_url: str | None,
    unsubscribe_post_url: str | None = None,
) -> bytes:
    """A message with plain-text and HTML alternatives, rendered directly to bytes.

    Building it with the `email` package cost about 20 ms per mail (header folding);
    this is the sender's hot path.

    Non-ASCII header text becomes RFC 2047 encoded words, both bodies are base64
    (UTF-8, lines of 76), so every line stays within the limits of RFC 5322.
    """
    boundary = "=_" + secrets.token_hex(16)
    headers = [
        ("Subject", _encoded_words(mail.subject)),
        ("From", sender_header(sender_name, sender_address)),
        ("To", recipient),
        ("Date", format_datetime(datetime.now(UTC))),
        ("Message-ID", message_id),
        ("Auto-Submitted", "auto-generated"),
    ]
    if unsubscribe_url:
        headers.append(("List-Unsubscribe", f"<{unsubscribe_post_url or unsubscribe_url}>"))
        headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    headers += [("MIME-Version", "1.0"),
                ("Content-Type", f'multipart/alternative; boundary="{boundary}"')]
    lines = [f"{name}: {value}" for name, value in headers]
    for subtype, body in (("plain", mail.text), ("html", mail.html)):
        lines += ["", f"--{boundary}", f'Content-Type: text/{subtype}; charset="utf-8"',
                  "Content-Transfer-Encoding: base64", "",
                  base64.encodebytes(body.encode("utf-8")).decode("ascii").rstrip("\n")]
    lines += ["", f"--{boundary}--", ""]
    return "\r\n".join(lines).replace("\n", "\r\n").replace("\r\r\n", "\r\n").encode("ascii")


@lru_cache(maxsize=64)  # a handful of senders; this is on the fan-out's hot path
def sender_header(name: str, address: str) -> str:
    """The From header's value: a display name with commas, parentheses or umlauts, correctly.

    An ASCII name is quoted where RFC 5322 needs it; any other becomes RFC 2047 encoded
    words (the `email` package chooses and splits them), so "Menden (Sauerland) –
    Bürgerbeteiligung" arrives as that name and not as a name with a comment.
    """
    if name.isascii():
        return formataddr((name, address))
    return f"{Header(name, 'utf-8', header_name='From').encode(linesep=CRLF)} <{address}>"


def _encoded_words(text: str) -> str:
    if text.isascii():
        return text
    data = text.encode("utf-8")
    words, start = [], 0
    while start < len(data):
        end = min(len(data), start + 39)  # 39 bytes -> 52 base64 chars: a word fits a line
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # never split a character
            end -= 1
        words.append(f"=?utf-8?b?{base64.b64encode(data[start:end]).decode('ascii')}?=")
        start = end
    return "\r\n ".join(words)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def sign(secret: str, purpose: str, value: str) -> str:
    """A signature binding `value` (e.g. a subscription id) to one purpose of a mail link."""
    return signing.signature_of(secret, f"mail link {purpose}", value)


def verify(secret: str, purpose: str, value: str, signature: str) -> bool:
    return signing.has_signature(secret, f"mail link {purpose}", value, signature)
