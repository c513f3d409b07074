"""What the ticket providers (Jira, Linear) have in common: one normalised ticket and one HTTP call.

A provider client turns its own issue into a ``RemoteTicket`` so the two-way sync (``workflows``)
compares and applies the same four fields whatever the provider: title, assignee, due date, done.
``http_call`` is the one place a ticket client meets the network: explicit timeouts, the provider's
own error message kept, 429 / 5xx / timeouts marked transient with the provider's Retry-After.
"""

from __future__ import annotations

import email.utils
import hashlib
import hmac
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from django.conf import settings

from integrations.spec import ProviderError

TRANSIENT_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class RemoteTicket:
    """A ticket as the provider has it now. ``assignee`` is the provider's own user id (or None)."""

    id: str
    key: str
    url: str
    title: str
    assignee: str | None
    assignee_email: str | None
    assignee_name: str
    due_date: str | None  # ISO date
    done: bool
    cancelled: bool = False
    updated: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TicketDraft:
    """What we send when creating or updating: only the fields that are not None are written."""

    title: str | None = None
    description: str | None = None
    assignee: str | None = None  # provider user id; "" unassigns
    due_date: str | None = None  # ISO date; "" clears
    priority: str | None = None  # our priority: high / medium / low
    marker: str = ""  # our item marker (a Jira label; a Linear issue id)
    link: str = ""  # the meeting in MeetPilot, added to the description as a link


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After in seconds or as an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def http_timeout() -> httpx.Timeout:
    seconds = float(getattr(settings, "INTEGRATIONS_HTTP_TIMEOUT", 10.0))
    return httpx.Timeout(seconds, connect=min(seconds, 5.0))


def http_call(method: str, url: str, *, what: str, message_of: Any, **kwargs: Any) -> httpx.Response:
    """One request. Raises ``ProviderError`` with ``what`` and the provider's own message (``message_of``
    reads it from the response); transient for 429, 5xx, timeouts and network errors."""
    try:
        response = httpx.request(method, url, timeout=http_timeout(), follow_redirects=False, **kwargs)
    except httpx.TimeoutException as exc:
        raise ProviderError(f"{what}: the provider did not answer in time", transient=True) from exc
    except httpx.HTTPError as exc:
        raise ProviderError(f"{what}: could not reach the provider ({type(exc).__name__})", transient=True) from exc
    if 300 <= response.status_code < 400:
        where = response.headers.get("Location", "elsewhere")
        raise ProviderError(f"{what}: HTTP {response.status_code}: the provider redirected to {where}; "
                            "check the address in the settings", status=response.status_code)
    if response.status_code >= 400:
        try:
            detail = message_of(response) or ""
        except ValueError:
            detail = ""
        detail = detail or response.text[:300] or response.reason_phrase
        raise ProviderError(f"{what}: HTTP {response.status_code}: {detail}"[:1000], status=response.status_code,
                            retry_after=retry_after_seconds(response.headers.get("Retry-After")),
                            transient=response.status_code in TRANSIENT_STATUS)
    return response


UNEXPECTED = (KeyError, TypeError, ValueError, AttributeError, IndexError)


def unexpected_answer(what: str, exc: Exception) -> ProviderError:
    """A provider answered 2xx with something we cannot read (HTML from a wrong URL, a changed API)."""
    return ProviderError(f"{what} answered in a way MeetPilot cannot read ({type(exc).__name__}: {exc})"[:1000])


class TicketClient:
    """The operations the sync needs from a ticket provider (``JiraClient``, ``LinearClient``)."""

    provider = ""

    def __init__(self, config: dict[str, Any], secrets: dict[str, Any]) -> None:
        self.config, self.secrets = config, secrets

    def test(self) -> str: raise NotImplementedError
    def create(self, draft: TicketDraft) -> RemoteTicket: raise NotImplementedError
    def find(self, marker: str) -> RemoteTicket | None: raise NotImplementedError
    def get(self, ticket_id: str) -> RemoteTicket | None: raise NotImplementedError
    def update(self, ticket_id: str, draft: TicketDraft) -> None: raise NotImplementedError
    def set_done(self, ticket_id: str, done: bool) -> None: raise NotImplementedError
    def recently_updated(self, ticket_ids: list[str], minutes: int) -> list[RemoteTicket]: raise NotImplementedError
    def user_for_email(self, email: str | None) -> str | None: raise NotImplementedError
    def ticket_from_webhook(self, payload: dict[str, Any]) -> RemoteTicket | None: raise NotImplementedError


_CLIENTS: dict[str, type[TicketClient]] = {}


def register_client(cls: type[TicketClient]) -> type[TicketClient]:
    _CLIENTS[cls.provider] = cls
    return cls


def ticket_providers() -> list[str]:
    return sorted(_CLIENTS)


def ticket_client(provider: str, config: dict[str, Any], secrets: dict[str, Any]) -> TicketClient:
    try:
        return _CLIENTS[provider](config, secrets)
    except KeyError:
        raise ProviderError(f"{provider} does not take tickets") from None


def hook_id(company_id: int, provider: str) -> str:
    """The company's webhook path for ``provider``: its id and a token only this server can make.

    Not the signature secret (the provider signs each request with that); it only stops a guessed URL
    from reaching the signature check of another company."""
    key = hashlib.sha256(f"meetpilot.integrations.hooks:{settings.SECRET_KEY}".encode()).digest()
    token = hmac.new(key, f"{provider}:{company_id}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{company_id}-{token}"


def hook_company_id(provider: str, value: str) -> int | None:
    """The company a webhook path belongs to, or None when the path was not made by ``hook_id``."""
    head, _, _ = value.partition("-")
    if not head.isdigit() or len(head) > 12:
        return None
    return int(head) if hmac.compare_digest(hook_id(int(head), provider), value) else None


def signature_valid(secret: str, body: bytes, signature: str) -> bool:
    """HMAC-SHA256 of the raw body, hex (Linear's ``Linear-Signature``; Jira's ``X-Hub-Signature`` after
    its ``sha256=`` prefix)."""
    if not secret or not signature:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature.removeprefix("sha256=").strip().lower())
