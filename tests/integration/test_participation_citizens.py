"""Citizens of a town instance: registration with double opt-in, sign-in links, "Meine Daten",
erasure, rate limits on links, and that only confirmed citizens rate (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import uuid

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from services.participation.adapters import tables as t
from services.participation.domain.model import (
    CitizenNotConfirmed,
    CitizenNotFound,
    LinkInvalid,
    PostcodeNotInTown,
    PostcodeOfOtherTown,
    RateLimited,
)
from services.participation.service_layer.handlers import ParticipationApp
from soesmart.config import Settings
from soesmart.contracts import (
    LinkSent,
    PostComment,
    ProposeIdea,
    RateMeasure,
    RedeemLink,
    RegisterCitizen,
    RequestSignIn,
    Support,
    UpdateCitizen,
)
from tests.support.citizens import confirmed_citizen, last_token, outbox_events
from tests.support.participation import Clock, all_rows, count, open_consultation, town_app

CODE = "VEP-RAD-02"
EMAIL = "Anna.Beispiel@example.org"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(settings: Settings, clock: Clock) -> ParticipationApp:
    app = town_app(settings, clock)
    open_consultation(app, (CODE,))
    return app


def register(app: ParticipationApp, email: str = EMAIL, postcode: str = "59494", **kw: object) -> LinkSent:
    return app.register_citizen(RegisterCitizen(email=email, postcode=postcode,
                                                display_name="Anna B.", **kw))  # type: ignore[arg-type]


def links(app: ParticipationApp, purpose: str | None = None) -> list[dict]:
    return [e for e in outbox_events(app, "CitizenLinkRequested")
            if purpose is None or e["purpose"] == purpose]


# --------------------------------------------------------------------------- registration
def test_a_resident_registers_and_gets_a_confirmation_link_whose_token_only_the_mail_knows(
    app: ParticipationApp, clock: Clock,
) -> None:
    assert register(app) == LinkSent()
    [link] = links(app)
    assert link["purpose"] == "confirm_registration" and link["email"] == EMAIL
    assert link["town"] == "soest" and link["display_name"] == "Anna B."
    assert len(link["token"]) >= 40
    assert link["expires_at"].startswith("2026-03-03T09:00")  # 24 hours
    with app.engine.connect() as conn:
        stored = conn.execute(select(t.citizen_links.c.token_hash)).scalars().all()
    assert stored == [hashlib.sha256(link["token"].encode()).hexdigest()]


def test_a_postcode_of_another_town_points_to_that_town_and_writes_nothing(app: ParticipationApp) -> None:
    before = all_rows(app)
    with pytest.raises(PostcodeOfOtherTown) as refused:
        register(app, postcode="59821")
    assert "Bitte beteiligen Sie sich in Arnsberg" in str(refused.value)
    [detail] = refused.value.details
    assert detail["field"] == "postcode" and detail["town"] == "arnsberg"
    assert detail["town_name"] == "Arnsberg"
    assert all_rows(app) == before


def test_an_unknown_postcode_is_refused_and_writes_nothing(app: ParticipationApp) -> None:
    before = all_rows(app)
    with pytest.raises(PostcodeNotInTown) as refused:
        register(app, postcode="10115")
    assert refused.value.details[0]["field"] == "postcode"
    assert all_rows(app) == before


def test_registering_again_gives_the_same_answer_and_at_most_one_link_per_window(
    app: ParticipationApp, clock: Clock,
) -> None:
    assert register(app) == LinkSent()
    clock.advance(seconds=30)
    assert register(app, email=EMAIL.upper()) == LinkSent()  # the same address, however written
    assert len(links(app)) == 1 and count(app, t.citizens) == 1
    clock.advance(minutes=3)
    assert register(app) == LinkSent()
    assert len(links(app, "confirm_registration")) == 2
    # both links work until one of them is used
    session = app.confirm_citizen(RedeemLink(token=links(app)[1]["token"]))
    assert session.confirmed


def test_a_confirmed_address_registering_again_gets_a_sign_in_link_and_the_same_answer(
    app: ParticipationApp, clock: Clock,
) -> None:
    citizen = confirmed_citizen(app, EMAIL)
    clock.advance(minutes=5)
    assert register(app) == LinkSent()
    [sign_in] = links(app, "sign_in")
    assert sign_in["expires_at"].startswith("2026-03-02T09:35")  # 30 minutes
    session = app.redeem_sign_in(RedeemLink(token=sign_in["token"]))
    assert session.citizen_id == citizen and session.display_name == "Testperson"


def test_a_display_name_must_not_be_an_address_and_a_field_error_says_so() -> None:
    with pytest.raises(ValidationError) as refused:
        RegisterCitizen(email=EMAIL, postcode="59494", display_name="anna@example.org")
    assert refused.value.errors()[0]["loc"] == ("display_name",)


# --------------------------------------------------------------------------- confirmation
def test_confirming_marks_the_citizen_confirmed_and_tells_the_region(app: ParticipationApp) -> None:
    register(app)
    session = app.confirm_citizen(RedeemLink(token=last_token(app, EMAIL)))
    assert session.confirmed and session.town == "soest"
    [event] = outbox_events(app, "CitizenConfirmed")
    assert event["citizen_id"] == str(session.citizen_id)
    assert app.citizen_session(session.citizen_id) == session


@pytest.mark.parametrize("case", ["expired", "reused", "tampered", "wrong_purpose"])
def test_a_bad_confirmation_link_is_refused_and_changes_nothing(
    app: ParticipationApp, clock: Clock, case: str,
) -> None:
    register(app)
    token = last_token(app, EMAIL)
    if case == "expired":
        clock.advance(hours=24, seconds=1)
    elif case == "reused":
        app.confirm_citizen(RedeemLink(token=token))
    elif case == "tampered":
        token = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    before = all_rows(app)
    with app.engine.connect() as conn:
        citizen_before = conn.execute(select(t.citizens)).mappings().all()
    with pytest.raises(LinkInvalid) as refused:
        if case == "wrong_purpose":
            app.redeem_sign_in(RedeemLink(token=token))
        else:
            app.confirm_citizen(RedeemLink(token=token))
    assert "ungültig" in str(refused.value)
    assert all_rows(app) == before
    with app.engine.connect() as conn:
        assert conn.execute(select(t.citizens)).mappings().all() == citizen_before


# --------------------------------------------------------------------------- sign-in
def test_sign_in_by_link_for_a_confirmed_citizen(app: ParticipationApp, clock: Clock) -> None:
    citizen = confirmed_citizen(app, EMAIL)
    assert app.request_sign_in(RequestSignIn(email=EMAIL)) == LinkSent()
    token = last_token(app, EMAIL, "sign_in")
    assert app.redeem_sign_in(RedeemLink(token=token)).citizen_id == citizen
    with pytest.raises(LinkInvalid):
        app.redeem_sign_in(RedeemLink(token=token))  # single use


def test_a_sign_in_link_expires_after_30_minutes(app: ParticipationApp, clock: Clock) -> None:
    confirmed_citizen(app, EMAIL)
    app.request_sign_in(RequestSignIn(email=EMAIL))
    clock.advance(minutes=31)
    with pytest.raises(LinkInvalid):
        app.redeem_sign_in(RedeemLink(token=last_token(app, EMAIL, "sign_in")))


def test_an_unknown_address_asking_to_sign_in_gets_the_same_answer_and_no_mail(
    app: ParticipationApp,
) -> None:
    assert app.request_sign_in(RequestSignIn(email="niemand@example.org")) == LinkSent()
    assert links(app) == [] and count(app, t.citizens) == 0


# --------------------------------------------------------------------------- rate limits
def test_links_to_one_address_are_limited_per_hour_with_retry_after(
    app: ParticipationApp, clock: Clock,
) -> None:
    for _ in range(5):
        register(app)
        clock.advance(minutes=3)
    before = all_rows(app)
    with pytest.raises(RateLimited) as refused:
        app.request_sign_in(RequestSignIn(email=EMAIL))
    retry_after = refused.value.details[0]["retry_after"]
    assert retry_after == 45 * 60  # the oldest of the five leaves the hour then
    assert all_rows(app) == before
    clock.advance(seconds=retry_after)
    assert app.request_sign_in(RequestSignIn(email=EMAIL)) == LinkSent()


def test_links_from_one_client_are_limited_whatever_the_address(
    settings: Settings, clock: Clock,
) -> None:
    app = town_app(settings, clock, limit_links_per_client=3)
    for i in range(3):
        register(app, email=f"person{i}@example.org", client="client-a")
    with pytest.raises(RateLimited) as refused:
        register(app, email="person9@example.org", client="client-a")
    assert refused.value.details[0]["retry_after"] == 3600
    assert register(app, email="person9@example.org", client="client-b") == LinkSent()


# --------------------------------------------------------------------------- who may take part
def test_only_confirmed_citizens_rate_comment_and_propose(app: ParticipationApp) -> None:
    register(app)
    with app.engine.connect() as conn:
        unconfirmed = uuid.UUID(conn.execute(select(t.citizens.c.id)).scalar_one())
    before = all_rows(app)
    for who, error in ((unconfirmed, CitizenNotConfirmed), (uuid.uuid4(), CitizenNotFound)):
        with pytest.raises(error):
            app.rate(RateMeasure(measure_code=CODE, participant_id=who, effectiveness=4))
        with pytest.raises(error):
            app.post_comment(PostComment(citizen_id=who, measure_code=CODE, body="Gute Sache"))
        with pytest.raises(error):
            app.propose_idea(ProposeIdea(citizen_id=who, title="Mehr Bänke",
                                         description="Bänke entlang der Wege zum Ausruhen.",
                                         field_of_action="walking"))
    assert all_rows(app) == before


def test_one_answer_per_citizen_and_measure_changeable_while_open_and_its_version_grows(
    app: ParticipationApp,
) -> None:
    citizen = confirmed_citizen(app)
    first = app.rate(RateMeasure(measure_code=CODE, participant_id=citizen, effectiveness=2))
    second = app.rate(RateMeasure(measure_code=CODE, participant_id=citizen, effectiveness=5,
                                  support=Support.YES))
    assert second.rating_id == first.rating_id and (first.version, second.version) == (1, 2)
    assert [e["version"] for e in outbox_events(app, "RatingRecorded")] == [1, 2]
    [mine] = app.my_ratings(citizen)
    assert (mine["measure_code"], mine["effectiveness"], mine["support"], mine["version"]) == (
        CODE, 5, "yes", 2)


def test_a_citizen_who_follows_what_they_rate_is_followed_on_the_first_rating_only(
    app: ParticipationApp,
) -> None:
    follower = confirmed_citizen(app, follow_rated=True)
    other = confirmed_citizen(app)
    app.rate(RateMeasure(measure_code=CODE, participant_id=follower, effectiveness=3))
    app.rate(RateMeasure(measure_code=CODE, participant_id=follower, effectiveness=4))
    app.rate(RateMeasure(measure_code=CODE, participant_id=other, effectiveness=4))
    [follow] = outbox_events(app, "CitizenFollowsMeasure")
    assert follow["measure_code"] == CODE and follow["email"].startswith("citizen-")


# --------------------------------------------------------------------------- my data, erasure
def test_my_data_shows_everything_stored_and_can_be_changed(app: ParticipationApp) -> None:
    citizen = confirmed_citizen(app, EMAIL)
    app.rate(RateMeasure(measure_code=CODE, participant_id=citizen, support=Support.NO, reason="zu teuer"))
    app.post_comment(PostComment(citizen_id=citizen, measure_code=CODE, body="Meine Meinung"))
    app.propose_idea(ProposeIdea(citizen_id=citizen, title="Mehr Bänke",
                                 description="Bänke entlang der Wege zum Ausruhen.",
                                 field_of_action="walking"))
    view = app.get_citizen(citizen)
    assert (view.email, view.postcode, view.display_name) == (EMAIL, "59494", "Testperson")
    assert view.confirmed_at is not None
    assert [r["reason"] for r in view.ratings] == ["zu teuer"]
    assert [c["body"] for c in view.comments] == ["Meine Meinung"]
    assert [i["title"] for i in view.ideas] == ["Mehr Bänke"]
    changed = app.update_citizen(UpdateCitizen(citizen_id=citizen, display_name="Anna", notify_replies=True))
    assert changed.display_name == "Anna" and changed.notify_replies and not changed.follow_rated


def test_erasing_removes_personal_data_keeps_contributions_anonymous_and_mails_no_more(
    app: ParticipationApp, clock: Clock,
) -> None:
    citizen = confirmed_citizen(app, EMAIL, notify_replies=True)
    app.rate(RateMeasure(measure_code=CODE, participant_id=citizen, effectiveness=4))
    app.post_comment(PostComment(citizen_id=citizen, measure_code=CODE, body="Bleibt stehen"))
    app.request_sign_in(RequestSignIn(email=EMAIL))
    pending_link = last_token(app, EMAIL, "sign_in")

    assert app.erase_citizen(citizen) == {"erased": True}
    # the region is told in the same commit, so that notifications ends what came from it
    [erased] = outbox_events(app, "CitizenErased")
    assert (erased["town"], erased["email"]) == ("soest", EMAIL)

    with app.engine.connect() as conn:
        row = conn.execute(select(t.citizens)).mappings().one()
    assert (row["email"], row["email_key"], row["postcode"]) == (None, None, None)
    assert row["display_name"] == "Gelöschtes Konto"
    assert count(app, t.ratings) == 1  # still counted, anonymously
    [comment] = app.list_comments(CODE)
    assert comment.display_name == "Gelöschtes Konto" and comment.body == "Bleibt stehen"
    for call in (app.citizen_session, app.get_citizen, app.erase_citizen):
        with pytest.raises(CitizenNotFound):
            call(citizen)
    with pytest.raises(LinkInvalid):
        app.redeem_sign_in(RedeemLink(token=pending_link))
    # nothing of the instance writes to the address again
    links_before = len(links(app))
    clock.advance(minutes=10)
    app.request_sign_in(RequestSignIn(email=EMAIL))
    assert len(links(app)) == links_before
