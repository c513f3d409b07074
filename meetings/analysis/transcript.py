"""Whole-transcript analysis: the per-utterance detectors plus what needs the conversation around them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import numpy as np

from .combined import transcript_items
from .dates import find_due_dates
from .detectors import (
    _action_matches,
    detect_decisions,
    detect_question,
    is_acknowledgement,
    is_recap,
    is_referent_decision,
    proposal_text,
)
from .keyphrases import ranked_keyphrases
from .numbers import extract_numeric_claims
from .sentiment import sentiment_score
from .stats import infer_speaker_roles, talk_time_stats
from .summarize import Embed, flag_sentences, rank_sentences, segment_topics, transcript_sentences, vectorize
from .text import (
    FILLERS,
    STOPWORDS,
    clean_spoken,
    content_tokens,
    first_name,
    normalize_key,
    split_sentences,
    token_f1,
    word_list,
    words,
)
from .types import (
    ActionItemCandidate,
    DecisionCandidate,
    NumericClaim,
    TranscriptAnalysis,
    TranscriptQuestion,
    Utterance,
)

# Items below this confidence stay out of the after-meeting list ("we should update the page" with no owner).
MIN_ACTION_CONFIDENCE = 0.5
_PRIORITY_RANK = {"low": 0, "medium": 1, "high": 2}


@dataclass
class _Item:
    description: str
    assignee: str
    due: date | None
    priority: str
    confidence: float
    source_text: str
    segment_id: int | None
    index: int
    kind: str
    vague: bool
    requester: str
    claimed: bool = False


_PARTICLES = frozenset({"over", "up", "out", "back", "down", "in", "on", "off", "together", "along", "across"})
_PRONOUN_NUMBER = {"it": "one", "that": "one", "this": "one", "them": "many", "those": "many", "these": "many"}
_DETERMINERS = frozenset({"the", "your", "our", "their", "his", "her", "a", "an", "those", "these", "this", "that",
                          "my"})
# verbs whose bare object is a noun phrase worth remembering ("I'll need API credentials for a sandbox")
_OBJECT_VERBS = frozenset({"need", "needs", "want", "wants", "share", "send", "get", "provide", "have", "about"})
_PREPOSITIONS = frozenset({"for", "of", "from", "on"})
_TIME_WORDS = frozenset(word_list(
    """
    today tomorrow tonight yesterday morning afternoon evening monday tuesday wednesday thursday friday saturday
    sunday week weekend month quarter year asap eod eow later soon now
    """
))


def _pronoun_index(description: str) -> int | None:
    """Position of a pronoun standing in for the object ("Send those over", "Have it in your sandbox")."""
    words_ = description.split()
    for i, w in enumerate(words_[1:4], start=1):
        low = w.lower().strip(",.!?")
        if low in _PARTICLES:
            continue
        return i if low in _PRONOUN_NUMBER else None
    return None


def _noun_phrases(text: str) -> list[tuple[str, str]]:
    """(phrase, head) for determiner-led noun phrases, with a short "for/of ..." tail."""
    toks = re.findall(r"[A-Za-z0-9][\w'-]*|[^\sA-Za-z0-9]", text)
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(toks):
        if toks[i].lower() not in _DETERMINERS and toks[i].lower() not in _OBJECT_VERBS:
            i += 1
            continue
        if toks[i].lower() in _OBJECT_VERBS and i + 1 < len(toks) and toks[i + 1].lower() in _DETERMINERS:
            i += 1
            continue
        j = i + 1
        words_: list[str] = []
        while j < len(toks) and len(words_) < 4 and toks[j][0].isalnum() and toks[j].lower() not in STOPWORDS \
                and toks[j].lower() not in FILLERS and toks[j].lower() not in _TIME_WORDS:
            words_.append(toks[j])
            j += 1
        if not words_:
            i += 1
            continue
        head = words_[-1]
        if j + 1 < len(toks) and toks[j].lower() in _PREPOSITIONS:
            k = j + 1
            if k < len(toks) and toks[k].lower() in _DETERMINERS:
                k += 1
            tail: list[str] = []
            while k < len(toks) and len(tail) < 3 and toks[k][0].isalnum() and toks[k].lower() not in STOPWORDS \
                    and toks[k].lower() not in _TIME_WORDS:
                tail.append(toks[k])
                k += 1
            if tail:
                words_ += [toks[j], *([toks[j + 1]] if toks[j + 1].lower() in _DETERMINERS else []), *tail]
                j = k
        if not head.isdigit():
            out.append((" ".join(words_), head))
        i = j
    return out


def _is_plural(word: str) -> bool:
    w = word.lower()
    return w.endswith("s") and not w.endswith(("ss", "us", "is"))


def _resolve_pronoun(description: str, context: list[str]) -> str | None:
    """Replace the object pronoun with the closest agreeing noun phrase said just before."""
    idx = _pronoun_index(description)
    if idx is None:
        return None
    words_ = description.split()
    plural = _PRONOUN_NUMBER[words_[idx].lower().strip(",.!?")] == "many"
    for text in context:
        for sentence in reversed(split_sentences(text)):
            for phrase, head in reversed(_noun_phrases(sentence)):
                if _is_plural(head) == plural and head.lower() not in FILLERS:
                    words_[idx] = "the " + phrase
                    return " ".join(words_)
    return None


def _expand_definite(description: str, context: list[str]) -> str:
    """"Draft the template" -> "Draft the status page update template for checkout incidents" when a fuller
    phrase for the same thing was just said."""
    m = re.search(r"\bthe ([a-z][\w-]*)\b(?!\s+(?:for|of)\b)(?=\s*(?:$|to\b|with\b|and\b|by\b|for\b|,))",
                  description)
    if not m or m.group(1) in STOPWORDS:
        return description
    head = m.group(1)
    for text in context:
        for phrase, phrase_head in _noun_phrases(text):
            if phrase_head.lower() == head.lower() and len(phrase.split()) > 1:
                return description[: m.start(1)] + phrase + description[m.end(1):]
    return description


def _richer(request: str, commitment: str) -> str:
    """The better description when a commitment answers a request."""
    object_pronoun = re.search(r"\b(?:it|them|those|these)\b|\b(?:that|this)\s*(?:$|up\b|to\b|for\b|with\b|by\b|,)",
                               request, re.I)
    if object_pronoun and _pronoun_index(commitment) is None:
        return commitment
    r, c = (len(content_tokens(x, drop_fillers=True)) for x in (request, commitment))
    return commitment if c > r else request


def _containment(a: str, b: str) -> float:
    ta, tb = set(content_tokens(a)), set(content_tokens(b))
    if not ta or not tb:
        return 0.0
    return len(ta & tb) / min(len(ta), len(tb))


def _merge_fields(target: _Item, *, due: date | None, priority: str, confidence: float, override_due: bool) -> None:
    if due is not None and (override_due or target.due is None):
        target.due = due
    if _PRIORITY_RANK[priority] > _PRIORITY_RANK[target.priority] or (
        priority == "low" and target.priority == "medium"
    ):
        target.priority = priority
    target.confidence = round(min(0.99, max(target.confidence, confidence) + 0.05), 2)


def _pending_request(items: list[_Item], index: int, speaker: str, window: int = 3) -> _Item | None:
    for item in reversed(items):
        if index - item.index > window:
            break
        if item.kind in ("request", "someone", "marker") and (not item.claimed or item.vague) \
                and item.requester != speaker and item.assignee in ("", speaker):
            return item
        if item.kind not in ("request", "someone", "marker"):
            continue
    return None


def _recent(items: list[_Item], index: int, speaker: str, window: int = 3, assignee: str | None = None
            ) -> _Item | None:
    """The item a follow-up from ``speaker`` most likely refers to (for ``assignee`` when it names one)."""
    for item in reversed(items):
        if index - item.index > window:
            break
        if assignee and assignee != speaker:
            if item.assignee in ("", assignee):
                return item
        elif item.assignee in ("", speaker) or item.requester == speaker:
            return item
    return None


def _duplicate(items: list[_Item], description: str, assignee: str, *, threshold: float = 0.6) -> _Item | None:
    key = normalize_key(description)
    for item in items:
        if normalize_key(item.description) == key:
            return item  # one item per dedupe key, as the ActionItem table expects
        same_owner = item.assignee == assignee or not item.assignee or not assignee
        if same_owner and token_f1(item.description, description) >= threshold:
            return item
    return None


def contextual_action_items(
    utterances: list[Utterance], *, meeting_date: date, participants: list[str]
) -> list[ActionItemCandidate]:
    """Action items for a whole transcript.

    On top of ``detect_action_items`` per utterance: a commitment that answers a request claims it ("Can you
    send the logs?" / "Sure, I'll have them by Thursday"), "Will do" assigns an open request to whoever said
    it, a short "Thursday it is" sets the due date of the item just discussed, vague "I'll do that" attaches
    to what it refers to (or is dropped), recaps only fill gaps, and repeats are merged.
    """
    items: list[_Item] = []
    speakers = list(dict.fromkeys(u.speaker for u in utterances if u.speaker))
    for i, u in enumerate(utterances):
        matches = _action_matches(u, meeting_date=meeting_date, participants=participants)
        if not matches:
            if is_acknowledgement(u.text):
                request = _pending_request(items, i, u.speaker, window=2)
                if request is not None:
                    request.assignee = request.assignee or u.speaker
                    request.claimed = True
                    request.confidence = round(min(0.99, request.confidence + 0.05), 2)
            elif len(words(u.text)) <= 10:
                dues = find_due_dates(u.text, meeting_date=meeting_date)
                target = _recent(items, i, u.speaker) if dues else None
                if target is not None and i > 0 and utterances[i - 1].speaker != u.speaker:
                    asked = detect_question(utterances[i - 1])
                    if asked is not None and asked.is_question and not find_due_dates(
                            utterances[i - 1].text, meeting_date=meeting_date):
                        target = None  # "October 6th" answers "When is launch?", not the task
                if target is not None and (target.due is None or target.assignee == u.speaker
                                           or target.requester == u.speaker):
                    target.due = dues[0][2]
                    if target.assignee == "" and target.requester != u.speaker:
                        target.assignee = u.speaker
            continue
        recap = is_recap(u.text)
        context = [utterances[j].text for j in range(i - 1, max(-1, i - 4), -1)]
        for m in matches:
            if recap:
                existing = next((it for it in items if it.assignee == m.assignee
                                 and _containment(it.description, m.description) >= 0.5), None)
                if existing is not None:
                    _merge_fields(existing, due=m.due, priority=m.priority, confidence=0.0, override_due=False)
                    continue
                if m.vague:
                    continue
            pronoun_led = _pronoun_index(m.description) is not None
            if m.kind == "self":
                request = _pending_request(items, i, u.speaker)
                if request is not None and (m.vague or pronoun_led or request.assignee == u.speaker
                                            or (not request.assignee and request.index == i - 1)
                                            or token_f1(request.description, m.description) >= 0.25):
                    if request.vague and not m.vague:
                        request.description, request.vague = m.description, False
                    elif not m.vague and not pronoun_led:
                        request.description = _richer(request.description, m.description)
                    request.assignee = u.speaker
                    request.claimed = True
                    _merge_fields(request, due=m.due, priority=m.priority, confidence=m.confidence, override_due=True)
                    continue
            description = m.description
            vague = m.vague
            if m.vague or pronoun_led:
                target = _recent(items, i, u.speaker, assignee=m.assignee)
                if target is not None:
                    if not target.assignee and m.assignee:
                        target.assignee = m.assignee
                    _merge_fields(target, due=m.due, priority=m.priority, confidence=0.0,
                                  override_due=target.assignee == u.speaker)
                    continue
                earlier = u.text[: u.text.find(m.clause)] if m.clause in u.text else ""
                resolved = _resolve_pronoun(description, [earlier, *context]) if pronoun_led else None
                if resolved is None and m.vague and m.kind not in ("request", "someone"):
                    continue
                description = resolved or description
                vague = resolved is None and m.vague  # an unresolved request waits for someone to claim it
            description = _expand_definite(description, context)
            duplicate = _duplicate(items, description, m.assignee)
            if duplicate is not None:
                if not duplicate.assignee:
                    duplicate.assignee = m.assignee
                _merge_fields(duplicate, due=m.due, priority=m.priority, confidence=m.confidence, override_due=False)
                continue
            items.append(_Item(
                description=description, assignee=m.assignee, due=m.due, priority=m.priority,
                confidence=min(m.confidence, 0.6) if recap else m.confidence, source_text=u.text,
                segment_id=u.segment_id, index=i, kind=m.kind, vague=vague,
                requester=u.speaker if m.kind in ("request", "someone", "marker") else "",
            ))
    if len(speakers) == 2:
        for item in items:
            if not item.assignee and item.kind == "request":
                item.assignee = next(s for s in speakers if s != item.requester)
    return [
        ActionItemCandidate(
            description=it.description, assignee_name=it.assignee, due_date=it.due, priority=it.priority,
            confidence=it.confidence, source_text=it.source_text, dedupe_key=normalize_key(it.description),
            segment_id=it.segment_id,
        )
        for it in items
        if not it.vague and it.confidence >= MIN_ACTION_CONFIDENCE
    ]


def contextual_decisions(utterances: list[Utterance]) -> list[DecisionCandidate]:
    """Decisions for a whole transcript: stated ones, "let's do that" resolved to the proposal before it,
    and repeats (recaps, "agreed") merged into the first mention."""
    decisions: list[DecisionCandidate] = []
    last_decision_index = -10
    for i, u in enumerate(utterances):
        found = detect_decisions(u)
        if not found and is_referent_decision(u.text) and i - last_decision_index > 1:
            for j in (i - 1, i - 2):
                if j < 0:
                    break
                proposal = proposal_text(utterances[j].text)
                if proposal:
                    found = [DecisionCandidate(text=proposal, confidence=0.6, source_text=utterances[j].text,
                                               dedupe_key=normalize_key(proposal),
                                               segment_id=utterances[j].segment_id)]
                    break
        for d in found:
            duplicate = next((k for k, e in enumerate(decisions)
                              if token_f1(e.text, d.text) >= 0.5 or _containment(e.text, d.text) >= 0.75), None)
            if duplicate is not None:
                e = decisions[duplicate]
                decisions[duplicate] = DecisionCandidate(
                    text=e.text, confidence=round(min(0.99, max(e.confidence, d.confidence) + 0.05), 2),
                    source_text=e.source_text, dedupe_key=e.dedupe_key, segment_id=e.segment_id)
                continue
            decisions.append(d)
            last_decision_index = i
    return decisions


def _substantive(text: str) -> bool:
    if re.search(r"\d", text):
        return True
    if re.match(r"^\W*(?:yes|yeah|yep|no|nope|sure|correct|absolutely|definitely|we do|we don't|it is|it's not)\b",
                text, re.I) and len(words(text)) >= 3:
        return True
    return len(content_tokens(text, drop_fillers=True)) >= 3


def answered_questions(utterances: list[Utterance], *, window: int = 4, max_gap_seconds: float = 180.0
                       ) -> list[TranscriptQuestion]:
    """Real questions, each marked answered when a different speaker responds substantively soon after."""
    out: list[TranscriptQuestion] = []
    for i, u in enumerate(utterances):
        q = detect_question(u)
        if q is None or not q.is_question:
            continue
        answered_by = None
        for j in range(i + 1, min(len(utterances), i + 1 + window)):
            v = utterances[j]
            if u.end and v.start and v.start - u.end > max_gap_seconds:
                break
            if v.speaker == u.speaker:
                follow = detect_question(v)
                if follow is not None and follow.is_question:
                    break  # the asker moved on to another question
                continue
            reply = detect_question(v)
            reply_is_question = reply is not None and reply.is_question and len(words(v.text)) < 12
            if not reply_is_question and _substantive(v.text):
                answered_by = j
                break
        out.append(TranscriptQuestion(text=q.text, asker=u.speaker, index=i, answered=answered_by is not None,
                                      answered_by=answered_by, confidence=q.confidence))
    return out


def _sentiment(utterances: list[Utterance]) -> dict:
    scores = [sentiment_score(u.text) for u in utterances]
    weights = [max(1, len(words(u.text))) for u in utterances]
    overall = float(np.average(scores, weights=weights)) if scores else 0.0
    per: dict[str, list[tuple[float, int]]] = {}
    for u, s, w in zip(utterances, scores, weights, strict=True):
        per.setdefault(u.speaker, []).append((s, w))
    per_participant = {k: round(sum(s * w for s, w in v) / sum(w for _, w in v), 3) for k, v in per.items()}
    timeline: list[tuple[float, float]] = []
    if utterances:
        start = min(u.start for u in utterances)
        end = max(max(u.end, u.start) for u in utterances)
        width = max(60.0, (end - start) / 12) if end > start else 0.0
        if width:
            buckets: dict[int, list[float]] = {}
            for u, s in zip(utterances, scores, strict=True):
                buckets.setdefault(int((u.start - start) // width), []).append(s)
            timeline = [(round(start + (b + 0.5) * width, 1), round(sum(v) / len(v), 3))
                        for b, v in sorted(buckets.items())]
        else:
            timeline = [(float(i), round(s, 3)) for i, s in enumerate(scores)]
    return {"overall": round(overall, 3), "per_participant": per_participant, "timeline": timeline}


def _clock(seconds: float) -> str:
    seconds = int(max(0, seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def _list_phrase(items: list[str]) -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _due_text(due: date | None) -> str:
    return f"{due.strftime('%a')} {due.day} {due.strftime('%b %Y')}" if due else ""


def _short_summary(utterances, topics, decisions, items, key_points, speakers) -> str:
    subjects = [t["title"].lower() for t in topics if t["title"] != "General discussion"]
    if len(subjects) < 2:
        subjects = [p for p, _ in ranked_keyphrases([u.text for u in utterances], top_n=3,
                                                    exclude={first_name(s) for s in speakers})]
    subjects = list(dict.fromkeys(subjects))[:3]
    parts = []
    who = f"{len(speakers)} participant{'s' if len(speakers) != 1 else ''}"
    parts.append(f"{who} discussed {_list_phrase(subjects)}." if subjects else f"{who} met.")
    if decisions:
        texts = [d.text.rstrip(".") for d in decisions[:2]]
        parts.append(f"Decided: {'; '.join(texts)}.")
    elif key_points:
        parts.append(key_points[0].rstrip(".") + ".")
    if items:
        first = items[0]
        owner = first_name(first.assignee_name) if first.assignee_name else "unassigned"
        due = f", due {_due_text(first.due_date)}" if first.due_date else ""
        noun = "action item was" if len(items) == 1 else "action items were"
        parts.append(f"{len(items)} {noun} agreed, including: {first.description.rstrip('.')} ({owner}{due}).")
    return " ".join(parts[:3])


def _follow_up_email(short_summary, decisions, items, questions, utterances, speakers) -> str:
    lines = ["Hi all,", "", "Thanks for your time today. Here is a short recap of our meeting.", "", "Summary",
             short_summary, ""]
    if decisions:
        lines.append("Decisions")
        lines += [f"- {d.text.rstrip('.')}" for d in decisions]
        lines.append("")
    lines.append("Action items")
    if items:
        for it in items:
            owner = it.assignee_name or "Unassigned"
            due = f", due {_due_text(it.due_date)}" if it.due_date else ""
            flag = " [high priority]" if it.priority == "high" else ""
            lines.append(f"- {it.description.rstrip('.')} ({owner}{due}){flag}")
    else:
        lines.append("- None recorded")
    lines.append("")
    open_questions = [q for q in questions if not q.answered]
    if open_questions:
        lines.append("Open questions")
        lines += [f"- {q.text} ({first_name(q.asker)})" for q in open_questions[:8]]
        lines.append("")
    lines += ["Please reply if I missed or misstated anything.", "", "Best regards,"]
    return "\n".join(lines)


# Key points are facts and conclusions: figures count most; tasks are listed separately.
_KEY_POINT_WEIGHTS = {"numeric": 0.4, "decision": 0.2, "action": -0.35, "question": -0.5, "position": 0.12}


def _key_point_count(n_utterances: int) -> int:
    return 8 if n_utterances <= 60 else min(12, 8 + (n_utterances - 60) // 100)


def analyze_transcript(
    utterances: list[Utterance], *, meeting_date: date, participants=(), embed: Embed | None = None
) -> TranscriptAnalysis:
    """Everything the after-meeting report needs, from plain utterances (no database, no network)."""
    utterances = [u for u in utterances if u.text and u.text.strip()]
    speakers = list(dict.fromkeys(u.speaker for u in utterances if u.speaker))
    names = list(dict.fromkeys([*(participants or ()), *speakers]))
    items, decisions = transcript_items(
        utterances, meeting_date=meeting_date, participants=names,
        rule_items=contextual_action_items(utterances, meeting_date=meeting_date, participants=names),
        rule_decisions_found=contextual_decisions(utterances))
    questions = answered_questions(utterances)
    topics = segment_topics(utterances, embed=embed)

    sentences = transcript_sentences(utterances)
    flag_sentences(sentences)
    vectors = vectorize([s.text for s in sentences], embed) if sentences else np.zeros((0, 1), dtype=np.float32)
    k = _key_point_count(len(utterances))
    picked = rank_sentences(sentences, vectors, k=k, weights=_KEY_POINT_WEIGHTS, diversity=0.6)
    key_points = [clean_spoken(sentences[i].text) for i in sorted(picked)]
    covered = " ".join(key_points)
    for d in decisions:
        if len(key_points) >= k + 2:
            break
        if token_f1(d.text, covered) < 0.3 and all(token_f1(d.text, kp) < 0.5 for kp in key_points):
            key_points.append(d.text)

    paragraphs = []
    for topic in topics:
        members = [i for i, s in enumerate(sentences) if s.index in set(topic["utterance_indexes"])]
        if not members:
            continue
        chosen = rank_sentences([sentences[i] for i in members], vectors[members], k=3)
        body = " ".join(f"{first_name(sentences[members[c]].speaker)}: {clean_spoken(sentences[members[c]].text)}"
                        for c in sorted(chosen))
        header = f"{topic['title']} ({_clock(topic['start'])}–{_clock(topic['end'])})"
        paragraphs.append(f"{header}\n{body}")
    detailed = "\n\n".join(paragraphs)

    short = _short_summary(utterances, topics, decisions, items, key_points, speakers)
    claims: list[NumericClaim] = [c for u in utterances for c in extract_numeric_claims(u.text)]
    return TranscriptAnalysis(
        action_items=items,
        decisions=decisions,
        questions=questions,
        key_points=key_points,
        short_summary=short,
        detailed_summary=detailed,
        topics=topics,
        sentiment=_sentiment(utterances),
        talk_time=talk_time_stats(utterances),
        follow_up_email=_follow_up_email(short, decisions, items, questions, utterances, speakers),
        numeric_claims=claims,
        speaker_roles=infer_speaker_roles(utterances),
    )

