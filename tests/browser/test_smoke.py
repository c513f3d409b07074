"""The product in a real browser: sign in, invite someone, create an API token, no console errors."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

from accounts.management.commands.seed_demo import DEFAULT_DEMO_PASSWORD
from tests.browser.asgi import WHOAMI_PATH
from tests.browser.conftest import sign_in_with_form

pytestmark = pytest.mark.browser


def test_demo_admin_signs_in_invites_a_member_and_creates_a_token(server, page, browser, console_errors,
                                                                   monkeypatch):
    monkeypatch.delenv("DEMO_ADMIN_PASSWORD", raising=False)
    call_command("seed_demo", stdout=io.StringIO())

    page.goto("/")
    assert "/accounts/login/" in page.url  # signed out: the dashboard sends you to sign in
    page.fill("input[name=login]", "admin@demo.meetpilot.local")
    page.fill("input[name=password]", "not-the-password")
    page.click("form.auth-form button[type=submit]")
    page.locator(".form-error").wait_for()
    assert "not correct" in page.inner_text(".form-error")

    sign_in_with_form(page, "admin@demo.meetpilot.local", DEFAULT_DEMO_PASSWORD)
    assert page.inner_text("h1.page-title") == "Overview"
    assert "Acme Demo" in page.inner_text(".sidebar")
    assert page.locator("#getting-started .checklist-item").count() == 3
    assert re.search(r"(?i)team members\s*1\b", page.inner_text("#home-stats"))

    # invite a member: the link is shown once
    page.click("nav.nav >> text=Team")
    page.fill("#invite-form input[name=email]", "new.hire@demo.meetpilot.local")
    with page.expect_navigation():
        page.click("#invite-form button[type=submit]")
    invite_url = page.inner_text("#invite-link")
    assert invite_url.startswith(server.url + "/invite/")
    assert "new.hire@demo.meetpilot.local" in page.inner_text("#invitations")

    # create an API token: shown once, with the extension's connection details
    page.click("nav.nav >> text=API tokens")
    page.fill("#create-token input[name=name]", "Chrome on the demo laptop")
    with page.expect_navigation():
        page.click("#create-token button[type=submit]")
    token = page.inner_text("#token-value")
    assert token.startswith("mp_")
    page.click("details.tech summary")
    assert f'["meetpilot.v1", "meetpilot.token.{token}"]' in page.inner_text("#ws-snippet")
    page.reload()
    assert page.locator("#token-value").count() == 0
    assert "Chrome on the demo laptop" in page.inner_text("#tokens")

    # the token works against the API of the same server
    import requests

    me = requests.get(f"{server.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert me.status_code == 200 and me.json()["company"]["name"] == "Acme Demo"

    # the invitation link, opened by someone signed out, offers to join
    guest = browser.new_context(base_url=server.url)
    try:
        guest_page = guest.new_page()
        guest_page.goto(invite_url)
        assert "Join Acme Demo" in guest_page.inner_text("#invitation")
    finally:
        guest.close()

    assert console_errors == []


def test_pages_authenticate_websockets_with_the_session(server, signed_in_page, admin, console_errors):
    page = signed_in_page(admin)
    page.goto("/")
    assert page.inner_text("h1.page-title") == "Overview"
    hello = page.evaluate(
        """(url) => new Promise((resolve, reject) => {
            const ws = new WebSocket(url, ["meetpilot.v1"]);
            ws.onmessage = (event) => { resolve({protocol: ws.protocol, data: JSON.parse(event.data)}); ws.close(); };
            ws.onerror = () => reject(new Error("websocket failed"));
        })""",
        f"{server.ws_url}/{WHOAMI_PATH}",
    )
    assert hello == {"protocol": "meetpilot.v1",
                     "data": {"user": admin.user.email, "company": "Acme", "via": "session"}}
    assert console_errors == []


def test_signed_out_socket_is_refused(server, page, console_errors):
    page.goto("/accounts/login/")
    closed = page.evaluate(
        """(url) => new Promise((resolve) => {
            const ws = new WebSocket(url, ["meetpilot.v1"]);
            ws.onopen = () => resolve("opened");
            ws.onclose = () => resolve("closed");
        })""",
        f"{server.ws_url}/{WHOAMI_PATH}",
    )
    assert closed == "closed"
    console_errors.clear()  # chromium logs the refused handshake itself


def test_pages_are_responsive(server, signed_in_page, member, console_errors):
    page = signed_in_page(member)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/team/")
    assert page.locator(".menu-toggle").is_visible()
    assert not page.locator("#sidebar").evaluate("el => el.getBoundingClientRect().left >= 0")
    page.click(".menu-toggle")
    page.wait_for_function("document.getElementById('sidebar').getBoundingClientRect().left >= 0")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1, f"horizontal scroll on a phone: {width}px"
    assert console_errors == []
