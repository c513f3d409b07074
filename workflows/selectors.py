"""Reads of ticket links. The company comes first."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Company
from integrations.selectors import connection_list
from integrations.ticketing import ticket_providers
from workflows.models import TicketLink


def ticket_link_get(*, company: Company, link_id: int) -> TicketLink | None:
    return TicketLink.objects.for_company(company).select_related("action_item").filter(pk=link_id).first()


def ticket_links_of_item(*, company: Company, action_item_id: int) -> QuerySet[TicketLink]:
    return TicketLink.objects.for_company(company).filter(action_item_id=action_item_id)


def ticket_link_by_external(*, company: Company, provider: str, external_id: str) -> TicketLink | None:
    if not external_id:
        return None
    return (TicketLink.objects.for_company(company).select_related("action_item")
            .filter(provider=provider, external_id=external_id).first())


def ticket_links_linked(*, company: Company, provider: str) -> QuerySet[TicketLink]:
    """The company's links that have a ticket (what the poll reads back)."""
    return TicketLink.objects.for_company(company).filter(provider=provider).exclude(external_id="")


def company_ids() -> list[int]:
    """Every company (the poll fans out per company; companies are not tenant rows)."""
    return list(Company.objects.order_by("pk").values_list("pk", flat=True))


def company_get(*, company_id: int) -> Company:
    return Company.objects.get(pk=company_id)


def ticket_sync_possible(*, company: Company | int, action_item_id: int) -> bool:
    """Whether an item's change could concern a ticket: the company has a ticket provider connected, or the item
    has a ticket link (left by a connection since removed)."""
    return (connection_list(company=company).filter(provider__in=ticket_providers()).exists()
            or TicketLink.objects.for_company(company).filter(action_item_id=action_item_id).exists())
