"""The download-then-erasure journey, run on SQLite and on PostgreSQL networks alike."""

from __future__ import annotations

import uuid

import requests

from services.gateway.web.citizen_sessions import CITIZEN_COOKIE
from services.notifications.domain.consent import address_hash
from tests.support.infra import eventually
from tests.support.network import Network
from tests.support.personal_data import leave_traces, traces_of, wait_for_export


def assert_download_then_erasure(network: Network, town: str = "soest") -> None:
    address = f"daten-{uuid.uuid4().hex[:8]}@example.org"
    # Given a person with an account, two subscriptions, a rating and mails sent
    auth = leave_traces(network, town, address)
    # When they download their data: the town's part and the notifications service's
    data = wait_for_export(network, town, auth)
    assert data["participation"]["email"] == address
    held = data["notifications"]
    assert [c["action"] for c in held["consents"]] == ["given", "given"]
    assert {c["channel"] for c in held["consents"]} == {"double-opt-in", "registration"}
    assert all(c["text_version"] for c in held["consents"])
    cookie = {CITIZEN_COOKIE: auth["Authorization"].removeprefix("Bearer c.")}
    page = network.get(f"/stadt/{town}/meine-daten", cookies=cookie)
    assert page.status_code == 200 and "Einwilligungen" in page.text
    file = network.get(f"/stadt/{town}/meine-daten/download", cookies=cookie)
    assert file.headers["Content-Disposition"].startswith("attachment;")
    assert file.json()["notifications"]["subscriptions"]
    assert traces_of(network, address), "the search finds the address before the erasure"

    # When they erase their account
    r = requests.delete(f"{network.url}/api/v1/towns/{town}/me", headers=auth, timeout=10)
    assert r.status_code == 200, r.text
    # Then no database of the network holds the address in any form, only its keyed hash
    eventually(lambda: not traces_of(network, address), timeout=20, interval=0.5,
               message="the address is gone from every database")
    hashed = address_hash(network.env()["SOESMART_SECRET_KEY"], address)
    assert traces_of(network, hashed), "the consent log keeps its rows under the keyed hash"
