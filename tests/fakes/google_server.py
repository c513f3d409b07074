"""A stand-in for Google's OAuth 2.0 / OpenID Connect endpoints on 127.0.0.1.

It speaks the same HTTP as Google to allauth's real client code: the authorize page
(answers at once, as if the person had picked their account and consented), the token
endpoint (checks the code, client id, secret and redirect URI; returns an access token
and an RS256 ID token), the userinfo endpoint, and the signing keys both as Google's
v1 PEM certificates and as a v3 JWKS.

    with FakeGoogle() as google:
        google.sign_in_as(email="dana@initech.test", name="Dana Scully")
        settings.SOCIALACCOUNT_PROVIDERS["google"] = google.provider_settings()
        ...

``tests/accounts/test_google.py`` shows the whole dance through allauth's views.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

CLIENT_ID = "meetpilot-test.apps.googleusercontent.com"
CLIENT_SECRET = "test-google-secret"


@dataclass
class GoogleIdentity:
    email: str
    name: str = ""
    sub: str = ""
    email_verified: bool = True
    picture: str = "https://lh3.googleusercontent.test/a/photo.png"

    def __post_init__(self) -> None:
        if not self.sub:
            self.sub = str(int(hashlib.sha256(self.email.encode()).hexdigest()[:15], 16))
        if not self.name:
            self.name = self.email.split("@")[0].replace(".", " ").title()

    def userinfo(self) -> dict[str, Any]:
        given, _, family = self.name.partition(" ")
        return {"id": self.sub, "email": self.email, "verified_email": self.email_verified, "name": self.name,
                "given_name": given, "family_name": family, "picture": self.picture}


@dataclass
class _Grant:
    identity: GoogleIdentity
    client_id: str
    redirect_uri: str
    nonce: str | None


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class SigningKey:
    kid: str = field(default_factory=lambda: secrets.token_hex(8))
    private_key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )

    def certificate_pem(self) -> str:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-google-signing")])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(self.private_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
            .sign(self.private_key, hashes.SHA256())
        )
        return cert.public_bytes(serialization.Encoding.PEM).decode()

    def jwk(self) -> dict[str, str]:
        numbers = self.private_key.public_key().public_numbers()
        return {"kty": "RSA", "alg": "RS256", "use": "sig", "kid": self.kid,
                "n": _b64url_uint(numbers.n), "e": _b64url_uint(numbers.e)}


class FakeGoogle:
    """Google's sign-in endpoints, served from a thread. Use as a context manager."""

    issuer = "https://accounts.google.com"

    def __init__(self, *, client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.key = SigningKey()
        self._cert_pem = self.key.certificate_pem()
        self.identity: GoogleIdentity | None = None
        self._grants: dict[str, _Grant] = {}
        self._access_tokens: dict[str, GoogleIdentity] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request, for assertions
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-google", daemon=True)

    # --- lifecycle -----------------------------------------------------------------------

    def __enter__(self) -> FakeGoogle:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # --- what tests use ------------------------------------------------------------------

    def sign_in_as(self, *, email: str, name: str = "", email_verified: bool = True, sub: str = "") -> GoogleIdentity:
        """The Google account the next authorize request "picks"."""
        self.identity = GoogleIdentity(email=email, name=name, email_verified=email_verified, sub=sub)
        return self.identity

    def provider_settings(self, **extra: Any) -> dict[str, Any]:
        """``SOCIALACCOUNT_PROVIDERS["google"]`` pointing every endpoint at this server."""
        return {
            "provider_class": "accounts.google.provider.GoogleProvider",
            "APPS": [{"client_id": self.client_id, "secret": self.client_secret, "key": ""}],
            "SCOPE": ["profile", "email"],
            "AUTH_PARAMS": {"access_type": "online"},
            "FETCH_USERINFO": True,
            "AUTHORIZE_URL": f"{self.url}/o/oauth2/v2/auth",
            "ACCESS_TOKEN_URL": f"{self.url}/token",
            "IDENTITY_URL": f"{self.url}/oauth2/v2/userinfo",
            "CERTS_URL": f"{self.url}/oauth2/v1/certs",
            "ID_TOKEN_ISSUER": self.issuer,
            **extra,
        }

    def id_token(self, identity: GoogleIdentity, *, audience: str | None = None, nonce: str | None = None,
                 key: SigningKey | None = None, lifetime: int = 3600, with_picture: bool = False) -> str:
        """An RS256 ID token as Google issues it (signed with this server's key unless ``key`` is given)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer, "aud": audience or self.client_id, "azp": audience or self.client_id,
            "sub": identity.sub, "email": identity.email, "email_verified": identity.email_verified,
            "name": identity.name, "iat": now, "exp": now + lifetime,
        }
        if with_picture:
            claims["picture"] = identity.picture
        if nonce:
            claims["nonce"] = nonce
        signing = key or self.key
        return jwt.encode(claims, signing.private_key, algorithm="RS256", headers={"kid": signing.kid})

    def authorize(self, authorize_url: str) -> str:
        """What the browser does at Google: open the authorize URL, return where Google redirects back to."""
        import requests

        response = requests.get(authorize_url, allow_redirects=False, timeout=5)
        assert response.status_code == 302, response.text
        return response.headers["Location"]

    # --- HTTP ----------------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _json(self, status: int, payload: Any) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                parsed = urlparse(self.path)
                fake.requests.append(("GET", parsed.path))
                query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
                if parsed.path == "/o/oauth2/v2/auth":
                    return self._authorize(query)
                if parsed.path == "/oauth2/v2/userinfo":
                    return self._userinfo()
                if parsed.path == "/oauth2/v1/certs":
                    return self._json(200, {fake.key.kid: fake._cert_pem})
                if parsed.path == "/oauth2/v3/certs":
                    return self._json(200, {"keys": [fake.key.jwk()]})
                return self._json(404, {"error": "not_found"})

            def do_POST(self) -> None:
                parsed = urlparse(self.path)
                fake.requests.append(("POST", parsed.path))
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if parsed.path == "/token":
                    return self._token(form)
                return self._json(404, {"error": "not_found"})

            def _authorize(self, query: dict[str, str]) -> None:
                redirect_uri = query.get("redirect_uri", "")
                if query.get("client_id") != fake.client_id or not redirect_uri or query.get("response_type") != "code":
                    return self._json(400, {"error": "invalid_request"})
                params = {"state": query["state"]} if "state" in query else {}
                if fake.identity is None:
                    params["error"] = "access_denied"
                else:
                    code = secrets.token_urlsafe(16)
                    with fake._lock:
                        fake._grants[code] = _Grant(fake.identity, fake.client_id, redirect_uri, query.get("nonce"))
                    params["code"] = code
                    params["scope"] = query.get("scope", "")
                self.send_response(302)
                self.send_header("Location", f"{redirect_uri}?{urlencode(params)}")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _token(self, form: dict[str, str]) -> None:
                with fake._lock:
                    grant = fake._grants.pop(form.get("code", ""), None)  # codes work once
                if (grant is None or form.get("grant_type") != "authorization_code"
                        or form.get("client_id") != grant.client_id
                        or form.get("client_secret") != fake.client_secret
                        or form.get("redirect_uri") != grant.redirect_uri):
                    return self._json(400, {"error": "invalid_grant"})
                access_token = "ya29." + secrets.token_urlsafe(24)
                with fake._lock:
                    fake._access_tokens[access_token] = grant.identity
                self._json(200, {
                    "access_token": access_token, "expires_in": 3599, "token_type": "Bearer",
                    "scope": "openid https://www.googleapis.com/auth/userinfo.email "
                             "https://www.googleapis.com/auth/userinfo.profile",
                    "id_token": fake.id_token(grant.identity, nonce=grant.nonce),
                })

            def _userinfo(self) -> None:
                scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
                identity = fake._access_tokens.get(token) if scheme == "Bearer" else None
                if identity is None:
                    return self._json(401, {"error": "invalid_token"})
                self._json(200, identity.userinfo())

        return Handler
