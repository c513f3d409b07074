"""Local meeting analysis: pure functions over plain dataclasses, shared by the live and after-meeting pipelines.

No Django, no network, no model downloads. See docs/analysis.md for the rules and measured quality.
"""

from .dates import resolve_due_date
from .detectors import detect_action_items, detect_decision, detect_decisions, detect_question
from .disfluency import readable, strip_disfluencies
from .items import extract_items, live_items
from .keyphrases import keyphrases
from .learned import DetectorScore, pick, score_live, score_utterances
from .numbers import check_claim_against_passage, extract_numeric_claims, parse_spoken_number
from .sentiment import sentiment_score
from .stats import infer_speaker_roles, talk_time_stats
from .summarize import extractive_summary, segment_topics
from .text import descriptions_match, normalize_key
from .transcript import analyze_transcript
from .types import (
    ActionItemCandidate,
    ClaimCheck,
    DecisionCandidate,
    NumericClaim,
    QuestionCandidate,
    TalkStats,
    TranscriptAnalysis,
    TranscriptQuestion,
    Utterance,
)

__all__ = [
    "ActionItemCandidate",
    "ClaimCheck",
    "DecisionCandidate",
    "DetectorScore",
    "NumericClaim",
    "QuestionCandidate",
    "TalkStats",
    "TranscriptAnalysis",
    "TranscriptQuestion",
    "Utterance",
    "analyze_transcript",
    "check_claim_against_passage",
    "descriptions_match",
    "detect_action_items",
    "detect_decision",
    "detect_decisions",
    "detect_question",
    "extract_items",
    "extract_numeric_claims",
    "extractive_summary",
    "infer_speaker_roles",
    "keyphrases",
    "live_items",
    "normalize_key",
    "parse_spoken_number",
    "pick",
    "readable",
    "resolve_due_date",
    "score_live",
    "score_utterances",
    "segment_topics",
    "sentiment_score",
    "strip_disfluencies",
    "talk_time_stats",
]
