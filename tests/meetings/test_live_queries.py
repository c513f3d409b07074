"""What one caption costs the database: statements per interim and per final, so that they do not grow back.

Counted at the service the socket calls (``caption_submit``), on the real database, without the
transaction's own BEGIN/COMMIT (or the test's savepoints). The live analysis of a final caption is
counted apart: it runs after the ack, off the socket.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ai.models import PromptType, PromptVersion
from meetings.live import backlog, pipeline
from meetings.live import llm as live_llm
from meetings.live.session import caption_submit
from meetings.models import AnalyticsEvent, Meeting, MeetingEvent, TranscriptSegment
from tests.meetings.factories import meeting_make
from tests.meetings.live_helpers import caption

pytestmark = pytest.mark.django_db

TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "BEGIN", "COMMIT")


@pytest.fixture
def meeting(scope, company, settings):
    settings.LIVE_ANALYSIS_MODE = "worker"  # analysis is not part of the caption's cost
    return meeting_make(company=company, status=Meeting.Status.ACTIVE)


def statements(company, meeting, cap, client_id="ext-a") -> tuple[list[str], object]:
    with CaptureQueriesContext(connection) as captured:
        result = caption_submit(company=company, meeting=meeting, client_id=client_id, caption=cap)
    sql = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(TRANSACTION_CONTROL)]
    return sql, result


def test_an_interim_or_a_final_costs_three_statements(company, meeting):
    statements(company, meeting, caption(1, "Good morning", speaker="Dana"))  # Dana is known from here on

    sql, first = statements(company, meeting, caption(2, "We should", speaker="Dana", is_final=False))
    assert first.status == "stored"
    assert len(sql) == 3, sql  # the lock, what storing needs, then the segment with its event

    sql, again = statements(company, meeting, caption(2, "We should ship", speaker="Dana", is_final=False))
    assert again.status == "updated" and again.segment_id == first.segment_id
    assert len(sql) == 3, sql

    sql, final = statements(company, meeting, caption(2, "We should ship it", speaker="Dana"))
    assert final.status == "updated" and final.segment_id == first.segment_id
    assert len(sql) == 3, sql  # its analysis owed (outbox row) and the speaker's speaking time in the same statement

    sql, fresh = statements(company, meeting, caption(3, "On Friday", speaker="Dana"))
    assert fresh.status == "stored" and len(sql) == 3, sql

    # A speaker seen for the first time: their participant row first; the turn's analytics join the statement.
    sql, other = statements(company, meeting, caption(4, "Sounds good", speaker="Lee"))
    assert other.status == "stored" and len(sql) == 4, sql
    assert list(AnalyticsEvent.objects.filter(meeting=meeting).order_by("at", "pk")
                .values_list("kind", "participant__name")) == [
        ("speak_start", "Dana"), ("speak_end", "Dana"), ("speak_start", "Lee")]

    segments = TranscriptSegment.objects.filter(meeting=meeting).order_by("sequence")
    assert [(s.client_sequence, s.text, s.is_final) for s in segments] == [
        (1, "Good morning", True),
        (2, "We should ship it", True),
        (3, "On Friday", True),
        (4, "Sounds good", True),
    ]
    assert list(MeetingEvent.objects.filter(meeting=meeting).values_list("event_id", flat=True)) == [1, 2, 3, 4, 5, 6]


def test_a_resent_final_is_acked_after_two_statements(company, meeting):
    statements(company, meeting, caption(1, "Hello everyone"))
    sql, again = statements(company, meeting, caption(1, "Hello everyone"))
    assert again.status == "duplicate" and len(sql) == 2, sql


def test_turns_are_right_when_an_interim_is_finalised_after_another_speakers_final(company, meeting):
    """The newest final read with the lock is newer than the interim's own line: the turn is looked up."""
    statements(company, meeting, caption(1, "So the plan", speaker="Dana", is_final=False), client_id="a")
    statements(company, meeting, caption(1, "Quick question", speaker="Lee"), client_id="b")
    statements(company, meeting, caption(1, "So the plan is set", speaker="Dana"), client_id="a")
    statements(company, meeting, caption(2, "Great", speaker="Lee"), client_id="b")
    turns = [
        (e.kind, e.participant.name)
        for e in AnalyticsEvent.objects.filter(meeting=meeting).select_related("participant").order_by("pk")
    ]
    # Dana's interim took line 1 and Lee's first final line 2; when Dana's line turns final, no final is
    # before line 1 (a start of its own, not an end of Lee's). Lee's second line (3) follows line 2, his own.
    assert turns == [("speak_start", "Lee"), ("speak_start", "Dana")]


def test_a_duplicate_from_another_client_is_still_found(company, meeting):
    statements(company, meeting, caption(5, "Our price is 45 dollars", speaker="Dana"), client_id="a")
    sql, dup = statements(company, meeting, caption(9, "our price is 45 dollars!", speaker="Dana"), client_id="b")
    assert dup.status == "duplicate"
    assert TranscriptSegment.objects.filter(meeting=meeting).count() == 1


def test_live_routes_are_remembered_until_a_prompt_changes(scope, company, settings):
    settings.LIVE_ROUTE_CACHE_SECONDS = 60
    live_llm.routes_forget()
    with CaptureQueriesContext(connection) as first:
        before = live_llm.company_route(company, PromptType.ACTION_ITEMS)
    with CaptureQueriesContext(connection) as second:
        assert live_llm.company_route(company, PromptType.ACTION_ITEMS) is before
    assert len(first.captured_queries) >= 1 and len(second.captured_queries) == 0
    PromptVersion.objects.create(
        company=company, prompt_type=PromptType.ACTION_ITEMS, version=1, body="List the action items, briefly."
    )
    after = live_llm.company_route(company, PromptType.ACTION_ITEMS)
    assert after is not before and after.prompt.body == "List the action items, briefly."


@pytest.mark.django_db(transaction=True)
def test_a_caption_waiting_for_the_lock_sees_what_the_holder_committed(company, settings):
    """The reads come after the lock, not in its statement: under READ COMMITTED those would see the snapshot
    from before the wait, miss the holder's participant and sequence, and fail on the unique constraints."""
    import threading
    import time

    from django.db import connections, transaction

    from accounts.tenancy import tenant_scope
    from meetings.live.events import lock_meeting
    from meetings.live.ingest import caption_ingest, participant_for

    settings.LIVE_ANALYSIS_MODE = "worker"
    with tenant_scope(company):
        meeting = meeting_make(company=company, status=Meeting.Status.ACTIVE)
    holding, results = threading.Event(), {}

    def holder() -> None:
        try:
            with tenant_scope(company), transaction.atomic():
                lock_meeting(meeting.pk)
                participant_for(meeting=meeting, name="Zoe")
                results["first"] = caption_ingest(
                    company=company, meeting=meeting, client_id="a", caption=caption(1, "First line", speaker="Zoe")
                )
                holding.set()
                time.sleep(0.8)  # the other caption is waiting for the lock meanwhile
        finally:
            connections.close_all()

    def waiter() -> None:
        try:
            holding.wait(5)
            with tenant_scope(company):
                results["second"] = caption_ingest(
                    company=company, meeting=meeting, client_id="b", caption=caption(1, "Second line", speaker="Zoe")
                )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=holder), threading.Thread(target=waiter)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    assert results["first"].status == "stored" and results["second"].status == "stored"
    with tenant_scope(company):
        segments = list(
            TranscriptSegment.objects.filter(meeting=meeting)
            .order_by("sequence")
            .values_list("sequence", "participant__name")
        )
    assert segments == [(1, "Zoe"), (2, "Zoe")]


def test_roles_are_relearnt_while_a_speaker_is_unknown_then_every_few_lines(settings):
    from meetings import analysis
    from meetings.live.pipeline import _roles_due
    from meetings.models import Participant

    settings.LIVE_ROLE_EVERY = 5
    dana = Participant(name="Dana", role=Participant.Role.CONSULTANT)
    priya = Participant(name="Priya", role=Participant.Role.UNKNOWN)
    lines = [analysis.Utterance(speaker=s, text="...", start=i, end=i + 1) for i, s in enumerate(["Dana", "Priya"] * 3)]
    assert _roles_due(participants={"Dana": dana, "Priya": priya}, history=lines[:3])  # Priya's is unknown
    priya.role = Participant.Role.CUSTOMER
    assert not _roles_due(participants={"Dana": dana, "Priya": priya}, history=lines[:3])
    assert _roles_due(participants={"Dana": dana, "Priya": priya}, history=lines[:5])  # the fifth line
    assert _roles_due(participants={"Dana": dana}, history=lines[:3])  # Priya has no row yet


SALES_CALL = [  # the benchmark's sales call (bench/live.py): questions, figures, a commitment, a decision, chatter
    ("Priya Buyer", "Does your platform support single sign-on with Okta?"),
    ("Dana Seller", "Yes. Our Q3 revenue was eighteen point seven million dollars, so we are growing."),
    ("Priya Buyer", "How much does the Enterprise plan cost per seat?"),
    ("Dana Seller", "I will send you the pricing sheet by Friday."),
    ("Priya Buyer", "Is customer data encrypted at rest?"),
    ("Dana Seller", "Let me share my screen and show you the dashboard."),
    ("Priya Buyer", "Okay. We decided to start with a pilot team."),
    ("Dana Seller", "Our gross margin was sixty eight percent in the third quarter."),
    ("Priya Buyer", "Is there a free trial?"),
    ("Dana Seller", "That sounds good to me, thanks."),
]


def _drain_statements(company, meeting, kind: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        pipeline.meeting_drain(company_id=company.pk, meeting_id=meeting.pk, kind=kind)
    return [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(TRANSACTION_CONTROL)]


def test_live_analysis_of_a_line_costs_about_five_statements(company, meeting):
    """Before: 9.2 a line and 5.25 a suggested answer (without BEGIN/COMMIT), every line under the meeting lock."""
    meeting.kind = Meeting.Kind.SALES
    meeting.save(update_fields=["kind"])
    for i, (speaker, text) in enumerate(SALES_CALL * 3, start=1):
        caption_submit(company=company, meeting=meeting, client_id="ext-a",
                       caption=caption(i, text, speaker=speaker, start=i * 3.0))
    lines = len(SALES_CALL) * 3
    analysis = _drain_statements(company, meeting, backlog.ANALYSIS)
    answers = _drain_statements(company, meeting, backlog.SUGGESTION)
    assert not backlog.work_pending(meeting_id=meeting.pk)
    assert len(analysis) <= 5.5 * lines, analysis
    questions = 4 * 3
    # The live side of a suggested answer (the knowledge base's search and routing vary with its caches).
    live_side = [q for q in answers if "meetings_" in q]
    assert len(live_side) <= 4 * questions, live_side
    # A line that finds nothing is consumed by one statement, without the meeting's lock: fewer locks than lines.
    locks = [q for q in analysis if "FOR NO KEY UPDATE" in q]
    assert len(locks) < lines - 3, len(locks)



def test_suggested_answers_use_the_remembered_route(company, meeting, settings):
    """The knowledge-base answer of each customer question reads the company's prompt and provider rows only
    when the live routes are not remembered (before: two queries per answer)."""
    settings.LIVE_ROUTE_CACHE_SECONDS = 60
    live_llm.routes_forget()
    meeting.kind = Meeting.Kind.SALES
    meeting.save(update_fields=["kind"])
    for i, (speaker, text) in enumerate(SALES_CALL, start=1):
        caption_submit(company=company, meeting=meeting, client_id="ext-a",
                       caption=caption(i, text, speaker=speaker, start=i * 3.0))
    _drain_statements(company, meeting, backlog.ANALYSIS)
    answers = _drain_statements(company, meeting, backlog.SUGGESTION)
    assert not backlog.work_pending(meeting_id=meeting.pk)
    routing = [q for q in answers if "intelligence_promptversion" in q or "intelligence_aiprovidersettings" in q]
    assert len(routing) == 2, routing  # the first answer's, then remembered

def test_the_history_holds_the_tail_and_the_opening_line_in_one_query(company, meeting):
    for i in range(1, 13):
        caption_submit(company=company, meeting=meeting, client_id="ext-a",
                       caption=caption(i, f"line {i}", speaker="Dana" if i % 2 else "Lee", start=i * 3.0))
    caption_submit(company=company, meeting=meeting, client_id="ext-a",
                   caption=caption(13, "still typing", is_final=False, start=40.0))
    segment = TranscriptSegment.objects.get(meeting=meeting, client_sequence=12)
    with CaptureQueriesContext(connection) as captured:
        history = pipeline._history(meeting, segment)
    assert len(captured.captured_queries) == 1
    tail = pipeline._HISTORY_TAIL
    assert len(history) == 12  # the interim is no line yet
    assert [u.text for u in history[-tail:]] == [f"line {i}" for i in range(13 - tail, 13)]
    assert {u.text for u in history[:-tail]} == {"line 1"}  # the opening line stands for the lines not read
    short = pipeline._history(meeting, TranscriptSegment.objects.get(meeting=meeting, client_sequence=3))
    assert [u.text for u in short] == ["line 1", "line 2", "line 3"]


def _lock_executions() -> int:
    """How often this connection ran its prepared meeting lock (PostgreSQL counts each execution's plan)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(SUM(generic_plans + custom_plans), 0) FROM pg_prepared_statements "
                       "WHERE statement LIKE %s", ["%FOR NO KEY UPDATE%"])
        return cursor.fetchone()[0]


def test_the_hot_statements_are_prepared_unless_turned_off(company, meeting, settings, monkeypatch):
    # Prepared only on a connection kept open between jobs (as docker-compose.yml runs); not with CONN_MAX_AGE=0.
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)
    statements(company, meeting, caption(1, "Good morning", speaker="Dana"))
    assert _lock_executions() == 0

    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)
    statements(company, meeting, caption(2, "We should ship", speaker="Dana"))
    before = _lock_executions()
    assert before >= 1
    statements(company, meeting, caption(3, "On Friday", speaker="Dana"))
    assert _lock_executions() == before + 1  # the statement prepared before ran again (not parsed again)

    settings.LIVE_PREPARED_STATEMENTS = False  # behind a pooler that cannot keep them
    sql, result = statements(company, meeting, caption(4, "Or Monday", speaker="Dana"))
    assert result.status == "stored" and len(sql) == 3
    assert _lock_executions() == before + 1
