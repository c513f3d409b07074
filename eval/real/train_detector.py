"""Rebuild the committed action-item / decision detector weights from the AMI ES dev meetings.

    python -m eval.real.train_detector            # writes meetings/analysis/weights/detector.{npz,json}
    python -m eval.real.train_detector --check    # trains, prints the figures, writes nothing

Reproducible: no randomness beyond fixed seeds (the solver is deterministic), folds by meeting series.
The thresholds, smoothing weights, peak radii and calibration tables come from out-of-fold scores (4 series folds),
never from scores of meetings a model was trained on. Data credit: AMI Meeting Corpus, University of
Edinburgh / IDIAP / TNO et al., CC BY 4.0.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

import itertools

import numpy as np

from eval.real.data import AmiMeeting, ami_meetings, folds
from eval.real.scoring import utterance_prf
from meetings.analysis import learned
from meetings.analysis.learned import DENSE_NAMES, KINDS, Features, Model, block_rows, featurize, peaks, smooth
from meetings.analysis.types import Utterance

CREDIT = "AMI Meeting Corpus, University of Edinburgh / IDIAP / TNO et al., CC BY 4.0"
SEED = 13
# Character 3-5 grams were measured too and left out: out-of-fold F1 0.643 / 0.284 with them, 0.672 / 0.288
# without (action / decision), at twice the training time and weights size.
MIN_DF = {"u": 2, "ctx": 3, "win": 3, "said": 2}
# The sparse blocks each kind's model reads (the other blocks get zero weights). The decision model reads the
# utterance, its tagged neighbours and the ±2 window as one bag of cleaned words ("win"): nested 5-fold decision
# F1 0.303 with "win", 0.292 without; adding the window as said ("said") gave 0.305 and was left out. The action
# model reads the utterance, its tagged neighbours and the ±2 window as said ("said": fillers kept, word pairs
# across turns). Out-of-fold action F1 (thresholds chosen on the scored folds, for comparing only;
# docs/analysis.md has the nested figures): 0.661 without "said", 0.686 with it, 0.709 with "said" alone. "said"
# alone scores the five lines of a window nearly alike, so the item lands on whichever line of the window ties
# highest ("so you know what you're doing there" instead of the task before it); the utterance's own words
# say which line it is.
KIND_BLOCKS = {"action": ("u", "ctx", "said"), "decision": ("u", "ctx", "win")}
C = {"action": 1.0, "decision": 0.5}
CLASS_WEIGHT = {"action": 20.0, "decision": 4.0}
SMOOTH_WEIGHTS = (0.0, 0.25, 0.5)
# Peak radius searched on inner folds: one prediction per ±2 turns, or ±1 (decisions are often several
# summary points stated in consecutive turns).
RADII = (1, 2)
# Training labels widened to the ±k turns around a gold utterance: a decision is stated over several turns
# and the annotators link only some of them (scoring keeps the data sets' rules).
WIDEN = {"action": 0, "decision": 1}
# Inner series folds for the threshold, smoothing and calibration (as the TF-IDF reference).
INNER_FOLDS = 4
# Meetings whose figures are recorded in the JSON so a test can check the committed weights reproduce them.
CHECK_MEETINGS = ("ES2002a", "ES2002b", "ES2008c", "ES2016d")


def to_utterances(meeting: AmiMeeting) -> list[Utterance]:
    return [Utterance(speaker=u.speaker, text=u.text, start=u.start, end=u.end) for u in meeting.utterances]


@dataclass
class Prepared:
    meeting: AmiMeeting
    features: Features
    labels: dict[str, np.ndarray]


def prepare(meetings: list[AmiMeeting]) -> list[Prepared]:
    out = []
    for m in meetings:
        out.append(Prepared(meeting=m, features=featurize(to_utterances(m)),
                            labels={k: np.array([k in u.labels for u in m.utterances], dtype=np.int8)
                                    for k in KINDS}))
    return out


def widened(labels: np.ndarray, k: int) -> np.ndarray:
    """Labels with the ±k neighbours of every positive utterance set too (training targets only)."""
    out = labels.astype(bool)
    for d in range(1, k + 1):
        out[d:] |= labels[:-d].astype(bool)
        out[:-d] |= labels[d:].astype(bool)
    return out.astype(np.int8)


def _vocab(docs: list[list[str]], min_df: int) -> tuple[dict[str, int], np.ndarray]:
    df: dict[str, int] = {}
    for doc in docs:
        for tok in set(doc):
            df[tok] = df.get(tok, 0) + 1
    terms = sorted(t for t, c in df.items() if c >= min_df)
    n = len(docs)
    idf = np.array([np.log((1 + n) / (1 + df[t])) + 1.0 for t in terms])
    return {t: i for i, t in enumerate(terms)}, idf


def _matrix(prepared: list[Prepared], model: Model):
    from scipy import sparse

    parts = []
    for block in model.meta["blocks"]:
        docs = [d for p in prepared for d in p.features.blocks[block]]
        indptr, indices, data = block_rows(docs, model.vocab[block], model.idf[block])
        parts.append(sparse.csr_matrix((data, indices, indptr), shape=(len(docs), len(model.vocab[block]))))
    dense = np.vstack([p.features.dense for p in prepared])
    parts.append(sparse.csr_matrix((dense - model.dense_mean) / model.dense_scale))
    return sparse.hstack(parts).tocsr()


def fit(prepared: list[Prepared]) -> Model:
    """Vocabularies, IDF and the two logistic regressions from the given meetings (no thresholds yet)."""
    from sklearn.linear_model import LogisticRegression

    blocks = list(MIN_DF)
    vocab, idf = {}, {}
    for block in blocks:
        vocab[block], idf[block] = _vocab([d for p in prepared for d in p.features.blocks[block]], MIN_DF[block])
    dense = np.vstack([p.features.dense for p in prepared])
    mean, scale = dense.mean(axis=0), dense.std(axis=0)
    scale[scale < 1e-9] = 1.0
    model = Model(vocab=vocab, idf=idf, coef={}, intercept={}, dense_mean=mean, dense_scale=scale,
                  meta={"blocks": blocks})
    x = _matrix(prepared, model)
    offsets, start = {}, 0
    for block in blocks:
        offsets[block] = (start, start + len(vocab[block]))
        start += len(vocab[block])
    offsets["dense"] = (start, start + len(DENSE_NAMES))
    for kind in KINDS:
        read = [*(b for b in blocks if b in KIND_BLOCKS[kind]), "dense"]  # the order the weights are read back in
        columns = np.concatenate([np.arange(*offsets[b]) for b in read])
        y = np.concatenate([widened(p.labels[kind], WIDEN[kind]) for p in prepared])
        clf = LogisticRegression(C=C[kind], class_weight={0: 1.0, 1: CLASS_WEIGHT[kind]}, solver="liblinear",
                                 max_iter=500, random_state=SEED)
        clf.fit(x[:, columns], y)
        w, coef, at = clf.coef_[0], {}, 0
        for block in [*blocks, "dense"]:
            size = offsets[block][1] - offsets[block][0]
            if block in read:
                coef[block] = w[at:at + size]
                at += size
            else:
                coef[block] = np.zeros(size)
        model.coef[kind] = coef
        model.intercept[kind] = float(clf.intercept_[0])
    return model


def raw_probs(model: Model, prepared: list[Prepared]) -> dict[str, dict[str, np.ndarray]]:
    """meeting -> kind -> unsmoothed probability."""
    out = {}
    for p in prepared:
        logits = model.raw_scores(p.features)
        out[p.meeting.meeting] = {k: 1.0 / (1.0 + np.exp(-logits[k])) for k in KINDS}
    return out


def series_folds(prepared: list[Prepared], k: int = 5) -> list[tuple[list[Prepared], list[Prepared]]]:
    by_name = {p.meeting.meeting: p for p in prepared}
    return [([by_name[m.meeting] for m in train], [by_name[m.meeting] for m in test])
            for train, test in folds([p.meeting for p in prepared], k)]


def out_of_fold(prepared: list[Prepared], k: int = 5) -> dict[str, dict[str, np.ndarray]]:
    """Raw probabilities of every meeting from a model that never saw its series."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for train, test in series_folds(prepared, k):
        out.update(raw_probs(fit(train), test))
    return out


def predictions(meetings: list[AmiMeeting], scores: dict[str, np.ndarray], threshold: float, radius: int
                ) -> dict[str, set[str]]:
    return {m.meeting: {m.utterances[i].id for i in peaks(scores[m.meeting], threshold, radius)} for m in meetings}


def choose(meetings: list[AmiMeeting], probs: dict[str, dict[str, np.ndarray]], kind: str) -> dict:
    """Smoothing weight, peak radius, threshold and calibration table for ``kind`` from out-of-fold
    probabilities."""
    best = None
    for weight, radius in itertools.product(SMOOTH_WEIGHTS, RADII):
        smoothed = {m.meeting: smooth(probs[m.meeting][kind], weight) for m in meetings}
        values = np.concatenate(list(smoothed.values()))
        for q in np.linspace(0.90, 0.999, 60):
            threshold = float(np.quantile(values, q))
            prf = utterance_prf(meetings, predictions(meetings, smoothed, threshold, radius), kind)
            if best is None or prf.f1 > best[0]:
                best = (prf.f1, weight, radius, threshold, smoothed)
    _, weight, radius, threshold, smoothed = best
    calibration = reliability_map(meetings, smoothed, kind)
    # the threshold lives on the calibrated scale so callers compare probabilities
    return {"smooth_weight": weight, "radius": radius,
            "threshold": float(learned.calibration_apply(np.asarray(threshold), calibration)),
            "calibration": calibration, "train_f1": round(best[0], 4)}


def _near_gold(meeting: AmiMeeting, kind: str) -> np.ndarray:
    labelled = np.array([kind in u.labels for u in meeting.utterances])
    near = labelled.copy()
    for d in range(1, 3):
        near[d:] |= labelled[:-d]
        near[:-d] |= labelled[d:]
    return near


def reliability_map(meetings: list[AmiMeeting], scores: dict[str, np.ndarray], kind: str, bins: int = 12) -> dict:
    """Monotone map from a smoothed score to the observed precision (a gold utterance of ``kind`` within ±2),
    by quantile bins over the upper tail, made non-decreasing (pool adjacent violators)."""
    s = np.concatenate([scores[m.meeting] for m in meetings])
    y = np.concatenate([_near_gold(m, kind) for m in meetings]).astype(np.float64)
    edges = np.unique(np.quantile(s, [0, 0.5, 0.8, 0.9, 0.95, *np.linspace(0.97, 1.0, bins - 4)]))
    xs, ys, ws = [], [], []
    for lo, hi in itertools.pairwise(edges):
        sel = (s >= lo) & ((s < hi) | (hi == edges[-1]))
        if sel.sum():
            xs.append(float(s[sel].mean()))
            ys.append(float(y[sel].mean()))
            ws.append(float(sel.sum()))
    # pool adjacent violators
    blocks = [[x, yv, w] for x, yv, w in zip(xs, ys, ws, strict=True)]
    merged: list[list[float]] = []
    for b in blocks:
        merged.append(b)
        while len(merged) > 1 and merged[-2][1] > merged[-1][1]:
            b2, b1 = merged.pop(), merged.pop()
            w = b1[2] + b2[2]
            merged.append([(b1[0] * b1[2] + b2[0] * b2[2]) / w, (b1[1] * b1[2] + b2[1] * b2[2]) / w, w])
    return {"x": [round(b[0], 6) for b in merged], "y": [round(b[1], 6) for b in merged]}


def calibrate(model: Model, meetings: list[AmiMeeting], oof: dict[str, dict[str, np.ndarray]]) -> Model:
    model.meta.setdefault("smooth_weight", {})
    model.meta.setdefault("thresholds", {})
    model.meta.setdefault("calibration", {})
    model.meta.setdefault("train_oof_f1", {})
    model.meta.setdefault("radius", {})
    for kind in KINDS:
        chosen = choose(meetings, oof, kind)
        model.meta["smooth_weight"][kind] = chosen["smooth_weight"]
        model.meta["radius"][kind] = chosen["radius"]
        model.meta["thresholds"][kind] = chosen["threshold"]
        model.meta["calibration"][kind] = chosen["calibration"]
        model.meta["train_oof_f1"][kind] = chosen["train_f1"]
    return model


def train_calibrated(prepared: list[Prepared], inner_k: int = INNER_FOLDS) -> Model:
    """A model on ``prepared`` with thresholds/calibration from inner out-of-fold scores on the same meetings."""
    oof = out_of_fold(prepared, inner_k)
    return calibrate(fit(prepared), [p.meeting for p in prepared], oof)


def score(model: Model, test: list[Prepared], preds: dict[str, dict[str, set[str]]],
          scores: dict[str, dict[str, np.ndarray]] | None = None) -> None:
    """``model``'s predicted utterance ids (and calibrated scores) for the ``test`` meetings, added per kind."""
    for p in test:
        logits = model.raw_scores(p.features)
        for k in KINDS:
            s = model.calibrated(k, logits[k])
            if scores is not None:
                scores[k][p.meeting.meeting] = s
            preds[k][p.meeting.meeting] = {p.meeting.utterances[i].id
                                           for i in peaks(s, model.threshold(k), model.radius(k))}


def evaluate(prepared: list[Prepared], inner_k: int = INNER_FOLDS, *,
             also: Callable[[Model, list[Prepared]], None] | None = None,
             ) -> tuple[dict[str, dict[str, set[str]]], dict[str, dict[str, np.ndarray]]]:
    """Outer 5 series folds: per kind, meeting -> predicted utterance ids, and meeting -> calibrated scores.

    ``also(model, test)`` is called with each fold's model and test meetings (to score other versions of them).
    """
    preds: dict[str, dict[str, set[str]]] = {k: {} for k in KINDS}
    scores: dict[str, dict[str, np.ndarray]] = {k: {} for k in KINDS}
    for fold, (train, test) in enumerate(series_folds(prepared)):
        started = time.monotonic()
        model = train_calibrated(train, inner_k)
        score(model, test, preds, scores)
        if also is not None:
            also(model, test)
        print(f"  fold {fold}: {len(train)} train / {len(test)} test meetings, {time.monotonic() - started:.0f} s",
              file=sys.stderr, flush=True)
    return preds, scores


def build(meetings: list[AmiMeeting] | None = None, *, dev_figures: dict | None = None) -> Model:
    meetings = meetings if meetings is not None else ami_meetings()
    prepared = prepare(meetings)
    model = train_calibrated(prepared)
    model.meta.update({
        "credit": CREDIT,
        "data": "AMI ES dev: 60 meetings (ami-es-dev.json), labels from the 'actions'/'decisions' summary links",
        "features": {"context": learned.CONTEXT, "smooth": learned.SMOOTH, "min_df": MIN_DF,
                     "kind_blocks": {k: list(v) for k, v in KIND_BLOCKS.items()}, "dense": list(DENSE_NAMES)},
        "training": {"C": C, "class_weight": CLASS_WEIGHT, "seed": SEED, "solver": "liblinear",
                     "label_widening": WIDEN, "inner_folds": INNER_FOLDS},
        "version": 3,
    })
    if dev_figures:
        model.meta["dev_figures"] = dev_figures
    # figures of the committed weights on a few meetings, for the reproduction test
    check = [p for p in prepared if p.meeting.meeting in CHECK_MEETINGS]
    preds: dict[str, dict[str, set[str]]] = {k: {} for k in KINDS}
    score(model, check, preds)
    recorded = {}
    for kind in KINDS:
        prf = utterance_prf([p.meeting for p in check], preds[kind], kind)
        recorded[kind] = {"precision": round(prf.precision, 4), "recall": round(prf.recall, 4),
                          "f1": round(prf.f1, 4), "predicted": prf.predicted}
    model.meta["check_meetings"] = {"meetings": list(CHECK_MEETINGS), "figures": recorded}
    return model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="train and print, do not write the weights")
    parser.add_argument("--no-eval", action="store_true", help="skip the 5-fold dev figures (faster)")
    args = parser.parse_args(argv)
    np.random.seed(SEED)
    meetings = ami_meetings()
    dev = None
    if not args.no_eval:
        preds, _ = evaluate(prepare(meetings))
        dev = {}
        for kind in KINDS:
            prf = utterance_prf(meetings, preds[kind], kind)
            dev[kind] = {"precision": round(prf.precision, 4), "recall": round(prf.recall, 4), "f1": round(prf.f1, 4)}
            print(f"dev {kind}: {prf.row()}")
    model = build(meetings, dev_figures=dev)
    print("thresholds", model.meta["thresholds"], "smoothing", model.meta["smooth_weight"])
    if not args.check:
        learned.save_model(model)
        size = sum(f.stat().st_size for f in learned.WEIGHTS_DIR.iterdir())
        print(f"wrote {learned.WEIGHTS_DIR} ({size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
