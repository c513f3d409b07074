"""Quality measures for speech output: word error rate and diarization error rate."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

_NUMBERS = {"zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
            "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "percent": "%"}


def normalise_words(text: str) -> list[str]:
    """Lower case, no punctuation, number words as digits ("twelve percent" == "12%")."""
    text = text.lower().replace("’", "'").replace("%", " percent ")
    text = re.sub(r"[^\w\s']", " ", text).replace("'", "")
    return [_NUMBERS.get(w, w) for w in text.split()]


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words, by edit distance."""
    ref, hyp = normalise_words(reference), normalise_words(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        current = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h))
        previous = current
    return previous[-1] / len(ref)


Span = tuple[float, float, str]


def _idx(value: float) -> int:
    return int(np.rint(value))  # (start, end, speaker)


def diarization_error_rate(reference: Sequence[Span], hypothesis: Sequence[Span], *, collar: float = 0.25,
                           step: float = 0.01) -> float:
    """DER = (missed speech + false alarm + speaker confusion) / scored reference speech.

    Scored on a 10 ms grid; ``collar`` seconds either side of every reference boundary are not
    scored (the usual 0.25 s). Hypothesis speakers are mapped to reference speakers one-to-one
    by the assignment that maximises overlap (Hungarian algorithm), as in NIST md-eval.
    """
    from scipy.optimize import linear_sum_assignment

    if not reference:
        return 0.0
    end = max([e for _, e, _ in reference] + [e for _, e, _ in hypothesis] + [0.0])
    n = int(np.ceil(end / step)) + 1
    ref_names = sorted({s for _, _, s in reference})
    hyp_names = sorted({s for _, _, s in hypothesis})
    ref = np.zeros((len(ref_names), n), dtype=bool)
    hyp = np.zeros((max(len(hyp_names), 1), n), dtype=bool)
    scored = np.ones(n, dtype=bool)
    for start, stop, speaker in reference:
        ref[ref_names.index(speaker), _idx(start / step) : _idx(stop / step)] = True
        for edge in (start, stop):
            scored[max(0, _idx((edge - collar) / step)) : _idx((edge + collar) / step)] = False
    for start, stop, speaker in hypothesis:
        hyp[hyp_names.index(speaker), _idx(start / step) : _idx(stop / step)] = True
    ref, hyp = ref[:, scored], hyp[:, scored]
    overlap = (ref[:, None, :] & hyp[None, :, :]).sum(-1)
    rows, cols = linear_sum_assignment(-overlap)
    n_ref, n_hyp = ref.sum(0), hyp.sum(0)
    total = n_ref.sum()
    if total == 0:
        return 0.0
    # Per frame: errors = max(n_ref, n_hyp) - correctly mapped speakers (md-eval's frame formula).
    correct = np.zeros(ref.shape[1], dtype=int)
    for r, c in zip(rows, cols, strict=True):
        correct += ref[r] & hyp[c]
    errors = np.maximum(n_ref, n_hyp) - correct
    return float(errors.sum() / total)
