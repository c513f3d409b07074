"""The chat page in a real browser against daphne: the question streams back as a cited answer."""

from __future__ import annotations

import pytest

from accounts.tenancy import tenant_scope
from meetings.intelligence.indexing import meeting_index
from meetings.intelligence.pipeline import report_generate
from tests.browser.conftest import (  # noqa: F401  (fixtures of the browser suite)
    _new_page,
    asgi_server,
    browser,
    console_errors,
    server,
    signed_in_page,
)
from tests.intelligence.factories import scripted_meeting_make

pytestmark = pytest.mark.browser


def test_chat_streams_a_cited_answer_and_the_report_renders(server, signed_in_page, company, member,  # noqa: F811
                                                            console_errors):  # noqa: F811
    meeting = scripted_meeting_make(company=company)
    with tenant_scope(company):
        report_generate(company=company, meeting=meeting)
        meeting_index(company=company, meeting=meeting)
    page = signed_in_page(member)

    page.goto(f"/meetings/{meeting.pk}/report/")
    page.get_by_role("heading", name="Participation").wait_for()
    assert page.locator("svg[role=img]").count() >= 2

    page.goto(f"/chat/?meeting={meeting.pk}")
    with page.expect_navigation():
        page.get_by_role("button", name="New conversation about this meeting").click()
    page.fill("#chat-input", "Is our data encrypted at rest?")
    page.click("#chat-send")
    answer = page.locator(".msg-assistant").last
    answer.locator(".citations li").first.wait_for(timeout=30_000)
    text = answer.inner_text()
    assert "AES-256" in text and "local" in text
    link = answer.locator(".citations a").first.get_attribute("href")
    assert link.startswith(f"/meetings/{meeting.pk}/?t=") and "#segment-" in link
    # The conversation is stored: it is still there after a reload.
    page.reload()
    assert "AES-256" in page.locator(".msg-assistant").last.inner_text()
    assert console_errors == []
