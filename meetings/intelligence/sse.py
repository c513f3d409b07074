"""The events of a streamed chat reply; ``ai.sse`` streams them (ASGI and WSGI alike).

The question is stored and the sources retrieved before the response starts (``chat_prepare`` in
the view, so errors are ordinary HTTP errors); the token stream touches no database, and the
reply is stored when it ends (or fails).

Events: ``start`` (ids, provider, candidate citations), ``token`` ({"text"}) repeated,
``done`` (the stored reply: content, citations with ``cited`` flags, provider) or ``error``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from django.http import HttpRequest, StreamingHttpResponse

from accounts.models import Company
from ai.sse import sse_event, sse_response
from meetings.intelligence.chat import ChatTurn, chat_finish, chat_tokens, message_payload, turn_start_payload

logger = logging.getLogger(__name__)


def _events(company: Company, turn: ChatTurn) -> Iterator[str]:
    yield sse_event("start", turn_start_payload(turn))
    parts: list[str] = []
    try:
        for piece in chat_tokens(turn):
            parts.append(piece)
            yield sse_event("token", {"text": piece})
    except Exception:
        logger.exception("chat reply failed")
        chat_finish(company=company, turn=turn, content="".join(parts), failed=True)
        yield sse_event("error", {"detail": "The answer could not be completed."})
        return
    reply = chat_finish(company=company, turn=turn, content="".join(parts), failed=False)
    yield sse_event("done", message_payload(reply))


def chat_sse_response(request: HttpRequest, *, company: Company, turn: ChatTurn) -> StreamingHttpResponse:
    """An SSE response streaming the reply of a prepared turn (``chat_prepare``)."""
    return sse_response(request, company=company, events=_events(company, turn))
