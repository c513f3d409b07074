"""Voices are personal data and derived data: a person's export and erasure carry them, and a meeting's
deletion or retention removes its speakers' embeddings."""

from __future__ import annotations

import numpy as np
from django.utils import timezone

from accounts import services as account_services
from accounts.tenancy import tenant_scope
from meetings import services as meeting_services
from meetings.voices.models import SpeakerVoice, VoiceConsent, Voiceprint
from tests.meetings.factories import meeting_make


def _voices(company, member, meeting):
    vector = np.ones(256, dtype=np.float32).tobytes()
    VoiceConsent.objects.create(company=company, user=member.user, text_version="v1", given_at=timezone.now())
    Voiceprint.objects.create(company=company, user=member.user, source=Voiceprint.Source.values[0],
                              meeting=meeting, embedding=vector, speech_seconds=12)
    SpeakerVoice.objects.create(company=company, meeting=meeting, speaker_label="Speaker 1", embedding=vector,
                                user=member.user, name=member.user.full_name)


def test_export_and_erasure_of_a_person_include_their_voice(company, admin, member) -> None:
    with tenant_scope(company):
        meeting = meeting_make(company=company)
        _voices(company, member, meeting)
        exported = account_services.person_export(company=company, user=member.user, by_user=admin.user)
        assert len(exported["voices"]["voiceprints"]) == 1 and exported["voices"]["consents"]
        account_services.person_erase(company=company, user=member.user, by_user=admin.user)
        assert not Voiceprint.objects.exists()
        assert not SpeakerVoice.objects.filter(embedding__isnull=False).exists()
        assert not VoiceConsent.objects.filter(withdrawn_at__isnull=True).exists()


def test_deleting_a_meeting_removes_its_voices(company, admin, member, other_company) -> None:
    with tenant_scope(company):
        meeting, kept = meeting_make(company=company), meeting_make(company=company)
        _voices(company, member, meeting)
        SpeakerVoice.objects.create(company=company, meeting=kept, speaker_label="Speaker 1",
                                    embedding=np.ones(256, dtype=np.float32).tobytes())
        meeting_services.meeting_delete(company=company, meeting=meeting, actor=admin.user)
        assert list(SpeakerVoice.objects.values_list("meeting_id", flat=True)) == [kept.pk]
        assert not Voiceprint.objects.exists()  # the voiceprint taken from that meeting went with it
