"""When two phrasings are the same action item or decision (fuzzy, beyond the exact dedupe key)."""

from __future__ import annotations

from meetings.analysis.text import token_f1

# Content-token F1 (stemmed, stopwords dropped). Paraphrases of one task score 0.85-0.9
# ("send the pricing proposal to Morgan" / "Dana sends Morgan the pricing proposal"); different
# tasks that share words stay at or below 0.67 ("prepare the migration plan" / "review the
# migration plan", "email the contract to legal" / "... to finance").
FUZZY_THRESHOLD = 0.75


def similarity(a: str, b: str) -> float:
    return token_f1(a, b)


def same_item(a: str, b: str, *, key_a: str = "", key_b: str = "", threshold: float = FUZZY_THRESHOLD) -> bool:
    return bool(key_a and key_a == key_b) or similarity(a, b) >= threshold
