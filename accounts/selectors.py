"""Reads for companies, people, invitations and API tokens. The company comes first."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import ApiToken, AuditEntry, Company, Invitation, Membership, User


def membership_list(*, company: Company) -> QuerySet[Membership]:
    return Membership.objects.for_company(company).select_related("user").order_by("user__email")


def membership_get(*, company: Company, membership_id: int) -> Membership:
    return get_object_or_404(Membership.objects.for_company(company).select_related("user"), pk=membership_id)


def invitation_list(*, company: Company, pending_only: bool = True) -> QuerySet[Invitation]:
    queryset = Invitation.objects.for_company(company).select_related("invited_by")
    if pending_only:
        queryset = queryset.filter(accepted_at__isnull=True, revoked_at__isnull=True)
    return queryset


def invitation_get(*, company: Company, invitation_id: int) -> Invitation:
    return get_object_or_404(Invitation.objects.for_company(company), pk=invitation_id)


def api_token_list(*, company: Company, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.for_company(company).filter(user=user)


def api_token_get(*, company: Company, user: User, token_id: int) -> ApiToken:
    """Your own token only: another person's token id is a 404, like another company's."""
    return get_object_or_404(api_token_list(company=company, user=user), pk=token_id)


def companies_of_user(*, user: User) -> list[Company]:
    from accounts.tenancy import scopes_disabled

    with scopes_disabled(user_id=user.pk):
        return [m.company for m in Membership.objects.filter(user=user).select_related("company")]


def membership_count(*, company: Company) -> int:
    return Membership.objects.for_company(company).count()


def api_token_active_count(*, company: Company, user: User) -> int:
    return api_token_list(company=company, user=user).filter(revoked_at__isnull=True).count()


def audit_entries(*, company: Company, action_prefix: str = "") -> QuerySet[AuditEntry]:
    """The company's audit log, newest first; ``action_prefix`` narrows it (``"integration."``)."""
    entries = AuditEntry.objects.for_company(company).select_related("actor")
    return entries.filter(action__startswith=action_prefix) if action_prefix else entries


def person_get(*, company: Company, user_id: int) -> User:
    """A member of ``company`` by user id: anyone else (another company's people included) is a 404."""
    membership = get_object_or_404(Membership.objects.for_company(company).select_related("user"), user_id=user_id)
    return membership.user


def person_membership(*, company: Company, user: User) -> Membership | None:
    return Membership.objects.for_company(company).filter(user=user).first()


def company_find(*, company_id: int) -> Company | None:
    return Company.objects.filter(pk=company_id).first()


def companies_with_retention() -> list[int]:
    """Ids of the companies that set a retention policy (``settings["retention"]``), for the daily run."""
    return list(Company.objects.filter(settings__has_key="retention").exclude(settings__retention={})
                .order_by("pk").values_list("pk", flat=True))
