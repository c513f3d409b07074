"""Small text helpers: tokens, stopwords, sentences, dedupe keys."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache


def word_list(text: str) -> list[str]:
    """The whitespace-separated words of a block of text (keeps long vocabularies readable in source)."""
    return text.split()


STOPWORDS = frozenset(
    word_list(
        """
        a about above after again against all also am an and any are aren't as at be because been before
        being below between both but by can can't cannot could couldn't did didn't do does doesn't doing
        don't down during each few for from further get gets got had hadn't has hasn't have haven't having
        he he'd he'll he's her here here's hers herself him himself his how how's i i'd i'll i'm i've if in
        into is isn't it it's its itself just let's me more most mustn't my myself no nor not of off on once
        only or other ought our ours ourselves out over own same shan't she she'd she'll she's should
        shouldn't so some such than that that's the their theirs them themselves then there there's these
        they they'd they'll they're they've this those through to too under until up very was wasn't we we'd
        we'll we're we've were weren't what what's when when's where where's which while who who's whom why
        why's will with won't would wouldn't you you'd you'll you're you've your yours yourself yourselves
        okay ok yeah yes yep um uh uhm hmm oh well like really actually basically right sure gonna wanna
        kind sort thing things stuff lot lots maybe probably also still even already via us one
        """
    )
)

# Words that carry no topic in meetings even though they are not grammatical stopwords.
FILLERS = frozenset(
    word_list(
        """
        think know mean guess going go want need say said thanks thank great good nice cool awesome hi hello
        bye everyone everybody guys folks today quick question questions sounds sound perfect makes make
        sense let talk soon time call meeting morning afternoon get got take look looks see way back little
        bit pretty quite much many something anything everything someone somebody done doing able sure fine
        love happy glad idea
        """
    )
)

_TOKEN_RE = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?(?:\.[0-9]+)?")
_WORD_RE = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?")
# A sentence ends at . ! ? followed by space and an upper-case letter, digit or quote;
# "$18.7M", "e.g." and "Dr." stay inside their sentence.
_SENT_END_RE = re.compile(r"[.!?]+[\"')]*\s+(?=[\"'A-Z0-9$£€])")
_ABBREVIATIONS = frozenset({"e.g", "i.e", "vs", "mr", "mrs", "ms", "dr", "st", "etc", "approx", "no", "inc", "jr"})


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens; apostrophes kept ("don't"), decimals kept ("18.7")."""
    return _TOKEN_RE.findall(text.lower().replace("’", "'"))


def words(text: str) -> list[str]:
    return _WORD_RE.findall(text)


@lru_cache(maxsize=8192)
def stem(word: str) -> str:
    """A deliberately light stemmer: enough to match "sends"/"send" and "customers"/"customer"."""
    w = word.lower()
    if len(w) <= 3 or not w.isalpha():
        return w
    base = w
    for suffix, repl in (("ies", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            if suffix == "s" and w.endswith(("ss", "us", "is")):
                break
            if suffix == "es" and not w.endswith(("shes", "ches", "xes", "sses", "zes")):
                base = w[:-1]
                break
            base = w[: len(w) - len(suffix)] + repl
            if suffix in ("ing", "ed") and len(base) > 3 and base[-1] == base[-2] and base[-1] not in "lsz":
                base = base[:-1]
            break
    # "update"/"updated"/"updating" all end up as "updat".
    if len(base) > 3 and base.endswith("e"):
        base = base[:-1]
    return base


def content_tokens(text: str, *, drop_fillers: bool = False) -> list[str]:
    """Stemmed tokens without stopwords (and optionally meeting fillers)."""
    out = []
    for t in tokens(text):
        t = t.replace("'s", "")
        if t in STOPWORDS or (drop_fillers and t in FILLERS) or (len(t) < 2 and not t.isdigit()):
            continue
        out.append(stem(t))
    return out


def split_sentences(text: str) -> list[str]:
    text = " ".join(text.split())
    out: list[str] = []
    begin = 0
    for m in _SENT_END_RE.finditer(text):
        before = text[begin : m.start()].rsplit(" ", 1)[-1].lower()
        if text[m.start()] == "." and before.rstrip(".") in _ABBREVIATIONS:
            continue
        piece = text[begin : m.end()].strip()
        if piece:
            out.append(piece)
        begin = m.end()
    tail = text[begin:].strip()
    if tail:
        out.append(tail)
    return out


def normalize_key(text: str) -> str:
    """A dedupe key: lower-cased, punctuation and stopwords stripped, light stemming, sha1 hex."""
    core = " ".join(content_tokens(text))
    return hashlib.sha1(core.encode("utf-8")).hexdigest()


def token_f1(a: str, b: str) -> float:
    """Bag-of-content-tokens F1 between two strings (0 when either side is empty)."""
    ta, tb = content_tokens(a), content_tokens(b)
    if not ta or not tb:
        return 0.0
    common: dict[str, int] = {}
    for t in ta:
        common[t] = common.get(t, 0) + 1
    overlap = 0
    for t in tb:
        if common.get(t, 0) > 0:
            overlap += 1
            common[t] -= 1
    if not overlap:
        return 0.0
    p, r = overlap / len(tb), overlap / len(ta)
    return 2 * p * r / (p + r)


def jaccard(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def first_name(name: str) -> str:
    return name.split()[0] if name.strip() else ""


def clean_spoken(text: str) -> str:
    """Drop disfluencies and leading discourse markers so extracted sentences read cleanly."""
    t = re.sub(r"\b(?:um+|uh+|uhm+|erm|hmm+)\b[,.]?\s*", "", text, flags=re.I)
    t = re.sub(r"\b(\w+)(?:\s+\1\b)+", r"\1", t, flags=re.I)  # "the the"
    prev = None
    while prev != t:
        prev = t
        t = re.sub(
            r"^(?:so|okay|ok|alright|all right|right|yeah|yes|well|and|but|great|good|perfect|cool|nice|also|"
            r"anyway|now|honestly|basically|look|listen)\b[,.!]?\s+",
            "",
            t,
            flags=re.I,
        )
    t = t.strip(" ,;")
    return t[:1].upper() + t[1:] if t else t


def descriptions_match(a: str, b: str) -> bool:
    """Whether two task or decision texts say the same thing, for deduplicating beyond ``normalize_key``
    ("Send the revised proposal" vs "Send the revised proposal with the pilot terms")."""
    if normalize_key(a) == normalize_key(b):
        return True
    ta, tb = set(content_tokens(a)), set(content_tokens(b))
    if not ta or not tb:
        return False
    return token_f1(a, b) >= 0.6 or (len(ta & tb) / min(len(ta), len(tb)) >= 0.75 and min(len(ta), len(tb)) >= 2)
