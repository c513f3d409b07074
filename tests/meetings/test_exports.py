"""Transcript exports: parse what we produce (SRT, WebVTT, JSON) and check times, order and escaping."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from meetings import exports
from tests.meetings.factories import meeting_make, segment_make

pytestmark = pytest.mark.django_db

SRT_TIME = r"(\d{2}):(\d{2}):(\d{2}),(\d{3})"
VTT_TIME = r"(\d{2}):(\d{2}):(\d{2})\.(\d{3})"


def _seconds(h: str, m: str, s: str, ms: str) -> float:
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def parse_srt(text: str) -> list[dict]:
    """A strict SubRip reader: numbered blocks separated by one blank line."""
    assert text.endswith("\n") and "\r" not in text
    cues = []
    for block in text.strip("\n").split("\n\n"):
        lines = block.split("\n")
        assert len(lines) == 3, f"cue is not index / times / one text line: {block!r}"
        match = re.fullmatch(f"{SRT_TIME} --> {SRT_TIME}", lines[1])
        assert match, lines[1]
        g = match.groups()
        cues.append({"index": int(lines[0]), "start": _seconds(*g[:4]), "end": _seconds(*g[4:]), "text": lines[2]})
    return cues


def parse_vtt(text: str) -> tuple[str, list[dict]]:
    blocks = text.strip("\n").split("\n\n")
    header = blocks[0]
    assert header.split("\n")[0].startswith("WEBVTT")
    cues = []
    for block in blocks[1:]:
        lines = block.split("\n")
        assert len(lines) == 3, block
        match = re.fullmatch(f"{VTT_TIME} --> {VTT_TIME}", lines[1])
        assert match, lines[1]
        g = match.groups()
        assert "-->" not in lines[2]
        cues.append({"id": lines[0], "start": _seconds(*g[:4]), "end": _seconds(*g[4:]), "text": lines[2]})
    return header, cues


@pytest.fixture
def meeting(scope):
    meeting = meeting_make(company=scope, title="Q3 review: <Acme> & friends")
    # Stored out of order on purpose: the export follows the server sequence, not insertion.
    segment_make(meeting=meeting, sequence=3, speaker_label="Bob", text="Agreed -> ship it <b>now</b> & then",
                 start_time=3725.25, end_time=3727.0)
    segment_make(meeting=meeting, sequence=1, speaker_label="Alice", text="Welcome everyone.\n\nLet's start.",
                 start_time=0.0, end_time=2.5)
    segment_make(meeting=meeting, sequence=2, speaker_label="Bob", text="Revenue was 18.7M.", start_time=61.4,
                 end_time=61.4)
    segment_make(meeting=meeting, sequence=4, speaker_label="Alice", text="still typing", is_final=False,
                 start_time=3728.0, end_time=3729.0)
    return meeting


def test_timestamps_round_and_carry():
    assert exports.srt_timestamp(3661.5) == "01:01:01,500"
    assert exports.vtt_timestamp(59.9996) == "00:01:00.000"
    assert exports.srt_timestamp(-1) == "00:00:00,000"
    assert exports.clock(65) == "1:05" and exports.clock(3725) == "1:02:05"


def test_srt_is_numbered_in_sequence_order_with_valid_times(scope, meeting):
    result = exports.transcript_export(company=scope, meeting=meeting, fmt="srt")
    cues = parse_srt(result.content)
    assert [c["index"] for c in cues] == [1, 2, 3]  # the interim caption is not exported
    assert [c["start"] for c in cues] == [0.0, 61.4, 3725.25]
    assert cues[0]["end"] == 2.5
    assert cues[1]["end"] == pytest.approx(61.9)  # a zero-length cue is stretched to be readable
    assert all(c["end"] > c["start"] for c in cues)
    assert cues[0]["text"] == "Alice: Welcome everyone. Let's start."  # no blank line inside a cue
    assert cues[2]["text"].startswith("Bob: Agreed")
    assert result.content_type.startswith("application/x-subrip")
    assert result.filename.endswith(".srt") and result.filename.startswith("q3-review-acme-friends-")


def test_vtt_has_header_voices_and_escaped_text(scope, meeting):
    header, cues = parse_vtt(exports.transcript_export(company=scope, meeting=meeting, fmt="vtt").content)
    assert "-->" not in header
    assert [c["start"] for c in cues] == [0.0, 61.4, 3725.25]
    assert [c["id"] for c in cues] == ["1", "2", "3"]
    assert cues[0]["text"] == "<v Alice>Welcome everyone. Let's start."
    assert cues[2]["text"] == "<v Bob>Agreed -&gt; ship it &lt;b&gt;now&lt;/b&gt; &amp; then"


def test_json_and_markdown_and_text(scope, meeting):
    document = json.loads(exports.transcript_export(company=scope, meeting=meeting, fmt="json").content)
    assert document["meeting"]["id"] == meeting.pk
    assert [s["sequence"] for s in document["segments"]] == [1, 2, 3]
    assert document["segments"][1] == {**document["segments"][1], "speaker": "Bob", "start": 61.4,
                                       "text": "Revenue was 18.7M."}

    markdown = exports.transcript_export(company=scope, meeting=meeting, fmt="md").content
    assert markdown.startswith("# Q3 review: \\<Acme\\> & friends\n")
    assert markdown.index("**Alice** (0:00)") < markdown.index("**Bob** (1:01)")
    assert "still typing" not in markdown

    text = exports.transcript_export(company=scope, meeting=meeting, fmt="txt").content
    lines = [line for line in text.splitlines() if line.startswith("[")]
    assert lines == ["[0:00] Alice: Welcome everyone. Let's start.", "[1:01] Bob: Revenue was 18.7M.",
                     "[1:02:05] Bob: Agreed -> ship it <b>now</b> & then"]


def test_unknown_format_is_an_error(scope, meeting):
    with pytest.raises(ValueError):
        exports.transcript_export(company=scope, meeting=meeting, fmt="docx")


@pytest.mark.parametrize(("fmt", "content_type"), [
    ("txt", "text/plain"), ("srt", "application/x-subrip"), ("vtt", "text/vtt"),
    ("json", "application/json"), ("md", "text/markdown"),
])
def test_api_export_answers_a_download(admin, meeting, fmt, content_type):
    response = admin.api().get(f"/api/v1/meetings/{meeting.pk}/transcript/export", {"format": fmt})
    assert response.status_code == 200
    assert response["Content-Type"].startswith(content_type)
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert f'.{fmt}"' in response["Content-Disposition"]
    assert response.content.decode().count("Revenue was 18.7M.") == 1


def test_api_export_rejects_unknown_format_and_foreign_meeting(admin, outsider, meeting):
    assert admin.api().get(f"/api/v1/meetings/{meeting.pk}/transcript/export?format=doc").status_code == 422
    response = outsider.api().get(f"/api/v1/meetings/{meeting.pk}/transcript/export?format=srt")
    assert response.status_code == 404
    assert b"Revenue" not in response.content


def test_dashboard_export_download(member, outsider, meeting):
    url = reverse("meetings:export", args=[meeting.pk])
    response = member.browser().get(url, {"format": "vtt"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/vtt")
    assert len(parse_vtt(response.content.decode())[1]) == 3
    assert member.browser().get(url, {"format": "exe"}).status_code == 400
    assert outsider.browser().get(url, {"format": "vtt"}).status_code == 404
