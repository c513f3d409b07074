"""The after-meeting pipeline: analyse a finished meeting and store what was found.

``report_generate`` is idempotent and safe to re-run:
- the MeetingReport row is replaced field by field;
- action items and decisions merge with what is already there (live detections, earlier runs,
  items people added) through ``meetings.services.action_item_merge`` / ``decision_merge``: by
  dedupe key, then by fuzzy similarity of the wording; fields a person edited are never
  overwritten, and leftovers of an earlier run go only when nobody touched them;
- participants' speaking time and participation score are recomputed.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Company
from integrations.events import company_event_publish
from knowledge import embeddings
from meetings import analysis as local_analysis
from meetings import capture, services
from meetings.analysis.text import content_tokens
from meetings.intelligence import indexing, selectors
from meetings.intelligence.llm_analysis import ProviderAnalysis, analyze_utterances
from meetings.intelligence.services import report_for_update, report_mark
from meetings.intelligence.timefmt import meeting_day
from meetings.models import Meeting, MeetingReport, Participant
from meetings.selectors import speaker_name
from meetings.voices.services import live_audio_reseparate
from meetpilot.tasks import task_send

logger = logging.getLogger(__name__)
INDEX_TASK = "intelligence.meeting_index"


# --- inputs -------------------------------------------------------------------------------------


def meeting_utterances(*, meeting: Meeting) -> list[Any]:
    return [
        local_analysis.Utterance(speaker=speaker_name(s), text=s.text, start=float(s.start_time),
                                 end=float(max(s.end_time, s.start_time)), segment_id=s.pk)
        for s in selectors.segments_final(meeting=meeting).iterator(chunk_size=2000)
        if s.text.strip()
    ]


def _participants(meeting: Meeting) -> list[Participant]:
    return list(Participant.objects.for_company(meeting.company_id).filter(meeting=meeting))


# --- JSON shapes of the analysis --------------------------------------------------------------


def jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: jsonable(v) for k, v in dataclasses.asdict(value).items()}
    if hasattr(value, "model_dump"):
        return jsonable(value.model_dump())
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 4)
    if hasattr(value, "item"):  # numpy scalars
        return jsonable(value.item())
    return value


def _first(data: dict, *names: str, default: Any = None) -> Any:
    for name in names:
        if data.get(name) not in (None, ""):
            return data[name]
    return default


def questions_json(questions: Iterable[Any], utterances: Sequence[Any]) -> list[dict]:
    """Questions in the report's shape: {text, asked_by, at, segment_id, answered, answer, answer_segment}.

    The analysis gives utterance positions (``index``, ``answered_by``); the report keeps times and
    segment ids so a question links to the moment it was asked and answered.
    """
    rows = []
    for raw in questions:
        data = jsonable(raw)
        if not isinstance(data, dict):
            data = {"text": str(data)}
        asked = _utterance_at(utterances, data.get("index"))
        answer = _utterance_at(utterances, data.get("answered_by"))
        rows.append({
            "text": _first(data, "text", "question", default=""),
            "asked_by": _first(data, "asked_by", "asker", "speaker", default=""),
            "at": round(asked.start, 2) if asked else _first(data, "at", "start", default=None),
            "segment_id": asked.segment_id if asked else data.get("segment_id"),
            "answered": bool(data.get("answered", False)),
            "answer": (answer.text if answer else _first(data, "answer", default=""))[:500],
            "answered_by": answer.speaker if answer else "",
            "answer_segment": answer.segment_id if answer else None,
        })
    return rows


def _utterance_at(utterances: Sequence[Any], index: Any) -> Any | None:
    return utterances[index] if isinstance(index, int) and 0 <= index < len(utterances) else None


def talk_time_json(stats: Iterable[Any]) -> list[dict]:
    return [jsonable(s) for s in stats]


# --- matching -----------------------------------------------------------------------------------


def words(text: str) -> list[str]:
    return content_tokens(text)


class _SegmentFinder:
    """Finds the transcript segment a quoted sentence came from (word-overlap, via an inverted index)."""

    def __init__(self, utterances: Sequence[Any]) -> None:
        self.utterances = utterances
        self.index: dict[str, list[int]] = defaultdict(list)
        for i, utterance in enumerate(utterances):
            for word in set(words(utterance.text)):
                self.index[word].append(i)

    def find(self, text: str) -> Any | None:
        query = set(words(text))
        if not query:
            return None
        scores: dict[int, int] = defaultdict(int)
        for word in query:
            postings = self.index.get(word, ())
            if len(postings) > 200:  # too common to tell segments apart
                continue
            for i in postings:
                scores[i] += 1
        if not scores:
            return None
        best = max(scores, key=lambda i: (scores[i], -i))
        return self.utterances[best] if scores[best] >= max(2, len(query) // 2) else None


def _found_id(finder: _SegmentFinder, text: str) -> int | None:
    found = finder.find(text)
    return found.segment_id if found is not None else None


def _participant_for(name: str, participants: Sequence[Participant]) -> Participant | None:
    wanted = name.strip().lower()
    if not wanted:
        return None
    for p in participants:
        if wanted in (p.name.lower(), p.speaker_label.lower()):
            return p
    first_names = [p for p in participants if p.name.lower().split(" ")[0] == wanted.split(" ")[0]]
    return first_names[0] if len(first_names) == 1 else None


# --- writes -------------------------------------------------------------------------------------


def _action_item_drafts(candidates: Sequence[Any], *, participants: Sequence[Participant],
                        finder: _SegmentFinder) -> list[services.ActionItemDraft]:
    """The analysis' findings with their assignee matched to a participant and their source segment found."""
    return [
        services.ActionItemDraft(
            description=cand.description, assignee_name=cand.assignee_name or "",
            assignee_participant=_participant_for(cand.assignee_name or "", participants), due_date=cand.due_date,
            priority=cand.priority, confidence=float(cand.confidence),
            source_segment_id=getattr(cand, "segment_id", None) or _found_id(finder,
                                                                             cand.source_text or cand.description),
        )
        for cand in candidates
    ]


def _decision_drafts(candidates: Sequence[Any], *, finder: _SegmentFinder) -> list[services.DecisionDraft]:
    return [
        services.DecisionDraft(text=cand.text, confidence=float(cand.confidence),
                               source_segment_id=getattr(cand, "segment_id", None)
                               or _found_id(finder, cand.source_text or cand.text))
        for cand in candidates
    ]


def participation_score(*, share: float, turn_share: float) -> float:
    """0-100: the participant's part of the conversation, 70% by speaking time and 30% by turns."""
    return round(100 * (0.7 * share + 0.3 * turn_share), 1)


def _participants_update(*, meeting: Meeting, talk_time: Sequence[dict], participants: Sequence[Participant]) -> None:
    total_turns = sum(int(s.get("turns") or 0) for s in talk_time) or 1
    seen: set[int] = set()
    for stats in talk_time:
        participant = _participant_for(str(stats.get("speaker") or ""), participants)
        if participant is None or participant.pk in seen:
            continue
        seen.add(participant.pk)
        participant.speaking_seconds = float(stats.get("speaking_seconds") or 0)
        participant.participation_score = participation_score(
            share=float(stats.get("share") or 0), turn_share=int(stats.get("turns") or 0) / total_turns)
        participant.save(update_fields=["speaking_seconds", "participation_score"])
    for participant in participants:  # people who never spoke this time
        if participant.pk not in seen and (participant.speaking_seconds or participant.participation_score):
            participant.speaking_seconds = 0
            participant.participation_score = 0
            participant.save(update_fields=["speaking_seconds", "participation_score"])


def _analysis_embed():
    if not getattr(settings, "INTELLIGENCE_ANALYSIS_EMBED", True):
        return None
    return embeddings.embed_sentences


def _live_audio_reseparate(*, company: Company, meeting: Meeting) -> None:
    """Speakers of kept live audio, separated again over the whole recording before the analysis reads
    them (a failure only costs the better labels, never the report)."""
    try:
        live_audio_reseparate(company=company, meeting=meeting)
    except Exception:
        logger.exception("live audio re-separation failed (meeting %s)", meeting.pk)


def report_generate(*, company: Company, meeting: Meeting, provider: str = "") -> MeetingReport:
    """Analyse ``meeting`` and store the report, action items, decisions and participation."""
    assert meeting.company_id == company.pk
    report_mark(meeting=meeting, status="running")
    _live_audio_reseparate(company=company, meeting=meeting)
    try:
        utterances = meeting_utterances(meeting=meeting)
        participants = _participants(meeting)
        if utterances:
            outcome = analyze_utterances(utterances, company=company, meeting_title=meeting.title,
                                         meeting_date=meeting_day(meeting),
                                         participants=[p.name for p in participants], embed=_analysis_embed(),
                                         provider=provider)
        else:
            outcome = None
        with transaction.atomic():
            report = report_for_update(meeting)
            if outcome is None:
                _report_empty(report)
            else:
                _report_store(company=company, report=report, meeting=meeting, outcome=outcome,
                              utterances=utterances, participants=participants)
    except Exception as exc:
        report_mark(meeting=meeting, status="failed", error=f"{exc.__class__.__name__}: {exc}")
        raise
    _index(company=company, meeting=meeting)
    report = report_mark(meeting=meeting, status="done")
    company_event_publish(company_id=company.pk, type="report.ready",
                          data={"meeting_id": meeting.pk, "title": meeting.title, "report_id": report.pk})
    return report


def _index(*, company: Company, meeting: Meeting) -> None:
    """Index the meeting for search before its report says done, so "done" means searchable."""
    try:
        indexing.meeting_index(company=company, meeting=meeting)
    except Exception:  # the report stands; the index task retries on its own
        logger.exception("indexing meeting %s inline failed; queued", meeting.pk)
        try:
            task_send(INDEX_TASK, company_id=company.pk, meeting_id=meeting.pk)
        except Exception:  # broker down too: the report still completes; Regenerate indexes again
            logger.exception("queueing the index of meeting %s failed", meeting.pk)


def _report_empty(report: MeetingReport) -> None:
    for name in ("short_summary", "detailed_summary", "follow_up_email"):
        setattr(report, name, "")
    report.topics, report.questions, report.talk_time, report.key_points, report.sentiment = [], [], [], [], {}
    report.provider = "local"
    report.is_partial = False
    report.notes = "The meeting has no transcript, so there was nothing to analyse."
    report.error = ""
    report.generated_at = timezone.now()
    report.save()


def _report_store(*, company: Company, report: MeetingReport, meeting: Meeting, outcome: ProviderAnalysis,
                  utterances: Sequence[Any], participants: Sequence[Participant]) -> None:
    analysis = outcome.analysis
    finder = _SegmentFinder(utterances)
    talk_time = talk_time_json(analysis.talk_time)
    report.short_summary = analysis.short_summary or ""
    report.detailed_summary = analysis.detailed_summary or ""
    report.key_points = [str(p) for p in jsonable(analysis.key_points or [])]
    report.topics = jsonable(analysis.topics or [])
    report.questions = questions_json(analysis.questions or [], utterances)
    report.sentiment = jsonable(analysis.sentiment or {})
    report.talk_time = talk_time
    report.follow_up_email = analysis.follow_up_email or ""
    report.provider = outcome.provider[:100]
    report.is_partial = outcome.is_partial
    report.notes = "\n".join(outcome.notes)
    item_provider = outcome.sections.get("action_items", outcome.provider)
    decision_provider = outcome.sections.get("decisions", outcome.provider)
    services.action_item_merge(
        company=company, meeting=meeting, provider=item_provider,
        drafts=_action_item_drafts(analysis.action_items or [], participants=participants, finder=finder))
    services.decision_merge(company=company, meeting=meeting, provider=decision_provider,
                            drafts=_decision_drafts(analysis.decisions or [], finder=finder))
    _participants_update(meeting=meeting, talk_time=talk_time, participants=participants)
    report.missing = capture.meeting_coverage_gaps(company=company, meeting=meeting)
    report.error = ""
    report.generated_at = timezone.now()
    report.save()
