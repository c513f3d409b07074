"""A compact valence lexicon tuned for meeting speech, with negation, intensifiers and "but".

Scores are summed per sentence and squashed into -1..1 the way VADER does (x / sqrt(x^2 + 15)).
"""

from __future__ import annotations

import math
import re

from .text import word_list

# valence from -3 (very negative) to +3 (very positive)
_LEXICON_SPEC = {
    3: "excellent outstanding amazing fantastic thrilled delighted love loved loving awesome wonderful superb "
       "brilliant phenomenal perfect",
    2: "great good glad happy pleased excited impressive impressed strong win wins won success successful "
       "helpful valuable appreciate appreciated thank thanks grateful congrats congratulations nice enjoy enjoyed "
       "solid smooth smoothly confident exciting fun beautiful elegant fast faster improved improvement "
       "improvements benefit benefits recommend happier best better",
    1: "ok okay fine agree agreed agreeable fair interesting useful works working resolved fixed stable "
       "manageable doable easy clear clean reasonable sure yes progress growth grew ahead ready safe safer "
       "protected relief relieved welcome support supported like liked comfortable on-track upside opportunity "
       "promising healthy keen eager cheaper saving savings",
    -1: "concern concerned concerns issue issues slow slower delay delayed delays tight risk risky tricky "
        "unclear confused confusing difficult hard expensive pricey costly missing miss missed late lower low "
        "odd weird doubt doubts unsure hesitant behind blocked blocker blockers bug bugs thin drop dropped "
        "decline declined churn churned downside gap gaps mistake limited lacking lose losing problem problems",
    -2: "bad poor worse worried worry worries worrying frustrated frustrating frustration annoyed annoying "
        "disappointed disappointing disappointment unhappy upset broken fail failed failing failure failures "
        "outage outages crash crashed crashing angry complaint complaints complain complained escalation "
        "escalate escalated painful pain wrong unacceptable lost embarrassing embarrassed sorry apologize "
        "apologies rough struggle struggling struggled timeout timeouts useless stuck incident incidents "
        "breach breached terrible awful hate hated",
    -3: "disaster disastrous horrible catastrophic furious nightmare worst unusable appalling outrageous",
}
LEXICON: dict[str, float] = {w: float(v) for v, ws in _LEXICON_SPEC.items() for w in ws.split()}
# Multi-word expressions checked before single words.
PHRASES: dict[str, float] = {
    "on track": 1.0, "looks good": 2.0, "sounds good": 1.5, "makes sense": 1.0, "well done": 2.5,
    "good job": 2.5, "great job": 3.0, "no problem": 1.0, "no worries": 1.0, "not great": -1.5,
    "not good": -1.5, "not ideal": -1.5, "fell through": -2.0, "pushed back": -1.0, "red flag": -2.0,
    "deal breaker": -2.5, "dealbreaker": -2.5, "went down": -1.5, "too expensive": -2.0, "on us": -1.0,
    "sleep better": 1.5, "made whole": 1.0, "of course": 0.5, "looking forward": 2.0, "can't wait": 2.0,
    "putting it mildly": -1.5, "a miss": -1.5, "went well": 2.0, "goes well": 1.5,
}
NEGATIONS = frozenset(word_list(
    """
    not no never none nobody nothing neither nor without hardly barely isn't aren't wasn't weren't don't doesn't
    didn't won't wouldn't can't cannot couldn't shouldn't haven't hasn't hadn't ain't
    """
))
INTENSIFIERS = {"very": 1.3, "really": 1.3, "extremely": 1.6, "super": 1.4, "so": 1.2, "incredibly": 1.6,
                "absolutely": 1.5, "totally": 1.3, "completely": 1.4, "highly": 1.3, "truly": 1.3, "quite": 1.1,
                "especially": 1.2, "deeply": 1.4, "seriously": 1.4, "pretty": 1.1, "most": 1.2}
DIMINISHERS = {"slightly": 0.6, "somewhat": 0.7, "bit": 0.6, "little": 0.7, "kinda": 0.7, "marginally": 0.5,
               "fairly": 0.8, "mildly": 0.6, "partly": 0.7}
_TOKEN_RE = re.compile(r"[a-z]+(?:['’][a-z]+)?|[!?,.;:]")
_BOUNDARY = frozenset(",.;:?!")
_ALPHA = 15.0


def _phrase_tokens() -> dict[tuple[str, ...], float]:
    return {tuple(k.split()): v for k, v in PHRASES.items()}


_PHRASE_TOKENS = _phrase_tokens()
_MAX_PHRASE = max(len(k) for k in _PHRASE_TOKENS)


def _raw_score(tokens: list[str]) -> float:
    total = 0.0
    i = 0
    n = len(tokens)
    # "but" shifts weight to what follows it
    but_at = next((k for k, t in enumerate(tokens) if t in ("but", "however", "although", "though")), -1)
    consumed: set[int] = set()  # tokens already used by a phrase ("no problem") cannot negate later words
    while i < n:
        valence = None
        width = 1
        for size in range(min(_MAX_PHRASE, n - i), 1, -1):
            key = tuple(tokens[i : i + size])
            if key in _PHRASE_TOKENS:
                valence, width = _PHRASE_TOKENS[key], size
                break
        if valence is None:
            valence = LEXICON.get(tokens[i])
        if valence is None:
            i += 1
            continue
        weight = 1.0
        for back in range(1, 4):
            j = i - back
            if j < 0:
                break
            t = tokens[j]
            if t in _BOUNDARY or j in consumed:
                break
            if t in NEGATIONS:
                weight *= -0.7
                break
            if back == 1 and t in INTENSIFIERS:
                weight *= INTENSIFIERS[t]
            elif back <= 2 and t in DIMINISHERS:
                weight *= DIMINISHERS[t]
        if but_at >= 0:
            weight *= 0.5 if i < but_at else 1.5
        total += valence * weight
        if width > 1:
            consumed.update(range(i, i + width))
        i += width
    exclaims = min(tokens.count("!"), 3)
    if total and exclaims:
        total += math.copysign(0.3 * exclaims, total)
    return total


def sentiment_score(text: str) -> float:
    """Valence of ``text`` in -1..1 (0 for neutral or empty text)."""
    tokens = _TOKEN_RE.findall(text.lower().replace("’", "'"))
    if not tokens:
        return 0.0
    total = _raw_score(tokens)
    if not total:
        return 0.0
    return max(-1.0, min(1.0, total / math.sqrt(total * total + _ALPHA)))
