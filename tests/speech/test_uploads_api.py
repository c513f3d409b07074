"""The upload API end to end: checks at the door, the pipeline in a real Celery worker, errors, retries, imports."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from accounts.tenancy import tenant_scope
from meetings.models import Meeting, Participant, ProcessingJob, TranscriptSegment
from meetings.signals import transcript_completed
from meetings.speech import metrics
from meetings.uploads import services
from tests.speech import synth

UPLOAD = "/api/v1/meetings/upload"
IMPORT = "/api/v1/meetings/import"


def upload(actor, path, **fields):
    with open(path, "rb") as handle:
        return actor.api().post(UPLOAD, {"file": handle, **fields})


def processing(actor, meeting_id):
    return actor.api().get(f"/api/v1/meetings/{meeting_id}/processing")


@pytest.fixture
def completed_signals():
    received = []

    def receiver(sender, company_id, meeting_id, **kwargs):
        received.append((company_id, meeting_id))

    transcript_completed.connect(receiver, weak=False)
    yield received
    transcript_completed.disconnect(receiver)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_upload_runs_the_whole_pipeline_in_a_worker(celery_worker, admin, media_root, two_speakers, whisper_model,
                                                    completed_signals):
    files, turns = two_speakers
    response = upload(admin, files["mp3"], title="Quarterly review", language="", speakers="")
    assert response.status_code == 202, response.content
    body = response.json()
    meeting_id = body["meeting_id"]
    assert body["processing"]["status"] == "queued"
    assert body["processing_url"] == f"/api/v1/meetings/{meeting_id}/processing"

    seen_stages = set()
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        state = processing(admin, meeting_id).json()
        seen_stages.add(state["stage"])
        if state["status"] in ("done", "failed"):
            break
        time.sleep(0.3)
    assert state["status"] == "done", state
    assert state["percent"] == 100
    assert all(state["stages"][name]["percent"] == 100 for name in ("decode", "vad", "transcribe", "diarize", "store"))
    assert state["duration_seconds"] == pytest.approx(turns[-1].end, abs=1.0)
    assert state["attempts"] == 1 and state["error"] == ""

    with tenant_scope(admin.company):
        meeting = Meeting.objects.get(pk=meeting_id)
        segments = list(TranscriptSegment.objects.filter(meeting=meeting).order_by("sequence"))
        participants = {p.name for p in Participant.objects.filter(meeting=meeting)}
    assert meeting.platform == "upload" and meeting.status == "ended" and meeting.language == "en"
    assert [s.sequence for s in segments] == list(range(1, len(segments) + 1))
    assert all(s.source == "upload" and s.participant_id for s in segments)
    hypothesis = " ".join(s.text for s in segments)
    assert metrics.word_error_rate(synth.reference_text(turns), hypothesis) <= 0.2, hypothesis
    assert participants == {"Speaker 1", "Speaker 2"}
    assert segments[0].speaker_label == "Speaker 1"
    der = metrics.diarization_error_rate([(t.start, t.end, t.speaker) for t in turns],
                                         [(s.start_time, s.end_time, s.speaker_label) for s in segments])
    assert der <= 0.15, der
    deadline = time.monotonic() + 5
    while not completed_signals and time.monotonic() < deadline:
        time.sleep(0.1)
    assert completed_signals == [(admin.company.pk, meeting_id)]


def test_empty_file_is_refused(admin, media_root, tmp_path):
    path = tmp_path / "empty.mp3"
    path.write_bytes(b"")
    response = upload(admin, path)
    assert response.status_code == 400
    assert response.json()["code"] in ("empty_file", "validation_error")


@pytest.mark.parametrize("name,content,status,code", [
    ("notes.txt", b"Meeting notes, not audio.\n" * 50, 400, "unreadable"),
    ("random.mp3", np.random.default_rng(3).bytes(40000), 400, "unreadable"),
])
def test_not_audio_is_refused_with_a_clear_error(admin, media_root, tmp_path, name, content, status, code):
    path = tmp_path / name
    path.write_bytes(content)
    response = upload(admin, path)
    assert response.status_code in (400, 415)
    body = response.json()
    assert body["code"] in ("unreadable", "unsupported_format", "no_audio")
    assert "audio" in body["detail"].lower() or "unsupported" in body["detail"].lower()
    with tenant_scope(admin.company):
        assert not Meeting.objects.exists()


def test_image_is_unsupported_media_type(admin, media_root, tmp_path, two_speakers):
    files, _ = two_speakers
    image = tmp_path / "slide.png"
    synth.convert(files["wav"], image, "-f", "lavfi", "-i", "color=c=red:s=32x32", "-frames:v", "1", "-map", "1:v")
    response = upload(admin, image)
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_format"


def test_too_large_and_too_long(admin, media_root, settings, short_two):
    files, _ = short_two
    settings.UPLOAD_MAX_BYTES = 1000
    response = upload(admin, files["mp3"])
    assert response.status_code == 413 and response.json()["code"] == "file_too_large"
    settings.UPLOAD_MAX_BYTES = 500 * 1024 * 1024
    settings.UPLOAD_MAX_SECONDS = 5
    response = upload(admin, files["mp3"])
    assert response.status_code == 413 and response.json()["code"] == "too_long"
    assert "0:00:05" in response.json()["detail"]


def test_truncated_m4a_is_refused_up_front(admin, media_root, tmp_path, two_speakers):
    files, _ = two_speakers
    data = files["m4a"].read_bytes()
    path = tmp_path / "cut.m4a"
    path.write_bytes(data[: len(data) // 2])
    response = upload(admin, path)
    assert response.status_code == 400
    assert response.json()["code"] == "unreadable"


def _run_pipeline(company, meeting_id):
    with tenant_scope(company):
        return services.recording_process(company_id=company.pk, meeting_id=meeting_id)


def test_truncated_webm_fails_at_decode_naming_the_reason(admin, media_root, tmp_path, two_speakers):
    files, _ = two_speakers
    data = files["webm"].read_bytes()
    path = tmp_path / "cut.webm"
    path.write_bytes(data[: len(data) // 3])
    response = upload(admin, path)
    assert response.status_code == 202, response.content
    job = _run_pipeline(admin.company, response.json()["meeting_id"])
    assert job.status == "failed" and job.error_stage == "decode"
    assert "truncated" in job.error
    state = processing(admin, job.meeting_id).json()
    assert state["status"] == "failed" and state["error_stage"] == "decode" and "truncated" in state["error"]


def test_silent_recording_fails_at_vad_and_retry_is_idempotent(admin, media_root, tmp_path,
                                                               django_capture_on_commit_callbacks):
    path = synth.write_wav(tmp_path / "silence.wav", np.zeros(4 * synth.SAMPLE_RATE, dtype=np.float32))
    with django_capture_on_commit_callbacks() as queued:
        response = upload(admin, path, title="Quiet room")
    assert response.status_code == 202
    assert len(queued) == 1  # the pipeline is enqueued after commit
    meeting_id = response.json()["meeting_id"]
    job = _run_pipeline(admin.company, meeting_id)
    assert job.status == "failed" and job.error_stage == "vad"
    assert "No speech" in job.error
    # Running the task again for a finished job does nothing.
    assert _run_pipeline(admin.company, meeting_id) is None

    retry = f"/api/v1/meetings/{meeting_id}/processing/retry"
    with django_capture_on_commit_callbacks() as queued:
        first = admin.api().post(retry)
        second = admin.api().post(retry)
    assert first.status_code == second.status_code == 202
    assert first.json()["status"] == "queued" and first.json()["error"] == ""
    assert len(queued) == 1  # the second retry found the job already queued
    job = _run_pipeline(admin.company, meeting_id)
    assert job.status == "failed" and job.attempts == 2


def test_rerun_replaces_segments_and_keeps_renamed_speakers(admin, scope, media_root, short_two, whisper_model):
    from meetings.services import speaker_rename

    files, turns = short_two
    response = upload(admin, files["wav"], speakers="2")
    meeting_id = response.json()["meeting_id"]
    job = _run_pipeline(admin.company, meeting_id)
    assert job.status == "done", job.error
    meeting = Meeting.objects.get(pk=meeting_id)
    first = list(TranscriptSegment.objects.filter(meeting=meeting).values_list("speaker_label", "text"))
    assert {label for label, _ in first} == {"Speaker 1", "Speaker 2"}
    speaker_rename(company=admin.company, meeting=meeting, old_label="Speaker 1", new_name="Alice")

    services.processing_retry(company=admin.company, meeting=meeting)
    job = _run_pipeline(admin.company, meeting_id)
    assert job.status == "done" and job.attempts == 2
    second = list(TranscriptSegment.objects.filter(meeting=meeting).values_list("speaker_label", "text"))
    assert len(second) == len(first)  # replaced, not appended
    assert {label for label, _ in second} == {"Alice", "Speaker 2"}
    assert Participant.objects.filter(meeting=meeting).count() == 2


def test_permissions_and_other_companies(admin, member, outsider, media_root, tmp_path):
    path = synth.write_wav(tmp_path / "silence.wav", np.zeros(2 * synth.SAMPLE_RATE, dtype=np.float32))
    assert upload(member, path).status_code == 403
    meeting_id = upload(admin, path).json()["meeting_id"]
    assert processing(member, meeting_id).status_code == 200
    assert member.api().post(f"/api/v1/meetings/{meeting_id}/processing/retry").status_code == 403
    # Another company's user sees nothing: 404, exactly as for a missing meeting.
    assert processing(outsider, meeting_id).status_code == 404
    assert outsider.api().post(f"/api/v1/meetings/{meeting_id}/processing/retry").status_code == 404
    assert processing(admin, 999999).status_code == 404
    assert processing(admin, meeting_id).json()["status"] == "queued"


IMPORT_SAMPLES = {
    "team.vtt": ("WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v Alice>Hello team.</v>\n\n"
                 "00:00:03.500 --> 00:00:06.000\n<v Bob>Hi Alice, ready when you are.</v>\n", "webvtt", "upload"),
    "call.srt": ("1\n00:00:01,000 --> 00:00:03,000\nAlice: Hello team.\n\n2\n00:00:03,500 --> 00:00:06,000\n"
                 "Bob: Hi Alice, ready when you are.\n", "srt", "upload"),
    "notes.txt": ("[00:00:01] Alice: Hello team.\n[00:00:03] Bob: Hi Alice, ready when you are.\n", "text", "upload"),
    "teams.json": (json.dumps({"entries": [
        {"speakerDisplayName": "Alice", "startOffset": "00:00:01.0000000", "endOffset": "00:00:03.0000000",
         "text": "Hello team."},
        {"speakerDisplayName": "Bob", "startOffset": "00:00:03.5000000", "endOffset": "00:00:06.0000000",
         "text": "Hi Alice, ready when you are."}]}), "teams-json", "teams"),
}


@pytest.mark.parametrize("filename", sorted(IMPORT_SAMPLES))
def test_transcript_import(admin, tmp_path, filename, django_capture_on_commit_callbacks, completed_signals):
    content, fmt, platform = IMPORT_SAMPLES[filename]
    path = tmp_path / filename
    path.write_text(content)
    with django_capture_on_commit_callbacks(execute=True), open(path, "rb") as handle:
        response = admin.api().post(IMPORT, {"file": handle, "title": "Imported sync"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["format"], body["platform"], body["segments"]) == (fmt, platform, 2)
    assert body["speakers"] == ["Alice", "Bob"] and body["title"] == "Imported sync"
    with tenant_scope(admin.company):
        segments = list(TranscriptSegment.objects.filter(meeting_id=body["meeting_id"]).order_by("sequence"))
        job = ProcessingJob.objects.get(meeting_id=body["meeting_id"])
    assert [(s.speaker_label, s.source) for s in segments] == [("Alice", "import"), ("Bob", "import")]
    assert segments[1].start_time == pytest.approx(3.5 if fmt != "text" else 3.0)
    assert job.kind == "transcript" and job.status == "done"
    assert completed_signals == [(admin.company.pk, body["meeting_id"])]


def test_import_errors_and_permissions(admin, member, outsider, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    with open(bad, "rb") as handle:
        response = admin.api().post(IMPORT, {"file": handle})
    assert response.status_code == 400 and response.json()["code"] == "invalid_transcript"
    good = tmp_path / "ok.txt"
    good.write_text("Alice: hi\n")
    with open(good, "rb") as handle:
        assert member.api().post(IMPORT, {"file": handle}).status_code == 403
    with open(good, "rb") as handle:
        meeting_id = admin.api().post(IMPORT, {"file": handle}).json()["meeting_id"]
    assert processing(outsider, meeting_id).status_code == 404
    # An imported transcript has nothing to re-run.
    assert admin.api().post(f"/api/v1/meetings/{meeting_id}/processing/retry").status_code == 409
