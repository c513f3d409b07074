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
                  gap: float = 0.6, voices: dict[str, Voice] | None = None) -> tuple[dict[str, Path], list[Turn]]:
    """Generate (or reuse from ``folder``) a meeting in several formats plus its ground truth."""
    voices = voices or VOICES
    key = hashlib.sha1(json.dumps([script, gap, [v.__dict__ for v in voices.values()]]).encode()).hexdigest()[:10]
    base = folder / f"{name}-{key}"
    truth_path = base.with_suffix(".json")
    wav_path = base.with_suffix(".wav")
    if not (truth_path.exists() and wav_path.exists()):
        audio, turns = build(script, gap=gap, voices=voices)
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


SENTENCES = [
    "Let us start with the numbers from last week.",
    "Revenue is up eight percent compared to the last quarter.",
    "The new onboarding flow cut support tickets by a third.",
    "I think we should move the launch to next month.",
    "Marketing wants a clear answer before Friday.",
    "Can you share the dashboard link in the channel?",
    "The database migration finished without errors last night.",
    "We still have two open bugs in the billing page.",
    "The customer in Berlin asked for a longer trial period.",
    "Legal has not approved the new contract yet.",
    "I will schedule a call with the vendor tomorrow morning.",
    "Our hiring plan includes two designers this year.",
    "The mobile app review is waiting on the store team.",
    "Latency went down after we added the cache.",
    "Please write a short summary for the leadership team.",
    "We need a decision on the pricing page today.",
    "The office move is planned for the end of the summer.",
    "Security training is mandatory for everyone this month.",
    "The partner portal had three outages in September.",
    "Who owns the follow up with the finance department?",
    "I can take that, and I will report back next week.",
    "The budget for travel is frozen until January.",
    "Our churn rate is stable at about two percent.",
    "The survey results show that users love the search feature.",
    "We should retire the old reporting tool this year.",
    "The data team needs access to the production replica.",
    "Let us keep the scope small and ship the first version.",
    "The design system update will take about three sprints.",
    "I disagree, the risk is too high for the holiday season.",
    "Fair point, then we wait until the second week of January.",
    "Support hours will extend to the weekend from March.",
    "The translation into Spanish and German is almost done.",
    "We signed two new enterprise customers this month.",
    "The invoice template still shows the old address.",
    "Can we automate the weekly report instead of building it by hand?",
    "The test suite takes twelve minutes on every change.",
    "Let us review the roadmap again in two weeks.",
    "The conference booth needs a new banner and flyers.",
    "Our cloud bill grew faster than the number of users.",
    "I suggest we switch the storage tier for old backups.",
]
SHORT_REPLIES = ["Yes, agreed.", "Okay.", "Sounds good to me.", "Right, exactly.", "No, not yet.", "Thanks."]


def conversation(speakers: list[str], seconds: float, *, seed: int,
                 short_replies: float = 0.15) -> list[tuple[str, str]]:
    """A random meeting script of about ``seconds`` of speech: turns of one to three sentences,
    some one-word replies, every speaker heard, never the same speaker twice in a row."""
    import random

    rng = random.Random(seed)
    script: list[tuple[str, str]] = []
    spoken = 0.0
    previous = None
    order = list(speakers)
    rng.shuffle(order)
    while spoken < seconds or len({s for s, _ in script}) < len(speakers):
        candidates = [s for s in speakers if s != previous] or list(speakers)
        unheard = [s for s in order if s not in {x for x, _ in script}]
        speaker = unheard[0] if unheard and rng.random() < 0.5 else rng.choice(candidates)
        if speaker == previous:
            speaker = rng.choice(candidates)
        if script and rng.random() < short_replies:
            text = rng.choice(SHORT_REPLIES)
        else:
            text = " ".join(rng.sample(SENTENCES, rng.randint(1, 3)))
        script.append((speaker, text))
        spoken += len(text.split()) / 2.6 + 0.7
        previous = speaker
    return script
