"""Action items and decisions on real meetings (AMI ES dev, 5 meeting-series folds).

    python -m eval.real.actions

For each kind: precision / sentence recall / F1 (scoring rules in eval/real/scoring.py) of a keyword
baseline, the old rule detectors, a TF-IDF logistic regression reference and the product's learned detector
(``meetings.analysis.learned``), each learned model trained on the training folds with its threshold and
calibration chosen on inner folds of those training meetings only. Then a reliability table of the learned
detector's out-of-fold calibrated scores. Data credit: AMI Meeting Corpus, University of Edinburgh / IDIAP /
TNO et al., CC BY 4.0.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

import itertools

import numpy as np

from eval.real import baselines
from eval.real.data import AmiMeeting, DataMissing, ami_meetings, caption_like, folds
from eval.real.scoring import utterance_prf
from eval.real.train_detector import KINDS, _near_gold, evaluate, prepare, score

BINS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0001)


def reliability(meetings: list[AmiMeeting], scores: dict[str, np.ndarray], kind: str) -> list[str]:
    s = np.concatenate([scores[m.meeting] for m in meetings])
    y = np.concatenate([_near_gold(m, kind) for m in meetings])
    lines = [f"  {'predicted prob':<16}{'utterances':>11}{'mean predicted':>16}{'observed precision':>20}"]
    for lo, hi in itertools.pairwise(BINS):
        sel = (s >= lo) & (s < hi)
        if not sel.any():
            continue
        lines.append(f"  {f'[{lo:.2f}, {min(hi, 1.0):.2f})':<16}{int(sel.sum()):>11}{s[sel].mean():>16.3f}"
                     f"{y[sel].mean():>20.3f}")
    return lines


def scoring_time(meetings: list[AmiMeeting], n: int = 2000) -> str:
    """Wall time of the committed detector on the first ``n`` utterances of the data (about a 2-hour meeting)."""
    from eval.real.train_detector import to_utterances
    from meetings.analysis.learned import committed_model, score_utterances

    utterances = [u for m in meetings for u in to_utterances(m)][:n]
    committed_model()  # loading the weights is a one-off per process, not per meeting
    started = time.perf_counter()
    score_utterances(utterances)
    return f"\nscoring {len(utterances)} utterances with the committed weights: {time.perf_counter() - started:.2f} s"


def run(args=None) -> str:
    started = time.monotonic()
    meetings = ami_meetings()
    splits = folds(meetings)
    rows: dict[str, dict[str, dict[str, set[str]]]] = {k: {"keyword": {}, "rules": {}, "tfidf": {}} for k in KINDS}
    for kind in KINDS:
        rows[kind]["keyword"] = baselines.keyword(meetings, kind)
        rows[kind]["rules"] = baselines.rules(meetings, kind)
        for train, test in splits:
            rows[kind]["tfidf"].update(baselines.tfidf(train, test, kind))
    # The same fold models also score the test meetings without fillers, marks or stutters (what captions drop).
    captions = {m.meeting: caption_like(m) for m in meetings}
    caption_preds: dict[str, dict[str, set[str]]] = {k: {} for k in KINDS}
    learned_preds, learned_scores = evaluate(
        prepare(meetings),
        also=lambda model, test: score(model, prepare([captions[p.meeting.meeting] for p in test]), caption_preds),
    )
    out = [f"AMI ES dev: {len(meetings)} meetings, {sum(len(m.utterances) for m in meetings)} utterances, "
           f"5 meeting-series folds (AMI Meeting Corpus, University of Edinburgh / IDIAP / TNO et al., CC BY 4.0)"]
    names = {"keyword": "keyword baseline", "rules": "rule detectors (old)", "tfidf": "TF-IDF LR ±2 (reference)",
             "learned": "learned detector (product)"}
    for kind in KINDS:
        rows[kind]["learned"] = learned_preds[kind]
        out.append(f"\n{kind}")
        for name, label in names.items():
            prf = utterance_prf(meetings, rows[kind][name], kind)
            out.append(f"  {label:<30}{prf.row()}")
        per_fold = [utterance_prf(test, learned_preds[kind], kind).f1 for _, test in splits]
        out.append(f"  learned F1 by fold: {' '.join(f'{f:.3f}' for f in per_fold)}")
        as_captions = list(captions.values())
        out.append("  without fillers, transcription marks and stutters (what captions drop):")
        for label, predicted in (("keyword baseline", baselines.keyword(as_captions, kind)),
                                 ("learned detector (product)", caption_preds[kind])):
            out.append(f"    {label:<28}{utterance_prf(as_captions, predicted, kind).row()}")
    for kind in KINDS:
        out.append(f"\nreliability of the learned {kind} scores (out-of-fold; observed precision = a gold {kind} "
                   f"utterance within ±2)")
        out += reliability(meetings, learned_scores[kind], kind)
    out.append(f"\n({time.monotonic() - started:.0f} s)")
    return "\n".join(out)


def main() -> int:
    try:
        print(run(), flush=True)
        print(scoring_time(ami_meetings()))
    except DataMissing as exc:
        print(str(exc))
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
