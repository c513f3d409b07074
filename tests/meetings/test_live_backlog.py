"""The durable live analysis backlog: owed with the caption, consumed with the findings, one process at a time."""

from __future__ import annotations

import time

import pytest

from accounts.tenancy import tenant_scope
from meetings.live import backlog, pipeline
from meetings.live.ingest import caption_ingest
from meetings.live.load import LOAD, InterimCoalescer
from meetings.models import (
    ActionItem,
    AnalyticsEvent,
    LiveAnalysisCursor,
    LiveAnalysisWork,
    Meeting,
    MeetingEvent,
)
from tests.meetings.factories import meeting_make
from tests.meetings.live_helpers import caption

pytestmark = pytest.mark.django_db(transaction=True)

ITEM = "I will send you the pricing sheet by Friday."
QUESTION = "Does your platform support single sign-on with Okta?"


@pytest.fixture
def worker_mode(settings):
    """Web processes leave analysis to workers: nothing is analysed until a drain runs."""
    settings.LIVE_ANALYSIS_MODE = "worker"


def _ingest(company, meeting, seq: int, text: str, *, final: bool = True, speaker: str = "Dana"):
    with tenant_scope(company):
        return caption_ingest(company=company, meeting=meeting, client_id="c1",
                              caption=caption(seq, text, speaker=speaker, is_final=final, start=seq * 5.0))


def _owed(company, meeting) -> list[int]:
    with tenant_scope(company):
        return list(LiveAnalysisWork.objects.filter(meeting=meeting).values_list("segment__client_sequence",
                                                                                  flat=True))


def test_a_final_caption_owes_its_analysis_until_the_findings_are_written(company, worker_mode):
    meeting = meeting_make(company=company, status=Meeting.Status.ACTIVE)
    _ingest(company, meeting, 1, "I will send", final=False)
    assert _owed(company, meeting) == []  # interims owe nothing
    _ingest(company, meeting, 1, ITEM)
    _ingest(company, meeting, 2, "Sounds good.")
    assert _owed(company, meeting) == [1, 2]  # committed with the captions, before any ack
    with tenant_scope(company):
        assert not ActionItem.objects.filter(meeting=meeting).exists()

    assert pipeline.meeting_drain(company_id=company.pk, meeting_id=meeting.pk) == 2
    assert _owed(company, meeting) == []
    with tenant_scope(company):
        cursor = LiveAnalysisCursor.objects.get(meeting=meeting)
        assert (cursor.analysed, cursor.last_sequence, cursor.lease_until) == (2, 2, None)
        assert ActionItem.objects.filter(meeting=meeting).count() == 1
    assert pipeline.meeting_drain(company_id=company.pk, meeting_id=meeting.pk) == 0  # nothing owed twice


def _analysed_by_two_processes(company, meeting) -> tuple[bool, bool]:
    """The meeting's one owed line, read by two processes at the same time and analysed by each in turn."""
    with tenant_scope(company):
        work = LiveAnalysisWork.objects.get(meeting=meeting)
        twin = LiveAnalysisWork.objects.get(meeting=meeting)  # what a second process read at the same time
    return tuple(
        pipeline.segment_analyze(company_id=company.pk, meeting_id=meeting.pk, segment_id=row.segment_id, work=row)
        for row in (work, twin)
    )


def test_a_segment_analysed_by_two_processes_is_written_once(company, worker_mode):
    meeting = meeting_make(company=company, status=Meeting.Status.ACTIVE)
    _ingest(company, meeting, 1, QUESTION, speaker="Priya")
    assert _analysed_by_two_processes(company, meeting) == (True, False)
    with tenant_scope(company):
        assert AnalyticsEvent.objects.filter(meeting=meeting, kind="question").count() == 1
        assert not LiveAnalysisWork.objects.filter(meeting=meeting).exists()


def test_a_line_that_finds_nothing_is_consumed_once_without_the_meeting_lock(company, worker_mode):
    meeting = meeting_make(company=company, status=Meeting.Status.ACTIVE)
    _ingest(company, meeting, 1, "Sounds good.")
    with tenant_scope(company):
        events = MeetingEvent.objects.filter(meeting=meeting).count()
    assert _analysed_by_two_processes(company, meeting) == (True, False)
    with tenant_scope(company):
        assert not LiveAnalysisWork.objects.filter(meeting=meeting).exists()
        assert MeetingEvent.objects.filter(meeting=meeting).count() == events  # nothing announced


def test_consuming_work_of_another_company_does_nothing(company, other_company, worker_mode):
    meeting = meeting_make(company=company, status=Meeting.Status.ACTIVE)
    _ingest(company, meeting, 1, "Sounds good.")
    with tenant_scope(company):
        work = LiveAnalysisWork.objects.get(meeting=meeting)
    with tenant_scope(other_company):  # row-level security and the statement's own company filter
        assert not backlog.work_done(work=work, alone=True)
    with tenant_scope(company):
        assert LiveAnalysisWork.objects.filter(pk=work.pk).exists()
        assert backlog.work_done(work=work, alone=True)
        assert not LiveAnalysisWork.objects.filter(pk=work.pk).exists()


def test_the_lease_keeps_another_process_out_until_it_lapses(company, monkeypatch):
    meeting = meeting_make(company=company, status=Meeting.Status.ACTIVE)
    with tenant_scope(company):
        monkeypatch.setattr(backlog, "holder_id", lambda: "web-a")
        assert backlog.lease_take(company_id=company.pk, meeting_id=meeting.pk, seconds=0.5)
        monkeypatch.setattr(backlog, "holder_id", lambda: "web-b")
        assert not backlog.lease_take(company_id=company.pk, meeting_id=meeting.pk, seconds=0.5)
        time.sleep(0.6)  # web-a died: its lease runs out
        assert backlog.lease_take(company_id=company.pk, meeting_id=meeting.pk, seconds=5)
        monkeypatch.setattr(backlog, "holder_id", lambda: "web-a")
        # ... and it cannot come back mid-way
        assert not backlog.lease_renew(company_id=company.pk, meeting_id=meeting.pk, seconds=5)
        assert pipeline.meeting_drain(company_id=company.pk, meeting_id=meeting.pk) == 0


def test_the_sweep_catches_up_on_meetings_nobody_holds_each_in_its_own_company(company, other_company, worker_mode,
                                                                             monkeypatch):
    ours = meeting_make(company=company, status=Meeting.Status.ACTIVE)
    theirs = meeting_make(company=other_company, status=Meeting.Status.ACTIVE)
    held = meeting_make(company=company, status=Meeting.Status.ACTIVE)
    for meeting in (ours, theirs, held):
        _ingest(meeting.company, meeting, 1, ITEM)
    with tenant_scope(company):  # a live process is working on this one
        monkeypatch.setattr(backlog, "holder_id", lambda: "web-elsewhere")
        assert backlog.lease_take(company_id=company.pk, meeting_id=held.pk, seconds=60)
    monkeypatch.undo()

    lagging = backlog.meetings_lagging(older_than=0)
    assert sorted(m for _, m, _ in lagging) == sorted([ours.pk, theirs.pk])
    assert pipeline.backlog_sweep(inline=True, older_than=0) == 2

    assert _owed(company, ours) == [] and _owed(other_company, theirs) == [] and _owed(company, held) == [1]
    with tenant_scope(other_company):  # Globex's finding is Globex's, and Acme's meetings are invisible
        assert ActionItem.objects.filter(meeting=theirs).count() == 1
        assert not ActionItem.objects.filter(meeting__in=[ours, held]).exists()
        assert not LiveAnalysisWork.objects.filter(meeting__in=[ours, held]).exists()
    with tenant_scope(company):
        assert ActionItem.objects.filter(meeting=ours).count() == 1
        assert not ActionItem.objects.filter(meeting=held).exists()
        assert MeetingEvent.objects.filter(meeting=ours, type="action_item").count() == 1


def test_the_load_turns_busy_and_ok_again_only_after_a_calm_spell(settings):
    settings.LIVE_BUSY_ACK_MS, settings.LIVE_BUSY_LOOP_LAG_MS, settings.LIVE_BUSY_HOLD_SECONDS = 100, 100, 0.2
    LOAD.reset()
    try:
        for _ in range(5):
            LOAD.ack_observed(0.4)
        assert LOAD.busy and LOAD.retry_after_ms() >= 1000
        LOAD.ack_observed(0.01)
        assert LOAD.busy  # not yet under half the limit for long enough
        for _ in range(20):
            LOAD.ack_observed(0.005)
        time.sleep(0.25)
        LOAD.ack_observed(0.005)
        assert not LOAD.busy
    finally:
        LOAD.reset()


def test_held_interims_keep_only_the_newest_per_speaker_until_the_final():
    held = InterimCoalescer()
    assert held.hold(caption(1, "I will", is_final=False)) is False
    assert held.hold(caption(1, "I will send", is_final=False)) is True
    held.hold(caption(2, "Sure", speaker="Priya", is_final=False))
    held.final_seen(caption(1, ITEM))
    assert [(c.speaker, c.text) for c in held.take()] == [("Priya", "Sure")]
    assert held.take() == []


def test_the_celery_sweep_task_catches_up(company, worker_mode, settings):
    from meetings.live.tasks import live_analysis_sweep_task

    settings.LIVE_ANALYSIS_SWEEP_AFTER_SECONDS = 0
    meeting = meeting_make(company=company, status=Meeting.Status.ACTIVE)
    _ingest(company, meeting, 1, ITEM)
    assert live_analysis_sweep_task.apply().get() == 1
    assert _owed(company, meeting) == []
    with tenant_scope(company):
        assert ActionItem.objects.filter(meeting=meeting).count() == 1
