"""Server-sent events for chat replies, streamed for real under ASGI (daphne) and WSGI alike.

The question is stored and the sources retrieved before the response starts (``chat_prepare`` in
the view, so errors are ordinary HTTP errors). Django serves a synchronous iterator under ASGI by
reading it to the end first, so under ASGI the response gets an asynchronous generator: the
token stream, which waits on the network and touches no database, runs in a worker thread of its
own, and storing the reply runs through ``sync_to_async`` (the thread Django uses for the ORM)
inside the company's tenant scope (the request's scope has ended by then).

Events: ``start`` (ids, provider, candidate citations), ``token`` ({"text"}) repeated,
``done`` (the stored reply: content, citations with ``cited`` flags, provider) or ``error``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, StreamingHttpResponse

from accounts.models import Company
from accounts.tenancy import tenant_scope
from meetings.intelligence.chat import ChatTurn, chat_finish, chat_tokens, message_payload, turn_start_payload

logger = logging.getLogger(__name__)
_END = object()


def sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, default=str)}\n\n"


def _scoped(company: Company, fn: Callable[[], Any]) -> Callable[[], Any]:
    def run() -> Any:
        with tenant_scope(company):
            return fn()

    return run


def _finish(company: Company, turn: ChatTurn, content: str, failed: bool) -> dict:
    return message_payload(chat_finish(company=company, turn=turn, content=content, failed=failed))


def _sync_events(company: Company, turn: ChatTurn) -> Iterator[str]:
    yield sse("start", turn_start_payload(turn))
    parts: list[str] = []
    try:
        for piece in chat_tokens(turn):
            parts.append(piece)
            yield sse("token", {"text": piece})
    except Exception:
        logger.exception("chat reply failed")
        _scoped(company, lambda: _finish(company, turn, "".join(parts), True))()
        yield sse("error", {"detail": "The answer could not be completed."})
        return
    yield sse("done", _scoped(company, lambda: _finish(company, turn, "".join(parts), False))())


async def _async_events(company: Company, turn: ChatTurn) -> AsyncIterator[str]:
    yield sse("start", turn_start_payload(turn))
    parts: list[str] = []
    tokens = chat_tokens(turn)
    step = sync_to_async(lambda: next(tokens, _END), thread_sensitive=False)
    try:
        while (piece := await step()) is not _END:
            parts.append(piece)
            yield sse("token", {"text": piece})
    except Exception:
        logger.exception("chat reply failed")
        await sync_to_async(_scoped(company, lambda: _finish(company, turn, "".join(parts), True)))()
        yield sse("error", {"detail": "The answer could not be completed."})
        return
    done = await sync_to_async(_scoped(company, lambda: _finish(company, turn, "".join(parts), False)))()
    yield sse("done", done)


def chat_sse_response(request: HttpRequest, *, company: Company, turn: ChatTurn) -> StreamingHttpResponse:
    """An SSE response streaming the reply of a prepared turn (``chat_prepare``)."""
    if isinstance(request, ASGIRequest):
        content: Any = _async_events(company, turn)
    else:
        content = _sync_events(company, turn)
    response = StreamingHttpResponse(content, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return response
