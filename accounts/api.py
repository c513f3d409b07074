from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse
from django.urls import reverse
from ninja import Router, Status
from ninja.pagination import paginate

from accounts import selectors, services
from accounts.lifecycle import retention_policy
from accounts.models import User
from accounts.permissions import ROLE_PERMISSIONS, Perm, require
from accounts.schemas import (
    AuditEntryOut,
    CompanyIn,
    CompanyOut,
    InvitationCreatedOut,
    InvitationIn,
    InvitationOut,
    MembershipIn,
    MembershipOut,
    MeOut,
    MePatch,
    PersonErasedOut,
    PersonEraseIn,
    RetentionIn,
    RetentionOut,
    TokenCreatedOut,
    TokenIn,
    TokenOut,
)
from meetpilot.apikit import ApiError, ErrorOut, Pagination
from meetpilot.errors import Invalid

router = Router(tags=["accounts"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


@router.get("/me", response={200: MeOut, **ERRORS})
def me(request):
    p = request.auth
    return {"user": p.user, "company": p.company, "role": p.role, "via": p.via,
            "permissions": sorted(str(x) for x in ROLE_PERMISSIONS[p.role])}


@router.patch("/me", response={200: MeOut, 400: ErrorOut, **ERRORS})
def me_update(request, payload: MePatch):
    services.user_timezone_set(user=request.auth.user, timezone_name=payload.timezone)
    return me(request)


@router.get("/company", response={200: CompanyOut, **ERRORS})
def company_get(request):
    return request.auth.company


@router.patch("/company", response={200: CompanyOut, **ERRORS})
def company_update(request, payload: CompanyIn):
    require(request.auth, Perm.SETTINGS_MANAGE)
    patch = {key: value for key, value in (("confirm_below", payload.confirm_below),
                                           ("keep_live_audio", payload.keep_live_audio)) if value is not None} or None
    return services.company_update(company=request.auth.company, by_user=request.auth.user, name=payload.name,
                                   email_domain=payload.email_domain, settings_patch=patch)


# --- API tokens (always the caller's own) --------------------------------------------


@router.get("/tokens", response={200: list[TokenOut], **ERRORS})
@paginate(Pagination)
def token_list(request):
    return selectors.api_token_list(company=request.auth.company, user=request.auth.user)


@router.post("/tokens", response={201: TokenCreatedOut, **ERRORS})
def token_create(request, payload: TokenIn):
    require(request.auth, Perm.TOKENS_OWN)
    created = services.api_token_create(company=request.auth.company, user=request.auth.user, name=payload.name)
    return Status(201, {**TokenOut.from_orm(created.token).dict(), "token": created.raw_token})


@router.delete("/tokens/current", response={200: TokenOut, **ERRORS})
def token_revoke_current(request):
    """Revoke the token this request is made with (the extension's "Disconnect")."""
    if request.auth.token_id is None:
        raise Invalid("This request is not made with an API token.", code="not_a_token")
    token = selectors.api_token_get(company=request.auth.company, user=request.auth.user,
                                    token_id=request.auth.token_id)
    return services.api_token_revoke(company=request.auth.company, token=token)


@router.delete("/tokens/{int:token_id}", response={200: TokenOut, **ERRORS})
def token_revoke(request, token_id: int):
    token = selectors.api_token_get(company=request.auth.company, user=request.auth.user, token_id=token_id)
    return services.api_token_revoke(company=request.auth.company, token=token)


# --- members and invitations -------------------------------------------------------------


@router.get("/members", response={200: list[MembershipOut], **ERRORS})
@paginate(Pagination)
def member_list(request):
    return selectors.membership_list(company=request.auth.company)


@router.patch("/members/{int:membership_id}", response={200: MembershipOut, **ERRORS})
def member_update(request, membership_id: int, payload: MembershipIn):
    require(request.auth, Perm.MEMBERS_MANAGE)
    membership = selectors.membership_get(company=request.auth.company, membership_id=membership_id)
    try:
        return services.membership_role_set(company=request.auth.company, membership=membership,
                                            role=payload.role)
    except ValueError as exc:
        raise ApiError(409, "last_admin", str(exc))


@router.delete("/members/{int:membership_id}", response={204: None, **ERRORS})
def member_remove(request, membership_id: int):
    require(request.auth, Perm.MEMBERS_MANAGE)
    membership = selectors.membership_get(company=request.auth.company, membership_id=membership_id)
    try:
        services.membership_remove(company=request.auth.company, membership=membership)
    except ValueError as exc:
        raise ApiError(409, "last_admin", str(exc))
    return Status(204, None)


@router.get("/invitations", response={200: list[InvitationOut], **ERRORS})
@paginate(Pagination)
def invitation_list(request):
    require(request.auth, Perm.MEMBERS_MANAGE)
    return selectors.invitation_list(company=request.auth.company)


@router.post("/invitations", response={201: InvitationCreatedOut, **ERRORS})
def invitation_create(request, payload: InvitationIn):
    require(request.auth, Perm.MEMBERS_MANAGE)
    created = services.invitation_create(company=request.auth.company, email=payload.email, role=payload.role,
                                         invited_by=request.auth.user)
    url = settings.SITE_URL.rstrip("/") + reverse("accounts:invitation_accept", args=[created.raw_token])
    return Status(201, {**InvitationOut.from_orm(created.invitation).dict(), "invite_url": url})


@router.delete("/invitations/{int:invitation_id}", response={204: None, **ERRORS})
def invitation_revoke(request, invitation_id: int):
    require(request.auth, Perm.MEMBERS_MANAGE)
    invitation = selectors.invitation_get(company=request.auth.company, invitation_id=invitation_id)
    services.invitation_revoke(company=request.auth.company, invitation=invitation)
    return Status(204, None)


# --- a person's data, retention and the audit log -----------------------------------------------------


def _person(request, user_id: int | None) -> User:
    """The caller themselves (``me``), or, for admins, any member of the company; anyone else is a 404."""
    if user_id is None or user_id == request.auth.user.pk:
        return request.auth.user
    require(request.auth, Perm.DATA_MANAGE)
    return selectors.person_get(company=request.auth.company, user_id=user_id)


def _export_response(request, user: User) -> JsonResponse:
    data = services.person_export(company=request.auth.company, user=user, by_user=request.auth.user)
    response = JsonResponse(data, json_dumps_params={"indent": 2, "ensure_ascii": False})
    response["Content-Disposition"] = f'attachment; filename="meetpilot-person-{user.pk}.json"'
    return response


@router.get("/people/me/export", response={200: dict, **ERRORS})
def person_export_me(request):
    """Everything the company holds about you, as a JSON download."""
    return _export_response(request, _person(request, None))


@router.get("/people/{int:user_id}/export", response={200: dict, **ERRORS})
def person_export(request, user_id: int):
    """A member's data as a JSON download (admins; anyone for themselves)."""
    return _export_response(request, _person(request, user_id))


def _erase(request, user_id: int | None, payload: PersonEraseIn):
    user = _person(request, user_id)
    if payload.confirm_email.strip().lower() != user.email.lower():
        raise ApiError(422, "confirm_mismatch", "confirm_email does not match the person's email address.")
    return services.person_erase(company=request.auth.company, user=user, by_user=request.auth.user)


@router.post("/people/me/erase", response={200: PersonErasedOut, **ERRORS, 409: ErrorOut})
def person_erase_me(request, payload: PersonEraseIn):
    """Erase your own personal data in this company (you leave it; see docs/operations.md)."""
    return _erase(request, None, payload)


@router.post("/people/{int:user_id}/erase", response={200: PersonErasedOut, **ERRORS, 409: ErrorOut})
def person_erase(request, user_id: int, payload: PersonEraseIn):
    """Erase a member's personal data in this company (admins; anyone for themselves)."""
    return _erase(request, user_id, payload)


@router.get("/retention", response={200: RetentionOut, **ERRORS})
def retention_get(request):
    require(request.auth, Perm.DATA_MANAGE)
    return retention_policy(request.auth.company)


@router.put("/retention", response={200: RetentionOut, **ERRORS})
def retention_update(request, payload: RetentionIn):
    """Days to keep each kind of data (0 or null: forever); applied every day."""
    require(request.auth, Perm.DATA_MANAGE)
    return services.retention_set(company=request.auth.company, by_user=request.auth.user, values=payload.dict())


@router.get("/audit", response={200: list[AuditEntryOut], **ERRORS})
@paginate(Pagination)
def audit_list(request, action: str = ""):
    """The company's audit log, newest first; ``action`` narrows it by prefix (``person.``, ``meeting.``)."""
    require(request.auth, Perm.DATA_MANAGE)
    return selectors.audit_entries(company=request.auth.company, action_prefix=action[:80])
