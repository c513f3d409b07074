"""Topic segmentation and extractive summaries, on embeddings when given and TF-IDF otherwise."""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from itertools import pairwise

import numpy as np

from .detectors import _action_matches, detect_decisions
from .keyphrases import ranked_keyphrases
from .numbers import extract_numeric_claims
from .text import clean_spoken, content_tokens, first_name, split_sentences
from .types import Utterance

logger = logging.getLogger(__name__)

Embed = Callable[[list[str]], np.ndarray]
_ANY_DATE = date(2000, 1, 3)
_MAX_TERMS = 6000  # TF-IDF vocabulary cap: keeps a 3-hour transcript's matrix around 100 MB at most

_SMALL_TALK_RE = re.compile(
    r"\b(?:thanks (?:for|everyone|all|both|so much)|thank you|let's get started|let's (?:do|start) |talk soon|"
    r"happy new year|good morning|morning everyone|hi everyone|hello everyone|welcome|can you hear|"
    r"sounds good|anything else|that's it|see you|have a good|great start|you're up|let's go around)\b",
    re.I,
)
_TRANSITION_RE = re.compile(
    r"^\W*(?:(?:okay|ok|alright|all right|so|great|good|right|now)[,.]?\s+)*(?:moving on|next (?:up|topic|item|thing)|"
    r"let's (?:talk|move on to|turn to|switch to|look at|discuss|get into)|switching gears|on to|onto|"
    r"the (?:next|other|last) (?:thing|topic|item|question)|one more thing|another thing|"
    r"(?:for|on) (?:the )?\w+(?: \w+)?,|now,? (?:on|for|about)|(?:okay|ok|now),? (?:pricing|security|budget))",
    re.I,
)


def _tfidf(texts: list[str], max_terms: int = _MAX_TERMS) -> np.ndarray:
    """Sublinear TF-IDF over content tokens (numpy only; importing scikit-learn costs seconds on small hosts)."""
    docs = [content_tokens(t, drop_fillers=True) for t in texts]
    df: Counter[str] = Counter()
    for doc in docs:
        df.update(set(doc))
    if not df:
        return np.zeros((len(texts), 1), dtype=np.float32)
    vocab = {term: j for j, (term, _) in enumerate(df.most_common(max_terms))}
    matrix = np.zeros((len(texts), len(vocab)), dtype=np.float32)
    for i, doc in enumerate(docs):
        for term, count in Counter(doc).items():
            j = vocab.get(term)
            if j is not None:
                matrix[i, j] = 1.0 + np.log(count)
    n = len(texts)
    idf = np.array([np.log((1 + n) / (1 + df[t])) + 1.0 for t in vocab], dtype=np.float32)
    return matrix * idf


def vectorize(texts: list[str], embed: Embed | None = None) -> np.ndarray:
    """Row-normalised vectors for ``texts`` (embeddings when ``embed`` works, TF-IDF otherwise)."""
    vectors = None
    if embed is not None and texts:
        try:
            vectors = np.asarray(embed(list(texts)), dtype=np.float32)
            if vectors.ndim != 2 or vectors.shape[0] != len(texts):
                raise ValueError(f"embed returned shape {vectors.shape} for {len(texts)} texts")
        except Exception:  # an optional accelerator must never take the analysis down
            logger.exception("embedding failed; falling back to TF-IDF")
            vectors = None
    if vectors is None:
        vectors = _tfidf(texts) if texts else np.zeros((0, 1), dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


# ------------------------------------------------------------------ topics

def _boundaries(vectors: np.ndarray, texts: list[str], max_topics: int) -> list[int]:
    n = len(texts)
    k = max(2, min(12, n // 15))
    cumulative = np.vstack([np.zeros((1, vectors.shape[1]), dtype=np.float32), np.cumsum(vectors, axis=0)])
    gaps = np.arange(1, n)
    left_start = np.maximum(0, gaps - k)
    right_end = np.minimum(n, gaps + k)
    left = cumulative[gaps] - cumulative[left_start]
    right = cumulative[right_end] - cumulative[gaps]
    denom = np.linalg.norm(left, axis=1) * np.linalg.norm(right, axis=1)
    denom[denom == 0] = 1.0
    sims = (left * right).sum(axis=1) / denom
    # depth: how far the similarity dips below the peaks on either side
    depth = np.zeros_like(sims)
    for i in range(len(sims)):
        lo, hi = max(0, i - k), min(len(sims), i + k + 1)
        depth[i] = (sims[lo : i + 1].max() - sims[i]) + (sims[i:hi].max() - sims[i])
    for i, gap in enumerate(gaps):
        if _TRANSITION_RE.match(texts[gap]):
            depth[i] += 0.15
    min_size = max(3, n // (max_topics * 2))
    threshold = float(depth.mean() + 0.5 * depth.std()) if len(depth) else 0.0
    chosen: list[int] = []
    for i in np.argsort(-depth, kind="stable"):
        if depth[i] <= max(threshold, 0.05) or len(chosen) >= max_topics - 1:
            break
        gap = int(gaps[i])
        if gap < min_size or n - gap < min_size or any(abs(gap - c) < min_size for c in chosen):
            continue
        chosen.append(gap)
    return sorted(chosen)


def _title(phrases: list[str]) -> str:
    if not phrases:
        return "General discussion"
    title = phrases[0]
    return title[:1].upper() + title[1:]


def segment_topics(utterances: list[Utterance], *, embed: Embed | None = None, max_topics: int = 8) -> list[dict]:
    """Split a transcript into at most ``max_topics`` contiguous topics.

    TextTiling over utterance vectors (block similarity dips, plus spoken transitions such as "moving on")
    -> ``[{"title", "start", "end", "keyphrases", "utterance_indexes"}]``.
    """
    n = len(utterances)
    if n == 0:
        return []
    texts = [u.text for u in utterances]
    names = {first_name(u.speaker) for u in utterances if u.speaker}
    if n < 8 or max_topics <= 1:
        cuts: list[int] = []
    else:
        cuts = _boundaries(vectorize(texts, embed), texts, max_topics)
    bounds = [0, *cuts, n]
    topics = []
    for a, b in pairwise(bounds):
        phrases = [p for p, _ in ranked_keyphrases(texts[a:b], top_n=5, exclude=names)]
        topics.append({
            "title": _title(phrases),
            "start": float(utterances[a].start),
            "end": float(max(u.end for u in utterances[a:b])),
            "keyphrases": phrases,
            "utterance_indexes": list(range(a, b)),
        })
    return topics


# ------------------------------------------------------------------ extractive summary

@dataclass
class Sentence:
    text: str
    speaker: str
    index: int  # utterance index
    position: float  # 0..1 through the meeting
    decision: bool = False
    action: bool = False
    numeric: bool = False
    question: bool = False


def transcript_sentences(utterances: list[Utterance]) -> list[Sentence]:
    n = max(1, len(utterances) - 1)
    out: list[Sentence] = []
    for i, u in enumerate(utterances):
        for s in split_sentences(u.text):
            if len(s.split()) < 5 or len(content_tokens(s, drop_fillers=True)) < 3:
                continue
            if _SMALL_TALK_RE.search(s) and len(s.split()) < 14:
                continue
            out.append(Sentence(text=s, speaker=u.speaker, index=i, position=i / n,
                                question=s.rstrip().endswith("?")))
    return out


def flag_sentences(sentences: list[Sentence]) -> None:
    for s in sentences:
        probe = Utterance(speaker=s.speaker, text=s.text)
        s.decision = bool(detect_decisions(probe))
        s.action = bool(_action_matches(probe, meeting_date=_ANY_DATE))
        s.numeric = any(c.unit != "year" for c in extract_numeric_claims(s.text))


def rank_sentences(
    sentences: list[Sentence], vectors: np.ndarray, *, k: int, weights: dict[str, float] | None = None,
    diversity: float = 0.3,
) -> list[int]:
    """Indexes of ``k`` sentences by centrality + position + cue boosts, with MMR against redundancy."""
    if not sentences:
        return []
    w = {"centrality": 1.0, "position": 0.12, "decision": 0.25, "action": 0.12, "numeric": 0.15, "question": -0.3}
    w.update(weights or {})
    centroid = vectors.mean(axis=0)
    norm = np.linalg.norm(centroid)
    centrality = vectors @ (centroid / norm) if norm else np.zeros(len(sentences), dtype=np.float32)
    if centrality.max() > 0:
        centrality = centrality / centrality.max()
    scores = np.array([
        w["centrality"] * centrality[i]
        + w["position"] * (1.0 if s.position < 0.1 or s.position > 0.9 else 0.0)
        + w["decision"] * s.decision + w["action"] * s.action + w["numeric"] * s.numeric
        + w["question"] * s.question
        + 0.05 * min(1.0, len(s.text.split()) / 20)
        for i, s in enumerate(sentences)
    ], dtype=np.float32)
    chosen: list[int] = []
    candidates = list(range(len(sentences)))
    while candidates and len(chosen) < k:
        if chosen:
            redundancy = (vectors[candidates] @ vectors[chosen].T).max(axis=1)
        else:
            redundancy = np.zeros(len(candidates), dtype=np.float32)
        mmr = scores[candidates] - diversity * redundancy
        best = candidates[int(np.argmax(mmr))]
        chosen.append(best)
        candidates.remove(best)
    return chosen


def extractive_summary(utterances: list[Utterance], *, embed: Embed | None = None, max_sentences: int = 5) -> list[str]:
    """The ``max_sentences`` most representative sentences, in meeting order.

    Centrality against the meeting's centroid (embeddings when given, TF-IDF otherwise), a boost for the
    opening and the close, for decisions, action items and figures, and MMR so the picks do not repeat.
    """
    sentences = transcript_sentences(utterances)
    if not sentences:
        return []
    flag_sentences(sentences)
    vectors = vectorize([s.text for s in sentences], embed)
    picked = rank_sentences(sentences, vectors, k=max_sentences)
    return [clean_spoken(sentences[i].text) for i in sorted(picked)]
