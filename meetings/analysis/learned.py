"""Learned action-item and decision detector for real (disfluent) meetings.

What it reads, per utterance (sparse blocks of word 1-2 grams, TF-IDF, and dense numbers): "u", the
disfluency-stripped words of the utterance; "ctx", the words of its neighbours two turns either side (marked same
/ other speaker, before / after); "win", the ±2 window's cleaned words as one bag, whoever said them; "said", the
±2 window as said (fillers kept, word pairs across turns); and a few structural numbers (length, whether the
neighbours are the same speaker, how many speakers the window has, how far into the meeting it is, the rule
detectors' hits on the utterance and its window, whether other people only agree in the next turns, "let's" /
"we'll" / "go with"). Which blocks each model reads is in the weights' metadata ("kind_blocks"; the others
have zero weights and are not scored). Two logistic regressions (action, decision; the
decision one trained on labels widened to ±1 turn) score it; a score is then smoothed over ±1 turn because a
decision is often stated across several turns, and mapped through a calibration table so it reads as a
probability; ``pick`` keeps the best utterance per ±2 turns (±1 where the training folds chose it). Inference
is numpy only, from ``weights/detector.npz`` and ``weights/detector.json`` (rebuilt by
``python -m eval.real.train_detector``; trained on the AMI Meeting Corpus, University of Edinburgh / IDIAP /
TNO et al., CC BY 4.0).

Live meetings: an utterance is scored once three later utterances have arrived (LIVE_DELAY = the ±2 feature
window + the ±1 smoothing), so the live path computes exactly the score the after-meeting path gives it (a
test checks this); no separate causal model is needed. Positions are counted from the meeting start, never
from its end, for the same reason. ``score_live(history)`` returns the utterance that just became decidable;
``score_live(history, final=True)`` at the end of the meeting returns the last ones too. The learned scores
pick *where* an item was said; ``items.extract_items`` phrases it (owner, task, due date).
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from .detectors import _action_matches, detect_decisions, detect_question
from .disfluency import strip_disfluencies
from .types import Utterance

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
KINDS = ("action", "decision")
CONTEXT = 2  # neighbours either side in the feature window
SMOOTH = 1  # neighbours either side whose raw scores are blended in
LIVE_DELAY = CONTEXT + SMOOTH  # later utterances needed before an utterance's score is final
TOP_RISE = 0.02  # calibrated scores past the table's top point still rise (see Model.calibrated)
_RULE_DATE = date(2000, 1, 3)  # rule hits do not depend on the date; any fixed day keeps them reproducible
_WORD_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
# The "said" block reads the ±CONTEXT window as one text, as said: fillers kept ("um you're gonna be working
# on" hands out a task), word pairs across turns (a task is handed out over several), tokens of two letters or
# more (those of the TF-IDF reference it was measured against, docs/analysis.md).
_SAID_TOKEN_RE = re.compile(r"\b\w\w+\b")
# Every sparse block ``featurize`` builds; committed weights naming another one were made by other code.
BLOCKS = ("u", "ctx", "win", "said")


@dataclass(frozen=True)
class DetectorScore:
    action: float  # calibrated probability that the utterance states (part of) an action item
    decision: float  # same for a decision

    def get(self, kind: str) -> float:
        return self.action if kind == "action" else self.decision


# ------------------------------------------------------------------ features


def _words(text: str) -> list[str]:
    return _WORD_RE.findall(text.lower().replace("’", "'"))


@lru_cache(maxsize=4096)
def _said_words(text: str) -> tuple[str, ...]:
    return tuple(_SAID_TOKEN_RE.findall(text.lower()))


def _grams(words: list[str], prefix: str) -> list[str]:
    out = [prefix + w for w in words]
    out += [f"{prefix}{a} {b}" for a, b in itertools.pairwise(words)]
    return out


@dataclass
class Features:
    """Token lists per sparse block and one dense row per utterance."""

    blocks: dict[str, list[list[str]]]
    dense: np.ndarray
    dense_names: list[str]


def _rule_hits(u: Utterance) -> tuple[float, float, float]:
    action = 1.0 if _action_matches(u, meeting_date=_RULE_DATE, participants=()) else 0.0
    decision = 1.0 if detect_decisions(u) else 0.0
    q = detect_question(u)
    question = 1.0 if q is not None and q.is_question else 0.0
    return action, decision, question


DENSE_NAMES = [
    "bias_len0", "log_words", "short", "long", "same_prev", "same_next", "speakers_window", "speaker_share",
    "log_index", "minutes_10", "minutes_20", "minutes_30", "has_digit_or_number",
    "rule_action", "rule_decision", "rule_question", "rule_action_window", "rule_decision_window",
    "rule_question_prev", "gap_prev", "agree_next", "speakers_next", "commit_words",
]
_NUMBER_HINT_RE = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen|twenty|"
                             r"thirty|forty|fifty|hundred|euros?|pounds?|percent|cents?)\b", re.I)
# A turn that only agrees ("yeah okay", "sounds good"): others taking up a proposal is what makes it a decision.
_AGREE_RE = re.compile(r"^(?:(?:yeah|yes|yep|okay|ok|right|sure|fine|good|great|cool|alright|agreed|mm-hmm|uh-huh|"
                       r"mm|hmm|exactly|definitely|absolutely|sounds good|that's fine|that's good|i agree|"
                       r"go for it|why not)[\s,.!]*)+$", re.I)
_COMMIT_RE = re.compile(r"\b(?:let's|we'll|we will|we're going to|we are going to|go with|decided|agree)\b", re.I)


@lru_cache(maxsize=4096)
def _text_features(speaker: str, text: str) -> tuple[str, list[str], tuple[float, float, float]]:
    """What an utterance's own words give (cleaned text, words, rule hits): the same for every window it is in.
    Cached because the live step reads each line in several consecutive windows. Callers must not mutate."""
    clean = strip_disfluencies(text)
    return clean, _words(clean), _rule_hits(Utterance(speaker=speaker, text=clean or text))


def featurize(utterances: Sequence[Utterance], rows: range | None = None) -> Features:
    """Features of every utterance in spoken order (``rows``: of these indices only; the others are read as
    their context). Only utterances within ±CONTEXT are read for each one, and positions are counted from the
    start (never the end), so a prefix of a meeting gives the same features for all utterances that have
    CONTEXT later ones."""
    n = len(utterances)
    rows = range(n) if rows is None else rows
    own = [_text_features(u.speaker, u.text) for u in utterances]
    clean = [o[0] for o in own]
    words = [o[1] for o in own]
    hits = np.array([o[2] for o in own], dtype=np.float64).reshape(n, 3)
    t0 = utterances[0].start if n else 0.0
    blocks: dict[str, list[list[str]]] = {block: [] for block in BLOCKS}
    dense = np.zeros((len(rows), len(DENSE_NAMES)), dtype=np.float64)
    for row, i in enumerate(rows):
        u = utterances[i]
        lo, hi = max(0, i - CONTEXT), min(n, i + CONTEXT + 1)
        blocks["u"].append(["<s>", *_grams(words[i], "")] if words[i] else ["<empty>"])
        ctx: list[str] = []
        for j in range(lo, hi):
            if j == i:
                continue
            # same / other speaker, before / after: "okay" after someone's proposal is agreement
            who = ("s" if utterances[j].speaker == u.speaker else "o") + ("p" if j < i else "n")
            ctx += _grams(words[j], f"{who}:")
        blocks["ctx"].append(ctx)
        # the whole ±CONTEXT window as one bag, whoever said what: a decision is stated over several turns
        blocks["win"].append([g for j in range(lo, hi) for g in _grams(words[j], "w:")])
        blocks["said"].append(_grams([w for j in range(lo, hi) for w in _said_words(utterances[j].text)], ""))
        speakers = [utterances[j].speaker for j in range(lo, hi)]
        nw = len(words[i])
        minutes = max(0.0, u.start - t0) / 60.0
        gap = u.start - utterances[i - 1].end if i else 0.0
        after = [j for j in range(i + 1, hi) if utterances[j].speaker != u.speaker]
        dense[row] = [
            1.0 if nw == 0 else 0.0,
            math.log1p(nw),
            1.0 if nw <= 3 else 0.0,
            1.0 if nw >= 15 else 0.0,
            1.0 if i and utterances[i - 1].speaker == u.speaker else 0.0,
            1.0 if i + 1 < n and utterances[i + 1].speaker == u.speaker else 0.0,
            len(set(speakers)) / 4.0,
            speakers.count(u.speaker) / len(speakers),
            math.log1p(i) / 7.0,
            1.0 if minutes >= 10 else 0.0,
            1.0 if minutes >= 20 else 0.0,
            1.0 if minutes >= 30 else 0.0,
            1.0 if _NUMBER_HINT_RE.search(clean[i]) else 0.0,
            hits[i, 0],
            hits[i, 1],
            hits[i, 2],
            hits[lo:hi, 0].max(),
            hits[lo:hi, 1].max(),
            hits[i - 1, 2] if i else 0.0,
            min(max(gap, 0.0), 10.0) / 10.0,
            sum(1 for j in after if _AGREE_RE.match(utterances[j].text.strip() or "-")) / 2.0,
            len({utterances[j].speaker for j in after}) / 3.0,
            1.0 if _COMMIT_RE.search(u.text) else 0.0,
        ]
    return Features(blocks=blocks, dense=dense, dense_names=list(DENSE_NAMES))


def block_rows(docs: list[list[str]], vocab: dict[str, int], idf: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sublinear TF-IDF, L2-normalised rows as CSR arrays (indptr, indices, data): numpy only, so the
    training script (through scipy) and inference read exactly the same numbers."""
    indptr = [0]
    indices: list[int] = []
    data: list[float] = []
    for doc in docs:
        counts: dict[int, int] = {}
        for tok in doc:
            k = vocab.get(tok)
            if k is not None:
                counts[k] = counts.get(k, 0) + 1
        if counts:
            keys = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            vals = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))) * idf[keys]
            vals /= np.linalg.norm(vals) or 1.0
            indices.extend(keys.tolist())
            data.extend(vals.tolist())
        indptr.append(len(indices))
    return np.asarray(indptr, dtype=np.int64), np.asarray(indices, dtype=np.int64), np.asarray(data)


def smooth(raw: np.ndarray, weight: float) -> np.ndarray:
    """Blend each raw score with the best raw score of its ±SMOOTH neighbours (a decision spread over turns
    lifts the turns around its clearest statement)."""
    n = len(raw)
    if n == 0 or weight <= 0:
        return raw.copy()
    padded = np.concatenate([np.full(SMOOTH, -np.inf), raw, np.full(SMOOTH, -np.inf)])
    neighbours = np.max(np.stack([padded[SMOOTH + d: SMOOTH + d + n] for d in range(-SMOOTH, SMOOTH + 1) if d]),
                        axis=0)
    return (1 - weight) * raw + weight * np.maximum(neighbours, raw)


def calibration_apply(smoothed: np.ndarray, table: dict) -> np.ndarray:
    """A smoothed score through a calibration table ({"x": [...], "y": [...]}, both non-decreasing)."""
    calibrated = np.interp(smoothed, table["x"], table["y"])
    # Past the table's last point the map would be flat, and every line of a clear stretch would tie, the
    # earliest winning the peak ("Um and uh marketing executive," before the task said to them): rise by at
    # most TOP_RISE there, so the order of the scores stands.
    top = float(table["x"][-1])
    above = smoothed > top
    if np.any(above) and top < 1.0:
        calibrated = np.where(above, calibrated + TOP_RISE * (smoothed - top) / (1.0 - top), calibrated)
    return calibrated


def peaks(scores: np.ndarray, threshold: float, radius: int = CONTEXT) -> list[int]:
    """Indices above ``threshold`` that are the highest within ±radius (one prediction per spoken item)."""
    out = []
    for i in np.argsort(-scores, kind="stable"):
        if scores[i] < threshold:
            break
        if all(abs(int(i) - j) > radius for j in out):
            out.append(int(i))
    return sorted(out)


# ------------------------------------------------------------------ the committed model


@dataclass
class Model:
    vocab: dict[str, dict[str, int]]
    idf: dict[str, np.ndarray]
    coef: dict[str, dict[str, np.ndarray]]  # kind -> block -> weights ("dense" included)
    intercept: dict[str, float]
    dense_mean: np.ndarray
    dense_scale: np.ndarray
    meta: dict

    @cached_property
    def _readers(self) -> dict[str, list[str]]:
        """The kinds whose model reads each block: a block one kind does not read has zero weights (checked once,
        not for every line: the weights are vocabulary-long)."""
        return {block: [k for k in KINDS if self.coef[k][block].any()] for block in self.meta["blocks"]}

    def raw_scores(self, features: Features) -> dict[str, np.ndarray]:
        """Logits per kind."""
        n = features.dense.shape[0]
        out = {k: np.full(n, self.intercept[k]) for k in KINDS}
        for block in self.meta["blocks"]:
            if not self._readers[block]:
                continue
            indptr, indices, data = block_rows(features.blocks[block], self.vocab[block], self.idf[block])
            if not len(indices):
                continue
            rows = np.repeat(np.arange(n), np.diff(indptr))
            for k in self._readers[block]:
                out[k] += np.bincount(rows, weights=data * self.coef[k][block][indices], minlength=n)
        dense = (features.dense - self.dense_mean) / self.dense_scale
        for k in KINDS:
            out[k] += dense @ self.coef[k]["dense"]
        return out

    def calibrated(self, kind: str, logits: np.ndarray) -> np.ndarray:
        prob = 1.0 / (1.0 + np.exp(-logits))
        smoothed = smooth(prob, float(self.meta["smooth_weight"][kind]))
        return calibration_apply(smoothed, self.meta["calibration"][kind])

    def threshold(self, kind: str) -> float:
        return float(self.meta["thresholds"][kind])

    def radius(self, kind: str) -> int:
        # chosen on training folds: ±1 keeps consecutive turns that make separate points (summary recaps)
        return int(self.meta.get("radius", {}).get(kind, CONTEXT))


def save_model(model: Model, directory: Path = WEIGHTS_DIR) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {"dense_mean": model.dense_mean, "dense_scale": model.dense_scale}
    for block, vocab in model.vocab.items():
        terms = sorted(vocab, key=vocab.__getitem__)
        arrays[f"vocab_{block}"] = np.array(terms, dtype=str)
        arrays[f"idf_{block}"] = model.idf[block].astype(np.float32)
        for k in KINDS:
            arrays[f"coef_{k}_{block}"] = model.coef[k][block].astype(np.float32)
    for k in KINDS:
        arrays[f"coef_{k}_dense"] = model.coef[k]["dense"]
        arrays[f"intercept_{k}"] = np.array([model.intercept[k]])
    np.savez_compressed(directory / "detector.npz", **arrays)
    (directory / "detector.json").write_text(json.dumps(model.meta, indent=1, sort_keys=True) + "\n",
                                             encoding="utf-8")


def load_model(directory: Path = WEIGHTS_DIR) -> Model:
    meta = json.loads((directory / "detector.json").read_text(encoding="utf-8"))
    unknown = set(meta["blocks"]) - set(BLOCKS)
    if unknown:
        raise ValueError(f"{directory}: weights for feature blocks {sorted(unknown)} this code does not build")
    with np.load(directory / "detector.npz", allow_pickle=False) as z:
        blocks = meta["blocks"]
        vocab = {b: {t: i for i, t in enumerate(z[f"vocab_{b}"].tolist())} for b in blocks}
        idf = {b: z[f"idf_{b}"].astype(np.float64) for b in blocks}
        coef = {k: {**{b: z[f"coef_{k}_{b}"].astype(np.float64) for b in blocks},
                    "dense": z[f"coef_{k}_dense"].astype(np.float64)} for k in KINDS}
        intercept = {k: float(z[f"intercept_{k}"][0]) for k in KINDS}
        return Model(vocab=vocab, idf=idf, coef=coef, intercept=intercept, dense_mean=z["dense_mean"],
                     dense_scale=z["dense_scale"], meta=meta)


@lru_cache(maxsize=1)
def committed_model() -> Model:
    return load_model()


# ------------------------------------------------------------------ public API


def score_utterances(utterances: Sequence[Utterance], *, model: Model | None = None) -> list[DetectorScore]:
    """Calibrated action / decision probabilities for every utterance of a transcript, in order."""
    if not utterances:
        return []
    model = model or committed_model()
    logits = model.raw_scores(featurize(utterances))
    action = model.calibrated("action", logits["action"])
    decision = model.calibrated("decision", logits["decision"])
    return [DetectorScore(action=round(float(a), 4), decision=round(float(d), 4))
            for a, d in zip(action, decision, strict=True)]


def pick(scores: Sequence[DetectorScore], kind: str, *, model: Model | None = None) -> list[int]:
    """The utterances the committed threshold predicts for ``kind`` ("action" | "decision"), one per spoken
    item (the highest-scoring utterance within the model's radius, ±1 or ±2 turns)."""
    model = model or committed_model()
    values = np.array([s.get(kind) for s in scores], dtype=np.float64)
    return peaks(values, model.threshold(kind), model.radius(kind))


def score_live(history: Sequence[Utterance], *, final: bool = False, model: Model | None = None
               ) -> list[tuple[int, DetectorScore]]:
    """For the live pipeline, called after each final utterance with the meeting so far: [(index, score)] of
    the utterance that just became decidable (the one LIVE_DELAY utterances back), or with ``final=True`` of
    every utterance not yet decided. Only the last few utterances are featurised, so a call costs the same at
    minute 1 and minute 90, and the score equals ``score_utterances(history_at_the_end)[index]``.
    """
    n = len(history)
    first = max(0, n - LIVE_DELAY) if final else n - 1 - LIVE_DELAY
    if first < 0 or n == 0:
        return []
    last = n - 1 if final else first
    lo = max(0, first - CONTEXT - SMOOTH)
    # Only the scored utterances and the ±SMOOTH neighbours their smoothing reads are featurised and scored;
    # the rest of the slice is their context.
    rows = range(max(lo, first - SMOOTH) - lo, min(n, last + SMOOTH + 1) - lo)
    scores = _score_slice(list(history[lo:]), offset=lo, first_start=history[0].start, model=model, rows=rows)
    return [(i, scores[i - lo - rows.start]) for i in range(first, last + 1)]


def _score_slice(window: list[Utterance], *, offset: int, first_start: float, model: Model | None,
                 rows: range) -> list[DetectorScore]:
    """Scores of ``window[i]`` for i in ``rows``; a row's smoothed score is right when its ±SMOOTH neighbours are
    in ``rows`` too, or it is at the meeting's start or end."""
    model = model or committed_model()
    features = featurize(window, rows)
    if offset:  # position features count from the meeting start, not from the slice
        names = features.dense_names
        features.dense[:, names.index("log_index")] = [math.log1p(offset + i) / 7.0 for i in rows]
        minutes = np.array([max(0.0, window[i].start - first_start) / 60.0 for i in rows])
        for name, limit in (("minutes_10", 10), ("minutes_20", 20), ("minutes_30", 30)):
            features.dense[:, names.index(name)] = (minutes >= limit).astype(np.float64)
    logits = model.raw_scores(features)
    action = model.calibrated("action", logits["action"])
    decision = model.calibrated("decision", logits["decision"])
    return [DetectorScore(action=round(float(a), 4), decision=round(float(d), 4))
            for a, d in zip(action, decision, strict=True)]
