"""The three output formats of the live socket, as renderer objects chosen when a connection opens.

``JsonRenderer`` sends the v1 frames as they are; ``LegacyRenderer`` the older extension dialect;
``HtmlRenderer`` dashboard fragments. The consumer only calls ``renderer.events(frames)``,
``renderer.ack(frame)``, ``renderer.error(frame)`` and ``renderer.reply(frame)``; what a format
sends, drops or needs (hello and pings, binary audio) is said here and nowhere else.

``legacy_frame`` maps an event to ``{type, data}`` frames the existing extension builds
understand (ACTION_ITEM_DETECTED, FACT_CHECK_ALERT, AI_RESPONSE); other events are not sent
to them. ``html_fragment`` renders the dashboard's partials (templates/meetings/
meeting_detail.html) as htmx out-of-band swaps for the ws extension: a new item is appended
to its list, an item already on the page is replaced by id, the status badge replaces itself.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from django.template.loader import render_to_string

from meetings.live.runner import company_job
from meetings.models import ActionItem, Decision, FactCheck, Meeting, Suggestion, TranscriptSegment

DETAIL_TEMPLATE = "meetings/meeting_detail.html"

# event type: (partial, model, list container)
HTML_FRAGMENTS: dict[str, tuple[str, type, str]] = {
    "transcript": ("segment_row", TranscriptSegment, "#transcript-list"),
    "action_item": ("action_item_row", ActionItem, "#action-items-list"),
    "decision": ("decision_row", Decision, "#decisions-list"),
    "fact_check": ("fact_check_row", FactCheck, "#fact-checks-list"),
    "suggestion": ("suggestion_card", Suggestion, "#suggestions-list"),
    "answer": ("suggestion_card", Suggestion, "#suggestions-list"),
}


def _millis(frame: dict[str, Any]) -> int:
    try:
        return int(datetime.fromisoformat(frame["at"]).timestamp() * 1000)
    except (KeyError, TypeError, ValueError):
        return 0


def legacy_frame(frame: dict[str, Any]) -> dict[str, Any] | None:
    """The old dialect's frame for a v1 event frame, or None when that dialect has no such message."""
    data, kind = frame.get("data") or {}, frame.get("type")
    stamp = _millis(frame)
    if kind == "action_item":
        return {"type": "ACTION_ITEM_DETECTED", "data": {
            "id": data["id"], "text": data["description"], "description": data["description"],
            "assignee": data["assignee_name"], "dueDate": data["due_date"], "priority": data["priority"],
            "status": data["status"], "confidence": data["confidence"], "timestamp": stamp}}
    if kind == "fact_check":
        return {"type": "FACT_CHECK_ALERT", "data": {
            "id": data["id"], "claim": data["claim"], "verdict": data["verdict"],
            "isAccurate": data["verdict"] == "correct", "correction": data["corrected_value"],
            "confidence": data["confidence"], "sources": [data["source"]] if data.get("source") else [],
            "timestamp": stamp}}
    if kind in ("suggestion", "answer") and not data.get("audio_url"):  # with audio_url: a repeat, for audio
        return {"type": "AI_RESPONSE", "data": {
            "question": data["question"], "answer": data["answer"], "sources": data["sources"],
            "confidence": data["confidence"], "kind": data["kind"], "timestamp": stamp}}
    return None


def legacy_error(error: dict[str, Any]) -> dict[str, Any]:
    return {"type": "ERROR", "data": error}


class _Cache:
    """Rendered fragments by (meeting, event id): several dashboards in one process render once."""

    def __init__(self, size: int = 512) -> None:
        self._items: OrderedDict[tuple[int, int], str | None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: tuple[int, int]) -> tuple[bool, str | None]:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return True, self._items[key]
            return False, None

    def put(self, key: tuple[int, int], value: str | None) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)


_cache = _Cache()


@company_job  # reads the company's rows: in its scope, like every live job
def html_fragment(frame: dict[str, Any], *, company_id: int) -> str | None:
    """The htmx out-of-band swap for one event, or None when the dashboard shows nothing for it."""
    key = (frame["meeting_id"], frame["event_id"] or 0)
    if frame.get("event_id"):
        hit, value = _cache.get(key)
        if hit:
            return value
    html = _render(frame)
    if frame.get("event_id"):
        _cache.put(key, html)
    return html


def _render(frame: dict[str, Any]) -> str | None:
    kind, data = frame["type"], frame.get("data") or {}
    if kind == "status":
        if data.get("kind") != "meeting":
            return None
        meeting = Meeting.objects.filter(pk=frame["meeting_id"]).first()
        if meeting is None:
            return None
        return render_to_string(f"{DETAIL_TEMPLATE}#status_badge", {"meeting": meeting, "oob": True})
    if kind not in HTML_FRAGMENTS:
        return None
    partial, model, container = HTML_FRAGMENTS[kind]
    if kind == "transcript":
        if data.get("removed"):
            return f'<li id="segment-{int(data["segment_id"])}" hx-swap-oob="delete"></li>'
        obj = model.objects.filter(pk=data["segment_id"]).select_related("participant").first()
    else:
        obj = model.objects.filter(pk=data["id"]).first()
    if obj is None:  # deleted since
        return None
    if (kind == "transcript" and data.get("update")) or (kind in ("suggestion", "answer") and data.get("audio_url")):
        return render_to_string(f"{DETAIL_TEMPLATE}#{partial}", {"obj": obj, "oob": True})
    row = render_to_string(f"{DETAIL_TEMPLATE}#{partial}", {"obj": obj})
    return f'<div hx-swap-oob="beforeend:{container}">{row}</div>'


# --- renderers ---------------------------------------------------------------------------------

RunDb = Callable[[Callable[[], Any]], Awaitable[Any]]


def dumps(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"), default=str)


class JsonRenderer:
    """Protocol v1: every frame as JSON. These clients say hello, ping, and may send binary audio."""

    name = "json"
    says_hello = True  # the others never do: they stream from the moment they connect
    pings = True  # so a quiet connection is closed after LIVE_IDLE_TIMEOUT_SECONDS
    binary_audio = True

    def __init__(self, *, company_id: int, run_db: RunDb) -> None:
        self.company_id = company_id
        self.run_db = run_db
        self.asks: set[str] = set()  # ask ids this connection made up for its questions (legacy)

    async def events(self, frames: list[dict[str, Any]]) -> list[str]:
        return [dumps(frame) for frame in frames]

    def ack(self, frame: dict[str, Any]) -> str | None:
        return dumps(frame)

    def error(self, frame: dict[str, Any]) -> str | None:
        return dumps(frame)

    def reply(self, frame: dict[str, Any]) -> str:
        """pong, the hello status, audio acks and status: the same for every format."""
        return dumps(frame)

    def ignores(self, text: str) -> bool:
        """A frame to drop without an error."""
        return False


class LegacyRenderer(JsonRenderer):
    """The older extension dialect: its own frames for action items, fact checks and answers; no caption acks."""

    name = "legacy"
    says_hello = pings = binary_audio = False

    async def events(self, frames: list[dict[str, Any]]) -> list[str]:
        out = []
        for frame in frames:
            if frame["type"] == "answer" and frame["data"].get("ask_id") not in self.asks:
                continue  # the old sidebar shows answers to its own questions only
            legacy = legacy_frame(frame)
            if legacy is not None:
                out.append(dumps(legacy))
        return out

    def ack(self, frame: dict[str, Any]) -> str | None:
        return None

    def error(self, frame: dict[str, Any]) -> str | None:
        return dumps(legacy_error(frame))


class HtmlRenderer(JsonRenderer):
    """Dashboard fragments (htmx ws extension): events only, rendered from the database; no acks, no errors."""

    name = "html"
    says_hello = pings = binary_audio = False

    async def events(self, frames: list[dict[str, Any]]) -> list[str]:
        fragments = await self.run_db(lambda: [html_fragment(f, company_id=self.company_id) for f in frames])
        return [fragment for fragment in fragments if fragment]

    def ack(self, frame: dict[str, Any]) -> str | None:
        return None

    def error(self, frame: dict[str, Any]) -> str | None:
        return None

    def ignores(self, text: str) -> bool:
        return '"type"' not in text  # htmx ws-send of a form without a type: nothing for us


RENDERERS: dict[str, type[JsonRenderer]] = {"json": JsonRenderer, "legacy": LegacyRenderer, "html": HtmlRenderer}
