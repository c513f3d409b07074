from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts import dashboard, selectors, services
from accounts.adapters import INVITATION_SESSION_KEY
from accounts.auth import SESSION_COMPANY_KEY, WS_PROTOCOL, WS_TOKEN_PROTOCOL_PREFIX
from accounts.decorators import principal_required
from accounts.extension import EXTENSION_TOKEN_PREFIX, extension_version, extension_zip
from accounts.forms import CompanyForm, EraseForm, InvitationForm, RetentionForm, RoleForm, TokenForm
from accounts.lifecycle import RETENTION_KINDS, retention_policy
from accounts.models import Role
from accounts.permissions import ROLE_PERMISSIONS, Perm, has_perm, require
from meetpilot.errors import DomainError

# Where the extension opens its live-caption socket (meetings' routing serves it).
WS_MEETING_PATH = "/ws/meetings/<meeting_id>/"

PERM_LABELS = {
    Perm.VIEW: "View meetings, transcripts, documents and analytics",
    Perm.ASK: "Ask questions of meetings and documents",
    Perm.ACTION_ITEM_EDIT_OWN: "Edit action items assigned to them",
    Perm.ACTION_ITEM_EDIT: "Edit any action item",
    Perm.MEETING_EDIT: "Create, run and upload meetings",
    Perm.DOCUMENT_EDIT: "Upload and manage documents",
    Perm.TOKENS_OWN: "Create their own API tokens",
    Perm.MEMBERS_MANAGE: "Invite people, change roles, remove members",
    Perm.INTEGRATIONS_MANAGE: "Connect integrations",
    Perm.SETTINGS_MANAGE: "Change company settings, prompts and AI providers",
    Perm.DATA_MANAGE: "Set retention, read the audit log, export or erase anyone's data",
}


def _perm_matrix() -> list[dict]:
    """One row per permission, one boolean per role (the role table as people read it)."""
    roles = [role for role, _ in Role.choices]
    return [{"perm": str(perm), "label": PERM_LABELS.get(perm, str(perm)),
             "allowed": [perm in ROLE_PERMISSIONS[role] for role in roles]} for perm in Perm]


def _invitation_context(invitation, token: str) -> dict:
    back = reverse("accounts:invitation_accept", args=[token])
    return {"invitation": invitation, "next_url": back, "inviter": invitation.invited_by}


@principal_required
def home(request):
    p = request.principal
    steps = dashboard.getting_started(p)
    context = {
        "stats": dashboard.home_stats(p),
        "steps": steps,
        "steps_done": sum(1 for s in steps if s.done),
    }
    return render(request, "accounts/home.html", context)


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
        "perm_matrix": _perm_matrix(),
        "roles": Role.choices,
        "created_invite_url": request.session.pop("created_invite_url", None),
        "invitation_ttl_days": settings.INVITATION_TTL_DAYS,
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


def _invitation_unusable(request, exc: services.InvitationError):
    """A link that cannot be used: 410 with the reason, unless the person already joined through it."""
    invitation = exc.invitation
    if (invitation is not None and request.user.is_authenticated
            and invitation.accepted_by_id == request.user.pk):
        # Signing up through the link already accepted it (accounts.adapters); the link brings them home.
        request.session[SESSION_COMPANY_KEY] = invitation.company_id
        return redirect("dashboard:home")
    return render(request, "accounts/invitation_invalid.html", {"reason": str(exc)}, status=410)


def invitation_accept(request, token: str):
    """An invitation link: signed-in users join at once; others sign up or sign in first."""
    try:
        invitation = services.invitation_by_token(token)
    except services.InvitationError as exc:
        return _invitation_unusable(request, exc)
    if not request.user.is_authenticated:
        # Sign-up (email or Google) reads it from the session and joins this company (accounts.adapters).
        request.session[INVITATION_SESSION_KEY] = token
        return render(request, "accounts/invitation.html", _invitation_context(invitation, token))
    if request.method == "POST":
        try:
            membership = services.invitation_accept(raw_token=token, user=request.user)
        except services.InvitationError as exc:
            return _invitation_unusable(request, exc)
        request.session[SESSION_COMPANY_KEY] = membership.company_id
        messages.success(request, f"Welcome to {membership.company.name}.")
        return redirect("dashboard:home")
    return render(request, "accounts/invitation.html", _invitation_context(invitation, token))


@principal_required(perm=Perm.TOKENS_OWN)
def tokens(request):
    p = request.principal
    context = {
        "tokens": selectors.api_token_list(company=p.company, user=p.user),
        "form": TokenForm(),
        "new_token": request.session.pop("new_token", None),
        "ws_url": settings.SITE_URL.replace("http", "ws", 1).rstrip("/") + WS_MEETING_PATH,
        "api_url": settings.SITE_URL.rstrip("/") + "/api/v1/",
        "ws_protocol": WS_PROTOCOL,
        "ws_token_prefix": WS_TOKEN_PROTOCOL_PREFIX,
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
    form = CompanyForm(initial={"name": p.company.name, "email_domain": p.company.email_domain,
                                "confirm_below": (p.company.settings or {}).get("confirm_below"),
                                "keep_live_audio": (p.company.settings or {}).get("keep_live_audio", False)})
    if request.method == "POST":
        require(p, Perm.SETTINGS_MANAGE)  # the page is read-only for others; a POST anyway is a 403
        form = CompanyForm(request.POST)
        if form.is_valid():
            try:
                services.company_update(company=p.company, by_user=request.user, **form.cleaned_update())
                messages.success(request, "Settings saved.")
                return redirect("accounts:settings")
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
    context = {"form": form, "can_edit": has_perm(p, Perm.SETTINGS_MANAGE),
               "companies": selectors.companies_of_user(user=request.user),
               "retention_form": RetentionForm(initial=retention_policy(p.company)),
               "retention": [(RETENTION_KINDS[k], v) for k, v in retention_policy(p.company).items()],
               "can_manage_data": has_perm(p, Perm.DATA_MANAGE)}
    return render(request, "accounts/settings.html", context)


@require_POST
@login_required
def company_switch(request):
    try:
        company_id = int(request.POST.get("company_id", ""))
    except ValueError:
        return redirect("dashboard:home")
    if any(c.pk == company_id for c in selectors.companies_of_user(user=request.user)):
        request.session[SESSION_COMPANY_KEY] = company_id
    return redirect("dashboard:home")


@login_required
def no_company(request):
    if request.principal is not None:
        return redirect("dashboard:home")
    if request.method == "POST":
        # Never by domain here: someone an admin removed must not be able to walk back in.
        services.user_join_or_create_company(user=request.user, company_name=request.POST.get("name", ""),
                                             email_verified=False)
        return redirect("dashboard:home")
    return render(request, "accounts/no_company.html", {})


# --- the Chrome extension --------------------------------------------------------------------


@principal_required(perm=Perm.TOKENS_OWN)
def extension(request):
    """Download the extension (built for this server) and connect it; also the page the extension opens."""
    p = request.principal
    context = {"browser": request.GET.get("browser", "")[:60], "version": extension_version(),
               "server_url": settings.SITE_URL.rstrip("/"),
               "tokens": [t for t in selectors.api_token_list(company=p.company, user=p.user)
                          if t.is_active and t.name.startswith(EXTENSION_TOKEN_PREFIX)]}
    return render(request, "accounts/extension.html", context)


@require_POST
@principal_required(perm=Perm.TOKENS_OWN)
def extension_connect(request):
    """Create the extension's token and hand it to the extension on this page (never shown, never copied)."""
    p = request.principal
    browser = request.POST.get("browser", "").strip()[:60] or "Chrome"
    created = services.api_token_create(company=p.company, user=p.user, name=f"{EXTENSION_TOKEN_PREFIX}{browser}")
    context = {"handoff": {"source": "meetpilot-connect", "token": created.raw_token, "tokenId": created.token.pk,
                           "user": p.user.email, "company": p.company.name}, "browser": browser}
    response = render(request, "accounts/extension_connected.html", context)
    response["Cache-Control"] = "no-store"
    return response


@principal_required(perm=Perm.TOKENS_OWN)
def extension_download(request):
    response = HttpResponse(extension_zip(server_url=settings.SITE_URL), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="meetpilot-extension-{extension_version()}.zip"'
    return response


# --- retention, a person's data, the audit log ------------------------------------------------------------


@require_POST
@principal_required(perm=Perm.DATA_MANAGE)
def retention_update(request):
    form = RetentionForm(request.POST)
    if form.is_valid():
        services.retention_set(company=request.principal.company, by_user=request.user, values=form.cleaned_data)
        messages.success(request, "Retention saved. It is applied every night.")
    else:
        messages.error(request, "Retention: " + "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
    return redirect(reverse("accounts:settings") + "#retention")


def _person(request, user_id: int | None):
    """Yourself, or for admins any member of the company (anyone else: 404)."""
    if user_id is None or user_id == request.user.pk:
        return request.user
    require(request.principal, Perm.DATA_MANAGE)
    return selectors.person_get(company=request.principal.company, user_id=user_id)


@principal_required
def privacy(request):
    p = request.principal
    members = selectors.membership_list(company=p.company) if has_perm(p, Perm.DATA_MANAGE) else []
    return render(request, "accounts/privacy.html", {"members": members, "erase_form": EraseForm()})


@principal_required
def person_export(request, user_id: int | None = None):
    user = _person(request, user_id)
    data = services.person_export(company=request.principal.company, user=user, by_user=request.user)
    response = JsonResponse(data, json_dumps_params={"indent": 2, "ensure_ascii": False})
    response["Content-Disposition"] = f'attachment; filename="meetpilot-person-{user.pk}.json"'
    return response


@require_POST
@principal_required
def person_erase(request, user_id: int | None = None):
    user = _person(request, user_id)
    form = EraseForm(request.POST)
    if not form.is_valid() or form.cleaned_data["confirm_email"].strip().lower() != user.email.lower():
        messages.error(request, "The email address did not match; nothing was erased.")
        return redirect("accounts:privacy")
    is_self = user.pk == request.user.pk
    try:
        services.person_erase(company=request.principal.company, user=user, by_user=request.user)
    except DomainError as exc:
        messages.error(request, exc.detail)
        return redirect("accounts:privacy")
    if is_self:
        logout(request)
        return redirect("account_login")
    messages.success(request, "Their personal data in this company was erased.")
    return redirect("accounts:privacy")


AUDIT_ACTION_CHOICES = [("person.", "People's data (exports, erasures)"), ("meeting.", "Meetings deleted"),
                        ("retention.", "Retention"), ("integration.", "Integrations")]


@principal_required(perm=Perm.DATA_MANAGE)
def audit_log(request):
    action = request.GET.get("action", "")[:80]
    entries = selectors.audit_entries(company=request.principal.company, action_prefix=action)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(request, "accounts/audit.html", {"entries": page, "action": action,
                                                   "action_choices": AUDIT_ACTION_CHOICES})
