"""Server-Sent Events: the one helper behind every streamed answer (knowledge answers, meeting chat).

A caller writes a synchronous generator of formatted events (``sse_event``) and hands it to
``sse_response``. Django serves a synchronous iterator under ASGI by reading it to the end first,
so under ASGI (daphne) the response gets an asynchronous wrapper that runs the generator one step
at a time in a worker thread (``sync_to_async``; Django gives each request its own), and the
browser sees every event as soon as it is made. Under WSGI the generator is iterated directly.

Tenancy: the request's tenant scope has ended by the time a streamed body is iterated, so each
step runs inside ``tenant_scope(company)``. This module is the one place in the streaming path
allowed to enter ``tenant_scope`` (see ``accounts/tenancy.py``); the generators never open one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, StreamingHttpResponse

from accounts.models import Company
from accounts.tenancy import tenant_scope

logger = logging.getLogger(__name__)
_END = object()


def sse_event(event: str, data: Any) -> str:
    """One event: ``event: <name>`` and its JSON ``data`` line."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"


def sse_comment(text: str) -> str:
    """A comment line: ignored by clients, but it opens the stream at once (proxies, the first byte)."""
    return f": {text}\n\n"


def sse_response(request: HttpRequest, *, company: Company, events: Iterator[str],
                 error_event: str | None = None) -> StreamingHttpResponse:
    """Stream ``events`` with the headers an event stream needs.

    An exception escaping the generator is logged and, when ``error_event`` is given, sent as the
    last event; generators that must record a failure catch it themselves.
    """
    if isinstance(request, ASGIRequest):
        content: Any = _async_steps(company, events, error_event)
    else:
        content = _sync_steps(company, events, error_event)
    response = StreamingHttpResponse(content, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return response


def _sync_steps(company: Company, events: Iterator[str], error_event: str | None) -> Iterator[str]:
    try:
        while True:
            with tenant_scope(company):
                item = next(events, _END)
            if item is _END:
                return
            yield item
    except Exception:
        logger.exception("event stream failed")
        if error_event is not None:
            yield error_event
    finally:
        with tenant_scope(company):
            events.close()  # type: ignore[attr-defined]


async def _async_steps(company: Company, events: Iterator[str], error_event: str | None) -> AsyncIterator[str]:
    def step() -> Any:
        with tenant_scope(company):
            return next(events, _END)

    def close() -> None:
        with tenant_scope(company):
            events.close()  # type: ignore[attr-defined]

    try:
        while (item := await sync_to_async(step)()) is not _END:
            yield item
    except Exception:
        logger.exception("event stream failed")
        if error_event is not None:
            yield error_event
    finally:
        await sync_to_async(close)()
