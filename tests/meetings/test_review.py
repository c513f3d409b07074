"""Findings under the company's confidence threshold are suggestions a person confirms or dismisses."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.tenancy import tenant_scope
from meetings import services
from meetings.models import ActionItem, Decision
from tests.meetings.factories import meeting_make

pytestmark = pytest.mark.django_db
API = "/api/v1"


@pytest.fixture
def meeting(company):
    with tenant_scope(company):
        return meeting_make(company=company, title="Design review")


def _live_item(company, meeting, description: str, confidence: float) -> ActionItem:
    with tenant_scope(company):
        return services.action_item_create(company=company, meeting=meeting, description=description,
                                           confidence=confidence, origin=ActionItem.Origin.LIVE, provider="local")


def _review(client, path: str, review: str):
    return client.post(f"{API}{path}", {"review": review}, content_type="application/json")


def test_the_company_threshold_decides_what_is_a_suggestion(company, meeting, settings):
    settings.ANALYSIS_CONFIRM_BELOW = 0.5
    unsure = _live_item(company, meeting, "Check the battery supplier", 0.31)
    sure = _live_item(company, meeting, "Send the costing spreadsheet", 0.82)
    with tenant_scope(company):
        manual = services.action_item_create(company=company, meeting=meeting, description="Book the room",
                                             confidence=0.1)
    assert (unsure.review, sure.review, manual.review) == ("suggested", "confirmed", "confirmed")
    company.settings = {"confirm_below": 0.9}
    company.save()
    assert _live_item(company, meeting, "Draft the user survey", 0.82).review == "suggested"
    company.settings = {"confirm_below": 0}  # suggestions off
    company.save()
    assert _live_item(company, meeting, "Order the prototypes", 0.05).review == "confirmed"


def test_suggestions_are_not_tasks_until_confirmed(admin, company, meeting, settings):
    settings.ANALYSIS_CONFIRM_BELOW = 0.5
    unsure = _live_item(company, meeting, "Check the battery supplier", 0.31)
    with tenant_scope(company):
        unsure.assignee_user = admin.user
        unsure.save()
    client = admin.api()
    listed = client.get(f"{API}/action-items").json()["items"]
    assert [(i["id"], i["review"]) for i in listed] == [(unsure.pk, "suggested")]
    assert client.get(f"{API}/action-items?mine=true").json()["items"] == []
    confirmed = _review(client, f"/action-items/{unsure.pk}/review", "confirmed")
    assert confirmed.status_code == 200 and confirmed.json()["review"] == "confirmed"
    assert [i["id"] for i in client.get(f"{API}/action-items?mine=true").json()["items"]] == [unsure.pk]


def test_a_dismissed_item_stays_dismissed_when_the_analysis_runs_again(admin, company, meeting, settings):
    settings.ANALYSIS_CONFIRM_BELOW = 0.5
    draft = services.ActionItemDraft(description="Check the battery supplier", confidence=0.3)
    with tenant_scope(company):
        services.action_item_merge(company=company, meeting=meeting, drafts=[draft], provider="local")
        item = ActionItem.objects.get(meeting=meeting)
    assert item.review == "suggested"
    client = admin.api()
    assert _review(client, f"/action-items/{item.pk}/review", "dismissed").json()["review"] == "dismissed"
    assert client.get(f"{API}/meetings/{meeting.pk}/action-items").json()["items"] == []
    with tenant_scope(company):
        services.action_item_merge(company=company, meeting=meeting, drafts=[draft], provider="local")
        rows = list(ActionItem.objects.filter(meeting=meeting))
    assert [(r.pk, r.review) for r in rows] == [(item.pk, "dismissed")]
    dismissed = client.get(f"{API}/action-items?review=dismissed").json()["items"]
    assert [i["id"] for i in dismissed] == [item.pk]


def test_decisions_are_reviewed_and_a_reviewed_one_is_left_alone(manager, member, company, meeting, settings):
    settings.ANALYSIS_CONFIRM_BELOW = 0.5
    draft = services.DecisionDraft(text="The remote sells for 25 Euro.", confidence=0.4)
    with tenant_scope(company):
        services.decision_merge(company=company, meeting=meeting, drafts=[draft], provider="local")
        decision = Decision.objects.get(meeting=meeting)
    assert decision.review == "suggested"
    assert _review(member.api(), f"/decisions/{decision.pk}/review", "confirmed").status_code == 403
    body = _review(manager.api(), f"/decisions/{decision.pk}/review", "confirmed").json()
    assert body["review"] == "confirmed"
    with tenant_scope(company):  # a re-run that no longer finds it keeps what a person confirmed
        services.decision_merge(company=company, meeting=meeting, drafts=[], provider="local")
        assert Decision.objects.get(pk=decision.pk).review == "confirmed"
    assert _review(manager.api(), f"/decisions/{decision.pk}/review", "maybe").status_code == 422


def test_another_company_cannot_review(outsider, company, meeting, settings):
    settings.ANALYSIS_CONFIRM_BELOW = 0.5
    item = _live_item(company, meeting, "Check the battery supplier", 0.3)
    with tenant_scope(company):
        decision = services.decision_create(company=company, meeting=meeting, text="Use a kinetic battery.",
                                            confidence=0.3, origin=ActionItem.Origin.LIVE)
    assert _review(outsider.api(), f"/action-items/{item.pk}/review", "dismissed").status_code == 404
    assert _review(outsider.api(), f"/decisions/{decision.pk}/review", "dismissed").status_code == 404
    with tenant_scope(company):
        assert ActionItem.objects.get(pk=item.pk).review == "suggested"
        assert Decision.objects.get(pk=decision.pk).review == "suggested"


def test_the_meeting_page_offers_confirm_and_dismiss(admin, company, meeting, settings):
    settings.ANALYSIS_CONFIRM_BELOW = 0.5
    item = _live_item(company, meeting, "Check the battery supplier", 0.3)
    client = admin.browser()
    page = client.get(reverse("meetings:detail", args=[meeting.pk])).content.decode()
    assert "Suggested · confirm?" in page and reverse("meetings:action_item_review", args=[item.pk]) in page
    row = client.post(reverse("meetings:action_item_review", args=[item.pk]), {"review": "confirmed"},
                      HTTP_HX_REQUEST="true")
    assert row.status_code == 200 and "Suggested · confirm?" not in row.content.decode()
    with tenant_scope(company):
        assert ActionItem.objects.get(pk=item.pk).review == "confirmed"


def test_a_surer_later_detection_turns_a_suggestion_into_a_finding(company, meeting, settings):
    settings.ANALYSIS_CONFIRM_BELOW = 0.5
    first = _live_item(company, meeting, "Send the security questionnaire", 0.07)  # the rules, at once
    assert first.review == "suggested"
    lifted = _live_item(company, meeting, "Send the security questionnaire", 0.8)  # the detector, turns later
    assert lifted is not None and (lifted.pk, lifted.review, lifted.confidence) == (first.pk, "confirmed", 0.8)
    assert _live_item(company, meeting, "Send the security questionnaire", 0.3) is None  # nothing new to say
    with tenant_scope(company):
        assert ActionItem.objects.filter(meeting=meeting).count() == 1


def test_dismissed_and_suggested_items_are_not_counted_as_work(admin, company, meeting, settings):
    from meetings import selectors
    from meetings.intelligence.reports import report_view

    settings.ANALYSIS_CONFIRM_BELOW = 0.5
    sure = _live_item(company, meeting, "Send the costing spreadsheet", 0.9)
    unsure = _live_item(company, meeting, "Check the battery supplier", 0.3)
    gone = _live_item(company, meeting, "Order the prototypes", 0.3)
    with tenant_scope(company):
        services.action_item_review(company=company, action_item=gone, review="dismissed")
        counts = selectors.action_item_status_counts(company=company)
        listed = selectors.meeting_list(company=company, with_counts=True).get(pk=meeting.pk)
        view = report_view(company=company, meeting_id=meeting.pk)
    assert counts["pending"] == 1 and listed.open_action_item_count == 1
    assert {i.pk for i in view.action_items} == {sure.pk, unsure.pk}  # the report shows no dismissed item


def test_a_rerun_never_demotes_an_item_somebody_works_on(company, meeting, settings):
    settings.ANALYSIS_CONFIRM_BELOW = 0.5
    with tenant_scope(company):
        services.action_item_merge(company=company, meeting=meeting, provider="local", drafts=[
            services.ActionItemDraft(description="Send the costing spreadsheet", confidence=0.8)])
        item = ActionItem.objects.get(meeting=meeting)
        services.action_item_update(company=company, action_item=item, data={"status": "in_progress"})
        services.action_item_merge(company=company, meeting=meeting, provider="local", drafts=[
            services.ActionItemDraft(description="Send the costing spreadsheet", confidence=0.07)])
        item.refresh_from_db()
    assert item.review == "confirmed" and item.status == "in_progress"
