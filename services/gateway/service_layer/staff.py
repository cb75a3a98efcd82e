"""Staff accounts as use cases: create, list, disable, sign in, sessions and tokens, demo accounts.

One database per network (`gateway`), shared by every gateway process; each use case
is one transaction, so any process may answer any request.
"""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from services.gateway.adapters import passwords
from services.gateway.adapters.identity_config import identity_config
from services.gateway.adapters.repository import StaffRepository
from services.gateway.domain.staff import (
    AccountExists,
    InvalidCredentials,
    LockoutPolicy,
    PasswordSignInOff,
    SignInLocked,
    StaffAccount,
    StaffRole,
    check_password,
    check_role_and_town,
    normalise_email,
)
from soesmart.config import Settings
from soesmart.storage import make_engine, migrate
from soesmart.towns import Town

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
PAGE, API = "page", "api"
DEMO_DOMAIN = "demo.soesmart.example"


def _now() -> datetime:
    return datetime.now(UTC)


def _sleep(seconds: float) -> None:
    import eventlet  # green under the gateway's monkey patching, a plain wait elsewhere

    eventlet.sleep(seconds)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SignedIn:
    token: str  # the random value; only its hash is stored
    expires_at: datetime
    account: StaffAccount


@dataclass(frozen=True)
class DemoAccount:
    email: str
    password: str
    role: StaffRole
    town: str | None
    display_name: str


def demo_accounts(towns: Iterable[Town]) -> list[DemoAccount]:
    """Well-known sign-ins for a demo network only (SOESMART_DEMO=true)."""
    accounts = [DemoAccount(f"koordination@{DEMO_DOMAIN}", "demo-region-2026",
                            StaffRole.COORDINATOR, None, "Regionale Koordination (Demo)")]
    for town in towns:
        accounts.append(DemoAccount(f"admin.{town.slug}@{DEMO_DOMAIN}", f"demo-{town.slug}-2026",
                                    StaffRole.TOWN_ADMIN, town.slug,
                                    f"Verwaltung {town.name} (Demo)"))
    return accounts


class StaffAccounts:
    def __init__(self, settings: Settings, engine: Engine | None = None,
                 policy: LockoutPolicy | None = None, clock: Callable[[], datetime] = _now,
                 sleep: Callable[[float], None] = _sleep) -> None:
        self.settings = settings
        self.engine = engine or make_engine(settings.database_url_for("gateway"),
                                            **settings.engine_options())
        migrate(self.engine, MIGRATIONS)
        self.policy = policy or LockoutPolicy()
        self.clock = clock
        self.sleep = sleep
        self.session_lifetime = timedelta(hours=settings.staff_session_hours)

    # --- administration (the `soesmart staff` command)
    def create(self, email: str, display_name: str, role: StaffRole | str, town: str | None,
               password: str, demo: bool = False) -> StaffAccount:
        role = StaffRole(role)
        check_role_and_town(role, town)
        check_password(password)
        account = StaffAccount(
            id=str(uuid.uuid4()), email=normalise_email(email), display_name=display_name.strip(),
            role=role, town=town or None, active=True, created_at=self.clock(), demo=demo,
        )
        password_hash = passwords.hash_password(password)
        try:
            with self.engine.begin() as conn:
                repo = StaffRepository(conn)
                if repo.by_email(account.email) is not None:
                    raise AccountExists(account.email)
                repo.add(account, password_hash)
        except IntegrityError:  # another process created it meanwhile
            raise AccountExists(account.email) from None
        return account

    def accounts(self) -> list[StaffAccount]:
        with self.engine.begin() as conn:
            return StaffRepository(conn).all()

    def disable(self, email: str) -> StaffAccount | None:
        """Disable an account and end all its sessions and tokens at once."""
        with self.engine.begin() as conn:
            repo = StaffRepository(conn)
            account = repo.set_active(normalise_email(email), False)
            if account is not None:
                repo.revoke_sessions_of(account.id, self.clock())
            return account

    # --- signing in
    def sign_in(self, email: str, password: str, address: str, kind: str = PAGE) -> SignedIn:
        """A new session (pages) or token (API), or InvalidCredentials / SignInLocked.

        The answer and its timing are the same whether or not an account has this email.
        """
        now = self.clock()
        email = normalise_email(email)
        account_key, address_key = f"account:{email}", f"address:{address}"
        with self.engine.begin() as conn:
            repo = StaffRepository(conn)
            failures = repo.failures([account_key, address_key], now - self.policy.look_back)
            found = repo.by_email(email)
        locks = [
            self.policy.locked_until(failures[account_key], self.policy.max_per_account, now),
            self.policy.locked_until(failures[address_key], self.policy.max_per_address, now),
        ]
        until = max((lock for lock in locks if lock is not None), default=None)
        if until is not None:
            raise SignInLocked(max(1, math.ceil((until - now).total_seconds())))

        if found is None:
            passwords.verify_dummy(password)
            ok = False
        else:
            account, stored_hash = found
            ok = passwords.verify_password(stored_hash, password) and account.active
        if not ok:
            with self.engine.begin() as conn:
                repo = StaffRepository(conn)
                for key in (account_key, address_key):
                    repo.add_failure(key, now)
                    repo.forget_failures(key, before=now - self.policy.look_back)
            self.sleep(self.policy.delay_after(self.policy.recent([*failures[account_key], now], now)))
            raise InvalidCredentials()
        if not identity_config(self.settings).password_allowed(account.town):
            raise PasswordSignInOff()  # said only to whoever knows the right password

        with self.engine.begin() as conn:
            repo = StaffRepository(conn)
            repo.forget_failures(account_key)
            signed = self.open_session(repo, account, kind, now)
            if passwords.needs_rehash(stored_hash):
                repo.set_password_hash(account.id, passwords.hash_password(password))
        return signed

    def open_session(self, repo: StaffRepository, account: StaffAccount, kind: str,
                     now: datetime) -> SignedIn:
        """A new session or token of `account`, inside the caller's transaction."""
        token = secrets.token_urlsafe(32)
        expires_at = now + self.session_lifetime
        repo.add_session(token_hash(token), account.id, kind, now, expires_at)
        repo.purge_sessions(expired_before=now - timedelta(days=1))
        return SignedIn(token, expires_at, account)

    def authenticate(self, token: str) -> StaffAccount | None:
        """The account behind a session or token that is unexpired, unrevoked and active."""
        if not token or len(token) > 200:
            return None
        with self.engine.begin() as conn:
            found = StaffRepository(conn).session(token_hash(token))
        if found is None:
            return None
        account, expires_at, revoked_at = found
        if revoked_at is not None or expires_at <= self.clock() or not account.active:
            return None
        return account

    def revoke(self, token: str) -> bool:
        with self.engine.begin() as conn:
            return StaffRepository(conn).revoke_session(token_hash(token), self.clock())

    # --- demo network
    def ensure_demo_accounts(self, towns: Iterable[Town]) -> list[DemoAccount]:
        """Create the demo accounts that are missing; returns all of them (for `soesmart up`)."""
        accounts = demo_accounts(towns)
        with self.engine.begin() as conn:
            repo = StaffRepository(conn)
            missing = [a for a in accounts if repo.by_email(a.email) is None]
        for a in missing:
            try:
                self.create(a.email, a.display_name, a.role, a.town, a.password, demo=True)
            except AccountExists:
                pass  # another gateway process was quicker
        return accounts

    def disable_demo_accounts(self) -> int:
        """Outside demo mode, the well-known demo sign-ins must not work."""
        disabled = 0
        with self.engine.begin() as conn:
            repo = StaffRepository(conn)
            for account in repo.demo_accounts():
                if account.active:
                    repo.set_active(account.email, False)
                    repo.revoke_sessions_of(account.id, self.clock())
                    disabled += 1
        if disabled:
            log.warning("demo mode is off: disabled %d demo staff account(s)", disabled)
        return disabled


_stores: dict[str, StaffAccounts] = {}
_stores_lock = threading.Lock()


def staff_accounts_for(settings: Settings) -> StaffAccounts:
    """One store (engine, pool) per database per process."""
    url = settings.database_url_for("gateway")
    with _stores_lock:
        store = _stores.get(url)
        if store is None:
            store = _stores[url] = StaffAccounts(settings)
        return store
