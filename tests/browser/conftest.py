"""Browser tests: Playwright driving Debian's chromium against a real daphne (HTTP + WebSockets).

Fixtures
--------
``asgi_server`` (session)
    A daphne subprocess on ``127.0.0.1:<free port>`` serving ``tests/browser/asgi.py`` (the
    project's ASGI application + static files + a test-only ``/ws/__test__/whoami/`` socket)
    against the pytest database. ``.url`` (``http://127.0.0.1:<port>``), ``.ws_url``,
    ``.log_path`` (daphne's output, printed when it fails to start).
``server`` (function)
    ``asgi_server`` plus ``transactional_db``: rows the test writes are committed, so daphne
    sees them (and the tables are emptied after the test). Use this one in tests.
``browser`` (module)
    A chromium ``Browser`` (``/usr/bin/chromium`` through ``executable_path``; no download).
    Tests are skipped, saying why, when chromium is missing (``make test`` installs it).
``page`` (function)
    A fresh, signed-out ``Page`` in its own context with ``base_url=server.url``, so
    ``page.goto("/team/")`` works. Console errors and uncaught exceptions are collected in
    ``console_errors``.
``console_errors`` (function)
    ``list[str]`` of ``console.error`` messages and page errors from every page of the test.
    Assert ``console_errors == []`` at the end of a test that should be clean.
``signed_in_page`` (function)
    A factory: ``signed_in_page(actor) -> Page`` gives a new page already signed in as the
    actor (an ``Actor`` from tests/conftest.py: ``admin``, ``member``, ...) through a real
    session cookie, without going through the login form. Each call is a separate browser
    context, so two people can be on screen at once.
``sign_in_with_form(page, email, password)``
    A helper (import it from this module) that signs in through the real login form.

Writing a browser test
----------------------
::

    import pytest
    from tests.browser.conftest import sign_in_with_form

    pytestmark = pytest.mark.browser

    def test_meetings_page(server, signed_in_page, admin, console_errors):
        page = signed_in_page(admin)
        page.goto("/meetings/")
        page.get_by_role("heading", name="Meetings").wait_for()
        assert console_errors == []

Keep browser modules to synchronous tests only: while Playwright's sync API runs, an asyncio
loop is running in the test thread, so this module's ``browser`` fixture sets
``DJANGO_ALLOW_ASYNC_UNSAFE`` for its lifetime (the ORM is still used from this one thread)
and stops Playwright at the end of the module, before any async test elsewhere runs.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60  # seconds; daphne imports the whole project on 2 shared cores


def pytest_collection_modifyitems(config, items):
    # Everything in tests/browser/ is a browser test, whether or not the module says so; without
    # chromium they are skipped before any server starts.
    missing = None if CHROMIUM.exists() else pytest.mark.skip(
        reason=f"browser tests need Debian's chromium at {CHROMIUM} (make test installs it)")
    for item in items:
        if "browser" in item.keywords or item.path.is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.browser)
            if missing is not None:
                item.add_marker(missing)


@dataclass(frozen=True)
class AsgiServer:
    url: str
    ws_url: str
    log_path: Path
    process: subprocess.Popen


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_daphne(db_name: str, log_path: Path, *, port: int | None = None) -> AsgiServer:
    port = port or _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "meetpilot.settings.test",
        "MEETPILOT_TEST_DB_NAME": db_name,
        "SITE_URL": url,  # invitation links, the WebSocket Origin allow-list
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    log = log_path.open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "tests.browser.asgi:application"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if requests.get(f"{url}/health", timeout=1).status_code == 200:
                return AsgiServer(url=url, ws_url=url.replace("http", "ws", 1), log_path=log_path, process=process)
        except requests.RequestException:
            pass
        time.sleep(0.2)
    process.kill()
    process.wait(timeout=10)
    raise RuntimeError(f"daphne did not start on {url}:\n{log_path.read_text(errors='replace')[-4000:]}")


@pytest.fixture(scope="session")
def asgi_server(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[AsgiServer]:
    from django.db import connection

    with django_db_blocker.unblock():
        db_name = connection.settings_dict["NAME"]  # the test database, once pytest-django set it up
    server = _start_daphne(db_name, tmp_path_factory.mktemp("daphne") / "daphne.log")
    try:
        yield server
    finally:
        # Stopped before pytest-django drops the test database (its connections would block the drop).
        server.process.terminate()
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=10)


@pytest.fixture
def server(asgi_server, transactional_db) -> AsgiServer:
    return asgi_server


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Debian's chromium at {CHROMIUM} (make test installs it)")
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # see the module docstring
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def console_errors() -> list[str]:
    return []


@pytest.fixture
def _new_page(browser, server, console_errors) -> Iterator[Callable[..., object]]:
    contexts = []

    def new_page(cookies: list[dict] | None = None):
        context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(10_000)
        contexts.append(context)
        if cookies:
            context.add_cookies(cookies)
        page = context.new_page()
        page.on("console", lambda msg: console_errors.append(f"{page.url}: {msg.text}") if msg.type == "error"
                else None)
        page.on("pageerror", lambda exc: console_errors.append(f"{page.url}: {exc}"))
        return page

    yield new_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(_new_page):
    return _new_page()


@pytest.fixture
def signed_in_page(_new_page, server):
    from django.conf import settings
    from django.test import Client

    def sign_in(actor):
        client = Client()
        client.force_login(actor.user, backend="django.contrib.auth.backends.ModelBackend")
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        return _new_page(cookies=[{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": server.url}])

    return sign_in


def sign_in_with_form(page, email: str, password: str, *, next_path: str = "/") -> None:
    """Sign in through the real login form and wait for the page it leads to."""
    page.goto(f"/accounts/login/?next={next_path}")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("form.auth-form button[type=submit]")
