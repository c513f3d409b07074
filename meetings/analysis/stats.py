"""Who talked how much, and who is the customer."""

from __future__ import annotations

from collections import Counter, defaultdict

from .detectors import detect_question
from .text import words
from .types import TalkStats, Utterance

_WORDS_PER_SECOND = 2.5  # used when an utterance carries no timing


def _duration(u: Utterance) -> float:
    if u.end > u.start:
        return u.end - u.start
    return len(words(u.text)) / _WORDS_PER_SECOND


def talk_time_stats(utterances: list[Utterance]) -> list[TalkStats]:
    """Per speaker: seconds, share of all speech, turns, longest uninterrupted stretch, words, pace, questions.

    Consecutive utterances by the same speaker form one turn; a monologue is measured from the turn's first
    start to its last end (its summed durations when there are no timings). Sorted by speaking time.
    """
    seconds: dict[str, float] = defaultdict(float)
    word_count: Counter[str] = Counter()
    turns: Counter[str] = Counter()
    longest: dict[str, float] = defaultdict(float)
    questions: Counter[str] = Counter()
    order: list[str] = []
    current, turn_start, turn_end, turn_sum = None, 0.0, 0.0, 0.0

    def close_turn() -> None:
        if current is None:
            return
        span = turn_end - turn_start if turn_end > turn_start else 0.0
        longest[current] = max(longest[current], max(span, turn_sum))

    for u in utterances:
        speaker = u.speaker or "Unknown"
        if speaker not in seconds:
            order.append(speaker)
        d = _duration(u)
        seconds[speaker] += d
        word_count[speaker] += len(words(u.text))
        q = detect_question(u)
        if q is not None and q.is_question:
            questions[speaker] += 1
        if speaker != current:
            close_turn()
            current, turn_start, turn_end, turn_sum = speaker, u.start, u.end, 0.0
            turns[speaker] += 1
        turn_end = max(turn_end, u.end)
        turn_sum += d
    close_turn()
    total = sum(seconds.values()) or 1.0
    stats = [
        TalkStats(
            speaker=s,
            speaking_seconds=round(seconds[s], 2),
            share=round(seconds[s] / total, 4),
            turns=turns[s],
            longest_monologue_seconds=round(longest[s], 2),
            words=word_count[s],
            words_per_minute=round(word_count[s] / (seconds[s] / 60), 1) if seconds[s] else 0.0,
            questions_asked=questions[s],
        )
        for s in order
    ]
    stats.sort(key=lambda t: (-t.speaking_seconds, t.speaker))
    return stats


def _domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].strip().lower() if "@" in email else ""


def _same_company(domain: str, company_domain: str) -> bool:
    company_domain = company_domain.lower().lstrip("@")
    return bool(domain) and (domain == company_domain or domain.endswith("." + company_domain))


def infer_speaker_roles(
    utterances: list[Utterance], *, participant_emails: dict[str, str] | None = None, company_domain: str = ""
) -> dict[str, str]:
    """"customer" | "consultant" | "internal" | "unknown" for every speaker.

    Email domains decide first: the company's own people are "internal", or "consultant" when someone from
    outside is in the meeting, and outsiders are "customer". Speakers without an email fall back to
    conversation: in a meeting with more than one speaker, whoever asks clearly the most questions is the
    customer and whoever answers most of them the consultant.
    """
    speakers: list[str] = []
    for u in utterances:
        if u.speaker and u.speaker not in speakers:
            speakers.append(u.speaker)
    emails = {k.lower(): v for k, v in (participant_emails or {}).items() if v}
    roles = dict.fromkeys(speakers, "unknown")
    by_email: dict[str, str] = {}
    if company_domain:
        for s in speakers:
            domain = _domain(emails.get(s.lower(), ""))
            if domain:
                by_email[s] = "internal" if _same_company(domain, company_domain) else "customer"
        if "customer" in by_email.values():
            by_email = {s: ("consultant" if r == "internal" else r) for s, r in by_email.items()}
        roles.update(by_email)
    unresolved = [s for s in speakers if s not in by_email]
    if len(speakers) < 2 or not unresolved:
        return roles
    asked: Counter[str] = Counter()
    answered: Counter[str] = Counter()
    for i, u in enumerate(utterances):
        q = detect_question(u)
        if q is None or not q.is_question:
            continue
        asked[u.speaker] += 1
        for nxt in utterances[i + 1 : i + 4]:
            if nxt.speaker != u.speaker and len(words(nxt.text)) >= 4:
                answered[nxt.speaker] += 1
                break
    candidates = [s for s in unresolved if asked[s] >= 2]
    if candidates:
        top = max(candidates, key=lambda s: (asked[s] - answered[s], asked[s]))
        others = [asked[s] for s in speakers if s != top]
        clear_asker = asked[top] >= 2 * max(others, default=0) or (asked[top] - answered[top]) >= 2
        if clear_asker and ("customer" not in by_email.values() or top in unresolved):
            roles[top] = "customer"
    if "customer" in roles.values():
        answerers = [s for s in unresolved if roles[s] == "unknown" and answered[s] > 0]
        if answerers:
            roles[max(answerers, key=lambda s: answered[s])] = "consultant"
    return roles
