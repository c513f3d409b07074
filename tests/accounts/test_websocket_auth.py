"""WebSocket authentication in the real ASGI stack (Origin check, then credentials, then the router)."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.urls import path

from accounts import services
from accounts.auth import websocket_subprotocol
from accounts.models import ApiToken
from accounts.tenancy import scopes_disabled

pytestmark = pytest.mark.django_db(transaction=True)  # auth runs in worker threads: they see committed rows only

ROUTE = "ws/test-auth/"
connections_reached: list[dict] = []


class WhoAmIConsumer(AsyncJsonWebsocketConsumer):
    """Test-only: accepts whatever the middleware let through and says who it is."""

    async def connect(self):
        principal = self.scope["principal"]
        connections_reached.append({"user": principal.user.email})
        await self.accept(subprotocol=websocket_subprotocol(self.scope))
        await self.send_json({"user": principal.user.email, "company": principal.company.name, "via": principal.via})


@pytest.fixture
def application():
    """meetpilot.asgi.application with a test route appended to the project's WebSocket routes."""
    from meetpilot import routing
    from meetpilot.asgi import application

    route = path(ROUTE, WhoAmIConsumer.as_asgi())
    routing.websocket_urlpatterns.append(route)
    connections_reached.clear()
    try:
        yield application
    finally:
        routing.websocket_urlpatterns.remove(route)


def origin() -> bytes:
    return settings.WS_ALLOWED_ORIGINS[0].encode()


async def connect(application, *, subprotocols=None, origin_header: bytes | None = None, cookie: str = ""):
    headers = []
    if origin_header is not None:
        headers.append((b"origin", origin_header))
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    communicator = WebsocketCommunicator(application, f"/{ROUTE}", headers=headers, subprotocols=subprotocols)
    connected, detail = await communicator.connect(timeout=5)
    return communicator, connected, detail


async def test_valid_token_is_accepted_and_only_the_protocol_name_is_echoed(application, admin):
    token_protocol = f"meetpilot.token.{admin.token}"
    communicator, connected, subprotocol = await connect(
        application, subprotocols=["meetpilot.v1", token_protocol], origin_header=origin())
    assert connected
    assert subprotocol == "meetpilot.v1"
    assert admin.token not in subprotocol
    hello = await communicator.receive_json_from()
    assert hello == {"user": admin.user.email, "company": "Acme", "via": "token"}
    await communicator.disconnect()

    def last_used():
        with scopes_disabled():
            return ApiToken.objects.get(user=admin.user).last_used_at

    assert await sync_to_async(last_used)() is not None


async def test_session_cookie_is_accepted_for_the_dashboard(application, admin):
    session = (await sync_to_async(admin.browser)()).cookies[settings.SESSION_COOKIE_NAME].value
    communicator, connected, subprotocol = await connect(
        application, subprotocols=["meetpilot.v1"], origin_header=origin(),
        cookie=f"{settings.SESSION_COOKIE_NAME}={session}")
    assert connected and subprotocol == "meetpilot.v1"
    assert (await communicator.receive_json_from())["via"] == "session"
    await communicator.disconnect()


@pytest.mark.parametrize("credentials", ["none", "bad_token", "garbage_cookie"])
async def test_missing_or_bad_credentials_are_closed_before_accept(application, credentials, admin):
    subprotocols = {"none": ["meetpilot.v1"], "bad_token": ["meetpilot.v1", "meetpilot.token.mp_forged"],
                    "garbage_cookie": ["meetpilot.v1"]}[credentials]
    cookie = f"{settings.SESSION_COOKIE_NAME}=not-a-session" if credentials == "garbage_cookie" else ""
    communicator, connected, close_code = await connect(application, subprotocols=subprotocols,
                                                        origin_header=origin(), cookie=cookie)
    assert not connected and close_code == 4401
    assert connections_reached == []  # the router and consumer were never reached


async def test_revoked_token_is_closed_before_accept(application, admin):
    def revoke():
        with scopes_disabled():
            token = ApiToken.objects.get(user=admin.user)
        services.api_token_revoke(company=admin.company, token=token)

    await sync_to_async(revoke)()
    communicator, connected, close_code = await connect(
        application, subprotocols=["meetpilot.v1", f"meetpilot.token.{admin.token}"], origin_header=origin())
    assert not connected and close_code == 4401


@pytest.mark.parametrize("bad_origin", [b"https://evil.example", b"chrome-extension://notallowedextensionid", None])
async def test_foreign_or_missing_origin_is_rejected_even_with_a_valid_token(application, admin, bad_origin):
    communicator, connected, _ = await connect(
        application, subprotocols=["meetpilot.v1", f"meetpilot.token.{admin.token}"], origin_header=bad_origin)
    assert not connected
    assert connections_reached == []


async def test_the_test_route_is_wired_into_the_real_router(application):
    # Guard for the fixture: the ASGI app must route through the very list it appends to.
    from meetpilot import routing

    assert any(getattr(r.pattern, "_route", "") == ROUTE for r in routing.websocket_urlpatterns)
