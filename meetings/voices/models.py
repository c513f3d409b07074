"""Voiceprints are company data: every row is tenant-scoped, and every embedding of a member's voice
(their voiceprints and the meeting speakers matched or confirmed as them) is deleted with them."""

from __future__ import annotations

import numpy as np
from django.conf import settings
from django.db import models

from accounts.tenancy import TenantModel


def embedding_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def embedding_array(data: bytes | memoryview) -> np.ndarray:
    return np.frombuffer(bytes(data), dtype="<f4")


class VoiceConsent(TenantModel):
    """A member's consent to voice identification: who, when, which text. Withdrawal is kept."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    text_version = models.CharField(max_length=20)
    given_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-given_at"]
        indexes = [models.Index(fields=["company", "user"], name="voiceconsent_company_user")]


class Voiceprint(TenantModel):
    """One enrolment: an embedding of the member's voice from a recording or a meeting."""

    class Source(models.TextChoices):
        RECORDING = "recording", "Recording"
        MEETING = "meeting", "Meeting"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=20, choices=Source.choices)
    meeting = models.ForeignKey("meetings.Meeting", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    embedding = models.BinaryField()
    speech_seconds = models.FloatField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["company", "user"], name="voiceprint_company_user")]


class SpeakerVoice(TenantModel):
    """A meeting speaker's voice (from the speaker separation) and who it was matched to."""

    class MatchedBy(models.TextChoices):
        NONE = "", "Not matched"
        AUTOMATIC = "automatic", "Matched by voice"
        CONFIRMED = "confirmed", "Confirmed by the member"
        CORRECTED = "corrected", "Corrected by a person"

    meeting = models.ForeignKey("meetings.Meeting", on_delete=models.CASCADE, related_name="+")
    speaker_label = models.CharField(max_length=100)  # the separation's label, e.g. "Speaker 2"
    embedding = models.BinaryField(null=True)
    speech_seconds = models.FloatField(default=0)
    # Deleting the member deletes the meeting voices matched to them too (their voice, derived data).
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True,
                             related_name="+")
    name = models.CharField(max_length=200, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    matched_by = models.CharField(max_length=20, choices=MatchedBy.choices, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["meeting", "speaker_label"]
        constraints = [models.UniqueConstraint(fields=["meeting", "speaker_label"], name="speakervoice_unique_label")]
