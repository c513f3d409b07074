"""What the Overview page shows: headline numbers and the getting-started checklist.

Apps add their own numbers and tick their own checklist steps without touching this
app's templates, from their ``AppConfig.ready()``::

    from accounts.dashboard import Stat, checklist_check, home_stat

    @home_stat(order=10)
    def meetings_this_week(principal):
        return Stat(label="Meetings this week", value=..., url=reverse("meetings:list"))

    @checklist_check("documents")
    def has_documents(principal) -> bool:
        return document_count(company=principal.company) > 0

A stat provider may return None to show nothing. Providers run inside the request's
tenant scope; a provider that fails is logged and left out rather than breaking the page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from accounts import selectors
from accounts.auth import Principal
from accounts.permissions import Perm, has_perm

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stat:
    label: str
    value: int | str
    url: str = ""
    hint: str = ""


@dataclass(frozen=True)
class ChecklistStep:
    key: str
    title: str
    description: str
    url: str
    action: str
    done: bool


StatProvider = Callable[[Principal], Stat | None]
DoneCheck = Callable[[Principal], bool]

_stat_providers: list[tuple[int, StatProvider]] = []
_done_checks: dict[str, DoneCheck] = {}


def home_stat(order: int = 100) -> Callable[[StatProvider], StatProvider]:
    """Register a function ``(principal) -> Stat | None`` for the Overview page (lower order first)."""

    def register(func: StatProvider) -> StatProvider:
        if func not in [f for _, f in _stat_providers]:
            _stat_providers.append((order, func))
            _stat_providers.sort(key=lambda item: item[0])
        return func

    return register


def checklist_check(key: str) -> Callable[[DoneCheck], DoneCheck]:
    """Register ``(principal) -> bool`` telling whether the checklist step ``key`` is done."""

    def register(func: DoneCheck) -> DoneCheck:
        _done_checks[key] = func
        return func

    return register


def _url(name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


@home_stat(order=80)
def _members_stat(principal: Principal) -> Stat:
    return Stat(label="Team members", value=selectors.membership_count(company=principal.company),
                url=reverse("accounts:team"))


@home_stat(order=90)
def _tokens_stat(principal: Principal) -> Stat:
    return Stat(label="Your API tokens", value=selectors.api_token_active_count(
        company=principal.company, user=principal.user), url=reverse("accounts:tokens"), hint="active")


@checklist_check("extension")
def _has_token(principal: Principal) -> bool:
    return selectors.api_token_list(company=principal.company, user=principal.user).exists()


@checklist_check("team")
def _has_team(principal: Principal) -> bool:
    return (selectors.membership_count(company=principal.company) > 1
            or selectors.invitation_list(company=principal.company, pending_only=False).exists())


def home_stats(principal: Principal) -> list[Stat]:
    stats = []
    for _, provider in _stat_providers:
        try:
            stat = provider(principal)
        except Exception:
            logger.exception("home stat %s failed", getattr(provider, "__name__", provider))
            continue
        if stat is not None:
            stats.append(stat)
    return stats


def _done(key: str, principal: Principal) -> bool:
    check = _done_checks.get(key)
    if check is None:
        return False
    try:
        return bool(check(principal))
    except Exception:
        logger.exception("checklist check %s failed", key)
        return False


def getting_started(principal: Principal) -> list[ChecklistStep]:
    """The three first steps, each with where to do it and whether it is done."""
    steps = [
        ChecklistStep(
            key="extension", title="Install the Chrome extension and connect it",
            description="Download it, load it in Chrome and press Connect: it streams your meetings' captions.",
            url=reverse("accounts:extension"), action="Get the extension", done=_done("extension", principal),
        ),
        ChecklistStep(
            key="documents", title="Upload your documents",
            description="Product sheets, pricing, policies: answers and fact checks come from them.",
            url=_url("knowledge:documents"), action="Upload documents", done=_done("documents", principal),
        ),
    ]
    if has_perm(principal, Perm.MEMBERS_MANAGE):
        steps.append(ChecklistStep(
            key="team", title="Invite your team",
            description="Colleagues see the same meetings, documents and action items.",
            url=reverse("accounts:team"), action="Invite people", done=_done("team", principal),
        ))
    return steps
