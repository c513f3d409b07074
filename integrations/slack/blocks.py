"""Block Kit messages, built from plain data (the caller reads the meeting). Slack's limits are kept:
3000 characters per section text, 50 blocks per message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SECTION_LIMIT = 3000
LIST_LIMIT = 15


@dataclass(frozen=True)
class ActionLine:
    description: str
    owner: str = ""
    due: str = ""  # ISO date or ""


def escape(text: str) -> str:
    """Slack's mrkdwn control characters; meeting text is untrusted (no pings, no fake links)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int = SECTION_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text)}}


def _bullets(lines: list[str], total: int) -> str:
    more = f"\n_…and {total - len(lines)} more in MeetPilot_" if total > len(lines) else ""
    return "\n".join(f"• {line}" for line in lines) + more


def report_blocks(*, title: str, url: str, summary: str, decisions: list[str],
                  action_items: list[ActionLine]) -> tuple[str, list[dict[str, Any]]]:
    """(fallback text, blocks) for a meeting's report."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _clip(f"Meeting notes: {escape(title)}", 150)}},
        _section(f"*Summary*\n{escape(summary)}" if summary.strip() else "*Summary*\n_No summary was written._"),
    ]
    if decisions:
        shown = [escape(d) for d in decisions[:LIST_LIMIT]]
        blocks.append(_section("*Decisions*\n" + _bullets(shown, len(decisions))))
    if action_items:
        shown = []
        for item in action_items[:LIST_LIMIT]:
            owner = f" — *{escape(item.owner)}*" if item.owner else " — _unassigned_"
            due = f" (due {item.due})" if item.due else ""
            shown.append(f"{escape(item.description)}{owner}{due}")
        blocks.append(_section("*Action items*\n" + _bullets(shown, len(action_items))))
    blocks.append({"type": "actions", "elements": [
        {"type": "button", "text": {"type": "plain_text", "text": "Open in MeetPilot"}, "url": url,
         "action_id": "open_meeting"}]})
    text = f"Meeting notes: {title} — {len(decisions)} decisions, {len(action_items)} action items. {url}"
    return text, blocks


def connected_blocks() -> tuple[str, list[dict[str, Any]]]:
    text = "MeetPilot is connected: meeting notes will be posted here."
    return text, [_section(text)]
