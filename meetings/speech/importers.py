"""Transcript files from other tools, parsed into speaker-labelled, timed segments.

Formats: WebVTT (Zoom, Teams, Meet exports; ``<v Name>`` voice tags or ``Name: text``), SRT, plain
text with ``Speaker: text`` lines (optionally ``[hh:mm:ss]`` timestamps, or Otter's ``Name  0:03``
header lines), and JSON exports:

* Microsoft Teams / Stream: ``{"entries": [{"speakerDisplayName", "startOffset": "00:00:01.2345678",
  "endOffset", "text"}]}``
* Google Meet API: ``{"transcriptEntries" | "entries": [{"participant": "conferenceRecords/.../participants/x",
  "text", "startTime": RFC 3339, "endTime"}], "participants": [{"name": ..., "signedinUser":
  {"displayName"}} | {"anonymousUser": {"displayName"}}]}``
* Otter: ``{"speakers": [{"id", "name"}], "transcripts": [{"speaker_id", "start_offset", "end_offset",
  "transcript"}]}`` (offsets in milliseconds) or ``{"speeches": [{"speaker": {"name"}, "start", "end",
  "text"}]}``
* Zoom: ``{"timeline": [{"ts": "00:00:01.310", "end_ts", "text", "users": [{"username"}]}]}`` and
  recording-transcript shapes ``{"transcript": [{"speaker_name" | "speaker", "start_time", "end_time", "text"}]}``
* anything else that is a list of objects with a speaker-ish, a text-ish and a time-ish key.

Missing times are estimated from the text length, so imported meetings still have a timeline.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

WORDS_PER_SECOND = 2.5  # speaking rate used to estimate missing times


class ImportFormatError(ValueError):
    """The file is not a transcript we can read; the message says why."""


@dataclass
class ImportedSegment:
    speaker: str
    text: str
    start: float | None = None
    end: float | None = None


@dataclass
class ParsedTranscript:
    format: str
    segments: list[ImportedSegment]
    platform: str = "upload"  # meeting platform: zoom, teams, google_meet or upload
    title: str = ""
    language: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def speakers(self) -> list[str]:
        seen: dict[str, None] = {}
        for segment in self.segments:
            if segment.speaker:
                seen.setdefault(segment.speaker, None)
        return list(seen)


# --- time parsing --------------------------------------------------------------------------------

_CLOCK = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{1,2})(?:[.,](\d+))?$")


def parse_clock(value: str) -> float:
    """"01:02:03.5", "1:02:03,500", "02:03", "00:00:01.2345678" -> seconds."""
    match = _CLOCK.match(value.strip())
    if not match:
        raise ValueError(f"not a time: {value!r}")
    hours, minutes, seconds, fraction = match.groups()
    total = int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)
    return total + (float(f"0.{fraction}") if fraction else 0.0)


def _time_value(value: Any, *, milliseconds: bool = False) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) / 1000.0 if milliseconds else float(value)
    text = str(value).strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text) / 1000.0 if milliseconds else float(text)
    if re.fullmatch(r"\d+(\.\d+)?s", text):  # protobuf Duration "12.5s"
        return float(text[:-1])
    try:
        return parse_clock(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


# --- entry point -----------------------------------------------------------------------------------


def parse_transcript(data: bytes, *, filename: str = "") -> ParsedTranscript:
    """Detect the format from the content (the file name only breaks ties) and parse it."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise ImportFormatError("The transcript is not UTF-8 text.")
    if "\x00" in text:
        raise ImportFormatError("This looks like a binary file, not a transcript.")
    stripped = text.strip()
    if not stripped:
        raise ImportFormatError("The transcript is empty.")
    name = filename.lower()
    payload: Any = None
    if stripped[:1] in "[{" or name.endswith(".json"):
        try:
            payload = json.loads(stripped)
        except json.JSONDecodeError as exc:
            # "[00:00:05] Alice: ..." also starts with a bracket: only a .json name or "{" means JSON.
            if name.endswith(".json") or stripped[:1] == "{":
                raise ImportFormatError(f"The JSON is not valid ({exc.msg} at line {exc.lineno}).")
    if payload is not None:
        parsed = parse_json(payload)
    elif stripped.startswith("WEBVTT") or name.endswith(".vtt"):
        parsed = parse_vtt(stripped)
    elif re.search(r"^\d+\s*\n\s*\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}\s*-->", stripped, re.M) or name.endswith(".srt"):
        parsed = parse_srt(stripped)
    else:
        parsed = parse_text(stripped)
    parsed.segments = _finish(parsed.segments)
    if not parsed.segments:
        raise ImportFormatError(f"No transcript lines were found in this {parsed.format} file.")
    return parsed


def _finish(segments: list[ImportedSegment]) -> list[ImportedSegment]:
    """Clean text, merge empty speakers, estimate missing times, make times relative and ordered."""
    cleaned = [s for s in segments if s.text and s.text.strip()]
    for s in cleaned:
        s.text = re.sub(r"\s+", " ", s.text).strip()
        s.speaker = (s.speaker or "").strip()[:200] or "Unknown speaker"
    known = [s.start for s in cleaned if s.start is not None]
    # Absolute clock times (RFC 3339) become offsets from the first entry.
    origin = min(known) if known and min(known) > 10 * 24 * 3600 else 0.0
    cursor = 0.0
    for index, s in enumerate(cleaned):
        estimate = max(0.8, len(s.text.split()) / WORDS_PER_SECOND)
        if s.start is not None:
            s.start = max(0.0, s.start - origin)
        else:
            s.start = cursor
        if s.end is not None:
            s.end = max(s.start, s.end - origin)
        else:
            following = next((n.start for n in cleaned[index + 1 :] if n.start is not None), None)
            following = following - origin if following is not None else None
            s.end = min(s.start + estimate, following) if following is not None and following > s.start \
                else s.start + estimate
        cursor = s.end
    cleaned.sort(key=lambda s: (s.start, s.end))
    return cleaned


# --- subtitles ---------------------------------------------------------------------------------------

_CUE_TIME = re.compile(
    r"(?P<start>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})\s*-->\s*(?P<end>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})")
_VOICE = re.compile(r"<v(?:\.[\w.-]+)?\s+([^>]+)>")
_TAG = re.compile(r"</?[^>]+>")
_SPEAKER_PREFIX = re.compile(r"^\s*(?:-\s*)?(?P<speaker>[^:\n]{1,60}?)\s*:\s+(?P<text>.+)$", re.S)


def _split_speaker(text: str) -> tuple[str, str]:
    voice = _VOICE.search(text)
    if voice:
        return voice.group(1).strip(), _TAG.sub("", text).strip()
    plain = _TAG.sub("", text).strip()
    match = _SPEAKER_PREFIX.match(plain)
    if match and not re.match(r"^(https?|\d+)$", match.group("speaker").strip(), re.I):
        return match.group("speaker").strip(), match.group("text").strip()
    return "", plain


def _cues(text: str) -> list[ImportedSegment]:
    segments: list[ImportedSegment] = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n")):
        lines = [line for line in block.split("\n") if line.strip()]
        for i, line in enumerate(lines):
            match = _CUE_TIME.search(line)
            if not match:
                continue
            body = " ".join(lines[i + 1 :])
            speaker, content = _split_speaker(body)
            segments.append(ImportedSegment(speaker, content, parse_clock(match["start"]), parse_clock(match["end"])))
            break
    # Captions repeat a speaker's name only when it changes: carry it forward.
    last = ""
    for s in segments:
        if s.speaker:
            last = s.speaker
        else:
            s.speaker = last
    return segments


def parse_vtt(text: str) -> ParsedTranscript:
    if not text.lstrip().startswith("WEBVTT"):
        raise ImportFormatError("A WebVTT file must start with WEBVTT.")
    return ParsedTranscript(format="webvtt", segments=_cues(text))


def parse_srt(text: str) -> ParsedTranscript:
    return ParsedTranscript(format="srt", segments=_cues(text))


# --- plain text ----------------------------------------------------------------------------------------

_TEXT_LINE = re.compile(
    r"^\s*(?:\[(?P<ts1>[\d:.,]+)\]\s*|(?P<ts2>\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?)\s+(?:-\s+)?)?"
    r"(?P<speaker>[^:\[\]\n]{1,60}?)\s*(?:\[(?P<ts3>[\d:.,]+)\])?\s*:\s+(?P<text>.+)$")
# Otter's text export: "Alice Smith  0:03" on its own line, the words on the next lines.
_OTTER_HEADER = re.compile(r"^(?P<speaker>[^\d:\n][^:\n]{0,60}?)\s{2,}(?P<ts>\d{1,2}:\d{2}(?::\d{2})?)\s*$")


def parse_text(text: str) -> ParsedTranscript:
    segments: list[ImportedSegment] = []
    current: ImportedSegment | None = None
    otter = False
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if not line:
            current = None if not otter else current
            continue
        header = _OTTER_HEADER.match(raw.rstrip())
        if header:
            otter = True
            current = ImportedSegment(header["speaker"].strip(), "", parse_clock(header["ts"]))
            segments.append(current)
            continue
        match = _TEXT_LINE.match(line)
        if match and not match["speaker"].strip().lower().startswith(("http", "note")):
            stamp = match["ts1"] or match["ts2"] or match["ts3"]
            start = None
            if stamp:
                try:
                    start = parse_clock(stamp)
                except ValueError:
                    start = None
            current = ImportedSegment(match["speaker"].strip(), match["text"].strip(), start)
            segments.append(current)
        elif current is not None:
            current.text = f"{current.text} {line}".strip()
        else:
            current = ImportedSegment("", line)
            segments.append(current)
    if not any(s.speaker for s in segments):
        raise ImportFormatError('No "Speaker: text" lines were found in the text file.')
    return ParsedTranscript(format="otter-text" if otter else "text", segments=segments)


# --- JSON ------------------------------------------------------------------------------------------------

_SPEAKER_KEYS = ("speakerDisplayName", "speaker_name", "speakerName", "speaker", "username", "user_name", "name",
                 "participant", "displayName", "author", "sid", "speaker_id", "speakerId")
_TEXT_KEYS = ("text", "transcript", "content", "caption", "utterance", "words", "message")
_START_KEYS = ("startOffset", "start_time", "startTime", "start", "start_offset", "offset", "ts", "timestamp",
               "time", "begin")
_END_KEYS = ("endOffset", "end_time", "endTime", "end", "end_offset", "end_ts", "stop")


def _first(item: dict, keys: tuple[str, ...]) -> tuple[str | None, Any]:
    for key in keys:
        if key in item and item[key] not in (None, ""):
            return key, item[key]
    return None, None


def _speaker_name(value: Any) -> str:
    if isinstance(value, dict):
        for key in ("name", "displayName", "display_name", "username", "speaker_name"):
            if value.get(key):
                return str(value[key])
        return ""
    return str(value) if value is not None else ""


def _generic_entries(items: list[Any], *, milliseconds: bool = False,
                     speaker_names: dict[str, str] | None = None) -> list[ImportedSegment]:
    segments = []
    for item in items:
        if not isinstance(item, dict):
            continue
        _, text = _first(item, _TEXT_KEYS)
        if isinstance(text, list):  # words as a list of {word|text}
            text = " ".join(str(w.get("word") or w.get("text") or w.get("punctuated_word") or "")
                            if isinstance(w, dict) else str(w) for w in text)
        if not isinstance(text, str) or not text.strip():
            continue
        speaker_key, speaker = _first(item, _SPEAKER_KEYS)
        if "users" in item and isinstance(item["users"], list) and item["users"]:
            speaker = item["users"][0]
        name = _speaker_name(speaker)
        if speaker_names and name in speaker_names:
            name = speaker_names[name]
        elif speaker_key in ("sid", "speaker_id", "speakerId") or re.fullmatch(r"\d+", name or "x"):
            name = f"Speaker {name}" if name and not name.lower().startswith("speaker") else name
        start_key, start = _first(item, _START_KEYS)
        end_key, end = _first(item, _END_KEYS)
        if isinstance(start, list) and len(start) == 2:  # "time": [start, end]
            start, end = start
        ms = milliseconds or (start_key or "").endswith(("_ms", "Ms")) or (start_key == "start_offset" and
                                                                          isinstance(start, int))
        segments.append(ImportedSegment(name, text, _time_value(start, milliseconds=ms),
                                        _time_value(end, milliseconds=ms)))
    return segments


def parse_json(payload: Any) -> ParsedTranscript:
    if isinstance(payload, dict):
        # Microsoft Teams / Stream
        entries = payload.get("entries")
        if isinstance(entries, list) and entries and isinstance(entries[0], dict) and (
                "speakerDisplayName" in entries[0] or "startOffset" in entries[0]):
            return ParsedTranscript(format="teams-json", platform="teams", segments=_generic_entries(entries))
        # Google Meet REST API
        meet_entries = payload.get("transcriptEntries") or (
            entries if isinstance(entries, list) and entries and "participant" in entries[0] else None)
        if isinstance(meet_entries, list):
            names: dict[str, str] = {}
            for participant in payload.get("participants") or []:
                user = participant.get("signedinUser") or participant.get("anonymousUser") or \
                    participant.get("phoneUser") or {}
                if participant.get("name") and user.get("displayName"):
                    names[participant["name"]] = user["displayName"]
            segments = []
            for entry in meet_entries:
                if not isinstance(entry, dict):
                    continue
                participant = str(entry.get("participant") or "")
                speaker = names.get(participant) or (f"Participant {participant.rsplit('/', 1)[-1]}"
                                                     if participant else "")
                segments.append(ImportedSegment(speaker, str(entry.get("text") or ""),
                                                _time_value(entry.get("startTime")), _time_value(entry.get("endTime"))))
            language = next((e.get("languageCode", "") for e in meet_entries if isinstance(e, dict)), "")
            return ParsedTranscript(format="google-meet-json", platform="google_meet", segments=segments,
                                    language=language)
        # Otter (speaker table + transcripts with millisecond offsets)
        if isinstance(payload.get("transcripts"), list):
            names = {str(s.get("id")): str(s.get("speaker_name") or s.get("name") or "")
                     for s in payload.get("speakers") or [] if isinstance(s, dict)}
            segments = []
            for item in payload["transcripts"]:
                speaker = names.get(str(item.get("speaker_id")), "") or _speaker_name(item.get("speaker"))
                if not speaker and item.get("speaker_id") is not None:
                    speaker = f"Speaker {item['speaker_id']}"
                segments.append(ImportedSegment(
                    speaker, str(item.get("transcript") or item.get("text") or ""),
                    _time_value(item.get("start_offset"), milliseconds=True),
                    _time_value(item.get("end_offset"), milliseconds=True)))
            return ParsedTranscript(format="otter-json", segments=segments, title=str(payload.get("title") or ""))
        if isinstance(payload.get("speeches"), list):
            return ParsedTranscript(format="otter-json", segments=_generic_entries(payload["speeches"]),
                                    title=str(payload.get("title") or ""))
        # Zoom timeline / recording transcript
        if isinstance(payload.get("timeline"), list):
            return ParsedTranscript(format="zoom-json", platform="zoom", segments=_generic_entries(payload["timeline"]))
        if isinstance(payload.get("transcript"), list):
            platform = "zoom" if any(k in payload for k in ("meeting_id", "meeting_uuid", "topic", "recording_start")) \
                else "upload"
            return ParsedTranscript(format="zoom-json" if platform == "zoom" else "json", platform=platform,
                                    segments=_generic_entries(payload["transcript"]),
                                    title=str(payload.get("topic") or ""))
        for key in ("segments", "results", "items", "utterances", "captions", "entries", "data"):
            if isinstance(payload.get(key), list):
                return ParsedTranscript(format="json", segments=_generic_entries(payload[key]),
                                        title=str(payload.get("title") or ""))
        raise ImportFormatError("Unrecognised JSON transcript: expected a list of entries with speaker and text.")
    if isinstance(payload, list):
        return ParsedTranscript(format="json", segments=_generic_entries(payload))
    raise ImportFormatError("Unrecognised JSON transcript.")
