"""REST API of the Integrations settings (admins only). Saved secrets are never returned."""

from __future__ import annotations

from django.http import Http404
from ninja import Router
from ninja.responses import Status

from accounts.permissions import Perm, require
from integrations import selectors, services
from integrations.schemas import IntegrationIn, IntegrationOut, IntegrationTestOut
from meetpilot.apikit import ErrorOut

router = Router(tags=["integrations"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def _one(company, provider: str) -> dict:
    found = next((o for o in selectors.integration_overview(company=company) if o["provider"] == provider), None)
    if found is None:
        raise Http404
    return found


@router.get("/integrations", response={200: list[IntegrationOut], **ERRORS})
def integration_list(request):
    require(request.auth, Perm.INTEGRATIONS_MANAGE)
    return selectors.integration_overview(company=request.auth.company)


@router.put("/integrations/{provider}", response={200: IntegrationOut, **ERRORS})
def integration_save(request, provider: str, payload: IntegrationIn):
    require(request.auth, Perm.INTEGRATIONS_MANAGE)
    services.connection_configure(company=request.auth.company, provider=provider, by_user=request.auth.user,
                                  config=payload.config, secrets=payload.secrets, enabled=payload.enabled)
    return _one(request.auth.company, provider)


@router.delete("/integrations/{provider}", response={204: None, **ERRORS})
def integration_delete(request, provider: str):
    require(request.auth, Perm.INTEGRATIONS_MANAGE)
    row = selectors.connection_get(company=request.auth.company, provider=provider)
    if row is None:
        raise Http404
    services.connection_delete(company=request.auth.company, connection=row, by_user=request.auth.user)
    return Status(204, None)


@router.post("/integrations/{provider}/test", response={200: IntegrationTestOut, **ERRORS})
def integration_test(request, provider: str):
    require(request.auth, Perm.INTEGRATIONS_MANAGE)
    row = selectors.connection_get(company=request.auth.company, provider=provider)
    if row is None:
        raise Http404
    ok, message = services.connection_test(company=request.auth.company, connection=row, by_user=request.auth.user)
    return {"ok": ok, "message": message, "health": row.health}
