"""The Chrome extension end to end: Debian chromium with the unpacked extension (a persistent context), the
real server (daphne) and a fake Google Meet page on 127.0.0.1 (tests/fakes/meet_page.py).

One meeting, in order: connect the extension from its side panel (the dashboard hands the token over),
join the meeting page, start from the side panel (the scheduled meeting at that link is joined), captions
stream in order with their speakers, the customer's question brings a suggested answer into the side panel,
the server is killed and restarted mid-meeting (nothing lost or duplicated), an action item and an answer to a
question asked in the panel show up there, captions switched off raise the capture-health warning and a gap on
the server, leaving the call ends the meeting on the server, disconnecting revokes the token.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken
from accounts.tenancy import scopes_disabled, tenant_scope
from meetings.models import ActionItem, CaptureGap, Meeting, TranscriptSegment
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, _free_port, _start_daphne
from tests.fakes.meet_page import fake_meet_start
from tests.meetings.factories import meeting_make

pytestmark = pytest.mark.browser

SECURITY_FAQ = ("Acme security FAQ. Does Acme support single sign-on? Yes: Acme supports single sign-on (SSO) "
                "with Okta, Azure AD and Google Workspace through SAML 2.0.")
BEFORE_RESTART = [
    ("Dana Seller", "Thanks for joining today everyone."),
    ("Priya Buyer", "Does your platform support single sign-on with Okta?"),
]
WHILE_DOWN = [("Dana Seller", "Good question, let me check our security notes."),
              ("Priya Buyer", "We also need audit logs for compliance.")]
AFTER_RESTART = [("Dana Seller", "I will send the security questionnaire by Friday.")]


class MeetingServer:
    """A daphne the test can kill and start again on the same address."""

    def __init__(self, db_name: str, log_path) -> None:
        self.db_name, self.log_path, self.port = db_name, log_path, _free_port()
        self.server = _start_daphne(db_name, log_path, port=self.port)
        self.url = self.server.url

    def kill(self) -> None:
        self.server.process.send_signal(signal.SIGKILL)
        self.server.process.wait(timeout=10)

    def start(self) -> None:
        self.server = _start_daphne(self.db_name, self.log_path, port=self.port)

    def stop(self) -> None:
        if self.server.process.poll() is None:
            self.server.process.terminate()
            try:
                self.server.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.server.process.kill()


@pytest.fixture
def meeting_server(transactional_db, django_db_blocker, tmp_path):
    from django.db import connection

    server = MeetingServer(connection.settings_dict["NAME"], tmp_path / "daphne.log")
    yield server
    server.stop()


@pytest.fixture
def fake_meet():
    meet = fake_meet_start()
    yield meet
    meet.close()


@pytest.fixture
def extension_context(meeting_server, tmp_path):
    """Chromium with the extension built for this server, plus the fake Meet page as a Meet address."""
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Debian's chromium at {CHROMIUM} (make test installs it)")
    from playwright.sync_api import sync_playwright

    from accounts.extension import extension_files

    build = tmp_path / "extension"
    for name, data in extension_files(server_url=meeting_server.url,
                                      extra_content_matches={"meet": ["http://127.0.0.1/fake-meet/*"]}).items():
        (build / name).parent.mkdir(parents=True, exist_ok=True)
        (build / name).write_bytes(data)
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs a loop in this thread
    playwright = sync_playwright().start()
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=str(CHROMIUM), headless=True,
        args=[*CHROMIUM_ARGS, "--headless=new", f"--disable-extensions-except={build}", f"--load-extension={build}"])
    context.set_default_timeout(20_000)
    try:
        yield context
    finally:
        context.close()
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _closing(query):
    """Run a database read from a polling loop and close its connection: Playwright's sync API switches
    contexts, and Django keeps a connection per context, which would outlive the test otherwise."""
    try:
        return query()
    finally:
        connections.close_all()


def _final_segments(meeting: Meeting) -> list[tuple[str, str]]:
    def read():
        with tenant_scope(meeting.company_id):
            rows = TranscriptSegment.objects.filter(meeting=meeting, is_final=True).order_by("start_time", "pk")
            return [(s.speaker_label, s.text) for s in rows]

    return _closing(read)


def _wait_for(predicate, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def _say(meet_page, lines) -> None:
    for speaker, text in lines:
        meet_page.evaluate("([s, t]) => window.fakeMeet.say(s, t, 40)", [speaker, text])


def test_extension_streams_a_meeting_end_to_end(meeting_server, fake_meet, extension_context, company, admin):
    from tests.knowledge.factories import document_ingested

    document_ingested(company=company, title="Security FAQ", text=SECURITY_FAQ)
    with tenant_scope(company):
        scheduled = meeting_make(company=company, status=Meeting.Status.SCHEDULED, kind=Meeting.Kind.SALES,
                                 title="Acme x Priya", meeting_url=fake_meet.meeting_url(),
                                 scheduled_start=timezone.now() + timedelta(minutes=2))
    client = Client()
    client.force_login(admin.user, backend="django.contrib.auth.backends.ModelBackend")
    extension_context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "url": meeting_server.url,
                                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value}])

    # Connect once: the side panel opens the dashboard, which hands the token over.
    panel = extension_context.new_page()
    panel.goto(f"chrome-extension://{settings.REPOSITORY_EXTENSION_ID}/sidepanel.html")
    with extension_context.expect_page() as opened:
        panel.click("#connect")
    connect_page = opened.value
    connect_page.click("#connect-button")
    connect_page.wait_for_selector("#handoff-card[data-state=connected]")
    panel.wait_for_selector("#disconnect:not([hidden])")
    with scopes_disabled():
        token = _closing(lambda: ApiToken.objects.get(user=admin.user, name__startswith="Chrome extension: "))
    assert token.revoked_at is None

    # Join the call: the panel offers to start, and starting joins the scheduled meeting at that link.
    meet = extension_context.new_page()
    meet.goto(fake_meet.meeting_url())
    panel.wait_for_selector("#start:not([hidden])")
    assert "Acme x Priya" in panel.text_content("#start")
    panel.click("#start")
    _wait_for(lambda: panel.text_content("#meeting-state").startswith("Live"), what="the socket to open")
    _say(meet, BEFORE_RESTART)

    # The customer's question brings a suggested answer, with its source, into the side panel.
    panel.click("nav [data-pane=answers]")
    suggestion = panel.wait_for_selector("#answer-list li[data-kind=suggestion]", timeout=60_000)
    assert "Okta" in suggestion.text_content() and "Security FAQ" in suggestion.text_content()
    _wait_for(lambda: len(_final_segments(scheduled)) == len(BEFORE_RESTART), what="captions before the restart")

    # The server dies mid-meeting; captions said meanwhile wait in the extension and arrive once it is back.
    meeting_server.kill()
    _say(meet, WHILE_DOWN)
    meeting_server.start()
    _say(meet, AFTER_RESTART)
    expected = BEFORE_RESTART + WHILE_DOWN + AFTER_RESTART
    _wait_for(lambda: len(_final_segments(scheduled)) >= len(expected), timeout=60, what="every caption")
    time.sleep(3)  # anything duplicated would have arrived by now
    assert _final_segments(scheduled) == expected
    with tenant_scope(company):
        assert Meeting.objects.filter(meeting_url=fake_meet.meeting_url()).count() == 1  # joined, not created

    # The action item said after the restart reaches the panel; a question asked in the panel is answered there.
    panel.click("nav [data-pane=work]")
    panel.wait_for_selector("#work li[data-kind=action_item]:has-text('security questionnaire')", timeout=60_000)
    # A suggestion the detector is unsure of is confirmed or dismissed from the panel.
    unsure = panel.wait_for_selector("#work li[data-kind=action_item]:has(button:has-text('Dismiss'))")
    unsure_id = int(unsure.get_attribute("data-id"))
    unsure.query_selector("button:has-text('Dismiss')").click()
    panel.wait_for_selector(f"#work li[data-id='{unsure_id}']", state="detached")

    def dismissed() -> bool:
        with tenant_scope(company):
            return ActionItem.objects.get(pk=unsure_id).review == ActionItem.Review.DISMISSED

    _wait_for(lambda: _closing(dismissed), what="the dismissal on the server")
    panel.click("nav [data-pane=answers]")
    panel.fill("#question", "Which identity providers do we support for single sign-on?")
    panel.click("#ask button[type=submit]")
    answer = panel.wait_for_selector("#answer-list li[data-kind=answer]", timeout=60_000)
    assert "Okta" in answer.text_content() and "Security FAQ" in answer.text_content()

    # Captions switched off while people talk: the side panel says so at once.
    meet.evaluate("() => { window.fakeMeet.captions(false); window.fakeMeet.talking(true); }")
    panel.wait_for_selector("#health [data-code=captions_off]")

    def gap_reported() -> bool:
        with tenant_scope(company):
            return CaptureGap.objects.filter(meeting=scheduled, reason="captions_off").exists()

    _wait_for(lambda: _closing(gap_reported), what="the gap on the server")

    # Leaving the call ends the meeting on the server.
    meet.evaluate("() => window.fakeMeet.leave()")
    def ended() -> bool:
        with tenant_scope(company):
            return Meeting.objects.get(pk=scheduled.pk).status == Meeting.Status.ENDED

    _wait_for(lambda: _closing(ended), what="the meeting to end")

    # Disconnecting revokes the extension's token.
    panel.click("#disconnect")
    panel.wait_for_selector("#connect:not([hidden])")
    _closing(token.refresh_from_db)
    assert token.revoked_at is not None
