"""The daily digest: at DIGEST_HOUR in each person's time zone, only with something to say, once a day."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from integrations import services as connections
from meetings.models import ActionItem
from meetpilot.celery import app
from meetpilot.tasks import task_send
from tests.meetings.factories import action_item_make, meeting_make
from workflows.digest import digest_company_send

NOW = datetime(2031, 3, 10, 7, 0, tzinfo=UTC)  # a Monday, 07:00 UTC


def zone_at(now: datetime, hour: int = 8) -> str:
    """An IANA zone whose local time is in the ``hour`` o'clock hour at ``now``."""
    offset = (hour - now.astimezone(UTC).hour) % 24
    offset = offset - 24 if offset > 14 else offset
    return f"Etc/GMT{-offset:+d}"  # POSIX sign: Etc/GMT-3 is three hours east of UTC


def _set_zone(user, zone):
    user.timezone = zone
    user.full_clean()
    user.save(update_fields=["timezone"])


@pytest.fixture
def work(company, member, admin):
    meeting = meeting_make(company=company, title="Weekly sync")
    action_item_make(meeting=meeting, description="Renew the certificate", assignee_user=member.user,
                     due_date=date(2031, 3, 1))
    action_item_make(meeting=meeting, description="Prepare the board deck", assignee_user=member.user,
                     due_date=date(2031, 3, 20))
    action_item_make(meeting=meeting, description="Finished already", assignee_user=member.user,
                     status=ActionItem.Status.DONE)
    action_item_make(meeting=meeting, description="Admin's own task", assignee_user=admin.user)
    return meeting


@pytest.mark.django_db
def test_a_member_gets_one_digest_at_eight_local_time(scope, company, member, admin, work, settings):
    settings.SITE_URL = "https://meetpilot.acme.test"
    _set_zone(member.user, "Europe/Helsinki")  # UTC+2 in March: 07:00 UTC is 09:00 there
    _set_zone(admin.user, "America/New_York")  # 03:00 there
    mail.outbox.clear()
    assert digest_company_send(company=company, now=NOW) == 0
    assert digest_company_send(company=company, now=NOW - timedelta(hours=1)) == 1  # 08:00 in Helsinki
    [sent] = mail.outbox
    assert sent.to == [member.user.email]
    assert sent.subject == "Your action items: 1 overdue, 2 open in all"
    overdue, _, open_part = sent.body.partition("Open (1):")
    assert "Overdue (1):" in overdue and "Renew the certificate (due Mar 1; Weekly sync)" in overdue
    assert "Prepare the board deck" in open_part and "Finished already" not in sent.body
    assert "Admin's own task" not in sent.body and "https://meetpilot.acme.test/action-items/" in sent.body
    # The task runs again in the same hour, or beat fires twice: still one digest that day.
    assert digest_company_send(company=company, now=NOW - timedelta(minutes=30)) == 0
    assert len(mail.outbox) == 1
    # The next day at 08:00 Helsinki time there is a new one.
    assert digest_company_send(company=company, now=NOW - timedelta(hours=1) + timedelta(days=1)) == 1


@pytest.mark.django_db
def test_nothing_to_say_means_no_digest(scope, company, member, settings):
    _set_zone(member.user, "Europe/Helsinki")
    mail.outbox.clear()
    assert digest_company_send(company=company, now=NOW - timedelta(hours=1)) == 0
    assert mail.outbox == []


@pytest.mark.django_db
def test_no_digest_when_the_company_switched_email_off(scope, company, admin, member, work):
    _set_zone(member.user, "Europe/Helsinki")
    connections.connection_save(company=company, provider="email", by_user=admin.user, config={}, enabled=False)
    mail.outbox.clear()
    assert digest_company_send(company=company, now=NOW - timedelta(hours=1)) == 0 and mail.outbox == []


@pytest.mark.django_db
def test_the_time_zone_preference_must_be_a_real_zone(member):
    with pytest.raises(ValidationError):
        _set_zone(member.user, "Mars/Olympus_Mons")
    _set_zone(member.user, "Asia/Kolkata")


def test_the_hourly_beat_entry_is_registered():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["workflows-digest"]
    assert entry["task"] == "workflows.digest_run"
    assert entry["schedule"].minute == {0} and len(entry["schedule"].hour) == 24
    app.loader.import_default_modules()
    assert {"workflows.digest_run", "workflows.digest_company"} <= set(app.tasks)


@pytest.mark.django_db(transaction=True)
def test_the_beat_task_sends_through_the_worker_once_even_if_run_twice(celery_worker, company, admin, member,
                                                                       work):
    from django.utils import timezone

    _set_zone(member.user, zone_at(timezone.now(), 8))
    _set_zone(admin.user, zone_at(timezone.now(), 20))  # has an open item too, but it is evening there
    mail.outbox.clear()
    task_send("workflows.digest_run")
    task_send("workflows.digest_run")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not mail.outbox:
        time.sleep(0.05)
    time.sleep(1.5)
    assert [m.to for m in mail.outbox] == [[member.user.email]]


@pytest.mark.django_db
def test_people_set_their_own_time_zone_over_the_api(member, outsider):
    response = member.api().patch("/api/v1/me", data={"timezone": "Europe/Helsinki"},
                                  content_type="application/json")
    assert response.status_code == 200 and response.json()["user"]["timezone"] == "Europe/Helsinki"
    member.user.refresh_from_db()
    assert member.user.timezone == "Europe/Helsinki"
    bad = member.api().patch("/api/v1/me", data={"timezone": "Mars/Base"}, content_type="application/json")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_timezone"
    outsider.user.refresh_from_db()
    assert outsider.user.timezone == ""  # each person sets only their own
    assert member.api().patch("/api/v1/me", data={"timezone": ""}, content_type="application/json").json()[
        "user"]["timezone"] == ""
