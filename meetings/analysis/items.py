"""Action items and decisions of a whole transcript, from the learned detector's scores, phrased for a reader.

Where the detector fires, the rule phrasing of ``detectors.py`` is tried on the disfluency-stripped window
(it knows "I'll" -> the speaker, "can you" -> the addressee, due dates); when the rules find no clean
commitment there (most real speech: "you're gonna be working on the actual working design of it"), the
utterance itself is rewritten: fillers and false starts dropped, numbers as digits, the subject and
auxiliaries ("we're gonna be", "you'll need to") removed, the verb put in its base form, "this"/"it" kept.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from .dates import find_due_dates
from .detectors import _action_matches, _name_index, _remove_spans
from .disfluency import readable
from .learned import DetectorScore, Model, committed_model, pick, score_utterances
from .text import first_name, normalize_key
from .types import ActionItemCandidate, DecisionCandidate, Utterance

# Subject + auxiliaries in front of the verb of a task or decision.
_SUBJECT_RE = re.compile(
    r"^(?:(?:so|and|but|then|now|well|okay|ok|right|yeah|also|just|i think|i guess|probably|maybe|"
    r"in the meantime|for (?:the )?next (?:meeting|time)|according to (?:the|our) \w+|as the [\w ]{3,30}?,)"
    r"\s*,?\s*)*"
    r"(?P<who>i|we|you|you guys|everyone|everybody|he|she|they|"
    r"[A-Z][a-z]+(?=\s*(?:'ll| will| is going to| is gonna| needs to| has to| should)))"
    r"(?!\s+(?:think|guess|mean|suppose|reckon|know|don't)\b)\s*"
    r"(?:'ll|'re|'m|'d| will| would| are| am| is| shall| can| could| should| must| need to| have to| has to|"
    r"'ve got to| got to| gotta)?"
    r"(?:\s+(?:just|also|probably|definitely|all|then|both|first|actually|still|now))*"
    r"(?:\s+(?:going to|gonna|need to|have to|want to|wanna|got to|gotta|be able to|try to|try and))?"
    r"(?:\s+(?:just|also|probably|definitely|all|then|first|actually))*"
    r"(?:\s+be)?\s+(?=\w)",
    re.I,
)
_LETS_RE = re.compile(r"^(?:(?:so|and|okay|ok|right|yeah|well|then)\s*,?\s*)*let's\s+", re.I)
_TRAIL_RE = re.compile(r"(?:[\s,]+(?:and|so|but|or|then|because|that|the|a|of|to|with|for|at|like|and then|"
                       r"as well|okay|right|yeah|I think|I guess))+[\s,.?!]*$", re.I)
_SENT_CUT = 140
_IRREGULAR = {"selling": "sell", "getting": "get", "putting": "put", "running": "run", "setting": "set",
              "making": "make", "having": "have", "using": "use", "taking": "take", "giving": "give",
              "writing": "write", "coming": "come", "deciding": "decide", "designing": "design",
              "sold": "sell", "made": "make", "done": "do", "going": "go"}
_EXTRA_WORDS = frozenset({"produce", "create", "change", "choose", "prepare", "decide", "include", "price",
                          "use", "have", "sell", "cost", "come", "be", "make", "keep", "go", "stick"})


def _base(word: str) -> str:
    low = word.lower()
    if low in _IRREGULAR:
        return _IRREGULAR[low]
    if low.endswith("ing") and len(low) > 5:
        stem = low[:-3]
        if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in "lsz":
            return stem[:-1]  # "shipping" -> "ship"
        if stem + "e" in _EXTRA_WORDS or re.search(r"(?:[^aeiou][aeiou][cgsvz]|at|iz|ur|ut|id)$", stem):
            return stem + "e"  # "producing" -> "produce", "creating" -> "create"
        return stem
    return low


def _tidy(text: str) -> str:
    text = re.split(r"(?<=[.?!])\s", text, maxsplit=1)[0]
    prev = None
    while prev != text:
        prev = text
        text = _TRAIL_RE.sub("", text).strip(" ,;:-.?!")
    if len(text) > _SENT_CUT:
        text = text[:_SENT_CUT].rsplit(" ", 1)[0] + "…"
    return text[:1].upper() + text[1:] if text else ""


def imperative(text: str) -> tuple[str, str]:
    """("you're gonna be working on the actual design of it") -> ("Work on the actual design of it", "you")."""
    t = readable(text)
    who = ""
    m = _LETS_RE.match(t)
    if m:
        t, who = t[m.end():], "we"
    else:
        m = _SUBJECT_RE.match(t)
        if not m:
            # a lead-in clause before the subject: "In between now and then, as the designer, you're gonna..."
            for cut in re.finditer(r",\s*", t):
                m = _SUBJECT_RE.match(t[cut.end():])
                if m:
                    t = t[cut.end():]
                    break
        if m and m.group("who"):
            who = m.group("who").lower()
            rest = t[m.end():]
            if rest and len(rest.split()) >= 2:
                t = rest
    words = t.split()
    if words and who:
        words[0] = _base(words[0])
    return _tidy(" ".join(words)), who


def _owner(who: str, utterances: Sequence[Utterance], index: int, names: dict[str, str]) -> str:
    u = utterances[index]
    vocative = re.search(r"(?:^|,\s*)([A-Z][a-z]+)\s*,", u.text)
    if vocative and vocative.group(1).lower() in names:
        return names[vocative.group(1).lower()]
    if who == "i":
        return u.speaker
    if who == "you":
        # the addressee: the next speaker who is not the one asking (the reply usually comes from them)
        for j in range(index + 1, min(len(utterances), index + 3)):
            if utterances[j].speaker != u.speaker:
                return utterances[j].speaker
    if who and who.lower() in names:
        return names[who.lower()]
    return ""


def _window(n: int, i: int) -> range:
    return range(max(0, i - 1), min(n, i + 2))


def _action_item(utterances: Sequence[Utterance], i: int, score: float, *, meeting_date: date,
                 participants: Sequence[str]) -> ActionItemCandidate | None:
    names = _name_index(participants)
    for j in sorted(_window(len(utterances), i), key=lambda j: abs(j - i)):
        u = utterances[j]
        clean = Utterance(speaker=u.speaker, text=readable(u.text), start=u.start, end=u.end,
                          segment_id=u.segment_id)
        matches = [m for m in _action_matches(clean, meeting_date=meeting_date, participants=participants)
                   if not m.vague]
        if matches:
            m = matches[0]
            return ActionItemCandidate(
                description=_tidy(m.description), assignee_name=m.assignee, due_date=m.due, priority=m.priority,
                confidence=round(score, 2), source_text=u.text, dedupe_key=normalize_key(m.description),
                segment_id=u.segment_id, source_indices=tuple(sorted({i, j})))
    u = utterances[i]
    description, who = imperative(u.text)
    dues = [d for j in _window(len(utterances), i) for d in find_due_dates(readable(utterances[j].text),
                                                                          meeting_date=meeting_date)]
    if dues and find_due_dates(description, meeting_date=meeting_date):
        spans = [(s, e) for s, e, _, _ in find_due_dates(description, meeting_date=meeting_date)]
        description = _tidy(_remove_spans(description, spans))
    if len(description.split()) < 2:
        return None
    owner = _owner(who, utterances, i, names)
    return ActionItemCandidate(
        description=description, assignee_name=owner, due_date=dues[0][2] if dues else None, priority="medium",
        confidence=round(score, 2), source_text=u.text, dedupe_key=normalize_key(description),
        segment_id=u.segment_id, source_indices=(i,))


def _decision(utterances: Sequence[Utterance], i: int, scores: Sequence[DetectorScore]) -> DecisionCandidate | None:
    # a decision spread over turns: phrase the most informative of the high-scoring turns around the peak
    window = [j for j in _window(len(utterances), i) if scores[j].decision >= 0.5 * scores[i].decision]
    best = max(window, key=lambda j: (len(readable(utterances[j].text).split()) >= 4, scores[j].decision))
    text, _ = imperative(utterances[best].text)
    if len(text.split()) < 3:
        return None
    u = utterances[best]
    return DecisionCandidate(text=text, confidence=round(scores[i].decision, 2), source_text=u.text,
                             dedupe_key=normalize_key(text), segment_id=u.segment_id,
                             source_indices=tuple(sorted(set(window))))


def extract_items(utterances: Sequence[Utterance], *, meeting_date: date, participants: Sequence[str] = (),
                  scores: Sequence[DetectorScore] | None = None, model: Model | None = None,
                  ) -> tuple[list[ActionItemCandidate], list[DecisionCandidate]]:
    """Action items and decisions of a transcript: where the learned detector fires (committed thresholds),
    phrased for a reader, with owner, due date and the transcript positions they come from."""
    utterances = list(utterances)
    model = model or committed_model()
    scores = list(scores) if scores is not None else score_utterances(utterances, model=model)
    speakers = list(dict.fromkeys(u.speaker for u in utterances if u.speaker))
    names = list(dict.fromkeys([*(participants or ()), *speakers]))
    actions: list[ActionItemCandidate] = []
    for i in pick(scores, "action", model=model):
        item = _action_item(utterances, i, scores[i].action, meeting_date=meeting_date, participants=names)
        if item is not None and all(a.dedupe_key != item.dedupe_key for a in actions):
            actions.append(item)
    decisions: list[DecisionCandidate] = []
    for i in pick(scores, "decision", model=model):
        d = _decision(utterances, i, scores)
        if d is not None and all(e.dedupe_key != d.dedupe_key for e in decisions):
            decisions.append(d)
    return actions, decisions


def live_items(history: Sequence[Utterance], scored: Sequence[tuple[int, DetectorScore]], *, meeting_date: date,
               participants: Sequence[str] = (), model: Model | None = None,
               ) -> tuple[list[ActionItemCandidate], list[DecisionCandidate]]:
    """The items among utterances that ``learned.score_live`` just scored (above the committed thresholds)."""
    model = model or committed_model()
    actions: list[ActionItemCandidate] = []
    decisions: list[DecisionCandidate] = []
    speakers = list(dict.fromkeys(u.speaker for u in history if u.speaker))
    names = list(dict.fromkeys([*(participants or ()), *speakers]))
    for index, score in scored:
        if score.action >= model.threshold("action"):
            item = _action_item(history, index, score.action, meeting_date=meeting_date, participants=names)
            if item is not None:
                actions.append(item)
        if score.decision >= model.threshold("decision"):
            scores = [DetectorScore(0.0, score.decision if j == index else 0.0) for j in range(len(history))]
            d = _decision(history, index, scores)
            if d is not None:
                decisions.append(d)
    return actions, decisions


def owner_label(name: str) -> str:
    return first_name(name) if name else ""
