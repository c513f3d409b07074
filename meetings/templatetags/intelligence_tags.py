"""Template filters for the report, search, chat and analytics pages."""

from __future__ import annotations

import re
from typing import Any

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from meetings.intelligence.timefmt import clock as _clock

register = template.Library()
_CITATION = re.compile(r"\[(\d{1,2})\]")


@register.filter
def clock(seconds: Any) -> str:
    return _clock(seconds)


@register.filter
def pct(value: Any, digits: int = 0) -> str:
    try:
        return f"{100 * float(value):.{int(digits)}f}%"
    except (TypeError, ValueError):
        return ""


@register.filter
def sentiment_class(value: Any) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "badge"
    return "badge badge-ok" if v > 0.15 else "badge badge-bad" if v < -0.15 else "badge"


@register.filter
def signed(value: Any) -> str:
    try:
        return f"{float(value):+.2f}"
    except (TypeError, ValueError):
        return "–"


@register.filter
def cited_answer(text: str, message_id: Any = "") -> SafeString:
    """Escaped answer text with line breaks, its [n] markers linked to the message's citation list."""
    html = escape(text or "").replace("\n", "<br>")
    prefix = f"cite-{int(message_id)}-" if str(message_id).isdigit() else "cite-"
    return mark_safe(_CITATION.sub(rf'<a class="cite" href="#{prefix}\1">[\1]</a>', html))  # escaped above


@register.filter
def percent_of(value: Any, total: Any) -> float:
    try:
        return max(0.0, min(100.0, 100 * float(value) / float(total)))
    except (TypeError, ValueError, ZeroDivisionError):
        return 0.0


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    return mapping.get(key) if isinstance(mapping, dict) else None
