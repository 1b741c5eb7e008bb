"""A stand-in identity provider on loopback: a JWKS URL whose keys the tests rotate.

The gateway and the Agent Server fetch it through `THREADGATE_JWT_JWKS_URL`, as they
would a real provider's. `sign` issues RS256 tokens with a key by its `kid`.
"""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from tests.loopback import LoopbackServer

ISSUER = "https://idp.threadgate.test"
AUDIENCE = "threadgate"


class IdentityProvider(LoopbackServer):
    def __init__(self) -> None:
        self._keys: dict[str, RSAPrivateKey] = {}
        self._published: list[str] = []
        self.fetches = 0
        self.broken = False  # answer 500, as a provider in an outage would
        super().__init__()

    @property
    def jwks_url(self) -> str:
        return f"{self.origin}/.well-known/jwks.json"

    def publish(self, *kids: str) -> None:
        """Serve exactly these keys from now on (made on first use)."""
        with self._lock:
            for kid in kids:
                if kid not in self._keys:
                    self._keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            self._published = list(kids)

    def sign(self, kid: str, user: str, ttl: float = 600, **claims: Any) -> str:
        now = int(time.time())
        payload = {"sub": user, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + ttl}
        return jwt.encode(
            {**payload, **claims}, self._keys[kid], algorithm="RS256", headers={"kid": kid}
        )

    def _jwks(self) -> bytes:
        with self._lock:
            self.fetches += 1
            keys = []
            for kid in self._published:
                jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._keys[kid].public_key()))
                keys.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
        return json.dumps({"keys": keys}).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = provider._jwks()
                self.send_response(500 if provider.broken else 200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        return Handler
