"""Server-Sent Events for streamed answers, served asynchronously so daphne really streams.

Events: ``delta`` ``{"text"}`` (append), ``reset`` (discard what was shown: a fallback
answer follows), ``done`` (the final answer with its sources) and ``error``.
The answer generator is synchronous (database, HTTP to the provider); each step runs
in the request's worker thread inside the company's tenant scope.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from django.http import StreamingHttpResponse

from accounts.models import Company
from accounts.tenancy import tenant_scope
from knowledge.answers import Answer, StreamReset, answer_stream

logger = logging.getLogger(__name__)
_END = object()


def sse_event(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def _events(*, company: Company, question: str, top_k: int, filters: dict | None,
                  access_levels: set[str]) -> AsyncIterator[str]:
    generator = answer_stream(company=company, question=question, top_k=top_k, filters=filters,
                              access_levels=access_levels)

    def step():
        with tenant_scope(company):
            return next(generator, _END)

    def close() -> None:
        generator.close()

    try:
        yield ": answering\n\n"  # open the stream at once (proxies, the browser's first byte)
        while True:
            item = await sync_to_async(step)()
            if item is _END:
                break
            if isinstance(item, Answer):
                yield sse_event("done", item.as_dict())
            elif isinstance(item, StreamReset):
                yield sse_event("reset", {})
            else:
                yield sse_event("delta", {"text": item})
    except Exception:
        logger.exception("answer stream failed")
        yield sse_event("error", {"detail": "Something went wrong while answering. Try again."})
    finally:
        await sync_to_async(close)()


def sse_answer_response(*, company: Company, question: str, top_k: int, filters: dict | None,
                        access_levels: set[str]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        _events(company=company, question=question, top_k=top_k, filters=filters, access_levels=access_levels),
        content_type="text/event-stream",
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return response
