"""API conventions shared by every router: JSON errors, request bodies and pagination.

Services raise ``meetpilot.errors.DomainError`` subclasses; this module is the one place that turns
them into HTTP (``{"detail", "code"}`` with the error's ``status``, plus ``Retry-After`` when rate
limited).

A request whose body cannot be read is a 4xx here too, never a 500: ``RequestGuardMiddleware``
refuses what can be told from the headers alone (a multipart body without a boundary, a bad
``Content-Length``, a non-file body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``) before any middleware or
view reads the body; ``ApiParser`` answers 415 when an operation gets a body of a type it does not
read; the exception handlers map what Django raises while reading a body (``MultiPartParserError``,
``RequestDataTooBig``, ``TooManyFieldsSent``, ``TooManyFilesSent``) for the API.
"""

from __future__ import annotations

import http
import io
import json
import logging
import math
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    ObjectDoesNotExist,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.shortcuts import render
from django.utils.datastructures import MultiValueDict
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.docs import Swagger
from ninja.pagination import PageNumberPagination
from ninja.parser import Parser

from meetpilot.errors import DomainError, Invalid, RateLimited, TooLarge, UnsupportedMediaType

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


# --- request bodies ------------------------------------------------------------------------------

FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def _is_json(content_type: str) -> bool:
    # No Content-Type at all is read as JSON, as clients such as curl -d often send it.
    return content_type in ("", "application/json") or content_type.endswith("+json")


def _is_number(value: str) -> bool:
    return value.isascii() and value.isdigit()  # "²".isdigit() is true too


def _has_body(request: HttpRequest) -> bool:
    length = request.META.get("CONTENT_LENGTH") or "0"
    return (_is_number(length) and int(length) > 0) or "HTTP_TRANSFER_ENCODING" in request.META


class ApiParser(Parser):
    """Reads JSON bodies only when they are JSON, form fields only from form bodies (415 otherwise)."""

    def parse_body(self, request: HttpRequest) -> Any:
        if not _is_json(request.content_type or ""):
            raise UnsupportedMediaType(f"This operation reads application/json, not {request.content_type}.")
        try:
            body = request.body  # without a Content-Length (chunked), the size limit is checked while reading
        except RequestDataTooBig:
            raise TooLarge("The request body is too large.")
        try:
            return json.loads(body)
        except (ValueError, RecursionError) as exc:  # bad JSON, bad UTF-8, absurd nesting
            raise Invalid(f"The body is not valid JSON: {str(exc)[:200]}", code="bad_request")

    def parse_querydict(self, data: MultiValueDict, list_fields: list[str], request: HttpRequest) -> dict[str, Any]:
        reads_body = data is not request.GET
        if reads_body and _has_body(request) and (request.content_type or "") not in FORM_TYPES:
            raise UnsupportedMediaType(
                f"This operation reads multipart/form-data, not {request.content_type or 'an untyped body'}.")
        return super().parse_querydict(data, list_fields, request)


def _body_problem(request: HttpRequest) -> tuple[int, str, str] | None:
    """What is wrong with the request's body as far as its headers tell, or None."""
    raw_length = request.META.get("CONTENT_LENGTH") or ""
    if raw_length and not _is_number(raw_length):
        return 400, "bad_request", "Content-Length must be a whole number of bytes."
    content_type = request.content_type or ""
    if content_type == "multipart/form-data":
        try:  # checks the boundary and the length; reads nothing
            MultiPartParser(request.META, io.BytesIO(b""), request.upload_handlers, request.encoding)
        except MultiPartParserError as exc:
            return 400, "bad_request", f"The multipart body cannot be read: {exc}."
        return None
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is not None and raw_length and int(raw_length) > limit:
        return 413, "too_large", f"The body is larger than {limit} bytes (files go in multipart/form-data)."
    return None


class RequestGuardMiddleware:
    """Refuses unreadable request bodies up front, and gives the API's 405s the JSON error body.

    Sits before every middleware that reads a body (RejectNulMiddleware, CSRF, sessions), so the
    answer is a 4xx whichever code would have tripped over it first.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        is_api = request.path.startswith("/api/")
        problem = _body_problem(request)
        if problem is not None:
            status, code, detail = problem
            if is_api:
                return JsonResponse({"detail": detail, "code": code}, status=status)
            return HttpResponse(detail, status=status, content_type="text/plain; charset=utf-8")
        response = self.get_response(request)
        if is_api and response.status_code == 405 and not response.get("Content-Type", "").startswith(
                "application/json"):
            allowed = response.get("Allow", "")
            response = JsonResponse({"detail": f"Method not allowed here (allowed: {allowed}).",
                                     "code": "method_not_allowed"}, status=405)
            response["Allow"] = allowed
        return response


# --- the OpenAPI document ------------------------------------------------------------------------

_ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}


def _error_statuses(path: str, operation: dict[str, Any]) -> set[int]:
    """The errors any operation can answer, whatever its handler declares (see the guards above)."""
    statuses = {400, 401, 429}
    if "requestBody" in operation:
        statuses |= {413, 415, 422}
    if "{" in path or operation.get("parameters"):
        statuses |= {404, 422}
    return statuses


def _has_id(schema: dict[str, Any], response: dict[str, Any]) -> bool:
    body = response.get("content", {}).get("application/json", {}).get("schema", {})
    ref = body.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        body = schema["components"]["schemas"].get(ref.rsplit("/", 1)[1], {})
    return "id" in body.get("properties", {})


def openapi_complete(schema: dict[str, Any]) -> dict[str, Any]:
    """Adds what django-ninja does not write itself: the shared error answers, and links.

    Every operation documents the ``{"detail", "code"}`` errors it can get from the request guard,
    authentication and rate limits. A create operation (``POST /things`` answering an object with an
    ``id``) links to every operation on ``/things/{thing_id}`` and below that takes that one id, so
    clients and schema-driven tests can follow ``$response.body#/id`` from create to read.
    """
    paths: dict[str, dict[str, Any]] = schema.get("paths", {})
    for path, item in paths.items():
        for operation in item.values():
            # ninja keys responses by int; JSON makes them strings either way
            responses = {str(status): r for status, r in operation.get("responses", {}).items()}
            operation["responses"] = responses
            for status in sorted(_error_statuses(path, operation)):
                responses.setdefault(str(status), {"description": http.HTTPStatus(status).phrase,
                                                   "content": {"application/json": {"schema": _ERROR_REF}}})
    for path, item in paths.items():
        create = item.get("post")
        if create is None:
            continue
        created = [r for status, r in create["responses"].items() if status in ("200", "201") and _has_id(schema, r)]
        if not created:
            continue
        for target_path, target_item in paths.items():
            match = re.fullmatch(re.escape(path) + r"/\{(\w+)\}(/[^{}]*)?", target_path)
            if match is None:
                continue
            for operation in target_item.values():
                link = {"operationId": operation["operationId"], "parameters": {match.group(1): "$response.body#/id"}}
                for response in created:
                    response.setdefault("links", {})[operation["operationId"]] = link
    return schema


class DocumentedNinjaAPI(NinjaAPI):
    """The NinjaAPI whose OpenAPI document is completed by ``openapi_complete`` (built once per prefix)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._schema_cache: dict[str, Any] = {}

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None) -> Any:
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        if path_prefix not in self._schema_cache:
            self._schema_cache[path_prefix] = openapi_complete(super().get_openapi_schema(path_prefix=path_prefix))
        return self._schema_cache[path_prefix]


class OfflineSwagger(Swagger):
    """Swagger UI from the project's own static files (static/vendor/swagger-ui): no CDN, works offline."""

    template = "api/docs.html"
    default_settings = {"layout": "BaseLayout", "deepLinking": True, "docExpansion": "list",
                        "persistAuthorization": True, "validatorUrl": None}

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        swagger_settings = {**self.settings, "url": self.get_openapi_url(api, kwargs)}
        context = {
            # </script> cannot occur in JSON from json.dumps of these plain values, but be safe anyway
            "swagger_settings": json.dumps(swagger_settings).replace("</", "<\\/"),
            "api": api,
            "add_csrf": any(getattr(auth, "csrf", False) for auth in (api.auth or []) if auth),
        }
        return render(request, self.template, context)


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

    @api.exception_handler(Throttled)
    def on_throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
        # ninja adds Retry-After (whole seconds, rounded up) from the throttle's wait
        seconds = max(1, math.ceil(exc.wait or 1))
        return error_response(api, request, 429, "rate_limited",
                              f"Too many requests: try again in {seconds} second{'s' if seconds != 1 else ''}.")

    @api.exception_handler(MultiPartParserError)
    def on_bad_multipart(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
        return error_response(api, request, 400, "bad_request", f"The multipart body cannot be read: {exc}.")

    @api.exception_handler(RequestDataTooBig)
    def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return error_response(api, request, 413, "too_large", "The request body is too large.")

    @api.exception_handler(TooManyFieldsSent)
    def on_too_many_fields(request: HttpRequest, exc: TooManyFieldsSent) -> HttpResponse:
        return error_response(api, request, 400, "too_many_fields", "The request has too many fields.")

    @api.exception_handler(TooManyFilesSent)
    def on_too_many_files(request: HttpRequest, exc: TooManyFilesSent) -> HttpResponse:
        return error_response(api, request, 400, "too_many_files", "The request has too many files.")

    @api.exception_handler(SuspiciousOperation)
    def on_suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
        return error_response(api, request, 400, "bad_request", "Bad request.")

    @api.exception_handler(BadRequest)
    def on_bad_request(request: HttpRequest, exc: BadRequest) -> HttpResponse:
        return error_response(api, request, 400, "bad_request", str(exc) or "Bad request.")

    @api.exception_handler(UnicodeDecodeError)
    def on_bad_encoding(request: HttpRequest, exc: UnicodeDecodeError) -> HttpResponse:
        return error_response(api, request, 400, "bad_request", "The request is not valid UTF-8.")

    @api.exception_handler(HttpError)
    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if isinstance(exc.__cause__, DomainError):  # ninja wraps what ApiParser.parse_body raises
            return on_domain_error(request, exc.__cause__)
        codes = {400: "bad_request", 403: "permission_denied", 404: "not_found", 405: "method_not_allowed",
                 409: "conflict", 413: "too_large", 415: "unsupported_media_type", 429: "rate_limited"}
        return error_response(api, request, exc.status_code, codes.get(exc.status_code, "error"), str(exc))

    @api.exception_handler(Exception)
    def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("unhandled API error")
        return error_response(api, request, 500, "server_error", "Something went wrong on our side.")
