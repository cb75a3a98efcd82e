"""Checks before anything starts: a process or a command with bad configuration refuses at once.

A towns file with a duplicate slug or postcode (or any other problem), a secret
that production needs but nobody set, a database that cannot be reached: each is
named, all together, before a service declares a queue or a command changes a
database. `StartRefused` is a SystemExit, so a process ends with the message and
status 1, without a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable

from soesmart.config import ServiceKind, Settings
from soesmart.towns import TownsFileInvalid, towns

# The instances that sign something with SOESMART_SECRET_KEY (sessions, links in mails).
SIGNING_KINDS = ("gateway", "notifications")
CONNECT_TIMEOUT = 5


class StartRefused(SystemExit):
    def __init__(self, what: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"{what} refused to start:\n  " + "\n  ".join(problems))


def towns_problems() -> list[str]:
    try:
        towns.cache_clear()
        towns()
    except TownsFileInvalid as exc:
        return [str(exc)]
    return []


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


def check(what: str, plan: list[tuple[ServiceKind, Settings]], secrets: bool = True) -> None:
    """Refuse (StartRefused) unless towns file, secrets and every planned database are usable."""
    problems = towns_problems()
    if not problems:
        if plan and secrets:
            problems += secret_problems(plan[0][1], [kind for kind, _ in plan])
        for kind, settings in plan:
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
