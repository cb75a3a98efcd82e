"""Retention in the notifications service: subscriptions never confirmed go, old log rows
keep no address.

Subscriptions still pending after `SOESMART_RETENTION_UNCONFIRMED_DAYS` (7) are deleted;
the recipient address of deliveries older than `SOESMART_RETENTION_DELIVERY_LOG_DAYS`
(90) is replaced by its keyed hash. Run by a background loop; the clock is the port.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from services.notifications.adapters import tables as t
from services.notifications.adapters.unit_of_work import UnitOfWork
from services.notifications.domain.consent import HASH_PREFIX, address_hash
from services.notifications.service_layer.context import Context, address_key


def apply_retention(uow: UnitOfWork, ctx: Context, unconfirmed_days: float,
                    delivery_log_days: float) -> dict[str, int]:
    now = ctx.now()
    s, d = t.subscriptions, t.deliveries
    with uow:
        conn = uow.personal.conn
        pending = conn.execute(delete(s).where(
            s.c.status == "pending", s.c.created_at < now - timedelta(days=unconfirmed_days),
        )).rowcount
        old = d.c.created_at < now - timedelta(days=delivery_log_days)
        addresses = conn.execute(select(d.c.recipient).distinct().where(
            old, d.c.status != "pending", ~d.c.recipient.startswith(HASH_PREFIX))).scalars().all()
        logged = 0
        for email in addresses:
            logged += uow.personal.pseudonymise_deliveries(
                old & (d.c.recipient == email), address_hash(ctx.links.secret_key, email),
                [address_key(email)])
        uow.commit()
    return {"unconfirmed_subscriptions": int(pending), "delivery_log_rows": logged}
