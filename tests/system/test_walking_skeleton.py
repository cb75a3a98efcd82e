"""The walking skeleton as a person meets it: pages, a rating, the regional results, a mail."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.infra import eventually
from tests.support.network import Network, running_network
from tests.support.smtp import SmtpServer, text_of

CODE = "VEP-RAD-02"  # region-wide demo measure: in every town's consultation


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer) -> Iterator[Network]:
    with running_network(tmp_path_factory.mktemp("net"), smtp_url=smtp.url, smtp=smtp) as net:
        yield net


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
                          and ("Velorouten" in r.text or "Bahntrasse" in r.text) and r,
                          timeout=20, message=f"the page of {name} lists measures")
        heading = re.search(r"<h1[^>]*>(.*?)</h1>", page.text, re.S)
        assert page.status_code == 200 and heading and name in heading.group(1), f"/stadt/{slug}"


def _sign_up_in_the_browser_way(network: Network, town: str, address: str,
                                name: str, **choices: str) -> dict[str, str]:
    """Register with the form, open the link from the mail, press the button: the cookies."""
    csrf, cookies = _csrf_and_cookies(network, f"/stadt/{town}/registrieren")
    from soesmart.towns import towns

    form = {"csrf": csrf, "email": address, "postcode": towns().get(town).postcodes[0],
            "display_name": name, **choices}
    sent = network.post(f"/stadt/{town}/registrieren", data=form, cookies=cookies)
    assert sent.status_code == 200 and "Postfach" in sent.text, sent.text[-2000:]
    token = network.link_token(address, f"/stadt/{town}/bestaetigen")
    csrf, cookies = _csrf_and_cookies(network, f"/stadt/{town}/bestaetigen?token={token}", cookies)
    confirmed = network.post(f"/stadt/{town}/bestaetigen", data={"csrf": csrf, "token": token},
                             cookies=cookies, allow_redirects=False)
    assert confirmed.status_code == 303, confirmed.text
    cookies.update(confirmed.cookies)
    welcome = network.get(confirmed.headers["Location"], cookies=cookies)
    assert f"Willkommen, {name}!" in welcome.text
    return cookies


def test_a_citizen_rates_on_the_town_page_and_the_region_counts_it_once(network: Network) -> None:
    # Given a citizen of Olpe who registered and confirmed the address
    eventually(lambda: CODE in network.get("/stadt/olpe").text, timeout=20,
               message="the measure is on Olpe's page")
    anonymous = network.get("/stadt/olpe").text
    assert 'action="/stadt/olpe/bewertung"' not in anonymous, "only confirmed citizens rate"
    cookies = _sign_up_in_the_browser_way(network, "olpe", "anna.olpe@example.org", "Anna O.")
    csrf, cookies = _csrf_and_cookies(network, "/stadt/olpe", cookies)
    before = network.settled_results(CODE).get("towns", {}).get("olpe", {}).get("answers", 0)

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

    eventually(counted, timeout=5, message="the rating reaches the regional results")
    # Once nothing is left in Olpe's outbox or the measures queue: still one more
    olpe = network.settled_results(CODE)["towns"]["olpe"]
    assert olpe["answers"] == before + 1 and olpe["support"]["rather_yes"] >= 1

    # When the same citizen changes the answer, the tally moves instead of growing
    csrf, cookies = _csrf_and_cookies(network, "/stadt/olpe", cookies)
    changed = dict(answer, csrf=csrf, effectiveness="2", support="no")
    assert network.post("/stadt/olpe/bewertung", data=changed, cookies=cookies,
                        allow_redirects=False).status_code == 303

    def moved() -> dict | None:
        olpe = (network.results_for(CODE) or {})["towns"]["olpe"]
        return olpe if olpe["support"]["no"] >= 1 else None

    eventually(moved, timeout=5, message="the changed rating moves the tally")
    olpe = network.settled_results(CODE)["towns"]["olpe"]
    assert olpe["answers"] == before + 1 and olpe["support"]["no"] >= 1


def test_the_api_takes_a_rating_and_refuses_bad_input_without_writing(network: Network) -> None:
    # Menden's demo citizens answered too; this test adds exactly one answer to theirs.
    menden_before = network.settled_results(CODE).get("towns", {}).get("menden", {}).get("answers", 0)
    anonymous = network.post("/api/v1/towns/menden/ratings",
                             json={"measure_code": CODE, "effectiveness": 5})
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "UNAUTHORIZED"
    auth = network.bearer(network.citizen("menden"))
    ok = network.post("/api/v1/towns/menden/ratings", headers=auth,
                      json={"measure_code": CODE, "effectiveness": 5})
    assert ok.status_code == 201, ok.text
    again = network.post("/api/v1/towns/menden/ratings", headers=auth,
                         json={"measure_code": CODE, "effectiveness": 5})
    assert again.status_code == 200 and again.json()["changed"] is False
    # A citizen of Menden does not answer in Olpe
    elsewhere = network.post("/api/v1/towns/olpe/ratings", headers=auth,
                             json={"measure_code": CODE, "effectiveness": 5})
    assert elsewhere.status_code == 403, elsewhere.text

    bad_cases = [
        ({"measure_code": CODE, "effectiveness": 6}, 422, "effectiveness"),
        ({"measure_code": "VEP-NOPE-99", "effectiveness": 3}, 422, "measure_code"),
        ({"measure_code": CODE}, 422, "effectiveness"),
        ({"measure_code": CODE, "participant_id": str(uuid.uuid4()), "support": "yes"}, 422,
         "participant_id"),
        ({"measure_code": CODE, "support": "yes", "admin": True}, 422, "admin"),
    ]
    for body, status, field in bad_cases:
        r = network.post("/api/v1/towns/menden/ratings", json=body, headers=auth)
        assert r.status_code == status, (body, r.text)
        err = r.json()
        assert set(err) == {"error", "message", "details"}
        assert any(d.get("field") == field for d in err["details"]), (field, err)

    unknown_town = network.post("/api/v1/towns/atlantis/ratings", headers=auth,
                                json={"measure_code": CODE, "support": "yes"})
    assert unknown_town.status_code == 404 and unknown_town.json()["error"] == "UNKNOWN_TOWN"
    malformed = network.post("/api/v1/towns/menden/ratings", data="{not json",
                             headers={"Content-Type": "application/json", **auth})
    assert malformed.status_code == 400 and malformed.json()["error"] == "MALFORMED_JSON"
    huge = network.post("/api/v1/towns/menden/ratings", data="x" * 200_000,
                        headers={"Content-Type": "application/json", **auth})
    assert huge.status_code == 413 and huge.json()["error"] == "PAYLOAD_TOO_LARGE"

    # Nothing of the refused requests was counted: Menden has exactly the one answer above.
    eventually(lambda: (network.results_for(CODE) or {}).get("towns", {}).get("menden"),
               timeout=5, message="Menden's rating is counted")
    menden = network.settled_results(CODE)["towns"]["menden"]
    assert menden["answers"] == menden_before + 1


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
    assert "5 für Südwestfalen" in mail["From"]  # a regional change comes from the region
    assert len(status_mails()) == 1


def test_a_status_change_needs_the_coordinator_token(network: Network) -> None:
    anonymous = network.post("/api/v1/measures/VEP-RAD-01/status", json={"status": "decided"})
    assert anonymous.status_code == 401
    wrong = network.post("/api/v1/measures/VEP-RAD-01/status", json={"status": "decided"},
                         headers={"Authorization": "Bearer wrong"})
    assert wrong.status_code == 401  # an unknown token signs nobody in
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


def test_a_citizen_goes_from_registration_to_a_changed_rating_to_a_reply_by_mail(
    network: Network, smtp: SmtpServer
) -> None:
    # Anna registers in Soest, asks to hear of replies, and confirms by the link in her mail
    anna = network.bearer(network.citizen("soest", "anna.soest@example.org", "Anna S.",
                                          notify_replies=True))
    me = network.get("/api/v1/towns/soest/me", headers=anna).json()
    assert me["email"] == "anna.soest@example.org" and me["confirmed_at"]

    # She answers, then changes her answer: one rating, version 2
    for effectiveness in (3, 5):
        r = network.post("/api/v1/towns/soest/ratings", headers=anna,
                         json={"measure_code": CODE, "effectiveness": effectiveness,
                               "support": "yes"})
        assert r.status_code == 201, r.text
    mine = network.get("/api/v1/towns/soest/me/ratings", headers=anna).json()["items"]
    assert [(m["measure_code"], m["effectiveness"], m["version"]) for m in mine] == [(CODE, 5, 2)]

    # She comments; Ben replies
    posted = network.post(f"/api/v1/towns/soest/measures/{CODE}/comments", headers=anna,
                          json={"body": "Gute Idee, aber bitte mit <b>Beleuchtung</b>."})
    assert posted.status_code == 201, posted.text
    ben = network.bearer(network.citizen("soest", name="Ben"))
    reply = network.post(f"/api/v1/towns/soest/measures/{CODE}/comments", headers=ben,
                         json={"body": "Sehe ich genauso.", "parent_id": posted.json()["id"]})
    assert reply.status_code == 201, reply.text

    # Anna gets a mail about the reply, from Soest
    mail = eventually(lambda: next((m for m in smtp.to("anna.soest@example.org")
                                    if "Sehe ich genauso" in text_of(m)), None),
                      timeout=20, message="the reply reaches Anna by mail")
    assert "Ben" in text_of(mail)
    assert "Soest" in str(mail["From"])

    # The public discussion shows names, never addresses, and markup as text
    listing = network.get(f"/api/v1/towns/soest/measures/{CODE}/comments").json()["items"]
    mine_listed = next(c for c in listing if c["id"] == posted.json()["id"])
    assert mine_listed["display_name"] == "Anna S."
    assert [r["body"] for r in mine_listed["replies"]] == ["Sehe ich genauso."]
    paged = network.get(f"/api/v1/towns/soest/measures/{CODE}/comments?per_page=1").json()
    assert len(paged["items"]) == 1 and paged["total"] >= 1 and paged["per_page"] == 1
    bad = network.get(f"/api/v1/towns/soest/measures/{CODE}/comments?page=0")
    assert bad.status_code == 422 and bad.json()["details"][0]["field"] == "page"
    page = network.get(f"/stadt/soest/massnahmen/{CODE}").text
    assert "&lt;b&gt;Beleuchtung&lt;/b&gt;" in page and "anna.soest@example.org" not in page
