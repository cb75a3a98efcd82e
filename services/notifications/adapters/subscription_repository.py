"""Subscriptions with their consent, and recipients (one row per address), in the database."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from services.notifications.adapters import tables as t
from services.notifications.adapters.bulk import chunks, insert_rows
from services.notifications.domain import consent

Row = Mapping[Any, Any]  # a stored row, column name -> value


class SubscriptionRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -------------------------------------------------------------- subscriptions
    def of_scope(self, email: str, scope_type: str, scope_value: str) -> Row | None:
        """The address's subscription of one scope, locked for this transaction."""
        s = t.subscriptions
        return self.conn.execute(select(s).where(
            s.c.email == email, s.c.scope_type == scope_type, s.c.scope_value == scope_value,
        ).with_for_update()).mappings().first()

    def has_scope(self, email: str, scope_type: str, scope_value: str) -> bool:
        """Whether the address has any subscription of the scope (also one it ended)."""
        s = t.subscriptions
        return self.conn.execute(select(s.c.id).where(
            s.c.email == email, s.c.scope_type == scope_type, s.c.scope_value == scope_value,
        )).first() is not None

    def by_id(self, subscription_id: str) -> Row | None:
        s = t.subscriptions
        return self.conn.execute(select(s).where(s.c.id == subscription_id)).mappings().first()

    def by_confirm_token(self, token_hash: str) -> Row | None:
        s = t.subscriptions
        return self.conn.execute(
            select(s).where(s.c.confirm_token_hash == token_hash).with_for_update()
        ).mappings().first()

    def ids_of(self, email: str) -> list[str]:
        s = t.subscriptions
        return list(self.conn.execute(select(s.c.id).where(s.c.email == email)).scalars())

    def confirmed_of(self, email: str) -> list[Row]:
        """The address's confirmed subscriptions, by scope."""
        s = t.subscriptions
        return list(self.conn.execute(
            select(s).where(s.c.email == email, s.c.status == "confirmed")
            .order_by(s.c.scope_type, s.c.scope_value)
        ).mappings())

    def from_consent(self, email: str, consent_pattern: str) -> list[str]:
        """Ids of the address's subscriptions not ended whose consent source is LIKE the pattern."""
        s = t.subscriptions
        return list(self.conn.execute(select(s.c.id).where(
            s.c.email == email, s.c.consent_source.like(consent_pattern),
            s.c.status != "unsubscribed")).scalars())

    def add(self, values: Mapping[str, Any]) -> None:
        self.conn.execute(insert(t.subscriptions).values(**values))

    def add_if_absent(self, values: Mapping[str, Any]) -> bool:
        """`add`, unless a concurrent transaction added the same scope first (then False)."""
        try:
            with self.conn.begin_nested():
                self.add(values)
        except IntegrityError:
            return False
        return True

    def change(self, subscription_id: str, values: Mapping[str, Any]) -> None:
        s = t.subscriptions
        self.conn.execute(update(s).where(s.c.id == subscription_id).values(**values))

    def set_language(self, email: str, language: str) -> None:
        """The language of the address and of all its subscriptions."""
        s, r = t.subscriptions, t.recipients
        self.conn.execute(update(r).where(r.c.email == email).values(language=language))
        self.conn.execute(update(s).where(s.c.email == email).values(language=language))

    def end(self, ids: list[str], now: datetime, channel: str = "mail-link") -> None:
        """End subscriptions; their news not yet sent is dropped (they asked for no more mail).

        Each confirmed one ended is a consent withdrawn, recorded in the consent log.
        """
        s, i = t.subscriptions, t.notification_items
        if not ids:
            return
        ended = self.conn.execute(select(s.c.id, s.c.email, s.c.scope_type, s.c.scope_value,
                                         s.c.language).where(
            s.c.id.in_(ids), s.c.status == "confirmed")).all()
        if ended:
            self.conn.execute(insert(t.consents), [dict(
                email=e, subscription_id=sid, purpose=f"{st}:{sv}", action=consent.WITHDRAWN,
                at=now, channel=channel, text_version=consent.text_version("unsubscribe", lang),
            ) for sid, e, st, sv, lang in ended])
        self.conn.execute(update(s).where(s.c.id.in_(ids), s.c.status != "unsubscribed").values(
            status="unsubscribed", unsubscribed_at=now, confirm_token_hash=None))
        self.conn.execute(delete(i).where(i.c.subscription_id.in_(ids)))

    def followers(self, scopes: Iterable[tuple[str, str]]) -> list[tuple[Any, ...]]:
        """(id, email, scope type, scope value, frequency) of the confirmed subscriptions of
        any of the (type, value) scopes whose address does not bounce."""
        s, r = t.subscriptions, t.recipients
        rows = self.conn.execute(
            select(s.c.id, s.c.email, s.c.scope_type, s.c.scope_value, s.c.frequency)
            .select_from(s.outerjoin(r, r.c.email == s.c.email))
            .where(
                s.c.status == "confirmed", r.c.bouncing_since.is_(None),
                or_(*(and_(s.c.scope_type == kind, s.c.scope_value == value)
                      for kind, value in scopes)),
            )
        ).all()
        return [tuple(row) for row in rows]

    # -------------------------------------------------------------- recipients
    def recipients(self, emails: Sequence[str], language: str, now: datetime) -> dict[str, Row]:
        """The recipient rows of `emails`, created where missing (older subscriptions)."""
        r = t.recipients
        found: dict[str, Row] = {}
        for chunk in chunks(list(emails), 500):
            for row in self.conn.execute(select(r).where(r.c.email.in_(chunk))).mappings():
                found[row["email"]] = row
        missing = [e for e in emails if e not in found]
        if missing:
            rows = [dict(id=str(uuid.uuid4()), email=e, language=language, created_at=now)
                    for e in missing]
            try:
                with self.conn.begin_nested():
                    insert_rows(self.conn, r, rows)
            except IntegrityError:  # created concurrently: read them back
                pass
            for chunk in chunks(missing, 500):
                for row in self.conn.execute(select(r).where(r.c.email.in_(chunk))).mappings():
                    found[row["email"]] = row
        return found

    def recipient(self, recipient_id: str) -> Row | None:
        r = t.recipients
        return self.conn.execute(select(r).where(r.c.id == recipient_id)).mappings().first()

    def recipient_email(self, recipient_id: str | None) -> str | None:
        r = t.recipients
        email = self.conn.execute(select(r.c.email).where(r.c.id == recipient_id)).scalar()
        return None if email is None else str(email)

    def is_bouncing(self, email: str) -> bool:
        r = t.recipients
        return self.conn.execute(
            select(r.c.id).where(r.c.email == email, r.c.bouncing_since.is_not(None))
        ).first() is not None

    def change_recipient(self, recipient_id: str, values: Mapping[str, Any]) -> None:
        r = t.recipients
        self.conn.execute(update(r).where(r.c.id == recipient_id).values(**values))

    def digests_sent(self, emails: list[str], column: str, now: datetime) -> None:
        """Record when the addresses got their daily or weekly digest (`column`)."""
        r = t.recipients
        self.conn.execute(update(r).where(r.c.email.in_(emails)).values({column: now}))
