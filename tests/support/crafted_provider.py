"""A tiny OpenID provider inside the test process: discovery, its keys, and a token endpoint
that hands out whatever ID token the test crafted (expired, signed with another key, for
another audience or issuer), to see the gateway refuse each."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.support.infra import free_port

KID = "crafted-1"


class CraftedProvider:
    def __init__(self, client_id: str) -> None:
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.client_id = client_id
        self.key = RSAKey.generate_key(2048, parameters={"kid": KID, "use": "sig"})
        self.other_key = RSAKey.generate_key(2048, parameters={"kid": KID, "use": "sig"})
        self.next_id_token: str | None = None
        self.token_requests: list[str] = []
        self.server: ThreadingHTTPServer | None = None

    def claims(self, sent_nonce: str, **changes: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": self.client_id, "sub": "crafted-person",
                  "iat": now, "exp": now + 300, "nonce": sent_nonce, "email": "crafted@soest.example",
                  "email_verified": True, "name": "Crafted Person", "groups": ["soesmart-admins"]}
        claims.update(changes)
        return {k: v for k, v in claims.items() if v is not None}

    def sign(self, claims: dict[str, Any], key: RSAKey | None = None) -> str:
        return jwt.encode({"alg": "RS256", "kid": KID}, claims, key or self.key)

    def start(self) -> CraftedProvider:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _json(self, data: Any, status: int = 200) -> None:
                body = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                if self.path == "/.well-known/openid-configuration":
                    self._json({"issuer": provider.issuer,
                                "authorization_endpoint": provider.issuer + "/authorize",
                                "token_endpoint": provider.issuer + "/token",
                                "jwks_uri": provider.issuer + "/jwks",
                                "response_types_supported": ["code"],
                                "subject_types_supported": ["public"],
                                "id_token_signing_alg_values_supported": ["RS256"]})
                elif self.path == "/jwks":
                    self._json({"keys": [provider.key.as_dict(private=False)]})
                else:
                    self._json({"error": "not_found"}, 404)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                provider.token_requests.append(self.rfile.read(length).decode())
                if provider.next_id_token is None:
                    self._json({"error": "invalid_grant"}, 400)
                    return
                self._json({"access_token": "crafted-access", "token_type": "Bearer",
                            "expires_in": 300, "id_token": provider.next_id_token})

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
