"""Spoken text made readable: fillers, false starts and repeats removed, numbers said in words as digits.

Real meetings are disfluent ("um so we're gonna be selling this for uh twenty five Euro"); the learned
detector reads the cleaned text and the phrasing of action items and decisions starts from it.
"""

from __future__ import annotations

import re

from .text import word_list

_FILLER_RE = re.compile(
    r"\b(?:u+m+|u+h+|u+h+m+|e+r+m*|h+m+|m+m+(?:-hmm)?|mm-hmm|uh-huh|ah+|oh+)\b[,.]?\s*", re.I
)
# Discourse fillers: no content, and "you know" / "I mean" rarely start a task.
_DISCOURSE_RE = re.compile(
    r"(?:,\s*)?\b(?:you know|I mean|sort of|kind of|you see|or something|or whatever|and stuff|"
    r"basically|actually|like,)(?=\W|$)[,]?\s*",
    re.I,
)
_ACRONYM_RE = re.compile(r"\b((?:[A-Za-z]_){2,})")
_SPACES_RE = re.compile(r"\s+")
_LEAD_RE = re.compile(
    r"^(?:(?:so|okay|ok|alright|all right|right|yeah|yes|well|and|but|now|then|also|anyway|oh|good|great|"
    r"cool|fine)\b[,.!]?\s+)+",
    re.I,
)

_UNITS = {w: i for i, w in enumerate(word_list(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen"))}
_TENS = {w: 10 * (i + 2) for i, w in enumerate(word_list("twenty thirty forty fifty sixty seventy eighty ninety"))}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
_NUMBER_WORD = r"(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|" \
               r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|" \
               r"ninety|hundred|thousand|million)"
_NUMBER_RUN_RE = re.compile(
    rf"\b{_NUMBER_WORD}(?:(?:\s+|-)(?:and\s+)?{_NUMBER_WORD})*(?:\s+point(?:\s+{_NUMBER_WORD})+)?\b", re.I
)
_CURRENCY = r"(?:euros?|pounds?|dollars?|cents?|pence|percent)"
# "twelve fifty Euro": a price said as two groups means 12.50.
_PRICE_RE = re.compile(rf"\b(\d{{1,2}}) (\d{{2}})(?= {_CURRENCY}\b)", re.I)
# "one" is a pronoun far more often than a number in speech ("this one", "the red one").
_ONE_PRONOUN_RE = re.compile(r"\b(?:this|that|the|a|which|each|every|no|any|another|other|one|new|big|small|"
                             r"red|blue|yellow|green|black|white|first|last|next|same)\s+$", re.I)


def _words_value(words: list[str]) -> float | None:
    total = current = 0
    seen = False
    for w in words:
        w = w.lower()
        if w == "and":
            continue
        if w in _UNITS:
            current += _UNITS[w]
        elif w in _TENS:
            current += _TENS[w]
        elif w == "hundred":
            current = max(current, 1) * 100
        elif w in _SCALES:
            total += max(current, 1) * _SCALES[w]
            current = 0
        else:
            return None
        seen = True
    return float(total + current) if seen else None


def _number_groups(words: list[str]) -> list[list[str]]:
    """Split "twelve fifty" into two numbers; "twenty five" and "two hundred and five" stay one."""
    groups: list[list[str]] = []
    for w in words:
        low = w.lower()
        if not groups:
            groups.append([w])
            continue
        prev = groups[-1][-1].lower()
        joins = (
            low in _SCALES or low == "and" or prev == "and"
            or (prev in _TENS and low in _UNITS and _UNITS[low] < 10 and low != "zero")
            or (prev in _SCALES and (low in _UNITS or low in _TENS))
        )
        if joins:
            groups[-1].append(w)
        else:
            groups.append([w])
    return groups


def _format(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def _replace_number(m: re.Match) -> str:
    raw = m.group(0)
    words = [w for w in re.split(r"[\s-]+", raw) if w]
    if len(words) == 1 and words[0].lower() in ("one", "zero") and (
            _ONE_PRONOUN_RE.search(m.string[: m.start()]) or m.string[m.end():m.end() + 3].lower() == " of"):
        return raw
    if "point" in (w.lower() for w in words):
        k = [w.lower() for w in words].index("point")
        whole = _words_value(words[:k]) or 0.0
        digits = "".join(_format(_words_value([w]) or 0) for w in words[k + 1:])
        return f"{_format(whole)}.{digits}"
    out = []
    for group in _number_groups(words):
        value = _words_value(group)
        out.append(_format(value) if value is not None else " ".join(group))
    return " ".join(out)


def words_to_digits(text: str) -> str:
    """"twenty five Euro" -> "25 Euro", "twelve fifty Euros" -> "12.50 Euros"; "this one" stays."""
    text = _NUMBER_RUN_RE.sub(_replace_number, text)
    return _PRICE_RE.sub(r"\1.\2", text)


def _drop_fragments_and_repeats(tokens: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        low = tok.lower().strip(",.")
        nxt = tokens[i + 1].lower().strip(",.") if i + 1 < len(tokens) else ""
        # a false start: "th this", "firs first", "m hidden" (a cut-off word that the next word completes)
        if nxt and low and low != nxt and len(low) < len(nxt) and nxt.startswith(low) and not tok.endswith(","):
            i += 1
            continue
        # a bare cut-off letter ("t to h") that is not a word on its own
        if len(low) == 1 and low not in ("a", "i") and low.isalpha():
            i += 1
            continue
        # "the the", "I I", and two-word repeats "has to has to"
        if out and low and out[-1].lower().strip(",.") == low:
            i += 1
            continue
        if (len(out) >= 2 and i + 1 < len(tokens) and out[-2].lower().strip(",.") == low
                and out[-1].lower().strip(",.") == nxt):
            i += 2
            continue
        out.append(tok)
        i += 1
    return out


_MARKS_RE = re.compile(r"\{[^{}]{1,40}\}|\[[^\[\]]{1,40}\]|<[^<>]{1,40}>")
_SPOKEN_FILLER_RE = re.compile(
    r"(?<![\w'-])(?:u+h+|u+m+|u+h+m+|e+r+m*|e+h+|a+h+|h+m+|m+h*m+|m+-h+m+|m+m+-h+m+|u+h+-h+u+h+|u+m+-h+m+)"
    r"(?![\w'-])[,.!?]*",
    re.IGNORECASE,
)
_REPEATS_RE = re.compile(r"\b(\w+)(?:[,.]? \1\b)+", re.IGNORECASE)
_STRAY_RE = re.compile(r"(?:^|(?<=\s))[,.;:!?-]+(?=\s|$)")


def without_fillers(text: str) -> str:
    """What a line says: no transcription marks ({disfmarker}, [laughter]), fillers or stuttered repeats.

    Casing and words otherwise kept: what search indexes, and about what live captions show of a line.
    """
    text = _STRAY_RE.sub(" ", _SPOKEN_FILLER_RE.sub(" ", _MARKS_RE.sub(" ", text)))
    text = _REPEATS_RE.sub(r"\1", " ".join(text.split()))
    return text.strip(" ,;:-")


def strip_disfluencies(text: str) -> str:
    """The utterance without fillers, false starts and repeated words; case and meaning kept."""
    t = _ACRONYM_RE.sub(lambda m: m.group(1).replace("_", ""), text)
    t = t.replace("_", " ")
    t = _FILLER_RE.sub("", t)
    t = _DISCOURSE_RE.sub(" ", t)
    t = " ".join(_drop_fragments_and_repeats(t.split()))
    t = re.sub(r"\s+([,.!?])", r"\1", t)
    t = re.sub(r",(?:\s*,)+", ",", t)
    return _SPACES_RE.sub(" ", t).strip(" ,")


def readable(text: str) -> str:
    """``strip_disfluencies`` plus digits for numbers and no leading discourse markers: text for a reader."""
    t = words_to_digits(strip_disfluencies(text))
    prev = None
    while prev != t:
        prev = t
        t = _LEAD_RE.sub("", t)
    t = t.strip(" ,;-")
    return t[:1].upper() + t[1:] if t else t
