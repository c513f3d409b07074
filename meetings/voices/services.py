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

import re
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Company, Membership, User
from accounts.services import audit_record, company_update
from meetings.models import Meeting, Participant, TranscriptSegment
from meetings.services import speaker_rename
from meetings.speech import SAMPLE_RATE, diarization, kept_audio, vad, voice_encoder
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
GENERIC_LABEL = re.compile(r"^(Speaker \d+|Unknown speaker|)$")  # a label nobody chose: may be relabelled


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


# --- live audio kept for a re-separation (company setting "keep_live_audio") ---------------------------


def _overlaps(start: float, end: float, turns: list[tuple[float, float, int]]) -> int | None:
    """The speaker of the turns this span overlaps most (None if it overlaps none)."""
    overlap: Counter[int] = Counter()
    for turn_start, turn_end, speaker in turns:
        seconds = min(turn_end, end) - max(turn_start, start)
        if seconds > 0:
            overlap[speaker] += seconds
    return overlap.most_common(1)[0][0] if overlap else None


def live_audio_reseparate(*, company: Company, meeting: Meeting) -> int:
    """After the meeting: separate the kept live audio as a whole, as uploads are, and relabel its segments.

    Live labels come from one utterance at a time; the whole recording separates better. Each voice
    found keeps the live label most of its speech had (one voice per label), others get new
    "Speaker N" labels. Segments whose speaker someone named (anything but "Speaker N") keep their
    name; so do caption segments. The voices are then stored and matched against enrolled members
    (``speaker_voices_store``). Returns how many segments changed speaker; 0 when no audio was kept.
    """
    assert meeting.company_id == company.pk
    kept = kept_audio.timeline(company.pk, meeting.pk)
    if kept is None:
        return 0
    separation = diarization.separate(kept.audio, max_speakers=settings.DIARIZATION_MAX_SPEAKERS)
    turns = [(t.start + kept.start, t.end + kept.start, t.speaker) for t in separation.turns]
    with transaction.atomic():
        Meeting.objects.select_for_update().filter(pk=meeting.pk).first()
        segments = list(TranscriptSegment.objects.for_company(company).select_related("participant").filter(
            meeting=meeting, is_final=True, source=TranscriptSegment.Source.AUDIO))
        movable = [s for s in segments if GENERIC_LABEL.match(s.speaker_label)
                   and (s.participant is None or GENERIC_LABEL.match(s.participant.name))]
        found = {s.pk: _overlaps(s.start_time, max(s.end_time, s.start_time), turns) for s in movable}
        votes: dict[int, Counter[str]] = defaultdict(Counter)
        for segment in movable:
            if found[segment.pk] is not None:
                votes[found[segment.pk]][segment.speaker_label] += max(0.01, segment.end_time - segment.start_time)
        names: dict[int, str] = {}
        for speaker, counter in sorted(votes.items(), key=lambda item: -item[1].total()):
            label = next((label for label, _ in counter.most_common() if label and label not in names.values()), None)
            if label is not None:
                names[speaker] = label
        participants = Participant.objects.for_company(company).filter(meeting=meeting)
        # Labels that stay: names people set and segments that do not move. Live "Speaker N" labels are free.
        moving = {s.pk for s in movable}
        in_use = ({name for name in participants.values_list("name", flat=True) if not GENERIC_LABEL.match(name)}
                  | {s.speaker_label for s in segments if s.pk not in moving})
        number = 0
        for speaker in sorted(set(votes) - set(names)):
            while True:
                number += 1
                if diarization.speaker_label(number - 1) not in in_use | set(names.values()):
                    break
            names[speaker] = diarization.speaker_label(number - 1)
        changed = 0
        by_name: dict[str, Participant] = {}
        now = timezone.now()
        for segment in movable:
            label = names.get(found[segment.pk]) if found[segment.pk] is not None else None
            if label is None or label == segment.speaker_label:
                continue
            if label not in by_name:
                by_name[label] = participants.filter(name=label).first() or Participant.objects.create(
                    company=company, meeting=meeting, name=label, speaker_label=label)
            TranscriptSegment.objects.for_company(company).filter(pk=segment.pk).update(
                speaker_label=label, participant=by_name[label], updated_at=now)
            changed += 1
        voices = {names[k]: v for k, v in separation.voices.items() if k in names}
        seconds = {names[k]: v for k, v in separation.seconds.items() if k in names}
    if voices:
        speaker_voices_store(company=company, meeting=meeting, voices=voices, seconds=seconds)
    return changed


# --- live audio: voices named while the meeting runs ------------------------------------------------------

LIVE_MATCH_MIN_SECONDS = 4.0  # speech a live voice needs before it is compared (as for enrolment)


def live_voice_match(*, company: Company, meeting: Meeting, speaker_label: str, embedding: np.ndarray,
                     seconds: float) -> str | None:
    """A live stream's voice so far (its running mean embedding), kept as the meeting voice of its label
    and matched against enrolled members as an upload's voices are. Returns the name it goes by when a
    member (or a person's correction) named it, else None. Nothing happens while the feature is off."""
    assert meeting.company_id == company.pk
    if not voices_enabled(company):
        return None
    label = speaker_label[:100]
    with transaction.atomic():
        Meeting.objects.select_for_update().filter(pk=meeting.pk).first()
        voice = SpeakerVoice.objects.for_company(company).filter(meeting=meeting, speaker_label=label).first()
        if voice is not None and voice.matched_by:
            return voice.name or None  # already named: a person's decision or an earlier match stands
        if voice is None:
            voice = SpeakerVoice(company=company, meeting=meeting, speaker_label=label)
        voice.embedding = embedding_bytes(embedding)
        voice.speech_seconds = round(seconds, 2)
        voice.save()
        speaker_voices_match(company=company, meeting=meeting)
        voice.refresh_from_db()
    return voice.name if voice.matched_by else None
