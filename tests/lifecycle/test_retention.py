"""Retention: expired data goes with everything made from it; nothing fresh, live or of another company."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from prometheus_client import REGISTRY

from accounts import services as account_services
from accounts.models import AuditEntry
from accounts.tenancy import tenant_scope
from knowledge.models import Chunk
from meetings import lifecycle, tasks
from meetings.models import (
    ActionItem,
    AnalyticsEvent,
    Decision,
    Meeting,
    MeetingEvent,
    MeetingReport,
    ProcessingJob,
    Suggestion,
    TranscriptSegment,
)
from tests.lifecycle.factories import meeting_traces, rich_meeting, stored_files
from tests.meetings import factories as mf

pytestmark = pytest.mark.django_db


@pytest.fixture
def apply(django_capture_on_commit_callbacks):
    def run(company):
        with tenant_scope(company), django_capture_on_commit_callbacks(execute=True):
            return lifecycle.retention_apply(company=company)

    return run


def _policy(company, **days):
    with tenant_scope(company):
        return account_services.retention_set(company=company, by_user=None, values=days)


def _count(company, model, meeting, **filters):
    with tenant_scope(company):
        return model.objects.filter(meeting=meeting, **filters).count()


def test_expired_meeting_goes_whole_and_nothing_else(company, other_company, admin, member, outsider, media_root,
                                                     apply):
    old = rich_meeting(company=company, person=member.user, held_days_ago=40)
    fresh = rich_meeting(company=company, person=member.user, held_days_ago=2, title="Fresh call")
    foreign = rich_meeting(company=other_company, person=outsider.user, held_days_ago=400, title="Globex call")
    _policy(company, transcripts=30, reports=30)
    old_id = old.meeting.pk
    before = REGISTRY.get_sample_value("meetpilot_retention_deleted_total", {"kind": "meetings"}) or 0

    done = apply(company)

    assert done["meetings"] == {"deleted": 1}
    assert REGISTRY.get_sample_value("meetpilot_retention_deleted_total", {"kind": "meetings"}) == before + 1
    assert meeting_traces(old_id) == {}
    files = stored_files(media_root)
    assert not set(old.files) & files
    assert set(fresh.files) | set(foreign.files) <= files
    for kept in (fresh, foreign):
        traces = meeting_traces(kept.meeting.pk)
        assert traces["meetings.TranscriptSegment.meeting"] == 5 and traces["knowledge.Chunk"] >= 4
        assert traces["meetings.MeetingReport.meeting"] == 1
    with tenant_scope(company):
        deleted = AuditEntry.objects.get(action="meeting.deleted")
        applied = AuditEntry.objects.get(action="retention.applied")
    assert deleted.actor_id is None and deleted.detail["reason"] == "retention"
    assert deleted.target_id == str(old_id) and applied.detail["counts"]["meetings"] == {"deleted": 1}

    again = apply(company)  # idempotent: nothing left to do, nothing more in the log
    assert again["meetings"] == {"deleted": 0}
    assert all(not any(counts.values()) for counts in again.values())
    with tenant_scope(company):
        assert AuditEntry.objects.filter(action="retention.applied").count() == 1


def test_transcripts_expire_and_the_report_stays(company, member, media_root, apply):
    old = rich_meeting(company=company, person=member.user, held_days_ago=20)
    fresh = rich_meeting(company=company, person=member.user, held_days_ago=1, title="Fresh call")
    _policy(company, transcripts=15)

    done = apply(company)

    meeting = old.meeting
    assert done["transcripts"]["meetings"] == 1 and done["transcripts"]["segments"] == 5
    for model in (TranscriptSegment, MeetingEvent, AnalyticsEvent, Suggestion):
        assert _count(company, model, meeting) == 0, model
    with tenant_scope(company):
        assert not Chunk.objects.filter(source_type="transcript", source_id=meeting.pk).exists()
        assert Chunk.objects.filter(source_type="summary", source_id=meeting.pk).exists()
        assert Chunk.objects.filter(source_type="transcript", source_id=fresh.meeting.pk).exists()
    assert _count(company, MeetingReport, meeting) == 1
    assert (_count(company, ActionItem, meeting), _count(company, Decision, meeting)) == (2, 1)
    assert _count(company, TranscriptSegment, fresh.meeting) == 5
    spoken_answer = next(f for f in old.files if f.startswith("tts/"))
    assert spoken_answer not in stored_files(media_root)  # the spoken answers went with their suggestions

    _policy(company, transcripts=15, reports=15)  # now the report has expired too: the meeting goes
    assert apply(company)["meetings"] == {"deleted": 1}
    assert meeting_traces(meeting.pk) == {}


def test_recordings_and_live_audio_expire_alone(company, member, media_root, apply):
    old = rich_meeting(company=company, person=member.user, held_days_ago=12)
    recording = next(f for f in old.files if f.startswith("uploads/"))
    spoken_answer = next(f for f in old.files if f.startswith("tts/"))
    _policy(company, recordings=10)

    assert apply(company)["recordings"] == {"meetings": 1, "files": 1}
    files = stored_files(media_root)
    assert recording not in files and spoken_answer in files
    with tenant_scope(company):
        assert ProcessingJob.objects.get(meeting=old.meeting).storage_key == ""
    assert _count(company, TranscriptSegment, old.meeting) == 5

    _policy(company, recordings=10, live_audio=10)
    assert apply(company)["live_audio"] == {"meetings": 1, "files": 1}
    assert spoken_answer not in stored_files(media_root)
    assert _count(company, Suggestion, old.meeting, audio_url="") == 1


def test_live_and_upcoming_meetings_are_never_expired(company, apply):
    long_ago = mf.meeting_make(company=company, status=Meeting.Status.ACTIVE)
    upcoming = mf.meeting_make(company=company, scheduled_start=None)
    with tenant_scope(company):
        Meeting.objects.filter(pk=long_ago.pk).update(started_at=long_ago.started_at - timedelta(days=300),
                                                      created_at=long_ago.created_at - timedelta(days=300))
        Meeting.objects.filter(pk=upcoming.pk).update(created_at=upcoming.created_at - timedelta(days=300),
                                                      scheduled_start=upcoming.created_at + timedelta(days=3))
    mf.segment_make(meeting=long_ago, text="Still talking.")
    _policy(company, transcripts=30, reports=30)
    assert apply(company)["meetings"] == {"deleted": 0}
    with tenant_scope(company):
        assert set(Meeting.objects.values_list("pk", flat=True)) == {long_ago.pk, upcoming.pk}
    assert _count(company, TranscriptSegment, long_ago) == 1


def test_no_policy_keeps_everything(company, member, media_root, apply):
    old = rich_meeting(company=company, person=member.user, held_days_ago=4000)
    assert apply(company) == {}
    assert meeting_traces(old.meeting.pk)["meetings.TranscriptSegment.meeting"] == 5


def test_daily_task_is_scheduled_and_runs_per_company(company, other_company, member, media_root, monkeypatch,
                                                      django_capture_on_commit_callbacks):
    entry = settings.CELERY_BEAT_SCHEDULE["lifecycle-retention-daily"]
    assert entry["task"] == "lifecycle.retention_sweep" == tasks.retention_sweep.name
    old = rich_meeting(company=company, person=member.user, held_days_ago=40)
    _policy(company, transcripts=30, reports=30)
    sent = []
    monkeypatch.setattr(lifecycle, "task_send", lambda name, **kw: sent.append((name, kw)))
    assert tasks.retention_sweep.apply().get() == 1
    assert sent == [("lifecycle.retention_apply", {"company_id": company.pk})]  # Globex has no policy
    with django_capture_on_commit_callbacks(execute=True):
        result = tasks.retention_apply.apply(kwargs={"company_id": company.pk}).get()
    assert result["meetings"] == {"deleted": 1} and meeting_traces(old.meeting.pk) == {}
    assert tasks.retention_apply.apply(kwargs={"company_id": 10**9}).get() is None


# --- the policy: API and settings page ----------------------------------------------------------------


def test_admin_sets_retention_over_the_api(admin, company):
    client = admin.api()
    assert client.get("/api/v1/retention").json() == {"recordings": None, "live_audio": None, "transcripts": None,
                                                      "reports": None}
    response = client.put("/api/v1/retention", {"recordings": 30, "transcripts": 365, "reports": 0},
                          content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json() == {"recordings": 30, "live_audio": None, "transcripts": 365, "reports": None}
    company.refresh_from_db()
    assert company.settings["retention"] == {"recordings": 30, "transcripts": 365}
    with tenant_scope(company):
        entry = AuditEntry.objects.get(action="retention.updated")
    assert entry.actor_id == admin.user.pk and entry.detail["after"]["transcripts"] == 365


@pytest.mark.parametrize("body", [{"recordings": -1}, {"transcripts": "soon"}, {"reports": 10**6},
                                  {"recordings": 1.5}])
def test_bad_retention_is_a_4xx(admin, body):
    response = admin.api().put("/api/v1/retention", body, content_type="application/json")
    assert 400 <= response.status_code < 500 and "detail" in response.json()


def test_only_admins_see_or_set_retention(manager, member, outsider, company):
    _policy(company, transcripts=90)
    for actor in (manager, member):
        assert actor.api().get("/api/v1/retention").status_code == 403
        assert actor.api().put("/api/v1/retention", {"transcripts": 1}, content_type="application/json"
                               ).status_code == 403
    assert outsider.api().get("/api/v1/retention").json()["transcripts"] is None  # Globex's own, not Acme's
    company.refresh_from_db()
    assert company.settings["retention"] == {"transcripts": 90}


def test_settings_page_sets_retention(admin, member, company):
    page = admin.browser().get("/settings/")
    assert page.status_code == 200 and b"Data retention" in page.content
    response = admin.browser().post("/settings/retention/", {"recordings": "7", "live_audio": "", "transcripts": "0",
                                                             "reports": "400"})
    assert response.status_code == 302
    company.refresh_from_db()
    assert company.settings["retention"] == {"recordings": 7, "reports": 400}
    assert member.browser().post("/settings/retention/", {"recordings": "1"}).status_code == 403
    bad = admin.browser().post("/settings/retention/", {"recordings": "-3"}, follow=True)
    assert b"Retention:" in bad.content
    company.refresh_from_db()
    assert company.settings["retention"]["recordings"] == 7
