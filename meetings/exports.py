"""A meeting's transcript as a file: plain text, SubRip, WebVTT, JSON or Markdown.

Renderers are pure functions of a meeting and its segments (they take any iterable, so a
long meeting streams from ``.iterator()``); ``transcript_export`` picks the segments through
the selectors and names the file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from django.utils import timezone
from django.utils.text import slugify

from accounts.models import Company
from meetings import selectors
from meetings.models import Meeting, TranscriptSegment


class ExportFormat(StrEnum):
    TXT = "txt"
    SRT = "srt"
    VTT = "vtt"
    JSON = "json"
    MD = "md"


CONTENT_TYPES = {
    ExportFormat.TXT: "text/plain; charset=utf-8",
    ExportFormat.SRT: "application/x-subrip; charset=utf-8",
    ExportFormat.VTT: "text/vtt; charset=utf-8",
    ExportFormat.JSON: "application/json; charset=utf-8",
    ExportFormat.MD: "text/markdown; charset=utf-8",
}

FORMAT_LABELS = {
    ExportFormat.TXT: "Plain text (.txt)",
    ExportFormat.SRT: "Subtitles (.srt)",
    ExportFormat.VTT: "WebVTT (.vtt)",
    ExportFormat.JSON: "JSON (.json)",
    ExportFormat.MD: "Markdown (.md)",
}

# A cue shorter than this is unreadable (and zero-length cues are rejected by some players).
MIN_CUE_SECONDS = 0.5


@dataclass(frozen=True)
class ExportFile:
    content: str
    content_type: str
    filename: str


# --- time formats --------------------------------------------------------------------------


def _split(seconds: float) -> tuple[int, int, int, int]:
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return hours, minutes, secs, millis


def srt_timestamp(seconds: float) -> str:
    h, m, s, ms = _split(seconds)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"


def vtt_timestamp(seconds: float) -> str:
    h, m, s, ms = _split(seconds)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def clock(seconds: float) -> str:
    """``m:ss`` under an hour, ``h:mm:ss`` above: how a transcript shows time."""
    h, m, s, _ = _split(seconds)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _cue_times(segment: TranscriptSegment) -> tuple[float, float]:
    start = max(0.0, segment.start_time or 0.0)
    end = max(segment.end_time or 0.0, start + MIN_CUE_SECONDS)
    return start, end


def _one_line(text: str) -> str:
    # A blank line ends a cue in SRT and WebVTT, so a segment is always one line.
    return " ".join((text or "").split())


def _speaker(segment: TranscriptSegment) -> str:
    return _one_line(segment.speaker_label)


# --- renderers -----------------------------------------------------------------------------


def render_txt(meeting: Meeting, segments: Iterable[TranscriptSegment]) -> str:
    lines = [meeting.title, _meeting_when(meeting), ""]
    for segment in segments:
        speaker = _speaker(segment)
        prefix = f"[{clock(segment.start_time)}] " + (f"{speaker}: " if speaker else "")
        lines.append(prefix + _one_line(segment.text))
    return "\n".join(lines).rstrip() + "\n"


def render_srt(meeting: Meeting, segments: Iterable[TranscriptSegment]) -> str:
    blocks = []
    for index, segment in enumerate(segments, start=1):
        start, end = _cue_times(segment)
        speaker = _speaker(segment)
        text = _one_line(segment.text)
        blocks.append(f"{index}\n{srt_timestamp(start)} --> {srt_timestamp(end)}\n"
                      + (f"{speaker}: {text}" if speaker else text))
    return "\n\n".join(blocks) + "\n" if blocks else ""


def _vtt_escape(text: str) -> str:
    # WebVTT cue text is markup: & and < must be escaped, and "-->" may not appear at all.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_vtt(meeting: Meeting, segments: Iterable[TranscriptSegment]) -> str:
    title = _one_line(meeting.title).replace("-->", "->")
    blocks = [f"WEBVTT - {title}" if title else "WEBVTT"]
    for index, segment in enumerate(segments, start=1):
        start, end = _cue_times(segment)
        speaker = _vtt_escape(_speaker(segment))
        text = _vtt_escape(_one_line(segment.text))
        voice = f"<v {speaker}>{text}" if speaker else text
        blocks.append(f"{index}\n{vtt_timestamp(start)} --> {vtt_timestamp(end)}\n{voice}")
    return "\n\n".join(blocks) + "\n"


def render_json(meeting: Meeting, segments: Iterable[TranscriptSegment]) -> str:
    document = {
        "meeting": {
            "id": meeting.pk,
            "title": meeting.title,
            "platform": meeting.platform,
            "kind": meeting.kind,
            "status": meeting.status,
            "language": meeting.language,
            "started_at": meeting.started_at.isoformat() if meeting.started_at else None,
            "ended_at": meeting.ended_at.isoformat() if meeting.ended_at else None,
        },
        "segments": [
            {
                "id": s.pk,
                "sequence": s.sequence,
                "speaker": s.speaker_label,
                "participant_id": s.participant_id,
                "text": s.text,
                "start": round(s.start_time, 3),
                "end": round(s.end_time, 3),
                "is_final": s.is_final,
                "confidence": s.confidence,
                "source": s.source,
            }
            for s in segments
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _md_escape(text: str) -> str:
    # Keep what people said from turning into Markdown structure.
    for char in "\\`*_[]<>#|":
        text = text.replace(char, "\\" + char)
    return text


def render_md(meeting: Meeting, segments: Iterable[TranscriptSegment]) -> str:
    lines = [f"# {_md_escape(_one_line(meeting.title))}", "", f"*{_meeting_when(meeting)}*", "", "## Transcript", ""]
    previous_speaker = None
    for segment in segments:
        speaker = _speaker(segment)
        if speaker != previous_speaker:
            if previous_speaker is not None:
                lines.append("")
            lines.append(f"**{_md_escape(speaker) or 'Unknown speaker'}** ({clock(segment.start_time)})")
            previous_speaker = speaker
        lines.append(f"{_md_escape(_one_line(segment.text))}  ")
    return "\n".join(lines).rstrip() + "\n"


RENDERERS: dict[ExportFormat, Callable[[Meeting, Iterable[TranscriptSegment]], str]] = {
    ExportFormat.TXT: render_txt,
    ExportFormat.SRT: render_srt,
    ExportFormat.VTT: render_vtt,
    ExportFormat.JSON: render_json,
    ExportFormat.MD: render_md,
}


def _meeting_when(meeting: Meeting) -> str:
    moment = meeting.started_at or meeting.scheduled_start or meeting.created_at
    if moment is None:
        return meeting.get_platform_display()
    local = timezone.localtime(moment)
    return f"{local:%Y-%m-%d %H:%M} · {meeting.get_platform_display()}"


def export_filename(meeting: Meeting, fmt: ExportFormat) -> str:
    moment = meeting.started_at or meeting.created_at or timezone.now()
    stem = slugify(meeting.title)[:80] or f"meeting-{meeting.pk}"
    return f"{stem}-{timezone.localtime(moment):%Y-%m-%d}.{fmt.value}"


def transcript_export(*, company: Company, meeting: Meeting, fmt: ExportFormat | str) -> ExportFile:
    """The meeting's final transcript rendered as ``fmt`` (ValueError for an unknown format)."""
    fmt = ExportFormat(fmt)
    segments = selectors.segment_list(company=company, meeting=meeting).iterator(chunk_size=2000)
    return ExportFile(content=RENDERERS[fmt](meeting, segments), content_type=CONTENT_TYPES[fmt],
                      filename=export_filename(meeting, fmt))
