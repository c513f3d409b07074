"""Voices known across meetings: the one writer of VoiceConsent, Voiceprint and SpeakerVoice.

A member enrols with consent (a short recording, or "this speaker is me" in a meeting); later
meetings of the same company name that voice automatically, with a confidence; a person corrects a
wrong name once for the whole meeting. Matching only ever compares a meeting with voiceprints of
its own company, and only while the company has the feature on (``Company.settings``
``"voice_identification"``, on unless an admin switched it off; off keeps the data but stops
matching and enrolment). Deleting a member's voice data (on request, or when they leave the
company) removes every embedding of their voice: voiceprints and matched meeting voices.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Company, Membership, User
from accounts.services import audit_record, company_update
from meetings.models import Meeting, Participant
from meetings.services import speaker_rename
from meetings.speech import SAMPLE_RATE, vad, voice_encoder
from meetings.speech import audio as audio_io
from meetings.voices.models import SpeakerVoice, VoiceConsent, Voiceprint, embedding_array, embedding_bytes
from meetpilot.errors import Conflict, Forbidden, Invalid, NotFound, TooLarge

CONSENT_VERSION = "1"
CONSENT_TEXT = (
    "I agree that MeetPilot keeps a voiceprint (a numeric summary of how my voice sounds, not a recording) "
    "so that my company's meetings can show my name when I speak. Only my company can use it. I can "
    "download or delete it at any time, and it is deleted when I leave the company."
)
SETTING = "voice_identification"
MATCH_THRESHOLD = 0.90  # cosine between a meeting voice and a member's voiceprint that names the speaker
CONFIDENT = 0.97  # a similarity this high (or more) is reported as confidence 1.0
MIN_ENROL_SECONDS = 4.0  # speech needed in an enrolment recording
MAX_ENROL_SECONDS = 180.0
MAX_ENROL_BYTES = 20 * 1024 * 1024


def voices_enabled(company: Company) -> bool:
    return bool((company.settings or {}).get(SETTING, True))


def voice_identification_set(*, company: Company, by_user: User, enabled: bool) -> Company:
    """Switch voice identification on or off for the company (off removes nothing by itself)."""
    company = company_update(company=company, by_user=by_user, name=company.name,
                             email_domain=company.email_domain, settings_patch={SETTING: bool(enabled)})
    audit_record(company=company, action="voices.setting", actor=by_user, target_type="company",
                 target_id=company.pk, detail={"enabled": bool(enabled)})
    return company


def _active_consent(company: Company, user: User) -> VoiceConsent | None:
    return (VoiceConsent.objects.for_company(company).filter(user=user, withdrawn_at__isnull=True)
            .order_by("-given_at").first())


def voice_consent_give(*, company: Company, user: User, text_version: str) -> VoiceConsent:
    if not voices_enabled(company):
        raise Forbidden("Voice identification is switched off for this company.", code="voices_disabled")
    if text_version != CONSENT_VERSION:
        raise Invalid("Please agree to the current consent text.", code="consent_outdated")
    consent = _active_consent(company, user)
    if consent is not None and consent.text_version == CONSENT_VERSION:
        return consent
    consent = VoiceConsent(company=company, user=user, text_version=CONSENT_VERSION, given_at=timezone.now())
    consent.full_clean()
    consent.save()
    audit_record(company=company, action="voices.consent", actor=user, target_type="user", target_id=user.pk,
                 detail={"text_version": CONSENT_VERSION})
    return consent


def _require_consent(company: Company, user: User, consent_version: str | None) -> None:
    if consent_version:
        voice_consent_give(company=company, user=user, text_version=consent_version)
    if not voices_enabled(company):
        raise Forbidden("Voice identification is switched off for this company.", code="voices_disabled")
    if _active_consent(company, user) is None:
        raise Conflict("Agree to the voice consent text first.", code="consent_required")


def _decode_upload(uploaded) -> np.ndarray:
    if not uploaded.size:
        raise Invalid("The recording is empty.", code="empty_file")
    if uploaded.size > MAX_ENROL_BYTES:
        raise TooLarge(f"A voice sample can be at most {MAX_ENROL_BYTES // (1024 * 1024)} MB.", code="file_too_large")
    suffix = Path(uploaded.name or "").suffix[:10]
    with tempfile.NamedTemporaryFile(suffix=suffix) as handle:
        for chunk in uploaded.chunks():
            handle.write(chunk)
        handle.flush()
        try:
            info = audio_io.probe(handle.name)
            if info.duration is not None and info.duration > MAX_ENROL_SECONDS:
                raise TooLarge(f"A voice sample can be at most {MAX_ENROL_SECONDS:.0f} seconds long.",
                               code="too_long")
            return audio_io.decode(handle.name, max_seconds=MAX_ENROL_SECONDS)
        except audio_io.AudioError as exc:
            raise Invalid(exc.message, code=exc.code) from None


def voice_enrol_recording(*, company: Company, user: User, uploaded, consent_version: str | None = None) -> Voiceprint:
    """Enrol from a short recording of the member speaking alone (a few sentences)."""
    _require_consent(company, user, consent_version)
    samples = _decode_upload(uploaded)
    regions = vad.speech_regions(samples)
    speech = vad.speech_seconds(regions)
    if speech < MIN_ENROL_SECONDS:
        raise Invalid(f"We heard {speech:.1f} s of speech; please record at least {MIN_ENROL_SECONDS:.0f} s.",
                      code="too_little_speech")
    voiced = np.concatenate([samples[int(r.start * SAMPLE_RATE) : int(r.end * SAMPLE_RATE)] for r in regions])
    embedding = voice_encoder.embed_utterance(voiced)
    print_ = Voiceprint(company=company, user=user, source=Voiceprint.Source.RECORDING,
                        embedding=embedding_bytes(embedding), speech_seconds=round(speech, 2))
    print_.save()
    audit_record(company=company, action="voices.enrol", actor=user, target_type="voiceprint", target_id=print_.pk,
                 detail={"source": "recording"})
    return print_


def _speaker_voice(company: Company, meeting: Meeting, speaker_label: str) -> SpeakerVoice:
    assert meeting.company_id == company.pk
    voice = SpeakerVoice.objects.for_company(company).filter(meeting=meeting, speaker_label=speaker_label).first()
    if voice is None:
        raise NotFound("No speaker with that label in this meeting.", code="speaker_not_found")
    return voice


def _current_name(company: Company, meeting: Meeting, speaker_label: str) -> str:
    participant = (Participant.objects.for_company(company).filter(meeting=meeting, speaker_label=speaker_label)
                   .first())
    return participant.name if participant is not None else speaker_label


def _rename(company: Company, meeting: Meeting, speaker_label: str, name: str) -> None:
    current = _current_name(company, meeting, speaker_label)
    if current == name:
        return
    try:
        speaker_rename(company=company, meeting=meeting, old_label=current, new_name=name)
    except ValidationError as exc:  # e.g. another participant of the meeting already has that name
        raise Conflict(f"Cannot name this speaker {name!r}: {'; '.join(exc.messages)}", code="name_taken") from None


@transaction.atomic
def voice_enrol_from_meeting(*, company: Company, user: User, meeting: Meeting, speaker_label: str,
                             consent_version: str | None = None) -> Voiceprint:
    """"This speaker is me": the meeting voice becomes one of the member's voiceprints."""
    _require_consent(company, user, consent_version)
    voice = _speaker_voice(company, meeting, speaker_label)
    if voice.embedding is None:
        raise Conflict("This speaker's voice was not kept for this meeting.", code="no_voice")
    print_ = Voiceprint(company=company, user=user, source=Voiceprint.Source.MEETING, meeting=meeting,
                        embedding=bytes(voice.embedding), speech_seconds=voice.speech_seconds)
    print_.save()
    name = user.display_name
    _rename(company, meeting, speaker_label, name)
    SpeakerVoice.objects.for_company(company).filter(pk=voice.pk).update(
        user=user, name=name, confidence=1.0, matched_by=SpeakerVoice.MatchedBy.CONFIRMED, updated_at=timezone.now())
    audit_record(company=company, action="voices.enrol", actor=user, target_type="voiceprint", target_id=print_.pk,
                 detail={"source": "meeting", "meeting_id": meeting.pk})
    return print_


@transaction.atomic
def speaker_voice_correct(*, company: Company, meeting: Meeting, speaker_label: str, name: str,
                          by_user: User | None = None) -> SpeakerVoice:
    """A wrong name, corrected once for the whole meeting: every segment of that voice is renamed."""
    name = (name or "").strip()
    if not name:
        raise Invalid("A name is required.", code="name_required")
    voice = _speaker_voice(company, meeting, speaker_label)
    _rename(company, meeting, speaker_label, name[:200])
    SpeakerVoice.objects.for_company(company).filter(pk=voice.pk).update(
        user=None, name=name[:200], confidence=None, matched_by=SpeakerVoice.MatchedBy.CORRECTED,
        updated_at=timezone.now())
    audit_record(company=company, action="voices.correct", actor=by_user, target_type="meeting",
                 target_id=meeting.pk, detail={"speaker_label": speaker_label})
    voice.refresh_from_db()
    return voice


def _member_voices(company: Company) -> dict[int, tuple[User, np.ndarray]]:
    """Consenting members' mean voiceprints (unit length), this company only."""
    consenting = set(VoiceConsent.objects.for_company(company).filter(withdrawn_at__isnull=True)
                     .values_list("user_id", flat=True))
    members = set(Membership.objects.for_company(company).values_list("user_id", flat=True))
    sums: dict[int, np.ndarray] = {}
    users: dict[int, User] = {}
    prints = Voiceprint.objects.for_company(company).filter(user_id__in=consenting & members).select_related("user")
    for print_ in prints:
        vector = embedding_array(print_.embedding).astype(np.float64)
        sums[print_.user_id] = sums.get(print_.user_id, 0) + vector
        users[print_.user_id] = print_.user
    return {uid: (users[uid], v / max(float(np.linalg.norm(v)), 1e-9)) for uid, v in sums.items()}


def _confidence(similarity: float) -> float:
    return round(float(np.clip((similarity - MATCH_THRESHOLD) / (CONFIDENT - MATCH_THRESHOLD) * 0.5 + 0.5, 0, 1)), 3)


@transaction.atomic
def speaker_voices_store(*, company: Company, meeting: Meeting, voices: dict[str, np.ndarray],
                         seconds: dict[str, float] | None = None) -> list[SpeakerVoice]:
    """Keep each meeting speaker's voice (replacing earlier runs), then name the ones we know."""
    assert meeting.company_id == company.pk
    existing = SpeakerVoice.objects.for_company(company).filter(meeting=meeting)
    # A re-run keeps what people decided (a confirmed or corrected voice is not matched again).
    decided = {v.speaker_label: v for v in existing.filter(matched_by__in=[SpeakerVoice.MatchedBy.CONFIRMED,
                                                                           SpeakerVoice.MatchedBy.CORRECTED])}
    existing.delete()
    rows = []
    for label, vector in voices.items():
        row = SpeakerVoice(company=company, meeting=meeting, speaker_label=label[:100],
                           embedding=embedding_bytes(vector), speech_seconds=round((seconds or {}).get(label, 0.0), 2))
        if label in decided:
            before = decided[label]
            row.user_id, row.name, row.confidence, row.matched_by = (before.user_id, before.name, before.confidence,
                                                                     before.matched_by)
        rows.append(row)
    SpeakerVoice.objects.bulk_create(rows)
    speaker_voices_match(company=company, meeting=meeting)
    return list(SpeakerVoice.objects.for_company(company).filter(meeting=meeting))


def speaker_voices_match(*, company: Company, meeting: Meeting) -> int:
    """Name the meeting's voices after enrolled members (one member per voice, best matches first)."""
    if not voices_enabled(company):
        return 0
    known = _member_voices(company)
    voices = [v for v in SpeakerVoice.objects.for_company(company).filter(meeting=meeting, matched_by="")
              if v.embedding is not None]
    if not known or not voices:
        return 0
    pairs = sorted(((float(embedding_array(v.embedding) @ vector), v, uid) for v in voices
                    for uid, (_, vector) in known.items()), key=lambda p: -p[0])
    taken_voices: set[int] = set()
    taken_users: set[int] = set()
    named = 0
    for similarity, voice, uid in pairs:
        if similarity < MATCH_THRESHOLD:
            break
        if voice.pk in taken_voices or uid in taken_users:
            continue
        taken_voices.add(voice.pk)
        taken_users.add(uid)
        user = known[uid][0]
        try:
            _rename(company, meeting, voice.speaker_label, user.display_name)
        except Conflict:
            continue
        SpeakerVoice.objects.for_company(company).filter(pk=voice.pk).update(
            user=user, name=user.display_name, confidence=_confidence(similarity),
            matched_by=SpeakerVoice.MatchedBy.AUTOMATIC, updated_at=timezone.now())
        named += 1
    return named


def voice_data_export(*, company: Company, user: User) -> dict:
    """Everything kept about the member's voice in this company, embeddings included."""
    consents = VoiceConsent.objects.for_company(company).filter(user=user).order_by("given_at")
    prints = Voiceprint.objects.for_company(company).filter(user=user).order_by("created_at")
    matches = SpeakerVoice.objects.for_company(company).filter(user=user).order_by("meeting_id")
    return {
        "user": {"id": user.pk, "email": user.email},
        "company": {"id": company.pk, "name": company.name},
        "consents": [{"text_version": c.text_version, "given_at": c.given_at.isoformat(),
                      "withdrawn_at": c.withdrawn_at.isoformat() if c.withdrawn_at else None} for c in consents],
        "voiceprints": [{"id": p.pk, "source": p.source, "meeting_id": p.meeting_id,
                         "speech_seconds": p.speech_seconds, "created_at": p.created_at.isoformat(),
                         "embedding": [round(float(x), 6) for x in embedding_array(p.embedding)]} for p in prints],
        "meeting_voices": [{"meeting_id": m.meeting_id, "speaker_label": m.speaker_label, "name": m.name,
                            "confidence": m.confidence, "matched_by": m.matched_by,
                            "embedding": ([round(float(x), 6) for x in embedding_array(m.embedding)]
                                          if m.embedding is not None else None)} for m in matches],
    }


@transaction.atomic
def voice_data_delete(*, company: Company, user: User, by_user: User | None = None) -> dict[str, int]:
    """Delete every embedding of the member's voice in this company and withdraw their consent."""
    prints, _ = Voiceprint.objects.for_company(company).filter(user=user).delete()
    matched = SpeakerVoice.objects.for_company(company).filter(user=user).update(
        embedding=None, user=None, confidence=None, updated_at=timezone.now())
    withdrawn = VoiceConsent.objects.for_company(company).filter(user=user, withdrawn_at__isnull=True).update(
        withdrawn_at=timezone.now())
    audit_record(company=company, action="voices.delete", actor=by_user, target_type="user", target_id=user.pk,
                 detail={"voiceprints": prints, "meeting_voices": matched, "consents_withdrawn": withdrawn})
    return {"voiceprints": prints, "meeting_voices": matched, "consents_withdrawn": withdrawn}


def on_membership_deleted(sender, instance: Membership, origin=None, **kwargs) -> None:
    """A member who leaves the company takes their voice with them. (Deleting the user or the
    company removes the voice rows through their foreign keys; only a removed membership needs this.)"""
    if not isinstance(origin, Membership):
        return
    company = Company.objects.filter(pk=instance.company_id).first()
    user = User.objects.filter(pk=instance.user_id).first()
    if company is not None and user is not None:
        voice_data_delete(company=company, user=user)


def meeting_voices_purge(company: Company, meeting_ids: list[int]) -> int:
    """Retention or deletion of these meetings' transcripts: their speakers' voices (embeddings) go too.
    Enrolled voiceprints taken from these meetings go with them."""
    voices, _ = SpeakerVoice.objects.for_company(company).filter(meeting_id__in=meeting_ids).delete()
    prints, _ = Voiceprint.objects.for_company(company).filter(meeting_id__in=meeting_ids).delete()
    return voices + prints


def person_voice_export(company: Company, user: User) -> dict:
    return voice_data_export(company=company, user=user)


def person_voice_erase(company: Company, user: User) -> dict[str, int]:
    return voice_data_delete(company=company, user=user)
