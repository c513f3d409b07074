"""Reference detectors for action items and decisions, scored beside the product's in the same run.

* keyword: an utterance with a trigger word or phrase;
* rules: the product's previous rule detectors (``detect_action_items`` / ``detect_decisions``) per utterance;
* tfidf: TF-IDF logistic regression over the utterance and its two neighbours on each side, threshold chosen
  on out-of-fold scores of the training meetings (the same protocol as the learned detector).
"""

from __future__ import annotations

import re
from datetime import date

import numpy as np

from eval.real.data import AmiMeeting, folds
from eval.real.scoring import utterance_prf
from meetings.analysis.detectors import detect_action_items, detect_decisions
from meetings.analysis.learned import peaks
from meetings.analysis.types import Utterance

KEYWORDS = {
    "action": re.compile(r"\b(?:will|i'll|you'll|we'll|going to|gonna|need to|have to|should|next meeting|"
                         r"task|action|homework|responsible|your job|make sure)\b", re.I),
    "decision": re.compile(r"\b(?:decided|decide|decision|agreed|agree|settled|let's go with|go with|we'll use|"
                           r"we will use|final|definitely|so we have)\b", re.I),
}


def keyword(meetings: list[AmiMeeting], kind: str) -> dict[str, set[str]]:
    return {m.meeting: {u.id for u in m.utterances if KEYWORDS[kind].search(u.text)} for m in meetings}


def rules(meetings: list[AmiMeeting], kind: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for m in meetings:
        hits = set()
        for u in m.utterances:
            utt = Utterance(speaker=u.speaker, text=u.text, start=u.start, end=u.end)
            found = (detect_action_items(utt, meeting_date=date(2000, 1, 3)) if kind == "action"
                     else detect_decisions(utt))
            if found:
                hits.add(u.id)
        out[m.meeting] = hits
    return out


def _window_texts(m: AmiMeeting) -> list[str]:
    texts = [u.text for u in m.utterances]
    return [" ".join(texts[max(0, i - 2): i + 3]) for i in range(len(texts))]


def _fit_tfidf(train: list[AmiMeeting], kind: str):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    x = vec.fit_transform([t for m in train for t in _window_texts(m)])
    y = np.array([kind in u.labels for m in train for u in m.utterances], dtype=np.int8)
    clf = LogisticRegression(C=1.0, class_weight="balanced", solver="liblinear", max_iter=500, random_state=13)
    clf.fit(x, y)
    return lambda m: clf.predict_proba(vec.transform(_window_texts(m)))[:, 1]


def _best_threshold(meetings: list[AmiMeeting], scores: dict[str, np.ndarray], kind: str) -> float:
    values = np.concatenate(list(scores.values()))
    best = (-1.0, 0.5)
    for q in np.linspace(0.90, 0.999, 40):
        threshold = float(np.quantile(values, q))
        pred = {m.meeting: {m.utterances[i].id for i in peaks(scores[m.meeting], threshold)} for m in meetings}
        f1 = utterance_prf(meetings, pred, kind).f1
        if f1 > best[0]:
            best = (f1, threshold)
    return best[1]


def tfidf(train: list[AmiMeeting], test: list[AmiMeeting], kind: str) -> dict[str, set[str]]:
    """Predictions on ``test`` of a model fitted on ``train``; threshold from inner series folds of ``train``."""
    oof: dict[str, np.ndarray] = {}
    for inner_train, inner_test in folds(train, 4):
        score = _fit_tfidf(inner_train, kind)
        oof.update({m.meeting: score(m) for m in inner_test})
    threshold = _best_threshold(train, oof, kind)
    score = _fit_tfidf(train, kind)
    return {m.meeting: {m.utterances[i].id for i in peaks(score(m), threshold)} for m in test}
