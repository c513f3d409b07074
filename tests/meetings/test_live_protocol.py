"""The protocol models, and the docs' JSON Schemas generated from them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.conf import settings

from meetings.live.protocol import (
    SCHEMA_MODELS,
    CaptionIn,
    ErrorCode,
    LegacyCaptionIn,
    ProtocolError,
    caption_from_legacy,
    parse_client_frame,
    protocol_schemas,
    schema_text,
)
from meetings.live.render import legacy_frame

DOCS = Path(settings.BASE_DIR) / "docs"


def test_schema_files_match_the_code():
    folder = DOCS / "protocol"
    for stem, schema in protocol_schemas().items():
        path = folder / f"{stem}.json"
        assert path.exists(), f"{path} missing: run python -m meetings.live.protocol docs/protocol"
        assert path.read_text() == schema_text(schema), f"{path} is stale: regenerate it"
    extra = {p.stem for p in folder.glob("*.json")} - set(SCHEMA_MODELS)
    assert not extra, f"schemas without a model: {extra}"


def test_protocol_doc_links_every_schema_and_lists_every_error_code():
    text = (DOCS / "protocol.md").read_text()
    linked = set(re.findall(r"\(protocol/([\w.]+)\.json\)", text))
    assert linked == set(SCHEMA_MODELS)
    for code in ErrorCode:
        assert f"`{code.value}`" in text, code
    for close_code in ("4401", "4403", "4404", "4408"):
        assert close_code in text


def test_every_message_type_has_a_discriminating_type_field():
    for stem, (_, model) in SCHEMA_MODELS.items():
        schema = model.model_json_schema()
        assert "type" in schema["properties"], stem
        assert "type" in schema.get("required", []) or schema["properties"]["type"].get("default"), stem


@pytest.mark.parametrize(("raw", "code"), [
    ("nope", ErrorCode.INVALID_JSON),
    ("42", ErrorCode.INVALID_JSON),
    ('"caption"', ErrorCode.INVALID_JSON),
    ('{"type": "caption"}', ErrorCode.INVALID_MESSAGE),
    ('{"type": "caption", "sequence": -1, "text": "x"}', ErrorCode.INVALID_MESSAGE),
    ('{"type": "caption", "sequence": 1, "text": "   "}', ErrorCode.INVALID_MESSAGE),
    ('{"type": "hello", "client_id": "has spaces"}', ErrorCode.INVALID_MESSAGE),
    ('{"type": "ask"}', ErrorCode.INVALID_MESSAGE),
    ('{"type": "ACTION_ITEM_DETECTED", "data": {}}', ErrorCode.UNKNOWN_TYPE),
    ('{"type": null}', ErrorCode.UNKNOWN_TYPE),
    ("[" * 100_000, ErrorCode.INVALID_JSON),
])
def test_bad_frames_get_precise_codes(raw, code):
    with pytest.raises(ProtocolError) as exc:
        parse_client_frame(raw)
    assert exc.value.code == code


def test_the_offending_sequence_is_reported():
    with pytest.raises(ProtocolError) as exc:
        parse_client_frame(json.dumps({"type": "caption", "sequence": 12, "text": ""}))
    assert exc.value.sequence == 12
    with pytest.raises(ProtocolError) as exc:
        parse_client_frame(json.dumps({"type": "CAPTION_CHUNK", "data": {"sequence_number": 3}}))
    assert exc.value.sequence == 3 and exc.value.details[0]["loc"] == ["data", "text"]


def test_unknown_fields_are_ignored_and_text_is_trimmed():
    message = parse_client_frame(json.dumps({"type": "caption", "sequence": 1, "text": "  hi  ", "HEADERS": {},
                                             "future_field": 1}))
    assert isinstance(message, CaptionIn) and message.text == "hi" and message.is_final


def test_legacy_caption_becomes_a_caption():
    legacy = parse_client_frame(json.dumps({"type": "CAPTION_CHUNK", "data": {
        "text": "Hello", "speaker_name": "Dana", "timestamp": 1_700_000_000_000, "sequence_number": 4}}))
    assert isinstance(legacy, LegacyCaptionIn)
    assert caption_from_legacy(legacy) == CaptionIn(type="caption", sequence=4, speaker="Dana", text="Hello",
                                                    timestamp=1_700_000_000_000, is_final=True)


def test_legacy_frames_validate_against_their_schemas():
    from meetings.live.protocol import LegacyActionItemOut, LegacyAnswerOut, LegacyFactCheckOut

    at = "2025-03-12T15:00:00+00:00"
    item = legacy_frame({"type": "action_item", "event_id": 1, "meeting_id": 1, "at": at, "data": {
        "id": 1, "description": "Send the deck", "assignee_name": "Dana", "assignee_participant_id": None,
        "assignee_user_id": None, "due_date": "2025-03-14", "priority": "high", "status": "pending",
        "confidence": 0.9, "segment_id": 3, "source_text": "I'll send the deck by Friday"}})
    LegacyActionItemOut.model_validate(item)
    assert item["data"]["timestamp"] == 1741791600000
    check = legacy_frame({"type": "fact_check", "event_id": 2, "meeting_id": 1, "at": at, "data": {
        "id": 2, "claim": "c", "claimed_value": "18.7M", "verdict": "incorrect", "corrected_value": "21.3M",
        "confidence": 0.8, "source": {"title": "Q3", "document_id": 1, "chunk_id": 2, "page": None,
                                       "snippet": "", "score": None}, "segment_id": 3, "speaker": "Dana"}})
    LegacyFactCheckOut.model_validate(check)
    answer = legacy_frame({"type": "answer", "event_id": 3, "meeting_id": 1, "at": at, "data": {
        "id": 3, "kind": "answer", "question": "q", "answer": "a", "sources": [], "confidence": "high",
        "latency_ms": 3.0, "provider": "local", "segment_id": None, "asker": "", "ask_id": "legacy-1"}})
    LegacyAnswerOut.model_validate(answer)
    assert legacy_frame({"type": "transcript", "event_id": 4, "meeting_id": 1, "at": at, "data": {}}) is None
