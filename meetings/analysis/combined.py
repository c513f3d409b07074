"""What the product reports as action items and decisions: the learned detector, plus the rules' explicit
commitments as low-confidence suggestions.

The learned detector (``learned``/``items``) is what holds on real, disfluent meetings; its scores are
calibrated probabilities and decide on their own what is a finding. The rule detectors are precise on clean,
explicit speech ("Priya, can you send the SOC 2 report by Friday?") but on real meetings most of what they fire
on is not an agreed task. So an item only the rules found is kept with the confidence such rule hits earn on
real meetings (measured on AMI ES dev: about 0.07 for action items, 0.16 for decisions), which puts it under
any sensible confirmation threshold: people see it as a suggestion to confirm, not as a fact.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date

from .items import extract_items, live_items
from .learned import DetectorScore
from .text import token_f1
from .types import ActionItemCandidate, DecisionCandidate, Utterance

# Precision of the rule detectors' hits on AMI ES dev (utterance within ±2 of a gold one), all meetings.
RULE_ACTION_CONFIDENCE = 0.07
RULE_DECISION_CONFIDENCE = 0.16
_SAME_TEXT = 0.6


def _covered(candidate, found: Sequence, text_of) -> bool:
    for other in found:
        if candidate.dedupe_key == other.dedupe_key:
            return True
        if candidate.segment_id is not None and candidate.segment_id == other.segment_id:
            return True
        if token_f1(text_of(candidate), text_of(other)) >= _SAME_TEXT:
            return True
    return False


def _rule_extras(candidates: Sequence, found: Sequence, *, text_of, cap: float) -> list:
    out: list = []
    for c in candidates:
        if not _covered(c, [*found, *out], text_of):
            out.append(dataclasses.replace(c, confidence=min(c.confidence, cap)))
    return out


def rule_action_items(candidates: Sequence[ActionItemCandidate], found: Sequence[ActionItemCandidate]
                      ) -> list[ActionItemCandidate]:
    """Rule-found action items the detector did not find, at the confidence rule hits earn on real meetings."""
    return _rule_extras(candidates, found, text_of=lambda x: x.description, cap=RULE_ACTION_CONFIDENCE)


def rule_decisions(candidates: Sequence[DecisionCandidate], found: Sequence[DecisionCandidate]
                   ) -> list[DecisionCandidate]:
    return _rule_extras(candidates, found, text_of=lambda x: x.text, cap=RULE_DECISION_CONFIDENCE)


def transcript_items(utterances: Sequence[Utterance], *, meeting_date: date, participants: Sequence[str],
                     rule_items: Sequence[ActionItemCandidate], rule_decisions_found: Sequence[DecisionCandidate],
                     ) -> tuple[list[ActionItemCandidate], list[DecisionCandidate]]:
    """A whole transcript: the detector's items first, then the rules' extra ones as suggestions."""
    items, decisions = extract_items(utterances, meeting_date=meeting_date, participants=participants)
    return ([*items, *rule_action_items(rule_items, items)],
            [*decisions, *rule_decisions(rule_decisions_found, decisions)])


def live_detected(history: Sequence[Utterance], scored: Sequence[tuple[int, DetectorScore]], *,
                  meeting_date: date, participants: Sequence[str], rule_items: Sequence[ActionItemCandidate],
                  rule_decisions_found: Sequence[DecisionCandidate],
                  ) -> tuple[list[ActionItemCandidate], list[DecisionCandidate]]:
    """The live counterpart: items of the utterances the detector just decided, plus the rules' findings on the
    newest utterance as suggestions (they appear at once; the detector's answer follows a few turns later)."""
    items, decisions = live_items(history, scored, meeting_date=meeting_date, participants=participants)
    return ([*items, *rule_action_items(rule_items, items)],
            [*decisions, *rule_decisions(rule_decisions_found, decisions)])
