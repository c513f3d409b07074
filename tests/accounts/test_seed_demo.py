"""manage.py seed_demo: the demo company and its admin, idempotently."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.management.commands.seed_demo import DEFAULT_DEMO_PASSWORD
from accounts.models import Company, Membership, Role, User
from accounts.signals import seed_demo_data
from accounts.tenancy import tenant_scope

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Demo documents (``--with-data``) are stored under this test's own folder."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_seed_demo_runs_twice_and_the_admin_can_sign_in(monkeypatch):
    monkeypatch.delenv("DEMO_ADMIN_PASSWORD", raising=False)
    first = seed()
    second = seed()
    assert "admin@demo.meetpilot.local" in first and DEFAULT_DEMO_PASSWORD in first and first == second

    company = Company.objects.get(email_domain="demo.meetpilot.local")
    assert company.name == "Acme Demo" and Company.objects.count() == 1 and User.objects.count() == 1
    with tenant_scope(company):
        [membership] = Membership.objects.all()
    assert membership.role == Role.ADMIN and membership.user.email == "admin@demo.meetpilot.local"

    client = Client()
    response = client.post(reverse("account_login"), {"login": "admin@demo.meetpilot.local",
                                                      "password": DEFAULT_DEMO_PASSWORD})
    assert response["Location"] == reverse("dashboard:home")
    assert "Acme Demo" in client.get(reverse("dashboard:home")).content.decode()


def test_seed_demo_takes_the_password_from_the_environment_and_repairs_the_admin(monkeypatch):
    seed()
    user = User.objects.get(email="admin@demo.meetpilot.local")
    user.is_active = False
    user.save()
    company = Company.objects.get(email_domain="demo.meetpilot.local")
    with tenant_scope(company):
        Membership.objects.filter(user=user).update(role=Role.MEMBER)

    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "another-demo-pass")
    assert "another-demo-pass" in seed()
    user.refresh_from_db()
    assert user.is_active and user.check_password("another-demo-pass")
    with tenant_scope(company):
        assert Membership.objects.get(user=user).role == Role.ADMIN


def test_with_data_lets_apps_add_their_demo_data():
    received = []

    def receiver(sender, company, admin, **kwargs):
        received.append((company.name, admin.email))

    seed_demo_data.connect(receiver)
    try:
        seed()
        assert received == []
        seed("--with-data")
    finally:
        seed_demo_data.disconnect(receiver)
    assert received == [("Acme Demo", "admin@demo.meetpilot.local")]


def test_with_data_seeds_the_demo_meeting_and_documents_once():
    from knowledge.models import Chunk, Document
    from meetings.models import ActionItem, Decision, Meeting, MeetingReport, Participant, TranscriptSegment

    seed("--with-data")
    company = Company.objects.get(email_domain="demo.meetpilot.local")
    with tenant_scope(company):
        first = {model.__name__: model.objects.count()
                 for model in (Meeting, TranscriptSegment, Participant, ActionItem, Decision, Document, Chunk)}
    seed("--with-data")  # make run does this on every start
    with tenant_scope(company):
        again = {model.__name__: model.objects.count()
                 for model in (Meeting, TranscriptSegment, Participant, ActionItem, Decision, Document, Chunk)}
        assert again == first  # nothing new the second time

        [meeting] = Meeting.objects.all()
        assert (meeting.status, meeting.kind) == (Meeting.Status.ENDED, Meeting.Kind.SALES)
        assert meeting.started_at < meeting.ended_at <= timezone.now()
        assert TranscriptSegment.objects.filter(meeting=meeting, is_final=True).count() == 26
        dana = Participant.objects.get(meeting=meeting, name="Dana Whitfield")
        assert dana.user.email == "admin@demo.meetpilot.local" and dana.speaking_seconds > 0
        assert Participant.objects.get(meeting=meeting, name="Morgan Lee").role == "customer"
        descriptions = " | ".join(ActionItem.objects.filter(meeting=meeting).values_list("description", flat=True))
        assert ActionItem.objects.filter(meeting=meeting).count() >= 3, descriptions
        assert "questionnaire" in descriptions and "proposal" in descriptions
        assert ActionItem.objects.filter(meeting=meeting, assignee_user__email="admin@demo.meetpilot.local").exists()
        assert Decision.objects.filter(meeting=meeting, text__icontains="60 day pilot").exists()
        report = MeetingReport.objects.get(meeting=meeting)
        assert report.status == "done" and report.short_summary and report.talk_time

        documents = {d.title: d for d in Document.objects.all()}
        assert set(documents) == {"Q3 2025 results", "Pricing and security FAQ", "Customer onboarding guide"}
        assert all(d.status == Document.Status.READY and d.chunk_count > 0 for d in documents.values())
        assert Chunk.objects.filter(document=documents["Q3 2025 results"],
                                    text__contains="Q3 revenue was $21.3 million").exists()

    # What the demo admin sees once signed in.
    client = Client()
    client.post(reverse("account_login"), {"login": "admin@demo.meetpilot.local", "password": DEFAULT_DEMO_PASSWORD})
    home = client.get(reverse("dashboard:home"))
    stats = {s.label: s.value for s in home.context["stats"]}
    assert stats["Meetings this week"] == 1 and stats["Documents ready"] == 3
    assert stats["Open action items"] == again["ActionItem"]
    assert {s.key: s.done for s in home.context["steps"]}["documents"] is True
    page = client.get(reverse("meetings:detail", args=[meeting.pk])).content.decode()
    assert 'id="intel-report-card"' in page and report.short_summary.split(".")[0] in page
    assert "Send the revised proposal" in page


@pytest.mark.parametrize(("now", "start"), [
    ("2026-12-09 15:07", "2026-12-09 13:00"),  # a Wednesday afternoon: two hours earlier, on the quarter hour
    ("2026-12-07 00:30", "2026-12-07 00:00"),  # early on a Monday: the week's first moment, still this week
    ("2026-12-07 00:05", "2026-12-06 23:55"),  # too early for a 10-minute call to have ended this week
])
def test_the_demo_call_counts_as_this_weeks_unless_the_week_is_younger_than_the_call(monkeypatch, now, start):
    from datetime import datetime

    from meetings import demo

    def at(text: str) -> datetime:
        return timezone.make_aware(datetime.strptime(text, "%Y-%m-%d %H:%M"))

    monkeypatch.setattr(timezone, "now", lambda: at(now))
    assert demo._demo_start(600) == at(start)
