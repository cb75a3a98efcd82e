"""A person's traces in the network: build them as a person does, then search every database.

`leave_traces` registers, confirms, subscribes, rates (following what is rated) and asks
for a sign-in link, so the address is in the town's instance, the subscriptions, the
consent log, the delivery log and the outboxes. `traces_of` reads every row of every
table of every instance's database (SQLite or PostgreSQL) and reports where the address
or a form of it appears: any capitalisation, URL- or HTML-encoded, base64, or the plain
SHA-256 the mail keys and rate limits used to name it by.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from typing import Any
from urllib.parse import quote

from sqlalchemy import MetaData, select

from soesmart.storage import make_engine
from soesmart.towns import towns
from tests.support.infra import eventually
from tests.support.network import Network

CODE = "VEP-RAD-02"  # region-wide demo measure: in every town's consultation


def variants(address: str) -> list[str]:
    """Lower-case forms of the address as it might be stored (rows are searched lower-cased)."""
    lower = address.lower()
    return sorted({lower, quote(lower, safe=""), quote(lower), html.escape(lower),
                   lower.replace("@", "&#64;"), lower.replace("@", "\\u0040"),
                   base64.b64encode(lower.encode()).decode().lower(),
                   hashlib.sha256(lower.encode()).hexdigest()[:24],
                   hashlib.sha256(lower.encode()).hexdigest()[:40]})


def instance_urls(network: Network) -> dict[str, str]:
    urls = {name: network.database_url(name) for name in ("gateway", "measures", "notifications")}
    for town in towns():
        urls[town.service_name] = network.database_url("participation", town.slug)
    return urls


def traces_of(network: Network, address: str) -> list[str]:
    """`instance.table: row` for every row that contains a form of the address."""
    forms = variants(address)
    found = []
    for instance, url in instance_urls(network).items():
        engine = make_engine(url)
        try:
            metadata = MetaData()
            metadata.reflect(engine)
            with engine.connect() as conn:
                for table in metadata.sorted_tables:
                    for row in conn.execute(select(table)).all():
                        text = " ".join(str(v) for v in row).lower()
                        if any(form in text for form in forms):
                            found.append(f"{instance}.{table.name}: {text[:200]}")
        finally:
            engine.dispose()
    return found


def leave_traces(network: Network, town: str, address: str) -> dict[str, str]:
    """A confirmed citizen of `town` who subscribed, rated and asked for a sign-in link."""
    token = network.citizen(town, address, follow_rated=True)
    auth = network.bearer(token)
    # A subscription of the region with the same address, confirmed by its mailed link
    r = network.post("/api/v1/subscriptions", json={"email": address, "scope_type": "region"})
    assert r.status_code == 202, r.text
    confirm = network.link_token(address.lower(), "/abo/bestaetigen")
    r = network.post("/api/v1/subscriptions/confirm", json={"token": confirm})
    assert r.status_code == 200, r.text
    r = network.post(f"/api/v1/towns/{town}/ratings", headers=auth,
                     json={"measure_code": CODE, "effectiveness": 4, "support": "yes"})
    assert r.status_code in (200, 201), r.text
    r = network.post(f"/api/v1/towns/{town}/sign-in", json={"email": address})
    assert r.status_code == 202, r.text
    return auth


def wait_for_export(network: Network, town: str, auth: dict[str, str]) -> dict[str, Any]:
    """The download once the follow subscription (from the rating) has reached it."""
    def complete() -> dict[str, Any] | None:
        r = network.get(f"/api/v1/towns/{town}/me/export", headers=auth)
        assert r.status_code == 200, r.text
        data = r.json()
        held = data["notifications"] or {}
        scopes = {s["scope_type"] for s in held.get("subscriptions", [])}
        sent = [d for d in held.get("deliveries", []) if d["cause"] == "sign_in"]
        return data if scopes == {"region", "measure"} and sent else None

    return eventually(complete, timeout=30, interval=0.3,
                      message="the download shows both subscriptions and the sign-in mail")


def keyed_hashes(rows: list[str]) -> list[str]:
    return [h for row in rows for h in re.findall(r"hmac:[0-9a-f]{64}", row)]
