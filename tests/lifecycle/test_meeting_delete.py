"""Deleting a meeting leaves nothing of it in any table, in the search index or in storage."""

from __future__ import annotations

import pytest

from accounts.models import AuditEntry
from accounts.tenancy import tenant_scope
from knowledge.retrieval import chunks_search
from meetings import services
from tests.lifecycle.factories import meeting_traces, rich_meeting, stored_files

pytestmark = pytest.mark.django_db


def test_api_delete_leaves_nothing_behind(admin, member, company, media_root, django_capture_on_commit_callbacks):
    gone = rich_meeting(company=company, person=member.user, title="Pricing review")
    kept = rich_meeting(company=company, person=member.user, title="Roadmap sync")
    assert meeting_traces(gone.meeting.pk) and set(gone.files) <= stored_files(media_root)

    with django_capture_on_commit_callbacks(execute=True):  # files go once the deletion is committed
        response = admin.api().delete(f"/api/v1/meetings/{gone.meeting.pk}")
    assert response.status_code == 204, response.content

    assert meeting_traces(gone.meeting.pk) == {}
    assert not set(gone.files) & stored_files(media_root)
    assert set(kept.files) <= stored_files(media_root)  # the other meeting's files are untouched
    assert not {p.split("/")[2] for p in gone.files if p.startswith("uploads/")} & {
        p.split("/")[2] for p in stored_files(media_root) if p.startswith("uploads/")}  # no empty folder left
    kept_traces = meeting_traces(kept.meeting.pk)
    assert kept_traces["knowledge.Chunk"] > 0 and kept_traces["meetings.TranscriptSegment.meeting"] == 5
    hits = chunks_search(company=company, query="revised quote by Friday", k=10)
    assert hits and {h.metadata.get("meeting_id") for h in hits} == {kept.meeting.pk}
    with tenant_scope(company):
        entry = AuditEntry.objects.get(action="meeting.deleted")
    assert (entry.actor_id, entry.target_id) == (admin.user.pk, str(gone.meeting.pk))
    assert entry.detail["reason"] == "request" and entry.detail["counts"]["segments"] == 5


def test_outsider_cannot_delete(outsider, member, company, media_root):
    gone = rich_meeting(company=company, person=member.user)
    assert outsider.api().delete(f"/api/v1/meetings/{gone.meeting.pk}").status_code == 404
    assert meeting_traces(gone.meeting.pk)["meetings.TranscriptSegment.meeting"] == 5


def test_service_delete_reports_counts(company, member, media_root):
    rich = rich_meeting(company=company, person=member.user)
    meeting_id = rich.meeting.pk
    with tenant_scope(company):
        counts = services.meeting_delete(company=company, meeting=rich.meeting)
    assert counts["segments"] == 5 and counts["chunks"] >= 4 and counts["chat_citations"] == 1
    assert meeting_traces(meeting_id) == {}


def test_other_apps_register_what_they_derived(company, member, media_root, monkeypatch):
    """The hook a voiceprint table uses: called with the meeting ids, inside the deleting transaction."""
    from accounts import lifecycle as account_lifecycle
    from accounts import services as account_services
    from meetings import lifecycle

    calls = []
    monkeypatch.setattr(lifecycle, "_purgers", {})
    lifecycle.register_meeting_purger("voiceprints", lambda c, ids: calls.append((c.pk, list(ids))) or 2)
    monkeypatch.setattr(account_lifecycle, "_parts", dict(account_lifecycle._parts))
    account_lifecycle.register_person_part("voiceprints", export=lambda c, u: [{"speaker": u.pk}],
                                           erase=lambda c, u: {"voiceprints": 1})
    rich = rich_meeting(company=company, person=member.user)
    meeting_id = rich.meeting.pk
    with tenant_scope(company):
        counts = services.meeting_delete(company=company, meeting=rich.meeting)
        exported = account_services.person_export(company=company, user=member.user, by_user=member.user)
        erased = account_services.person_erase(company=company, user=member.user, by_user=member.user)
    assert calls == [(company.pk, [meeting_id])] and counts["registered"] == {"voiceprints": 2}
    assert exported["voiceprints"] == [{"speaker": member.user.pk}]
    assert erased["counts"]["voiceprints"] == {"voiceprints": 1}
