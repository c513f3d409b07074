"""The pipeline end to end through a real Celery worker: a meeting ends, the report and the search index follow."""

import time

import pytest

from accounts.tenancy import tenant_scope
from knowledge.models import Chunk
from meetings.models import ActionItem, Meeting, MeetingReport
from meetings.services import meeting_end
from tests.intelligence.factories import scripted_meeting_make


def _wait(predicate, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError("timed out waiting for the worker")


@pytest.mark.django_db(transaction=True)
def test_meeting_end_runs_the_pipeline_and_regenerate_reruns_it(celery_worker, company, manager, outsider):
    meeting = scripted_meeting_make(company=company, status=Meeting.Status.ACTIVE)
    with tenant_scope(company):
        meeting_end(company=company, meeting=meeting)  # transcript_completed -> receiver -> task

    def report_done():
        with tenant_scope(company):
            report = MeetingReport.objects.filter(meeting=meeting, status="done").first()
            indexed = {c for c in Chunk.objects.filter(source_id=meeting.pk).values_list("source_type", flat=True)}
            indexed = indexed == {"transcript", "summary", "decision", "action_item"}
            return report if report and indexed else None

    report = _wait(report_done)
    assert report.provider == "local" and "pilot" in report.short_summary.lower()
    with tenant_scope(company):
        items = list(ActionItem.objects.filter(meeting=meeting))
        assert len(items) == 4
        first = items[0]
        first.description, first.edited_fields = "Edited by hand", ["description"]
        first.save()
    generated_at = report.generated_at

    assert outsider.api().post(f"/api/v1/meetings/{meeting.pk}/report/regenerate").status_code == 404
    response = manager.api().post(f"/api/v1/meetings/{meeting.pk}/report/regenerate")
    assert response.status_code == 202 and response.json()["status"] == "pending"

    def regenerated():
        with tenant_scope(company):
            report = MeetingReport.objects.get(meeting=meeting)
            return report if report.status == "done" and report.generated_at > generated_at else None

    _wait(regenerated)
    with tenant_scope(company):
        again = list(ActionItem.objects.filter(meeting=meeting))
        assert len(again) == 4
        assert ActionItem.objects.get(pk=first.pk).description == "Edited by hand"
    body = manager.api().get(f"/api/v1/meetings/{meeting.pk}/report").json()
    assert body["status"] == "done" and body["provider"] == "local" and len(body["action_items"]) == 4
