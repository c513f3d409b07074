from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

from accounts.auth import bearer_token, principal_from_session, principal_from_token
from accounts.logging import log_context
from accounts.tenancy import tenant_scope

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Gives every request an id (or keeps the caller's X-Request-ID) for logs and the response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = log_context.set({"request_id": request_id})
        try:
            response = self.get_response(request)
        finally:
            log_context.reset(token)
        response["X-Request-ID"] = request_id
        return response


class TenantMiddleware:
    """Resolves the caller once per request and runs the view inside that company's scope.

    A bearer token, when present, is the only credential considered (a bad one is a
    401, never a fallback to the session cookie).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        authorization = request.headers.get("Authorization", "")
        if authorization:
            raw = bearer_token(authorization)
            principal = principal_from_token(raw) if raw else None
        else:
            principal = principal_from_session(request.user, request.session)
        request.principal = principal  # type: ignore[attr-defined]
        context = dict(log_context.get() or {})
        if principal is not None:
            context.update(company_id=principal.company.pk, user_id=principal.user.pk)
        token = log_context.set(context)
        try:
            with tenant_scope(principal.company if principal else None):
                return self.get_response(request)
        finally:
            log_context.reset(token)


class RejectNulMiddleware:
    """PostgreSQL text cannot hold NUL characters: refuse them up front with a 400, not a 500 later.

    Checked: query parameters, and JSON bodies (where NUL arrives escaped as ``\\u0000``). Uploaded files
    may contain NUL bytes legitimately and are not looked at.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._has_nul(request):
            detail = "Text must not contain NUL characters."
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": detail, "code": "bad_request"}, status=400)
            return HttpResponseBadRequest(detail)
        return self.get_response(request)

    @staticmethod
    def _has_nul(request: HttpRequest) -> bool:
        if "\x00" in request.path or any("\x00" in v for values in request.GET.lists() for v in values[1]):
            return True
        if request.content_type == "application/json":
            body = request.body
            return b"\\u0000" in body or b"\x00" in body
        return False
