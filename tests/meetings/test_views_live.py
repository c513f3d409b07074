"""The meeting page in a real browser: fragments pushed over the socket land where the contract says.

The socket server is played by Playwright (``route_web_socket``), sending exactly what the
live side sends: the page's own partials wrapped for htmx's out-of-band swaps.
"""

from __future__ import annotations

import shutil
import threading

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.tenancy import tenant_scope
from meetings.models import Meeting
from tests.meetings.factories import action_item_make, meeting_make, report_make, segment_make, suggestion_make

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium"),
]
DETAIL = "meetings/meeting_detail.html"


def _append(container: str, partial: str, obj) -> str:
    return f'<div hx-swap-oob="beforeend:#{container}">{render_to_string(f"{DETAIL}#{partial}", {"obj": obj})}</div>'


def _in_thread(fn, *args) -> None:
    """Database work from inside the Playwright loop (the ORM refuses to run on an event loop's thread)."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            fn(*args)
        except BaseException as exc:  # re-raised below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def _end_with_report(meeting) -> None:
    with tenant_scope(meeting.company_id):
        Meeting.objects.filter(pk=meeting.pk).update(status=Meeting.Status.ENDED, ended_at=timezone.now())
    report_make(meeting=meeting, short_summary="We agreed to ship on Friday.")


def test_pushed_fragments_update_the_panes(live_server, manager, company):
    from playwright.sync_api import sync_playwright

    meeting = meeting_make(company=company, title="Live one", status=Meeting.Status.ACTIVE)
    first = segment_make(meeting=meeting, speaker_label="Alice", text="Hello")
    # What the server will push, rendered up front (the browser loop below cannot touch the database).
    with tenant_scope(company):
        interim = segment_make(meeting=meeting, speaker_label="Bob", text="We should", is_final=False)
        item, suggestion = action_item_make(meeting=meeting, description="Send the contract"), suggestion_make(
            meeting=meeting)
        pushes = [
            _append("transcript-list", "segment_row", interim),
            _append("action-items-list", "action_item_row", item),
            _append("suggestions-list", "suggestion_card", suggestion),
        ]
        item.delete()  # they "arrive" after the page loaded
        suggestion.delete()
        interim.text, interim.is_final = "We should ship it on Friday.", True
        pushes.append(render_to_string(f"{DETAIL}#segment_row", {"obj": interim, "oob": True}))
        meeting.status = Meeting.Status.ENDED
        pushes.append(render_to_string(f"{DETAIL}#status_badge", {"meeting": meeting, "oob": True}))
    session = manager.browser().cookies["sessionid"].value
    url = live_server.url + reverse("meetings:detail", args=[meeting.pk])

    sockets = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        context = browser.new_context()
        context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.route_web_socket(f"**/ws/meetings/{meeting.pk}/?format=html&last_event_id=*",
                              lambda ws: sockets.append(ws))
        page.goto(url)
        page.wait_for_function("() => document.querySelector('#live-conn')?.dataset.state === 'open'")
        assert page.locator(".ctl-end").is_visible() and not page.locator(".ctl-start").is_visible()

        for message in pushes[:3]:
            sockets[0].send(message)
        page.wait_for_selector(f"#segment-{interim.pk}.seg-interim")
        page.wait_for_selector("#action-items-list .ai-row")
        page.wait_for_selector("#suggestions-list .suggestion")
        assert page.locator("#transcript-list > li").evaluate_all("els => els.map(e => e.id)") == [
            f"segment-{first.pk}", f"segment-{interim.pk}"]
        assert page.locator("[data-count-for=transcript-list]").inner_text() == "2"
        assert page.locator("[data-count-for=action-items-list]").inner_text() == "1"
        assert not page.locator("#action-items + .pane-empty, #action-items .pane-empty").is_visible()

        sockets[0].send(pushes[1].replace("Send the contract", "Send the signed contract"))  # pushed again
        page.wait_for_selector("#action-items-list .ai-row:has-text('signed contract')")
        assert page.locator("#action-items-list > li").count() == 1
        assert page.locator("[data-count-for=action-items-list]").inner_text() == "1"

        sockets[0].send(pushes[3])  # the interim caption becomes final in place
        page.wait_for_selector(f"#segment-{interim.pk}:not(.seg-interim)")
        assert page.locator("#transcript-list > li").count() == 2
        assert "ship it on Friday" in page.locator(f"#segment-{interim.pk}").inner_text()

        _in_thread(_end_with_report, meeting)
        sockets[0].send(pushes[4])  # the meeting ended elsewhere: badge and controls follow
        page.wait_for_selector('#meeting-status[data-status="ended"]')
        assert not page.locator(".ctl-end").is_visible()
        # ... and the after-meeting report card is fetched in without a reload.
        page.wait_for_selector("#intel-report-card:has-text('We agreed to ship on Friday.')", timeout=15_000)
        assert errors == []
        browser.close()
