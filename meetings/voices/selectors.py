"""Reads for voices known across meetings (company first)."""

from __future__ import annotations

from accounts.models import Company, User
from meetings.models import Meeting
from meetings.voices.models import SpeakerVoice, VoiceConsent, Voiceprint
from meetings.voices.services import CONSENT_TEXT, CONSENT_VERSION, voices_enabled


def voice_status(*, company: Company, user: User) -> dict:
    consent = (VoiceConsent.objects.for_company(company).filter(user=user, withdrawn_at__isnull=True)
               .order_by("-given_at").first())
    prints = list(Voiceprint.objects.for_company(company).filter(user=user))
    return {
        "enabled": voices_enabled(company),
        "consent_text": CONSENT_TEXT,
        "consent_version": CONSENT_VERSION,
        "consented": consent is not None and consent.text_version == CONSENT_VERSION,
        "consented_at": consent.given_at if consent else None,
        "voiceprints": len(prints),
        "speech_seconds": round(sum(p.speech_seconds for p in prints), 1),
        "sources": sorted({p.source for p in prints}),
    }


def speaker_voices(*, company: Company, meeting: Meeting) -> list[SpeakerVoice]:
    assert meeting.company_id == company.pk
    return list(SpeakerVoice.objects.for_company(company).filter(meeting=meeting).select_related("user"))
