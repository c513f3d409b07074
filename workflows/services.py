"""Two-way sync of action items with Jira and Linear tickets. The only writer of ``TicketLink``.

Outbound (``ticket_push``): the first push creates the ticket, looking up our marker first so a retry
never creates a second one; later pushes send only the fields that changed since we last wrote or read
them. Inbound (``ticket_remote_apply``, from a webhook or the poll): only the fields that changed on the
provider since then are written to the item, through ``meetings.services`` (``by_person=False``). Each side
remembers the other's last values (``TicketLink.synced_local`` / ``synced_remote``), so an echo of our own
write is no change and nothing ping-pongs. Outcomes go on the item (``sync_state``) and into the audit log.
"""

from __future__ import annotations

import logging
import random
import uuid
from datetime import date
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Company, User
from accounts.services import audit_record
from integrations import selectors as integration_selectors
from integrations.services import connection_health_record
from integrations.spec import ProviderError, spec_for
from integrations.ticketing import (
    UNEXPECTED,
    RemoteTicket,
    TicketClient,
    TicketDraft,
    ticket_client,
    ticket_providers,
    unexpected_answer,
)
from meetings import selectors as meeting_selectors
from meetings import services as meeting_services
from meetings.models import ActionItem
from meetpilot.errors import Conflict, NotFound
from meetpilot.tasks import task_send
from workflows import selectors
from workflows.models import TicketLink

logger = logging.getLogger(__name__)

FIELDS = ("title", "assignee", "due_date", "done")
TITLE_MAX = 250
CLOSED = (ActionItem.Status.DONE, ActionItem.Status.CANCELLED)


class SyncLater(Exception):
    """A transient failure: try again in ``delay`` seconds (the provider's Retry-After at least)."""

    def __init__(self, delay: float) -> None:
        super().__init__(f"retry in {delay:.1f}s")
        self.delay = delay


# --- what the two sides look like ------------------------------------------------------------------


def _title(item: ActionItem) -> str:
    first = (item.description or "").strip().splitlines()[0] if (item.description or "").strip() else "Action item"
    return first[:TITLE_MAX]


def _local(item: ActionItem) -> dict[str, Any]:
    return {"title": _title(item), "assignee": item.assignee_user.email.lower() if item.assignee_user_id else None,
            "due_date": item.due_date.isoformat() if item.due_date else None, "done": item.status in CLOSED}


def _remote(ticket: RemoteTicket) -> dict[str, Any]:
    return {"title": ticket.title, "assignee": ticket.assignee, "due_date": ticket.due_date, "done": ticket.done}


def _meeting_link(item: ActionItem) -> str:
    url = settings.SITE_URL.rstrip("/") + reverse("meetings:detail", args=[item.meeting_id])
    return f"{url}#segment-{item.source_segment_id}" if item.source_segment_id else url


def _description(item: ActionItem) -> str:
    """The item, the moment in the transcript it came from (speaker, time, the line), the due date."""
    parts = [item.description.strip()]
    segment = item.source_segment
    if segment is not None:
        minutes, seconds = divmod(int(segment.start_time), 60)
        speaker = meeting_selectors.speaker_name(segment) or "Someone"
        parts.append(f'{speaker} at {minutes:02d}:{seconds:02d}: "{segment.text.strip()}"')
    if item.due_date:
        parts.append(f"Due {item.due_date.isoformat()}.")
    parts.append(f'From the meeting "{item.meeting.title}" (MeetPilot action item #{item.pk}).')
    return "\n\n".join(parts)


def _client(company: Company, provider: str) -> TicketClient:
    row = integration_selectors.connection_get(company=company, provider=provider)
    if row is None or not row.enabled:
        label = spec_for(provider).label if spec_for(provider) else provider
        raise ProviderError(f"{label} is not connected: an admin sets it up on the Integrations page")
    return ticket_client(provider, dict(row.config),
                         integration_selectors.connection_secrets(company=company, connection=row))


def _mirror(company: Company, link: TicketLink, item: ActionItem) -> None:
    """The link's state as the item shows it."""
    meeting_services.action_item_sync_state_record(
        company=company, action_item=item, provider=link.provider, external_id=link.external_key,
        state={"state": link.state, "key": link.external_key, "url": link.url, "error": link.last_error[:300],
               "at": timezone.now().isoformat(), "link_id": link.pk})


def _audit(company: Company, link: TicketLink, what: str, *, actor: User | None = None, **detail: Any) -> None:
    audit_record(company=company, actor=actor, action=f"integration.{link.provider}.{what}", target_type="action_item",
                 target_id=link.action_item_id, detail={"ticket": link.external_key, **detail})


# --- asking for a sync -------------------------------------------------------------------------------


@transaction.atomic
def ticket_sync_request(*, company: Company, action_item: ActionItem, provider: str,
                        by_user: User | None) -> TicketLink:
    """Create (or re-send) the item's ticket in ``provider``: the link is recorded now, the work is queued."""
    assert action_item.company_id == company.pk
    if provider not in ticket_providers():
        raise NotFound("No such ticket provider.")
    row = integration_selectors.connection_get(company=company, provider=provider)
    if row is None or not row.enabled:
        raise Conflict(f"{spec_for(provider).label} is not connected: an admin sets it up on the Integrations page",
                       code="not_connected")
    link = (TicketLink.objects.for_company(company).select_for_update()
            .filter(action_item=action_item, provider=provider).first())
    if link is None:
        marker = f"meetpilot-{action_item.pk}" if provider == "jira" else str(uuid.uuid4())
        link = TicketLink(company=company, action_item=action_item, provider=provider, marker=marker)
    if link.state != TicketLink.State.SYNCED:
        link.state, link.last_error, link.attempts = TicketLink.State.PENDING, "", 0
    link.full_clean()
    link.save()
    _audit(company, link, "sync_requested", actor=by_user, action_item_id=action_item.pk)
    _mirror(company, link, action_item)
    transaction.on_commit(lambda: task_send("workflows.ticket_push", company_id=company.pk, link_id=link.pk))
    return link


def ticket_item_changed(*, company: Company, action_item: ActionItem, event: str, changed: list[str]) -> list[str]:
    """An item was created or changed: create tickets the admins asked for (their ``auto_sync`` priorities,
    confirmed items only) and queue a push where a synced field differs from what the ticket has.
    Returns the providers something was queued for."""
    assert action_item.company_id == company.pk
    links = {link.provider: link for link in TicketLink.objects.for_company(company).filter(action_item=action_item)}
    queued = []
    for provider in ticket_providers():
        link = links.get(provider)
        if link is None:
            if _auto_sync_wanted(company, action_item, provider, event, changed):
                ticket_sync_request(company=company, action_item=action_item, provider=provider, by_user=None)
                queued.append(provider)
        elif link.external_id and _local(action_item) != {f: link.synced_local.get(f) for f in FIELDS}:
            transaction.on_commit(lambda pk=link.pk: task_send("workflows.ticket_push", company_id=company.pk,
                                                              link_id=pk))
            queued.append(provider)
    return queued


def _auto_sync_wanted(company: Company, item: ActionItem, provider: str, event: str, changed: list[str]) -> bool:
    if item.review != ActionItem.Review.CONFIRMED:
        return False
    if event == "action_item.updated" and not {"review", "priority"} & set(changed):
        return False
    row = integration_selectors.connection_get(company=company, provider=provider)
    return bool(row and row.enabled and item.priority in (row.config.get("auto_sync") or []))


# --- outbound ----------------------------------------------------------------------------------------


def retry_delay(exc: ProviderError | None, retries: int) -> float:
    """Exponential backoff with jitter, and never sooner than the provider asked (Retry-After)."""
    base, cap = settings.INTEGRATIONS_SYNC_RETRY_BASE, settings.INTEGRATIONS_SYNC_RETRY_MAX
    backoff = min(cap, base * (2 ** retries)) * random.uniform(0.5, 1.0)
    return max(backoff, (exc.retry_after if exc else None) or 0.0)


def ticket_push(*, company: Company, link: TicketLink, retries: int = 0, final: bool = False) -> TicketLink:
    """Bring the ticket up to date with the item (creating it first if needed).

    One transaction holds the link's row lock around the provider calls: the attempt is marked and the
    external id recorded together, and a second push of the same item waits instead of creating twice.
    A crash in between rolls the mark back; the ticket exists with our marker, and the retry finds it.
    Raises ``SyncLater`` for a transient failure worth another try.
    """
    assert link.company_id == company.pk
    try:
        with transaction.atomic():
            link = TicketLink.objects.for_company(company).select_for_update().get(pk=link.pk)
            item = meeting_selectors.action_item_get(company=company, action_item_id=link.action_item_id)
            if not link.external_id:
                client = _client(company, link.provider)
                link.attempts += 1
                link.state = TicketLink.State.CREATING
                link.save(update_fields=["attempts", "state", "updated_at"])
                remote = client.find(link.marker) or client.create(_draft(item, client, link))
                _link_created(company=company, link=link, item=item, remote=remote, client=client)
            _push_changes(company, link, item)
    except UNEXPECTED as exc:
        _failure_record(company=company, link=link, exc=unexpected_answer(link.provider.capitalize(), exc),
                        final=True)
    except ProviderError as exc:
        _failure_record(company=company, link=link, exc=exc, final=final or not exc.transient)
        if exc.transient and not final:
            raise SyncLater(retry_delay(exc, retries)) from exc
    return link


def _draft(item: ActionItem, client: TicketClient, link: TicketLink) -> TicketDraft:
    local = _local(item)
    return TicketDraft(title=local["title"], description=_description(item), priority=item.priority,
                       assignee=client.user_for_email(local["assignee"]) if local["assignee"] else None,
                       due_date=local["due_date"], marker=link.marker, link=_meeting_link(item))


def _link_created(*, company: Company, link: TicketLink, item: ActionItem, remote: RemoteTicket,
                  client: TicketClient) -> None:
    """The ticket exists (created now, or found by our marker): record it, with both sides' values."""
    local = _local(item)
    link.external_id, link.external_key, link.url = remote.id, remote.key, remote.url[:500]
    link.synced_remote = _remote(remote)
    # What the ticket was made from; "done" as the ticket has it, so a closed item closes the ticket next.
    link.synced_local = {**local, "done": remote.done}
    link.state, link.attempts, link.last_error, link.last_synced_at = TicketLink.State.SYNCED, 0, "", timezone.now()
    link.save()
    _audit(company, link, "ticket_created", action_item_id=item.pk, url=link.url)
    _mirror(company, link, item)


def _push_changes(company: Company, link: TicketLink, item: ActionItem) -> None:
    local = _local(item)
    changed = [f for f in FIELDS if local[f] != link.synced_local.get(f)]
    if not changed:
        return
    client = _client(company, link.provider)
    written: dict[str, Any] = {}
    if "title" in changed:
        written["title"] = local["title"]
    if "due_date" in changed:
        written["due_date"] = local["due_date"]
    if "assignee" in changed:
        written["assignee"] = client.user_for_email(local["assignee"])
    client.update(link.external_id, TicketDraft(
        title=written.get("title"), due_date=(written["due_date"] or "") if "due_date" in written else None,
        assignee=(written["assignee"] or "") if "assignee" in written else None))
    if "done" in changed:
        client.set_done(link.external_id, local["done"])
        written["done"] = local["done"]
    link.synced_local = {**link.synced_local, **{f: local[f] for f in changed}}
    link.synced_remote = {**link.synced_remote, **written}
    link.state, link.attempts, link.last_error, link.last_synced_at = TicketLink.State.SYNCED, 0, "", timezone.now()
    link.save()
    _audit(company, link, "synced", action_item_id=item.pk, fields=changed)
    _mirror(company, link, item)


@transaction.atomic
def _failure_record(*, company: Company, link: TicketLink, exc: ProviderError, final: bool) -> None:
    link = TicketLink.objects.for_company(company).get(pk=link.pk)
    link.state = TicketLink.State.FAILED if final else TicketLink.State.RETRYING
    link.attempts += 1
    link.last_error = str(exc)[:2000]
    link.save(update_fields=["state", "attempts", "last_error", "updated_at"])
    _audit(company, link, "sync_failed" if final else "sync_retrying", action_item_id=link.action_item_id,
           status=exc.status, error=str(exc)[:300])
    if final:
        connection = integration_selectors.connection_get(company=company, provider=link.provider)
        if connection is not None:
            connection_health_record(company=company, connection=connection, ok=False, error=str(exc))
    item = ActionItem.objects.for_company(company).filter(pk=link.action_item_id).first()
    if item is not None:
        _mirror(company, link, item)


# --- inbound -----------------------------------------------------------------------------------------


def _member_by_email(company: Company, email: str | None) -> User | None:
    wanted = (email or "").lower()
    return next((u for u in meeting_selectors.company_member_list(company=company) if u.email.lower() == wanted),
                None) if wanted else None


def _local_changes(company: Company, item: ActionItem, remote: RemoteTicket, fields: list[str]) -> dict[str, Any]:
    """What to write to the item for the ticket's changed ``fields``."""
    data: dict[str, Any] = {}
    if "title" in fields and remote.title.strip() and remote.title != _title(item):
        data["description"] = remote.title
    if "due_date" in fields:
        data["due_date"] = date.fromisoformat(remote.due_date[:10]) if remote.due_date else None
    if "done" in fields:
        if remote.done and item.status not in CLOSED:
            data["status"] = ActionItem.Status.CANCELLED if remote.cancelled else ActionItem.Status.DONE
        elif not remote.done and item.status in CLOSED:
            data["status"] = ActionItem.Status.PENDING
    if "assignee" in fields:
        member = _member_by_email(company, remote.assignee_email)
        if member is not None:
            data["assignee_user_id"] = member.pk
        else:
            data["assignee_name"] = remote.assignee_name if remote.assignee else ""
    return data


def ticket_remote_apply(*, company: Company, link: TicketLink, remote: RemoteTicket, via: str) -> list[str]:
    """The ticket as the provider has it now (from a webhook or the poll): write what changed there to the
    item. Returns the fields that changed on the provider's side (none for an echo of our own write)."""
    assert link.company_id == company.pk
    with transaction.atomic():
        link = TicketLink.objects.for_company(company).select_for_update().get(pk=link.pk)
        now = _remote(remote)
        changed = [f for f in FIELDS if now[f] != link.synced_remote.get(f)]
        if not changed:
            return []
        item = meeting_selectors.action_item_get(company=company, action_item_id=link.action_item_id)
        data = _local_changes(company, item, remote, changed)
        if data:
            item = meeting_services.action_item_update(company=company, action_item=item, data=data, by_person=False)
        local = _local(item)
        link.synced_remote = {**link.synced_remote, **{f: now[f] for f in changed}}
        link.synced_local = {**link.synced_local, **{f: local[f] for f in changed}}
        link.last_synced_at = timezone.now()
        link.save(update_fields=["synced_remote", "synced_local", "last_synced_at", "updated_at"])
        _audit(company, link, "received", action_item_id=item.pk, fields=changed, via=via)
        _mirror(company, link, item)
    return changed


def ticket_hook_apply(*, company: Company, provider: str, payload: dict[str, Any]) -> list[str]:
    """A verified webhook's body: apply the ticket it carries, if it is one of ours."""
    client = _client(company, provider)
    remote = client.ticket_from_webhook(payload)
    link = selectors.ticket_link_by_external(company=company, provider=provider,
                                             external_id=remote.id if remote else "")
    if remote is None or link is None:
        return []
    return ticket_remote_apply(company=company, link=link, remote=remote, via="webhook")


def tickets_poll(*, company: Company, provider: str) -> int:
    """The safety net behind webhooks: read back the tickets changed lately and apply them. Returns how
    many brought a change."""
    row = integration_selectors.connection_get(company=company, provider=provider)
    if row is None or not row.enabled:
        return 0
    links = {link.external_id: link for link in selectors.ticket_links_linked(company=company, provider=provider)}
    if not links:
        return 0
    client = _client(company, provider)
    ids, applied = sorted(links), 0
    for start in range(0, len(ids), 100):
        for remote in client.recently_updated(ids[start:start + 100], settings.INTEGRATIONS_POLL_WINDOW_MINUTES):
            if remote.id in links and ticket_remote_apply(company=company, link=links[remote.id], remote=remote,
                                                          via="poll"):
                applied += 1
        if provider == "jira":
            break  # Jira's search is by label and time, not by id: one page covers the window
    return applied
