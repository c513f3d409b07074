"""The voice encoder (numpy, shipped weights) and the speaker separation built on it."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest

from meetings.speech import audio as audio_io
from meetings.speech import diarization, metrics, voice_encoder
from tests.speech import synth

# Voices for these tests only (not the bench's tuning or held-back voices, not alice/bob/carol).
VOICES = {
    "ann": synth.Voice("en-us+f4", 72, 160),
    "ben": synth.Voice("en-gb+m3", 32, 150),
    "cat": synth.Voice("en-029+f2", 55, 170),
    "dan": synth.Voice("en-gb-x-rp+m4", 48, 145),
}


def test_the_shipped_weights_load_without_torch():
    weights = voice_encoder.load_weights()
    assert weights["lstm.weight_ih_l0"].shape == (1024, 40)
    assert all(weights[f"lstm.weight_hh_l{i}"].shape == (1024, 256) for i in range(3))
    assert weights["linear.weight"].shape == (256, 256)
    assert weights["linear.weight"].dtype == np.float16
    assert sum(v.size for v in weights.values()) == 1_423_616
    voice_encoder.get_encoder()
    assert importlib.util.find_spec("torch") is None
    assert "torch" not in sys.modules


def test_mel_frames_follow_librosa():
    # librosa.filters.mel(sr=16000, n_fft=400, n_mels=40): peak bins and areas (from librosa 0.11).
    filters = voice_encoder.mel_filters()
    assert [int(i) for i in filters.argmax(1)][:12] == [2, 4, 6, 7, 9, 11, 13, 15, 17, 18, 20, 22]
    assert [int(i) for i in filters.argmax(1)][-4:] == [148, 159, 172, 185]
    assert filters.sum(1)[[0, 10, 20, 39]] == pytest.approx([0.024809, 0.024809, 0.02522, 0.024979], abs=1e-5)
    # Centred frames every 10 ms; a 440 Hz tone lands in the band that holds 440 Hz.
    tone = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000).astype(np.float32)
    mel = voice_encoder.mel_frames(tone)
    assert mel.shape == (101, 40)
    assert int(mel[50].argmax()) == int(filters[:, 11].argmax())


def test_the_fast_lstm_equals_the_textbook_one():
    weights = {k: v.astype(np.float64) for k, v in voice_encoder.load_weights().items()}

    def sigmoid(x):
        return 1 / (1 + np.exp(-np.clip(x, -60, 60)))

    def reference(mels):
        x = mels.astype(np.float64)
        for layer in range(3):
            w_ih, w_hh = weights[f"lstm.weight_ih_l{layer}"], weights[f"lstm.weight_hh_l{layer}"]
            bias = weights[f"lstm.bias_ih_l{layer}"] + weights[f"lstm.bias_hh_l{layer}"]
            h = np.zeros((x.shape[0], 256))
            c = np.zeros((x.shape[0], 256))
            outputs = []
            for t in range(x.shape[1]):
                i, f, g, o = np.split(x[:, t] @ w_ih.T + h @ w_hh.T + bias, 4, axis=1)  # PyTorch's order
                c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
                h = sigmoid(o) * np.tanh(c)
                outputs.append(h)
            x = np.stack(outputs, axis=1)
        raw = np.maximum(h @ weights["linear.weight"].T + weights["linear.bias"], 0)
        return raw / np.linalg.norm(raw, axis=1, keepdims=True)

    mels = np.random.default_rng(5).gamma(1.0, 2.0, size=(2, 60, 40)).astype(np.float32)
    fast = voice_encoder.get_encoder().embed_partials(mels)
    assert fast == pytest.approx(reference(mels), abs=1e-4)
    assert np.linalg.norm(fast, axis=1) == pytest.approx(1.0) and (fast >= 0).all()


def test_partials_cover_the_utterance_like_resemblyzer():
    assert voice_encoder.partial_starts(100) == [0]  # shorter than one partial: one, zero-padded
    assert voice_encoder.partial_starts(400) == [0, 80, 160, 240]  # 50 % overlap, last one 100 % full
    assert voice_encoder.partial_starts(420) == [0, 80, 160, 240]  # a last partial 62 % full is dropped
    assert voice_encoder.partial_starts(450) == [0, 80, 160, 240, 320]  # 81 % full is kept


@pytest.fixture(scope="session")
def voice_clips():
    texts = ["The quarterly numbers look better than we expected this time.",
             "Please send me the slides before the meeting on Thursday afternoon.",
             "We should hire two more engineers for the support team next month."]
    return {(name, i): synth._espeak(voice, text) for name, voice in VOICES.items() for i, text in enumerate(texts)}


def test_same_voice_is_close_and_different_voices_are_not(voice_clips):
    embeddings = {key: voice_encoder.embed_utterance(audio) for key, audio in voice_clips.items()}
    keys = list(embeddings)
    same = [float(embeddings[a] @ embeddings[b]) for i, a in enumerate(keys) for b in keys[i + 1 :] if a[0] == b[0]]
    different = [float(embeddings[a] @ embeddings[b]) for i, a in enumerate(keys) for b in keys[i + 1 :]
                 if a[0] != b[0]]
    assert min(same) > 0.8
    assert np.mean(same) - np.mean(different) > 0.12
    # A woman's and a man's voice are far apart (espeak-ng's male voices are closer to one another).
    ann_ben = [float(embeddings[a] @ embeddings[b]) for a in keys if a[0] == "ann" for b in keys if b[0] == "ben"]
    assert max(ann_ben) < 0.75 < min(same)


@pytest.mark.parametrize("names,seconds,seed", [
    (["ben"], 22, 11),
    (["ann", "dan"], 28, 12),
    (["ann", "ben", "cat", "dan"], 40, 13),
])
def test_the_number_of_voices_is_found(speech_dir, names, seconds, seed):
    voices = {name: VOICES[name] for name in names}
    script = synth.conversation(names, seconds, seed=seed, short_replies=0.0)
    files, turns = synth.meeting_files(speech_dir, f"count-{len(names)}", script, voices=voices)
    samples = audio_io.decode(files["wav"])
    found = diarization.diarize(samples)
    assert len({t.speaker for t in found}) == len(names)
    der = metrics.diarization_error_rate([(t.start, t.end, t.speaker) for t in turns],
                                         [(t.start, t.end, str(t.speaker)) for t in found])
    assert der <= 0.12, der


def _groups(similarity: float, semitones: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two groups of five windows whose centroids have this cosine and typical pitches this far apart."""
    angle = np.arccos(similarity)
    a, b = np.zeros(256), np.zeros(256)
    a[0], b[0], b[1] = 1.0, np.cos(angle), np.sin(angle)
    emb = np.stack([a] * 5 + [b] * 5)
    log_f0 = np.log(120.0) + np.array([0.0] * 5 + [semitones * np.log(2) / 12] * 5)
    return emb, log_f0, np.array([0] * 5 + [1] * 5)


@pytest.mark.parametrize("similarity,semitones,distinct", [
    (0.80, 0.0, True),  # timbre alone
    (0.99, 3.0, True),  # pitch alone
    (0.96, 3.2, True),  # some of each: two tuning voices the old 0.95 bar merged
    (0.98, 1.9, False),  # the halves of one voice
    (0.94, 0.5, False),
])
def test_two_groups_are_two_voices_when_timbre_and_pitch_add_up(similarity, semitones, distinct):
    assert diarization._distinct(*_groups(similarity, semitones)) is distinct


@pytest.mark.parametrize("similarity,semitones,switches,distinct", [
    (0.98, 1.9, 0.0, True),  # never alternating inside speech: half the usual distance is enough
    (0.98, 1.9, 0.05, False),  # as often as clean groups of two voices at most: the usual boundary
    (0.96, 3.2, 0.3, False),  # two voices by timbre and pitch, but alternating like the halves of one
    (0.80, 0.0, 0.1, True),
])
def test_turn_coherence_moves_the_two_voices_boundary(similarity, semitones, switches, distinct):
    emb, log_f0, labels = _groups(similarity, semitones)
    assert diarization._distinct(emb, log_f0, labels, np.array([[0.0, switches], [switches, 0.0]])) is distinct


def test_switch_rates_count_changes_inside_speech_regions_only():
    labels = np.array([0, 1, 0, 1, 2, 2, 0, 0, 1, 1])
    regions = np.array([0, 0, 0, 0, 1, 1, 2, 2, 3, 3])
    rates = diarization.switch_rates(labels, regions)
    # Groups 0 and 1: windows 0 1 0 1 | 0 0 | 1 1, three changes inside region 0, none across regions.
    assert rates[0, 1] == pytest.approx(3 / 8)
    assert rates[0, 2] == rates[1, 2] == 0.0


def _two_voices(similarity: float, interleaved: bool, *, regions: int = 12, per_region: int = 9):
    """Windows of two voices (embedding centroids ``similarity`` apart, same pitch) in speech regions of
    ``per_region`` windows: either each region is one voice (changes at pauses) or the voices take
    turns of two windows inside every region (as the halves of one voice do)."""
    rng = np.random.default_rng(5)
    angle = np.arccos(similarity)
    a, b = np.zeros(256), np.zeros(256)
    a[0], b[0], b[1] = 1.0, np.cos(angle), np.sin(angle)
    windows, spans, voice = [], [], []
    for r in range(regions):
        start = r * (per_region * 0.8 + 2.0)
        spans.append(diarization.Region(start, start + per_region * 0.8 + 0.8))
        for i in range(per_region):
            windows.append(diarization.Window(r, start + i * 0.8, start + i * 0.8 + 1.6))
            voice.append((i // 2) % 2 if interleaved else r % 2)
    emb = np.stack([a if v == 0 else b for v in voice]) + rng.normal(0.0, 0.02, (len(voice), 256))
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    log_f0 = np.full(len(voice), np.log(120.0))
    seconds = np.array([w.end - w.start for w in windows])
    return emb, log_f0, seconds, windows, spans


def test_groups_that_alternate_inside_speech_are_one_voice():
    # 0.85 cosine is two voices by timbre alone, but the groups alternate inside every region.
    emb, log_f0, seconds, windows, spans = _two_voices(0.85, interleaved=True)
    assert np.unique(diarization.cluster_embeddings(emb, log_f0, seconds)).size == 2
    labels = diarization.cluster_embeddings(emb, log_f0, seconds, windows=windows, regions=spans)
    assert np.unique(labels).size == 1


def test_groups_that_change_only_at_pauses_stay_two_voices():
    # 0.91 cosine at one pitch is one voice by timbre alone, but the groups never share a region.
    emb, log_f0, seconds, windows, spans = _two_voices(0.91, interleaved=False)
    assert np.unique(diarization.cluster_embeddings(emb, log_f0, seconds)).size == 1
    labels = diarization.cluster_embeddings(emb, log_f0, seconds, windows=windows, regions=spans)
    assert np.unique(labels).size == 2
    assert all(np.unique(labels[[i for i, w in enumerate(windows) if w.region == r]]).size == 1 for r in range(12))


@pytest.mark.parametrize("voices,seconds,seed", [
    # Similar timbres (embedding centroids ~0.96) three semitones apart, one a slow talker.
    ({"low": synth.Voice("en-gb-scotland", 35, 135), "high": synth.Voice("en-gb+m1", 55, 150)}, 80, 115),
    # One fast talker stays one voice.
    ({"fast": synth.Voice("en-gb-scotland", 35, 215)}, 80, 109),
])
def test_the_count_holds_for_similar_timbres_and_fast_talkers(speech_dir, voices, seconds, seed):
    script = synth.conversation(list(voices), seconds, seed=seed)
    files, turns = synth.meeting_files(speech_dir, f"count-{seed}", script, voices=voices)
    found = diarization.diarize(audio_io.decode(files["wav"]))
    assert len({t.speaker for t in found}) == len(voices)
    der = metrics.diarization_error_rate([(t.start, t.end, t.speaker) for t in turns],
                                         [(t.start, t.end, str(t.speaker)) for t in found])
    assert der <= 0.05, der


def test_no_speech_regions_means_no_turns():
    silence = np.zeros(16000 * 3, dtype=np.float32)
    assert diarization.diarize(silence, regions=[]) == []


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_an_upload_is_separated_into_its_voices_by_the_worker(celery_worker, admin, media_root, speech_dir,
                                                               whisper_model):
    import time

    from accounts.tenancy import tenant_scope
    from meetings.models import TranscriptSegment

    voices = {name: VOICES[name] for name in ("ann", "ben", "cat")}
    script = synth.conversation(list(voices), 30, seed=21, short_replies=0.0)
    files, turns = synth.meeting_files(speech_dir, "upload-three", script, formats=("wav", "mp3"), voices=voices)
    with open(files["mp3"], "rb") as handle:
        response = admin.api().post("/api/v1/meetings/upload", {"file": handle, "title": "Three voices"})
    assert response.status_code == 202, response.content
    meeting_id = response.json()["meeting_id"]
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        state = admin.api().get(f"/api/v1/meetings/{meeting_id}/processing").json()
        if state["status"] in ("done", "failed"):
            break
        time.sleep(0.3)
    assert state["status"] == "done", state
    with tenant_scope(admin.company):
        segments = list(TranscriptSegment.objects.filter(meeting_id=meeting_id).order_by("sequence"))
    assert {s.speaker_label for s in segments} == {"Speaker 1", "Speaker 2", "Speaker 3"}
    der = metrics.diarization_error_rate([(t.start, t.end, t.speaker) for t in turns],
                                         [(s.start_time, s.end_time, s.speaker_label) for s in segments])
    assert der <= 0.12, der


def _legacy_checkpoint(state: dict[str, np.ndarray]) -> bytes:
    """A checkpoint in PyTorch's legacy layout, written without torch (as ``torch.save`` did before 1.6)."""
    import io
    import pickle

    class Ref:  # stands for torch._utils._rebuild_tensor_v2 and torch.FloatStorage
        def __init__(self, module: str, name: str) -> None:
            self.module, self.name = module, name

        def __call__(self, *args):  # pickle only writes callables as reduce functions
            raise AssertionError("never called")

    class Storage:
        def __init__(self, key: str, size: int) -> None:
            self.key, self.size = key, size

    class Tensor:
        def __init__(self, key: str, array: np.ndarray) -> None:
            self.key, self.array = key, array

        def __reduce__(self):
            stride = tuple(s // 4 for s in self.array.strides)
            return (Ref("torch._utils", "_rebuild_tensor_v2"),
                    (Storage(self.key, self.array.size), 0, self.array.shape, stride, False, {}))

    class Pickler(pickle._Pickler):
        def save_global(self, obj, name=None):
            if isinstance(obj, Ref):
                self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())
            else:
                super().save_global(obj, name)

        dispatch = {**pickle._Pickler.dispatch, Ref: save_global}

        def persistent_id(self, obj):
            if isinstance(obj, Storage):
                return ("storage", Ref("torch", "FloatStorage"), obj.key, "cpu", obj.size)
            return None

    out = io.BytesIO()
    for value in (0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001, "little_endian": True,
                                                 "type_sizes": {"short": 2, "int": 4, "long": 4}}):
        pickle.dump(value, out, protocol=2)
    keys = {name: str(9400 + i) for i, name in enumerate(state)}
    Pickler(out, protocol=2).dump({"step": 3, "model_state": {name: Tensor(keys[name], array)
                                                              for name, array in state.items()}})
    pickle.dump(sorted(keys.values()), out, protocol=2)
    by_key = {keys[name]: array for name, array in state.items()}
    for key in sorted(keys.values()):
        out.write(np.int64(by_key[key].size).tobytes())
        out.write(np.ascontiguousarray(by_key[key], dtype="<f4").tobytes())
    return out.getvalue()


def test_the_conversion_script_reads_a_legacy_checkpoint_without_torch(tmp_path):
    import importlib.util as iu

    spec = iu.spec_from_file_location("speaker_model", "scripts/speaker_model.py")
    script = iu.module_from_spec(spec)
    spec.loader.exec_module(script)
    rng = np.random.default_rng(1)
    state = {"lstm.weight_ih_l0": rng.standard_normal((8, 3)).astype(np.float32),
             "linear.bias": rng.standard_normal(4).astype(np.float32)}
    restored = script.read_legacy_state(_legacy_checkpoint(state))
    assert set(restored) == set(state)
    for name, array in state.items():
        assert restored[name].shape == array.shape and np.array_equal(restored[name], array)
    assert "torch" not in sys.modules
