"""The legal facts of each town and of the region: who is responsible, whom to ask, what holds.

Impressum (§ 5 DDG), privacy notice (Art. 13 DSGVO) and accessibility statement
(BITV 2.0 / BITV NRW) are written from these facts. They are files, one per town
(`soesmart/legal_texts/<slug>.toml`) and one for the region (`region.toml`), in the folder
named by `SOESMART_LEGAL_DIR` or beside this module; a town without a file gets the
defaults. A value still to be filled in by the town reads TO_COMPLETE, so the pages
show plainly what is missing.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from soesmart.towns import UnknownTown, towns

DEFAULT_LEGAL_DIR = Path(__file__).with_name("legal_texts")
TO_COMPLETE = "[bitte ergänzen]"
REGION = "region"


class Texts(BaseModel):
    """A text in both languages (the statement's known gaps, the operator's role)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    de: tuple[str, ...] = ()
    en: tuple[str, ...] = ()

    def of(self, lang: str) -> tuple[str, ...]:
        return self.en if lang == "en" and self.en else self.de


class LegalInfo(BaseModel):
    """What the legal pages and the mail footers say about one controller."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    slug: str  # the town's slug, or "region"
    body: str  # "Stadt Soest": provider (DDG) and controller (DSGVO)
    address: tuple[str, ...] = (TO_COMPLETE,)
    represented_by: str = TO_COMPLETE  # e.g. the mayor, by office and name
    email: str = TO_COMPLETE
    phone: str = TO_COMPLETE
    vat_id: str = TO_COMPLETE  # Umsatzsteuer-Identifikationsnummer, if any
    supervisory_authority: str = TO_COMPLETE  # the body's own supervision (§ 5 DDG)
    content_responsible: str = TO_COMPLETE  # § 18 Abs. 2 MStV
    dpo: str = TO_COMPLETE  # data protection officer: name or office, and how to reach them
    dpo_email: str = TO_COMPLETE
    operator: str = TO_COMPLETE  # who runs the regional services for the towns (Art. 28)
    mail_provider: str = TO_COMPLETE  # the SMTP relay (a processor)
    hosting: str = TO_COMPLETE
    # The accessibility statement (EU model statement, implementing decision (EU) 2018/1523).
    conformity: str = "partial"  # full, partial or none
    known_gaps: Texts = Texts()
    statement_date: str = "2026-12-01"  # ISO date the statement was made or last reviewed
    statement_method: Texts = Texts()
    feedback_email: str  # where the accessibility feedback form's mails go

    @property
    def is_region(self) -> bool:
        return self.slug == REGION

    @property
    def base_path(self) -> str:
        """Where this controller's legal pages are: /stadt/<slug>/… or /… for the region."""
        return "" if self.is_region else f"/stadt/{self.slug}"


def legal_dir() -> Path:
    return Path(os.environ.get("SOESMART_LEGAL_DIR") or DEFAULT_LEGAL_DIR)


def _defaults(slug: str) -> dict[str, Any]:
    if slug == REGION:
        return {"body": "5 für Südwestfalen", "feedback_email": "barrierefreiheit@soesmart.example"}
    name = towns().get(slug).name
    return {"body": f"Stadt {name}",
            "feedback_email": f"barrierefreiheit.{slug}@soesmart.example"}


@lru_cache(maxsize=128)
def legal_info(slug: str = REGION) -> LegalInfo:
    """The legal facts of a town (by slug) or of the region; UnknownTown for another slug."""
    if slug != REGION and slug not in towns():
        raise UnknownTown(slug)
    values = _defaults(slug)
    path = legal_dir() / f"{slug}.toml"
    if path.is_file():
        values.update(tomllib.loads(path.read_text(encoding="utf-8")))
    return LegalInfo(slug=slug, **values)


def controllers() -> list[LegalInfo]:
    """The region first, then every town."""
    return [legal_info(REGION)] + [legal_info(t.slug) for t in towns()]
