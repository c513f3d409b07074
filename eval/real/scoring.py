"""The scoring rules of the data sets' README, in one place for the product and every baseline."""

from __future__ import annotations

from dataclasses import dataclass

from eval.real.data import AmiMeeting

WINDOW = 2  # ±2 utterances: people state one decision over several turns


@dataclass
class PRF:
    precision: float
    recall: float
    f1: float
    predicted: int
    gold: int

    def row(self) -> str:
        return (f"P {self.precision:.3f}  R {self.recall:.3f}  F1 {self.f1:.3f}  "
                f"({self.predicted} predicted, {self.gold} gold)")


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def utterance_prf(meetings: list[AmiMeeting], predicted: dict[str, set[str]], kind: str) -> PRF:
    """Precision: a predicted utterance is right when a gold-labelled utterance of ``kind`` lies within
    ±2 utterances. Sentence recall: share of gold sentences of ``kind`` with a linked utterance within ±2
    of a prediction. ``predicted`` maps meeting -> predicted utterance ids."""
    right = total = hit_sentences = gold_sentences = 0
    for m in meetings:
        index = {u.id: i for i, u in enumerate(m.utterances)}
        labelled = [i for i, u in enumerate(m.utterances) if kind in u.labels]
        preds = sorted(index[p] for p in predicted.get(m.meeting, set()) if p in index)
        total += len(preds)
        right += sum(1 for p in preds if any(abs(p - g) <= WINDOW for g in labelled))
        for sentence in m.gold:
            if sentence.kind != kind:
                continue
            gold_sentences += 1
            linked = [index[u] for u in sentence.utterances if u in index]
            if any(abs(p - g) <= WINDOW for p in preds for g in linked):
                hit_sentences += 1
    precision = right / total if total else 0.0
    recall = hit_sentences / gold_sentences if gold_sentences else 0.0
    return PRF(precision, recall, _f1(precision, recall), total, gold_sentences)
