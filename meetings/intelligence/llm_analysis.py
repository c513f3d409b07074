"""After-meeting analysis with a language model, on top of the local analysis.

The local analysis (``meetings.analysis``) always runs: it needs no keys and gives the
measurements a model should not guess (talk time, sentiment, topics with time ranges,
questions). Where a provider is routed for a prompt type, the model then writes the
sections it is good at: summary and key points, action items, decisions and the
follow-up email. Each section falls back to the local result on its own when its
provider fails, and the outcome records who produced what.

Long meetings: the transcript is cut into parts that fit ``INTELLIGENCE_LLM_PART_TOKENS``
(estimated at four characters a token) and summarised part by part, then the part
summaries are reduced into one (map-reduce, recursively when they do not fit either).
At most ``INTELLIGENCE_LLM_MAX_PARTS`` parts go to the model; beyond that the result is
marked partial and says which stretch came from the local analysis only.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, TypeVar

from django.conf import settings
from django.utils import timezone
from pydantic import BaseModel, ConfigDict, field_validator

from accounts.models import Company
from ai.models import PromptType
from ai.prompts import wrap_data
from ai.routing import Route, route_for
from integrations.llm.providers import ProviderError, complete_structured
from meetings import analysis as local_analysis
from meetings.intelligence.matching import same_item
from meetings.intelligence.timefmt import clock

logger = logging.getLogger(__name__)

T = TypeVar("T")
CHARS_PER_TOKEN = 4
MIN_SUMMARY_WORDS = 3
MIN_ITEM_WORDS = 2

# --- what the model is asked to return ------------------------------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore")


def _words(text: str) -> int:
    return len(re.findall(r"[^\W\d_]{2,}", text))


def _has_words(text: str, *, at_least: int, what: str) -> str:
    """A summary with fewer words than this is not content (small models answer "." or a lone word in
    valid JSON); failing validation makes the section fall back to the local analysis. Items without
    content are dropped one by one instead (the rest of the list may be good)."""
    if _words(text) < at_least:
        raise ValueError(f"{what} has fewer than {at_least} words")
    return text


class SummaryOut(_Out):
    short_summary: str
    detailed_summary: str
    key_points: list[str]

    @field_validator("short_summary", "detailed_summary")
    @classmethod
    def _summary_has_content(cls, value: str) -> str:
        return _has_words(value, at_least=MIN_SUMMARY_WORDS, what="summary")


class ActionItemOut(_Out):
    description: str
    assignee: str = ""
    due_date: str = ""
    priority: Literal["high", "medium", "low"] = "medium"
    source_text: str = ""


class ActionItemsOut(_Out):
    action_items: list[ActionItemOut]

    @field_validator("action_items")
    @classmethod
    def _drop_empty(cls, items: list[ActionItemOut]) -> list[ActionItemOut]:
        return [item for item in items if _words(item.description) >= MIN_ITEM_WORDS]  # the rest may be good


class DecisionOut(_Out):
    text: str
    source_text: str = ""


class DecisionsOut(_Out):
    decisions: list[DecisionOut]

    @field_validator("decisions")
    @classmethod
    def _drop_empty(cls, decisions: list[DecisionOut]) -> list[DecisionOut]:
        return [decision for decision in decisions if _words(decision.text) >= MIN_ITEM_WORDS]


class EmailOut(_Out):
    subject: str
    body: str


# --- outcome ----------------------------------------------------------------------------------


@dataclass
class ProviderAnalysis:
    analysis: Any  # meetings.analysis.TranscriptAnalysis with the model's sections swapped in
    provider: str  # "local", "openai:gpt-4o-mini", "local (fallback: openai timeout)", ...
    sections: dict[str, str] = field(default_factory=dict)  # section -> provider label
    is_partial: bool = False
    notes: list[str] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)  # section -> why its provider failed


@dataclass(frozen=True)
class _Part:
    index: int
    start: float
    end: float
    text: str


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))




def transcript_parts(utterances: Sequence[Any], *, part_chars: int) -> list[_Part]:
    """Consecutive utterances as ``[mm:ss] Speaker: text`` lines, cut into parts of at most ``part_chars``."""
    parts: list[_Part] = []
    lines: list[str] = []
    size, start = 0, None
    last_end = 0.0
    for utterance in utterances:
        line = f"[{clock(utterance.start)}] {utterance.speaker or 'Unknown'}: {utterance.text.strip()}"
        if len(line) > part_chars:
            line = line[: part_chars - 1] + "…"
        if lines and size + len(line) + 1 > part_chars:
            parts.append(_Part(len(parts), start or 0.0, last_end, "\n".join(lines)))
            lines, size, start = [], 0, None
        if start is None:
            start = float(utterance.start)
        lines.append(line)
        size += len(line) + 1
        last_end = float(utterance.end)
    if lines:
        parts.append(_Part(len(parts), start or 0.0, last_end, "\n".join(lines)))
    return parts


def _replace(obj: Any, **changes: Any) -> Any:
    """A copy of a dataclass or pydantic result with some fields changed."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.replace(obj, **changes)
    if hasattr(obj, "model_copy"):
        return obj.model_copy(update=changes)
    clone = copy.copy(obj)
    for key, value in changes.items():
        setattr(clone, key, value)
    return clone


def _pool_map(fn: Callable[[Any], T], items: Sequence[Any]) -> list[T]:
    workers = max(1, min(len(items), _setting("INTELLIGENCE_LLM_CONCURRENCY", 4)))
    if workers == 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="llm-map") as pool:
        return list(pool.map(fn, items))


def _dedupe(items: list[T], text: Callable[[T], str]) -> list[T]:
    """Items in order, without those that repeat an earlier one (same dedupe key or fuzzy-same text)."""
    kept: list[T] = []
    for item in items:
        if not any(same_item(text(item), text(other), key_a=item.dedupe_key, key_b=other.dedupe_key)
                   for other in kept):
            kept.append(item)
    return kept


class _Context:
    """Everything one analysis run needs to talk to the models."""

    def __init__(self, *, meeting_title: str, meeting_date: date, participants: Sequence[str]) -> None:
        self.meeting_title = meeting_title
        self.meeting_date = meeting_date
        self.participants = list(participants)

    def header(self) -> str:
        who = ", ".join(self.participants) or "not listed"
        return f"Meeting date: {self.meeting_date.isoformat()}\nParticipants: {who}\n"

    def messages(self, route: Route, task: str, data: str) -> list[dict[str, str]]:
        title = f"Meeting title: {self.meeting_title}\n" if self.meeting_title else ""
        return [
            {"role": "system", "content": route.prompt.body},
            {"role": "user", "content": f"{title}{self.header()}{task}\n\n{wrap_data(data)}\n\nReply with JSON."},
        ]


def _summary(ctx: _Context, route: Route, parts: list[_Part], part_chars: int) -> SummaryOut:
    assert route.spec is not None
    if len(parts) == 1:
        return complete_structured(route.spec, output=SummaryOut, messages=ctx.messages(
            route, "Summarise this meeting transcript.", parts[0].text))

    def summarise_part(part: _Part) -> str:
        out = complete_structured(route.spec, output=SummaryOut, messages=ctx.messages(
            route, f"This is part {part.index + 1} of {len(parts)} of a long meeting "
                   f"({clock(part.start)}-{clock(part.end)}). Summarise this part only.", part.text))
        return f"Part {part.index + 1} ({clock(part.start)}-{clock(part.end)}):\n{out.detailed_summary}\n" + \
            "\n".join(f"- {point}" for point in out.key_points)

    summaries = _pool_map(summarise_part, parts)
    # Reduce: merge groups of part summaries that fit one request until one group is left.
    while True:
        groups: list[list[str]] = [[]]
        for text in summaries:
            text = text[:part_chars]
            if groups[-1] and sum(len(t) for t in groups[-1]) + len(text) > part_chars:
                groups.append([])
            groups[-1].append(text)
        if len(groups) == 1:
            return complete_structured(route.spec, output=SummaryOut, messages=ctx.messages(
                route, "These are summaries of consecutive parts of one meeting. Write the summary of the "
                       "whole meeting.", "\n\n".join(groups[0])))
        summaries = [
            complete_structured(route.spec, output=SummaryOut, messages=ctx.messages(
                route, "These are summaries of consecutive parts of one meeting. Merge them into one summary "
                       "of this stretch.", "\n\n".join(group))).detailed_summary
            for group in groups
        ]


def _action_items(ctx: _Context, route: Route, parts: list[_Part]) -> list[Any]:
    assert route.spec is not None

    def extract(part: _Part) -> list[ActionItemOut]:
        task = "List the action items in this meeting transcript."
        if len(parts) > 1:
            task = f"This is part {part.index + 1} of {len(parts)} of a long meeting. List its action items."
        return complete_structured(route.spec, output=ActionItemsOut,
                                   messages=ctx.messages(route, task, part.text)).action_items

    found = [item for items in _pool_map(extract, parts) for item in items if item.description.strip()]
    candidates = [
        local_analysis.ActionItemCandidate(
            description=item.description.strip(),
            assignee_name=item.assignee.strip(),
            due_date=_parse_date(item.due_date),
            priority=item.priority,
            confidence=0.8,
            source_text=item.source_text.strip(),
            dedupe_key=local_analysis.normalize_key(item.description),
        )
        for item in found
    ]
    return _dedupe(candidates, text=lambda c: c.description)


def _decisions(ctx: _Context, route: Route, parts: list[_Part]) -> list[Any]:
    assert route.spec is not None

    def extract(part: _Part) -> list[DecisionOut]:
        task = "List the decisions made in this meeting transcript."
        if len(parts) > 1:
            task = f"This is part {part.index + 1} of {len(parts)} of a long meeting. List its decisions."
        return complete_structured(route.spec, output=DecisionsOut,
                                   messages=ctx.messages(route, task, part.text)).decisions

    found = [item for items in _pool_map(extract, parts) for item in items if item.text.strip()]
    candidates = [
        local_analysis.DecisionCandidate(text=item.text.strip(), confidence=0.8, source_text=item.source_text.strip(),
                                         dedupe_key=local_analysis.normalize_key(item.text))
        for item in found
    ]
    return _dedupe(candidates, text=lambda c: c.text)


def _follow_up_email(ctx: _Context, route: Route, analysis: Any) -> str:
    assert route.spec is not None
    lines = [f"Summary: {analysis.detailed_summary or analysis.short_summary}", "", "Decisions:"]
    lines += [f"- {d.text}" for d in analysis.decisions] or ["- none"]
    lines += ["", "Action items:"]
    lines += [
        f"- {a.description} (owner: {a.assignee_name or 'unassigned'}"
        + (f", due {a.due_date.isoformat()}" if a.due_date else "") + ")"
        for a in analysis.action_items
    ] or ["- none"]
    out = complete_structured(route.spec, output=EmailOut, messages=ctx.messages(
        route, "Draft the follow-up email for this meeting from these notes.", "\n".join(lines)))
    return f"Subject: {out.subject.strip()}\n\n{out.body.strip()}"


def _parse_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()[:10]) if value and value.strip() else None
    except ValueError:
        return None


def _overall_label(sections: dict[str, str]) -> str:
    labels = list(dict.fromkeys(sections.values()))
    model_labels = [label for label in labels if not label.startswith("local")]
    fallbacks = [label for label in labels if label.startswith("local (")]
    if not model_labels:
        return fallbacks[0] if fallbacks else "local"
    label = model_labels[0]
    if fallbacks or len(model_labels) > 1:
        fallen = sorted(name for name, value in sections.items() if value.startswith("local ("))
        extra = f" + {', '.join(model_labels[1:])}" if len(model_labels) > 1 else ""
        label = f"{label}{extra}" + (f" (local for: {', '.join(fallen)})" if fallen else "")
    return label[:100]


def analyze_utterances(
    utterances: Sequence[Any],
    *,
    company: Company | None,
    meeting_title: str = "",
    meeting_date: date | None = None,
    participants: Sequence[str] = (),
    embed: Callable | None = None,
    provider: str = "",
) -> ProviderAnalysis:
    """The local analysis, with the sections a routed provider writes swapped in.

    ``provider`` forces one provider for every section ("local", "openai", "anthropic"); empty
    means the company's routing (prompt choice, company default, then automatic).
    """
    meeting_date = meeting_date or timezone.localdate()
    result = local_analysis.analyze_transcript(list(utterances), meeting_date=meeting_date,
                                               participants=tuple(participants), embed=embed)
    routes = {
        section: route_for(company=company, prompt_type=prompt_type, provider=provider)
        for section, prompt_type in (("summary", PromptType.SUMMARY), ("action_items", PromptType.ACTION_ITEMS),
                                     ("decisions", PromptType.DECISIONS),
                                     ("follow_up_email", PromptType.FOLLOW_UP_EMAIL))
    }
    sections = {name: route.label for name, route in routes.items()}
    if all(route.spec is None for route in routes.values()) or not utterances:
        return ProviderAnalysis(analysis=result, provider=_overall_label(sections), sections=sections)

    part_chars = _setting("INTELLIGENCE_LLM_PART_TOKENS", 6000) * CHARS_PER_TOKEN
    max_parts = _setting("INTELLIGENCE_LLM_MAX_PARTS", 16)
    parts = transcript_parts(utterances, part_chars=part_chars)
    notes: list[str] = []
    is_partial = False
    if len(parts) > max_parts:
        is_partial = True
        covered_until = parts[max_parts - 1].end
        notes.append(
            f"The transcript is longer than the language model budget ({len(parts)} parts of about "
            f"{part_chars // CHARS_PER_TOKEN} tokens, at most {max_parts} are sent): the summary covers "
            f"00:00-{clock(covered_until)}; action items and decisions after that come from the local analysis."
        )
        parts = parts[:max_parts]
    ctx = _Context(meeting_title=meeting_title, meeting_date=meeting_date, participants=participants)

    # A provider that is down (timeout, unreachable, 5xx, refused key) is not asked again in this run:
    # one wait per run instead of one per section. A reply of the wrong shape only costs its section.
    down: dict[tuple, str] = {}
    failures: dict[str, str] = {}

    def attempt(name: str, run: Callable[[Route], Any]) -> Any:
        route = routes[name]
        if route.spec is None:
            return None
        target = (route.spec.kind, route.spec.base_url, route.spec.model)
        try:
            if target in down:
                raise ProviderError("skipped: failed earlier in this run", reason=down[target])
            return run(route)
        except ProviderError as exc:
            if target not in down:
                logger.warning("provider %s failed for %s: %s", route.spec.label, name, exc.reason)
            if exc.reason != "invalid output":
                down[target] = exc.reason
            failures[name] = exc.reason
            sections[name] = f"local (fallback: {route.spec.kind} {exc.reason})"
            notes.append(f"{name.replace('_', ' ').capitalize()}: {route.spec.label} failed ({exc.reason}); "
                         "the local analysis was used.")
            return None

    summary = attempt("summary", lambda r: _summary(ctx, r, parts, part_chars))
    if summary is not None:
        result = _replace(result, short_summary=summary.short_summary.strip(),
                          detailed_summary=summary.detailed_summary.strip(),
                          key_points=[p.strip() for p in summary.key_points if p.strip()])
    items = attempt("action_items", lambda r: _action_items(ctx, r, parts))
    if items is not None:
        if is_partial:  # keep what the local analysis found in the stretch the model did not see
            items = _dedupe([*items, *result.action_items], text=lambda c: c.description)
        result = _replace(result, action_items=items)
    decisions = attempt("decisions", lambda r: _decisions(ctx, r, parts))
    if decisions is not None:
        if is_partial:
            decisions = _dedupe([*decisions, *result.decisions], text=lambda c: c.text)
        result = _replace(result, decisions=decisions)
    email = attempt("follow_up_email", lambda r: _follow_up_email(ctx, r, result))
    if email is not None:
        result = _replace(result, follow_up_email=email)
    return ProviderAnalysis(analysis=result, provider=_overall_label(sections), sections=sections,
                            is_partial=is_partial, notes=notes, failures=failures)


def analyze_with_provider(utterances: Sequence[Any], *, company: Company | None = None, provider: str = "llm",
                          meeting_date: date | None = None, participants: Sequence[str] = (),
                          strict: bool = True) -> Any:
    """For ``make eval``: the analysis as produced by ``provider`` ("llm"/"openai", "anthropic", "local").

    Returns a ``TranscriptAnalysis`` like ``meetings.analysis.analyze_transcript``, with the
    product's own prompts (the company's, or the built-in ones without a company) and the same
    map-reduce as the after-meeting pipeline. With ``strict`` a section that fell back to the
    local analysis raises ``ProviderError`` instead, so a provider failure is not scored as the
    provider's result.
    """
    forced = {"llm": "openai", "openai": "openai", "anthropic": "anthropic", "local": "local"}.get(provider, provider)
    outcome = analyze_utterances(utterances, company=company, meeting_date=meeting_date, participants=participants,
                                 provider=forced)
    fallen = {name: label for name, label in outcome.sections.items() if label.startswith("local (")}
    if strict and forced != "local" and fallen:
        reason = next(iter(outcome.failures.values()), "not configured")
        raise ProviderError(f"{provider} did not produce {', '.join(sorted(fallen))}: {reason}", reason=reason,
                            provider=forced)
    return outcome.analysis
