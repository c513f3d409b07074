"""Voices API: consent, enrolment, export and deletion of your voice; meeting speakers named by voice."""

from __future__ import annotations

from ninja import File, Form, Router
from ninja.files import UploadedFile
from ninja.responses import Status

from accounts.permissions import Perm, require
from meetings import selectors as meeting_selectors
from meetings.voices import selectors, services
from meetings.voices.schemas import (
    ClaimIn,
    ConsentIn,
    CorrectIn,
    DeletedOut,
    SpeakerVoiceOut,
    VoiceprintOut,
    VoiceSettingIn,
    VoiceSettingOut,
    VoiceStatusOut,
)
from meetpilot.apikit import ErrorOut

router = Router(tags=["voices"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 413: ErrorOut, 422: ErrorOut}


def _speaker_out(voice) -> dict:
    return {"speaker_label": voice.speaker_label, "name": voice.name, "user_id": voice.user_id,
            "confidence": voice.confidence, "matched_by": voice.matched_by, "speech_seconds": voice.speech_seconds}


@router.get("/voices/me", response={200: VoiceStatusOut, **ERRORS})
def voice_status(request):
    """Your consent, your voiceprints, and whether the company uses voice identification."""
    require(request.auth, Perm.VIEW)
    return selectors.voice_status(company=request.auth.company, user=request.auth.user)


@router.post("/voices/me/consent", response={200: VoiceStatusOut, **ERRORS})
def voice_consent(request, payload: ConsentIn):
    """Agree to the consent text (send the `consent_version` shown by `GET /voices/me`)."""
    require(request.auth, Perm.VIEW)
    services.voice_consent_give(company=request.auth.company, user=request.auth.user, text_version=payload.text_version)
    return selectors.voice_status(company=request.auth.company, user=request.auth.user)


@router.post("/voices/me/enrol", response={201: VoiceprintOut, **ERRORS})
def voice_enrol(request, file: File[UploadedFile], consent_version: str = Form("")):
    """Enrol your voice from a short recording of you speaking alone (4 s of speech or more)."""
    require(request.auth, Perm.VIEW)
    print_ = services.voice_enrol_recording(company=request.auth.company, user=request.auth.user, uploaded=file,
                                            consent_version=consent_version or None)
    return Status(201, {"id": print_.pk, "source": print_.source, "speech_seconds": print_.speech_seconds})


@router.get("/voices/me/export", response={200: dict, **ERRORS})
def voice_export(request):
    """Everything kept about your voice in this company (JSON, embeddings included)."""
    require(request.auth, Perm.VIEW)
    return services.voice_data_export(company=request.auth.company, user=request.auth.user)


@router.delete("/voices/me", response={200: DeletedOut, **ERRORS})
def voice_delete(request):
    """Delete every voiceprint and matched meeting voice of yours and withdraw your consent."""
    require(request.auth, Perm.VIEW)
    return services.voice_data_delete(company=request.auth.company, user=request.auth.user, by_user=request.auth.user)


@router.put("/voices/settings", response={200: VoiceSettingOut, **ERRORS})
def voice_setting(request, payload: VoiceSettingIn):
    """Admins: switch voice identification on or off for the company (off deletes nothing)."""
    require(request.auth, Perm.SETTINGS_MANAGE)
    company = services.voice_identification_set(company=request.auth.company, by_user=request.auth.user,
                                                enabled=payload.enabled)
    return {"enabled": services.voices_enabled(company)}


@router.get("/meetings/{int:meeting_id}/voices", response={200: list[SpeakerVoiceOut], **ERRORS})
def speaker_voice_list(request, meeting_id: int):
    """The meeting's voices: who each was matched to, with what confidence."""
    require(request.auth, Perm.VIEW)
    meeting = meeting_selectors.meeting_get(company=request.auth.company, meeting_id=meeting_id)
    return [_speaker_out(v) for v in selectors.speaker_voices(company=request.auth.company, meeting=meeting)]


@router.post("/meetings/{int:meeting_id}/voices/{speaker_label}/claim", response={201: VoiceprintOut, **ERRORS})
def speaker_voice_claim(request, meeting_id: int, speaker_label: str, payload: ClaimIn):
    """"This speaker is me": enrol your voice from this meeting and name the speaker after you."""
    require(request.auth, Perm.VIEW)
    meeting = meeting_selectors.meeting_get(company=request.auth.company, meeting_id=meeting_id)
    print_ = services.voice_enrol_from_meeting(company=request.auth.company, user=request.auth.user, meeting=meeting,
                                               speaker_label=speaker_label, consent_version=payload.consent_version)
    return Status(201, {"id": print_.pk, "source": print_.source, "speech_seconds": print_.speech_seconds})


@router.post("/meetings/{int:meeting_id}/voices/{speaker_label}/name", response={200: SpeakerVoiceOut, **ERRORS})
def speaker_voice_correct(request, meeting_id: int, speaker_label: str, payload: CorrectIn):
    """Correct the name of a voice once for the whole meeting (all of its segments)."""
    require(request.auth, Perm.MEETING_EDIT)
    meeting = meeting_selectors.meeting_get(company=request.auth.company, meeting_id=meeting_id)
    voice = services.speaker_voice_correct(company=request.auth.company, meeting=meeting, speaker_label=speaker_label,
                                           name=payload.name, by_user=request.auth.user)
    return _speaker_out(voice)
