"""Voices known across meetings: consent, voiceprints, and naming speakers by their voice (docs/speech.md)."""
