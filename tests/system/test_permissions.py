"""Every route of the gateway against every role: who is refused (401/403) and who is not.

The table below has one row per route (method + URL rule of the nameko `http`
entrypoints of GatewayService). A route without a row fails
`test_every_route_of_the_gateway_has_a_row`, so a new route cannot slip in unchecked.

A row says, for each role in ROLES order, "401", "403" or "ok" (any other status below
500: the request got past the permission check; a 404 or 422 for the made-up data is
fine; a 5xx is always wrong). A route of several methods is asked with each of them.
Town-scoped routes are asked about THIS_TOWN; "admin_other" is the admin of OTHER_TOWN.
Requests to /api/ authenticate with `Authorization: Bearer`, pages with cookies; every
POST carries a valid CSRF token, so a 403 is always a refusal of the person.
"""

from __future__ import annotations

import inspect
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from nameko.web.handlers import HttpRequestHandler

from services.gateway.entrypoints.service import GatewayService
from services.gateway.web.citizen_sessions import CITIZEN_COOKIE, sign_citizen
from services.gateway.web.permissions import STAFF_COOKIE
from soesmart.config import Settings
from soesmart.contracts import CitizenSession
from tests.support.infra import eventually
from tests.support.network import Network, running_network

THIS_TOWN, OTHER_TOWN = "menden", "olpe"
ROLES = ("anonymous", "unconfirmed", "citizen", "admin_here", "admin_other", "coordinator")

# Expected outcomes per role, in ROLES order.
OPEN = "ok ok ok ok ok ok"
CITIZEN_HERE = "401 403 ok 403 403 403"  # confirmed citizens of the town
CITIZEN_SELF = "401 ok ok 403 403 403"  # any citizen of the town, confirmed or not
ADMIN_HERE = "401 403 403 ok 403 403"  # the town's admins only
TOWN_STAFF = "401 403 403 ok 403 ok"  # the town's admins and the coordinators
STAFF = "401 403 403 ok ok ok"  # anyone signed in as staff
COORDINATOR = "401 403 403 403 403 ok"

# Values for the URL rules' variables; "<string:cid>" is the town's open demo consultation,
# looked up when the network runs (its results are not published: staff only).
PLACEHOLDERS = {
    "<string:town>": THIS_TOWN,
    "<string:code>": "VEP-RAD-02",
    "<string:comment_id>": "00000000-0000-4000-8000-000000000000",
    "<string:idea_id>": "00000000-0000-4000-8000-000000000000",
    "<string:cid>": "00000000-0000-4000-8000-000000000000",
    "<string:fmt>": "csv",
    "<path:rest>": "gibt-es-nicht",
    "<path:name>": "style.css",
    "<string:provider>": "gibt-es-nicht",
}
CSRF = "matrix-csrf-token"


@dataclass(frozen=True)
class Row:
    method: str  # as in @http(...), e.g. "GET" or "GET,POST,PUT,PATCH,DELETE"
    rule: str  # the URL rule as in @http(...)
    expect: str
    json: Any = None  # JSON body; else a POST sends a form with the CSRF token
    form: dict[str, str] | None = None
    query: str = ""
    ends_session: bool = False  # signs out: run with a fresh sign-in

    def path(self, values: dict[str, str]) -> str:
        path = self.rule
        for placeholder, value in values.items():
            path = path.replace(placeholder, value)
        assert "<" not in path, f"no value for a variable of {self.rule}"
        return path + self.query


def row(method: str, rule: str, expect: str, **kwargs: Any) -> Row:
    return Row(method, rule, expect, **kwargs)


ROWS = [
    # --- health, towns, catalogue, results
    row("GET", "/healthz", OPEN),
    row("GET", "/readyz", OPEN),
    row("GET", "/api/openapi.json", OPEN),
    row("GET", "/api/v1/towns", OPEN),
    row("GET", "/api/v1/towns/<string:town>/consultations", OPEN),
    row("GET", "/api/v1/measures", OPEN),
    row("GET", "/api/v1/measures/<string:code>", OPEN),
    row("GET", "/api/v1/measures/export", OPEN),
    row("POST", "/api/v1/measures/import", COORDINATOR, json=[{"code": ""}]),
    row("POST", "/api/v1/measures/<string:code>/status", COORDINATOR, json={}),
    row("GET", "/api/v1/results", OPEN),
    row("GET", "/api/v1/results/top", COORDINATOR),
    row("GET", "/api/v1/results/measures/<string:code>/towns", COORDINATOR),
    row("GET", "/api/v1/results/disagreements", COORDINATOR),
    row("GET", "/api/v1/results/participation", COORDINATOR),
    row("GET", "/api/v1/results/export", COORDINATOR),
    row("GET", "/api/v1/admin/deliveries", COORDINATOR),
    row("GET,POST,PUT,PATCH,DELETE", "/api/<path:rest>", OPEN),
    # --- subscriptions (by email, with signed links; no sign-in)
    row("POST", "/api/v1/subscriptions", OPEN, json={}),
    row("POST", "/api/v1/subscriptions/confirm", OPEN, json={}),
    row("POST", "/api/v1/subscriptions/unsubscribe", OPEN, json={}),
    row("POST", "/abo", OPEN),
    row("GET", "/abo/bestaetigen", OPEN),
    row("POST", "/abo/bestaetigen", OPEN),
    row("GET", "/abo/abmelden", OPEN),
    row("POST", "/abo/abmelden", OPEN),
    row("POST", "/abo/abmelden/one-click", OPEN, query="?token=x"),
    row("GET", "/abo/abmelden/one-click", OPEN, query="?token=x"),
    row("GET", "/abo/einstellungen", OPEN),
    row("POST", "/abo/einstellungen", OPEN),
    # --- staff sign-in
    row("POST", "/api/v1/auth/token", OPEN, json={}),
    row("POST", "/api/v1/auth/logout", STAFF, ends_session=True),
    row("GET", "/api/v1/auth/me", OPEN),
    row("GET", "/api/v1/auth/providers", OPEN),
    # sign-in through an OpenID provider: open to all (the provider decides who gets in)
    row("GET", "/verwaltung/anmelden/idp/<string:provider>", OPEN),
    row("GET", "/verwaltung/anmelden/idp/<string:provider>/rueckkehr", OPEN),
    row("GET", "/verwaltung/anmelden", OPEN),
    row("POST", "/verwaltung/anmelden", OPEN),
    row("POST", "/verwaltung/abmelden", OPEN, ends_session=True),
    row("GET", "/verwaltung", STAFF),
    row("GET", "/verwaltung/stadt/<string:town>", TOWN_STAFF),
    # --- town admins: consultations, moderation, ideas, results (JSON)
    row("POST", "/api/v1/towns/<string:town>/consultations", ADMIN_HERE, json={}),
    row("GET", "/api/v1/towns/<string:town>/consultations/<string:cid>", OPEN),
    row("PATCH", "/api/v1/towns/<string:town>/consultations/<string:cid>", ADMIN_HERE, json={}),
    row("POST", "/api/v1/towns/<string:town>/consultations/<string:cid>/phase", ADMIN_HERE, json={}),
    row("GET", "/api/v1/towns/<string:town>/consultations/<string:cid>/results", TOWN_STAFF),
    row("GET", "/api/v1/towns/<string:town>/consultations/<string:cid>/results.csv", TOWN_STAFF),
    row("GET", "/api/v1/towns/<string:town>/moderation", ADMIN_HERE),
    row("POST", "/api/v1/towns/<string:town>/moderation", ADMIN_HERE, json={}),
    row("GET", "/api/v1/towns/<string:town>/moderation/log", ADMIN_HERE),
    row("POST", "/api/v1/towns/<string:town>/ideas/<string:idea_id>/decision", ADMIN_HERE, json={}),
    row("POST", "/api/v1/towns/<string:town>/consultations/<string:cid>/paper-sheets", ADMIN_HERE, json={}),
    row("POST", "/api/v1/towns/<string:town>/consultations/<string:cid>/paper-sheets/import", ADMIN_HERE,
        json={}),
    # --- town admins: pages
    row("GET", "/verwaltung/stadt/<string:town>/beteiligungen", TOWN_STAFF),
    row("POST", "/verwaltung/stadt/<string:town>/beteiligungen", ADMIN_HERE),
    row("GET", "/verwaltung/stadt/<string:town>/beteiligungen/neu", ADMIN_HERE),
    row("GET", "/verwaltung/stadt/<string:town>/beteiligungen/<string:cid>", TOWN_STAFF),
    row("POST", "/verwaltung/stadt/<string:town>/beteiligungen/<string:cid>", ADMIN_HERE),
    row("GET", "/verwaltung/stadt/<string:town>/beteiligungen/<string:cid>/bearbeiten", ADMIN_HERE),
    row("POST", "/verwaltung/stadt/<string:town>/beteiligungen/<string:cid>/phase", ADMIN_HERE),
    row("GET", "/verwaltung/stadt/<string:town>/beteiligungen/<string:cid>/ergebnisse", TOWN_STAFF),
    row("GET", "/verwaltung/stadt/<string:town>/beteiligungen/<string:cid>/ergebnisse.csv", TOWN_STAFF),
    row("GET", "/verwaltung/stadt/<string:town>/ergebnisse", TOWN_STAFF),
    row("GET", "/verwaltung/stadt/<string:town>/beteiligungen/<string:cid>/fragebogen.pdf", ADMIN_HERE),
    row("GET", "/verwaltung/stadt/<string:town>/beteiligungen/<string:cid>/papier", ADMIN_HERE),
    row("POST", "/verwaltung/stadt/<string:town>/beteiligungen/<string:cid>/papier", ADMIN_HERE),
    row("POST", "/verwaltung/stadt/<string:town>/beteiligungen/<string:cid>/papier/import", ADMIN_HERE),
    row("GET", "/verwaltung/stadt/<string:town>/moderation", ADMIN_HERE),
    row("POST", "/verwaltung/stadt/<string:town>/moderation", ADMIN_HERE),
    row("GET", "/verwaltung/stadt/<string:town>/ideen", ADMIN_HERE),
    row("POST", "/verwaltung/stadt/<string:town>/ideen/<string:idea_id>/entscheidung", ADMIN_HERE),
    # --- coordinators: pages
    row("GET", "/verwaltung/region", OPEN),  # only a redirect to /verwaltung/region/ergebnisse
    row("GET", "/verwaltung/region/ergebnisse", COORDINATOR),
    row("GET", "/verwaltung/region/ergebnisse.csv", COORDINATOR),
    row("GET", "/verwaltung/region/exporte", COORDINATOR),
    row("GET", "/verwaltung/region/katalog", COORDINATOR),
    row("POST", "/verwaltung/region/katalog/import", COORDINATOR),
    row("GET", "/verwaltung/region/katalog/export.<string:fmt>", COORDINATOR),
    row("GET", "/verwaltung/region/massnahmen/<string:code>", COORDINATOR),
    row("POST", "/verwaltung/region/massnahmen/<string:code>/status", COORDINATOR),
    row("GET", "/verwaltung/region/zustellungen", COORDINATOR),
    # --- citizens of a town: registration and sign-in (open), their data and contributions
    row("POST", "/api/v1/towns/<string:town>/citizens", OPEN, json={}),
    row("POST", "/api/v1/towns/<string:town>/citizens/confirm", OPEN, json={}),
    row("POST", "/api/v1/towns/<string:town>/sign-in", OPEN, json={}),
    row("POST", "/api/v1/towns/<string:town>/sign-in/redeem", OPEN, json={}),
    row("GET", "/api/v1/towns/<string:town>/me", CITIZEN_SELF),
    row("PATCH", "/api/v1/towns/<string:town>/me", CITIZEN_SELF, json={}),
    row("DELETE", "/api/v1/towns/<string:town>/me", CITIZEN_SELF),
    row("GET", "/api/v1/towns/<string:town>/me/ratings", CITIZEN_SELF),
    row("GET", "/api/v1/towns/<string:town>/me/export", CITIZEN_SELF),
    row("POST", "/api/v1/towns/<string:town>/ratings", CITIZEN_HERE, json={}),
    row("GET", "/api/v1/towns/<string:town>/measures/<string:code>/comments", OPEN),
    row("POST", "/api/v1/towns/<string:town>/measures/<string:code>/comments", CITIZEN_HERE, json={}),
    row("POST", "/api/v1/towns/<string:town>/comments/<string:comment_id>/flags", CITIZEN_HERE, json={}),
    row("GET", "/api/v1/towns/<string:town>/ideas", OPEN),
    row("POST", "/api/v1/towns/<string:town>/ideas", CITIZEN_HERE, json={}),
    # --- pages
    row("GET", "/", OPEN),
    row("GET", "/<path:rest>", OPEN),
    row("GET", "/static/<path:name>", OPEN),
    row("GET", "/massnahmen/<string:code>", OPEN),
    row("GET", "/stadt/<string:town>", OPEN),
    row("GET", "/stadt/<string:town>/massnahmen/<string:code>", OPEN),
    row("GET", "/stadt/<string:town>/ergebnisse/<string:cid>", OPEN),
    row("POST", "/stadt/<string:town>/bewertung", CITIZEN_HERE),
    row("POST", "/stadt/<string:town>/massnahmen/<string:code>/kommentare", CITIZEN_HERE),
    row("POST", "/stadt/<string:town>/kommentare/<string:comment_id>/melden", CITIZEN_HERE),
    row("GET", "/stadt/<string:town>/ideen", OPEN),
    row("POST", "/stadt/<string:town>/ideen", CITIZEN_HERE),
    row("GET", "/stadt/<string:town>/registrieren", OPEN),
    row("POST", "/stadt/<string:town>/registrieren", OPEN),
    row("GET", "/stadt/<string:town>/bestaetigen", OPEN),
    row("POST", "/stadt/<string:town>/bestaetigen", OPEN),
    row("GET", "/stadt/<string:town>/anmelden", OPEN),
    row("POST", "/stadt/<string:town>/anmelden", OPEN),
    row("GET", "/stadt/<string:town>/anmelden/link", OPEN),
    row("GET", "/stadt/<string:town>/anmelden/idp/<string:provider>", OPEN),
    row("GET", "/anmelden/idp/<string:provider>/rueckkehr", OPEN),
    row("POST", "/stadt/<string:town>/anmelden/link", OPEN),
    row("POST", "/stadt/<string:town>/abmelden", OPEN),
    row("GET", "/stadt/<string:town>/meine-daten", CITIZEN_SELF),
    row("POST", "/stadt/<string:town>/meine-daten", CITIZEN_SELF),
    row("POST", "/stadt/<string:town>/meine-daten/loeschen", CITIZEN_SELF),
    row("GET", "/stadt/<string:town>/meine-daten/download", CITIZEN_SELF),
    # --- legal pages of the region and of a town; the accessibility feedback needs no account
    row("GET", "/api/v1/pow-challenge", OPEN),
    row("GET", "/impressum", OPEN),
    row("GET", "/datenschutz", OPEN),
    row("GET", "/barrierefreiheit", OPEN),
    row("POST", "/barrierefreiheit", OPEN),
    row("GET", "/stadt/<string:town>/impressum", OPEN),
    row("GET", "/stadt/<string:town>/datenschutz", OPEN),
    row("GET", "/stadt/<string:town>/barrierefreiheit", OPEN),
    row("POST", "/stadt/<string:town>/barrierefreiheit", OPEN),
]


def gateway_routes() -> set[tuple[str, str]]:
    routes = set()
    for _, member in inspect.getmembers(GatewayService):
        for entrypoint in getattr(member, "nameko_entrypoints", ()):
            if isinstance(entrypoint, HttpRequestHandler):
                routes.add((entrypoint.method, entrypoint.url))
    return routes


def test_every_route_of_the_gateway_has_a_row() -> None:
    rows = [(r.method, r.rule) for r in ROWS]
    assert len(rows) == len(set(rows)), "a route has two rows"
    for r in ROWS:
        assert len(r.expect.split()) == len(ROLES), r
        assert set(r.expect.split()) <= {"ok", "401", "403"}, r
    routes = gateway_routes()
    assert not routes - set(rows), f"routes without a row: {sorted(routes - set(rows))}"
    assert not set(rows) - routes, f"rows of routes that do not exist: {sorted(set(rows) - routes)}"


# --- running the table against the network


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with running_network(tmp_path_factory.mktemp("matrix")) as net:  # demo staff accounts exist
        yield net


@dataclass
class Credentials:
    bearer: str | None = None
    cookies: dict[str, str] | None = None


def citizen(network: Network, confirmed: bool) -> Credentials:
    settings = Settings(secret_key=network.env()["SOESMART_SECRET_KEY"])
    value = sign_citizen(CitizenSession(citizen_id=uuid.uuid4(), town=THIS_TOWN,
                                        display_name="Matrix", confirmed=confirmed), settings)
    return Credentials(bearer="c." + value, cookies={CITIZEN_COOKIE: value})


def staff(network: Network, email: str, password: str) -> Credentials:
    def sign_in() -> requests.Response | None:
        r = network.post("/api/v1/auth/token", json={"email": email, "password": password})
        return r if r.status_code == 201 else None

    token = eventually(sign_in, timeout=20, message=f"{email} signs in").json()["token"]
    return Credentials(bearer=token, cookies={STAFF_COOKIE: token.removeprefix("s.")})


def credentials(network: Network, role: str) -> Credentials:
    demo = "@demo.soesmart.example"
    if role == "anonymous":
        return Credentials()
    if role in ("unconfirmed", "citizen"):
        return citizen(network, confirmed=role == "citizen")
    if role == "admin_here":
        return staff(network, f"admin.{THIS_TOWN}{demo}", f"demo-{THIS_TOWN}-2026")
    if role == "admin_other":
        return staff(network, f"admin.{OTHER_TOWN}{demo}", f"demo-{OTHER_TOWN}-2026")
    return staff(network, f"koordination{demo}", "demo-region-2026")


def outcome(network: Network, r: Row, method: str, who: Credentials,
            values: dict[str, str]) -> tuple[str, str]:
    headers, cookies = {}, {"soesmart_csrf": CSRF}
    if r.rule.startswith("/api/"):
        if who.bearer:
            headers["Authorization"] = f"Bearer {who.bearer}"
    else:
        cookies.update(who.cookies or {})
    kwargs: dict[str, Any] = {"headers": headers, "cookies": cookies, "allow_redirects": False,
                              "timeout": 15}
    if r.json is not None:
        kwargs["json"] = r.json
    elif method in ("POST", "PUT", "PATCH", "DELETE"):
        kwargs["data"] = {"csrf": CSRF, **(r.form or {})}
    response = requests.request(method, network.url + r.path(values), **kwargs)
    status = response.status_code
    detail = f"{status} {response.text[:120]!r}"
    # A page may send a stranger to a sign-in form instead of answering 401 (a sign-out
    # sends everyone there, which is no refusal).
    location = response.headers.get("Location", "")
    if status in (302, 303) and not r.ends_session and re.search(r"/anmelden(\?|$)", location):
        return "401", detail
    if status in (401, 403) or status >= 500:
        return str(status), detail  # a 5xx never counts as "got past the check"
    return "ok", detail


def test_every_route_answers_every_role_as_the_table_says(network: Network) -> None:
    who = {role: credentials(network, role) for role in ROLES}
    consultations = network.get(f"/api/v1/towns/{THIS_TOWN}/consultations").json()
    values = {**PLACEHOLDERS, "<string:cid>": consultations["items"][0]["id"]}
    ordered = sorted(ROWS, key=lambda r: r.ends_session)
    wrong = []
    for r in ordered:
        for method in r.method.split(","):  # a route of several methods: each of them
            for role, expected in zip(ROLES, r.expect.split(), strict=True):
                creds = credentials(network, role) if r.ends_session and role in (
                    "admin_here", "admin_other", "coordinator") else who[role]
                got, detail = outcome(network, r, method, creds, values)
                if got != expected:
                    wrong.append(f"{method} {r.path(values)} as {role}: expected {expected}, "
                                 f"got {detail}")
    assert not wrong, "\n".join(wrong)
