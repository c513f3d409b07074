"""Search across meetings and documents in one list, each hit linking to the exact moment.

Ranking (see docs/intelligence.md, "How meeting search ranks"): two candidate lists from the
shared chunk table (``knowledge.retrieval.chunks_candidates``): Okapi BM25 over the query's
content words, with document frequencies from the company's chunks, and cosine similarity to
the query embedding. The shipped ``Ranking`` orders their union with the learned model of
``search_model`` (trained on real meetings, measured by meeting-level folds in
``eval/real/search.py``): fused rank, the evidence for the candidate's meeting (across meetings,
finding the meeting is half the answer), a speaker the question names ("what did Sam say about
pricing", "What did PhD C think ..."), cosine and topic-word coverage. ``Ranking()`` without a
model is the earlier weighted reciprocal rank fusion with its speaker lift and meeting scaling.
Transcript windows overlap by half, so a window that mostly repeats one already listed, or starts
within ``min_spacing_chars`` of it on either side, is dropped: the list shows different moments.

Filters: what ``chunks_candidates`` can express is pushed down: the date range (meeting chunks
are stored with the meeting's date as their chunk date), the platform (``metadata``
containment) and a single meeting (its chunks' ``source_id``, an index lookup). The participant
filter is a case-insensitive substring of a name or an exact email, which JSON containment
cannot express: every meeting filter is therefore also resolved against the meetings table into
a set of meeting ids, and hits are kept when their ``metadata.meeting_id`` is in it; to still
return ``k`` hits after that, more candidates are fetched (``k * OVERFETCH``, at most
``MAX_FETCH``). Documents have no participants or platform and their chunk date is their upload
date, so meeting filters leave documents out.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import numpy as np
from django.db.models import Q
from django.db.models.functions import Coalesce, TruncDate
from django.urls import NoReverseMatch, reverse
from django.utils.html import escape

from accounts.models import Company
from knowledge.embeddings import embed_query
from knowledge.retrieval import Candidates, ChunkHit, TermCounts, chunks_candidates, transcript_term_counts
from meetings.intelligence.search_model import (
    SearchModel,
    candidate_features,
    leading_meetings,
    meeting_of,
    model_load,
    probabilities,
)
from meetings.models import Meeting

MEETING_SOURCE_TYPES = ("transcript", "summary", "decision", "action_item")
ALL_SOURCE_TYPES = (*MEETING_SOURCE_TYPES, "document")
OVERFETCH = 5
MAX_FETCH = 200
CANDIDATES = 60  # per list, before fusion
SNIPPET_CHARS = 320
_WORD = re.compile(r"\w{3,}")
_TOKEN = re.compile(r"[\w'-]+")
_TITLES = {"the", "mr", "mrs", "ms", "dr", "hon", "right", "sir", "madam"}
# The frame of a question about a meeting, not its topic (stop words are dropped by Postgres anyway).
_TEMPLATE_WORDS = frozenset(
    """
think thinks thought thoughts opinion opinions view views idea ideas feel felt say says said tell told talk talks
talked talking discuss discusses discussed discussing discussion discussions summarize summarise summarized
summary describe described description mention mentioned meeting meetings group team general overall please
whole happen happened conclude concluded conclusion agree agreed agreement decide decided decision reason
reasons regarding toward towards according
""".split()  # noqa: SIM905
)
_QUESTION_WORDS = frozenset(
    """
what what's which who whom why how when where did does do was were is are be been the a an of on about to in for
and with this that there any
""".split()  # noqa: SIM905
)
# "What did Sam say about X when discussing Y": the setting clause says where in the meeting, not what is
# asked. The question is embedded without it; the BM25 list and the meeting evidence still read it
# (QMSum dev, folds: R@5 across 0.543 -> 0.559, within 0.790 -> 0.785; docs/analysis.md).
_SETTING_CLAUSE = re.compile(r",?\s+(?:when|while)\s+\w+ing\b.*$", re.IGNORECASE | re.DOTALL)
MEETING_EVIDENCE_TOP = 3  # a meeting's evidence: the sum of its best windows' scores


@dataclass(frozen=True)
class Ranking:
    """How the two lists are fused; the defaults are the cross-validated choice on real meetings."""

    text_weight: float = 1.0  # weight of the BM25 list in the RRF sum (the vector list weighs 1)
    rrf_k: int = 10
    speaker_boost: float = 2.0  # score * (1 + boost * share of the window's lines by a named speaker)
    max_overlap: float = 0.5  # drop a transcript window sharing more than this share of its segments
    # ... or starting within this many characters (of the meeting's indexed windows, one after another) of
    # a listed one, i.e. the few windows either side of it: five hits are five moments, not one seen through
    # its overlapping windows (QMSum dev, folds: R@5 within 0.769 -> 0.780 with fusion alone at 1,000; with
    # e5-small 1,500: within 0.828 -> 0.839, across 0.565 -> 0.570, where each fold's training folds chose
    # 1,000-2,000; docs/analysis.md).
    min_spacing_chars: int = 1500
    # "none", "text" (the BM25 list gets the question without its template words) or "both" (the
    # embedded question too): "What did the group discuss about X" is about X.
    clean_query: str = "none"
    neighbour_weight: float = 0.0  # + weight * the best score of an overlapping window (a topic spans several)
    meeting_weight: float = 1.0  # * (1 + weight * the meeting's evidence, its top windows' scores) / (1 + weight)
    # The learned ranking (``search_model``): when set, it orders the candidates and the fusion values
    # above are unused (``speaker_boost`` 0 still turns the speaker feature off).
    model: SearchModel | None = None


DEFAULT_RANKING = Ranking(model=model_load())


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
            Q(participants__name__icontains=who)
            | Q(participants__email__iexact=who)
            | Q(participants__user__full_name__icontains=who)
            | Q(participants__user__email__iexact=who)
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
    pattern = re.compile(
        "(" + "|".join(re.escape(escape(t)) for t in sorted(terms, key=len, reverse=True)) + ")", re.IGNORECASE
    )
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


def query_topic(query: str) -> str:
    """The question without its frame: template words and lone letters ("what did C think about X")."""
    words = [
        w
        for w in _TOKEN.findall(query)
        if w.lower().removesuffix("'s") not in _TEMPLATE_WORDS and not (len(w) == 1 and w.isupper())
    ]
    if all(w.lower() in _QUESTION_WORDS for w in words):  # nothing but the frame: keep the question
        return query
    return " ".join(words)


def asked_part(query: str) -> str:
    """The question without a trailing "when/while discussing ..." clause (what is embedded for the vector list)."""
    asked = _SETTING_CLAUSE.sub("", query).strip()
    return asked if len(asked.split()) >= 3 else query


def _name_tokens(name: str) -> list[str]:
    return _TOKEN.findall(name)


def speakers_mentioned(query: str, speakers: set[str]) -> set[str]:
    """The speakers a question names: "what did Sam say", "What did PhD C think", "Marketing's view".

    A multi-word name matches anywhere, in any case ("project manager"); a single word of a name
    (first name, role, the letter of "Grad C") only when the question writes it capitalised and
    not as its first word, so "marketing" in "the marketing budget" or a sentence-initial "A" is
    not a speaker.
    """
    words = _TOKEN.findall(query)
    lowered = " " + " ".join(w.lower() for w in words) + " "
    later = {w.removesuffix("'s") for w in words[1:] if w[:1].isupper()}
    found = set()
    for name in speakers:
        tokens = _name_tokens(name)
        if not tokens:
            continue
        whole = len(tokens) > 1 and " " + " ".join(t.lower() for t in tokens) + " " in lowered
        # One letter ("C" of "PhD C") or a real word; not "AM", "Mr", "The".
        part = any(t in later and (len(t) == 1 or len(t) > 2) and t.lower() not in _TITLES for t in tokens)
        if whole or part:
            found.add(name)
    return found


def _row_speaker(row: str) -> str:
    head, sep, _ = row.partition(": ")
    return head if sep else ""


def speaker_share(chunk: ChunkHit, mentioned: set[str]) -> float:
    """The share of a transcript window's lines spoken by one of ``mentioned``."""
    if chunk.source_type != "transcript" or not mentioned:
        return 0.0
    rows = chunk.text.split("\n")
    return sum(1 for row in rows if _row_speaker(row) in mentioned) / max(1, len(rows))


def fuse(
    candidates: Candidates,
    *,
    query: str,
    ranking: Ranking = DEFAULT_RANKING,
    one_meeting: bool = False,
    counts: TermCounts | None = None,
) -> list[tuple[ChunkHit, float]]:
    """The candidates in one list, best first, with a score each.

    With a learned model the score is the probability that the candidate is the moment asked about
    (``one_meeting``: the search is within one meeting, which has weights of its own; ``counts``: the
    question's words in the leading meetings, from ``meeting_counts``); without one, weighted
    reciprocal rank fusion where 1.0 means "first in both lists".
    """
    if ranking.model is not None:
        return _learned(candidates, query=query, ranking=ranking, one_meeting=one_meeting, counts=counts)
    fused: dict[int, float] = {}
    by_id: dict[int, ChunkHit] = {}
    for rank, chunk in enumerate(candidates.text, start=1):
        fused[chunk.chunk_id] = fused.get(chunk.chunk_id, 0.0) + ranking.text_weight / (ranking.rrf_k + rank)
        by_id[chunk.chunk_id] = chunk
    for rank, chunk in enumerate(candidates.vector, start=1):
        fused[chunk.chunk_id] = fused.get(chunk.chunk_id, 0.0) + 1.0 / (ranking.rrf_k + rank)
        by_id.setdefault(chunk.chunk_id, chunk)
    if ranking.speaker_boost:
        for chunk_id, share in _speaker_shares(by_id.values(), query).items():
            fused[chunk_id] *= 1.0 + ranking.speaker_boost * share
    if ranking.neighbour_weight:
        fused = _with_neighbours(fused, by_id, ranking.neighbour_weight)
    if ranking.meeting_weight:
        fused = _with_meeting_evidence(fused, by_id, ranking.meeting_weight)
    best = (1.0 + ranking.text_weight) / (ranking.rrf_k + 1)
    order = sorted(fused, key=lambda cid: (-fused[cid], -(by_id[cid].similarity or 0.0), cid))
    return [(by_id[cid], fused[cid] / best) for cid in order]


def _speakers_named(chunks, query: str) -> set[str]:
    """The candidates' speakers the question names."""
    return speakers_mentioned(query, {name for chunk in chunks for name in chunk.metadata.get("speakers") or []})


def _speaker_shares(chunks, query: str) -> dict[int, float]:
    """Per candidate, the share of its lines spoken by a speaker the question names (none named: empty)."""
    chunks = list(chunks)
    mentioned = _speakers_named(chunks, query)
    if not mentioned:
        return {}
    return {chunk.chunk_id: speaker_share(chunk, mentioned) for chunk in chunks}


def ranking_features(
    candidates: Candidates, *, query: str, ranking: Ranking = DEFAULT_RANKING, counts: TermCounts | None = None
) -> tuple[list[ChunkHit], np.ndarray]:
    """The candidates and their feature rows, as the learned ranking sees them (and is trained on)."""
    chunks = (*candidates.text, *candidates.vector)
    mentioned = _speakers_named(chunks, query)
    shares = {c.chunk_id: speaker_share(c, mentioned) for c in chunks} if mentioned and ranking.speaker_boost else {}
    names = {word.lower() for name in mentioned for word in _name_tokens(name)}
    return candidate_features(candidates, query=query, speaker_share=shares, speaker_words=names, counts=counts)


def meeting_counts(
    *, company: Company, query: str, candidates: Candidates, access_levels: set[str] | None = None
) -> TermCounts:
    """The question's word counts in the meetings of the best candidates (the learned ranking's wider evidence)."""
    return transcript_term_counts(
        company=company, query=query, meeting_ids=leading_meetings(candidates), access_levels=access_levels
    )


def _learned(
    candidates: Candidates, *, query: str, ranking: Ranking, one_meeting: bool, counts: TermCounts | None
) -> list[tuple[ChunkHit, float]]:
    chunks, features = ranking_features(candidates, query=query, ranking=ranking, counts=counts)
    if not chunks:
        return []
    logits = ranking.model.logits(features, one_meeting=one_meeting)
    scores = probabilities(logits)
    order = sorted(range(len(chunks)), key=lambda i: (-logits[i], chunks[i].chunk_id))
    return [(chunks[i], float(scores[i])) for i in order]


def _with_neighbours(fused: dict[int, float], by_id: dict[int, ChunkHit], weight: float) -> dict[int, float]:
    """A window also scores with the best window overlapping it: a topic is discussed over several."""
    segments: dict[int, list[tuple[int, set[int]]]] = {}
    for cid, chunk in by_id.items():
        if chunk.source_type == "transcript" and chunk.metadata.get("segment_ids"):
            segments.setdefault(meeting_of(chunk), []).append((cid, set(chunk.metadata["segment_ids"])))
    out = dict(fused)
    for windows in segments.values():
        for cid, mine in windows:
            near = [fused[other] for other, theirs in windows if other != cid and mine & theirs]
            if near:
                out[cid] += weight * max(near)
    return out


def _with_meeting_evidence(fused: dict[int, float], by_id: dict[int, ChunkHit], weight: float) -> dict[int, float]:
    """Windows of the meeting the candidates point to most lift: across meetings, the meeting is half the answer."""
    scores: dict[int, list[float]] = {}
    for cid, chunk in by_id.items():
        meeting = meeting_of(chunk)
        if meeting is not None:
            scores.setdefault(meeting, []).append(fused[cid])
    evidence = {m: sum(sorted(v, reverse=True)[:MEETING_EVIDENCE_TOP]) for m, v in scores.items()}
    top = max(evidence.values(), default=0.0)
    if top <= 0:
        return fused
    out = dict(fused)
    for cid, chunk in by_id.items():
        meeting = meeting_of(chunk)
        if meeting is not None:  # the best meeting keeps its scores, the others drop
            out[cid] *= (1.0 + weight * evidence[meeting] / top) / (1.0 + weight)
    return out


def _repeats_a_kept_window(
    hit: SearchHit, start_char: int, kept: dict[int, list[tuple[set[int], int]]], ranking: Ranking
) -> bool:
    if hit.source_type != "transcript" or hit.meeting_id is None:
        return False
    segments = {int(line[0]) for line in hit.lines}
    if not segments:
        return False
    for other, other_start in kept.setdefault(hit.meeting_id, []):
        if len(segments & other) > ranking.max_overlap * min(len(segments), len(other)):
            return True
        if abs(start_char - other_start) < ranking.min_spacing_chars:
            return True
    kept[hit.meeting_id].append((segments, start_char))
    return False


def hit_from_chunk(chunk: Any, terms: list[str]) -> SearchHit:
    metadata = dict(chunk.metadata or {})
    snippet = snippet_for(chunk.text, terms)
    hit = SearchHit(
        chunk_id=chunk.chunk_id,
        source_type=chunk.source_type,
        title=chunk.title or "",
        text=chunk.text,
        snippet=snippet,
        snippet_html=highlight(snippet, terms),
        score=float(chunk.score),
        url="",
        page=chunk.page,
    )
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


@dataclass
class _Plan:
    candidates: Candidates
    wanted: list[str]
    allowed_meetings: set[int] | None


def search_candidates(
    *,
    company: Company,
    query: str,
    filters: SearchFilters | None = None,
    k: int = 20,
    access_levels: set[str] | None = None,
    ranking: Ranking | None = None,
) -> Candidates:
    """The two candidate lists ``search()`` ranks for this question (what the learned ranking is trained on)."""
    plan = _plan(
        company=company,
        query=query.strip(),
        filters=filters or SearchFilters(),
        k=k,
        access_levels=access_levels,
        ranking=ranking or DEFAULT_RANKING,
    )
    return plan.candidates if plan else Candidates(text=[], vector=[])


def _plan(
    *, company: Company, query: str, filters: SearchFilters, k: int, access_levels: set[str] | None, ranking: Ranking
) -> _Plan | None:
    if not query:
        return None
    wanted = [t for t in (filters.source_types or ALL_SOURCE_TYPES) if t in ALL_SOURCE_TYPES]
    allowed_meetings: set[int] | None = None
    if filters.meeting_only:
        wanted = [t for t in wanted if t in MEETING_SOURCE_TYPES]
        allowed_meetings = meeting_ids_matching(company=company, filters=filters)
        if not allowed_meetings:
            return None
    if not wanted:
        return None
    pushed: dict[str, Any] = {}
    metadata: dict[str, Any] = {}
    if filters.date_from:
        pushed["date_from"] = filters.date_from
    if filters.date_to:
        pushed["date_to"] = filters.date_to
    if filters.platform:
        metadata["platform"] = filters.platform
    if filters.meeting_id:
        pushed["source_ids"] = [filters.meeting_id]  # meeting chunks have the meeting as their source
    if metadata:
        pushed["metadata"] = metadata
    fetch = min(MAX_FETCH, k * OVERFETCH) if filters.participant.strip() else k
    text_query = query_topic(query) if ranking.clean_query in ("text", "both") else query
    vector = embed_query(text_query if ranking.clean_query == "both" else asked_part(query))
    candidates = chunks_candidates(
        company=company,
        query=text_query,
        n=max(CANDIDATES, fetch),
        access_levels=access_levels,
        source_types=wanted,
        filters=pushed or None,
        query_embedding=vector,
    )
    return _Plan(candidates=candidates, wanted=wanted, allowed_meetings=allowed_meetings)


def search(
    *,
    company: Company,
    query: str,
    filters: SearchFilters | None = None,
    k: int = 20,
    access_levels: set[str] | None = None,
    ranking: Ranking | None = None,
) -> list[SearchHit]:
    """The best ``k`` hits for ``query`` among this company's meetings and documents."""
    filters = filters or SearchFilters()
    ranking = ranking or DEFAULT_RANKING
    query = query.strip()
    plan = _plan(company=company, query=query, filters=filters, k=k, access_levels=access_levels, ranking=ranking)
    if plan is None:
        return []
    wanted, allowed_meetings = plan.wanted, plan.allowed_meetings
    terms = query_terms(query)
    hits: list[SearchHit] = []
    kept: dict[int, list[tuple[set[int], int]]] = {}
    one_meeting = bool(filters.meeting_id)
    counts = None
    if ranking.model is not None and not one_meeting:  # within one meeting the wider evidence says nothing
        counts = meeting_counts(company=company, query=query, candidates=plan.candidates, access_levels=access_levels)
    for chunk, score in fuse(plan.candidates, query=query, ranking=ranking, one_meeting=one_meeting, counts=counts):
        if chunk.source_type not in wanted:
            continue
        hit = hit_from_chunk(chunk, terms)
        hit.score = score
        if allowed_meetings is not None and hit.meeting_id not in allowed_meetings:
            continue
        if _repeats_a_kept_window(hit, chunk.start_char, kept, ranking):
            continue
        hits.append(hit)
        if len(hits) >= k:
            break
    return hits
