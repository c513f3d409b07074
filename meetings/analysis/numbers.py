"""Numbers as people say them, the claims they make with them, and checking those claims.

``parse_spoken_number("eighteen point seven million")`` is 18_700_000; ``extract_numeric_claims`` finds
money, percentages, counts, durations, years and dates together with the metric they are about
("Q3 revenue was ..." -> "q3 revenue"); ``check_claim_against_passage`` compares a claim with the
numbers a reference passage gives for the same metric.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .dates import MONTHS
from .text import STOPWORDS, split_sentences, stem, word_list
from .types import ClaimCheck, NumericClaim

UNITS = {
    "zero": 0, "oh": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
        "eighty": 80, "ninety": 90}
SCALES = {"thousand": 1e3, "k": 1e3, "million": 1e6, "mil": 1e6, "mm": 1e6, "billion": 1e9, "bn": 1e9,
          "trillion": 1e12}
_SUFFIX = {"k": 1e3, "m": 1e6, "mm": 1e6, "b": 1e9, "bn": 1e9}
_CURRENCY_SYMBOL = {"$": "USD", "€": "EUR", "£": "GBP"}
_CURRENCY_WORD = {"dollar": "USD", "dollars": "USD", "bucks": "USD", "usd": "USD", "euro": "EUR", "euros": "EUR",
                  "eur": "EUR", "pound": "GBP", "pounds": "GBP", "gbp": "GBP", "quid": "GBP", "sterling": "GBP"}
_MONEY = frozenset({"USD", "EUR", "GBP"})
_CENTS = frozenset({"cent", "cents", "pence", "p"})
_FILLER_TOKENS = frozenset({"uh", "um", "uhm", "umm", "uhh", "er", "erm", "ehm", "hmm", "mm", "ah", "eh"})
# Words that make a bare "twelve fifty" a price (12.50) rather than two numbers or a time.
_MONEY_CUES = frozenset(word_list(
    """
    cost costs costing price priced prices pricing sell sells selling sold pay pays paying paid charge charges
    charging charged spend spending spent budget budgeted fee fees retail retails worth afford
    """
))
# What may follow the "fifty" of "twelve Euro fifty" when it is the cents and not the start of something else.
_AFTER_CENTS = frozenset(word_list("to each per a an the for and or so which that is was will max maximum tops then "
                                   "but at apiece in on"))
_FRACTIONS = {"half": 0.5, "halves": 0.5, "quarter": 0.25, "quarters": 0.25, "third": 1 / 3, "thirds": 1 / 3}
_DURATION = {"millisecond": "milliseconds", "milliseconds": "milliseconds", "ms": "milliseconds",
             "second": "seconds", "seconds": "seconds", "minute": "minutes", "minutes": "minutes",
             "hour": "hours", "hours": "hours", "day": "days", "days": "days", "week": "weeks", "weeks": "weeks",
             "month": "months", "months": "months", "year": "years", "years": "years", "quarter": "quarters",
             "quarters": "quarters"}
_SIZE = {"gb": "GB", "gigabyte": "GB", "gigabytes": "GB", "tb": "TB", "terabytes": "TB", "mb": "MB",
         "megabytes": "MB"}
# Product names whose number is part of the name, not a quantity.
_NAME_PREFIXES = frozenset({"aes", "tls", "ssl", "soc", "iso", "http", "ipv", "sha", "md", "gpt", "s", "ec",
                            "version", "v", "sprint", "iphone", "windows", "python", "java", "hipaa", "pci",
                            "number", "no", "type", "tier", "phase", "level", "p", "step", "option", "room"})
_LINKERS = frozenset(word_list(
    """
    was is are were be been being came come comes in at to of about around roughly approximately approx nearly
    almost over under just only by from up down hit hits reached reach grew grow grows dropped drop drops fell
    increased decreased rose went stands stood sits totaled totalled than more less like exactly precisely
    currently now still already also a an the its it's that's which hovering landed ended finished closed
    sitting running be will should would could expect expected projected forecast target targeted of on another
    additional extra roughly some is at around versus vs compared against back
    """
))
_UNIT_WORDS = frozenset(set(_DURATION) | set(_CURRENCY_WORD) | set(_SIZE) | {"percent", "pct", "cent", "points",
                                                                            "per", "each", "across", "since"})
_VERBISH = frozenset(word_list(
    """
    missed miss checked think thought said say says told guess know expect quoted quote need needs want wants
    get got have has had make made take took see saw look looked spent spend added add cut cuts asked asking
    signed sign ran run pushed push moved move brought bring put set sent send gave give lost lose saved save
    thinking closer budgeted include includes including offer offering cost costs pay paying
    """
))
_HEDGES = frozenset({"about", "around", "roughly", "approximately", "approx", "nearly", "almost", "some",
                     "over", "under", "circa", "~", "like", "ish", "close"})
_MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                "November", "December"]
_PERIOD_RE = re.compile(r"^(?:q[1-4]|h[12]|fy\d{2,4}|(?:19|20)\d\d)$")

_TOKEN_RE = re.compile(
    r"(?P<cur>[$€£])?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)(?P<suf>(?:mm|bn|[kmb])(?![a-z]))?"
    r"(?P<pct>%)?|(?P<word>[a-z][a-z0-9]*(?:['’][a-z]+)?(?:-[a-z0-9]+)?)|(?P<sym>[$€£%~])|(?P<punct>[.,;:!?()\"/])",
    re.I,
)


@dataclass
class _Tok:
    text: str
    low: str
    start: int
    end: int
    kind: str  # num | word | sym | punct
    value: float | None = None
    cur: str = ""
    suf: str = ""
    pct: bool = False


@dataclass
class _Number:
    start: int  # char offsets in the text
    end: int
    value: float
    unit: str
    tok_start: int  # token indexes [tok_start, tok_end)
    tok_end: int
    spoken: bool
    hedged: bool
    money: bool = False  # said as money ("cost twelve fifty") even without a currency


def _tokenize(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    for m in _TOKEN_RE.finditer(text):
        if m.group("num") is not None:
            # "Q3", "S3", "2FA", "4.12.1", "9:14" are names or times, not quantities.
            before = text[m.start() - 1] if m.start() else " "
            after = text[m.end()] if m.end() < len(text) else " "
            if before.isalpha() or before in ":." or after.isalpha() or after == ":" or (
                after == "." and m.end() + 1 < len(text) and text[m.end() + 1].isdigit()
            ):
                out.append(_Tok(m.group(0), m.group(0).lower(), m.start(), m.end(), "word"))
                continue
            num = float(m.group("num").replace(",", ""))
            out.append(_Tok(m.group(0), m.group(0).lower(), m.start(), m.end(), "num", value=num,
                            cur=m.group("cur") or "", suf=(m.group("suf") or "").lower(), pct=bool(m.group("pct"))))
        elif m.group("word") is not None:
            if m.group(0).lower() in _FILLER_TOKENS:
                continue  # "twelve uh fifty Euro": fillers never split or end a number
            out.append(_Tok(m.group(0), m.group(0).lower(), m.start(), m.end(), "word"))
        elif m.group("sym") is not None:
            out.append(_Tok(m.group(0), m.group(0), m.start(), m.end(), "sym"))
        else:
            out.append(_Tok(m.group(0), m.group(0), m.start(), m.end(), "punct"))
    return out


def _word_value(low: str) -> tuple[str, float] | None:
    if low in UNITS:
        return "unit", UNITS[low]
    if low in TENS:
        return "tens", TENS[low]
    if "-" in low:
        a, _, b = low.partition("-")
        if a in TENS and b in UNITS and 0 < UNITS[b] < 10:
            return "tens", TENS[a] + UNITS[b]
    if low == "hundred":
        return "hundred", 100
    if low in ("thousand", "million", "billion", "trillion"):
        return "scale", SCALES[low]
    if low == "dozen":
        return "dozen", 12
    if low == "half":
        return "half", 0.5
    return None


def _parse_at(toks: list[_Tok], i: int) -> tuple[float, int, bool] | None:
    """Parse a number starting at token i: (value, index after it, spoken?)."""
    n = len(toks)
    t = toks[i]
    if t.kind == "num":
        value = t.value or 0.0
        j = i + 1
        if t.suf:
            value *= _SUFFIX[t.suf]
        elif j < n and toks[j].kind == "word" and toks[j].low in SCALES and toks[j].low != "k":
            value *= SCALES[toks[j].low]
            j += 1
            if j < n and toks[j].kind == "word" and toks[j].low in SCALES and toks[j].low != "k":
                value *= SCALES[toks[j].low]  # "1.2 thousand million" is rare but harmless
                j += 1
        return value, j, False
    if t.kind != "word":
        return None
    # "a million", "a hundred", "half a million", "a dozen"
    if t.low in ("a", "an"):
        if i + 1 < n and toks[i + 1].kind == "word" and toks[i + 1].low in ("hundred", "thousand", "million",
                                                                           "billion", "dozen"):
            sub = _parse_words(toks, i + 1, start_value=1.0)
            return (sub[0], sub[1], True) if sub else None
        if i + 1 < n and toks[i + 1].kind == "word" and toks[i + 1].low in ("quarter", "third", "half"):
            return _FRACTIONS[toks[i + 1].low], i + 2, True  # "a quarter", "a third", "a half"
        return None
    if _word_value(t.low) is None:
        return None
    sub = _parse_words(toks, i)
    return (sub[0], sub[1], True) if sub else None


def _parse_words(toks: list[_Tok], i: int, start_value: float | None = None) -> tuple[float, int] | None:
    total = 0.0
    current = start_value or 0.0
    seen = start_value is not None
    j = i
    n = len(toks)
    last_kind = ""
    while j < n and toks[j].kind == "word":
        low = toks[j].low
        wv = _word_value(low)
        if wv is None:
            if low == "and" and seen and j + 1 < n:
                nxt = toks[j + 1].low
                if nxt == "a" and j + 2 < n and toks[j + 2].low == "half":
                    current += 0.5
                    j += 3
                    last_kind = "half"
                    continue
                if _word_value(nxt) and _word_value(nxt)[0] in ("unit", "tens") and last_kind in ("hundred", "scale"):
                    j += 1
                    continue
            if low == "point" and seen and j + 1 < n and toks[j + 1].low in UNITS and UNITS[toks[j + 1].low] < 10:
                digits = ""
                k = j + 1
                while k < n and toks[k].kind == "word" and toks[k].low in UNITS and UNITS[toks[k].low] < 10:
                    digits += str(UNITS[toks[k].low])
                    k += 1
                current += float("0." + digits)
                j = k
                last_kind = "point"
                continue
            if low == "a" and last_kind == "half" and j + 1 < n and toks[j + 1].low in ("million", "billion",
                                                                                         "thousand", "dozen"):
                j += 1
                continue
            break
        kind, val = wv
        if kind in ("unit", "tens"):
            if last_kind in ("unit", "point") or (last_kind == "tens" and kind == "tens"):
                break  # "two three" is two numbers; "twenty thirty" too
            if last_kind == "tens" and val >= 10:
                break
            current += val
        elif kind == "hundred":
            current = (current or 1) * 100
        elif kind == "scale":
            total += (current or 1) * val
            current = 0.0
        elif kind == "dozen":
            current = (current or 1) * 12
        elif kind == "half":
            if seen and last_kind != "":
                break
            current = 0.5
        seen = True
        last_kind = kind
        j += 1
    if not seen or j == i:
        return None
    return total + current, j


def _scan_numbers(toks: list[_Tok]) -> list[_Number]:
    found: list[_Number] = []
    i = 0
    n = len(toks)
    while i < n:
        t = toks[i]
        if t.kind == "word" and t.low in ("one", "a", "an") and i + 1 < n and toks[i + 1].low in (
            "of", "thing", "more", "another", "way", "day", "bit", "lot", "time", "last", "point", "quick", "sec",
            "second", "minute",
        ) and not (toks[i + 1].low == "point" and i + 2 < n and toks[i + 2].low in UNITS):
            i += 1
            continue
        parsed = _parse_at(toks, i)
        if parsed is None:
            i += 1
            continue
        value, j, spoken = parsed
        # A restart ("twenty twenty five Euro", "twelve twelve fifty"): the first try is dropped.
        if j < n and toks[j].kind == t.kind and toks[j].low == t.low and toks[j].start - toks[j - 1].end <= 2:
            i = j
            continue
        # "twelve fifty" after "cost"/"sell" or before "Euro": a price said in two groups is 12.50.
        if spoken and float(value).is_integer() and 1 <= value < 100 and j < n:
            nxt = _parse_at(toks, j)
            if (nxt is not None and nxt[2] and float(nxt[0]).is_integer() and 10 <= nxt[0] < 100
                    and _money_context(toks, i, nxt[1])):
                value, j = value + nxt[0] / 100, nxt[1]
        start_tok = i
        cur = t.cur
        # "$ 18.7M" with a separate symbol token
        if not cur and i > 0 and toks[i - 1].kind == "sym" and toks[i - 1].text in _CURRENCY_SYMBOL:
            cur = toks[i - 1].text
            start_tok = i - 1
        unit = ""
        if cur:
            unit = _CURRENCY_SYMBOL[cur]
        pct = toks[j - 1].pct if j - 1 >= i and toks[j - 1].kind == "num" else False
        if pct:
            unit = "%"
        k = j
        # "a quarter of", "half of", "three quarters of" the budget: a share, said as a fraction.
        if not unit and k + 1 < n and toks[k + 1].low == "of" and toks[k].low in _FRACTIONS \
                and float(value).is_integer() and 1 <= value < 10:
            value, unit, k = value * _FRACTIONS[toks[k].low] * 100, "%", k + 1
        elif not unit and k < n and toks[k].low == "of" and spoken and 0 < value < 1 and toks[k - 1].low in _FRACTIONS:
            value, unit = value * 100, "%"
        if not unit and k < n:
            low = toks[k].low
            if low == "%":
                unit, k = "%", k + 1
            elif low in ("percent", "pct") or (low == "per" and k + 1 < n and toks[k + 1].low == "cent"):
                unit, k = "%", k + (2 if low == "per" else 1)
                if k < n and toks[k].low == "points":
                    k += 1
            elif low in _CURRENCY_WORD:
                unit, k = _CURRENCY_WORD[low], k + 1
            elif (low in ("x", "times") and not spoken) or low == "x":
                unit, k = "x", k + 1
            elif low in _DURATION:
                unit, k = _DURATION[low], k + 1
            elif low in ("business", "working") and k + 1 < n and toks[k + 1].low in ("days", "day", "hours"):
                unit, k = _DURATION[toks[k + 1].low], k + 2
            elif low in _SIZE:
                unit, k = _SIZE[low], k + 1
        elif unit in _MONEY and k < n and toks[k].low in _CURRENCY_WORD:
            k += 1
        if unit in _MONEY and k > j and float(value).is_integer():
            value, k = _with_cents(toks, value, k)
        hedged = any(toks[x].low in _HEDGES for x in range(max(0, start_tok - 2), start_tok))
        money = unit in _MONEY or (not unit and _money_context(toks, start_tok, k))
        found.append(_Number(toks[start_tok].start, toks[k - 1].end, value, unit, start_tok, k, spoken, hedged,
                             money))
        i = k
    return found


def _money_context(toks: list[_Tok], start: int, end: int) -> bool:
    if end < len(toks) and toks[end].kind == "word" and toks[end].low in _CURRENCY_WORD:
        return True
    if start > 0 and toks[start - 1].kind == "sym" and toks[start - 1].text in _CURRENCY_SYMBOL:
        return True
    return any(toks[x].low in _MONEY_CUES for x in range(max(0, start - 6), start))


def _with_cents(toks: list[_Tok], value: float, k: int) -> tuple[float, int]:
    """"twelve Euro fifty", "twelve Euros and fifty cents": ``k`` is just after the currency word."""
    n = len(toks)
    c = k + 1 if k < n and toks[k].low == "and" else k
    cents = _parse_at(toks, c) if c < n else None
    if cents is None or not float(cents[0]).is_integer() or not 1 <= cents[0] < 100:
        return value, k
    e = cents[1]
    if e < n and toks[e].low in _CENTS:
        return value + cents[0] / 100, e + 1
    if c == k and (e >= n or toks[e].kind == "punct" or toks[e].low in _AFTER_CENTS):
        return value + cents[0] / 100, e
    return value, k


def spoken_numbers(text: str) -> list[tuple[float, str, tuple[int, int]]]:
    """Every number in ``text`` as (value, unit, character span), in order; unit "" when none was said.

    "um twelve fifty Euros" -> [(12.5, "EUR", (3, 20))]; "fifteen to thirty five" -> 15 and 35.
    """
    return [(num.value, num.unit, (num.start, num.end)) for num in _scan_numbers(_tokenize(text))]


def parse_spoken_number(text: str) -> float | None:
    """The first number in ``text``, as digits or words: "eighteen point seven million" -> 18_700_000.

    Also "$18.7M", "1,200", "2.5k", "twelve percent" (12), "half a million", "two and a half million",
    "one hundred and twenty three thousand four hundred", "a quarter" (0.25), prices in two groups
    ("twelve fifty Euro", "cost twelve fifty", "twelve Euro fifty": 12.5); fillers ("uh", "um") and
    restarts ("twenty twenty five") do not break a number.
    """
    toks = _tokenize(text)
    found = _scan_numbers(toks)
    if found:
        return float(found[0].value)
    for i in range(len(toks)):
        parsed = _parse_at(toks, i)
        if parsed is not None:
            return float(parsed[0])
    return None


def _metric_before(toks: list[_Tok], idx: int) -> list[str]:
    j = idx - 1
    while j >= 0 and toks[j].kind == "word" and toks[j].low in _LINKERS:
        j -= 1
    words: list[str] = []
    while j >= 0 and toks[j].kind == "word" and len(words) < 4:
        low = toks[j].low.replace("'s", "")
        if low in STOPWORDS or low in _LINKERS or low in _VERBISH or low in _UNIT_WORDS or _word_value(low):
            break
        words.append(low)
        j -= 1
    return list(reversed(words))


def _metric_after(toks: list[_Tok], idx: int, *, allow_of: bool = True) -> list[str]:
    j = idx
    if allow_of and j < len(toks) and toks[j].low in ("of", "in", "for", "on") and toks[j].kind == "word":
        j += 1
        while j < len(toks) and toks[j].low in ("the", "our", "their", "your", "all", "a", "an", "its"):
            j += 1
    words: list[str] = []
    while j < len(toks) and toks[j].kind == "word" and len(words) < 3:
        low = toks[j].low
        if low in STOPWORDS or low in _LINKERS or low in _VERBISH or low in _UNIT_WORDS or _word_value(low):
            break
        words.append(low)
        j += 1
    return words


_ORDINALS = {w: i + 1 for i, w in enumerate(word_list(
    """
    first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth fourteenth
    fifteenth sixteenth seventeenth eighteenth nineteenth twentieth
    """
))}
_ORDINALS.update({f"twenty{sep}{w}": 20 + d for sep in (" ", "-") for w, d in list(_ORDINALS.items()) if d < 10})
_ORDINALS.update({"thirtieth": 30, "thirty first": 31, "thirty-first": 31})
_MONTH_RE = (r"(jan(?:uary)?|feb(?:ruary)?|march|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
             r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_DAY_RE = r"(\d{1,2}(?:st|nd|rd|th)?|" + "|".join(sorted(_ORDINALS, key=len, reverse=True)) + ")"
# "March 5th", "March the fifth", "the twenty-first of June", "5 March"
_DATE_PATTERNS = (
    (re.compile(rf"\b{_MONTH_RE}\.?\s+(?:the\s+)?{_DAY_RE}\b", re.I), 1, 2),
    (re.compile(rf"\b(?:the\s+)?{_DAY_RE}\s+(?:of\s+)?{_MONTH_RE}\b", re.I), 2, 1),
)


def _day_value(text: str) -> int:
    low = text.lower()
    if low in _ORDINALS:
        return _ORDINALS[low]
    return int(re.match(r"\d+", low).group(0))  # type: ignore[union-attr]


def _month_day_claims(sentence: str) -> list[tuple[int, int, float, str]]:
    out: list[tuple[int, int, float, str]] = []
    for pattern, month_group, day_group in _DATE_PATTERNS:
        for m in pattern.finditer(sentence):
            day = _day_value(m.group(day_group))
            if day_group == 1 and m.group(1).isdigit() and "of" not in m.group(0).lower() \
                    and m.group(month_group).lower() in ("may", "march"):
                continue  # "5 may" / "3 march" are more often a verb than a date
            if 1 <= day <= 31 and not any(s < m.end() and m.start() < e for s, e, _, _ in out):
                out.append((m.start(), m.end(), float(MONTHS[m.group(month_group).lower()] * 100 + day),
                            m.group(0)))
    return out


def _claims_in_sentence(sentence: str) -> list[NumericClaim]:
    toks = _tokenize(sentence)
    numbers = _scan_numbers(toks)
    claims: list[NumericClaim] = []
    date_spans = _month_day_claims(sentence)
    prev_metric = ""
    prev_end_tok = -10
    prev_unit = ""
    for num in numbers:
        if any(s <= num.start < e for s, e, _, _ in date_spans):
            continue
        prev_tok = toks[num.tok_start - 1] if num.tok_start > 0 else None
        if prev_tok is not None and prev_tok.kind == "word" and prev_tok.low in _NAME_PREFIXES and not num.unit:
            continue
        if prev_tok is not None and prev_tok.kind == "punct" and prev_tok.text == "/" :
            continue
        unit = num.unit
        value = num.value
        if not unit:
            is_int = float(value).is_integer()
            raw_digits = not num.spoken and "," not in toks[num.tok_start].text
            if is_int and raw_digits and 1900 <= value <= 2100:
                unit = "year"
        after = _metric_after(toks, num.tok_end, allow_of=unit not in ("", "count"))
        before = _metric_before(toks, num.tok_start)
        near_prev = num.tok_start - prev_end_tok <= 4 and prev_unit
        if not unit:
            if after and not (prev_tok is not None and prev_tok.low in ("top", "first", "last", "next")):
                unit = "count"
            elif before:
                unit = "number"
            elif near_prev:
                unit = prev_unit  # "from 180 to 236"
            else:
                continue
        if num.spoken and unit in ("count", "number") and value < 2:
            continue
        if unit in ("count",):
            metric_words = after
            if before and len(metric_words) < 2 and toks[num.tok_start - 1].low not in ("of", "to", "from", "by"):
                metric_words = before + metric_words if len(before) <= 2 else metric_words
        elif unit in _DURATION.values() or unit in _SIZE.values():
            metric_words = before or after
        else:
            metric_words = before or after
        metric = " ".join(metric_words)
        if not metric and num.tok_start - prev_end_tok <= 4 and prev_metric:
            metric = prev_metric  # "grew from 180 to 236" shares its metric
        elif not metric and prev_metric and prev_tok is not None and prev_tok.low in ("up", "down", "increase",
                                                                                        "decrease", "growth"):
            metric = f"{prev_metric} {'decline' if prev_tok.low in ('down', 'decrease') else 'growth'}"
        raw = sentence[num.start : num.end]
        claims.append(NumericClaim(text=sentence, metric=metric, value=float(value), unit=unit, raw=raw,
                                   span=(num.start, num.end)))
        if metric:
            prev_metric = metric
        prev_end_tok = num.tok_end
        prev_unit = unit
    for s, e, value, raw in date_spans:
        before = _metric_before(toks, next((i for i, t in enumerate(toks) if t.start >= s), 0))
        claims.append(NumericClaim(text=sentence, metric=" ".join(before), value=value, unit="date", raw=raw,
                                   span=(s, e)))
    claims.sort(key=lambda c: c.span)
    return claims


def extract_numeric_claims(text: str) -> list[NumericClaim]:
    """Money, percentages, counts, durations, years and dates, each with the metric it is about.

    ``claim.text`` is the sentence that carries the claim and ``claim.text[span[0]:span[1]] == claim.raw``.
    """
    claims: list[NumericClaim] = []
    for sentence in split_sentences(text):
        if any(ch.isdigit() for ch in sentence) or _has_number_word(sentence):
            claims.extend(_claims_in_sentence(sentence))
    return claims


_NUMBER_WORD_RE = re.compile(
    r"\b(?:" + "|".join(sorted(list(UNITS) + list(TENS) + ["hundred", "thousand", "million", "billion", "dozen",
                                                           "half", "quarter", "third"] + list(_ORDINALS),
                               key=len, reverse=True)) + r")\b",
    re.I,
)


def _has_number_word(text: str) -> bool:
    return bool(_NUMBER_WORD_RE.search(text))


# ---------------------------------------------------------------- formatting and checking

def format_value(value: float, unit: str) -> str:
    """A short human rendering: 21_300_000 -> "21.3 million", 4 (%) -> "4%", 340 (count) -> "340"."""
    if unit == "%":
        return f"{_trim(value)}%"
    if unit == "date":
        month, day = int(value) // 100, int(value) % 100
        return f"{_MONTH_NAMES[month - 1] if 1 <= month <= 12 else month} {day}"
    if unit == "year":
        return str(int(value))
    if unit == "x":
        return f"{_trim(value)}x"
    number = _human_number(value)
    if unit in _DURATION.values() or unit in _SIZE.values():
        return f"{number} {unit}"
    if unit in ("EUR", "GBP"):
        return f"{number} {unit}"
    return number


def _trim(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text if text not in ("-0", "") else "0"


def _human_number(value: float) -> str:
    magnitude = abs(value)
    for scale, name in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if magnitude >= scale:
            return f"{_trim(value / scale)} {name}"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _decimals_at_scale(claim: NumericClaim) -> tuple[float, int]:
    magnitude = abs(claim.value)
    scale = 1e9 if magnitude >= 1e9 else 1e6 if magnitude >= 1e6 else 1e3 if magnitude >= 1e4 else 1.0
    scaled = claim.value / scale
    text = f"{scaled:.4f}".rstrip("0").rstrip(".")
    return scale, len(text.split(".")[1]) if "." in text else 0


def _values_match(claim: NumericClaim, other: float, hedged: bool) -> bool:
    a, b = claim.value, other
    if a == b:
        return True
    denom = max(abs(a), abs(b))
    if denom == 0:
        return True
    rel = abs(a - b) / denom
    if rel <= (0.05 if hedged else 0.005):
        return True
    scale, decimals = _decimals_at_scale(claim)
    return round(b / scale, decimals) == round(a / scale, decimals)


def _units_compatible(a: str, b: str) -> bool:
    if a == b:
        return True
    money = {"USD", "EUR", "GBP"}
    if a in money and b in money:
        return False
    return {a, b} <= {"count", "number"}


def _stems(words: list[str] | str) -> set[str]:
    if isinstance(words, str):
        words = re.findall(r"[a-z0-9]+", words.lower())
    return {stem(w) for w in words if (w not in STOPWORDS and len(w) > 1) or _PERIOD_RE.match(w)}


def _periods(words: set[str]) -> set[str]:
    return {w for w in words if _PERIOD_RE.match(w)}


def _periods_conflict(claim_periods: set[str], window_periods: set[str]) -> bool:
    for p in claim_periods:
        same_kind = {w for w in window_periods if w[0] == p[0] or (w[:2] in ("19", "20") and p[:2] in ("19", "20"))}
        if same_kind and p not in same_kind:
            return True
    return False


def check_claim_against_passage(claim: NumericClaim, passage: str) -> ClaimCheck:
    """Verify a claim against a reference passage.

    Numbers in the passage are candidates when their unit is compatible and the words around them share
    the claim's metric ("q3 revenue"); periods must not conflict (Q2 figures never confirm a Q3 claim).
    The best-overlapping candidate decides: equal within rounding/tolerance -> "correct", otherwise
    "incorrect" with the passage's value as ``corrected_value``; no candidate -> "unverifiable".
    """
    claimed = format_value(claim.value, claim.unit)
    metric_words = _stems(claim.metric) if claim.metric else set()
    if not metric_words:
        metric_words = _stems(claim.text) - _stems(claim.raw)
    claim_periods = _periods(_stems(claim.metric) | _stems(claim.text))
    hedged = bool(re.search(r"\b(?:about|around|roughly|approximately|nearly|almost|some|close to)\s*$",
                            claim.text[: claim.span[0]], re.I))
    best: tuple[float, float, NumericClaim] | None = None
    for other in extract_numeric_claims(passage):
        if not _units_compatible(claim.unit, other.unit):
            continue
        sent_tokens = re.findall(r"[a-z0-9]+", other.text.lower())
        # words within ten tokens of the number, plus the metric found for it
        before_tokens = re.findall(r"[a-z0-9]+", other.text[: other.span[0]].lower())
        after_tokens = re.findall(r"[a-z0-9]+", other.text[other.span[1] :].lower())
        window = _stems(before_tokens[-10:] + after_tokens[:10]) | _stems(other.metric)
        if _periods_conflict(claim_periods, _periods(window) or _periods(_stems(sent_tokens))):
            continue
        overlap = len(metric_words & window) / len(metric_words) if metric_words else 0.0
        if overlap < 0.5:
            continue
        metric_bonus = len(metric_words & _stems(other.metric)) / max(1, len(metric_words))
        score = (overlap, metric_bonus)
        if best is None or score > (best[0], best[1]):
            best = (overlap, metric_bonus, other)
    if best is None:
        return ClaimCheck(verdict="unverifiable", claimed_value=claimed, corrected_value="", confidence=0.2,
                          evidence="")
    overlap, _, other = best
    evidence = other.text.strip()[:400]
    if _values_match(claim, other.value, hedged):
        return ClaimCheck(verdict="correct", claimed_value=claimed, corrected_value="",
                          confidence=round(min(0.95, 0.55 + 0.4 * overlap), 2), evidence=evidence)
    return ClaimCheck(verdict="incorrect", claimed_value=claimed,
                      corrected_value=format_value(other.value, other.unit if other.unit != "number" else claim.unit),
                      confidence=round(min(0.9, 0.45 + 0.4 * overlap), 2), evidence=evidence)
