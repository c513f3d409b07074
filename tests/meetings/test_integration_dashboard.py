"""The dashboard joined up: Overview numbers, the meeting page's socket, and the report after a meeting ends."""

from __future__ import annotations

import html
import io
import re
import time
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.urls import reverse
from django.utils import timezone

from accounts.tenancy import tenant_scope
from knowledge import services as knowledge_services
from meetings.live.pipeline import runners_wait_idle
from meetings.models import ActionItem, Meeting, MeetingReport
from tests.meetings.factories import action_item_make, meeting_make, participant_make, segment_make
from tests.meetings.live_helpers import close_thread_connections, communicator


def _stats(client) -> dict[str, tuple[object, str]]:
    response = client.get(reverse("dashboard:home"))
    assert response.status_code == 200
    return {s.label: (s.value, s.hint) for s in response.context["stats"]}


def _document(company, name: str, text: str, *, access_level: str = "team", ingest: bool = True):
    data = text.encode()
    with tenant_scope(company):
        result = knowledge_services.document_upload(company=company, uploaded_by=None, file=io.BytesIO(data),
                                                    filename=name, size=len(data), access_level=access_level)
        if ingest:
            knowledge_services.document_ingest(company=company, document_id=result.document.pk)
        return result.document


@pytest.mark.django_db
def test_overview_counts_this_companys_meetings_action_items_and_documents(
        admin, member, outsider, company, other_company, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    now, today = timezone.now(), timezone.localdate()
    live = meeting_make(company=company, status=Meeting.Status.ACTIVE, started_at=now)
    meeting_make(company=company, status=Meeting.Status.ENDED, started_at=now - timedelta(minutes=1))
    old = meeting_make(company=company, status=Meeting.Status.ENDED, started_at=now - timedelta(days=10))
    meeting_make(company=company)  # scheduled, never held
    alice_as_participant = participant_make(meeting=live, name="Alice", user=admin.user)
    action_item_make(meeting=live, assignee_user=admin.user, due_date=today + timedelta(days=1))
    action_item_make(meeting=live, assignee_participant=alice_as_participant)  # hers through the participant
    action_item_make(meeting=live, assignee_user=member.user, status=ActionItem.Status.IN_PROGRESS,
                     due_date=today - timedelta(days=1))  # overdue
    action_item_make(meeting=live, assignee_user=admin.user, status=ActionItem.Status.DONE,
                     due_date=today - timedelta(days=3))  # done: neither open nor overdue
    action_item_make(meeting=old)
    _document(company, "handbook.txt", "Holidays are 25 days a year.")
    _document(company, "board.txt", "Board pack: the runway is 30 months.", access_level="confidential")
    _document(company, "queued.txt", "Still being processed.", ingest=False)
    failed = _document(company, "broken.txt", "Not readable.", ingest=False)
    with tenant_scope(company):
        knowledge_services.document_fail(company=company, document_id=failed.pk, message="damaged")

    globex_meeting = meeting_make(company=other_company, status=Meeting.Status.ENDED, started_at=now)
    for _ in range(3):
        action_item_make(meeting=globex_meeting, assignee_user=outsider.user, due_date=today - timedelta(days=2))
    _document(other_company, "globex.txt", "Globex prices are secret.")

    stats = _stats(admin.browser())
    assert stats["Meetings this week"] == (2, "1 live now")
    assert stats["Open action items"] == (4, "2 yours · 1 overdue")
    assert stats["Documents ready"] == (2, "1 processing · 1 failed")
    members = _stats(member.browser())
    assert members["Open action items"] == (4, "1 yours · 1 overdue")
    assert members["Documents ready"][0] == 1  # the confidential one is not theirs to see
    outsiders = _stats(outsider.browser())  # Globex sees Globex only
    assert outsiders["Meetings this week"] == (1, "since Monday")
    assert outsiders["Open action items"] == (3, "3 yours · 3 overdue")
    assert outsiders["Documents ready"] == (1, "1 passage")

    page = admin.browser().get(reverse("dashboard:home"))
    assert {s.key: s.done for s in page.context["steps"]}["documents"] is True
    text = page.content.decode()
    assert "Meetings this week" in text and "Open action items" in text and "Documents ready" in text
    assert f'href="{reverse("meetings:action_items")}"' in text and f'href="{reverse("knowledge:documents")}"' in text


def _page_socket_path(client, meeting) -> str:
    page = client.get(reverse("meetings:detail", args=[meeting.pk])).content.decode()
    [url] = re.findall(r'ws-connect="([^"]+)"', page)
    return html.unescape(url)


def _caption(client, meeting, text: str) -> None:
    response = client.post(f"/api/v1/meetings/{meeting.pk}/captions", {"captions": [
        {"sequence": 1, "speaker": "Dana", "text": text, "is_final": False}]}, content_type="application/json")
    assert response.status_code == 200 and response.json()["acks"][0]["status"] == "stored"


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_page_socket_replays_what_happened_between_render_and_connect(manager, company):
    meeting = await sync_to_async(meeting_make)(company=company)
    browser = await sync_to_async(manager.browser)()
    await sync_to_async(browser.post)(reverse("meetings:start", args=[meeting.pk]))
    path = await sync_to_async(_page_socket_path)(browser, meeting)
    # A caption arrives after the page was rendered and before its socket connects.
    await sync_to_async(_caption)(manager.api(), meeting, "Revenue grew nicely")

    cookie = (b"cookie", f"sessionid={browser.cookies['sessionid'].value}".encode())
    base, _, query = path.partition("?")
    assert base == f"/ws/meetings/{meeting.pk}/"
    page_socket = communicator(meeting.pk, query=query, subprotocols=[], headers=[cookie])
    plain_socket = communicator(meeting.pk, query="format=html", subprotocols=[], headers=[cookie])
    try:
        assert (await page_socket.connect(timeout=10))[0] and (await plain_socket.connect(timeout=10))[0]
        fragment = await page_socket.receive_from(timeout=5)
        assert fragment.startswith('<div hx-swap-oob="beforeend:#transcript-list"><li id="segment-')
        assert "Revenue grew nicely" in fragment
        assert await plain_socket.receive_nothing(timeout=0.5)  # without the id it would have been missed

        await sync_to_async(browser.post)(reverse("meetings:end", args=[meeting.pk]))
        for socket in (page_socket, plain_socket):  # both hear the end, through the live session
            # First the interim caption turns final (so the page stops showing it as typed), then the status.
            finalised = await socket.receive_from(timeout=5)
            assert 'id="segment-' in finalised and "Revenue grew nicely" in finalised
            badge = await socket.receive_from(timeout=5)
            assert badge.startswith('<span id="meeting-status"') and 'data-status="ended"' in badge
    finally:
        await page_socket.disconnect()
        await plain_socket.disconnect()
        await sync_to_async(runners_wait_idle, thread_sensitive=False)(timeout=20)
        await close_thread_connections()


@pytest.mark.django_db(transaction=True)
def test_ending_from_the_dashboard_writes_the_report_the_page_then_shows(celery_worker, manager, company):
    meeting = meeting_make(company=company, title="Pricing call", status=Meeting.Status.ACTIVE)
    dana = participant_make(meeting=meeting, name="Dana Whitfield", speaker_label="Dana Whitfield")
    morgan = participant_make(meeting=meeting, name="Morgan Lee", speaker_label="Morgan Lee")
    for speaker, text in [
        (morgan, "How much would 200 seats cost us per year?"),
        (dana, "List price is 45 dollars per seat per month, so 108 thousand dollars a year."),
        (morgan, "Let's go with a 60 day pilot for the finance team first."),
        (dana, "Great. I'll send the revised proposal with the pilot terms by Friday."),
    ]:
        segment_make(meeting=meeting, participant=speaker, speaker_label=speaker.name, text=text)
    browser = manager.browser()
    url = reverse("meetings:detail", args=[meeting.pk])
    assert browser.post(reverse("meetings:end", args=[meeting.pk])).status_code == 302

    deadline = time.monotonic() + 60
    while True:  # what the report card's polling does
        slot = browser.get(url, {"part": "report"}, HTTP_HX_REQUEST="true")
        if slot.status_code == 286 or time.monotonic() > deadline:
            break
        assert slot.status_code == 200 and 'hx-trigger="every 3s"' in slot.content.decode()
        time.sleep(0.5)
    assert slot.status_code == 286
    with tenant_scope(company):
        report = MeetingReport.objects.get(meeting=meeting)
        assert report.status == "done", report.error
        assert ActionItem.objects.filter(meeting=meeting, description__icontains="proposal").exists()
    page = browser.get(url).content.decode()
    assert 'id="intel-report-card"' in page and report.short_summary[:40] in html.unescape(page)
    assert "Send the revised proposal" in page
