"""Rows of the gateway's tables in and out; every function works inside the caller's transaction."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from services.gateway.adapters.tables import sign_in_failures, staff_accounts, staff_sessions
from services.gateway.domain.staff import StaffAccount, StaffRole


def utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored here is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _account(row: Any) -> StaffAccount:
    return StaffAccount(
        id=row.id, email=row.email, display_name=row.display_name, role=StaffRole(row.role),
        town=row.town, active=bool(row.active), created_at=utc(row.created_at),
        demo=bool(row.demo), provider=row.provider,
    )


class StaffRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # --- accounts
    def add(self, account: StaffAccount, password_hash: str, subject: str | None = None) -> None:
        self.conn.execute(insert(staff_accounts).values(
            id=account.id, email=account.email, display_name=account.display_name,
            role=account.role.value, town=account.town, password_hash=password_hash,
            active=account.active, demo=account.demo, created_at=account.created_at,
            provider=account.provider, subject=subject,
        ))

    def by_email(self, email: str) -> tuple[StaffAccount, str] | None:
        row = self.conn.execute(
            select(staff_accounts).where(staff_accounts.c.email == email)
        ).first()
        return (_account(row), row.password_hash) if row else None

    def all(self) -> list[StaffAccount]:
        rows = self.conn.execute(
            select(staff_accounts).order_by(staff_accounts.c.role, staff_accounts.c.town,
                                            staff_accounts.c.email)
        )
        return [_account(r) for r in rows]

    def set_active(self, email: str, active: bool) -> StaffAccount | None:
        self.conn.execute(
            update(staff_accounts).where(staff_accounts.c.email == email).values(active=active)
        )
        found = self.by_email(email)
        return found[0] if found else None

    def by_subject(self, provider: str, subject: str) -> StaffAccount | None:
        row = self.conn.execute(select(staff_accounts).where(
            staff_accounts.c.provider == provider, staff_accounts.c.subject == subject)).first()
        return _account(row) if row else None

    def link_and_update(self, account_id: str, **values: Any) -> None:
        """Set what a provider said about an account (provider, subject, role, town, name)."""
        self.conn.execute(update(staff_accounts).where(staff_accounts.c.id == account_id)
                          .values(**values))

    def by_id(self, account_id: str) -> StaffAccount:
        return _account(self.conn.execute(
            select(staff_accounts).where(staff_accounts.c.id == account_id)).one())

    def set_password_hash(self, account_id: str, password_hash: str) -> None:
        self.conn.execute(update(staff_accounts).where(staff_accounts.c.id == account_id)
                          .values(password_hash=password_hash))

    def demo_accounts(self) -> list[StaffAccount]:
        rows = self.conn.execute(select(staff_accounts).where(staff_accounts.c.demo.is_(True)))
        return [_account(r) for r in rows]

    # --- sessions and tokens (by the hash of their value)
    def add_session(self, token_hash: str, account_id: str, kind: str, created_at: datetime,
                    expires_at: datetime) -> None:
        self.conn.execute(insert(staff_sessions).values(
            token_hash=token_hash, account_id=account_id, kind=kind, created_at=created_at,
            expires_at=expires_at,
        ))

    def session(self, token_hash: str) -> tuple[StaffAccount, datetime, datetime | None] | None:
        """The account, expiry and revocation time of a session, whatever their state."""
        row = self.conn.execute(
            select(staff_accounts, staff_sessions.c.expires_at, staff_sessions.c.revoked_at)
            .join(staff_sessions, staff_sessions.c.account_id == staff_accounts.c.id)
            .where(staff_sessions.c.token_hash == token_hash)
        ).first()
        if row is None:
            return None
        return _account(row), utc(row.expires_at), utc(row.revoked_at) if row.revoked_at else None

    def revoke_session(self, token_hash: str, now: datetime) -> bool:
        result = self.conn.execute(
            update(staff_sessions)
            .where(staff_sessions.c.token_hash == token_hash, staff_sessions.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return bool(result.rowcount)

    def revoke_sessions_of(self, account_id: str, now: datetime) -> None:
        self.conn.execute(
            update(staff_sessions)
            .where(staff_sessions.c.account_id == account_id, staff_sessions.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    def purge_sessions(self, expired_before: datetime) -> None:
        self.conn.execute(delete(staff_sessions).where(staff_sessions.c.expires_at < expired_before))

    # --- failed sign-ins
    def failures(self, keys: list[str], since: datetime) -> dict[str, list[datetime]]:
        found: dict[str, list[datetime]] = defaultdict(list)
        rows = self.conn.execute(
            select(sign_in_failures.c.key, sign_in_failures.c.failed_at)
            .where(sign_in_failures.c.key.in_(keys), sign_in_failures.c.failed_at >= since)
        )
        for key, at in rows:
            found[key].append(utc(at))
        return found

    def add_failure(self, key: str, at: datetime) -> None:
        self.conn.execute(insert(sign_in_failures).values(key=key, failed_at=at))

    def forget_failures(self, key: str, before: datetime | None = None) -> None:
        condition = sign_in_failures.c.key == key
        if before is not None:
            condition = condition & (sign_in_failures.c.failed_at < before)
        self.conn.execute(delete(sign_in_failures).where(condition))
