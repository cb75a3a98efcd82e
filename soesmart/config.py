"""Typed settings of one service process, read from the environment (prefix SOESMART_)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from soesmart.messaging.broker import DEFAULT_QUEUE_TYPE, QueueType, broker_urls

ServiceKind = Literal["participation", "measures", "notifications", "gateway"]


class Settings(BaseSettings):
    """Everything a service needs to know about its surroundings.

    Each variable is `SOESMART_<FIELD>`; e.g. `SOESMART_BROKER_URL`. A per-instance
    database URL can be given as `SOESMART_DATABASE_URL` (one process) or as a
    template with `{instance}` in `SOESMART_DATABASE_URL_TEMPLATE` (the whole network,
    e.g. `postgresql+pg8000://soesmart@db/soesmart_{instance}`).
    """

    model_config = SettingsConfigDict(env_prefix="SOESMART_", extra="ignore")

    # One broker, or the nodes of a cluster separated by `;` (kombu fails over between them).
    broker_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    # Type of every durable queue (events, RPC requests, dead letters): quorum queues are
    # replicated over a cluster and work on a single node too (soesmart/messaging/broker.py).
    queue_type: QueueType = DEFAULT_QUEUE_TYPE
    data_dir: Path = Path("var")
    database_url: str | None = None
    database_url_template: str | None = None
    # PostgreSQL connections per service instance (pool plus overflow). A region runs
    # 7+ instances against one server whose default max_connections is 100, so each
    # instance keeps to 10; nameko runs at most 10 workers at once anyway.
    db_pool_size: int = Field(default=5, ge=1, le=50)
    db_max_overflow: int = Field(default=5, ge=0, le=50)
    smtp_url: str | None = Field(
        default=None,
        description="smtp://user:pass@host:port (smtps:// for TLS); unset: mails are .eml files",
    )
    mail_from: str = "beteiligung@soesmart.example"
    # Immediate mails wait this long after the first news, so that a coordinator who
    # changes 40 measures in a row sends each subscriber one mail, not 40.
    mail_batch_seconds: float = 60.0
    # SMTP connections used side by side to each server (the relay, or a routed domain's
    # server). Helps when the server answers slowly (latency); on loopback both ends are
    # CPU-bound and 4 gave no more mails/s than 1.
    mail_connections: int = Field(default=1, ge=1, le=32)
    # Receiving domains whose mail goes to its own server instead of `smtp_url`
    # (JSON: {"example.org": "smtp://mx.example.org:25"}).
    mail_routes: dict[str, str] = Field(default_factory=dict)
    # Temporary failures (4xx, refused or dropped connections) are tried again for this
    # long after the mail was queued (RFC 5321 4.5.4.1: give up after 4-5 days), first
    # after `mail_retry_first_seconds`, then twice as long each time up to an hour.
    mail_retry_hours: float = Field(default=120.0, gt=0)
    mail_retry_first_seconds: float = Field(default=300.0, gt=0)
    mail_retry_max_seconds: float = Field(default=3600.0, gt=0)
    # A domain whose server asks for fewer mails (421, 451 "too many", dropped connection)
    # waits this long, twice as long after each further refusal (up to the retry maximum).
    mail_throttle_seconds: float = Field(default=60.0, gt=0)
    # DKIM (RFC 6376): signed when a selector is set; the key as a PEM file or as text.
    # The signing domain defaults to the domain of `mail_from`, which must belong to it.
    dkim_selector: str | None = None
    dkim_domain: str | None = None
    dkim_private_key_file: Path | None = None
    dkim_private_key: str | None = None
    town: str | None = None
    rpc_timeout: float = 5.0
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    public_url: str = "http://127.0.0.1:8000"
    secret_key: str = "dev-secret-change-me"
    coordinator_token: str | None = None
    # Reverse proxies in front of the gateways that append to X-Forwarded-For; the client
    # address for rate limits and lockouts is the one the outermost of them saw. 0: none.
    trusted_proxies: int = Field(default=0, ge=0, le=5)
    # Staff sign-ins (pages and API tokens) and citizens' signed session cookies.
    staff_session_hours: float = Field(default=12.0, gt=0, le=24 * 7)
    citizen_session_days: int = Field(default=30, ge=1, le=365)
    demo: bool = True
    # With demo on: also seed the lived-in demo region (1,500 citizens, answers, a published
    # consultation); off, demo mode brings only the catalogue, one open consultation a town
    # and the staff accounts (what the integration tests build on).
    demo_region: bool = True
    # OpenID providers for staff and citizens (TOML; see README "Sign-in through an OpenID
    # provider"); unset: only passwords (staff) and mailed links (citizens).
    identity_file: Path | None = None
    # Keys the hash of a citizen's identifier at their provider; unset: derived from
    # secret_key (then changing that key makes every verified citizen a new one).
    subject_hash_key: str | None = None
    oidc_timeout: float = Field(default=5.0, gt=0, le=60)  # seconds per request to a provider
    max_body_bytes: int = 64 * 1024
    # A whole catalogue file (about 260 rows with fact-sheet texts) is bigger than a form.
    max_import_bytes: int = 4 * 1024 * 1024
    outbox_batch: int = 500
    # Town instances: links by mail, rate limits (stored in the instance's database,
    # because gateways are stateless and several run side by side), consultation clock.
    link_resend_seconds: float = 120.0  # no second link of one kind to one address within this
    limit_links_per_address: int = 5  # per hour (registration and sign-in links)
    limit_links_per_client: int = 20  # per hour
    limit_comments_per_citizen: int = 10  # per 10 minutes
    limit_comments_per_client: int = 30  # per 10 minutes
    limit_flags_per_citizen: int = 20  # per hour
    limit_flags_per_client: int = 50  # per hour
    consultation_check_seconds: float = 60.0  # "closes soon" and automatic closing
    # Retention (privacy notice, Art. 5 (1) e DSGVO): registrations and subscriptions never
    # confirmed are deleted after this many days; recipient addresses in the delivery log
    # are replaced by a keyed hash after this many days.
    retention_unconfirmed_days: float = Field(default=7.0, gt=0, le=365)
    retention_delivery_log_days: float = Field(default=90.0, gt=0, le=3650)
    retention_check_seconds: float = Field(default=600.0, gt=0)  # notifications' retention loop
    # Bot protection of the citizens' forms (services/gateway/web/bot_guard.py): sooner
    # than this after the form was shown is automated (0: no time check); the proof of
    # work pages solve when JavaScript runs searches up to this number (about 0.1 s).
    form_min_seconds: float = Field(default=2.0, ge=0, le=60)
    pow_max_number: int = Field(default=50_000, ge=100, le=10_000_000)
    log_level: str = "INFO"

    @field_validator("broker_url")
    @classmethod
    def _broker_urls(cls, value: str) -> str:
        broker_urls(value)  # refuses an empty list or a non-AMQP entry, naming it
        return value.strip()

    def instance_name(self, service: ServiceKind) -> str:
        """The name of this instance's database and data: `measures`, `participation_soest`."""
        if service == "participation":
            if not self.town:
                raise ValueError("SOESMART_TOWN is required for a participation instance")
            return "participation_" + self.town.replace("-", "_")
        return service

    def database_url_for(self, service: ServiceKind) -> str:
        if self.database_url:
            return self.database_url
        instance = self.instance_name(service)
        if self.database_url_template:
            return self.database_url_template.format(instance=instance)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(self.data_dir / (instance + '.db')).resolve()}"

    def engine_options(self) -> dict[str, int]:
        return {"pool_size": self.db_pool_size, "max_overflow": self.db_max_overflow}

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "mail"
