"""Live analysis of final captions, and answers to ``ask``.

Runs after the caption is committed and acked. What a final segment is owed is in the database
(``meetings.live.backlog``: a row written with the segment); ``meeting_drain`` works through a
meeting's rows oldest first while it holds the meeting's lease, on the per-process lane runner, or
inline after commit when ``LIVE_ANALYSIS_MODE = "inline"``, or in ``manage.py live_worker``
processes when it is ``"worker"``. Each segment's findings are written in one transaction that
also consumes its row, so a segment is analysed exactly once, across crashes and processes; a
crashed process's meetings are resumed on the next ``hello`` and by the sweep (``backlog_sweep``).
For each final segment, in this order (cheap first, so action items never wait for the knowledge base):

1. speaker roles (customer / consultant) re-learnt over the recent utterances;
2. action items and decisions;
3. questions: an analytics row, and in sales meetings a customer's question gets a suggested
   answer from the knowledge base (documents only) with its sources -- on the separate
   ``answers`` pool, which also answers ``ask``: an answer that waits on an LLM must not hold up
   the action items and fact checks of this or any other meeting;
4. numbers said checked against the knowledge base (``meetings.analysis.facts``: the claim is matched to the
   document figure of the same metric and subject): a ``fact_check`` event for correct and incorrect claims,
   with the document's value and the cited passage; no alert when the documents hold no such figure.

Where the company routes action items, decisions or fact checks to a language model, ``meetings.live.llm``
asks it within the live time budget and the local result is the fallback (the stored ``provider`` says which).

A segment's results are written in one short transaction that takes the meeting's row lock only
for the write (never while searching), and announced through ``event_emit``. Action items and
decisions are written by ``meetings.services`` (one dedupe rule for live, manual and
after-meeting rows). The local pipeline (``meetings.analysis`` + ``knowledge``) needs no keys;
a step that fails is logged and skipped, never the whole analysis. Jobs are ``company_job``s:
the runner enters the company's scope for them, nothing here does.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Company, Role, User
from integrations.events import company_event_publish
from knowledge import answers as knowledge_answers
from knowledge import retrieval
from meetings import analysis, services
from meetings.analysis import facts
from meetings.analysis.combined import live_detected
from meetings.analysis.learned import LIVE_DELAY
from meetings.live import backlog, sql
from meetings.live import llm as live_llm
from meetings.live.events import event_emit, lock_meeting, publisher_loop_start
from meetings.live.load import LOAD
from meetings.live.payloads import (
    action_item_payload,
    decision_payload,
    fact_check_payload,
    status_payload,
    suggestion_payload,
)
from meetings.live.presence import presence_list
from meetings.live.runner import LaneRunner, company_job, connections_tidy
from meetings.models import (
    ActionItem,
    AnalyticsEvent,
    FactCheck,
    Meeting,
    Participant,
    Suggestion,
    TranscriptSegment,
)
from meetings.speech.tts import suggestion_audio_save
from meetpilot.metrics import LIVE_ANALYSIS_SECONDS, LIVE_SUGGESTION_SECONDS

__all__ = ["action_item_payload", "fact_check_payload", "suggestion_payload"]  # kept importable from here

logger = logging.getLogger("meetpilot.live")

MAX_CLAIMS_PER_SEGMENT = 3
CLAIM_SEARCH_K = 6  # the checker picks the passage by metric and subject, so more candidates cost little
FACT_CONTEXT = 2  # earlier lines a bare figure may refer to
LLM_CONTEXT = 4  # earlier lines the company's model sees with the line it analyses
SUGGESTION_TOP_K = 3
DOCUMENTS_ONLY = {"source_types": ["document"]}

_runners: dict[str, LaneRunner] = {}
_runners_lock = threading.Lock()


def runner(kind: str = "analysis") -> LaneRunner:
    """The per-process pool for ``analysis`` (captions) or ``answers`` (knowledge-base answers, which
    may wait seconds on an LLM and must not hold up the action items of other meetings)."""
    with _runners_lock:  # one pool per kind, or per-meeting order would not hold
        if kind not in _runners:
            workers = settings.LIVE_ANALYSIS_WORKERS if kind == "analysis" else settings.LIVE_ANSWER_WORKERS
            _runners[kind] = LaneRunner(workers=workers, max_pending=settings.LIVE_ANALYSIS_MAX_PENDING,
                                        name=f"live-{kind}")
        return _runners[kind]


def runners_wait_idle(timeout: float = 10.0) -> bool:
    """Until both pools are empty (tests and scripts); answers can follow analysis, so twice."""
    return all([runner("analysis").wait_idle(timeout), runner("answers").wait_idle(timeout),
                runner("analysis").wait_idle(timeout)])


def _submit(lane: tuple, fn: Any, *, pool: str = "analysis", coalesce: bool = False, **kwargs: Any) -> bool:
    if settings.LIVE_ANALYSIS_MODE == "inline":
        try:
            fn(**kwargs)
        except Exception:
            logger.exception("live analysis failed")
        return True
    return runner(pool).submit(lane, fn, coalesce=coalesce, **kwargs)


def meeting_kick(*, company_id: int, meeting_id: int, kind: str = backlog.ANALYSIS, here: bool = False) -> bool:
    """Make sure the meeting's owed work of ``kind`` gets drained soon (at most one drain waits per
    meeting and kind: the drain reads the durable backlog, so one run serves every kick before it).

    With ``LIVE_ANALYSIS_MODE = "worker"`` web processes leave it to the ``live_worker`` processes, which
    find it in the backlog (``here``: this process is such a worker)."""
    if settings.LIVE_ANALYSIS_MODE == "worker" and not here:
        return True
    pool = "analysis" if kind == backlog.ANALYSIS else "answers"
    return _submit((kind, meeting_id), meeting_drain, pool=pool, coalesce=True, company_id=company_id,
                   meeting_id=meeting_id, kind=kind)


def analysis_enqueue(*, company_id: int, meeting_id: int, segment_id: int | None = None) -> bool:
    """A final segment was committed with its backlog row: have the meeting's backlog analysed."""
    return meeting_kick(company_id=company_id, meeting_id=meeting_id)


def analysis_resume(*, company_id: int, meeting_id: int) -> None:
    """A client (re)connected: catch up on whatever the meeting is still owed, in order."""
    for kind in (backlog.ANALYSIS, backlog.SUGGESTION):
        if backlog.work_pending(meeting_id=meeting_id, kind=kind):
            meeting_kick(company_id=company_id, meeting_id=meeting_id, kind=kind)


@company_job
def meeting_drain(*, company_id: int, meeting_id: int, kind: str = backlog.ANALYSIS) -> int:
    """Analyse the meeting's owed segments of ``kind`` oldest first, while holding its lease.

    Returns how many this run finished. Nothing happens when another process holds the lease (it is
    working on the meeting; if it died, the sweep comes back once its lease lapses)."""
    lease = settings.LIVE_ANALYSIS_LEASE_SECONDS
    if not backlog.lease_take(company_id=company_id, meeting_id=meeting_id, seconds=lease):
        return 0
    done, renewed = 0, time.monotonic()
    try:
        while True:
            limit = settings.LIVE_ANALYSIS_BATCH
            batch = backlog.work_next(company_id=company_id, meeting_id=meeting_id, kind=kind, limit=limit)
            if not batch:
                return done
            participants: dict[str, Participant] = {}  # shared by the batch's lines (segment_analyze)
            for work in batch:
                with LOAD.analysis_slot():  # fewer at once while the process is busy: the backlog waits
                    if not _work_run(work, participants):
                        return done  # its row stays; the sweep tries again later, still in order
                done += 1
                # Renewed once a third of the lease has passed, not after every segment (a write each).
                if time.monotonic() - renewed >= lease / 3:
                    if not backlog.lease_renew(company_id=company_id, meeting_id=meeting_id, seconds=lease):
                        return done  # lapsed and taken over: the other process goes on from here
                    renewed = time.monotonic()
            if len(batch) < limit:
                # All that was owed when read: what is owed since was committed after, and its commit kicks
                # a drain of its own (or the next poll of a live worker finds it). No empty read to stop on.
                return done
    finally:
        backlog.lease_release(company_id=company_id, meeting_id=meeting_id)


def _work_run(work: Any, participants: dict[str, Participant]) -> bool:
    try:
        if work.kind == backlog.ANALYSIS:
            segment_analyze(company_id=work.company_id, meeting_id=work.meeting_id, segment_id=work.segment_id,
                            work=work, participants=participants)
        else:
            suggestion_answer(company_id=work.company_id, meeting_id=work.meeting_id, segment_id=work.segment_id,
                              question=str(work.data.get("question") or ""), work=work)
    except Exception:
        logger.exception("live %s of segment %s failed", work.kind, work.segment_id)
        return False
    return True


def _work_segment(work: Any, *, segment_id: int, meeting_id: int) -> TranscriptSegment | None:
    """The segment a job analyses, with its participant, meeting and company: as ``backlog.work_next`` read it
    for the whole batch, or read now for a job without a backlog row."""
    if work is not None and work.segment_id == segment_id and work.meeting_id == meeting_id:
        return work.segment
    return (TranscriptSegment.objects.select_related("participant", "meeting", "meeting__company")
            .filter(pk=segment_id, meeting_id=meeting_id).first())


def backlog_sweep(*, inline: bool = False, older_than: float | None = None) -> int:
    """Drain every meeting whose owed analysis waited ``older_than`` seconds (default
    LIVE_ANALYSIS_SWEEP_AFTER_SECONDS) with nobody holding its lease (a process died, no client came
    back, or this is a ``live_worker``). ``inline``: here and now (Celery); otherwise on this process's pools."""
    wait = settings.LIVE_ANALYSIS_SWEEP_AFTER_SECONDS if older_than is None else older_than
    lagging = backlog.meetings_lagging(older_than=wait)
    for company_id, meeting_id, kind in lagging:
        if inline:
            try:
                meeting_drain(company_id=company_id, meeting_id=meeting_id, kind=kind)
            except Exception:
                logger.exception("catching up on meeting %s failed", meeting_id)
        else:
            meeting_kick(company_id=company_id, meeting_id=meeting_id, kind=kind, here=True)
    return len(lagging)


_sweeper: threading.Thread | None = None


def _sweep_forever(interval: float) -> None:
    while True:
        time.sleep(interval)
        try:
            backlog_sweep()
        except Exception:
            logger.exception("live analysis sweep failed")
        finally:
            connections_tidy()


def worker_priority_lower() -> int:
    """Lower this process's CPU priority by LIVE_WORKER_NICE (a live_worker does, once); returns the niceness."""
    if settings.LIVE_WORKER_NICE > 0 and hasattr(os, "nice"):
        return os.nice(settings.LIVE_WORKER_NICE)
    return os.nice(0) if hasattr(os, "nice") else 0


def live_worker_run(*, poll: float, rounds: int | None = None) -> None:
    """A ``live_worker`` process: analyse whatever the meetings owe, as soon as it is owed (every ``poll``
    seconds), on this process's pools, meeting by meeting under their leases.

    Run for good (``rounds`` None), the process first lowers its CPU priority by LIVE_WORKER_NICE: on a
    machine it shares with web processes the sockets come first and the durable backlog waits (as the
    web process's own analysis does while busy); on a machine of its own it changes nothing."""
    if rounds is None:
        worker_priority_lower()
        publisher_loop_start()
    done = 0
    while rounds is None or done < rounds:
        try:
            backlog_sweep(older_than=0)
        except Exception:
            logger.exception("live worker round failed")
        finally:
            connections_tidy()
        done += 1
        time.sleep(poll)


def sweeper_start() -> None:
    """Start this process's catch-up sweep (once; off when LIVE_ANALYSIS_SWEEP_SECONDS is 0)."""
    global _sweeper
    interval = settings.LIVE_ANALYSIS_SWEEP_SECONDS
    if interval <= 0 or settings.LIVE_ANALYSIS_MODE in ("inline", "worker"):
        return
    with _runners_lock:
        if _sweeper is None or not _sweeper.is_alive():
            _sweeper = threading.Thread(target=_sweep_forever, args=(interval,), name="live-sweep", daemon=True)
            _sweeper.start()


def ask_enqueue(*, company_id: int, meeting_id: int, question: str, ask_id: str | None, user_id: int | None,
                participant_id: int | None = None) -> bool:
    """Queue an ``ask``; its answer arrives as an ``answer`` event. Asks have their own lane per meeting."""
    return _submit(("ask", meeting_id), ask_answer, pool="answers", company_id=company_id, meeting_id=meeting_id,
                   question=question, ask_id=ask_id, user_id=user_id, participant_id=participant_id,
                   received_at=time.time())


# --- collaborators ---------------------------------------------------------------------------


def live_access_levels() -> set[str]:
    """What live suggestions may quote: what every member can read (they see the meeting too)."""
    return set(retrieval.access_levels_for(Role.MEMBER))


def _sources(raw: list[Any]) -> list[dict[str, Any]]:
    sources = []
    for source in raw or []:
        get = source.get if isinstance(source, dict) else lambda key, s=source: getattr(s, key, None)
        sources.append({"document_id": get("document_id"), "chunk_id": get("chunk_id"), "title": get("title") or "",
                        "page": get("page"), "snippet": (get("snippet") or get("text") or "")[:500],
                        "score": get("score")})
    return sources


# --- writes (short transactions under the meeting lock) ----------------------------------------


def _meeting_date(meeting: Meeting) -> date:
    moment = meeting.started_at or meeting.scheduled_start or timezone.now()
    return timezone.localdate(moment)


_PARTICIPANTS_SQL = (f"SELECT {sql.columns(Participant, 'p')} FROM {Participant._meta.db_table} p "
                     "WHERE p.meeting_id = %s AND p.company_id = %s ORDER BY p.id")
# The newest final lines the roles are learnt from (LIVE_ROLE_WINDOW of them), newest first.
_RECENT_SQL = (f"SELECT speaker_label, text, start_time, end_time, id FROM {TranscriptSegment._meta.db_table} "
               "WHERE meeting_id = %s AND company_id = %s AND is_final ORDER BY sequence DESC LIMIT %s")


def _participants(meeting: Meeting) -> dict[str, Participant]:
    """The meeting's participants by name (prepared; the company filter repeats the ORM's scope)."""
    rows = sql.fetchall(_PARTICIPANTS_SQL, [meeting.pk, meeting.company_id])
    return {p.name: p for p in (sql.instance(Participant, row) for row in rows)}


def _roles_due(*, participants: dict[str, Participant], history: list[analysis.Utterance]) -> bool:
    """Re-learn roles while a recent speaker's is still unknown, then on every LIVE_ROLE_EVERY-th final line only:
    once the speakers have one, a single line rarely changes them, and re-learning reads LIVE_ROLE_WINDOW lines."""
    if not history or len(history) % max(1, settings.LIVE_ROLE_EVERY) == 0:
        return True
    unknown = Participant.Role.UNKNOWN
    return any(participants.get(u.speaker) is None or participants[u.speaker].role == unknown
               for u in history[-_HISTORY_TAIL:] if u.speaker)


def _roles_update(*, company: Company, meeting: Meeting, participants: dict[str, Participant],
                  history: list[analysis.Utterance] | None = None) -> dict[str, str]:
    """Re-learn who is the customer and who the consultant when due (``history``: the meeting so far, as
    ``_history`` gives it; None: now); announce changes."""
    if history is not None and not _roles_due(participants=participants, history=history):
        return {name: p.role for name, p in participants.items()}
    window = settings.LIVE_ROLE_WINDOW
    recent = sql.fetchall(_RECENT_SQL, [meeting.pk, meeting.company_id, window])
    recent.reverse()
    utterances = [analysis.Utterance(speaker=s, text=t, start=a, end=b, segment_id=pk)
                  for s, t, a, b, pk in recent if s]
    if not utterances:
        return {name: p.role for name, p in participants.items()}
    emails = {name: p.email for name, p in participants.items() if p.email}
    inferred = dict(analysis.infer_speaker_roles(utterances, participant_emails=emails or None,
                                                 company_domain=company.email_domain or ""))
    if meeting.kind == Meeting.Kind.SALES:  # our side of a sales call is the consultant
        inferred = {name: Participant.Role.CONSULTANT if role == Participant.Role.INTERNAL else role
                    for name, role in inferred.items()}
    valid = set(Participant.Role.values)
    changed = [p for name, p in participants.items()
               if inferred.get(name) in valid and inferred[name] != p.role]
    if changed:
        with transaction.atomic():
            lock_meeting(meeting.pk)
            for participant in changed:
                participant.role = inferred[participant.name]
                participant.save(update_fields=["role"])
            roles = [{"participant_id": p.pk, "name": p.name, "role": inferred.get(name, p.role)}
                     for name, p in sorted(participants.items())]
            event_emit(meeting=meeting, type="status", payload=status_payload(meeting, kind="roles",
                                                                                participants=roles))
    return {name: inferred.get(name, p.role) for name, p in participants.items()}


# The detector decides an utterance once LIVE_DELAY later ones are known, from a window around it; the tail
# also holds the lines the company's model and the fact check see as context.
_HISTORY_TAIL = max(2 * LIVE_DELAY + 2, LLM_CONTEXT + 1, FACT_CONTEXT + 1)


_HISTORY_SQL = (
    "SELECT id, speaker_label, text, start_time, end_time, said_total, from_end FROM ("
    "SELECT id, speaker_label, text, start_time, end_time, sequence, COUNT(*) OVER () AS said_total, "
    "ROW_NUMBER() OVER (ORDER BY sequence DESC) AS from_end, ROW_NUMBER() OVER (ORDER BY sequence) AS from_start "
    f"FROM {TranscriptSegment._meta.db_table} WHERE meeting_id = %s AND company_id = %s AND is_final "
    "AND sequence <= %s) said WHERE from_end <= %s OR from_start = 1 ORDER BY sequence DESC"
)


def _history(meeting: Meeting, segment: TranscriptSegment) -> list[analysis.Utterance]:
    """The meeting so far, ending with ``segment``, as the live steps read it: its length and first line (the
    detector's position features) and the last few lines (the only ones any step reads). The lines in between
    are not loaded: the list repeats the first line in their places, which keeps a caption's cost flat through
    a long meeting. The tail, the first line and how many lines there are come in one prepared statement (the
    company filter repeats the ORM's scope; row-level security applies too)."""
    rows = sql.fetchall(_HISTORY_SQL, [meeting.pk, meeting.company_id, segment.sequence, _HISTORY_TAIL])
    total = rows[0][5] if rows else 0

    def utterance(row: tuple) -> analysis.Utterance:
        return analysis.Utterance(speaker=row[1], text=row[2], start=row[3], end=row[4], segment_id=row[0])

    tail = [utterance(row) for row in reversed(rows) if row[6] <= _HISTORY_TAIL]
    if total <= len(tail):
        return tail
    first = utterance(rows[-1])  # the opening line, outside the tail
    return [first, *([first] * (total - len(tail) - 1)), *tail]


def _detections(*, history: list[analysis.Utterance], meeting_date: date, participants: list[str]
                ) -> tuple[list, list]:
    """The local findings this final line brings: the detector's verdict on the line LIVE_DELAY back, and the
    rules' explicit commitments in this line as suggestions. (The lines still undecided when the meeting ends
    are covered by the after-meeting analysis, which scores the whole transcript.)"""
    return live_detected(
        history, analysis.score_live(history), meeting_date=meeting_date, participants=participants,
        rule_items=analysis.detect_action_items(history[-1], meeting_date=meeting_date, participants=participants),
        rule_decisions_found=analysis.detect_decisions(history[-1]))


def _segment_of(meeting: Meeting, segment_id: int | None, fallback: TranscriptSegment) -> TranscriptSegment:
    if segment_id is None or segment_id == fallback.pk:
        return fallback
    return TranscriptSegment.objects.filter(meeting=meeting, pk=segment_id).first() or fallback


Write = Callable[[], None]


def _action_items(*, company: Company, meeting: Meeting, segment: TranscriptSegment, window: list,
                  participants: dict[str, Participant], meeting_date: date, local: list) -> list[Write]:
    outcome = live_llm.live_action_items(company=company, window=window, meeting_date=meeting_date,
                                         participants=list(participants), local=local)

    def write() -> None:  # under the meeting lock: two lanes cannot both add one item
        for candidate in outcome.items:
            assignee = participants.get(candidate.assignee_name or "")
            source = _segment_of(meeting, candidate.segment_id, segment)
            item = services.action_item_create(
                company=company, meeting=meeting, description=candidate.description,
                assignee_participant_id=assignee.pk if assignee else None,
                assignee_name=candidate.assignee_name or "", due_date=candidate.due_date,
                priority=candidate.priority, confidence=candidate.confidence, source_segment=source,
                origin=ActionItem.Origin.LIVE, provider=outcome.provider,
            )
            if item is not None:  # None: the meeting has it already
                event_emit(meeting=meeting, type="action_item",
                           payload=action_item_payload(item, candidate.source_text))

    return [write] if outcome.items else []


def _decisions(*, company: Company, meeting: Meeting, segment: TranscriptSegment, window: list,
               local: list) -> list[Write]:
    outcome = live_llm.live_decisions(company=company, window=window, local=local)

    def write() -> None:
        for candidate in outcome.items:
            source = _segment_of(meeting, candidate.segment_id, segment)
            decision = services.decision_create(company=company, meeting=meeting, text=candidate.text,
                                                confidence=candidate.confidence, origin=ActionItem.Origin.LIVE,
                                                provider=outcome.provider, source_segment_ids=[source.pk])
            if decision is not None:
                event_emit(meeting=meeting, type="decision", payload=decision_payload(
                    decision, segment_id=source.pk, source_text=candidate.source_text))

    return [write] if outcome.items else []


def _findings(*, company: Company, meeting: Meeting, segment: TranscriptSegment,
              history: list[analysis.Utterance], participants: dict[str, Participant]) -> list[Write]:
    """Action items and decisions: local detections first (the company's model, when routed, replaces them)."""
    meeting_date = _meeting_date(meeting)
    items, decisions = _detections(history=history, meeting_date=meeting_date, participants=list(participants))
    window = history[-(LLM_CONTEXT + 1):]
    return [*_action_items(company=company, meeting=meeting, segment=segment, window=window,
                           participants=participants, meeting_date=meeting_date, local=items),
            *_decisions(company=company, meeting=meeting, segment=segment, window=window, local=decisions)]


TTS_CAPABILITY = "tts"


def tts_wanted(meeting_id: int) -> bool:
    """Spoken answers are on and some connection of the meeting listed ``"tts"`` in its hello."""
    if not settings.TTS_ANSWERS:
        return False
    try:
        connections = presence_list(meeting_id=meeting_id)
    except Exception:
        logger.warning("live presence lookup failed; answers are not spoken", exc_info=True)
        return False
    return any(TTS_CAPABILITY in ((info.get("client") or {}).get("capabilities") or []) for info in connections)


def _answer_speak(*, meeting: Meeting, suggestion: Suggestion, asker: str, ask_id: str | None) -> None:
    """After the text answer went out: synthesize it, then announce the audio as an ``answer`` update
    with the same id, so the text never waits on the voice."""
    url = suggestion_audio_save(company_id=meeting.company_id, meeting_id=meeting.pk, suggestion_id=suggestion.pk,
                                text=suggestion.answer)
    if not url:
        return
    with transaction.atomic():
        lock_meeting(meeting.pk)
        suggestion.audio_url = url
        suggestion.save(update_fields=["audio_url"])
        event_emit(meeting=meeting, type=suggestion.kind, payload=suggestion_payload(suggestion, asker=asker,
                                                                                    ask_id=ask_id))


def _knowledge_answer(company: Company, question: str, *, prompt_type: str = "answer") -> Any | None:
    """``prompt_type`` picks the company's prompt and provider: "suggestion" for customer questions. The route is
    the one the live steps remember (two queries fewer per answer)."""
    return knowledge_answers.answer_question(company=company, question=question, top_k=SUGGESTION_TOP_K,
                                             filters=DOCUMENTS_ONLY, access_levels=live_access_levels(),
                                             prompt_type=prompt_type,
                                             route=live_llm.company_route(company, prompt_type))


def _question(*, meeting: Meeting, segment: TranscriptSegment, utterance: Any, roles: dict[str, str]) -> list[Write]:
    found = analysis.detect_question(utterance)
    if found is None or not found.is_question:
        return []
    role = roles.get(segment.speaker_label, Participant.Role.UNKNOWN)
    suggest = meeting.kind == Meeting.Kind.SALES and role in (Participant.Role.CUSTOMER, Participant.Role.UNKNOWN)

    def write() -> None:  # the analytics row and the answer owed: one statement
        writes = sql.Writes()
        sql.insert_add(writes, "question", AnalyticsEvent(
            company_id=meeting.company_id, meeting=meeting, participant_id=segment.participant_id,
            kind=AnalyticsEvent.Kind.QUESTION, at=timezone.now(), offset_seconds=segment.start_time,
            data={"segment_id": segment.pk, "text": found.text[:500]}))
        if suggest:  # owed durably too; answered on the answers pool, which may wait on an LLM
            backlog.work_add(meeting=meeting, segment=segment, kind=backlog.SUGGESTION,
                             data={"question": found.text}, writes=writes)
        writes.run("SELECT 1")
        if suggest:
            # By this process, which analysed the line (with LIVE_ANALYSIS_MODE=worker a live worker: its next
            # poll would find it too, a poll interval later).
            transaction.on_commit(lambda: meeting_kick(company_id=meeting.company_id, meeting_id=meeting.pk,
                                                       kind=backlog.SUGGESTION, here=True))

    return [write]


@company_job
def suggestion_answer(*, company_id: int, meeting_id: int, segment_id: int, question: str,
                      work: Any = None) -> Suggestion | None:
    """A suggested answer to a customer's question, from the knowledge base, with its sources.

    With ``work`` (its backlog row), stored exactly once: the row is consumed with the write."""
    segment = _work_segment(work, segment_id=segment_id, meeting_id=meeting_id)
    if segment is None:
        return None
    meeting = segment.meeting
    answer = _knowledge_answer(meeting.company, question, prompt_type="suggestion")
    known = answer is not None and answer.known
    latency_ms = (timezone.now() - segment.updated_at).total_seconds() * 1000
    suggestion = None
    with transaction.atomic():
        lock_meeting(meeting.pk)
        if work is not None and not backlog.work_done(work=work):
            return None  # answered by another process meanwhile
        if known:
            suggestion = Suggestion(company_id=meeting.company_id, meeting=meeting, segment=segment,
                                    kind=Suggestion.Kind.SUGGESTION, question=question, answer=answer.answer,
                                    sources=_sources(answer.sources), confidence=str(answer.confidence or "")[:10],
                                    latency_ms=round(latency_ms, 1), provider=answer.provider or "local")
            suggestion.save(force_insert=True)
            event_emit(meeting=meeting, type="suggestion",
                       payload=suggestion_payload(suggestion, asker=segment.speaker_label))
    if suggestion is None:
        return None
    LIVE_SUGGESTION_SECONDS.observe(latency_ms / 1000)
    if tts_wanted(meeting.pk):
        try:
            _answer_speak(meeting=meeting, suggestion=suggestion, asker=segment.speaker_label, ask_id=None)
        except Exception:
            logger.exception("announcing the spoken suggestion failed")
    return suggestion


@dataclass(frozen=True)
class _Verdict:
    claim: str
    claimed_value: str
    verdict: str
    document_value: str
    passage: facts.Passage
    evidence: str
    confidence: float


def _local_verdicts(segment: TranscriptSegment, passages: list[facts.Passage], context: str) -> list[_Verdict]:
    return [_Verdict(claim=v.claim.text, claimed_value=v.claimed_value, verdict=v.verdict,
                     document_value=v.document_value, passage=v.passage, evidence=v.evidence,
                     confidence=v.confidence)
            for v in facts.fact_check_text(segment.text, passages, context=context)[:MAX_CLAIMS_PER_SEGMENT]]


def _model_verdicts(answer: live_llm.FactCheckAnswer, segment: TranscriptSegment,
                    passages: list[facts.Passage]) -> list[_Verdict]:
    if answer.verdict not in (FactCheck.Verdict.CORRECT, FactCheck.Verdict.INCORRECT) or answer.passage_index is None:
        return []  # unverifiable, or no passage cited: no alert without a source
    passage = passages[answer.passage_index]
    return [_Verdict(claim=segment.text, claimed_value="", verdict=answer.verdict,
                     document_value=answer.document_value, passage=passage, evidence=passage.text,
                     confidence=live_llm.LLM_CONFIDENCE)]


def _fact_checks(*, company: Company, meeting: Meeting, segment: TranscriptSegment,
                 history: list[analysis.Utterance]) -> list[Write]:
    if not facts.mentions(segment.text):  # no number said: nothing to search for
        return []
    hits = retrieval.chunks_search(company=company, query=segment.text, k=CLAIM_SEARCH_K,
                                   access_levels=live_access_levels(), source_types=["document"])
    if not hits:
        return []
    passages = [facts.Passage(text=h.text, document_id=h.document_id, chunk_id=h.chunk_id, title=h.title,
                              page=h.page, score=h.score) for h in hits]
    # A bare "we have eight" is about what the lines before it were about.
    context = " ".join(u.text for u in history[-(FACT_CONTEXT + 1):-1])
    outcome = live_llm.live_fact_check(company=company, claim=segment.text, passages=passages)
    if outcome is not None and outcome.items:
        verdicts, provider = _model_verdicts(outcome.items[0], segment, passages), outcome.provider
    else:  # the company's check is local, or its provider failed or missed the budget
        verdicts = _local_verdicts(segment, passages, context)
        provider = outcome.provider if outcome is not None else "local"

    def write() -> None:
        for verdict in verdicts:
            p = verdict.passage
            source = {"document_id": p.document_id, "chunk_id": p.chunk_id, "title": p.title, "page": p.page,
                      "snippet": (verdict.evidence or p.text)[:500], "score": p.score}
            corrected = verdict.document_value if verdict.verdict == FactCheck.Verdict.INCORRECT else ""
            row = FactCheck(company_id=meeting.company_id, meeting=meeting, segment=segment,
                            claim=verdict.claim[:2000], claimed_value=verdict.claimed_value[:200],
                            verdict=verdict.verdict, corrected_value=corrected[:200],
                            confidence=float(verdict.confidence), source=source, provider=provider[:100])
            row.save(force_insert=True)
            event_emit(meeting=meeting, type="fact_check", payload=fact_check_payload(row, segment.speaker_label))
            if row.verdict == FactCheck.Verdict.INCORRECT:
                company_event_publish(company_id=meeting.company_id, type="fact_check.alert", data={
                    "meeting_id": meeting.pk, "fact_check_id": row.pk, "claim": row.claim,
                    "claimed_value": row.claimed_value, "document_value": row.corrected_value,
                    "document_id": p.document_id, "document_title": p.title})

    return [write] if verdicts else []


# --- jobs ------------------------------------------------------------------------------------


@company_job
def segment_analyze(*, company_id: int, meeting_id: int, segment_id: int, work: Any = None,
                    participants: dict[str, Participant] | None = None) -> bool:
    """Everything the live pipeline learns from one final segment. Each step fails on its own.

    The steps search and detect first, outside any transaction; what they found is written in one
    transaction under the meeting lock, which also consumes ``work`` (the segment's backlog row):
    a segment's findings are stored exactly once, and none when another process got there first. A segment
    that found nothing is consumed by one statement, without the lock.
    ``participants``: the meeting's participants by name as a drain shares them between its lines."""
    segment = _work_segment(work, segment_id=segment_id, meeting_id=meeting_id)
    if segment is None or not segment.is_final:
        return False
    meeting, company = segment.meeting, segment.meeting.company
    history = _history(meeting, segment)  # ends with this segment
    roles: dict[str, str] = {}
    writes: list[Write] = []
    # Read once per drain batch (and again for a speaker it lacks): roles update them in place, findings name them.
    if participants is None:
        participants = {}
    if not participants or (segment.speaker_label and segment.speaker_label not in participants):
        participants.clear()
        participants.update(_participants(meeting))
    steps = [
        ("roles", lambda: roles.update(_roles_update(company=company, meeting=meeting, participants=participants,
                                                      history=history))),
        ("findings", lambda: writes.extend(_findings(company=company, meeting=meeting, segment=segment,
                                                      history=history, participants=participants))),
        ("question", lambda: writes.extend(_question(meeting=meeting, segment=segment, utterance=history[-1],
                                                      roles=roles))),
        ("fact_checks", lambda: writes.extend(_fact_checks(company=company, meeting=meeting, segment=segment,
                                                            history=history))),
    ]
    for name, step in steps:
        try:
            step()
        except Exception:
            logger.exception("live %s step failed for segment %s", name, segment_id)
    if settings.LIVE_ANALYSIS_DELAY_SECONDS:
        time.sleep(settings.LIVE_ANALYSIS_DELAY_SECONDS)
    if not writes and work is not None:
        # Nothing found: consuming the row is the whole transaction, with no meeting lock (no event to order).
        if not backlog.work_done(work=work, alone=True):
            return False
        LIVE_ANALYSIS_SECONDS.labels(step="segment").observe((timezone.now() - segment.updated_at).total_seconds())
        return True
    with transaction.atomic():
        lock_meeting(meeting.pk)
        if work is not None and not backlog.work_done(work=work):
            return False  # another process analysed it meanwhile: its findings stand, these are dropped
        for write in writes:
            try:
                with transaction.atomic():  # a savepoint: one failing write does not undo the others
                    write()
            except Exception:
                logger.exception("writing a live finding failed for segment %s", segment_id)
    LIVE_ANALYSIS_SECONDS.labels(step="segment").observe((timezone.now() - segment.updated_at).total_seconds())
    return True


NO_ANSWER = "I couldn't find this in your documents."


@company_job
def ask_answer(*, company_id: int, meeting_id: int, question: str, ask_id: str | None, user_id: int | None,
               participant_id: int | None = None, received_at: float | None = None) -> Suggestion | None:
    """Answer a question asked during the meeting, with citations; stored as Suggestion(kind=answer)."""
    meeting = Meeting.objects.select_related("company").filter(pk=meeting_id).first()
    if meeting is None:
        return None
    company = meeting.company
    user = User.objects.filter(pk=user_id).first() if user_id else None
    answer = None
    try:
        answer = _knowledge_answer(company, question, prompt_type="answer")
    except Exception:
        logger.exception("answering an ask failed")
    latency_ms = (time.time() - received_at) * 1000 if received_at else None
    with transaction.atomic():
        lock_meeting(meeting.pk)
        suggestion = Suggestion(
            company_id=company.pk, meeting=meeting, kind=Suggestion.Kind.ANSWER, question=question,
            answer=answer.answer if answer is not None and answer.known else NO_ANSWER,
            sources=_sources(answer.sources) if answer is not None and answer.known else [],
            confidence=str(answer.confidence or "")[:10] if answer is not None else "none",
            latency_ms=round(latency_ms, 1) if latency_ms is not None else None,
            provider=(answer.provider or "local") if answer is not None else "none", asked_by=user,
        )
        suggestion.save(force_insert=True)
        AnalyticsEvent.objects.create(company_id=company.pk, meeting=meeting, participant_id=participant_id,
                                      kind=AnalyticsEvent.Kind.QUERY, at=timezone.now(),
                                      data={"question": question[:500], "suggestion_id": suggestion.pk,
                                            "user_id": user_id})
        asker = (user.full_name or user.email) if user else ""
        event_emit(meeting=meeting, type="answer", payload=suggestion_payload(suggestion, asker=asker,
                                                                              ask_id=ask_id))
    if tts_wanted(meeting.pk):
        try:
            _answer_speak(meeting=meeting, suggestion=suggestion, asker=asker, ask_id=ask_id)
        except Exception:
            logger.exception("announcing the spoken answer failed")
    return suggestion
