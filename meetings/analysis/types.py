"""Plain data shapes shared by the live and the after-meeting pipelines.

Nothing here imports Django: the detectors run on every final caption and in
batch jobs alike, and both sides turn these candidates into model rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Utterance:
    speaker: str
    text: str
    start: float = 0.0
    end: float = 0.0
    segment_id: int | None = None


@dataclass(frozen=True)
class ActionItemCandidate:
    description: str
    assignee_name: str
    due_date: date | None
    priority: str  # high | medium | low
    confidence: float
    source_text: str
    dedupe_key: str
    # The segment the item was heard in, copied from Utterance.segment_id.
    segment_id: int | None = None
    # Positions in the transcript of the utterances it was drawn from (learned detector; empty for rules).
    source_indices: tuple[int, ...] = ()


@dataclass(frozen=True)
class DecisionCandidate:
    text: str
    confidence: float
    source_text: str
    dedupe_key: str
    segment_id: int | None = None
    source_indices: tuple[int, ...] = ()


@dataclass(frozen=True)
class QuestionCandidate:
    text: str
    asker: str
    is_question: bool
    confidence: float


@dataclass(frozen=True)
class NumericClaim:
    text: str  # the sentence that carries the claim
    metric: str  # normalised keyphrase the number is about, e.g. "q3 revenue"
    value: float
    unit: str  # USD | EUR | GBP | % | count | year | date | x | days | weeks | months | hours | minutes | ...
    raw: str  # the number as said, e.g. "eighteen point seven million dollars"
    span: tuple[int, int]  # character offsets of ``raw`` in ``text``


@dataclass(frozen=True)
class ClaimCheck:
    verdict: str  # correct | incorrect | unverifiable
    claimed_value: str
    corrected_value: str
    confidence: float
    evidence: str


@dataclass
class TalkStats:
    speaker: str
    speaking_seconds: float
    share: float
    turns: int
    longest_monologue_seconds: float
    words: int
    words_per_minute: float
    questions_asked: int


@dataclass(frozen=True)
class TranscriptQuestion:
    """A real question asked in the meeting and whether someone else answered it."""

    text: str
    asker: str
    index: int  # position of the asking utterance in the transcript
    answered: bool
    answered_by: int | None  # index of the answering utterance
    confidence: float


@dataclass
class TranscriptAnalysis:
    action_items: list[ActionItemCandidate] = field(default_factory=list)
    decisions: list[DecisionCandidate] = field(default_factory=list)
    questions: list[TranscriptQuestion] = field(default_factory=list)
    key_points: list[str] = field(default_factory=list)
    short_summary: str = ""
    detailed_summary: str = ""
    topics: list[dict] = field(default_factory=list)
    # {"overall": float, "per_participant": {name: float}, "timeline": [(seconds, score), ...]}
    sentiment: dict = field(default_factory=dict)
    talk_time: list[TalkStats] = field(default_factory=list)
    follow_up_email: str = ""
    numeric_claims: list[NumericClaim] = field(default_factory=list)
    speaker_roles: dict[str, str] = field(default_factory=dict)
