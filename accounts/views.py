from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts import selectors, services
from accounts.adapters import INVITATION_SESSION_KEY
from accounts.auth import SESSION_COMPANY_KEY
from accounts.decorators import principal_required
from accounts.forms import CompanyForm, InvitationForm, RoleForm, TokenForm
from accounts.permissions import ROLE_PERMISSIONS, Perm, has_perm


@principal_required
def home(request):
    return render(request, "accounts/home.html", {})


@principal_required(perm=Perm.VIEW)
def team(request):
    p = request.principal
    members = Paginator(selectors.membership_list(company=p.company), 50).get_page(request.GET.get("page"))
    context = {
        "members": members,
        "invitations": selectors.invitation_list(company=p.company) if has_perm(p, Perm.MEMBERS_MANAGE) else [],
        "invite_form": InvitationForm(),
        "role_table": [(role, sorted(str(x) for x in perms)) for role, perms in ROLE_PERMISSIONS.items()],
        "all_perms": [str(x) for x in Perm],
        "created_invite_url": request.session.pop("created_invite_url", None),
    }
    return render(request, "accounts/team.html", context)


@require_POST
@principal_required(perm=Perm.MEMBERS_MANAGE)
def invitation_create(request):
    form = InvitationForm(request.POST)
    if form.is_valid():
        created = services.invitation_create(company=request.principal.company, email=form.cleaned_data["email"],
                                             role=form.cleaned_data["role"], invited_by=request.user)
        request.session["created_invite_url"] = settings.SITE_URL.rstrip("/") + reverse(
            "accounts:invitation_accept", args=[created.raw_token]
        )
        messages.success(request, f"Invitation created for {created.invitation.email}.")
    else:
        messages.error(request, "Enter a valid email address and role.")
    return redirect("accounts:team")


@require_POST
@principal_required(perm=Perm.MEMBERS_MANAGE)
def invitation_revoke(request, invitation_id: int):
    invitation = selectors.invitation_get(company=request.principal.company, invitation_id=invitation_id)
    services.invitation_revoke(company=request.principal.company, invitation=invitation)
    messages.success(request, f"Invitation for {invitation.email} revoked.")
    return redirect("accounts:team")


@require_POST
@principal_required(perm=Perm.MEMBERS_MANAGE)
def member_role(request, membership_id: int):
    membership = selectors.membership_get(company=request.principal.company, membership_id=membership_id)
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            services.membership_role_set(company=request.principal.company, membership=membership,
                                         role=form.cleaned_data["role"])
            messages.success(request, f"{membership.user} is now {membership.get_role_display().lower()}.")
        except ValueError as exc:
            messages.error(request, str(exc))
    return redirect("accounts:team")


@require_POST
@principal_required(perm=Perm.MEMBERS_MANAGE)
def member_remove(request, membership_id: int):
    membership = selectors.membership_get(company=request.principal.company, membership_id=membership_id)
    try:
        services.membership_remove(company=request.principal.company, membership=membership)
        messages.success(request, f"{membership.user} was removed.")
    except ValueError as exc:
        messages.error(request, str(exc))
    return redirect("accounts:team")


def invitation_accept(request, token: str):
    """An invitation link: signed-in users join at once; others sign up or sign in first."""
    try:
        invitation = services.invitation_by_token(token)
    except services.InvitationError as exc:
        return render(request, "accounts/invitation_invalid.html", {"reason": str(exc)}, status=410)
    if not request.user.is_authenticated:
        request.session[INVITATION_SESSION_KEY] = token
        return render(request, "accounts/invitation.html", {"invitation": invitation})
    if request.method == "POST":
        try:
            membership = services.invitation_accept(raw_token=token, user=request.user)
        except services.InvitationError as exc:
            return render(request, "accounts/invitation_invalid.html", {"reason": str(exc)}, status=410)
        request.session[SESSION_COMPANY_KEY] = membership.company_id
        messages.success(request, f"Welcome to {membership.company.name}.")
        return redirect("dashboard:home")
    return render(request, "accounts/invitation.html", {"invitation": invitation})


@principal_required(perm=Perm.TOKENS_OWN)
def tokens(request):
    p = request.principal
    context = {
        "tokens": selectors.api_token_list(company=p.company, user=p.user),
        "form": TokenForm(),
        "new_token": request.session.pop("new_token", None),
        "ws_url": settings.SITE_URL.replace("http", "ws", 1).rstrip("/") + "/ws/meetings/<id>/",
    }
    return render(request, "accounts/tokens.html", context)


@require_POST
@principal_required(perm=Perm.TOKENS_OWN)
def token_create(request):
    form = TokenForm(request.POST)
    if form.is_valid():
        created = services.api_token_create(company=request.principal.company, user=request.user,
                                            name=form.cleaned_data["name"])
        # Shown once on the next page view, then gone from the session.
        request.session["new_token"] = created.raw_token
    return redirect("accounts:tokens")


@require_POST
@principal_required(perm=Perm.TOKENS_OWN)
def token_revoke(request, token_id: int):
    p = request.principal
    token = selectors.api_token_get(company=p.company, user=p.user, token_id=token_id)
    services.api_token_revoke(company=p.company, token=token)
    messages.success(request, f"Token “{token.name}” revoked.")
    return redirect("accounts:tokens")


@principal_required(perm=Perm.VIEW)
def company_settings(request):
    p = request.principal
    form = CompanyForm(initial={"name": p.company.name, "email_domain": p.company.email_domain})
    if request.method == "POST":
        if not has_perm(p, Perm.SETTINGS_MANAGE):
            messages.error(request, "Only admins can change company settings.")
            return redirect("accounts:settings")
        form = CompanyForm(request.POST)
        if form.is_valid():
            try:
                services.company_update(company=p.company, **form.cleaned_data)
                messages.success(request, "Settings saved.")
                return redirect("accounts:settings")
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
    return render(request, "accounts/settings.html", {"form": form, "can_edit": has_perm(p, Perm.SETTINGS_MANAGE)})


@require_POST
@login_required
def company_switch(request):
    company_id = int(request.POST.get("company_id", "0") or 0)
    if any(c.pk == company_id for c in selectors.companies_of_user(user=request.user)):
        request.session[SESSION_COMPANY_KEY] = company_id
    return redirect("dashboard:home")


@login_required
def no_company(request):
    if request.principal is not None:
        return redirect("dashboard:home")
    if request.method == "POST":
        services.user_join_or_create_company(user=request.user, company_name=request.POST.get("name", ""))
        return redirect("dashboard:home")
    return render(request, "accounts/no_company.html", {})
