"""Meetings as searchable chunks, next to the documents in ``knowledge``'s chunk table.

Four source types per meeting, each replaced as a whole (``chunks_replace``), so indexing is
idempotent and a re-run after a regenerated report leaves no stale chunks:
- ``transcript``: overlapping windows of whole turns (about WINDOW_MIN_CHARS..WINDOW_MAX_CHARS of
  text, each starting about half-way into the previous one, so a moment that straddles a window
  edge is still whole in one window), each knowing its speakers, time range and segment ids (a
  search hit can open the exact moment). What is indexed is the spoken content: transcription
  marks (``{disfmarker}``, ``{vocalsound}``, ``[laughter]``), filler words (um, uh, mm-hmm) and
  stuttered repeats ("I I I think") are left out; the stored transcript keeps them. A turn with
  nothing left (a lone "Um.") is not indexed. The model embeds each stretch between two window
  edges once and a window's vector is the mean of its stretches' (``window_embeddings``): the
  model reads every line once instead of about 1.5 times (2-hour meeting, 457 windows: 15.6 s of
  MiniLM time instead of 21.0 s, same search quality on QMSum; ``bench/search.py``; e5-small, the
  retrieval model since, takes about 34 s of it);
- ``summary``: the short and detailed summary and the key points;
- ``decision`` and ``action_item``: one chunk each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from accounts.models import Company
from knowledge import services as knowledge_services
from knowledge.services import ChunkInput, chunks_delete, chunks_replace
from meetings.analysis.disfluency import without_fillers
from meetings.intelligence import selectors
from meetings.intelligence.timefmt import clock, meeting_day
from meetings.models import ActionItem, Decision, Meeting, Participant, TranscriptSegment
from meetings.selectors import speaker_name

WINDOW_MIN_CHARS = 400
WINDOW_MAX_CHARS = 1000
WINDOW_OVERLAP = 0.5  # the next window starts at the first turn past this share of the current one
SOURCE_TYPES = ("transcript", "summary", "decision", "action_item")


@dataclass(frozen=True)
class _Line:
    segment_id: int
    speaker: str
    start: float
    end: float
    text: str


def _base_metadata(meeting: Meeting, participants: list[str]) -> dict:
    return {
        "meeting_id": meeting.pk,
        "meeting_title": meeting.title,
        "meeting_date": meeting_day(meeting).isoformat(),
        "platform": meeting.platform,
        "participants": participants,
    }


def _split_long(line: _Line, limit: int) -> list[_Line]:
    """A monologue longer than one window is cut at sentence ends (time spread evenly)."""
    if len(line.text) <= limit:
        return [line]
    pieces, current = [], ""
    for sentence in line.text.replace("? ", "?\n").replace(". ", ".\n").replace("! ", "!\n").split("\n"):
        while len(sentence) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(sentence[:limit])
            sentence = sentence[limit:]
        if current and len(current) + 1 + len(sentence) > limit:
            pieces.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        pieces.append(current)
    span = (line.end - line.start) / max(1, len(line.text))
    out, offset = [], 0
    for piece in pieces:
        start = line.start + offset * span
        offset += len(piece) + 1
        out.append(_Line(line.segment_id, line.speaker, start, min(line.end, line.start + offset * span), piece))
    return out


def transcript_windows(lines: Sequence[_Line], *, min_chars: int = WINDOW_MIN_CHARS,
                       max_chars: int = WINDOW_MAX_CHARS, overlap: float = WINDOW_OVERLAP) -> list[list[_Line]]:
    """Windows of consecutive lines, ``min_chars``..``max_chars`` long (the last may be shorter).

    A window ends at a turn boundary once it holds ``min_chars``; the next one starts at the first
    line that begins past ``overlap`` of the window (always at least one line further), so every
    line is in one or two windows and none starts mid-turn. Lines longer than a window are split
    at sentence ends first.
    """
    pieces, ranges = _window_ranges(lines, min_chars=min_chars, max_chars=max_chars, overlap=overlap)
    return [pieces[start:end] for start, end in ranges]


def _window_ranges(lines: Sequence[_Line], *, min_chars: int = WINDOW_MIN_CHARS, max_chars: int = WINDOW_MAX_CHARS,
                   overlap: float = WINDOW_OVERLAP) -> tuple[list[_Line], list[tuple[int, int]]]:
    """The pieces (lines split to fit a window) and each window as a [start, end) range of them."""
    pieces = [piece for line in lines for piece in _split_long(line, max_chars - len(piece_prefix(line)) - 1)]
    sizes = [len(piece_prefix(p)) + len(p.text) + 1 for p in pieces]
    ranges: list[tuple[int, int]] = []
    start = 0
    while start < len(pieces):
        end, size = start, 0
        while end < len(pieces) and (end == start or (size < min_chars and size + sizes[end] <= max_chars)):
            size += sizes[end]
            end += 1
        ranges.append((start, end))
        if end >= len(pieces):
            break
        nxt, offset = start + 1, sizes[start]
        while nxt < end and offset < overlap * size:
            offset += sizes[nxt]
            nxt += 1
        start = nxt
    return pieces, ranges


def window_embeddings(pieces: Sequence[_Line], ranges: Sequence[tuple[int, int]], *, title: str = "") -> np.ndarray:
    """One unit vector per window, each stretch of text embedded once.

    Windows overlap by half, so embedding each window would run the model over most lines twice.
    Instead the
    transcript is cut at every window edge into blocks that no window splits; each block is
    embedded once and a window's vector is the length-weighted mean of its blocks' vectors,
    which is what the model's mean pooling would give up to the attention across the block edge.
    """
    edges = sorted({edge for start, end in ranges for edge in (start, end)})
    blocks = list(pairwise(edges))
    texts = [(f"{title}\n" if title else "") + "\n".join(f"{piece_prefix(p)}{p.text}" for p in pieces[a:b])
             for a, b in blocks]
    vectors = knowledge_services.embed_texts(texts) if texts else np.zeros((0, 0), dtype=np.float32)
    weights = np.array([sum(len(p.text) for p in pieces[a:b]) + 1 for a, b in blocks], dtype=np.float32)
    block_at = {a: i for i, (a, _) in enumerate(blocks)}
    out = np.zeros((len(ranges), vectors.shape[1] if len(blocks) else 0), dtype=np.float32)
    for w, (start, end) in enumerate(ranges):
        i = block_at[start]
        total = np.zeros(vectors.shape[1], dtype=np.float32)
        while i < len(blocks) and blocks[i][1] <= end:
            total += weights[i] * vectors[i]
            i += 1
        out[w] = total / max(float(np.linalg.norm(total)), 1e-12)
    return out


def piece_prefix(line: _Line) -> str:
    return f"{line.speaker}: "


def _transcript_chunks(meeting: Meeting, participants: list[str]) -> tuple[list[ChunkInput], np.ndarray]:
    lines = [
        _Line(segment_id=s.pk, speaker=speaker_name(s), start=float(s.start_time),
              end=float(max(s.end_time, s.start_time)), text=without_fillers(s.text))
        for s in selectors.segments_final(meeting=meeting).iterator(chunk_size=2000)
    ]
    lines = [line for line in lines if line.text]
    pieces, ranges = _window_ranges(lines)
    chunks: list[ChunkInput] = []
    offset = 0
    for position, (first, last) in enumerate(ranges):
        window = pieces[first:last]
        text = "\n".join(f"{piece_prefix(line)}{line.text}" for line in window)
        start, end = window[0].start, window[-1].end
        chunks.append(ChunkInput(
            text=text, position=position, start_char=offset, end_char=offset + len(text),
            title=f"{meeting.title} · {clock(start)}",
            metadata={
                **_base_metadata(meeting, participants),
                "speakers": list(dict.fromkeys(line.speaker for line in window)),
                "start_time": round(start, 2),
                "end_time": round(end, 2),
                "segment_ids": list(dict.fromkeys(line.segment_id for line in window)),
                # Per text line: [segment id, start second], so a sentence can be cited at its own moment.
                "lines": [[line.segment_id, round(line.start, 2)] for line in window],
            },
        ))
        offset += len(text) + 1
    return chunks, window_embeddings(pieces, ranges, title=meeting.title)


def _summary_chunks(meeting: Meeting, participants: list[str]) -> list[ChunkInput]:
    report = selectors.report_get(meeting=meeting)
    # Written but maybe not yet "done": the report pipeline indexes before it marks the report done.
    if report is None or report.status == "failed" or (report.status != "done" and report.generated_at is None):
        return []
    parts = [report.short_summary, report.detailed_summary]
    if report.key_points:
        parts.append("Key points:\n" + "\n".join(f"- {p}" for p in report.key_points))
    text = "\n\n".join(p.strip() for p in parts if p and p.strip())
    if not text:
        return []
    chunks, position = [], 0
    # Long summaries in windows of at most WINDOW_MAX_CHARS, cut at paragraph ends where possible.
    pending = ""
    for paragraph in text.split("\n\n"):
        if pending and len(pending) + 2 + len(paragraph) > WINDOW_MAX_CHARS:
            chunks.append(pending)
            pending = paragraph
        else:
            pending = f"{pending}\n\n{paragraph}" if pending else paragraph
    if pending:
        chunks.append(pending)
    out = []
    for position, piece in enumerate(chunks):
        out.append(ChunkInput(text=piece, position=position, title=f"{meeting.title} · summary",
                              metadata={**_base_metadata(meeting, participants), "speakers": [],
                                        "start_time": 0, "end_time": 0, "segment_ids": [],
                                        "report_provider": report.provider}))
    return out


def _segment_time(segment: TranscriptSegment | None) -> tuple[float, list[int]]:
    if segment is None:
        return 0.0, []
    return float(segment.start_time), [segment.pk]


def _decision_chunks(meeting: Meeting, participants: list[str]) -> list[ChunkInput]:
    out = []
    decisions = (Decision.objects.for_company(meeting.company_id).filter(meeting=meeting)
                 .exclude(review="dismissed").prefetch_related("source_segments").order_by("pk"))
    for position, decision in enumerate(decisions):
        segments = sorted(decision.source_segments.all(), key=lambda s: s.start_time)
        start, ids = _segment_time(segments[0] if segments else None)
        out.append(ChunkInput(text=f"Decision: {decision.text}", position=position,
                              title=f"{meeting.title} · decision",
                              metadata={**_base_metadata(meeting, participants), "speakers": [],
                                        "start_time": start, "end_time": start,
                                        "segment_ids": ids or [s.pk for s in segments], "decision_id": decision.pk}))
    return out


def _action_item_chunks(meeting: Meeting, participants: list[str]) -> list[ChunkInput]:
    out = []
    items = (ActionItem.objects.for_company(meeting.company_id).filter(meeting=meeting)
             .exclude(review="dismissed").select_related("source_segment").order_by("pk"))
    for position, item in enumerate(items):
        start, ids = _segment_time(item.source_segment)
        owner = f" (owner: {item.assignee_name})" if item.assignee_name else ""
        due = f", due {item.due_date.isoformat()}" if item.due_date else ""
        out.append(ChunkInput(text=f"Action item: {item.description}{owner}{due}", position=position,
                              title=f"{meeting.title} · action item",
                              metadata={**_base_metadata(meeting, participants), "speakers": [],
                                        "start_time": start, "end_time": start, "segment_ids": ids,
                                        "action_item_id": item.pk, "assignee": item.assignee_name,
                                        "status": item.status}))
    return out


def meeting_index(*, company: Company, meeting: Meeting) -> dict[str, int]:
    """(Re)build every chunk of ``meeting``; returns how many chunks each source type has now."""
    assert meeting.company_id == company.pk
    participants = [p.name for p in Participant.objects.for_company(company).filter(meeting=meeting)]
    builders = {
        "transcript": _transcript_chunks,
        "summary": _summary_chunks,
        "decision": _decision_chunks,
        "action_item": _action_item_chunks,
    }
    # The chunk date is the meeting's date, so the chunk search's date filters mean "meetings held then".
    moment = meeting.started_at or meeting.scheduled_start or meeting.created_at
    counts = {}
    for source_type, build in builders.items():
        built = build(meeting, participants)
        chunks, vectors = built if isinstance(built, tuple) else (built, None)
        counts[source_type] = chunks_replace(company=company, source_type=source_type, source_id=meeting.pk,
                                             chunks=chunks, created_at=moment, embeddings=vectors)
    return counts


def meeting_unindex(*, company: Company, meeting_id: int) -> None:
    for source_type in SOURCE_TYPES:
        chunks_delete(company=company, source_type=source_type, source_id=meeting_id)
