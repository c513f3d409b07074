"""The events of a streamed answer; ``ai.sse`` streams them (ASGI and WSGI alike).

Events: ``delta`` ``{"text"}`` (append), ``reset`` (discard what was shown: a fallback
answer follows), ``done`` (the final answer with its sources) and ``error``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.http import HttpRequest, StreamingHttpResponse

from accounts.models import Company
from ai.sse import sse_comment, sse_event, sse_response
from knowledge.answers import Answer, StreamReset, answer_stream


def _events(*, company: Company, question: str, top_k: int, filters: dict | None,
            access_levels: set[str]) -> Iterator[str]:
    yield sse_comment("answering")  # open the stream at once (proxies, the browser's first byte)
    with contextlib.closing(answer_stream(company=company, question=question, top_k=top_k, filters=filters,
                                          access_levels=access_levels)) as items:
        for item in items:
            if isinstance(item, Answer):
                yield sse_event("done", item.as_dict())
            elif isinstance(item, StreamReset):
                yield sse_event("reset", {})
            else:
                yield sse_event("delta", {"text": item})


def sse_answer_response(request: HttpRequest, *, company: Company, question: str, top_k: int,
                        filters: dict | None, access_levels: set[str]) -> StreamingHttpResponse:
    events = _events(company=company, question=question, top_k=top_k, filters=filters, access_levels=access_levels)
    return sse_response(request, company=company, events=events,
                        error_event=sse_event("error", {"detail": "Something went wrong while answering. Try again."}))
