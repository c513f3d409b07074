"""Non-finite or absurd numbers in captions are refused or ignored, never a 500 or a poisoned meeting."""

import json

import pytest

from meetings.live.ingest import parse_timestamp
from tests.meetings.factories import meeting_make

pytestmark = pytest.mark.django_db


def _post(actor, meeting, body: str):
    return actor.api().post(f"/api/v1/meetings/{meeting.pk}/captions", body, content_type="application/json")


@pytest.mark.parametrize("field", ["start", "end", "confidence"])
def test_infinity_and_nan_are_validation_errors(manager, company, field):
    meeting = meeting_make(company=company)
    for literal in ("Infinity", "NaN", "-Infinity"):
        caption = f'{{"sequence": 1, "speaker": "A", "text": "hi", "{field}": {literal}}}'
        body = f'{{"captions": [{caption}]}}'
        response = _post(manager, meeting, body)
        assert response.status_code == 422, (field, literal, response.content)
        assert response.json()["code"] == "validation_error"


def test_times_beyond_any_meeting_are_refused(manager, company):
    meeting = meeting_make(company=company)
    body = json.dumps({"captions": [{"sequence": 1, "speaker": "A", "text": "hi", "start": 1e12}]})
    assert _post(manager, meeting, body).status_code == 422


@pytest.mark.parametrize("value", [1e20, float("inf"), "1e400", -5])
def test_clock_values_beyond_a_clock_are_treated_as_absent(value):
    assert parse_timestamp(value) is None


def test_a_huge_timestamp_is_stored_without_error(manager, company):
    meeting = meeting_make(company=company)
    body = json.dumps({"captions": [{"sequence": 1, "speaker": "A", "text": "hello there", "timestamp": 1e20}]})
    response = _post(manager, meeting, body)
    assert response.status_code == 200 and response.json()["acks"][0]["status"] == "stored"
    export = manager.api().get(f"/api/v1/meetings/{meeting.pk}/transcript/export?format=srt")
    assert export.status_code == 200 and b"hello there" in export.content


def test_nul_in_a_caption_is_refused_by_the_protocol_schema():
    from pydantic import ValidationError

    from meetings.live.protocol import CaptionIn

    with pytest.raises(ValidationError):
        CaptionIn.model_validate({"type": "caption", "sequence": 1, "text": "a\x00b"})
    assert CaptionIn.model_validate({"type": "caption", "sequence": 1, "text": "ab"}).text == "ab"
