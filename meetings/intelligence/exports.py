"""A meeting report as Markdown or PDF (fpdf2; pure Python, no system libraries)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.text import slugify

from meetings.intelligence.reports import ReportView
from meetings.intelligence.timefmt import clock

_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu",)
_CORE_REPLACEMENTS = {"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
                      "\u2026": "...", "\u00a0": " ", "\u2022": "-", "\u00b7": "-"}


@dataclass(frozen=True)
class ReportFile:
    content: bytes
    content_type: str
    filename: str




def _md_escape(text: str) -> str:
    # Transcript text must not turn into headings, links or HTML in a Markdown viewer.
    return (str(text).replace("\\", "\\\\").replace("<", "&lt;").replace(">", "&gt;")
            .replace("[", "\\[").replace("]", "\\]").replace("#", "\\#"))


def report_markdown(view: ReportView) -> str:
    r = view.report
    lines = [f"# {_md_escape(view.meeting.title)}", ""]
    lines.append(f"*{view.meeting_date} · {view.meeting.get_platform_display()} · analysed by {r.provider or 'local'}*")
    if r.is_partial:
        lines += ["", f"> **Partial result.** {_md_escape(r.notes)}"]
    if view.missing:
        lines += ["", f"> **Not captured:** {_md_escape('; '.join(view.missing))}. The summary covers the rest."]
    lines += ["", "## Summary", "", _md_escape(r.short_summary or "No summary."), ""]
    if r.detailed_summary:
        lines += [_md_escape(r.detailed_summary), ""]
    if r.key_points:
        lines += ["## Key points", ""] + [f"- {_md_escape(p)}" for p in r.key_points] + [""]
    lines += ["## Decisions", ""]
    lines += [f"- {_md_escape(d.text)}" for d in view.decisions] or ["- None recorded."]
    lines += ["", "## Action items", ""]
    for a in view.action_items:
        owner = f" — {_md_escape(a.assignee_name)}" if a.assignee_name else ""
        due = f" (due {a.due_date.isoformat()})" if a.due_date else ""
        box = "x" if a.status == "done" else " "
        lines.append(f"- [{box}] {_md_escape(a.description)}{owner}{due}")
    if not view.action_items:
        lines.append("- None recorded.")
    if r.topics:
        lines += ["", "## Topics", ""]
        for t in r.topics:
            lines.append(f"- {_md_escape(t.get('title', ''))} ({clock(t.get('start'))}–{clock(t.get('end'))})")
    if r.questions:
        lines += ["", "## Questions", ""]
        for q in r.questions:
            state = "answered" if q.get("answered") else "**unanswered**"
            who = f"{_md_escape(q.get('asked_by'))}: " if q.get("asked_by") else ""
            lines.append(f"- {who}{_md_escape(q.get('text', ''))} — {state}")
    if r.talk_time:
        lines += ["", "## Participation", "",
                  "| Speaker | Speaking | Share | Turns | Longest monologue | WPM | Questions |",
                  "|---|---|---|---|---|---|---|"]
        for s in r.talk_time:
            lines.append(
                f"| {_md_escape(s.get('speaker', ''))} | {clock(s.get('speaking_seconds'))} | "
                f"{100 * float(s.get('share') or 0):.0f}% | {s.get('turns', 0)} | "
                f"{clock(s.get('longest_monologue_seconds'))} | {float(s.get('words_per_minute') or 0):.0f} | "
                f"{s.get('questions_asked', 0)} |")
    if view.sentiment_overall is not None:
        lines += ["", "## Sentiment", "", f"Overall: {view.sentiment_overall:+.2f} ({view.sentiment_label})"]
    if r.follow_up_email:
        lines += ["", "## Follow-up email draft", "", "```text", r.follow_up_email.replace("```", "'''"), "```"]
    return "\n".join(lines).rstrip() + "\n"


def _font(pdf: Any) -> tuple[str, bool]:
    """DejaVu Sans (all of Unicode that matters here) when installed, else Helvetica (Latin-1 only)."""
    for folder in _FONT_DIRS:
        regular, bold = Path(folder) / "DejaVuSans.ttf", Path(folder) / "DejaVuSans-Bold.ttf"
        if regular.exists() and bold.exists():
            pdf.add_font("DejaVu", "", str(regular))
            pdf.add_font("DejaVu", "B", str(bold))
            return "DejaVu", True
    return "Helvetica", False


def report_pdf(view: ReportView) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_title(view.meeting.title)
    pdf.set_creator("MeetPilot")
    family, unicode_ok = _font(pdf)

    def clean(text: Any) -> str:
        text = str(text or "")
        if unicode_ok:
            return text
        for a, b in _CORE_REPLACEMENTS.items():
            text = text.replace(a, b)
        return text.encode("latin-1", "replace").decode("latin-1")

    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    def heading(text: str, size: int = 13) -> None:
        pdf.ln(3)
        pdf.set_font(family, "B", size)
        pdf.multi_cell(width, 7, clean(text))
        pdf.set_font(family, "", 10.5)

    def para(text: str) -> None:
        pdf.multi_cell(width, 5.5, clean(text))
        pdf.ln(1)

    def bullet(text: str) -> None:
        pdf.multi_cell(width, 5.5, clean(f"- {text}"))

    r = view.report
    heading(view.meeting.title, 17)
    para(f"{view.meeting_date} · {view.meeting.get_platform_display()} · analysed by {r.provider or 'local'}")
    if r.is_partial:
        para(f"Partial result. {r.notes}")
    if view.missing:
        para(f"Not captured: {'; '.join(view.missing)}. The summary covers the rest.")
    heading("Summary")
    para(r.short_summary or "No summary.")
    if r.detailed_summary:
        para(r.detailed_summary)
    if r.key_points:
        heading("Key points")
        for p in r.key_points:
            bullet(p)
    heading("Decisions")
    for d in view.decisions or []:
        bullet(d.text)
    if not view.decisions:
        para("None recorded.")
    heading("Action items")
    for a in view.action_items:
        owner = f" ({a.assignee_name})" if a.assignee_name else ""
        due = f", due {a.due_date.isoformat()}" if a.due_date else ""
        bullet(f"{a.description}{owner}{due} [{a.get_status_display()}]")
    if not view.action_items:
        para("None recorded.")
    if r.topics:
        heading("Topics")
        for t in r.topics:
            bullet(f"{t.get('title', '')} ({clock(t.get('start'))}-{clock(t.get('end'))})")
    if r.questions:
        heading("Questions")
        for q in r.questions:
            who = f"{q.get('asked_by')}: " if q.get("asked_by") else ""
            bullet(f"{who}{q.get('text', '')} ({'answered' if q.get('answered') else 'unanswered'})")
    if r.talk_time:
        heading("Participation")
        for s in r.talk_time:
            bullet(f"{s.get('speaker', '')}: {clock(s.get('speaking_seconds'))} "
                   f"({100 * float(s.get('share') or 0):.0f}%), {s.get('turns', 0)} turns, "
                   f"{float(s.get('words_per_minute') or 0):.0f} words/min, {s.get('questions_asked', 0)} questions")
    if r.follow_up_email:
        heading("Follow-up email draft")
        para(r.follow_up_email)
    return bytes(pdf.output())


def report_export(view: ReportView, *, fmt: str) -> ReportFile:
    stem = slugify(view.meeting.title)[:60] or f"meeting-{view.meeting.pk}"
    if fmt == "pdf":
        return ReportFile(report_pdf(view), "application/pdf", f"{stem}-report.pdf")
    if fmt == "md":
        return ReportFile(report_markdown(view).encode(), "text/markdown; charset=utf-8", f"{stem}-report.md")
    raise ValueError(f"unknown export format {fmt!r}")
