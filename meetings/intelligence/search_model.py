"""The learned ranking of meeting search: features of each candidate, scored by committed weights.

``search()`` fetches two candidate lists (BM25 and the question's embedding, ``chunks_candidates``)
and this module orders their union. Each candidate gets the features in ``FEATURES``: how both
rankers placed it (their reciprocal rank fusion), how strongly the candidates point to its meeting
(across meetings, finding the meeting is half the answer), whether a speaker the question names talks
in it, its cosine to the question and how much of the question's topic it contains. A linear score
over those features (one set of weights across meetings, one within a single meeting, where the
meeting feature says nothing) orders the candidates; the weights are a pairwise logistic regression
(a moment asked about against a window of the same search that is not), so the score ranks and its
logistic is shown as the hit's score.

The weights are trained on real meetings (QMSum val dev, MIT licence) by
``python -m eval.real.train_search`` (part of ``make train``) with scikit-learn; here only numpy runs.
``eval/real/search.py`` measures this exact path, training on four meeting-level folds and scoring
the fifth.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge.retrieval import BM25_B, BM25_K1, Candidates, ChunkHit, TermCounts

WEIGHTS_PATH = Path(__file__).with_name("search_ranker.json")
RRF_K = 10
FEATURES = (
    "log_rrf",  # log of the reciprocal rank fusion of the two lists (1.0 = first in both)
    "log_meeting_evidence",  # log of the meeting's three best fused scores, summed, / the best meeting's
    "log_speaker",  # log(1 + 2 * the share of the window's lines by a speaker the question names)
    "similarity",  # cosine to the question
    "coverage",  # share of the question's topic words in what the window says
    # Across meetings only (within one meeting all three stay 0, and so does their weight):
    "log_meeting_text",  # log of the meeting's BM25 as one text, / the best counted meeting's
    "context",  # BM25 of the window with CONTEXT_WINDOWS windows either side, / the best candidate's
    "meeting_coverage",  # the question's topic words said anywhere in the meeting, each weighted by its idf
)
MEETING_EVIDENCE_TOP = 3
# A question often names the part of the meeting it is about ("... when discussing the budget"), which
# the window itself may not say: the windows around it and the meeting as a whole are read too
# (docs/analysis.md, "Meeting search").
CONTEXT_WINDOWS = 2
MEETINGS_READ = 20  # the meetings of the best candidates whose whole text is counted
_EPSILON = 1e-3
MEETING_SOURCE_TYPES = ("transcript", "summary", "decision", "action_item")
_WORD = re.compile(r"[a-z0-9]+")
_PREFIX = 5  # words compared by their first letters: "pricing" matches "price", "prices"
# The frame of a question about a meeting, not its topic.
_NOT_TOPIC = frozenset(
    """
a about above after again all also am an and any are as at be because been before being between both but by can
could did do does doing down during each few for from had has have having he her here him his how i if in into is
it its just me more most my no not now of off on once only or other our out over own same she should so some such
than that the their them then there these they this those through to too under until up very was we were what
when where which while who whom why will with would you your
think thinks thought thoughts opinion opinions view views idea ideas feel felt say says said tell told talk talks
talked talking discuss discusses discussed discussing discussion discussions summarize summarise summarized summary
describe described description mention mentioned meeting meetings group team general overall please whole happen
happened conclude concluded conclusion agree agreed agreement decide decided decision reason reasons regarding
toward towards according
""".split()  # noqa: SIM905
)


@dataclass(frozen=True)
class SearchModel:
    """Standardisation and logistic-regression weights (the last weight is the bias)."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    across: tuple[float, ...]
    within: tuple[float, ...]

    def logits(self, features: np.ndarray, *, one_meeting: bool) -> np.ndarray:
        weights = np.asarray(self.within if one_meeting else self.across, dtype=np.float64)
        standard = (features - np.asarray(self.mean)) / np.asarray(self.scale)
        return standard @ weights[:-1] + weights[-1]

    def as_json(self) -> dict:
        return {
            "features": list(self.features),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "across": list(self.across),
            "within": list(self.within),
        }

    @classmethod
    def from_json(cls, data: dict) -> SearchModel:
        return cls(
            features=tuple(data["features"]),
            mean=tuple(data["mean"]),
            scale=tuple(data["scale"]),
            across=tuple(data["across"]),
            within=tuple(data["within"]),
        )


def model_load(path: Path = WEIGHTS_PATH) -> SearchModel | None:
    """The committed weights, or None when absent or made for other features (search then fuses by RRF)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    model = SearchModel.from_json(data.get("model", data))
    return model if model.features == FEATURES else None


def topic_words(query: str, *, leave_out: set[str] = frozenset()) -> list[str]:
    """The question's content words, without its frame ("what did X say about") and ``leave_out`` (names)."""
    words = [w for w in _WORD.findall(query.lower()) if len(w) > 2 and w not in _NOT_TOPIC and w not in leave_out]
    return list(dict.fromkeys(w[:_PREFIX] for w in words))


def _spoken(chunk: ChunkHit) -> str:
    """What a window says, without the "Speaker: " of its lines (a name is not the topic)."""
    if chunk.source_type != "transcript":
        return chunk.text
    return "\n".join(row.partition(": ")[2] or row for row in chunk.text.split("\n"))


def _coverage(text: str, topic: list[str]) -> float:
    if not topic:
        return 0.0
    present = {w[:_PREFIX] for w in _WORD.findall(text.lower())}
    return sum(1 for t in topic if t in present) / len(topic)


def meeting_of(chunk: ChunkHit) -> int | None:
    if chunk.source_type not in MEETING_SOURCE_TYPES:
        return None
    return int(chunk.metadata.get("meeting_id") or chunk.source_id)


def _ranks(chunks: Iterable[ChunkHit]) -> dict[int, int]:
    out: dict[int, int] = {}
    for rank, chunk in enumerate(chunks, start=1):
        out.setdefault(chunk.chunk_id, rank)
    return out


def _ratio(value: float, best: float) -> float:
    return value / best if best > 0 else 0.0


def candidate_features(
    candidates: Candidates,
    *,
    query: str,
    speaker_share: dict[int, float] | None = None,
    speaker_words: set[str] = frozenset(),
    counts: TermCounts | None = None,
) -> tuple[list[ChunkHit], np.ndarray]:
    """The union of the two lists (BM25 order, then the vector list's new ones) and one feature row each.

    ``speaker_share``: per candidate, the share of its lines by a speaker the question names;
    ``speaker_words``: the words of those names (who is asked about is not what is asked about);
    ``counts``: the question's words in the leading meetings (across meetings; None within one).
    """
    chunks: list[ChunkHit] = []
    seen: set[int] = set()
    for chunk in (*candidates.text, *candidates.vector):
        if chunk.chunk_id not in seen:
            seen.add(chunk.chunk_id)
            chunks.append(chunk)
    if not chunks:
        return [], np.zeros((0, len(FEATURES)))
    text_rank, vector_rank = _ranks(candidates.text), _ranks(candidates.vector)
    rrf = {
        c.chunk_id: (
            (1.0 / (RRF_K + text_rank[c.chunk_id]) if c.chunk_id in text_rank else 0.0)
            + (1.0 / (RRF_K + vector_rank[c.chunk_id]) if c.chunk_id in vector_rank else 0.0)
        )
        * (RRF_K + 1)
        / 2
        for c in chunks
    }
    by_meeting: dict[int, list[float]] = {}
    for chunk in chunks:
        meeting = meeting_of(chunk)
        if meeting is not None:
            by_meeting.setdefault(meeting, []).append(rrf[chunk.chunk_id])
    evidence = {m: sum(sorted(v, reverse=True)[:MEETING_EVIDENCE_TOP]) for m, v in by_meeting.items()}
    top_evidence = max(evidence.values(), default=0.0)
    topic = topic_words(query, leave_out=speaker_words)
    speaker_share = speaker_share or {}
    wider = wider_evidence(counts, chunks, topic=topic) if counts is not None else {}
    rows = np.zeros((len(chunks), len(FEATURES)))
    for i, chunk in enumerate(chunks):
        meeting = meeting_of(chunk)
        # A document has no meeting: it counts as one of the best meeting's.
        meeting_evidence = _ratio(evidence[meeting], top_evidence) if meeting is not None else 1.0
        rows[i] = (
            math.log(rrf[chunk.chunk_id]),
            math.log(_EPSILON + meeting_evidence),
            math.log(1.0 + 2.0 * speaker_share.get(chunk.chunk_id, 0.0)),
            float(chunk.similarity or 0.0),
            _coverage(_spoken(chunk), topic),
            *wider.get(chunk.chunk_id, (0.0, 0.0, 0.0)),
        )
    return chunks, rows


def leading_meetings(candidates: Candidates, n: int = MEETINGS_READ) -> list[int]:
    """The meetings of the best candidates, best first (each meeting by its best place in either list)."""
    best: dict[int, int] = {}
    for ranked in (candidates.text, candidates.vector):
        for rank, chunk in enumerate(ranked):
            meeting = meeting_of(chunk)
            if meeting is not None and rank < best.get(meeting, rank + 1):
                best[meeting] = rank
    return sorted(best, key=lambda m: (best[m], m))[:n]


def _bm25(tf: dict[str, int], idf: dict[str, float], length: float = 1.0) -> float:
    """Okapi BM25; ``length``: the text's length / the mean length of its kind (1: not normalised)."""
    norm = BM25_K1 * (1 - BM25_B + BM25_B * length)
    return sum(idf[lex] * n * (BM25_K1 + 1) / (n + norm) for lex, n in tf.items())


def _summed(tfs: Iterable[dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for tf in tfs:
        for lex, n in tf.items():
            out[lex] = out.get(lex, 0) + n
    return out


def _topic_lexemes(idf: dict[str, float], topic: list[str]) -> list[str]:
    """The counted lexemes that are topic words (stems compared by their first letters, as ``topic_words``)."""
    return [lex for lex in idf if any(lex[:_PREFIX] == word or word.startswith(lex) for word in topic)]


def wider_evidence(
    counts: TermCounts, chunks: list[ChunkHit], *, topic: list[str] = ()
) -> dict[int, tuple[float, float, float]]:
    """Per candidate: (log of its meeting's BM25 as one text / the best counted meeting's, BM25 of the
    windows from CONTEXT_WINDOWS before it to CONTEXT_WINDOWS after it, as one text without length
    normalisation / the best candidate's, the idf-weighted share of the ``topic`` words its meeting says).

    A meeting not counted has the least evidence; a document has no meeting and counts as the best
    one (as in ``log_meeting_evidence``); what is not a transcript window has nothing around it (0).
    """
    wanted = _topic_lexemes(counts.idf, list(topic))
    weight = sum(counts.idf[lex] for lex in wanted)
    coverage = {
        meeting: _ratio(sum(counts.idf[lex] for lex in wanted if any(lex in tf for tf in windows.values())), weight)
        for meeting, windows in counts.windows.items()
    }
    mean_chars = max(1.0, sum(counts.meeting_chars.values()) / max(1, len(counts.meeting_chars)))
    meeting_score = {
        meeting: _bm25(_summed(counts.windows.get(meeting, {}).values()), counts.idf, chars / mean_chars)
        for meeting, chars in counts.meeting_chars.items()
    }
    top_meeting = max(meeting_score.values(), default=0.0)
    context: dict[int, float] = {}
    for chunk in chunks:
        windows = counts.windows.get(meeting_of(chunk) or -1, {})
        if chunk.source_type == "transcript" and chunk.position is not None and windows:
            around = range(chunk.position - CONTEXT_WINDOWS, chunk.position + CONTEXT_WINDOWS + 1)
            context[chunk.chunk_id] = _bm25(_summed(windows[p] for p in around if p in windows), counts.idf)
    top_context = max(context.values(), default=0.0)
    out = {}
    for chunk in chunks:
        meeting = meeting_of(chunk)
        ratio = 1.0 if meeting is None else _ratio(meeting_score.get(meeting, 0.0), top_meeting)
        said = 1.0 if meeting is None else coverage.get(meeting, 0.0)
        out[chunk.chunk_id] = (
            math.log(_EPSILON + ratio),
            _ratio(context.get(chunk.chunk_id, 0.0), top_context),
            said,
        )
    return out


def probabilities(logits: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(logits, -30, 30)))
