"""Remote speech services: OpenAI-compatible transcription and speech, Deepgram, ElevenLabs.

The only place these HTTP APIs are called. Each function takes explicit configuration (no settings
lookups), has a timeout, retries transient failures with backoff and jitter, and raises
``SpeechProviderError`` for everything else, so callers can fall back to local engines.
"""


class SpeechProviderError(Exception):
    """A remote speech service failed (timeout, HTTP error, unreachable, unusable reply)."""
