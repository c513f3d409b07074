"""Voice features with numpy/scipy only: MFCCs, their deltas, and pitch (autocorrelation)."""

from __future__ import annotations

import functools

import numpy as np
from scipy.fft import dct, irfft, rfft

from meetings.speech import SAMPLE_RATE

FRAME = 400  # 25 ms
HOP = 160  # 10 ms
N_FFT = 512
N_MELS = 40
N_MFCC = 20
_PITCH_FFT = 2048
_PITCH_FRAME = 640  # 40 ms: two periods of a 60 Hz voice
_F0_MIN, _F0_MAX = 60.0, 400.0


@functools.lru_cache(maxsize=1)
def _mel_filters() -> np.ndarray:
    def hz_to_mel(hz):
        return 2595.0 * np.log10(1.0 + hz / 700.0)

    def mel_to_hz(mel):
        return 700.0 * (10 ** (mel / 2595.0) - 1.0)

    mels = np.linspace(hz_to_mel(60.0), hz_to_mel(7600.0), N_MELS + 2)
    bins = np.floor((N_FFT + 1) * mel_to_hz(mels) / SAMPLE_RATE).astype(int)
    filters = np.zeros((N_MELS, N_FFT // 2 + 1), dtype=np.float32)
    for m in range(1, N_MELS + 1):
        left, centre, right = bins[m - 1], bins[m], bins[m + 1]
        for k in range(left, centre):
            filters[m - 1, k] = (k - left) / max(centre - left, 1)
        for k in range(centre, right):
            filters[m - 1, k] = (right - k) / max(right - centre, 1)
    return filters


def frames_of(audio: np.ndarray) -> np.ndarray:
    if audio.size < FRAME:
        audio = np.pad(audio, (0, FRAME - audio.size))
    count = 1 + (audio.size - FRAME) // HOP
    return np.lib.stride_tricks.sliding_window_view(audio, FRAME)[::HOP][:count]


def mfcc(audio: np.ndarray) -> np.ndarray:
    """[frames, N_MFCC] MFCCs (c0 included: callers decide)."""
    emphasised = np.append(audio[:1], audio[1:] - 0.97 * audio[:-1]).astype(np.float32)
    frames = frames_of(emphasised) * np.hamming(FRAME).astype(np.float32)
    power = np.abs(rfft(frames, n=N_FFT, axis=1)) ** 2
    mel = np.log(power @ _mel_filters().T + 1e-8)
    return dct(mel, type=2, axis=1, norm="ortho")[:, :N_MFCC].astype(np.float32)


def deltas(features: np.ndarray, width: int = 2) -> np.ndarray:
    if features.shape[0] < 2:
        return np.zeros_like(features)
    padded = np.pad(features, ((width, width), (0, 0)), mode="edge")
    numerator = sum(n * (padded[width + n : width + n + features.shape[0]] - padded[width - n : width - n
                    + features.shape[0]]) for n in range(1, width + 1))
    return numerator / (2 * sum(n * n for n in range(1, width + 1)))


def pitch(audio: np.ndarray) -> np.ndarray:
    """[frames] F0 in Hz per 10 ms hop (0 where unvoiced).

    Autocorrelation of 40 ms Hann-windowed frames divided by the window's own autocorrelation
    (Boersma 1993), which removes the taper's bias towards short lags (octave errors).
    """
    size = _PITCH_FRAME
    if audio.size < size:
        audio = np.pad(audio, (0, size - audio.size))
    count = 1 + (audio.size - size) // HOP
    frames = np.lib.stride_tricks.sliding_window_view(audio, size)[::HOP][:count]
    frames = frames - frames.mean(axis=1, keepdims=True)
    autocorr = irfft(np.abs(rfft(frames * _hann(), n=_PITCH_FFT, axis=1)) ** 2, n=_PITCH_FFT, axis=1)[:, :size]
    energy = autocorr[:, 0] + 1e-9
    lo, hi = int(SAMPLE_RATE / _F0_MAX), int(SAMPLE_RATE / _F0_MIN)
    band = autocorr[:, lo:hi] / energy[:, None] / _window_autocorr()[lo:hi]
    lag = band.argmax(axis=1) + lo
    strength = band.max(axis=1)
    loud = energy > np.percentile(energy, 20) if energy.size > 5 else np.ones_like(energy, dtype=bool)
    return np.where((strength > 0.45) & loud, SAMPLE_RATE / lag, 0.0).astype(np.float32)


@functools.lru_cache(maxsize=1)
def _hann() -> np.ndarray:
    return np.hanning(_PITCH_FRAME).astype(np.float32)


@functools.lru_cache(maxsize=1)
def _window_autocorr() -> np.ndarray:
    w = _hann()
    r = irfft(np.abs(rfft(w, n=_PITCH_FFT)) ** 2, n=_PITCH_FFT)[:_PITCH_FRAME]
    return np.maximum(r / r[0], 1e-3)
