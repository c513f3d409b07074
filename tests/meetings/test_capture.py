"""What the transcript does not cover: gaps reported by the extension and silences the server sees."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.tenancy import tenant_scope
from meetings import capture
from meetings.models import CaptureGap, Meeting
from tests.meetings.factories import meeting_make, segment_make


def _meeting(company, minutes=30):
    start = timezone.now() - timedelta(minutes=minutes)
    return meeting_make(company=company, status=Meeting.Status.ENDED, started_at=start,
                        ended_at=start + timedelta(minutes=minutes))


def test_reported_gaps_and_long_silences_make_the_coverage(company, scope, settings) -> None:
    settings.CAPTURE_SILENCE_SECONDS = 120
    meeting = _meeting(company, minutes=20)
    for i, (start, end) in enumerate([(0, 60), (65, 200), (500, 560), (1000, 1190)]):
        segment_make(meeting=meeting, sequence=i, start_time=start, end_time=end, text=f"line {i}")
    t0 = meeting.started_at
    capture.capture_gap_report(company=company, meeting=meeting, client_id="chrome-1", reason="captions_off",
                               started_at=t0 + timedelta(seconds=210), ended_at=t0 + timedelta(seconds=480))
    gaps = capture.meeting_coverage_gaps(company=company, meeting=meeting)
    # 200-500 without a line is the reported gap (captions off), 560-1000 a silence the server sees;
    # the 5 s pause and the 10 s after the last line are not gaps.
    assert [(g["start"], g["end"], g["reason"], g["source"]) for g in gaps] == [
        (210.0, 480.0, "captions_off", "client"), (560.0, 1000.0, "silence", "server")]


def test_a_gap_reported_twice_is_one_gap_whose_end_moves(company, scope) -> None:
    meeting = _meeting(company)
    start = meeting.started_at + timedelta(minutes=3)
    capture.capture_gap_report(company=company, meeting=meeting, client_id="c", reason="page_changed",
                               started_at=start)
    open_gap = capture.meeting_coverage_gaps(company=company, meeting=meeting)
    assert open_gap[0]["end"] == 1800.0  # still open: runs to the meeting's end
    capture.capture_gap_report(company=company, meeting=meeting, client_id="c", reason="page_changed",
                               started_at=start, ended_at=start + timedelta(minutes=2))
    assert CaptureGap.objects.filter(meeting=meeting).count() == 1
    assert capture.meeting_coverage_gaps(company=company, meeting=meeting)[0]["end"] == 300.0


def test_capture_gap_api_and_the_meeting_page(company, admin, member, outsider, settings) -> None:
    settings.CAPTURE_SILENCE_SECONDS = 10_000
    with tenant_scope(company):
        meeting = _meeting(company)
    start = meeting.started_at + timedelta(minutes=10)
    body = {"client_id": "chrome-1", "reason": "captions_off", "started_at": start.isoformat(),
            "ended_at": (start + timedelta(minutes=5)).isoformat()}
    url = f"/api/v1/meetings/{meeting.pk}/capture-gaps"
    created = admin.api().post(url, body, content_type="application/json")
    assert created.status_code == 201 and created.json()["start"] == 600.0 and created.json()["end"] == 900.0
    assert member.api().post(url, body, content_type="application/json").status_code == 403
    assert outsider.api().post(url, body, content_type="application/json").status_code == 404
    assert outsider.api().get(url).status_code == 404
    assert [g["reason"] for g in member.api().get(url).json()] == ["captions_off"]
    bad = admin.api().post(url, {**body, "ended_at": (start - timedelta(minutes=1)).isoformat()},
                           content_type="application/json")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_gap"
    page = admin.browser().get(f"/meetings/{meeting.pk}/")
    local = timezone.localtime(start)
    assert b'id="capture-gaps"' in page.content
    assert f"no captions {local:%H:%M}".encode() in page.content and b"captions switched off" in page.content


def test_the_report_says_what_was_not_captured(company, member) -> None:
    from meetings.intelligence.pipeline import report_generate
    from tests.intelligence.factories import scripted_meeting_make

    meeting = scripted_meeting_make(company=company)
    with tenant_scope(company):
        gap_start = meeting.started_at + timedelta(seconds=30)
        capture.capture_gap_report(company=company, meeting=meeting, client_id="chrome-1", reason="captions_off",
                                   started_at=gap_start, ended_at=gap_start + timedelta(seconds=60))
        report = report_generate(company=company, meeting=meeting)
    assert [(g["reason"], g["start"], g["end"]) for g in report.missing if g["source"] == "client"] == [
        ("captions_off", 30.0, 90.0)]
    markdown = member.api().get(f"/api/v1/meetings/{meeting.pk}/report/export?format=md").content.decode()
    local = timezone.localtime(gap_start)
    assert f"**Not captured:** no captions {local:%H:%M}" in markdown and "captions switched off" in markdown
