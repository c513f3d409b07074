"""The company's language model in the live path: action items, decisions and fact checks.

The local analysis always runs first and its result is the fallback. When the company routes a prompt type to a
provider, the model gets the same window of the conversation (or the claim and the passages retrieved for it),
within a live time budget (``LIVE_LLM_BUDGET_SECONDS``, one attempt, no retry). A provider that fails, times out
or answers with JSON that does not fit the schema never loses the local result: the caller stores what
``LiveOutcome`` holds, and ``provider`` says which produced it ("openai:gpt-4o-mini",
"local (fallback: openai timeout)").
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Generic, Literal, TypeVar

from django.conf import settings
from django.core.signals import setting_changed
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from pydantic import BaseModel, ConfigDict

from accounts.models import Company
from ai.models import AIProviderSettings, PromptType, PromptVersion
from ai.prompts import wrap_data
from ai.routing import Route, route_for
from integrations.llm.providers import ProviderError, complete_structured, failure_reason
from meetings import analysis
from meetings.analysis import ActionItemCandidate, DecisionCandidate, Utterance

logger = logging.getLogger(__name__)
T = TypeVar("T")
LLM_CONFIDENCE = 0.7  # a model gives no calibrated score; below the detector's sure band, above its floor
LIVE_MAX_TOKENS = 400  # a few items or one verdict; a model running on past that is not answering


@dataclass(frozen=True)
class LiveOutcome(Generic[T]):
    items: list[T]
    provider: str


class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore")


class LiveActionItem(_Out):
    description: str
    assignee: str = ""
    due_date: str = ""
    priority: Literal["high", "medium", "low"] = "medium"


class LiveActionItems(_Out):
    action_items: list[LiveActionItem]


class LiveDecision(_Out):
    text: str


class LiveDecisions(_Out):
    decisions: list[LiveDecision]


class LiveFactCheck(_Out):
    verdict: Literal["correct", "incorrect", "unverifiable"]
    passage: int = 0  # 1-based number of the passage used; 0 when none
    document_value: str = ""


@dataclass(frozen=True)
class FactCheckPassage:
    text: str


@dataclass(frozen=True)
class FactCheckAnswer:
    verdict: str
    passage_index: int | None  # 0-based index into the passages given
    document_value: str


def budget_seconds() -> float:
    return float(getattr(settings, "LIVE_LLM_BUDGET_SECONDS", 3.0))


_routes: dict[tuple[int | None, str], tuple[float, Route]] = {}
_routes_lock = threading.Lock()


def company_route(company: Company | None, prompt_type: str) -> Route:
    """The company's route for ``prompt_type`` (``None``: the global settings), remembered for
    LIVE_ROUTE_CACHE_SECONDS: each final caption asks for two or three routes, two queries each, and they change
    rarely (a change made in this process clears them at once; other processes follow within the cache time)."""
    ttl = float(getattr(settings, "LIVE_ROUTE_CACHE_SECONDS", 0.0))
    key, now = (company.pk if company is not None else None, prompt_type), time.monotonic()
    with _routes_lock:
        hit = _routes.get(key)
    if hit is not None and now - hit[0] < ttl:
        return hit[1]
    route = route_for(company=company, prompt_type=prompt_type)
    if ttl > 0:
        with _routes_lock:
            if len(_routes) > 4096:
                _routes.clear()
            _routes[key] = (now, route)
    return route


def routes_forget(**kwargs: object) -> None:
    """Drop the remembered routes (a prompt or the provider settings changed, or a setting did)."""
    with _routes_lock:
        _routes.clear()


def _routes_forget_now_and_at_commit(**kwargs: object) -> None:
    # Now for this thread, and again at commit: another thread may remember the old route in between.
    routes_forget()
    transaction.on_commit(routes_forget, using=kwargs.get("using"))


for _model in (PromptVersion, AIProviderSettings):
    post_save.connect(
        _routes_forget_now_and_at_commit, sender=_model, dispatch_uid=f"live-routes-{_model.__name__}-save"
    )
    post_delete.connect(
        _routes_forget_now_and_at_commit, sender=_model, dispatch_uid=f"live-routes-{_model.__name__}-delete"
    )
setting_changed.connect(routes_forget, dispatch_uid="live-routes-settings")


def _ask(route: Route, *, task: str, data: str, output: type[BaseModel]) -> BaseModel:
    assert route.spec is not None
    # One attempt within the live budget: a retry would arrive after the moment has passed.
    spec = dataclasses.replace(route.spec, timeout=min(route.spec.timeout or budget_seconds(), budget_seconds()),
                               max_retries=0, max_tokens=min(route.spec.max_tokens or LIVE_MAX_TOKENS, LIVE_MAX_TOKENS))
    messages = [{"role": "system", "content": route.prompt.body},
                {"role": "user", "content": f"{task}\n\n{wrap_data(data)}\n\nReply with JSON."}]
    return complete_structured(spec, messages=messages, output=output, attempts=1)


def _fallback(route: Route, exc: BaseException) -> str:
    reason = failure_reason(exc)
    logger.warning("live %s provider %s failed: %s", route.prompt.prompt_type, route.label, reason)
    return f"local (fallback: {route.provider_name} {reason})"


def _window_text(window: Sequence[Utterance]) -> str:
    return "\n".join(f"{u.speaker or 'Unknown'}: {u.text.strip()}" for u in window)


def live_action_items(*, company: Company | None, window: Sequence[Utterance], meeting_date: date,
                      participants: Sequence[str], local: list[ActionItemCandidate]) -> LiveOutcome:
    """Action items in the last line of ``window`` (the lines before it are context)."""
    route = company_route(company, PromptType.ACTION_ITEMS)
    if route.spec is None or not window:
        return LiveOutcome(local, route.label)
    task = (f"Meeting date: {meeting_date.isoformat()}. Participants: {', '.join(participants) or 'not listed'}.\n"
            "List the action items agreed or requested in the LAST line only (earlier lines are context). "
            "Due dates as YYYY-MM-DD or empty. An empty list when there is none.")
    try:
        out = _ask(route, task=task, data=_window_text(window), output=LiveActionItems)
    except (ProviderError, TimeoutError, ValueError) as exc:
        return LiveOutcome(local, _fallback(route, exc))
    last = window[-1]
    items = []
    for row in out.action_items:  # type: ignore[attr-defined]
        description = row.description.strip()
        if not description:
            continue
        due = analysis.resolve_due_date(row.due_date, meeting_date=meeting_date) if row.due_date else None
        assignee = row.assignee if row.assignee in participants else ""
        items.append(ActionItemCandidate(
            description=description, assignee_name=assignee, due_date=due, priority=row.priority,
            confidence=LLM_CONFIDENCE, source_text=last.text, dedupe_key=analysis.normalize_key(description),
            segment_id=last.segment_id))
    return LiveOutcome(items, route.label)


def live_decisions(*, company: Company | None, window: Sequence[Utterance],
                   local: list[DecisionCandidate]) -> LiveOutcome:
    """Decisions settled by the last line of ``window``."""
    route = company_route(company, PromptType.DECISIONS)
    if route.spec is None or not window:
        return LiveOutcome(local, route.label)
    task = ("List the decisions the participants settled in the LAST line only (earlier lines are context), each "
            "as one clear sentence. An empty list when the last line settles nothing.")
    try:
        out = _ask(route, task=task, data=_window_text(window), output=LiveDecisions)
    except (ProviderError, TimeoutError, ValueError) as exc:
        return LiveOutcome(local, _fallback(route, exc))
    last = window[-1]
    items = [DecisionCandidate(text=row.text.strip(), confidence=LLM_CONFIDENCE, source_text=last.text,
                               dedupe_key=analysis.normalize_key(row.text), segment_id=last.segment_id)
             for row in out.decisions if row.text.strip()]  # type: ignore[attr-defined]
    return LiveOutcome(items, route.label)


def live_fact_check(*, company: Company | None, claim: str, passages: Sequence[FactCheckPassage]) -> LiveOutcome | None:
    """The model's verdict on ``claim`` given the numbered passages; None when the company uses the local check."""
    route = company_route(company, PromptType.FACT_CHECK)
    if route.spec is None or not passages:
        return None
    numbered = "\n\n".join(f"[{i + 1}] {p.text}" for i, p in enumerate(passages))
    task = (f"Claim made in the meeting: {claim!r}\nCheck it against the numbered passages below. Give the "
            "verdict, the number of the passage you used and the value that passage gives.")
    try:
        out = _ask(route, task=task, data=numbered, output=LiveFactCheck)
    except (ProviderError, TimeoutError, ValueError) as exc:
        return LiveOutcome([], _fallback(route, exc))
    index = out.passage - 1 if 1 <= out.passage <= len(passages) else None  # type: ignore[attr-defined]
    answer = FactCheckAnswer(verdict=out.verdict, passage_index=index,  # type: ignore[attr-defined]
                             document_value=out.document_value[:200])  # type: ignore[attr-defined]
    return LiveOutcome([answer], route.label)
