"""Structured JSON logs carrying the request id, company and user of the work in progress."""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

log_context: ContextVar[dict[str, object] | None] = ContextVar("log_context", default=None)

# "request" is django.request's HttpRequest: its repr carries the query string (one-time OAuth codes
# and the like), and the message already names the path.
_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request"}


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        context = log_context.get() or {}
        request = getattr(record, "request", None)
        if not context and request is not None:
            # django.request logs 4xx/5xx responses after the middleware has returned: read the request itself.
            principal = getattr(request, "principal", None)
            context = {"request_id": getattr(request, "request_id", "-"),
                       "company_id": principal.company.pk if principal else None,
                       "user_id": principal.user.pk if principal else None}
        record.request_id = context.get("request_id", "-")
        record.company_id = context.get("company_id")
        record.user_id = context.get("user_id")
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and value is not None and not key.startswith("_"):
                payload[key] = value if isinstance(value, str | int | float | bool) else str(value)
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)
