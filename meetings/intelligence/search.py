"""Search across meetings and documents in one list, each hit linking to the exact moment.

Retrieval is ``knowledge.retrieval.chunks_search`` (hybrid: vector + full text) over the shared
chunk table. What its filters can express is pushed down: the date range (meeting chunks are
stored with the meeting's date as their chunk date), the platform and a single meeting
(``metadata`` containment). The participant filter is a case-insensitive substring of a
name or an exact email, which JSON containment cannot express: every meeting filter is
therefore also resolved against the meetings table into a set of meeting ids, and hits are
kept when their ``metadata.meeting_id`` is in it; to still return ``k`` hits after that, more
candidates are fetched (``k * OVERFETCH``, at most ``MAX_FETCH``). Documents have no
participants or platform and their chunk date is their upload date, so meeting filters
leave documents out.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from django.db.models import Q
from django.db.models.functions import Coalesce, TruncDate
from django.urls import NoReverseMatch, reverse
from django.utils.html import escape

from accounts.models import Company
from knowledge.retrieval import chunks_search
from meetings.models import Meeting

MEETING_SOURCE_TYPES = ("transcript", "summary", "decision", "action_item")
ALL_SOURCE_TYPES = (*MEETING_SOURCE_TYPES, "document")
OVERFETCH = 5
MAX_FETCH = 200
SNIPPET_CHARS = 320
_WORD = re.compile(r"\w{3,}")


@dataclass
class SearchFilters:
    date_from: date | None = None
    date_to: date | None = None
    participant: str = ""
    platform: str = ""
    source_types: list[str] = field(default_factory=list)
    meeting_id: int | None = None

    @property
    def meeting_only(self) -> bool:
        return bool(self.date_from or self.date_to or self.participant.strip() or self.platform or self.meeting_id)


@dataclass
class SearchHit:
    chunk_id: int
    source_type: str
    title: str
    text: str
    snippet: str
    snippet_html: str
    score: float
    url: str
    meeting_id: int | None = None
    meeting_title: str = ""
    meeting_date: str = ""
    platform: str = ""
    start_time: float | None = None
    segment_id: int | None = None
    speakers: list[str] = field(default_factory=list)
    document_id: int | None = None
    page: int | None = None
    lines: list[list] = field(default_factory=list)  # transcript: [segment id, start] per text line

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def meeting_ids_matching(*, company: Company, filters: SearchFilters) -> set[int]:
    meetings = Meeting.objects.for_company(company)
    if filters.meeting_id:
        meetings = meetings.filter(pk=filters.meeting_id)
    if filters.date_from or filters.date_to:
        meetings = meetings.annotate(day=TruncDate(Coalesce("started_at", "scheduled_start", "created_at")))
        if filters.date_from:
            meetings = meetings.filter(day__gte=filters.date_from)
        if filters.date_to:
            meetings = meetings.filter(day__lte=filters.date_to)
    if filters.platform:
        meetings = meetings.filter(platform=filters.platform)
    if filters.participant.strip():
        who = filters.participant.strip()
        meetings = meetings.filter(
            Q(participants__name__icontains=who) | Q(participants__email__iexact=who)
            | Q(participants__user__full_name__icontains=who) | Q(participants__user__email__iexact=who)
        )
    return set(meetings.values_list("pk", flat=True).distinct())


def moment_url(meeting_id: int, start_time: float | None, segment_id: int | None) -> str:
    url = f"/meetings/{meeting_id}/"
    if start_time is not None:
        url += f"?t={int(max(0.0, start_time))}"
    if segment_id:
        url += f"#segment-{segment_id}"
    return url


def document_url(chunk_id: int, document_id: int | None) -> str:
    """The passage itself when the knowledge pages offer it, else its document."""
    for name, arg in (("knowledge:passage", chunk_id), ("knowledge:document_detail", document_id)):
        if arg:
            try:
                return reverse(name, args=[arg])
            except NoReverseMatch:
                continue
    return ""


def query_terms(query: str) -> list[str]:
    return list(dict.fromkeys(w.lower() for w in _WORD.findall(query)))


def snippet_for(text: str, terms: list[str], limit: int = SNIPPET_CHARS) -> str:
    """The stretch of ``text`` (about ``limit`` characters) with the most query terms in it."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    lowered = flat.lower()
    best, best_score = 0, -1
    for start in range(0, len(flat) - limit + 1, max(1, limit // 4)):
        window = lowered[start : start + limit]
        score = sum(window.count(t) for t in terms)
        if score > best_score:
            best, best_score = start, score
    piece = flat[best : best + limit]
    return ("…" if best else "") + piece + ("…" if best + limit < len(flat) else "")


def highlight(text: str, terms: list[str]) -> str:
    """Escaped ``text`` with the query terms in <mark> (safe to render)."""
    html = escape(text)
    if not terms:
        return html
    pattern = re.compile("(" + "|".join(re.escape(escape(t)) for t in sorted(terms, key=len, reverse=True)) + ")",
                         re.IGNORECASE)
    return pattern.sub(r"<mark>\1</mark>", html)


def _first_segment(metadata: dict) -> int | None:
    ids = metadata.get("segment_ids") or []
    return int(ids[0]) if ids else None


def _best_line(text: str, lines: list[list], terms: list[str]) -> list | None:
    rows = text.split("\n")
    if not lines or len(rows) != len(lines) or not terms:
        return None
    scores = [sum(row.lower().count(t) for t in terms) for row in rows]
    best = max(range(len(rows)), key=lambda i: (scores[i], -i))
    return lines[best] if scores[best] else None


def hit_from_chunk(chunk: Any, terms: list[str]) -> SearchHit:
    metadata = dict(chunk.metadata or {})
    snippet = snippet_for(chunk.text, terms)
    hit = SearchHit(chunk_id=chunk.chunk_id, source_type=chunk.source_type, title=chunk.title or "", text=chunk.text,
                    snippet=snippet, snippet_html=highlight(snippet, terms), score=float(chunk.score), url="",
                    page=chunk.page)
    if chunk.source_type in MEETING_SOURCE_TYPES:
        hit.meeting_id = int(metadata.get("meeting_id") or chunk.source_id)
        hit.meeting_title = str(metadata.get("meeting_title") or "")
        hit.meeting_date = str(metadata.get("meeting_date") or "")
        hit.platform = str(metadata.get("platform") or "")
        start = metadata.get("start_time")
        hit.start_time = float(start) if start is not None else None
        hit.segment_id = _first_segment(metadata)
        hit.speakers = list(metadata.get("speakers") or [])
        hit.lines = list(metadata.get("lines") or [])
        best = _best_line(chunk.text, hit.lines, terms)
        if best is not None:  # the line that matched, not just the start of the window
            hit.segment_id, hit.start_time = int(best[0]), float(best[1])
        hit.url = moment_url(hit.meeting_id, hit.start_time if hit.segment_id else None, hit.segment_id)
    else:
        hit.document_id = chunk.document_id
        hit.url = document_url(chunk.chunk_id, chunk.document_id)
    return hit


def search(*, company: Company, query: str, filters: SearchFilters | None = None, k: int = 20,
           access_levels: set[str] | None = None) -> list[SearchHit]:
    """The best ``k`` hits for ``query`` among this company's meetings and documents."""
    filters = filters or SearchFilters()
    query = query.strip()
    if not query:
        return []
    wanted = [t for t in (filters.source_types or ALL_SOURCE_TYPES) if t in ALL_SOURCE_TYPES]
    allowed_meetings: set[int] | None = None
    if filters.meeting_only:
        wanted = [t for t in wanted if t in MEETING_SOURCE_TYPES]
        allowed_meetings = meeting_ids_matching(company=company, filters=filters)
        if not allowed_meetings:
            return []
    if not wanted:
        return []
    pushed: dict[str, Any] = {}
    metadata: dict[str, Any] = {}
    if filters.date_from:
        pushed["date_from"] = filters.date_from
    if filters.date_to:
        pushed["date_to"] = filters.date_to
    if filters.platform:
        metadata["platform"] = filters.platform
    if filters.meeting_id:
        metadata["meeting_id"] = filters.meeting_id
    if metadata:
        pushed["metadata"] = metadata
    fetch = min(MAX_FETCH, k * OVERFETCH) if filters.participant.strip() else k
    chunks = chunks_search(company=company, query=query, k=fetch, access_levels=access_levels,
                           source_types=wanted, filters=pushed or None, mode="hybrid")
    terms = query_terms(query)
    hits: list[SearchHit] = []
    for chunk in chunks:
        if chunk.source_type not in wanted:
            continue
        hit = hit_from_chunk(chunk, terms)
        if allowed_meetings is not None and hit.meeting_id not in allowed_meetings:
            continue
        hits.append(hit)
        if len(hits) >= k:
            break
    return hits
