"""Who is calling: one small Principal for requests, API calls and WebSockets."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any, Literal

from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils import timezone
from ninja.security import APIKeyCookie, HttpBearer

from accounts.models import ApiToken, Company, Membership, User
from accounts.tenancy import scopes_disabled

SESSION_COMPANY_KEY = "active_company_id"
WS_PROTOCOL = "meetpilot.v1"
WS_TOKEN_PROTOCOL_PREFIX = "meetpilot.token."


@dataclass(frozen=True)
class Principal:
    user: User
    company: Company
    role: str
    via: Literal["session", "token"]
    token_id: int | None = None


# --- tokens -------------------------------------------------------------------


def token_hash(raw_token: str) -> str:
    # Tokens carry 256 bits of randomness, so a plain SHA-256 is enough (no slow KDF needed).
    return hashlib.sha256(raw_token.encode()).hexdigest()


def token_generate() -> str:
    return f"{settings.API_TOKEN_PREFIX}_{secrets.token_urlsafe(32)}"


def principal_from_token(raw_token: str) -> Principal | None:
    """Resolve a bearer token. Missing, revoked or unknown tokens give None (401)."""
    if not raw_token or len(raw_token) > 200:
        return None
    hashed = token_hash(raw_token)
    with scopes_disabled(token_hash=hashed):  # the token itself tells us the company
        token = (
            ApiToken.objects.select_related("user", "company")
            .filter(token_hash=hashed, revoked_at__isnull=True, user__is_active=True)
            .first()
        )
    if token is None:
        return None
    with scopes_disabled(user_id=token.user_id):
        membership = Membership.objects.filter(company_id=token.company_id, user_id=token.user_id).first()
    if membership is None:  # removed from the company: the token dies with the membership
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        with scopes_disabled(token_hash=hashed):
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return Principal(user=token.user, company=token.company, role=membership.role, via="token",
                     token_id=token.pk)


def principal_from_session(user: Any, session: Any) -> Principal | None:
    if not getattr(user, "is_authenticated", False):
        return None
    with scopes_disabled(user_id=user.pk):  # the user's memberships span companies by design
        memberships = Membership.objects.select_related("company").filter(user_id=user.pk)
        wanted = session.get(SESSION_COMPANY_KEY) if session is not None else None
        membership = None
        if wanted is not None:
            membership = memberships.filter(company_id=wanted).first()
        if membership is None:
            membership = memberships.order_by("created_at").first()
    if membership is None:
        return None
    return Principal(user=user, company=membership.company, role=membership.role, via="session")


def bearer_token(authorization_header: str) -> str | None:
    scheme, _, value = authorization_header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip()


# --- django-ninja authenticators (bearer first: session auth raises on CSRF) -----------


class TokenAuth(HttpBearer):
    def authenticate(self, request: Any, token: str) -> Principal | None:
        principal = getattr(request, "principal", None)
        return principal if principal is not None and principal.via == "token" else None


class SessionAuth(APIKeyCookie):
    param_name = settings.SESSION_COOKIE_NAME

    def authenticate(self, request: Any, key: str | None) -> Principal | None:
        principal = getattr(request, "principal", None)
        return principal if principal is not None and principal.via == "session" else None


api_auth = [TokenAuth(), SessionAuth()]


# --- WebSocket: authenticate before accept ----------------------------------------------


class WebSocketAuthMiddleware:
    """Resolves ``scope["principal"]`` for WebSocket connections, or rejects them.

    Browsers cannot set an Authorization header on a WebSocket, so the extension
    sends its token inside the subprotocol list: ``["meetpilot.v1",
    "meetpilot.token.<token>"]``; the server only ever echoes a non-secret name.
    The dashboard is authenticated by its session cookie. Anything else is closed
    before accept with code 4401.
    """

    CLOSE_UNAUTHENTICATED = 4401

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        if scope["type"] != "websocket":
            return await self.inner(scope, receive, send)
        principal = await self._resolve(scope)
        if principal is None:
            await receive()  # the websocket.connect event
            await send({"type": "websocket.close", "code": self.CLOSE_UNAUTHENTICATED})
            return None
        scope = dict(scope, principal=principal)
        return await self.inner(scope, receive, send)

    async def _resolve(self, scope: dict) -> Principal | None:
        for protocol in scope.get("subprotocols") or []:
            if protocol.startswith(WS_TOKEN_PROTOCOL_PREFIX):
                return await sync_to_async(principal_from_token)(protocol[len(WS_TOKEN_PROTOCOL_PREFIX):])
        return await sync_to_async(self._from_session_cookie)(scope)

    @staticmethod
    def _from_session_cookie(scope: dict) -> Principal | None:
        from importlib import import_module

        from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, load_backend
        from django.utils.crypto import constant_time_compare

        cookies = SimpleCookie()
        for name, value in scope.get("headers", []):
            if name == b"cookie":
                cookies.load(value.decode("latin-1"))
        morsel = cookies.get(settings.SESSION_COOKIE_NAME)
        if morsel is None:
            return None
        session = import_module(settings.SESSION_ENGINE).SessionStore(morsel.value)
        user_id = session.get(SESSION_KEY)
        backend_path = session.get(BACKEND_SESSION_KEY)
        if user_id is None or backend_path not in settings.AUTHENTICATION_BACKENDS:
            return None
        user = load_backend(backend_path).get_user(user_id)
        if user is None or not constant_time_compare(
            session.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash()
        ):
            return None
        return principal_from_session(user, session)


def websocket_subprotocol(scope: dict) -> str | None:
    """The protocol name the server echoes on accept: one the client offered, never the token."""
    offered = [p for p in scope.get("subprotocols") or [] if not p.startswith(WS_TOKEN_PROTOCOL_PREFIX)]
    return offered[0] if offered else None
