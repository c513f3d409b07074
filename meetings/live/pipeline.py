"""Live analysis of final captions, and answers to ``ask``.

Runs after the caption is committed and acked, on the per-process lane runner (in order per
meeting), or inline after commit when ``LIVE_ANALYSIS_MODE = "inline"``. For each final
segment, in this order (cheap first, so action items never wait for the knowledge base):

1. speaker roles (customer / consultant) re-learnt over the recent utterances;
2. action items and decisions;
3. questions: an analytics row, and in sales meetings a customer's question gets a suggested
   answer from the knowledge base (documents only) with its sources -- on the separate
   ``answers`` pool, which also answers ``ask``: an answer that waits on an LLM must not hold up
   the action items and fact checks of this or any other meeting;
4. numeric claims checked against the knowledge base: a ``fact_check`` event for correct and
   incorrect claims, with the corrected value and the cited passage.

Every result is written in a short transaction that takes the meeting's row lock only for
the write (never while searching), and announced through ``event_emit``. The local pipeline
(``meetings.analysis`` + ``knowledge``) needs no keys; when the analysis or knowledge
modules are missing the corresponding step is skipped, never the whole analysis.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import date
from functools import cache
from types import ModuleType
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Company, Role, User
from accounts.tenancy import tenant_scope
from meetings.live.events import event_emit, lock_meeting
from meetings.live.ingest import status_payload
from meetings.live.protocol import event_payload
from meetings.live.runner import LaneRunner
from meetings.models import (
    ActionItem,
    AnalyticsEvent,
    Decision,
    FactCheck,
    Meeting,
    Participant,
    Suggestion,
    TranscriptSegment,
)

logger = logging.getLogger("meetpilot.live")

MAX_CLAIMS_PER_SEGMENT = 3
CLAIM_SEARCH_K = 3
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


def _submit(lane: tuple, fn: Any, *, pool: str = "analysis", **kwargs: Any) -> bool:
    if settings.LIVE_ANALYSIS_MODE == "inline":
        try:
            fn(**kwargs)
        except Exception:
            logger.exception("live analysis failed")
        return True
    return runner(pool).submit(lane, fn, **kwargs)


def analysis_enqueue(*, company_id: int, meeting_id: int, segment_id: int) -> bool:
    """Queue the analysis of a committed final segment (ordered per meeting)."""
    return _submit(("captions", meeting_id), segment_analyze, company_id=company_id, meeting_id=meeting_id,
                   segment_id=segment_id)


def ask_enqueue(*, company_id: int, meeting_id: int, question: str, ask_id: str | None, user_id: int | None,
                participant_id: int | None = None) -> bool:
    """Queue an ``ask``; its answer arrives as an ``answer`` event. Asks have their own lane per meeting."""
    return _submit(("ask", meeting_id), ask_answer, pool="answers", company_id=company_id, meeting_id=meeting_id,
                   question=question, ask_id=ask_id, user_id=user_id, participant_id=participant_id,
                   received_at=time.time())


# --- optional collaborators -----------------------------------------------------------------


@cache
def _module(name: str) -> ModuleType | None:
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError:
        logger.warning("%s is not available; the live steps that need it are skipped", name)
        return None


ANALYSIS_API = ("Utterance", "detect_action_items", "detect_decision", "detect_question", "extract_numeric_claims",
                "check_claim_against_passage", "infer_speaker_roles", "normalize_key")


def _analysis() -> ModuleType | None:
    module = _module("meetings.analysis")
    if module is None or not all(hasattr(module, name) for name in ANALYSIS_API):
        return None
    return module


def live_access_levels() -> set[str]:
    """What live suggestions may quote: what every member can read (they see the meeting too)."""
    retrieval = _module("knowledge.retrieval")
    if retrieval is None:
        return {"public", "team"}
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


def _participants(meeting: Meeting) -> dict[str, Participant]:
    return {p.name: p for p in Participant.objects.filter(meeting=meeting)}


def _roles_update(*, company: Company, meeting: Meeting, analysis: ModuleType) -> dict[str, str]:
    """Re-learn who is the customer and who the consultant; announce changes."""
    window = settings.LIVE_ROLE_WINDOW
    recent = list(TranscriptSegment.objects.filter(meeting=meeting, is_final=True)
                  .order_by("-sequence").values_list("speaker_label", "text", "start_time", "end_time", "pk")[:window])
    recent.reverse()
    utterances = [analysis.Utterance(speaker=s, text=t, start=a, end=b, segment_id=pk)
                  for s, t, a, b, pk in recent if s]
    participants = _participants(meeting)
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


def action_item_payload(item: ActionItem, source_text: str) -> dict[str, Any]:
    return event_payload("action_item", id=item.pk, description=item.description, assignee_name=item.assignee_name,
                         assignee_participant_id=item.assignee_participant_id, assignee_user_id=item.assignee_user_id,
                         due_date=item.due_date, priority=item.priority, status=item.status,
                         confidence=item.confidence, segment_id=item.source_segment_id, source_text=source_text)


def _action_items(*, meeting: Meeting, segment: TranscriptSegment, utterance: Any, analysis: ModuleType) -> None:
    participants = _participants(meeting)
    candidates = analysis.detect_action_items(utterance, meeting_date=_meeting_date(meeting),
                                              participants=list(participants))
    if not candidates:
        return
    with transaction.atomic():
        lock_meeting(meeting.pk)
        for candidate in candidates:
            key = (candidate.dedupe_key or analysis.normalize_key(candidate.description))[:64]
            if ActionItem.objects.filter(meeting=meeting, dedupe_key=key).exists():
                continue
            assignee = participants.get(candidate.assignee_name or "")
            priority = candidate.priority if candidate.priority in ActionItem.Priority.values else "medium"
            item = ActionItem(
                company_id=meeting.company_id, meeting=meeting, description=candidate.description[:2000],
                assignee_name=(candidate.assignee_name or "")[:200], assignee_participant=assignee,
                assignee_user_id=assignee.user_id if assignee else None, due_date=candidate.due_date,
                priority=priority, confidence=float(candidate.confidence), source_segment=segment,
                origin=ActionItem.Origin.LIVE, provider="local", dedupe_key=key,
            )
            item.save(force_insert=True)
            event_emit(meeting=meeting, type="action_item", payload=action_item_payload(item, candidate.source_text))


def _decision(*, meeting: Meeting, segment: TranscriptSegment, utterance: Any, analysis: ModuleType) -> None:
    candidate = analysis.detect_decision(utterance)
    if candidate is None:
        return
    key = (candidate.dedupe_key or analysis.normalize_key(candidate.text))[:64]
    with transaction.atomic():
        lock_meeting(meeting.pk)
        if Decision.objects.filter(meeting=meeting, dedupe_key=key).exists():
            return
        decision = Decision(company_id=meeting.company_id, meeting=meeting, text=candidate.text[:2000],
                            confidence=float(candidate.confidence), origin=ActionItem.Origin.LIVE, provider="local",
                            dedupe_key=key)
        decision.save(force_insert=True)
        decision.source_segments.add(segment)
        event_emit(meeting=meeting, type="decision", payload=event_payload(
            "decision", id=decision.pk, text=decision.text, confidence=decision.confidence, segment_id=segment.pk,
            source_text=candidate.source_text))


def suggestion_payload(suggestion: Suggestion, *, asker: str = "", ask_id: str | None = None) -> dict[str, Any]:
    return event_payload(suggestion.kind, id=suggestion.pk, kind=suggestion.kind, question=suggestion.question,
                         answer=suggestion.answer, sources=suggestion.sources, confidence=suggestion.confidence,
                         latency_ms=suggestion.latency_ms, provider=suggestion.provider,
                         segment_id=suggestion.segment_id, asker=asker, ask_id=ask_id,
                         audio_url=suggestion.audio_url or None)


TTS_CAPABILITY = "tts"


def tts_wanted(meeting_id: int) -> bool:
    """Spoken answers are on and some connection of the meeting listed ``"tts"`` in its hello."""
    if not settings.TTS_ANSWERS:
        return False
    from meetings.live.presence import presence_list

    try:
        connections = presence_list(meeting_id=meeting_id)
    except Exception:
        logger.warning("live presence lookup failed; answers are not spoken", exc_info=True)
        return False
    return any(TTS_CAPABILITY in ((info.get("client") or {}).get("capabilities") or []) for info in connections)


def _answer_speak(*, meeting: Meeting, suggestion: Suggestion, asker: str, ask_id: str | None) -> None:
    """After the text answer went out: synthesize it, then announce the audio as an ``answer`` update
    with the same id, so the text never waits on the voice."""
    from meetings.speech.tts import suggestion_audio_save

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
    """``prompt_type`` picks the company's prompt and provider: "suggestion" for customer questions."""
    answers = _module("knowledge.answers")
    if answers is None:
        return None
    return answers.answer_question(company=company, question=question, top_k=SUGGESTION_TOP_K,
                                   filters=DOCUMENTS_ONLY, access_levels=live_access_levels(),
                                   prompt_type=prompt_type)


def _question(*, meeting: Meeting, segment: TranscriptSegment, utterance: Any, analysis: ModuleType,
              roles: dict[str, str]) -> None:
    found = analysis.detect_question(utterance)
    if found is None or not found.is_question:
        return
    AnalyticsEvent.objects.create(company_id=meeting.company_id, meeting=meeting, participant=segment.participant,
                                  kind=AnalyticsEvent.Kind.QUESTION, at=timezone.now(),
                                  offset_seconds=segment.start_time,
                                  data={"segment_id": segment.pk, "text": found.text[:500]})
    role = roles.get(segment.speaker_label, Participant.Role.UNKNOWN)
    if meeting.kind != Meeting.Kind.SALES or role not in (Participant.Role.CUSTOMER, Participant.Role.UNKNOWN):
        return
    _submit(("suggest", meeting.pk), suggestion_answer, pool="answers", company_id=meeting.company_id,
            meeting_id=meeting.pk, segment_id=segment.pk, question=found.text)


def suggestion_answer(*, company_id: int, meeting_id: int, segment_id: int, question: str) -> Suggestion | None:
    """A suggested answer to a customer's question, from the knowledge base, with its sources."""
    with tenant_scope(company_id):
        segment = (TranscriptSegment.objects.select_related("meeting", "meeting__company")
                   .filter(pk=segment_id, meeting_id=meeting_id).first())
        if segment is None:
            return None
        meeting = segment.meeting
        answer = _knowledge_answer(meeting.company, question, prompt_type="suggestion")
        if answer is None or not answer.known:
            return None
        latency_ms = (timezone.now() - segment.updated_at).total_seconds() * 1000
        with transaction.atomic():
            lock_meeting(meeting.pk)
            suggestion = Suggestion(company_id=meeting.company_id, meeting=meeting, segment=segment,
                                    kind=Suggestion.Kind.SUGGESTION, question=question, answer=answer.answer,
                                    sources=_sources(answer.sources), confidence=str(answer.confidence or "")[:10],
                                    latency_ms=round(latency_ms, 1), provider=answer.provider or "local")
            suggestion.save(force_insert=True)
            event_emit(meeting=meeting, type="suggestion",
                       payload=suggestion_payload(suggestion, asker=segment.speaker_label))
        if tts_wanted(meeting.pk):
            try:
                _answer_speak(meeting=meeting, suggestion=suggestion, asker=segment.speaker_label, ask_id=None)
            except Exception:
                logger.exception("announcing the spoken suggestion failed")
        return suggestion


def fact_check_payload(check: FactCheck, speaker: str) -> dict[str, Any]:
    return event_payload("fact_check", id=check.pk, claim=check.claim, claimed_value=check.claimed_value,
                         verdict=check.verdict, corrected_value=check.corrected_value, confidence=check.confidence,
                         source=check.source or None, segment_id=check.segment_id, speaker=speaker)


def _fact_checks(*, company: Company, meeting: Meeting, segment: TranscriptSegment, analysis: ModuleType) -> None:
    retrieval = _module("knowledge.retrieval")
    if retrieval is None:
        return
    claims = analysis.extract_numeric_claims(segment.text)[:MAX_CLAIMS_PER_SEGMENT]
    for claim in claims:
        hits = retrieval.chunks_search(company=company, query=claim.text or segment.text, k=CLAIM_SEARCH_K,
                                       access_levels=live_access_levels(), source_types=["document"])
        verdict = None
        for hit in hits:
            check = analysis.check_claim_against_passage(claim, hit.text)
            if check.verdict in (FactCheck.Verdict.CORRECT, FactCheck.Verdict.INCORRECT):
                verdict = (check, hit)
                break
        if verdict is None:
            continue
        check, hit = verdict
        source = {"document_id": hit.document_id, "chunk_id": hit.chunk_id, "title": hit.title, "page": hit.page,
                  "snippet": (check.evidence or hit.text)[:500], "score": hit.score}
        with transaction.atomic():
            lock_meeting(meeting.pk)
            row = FactCheck(company_id=meeting.company_id, meeting=meeting, segment=segment, claim=claim.text[:2000],
                            claimed_value=str(check.claimed_value or claim.raw or "")[:200], verdict=check.verdict,
                            corrected_value=str(check.corrected_value or "")[:200],
                            confidence=float(check.confidence), source=source, provider="local")
            row.save(force_insert=True)
            event_emit(meeting=meeting, type="fact_check", payload=fact_check_payload(row, segment.speaker_label))


# --- jobs ------------------------------------------------------------------------------------


def segment_analyze(*, company_id: int, meeting_id: int, segment_id: int) -> None:
    """Everything the live pipeline learns from one final segment. Each step fails on its own."""
    with tenant_scope(company_id):
        segment = (TranscriptSegment.objects.select_related("participant", "meeting", "meeting__company")
                   .filter(pk=segment_id, meeting_id=meeting_id).first())
        if segment is None or not segment.is_final:
            return
        meeting, company = segment.meeting, segment.meeting.company
        analysis = _analysis()
        if analysis is None:
            return
        utterance = analysis.Utterance(speaker=segment.speaker_label, text=segment.text, start=segment.start_time,
                                       end=segment.end_time, segment_id=segment.pk)
        roles: dict[str, str] = {}
        steps = [
            ("roles", lambda: roles.update(_roles_update(company=company, meeting=meeting, analysis=analysis))),
            ("action_items", lambda: _action_items(meeting=meeting, segment=segment, utterance=utterance,
                                                   analysis=analysis)),
            ("decision", lambda: _decision(meeting=meeting, segment=segment, utterance=utterance, analysis=analysis)),
            ("question", lambda: _question(meeting=meeting, segment=segment, utterance=utterance, analysis=analysis,
                                           roles=roles)),
            ("fact_checks", lambda: _fact_checks(company=company, meeting=meeting, segment=segment,
                                                 analysis=analysis)),
        ]
        for name, step in steps:
            try:
                step()
            except Exception:
                logger.exception("live %s step failed for segment %s", name, segment_id)


NO_ANSWER = "I couldn't find this in your documents."


def ask_answer(*, company_id: int, meeting_id: int, question: str, ask_id: str | None, user_id: int | None,
               participant_id: int | None = None, received_at: float | None = None) -> Suggestion | None:
    """Answer a question asked during the meeting, with citations; stored as Suggestion(kind=answer)."""
    with tenant_scope(company_id):
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
