"""The Integrations page (admins): one card per registered provider, forms built from its ProviderSpec."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.decorators import principal_required
from accounts.permissions import Perm
from accounts.selectors import audit_entries
from integrations import selectors, services
from integrations.forms import config_display, form_values
from integrations.spec import spec_for
from meetpilot.errors import Invalid

PAGE = "integrations/integrations.html"
AUDIT_SHOWN = 50


def _with_form(item: dict, typed: dict | None = None) -> dict:
    """The form's fields with the values to show (what the admin typed again after an error; never a secret)."""
    shown = {**config_display(item["spec"], item["config"]), **(typed or {})}
    item["form"] = [{**f, "value": "" if f["secret"] else shown.get(f["name"], "")} for f in item["fields"]]
    return item


def _card(request: HttpRequest, provider: str, **extra) -> HttpResponse:
    """The provider's card alone (HTMX) or the whole page."""
    overview = selectors.integration_overview(company=request.principal.company)
    item = next((o for o in overview if o["provider"] == provider), None)
    if item is None:
        raise Http404
    _with_form(item, extra.pop("typed", {}))
    if request.htmx:
        return render(request, f"{PAGE}#provider_card", {"item": item, **extra})
    return redirect("integrations:page")


@principal_required(perm=Perm.INTEGRATIONS_MANAGE)
def integrations_page(request: HttpRequest) -> HttpResponse:
    company = request.principal.company
    overview = selectors.integration_overview(company=company)
    for item in overview:
        _with_form(item)
    audit = audit_entries(company=company, action_prefix="integration.")[:AUDIT_SHOWN]
    return render(request, PAGE, {"overview": overview, "audit": audit})


@require_POST
@principal_required(perm=Perm.INTEGRATIONS_MANAGE)
def integration_save(request: HttpRequest, provider: str) -> HttpResponse:
    spec = spec_for(provider)
    if spec is None:
        raise Http404
    config, secrets = form_values(spec, request.POST)
    try:
        services.connection_configure(company=request.principal.company, provider=provider, by_user=request.user,
                                      config=config, secrets=secrets, enabled=bool(request.POST.get("enabled")))
    except Invalid as exc:
        errors = exc.detail if isinstance(exc.detail, dict) else {"": str(exc.detail)}
        if not request.htmx:
            messages.error(request, "Not saved: " + "; ".join(f"{k}: {v}" for k, v in errors.items()))
        return _card(request, provider, errors=errors, typed={k: str(v) for k, v in config.items()})
    if not request.htmx:
        messages.success(request, f"{spec.label} settings saved.")
    return _card(request, provider, notice="Saved. Test the connection to check it.")


@require_POST
@principal_required(perm=Perm.INTEGRATIONS_MANAGE)
def integration_test(request: HttpRequest, provider: str) -> HttpResponse:
    row = selectors.connection_get(company=request.principal.company, provider=provider)
    if row is None:
        raise Http404
    ok, message = services.connection_test(company=request.principal.company, connection=row, by_user=request.user)
    if not request.htmx:
        (messages.success if ok else messages.error)(request, message)
    return _card(request, provider, test={"ok": ok, "message": message})


@require_POST
@principal_required(perm=Perm.INTEGRATIONS_MANAGE)
def integration_delete(request: HttpRequest, provider: str) -> HttpResponse:
    row = selectors.connection_get(company=request.principal.company, provider=provider)
    if row is None:
        raise Http404
    services.connection_delete(company=request.principal.company, connection=row, by_user=request.user)
    if not request.htmx:
        messages.success(request, "Disconnected.")
    return _card(request, provider, notice="Disconnected: the saved credentials were deleted.")
