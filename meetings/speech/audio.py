"""Probing and decoding recordings with ffmpeg: every format comes out as 16 kHz mono float32."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from meetings.speech import SAMPLE_RATE

# ffprobe's format_name for the containers we accept: mp3, wav, m4a/mp4, ogg (vorbis/opus), webm/mkv, flac.
ACCEPTED_FORMATS = {
    "mp3": "MP3",
    "wav": "WAV",
    "mov,mp4,m4a,3gp,3g2,mj2": "MP4/M4A",
    "ogg": "Ogg",
    "matroska,webm": "WebM",
    "flac": "FLAC",
}
ACCEPTED_EXTENSIONS = (".mp3", ".wav", ".m4a", ".mp4", ".ogg", ".opus", ".oga", ".webm", ".flac")
# A decoded file shorter than this share of its declared length was cut off.
_TRUNCATION_RATIO = 0.9


class AudioError(Exception):
    """A recording that cannot be used; ``code`` is machine-readable, the message is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class AudioInfo:
    format_name: str
    format_label: str
    codec: str
    duration: float | None
    channels: int
    sample_rate: int


def _ffmpeg_binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise AudioError("ffmpeg_missing", f"{name} is not installed on the server.")
    return path


def probe(path: str | Path, *, timeout: float = 60.0) -> AudioInfo:
    """Read the container and audio stream headers. Raises AudioError for anything we cannot use."""
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        raise AudioError("empty", "The file is empty.")
    cmd = [_ffmpeg_binary("ffprobe"), "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)]
    try:
        result = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise AudioError("unreadable", "Reading the file's headers took too long.")
    if result.returncode != 0:
        reason = _last_line(result.stderr) or "not a recognised audio or video file"
        raise AudioError("unreadable", f"The file could not be read as audio ({reason}).")
    data = json.loads(result.stdout or b"{}")
    fmt = data.get("format") or {}
    format_name = fmt.get("format_name", "")
    audio_streams = [s for s in data.get("streams", []) if s.get("codec_type") == "audio"]
    if format_name not in ACCEPTED_FORMATS:
        raise AudioError(
            "unsupported_format",
            f"Unsupported file type ({format_name or 'unknown'}). Use MP3, WAV, M4A/MP4, Ogg/Opus, WebM or FLAC.",
        )
    if not audio_streams:
        raise AudioError("no_audio", "The file has no audio track.")
    stream = audio_streams[0]
    duration = _float(fmt.get("duration")) or _float(stream.get("duration"))
    if format_name == "wav":
        # ffprobe measures a WAV by its size; the header's own length is what reveals a cut-off upload.
        declared = _wav_declared_seconds(path)
        if declared and (duration is None or declared > duration):
            duration = declared
    return AudioInfo(
        format_name=format_name,
        format_label=ACCEPTED_FORMATS[format_name],
        codec=stream.get("codec_name", ""),
        duration=duration,
        channels=int(stream.get("channels") or 0),
        sample_rate=int(stream.get("sample_rate") or 0),
    )


def decode(path: str | Path, *, expected_duration: float | None = None, max_seconds: float | None = None,
           timeout: float | None = None) -> np.ndarray:
    """Decode the first audio track to 16 kHz mono float32 in [-1, 1].

    Raises AudioError when ffmpeg fails, when nothing decodes, or when much less audio decodes
    than the header promised (a truncated upload).
    """
    cmd = [_ffmpeg_binary("ffmpeg"), "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0", "-vn",
           "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "f32le"]
    if max_seconds:
        cmd += ["-t", f"{max_seconds + 1:.3f}"]
    cmd.append("pipe:1")
    try:
        result = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise AudioError("decode_timeout", "Decoding the recording took too long.")
    audio = np.frombuffer(result.stdout, dtype=np.float32)
    if result.returncode != 0 and audio.size == 0:
        raise AudioError("decode_failed", f"The recording could not be decoded ({_last_line(result.stderr)}).")
    if audio.size == 0:
        raise AudioError("no_audio", "The recording contains no audio samples.")
    decoded = audio.size / SAMPLE_RATE
    if expected_duration and expected_duration > 1.0 and decoded < _TRUNCATION_RATIO * expected_duration:
        raise AudioError(
            "truncated",
            f"The recording is truncated: only {decoded:.1f} s of {expected_duration:.1f} s could be decoded.",
        )
    # Damaged frames in the middle still decode around the damage; a hard error with no output is fatal.
    return np.clip(audio, -1.0, 1.0).astype(np.float32, copy=False)


def decode_bytes(data: bytes, *, suffix: str = ".bin") -> np.ndarray:
    """Decode an in-memory file (tests, small clips)."""
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=suffix) as handle:
        handle.write(data)
        handle.flush()
        return decode(handle.name)


def pcm16_to_float(pcm: bytes) -> np.ndarray:
    """Little-endian PCM16 bytes to float32 in [-1, 1)."""
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


def float_to_pcm16(audio: np.ndarray) -> bytes:
    return (np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


def wav_bytes(audio: np.ndarray, *, sample_rate: int = SAMPLE_RATE) -> bytes:
    """A 16-bit mono WAV file in memory (for remote speech engines)."""
    import io
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(float_to_pcm16(audio))
    return buffer.getvalue()


def rms_dbfs(audio: np.ndarray) -> float:
    if audio.size == 0:
        return -120.0
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))
    return 20.0 * np.log10(max(rms, 1e-6))


def _wav_declared_seconds(path: Path) -> float | None:
    """The length a RIFF/WAVE header promises (data chunk size / byte rate), if readable."""
    import struct

    try:
        with open(path, "rb") as handle:
            header = handle.read(12)
            if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
                return None
            byte_rate = None
            while True:
                chunk = handle.read(8)
                if len(chunk) < 8:
                    return None
                chunk_id, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                if chunk_id == b"fmt ":
                    fmt = handle.read(size)
                    byte_rate = struct.unpack("<I", fmt[8:12])[0] if len(fmt) >= 12 else None
                    continue
                if chunk_id == b"data":
                    # 0 and 0xFFFFFFFF mean "unknown length" (streamed WAV).
                    if not byte_rate or size in (0, 0xFFFFFFFF):
                        return None
                    return size / byte_rate
                handle.seek(size + (size & 1), 1)
    except OSError:
        return None


def _float(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _last_line(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""
