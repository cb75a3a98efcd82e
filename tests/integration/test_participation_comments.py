"""Comments with one level of replies, flags, ideas and their decisions, and moderation
with its log, on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid

import pytest
from nameko.testing.services import worker_factory
from pydantic import ValidationError

from services.participation.adapters import tables as t
from services.participation.domain.model import (
    CommentNotFound,
    IdeaAlreadyDecided,
    IdeaNotFound,
    RateLimited,
    ReplyToReply,
)
from services.participation.entrypoints.service import ParticipationService
from services.participation.service_layer import demo_data
from services.participation.service_layer.handlers import ParticipationApp
from soesmart.config import Settings
from soesmart.contracts import (
    DecideIdea,
    FlagComment,
    Moderate,
    PostComment,
    ProposeIdea,
    idea_measure_code,
)
from tests.support.citizens import confirmed_citizen, outbox_events
from tests.support.participation import Clock, all_rows, count, open_consultation, town_app

CODE = "VEP-RAD-02"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(settings: Settings, clock: Clock) -> ParticipationApp:
    app = town_app(settings, clock)
    open_consultation(app, (CODE, "VEP-FUSS-01"))
    return app


def comment(app: ParticipationApp, who: uuid.UUID, body: str = "Gute Sache", **kw: object):  # type: ignore[no-untyped-def]
    return app.post_comment(PostComment(citizen_id=who, measure_code=CODE, body=body, **kw))  # type: ignore[arg-type]


def idea(app: ParticipationApp, who: uuid.UUID, title: str = "Mehr Fahrradbügel"):  # type: ignore[no-untyped-def]
    return app.propose_idea(ProposeIdea(
        citizen_id=who, title=title, description="Am Bahnhof fehlen sichere Abstellplätze für Räder.",
        field_of_action="cycling", place="Bahnhof"))


# --------------------------------------------------------------------------- comments
def test_comments_are_listed_newest_first_with_replies_oldest_first_and_no_addresses(
    app: ParticipationApp, clock: Clock,
) -> None:
    anna = confirmed_citizen(app, "anna@example.org", display_name="Anna")
    ben = confirmed_citizen(app, "ben@example.org", display_name="Ben")
    first = comment(app, anna, "Erster Kommentar")
    clock.advance(minutes=1)
    second = comment(app, ben, "Zweiter Kommentar")
    clock.advance(minutes=1)
    reply_1 = comment(app, ben, "Antwort 1", parent_id=first.id)
    clock.advance(minutes=1)
    comment(app, anna, "Antwort 2", parent_id=first.id)

    listed = app.list_comments(CODE)
    assert [c.body for c in listed] == ["Zweiter Kommentar", "Erster Kommentar"]
    assert [r.body for r in listed[1].replies] == ["Antwort 1", "Antwort 2"]
    assert listed[1].replies[0].id == reply_1.id and listed[1].replies[0].display_name == "Ben"
    assert second.display_name == "Ben"
    dumped = str([c.model_dump() for c in listed])
    assert "@example.org" not in dumped
    posted = outbox_events(app, "CommentPosted")
    assert [e["parent_id"] for e in posted] == [None, None, str(first.id), str(first.id)]
    assert app.list_comments("VEP-FUSS-01") == []


@pytest.mark.parametrize("body", ["", "   \n ", "x" * 20000])
def test_an_empty_or_overlong_comment_is_a_field_error_and_writes_nothing(
    app: ParticipationApp, body: str,
) -> None:
    # Given the town instance's RPC entrypoint over this app, and a citizen who may comment
    service = worker_factory(ParticipationService, app=app)
    who = str(confirmed_citizen(app))
    before = all_rows(app)
    # When the comment comes as the gateway sends it
    reply = service.post_comment({"citizen_id": who, "measure_code": CODE, "body": body})
    # Then it is refused naming the field, and no table has a row more
    assert reply["ok"] is False and reply["error"]["code"] == "VALIDATION_FAILED", reply
    assert [d["field"] for d in reply["error"]["details"]] == ["body"]
    assert all_rows(app) == before
    # (the same way, a good comment is written: the refusal above was the body's)
    accepted = service.post_comment({"citizen_id": who, "measure_code": CODE, "body": "Gut"})
    assert accepted["ok"] is True and count(app, t.comments) == 1


def test_markup_is_stored_as_plain_text_as_given(app: ParticipationApp) -> None:
    who = confirmed_citizen(app)
    body = '<script>alert("x")</script> & <b>fett</b>'
    comment(app, who, body)
    assert app.list_comments(CODE)[0].body == body


def test_a_reply_to_a_reply_or_to_an_unknown_comment_is_refused_and_writes_nothing(
    app: ParticipationApp,
) -> None:
    who = confirmed_citizen(app)
    top = comment(app, who)
    reply = comment(app, who, "Antwort", parent_id=top.id)
    before = all_rows(app)
    with pytest.raises(ReplyToReply):
        comment(app, who, "Antwort auf Antwort", parent_id=reply.id)
    with pytest.raises(CommentNotFound):
        comment(app, who, "Ins Leere", parent_id=uuid.uuid4())
    with pytest.raises(CommentNotFound):  # a comment on another measure
        app.post_comment(PostComment(citizen_id=who, measure_code="VEP-FUSS-01", body="x",
                                     parent_id=top.id))
    assert all_rows(app) == before


def test_a_reply_is_announced_only_to_an_author_who_asked_and_is_still_there(
    app: ParticipationApp,
) -> None:
    wants = confirmed_citizen(app, "wants@example.org", notify_replies=True)
    quiet = confirmed_citizen(app, "quiet@example.org")
    replier = confirmed_citizen(app, "replier@example.org", display_name="Rita")
    asked, not_asked = comment(app, wants), comment(app, quiet)
    comment(app, replier, "Sehe ich auch so. " * 30, parent_id=asked.id)
    comment(app, replier, "Und hier?", parent_id=not_asked.id)
    comment(app, wants, "Danke!", parent_id=asked.id)  # own reply: no mail to oneself
    [replied] = outbox_events(app, "CommentReplied")
    assert replied["recipient_email"] == "wants@example.org" and replied["parent_id"] == str(asked.id)
    assert replied["replier_display_name"] == "Rita"
    assert replied["measure_title"] == "Radweg auf der ehemaligen Bahntrasse"
    assert len(replied["excerpt"]) <= 300
    # Once she erased her account, the announcement not yet sent goes with her address,
    # and a later reply is announced to nobody
    app.erase_citizen(wants)
    comment(app, replier, "Noch eine Antwort", parent_id=asked.id)
    assert outbox_events(app, "CommentReplied") == []


def test_a_citizen_flags_a_comment_once(app: ParticipationApp) -> None:
    author, flagger = confirmed_citizen(app), confirmed_citizen(app)
    target = comment(app, author)
    cmd = FlagComment(citizen_id=flagger, comment_id=target.id, reason="offensive", note="beleidigend")
    assert app.flag_comment(cmd) == {"flagged": True}
    before = all_rows(app)
    assert app.flag_comment(cmd.model_copy(update={"reason": "spam"})) == {"flagged": True}
    assert all_rows(app) == before and count(app, t.comment_flags) == 1
    with pytest.raises(CommentNotFound):
        app.flag_comment(FlagComment(citizen_id=flagger, comment_id=uuid.uuid4(), reason="spam"))


def test_comments_are_limited_per_citizen_and_per_client(settings: Settings, clock: Clock) -> None:
    app = town_app(settings, clock, limit_comments_per_citizen=3, limit_comments_per_client=4)
    open_consultation(app, (CODE,))
    anna, ben = confirmed_citizen(app), confirmed_citizen(app)
    for _ in range(3):
        comment(app, anna, client="c1")
        clock.advance(minutes=1)
    before = all_rows(app)
    with pytest.raises(RateLimited) as refused:
        comment(app, anna, client="c2")
    assert refused.value.details[0]["retry_after"] == 7 * 60
    assert all_rows(app) == before
    comment(app, ben, client="c1")
    with pytest.raises(RateLimited):
        comment(app, ben, client="c1")  # the client's fourth
    clock.advance(minutes=7)
    comment(app, anna, client="c2")


def test_flags_are_limited_per_citizen(settings: Settings, clock: Clock) -> None:
    app = town_app(settings, clock, limit_flags_per_citizen=2)
    open_consultation(app, (CODE,))
    author, flagger = confirmed_citizen(app), confirmed_citizen(app)
    targets = [comment(app, author, f"Kommentar {i}") for i in range(3)]
    for target in targets[:2]:
        app.flag_comment(FlagComment(citizen_id=flagger, comment_id=target.id, reason="spam"))
    with pytest.raises(RateLimited):
        app.flag_comment(FlagComment(citizen_id=flagger, comment_id=targets[2].id, reason="spam"))
    assert count(app, t.comment_flags) == 2


# --------------------------------------------------------------------------- ideas
def test_an_accepted_idea_becomes_a_proposed_measure_by_event(app: ParticipationApp) -> None:
    author = confirmed_citizen(app, "ideas@example.org", display_name="Ida")
    proposed = idea(app, author)
    assert proposed.status == "submitted" and proposed.display_name == "Ida"
    [submitted] = outbox_events(app, "IdeaSubmitted")
    assert submitted["idea_id"] == str(proposed.id)

    accepted = app.decide_idea(DecideIdea(idea_id=proposed.id, decision="accept",
                                          reason="Passt zum Radverkehrskonzept", actor="Admin"))
    assert accepted.status == "accepted"
    assert accepted.measure_code == idea_measure_code("soest", proposed.id)
    [event] = outbox_events(app, "IdeaAccepted")
    assert (event["title"], event["field_of_action"], event["place"]) == (
        "Mehr Fahrradbügel", "cycling", "Bahnhof")
    assert event["author_email"] == "ideas@example.org" and event["note"] == "Passt zum Radverkehrskonzept"
    with pytest.raises(IdeaAlreadyDecided):
        app.decide_idea(DecideIdea(idea_id=proposed.id, decision="decline", reason="Doch nicht",
                                   actor="Admin"))
    assert [i.id for i in app.list_ideas(status="accepted")] == [proposed.id]
    assert app.list_ideas(status="submitted") == []


def test_a_declined_idea_needs_a_reason_that_reaches_the_author(app: ParticipationApp) -> None:
    proposed = idea(app, confirmed_citizen(app, "ideas@example.org"))
    with pytest.raises(ValidationError):
        DecideIdea(idea_id=proposed.id, decision="decline", reason="", actor="Admin")
    declined = app.decide_idea(DecideIdea(idea_id=proposed.id, decision="decline",
                                          reason="Liegt nicht in unserer Zuständigkeit", actor="Admin"))
    assert declined.status == "declined" and declined.measure_code is None
    [event] = outbox_events(app, "IdeaDeclined")
    assert event["reason"] == "Liegt nicht in unserer Zuständigkeit"
    assert event["author_email"] == "ideas@example.org"
    with pytest.raises(IdeaNotFound):
        app.decide_idea(DecideIdea(idea_id=uuid.uuid4(), decision="accept", actor="Admin"))


# --------------------------------------------------------------------------- moderation
def test_moderators_see_flagged_and_new_content_hide_and_restore_and_every_act_is_logged(
    app: ParticipationApp, clock: Clock,
) -> None:
    author, a, b = confirmed_citizen(app), confirmed_citizen(app), confirmed_citizen(app)
    calm = comment(app, author, "Sachlicher Beitrag")
    rude = comment(app, author, "Unfreundlicher Beitrag")
    for who, reason in ((a, "offensive"), (b, "spam")):
        app.flag_comment(FlagComment(citizen_id=who, comment_id=rude.id, reason=reason))
    proposed = idea(app, a)

    queue = app.moderation_queue()
    [flagged] = queue.flagged
    assert flagged.target_id == rude.id and flagged.flags == 2
    assert flagged.flag_reasons == {"offensive": 1, "spam": 1}
    assert {(i.target_type, i.target_id) for i in queue.new} == {("comment", calm.id), ("idea", proposed.id)}

    clock.advance(minutes=5)
    act = app.moderate(Moderate(target_type="comment", target_id=rude.id, action="hide",
                                reason="Beleidigung", actor="Moderatorin M."))
    assert (act.action, act.actor, act.reason) == ("hide", "Moderatorin M.", "Beleidigung")
    assert [c.id for c in app.list_comments(CODE)] == [calm.id]  # gone at once
    app.moderate(Moderate(target_type="idea", target_id=proposed.id, action="hide", reason="Doppelt",
                          actor="Moderatorin M."))
    assert app.list_ideas() == [] and [i.hidden for i in app.list_ideas(include_hidden=True)] == [True]

    app.moderate(Moderate(target_type="comment", target_id=rude.id, action="restore", actor="Admin"))
    assert {c.id for c in app.list_comments(CODE)} == {calm.id, rude.id}
    app.moderate(Moderate(target_type="comment", target_id=rude.id, action="dismiss_flags", actor="Admin"))
    assert app.moderation_queue().flagged == ()

    log = app.moderation_log()
    assert [(x.target_type, x.action, x.actor) for x in log] == [
        ("comment", "dismiss_flags", "Admin"), ("comment", "restore", "Admin"),
        ("idea", "hide", "Moderatorin M."), ("comment", "hide", "Moderatorin M.")]
    assert log[-1].reason == "Beleidigung" and log[-1].at == act.at
    assert len(app.moderation_log(limit=1)) == 1


def test_hiding_needs_a_reason_and_an_existing_target(app: ParticipationApp) -> None:
    with pytest.raises(ValidationError):
        Moderate(target_type="comment", target_id=uuid.uuid4(), action="hide", reason="", actor="A")
    before = all_rows(app)
    with pytest.raises(CommentNotFound):
        app.moderate(Moderate(target_type="comment", target_id=uuid.uuid4(), action="restore", actor="A"))
    with pytest.raises(IdeaNotFound):
        app.moderate(Moderate(target_type="idea", target_id=uuid.uuid4(), action="restore", actor="A"))
    assert all_rows(app) == before


def test_a_reply_to_a_hidden_comment_is_refused(app: ParticipationApp) -> None:
    who = confirmed_citizen(app)
    top = comment(app, who)
    app.moderate(Moderate(target_type="comment", target_id=top.id, action="hide", reason="Spam",
                          actor="A"))
    with pytest.raises(CommentNotFound):
        comment(app, who, "Antwort", parent_id=top.id)


# --------------------------------------------------------------------------- demo data
def test_demo_data_is_marked_and_created_once(settings: Settings, clock: Clock) -> None:
    app = town_app(settings, clock, demo=True)
    again = town_app(settings, clock, demo=True)
    assert not demo_data.create_demo_participation(again.uow())
    assert count(app, t.citizens) == 3 and count(app, t.ideas) == 2
    listed = [c for code in ("VEP-RAD-01", "VEP-RAD-02") for c in app.list_comments(code)]
    assert all("(Demo)" in c.body for c in listed)
    assert any(c.replies for c in listed)
    assert {c.display_name for c in listed} <= {"Demo-Bürgerin 1", "Demo-Bürger 2"}
    assert all("(Demo)" in i.title for i in app.list_ideas())
    assert outbox_events(app) == []
