"""Voices known across meetings: consent, enrolment, automatic naming, correction, export, deletion,
the company switch, and one company's voices never reaching another."""

from __future__ import annotations

import time

import pytest
from django.utils.html import escape

from accounts.services import membership_remove
from accounts.tenancy import tenant_scope
from meetings.models import Meeting, TranscriptSegment
from meetings.services import meeting_create
from meetings.speech import audio as audio_io
from meetings.speech import diarization
from meetings.speech.types import SttSegment
from meetings.uploads.services import segments_store
from meetings.voices import services
from meetings.voices.models import SpeakerVoice, VoiceConsent, Voiceprint
from tests.speech import synth

ANN = synth.Voice("en-us+f4", 72, 160)  # the member who enrols
BEN = synth.Voice("en-gb+m3", 32, 150)  # someone else in the meetings
SAMPLE_TEXT = ("Hello, this is my voice sample for the meeting assistant. I am recording a few sentences "
               "so that my colleagues see my name when I speak in our weekly meetings.")


@pytest.fixture(scope="session")
def ann_sample(speech_dir):
    path = speech_dir / "ann-sample.wav"
    if not path.exists():
        synth.write_wav(path, synth._espeak(ANN, SAMPLE_TEXT))
    return path


@pytest.fixture(scope="session")
def ann_and_ben(speech_dir):
    """A 2-voice meeting (~25 s) separated once: (true turns, separation)."""
    script = synth.conversation(["ann", "ben"], 24, seed=31, short_replies=0.0)
    files, turns = synth.meeting_files(speech_dir, "ann-ben", script, voices={"ann": ANN, "ben": BEN},
                                       formats=("wav", "mp3"))
    return files, turns, diarization.separate(audio_io.decode(files["wav"]))


def _enrol(actor, path):
    with open(path, "rb") as handle:
        return actor.api().post("/api/v1/voices/me/enrol",
                                {"file": handle, "consent_version": services.CONSENT_VERSION})


def _meeting_from(company, ann_and_ben, title="Weekly"):
    """Store the separated meeting as if the pipeline had (the true words, the separation's speakers)."""
    _, turns, separation = ann_and_ben
    segments = diarization.assign_speakers([SttSegment(start=t.start, end=t.end, text=t.text) for t in turns],
                                           separation.turns)
    voices = diarization.label_voices(segments, separation.turns, separation.voices)
    with tenant_scope(company):
        meeting = meeting_create(company=company, created_by=None, title=title)
        segments_store(company=company, meeting=meeting, segments=segments, source=TranscriptSegment.Source.UPLOAD)
        services.speaker_voices_store(company=company, meeting=meeting, voices=voices)
    ann_label = segments[0].speaker if turns[0].speaker == "ann" else next(
        s.speaker for s in segments if s.speaker != segments[0].speaker)
    return meeting, ann_label


def _names(company, meeting):
    with tenant_scope(company):
        return {s.speaker_label for s in TranscriptSegment.objects.filter(meeting=meeting)}


def test_enrolment_needs_consent_and_speech(member, media_root, ann_sample, tmp_path):
    with open(ann_sample, "rb") as handle:
        response = member.api().post("/api/v1/voices/me/enrol", {"file": handle})
    assert response.status_code == 409 and response.json()["code"] == "consent_required"
    silence = synth.write_wav(tmp_path / "silence.wav", synth.build([], lead=3.0)[0])
    response = _enrol(member, silence)
    assert response.status_code == 400 and response.json()["code"] == "too_little_speech"
    not_audio = tmp_path / "notes.wav"
    not_audio.write_bytes(b"not a recording at all" * 100)
    assert _enrol(member, not_audio).status_code == 400
    status = member.api().get("/api/v1/voices/me").json()
    assert status["consented"] is True and status["voiceprints"] == 0  # consent recorded, nothing enrolled
    with tenant_scope(member.company):
        consent = VoiceConsent.objects.get(user=member.user)
    assert consent.text_version == services.CONSENT_VERSION and consent.given_at is not None


def test_enrolment_names_the_speaker_in_a_later_meeting(member, media_root, ann_sample, ann_and_ben):
    response = _enrol(member, ann_sample)
    assert response.status_code == 201, response.content
    assert response.json()["speech_seconds"] > 4
    meeting, ann_label = _meeting_from(member.company, ann_and_ben)
    name = member.user.display_name
    assert name in _names(member.company, meeting)
    voices = {v["speaker_label"]: v for v in member.api().get(f"/api/v1/meetings/{meeting.pk}/voices").json()}
    assert voices[ann_label]["name"] == name and voices[ann_label]["matched_by"] == "automatic"
    assert 0.5 <= voices[ann_label]["confidence"] <= 1.0 and voices[ann_label]["user_id"] == member.user.pk
    other = next(label for label in voices if label != ann_label)
    assert voices[other]["user_id"] is None and voices[other]["name"] == ""  # Ben never enrolled
    # A wrong name is corrected once, for every segment of that voice.
    response = member.api().post(f"/api/v1/meetings/{meeting.pk}/voices/{ann_label}/name", {"name": "Ann Example"},
                                 content_type="application/json")
    assert response.status_code == 403  # members may not edit meetings; see the next test


def test_a_wrong_name_is_corrected_for_the_whole_meeting(admin, media_root, ann_sample, ann_and_ben):
    assert _enrol(admin, ann_sample).status_code == 201
    meeting, ann_label = _meeting_from(admin.company, ann_and_ben)
    with tenant_scope(admin.company):
        before = TranscriptSegment.objects.filter(meeting=meeting, speaker_label=admin.user.display_name).count()
    assert before >= 2
    response = admin.api().post(f"/api/v1/meetings/{meeting.pk}/voices/{ann_label}/name", {"name": "Ann Example"},
                                content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["matched_by"] == "corrected" and response.json()["user_id"] is None
    with tenant_scope(admin.company):
        assert TranscriptSegment.objects.filter(meeting=meeting, speaker_label="Ann Example").count() == before
        assert not TranscriptSegment.objects.filter(meeting=meeting, speaker_label=admin.user.display_name).exists()
    # Storing the meeting's voices again (a re-run) keeps the correction instead of matching again.
    with tenant_scope(admin.company):
        voices = {v.speaker_label: services.embedding_array(v.embedding) for v in SpeakerVoice.objects.filter(
            meeting=meeting)}
        services.speaker_voices_store(company=admin.company, meeting=meeting, voices=voices)
        assert SpeakerVoice.objects.get(meeting=meeting, speaker_label=ann_label).matched_by == "corrected"
        assert TranscriptSegment.objects.filter(meeting=meeting, speaker_label="Ann Example").count() == before
    response = admin.api().post(f"/api/v1/meetings/{meeting.pk}/voices/Speaker%209/name", {"name": "X"},
                                content_type="application/json")
    assert response.status_code == 404


def test_claiming_a_speaker_enrols_from_the_meeting(member, media_root, ann_and_ben):
    meeting, ann_label = _meeting_from(member.company, ann_and_ben)
    url = f"/api/v1/meetings/{meeting.pk}/voices/{ann_label}/claim"
    response = member.api().post(url, {}, content_type="application/json")
    assert response.status_code == 409  # no consent yet
    response = member.api().post(url, {"consent_version": services.CONSENT_VERSION}, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["source"] == "meeting"
    assert member.user.display_name in _names(member.company, meeting)
    # The next meeting with the same voices is named automatically.
    later, later_label = _meeting_from(member.company, ann_and_ben, title="Next week")
    voices = {v["speaker_label"]: v for v in member.api().get(f"/api/v1/meetings/{later.pk}/voices").json()}
    assert voices[later_label]["user_id"] == member.user.pk


def test_another_company_cannot_match_against_these_voices(member, outsider, media_root, ann_sample, ann_and_ben):
    assert _enrol(member, ann_sample).status_code == 201
    meeting, _ = _meeting_from(outsider.company, ann_and_ben, title="Globex weekly")
    assert _names(outsider.company, meeting) == {"Speaker 1", "Speaker 2"}
    with tenant_scope(outsider.company):
        assert not SpeakerVoice.objects.filter(meeting=meeting, user__isnull=False).exists()
        assert not Voiceprint.objects.exists()
    assert outsider.api().get("/api/v1/voices/me").json()["voiceprints"] == 0
    assert outsider.api().get("/api/v1/voices/me/export").json()["voiceprints"] == []


def test_the_outsider_gets_404_on_another_companys_meeting_voices(member, outsider, media_root, ann_and_ben):
    meeting, label = _meeting_from(member.company, ann_and_ben)
    api = outsider.api()
    assert api.get(f"/api/v1/meetings/{meeting.pk}/voices").status_code == 404
    assert api.post(f"/api/v1/meetings/{meeting.pk}/voices/{label}/claim",
                    {"consent_version": services.CONSENT_VERSION}, content_type="application/json").status_code == 404
    assert api.post(f"/api/v1/meetings/{meeting.pk}/voices/{label}/name", {"name": "Mallory"},
                    content_type="application/json").status_code == 404
    with tenant_scope(outsider.company):
        assert not Voiceprint.objects.exists()
    assert _names(member.company, meeting) == {"Speaker 1", "Speaker 2"}


def test_deleting_removes_every_embedding_of_the_voice(member, media_root, ann_sample, ann_and_ben):
    assert _enrol(member, ann_sample).status_code == 201
    meeting, ann_label = _meeting_from(member.company, ann_and_ben)
    exported = member.api().get("/api/v1/voices/me/export").json()
    assert len(exported["voiceprints"]) == 1 and len(exported["voiceprints"][0]["embedding"]) == 256
    assert [m["speaker_label"] for m in exported["meeting_voices"]] == [ann_label]
    response = member.api().delete("/api/v1/voices/me")
    assert response.status_code == 200
    assert response.json() == {"voiceprints": 1, "meeting_voices": 1, "consents_withdrawn": 1}
    with tenant_scope(member.company):
        assert not Voiceprint.objects.exists()
        assert not SpeakerVoice.objects.filter(user=member.user).exists()
        assert SpeakerVoice.objects.get(meeting=meeting, speaker_label=ann_label).embedding is None
        assert VoiceConsent.objects.get(user=member.user).withdrawn_at is not None
    later, _ = _meeting_from(member.company, ann_and_ben, title="After deletion")
    assert member.user.display_name not in _names(member.company, later)


def test_leaving_the_company_deletes_the_voice(admin, member, media_root, ann_sample):
    assert _enrol(member, ann_sample).status_code == 201
    with tenant_scope(member.company):
        from accounts.models import Membership

        membership_remove(company=member.company, membership=Membership.objects.get(user=member.user))
        assert not Voiceprint.objects.exists()


def test_admins_switch_the_feature_off_without_deleting(admin, member, media_root, ann_sample, ann_and_ben):
    assert _enrol(member, ann_sample).status_code == 201
    response = member.api().put("/api/v1/voices/settings", {"enabled": False}, content_type="application/json")
    assert response.status_code == 403
    response = admin.api().put("/api/v1/voices/settings", {"enabled": False}, content_type="application/json")
    assert response.status_code == 200 and response.json() == {"enabled": False}
    member.company.refresh_from_db()
    meeting, _ = _meeting_from(member.company, ann_and_ben)
    assert _names(member.company, meeting) == {"Speaker 1", "Speaker 2"}  # no matching while off
    assert member.api().get("/api/v1/voices/me").json()["voiceprints"] == 1  # nothing deleted
    assert _enrol(member, ann_sample).status_code == 403
    admin.api().put("/api/v1/voices/settings", {"enabled": True}, content_type="application/json")
    member.company.refresh_from_db()
    meeting, _ = _meeting_from(member.company, ann_and_ben, title="On again")
    assert member.user.display_name in _names(member.company, meeting)


def test_the_dashboard_page(admin, member, outsider, media_root, ann_sample):
    page = member.browser().get("/voices/")
    assert page.status_code == 200 and escape(services.CONSENT_TEXT) in page.content.decode()
    assert "Company setting" not in page.content.decode()
    with open(ann_sample, "rb") as handle:
        response = member.browser().post("/voices/enrol/", {"file": handle, "consent": services.CONSENT_VERSION})
    assert response.status_code == 302
    assert "1 voiceprint" in member.browser().get("/voices/").content.decode()
    export = member.browser().get("/voices/export/")
    assert export.status_code == 200 and b'"embedding"' in export.content
    assert "Company setting" in admin.browser().get("/voices/").content.decode()
    assert outsider.browser().get("/voices/export/").json()["voiceprints"] == []
    assert member.browser().post("/voices/delete/").status_code == 302
    with tenant_scope(member.company):
        assert not Voiceprint.objects.exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_an_uploaded_meeting_names_the_enrolled_voice(celery_worker, member, manager, media_root, ann_sample,
                                                        ann_and_ben, whisper_model):
    assert _enrol(member, ann_sample).status_code == 201
    files, _, _ = ann_and_ben
    with open(files["mp3"], "rb") as handle:
        response = manager.api().post("/api/v1/meetings/upload", {"file": handle, "title": "Weekly"})
    assert response.status_code == 202, response.content
    meeting_id = response.json()["meeting_id"]
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        state = manager.api().get(f"/api/v1/meetings/{meeting_id}/processing").json()
        if state["status"] in ("done", "failed"):
            break
        time.sleep(0.3)
    assert state["status"] == "done", state
    with tenant_scope(member.company):
        meeting = Meeting.objects.get(pk=meeting_id)
    assert member.user.display_name in _names(member.company, meeting)
    voices = manager.api().get(f"/api/v1/meetings/{meeting_id}/voices").json()
    assert [v["user_id"] for v in voices].count(member.user.pk) == 1
