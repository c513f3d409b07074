"""Meetings with known words, speakers and turns, spoken by espeak-ng (shared by tests and bench)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000


@dataclass(frozen=True)
class Voice:
    name: str  # espeak-ng voice, e.g. "en-us", "en-gb+f3"
    pitch: int  # -p 0..99
    speed: int  # -s words per minute


@dataclass(frozen=True)
class Turn:
    speaker: str
    text: str
    start: float = 0.0
    end: float = 0.0


VOICES = {
    "alice": Voice("en-us+f3", 75, 165),
    "bob": Voice("en-us", 25, 150),
    "carol": Voice("en-us+f2", 45, 170),
}

TWO_SPEAKERS = [
    ("alice", "Good morning everyone. Let's review the quarterly revenue numbers before the launch."),
    ("bob", "Thanks. Revenue grew twelve percent, and the marketing budget stayed flat this quarter."),
    ("alice", "That is great news. What about the hiring plan for the support team?"),
    ("bob", "We will hire three engineers in March and two more in April."),
]

THREE_SPEAKERS = [
    ("alice", "Welcome to the planning meeting. We need to decide on the release date today."),
    ("bob", "The testing team needs two more weeks to finish the security review."),
    ("carol", "Customers are asking for the new dashboard, so an earlier date would help sales."),
    ("alice", "Then let us ship the dashboard first and move the rest to the next release."),
    ("bob", "That works for me. I will update the schedule this afternoon."),
    ("carol", "Great, I will tell the customers on Friday."),
]


def _espeak(voice: Voice, text: str) -> np.ndarray:
    result = subprocess.run(
        ["espeak-ng", "-v", voice.name, "-p", str(voice.pitch), "-s", str(voice.speed), "--stdout", text],
        capture_output=True, check=True,
    )
    resampled = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", "pipe:0", "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "f32le",
         "pipe:1"],
        input=result.stdout, capture_output=True, check=True,
    )
    audio = np.frombuffer(resampled.stdout, dtype=np.float32)
    # Trim espeak's own leading/trailing silence so ground-truth turn times are tight.
    voiced = np.flatnonzero(np.abs(audio) > 0.01)
    return audio[voiced[0] : voiced[-1] + 1] if voiced.size else audio


def build(script: list[tuple[str, str]], *, gap: float = 0.6, lead: float = 0.3,
          voices: dict[str, Voice] | None = None) -> tuple[np.ndarray, list[Turn]]:
    """Speak each turn with its speaker's voice; return the audio and the true turns."""
    voices = voices or VOICES
    pieces = [np.zeros(int(lead * SAMPLE_RATE), dtype=np.float32)]
    turns: list[Turn] = []
    t = lead
    for index, (speaker, text) in enumerate(script):
        speech = _espeak(voices[speaker], text) * 0.8
        turns.append(Turn(speaker, text, round(t, 3), round(t + speech.size / SAMPLE_RATE, 3)))
        pieces.append(speech)
        t += speech.size / SAMPLE_RATE
        # Slightly uneven pauses, like people.
        pause = gap + (0.15 if index % 2 else 0.0)
        pieces.append(np.zeros(int(pause * SAMPLE_RATE), dtype=np.float32))
        t += pause
    return np.concatenate(pieces), turns


def write_wav(path: Path, audio: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def convert(source: Path, target: Path, *extra: str) -> Path:
    """ffmpeg conversion by the target's extension (mp3, m4a, webm, ogg, flac)."""
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(source), *extra, str(target)], check=True)
    return target


def meeting_files(folder: Path, name: str, script: list[tuple[str, str]], *, formats: tuple[str, ...] = ("wav",),
                  gap: float = 0.6) -> tuple[dict[str, Path], list[Turn]]:
    """Generate (or reuse from ``folder``) a meeting in several formats plus its ground truth."""
    key = hashlib.sha1(json.dumps([script, gap, [v.__dict__ for v in VOICES.values()]]).encode()).hexdigest()[:10]
    base = folder / f"{name}-{key}"
    truth_path = base.with_suffix(".json")
    wav_path = base.with_suffix(".wav")
    if not (truth_path.exists() and wav_path.exists()):
        audio, turns = build(script, gap=gap)
        write_wav(wav_path, audio)
        truth_path.write_text(json.dumps([t.__dict__ for t in turns]))
    turns = [Turn(**t) for t in json.loads(truth_path.read_text())]
    files = {"wav": wav_path}
    for fmt in formats:
        if fmt == "wav":
            continue
        target = base.with_suffix(f".{fmt}")
        if not target.exists():
            extra = {"webm": ("-c:a", "libopus"), "ogg": ("-c:a", "libopus"), "m4a": ("-c:a", "aac")}.get(fmt, ())
            convert(wav_path, target, *extra)
        files[fmt] = target
    return files, turns


def reference_text(turns: list[Turn]) -> str:
    return " ".join(t.text for t in turns)
