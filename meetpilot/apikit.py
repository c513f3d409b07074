"""API conventions shared by every router: JSON errors and pagination.

Services raise ``meetpilot.errors.DomainError`` subclasses; this module is the one place that turns
them into HTTP (``{"detail", "code"}`` with the error's ``status``, plus ``Retry-After`` when rate
limited).
"""

from __future__ import annotations

import logging
import math
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import PageNumberPagination

from meetpilot.errors import DomainError, RateLimited

logger = logging.getLogger("meetpilot.api")


class ApiError(Exception):
    """Raise from a handler (interface code only) to answer ``{"detail": ..., "code": ...}`` with ``status``.

    Services raise ``meetpilot.errors`` domain errors instead.
    """

    def __init__(self, status: int, code: str, detail: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail


class ErrorOut(Schema):
    detail: Any
    code: str


class Pagination(PageNumberPagination):
    """``?page=N&page_size=M`` (max 200), answered as ``{items, count, page, page_size}``."""

    # Out-of-range sizes are clamped; a page number past any real list is a 422 (it would overflow OFFSET).
    class Input(Schema):
        page: int = Field(1, le=1_000_000)
        page_size: int = Field(50, ge=-(2**31), le=2**31)

    class Output(Schema):
        items: list[Any]
        count: int
        page: int
        page_size: int

    items_attribute = "items"

    def paginate_queryset(self, queryset: Any, pagination: Input, **params: Any) -> dict[str, Any]:
        page = max(pagination.page, 1)
        page_size = min(max(pagination.page_size, 1), 200)
        offset = (page - 1) * page_size
        return {
            "items": list(queryset[offset : offset + page_size]),
            "count": self._items_count(queryset),
            "page": page,
            "page_size": page_size,
        }


def error_response(api: NinjaAPI, request: HttpRequest, status: int, code: str, detail: Any) -> HttpResponse:
    return api.create_response(request, {"detail": detail, "code": code}, status=status)


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(ApiError)
    def on_api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
        return error_response(api, request, exc.status, exc.code, exc.detail)

    @api.exception_handler(DomainError)
    def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        response = error_response(api, request, exc.status, exc.code, exc.detail)
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            # Retry-After takes whole seconds; round up so a client never retries too early.
            response["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
        return response

    @api.exception_handler(NinjaValidationError)
    def on_validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        return error_response(api, request, 422, "validation_error", exc.errors)

    @api.exception_handler(DjangoValidationError)
    def on_model_validation(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        return error_response(api, request, 400, "invalid", detail)

    @api.exception_handler(AuthenticationError)
    def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return error_response(api, request, 401, "not_authenticated",
                              "Authentication required: send a valid API token or sign in.")

    @api.exception_handler(PermissionDenied)
    def on_forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return error_response(api, request, 403, "permission_denied", str(exc) or "Not allowed.")

    @api.exception_handler(Http404)
    def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return error_response(api, request, 404, "not_found", "Not found.")

    @api.exception_handler(ObjectDoesNotExist)
    def on_missing(request: HttpRequest, exc: ObjectDoesNotExist) -> HttpResponse:
        return error_response(api, request, 404, "not_found", "Not found.")

    @api.exception_handler(HttpError)
    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        codes = {400: "bad_request", 403: "permission_denied", 404: "not_found", 405: "method_not_allowed",
                 409: "conflict", 413: "too_large", 415: "unsupported_media_type", 429: "rate_limited"}
        return error_response(api, request, exc.status_code, codes.get(exc.status_code, "error"), str(exc))

    @api.exception_handler(Exception)
    def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("unhandled API error")
        return error_response(api, request, 500, "server_error", "Something went wrong on our side.")
