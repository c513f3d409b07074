"""The report in the API, on its page, as Markdown and PDF, and who may see or regenerate it."""

import pytest

from accounts.tenancy import tenant_scope
from meetings.intelligence.pipeline import report_generate
from meetings.models import Meeting, MeetingReport, TranscriptSegment
from tests.intelligence.factories import scripted_meeting_make
from tests.meetings.factories import meeting_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def analysed(company):
    meeting = scripted_meeting_make(company=company)
    with tenant_scope(company):
        report_generate(company=company, meeting=meeting)
    return meeting


def test_report_api(analysed, member, outsider):
    data = member.api().get(f"/api/v1/meetings/{analysed.pk}/report").json()
    assert data["status"] == "done" and data["provider"] == "local" and data["meeting_date"] == "2025-05-22"
    assert len(data["action_items"]) == 4 and data["decisions"][0]["text"].startswith("Go with a 60 day pilot")
    [segment_id] = data["decisions"][0]["source_segment_ids"]  # where the decision was taken
    with tenant_scope(analysed.company):
        assert "60 day pilot" in TranscriptSegment.objects.get(pk=segment_id, meeting=analysed).text
    assert data["topics"][0]["url"].startswith(f"/meetings/{analysed.pk}/?t=")
    question = next(q for q in data["questions"] if "encrypted" in q["text"])
    assert question["url"] == f"/meetings/{analysed.pk}/?t={int(question['at'])}#segment-{question['segment_id']}"
    assert {s["speaker"] for s in data["talk_time"]} == {"Dana Whitfield", "Sam Patel", "Morgan Lee", "Riley Chen"}
    assert outsider.api().get(f"/api/v1/meetings/{analysed.pk}/report").status_code == 404
    assert outsider.api().get(f"/api/v1/meetings/{analysed.pk}/report/export?format=md").status_code == 404


def test_report_before_any_analysis(company, member):
    meeting = meeting_make(company=company, status=Meeting.Status.ENDED)
    data = member.api().get(f"/api/v1/meetings/{meeting.pk}/report").json()
    assert data["status"] == "none" and data["action_items"] == []
    assert member.api().get(f"/api/v1/meetings/{meeting.pk}/report/export?format=pdf").status_code == 409
    page = member.browser().get(f"/meetings/{meeting.pk}/report/")
    assert page.status_code == 200 and b"No report yet" in page.content


def test_regenerate_permissions_and_queueing(analysed, company, member, manager, no_enqueue):
    url = f"/api/v1/meetings/{analysed.pk}/report/regenerate"
    assert member.api().post(url).status_code == 403
    response = manager.api().post(url + "?provider=local")
    assert response.status_code == 202
    with tenant_scope(company):
        assert MeetingReport.objects.get(meeting=analysed).status == "pending"
    # Enqueued after commit: the test transaction never commits, so nothing was sent.
    active = meeting_make(company=company, status=Meeting.Status.ACTIVE)
    assert manager.api().post(f"/api/v1/meetings/{active.pk}/report/regenerate").status_code == 409
    assert manager.api().post(url + "?provider=skynet").status_code == 422


def test_regenerate_sends_the_task_after_commit(analysed, company, no_enqueue, django_capture_on_commit_callbacks):
    from meetings.intelligence import services

    with django_capture_on_commit_callbacks(execute=True), tenant_scope(company):
        services.report_request(company=company, meeting=analysed, provider="local")
    assert no_enqueue == [{"company_id": company.pk, "meeting_id": analysed.pk, "provider": "local"}]


def test_transcript_completed_signal_enqueues_the_pipeline(company, no_enqueue, django_capture_on_commit_callbacks):
    from meetings.signals import transcript_completed

    with django_capture_on_commit_callbacks(execute=True):
        transcript_completed.send(sender=Meeting, company_id=company.pk, meeting_id=41)
    assert no_enqueue == [{"company_id": company.pk, "meeting_id": 41}]


def test_report_page_and_polling(analysed, company, member, manager, outsider):
    page = member.browser().get(f"/meetings/{analysed.pk}/report/")
    assert page.status_code == 200
    html = page.content.decode()
    for text in ("Summary", "Decisions", "Action items", "Topics", "Questions", "Participation",
                 "Follow-up email draft", "Go with a 60 day pilot", "<svg", 'role="img"'):
        assert text in html, text
    assert "Regenerate" not in html  # members may not
    assert "Regenerate" in manager.browser().get(f"/meetings/{analysed.pk}/report/").content.decode()
    fragment = member.browser().get(f"/meetings/{analysed.pk}/report/", HTTP_HX_REQUEST="true")
    assert fragment.status_code == 286 and b"<html" not in fragment.content  # done: stop polling
    with tenant_scope(company):
        MeetingReport.objects.filter(meeting=analysed).update(status="running")
    polling = member.browser().get(f"/meetings/{analysed.pk}/report/", HTTP_HX_REQUEST="true")
    assert polling.status_code == 200 and b'hx-trigger="every 3s"' in polling.content
    assert outsider.browser().get(f"/meetings/{analysed.pk}/report/").status_code == 404


def test_regenerate_button(analysed, company, manager, member, no_enqueue):
    url = f"/meetings/{analysed.pk}/report/regenerate/"
    assert member.browser().post(url).status_code == 403
    assert manager.browser().post(url).status_code == 302
    with tenant_scope(company):
        assert MeetingReport.objects.get(meeting=analysed).status == "pending"


def test_exports(analysed, member):
    md = member.api().get(f"/api/v1/meetings/{analysed.pk}/report/export?format=md")
    assert md.status_code == 200 and md["Content-Type"].startswith("text/markdown")
    text = md.content.decode()
    assert text.startswith("# Initech discovery follow-up") and "## Action items" in text
    assert "- [ ] Send the revised proposal with the pilot terms — Dana Whitfield (due 2025-05-23)" in text
    assert "| Riley Chen |" in text
    pdf = member.browser().get(f"/meetings/{analysed.pk}/report/export.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and len(pdf.content) > 2000
    assert "attachment" in pdf["Content-Disposition"]
    assert member.api().get(f"/api/v1/meetings/{analysed.pk}/report/export?format=docx").status_code == 422


def test_markdown_export_neutralises_transcript_markup(company, member):
    meeting = scripted_meeting_make(company=company, title="<script>alert(1)</script> # [x](http://evil)")
    with tenant_scope(company):
        report_generate(company=company, meeting=meeting)
    text = member.api().get(f"/api/v1/meetings/{meeting.pk}/report/export?format=md").content.decode()
    first = text.splitlines()[0]
    assert "<script>" not in first and "\\[x\\]" in first and "\\#" in first


def test_report_card_partial_for_the_meeting_page(analysed, company):
    from django.template.loader import render_to_string

    with tenant_scope(company):
        html = render_to_string("intelligence/_report_card.html", {"meeting": Meeting.objects.get(pk=analysed.pk)})
        assert "Open report" in html and "pilot" in html.lower()
        fresh = meeting_make(company=company)
        assert "written when the meeting ends" in render_to_string("intelligence/_report_card.html",
                                                                   {"meeting": fresh})
