"""The previous speaker separation: hand-made voice features (MFCC, pitch), no neural model.

Kept as the baseline ``make bench-speech`` measures beside ``diarization.diarize``.

1. Speech regions from the VAD are cut into sliding windows (1.5 s, hop 0.75 s).
2. Each window becomes a vector: MFCC means and standard deviations, delta spreads, and pitch
   statistics (median and spread of log F0, voiced share).
3. Vectors are standardised (pitch weighted up) and split top-down with Ward's criterion: a group
   is split in two while the halves are clearly different voices (several pooled standard
   deviations apart in timbre with some pitch difference, or a few semitones apart in pitch). So
   the count is found automatically and one speaker stays one speaker. A hint from the uploader
   fixes the count (Ward, bottom-up).
4. Labels are smoothed over time (majority of neighbours), turned into speaker turns, and each
   transcript word (or segment) takes the speaker it overlaps most. Segments are split where the
   speaker changes mid-segment and word timings allow it.
5. Speakers are numbered in order of first appearance: "Speaker 1", "Speaker 2", ...
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np

from meetings.speech import SAMPLE_RATE, features
from meetings.speech.diarization import SpeakerTurn, renumber
from meetings.speech.vad import Region, speech_regions

WINDOW = 1.5
HOP = 0.75
MAX_CLUSTER_POINTS = 1500  # beyond this, cluster a sample and assign the rest to the nearest centre
MIN_CLUSTER_WINDOWS = 3  # a "speaker" heard for less than ~3 s is a cough or a laugh
MIN_SEPARATION = 2.2  # mean feature distance between two voices, in pooled standard deviations
STRONG_SEPARATION = 3.0  # enough on its own, whatever the pitch
MIN_SEMITONES = 3.0  # or this much apart in typical pitch
PITCH_WEIGHT = 3.0  # pitch counts this much more than one MFCC statistic when grouping windows
PITCH_COLUMN = -3  # median log F0 in the window vector


def _windows(regions: list[Region], duration: float) -> list[tuple[int, float, float]]:
    """(region index, start, end) of every analysis window."""
    windows: list[tuple[int, float, float]] = []
    for index, region in enumerate(regions):
        start, end = max(0.0, region.start), min(duration, region.end)
        if end - start < 0.3:
            continue
        if end - start <= WINDOW:
            windows.append((index, start, end))
            continue
        t = start
        while t + WINDOW <= end + 1e-6:
            windows.append((index, t, t + WINDOW))
            t += HOP
        if windows[-1][2] < end - 0.3:
            windows.append((index, max(start, end - WINDOW), end))
    return windows


def _window_vector(mf: np.ndarray, d: np.ndarray, f0: np.ndarray) -> np.ndarray:
    voiced = f0[f0 > 0]
    log_f0 = np.log(voiced) if voiced.size >= 3 else np.array([0.0])
    pitch_stats = [np.median(log_f0), np.subtract(*np.percentile(log_f0, [75, 25])), voiced.size / max(f0.size, 1)]
    return np.concatenate([mf.mean(0), mf.std(0), d.std(0), np.array(pitch_stats)])


def window_features(audio: np.ndarray, regions: list[Region],
                    windows: list[tuple[int, float, float]]) -> np.ndarray:
    """One vector per window. Frame features are computed once per speech region, then sliced."""
    vectors = []
    frame_seconds = features.HOP / SAMPLE_RATE
    cache: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, float]] = {}
    for region_index, start, end in windows:
        if region_index not in cache:
            cache.clear()  # windows come region by region: keep one region's frames in memory
            region = regions[region_index]
            piece = audio[int(region.start * SAMPLE_RATE) : int(region.end * SAMPLE_RATE)]
            mf = features.mfcc(piece)[:, 1:]  # c0 is loudness, not voice
            f0 = features.pitch(piece)
            count = min(mf.shape[0], f0.size)
            cache[region_index] = (mf[:count], features.deltas(mf[:count]), f0[:count], region.start)
        mf, d, f0, origin = cache[region_index]
        lo = max(0, int((start - origin) / frame_seconds))
        hi = max(lo + 1, min(mf.shape[0], int((end - origin) / frame_seconds)))
        vectors.append(_window_vector(mf[lo:hi], d[lo:hi], f0[lo:hi]))
    return np.asarray(vectors, dtype=np.float64)


def _two_way(x: np.ndarray) -> np.ndarray:
    from sklearn.cluster import AgglomerativeClustering

    return AgglomerativeClustering(n_clusters=2, linkage="ward").fit_predict(x)


def _distinct(raw: np.ndarray, a: np.ndarray, b: np.ndarray) -> bool:
    """Do two groups of windows sound like two people?

    Measured in the recording's own units, so one speaker's natural variation does not look like
    a second voice: either the features differ by several pooled standard deviations on average,
    or the typical pitch differs by more than a few semitones.
    """
    if min(a.size, b.size) < max(MIN_CLUSTER_WINDOWS, int(0.04 * (a.size + b.size))):
        return False
    ga, gb = raw[a], raw[b]
    pooled = np.sqrt((ga.var(0) * ga.shape[0] + gb.var(0) * gb.shape[0]) / (ga.shape[0] + gb.shape[0]) + 1e-6)
    separation = float(np.sqrt((((ga.mean(0) - gb.mean(0)) / pooled) ** 2).mean()))
    semitones = 12.0 * abs(ga[:, PITCH_COLUMN].mean() - gb[:, PITCH_COLUMN].mean()) / np.log(2.0)
    # Timbre alone (MFCC statistics) is weak evidence on a few windows, so it must be overwhelming,
    # or backed by at least some difference in pitch.
    return (separation >= STRONG_SEPARATION or (separation >= MIN_SEPARATION and semitones >= 1.5)
            or (separation >= 1.0 and semitones >= MIN_SEMITONES))


def _cluster(raw: np.ndarray, x: np.ndarray, num_speakers: int | None, max_speakers: int) -> np.ndarray:
    """Speaker index per window.

    With a hint: Ward clustering into that many groups. Without: divisive, splitting the largest
    group while its best two-way split passes ``_distinct``.
    """
    n = x.shape[0]
    if n < 2 * MIN_CLUSTER_WINDOWS or num_speakers == 1:
        return np.zeros(n, dtype=int)
    if num_speakers:
        from sklearn.cluster import AgglomerativeClustering

        return AgglomerativeClustering(n_clusters=min(num_speakers, n), linkage="ward").fit_predict(x)
    groups = [np.arange(n)]
    final: list[np.ndarray] = []
    while groups and len(groups) + len(final) < max_speakers:
        groups.sort(key=len)
        group = groups.pop()
        if group.size < 2 * MIN_CLUSTER_WINDOWS:
            final.append(group)
            continue
        halves = _two_way(x[group])
        a, b = group[halves == 0], group[halves == 1]
        if _distinct(raw, a, b):
            groups.extend([a, b])
        else:
            final.append(group)
    labels = np.zeros(n, dtype=int)
    for index, group in enumerate(final + groups):
        labels[group] = index
    return labels


def _smooth(labels: np.ndarray, windows: list[tuple[int, float, float]], radius: int = 1) -> np.ndarray:
    """Majority vote over each window's neighbours within the same stretch of speech."""
    out = labels.copy()
    for i in range(len(labels)):
        lo, hi = max(0, i - radius), min(len(labels), i + radius + 1)
        neighbours = [labels[j] for j in range(lo, hi) if windows[j][0] == windows[i][0]]
        top, count = Counter(neighbours).most_common(1)[0]
        if count > len(neighbours) // 2:
            out[i] = top
    return out


def diarize(audio: np.ndarray, *, regions: list[Region] | None = None, num_speakers: int | None = None,
            max_speakers: int = 8) -> list[SpeakerTurn]:
    """Who spoke when: speaker turns (speaker indices numbered by first appearance)."""
    duration = audio.size / SAMPLE_RATE
    if regions is None:
        regions = speech_regions(audio)
    windows = _windows(regions, duration)
    if not windows:
        return []
    raw = window_features(audio, regions, windows)
    x = (raw - raw.mean(0)) / (raw.std(0) + 1e-6)
    x[:, PITCH_COLUMN] *= PITCH_WEIGHT
    if x.shape[0] > MAX_CLUSTER_POINTS:
        rng = np.random.default_rng(0)
        sample = np.sort(rng.choice(x.shape[0], MAX_CLUSTER_POINTS, replace=False))
        sample_labels = _cluster(raw[sample], x[sample], num_speakers, max_speakers)
        centres = np.stack([x[sample][sample_labels == k].mean(0) for k in np.unique(sample_labels)])
        labels = np.argmin(((x[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
    else:
        labels = _cluster(raw, x, num_speakers, max_speakers)
    labels = _smooth(labels, windows)
    # Each window owns the stretch around its centre; turns are runs of one label inside a region.
    turns: list[SpeakerTurn] = []
    by_region: dict[int, list[int]] = {}
    for i, (region_index, _, _) in enumerate(windows):
        by_region.setdefault(region_index, []).append(i)
    for region_index, members in by_region.items():
        region = regions[region_index]
        centres = [(windows[i][1] + windows[i][2]) / 2 for i in members]
        for pos, i in enumerate(members):
            start = region.start if pos == 0 else (centres[pos - 1] + centres[pos]) / 2
            end = region.end if pos == len(members) - 1 else (centres[pos] + centres[pos + 1]) / 2
            if turns and turns[-1].speaker == labels[i] and abs(turns[-1].end - start) < 1e-6:
                turns[-1] = replace(turns[-1], end=end)
            else:
                turns.append(SpeakerTurn(start, end, int(labels[i])))
    return renumber(turns)
