"""Who is calling: the client address behind our own reverse proxies, as an opaque key.

Rate limits and sign-in lockouts count per client. Behind a reverse proxy every
request comes from the proxy's address, so with `SOESMART_TRUSTED_PROXIES=N` the
gateway takes the address the N-th proxy from the right saw in `X-Forwarded-For`.
Entries further left are written by the client itself and are never trusted.
"""

from __future__ import annotations

import hashlib
import hmac

from werkzeug.wrappers import Request

from soesmart.config import Settings


def client_address(request: Request, settings: Settings) -> str:
    address = request.remote_addr or "unknown"
    hops = settings.trusted_proxies
    if hops <= 0:
        return address
    forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",") if a.strip()]
    if len(forwarded) >= hops:
        return forwarded[-hops]
    return forwarded[0] if forwarded else address


def client_key(request: Request, settings: Settings) -> str:
    """An opaque key of the client (keyed hash): the IP address itself never leaves."""
    address = client_address(request, settings)
    return hmac.new(settings.secret_key.encode(), address.encode(), hashlib.sha256).hexdigest()[:32]
