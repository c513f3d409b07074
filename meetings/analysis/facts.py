"""Checking the figures people say against the figures the company's documents give for the same thing.

A number is only comparable with a number about the same METRIC ("selling price", "production cost",
"profit") and subject, so both sides are read the same way: every number in a caption or a document
passage becomes a mention (value, unit, metric, subject words, sentence). The metric comes from the
nearest metric words on either side of the number (a small synonym lexicon: sell/sold/price -> price,
cost/production/manufacture -> cost, profit/margin -> profit, ...), closer words and words before the
number weighing more; the subject is the other content words around it. A claim is checked against the
document facts of the same metric, the best subject overlap deciding between them; when the documents
hold no figure for that metric there is no verdict at all. Claims with no metric word fall back to
subject words, then to a lone document figure of the same currency and magnitude, then to the subject
words of the previous captions (``context``).

Pure functions, no Django: the live pipeline calls ``fact_check_text`` with the passages retrieval found.
Facts are cached per passage text, so re-checking against the same chunks costs a dictionary look-up.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from .numbers import (
    _MONEY,
    _NAME_PREFIXES,
    _month_day_claims,
    _periods,
    _periods_conflict,
    _scan_numbers,
    _Tok,
    _tokenize,
    _word_value,
    format_value,
)
from .text import STOPWORDS, split_sentences, stem, word_list
from .types import NumericClaim

# word -> metric. Inflected forms are listed, not stemmed: the lexicon stays readable and exact.
_METRIC_WORDS: dict[str, str] = {}
for _metric, _words in {
    "price": "sell sells selling sold resell price prices priced pricing retail retails retailing charge charges "
             "charging charged rrp msrp",
    "cost": "cost costs costing production produce produced producing manufacture manufactured manufacturing "
            "manufacturer bom cogs",
    "profit": "profit profits profitability margin margins earn earns earning earnings",
    "revenue": "revenue revenues turnover sales income bookings arr mrr",
    "budget": "budget budgets budgeted spend spending spent expenditure",
    "headcount": "headcount employees employee staff hires hire hiring fte ftes",
    "customers": "customers customer clients client users user subscribers subscriber accounts",
    "churn": "churn churned attrition",
    "growth": "growth grew grow grows growing",
    "discount": "discount discounts discounted",
    "age": "age aged ages old older young younger demographic demographics",
    "duration": "deadline deadlines duration lead timeline",
}.items():
    for _w in word_list(_words):
        _METRIC_WORDS[_w] = _metric

# Content words that say nothing about what a number measures.
_VAGUE = frozenset(word_list(
    """
    think know mean guess going go want wants need needs needed say said saying like looks look see just gonna
    wanna gotta got get getting make made makes making put take hope hoping able about around roughly exactly
    maybe probably really actually basically pretty quite much many lot little bit thing things something stuff
    way okay alright yeah right well sure fine good great idea plan planning happy also even still now then
    hmm uh um uhm erm ah oh mm yes no not any more less than least max maximum minimum most each per
    every whole total overall absolute tops only around about approx approximately nearly almost should would
    could will can must might may shall be been being is are was were am do does did doing done have has had
    having one ones
    """
))
_SUBJECT_SYNONYMS = {"aim": "target", "aims": "target", "aiming": "target", "aimed": "target", "goal": "target",
                     "goals": "target", "objective": "target", "targeted": "target", "targeting": "target",
                     "remote": "product", "remotes": "product", "device": "product", "unit": "product",
                     "units": "product", "item": "product", "items": "product"}
_RANGE_LINKS = frozenset({"to", "and", "or", "through", "till", "until", "-", "between"})
_CLAUSE_BREAKS = frozenset({".", ";", "!", "?", "but", "because", "whereas", "while", "although"})
# After a number, these start what is said about something else ("25 Euro with a profit of ...",
# "fifty million from our sales").
_RIGHT_BREAKS = frozenset({"with", "and", "so", "plus", "then", "whereas", "which", "from"})
# "profit aim", "sales target": a modifier of the metric, not a word between the metric and its number.
_MODIFIERS = frozenset({"target", "expected", "planned", "projected"})
_LEFT_WINDOW = 8
_CONTEXT_WORDS = 25
_SAME_SIZE = 3.0  # figures within a factor of three are "of one size"
_RIGHT_WINDOW = 5


@dataclass(frozen=True)
class Passage:
    """A document passage as retrieval returns it (a ``ChunkHit`` maps onto it field by field)."""

    text: str
    document_id: int | None = None
    chunk_id: int | None = None
    title: str = ""
    page: int | None = None
    score: float = 0.0


@dataclass(frozen=True)
class Mention:
    """One number with what it is about, in a caption or a document sentence."""

    value: float
    unit: str  # EUR | USD | GBP | % | date | year | days | ... | "" (a bare quantity)
    money: bool  # said as money, with or without a currency
    metric: str  # canonical metric (price, cost, profit, ...) or ""
    metric_weight: float
    subject: frozenset[str]  # stems of the content words around the number
    periods: frozenset[str]  # q3, fy24, 2024 ... named in the sentence
    range_pos: int  # 0 for a single number or the first of "fifteen to thirty five", 1 for the second
    hedged: bool
    sentence: str
    raw: str
    span: tuple[int, int]  # of ``raw`` in ``sentence``


@dataclass(frozen=True)
class Fact:
    mention: Mention
    passage: Passage


@dataclass(frozen=True)
class FactVerdict:
    claim: NumericClaim
    verdict: str  # correct | incorrect
    claimed_value: str
    document_value: str
    passage: Passage
    evidence: str  # the document sentence that gives the figure
    confidence: float
    metric: str


# ---------------------------------------------------------------- reading numbers with their metric


def _content(tok: _Tok) -> str | None:
    low = tok.low.replace("'s", "").replace("’s", "")
    if tok.kind != "word" or low in STOPWORDS or low in _VAGUE or _word_value(low) is not None or len(low) < 2:
        return None
    if len(low) > 5 and low.endswith(("our", "ours")):
        low = low.replace("our", "or")  # colour/color, labour/labor
    return _SUBJECT_SYNONYMS.get(low, low)


def _mentions_in_sentence(sentence: str) -> list[Mention]:
    toks = _tokenize(sentence)
    numbers = _scan_numbers(toks)
    dates = _month_day_claims(sentence)
    kept = []
    for num in numbers:
        if any(s <= num.start < e for s, e, _, _ in dates):
            continue
        prev = toks[num.tok_start - 1] if num.tok_start > 0 else None
        if prev is not None and prev.kind == "word" and prev.low in _NAME_PREFIXES and not num.unit:
            continue  # "sprint 4", "version 2"
        unit = num.unit
        if not unit and not num.spoken and float(num.value).is_integer() and 1900 <= num.value <= 2100:
            unit = "year"
        if num.spoken and not unit and not num.money and num.value < 2:
            continue  # "one" is a pronoun far more often than a quantity
        kept.append((num, unit))
    periods = frozenset(_periods({stem(t.low) for t in toks if t.kind in ("word", "num")}))
    out: list[Mention] = []
    for idx, (num, unit) in enumerate(kept):
        lo = kept[idx - 1][0].tok_end if idx else 0
        hi = kept[idx + 1][0].tok_start if idx + 1 < len(kept) else len(toks)
        in_range = idx > 0 and all(t.low in _RANGE_LINKS for t in toks[lo:num.tok_start]) and num.tok_start > lo
        scores: dict[str, float] = {}
        subject: set[str] = set()
        # Words before the number, nearest first; a clause break or the previous number ends the window.
        # Distance counts content words only: "sell it for about 25" has "sell" right next to the number.
        for side, span, weight in (
            ("left", range(num.tok_start - 1, max(lo, num.tok_start - _LEFT_WINDOW) - 1, -1), 1.0),
            ("right", range(num.tok_end, min(hi, num.tok_end + _RIGHT_WINDOW)), 0.6),
        ):
            d = 0
            for j in span:
                if toks[j].low in _CLAUSE_BREAKS or (side == "right" and toks[j].low in _RIGHT_BREAKS):
                    break
                word = _content(toks[j])
                if word is None:
                    continue
                if word in _METRIC_WORDS:
                    scores[_METRIC_WORDS[word]] = scores.get(_METRIC_WORDS[word], 0.0) + weight / (1 + d)
                subject.add(stem(word))
                if word not in _MODIFIERS:
                    d += 1
        metric, weight = max(scores.items(), key=lambda kv: kv[1]) if scores else ("", 0.0)
        range_pos = 0
        if in_range and out:
            # "fifteen to thirty five": the second number shares the first's metric and subject.
            first = out[-1]
            if first.unit == unit or not unit or not first.unit:
                unit = unit or first.unit
                range_pos = 1
                if not metric:
                    metric, weight = first.metric, first.metric_weight
                elif not first.metric:
                    out[-1] = replace(first, metric=metric, metric_weight=weight)
                merged = frozenset(subject | first.subject)
                out[-1] = replace(out[-1], subject=merged)
                subject = set(merged)
        hedged = num.hedged
        out.append(Mention(value=float(num.value), unit=unit, money=num.money, metric=metric, metric_weight=weight,
                           subject=frozenset(subject), periods=periods, range_pos=range_pos, hedged=hedged,
                           sentence=sentence, raw=sentence[num.start:num.end], span=(num.start, num.end)))
    for s, e, value, raw in dates:
        first_tok = next((i for i, t in enumerate(toks) if t.start >= s), len(toks))
        subject = {stem(w) for t in toks[max(0, first_tok - _LEFT_WINDOW):first_tok] if (w := _content(t))}
        out.append(Mention(value=value, unit="date", money=False, metric="", metric_weight=0.0,
                           subject=frozenset(subject), periods=periods, range_pos=0, hedged=False,
                           sentence=sentence, raw=raw, span=(s, e)))
    out.sort(key=lambda m: m.span)
    return out


def mentions(text: str) -> list[Mention]:
    """Every number in ``text`` with its unit, metric and subject words, sentence by sentence."""
    out: list[Mention] = []
    for sentence in split_sentences(text):
        out.extend(_mentions_in_sentence(sentence))
    return out


@lru_cache(maxsize=4096)
def _passage_mentions(text: str) -> tuple[Mention, ...]:
    return tuple(mentions(text))


def document_facts(passages: Sequence[Passage]) -> list[Fact]:
    """The figures the passages state, each with its metric, subject and sentence."""
    return [Fact(mention=m, passage=p) for p in passages for m in _passage_mentions(p.text)]


# ---------------------------------------------------------------- matching claims to facts


def _units_compatible(claim: Mention, fact: Mention) -> bool:
    if claim.unit == fact.unit:
        return True
    # "cost twelve fifty to make": money without a currency matches money in any one currency.
    return not claim.unit and claim.money and fact.unit in _MONEY


def _same_value(claim: Mention, fact: Mention) -> bool:
    a, b = claim.value, fact.value
    if a == b:
        return True
    rel = abs(a - b) / max(abs(a), abs(b))
    if rel <= (0.05 if claim.hedged else 0.005):
        return True
    # Rounding as said: "eighteen point seven million" confirms 18.68 million, "twelve" does not confirm 12.5.
    magnitude = abs(a)
    scale = 1e9 if magnitude >= 1e9 else 1e6 if magnitude >= 1e6 else 1e3 if magnitude >= 1e4 else 1.0
    text = f"{a / scale:.4f}".rstrip("0").rstrip(".")
    decimals = len(text.split(".")[1]) if "." in text else 0
    if scale == 1.0 and decimals == 0 and not float(b).is_integer():
        return False
    return round(b / scale, decimals) == round(a / scale, decimals)


def _overlap(claim: Mention, fact: Mention) -> float:
    if not claim.subject or not fact.subject:
        return 0.0
    return len(claim.subject & fact.subject) / len(claim.subject | fact.subject)


def _candidates(claim: Mention, facts: Sequence[Fact]) -> tuple[list[tuple[float, Fact]], str]:
    """Scored facts that speak about the claim's metric, and how they were found (metric | subject | magnitude)."""
    usable = [f for f in facts if _units_compatible(claim, f.mention)
              and not _periods_conflict(set(claim.periods), set(f.mention.periods))]
    if claim.metric:
        scored = [(1.0 + _overlap(claim, f.mention) + (0.2 if f.mention.range_pos == claim.range_pos else 0.0), f)
                  for f in usable if f.mention.metric == claim.metric]
        return scored, "metric"  # the documents have no figure for this metric: nothing to say
    scored = []
    for f in usable:
        shared = claim.subject & f.mention.subject
        if shared and not f.mention.metric:
            scored.append((0.5 + _overlap(claim, f.mention) + (0.2 if f.mention.range_pos == claim.range_pos
                                                               else 0.0), f))
    if scored:
        return scored, "subject"
    if claim.unit in _MONEY or claim.money or claim.unit == "%":
        # No metric word at all ("well, twenty five Euro"): only a lone figure of the same size is a safe match.
        near = [f for f in usable if f.mention.unit == (claim.unit or f.mention.unit) and _same_size(claim, f.mention)]
        if len(near) == 1 or len({f.mention.value for f in near}) == 1:
            return [(0.3, f) for f in near], "magnitude"
    return [], ""


def _same_size(claim: Mention, fact: Mention) -> bool:
    if claim.value <= 0 or fact.value <= 0:
        return False
    return abs(math.log10(claim.value / fact.value)) < math.log10(_SAME_SIZE)


def check_mention(claim: Mention, facts: Sequence[Fact]) -> tuple[str, Fact, float] | None:
    """("correct" | "incorrect", the fact, confidence), or None when the documents cannot tell."""
    scored, how = _candidates(claim, facts)
    if not scored:
        return None
    scored.sort(key=lambda sf: -sf[0])
    best_score = scored[0][0]
    top = [f for s, f in scored if s >= best_score - 0.05]
    base = {"metric": 0.7, "subject": 0.55, "magnitude": 0.45}[how]
    confidence = round(min(0.95, base + 0.25 * min(1.0, best_score - math.floor(best_score))), 2)
    for f in top:
        if _same_value(claim, f.mention):
            return "correct", f, confidence
    if len({(f.mention.value, f.mention.unit) for f in top}) > 1:
        return None  # two document figures fit equally well and neither matches: do not guess
    return "incorrect", top[0], confidence


def _claimed_unit(claim: Mention, fact: Mention) -> str:
    return claim.unit or (fact.unit if claim.money else "")


def _context_topic(context: str) -> tuple[str, frozenset[str]]:
    """The metric and content words of what was said just before ("how many buttons?" -> "We have six.")."""
    toks = [t for t in _tokenize(context) if t.kind == "word"][-_CONTEXT_WORDS:]
    scores: dict[str, float] = {}
    subject: set[str] = set()
    for d, tok in enumerate(reversed(toks)):
        word = _content(tok)
        if word is None:
            continue
        if word in _METRIC_WORDS:
            scores[_METRIC_WORDS[word]] = scores.get(_METRIC_WORDS[word], 0.0) + 1.0 / (1 + d)
        subject.add(stem(word))
    metric = max(scores.items(), key=lambda kv: kv[1])[0] if scores else ""
    return metric, frozenset(subject)


def fact_check_text(text: str, passages: Sequence[Passage], *, context: str = "") -> list[FactVerdict]:
    """Check every figure said in ``text`` against the figures the passages give for the same metric.

    Only claims the documents speak to get a verdict ("correct" or "incorrect"); every "incorrect" cites
    the passage, the sentence and the document's value. The order of ``passages`` does not matter.
    ``context`` is what was said just before (the previous captions): a figure said with no metric or
    subject words of its own ("Well, twenty five Euro", "We have six.") takes them from there.
    """
    said = mentions(text)
    if not said or not passages:
        return []
    facts = document_facts(passages)
    topic = _context_topic(context) if context else ("", frozenset())
    out: list[FactVerdict] = []
    for claim in said:
        checked = check_mention(claim, facts)
        if checked is None and not claim.metric and not claim.subject and (topic[0] or topic[1]):
            # Only the subject is borrowed, never the metric: "how much does a remote cost? - Well, 25 Euro"
            # is about the price, not the production cost. A borrowed mismatch only counts between figures
            # of one size ("make fifty million" after talk of a 25 Euro price is about something else).
            checked = check_mention(replace(claim, subject=topic[1]), facts)
            if checked is not None and checked[0] == "incorrect" and not _same_size(claim, checked[1].mention):
                checked = None
        if checked is None:
            continue
        verdict, fact, confidence = checked
        unit = _claimed_unit(claim, fact.mention)
        numeric = NumericClaim(text=claim.sentence, metric=claim.metric or " ".join(sorted(claim.subject)),
                               value=claim.value, unit=unit or "number", raw=claim.raw, span=claim.span)
        out.append(FactVerdict(
            claim=numeric, verdict=verdict, claimed_value=format_value(claim.value, unit),
            document_value=format_value(fact.mention.value, fact.mention.unit or unit), passage=fact.passage,
            evidence=fact.mention.sentence.strip()[:400], confidence=confidence, metric=claim.metric,
        ))
    return out


__all__ = ["Fact", "FactVerdict", "Mention", "Passage", "check_mention", "document_facts", "fact_check_text",
           "mentions"]

