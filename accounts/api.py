from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from ninja import Router
from ninja.pagination import paginate

from accounts import selectors, services
from accounts.permissions import ROLE_PERMISSIONS, Perm, require
from accounts.schemas import (
    CompanyIn,
    CompanyOut,
    InvitationCreatedOut,
    InvitationIn,
    InvitationOut,
    MembershipIn,
    MembershipOut,
    MeOut,
    MePatch,
    TokenCreatedOut,
    TokenIn,
    TokenOut,
)
from meetpilot.apikit import ApiError, ErrorOut, Pagination

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
    patch = {"confirm_below": payload.confirm_below} if payload.confirm_below is not None else None
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
    return 201, {**TokenOut.from_orm(created.token).dict(), "token": created.raw_token}


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
    return 204, None


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
    return 201, {**InvitationOut.from_orm(created.invitation).dict(), "invite_url": url}


@router.delete("/invitations/{int:invitation_id}", response={204: None, **ERRORS})
def invitation_revoke(request, invitation_id: int):
    require(request.auth, Perm.MEMBERS_MANAGE)
    invitation = selectors.invitation_get(company=request.auth.company, invitation_id=invitation_id)
    services.invitation_revoke(company=request.auth.company, invitation=invitation)
    return 204, None
