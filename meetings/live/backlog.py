"""The durable backlog of live analysis: what is owed to which final segment, and who works on it.

The one writer of ``LiveAnalysisWork`` (the outbox) and ``LiveAnalysisCursor`` (progress and lease).

- ``work_add`` runs in the transaction that makes a segment final: an acked final caption always
  has its row, whatever happens to the process afterwards.
- ``work_done`` runs in the transaction that writes what the analysis found (under the meeting's
  row lock): it deletes the row and advances the cursor. When the row is already gone, another
  process finished the segment first and the caller throws its results away. So each segment is
  analysed exactly once, even when a process dies between the ack and the analysis.
- ``lease_take`` / ``lease_renew`` / ``lease_release``: a process analyses a meeting only while it
  holds the meeting's lease (a holder name and an expiry), so two processes never analyse one
  meeting side by side; the lease of a process that died runs out after
  ``LIVE_ANALYSIS_LEASE_SECONDS`` and the next process (reconnect or sweep) takes over.
- ``meetings_lagging``: meetings whose work has waited longer than a while and whose lease is free
  (the sweep). This one read looks across companies (``scopes_disabled``): it returns ids only,
  and each meeting is then analysed inside its own company's scope.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import Company
from accounts.tenancy import scopes_disabled
from meetings.live.sql import Writes, columns, fetchall, fetchone, insert_add, instance
from meetings.models import LiveAnalysisCursor, LiveAnalysisWork, Meeting, Participant, TranscriptSegment

ANALYSIS = LiveAnalysisWork.Kind.ANALYSIS
SUGGESTION = LiveAnalysisWork.Kind.SUGGESTION

_holder: tuple[int, str] | None = None
_held: dict[int, int] = {}  # meeting id -> drains of this process holding its lease
_held_lock = threading.Lock()


def holder_id() -> str:
    """This process's name on leases (host, pid and a random part; new after a fork)."""
    global _holder
    pid = os.getpid()
    if _holder is None or _holder[0] != pid:
        _holder = (pid, f"{socket.gethostname()[:100]}:{pid}:{uuid.uuid4().hex[:8]}")
    return _holder[1]


def work_add(*, meeting: Meeting, segment: TranscriptSegment, kind: str = ANALYSIS,
             data: dict[str, Any] | None = None, writes: Writes | None = None) -> None:
    """Owe ``segment`` its analysis (caller's transaction; a second call for the same kind is a no-op).
    ``writes``: added to the caller's statement (part ``work_<kind>``) instead of sent on its own."""
    assert segment.meeting_id == meeting.pk
    row = LiveAnalysisWork(company_id=meeting.company_id, meeting=meeting, segment_id=segment.pk, kind=kind,
                           data=data or {})
    own = writes is None
    writes = Writes() if own else writes
    insert_add(writes, f"work_{kind}", row, suffix="ON CONFLICT DO NOTHING")
    if own:
        writes.run("SELECT 1")


def _work_next_sql() -> tuple[str, list[tuple[type, int, int]]]:
    """The backlog read of ``work_next`` and where each model's columns are in its rows."""
    parts = [(LiveAnalysisWork, "w"), (TranscriptSegment, "s"), (Participant, "p"), (Meeting, "m"), (Company, "c")]
    spans, start = [], 0
    for model, _alias in parts:
        width = len(model._meta.concrete_fields)
        spans.append((model, start, start + width))
        start += width
    sql = (f"SELECT {', '.join(columns(model, alias) for model, alias in parts)} "
           f"FROM {LiveAnalysisWork._meta.db_table} w "
           f"JOIN {TranscriptSegment._meta.db_table} s ON s.id = w.segment_id "
           f"LEFT JOIN {Participant._meta.db_table} p ON p.id = s.participant_id "
           f"JOIN {Meeting._meta.db_table} m ON m.id = s.meeting_id "
           f"JOIN {Company._meta.db_table} c ON c.id = m.company_id "
           "WHERE w.company_id = %s AND w.meeting_id = %s AND w.kind = %s ORDER BY s.sequence, w.id LIMIT %s")
    return sql, spans


def work_next(*, company_id: int, meeting_id: int, kind: str, limit: int) -> list[LiveAnalysisWork]:
    """The oldest work of the meeting, in transcript order, each with its segment, the segment's participant
    and its meeting and company: what analysing it starts from, read once for the batch (one prepared statement,
    the rows made into instances without the ORM's compiler: a live worker reads a batch on every round)."""
    sql, spans = _WORK_NEXT
    batch = []
    for row in fetchall(sql, [company_id, meeting_id, kind, limit]):
        work, segment, participant, meeting, company = (
            instance(model, row[start:end]) if row[start] is not None else None for model, start, end in spans)
        meeting.company = company
        segment.meeting, segment.participant = meeting, participant
        work.segment = segment
        batch.append(work)
    return batch


_WORK_NEXT = _work_next_sql()


def work_pending(*, meeting_id: int, kind: str | None = None) -> int:
    queryset = LiveAnalysisWork.objects.filter(meeting_id=meeting_id)
    if kind is not None:
        queryset = queryset.filter(kind=kind)
    return queryset.count()


def work_done(*, work: LiveAnalysisWork, alone: bool = False) -> bool:
    """Consume ``work`` in the caller's transaction (which holds the meeting lock and writes the results).
    ``alone``: the analysis found nothing to write, so the consuming statement is the whole transaction.

    False when it was already consumed: another process analysed the segment; write nothing. One statement:
    the row's delete and, for analysis, the meeting's progress on its cursor."""
    assert alone or transaction.get_connection().in_atomic_block, "work_done belongs in the results' transaction"
    works, cursors = LiveAnalysisWork._meta.db_table, LiveAnalysisCursor._meta.db_table
    # The company filter repeats the ORM's scope in this raw statement (row-level security applies too).
    sql = f"WITH gone AS (DELETE FROM {works} WHERE id = %s AND company_id = %s RETURNING id)"
    params: list[Any] = [work.pk, work.company_id]
    if work.kind == ANALYSIS:
        segments = TranscriptSegment._meta.db_table
        sql += (f", progress AS (UPDATE {cursors} SET analysed = analysed + 1, last_sequence = "
                f"GREATEST(last_sequence, (SELECT sequence FROM {segments} WHERE id = %s AND company_id = %s)) "
                f"WHERE meeting_id = %s AND company_id = %s AND EXISTS (SELECT 1 FROM gone) RETURNING 1)")
        params += [work.segment_id, work.company_id, work.meeting_id, work.company_id]
    return fetchone(sql + " SELECT COUNT(*) FROM gone", params)[0] == 1


_CURSORS = LiveAnalysisCursor._meta.db_table
# The lease's statements run for every drain: prepared (meetings.live.sql). Each names the company as well
# as the meeting, as a tenant-scoped queryset would (row-level security is the second wall).
_LEASE_TAKE = (f"UPDATE {_CURSORS} SET holder = %s, lease_until = %s WHERE meeting_id = %s AND company_id = %s "
               "AND (holder = %s OR lease_until IS NULL OR lease_until < %s) RETURNING 1")
_LEASE_SET = (f"UPDATE {_CURSORS} SET lease_until = %s WHERE meeting_id = %s AND company_id = %s AND holder = %s "
              "RETURNING 1")


def lease_take(*, company_id: int, meeting_id: int, seconds: float) -> bool:
    """Hold the meeting's lease for ``seconds`` unless another live process holds it."""
    holder, now = holder_id(), timezone.now()

    def take() -> bool:
        return fetchone(_LEASE_TAKE, [holder, now + timedelta(seconds=seconds), meeting_id, company_id, holder,
                                      now]) is not None

    with _held_lock:
        taken = take()  # the cursor row exists after the meeting's first drain: one statement from then on
        if not taken and not LiveAnalysisCursor.objects.filter(meeting_id=meeting_id).exists():
            LiveAnalysisCursor.objects.bulk_create(
                [LiveAnalysisCursor(company_id=company_id, meeting_id=meeting_id)], ignore_conflicts=True)
            taken = take()
        if taken:
            _held[meeting_id] = _held.get(meeting_id, 0) + 1
    return taken


def lease_renew(*, company_id: int, meeting_id: int, seconds: float) -> bool:
    """Extend this process's lease; False if it lapsed and another process took the meeting."""
    return fetchone(_LEASE_SET, [timezone.now() + timedelta(seconds=seconds), meeting_id, company_id,
                                  holder_id()]) is not None


def lease_release(*, company_id: int, meeting_id: int) -> None:
    """Give the lease up once no drain of this process needs it any more."""
    with _held_lock:
        left = _held.get(meeting_id, 1) - 1
        if left > 0:
            _held[meeting_id] = left
            return
        _held.pop(meeting_id, None)
        fetchone(_LEASE_SET, [None, meeting_id, company_id, holder_id()])


def cursor_get(*, meeting_id: int) -> LiveAnalysisCursor | None:
    return LiveAnalysisCursor.objects.filter(meeting_id=meeting_id).first()


def meetings_lagging(*, older_than: float, limit: int = 200) -> list[tuple[int, int, str]]:
    """(company id, meeting id, kind) whose work waited over ``older_than`` seconds with nobody holding
    the meeting's lease: a process died, or its client never came back."""
    now = timezone.now()
    with scopes_disabled():  # ids only; each meeting is then analysed in its own company's scope
        held = LiveAnalysisCursor.objects.filter(lease_until__gt=now).values("meeting_id")
        rows = (LiveAnalysisWork.objects.filter(created_at__lte=now - timedelta(seconds=older_than))
                .exclude(meeting_id__in=held).order_by().values_list("company_id", "meeting_id", "kind")
                .distinct()[:limit])
        return list(rows)
