"""Dashboard pages: tenancy, roles, HTMX fragments and the live fragment contract."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.tenancy import tenant_scope
from meetings.models import ActionItem, Meeting, MeetingEvent, MeetingReport, Participant, TranscriptSegment
from tests.meetings.factories import (
    action_item_make,
    decision_make,
    fact_check_make,
    meeting_make,
    participant_make,
    report_make,
    segment_make,
    suggestion_make,
)

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def acme(company, member):
    meeting = meeting_make(company=company, title="Acme secret roadmap", status=Meeting.Status.ACTIVE)
    participant = participant_make(meeting=meeting, name="Speaker 1", speaker_label="Speaker 1")
    segment = segment_make(meeting=meeting, participant=participant, text="Acme confidential line.")
    item = action_item_make(meeting=meeting, description="Acme task", assignee_user=member.user)
    return {"meeting": meeting, "participant": participant, "segment": segment, "item": item}


def _urls(acme) -> list[tuple[str, str]]:
    m, p, a = acme["meeting"].pk, acme["participant"].pk, acme["item"].pk
    return [
        ("get", reverse("meetings:detail", args=[m])),
        ("get", reverse("meetings:edit", args=[m])),
        ("post", reverse("meetings:edit", args=[m])),
        ("post", reverse("meetings:delete", args=[m])),
        ("post", reverse("meetings:start", args=[m])),
        ("post", reverse("meetings:end", args=[m])),
        ("get", reverse("meetings:export", args=[m]) + "?format=txt"),
        ("post", reverse("meetings:participant_add", args=[m])),
        ("post", reverse("meetings:participant_update", args=[m, p])),
        ("post", reverse("meetings:participant_delete", args=[m, p])),
        ("post", reverse("meetings:speaker_rename", args=[m])),
        ("post", reverse("meetings:action_item_add", args=[m])),
        ("post", reverse("meetings:action_item_update", args=[a])),
        ("post", reverse("meetings:action_item_delete", args=[a])),
        ("get", reverse("meetings:action_items") + f"?meeting={m}"),
    ]


# --- tenancy and roles on every page -------------------------------------------------------


def test_outsider_gets_404_on_every_acme_page(outsider, acme):
    browser = outsider.browser()
    data = {"name": "pwned", "title": "pwned", "old_label": "Speaker 1", "new_name": "pwned",
            "description": "pwned", "status": "done", "priority": "low", "platform": "zoom", "kind": "internal"}
    for method, url in _urls(acme):
        response = getattr(browser, method)(url, data if method == "post" else None)
        assert response.status_code == 404, (method, url, response.status_code)
        assert b"Acme" not in response.content
    with tenant_scope(acme["meeting"].company_id):
        meeting = Meeting.objects.get(pk=acme["meeting"].pk)
        assert (meeting.title, meeting.status) == ("Acme secret roadmap", "active")
        assert Participant.objects.get(pk=acme["participant"].pk).name == "Speaker 1"
        assert ActionItem.objects.get(pk=acme["item"].pk).status == "pending"


def test_outsider_lists_show_only_their_company(outsider, acme, other_company):
    meeting_make(company=other_company, title="Globex weekly")
    page = outsider.browser().get(reverse("meetings:list")).content.decode()
    assert "Globex weekly" in page and "Acme secret roadmap" not in page
    board = outsider.browser().get(reverse("meetings:action_items")).content.decode()
    assert "Acme task" not in board and "Acme secret roadmap" not in board


def test_member_cannot_create_or_control_meetings(member, acme):
    browser = member.browser()
    m = acme["meeting"].pk
    assert browser.get(reverse("meetings:create")).status_code == 403
    assert browser.post(reverse("meetings:create"), {"title": "Mine", "platform": "zoom",
                                                     "kind": "internal"}).status_code == 403
    for name in ("edit", "delete", "start", "end", "participant_add", "speaker_rename", "action_item_add"):
        assert browser.post(reverse(f"meetings:{name}", args=[m]), {}).status_code == 403, name
    page = browser.get(reverse("meetings:detail", args=[m])).content.decode()
    assert "ctl-end" not in page and "rename-dialog" not in page  # controls they cannot use are not shown


def test_anonymous_is_sent_to_sign_in(acme):
    from django.test import Client

    response = Client().get(reverse("meetings:detail", args=[acme["meeting"].pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- meetings list -------------------------------------------------------------------------


def test_empty_state_invites_to_create_and_install_the_extension(manager, member):
    page = manager.browser().get(reverse("meetings:list")).content.decode()
    assert "No meetings yet" in page and reverse("meetings:create") in page
    assert "extension" in page and reverse("accounts:tokens") in page
    assert reverse("uploads:new") in page and reverse("uploads:import") in page
    members_page = member.browser().get(reverse("meetings:list")).content.decode()
    assert reverse("meetings:create") not in members_page and reverse("uploads:import") not in members_page


def test_list_header_offers_upload_and_import(manager, company):
    meeting_make(company=company, title="Weekly")
    page = manager.browser().get(reverse("meetings:list")).content.decode()
    assert "No meetings yet" not in page
    assert f'href="{reverse("uploads:new")}">Upload a recording</a>' in page
    assert f'href="{reverse("uploads:import")}">Import a transcript</a>' in page


def test_list_filters_badges_and_htmx_fragment(member, company):
    meeting_make(company=company, title="Weekly sync", status="active", platform="zoom")
    meeting_make(company=company, title="Customer demo", kind="sales")
    browser = member.browser()
    page = browser.get(reverse("meetings:list")).content.decode()
    assert "Weekly sync" in page and "Customer demo" in page and 'class="badge badge-active"' in page

    fragment = browser.get(reverse("meetings:list"), {"q": "sync"}, **HTMX).content.decode()
    assert fragment.lstrip().startswith('<div id="meeting-results">') and "<html" not in fragment
    assert "Weekly sync" in fragment and "Customer demo" not in fragment
    assert "Customer demo" in browser.get(reverse("meetings:list"), {"kind": "sales"}).content.decode()
    none = browser.get(reverse("meetings:list"), {"status": "ended"}).content.decode()
    assert "No meetings match" in none
    # a bad filter value is ignored, not an error
    assert browser.get(reverse("meetings:list"), {"started_from": "not-a-date"}).status_code == 200


def test_list_paginates(member, company):
    for n in range(23):
        meeting_make(company=company, title=f"Meeting number {n:02d}")
    browser = member.browser()
    first = browser.get(reverse("meetings:list")).content.decode()
    second = browser.get(reverse("meetings:list"), {"page": 2}).content.decode()
    assert "Meeting number 22" in first and "Meeting number 02" not in first
    assert "Meeting number 02" in second and "Meeting number 22" not in second
    assert "Page 1 of 2" in first and "?page=2" in first


# --- create, edit, delete, start, end ------------------------------------------------------


def test_manager_creates_edits_and_deletes(manager, company):
    browser = manager.browser()
    response = browser.post(reverse("meetings:create"), {"title": "Board prep", "platform": "teams",
                                                         "kind": "internal", "language": "en"})
    assert response.status_code == 302
    with tenant_scope(company):
        meeting = Meeting.objects.get(title="Board prep")
    assert response["Location"] == reverse("meetings:detail", args=[meeting.pk])
    assert meeting.created_by_id == manager.user.pk

    bad = browser.post(reverse("meetings:edit", args=[meeting.pk]), {
        "title": "Board prep", "platform": "teams", "kind": "internal",
        "scheduled_start": "2030-01-02T10:00", "scheduled_end": "2030-01-02T09:00"})
    assert bad.status_code == 200 and "must not be before the start" in bad.content.decode()
    assert "Board prep" in browser.get(reverse("meetings:edit", args=[meeting.pk])).content.decode()
    browser.post(reverse("meetings:edit", args=[meeting.pk]), {"title": "Board prep v2", "platform": "zoom",
                                                                "kind": "sales"})
    meeting.refresh_from_db()
    assert (meeting.title, meeting.platform, meeting.kind) == ("Board prep v2", "zoom", "sales")

    assert browser.post(reverse("meetings:delete", args=[meeting.pk])).status_code == 302
    assert browser.get(reverse("meetings:detail", args=[meeting.pk])).status_code == 404


def test_start_and_end_with_htmx_swap_the_header(manager, company):
    meeting = meeting_make(company=company)
    browser = manager.browser()
    fragment = browser.post(reverse("meetings:start", args=[meeting.pk]), **HTMX).content.decode()
    assert fragment.startswith('<section class="card meeting-head" id="meeting-head">')
    assert 'id="meeting-status"' in fragment and 'data-status="active"' in fragment
    response = browser.post(reverse("meetings:end", args=[meeting.pk]))
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.ENDED
    assert browser.get(reverse("meetings:start", args=[meeting.pk])).status_code == 405


def _status_events(meeting) -> list[str]:
    with tenant_scope(meeting.company_id):
        return [e.payload["meeting_status"] for e in
                MeetingEvent.objects.filter(meeting=meeting, type="status").order_by("event_id")]


def test_start_and_end_from_the_dashboard_go_through_the_live_session(manager, company):
    meeting = meeting_make(company=company)
    interim = segment_make(meeting=meeting, text="still typing", is_final=False)
    browser = manager.browser()
    browser.post(reverse("meetings:start", args=[meeting.pk]), **HTMX)
    assert _status_events(meeting) == ["active"]
    browser.post(reverse("meetings:end", args=[meeting.pk]))
    assert _status_events(meeting) == ["active", "ended"]
    interim.refresh_from_db()
    assert interim.is_final

    # An ended meeting is not started again: the page says why instead of failing.
    response = browser.post(reverse("meetings:start", args=[meeting.pk]), follow=True)
    assert response.status_code == 200 and "This meeting has ended." in response.content.decode()
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.ENDED and _status_events(meeting) == ["active", "ended"]


# --- meeting page and the live contract ----------------------------------------------------


def test_socket_url_resumes_after_the_last_event_the_page_shows(manager, company):
    meeting = meeting_make(company=company)
    browser = manager.browser()
    browser.post(reverse("meetings:start", args=[meeting.pk]))
    meeting.refresh_from_db()
    assert meeting.last_event_id > 0
    page = browser.get(reverse("meetings:detail", args=[meeting.pk])).content.decode()
    [url] = re.findall(r'ws-connect="([^"]+)"', page)
    assert url.replace("&amp;", "&") == f"/ws/meetings/{meeting.pk}/?format=html&last_event_id={meeting.last_event_id}"


def test_detail_page_has_every_pane_and_opens_the_socket_while_live(member, acme):
    meeting = acme["meeting"]
    decision_make(meeting=meeting, text="Ship on Friday")
    fact_check_make(meeting=meeting)
    suggestion_make(meeting=meeting)
    report_make(meeting=meeting, short_summary="We planned the launch.")
    segment_make(meeting=meeting, text="not yet final", is_final=False)
    page = member.browser().get(reverse("meetings:detail", args=[meeting.pk])).content.decode()
    for container in ("transcript-list", "action-items-list", "decisions-list", "fact-checks-list",
                      "suggestions-list", "meeting-status"):
        assert f'id="{container}"' in page, container
    meeting.refresh_from_db()
    assert 'hx-ext="ws"' in page
    assert f'ws-connect="/ws/meetings/{meeting.pk}/?format=html&amp;last_event_id={meeting.last_event_id}"' in page
    assert f'id="segment-{acme["segment"].pk}"' in page and "Acme confidential line." in page
    assert "not yet final" not in page
    assert f'id="action-item-{acme["item"].pk}"' in page
    assert "Ship on Friday" in page and "$18.7 million" in page and "$40 per seat" in page
    assert "We planned the launch." in page
    # the member may change the status of their own item, so the row has the inline control
    assert f'hx-post="{reverse("meetings:action_item_update", args=[acme["item"].pk])}"' in page
    assert "static/css/meetings.css" in page or "/static/css/meetings.css" in page


def test_ended_meeting_does_not_open_a_socket(member, company):
    meeting = meeting_make(company=company, status=Meeting.Status.ENDED)
    page = member.browser().get(reverse("meetings:detail", args=[meeting.pk])).content.decode()
    assert "ws-connect" not in page and 'data-status="ended"' in page


def test_ended_meeting_shows_the_report_card_with_regenerate(manager, member, company):
    meeting = meeting_make(company=company, status=Meeting.Status.ENDED)
    report_make(meeting=meeting, short_summary="We agreed on the pilot.",
                key_points=["A 60 day pilot first", {"text": "Budget is 80k"}])
    page = manager.browser().get(reverse("meetings:detail", args=[meeting.pk])).content.decode()
    assert 'id="intel-report-card"' in page and "We agreed on the pilot." in page
    assert f'href="{reverse("intelligence:report", args=[meeting.pk])}"' in page
    assert f'action="{reverse("intelligence:report_regenerate", args=[meeting.pk])}"' in page
    assert "A 60 day pilot first" in page and "Budget is 80k" in page
    assert 'id="report-slot" class="report-slot">' in page  # finished: no polling
    members_page = member.browser().get(reverse("meetings:detail", args=[meeting.pk])).content.decode()
    assert 'id="intel-report-card"' in members_page
    assert reverse("intelligence:report_regenerate", args=[meeting.pk]) not in members_page


def test_report_card_polls_until_the_report_is_written(member, company):
    meeting = meeting_make(company=company, status=Meeting.Status.ENDED, ended_at=timezone.now())
    browser = member.browser()
    url = reverse("meetings:detail", args=[meeting.pk])
    slot = browser.get(url, {"part": "report"}, **HTMX)  # just ended, nothing queued yet
    assert slot.status_code == 200 and 'hx-trigger="every 3s"' in slot.content.decode()
    report = report_make(meeting=meeting, status="running", short_summary="")
    slot = browser.get(url, {"part": "report"}, **HTMX)
    html = slot.content.decode()
    assert slot.status_code == 200 and html.startswith('<div id="report-slot"') and "Analysing the meeting" in html
    with tenant_scope(company):
        MeetingReport.objects.filter(pk=report.pk).update(status="done", short_summary="Done and dusted.")
    slot = browser.get(url, {"part": "report"}, **HTMX)
    assert slot.status_code == 286 and "Done and dusted." in slot.content.decode()  # htmx stops polling
    assert "hx-trigger" not in slot.content.decode()

    long_ago = meeting_make(company=company, status=Meeting.Status.ENDED,
                            ended_at=timezone.now() - timedelta(days=2))
    assert browser.get(reverse("meetings:detail", args=[long_ago.pk]), {"part": "report"},
                       **HTMX).status_code == 286  # never analysed: nothing to wait for


def test_live_page_fetches_the_report_card_once_the_meeting_ends(member, acme, outsider):
    url = reverse("meetings:detail", args=[acme["meeting"].pk])
    page = member.browser().get(url).content.decode()
    assert 'id="intel-report-card"' not in page
    assert f'hx-get="{url}?part=report"' in page and "dataset.status === &#x27;ended&#x27;" not in page
    assert "every 4s [document.querySelector('#meeting-status')?.dataset.status === 'ended']" in page
    assert outsider.browser().get(url, {"part": "report"}, **HTMX).status_code == 404


def test_live_partials_render_alone_with_the_contracted_ids(company, member):
    with tenant_scope(company):
        meeting = meeting_make(company=company, status="active")
        segment = segment_make(meeting=meeting, speaker_label="Alice", text="Hello <b>there</b>", start_time=65)
        item = action_item_make(meeting=meeting, assignee_user=member.user, due_date=timezone.localdate())
        decision = decision_make(meeting=meeting)
        fact = fact_check_make(meeting=meeting)
        suggestion = suggestion_make(meeting=meeting)
        cases = [("segment_row", segment, "segment"), ("action_item_row", item, "action-item"),
                 ("decision_row", decision, "decision"), ("fact_check_row", fact, "fact-check"),
                 ("suggestion_card", suggestion, "suggestion")]
        for partial, obj, prefix in cases:
            html = render_to_string(f"meetings/meeting_detail.html#{partial}", {"obj": obj}).strip()
            root = re.match(r"<(\w+) id=\"([\w-]+)\"", html)
            assert root and root.group(2) == f"{prefix}-{obj.pk}", (partial, html[:80])
            assert "hx-swap-oob" not in html.split(">")[0]
            oob = render_to_string(f"meetings/meeting_detail.html#{partial}", {"obj": obj, "oob": True})
            assert 'hx-swap-oob="true"' in oob.split(">")[0]
        row = render_to_string("meetings/meeting_detail.html#segment_row", {"obj": segment})
        assert "Hello &lt;b&gt;there&lt;/b&gt;" in row and "1:05" in row  # escaped, timestamped
        # no principal (socket rendering): read-only row, no inline controls
        assert "<select" not in render_to_string("meetings/meeting_detail.html#action_item_row", {"obj": item})
        badge = render_to_string("meetings/meeting_detail.html#status_badge", {"meeting": meeting})
        assert badge.startswith('<span id="meeting-status"') and 'data-status="active"' in badge


# --- participants and speaker rename -------------------------------------------------------


def test_renaming_a_participant_renames_every_line(manager, acme, company):
    meeting = acme["meeting"]
    segment_make(meeting=meeting, speaker_label="Speaker 1", text="unlinked line from the same voice")
    browser = manager.browser()
    url = reverse("meetings:participant_update", args=[meeting.pk, acme["participant"].pk])
    response = browser.post(url, {"name": "Dana", "email": "", "role": "customer", "user_id": ""})
    assert response.status_code == 302
    with tenant_scope(company):
        assert set(TranscriptSegment.objects.filter(meeting=meeting).values_list("speaker_label", flat=True)) == {
            "Dana"}
    page = browser.get(reverse("meetings:detail", args=[meeting.pk])).content.decode()
    assert ">Dana<" in page and "Speaker 1</button>" not in page


def test_speaker_rename_and_participant_add_and_remove(manager, member, company):
    meeting = meeting_make(company=company)
    segment_make(meeting=meeting, speaker_label="Speaker 2")
    segment_make(meeting=meeting, speaker_label="Speaker 2")
    browser = manager.browser()
    page = browser.get(reverse("meetings:detail", args=[meeting.pk])).content.decode()
    assert 'data-rename-speaker="Speaker 2"' in page and 'id="rename-dialog"' in page
    browser.post(reverse("meetings:speaker_rename", args=[meeting.pk]), {"old_label": "Speaker 2",
                                                                         "new_name": "Erin"})
    with tenant_scope(company):
        assert list(TranscriptSegment.objects.values_list("speaker_label", flat=True)) == ["Erin", "Erin"]
    browser.post(reverse("meetings:participant_add", args=[meeting.pk]),
                 {"name": "Frank", "email": "frank@acme.test", "role": "internal", "user_id": member.user.pk})
    with tenant_scope(company):
        frank = Participant.objects.get(meeting=meeting, name="Frank")
        assert frank.user_id == member.user.pk
    browser.post(reverse("meetings:participant_delete", args=[meeting.pk, frank.pk]))
    with tenant_scope(company):
        assert not Participant.objects.filter(pk=frank.pk).exists()


# --- action items on the meeting page and the board ----------------------------------------


def test_add_action_item_with_htmx_appends_the_row(manager, member, company):
    meeting = meeting_make(company=company)
    response = manager.browser().post(reverse("meetings:action_item_add", args=[meeting.pk]), {
        "description": "Book the venue", "assignee": f"u{member.user.pk}", "priority": "high", "due_date": ""},
        **HTMX)
    html = response.content.decode()
    with tenant_scope(company):
        item = ActionItem.objects.get(description="Book the venue")
    assert item.assignee_user_id == member.user.pk and item.priority == "high"
    assert html.startswith('<form id="action-item-form"')
    assert '<div hx-swap-oob="beforeend:#action-items-list"><li id="action-item-' in html
    invalid = manager.browser().post(reverse("meetings:action_item_add", args=[meeting.pk]),
                                     {"description": "", "priority": "high"}, **HTMX).content.decode()
    assert "errorlist" in invalid and "hx-swap-oob" not in invalid


def test_member_changes_status_inline_only_on_their_own_items(member, manager, company):
    meeting = meeting_make(company=company)
    own = action_item_make(meeting=meeting, assignee_user=member.user, origin="summary")
    other = action_item_make(meeting=meeting, assignee_user=manager.user)
    browser = member.browser()
    response = browser.post(reverse("meetings:action_item_update", args=[own.pk]), {"status": "done"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith(f'<li id="action-item-{own.pk}" class="ai-row ai-done')
    own.refresh_from_db()
    assert own.status == "done" and own.edited_fields == ["status"]
    assert browser.post(reverse("meetings:action_item_update", args=[other.pk]),
                        {"status": "done"}, **HTMX).status_code == 403
    other.refresh_from_db()
    assert other.status == "pending"
    assert browser.post(reverse("meetings:action_item_delete", args=[own.pk]), **HTMX).status_code == 403


def test_board_moves_a_card_and_reassigns(manager, member, company):
    meeting = meeting_make(company=company)
    item = action_item_make(meeting=meeting, description="Prepare budget")
    browser = manager.browser()
    moved = browser.post(reverse("meetings:action_item_update", args=[item.pk]),
                         {"status": "in_progress", "view": "board"}, **HTMX).content.decode()
    assert moved.startswith('<div hx-swap-oob="afterbegin:#board-col-in_progress">')
    assert "Prepare budget" in moved and reverse("meetings:detail", args=[meeting.pk]) in moved
    reassigned = browser.post(reverse("meetings:action_item_update", args=[item.pk]),
                              {"assignee": f"u{member.user.pk}", "view": "board"}, **HTMX).content.decode()
    assert reassigned.startswith(f'<li id="action-item-{item.pk}"') and member.user.display_name in reassigned
    item.refresh_from_db()
    assert item.assignee_user_id == member.user.pk
    assert set(item.edited_fields) == {"status", "assignee_user", "assignee_participant", "assignee_name"}
    bad = browser.post(reverse("meetings:action_item_update", args=[item.pk]), {"assignee": "x1"}, **HTMX)
    assert "Unknown assignee" in bad.content.decode()
    assert browser.post(reverse("meetings:action_item_delete", args=[item.pk]), **HTMX).content == b""


def test_board_groups_by_status_and_filters(member, manager, company):
    today = timezone.localdate()
    meeting = meeting_make(company=company, title="Roadmap")
    other = meeting_make(company=company, title="Hiring")
    mine = action_item_make(meeting=meeting, description="My overdue task", assignee_user=member.user,
                            due_date=today - timedelta(days=1))
    action_item_make(meeting=other, description="Manager task", assignee_user=manager.user, status="in_progress")
    action_item_make(meeting=other, description="Finished task", status="done")
    browser = member.browser()
    page = browser.get(reverse("meetings:action_items")).content.decode()
    for status in ("pending", "in_progress", "done", "cancelled"):
        assert f'id="board-col-{status}"' in page
    assert page.index("My overdue task") < page.index('id="board-col-in_progress"') < page.index("Manager task")
    assert "Overdue" in page

    def board(**params):
        return browser.get(reverse("meetings:action_items"), params, **HTMX).content.decode()

    mine_only = board(mine="on")
    assert "My overdue task" in mine_only and "Manager task" not in mine_only
    assert "Manager task" not in board(overdue="on") and "My overdue task" in board(overdue="on")
    assert "My overdue task" not in board(meeting=other.pk) and "Finished task" in board(meeting=other.pk)
    assert "Manager task" in board(assignee=manager.user.pk) and "My overdue task" not in board(
        assignee=manager.user.pk)
    single = board(status="done")
    assert 'id="board-col-done"' in single and 'id="board-col-pending"' not in single
    assert board().lstrip().startswith('<div id="board"')
    # only the member's own row gets inline controls
    assert page.count('aria-label="Status"') == 1 and f'id="action-item-{mine.pk}"' in page


# --- query counts stay flat as a meeting grows ---------------------------------------------


def _queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def _grow(meeting, member, n):
    speaker = participant_make(meeting=meeting, user=member.user)
    for _ in range(n):
        segment = segment_make(meeting=meeting, participant=speaker)
        action_item_make(meeting=meeting, assignee_user=member.user, assignee_participant=speaker)
        decision_make(meeting=meeting, source_segments=[segment])
        fact_check_make(meeting=meeting, segment=segment)
        suggestion_make(meeting=meeting, segment=segment)


def test_pages_do_not_query_per_row(member, company):
    small, large = meeting_make(company=company, status="active"), meeting_make(company=company, status="active")
    _grow(small, member, 1)
    _grow(large, member, 8)
    browser = member.browser()
    detail = [_queries(browser, reverse("meetings:detail", args=[m.pk])) for m in (small, large)]
    assert detail[0] == detail[1], detail
    board = _queries(browser, reverse("meetings:action_items"))
    _grow(meeting_make(company=company), member, 5)
    assert _queries(browser, reverse("meetings:action_items")) == board
    listing = _queries(browser, reverse("meetings:list"))
    meeting_make(company=company)
    assert _queries(browser, reverse("meetings:list")) == listing
