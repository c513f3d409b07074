"""Speaker separation on CPU, offline: pretrained voice embeddings, clustering, re-segmentation.

1. Speech regions from the VAD are cut into sliding windows of 1.6 s (hop 0.8 s); a region
   of up to 2 s is one window.
2. Each window gets a 256-d voice embedding (``voice_encoder``, a GE2E network run in numpy).
   The window's median pitch is appended (``PITCH_WEIGHT``): similar timbres often differ in pitch.
3. The windows are clustered spectrally: a refined cosine affinity (each window keeps its closest
   neighbours, symmetrised, diffused), its eigenvectors, k-means, then a few rounds of
   reassignment to the nearest centroid. Without a hint the count is the largest k for which
   every group holds ``MIN_SPEAKER_SECONDS`` of speech and every two groups are distinct voices:
   their embedding distance (1 - centroid cosine, in units of ``1 - SAME_VOICE``) plus their
   typical pitch difference (in units of ``PITCH_APART`` semitones) reaches a boundary set by turn
   coherence: how often the two groups alternate inside one speech region, measured after a
   re-segmentation pass (``coherence``). The halves of one voice alternate within continuous
   speech; two people change at pauses. These constants and ``PITCH_WEIGHT`` were tuned on
   generated meetings whose voices and pitches the benchmark never uses.
4. Re-segmentation: every 0.1 s frame is scored against each voice centroid (from the windows
   covering it) and labelled by a Viterbi pass with a cost for switching speaker, so boundaries
   fall between windows and turns shorter than ~0.5 s do not appear.
5. Speakers are numbered in order of first appearance: "Speaker 1", "Speaker 2", ...

``assign_speakers`` then gives every transcript word the speaker it overlaps most and splits a
segment where the speaker changes. The previous hand-made feature separation lives on in
``diarization_features`` as the benchmark's baseline.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

import numpy as np

from meetings.speech import SAMPLE_RATE, features, voice_encoder
from meetings.speech.types import SttSegment, Word
from meetings.speech.vad import Region, speech_regions

WINDOW = 1.6  # one partial utterance of the voice encoder
HOP = 0.8
MIN_WINDOW = 0.4  # a speech region shorter than this gets no embedding of its own
NEIGHBOUR_SHARE = 0.1  # affinity refinement: each window keeps its 10 % most similar neighbours...
MIN_NEIGHBOURS = 10  # ...and at least this many
# Two groups are two voices when their embedding distance and pitch difference add up to enough:
# centroids under SAME_VOICE cosine are apart whatever their pitch, PITCH_APART semitones are apart
# whatever their timbre, and in between each makes up for the other (a straight boundary between
# the two measures, chosen on the tuning set, whose closest cases were the halves of one voice at
# 0.98 cosine and 1.9 semitones and two voices at 0.96 cosine and 3.2 semitones).
SAME_VOICE = 0.875
PITCH_APART = 2.5
# Turn coherence moves that boundary. One voice wrongly split in two alternates inside continuous
# speech (the split follows phonetic content), two people change mostly at pauses. Two groups are
# two voices when distance + pitch (as above) reach COHERENT_APART plus their label changes per
# window inside speech regions in units of SWITCH_RATE: 0.05 changes per window keeps the boundary
# at 1, groups that never change inside a region need only 0.5, and groups that alternate need far
# more (the middle of the tuning set's plateau; there the halves of one voice changed 0.077-0.42
# times per window and groups each holding one of two voices at most 0.035).
COHERENT_APART = 0.5
SWITCH_RATE = 0.1
PITCH_WEIGHT = 2.0  # one octave of pitch difference weighs like a cosine distance of ~2 between embeddings
MIN_SPEAKER_SECONDS = 5.0  # a "speaker" heard for less than this in all joins another voice
FRAME = 0.1  # re-segmentation resolution (seconds)
SWITCH_COST = 0.3  # Viterbi cost of changing speaker between two frames, in similarity units
MAX_CLUSTER_POINTS = 2000  # beyond this, cluster a sample and assign the rest to the nearest centroid


@dataclass(frozen=True)
class SpeakerTurn:
    start: float
    end: float
    speaker: int


@dataclass(frozen=True)
class Window:
    region: int
    start: float
    end: float


def speaker_label(index: int) -> str:
    return f"Speaker {index + 1}"


def embedding_windows(regions: list[Region], duration: float) -> list[Window]:
    windows: list[Window] = []
    for index, region in enumerate(regions):
        start, end = max(0.0, region.start), min(duration, region.end)
        if end - start < MIN_WINDOW:
            continue
        if end - start <= WINDOW * 1.25:
            windows.append(Window(index, start, end))
            continue
        t = start
        while t + WINDOW <= end + 1e-6:
            windows.append(Window(index, t, t + WINDOW))
            t += HOP
        if windows[-1].end < end - 0.25:
            windows.append(Window(index, end - WINDOW, end))
    return windows


def _centroid(vectors: np.ndarray) -> np.ndarray:
    mean = vectors.mean(0)
    return mean / max(float(np.linalg.norm(mean)), 1e-9)


def _refine(labels: np.ndarray, emb: np.ndarray, rounds: int = 3) -> np.ndarray:
    """Reassign windows to the nearest voice centroid (k-means on the sphere), keeping the count."""
    for _ in range(rounds):
        groups = np.unique(labels)
        if groups.size <= 1:
            break
        centroids = np.stack([_centroid(emb[labels == g]) for g in groups])
        new = groups[np.argmax(emb @ centroids.T, axis=1)]
        if np.unique(new).size < groups.size or np.array_equal(new, labels):
            break
        labels = new
    return labels


def _affinity(x: np.ndarray) -> np.ndarray:
    """Refined cosine affinity (Wang et al., 2018): each row keeps its closest neighbours (10 %, at
    least ``MIN_NEIGHBOURS``), symmetrised, diffused (A A^T) and row-max normalised."""
    a = x @ x.T
    n = a.shape[0]
    keep = max(int(np.ceil(NEIGHBOUR_SHARE * n)), min(MIN_NEIGHBOURS, n - 1))
    cut = np.percentile(a, 100.0 * (1 - keep / n), axis=1, keepdims=True)
    a = np.where(a >= cut, a, a * 0.01)
    a = np.maximum(a, a.T)
    a = a @ a.T
    a = a / np.maximum(a.max(1, keepdims=True), 1e-9)
    return (a + a.T) / 2


def _spectral(points: np.ndarray, x: np.ndarray, k: int) -> np.ndarray:
    from sklearn.cluster import KMeans

    rows = points[:, :k] / np.maximum(np.linalg.norm(points[:, :k], axis=1, keepdims=True), 1e-9)
    return _refine(KMeans(n_clusters=k, n_init=5, random_state=0).fit_predict(rows), x)


def pair_apart(emb: np.ndarray, log_f0: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """[groups, groups]: embedding distance (1 - centroid cosine, in units of ``1 - SAME_VOICE``)
    plus typical pitch difference (in units of ``PITCH_APART`` semitones) of every two groups."""
    groups = np.unique(labels)
    centroids = np.stack([_centroid(emb[labels == g]) for g in groups])
    distance = (1.0 - centroids @ centroids.T) / (1.0 - SAME_VOICE)
    pitch = np.array([np.median(log_f0[labels == g]) for g in groups]) * 12.0 / np.log(2.0)
    return distance + np.abs(pitch[:, None] - pitch[None, :]) / PITCH_APART


def _distinct(emb: np.ndarray, log_f0: np.ndarray, labels: np.ndarray, switches: np.ndarray | None = None) -> bool:
    """Is every pair of groups two voices? ``pair_apart`` is at least 1 or, with ``switches``
    (``coherence``), at least ``COHERENT_APART`` + switches / ``SWITCH_RATE``."""
    apart = pair_apart(emb, log_f0, labels)
    need = 1.0 if switches is None else COHERENT_APART + switches / SWITCH_RATE
    return bool((apart - need)[np.triu_indices(apart.shape[0], 1)].min() >= 0.0)


def switch_rates(labels: np.ndarray, regions: np.ndarray) -> np.ndarray:
    """[groups, groups]: for each two groups, their label changes between consecutive windows of
    the same speech region (``regions``: each window's region, windows in time order), per window.
    Halves of one voice alternate within a stretch of speech; two people rarely do."""
    groups = np.unique(labels)
    rates = np.zeros((groups.size, groups.size))
    for a in range(groups.size):
        for b in range(a + 1, groups.size):
            keep = (labels == groups[a]) | (labels == groups[b])
            pair, region = labels[keep], regions[keep]
            changes = np.count_nonzero((pair[1:] != pair[:-1]) & (region[1:] == region[:-1]))
            rates[a, b] = rates[b, a] = changes / max(int(keep.sum()), 1)
    return rates


def coherence(x: np.ndarray, windows: list[Window], regions: list[Region], labels: np.ndarray) -> np.ndarray | None:
    """``switch_rates`` of the groups after a re-segmentation pass: each window takes the Viterbi
    label at its middle, each voice is re-fitted on those windows, and every window goes to the
    nearest re-fitted voice. A few windows of one voice that clustering left in another's group
    (which would count as changes between them) go back to their own voice; the halves of one
    voice stay mixed. None when a group is then nearest to no window (it is no voice of its own)."""
    turns = resegment(regions, windows, x, labels)
    starts = np.array([t.start for t in turns])
    smoothed = labels.copy()
    for i, w in enumerate(windows):
        middle = (w.start + w.end) / 2
        j = int(np.searchsorted(starts, middle, side="right")) - 1
        if j >= 0 and turns[j].end >= middle:
            smoothed[i] = turns[j].speaker
    groups = np.unique(labels)
    centroids = np.stack([_centroid(x[smoothed == g] if (smoothed == g).any() else x[labels == g]) for g in groups])
    refitted = groups[np.argmax(x @ centroids.T, axis=1)]
    if np.unique(refitted).size < groups.size:
        return None
    return switch_rates(refitted, np.array([w.region for w in windows]))


def cluster_embeddings(emb: np.ndarray, log_f0: np.ndarray, seconds: np.ndarray, *, num_speakers: int | None = None,
                       max_speakers: int = 8, windows: list[Window] | None = None,
                       regions: list[Region] | None = None) -> np.ndarray:
    """Speaker index per window: spectral clustering of the refined affinity of the voice vectors.

    With a hint, that many groups. Without, the largest count whose groups are all distinct
    voices (``_distinct``) with ``MIN_SPEAKER_SECONDS`` of speech each; given the windows (in time
    order) and speech regions, how often two groups alternate inside a region counts too.
    """
    n = emb.shape[0]
    if n < 3 or num_speakers == 1:
        return np.zeros(n, dtype=int)
    x = voice_vectors(emb, log_f0)
    _, vectors = np.linalg.eigh(_affinity(x.astype(np.float64)))
    vectors = vectors[:, ::-1]
    if num_speakers:
        return _spectral(vectors, x, min(num_speakers, n - 1))
    best = np.zeros(n, dtype=int)
    for k in range(2, min(max_speakers, n - 1) + 1):
        labels = _spectral(vectors, x, k)
        groups = np.unique(labels)
        if groups.size < k or min(float(seconds[labels == g].sum()) for g in groups) < MIN_SPEAKER_SECONDS:
            break
        switches = None
        if windows is not None and regions is not None:
            switches = coherence(x, windows, regions, labels)
            if switches is None:
                break
        if not _distinct(emb, log_f0, labels, switches):
            break
        best = labels
    return best


def window_pitch(audio: np.ndarray, windows: list[Window]) -> np.ndarray:
    """Median log F0 of each window (the recording's median where a window has too few voiced frames)."""
    values = np.full(len(windows), np.nan)
    for i, w in enumerate(windows):
        f0 = features.pitch(audio[int(w.start * SAMPLE_RATE) : int(w.end * SAMPLE_RATE)])
        voiced = f0[f0 > 0]
        if voiced.size >= 3:
            values[i] = float(np.median(np.log(voiced)))
    if np.isnan(values).all():
        return np.zeros(len(windows))
    return np.where(np.isnan(values), np.nanmedian(values), values)


def voice_vectors(emb: np.ndarray, log_f0: np.ndarray) -> np.ndarray:
    """The embedding with the window's pitch (octaves from the recording's median, times
    ``PITCH_WEIGHT``) appended, normalised again. Synthetic and similar voices that the
    embedding alone confuses often differ by a few semitones."""
    octaves = (log_f0 - np.median(log_f0)) / np.log(2.0)
    x = np.concatenate([emb, PITCH_WEIGHT * octaves[:, None]], axis=1)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)


def _viterbi(scores: np.ndarray, switch_cost: float) -> np.ndarray:
    """Best label path through [frames, speakers] scores with a fixed cost per change."""
    frames, k = scores.shape
    total = scores[0].copy()
    back = np.zeros((frames, k), dtype=np.int32)
    for t in range(1, frames):
        best_prev = int(np.argmax(total))
        stay = total
        switch = total[best_prev] - switch_cost
        choose_switch = switch > stay
        back[t] = np.where(choose_switch, best_prev, np.arange(k))
        total = np.where(choose_switch, switch, stay) + scores[t]
    path = np.empty(frames, dtype=np.int32)
    path[-1] = int(np.argmax(total))
    for t in range(frames - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


def resegment(regions: list[Region], windows: list[Window], emb: np.ndarray, labels: np.ndarray,
              *, switch_cost: float = SWITCH_COST) -> list[SpeakerTurn]:
    """Frame-level labels inside each speech region from the windows' similarity to each voice."""
    groups = np.unique(labels)
    centroids = np.stack([_centroid(emb[labels == g]) for g in groups])
    sims = emb @ centroids.T  # [windows, speakers]
    by_region: dict[int, list[int]] = {}
    for i, w in enumerate(windows):
        by_region.setdefault(w.region, []).append(i)
    turns: list[SpeakerTurn] = []
    for region_index, members in sorted(by_region.items()):
        region = regions[region_index]
        count = max(1, round((region.end - region.start) / FRAME))
        centres = region.start + (np.arange(count) + 0.5) * (region.end - region.start) / count
        weights = np.zeros((count, len(members)))
        for j, i in enumerate(members):
            w = windows[i]
            middle, half = (w.start + w.end) / 2, max((w.end - w.start) / 2, 1e-3)
            # Triangular weight: a window speaks most for its middle; a little beyond its edges.
            weights[:, j] = np.clip(1.0 - np.abs(centres - middle) / (half * 1.25), 0.0, None)
        empty = weights.sum(1) == 0
        if empty.any():  # frames no window reaches take the nearest window
            mids = np.array([(windows[i].start + windows[i].end) / 2 for i in members])
            nearest = np.argmin(np.abs(centres[empty, None] - mids[None]), axis=1)
            weights[np.flatnonzero(empty), nearest] = 1.0
        scores = (weights @ sims[members]) / weights.sum(1, keepdims=True)
        path = groups[_viterbi(scores, switch_cost)]
        edges = region.start + np.arange(count + 1) * (region.end - region.start) / count
        start = 0
        for t in range(1, count + 1):
            if t == count or path[t] != path[start]:
                turns.append(SpeakerTurn(float(edges[start]), float(edges[t]), int(path[start])))
                start = t
    return turns


def _short_regions(regions: list[Region], windows: list[Window], turns: list[SpeakerTurn]) -> list[SpeakerTurn]:
    """Speech regions too short for an embedding take the speaker of the nearest turn."""
    covered = {w.region for w in windows}
    extra = []
    for index, region in enumerate(regions):
        if index in covered or not turns:
            continue
        middle = (region.start + region.end) / 2
        nearest = min(turns, key=lambda t: 0.0 if t.start <= middle <= t.end else min(abs(t.start - middle),
                                                                                   abs(t.end - middle)))
        extra.append(SpeakerTurn(region.start, region.end, nearest.speaker))
    return sorted(turns + extra, key=lambda t: t.start)


@dataclass(frozen=True)
class Separation:
    turns: list[SpeakerTurn]
    voices: dict[int, np.ndarray]  # speaker index -> unit-length mean voice embedding (256-d)
    seconds: dict[int, float]  # speaker index -> seconds of speech in its turns


def separate(audio: np.ndarray, *, regions: list[Region] | None = None, num_speakers: int | None = None,
             max_speakers: int = 8) -> Separation:
    """Who spoke when, and what each voice sounds like (for recognising it in other meetings)."""
    duration = audio.size / SAMPLE_RATE
    if regions is None:
        regions = speech_regions(audio)
    windows = embedding_windows(regions, duration)
    if not windows:
        return Separation([SpeakerTurn(r.start, r.end, 0) for r in regions], {}, {})
    emb = voice_encoder.embed_windows(audio, [(w.start, w.end) for w in windows])
    log_f0 = window_pitch(audio, windows)
    labels = cluster_windows(emb, log_f0, windows, num_speakers=num_speakers, max_speakers=max_speakers,
                             regions=regions)
    labelled = _short_regions(regions, windows, resegment(regions, windows, voice_vectors(emb, log_f0), labels))
    turns = renumber(labelled)
    order: dict[int, int] = {}  # cluster -> speaker index, as ``renumber`` numbers them
    for turn in sorted(labelled, key=lambda t: t.start):
        order.setdefault(turn.speaker, len(order))
    voices = {order[int(g)]: _centroid(emb[labels == g]).astype(np.float32) for g in np.unique(labels)
              if int(g) in order}
    seconds: dict[int, float] = {}
    for t in turns:
        seconds[t.speaker] = seconds.get(t.speaker, 0.0) + t.end - t.start
    return Separation(turns, voices, seconds)


def diarize(audio: np.ndarray, *, regions: list[Region] | None = None, num_speakers: int | None = None,
            max_speakers: int = 8) -> list[SpeakerTurn]:
    """Who spoke when: speaker turns (speaker indices numbered by first appearance)."""
    return separate(audio, regions=regions, num_speakers=num_speakers, max_speakers=max_speakers).turns


def cluster_windows(emb: np.ndarray, log_f0: np.ndarray, windows: list[Window], *, num_speakers: int | None = None,
                    max_speakers: int = 8, regions: list[Region] | None = None) -> np.ndarray:
    seconds = np.array([w.end - w.start for w in windows])
    if emb.shape[0] <= MAX_CLUSTER_POINTS:
        return cluster_embeddings(emb, log_f0, seconds, num_speakers=num_speakers, max_speakers=max_speakers,
                                  windows=windows, regions=regions)
    rng = np.random.default_rng(0)
    sample = np.sort(rng.choice(emb.shape[0], MAX_CLUSTER_POINTS, replace=False))
    # No turn coherence here: windows next to each other in the sample are not next to each other in time,
    # so changes between them would read as alternation (the timbre and pitch boundary alone decides).
    sample_labels = cluster_embeddings(emb[sample], log_f0[sample], seconds[sample], num_speakers=num_speakers,
                                       max_speakers=max_speakers)
    x = voice_vectors(emb, log_f0)
    groups = np.unique(sample_labels)
    centroids = np.stack([_centroid(x[sample][sample_labels == g]) for g in groups])
    return _refine(groups[np.argmax(x @ centroids.T, axis=1)], x)


def renumber(turns: list[SpeakerTurn]) -> list[SpeakerTurn]:
    order: dict[int, int] = {}
    for turn in sorted(turns, key=lambda t: t.start):
        order.setdefault(turn.speaker, len(order))
    merged: list[SpeakerTurn] = []
    for turn in sorted((replace(t, speaker=order[t.speaker]) for t in turns), key=lambda t: t.start):
        if merged and merged[-1].speaker == turn.speaker and turn.start - merged[-1].end < 1e-6:
            merged[-1] = replace(merged[-1], end=turn.end)
        else:
            merged.append(turn)
    return merged


def _speaker_at(start: float, end: float, turns: list[SpeakerTurn]) -> int | None:
    if not turns:
        return None
    overlap: Counter[int] = Counter()
    for turn in turns:
        o = min(end, turn.end) - max(start, turn.start)
        if o > 0:
            overlap[turn.speaker] += o
    if overlap:
        return overlap.most_common(1)[0][0]
    middle = (start + end) / 2
    nearest = min(turns, key=lambda t: min(abs(t.start - middle), abs(t.end - middle)))
    return nearest.speaker


def _join(words: list[Word]) -> str:
    return " ".join(w.text for w in words).strip()


def assign_speakers(segments: list[SttSegment], turns: list[SpeakerTurn], *, min_words: int = 2) -> list[SttSegment]:
    """Give every segment a speaker label; split segments where the speaker changes between words."""
    out: list[SttSegment] = []
    for segment in segments:
        if not segment.words or len(segment.words) < 2 * min_words:
            speaker = _speaker_at(segment.start, segment.end, turns)
            out.append(segment.with_speaker(speaker_label(speaker) if speaker is not None else None))
            continue
        word_speakers = [_speaker_at(w.start, w.end, turns) for w in segment.words]
        runs: list[tuple[int | None, list[Word]]] = []
        for word, speaker in zip(segment.words, word_speakers, strict=True):
            if runs and runs[-1][0] == speaker:
                runs[-1][1].append(word)
            else:
                runs.append((speaker, [word]))
        # A run too short to be a real turn joins its longer neighbour.
        merged: list[tuple[int | None, list[Word]]] = []
        for speaker, words in runs:
            if merged and (len(words) < min_words or merged[-1][0] == speaker):
                merged[-1] = (merged[-1][0], merged[-1][1] + words)
            else:
                merged.append((speaker, words))
        if len(merged) > 1 and len(merged[0][1]) < min_words:
            merged[1] = (merged[1][0], merged[0][1] + merged[1][1])
            merged.pop(0)
        if len(merged) == 1:
            speaker = merged[0][0]
            out.append(segment.with_speaker(speaker_label(speaker) if speaker is not None else None))
            continue
        for speaker, words in merged:
            out.append(replace(segment, start=words[0].start, end=words[-1].end, text=_join(words),
                               words=tuple(words), speaker=speaker_label(speaker) if speaker is not None else None))
    return relabel_by_first_appearance(out)


def label_voices(segments: list[SttSegment], turns: list[SpeakerTurn],
                 voices: dict[int, np.ndarray]) -> dict[str, np.ndarray]:
    """Each segment label's voice: the speaker index its segments overlap most."""
    overlap: dict[str, Counter[int]] = {}
    for segment in segments:
        if not segment.speaker:
            continue
        for turn in turns:
            o = min(segment.end, turn.end) - max(segment.start, turn.start)
            if o > 0:
                overlap.setdefault(segment.speaker, Counter())[turn.speaker] += o
    out: dict[str, np.ndarray] = {}
    for label, counts in overlap.items():
        speaker = counts.most_common(1)[0][0]
        if speaker in voices:
            out[label] = voices[speaker]
    return out


def relabel_by_first_appearance(segments: list[SttSegment]) -> list[SttSegment]:
    mapping: dict[str, str] = {}
    for segment in sorted(segments, key=lambda s: s.start):
        if segment.speaker is not None and segment.speaker not in mapping:
            mapping[segment.speaker] = speaker_label(len(mapping))
    return [s.with_speaker(mapping.get(s.speaker)) if s.speaker else s for s in segments]
