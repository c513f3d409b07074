"""Transcript import parsers, one sample per supported format."""

from __future__ import annotations

import json

import pytest

from meetings.speech.importers import ImportFormatError, parse_transcript

VTT = """WEBVTT

1
00:00:01.000 --> 00:00:04.500
<v Alice Smith>Good morning, let's start.</v>

2
00:00:05.000 --> 00:00:08.000
<v Bob Jones>Sounds good to me.</v>

3
00:00:08.200 --> 00:00:09.000
I have the numbers.
"""

ZOOM_VTT = """WEBVTT

1
00:00:00.500 --> 00:00:03.200
Alice Smith: Welcome to the call.

2
00:00:03.500 --> 00:00:06.000
Bob Jones: Thanks for having me.
"""

SRT = """1
00:00:01,000 --> 00:00:03,000
Alice: Hello there.

2
00:00:03,500 --> 00:00:06,250
Bob: Hi Alice, how are you?
"""

TEXT = """[00:00:05] Alice: We should ship on Friday.
[00:00:09] Bob: Agreed, but the tests must pass first.
They are still red on the payment flow.
[00:01:02] Alice: Then Monday.
"""

TEXT_NO_TIMES = """Alice: First point.
Bob: Second point, a bit longer than the first one.
"""

OTTER_TEXT = """Alice Smith  0:03
Welcome everyone to the weekly sync.

Bob Jones  0:10
Thanks. I have two updates today.
"""

TEAMS_JSON = {"entries": [
    {"id": "1", "text": "Let's begin.", "speakerDisplayName": "Alice Smith", "startOffset": "00:00:01.2345678",
     "endOffset": "00:00:03.0000000", "confidence": 0.9},
    {"id": "2", "text": "Budget is approved.", "speakerDisplayName": "Bob Jones", "startOffset": "00:00:03.5000000",
     "endOffset": "00:00:05.0000000"},
]}

MEET_JSON = {
    "transcriptEntries": [
        {"name": "conferenceRecords/r1/transcripts/t1/entries/e1",
         "participant": "conferenceRecords/r1/participants/p1",
         "text": "Can everyone hear me?", "languageCode": "en-US", "startTime": "2024-05-01T10:00:01.500Z",
         "endTime": "2024-05-01T10:00:03Z"},
        {"name": "conferenceRecords/r1/transcripts/t1/entries/e2",
         "participant": "conferenceRecords/r1/participants/p2",
         "text": "Yes, loud and clear.", "languageCode": "en-US", "startTime": "2024-05-01T10:00:04Z",
         "endTime": "2024-05-01T10:00:06Z"},
    ],
    "participants": [{"name": "conferenceRecords/r1/participants/p1", "signedinUser": {"displayName": "Alice"}},
                     {"name": "conferenceRecords/r1/participants/p2", "anonymousUser": {"displayName": "Guest Bob"}}],
}

OTTER_JSON = {"title": "Weekly sync",
              "speakers": [{"id": 1, "speaker_name": "Alice"}, {"id": 2, "speaker_name": "Bob"}],
              "transcripts": [{"speaker_id": 1, "start_offset": 1000, "end_offset": 4000, "transcript": "Hi all."},
                              {"speaker_id": 2, "start_offset": 4500, "end_offset": 7000, "transcript": "Hello."}]}

ZOOM_JSON = {"topic": "Sales call", "meeting_id": "123", "transcript": [
    {"speaker_name": "Carol", "start_time": "00:00:02.000", "end_time": "00:00:04.000", "text": "Pricing first."},
    {"speaker_name": "Dan", "start_time": "00:00:04.500", "end_time": "00:00:07.000", "text": "Sure."},
]}

ZOOM_TIMELINE = {"timeline": [
    {"ts": "00:00:01.310", "end_ts": "00:00:03.000", "text": "Hello team.", "users": [{"username": "Carol"}]},
    {"ts": "00:00:03.500", "end_ts": "00:00:05.000", "text": "Hi Carol.", "users": [{"username": "Dan"}]},
]}


def rows(parsed):
    return [(s.speaker, s.text, round(s.start, 2), round(s.end, 2)) for s in parsed.segments]


def test_webvtt_voice_tags_and_carried_speaker():
    parsed = parse_transcript(VTT.encode(), filename="meeting.vtt")
    assert parsed.format == "webvtt"
    assert rows(parsed) == [("Alice Smith", "Good morning, let's start.", 1.0, 4.5),
                            ("Bob Jones", "Sounds good to me.", 5.0, 8.0),
                            ("Bob Jones", "I have the numbers.", 8.2, 9.0)]


def test_zoom_vtt_with_name_prefix():
    parsed = parse_transcript(ZOOM_VTT.encode())
    assert parsed.speakers == ["Alice Smith", "Bob Jones"]
    assert rows(parsed)[1] == ("Bob Jones", "Thanks for having me.", 3.5, 6.0)


def test_srt():
    parsed = parse_transcript(SRT.encode(), filename="x.srt")
    assert parsed.format == "srt"
    assert rows(parsed) == [("Alice", "Hello there.", 1.0, 3.0), ("Bob", "Hi Alice, how are you?", 3.5, 6.25)]


def test_plain_text_with_timestamps_and_continuation_lines():
    parsed = parse_transcript(TEXT.encode(), filename="notes.txt")
    assert parsed.format == "text"
    assert [(s.speaker, s.start) for s in parsed.segments] == [("Alice", 5.0), ("Bob", 9.0), ("Alice", 62.0)]
    assert parsed.segments[1].text == "Agreed, but the tests must pass first. They are still red on the payment flow."
    assert 5.0 < parsed.segments[0].end <= 9.0  # estimated from the words, never past the next line


def test_plain_text_without_times_gets_estimated_times():
    parsed = parse_transcript(TEXT_NO_TIMES.encode())
    first, second = parsed.segments
    assert first.start == 0.0 and first.end > 0 and second.start == pytest.approx(first.end)
    assert second.end - second.start > first.end - first.start


def test_otter_text_export():
    parsed = parse_transcript(OTTER_TEXT.encode())
    assert parsed.format == "otter-text"
    assert [(s.speaker, s.text, s.start) for s in parsed.segments] == [
        ("Alice Smith", "Welcome everyone to the weekly sync.", 3.0), ("Bob Jones", "Thanks. I have two updates today.",
                                                                       10.0)]


@pytest.mark.parametrize("payload,fmt,platform,expected", [
    (TEAMS_JSON, "teams-json", "teams", [("Alice Smith", "Let's begin.", 1.23, 3.0),
                                          ("Bob Jones", "Budget is approved.", 3.5, 5.0)]),
    (MEET_JSON, "google-meet-json", "google_meet", [("Alice", "Can everyone hear me?", 0.0, 1.5),
                                                      ("Guest Bob", "Yes, loud and clear.", 2.5, 4.5)]),
    (OTTER_JSON, "otter-json", "upload", [("Alice", "Hi all.", 1.0, 4.0), ("Bob", "Hello.", 4.5, 7.0)]),
    (ZOOM_JSON, "zoom-json", "zoom", [("Carol", "Pricing first.", 2.0, 4.0), ("Dan", "Sure.", 4.5, 7.0)]),
    (ZOOM_TIMELINE, "zoom-json", "zoom", [("Carol", "Hello team.", 1.31, 3.0), ("Dan", "Hi Carol.", 3.5, 5.0)]),
    ([{"speaker": "A", "text": "one", "start": 0, "end": 1}, {"speaker": "B", "text": "two", "start": 1, "end": 2}],
     "json", "upload", [("A", "one", 0.0, 1.0), ("B", "two", 1.0, 2.0)]),
])
def test_json_exports(payload, fmt, platform, expected):
    parsed = parse_transcript(json.dumps(payload).encode(), filename="export.json")
    assert (parsed.format, parsed.platform) == (fmt, platform)
    assert rows(parsed) == expected


def test_meet_language_and_otter_title():
    assert parse_transcript(json.dumps(MEET_JSON).encode()).language == "en-US"
    assert parse_transcript(json.dumps(OTTER_JSON).encode()).title == "Weekly sync"


@pytest.mark.parametrize("data,message", [
    (b"", "empty"),
    (b"{not json", "not valid"),
    (b'{"foo": 1}', "Unrecognised"),
    (b"just a paragraph of prose without any speakers in it at all", "Speaker: text"),
    (b"\x00\x01\x02binary", "binary"),
    (b"WEBVTT\n\nno cues here", "No transcript lines"),
])
def test_bad_transcripts_say_why(data, message):
    with pytest.raises(ImportFormatError, match=message):
        parse_transcript(data)
