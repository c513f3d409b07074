"""The learned ranking of meeting search: features of each candidate, scored by committed weights.

``search()`` fetches two candidate lists (BM25 and the question's embedding, ``chunks_candidates``)
and this module orders their union. Each candidate gets the features in ``FEATURES``: how both
rankers placed it, how much of the question's topic it contains, whether a speaker the question
names talks in it, how its overlapping neighbours scored, and how strongly the candidates point to
its meeting (across meetings, finding the meeting is half the answer). A logistic regression over
those features (one set of weights across meetings, one within a single meeting, where the meeting
features say nothing) gives each candidate the probability that it is the moment asked about.

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

from knowledge.retrieval import Candidates, ChunkHit

WEIGHTS_PATH = Path(__file__).with_name("search_ranker.json")
RRF_K = 10
FEATURES = (
    "bm25_rel",  # BM25 score / the best BM25 score (0: not in the BM25 list)
    "bm25_rr",  # 1 / BM25 rank (0: not listed)
    "similarity",  # cosine to the question
    "similarity_gap",  # cosine - the best candidate's cosine
    "vector_rr",  # 1 / vector rank (0: not listed)
    "rrf",  # reciprocal rank fusion of the two lists, 1.0 = first in both
    "coverage",  # share of the question's topic words in the window
    "speaker",  # share of the window's lines by a speaker the question names
    "neighbour_rrf",  # best fused score of an overlapping window of the same meeting
    "neighbour_coverage",  # best topic coverage of an overlapping window
    "meeting_best",  # the meeting's best fused score / the best meeting's
    "meeting_evidence",  # the sum of the meeting's three best fused scores / the best meeting's
    "meeting_share",  # share of the candidates that are the meeting's
    "meeting_bm25",  # the sum of the meeting's BM25 scores / the best meeting's
    "meeting_rank_rr",  # 1 / the meeting's rank by evidence
    "log_chars",  # log of the window's length
    "transcript",  # 1 for a transcript window, 0 for a summary, decision, action item or document
)
MEETING_EVIDENCE_TOP = 3
MEETING_SOURCE_TYPES = ("transcript", "summary", "decision", "action_item")
_WORD = re.compile(r"[a-z0-9]+")
_PREFIX = 5  # words compared by their first letters: "pricing" matches "price", "prices"
# The frame of a question about a meeting, not its topic.
_NOT_TOPIC = frozenset("""
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
""".split())  # noqa: SIM905


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
        return {"features": list(self.features), "mean": list(self.mean), "scale": list(self.scale),
                "across": list(self.across), "within": list(self.within)}

    @classmethod
    def from_json(cls, data: dict) -> SearchModel:
        return cls(features=tuple(data["features"]), mean=tuple(data["mean"]), scale=tuple(data["scale"]),
                   across=tuple(data["across"]), within=tuple(data["within"]))


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


def candidate_features(candidates: Candidates, *, query: str, speaker_share: dict[int, float] | None = None,
                       speaker_words: set[str] = frozenset()) -> tuple[list[ChunkHit], np.ndarray]:
    """The union of the two lists (BM25 order, then the vector list's new ones) and one feature row each.

    ``speaker_share``: per candidate, the share of its lines by a speaker the question names;
    ``speaker_words``: the words of those names (who is asked about is not what is asked about).
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
    bm25 = {c.chunk_id: float(c.score or 0.0) for c in candidates.text}
    best_bm25 = max(bm25.values(), default=0.0)
    similarity = {c.chunk_id: float(c.similarity or 0.0) for c in chunks}
    best_similarity = max(similarity.values())
    rrf = {c.chunk_id: ((1.0 / (RRF_K + text_rank[c.chunk_id]) if c.chunk_id in text_rank else 0.0)
                        + (1.0 / (RRF_K + vector_rank[c.chunk_id]) if c.chunk_id in vector_rank else 0.0))
           * (RRF_K + 1) / 2 for c in chunks}
    topic = topic_words(query, leave_out=speaker_words)
    coverage = {c.chunk_id: _coverage(_spoken(c), topic) for c in chunks}
    speaker_share = speaker_share or {}

    # Overlapping windows of one meeting: a topic is discussed over several.
    segments = {c.chunk_id: set(c.metadata.get("segment_ids") or []) for c in chunks
                if c.source_type == "transcript"}
    by_meeting: dict[int, list[ChunkHit]] = {}
    for chunk in chunks:
        meeting = meeting_of(chunk)
        if meeting is not None:
            by_meeting.setdefault(meeting, []).append(chunk)
    neighbour_rrf: dict[int, float] = {}
    neighbour_coverage: dict[int, float] = {}
    for members in by_meeting.values():
        for chunk in members:
            mine = segments.get(chunk.chunk_id)
            if not mine:
                continue
            near = [o.chunk_id for o in members if o.chunk_id != chunk.chunk_id and mine & segments.get(o.chunk_id,
                                                                                                         set())]
            neighbour_rrf[chunk.chunk_id] = max((rrf[o] for o in near), default=0.0)
            neighbour_coverage[chunk.chunk_id] = max((coverage[o] for o in near), default=0.0)

    meeting_best = {m: max(rrf[c.chunk_id] for c in v) for m, v in by_meeting.items()}
    evidence = {m: sum(sorted((rrf[c.chunk_id] for c in v), reverse=True)[:MEETING_EVIDENCE_TOP])
                for m, v in by_meeting.items()}
    meeting_bm25 = {m: sum(bm25.get(c.chunk_id, 0.0) for c in v) for m, v in by_meeting.items()}
    order = sorted(evidence, key=lambda m: (-evidence[m], m))
    meeting_rank = {m: i for i, m in enumerate(order, start=1)}
    top_best, top_evidence = max(meeting_best.values(), default=0.0), max(evidence.values(), default=0.0)
    top_bm25 = max(meeting_bm25.values(), default=0.0)

    rows = np.zeros((len(chunks), len(FEATURES)))
    for i, chunk in enumerate(chunks):
        cid, meeting = chunk.chunk_id, meeting_of(chunk)
        in_meeting = meeting is not None
        rows[i] = (
            _ratio(bm25.get(cid, 0.0), best_bm25),
            1.0 / text_rank[cid] if cid in text_rank else 0.0,
            similarity[cid],
            similarity[cid] - best_similarity,
            1.0 / vector_rank[cid] if cid in vector_rank else 0.0,
            rrf[cid],
            coverage[cid],
            speaker_share.get(cid, 0.0),
            neighbour_rrf.get(cid, 0.0),
            neighbour_coverage.get(cid, 0.0),
            _ratio(meeting_best[meeting], top_best) if in_meeting else 0.0,
            _ratio(evidence[meeting], top_evidence) if in_meeting else 0.0,
            len(by_meeting[meeting]) / len(chunks) if in_meeting else 0.0,
            _ratio(meeting_bm25[meeting], top_bm25) if in_meeting else 0.0,
            1.0 / meeting_rank[meeting] if in_meeting else 0.0,
            math.log(1 + len(chunk.text)),
            1.0 if chunk.source_type == "transcript" else 0.0,
        )
    return chunks, rows


def probabilities(logits: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(logits, -30, 30)))
