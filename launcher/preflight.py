"""Checks before anything starts: a process or a command with bad configuration refuses at once.

A towns file with a duplicate slug or postcode (or any other problem), a secret
that production needs but nobody set, a database that cannot be reached: each is
named, all together, before a service declares a queue or a command changes a
database. `StartRefused` is a SystemExit, so a process ends with the message and
status 1, without a traceback.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable
from pathlib import Path

from soesmart.config import ServiceKind, Settings
from soesmart.towns import DEFAULT_TOWNS_FILE, towns

# The instances that sign something with SOESMART_SECRET_KEY (sessions, links in mails).
SIGNING_KINDS = ("gateway", "notifications")
CONNECT_TIMEOUT = 5


class StartRefused(SystemExit):
    def __init__(self, what: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"{what} refused to start:\n  " + "\n  ".join(problems))


def towns_file_problems(path: Path) -> list[str]:
    """What is wrong with a towns file: unreadable, no towns, a slug twice, a postcode
    given to two towns, a block the registry refuses (each problem once, all of them)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return [f"towns file {path}: cannot be read: {exc}"]
    rows = data.get("town", [])
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        return [f"towns file {path}: no [[town]] blocks"]
    problems: list[str] = []
    slugs: dict[str, int] = {}
    postcodes: dict[str, str] = {}
    for number, row in enumerate(rows, start=1):
        slug = str(row.get("slug"))
        if slug in slugs:
            problems.append(f"the slug {slug!r} is given to towns {slugs[slug]} and {number}")
        slugs.setdefault(slug, number)
        for postcode in row.get("postcodes") or []:
            if postcodes.setdefault(str(postcode), slug) != slug:
                problems.append(f"the postcode {postcode} is given to both "
                                f"{postcodes[str(postcode)]} and {slug}")
    if not problems:
        from soesmart.towns import load_towns

        try:
            load_towns(path)
        except ValueError as exc:  # pydantic's ValidationError too: one line per field
            problems.append("; ".join(line.strip() for line in str(exc).splitlines()
                                      if line.strip() and not line.strip().startswith("For further")))
    return [f"towns file {path}: {p}" for p in problems]


def towns_problems() -> list[str]:
    path = Path(os.environ.get("SOESMART_TOWNS_FILE") or DEFAULT_TOWNS_FILE)
    return towns_file_problems(path)


def secret_problems(settings: Settings, kinds: Iterable[ServiceKind]) -> list[str]:
    if settings.demo or not set(kinds) & set(SIGNING_KINDS):
        return []
    if settings.secret_key == Settings.model_fields["secret_key"].default or not settings.secret_key:
        return ["SOESMART_SECRET_KEY is not set (it signs citizens' sessions and the links in "
                "mails); set a long random value, e.g. `openssl rand -hex 32`"]
    return []


def database_problem(name: str, url: str) -> str | None:
    """None when the database of instance `name` answers a query, else why not."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from soesmart.storage import make_engine

    shown = make_url(url).render_as_string(hide_password=True)
    try:
        if make_url(url).get_backend_name() == "postgresql":
            engine = make_engine(url, pool_size=1, max_overflow=0,
                                 connect_args={"timeout": CONNECT_TIMEOUT})
        else:
            engine = make_engine(url)
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        finally:
            engine.dispose()
    except Exception as exc:  # noqa: BLE001 - whatever the driver says is the reason
        orig = getattr(exc, "orig", None) or exc
        detail = orig.args[0] if orig.args else orig
        if isinstance(detail, dict):  # pg8000: the server's fields; M is its message
            detail = detail.get("M", detail)
        reason = (str(detail).strip().splitlines() or [type(exc).__name__])[0][:300]
        return f"{name}: the database {shown} cannot be reached: {reason}"
    return None


def mail_problems(settings: Settings) -> list[str]:
    """DKIM settings that cannot sign, or would sign for another domain than From's."""
    from services.notifications.adapters.dkim_signer import DkimConfigurationError, DkimSigner

    try:
        DkimSigner.from_settings(settings)
    except DkimConfigurationError as exc:
        return [f"notifications: {exc}"]
    return []


def check_towns(what: str) -> None:
    """Refuse (StartRefused) unless the towns file can be used; before a plan is made from it."""
    problems = towns_problems()
    if problems:
        raise StartRefused(what, problems)


def check(what: str, plan: list[tuple[ServiceKind, Settings]], secrets: bool = True) -> None:
    """Refuse (StartRefused) unless towns file, secrets and every planned database are usable."""
    problems = towns_problems()
    if not problems:
        if plan and secrets:
            problems += secret_problems(plan[0][1], [kind for kind, _ in plan])
        for kind, settings in plan:
            if kind == "notifications":
                problems += mail_problems(settings)
            if kind == "participation" and (settings.town or "") not in towns():
                problems.append(f"participation: the town {settings.town!r} (--town or "
                                f"SOESMART_TOWN) is not in the towns file ({', '.join(towns().slugs)})")
                continue
            try:
                found = database_problem(settings.instance_name(kind),
                                         settings.database_url_for(kind))
            except (ValueError, OSError) as exc:  # no town given, a data dir not writable
                found = f"{kind}: {exc}"
            if found:
                problems.append(found)
    if problems:
        raise StartRefused(what, problems)
