"""The webhooks page (admins): endpoints, the secret shown once, each endpoint's delivery log, redeliver."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.decorators import principal_required
from accounts.permissions import Perm
from integrations.webhooks import selectors, services
from integrations.webhooks.forms import WebhookEndpointForm
from integrations.webhooks.signing import SIGNATURE_HEADER
from meetpilot.errors import DomainError

SESSION_NEW_SECRET = "webhook_new_secret"


@principal_required(perm=Perm.INTEGRATIONS_MANAGE)
def webhook_list(request: HttpRequest) -> HttpResponse:
    p = request.principal
    form = WebhookEndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.webhook_endpoint_create(company=p.company, by_user=request.user,
                                                       url=form.cleaned_data["url"], events=form.cleaned_data["events"],
                                                       description=form.cleaned_data["description"])
        except DomainError as exc:
            form.add_error("url" if exc.code == "unsafe_url" else None, str(exc.detail))
        else:
            request.session[SESSION_NEW_SECRET] = {"endpoint_id": created.endpoint.pk, "secret": created.secret}
            messages.success(request, f"Webhook endpoint {created.endpoint.url} added.")
            return redirect("webhooks:list")
    context = {"endpoints": selectors.webhook_endpoint_list(company=p.company), "form": form,
               "new_secret": request.session.pop(SESSION_NEW_SECRET, None), "signature_header": SIGNATURE_HEADER}
    return render(request, "integrations/webhooks.html", context)


@principal_required(perm=Perm.INTEGRATIONS_MANAGE)
def webhook_detail(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    p = request.principal
    endpoint = selectors.webhook_endpoint_get(company=p.company, endpoint_id=endpoint_id)
    deliveries = Paginator(selectors.webhook_delivery_list(company=p.company, endpoint=endpoint), 25)
    return render(request, "integrations/webhook_detail.html",
                  {"endpoint": endpoint, "deliveries": deliveries.get_page(request.GET.get("page"))})


@require_POST
@principal_required(perm=Perm.INTEGRATIONS_MANAGE)
def webhook_delete(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    p = request.principal
    endpoint = selectors.webhook_endpoint_get(company=p.company, endpoint_id=endpoint_id)
    services.webhook_endpoint_delete(company=p.company, endpoint=endpoint, by_user=request.user)
    messages.success(request, f"Webhook endpoint {endpoint.url} deleted.")
    return redirect("webhooks:list")


@require_POST
@principal_required(perm=Perm.INTEGRATIONS_MANAGE)
def webhook_redeliver(request: HttpRequest, delivery_id: int) -> HttpResponse:
    p = request.principal
    delivery = selectors.webhook_delivery_get(company=p.company, delivery_id=delivery_id)
    services.webhook_redeliver(company=p.company, delivery=delivery, by_user=request.user)
    messages.success(request, f"Event {delivery.event_id} queued for delivery again.")
    return redirect("webhooks:detail", endpoint_id=delivery.endpoint_id)
