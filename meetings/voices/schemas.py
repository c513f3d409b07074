from __future__ import annotations

from datetime import datetime

from ninja import Schema


class VoiceStatusOut(Schema):
    enabled: bool
    consent_text: str
    consent_version: str
    consented: bool
    consented_at: datetime | None
    voiceprints: int
    speech_seconds: float
    sources: list[str]


class ConsentIn(Schema):
    text_version: str


class ClaimIn(Schema):
    consent_version: str | None = None


class CorrectIn(Schema):
    name: str


class VoiceSettingIn(Schema):
    enabled: bool


class VoiceSettingOut(Schema):
    enabled: bool


class SpeakerVoiceOut(Schema):
    speaker_label: str
    name: str
    user_id: int | None
    confidence: float | None
    matched_by: str
    speech_seconds: float


class VoiceprintOut(Schema):
    id: int
    source: str
    speech_seconds: float


class DeletedOut(Schema):
    voiceprints: int
    meeting_voices: int
    consents_withdrawn: int
