"""A meeting's report with everything shown next to it, read once for the page, the API and exports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from accounts.models import Company
from meetings.capture import gap_text
from meetings.intelligence import charts
from meetings.intelligence.analytics import meeting_analytics, sentiment_value
from meetings.intelligence.search import moment_url
from meetings.intelligence.timefmt import clock, meeting_day
from meetings.models import ActionItem, Decision, Meeting, MeetingReport
from meetings.selectors import meeting_get


@dataclass
class ReportView:
    meeting: Meeting
    report: MeetingReport
    action_items: list[ActionItem]
    decisions: list[Decision]
    meeting_date: str
    exists: bool = True
    charts: dict[str, Any] = field(default_factory=dict)

    @property
    def sentiment_overall(self) -> float | None:
        return sentiment_value(self.report.sentiment)

    @property
    def sentiment_label(self) -> str:
        value = self.sentiment_overall
        if value is None:
            return "unknown"
        return "positive" if value > 0.15 else "negative" if value < -0.15 else "neutral"

    @property
    def missing(self) -> list[str]:
        """The stretches the transcript did not cover, as people read them ("no captions 10:14–10:19 (...)")."""
        return [gap_text(gap, self.meeting) for gap in self.report.missing or []]

    @property
    def in_progress(self) -> bool:
        return self.report.status in ("pending", "running")

    @property
    def questions(self) -> list[dict]:
        return [
            {**q, "url": moment_url(self.meeting.pk, q.get("at"), q.get("segment_id"))}
            for q in (self.report.questions or []) if isinstance(q, dict)
        ]

    @property
    def topics(self) -> list[dict]:
        """Topics with a link to where each starts and its place on the meeting's timeline (percent)."""
        rows = [t for t in (self.report.topics or []) if isinstance(t, dict)]
        ends = [float(t.get("end") or 0) for t in rows]
        total = max(ends) if ends and max(ends) > 0 else 0
        out = []
        for t in rows:
            start, end = float(t.get("start") or 0), float(t.get("end") or 0)
            out.append({**t, "url": moment_url(self.meeting.pk, start, None),
                        "left": round(100 * start / total, 2) if total else 0,
                        "width": round(max(0.5, 100 * (end - start) / total), 2) if total else 0})
        return out


def report_view(*, company: Company, meeting_id: int, with_charts: bool = False) -> ReportView:
    """The report of a meeting of ``company`` (404 for another company's meeting)."""
    meeting = meeting_get(company=company, meeting_id=meeting_id)
    report = MeetingReport.objects.for_company(company).filter(meeting=meeting).first()
    exists = report is not None
    if report is None:
        report = MeetingReport(company=company, meeting=meeting, status="none")
    view = ReportView(
        meeting=meeting,
        report=report,
        action_items=list(ActionItem.objects.for_company(company).filter(meeting=meeting).exclude(review="dismissed")
                          .select_related("source_segment").order_by("created_at", "pk")),
        decisions=list(Decision.objects.for_company(company).filter(meeting=meeting).exclude(review="dismissed")
                       .prefetch_related("source_segments").order_by("created_at", "pk")),
        meeting_date=meeting_day(meeting).isoformat(),
        exists=exists,
    )
    if with_charts:
        view.charts = meeting_charts(meeting_analytics(meeting=meeting))
    return view


def meeting_charts(data: dict[str, Any]) -> dict[str, Any]:
    talk = [s for s in data["talk_time"] if isinstance(s, dict)]
    names = [str(s.get("speaker", "")) for s in talk]
    out: dict[str, Any] = {
        "talk_time": charts.hbar_chart(
            title="Speaking time per participant (minutes)", labels=names,
            values=[round(float(s.get("speaking_seconds") or 0) / 60, 1) for s in talk], value_format="{:g} min",
            note=lambda i: f"({talk[i].get('turns', 0)} turns)", width=480),
        "share": charts.donut_chart(
            title="Share of the conversation", labels=names,
            values=[round(float(s.get("speaking_seconds") or 0) / 60, 1) for s in talk], value_format="{:g} min"),
    }
    timeline = data["sentiment_timeline"]
    if len(timeline) > 60:  # keep the chart readable: average into at most 60 points
        size = len(timeline) / 60
        grouped = [timeline[int(i * size): int((i + 1) * size)] for i in range(60)]
        timeline = [{"t": g[0]["t"], "score": sum(p["score"] for p in g) / len(g)} for g in grouped if g]
    out["sentiment"] = charts.line_chart(
        title="Sentiment over the meeting", labels=[clock(p["t"]) for p in timeline],
        series=[charts.Series("Sentiment", [round(p["score"], 2) for p in timeline])],
        y_min=-1, y_max=1, value_format="{:+.1f}", width=480, height=220)
    return out
