"""The walking skeleton as a person meets it: pages, a rating, the regional results, a mail."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.infra import eventually
from tests.support.network import Network
from tests.support.smtp import SmtpServer, text_of

CODE = "VEP-RAD-02"  # region-wide demo measure: in every town's consultation


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer) -> Iterator[Network]:
    from tests.support.infra import create_vhost, delete_vhost

    vhost, url = create_vhost()
    net = Network(data_dir=tmp_path_factory.mktemp("net"), broker_url=url, vhost=vhost,
                  smtp_url=smtp.url)
    try:
        net.start()
        yield net
    finally:
        net.stop()
        delete_vhost(vhost)


def _csrf_and_cookies(network: Network, path: str,
                      cookies: dict[str, str] | None = None) -> tuple[str, dict[str, str]]:
    page = network.get(path, cookies=cookies)
    assert page.status_code == 200
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token, "the form carries a CSRF token"
    return token.group(1), {**(cookies or {}), **dict(page.cookies)}


def test_every_town_has_a_page_with_its_open_consultation(network: Network) -> None:
    home = network.get("/")
    assert home.status_code == 200
    assert '<html lang="de">' in home.text
    for slug, name in [("soest", "Soest"), ("arnsberg", "Arnsberg"),
                       ("bad-berleburg", "Bad Berleburg"), ("menden", "Menden"), ("olpe", "Olpe")]:
        assert f'href="/stadt/{slug}"' in home.text
        page = eventually(lambda s=slug: (r := network.get(f"/stadt/{s}")).status_code == 200
                          and "Velorouten" in r.text or "Bahntrasse" in r.text and r,
                          timeout=20, message=f"the page of {name} lists measures")
        assert page


def test_a_citizen_rates_on_the_town_page_and_the_region_counts_it_once(network: Network) -> None:
    # Given a citizen on the page of Olpe
    eventually(lambda: CODE in network.get("/stadt/olpe").text, timeout=20,
               message="the measure is on Olpe's page")
    csrf, cookies = _csrf_and_cookies(network, "/stadt/olpe")
    before = (network.results_for(CODE) or {}).get("towns", {}).get("olpe", {}).get("answers", 0)

    # When they answer both questions and send the form
    answer = {"csrf": csrf, "measure_code": CODE, "effectiveness": "4", "support": "rather_yes"}
    sent = network.post("/stadt/olpe/bewertung", data=answer, cookies=cookies,
                        allow_redirects=False)
    assert sent.status_code == 303
    cookies.update(sent.cookies)
    confirmation = network.get(sent.headers["Location"], cookies=cookies)
    assert "ist gespeichert" in confirmation.text

    # Then the regional results show it under Olpe, once
    def counted() -> dict | None:
        olpe = (network.results_for(CODE) or {}).get("towns", {}).get("olpe")
        return olpe if olpe and olpe["answers"] == before + 1 else None

    olpe = eventually(counted, timeout=5, message="the rating reaches the regional results")
    assert olpe["support"]["rather_yes"] >= 1

    # When the same citizen changes the answer, the tally moves instead of growing
    csrf, cookies = _csrf_and_cookies(network, "/stadt/olpe", cookies)
    changed = dict(answer, csrf=csrf, effectiveness="2", support="no")
    assert network.post("/stadt/olpe/bewertung", data=changed, cookies=cookies,
                        allow_redirects=False).status_code == 303

    def moved() -> dict | None:
        olpe = (network.results_for(CODE) or {})["towns"]["olpe"]
        return olpe if olpe["support"]["no"] >= 1 else None

    olpe = eventually(moved, timeout=5, message="the changed rating moves the tally")
    assert olpe["answers"] == before + 1


def test_the_api_takes_a_rating_and_refuses_bad_input_without_writing(network: Network) -> None:
    pid = str(uuid.uuid4())
    ok = network.post("/api/v1/towns/menden/ratings",
                      json={"measure_code": CODE, "participant_id": pid, "effectiveness": 5})
    assert ok.status_code == 201, ok.text
    again = network.post("/api/v1/towns/menden/ratings",
                         json={"measure_code": CODE, "participant_id": pid, "effectiveness": 5})
    assert again.status_code == 200 and again.json()["changed"] is False

    bad_cases = [
        ({"measure_code": CODE, "participant_id": pid, "effectiveness": 6}, 422, "effectiveness"),
        ({"measure_code": "VEP-NOPE-99", "participant_id": pid, "effectiveness": 3}, 422,
         "measure_code"),
        ({"measure_code": CODE, "participant_id": pid}, 422, "effectiveness"),
        ({"measure_code": CODE, "participant_id": "not-a-uuid", "support": "yes"}, 422,
         "participant_id"),
        ({"measure_code": CODE, "participant_id": pid, "support": "yes", "admin": True}, 422,
         "admin"),
    ]
    for body, status, field in bad_cases:
        r = network.post("/api/v1/towns/menden/ratings", json=body)
        assert r.status_code == status, (body, r.text)
        err = r.json()
        assert set(err) == {"error", "message", "details"}
        assert any(d.get("field") == field for d in err["details"]), (field, err)

    unknown_town = network.post("/api/v1/towns/atlantis/ratings",
                                json={"measure_code": CODE, "participant_id": pid, "support": "yes"})
    assert unknown_town.status_code == 404 and unknown_town.json()["error"] == "UNKNOWN_TOWN"
    malformed = network.post("/api/v1/towns/menden/ratings", data="{not json",
                             headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400 and malformed.json()["error"] == "MALFORMED_JSON"
    huge = network.post("/api/v1/towns/menden/ratings", data="x" * 200_000,
                        headers={"Content-Type": "application/json"})
    assert huge.status_code == 413 and huge.json()["error"] == "PAYLOAD_TOO_LARGE"

    # Nothing of the refused requests was counted: Menden has exactly the one answer above.
    menden = eventually(lambda: (network.results_for(CODE) or {}).get("towns", {}).get("menden"),
                        timeout=5, message="Menden's rating is counted")
    assert menden["answers"] == 1


def test_a_subscriber_is_mailed_when_a_coordinator_changes_the_status(
    network: Network, smtp: SmtpServer
) -> None:
    address = f"buerger-{uuid.uuid4().hex[:6]}@example.org"
    code = "VEP-FUSS-01"

    # Given a person who subscribed and confirmed by the link in the mail
    r = network.post("/api/v1/subscriptions", json={"email": address, "measure_code": code})
    assert r.status_code == 202, r.text
    confirm_mail = eventually(lambda: smtp.to(address), timeout=10,
                              message="the confirmation mail arrives")[0]
    assert "bestätigen" in confirm_mail["Subject"]
    link = re.search(r"(http://\S+/abo/bestaetigen\?token=\S+)", text_of(confirm_mail)).group(1)
    assert link.startswith(network.url)
    token = link.split("token=")[1]
    page = network.get(f"/abo/bestaetigen?token={token}")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    done = network.post("/abo/bestaetigen", data={"csrf": csrf, "token": token},
                        cookies=page.cookies)
    assert "bestätigt" in done.text
    reused = network.post("/api/v1/subscriptions/confirm", json={"token": token})
    assert reused.status_code == 400 and reused.json()["error"] == "INVALID_LINK"

    # When a coordinator changes the measure's status
    change = network.post(
        f"/api/v1/measures/{code}/status",
        json={"status": "decided", "note": "Der Rat hat die Maßnahme beschlossen."},
        headers={"Authorization": f"Bearer {network.token}"},
    )
    assert change.status_code == 200, change.text

    # Then exactly one mail about it reaches the subscriber, with a one-click unsubscribe
    def status_mails() -> list:
        return [m for m in smtp.to(address) if "Neuer Stand" in m["Subject"]]

    mail = eventually(status_mails, timeout=10, message="the status mail arrives")[0]
    body = text_of(mail)
    assert "Beschlossen" in body and "Der Rat hat die Maßnahme beschlossen." in body
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail["List-Unsubscribe"].startswith(f"<{network.url}/abo/abmelden")
    assert "Bürgerbeteiligung" in mail["From"]
    assert len(status_mails()) == 1


def test_a_status_change_needs_the_coordinator_token(network: Network) -> None:
    anonymous = network.post("/api/v1/measures/VEP-RAD-01/status", json={"status": "decided"})
    assert anonymous.status_code == 401
    wrong = network.post("/api/v1/measures/VEP-RAD-01/status", json={"status": "decided"},
                         headers={"Authorization": "Bearer wrong"})
    assert wrong.status_code == 403
    measure = network.get("/api/v1/measures/VEP-RAD-01").json()
    assert measure["status"] == "in_consultation"


def test_without_smtp_the_mail_is_written_as_an_eml_file(
    tmp_path: Path,
) -> None:
    from tests.support.infra import create_vhost, delete_vhost

    vhost, url = create_vhost()
    net = Network(data_dir=tmp_path, broker_url=url, vhost=vhost)
    try:
        net.start(only=["measures", "notifications", "gateway"])
        r = net.post("/api/v1/subscriptions",
                     json={"email": "eml@example.org", "measure_code": "MPK-EN-01"})
        assert r.status_code == 202, r.text
        files = eventually(lambda: list((tmp_path / "mail").glob("*.eml")), timeout=10,
                           message="an .eml file is written")
        content = files[0].read_bytes().decode("utf-8", "replace")
        assert "eml@example.org" in content
    finally:
        net.stop()
        delete_vhost(vhost)


def test_a_town_subscriber_manages_their_settings_by_the_link_in_the_mail(
    network: Network, smtp: SmtpServer
) -> None:
    address = f"einstellungen-{uuid.uuid4().hex[:6]}@example.org"
    # Given a reserved domain is refused with a clear message, and a real one accepted
    refused = network.post("/api/v1/subscriptions",
                           json={"email": "a@rathaus.example", "scope_type": "region"})
    assert refused.status_code == 422 and refused.json()["details"][0]["field"] == "email"
    r = network.post("/api/v1/subscriptions",
                     json={"email": address, "scope_type": "town", "scope_value": "menden",
                           "frequency": "daily"})
    assert r.status_code == 202, r.text
    mail = eventually(lambda: smtp.to(address), timeout=10, message="confirmation arrives")[0]
    token = re.search(r"token=(\S+)", text_of(mail)).group(1)
    confirmed = network.post("/api/v1/subscriptions/confirm", json={"token": token}).json()

    # When they open their settings page by the signed link and switch to weekly
    link = f"/abo/einstellungen?token={confirmed['preferences_token']}"
    page = network.get(link)
    assert page.status_code == 200 and "Beteiligungen und Maßnahmen in Menden" in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    sub_id = re.search(r'name="freq-([^"]+)"', page.text).group(1)
    saved = network.post("/abo/einstellungen", cookies=page.cookies,
                         data={"csrf": csrf, "token": confirmed["preferences_token"],
                               "language": "de", f"freq-{sub_id}": "weekly", "action": "save"})

    # Then the change is saved, and a tampered link shows a clear page and changes nothing
    assert saved.status_code == 200 and "gespeichert" in saved.text
    assert 'value="weekly" selected' in saved.text
    tampered = network.get(link[:-2] + "00")
    assert tampered.status_code == 400 and "ungültig" in tampered.text

    # And the coordinators can read the delivery log; nobody else can
    log = network.get("/api/v1/admin/deliveries",
                      headers={"Authorization": f"Bearer {network.token}"})
    assert log.status_code == 200 and any(c["cause"] == "confirm_subscription"
                                          for c in log.json()["counts"])
    assert network.get("/api/v1/admin/deliveries").status_code == 401
