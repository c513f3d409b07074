"""RAKE-style keyphrases: runs of content words between stopwords, scored by word degree and repetition."""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict

from .text import FILLERS, STOPWORDS, stem, word_list

# Words that split phrases in speech even though they are not stopwords.
_BREAKERS = FILLERS | frozenset(
    word_list(
        """
        send sends sent share shared email emailed schedule scheduled set sets put puts update updated check
        checked follow review reviewed draft write wrote prepare create build make made fix fixed ship
        shipped add added pull pulled run ran test start started finish finished work works worked use used
        keep kept move moved ask asked give gave tell told call called said says saw seen looked going
        getting taking doing having seems seem yesterday tomorrow tonight week weeks month months day days
        year years hour hours minute minutes monday tuesday wednesday thursday friday saturday sunday
        morning afternoon evening next last end early late around roughly approximately least new old big
        small high low lot whole half couple few several per versus vs via agree agreed decided decide
        planned want wanted wants need needed needs let lets let's i'll we'll you'll it's kicks gives takes
        makes says gets keeps feels helps covers assumes excludes includes owns that's there's what's don't
        doesn't didn't can't won't isn't aren't i'm we're you're they're i'd we'd honestly definitely
        absolutely totally maybe probably actually currently usually typically especially zero one two three
        four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen
        eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand million
        billion point percent dollars came come comes shows show include includes including ready yet across
        combined pushed hard first second third tight doable fine okay interesting true sorry now goes
        toward towards signed talked looks
        """
    )
)
# Words that may sit inside a phrase but not at its edges ("shows rep ramp" -> "rep ramp").
_WEAK_EDGE = frozenset(
    word_list(
        """
        type shows showing came pushed hard team's quick full short long main real other same final current
        good great bad best better worse
        """
    )
)
_TOKEN_RE = re.compile(r"[A-Za-z][A-Za-z0-9'’-]*|\d[\d.,]*%?|[^\sA-Za-z0-9]")


def _candidates(text: str, exclude: frozenset[str]) -> list[list[str]]:
    phrases: list[list[str]] = []
    current: list[str] = []
    for tok in _TOKEN_RE.findall(text):
        low = tok.lower().replace("’", "'")
        is_word = tok[0].isalpha()
        if (not is_word or low in STOPWORDS or low in _BREAKERS or low in exclude or len(low) < 2
                or (low.endswith("'s") and low[:-2] in exclude)):
            if current:
                phrases.append(current)
            current = []
            continue
        current.append(tok)
    if current:
        phrases.append(current)
    out = []
    for p in phrases:
        while p and p[0].lower() in _WEAK_EDGE:
            p = p[1:]
        while p and p[-1].lower() in _WEAK_EDGE:
            p = p[:-1]
        while len(p) > 4:
            out.append(p[:4])
            p = p[4:]
        if p and not (len(p) == 1 and len(p[0]) < 3):
            out.append(p)
    return out


def ranked_keyphrases(texts: list[str], *, top_n: int = 10,
                      exclude: set[str] | frozenset[str] = frozenset()) -> list[tuple[str, float]]:
    """(phrase, score) pairs, best first."""
    excluded = frozenset(w.lower() for w in exclude)
    freq: Counter[str] = Counter()
    degree: Counter[str] = Counter()
    phrase_count: Counter[tuple[str, ...]] = Counter()
    surface: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
    for text in texts:
        for phrase in _candidates(text, excluded):
            key = tuple(stem(w.lower()) for w in phrase)
            phrase_count[key] += 1
            surface[key][" ".join(phrase)] += 1
            for w in key:
                freq[w] += 1
                degree[w] += len(key) - 1
    if not phrase_count:
        return []
    word_score = {w: (degree[w] + freq[w]) / freq[w] for w in freq}
    scored: list[tuple[float, tuple[str, ...]]] = []
    for key, count in phrase_count.items():
        if len(key) == 1 and freq[key[0]] < 2 and len(phrase_count) > 20:
            continue  # one-off single words are noise in a long transcript
        base = sum(word_score[w] for w in key) / (1 + 0.15 * (len(key) - 1))
        repetition = math.log2(1 + count) + 0.25 * sum(math.log2(freq[w]) for w in key) / len(key)
        scored.append((base * repetition, key))
    scored.sort(key=lambda x: (-x[0], x[1]))
    chosen: list[tuple[tuple[str, ...], float]] = []
    for score, key in scored:
        keyset = set(key)
        if any(keyset <= set(c) or (set(c) <= keyset and len(c) > 1) for c, _ in chosen):
            continue
        chosen.append((key, score))
        if len(chosen) >= top_n:
            break
    out = []
    for key, score in chosen:
        form = surface[key].most_common(1)[0][0]
        # keep acronyms and names as said, lower-case the rest
        words = [w if w.isupper() and len(w) > 1 else w.lower() for w in form.split()]
        out.append((" ".join(words), round(score, 3)))
    return out


def keyphrases(texts: list[str], *, top_n: int = 10) -> list[str]:
    """The ``top_n`` most characteristic phrases of ``texts`` (RAKE-style; no model, no download)."""
    return [p for p, _ in ranked_keyphrases(list(texts), top_n=top_n)]
