"""Charts for the analytics pages, drawn from the plain data in ``analytics``."""

from __future__ import annotations

from datetime import date
from typing import Any

from meetings.intelligence import charts
from meetings.intelligence.charts import Series


def _week_labels(weeks: list[str]) -> list[str]:
    return [date.fromisoformat(w).strftime("%d %b") for w in weeks]


def overview_charts(data: dict[str, Any]) -> dict[str, Any]:
    labels = _week_labels(data["weeks"])
    items = data["action_items"]
    talk = data["talk_time"]
    return {
        "meetings": charts.bar_chart(title="Meetings per week", labels=labels,
                                     series=[Series("Meetings", data["meetings_per_week"])], y_label="meetings"),
        "hours": charts.bar_chart(title="Hours in meetings per week", labels=labels,
                                  series=[Series("Hours", data["hours_per_week"], color=charts.PALETTE[4])],
                                  y_label="hours", value_format="{:g}"),
        "action_items": charts.bar_chart(
            title="Action items created and completed per week", labels=labels,
            series=[Series("Created", items["created_per_week"]),
                    Series("Completed", items["completed_per_week"], color=charts.PALETTE[1])],
            y_label="action items"),
        "talk_time": charts.donut_chart(
            title="Who did the talking (hours)", labels=[t["name"] for t in talk],
            values=[round(t["seconds"] / 3600, 2) for t in talk], value_format="{:g} h"),
        "sentiment": charts.line_chart(
            title="Average meeting sentiment per week (-1 negative to +1 positive)", labels=labels,
            series=[Series("Sentiment", data["sentiment_per_week"], color=charts.PALETTE[1])],
            y_min=-1, y_max=1, value_format="{:+.1f}"),
        "unanswered": charts.bar_chart(
            title="Questions left unanswered per week", labels=labels,
            series=[Series("Unanswered", data["unanswered_questions_per_week"], color=charts.PALETTE[2])],
            y_label="questions"),
    }


def person_charts(data: dict[str, Any]) -> dict[str, Any]:
    labels = _week_labels(data["weeks"])
    return {
        "meetings": charts.bar_chart(title="Meetings attended per week", labels=labels,
                                     series=[Series("Meetings", data["meetings_per_week"])], y_label="meetings"),
        "speaking": charts.line_chart(title="Minutes spoken per week", labels=labels,
                                      series=[Series("Minutes", data["speaking_minutes_per_week"])],
                                      y_min=0, value_format="{:g}"),
    }
