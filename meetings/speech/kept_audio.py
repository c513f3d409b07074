"""Live audio kept for a re-separation after the meeting (the company setting ``keep_live_audio``).

Stored with the default storage as it streams, in WAV parts of at most ``PART_SECONDS``, under
``live_audio/<company>/<meeting>/<offset ms>-<stream>.wav``: the offset is where the part's first
sample lies in the meeting (seconds from its start, in milliseconds), so the parts of every stream
of the meeting (reconnects, several clients) can be laid on one timeline again. No database here.
"""

from __future__ import annotations

import io
import logging
import re
import wave
from dataclasses import dataclass

import numpy as np
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from meetings.speech import SAMPLE_RATE
from meetings.speech.audio import pcm16_to_float

logger = logging.getLogger(__name__)

PART_SECONDS = 10
BYTES_PER_SECOND = SAMPLE_RATE * 2
MAX_TIMELINE_SECONDS = 4 * 3600  # like uploads: a longer meeting is not re-separated
_PART_NAME = re.compile(r"^(\d{10})-[A-Za-z0-9_-]{1,80}\.wav$")


def keep_enabled(company_settings: dict | None) -> bool:
    """Off unless the company switched it on (Company.settings["keep_live_audio"])."""
    return bool((company_settings or {}).get("keep_live_audio", False))


def folder(company_id: int, meeting_id: int) -> str:
    return f"live_audio/{int(company_id)}/{int(meeting_id)}"


def part_keys(company_id: int, meeting_id: int) -> list[str]:
    """The meeting's stored parts (storage keys), oldest offset first."""
    base = folder(company_id, meeting_id)
    try:
        _, files = default_storage.listdir(base)
    except (FileNotFoundError, NotImplementedError, OSError):
        return []
    return sorted(f"{base}/{name}" for name in files if _PART_NAME.match(name))


def meeting_ids(company_id: int) -> list[int]:
    """Meetings of the company with a folder of kept audio (retention looks only at these)."""
    try:
        folders, _ = default_storage.listdir(f"live_audio/{int(company_id)}")
    except (FileNotFoundError, NotImplementedError, OSError):
        return []
    return [int(name) for name in folders if name.isdigit()]


@dataclass(frozen=True)
class Timeline:
    audio: np.ndarray  # float32, 16 kHz mono
    start: float  # meeting seconds of its first sample


def timeline(company_id: int, meeting_id: int) -> Timeline | None:
    """All parts on one timeline (where two streams overlap, the one stored first wins); None if none."""
    parts: list[tuple[float, np.ndarray]] = []
    for key in part_keys(company_id, meeting_id):
        offset = int(key.rsplit("/", 1)[1][:10]) / 1000
        try:
            with default_storage.open(key, "rb") as handle, wave.open(io.BytesIO(handle.read())) as wav:
                parts.append((offset, pcm16_to_float(wav.readframes(wav.getnframes()))))
        except (OSError, wave.Error, EOFError):
            logger.warning("unreadable kept live audio part %s", key, exc_info=True)
    if not parts:
        return None
    start = min(offset for offset, _ in parts)
    end = min(max(offset + samples.size / SAMPLE_RATE for offset, samples in parts), start + MAX_TIMELINE_SECONDS)
    audio = np.zeros(round((end - start) * SAMPLE_RATE), dtype=np.float32)
    filled = np.zeros(audio.size, dtype=bool)
    for offset, samples in parts:
        at = round((offset - start) * SAMPLE_RATE)
        piece = samples[: max(0, audio.size - at)]
        free = ~filled[at : at + piece.size]
        audio[at : at + piece.size][free] = piece[free]
        filled[at : at + piece.size] = True
    return Timeline(audio=audio, start=start)


class LiveAudioKeeper:
    """Collects one stream's PCM16 and hands out full parts to store (the caller stores them off the loop)."""

    def __init__(self, *, company_id: int, meeting_id: int, stream: str) -> None:
        self.folder = folder(company_id, meeting_id)
        self.stream = re.sub(r"[^A-Za-z0-9_-]", "_", stream)[:80] or "stream"
        self.anchor = 0.0
        self._buffer = bytearray()
        self._written_bytes = 0  # bytes of this stream already handed out as parts

    def begin(self, anchor: float) -> None:
        self.anchor = anchor

    def add(self, pcm16: bytes) -> list[tuple[str, bytes]]:
        """Take audio; returns the parts that are now full: (storage key, WAV bytes)."""
        self._buffer += pcm16
        parts = []
        while len(self._buffer) >= PART_SECONDS * BYTES_PER_SECOND:
            parts.append(self._part(PART_SECONDS * BYTES_PER_SECOND))
        return parts

    def rest(self) -> list[tuple[str, bytes]]:
        usable = len(self._buffer) - len(self._buffer) % 2
        return [self._part(usable)] if usable else []

    def _part(self, size: int) -> tuple[str, bytes]:
        data, self._buffer = bytes(self._buffer[:size]), self._buffer[size:]
        offset_ms = round((self.anchor + self._written_bytes / BYTES_PER_SECOND) * 1000)
        self._written_bytes += size
        return f"{self.folder}/{offset_ms:010d}-{self.stream}.wav", _wav(data)


def _wav(pcm16: bytes) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(pcm16)
    return buffer.getvalue()


def part_store(key: str, data: bytes) -> str:
    return default_storage.save(key, ContentFile(data))
