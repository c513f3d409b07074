"""Speaker embeddings: a GE2E voice encoder in numpy (no PyTorch).

The weights are Resemblyzer's pretrained encoder (Apache-2.0, see ``data/NOTICE``), converted once
by ``scripts/speaker_model.py`` into ``data/speaker_encoder.npz``. The network and the features
are Resemblyzer's:

* 40-band mel power spectrogram (25 ms Hann window, 10 ms hop, librosa's Slaney mel scale and
  normalisation, centred frames with reflect padding), not a log spectrogram;
* a 3-layer LSTM (hidden 256), the last layer's final hidden state, a linear layer to 256, ReLU,
  L2 normalisation;
* an utterance is cut into partial utterances of 1.6 s (160 frames); their embeddings are
  averaged and normalised again.

Embeddings are non-negative and unit length, so the cosine similarity of two is their dot
product, in [0, 1]: the same voice is typically above 0.8, different voices below 0.7.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from meetings.speech import SAMPLE_RATE

WEIGHTS_PATH = Path(__file__).resolve().parent / "data" / "speaker_encoder.npz"
N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
N_MELS = 40
PARTIAL_FRAMES = 160  # 1.6 s
EMBEDDING_SIZE = 256
HIDDEN = 256
LAYERS = 3
NORM_TARGET_DBFS = -30.0
_lock = threading.Lock()


def _hz_to_mel(f: np.ndarray) -> np.ndarray:
    """librosa's Slaney mel scale: linear below 1 kHz, logarithmic above."""
    f = np.asarray(f, dtype=np.float64)
    f_sp = 200.0 / 3
    mels = f / f_sp
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-10) / min_log_hz) / logstep, mels)


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float64)
    f_sp = 200.0 / 3
    freqs = f_sp * m
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), freqs)


@lru_cache(maxsize=1)
def mel_filters() -> np.ndarray:
    """[N_MELS, N_FFT // 2 + 1], as ``librosa.filters.mel(sr=16000, n_fft=400, n_mels=40)``."""
    fft_freqs = np.linspace(0, SAMPLE_RATE / 2, N_FFT // 2 + 1)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(SAMPLE_RATE / 2), N_MELS + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_freqs[None, :]
    weights = np.zeros((N_MELS, fft_freqs.size))
    for i in range(N_MELS):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2 : N_MELS + 2] - mel_f[:N_MELS]))[:, None]  # Slaney: equal area
    return weights.astype(np.float32)


@lru_cache(maxsize=1)
def _window() -> np.ndarray:
    n = np.arange(N_FFT)
    return (0.5 - 0.5 * np.cos(2 * np.pi * n / N_FFT)).astype(np.float32)  # periodic Hann


def mel_frames(audio: np.ndarray) -> np.ndarray:
    """[frames, 40] mel power spectrogram (one frame per 10 ms, frame i centred on sample 160 i)."""
    audio = np.asarray(audio, dtype=np.float32)
    pad = N_FFT // 2
    if audio.size <= pad:
        audio = np.pad(audio, (0, pad + 1 - audio.size))
    padded = np.pad(audio, pad, mode="reflect")
    count = 1 + (padded.size - N_FFT) // HOP
    frames = np.lib.stride_tricks.as_strided(padded, shape=(count, N_FFT),
                                             strides=(padded.strides[0] * HOP, padded.strides[0]))
    spectrum = np.fft.rfft(frames * _window(), axis=1)
    power = (spectrum.real ** 2 + spectrum.imag ** 2).astype(np.float32)
    return power @ mel_filters().T


def normalize_volume(audio: np.ndarray) -> np.ndarray:
    """Raise quiet audio to -30 dBFS RMS (never lowers it), as Resemblyzer's preprocessing does."""
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) if audio.size else 0.0
    if rms <= 1e-9:
        return audio
    change = NORM_TARGET_DBFS - 20 * np.log10(rms)
    return audio if change < 0 else (audio * 10 ** (change / 20)).astype(np.float32)


class VoiceEncoder:
    """The network; ``embed_partials`` runs a batch of 160-frame mel windows at once."""

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        self.layers = []
        # PyTorch stacks the gates as input, forget, cell, output; put the three sigmoid gates first.
        order = np.concatenate([np.arange(0, 2 * HIDDEN), np.arange(3 * HIDDEN, 4 * HIDDEN),
                                np.arange(2 * HIDDEN, 3 * HIDDEN)])
        for layer in range(LAYERS):
            w_ih = weights[f"lstm.weight_ih_l{layer}"].astype(np.float32)[order]
            w_hh = weights[f"lstm.weight_hh_l{layer}"].astype(np.float32)[order]
            bias = (weights[f"lstm.bias_ih_l{layer}"].astype(np.float32)
                    + weights[f"lstm.bias_hh_l{layer}"].astype(np.float32))[order]
            self.layers.append((np.ascontiguousarray(w_ih.T), np.ascontiguousarray(w_hh.T), bias))
        self.linear_w = np.ascontiguousarray(weights["linear.weight"].astype(np.float32).T)
        self.linear_b = weights["linear.bias"].astype(np.float32)

    def embed_partials(self, mels: np.ndarray) -> np.ndarray:
        """[batch, frames, 40] -> [batch, 256] unit-length, non-negative embeddings."""
        x = np.ascontiguousarray(np.asarray(mels, dtype=np.float32).transpose(1, 0, 2))  # time first
        steps, batch, _ = x.shape
        gates = np.empty((batch, 4 * HIDDEN), dtype=np.float32)
        tmp = np.empty((batch, HIDDEN), dtype=np.float32)
        for w_ih, w_hh, bias in self.layers:
            gates_in = (x.reshape(steps * batch, -1) @ w_ih + bias).reshape(steps, batch, 4 * HIDDEN)
            h = np.zeros((batch, HIDDEN), dtype=np.float32)
            c = np.zeros((batch, HIDDEN), dtype=np.float32)
            out = np.empty((steps, batch, HIDDEN), dtype=np.float32)
            for t in range(steps):
                np.matmul(h, w_hh, out=gates)
                gates += gates_in[t]
                # Gates were reordered at load to input, forget, output (sigmoids), then cell (tanh).
                sig = gates[:, : 3 * HIDDEN]
                sig *= 0.5
                np.tanh(sig, out=sig)
                sig += 1.0
                sig *= 0.5
                cell = gates[:, 3 * HIDDEN :]
                np.tanh(cell, out=cell)
                c *= gates[:, HIDDEN : 2 * HIDDEN]
                np.multiply(gates[:, :HIDDEN], cell, out=tmp)
                c += tmp
                np.tanh(c, out=h)
                h *= gates[:, 2 * HIDDEN : 3 * HIDDEN]
                out[t] = h
            x = out
        raw = np.maximum(h @ self.linear_w + self.linear_b, 0.0)
        norms = np.linalg.norm(raw, axis=1, keepdims=True)
        return raw / np.maximum(norms, 1e-9)


def _one_blas_thread():
    """The LSTM's matrices are small: one BLAS thread is steadier than two fighting for the
    cores (measured 40 ms per partial with one, 60-290 ms with two on a busy 2-core machine)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def load_weights(path: Path | str = WEIGHTS_PATH) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


@lru_cache(maxsize=1)
def get_encoder() -> VoiceEncoder:
    return VoiceEncoder(load_weights())


def partial_starts(frame_count: int, *, step: int = PARTIAL_FRAMES // 2, min_coverage: float = 0.75) -> list[int]:
    """First frame of each partial utterance covering ``frame_count`` frames (Resemblyzer's rule:
    a last partial less than ``min_coverage`` full is dropped unless it is the only one)."""
    starts = list(range(0, max(1, frame_count - PARTIAL_FRAMES + step + 1), step))
    if len(starts) > 1 and (frame_count - starts[-1]) / PARTIAL_FRAMES < min_coverage:
        starts.pop()
    return starts


def _partial_mels(mel: np.ndarray, starts: list[int]) -> np.ndarray:
    need = starts[-1] + PARTIAL_FRAMES
    if mel.shape[0] < need:
        mel = np.concatenate([mel, np.zeros((need - mel.shape[0], N_MELS), dtype=np.float32)])
    return np.stack([mel[s : s + PARTIAL_FRAMES] for s in starts])


def _normalise(vector: np.ndarray) -> np.ndarray:
    return vector / max(float(np.linalg.norm(vector)), 1e-9)


def embed_utterance(audio: np.ndarray, *, normalize: bool = True) -> np.ndarray:
    """One 256-d voice embedding for a stretch of speech (16 kHz mono float32)."""
    audio = normalize_volume(audio) if normalize else audio
    mel = mel_frames(audio)
    starts = partial_starts(mel.shape[0])
    with _lock, _one_blas_thread():
        partials = get_encoder().embed_partials(_partial_mels(mel, starts))
    return _normalise(partials.mean(0))


def embed_windows(audio: np.ndarray, spans: list[tuple[float, float]], *, batch: int = 64) -> np.ndarray:
    """[len(spans), 256]: one embedding per (start, end) span in seconds of ``audio``.

    Each span is cut into 1.6 s partials with 50 % overlap (zero-padded when shorter), the
    partials run through the network in batches (memory stays bounded on long recordings), and
    each span's partials are averaged and normalised.
    """
    sums = np.zeros((len(spans), EMBEDDING_SIZE), dtype=np.float64)
    if not spans:
        return sums.astype(np.float32)
    encoder = get_encoder()
    pending: list[np.ndarray] = []
    owners: list[int] = []

    def run() -> None:
        out = encoder.embed_partials(np.concatenate(pending))
        np.add.at(sums, np.asarray(owners), out)
        pending.clear()
        owners.clear()

    with _lock, _one_blas_thread():
        for index, (start, end) in enumerate(spans):
            first = int(start * SAMPLE_RATE)
            piece = audio[first : max(first + 1, int(end * SAMPLE_RATE))]
            mel = mel_frames(normalize_volume(piece))
            partials = _partial_mels(mel, partial_starts(mel.shape[0]))
            pending.append(partials)
            owners.extend([index] * partials.shape[0])
            if len(owners) >= batch:
                run()
        if owners:
            run()
    return (sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-9)).astype(np.float32)
