"""A person's data in the notifications database: the consent log, the export, the erasure.

Addresses are stored lower-case everywhere in this service. Erasure removes the
address from every table; what must outlive it (that it unsubscribed or bounces)
stays as a keyed hash in `address_suppressions`, and the consent log and the
delivery log keep their rows under that hash.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from services.notifications.adapters import tables as t

Row = Mapping[Any, Any]


class PersonalData:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -------------------------------------------------------------- consent log
    def record(self, rows: Iterable[Mapping[str, Any]]) -> None:
        rows = list(rows)
        if rows:
            self.conn.execute(insert(t.consents), rows)

    def is_suppressed(self, address_hash: str) -> bool:
        a = t.address_suppressions
        return self.conn.execute(
            select(a.c.reason).where(a.c.address_hash == address_hash)).first() is not None

    # -------------------------------------------------------------- export
    def export(self, email: str) -> dict[str, list[dict[str, Any]]]:
        """Every row about the address: subscriptions, consents, deliveries, recipient, news."""
        s, c, d, r, i = (t.subscriptions, t.consents, t.deliveries, t.recipients,
                         t.notification_items)

        def rows(query: Any) -> list[dict[str, Any]]:
            return [dict(row) for row in self.conn.execute(query).mappings()]

        return {
            "recipient": rows(select(r.c.language, r.c.bouncing_since, r.c.bounce_reason,
                                     r.c.last_daily_digest_at, r.c.last_weekly_digest_at,
                                     r.c.created_at).where(r.c.email == email)),
            "subscriptions": rows(select(
                s.c.id, s.c.scope_type, s.c.scope_value, s.c.language, s.c.status, s.c.frequency,
                s.c.created_at, s.c.confirmed_at, s.c.unsubscribed_at, s.c.consent_source,
            ).where(s.c.email == email).order_by(s.c.created_at)),
            "consents": rows(select(c.c.at, c.c.action, c.c.purpose, c.c.channel,
                                    c.c.text_version, c.c.source, c.c.subscription_id)
                             .where(c.c.email == email).order_by(c.c.at, c.c.id)),
            "deliveries": rows(select(d.c.id, d.c.cause, d.c.subject, d.c.status, d.c.attempts,
                                      d.c.created_at, d.c.sent_at, d.c.last_error,
                                      d.c.sender_name)
                               .where(d.c.recipient == email).order_by(d.c.created_at)),
            "pending_news": rows(select(i.c.cause, i.c.kind, i.c.subscription_id, i.c.frequency,
                                        i.c.measure_code, i.c.occurred_at, i.c.due_at)
                                 .where(i.c.recipient == email).order_by(i.c.due_at)),
        }

    # -------------------------------------------------------------- erasure
    def erase(self, email: str, address_hash: str, key_fragments: Sequence[str],
              now: datetime) -> dict[str, int]:
        """Remove `email` everywhere; `key_fragments` are what the mail keys name it by."""
        s, d, r, i, c = (t.subscriptions, t.deliveries, t.recipients, t.notification_items,
                         t.consents)
        unsubscribed = self.conn.execute(select(func.count()).select_from(s).where(
            s.c.email == email, s.c.status == "unsubscribed")).scalar_one()
        bouncing = self.conn.execute(select(func.count()).select_from(r).where(
            r.c.email == email, r.c.bouncing_since.is_not(None))).scalar_one()
        for reason, present in (("bouncing", bouncing), ("unsubscribed", unsubscribed)):
            if present and not self.is_suppressed(address_hash):
                self.conn.execute(insert(t.address_suppressions).values(
                    address_hash=address_hash, reason=reason, at=now))
        counts = {
            "subscriptions": self.conn.execute(delete(s).where(s.c.email == email)).rowcount,
            "news": self.conn.execute(delete(i).where(i.c.recipient == email)).rowcount,
            "pending_mails": self.conn.execute(delete(d).where(
                d.c.recipient == email, d.c.status == "pending")).rowcount,
            "recipients": self.conn.execute(delete(r).where(r.c.email == email)).rowcount,
            "consents": self.conn.execute(update(c).where(c.c.email == email).values(
                email=address_hash)).rowcount,
        }
        counts["deliveries"] = self.pseudonymise_deliveries(
            d.c.recipient == email, address_hash, key_fragments)
        return counts

    def pseudonymise_deliveries(self, where: Any, address_hash: str,
                                key_fragments: Sequence[str]) -> int:
        """Log rows matching `where` name the address only by its hash; no body stays."""
        d = t.deliveries
        found = self.conn.execute(select(d.c.id, d.c.idempotency_key).where(where)).all()
        for row_id, key in found:
            for fragment in key_fragments:
                key = key.replace(fragment, address_hash)
            self.conn.execute(update(d).where(d.c.id == row_id).values(
                recipient=address_hash, idempotency_key=key[:200], text_body=None,
                html_body=None))
        return len(found)
