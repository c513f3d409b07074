"""Company, meeting and person analytics, their pages and the SVG charts."""

from datetime import timedelta
from xml.etree import ElementTree

import pytest
from django.utils import timezone

from accounts.tenancy import tenant_scope
from meetings.intelligence import charts
from meetings.intelligence.analytics import overview, week_start_moment
from meetings.models import ActionItem, Meeting
from tests.meetings.factories import action_item_make, meeting_make, participant_make, report_make

pytestmark = pytest.mark.django_db
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def seeded(company, member, manager):
    today = timezone.localdate()
    week_start = week_start_moment()
    # Two hours before it still falls in this week, even early on a Monday (the meeting then ends a bit ahead).
    now = max(timezone.now(), week_start + timedelta(hours=3))
    this_week = meeting_make(company=company, title="Weekly sync", status=Meeting.Status.ENDED,
                             started_at=now - timedelta(hours=2), ended_at=now - timedelta(hours=1))
    earlier = meeting_make(company=company, title="Planning", status=Meeting.Status.ENDED,
                           started_at=now - timedelta(days=14, hours=2), ended_at=now - timedelta(days=14, hours=1,
                                                                                                   minutes=30))
    meeting_make(company=company, title="Next week", status=Meeting.Status.SCHEDULED,
                 scheduled_start=now + timedelta(days=7))
    participant_make(meeting=this_week, name="Bob", user=member.user, speaking_seconds=1800)
    participant_make(meeting=this_week, name="Manny", user=manager.user, speaking_seconds=600)
    participant_make(meeting=earlier, name="Bob", user=member.user, speaking_seconds=300)
    report_make(meeting=this_week, sentiment={"overall": 0.5, "per_participant": {"Bob": 0.6}, "timeline": [[30, 0.4],
                                                                                                           [90, 0.6]]},
                questions=[{"text": "Who owns the budget?", "asked_by": "Bob", "at": 12.0, "answered": False,
                            "segment_id": None},
                           {"text": "When is launch?", "asked_by": "Manny", "answered": True}],
                talk_time=[{"speaker": "Bob", "speaking_seconds": 1800, "share": 0.75, "turns": 10},
                           {"speaker": "Manny", "speaking_seconds": 600, "share": 0.25, "turns": 6}])
    report_make(meeting=earlier, sentiment={"overall": -0.25})
    action_item_make(meeting=this_week, description="Ship it", assignee_user=member.user,
                     due_date=today - timedelta(days=2))
    action_item_make(meeting=this_week, description="Write notes", status=ActionItem.Status.DONE)
    action_item_make(meeting=earlier, description="Old task", assignee_user=member.user, due_date=today + timedelta(5))
    return {"this_week": this_week, "earlier": earlier}


def test_overview_numbers(seeded, company, member, manager):
    with tenant_scope(company):
        data = overview(company=company, weeks=4)
    assert len(data["weeks"]) == 4
    assert data["meetings_per_week"][-1] == 1 and data["meetings_per_week"][-3] == 1 and sum(
        data["meetings_per_week"]) == 2
    assert data["hours_per_week"][-1] == pytest.approx(1.0) and data["hours_per_week"][-3] == pytest.approx(0.5)
    assert data["action_items"]["created_per_week"][-1] == 3 and data["action_items"]["completed_per_week"][-1] == 1
    assert data["action_items"]["overdue"] == 1 and data["action_items"]["overdue_items"][0]["description"] == "Ship it"
    assert data["action_items"]["open"] == 2
    # Talk time adds up per person across meetings, named after the member when the participant is one.
    assert data["talk_time"] == [{"name": member.user.full_name, "seconds": 2100.0},
                                 {"name": manager.user.full_name, "seconds": 600.0}]
    assert data["sentiment_per_week"][-1] == 0.5 and data["sentiment_per_week"][-3] == -0.25
    assert data["unanswered_questions_per_week"][-1] == 1
    assert data["unanswered_questions"][0]["text"] == "Who owns the budget?"
    assert data["unanswered_questions"][0]["url"] == f"/meetings/{seeded['this_week'].pk}/?t=12"


def test_analytics_api_and_isolation(seeded, member, manager, outsider):
    data = member.api().get("/api/v1/analytics/overview?weeks=4").json()
    assert sum(data["meetings_per_week"]) == 2
    theirs = outsider.api().get("/api/v1/analytics/overview?weeks=4").json()
    assert sum(theirs["meetings_per_week"]) == 0 and theirs["talk_time"] == [] and theirs["unanswered_questions"] == []

    meeting = member.api().get(f"/api/v1/analytics/meetings/{seeded['this_week'].pk}").json()
    assert meeting["sentiment_overall"] == 0.5 and meeting["questions"] == {"asked": 2, "unanswered": 1}
    assert meeting["action_items"] == {"total": 2, "done": 1}
    assert [p["t"] for p in meeting["sentiment_timeline"]] == [30, 90]
    assert outsider.api().get(f"/api/v1/analytics/meetings/{seeded['this_week'].pk}").status_code == 404

    mine = member.api().get(f"/api/v1/analytics/people/{member.user.pk}?weeks=4").json()
    assert sum(mine["meetings_per_week"]) == 2 and mine["speaking_minutes_per_week"][-1] == 30
    assert mine["action_items"] == {"open": 2, "done": 0, "overdue": 1} and mine["questions_asked"] == 1
    assert member.api().get(f"/api/v1/analytics/people/{manager.user.pk}").status_code == 403
    assert manager.api().get(f"/api/v1/analytics/people/{member.user.pk}").status_code == 200
    assert outsider.api().get(f"/api/v1/analytics/people/{member.user.pk}").status_code == 404


def test_analytics_pages(seeded, company, member, manager, outsider):
    page = manager.browser().get("/analytics/?weeks=4")
    html = page.content.decode()
    assert page.status_code == 200 and html.count("<svg") >= 5 and "Ship it" in html and "Who owns the budget?" in html
    assert f"/analytics/people/{member.user.pk}/" in html  # managers see the people list
    assert f"/analytics/people/{manager.user.pk}/" not in member.browser().get("/analytics/").content.decode()
    person = manager.browser().get(f"/analytics/people/{member.user.pk}/")
    assert person.status_code == 200 and b"<svg" in person.content
    assert member.browser().get(f"/analytics/people/{manager.user.pk}/").status_code == 403
    empty = outsider.browser().get("/analytics/")
    assert b"No meetings in the last" in empty.content and b"Ship it" not in empty.content


def _parse(svg: str) -> ElementTree.Element:
    root = ElementTree.fromstring(svg)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and desc is not None and root.get("aria-labelledby").split() == [title.get("id"),
                                                                                               desc.get("id")]
    return root


def test_charts_are_accessible_svg_and_escape_labels():
    bar = _parse(charts.bar_chart(title="Meetings <per> week", labels=["W1", "<b>W2</b>", "W3"],
                                  series=[charts.Series("Created", [1, 2, 0]), charts.Series("Done", [0, 1, 3])]))
    assert bar.find(f"{SVG}title").text == "Meetings <per> week"
    assert len(bar.findall(f".//{SVG}rect[{SVG}title]")) == 4  # zero bars are not drawn
    assert "Created: W1: 1; <b>W2</b>: 2" in bar.find(f"{SVG}desc").text
    line = _parse(charts.line_chart(title="Sentiment", labels=["a", "b", "c"],
                                    series=[charts.Series("s", [0.5, None, -0.5])], y_min=-1, y_max=1))
    assert len(line.findall(f".//{SVG}circle")) == 2 and not line.findall(f".//{SVG}polyline")  # a gap, no line
    donut = _parse(charts.donut_chart(title="Talk", labels=["Ann", "Bo"], values=[3, 1]))
    assert len(donut.findall(f".//{SVG}path")) == 2 and "Ann: 3 (75%)" in donut.find(f"{SVG}desc").text
    whole = _parse(charts.donut_chart(title="Talk", labels=["Solo"], values=[5]))
    assert whole.findall(f".//{SVG}circle")
    hbar = _parse(charts.hbar_chart(title="Minutes", labels=["A very long participant name indeed", "B"],
                                    values=[10, 5]))
    assert "…" in ElementTree.tostring(hbar, encoding="unicode")
    assert charts.bar_chart(title="x", labels=["a"], series=[charts.Series("s", [0])]) is None
    assert charts.line_chart(title="x", labels=[], series=[]) is None
    assert charts.donut_chart(title="x", labels=["a"], values=[0]) is None
    assert charts.nice_axis(5, integers=True) == (5, [0, 1, 2, 3, 4, 5])
    assert charts.nice_axis(0.18) == (0.2, [0, 0.05, 0.1, 0.15, 0.2])
    assert charts.nice_axis(2100)[0] == 2500
