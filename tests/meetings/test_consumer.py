"""The meeting WebSocket through the real ASGI app (Origin check, token/session auth, routing)."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction

from accounts.tenancy import tenant_scope
from meetings.live import events as live_events
from meetings.live.events import event_emit
from meetings.live.pipeline import runners_wait_idle
from meetings.live.protocol import (
    AckOut,
    ErrorOut,
    PongOut,
    StatusEvent,
    TranscriptEvent,
)
from meetings.models import ActionItem, FactCheck, Meeting, MeetingEvent, TranscriptSegment
from tests.meetings.factories import meeting_make
from tests.meetings.live_helpers import (
    ORIGIN,
    caption_frame,
    close_thread_connections,
    communicator,
    drain,
    hello,
    receive,
    receive_until,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture(autouse=True)
async def _settle():
    yield
    await sync_to_async(runners_wait_idle, thread_sensitive=False)(timeout=20)
    await close_thread_connections()


@pytest.fixture
def meeting(company):
    return meeting_make(company=company, status=Meeting.Status.ACTIVE, title="Acme sync")


def _db(company, fn, *args, **kwargs):
    def run():
        with tenant_scope(company):
            return fn(*args, **kwargs)

    return database_sync_to_async(run, thread_sensitive=False)()


def segments(company, meeting):
    return _db(company, lambda: list(TranscriptSegment.objects.filter(meeting=meeting).order_by("sequence")
                                     .values_list("client_id", "client_sequence", "text", "is_final")))


async def connect(meeting_id, **kwargs):
    comm = communicator(meeting_id, **kwargs)
    connected, detail = await comm.connect(timeout=10)
    assert connected, f"rejected with {detail}"
    return comm


async def rejected_with(meeting_id, **kwargs) -> int:
    comm = communicator(meeting_id, **kwargs)
    connected, code = await comm.connect(timeout=10)
    assert not connected
    return code


# --- opening a connection ---------------------------------------------------------------------


async def test_unauthenticated_and_bad_origin_are_rejected(meeting):
    assert await rejected_with(meeting.pk) == 4401
    assert await rejected_with(meeting.pk, token="mp_not-a-real-token") == 4401
    comm = communicator(meeting.pk, origin=False, headers=[(b"origin", b"https://evil.example")])
    connected, _ = await comm.connect(timeout=10)
    assert not connected


async def test_unknown_foreign_and_malformed_meetings_share_one_close_code(meeting, admin, outsider):
    assert await rejected_with(meeting.pk, token=outsider.token) == 4404
    assert await rejected_with(meeting.pk + 10_000, token=admin.token) == 4404
    assert await rejected_with("abc", token=admin.token) == 4404
    assert await rejected_with(2**70, token=admin.token) == 4404


async def test_member_reads_but_may_not_stream_or_end(meeting, member, company):
    assert await rejected_with(meeting.pk, token=member.token, query="mode=stream") == 4403
    comm = await connect(meeting.pk, token=member.token)
    status = await hello(comm)
    assert status["data"]["can_stream"] is False
    await comm.send_json_to(caption_frame(1, "sneaky"))
    error = await receive(comm)
    assert error["type"] == "error" and error["code"] == "forbidden" and error["sequence"] == 1
    await comm.send_json_to({"type": "end"})
    assert (await receive(comm))["code"] == "forbidden"
    assert await segments(company, meeting) == []
    await comm.disconnect()


# --- the protocol ----------------------------------------------------------------------------


async def test_round_trip_hello_caption_ack_events_ping(meeting, admin, company):
    comm = await connect(meeting.pk, token=admin.token)
    assert comm.scope["subprotocols"][0] == "meetpilot.v1"
    status = await hello(comm, client_id="chrome-1", client={"name": "meetpilot-chrome", "version": "2.0"},
                         participant={"name": "Alice Admin", "email": "alice@acme.test"})
    StatusEvent.model_validate(status)
    assert status["event_id"] is None and status["data"]["client_id"] == "chrome-1"
    assert status["data"]["can_stream"] is True and status["data"]["protocol"] == 1

    await comm.send_json_to(caption_frame(1, "Let's get", is_final=False, speaker="You"))
    frames: list[dict] = []
    ack = await receive_until(comm, lambda f: f["type"] == "ack", collected=frames)
    AckOut.model_validate(ack)
    assert ack == {"type": "ack", "sequence": 1, "segment_id": ack["segment_id"], "status": "stored",
                   "duplicate": False}
    interim = await receive_until(comm, lambda f: f["type"] == "transcript", collected=frames)
    TranscriptEvent.model_validate(interim)
    assert interim["data"]["is_final"] is False and interim["data"]["speaker"] == "Alice Admin"

    await comm.send_json_to(caption_frame(1, "Let's get started.", speaker="You"))
    ack = await receive_until(comm, lambda f: f["type"] == "ack")
    assert ack["status"] == "updated"
    final = await receive_until(comm, lambda f: f["type"] == "transcript")
    assert final["data"]["is_final"] and final["data"]["update"] and final["event_id"] > interim["event_id"]
    assert final["data"]["role"] in {"unknown", "consultant", "customer", "internal"}

    await comm.send_json_to({"type": "ping", "nonce": "n-1"})
    pong = await receive_until(comm, lambda f: f["type"] == "pong")
    PongOut.model_validate(pong)
    assert pong["nonce"] == "n-1"
    assert await segments(company, meeting) == [("chrome-1", 1, "Let's get started.", True)]
    await comm.disconnect()


async def test_resume_after_disconnect_replays_missed_events_without_gaps_or_duplicates(meeting, admin, company):
    comm = await connect(meeting.pk, token=admin.token)
    await hello(comm, client_id="chrome-1")
    frames: list[dict] = []
    for seq in (1, 2, 3):
        await comm.send_json_to(caption_frame(seq, f"line {seq}"))
        await receive_until(comm, lambda f: f["type"] == "ack", collected=frames)
    frames += await drain(comm)
    seen = [f["event_id"] for f in frames if f.get("event_id")]
    # 4-6 are sent but the connection drops before any answer is read
    for seq in (4, 5, 6):
        await comm.send_json_to(caption_frame(seq, f"line {seq}"))
    await asyncio.sleep(0.5)
    await comm.disconnect()
    # meanwhile another client adds to the meeting
    other = await connect(meeting.pk, token=admin.token)
    await hello(other, client_id="chrome-2")
    await other.send_json_to(caption_frame(1, "from someone else", speaker="Sam"))
    await receive_until(other, lambda f: f["type"] == "ack")
    await other.disconnect()

    comm = await connect(meeting.pk, token=admin.token)
    status = await hello(comm, client_id="chrome-1", last_event_id=seen[-1])
    assert status["data"]["replay_from"] == seen[-1]
    for seq in (4, 5, 6):  # resend everything not acked
        await comm.send_json_to(caption_frame(seq, f"line {seq}"))
    frames = await drain(comm, quiet=0.5)
    acks = [f for f in frames if f["type"] == "ack"]
    assert [(a["sequence"], a["status"]) for a in acks] == [(4, "duplicate"), (5, "duplicate"), (6, "duplicate")]
    replayed = [f["event_id"] for f in frames if f.get("event_id")]
    last_event_id = await _db(company, lambda: Meeting.objects.get(pk=meeting.pk).last_event_id)
    assert seen == list(range(1, len(seen) + 1))
    assert replayed == list(range(seen[-1] + 1, last_event_id + 1))  # everything after, once, in order
    texts = [f["data"]["text"] for f in frames if f["type"] == "transcript"]
    assert texts == ["line 4", "line 5", "line 6", "from someone else"]
    rows = await segments(company, meeting)
    assert [r[:2] for r in rows] == [("chrome-1", 1), ("chrome-1", 2), ("chrome-1", 3), ("chrome-1", 4),
                                     ("chrome-1", 5), ("chrome-1", 6), ("chrome-2", 1)]
    await comm.disconnect()


async def test_two_clients_share_the_meeting_and_a_caption_seen_by_both_is_stored_once(meeting, admin, manager,
                                                                                          company):
    a = await connect(meeting.pk, token=admin.token)
    b = await connect(meeting.pk, token=manager.token)
    await hello(a)
    await hello(b)
    seen_a: list[dict] = []
    seen_b: list[dict] = []  # a's transcript event may reach b before b's own ack: nothing read is dropped
    await a.send_json_to(caption_frame(10, "The Q3 plan is on the shared drive.", speaker="Sam"))
    ack_a = await receive_until(a, lambda f: f["type"] == "ack", collected=seen_a)
    await b.send_json_to(caption_frame(3, "the Q3 plan is on the shared drive", speaker="Sam"))
    ack_b = await receive_until(b, lambda f: f["type"] == "ack", collected=seen_b)
    assert ack_a["status"] == "stored" and ack_b["status"] == "duplicate"
    assert ack_b["segment_id"] == ack_a["segment_id"]
    for comm, seen in ((a, seen_a), (b, seen_b)):
        if not any(f["type"] == "transcript" for f in seen):
            await receive_until(comm, lambda f: f["type"] == "transcript", collected=seen)
        seen.extend(await drain(comm))

    def events(seen: list[dict]) -> list[dict]:
        return [f for f in seen if f.get("event_id") is not None]

    # Both see the same events, the transcript once, whatever else follows
    assert events(seen_a) == events(seen_b)
    assert [f["type"] for f in events(seen_a)].count("transcript") == 1
    assert len(await segments(company, meeting)) == 1
    await a.disconnect()
    await b.disconnect()


async def test_default_client_id_moves_on_when_a_client_restarts_its_numbering(meeting, admin, company):
    first = await connect(meeting.pk, token=admin.token)
    await first.send_json_to(caption_frame(1, "first tab says hello"))
    await receive_until(first, lambda f: f["type"] == "ack")
    await first.disconnect()
    second = await connect(meeting.pk, token=admin.token)  # same token, numbering starts at 1 again
    await second.send_json_to(caption_frame(1, "a different sentence entirely", speaker="Sam"))
    ack = await receive_until(second, lambda f: f["type"] == "ack")
    assert ack["status"] == "stored"
    rows = await segments(company, meeting)
    token_id = rows[0][0]
    assert [r[0] for r in rows] == [token_id, f"{token_id}~2"]
    await second.disconnect()


async def test_a_dropped_group_message_is_recovered_from_the_log(meeting, admin, company, monkeypatch):
    comm = await connect(meeting.pk, token=admin.token)
    await hello(comm)
    real_publish = live_events.event_publish
    dropped = []

    def lossy_publish(frame, *, groups):
        if not dropped:
            dropped.append(frame["event_id"])
            return
        real_publish(frame, groups=groups)

    monkeypatch.setattr(live_events, "event_publish", lossy_publish)

    def emit_two():
        meeting_row = Meeting.objects.get(pk=meeting.pk)
        for _ in (1, 2):
            with transaction.atomic():
                event_emit(meeting=meeting_row, type="status", payload={"kind": "meeting", "meeting_status": "active"})

    await _db(company, emit_two)
    frames = await drain(comm, quiet=0.5)
    assert [f["event_id"] for f in frames] == [1, 2] and dropped == [1]
    await comm.disconnect()


# --- bad input --------------------------------------------------------------------------------


async def test_bad_frames_get_error_frames_and_the_connection_stays_open(meeting, admin, company, settings):
    settings.LIVE_MAX_FRAME_BYTES = 2048
    comm = await connect(meeting.pk, token=admin.token)
    await hello(comm, client_id="chrome-1")

    async def error_for(raw=None, data=None):
        if data is not None:
            await comm.send_to(bytes_data=data)
        else:
            await comm.send_to(text_data=raw)
        frame = await receive_until(comm, lambda f: f["type"] == "error")
        ErrorOut.model_validate(frame)
        return frame

    assert (await error_for("{not json"))["code"] == "invalid_json"
    assert (await error_for("[1, 2]"))["code"] == "invalid_json"
    assert (await error_for(json.dumps({"type": "dance"})))["code"] == "unknown_type"
    assert (await error_for(json.dumps({"text": "no type"})))["code"] == "unknown_type"
    missing = await error_for(json.dumps({"type": "caption", "sequence": 9}))
    assert missing["code"] == "invalid_message" and missing["sequence"] == 9
    assert missing["details"][0]["loc"] == ["text"]
    wrong = await error_for(json.dumps({"type": "caption", "sequence": "nine", "text": "x"}))
    assert wrong["code"] == "invalid_message"
    assert (await error_for(data=b"\x00\x01"))["code"] == "unsupported_frame"
    assert (await error_for(json.dumps(caption_frame(1, "x" * 3000))))["code"] == "frame_too_large"
    assert (await error_for(json.dumps({"type": "hello", "protocol": 99})))["code"] == "unsupported_protocol"

    await comm.send_json_to(caption_frame(5, "five"))
    await receive_until(comm, lambda f: f["type"] == "ack")
    out_of_order = await error_for(json.dumps(caption_frame(4, "four")))
    assert out_of_order["code"] == "out_of_order" and out_of_order["sequence"] == 4
    conflict = await error_for(json.dumps(caption_frame(5, "not five at all")))
    assert conflict["code"] == "sequence_conflict"
    await comm.send_json_to(caption_frame(5, "five"))
    frames = [await receive(comm), await receive(comm)]
    assert frames[0]["type"] == "error" and frames[0]["code"] == "duplicate_sequence"
    assert frames[1]["type"] == "ack" and frames[1]["status"] == "duplicate"

    await comm.send_json_to({"type": "ping", "nonce": 7})
    assert (await receive_until(comm, lambda f: f["type"] == "pong"))["nonce"] == 7
    assert [r[1] for r in await segments(company, meeting)] == [5]
    await comm.disconnect()


async def test_per_connection_rate_limit(meeting, admin, settings):
    settings.LIVE_CONNECTION_BURST = 3
    settings.LIVE_CONNECTION_RATE = 0.01
    comm = await connect(meeting.pk, token=admin.token)
    for _ in range(3):
        await comm.send_json_to({"type": "ping"})
        await receive_until(comm, lambda f: f["type"] == "pong")
    await comm.send_json_to(caption_frame(1, "one too many"))
    error = await receive(comm)
    assert error["code"] == "rate_limited" and error["sequence"] == 1 and error["retry_after"] > 0
    await comm.disconnect()


async def test_company_rate_limit_is_shared_by_connections(meeting, admin, manager, settings):
    settings.LIVE_COMPANY_BURST = 2
    settings.LIVE_COMPANY_RATE = 0.01
    a = await connect(meeting.pk, token=admin.token)
    b = await connect(meeting.pk, token=manager.token)
    await a.send_json_to(caption_frame(1, "one"))
    await receive_until(a, lambda f: f["type"] == "ack")
    await b.send_json_to(caption_frame(1, "two", speaker="Sam"))
    await receive_until(b, lambda f: f["type"] == "ack")
    await a.send_json_to(caption_frame(2, "three"))
    error = await receive_until(a, lambda f: f["type"] == "error")
    assert error["code"] == "rate_limited" and error["sequence"] == 2
    await a.disconnect()
    await b.disconnect()


async def test_idle_connections_are_closed(meeting, admin, settings):
    settings.LIVE_IDLE_TIMEOUT_SECONDS = 0.3
    comm = await connect(meeting.pk, token=admin.token)
    await hello(comm)
    message = await comm.receive_output(timeout=5)
    assert message == {"type": "websocket.close", "code": 4408}


async def test_ended_meeting_refuses_captions(meeting, admin, company):
    comm = await connect(meeting.pk, token=admin.token)
    await hello(comm)
    await comm.send_json_to({"type": "end"})
    status = await receive_until(comm, lambda f: f["type"] == "status")
    assert status["data"]["meeting_status"] == "ended" and status["event_id"]
    await comm.send_json_to(caption_frame(1, "anyone there?"))
    error = await receive_until(comm, lambda f: f["type"] == "error")
    assert error["code"] == "meeting_ended" and error["sequence"] == 1
    await comm.disconnect()


async def test_a_server_bug_is_an_internal_error_frame_not_a_dropped_socket(meeting, admin, monkeypatch):
    import meetings.live.session as live_session

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(live_session, "caption_ingest", broken)
    comm = await connect(meeting.pk, token=admin.token)
    await comm.send_json_to(caption_frame(1, "hello"))
    error = await receive_until(comm, lambda f: f["type"] == "error")
    assert error["code"] == "internal"
    await comm.send_json_to({"type": "ping"})
    assert (await receive_until(comm, lambda f: f["type"] == "pong"))["type"] == "pong"
    await comm.disconnect()


# --- other formats -----------------------------------------------------------------------------


def _action_item_and_fact_check(meeting_id):
    meeting = Meeting.objects.get(pk=meeting_id)
    item = ActionItem.objects.create(company_id=meeting.company_id, meeting=meeting, description="Send the deck",
                                     assignee_name="Dana", priority="high", origin="live")
    check = FactCheck.objects.create(company_id=meeting.company_id, meeting=meeting, claim="revenue was 18.7M",
                                     claimed_value="18.7M", verdict="incorrect", corrected_value="21.3M",
                                     confidence=0.9, source={"title": "Q3 report", "page": 2, "snippet": "21.3"})
    from meetings.live.pipeline import action_item_payload, fact_check_payload

    with transaction.atomic():
        event_emit(meeting=meeting, type="action_item", payload=action_item_payload(item, "I'll send the deck"))
        event_emit(meeting=meeting, type="fact_check", payload=fact_check_payload(check, "Dana"))


async def test_legacy_dialect_in_and_out(meeting, admin, company, settings):
    settings.LIVE_ANALYSIS_MODE = "inline"
    comm = await connect(meeting.pk, token=admin.token, subprotocols=["meetpilot.legacy"])
    assert comm.scope["subprotocols"][0] == "meetpilot.legacy"
    await comm.send_json_to({"type": "CAPTION_CHUNK", "data": {"text": "Hello from the old build",
                                                               "speaker_name": "Dana", "timestamp": 1_700_000_000_000,
                                                               "sequence_number": 1}})
    await comm.send_json_to({"type": "CAPTION_CHUNK", "data": {"speaker_name": "Dana", "sequence_number": 2}})
    error = await receive_until(comm, lambda f: f["type"] == "ERROR")
    assert error["data"]["code"] == "invalid_message" and error["data"]["sequence"] == 2
    await _db(company, _action_item_and_fact_check, meeting.pk)
    frames = await drain(comm, quiet=0.5)
    assert [f["type"] for f in frames] == ["ACTION_ITEM_DETECTED", "FACT_CHECK_ALERT"]
    item, check = frames[0]["data"], frames[1]["data"]
    assert item["text"] == "Send the deck" and item["assignee"] == "Dana" and item["priority"] == "high"
    assert check["isAccurate"] is False and check["correction"] == "21.3M"
    assert check["sources"][0]["title"] == "Q3 report"

    await comm.send_json_to({"type": "USER_QUERY", "data": {"question": "What is our refund policy?",
                                                            "meetingId": "abc"}})
    answer = await receive_until(comm, lambda f: f["type"] == "AI_RESPONSE")
    assert answer["data"]["question"] == "What is our refund policy?" and answer["data"]["answer"]
    assert answer["data"]["kind"] == "answer" and isinstance(answer["data"]["timestamp"], int)
    assert await segments(company, meeting) == [(f"t{await _token_id(admin)}", 1, "Hello from the old build", True)]
    await comm.disconnect()


async def _token_id(actor):
    from accounts.auth import principal_from_token

    return (await sync_to_async(principal_from_token)(actor.token)).token_id


async def test_legacy_dialect_is_detected_from_the_first_frame(meeting, admin):
    comm = await connect(meeting.pk, token=admin.token)  # meetpilot.v1 offered, but speaks the old dialect
    await comm.send_json_to({"type": "CAPTION_CHUNK", "data": {"text": "hi", "speaker_name": "Dana",
                                                               "sequence_number": 1}})
    assert await drain(comm, quiet=0.5) == []  # no acks, no transcript frames in the old dialect
    await comm.disconnect()


def _session_cookie(actor) -> tuple[bytes, bytes]:
    client = actor.browser()
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


async def test_html_format_for_the_dashboard(meeting, admin, manager, company):
    cookie = await sync_to_async(_session_cookie)(manager)
    dash = await connect(meeting.pk, query="format=html", subprotocols=[], headers=[cookie])
    ext = await connect(meeting.pk, token=admin.token)
    await hello(ext)
    await ext.send_json_to(caption_frame(1, "Hello", is_final=False))
    interim = await dash.receive_from(timeout=5)
    assert interim.startswith('<div hx-swap-oob="beforeend:#transcript-list"><li id="segment-')
    assert "seg-interim" in interim
    await ext.send_json_to(caption_frame(1, "Hello <b>world</b>"))
    final = await dash.receive_from(timeout=5)
    assert final.startswith('<li id="segment-') and 'hx-swap-oob="true"' in final
    assert "&lt;b&gt;world&lt;/b&gt;" in final and "seg-interim" not in final  # escaped, and final now
    await _db(company, _action_item_and_fact_check, meeting.pk)
    action = await dash.receive_from(timeout=5)
    fact = await dash.receive_from(timeout=5)
    assert action.startswith('<div hx-swap-oob="beforeend:#action-items-list"><li id="action-item-')
    assert fact.startswith('<div hx-swap-oob="beforeend:#fact-checks-list"><li id="fact-check-')
    await ext.send_json_to({"type": "end"})
    badge = await dash.receive_from(timeout=5)
    assert badge.startswith('<span id="meeting-status"') and 'hx-swap-oob="true"' in badge and "Ended" in badge
    await ext.disconnect()
    await dash.disconnect()


async def test_session_cookie_of_another_company_cannot_open_the_meeting(meeting, outsider):
    cookie = await sync_to_async(_session_cookie)(outsider)
    assert await rejected_with(meeting.pk, query="format=html", subprotocols=[], headers=[cookie]) == 4404


async def test_events_of_other_meetings_never_reach_a_connection(company, admin, meeting):
    other = await sync_to_async(meeting_make)(company=company, status=Meeting.Status.ACTIVE)
    a = await connect(meeting.pk, token=admin.token)
    b = await connect(other.pk, token=admin.token)
    await hello(a)
    await hello(b, client_id="other")
    await b.send_json_to(caption_frame(1, "only in the other meeting"))
    await receive_until(b, lambda f: f["type"] == "transcript")
    assert await drain(a) == []
    assert await _db(company, lambda: MeetingEvent.objects.filter(meeting_id=meeting.pk).count()) == 0
    await a.disconnect()
    await b.disconnect()


async def test_company_wide_socket_follows_meeting_status_of_its_own_company_only(meeting, admin, member, outsider,
                                                                                   other_company):
    from meetpilot.asgi import application

    def company_socket(token):
        return WebsocketCommunicator(application, "/ws/meetings/", headers=[ORIGIN],
                                     subprotocols=["meetpilot.v1", f"meetpilot.token.{token}"])

    ours, theirs = company_socket(member.token), company_socket(outsider.token)
    assert (await ours.connect(timeout=10))[0] and (await theirs.connect(timeout=10))[0]
    ext = await connect(meeting.pk, token=admin.token)
    await ext.send_json_to({"type": "end"})
    status = json.loads(await ours.receive_from(timeout=5))
    assert status["type"] == "status" and status["meeting_id"] == meeting.pk
    assert status["data"]["meeting_status"] == "ended"
    assert await theirs.receive_nothing(timeout=0.5)
    await ours.send_json_to({"type": "caption", "sequence": 1, "text": "x"})
    assert json.loads(await ours.receive_from(timeout=5))["code"] == "forbidden"
    for comm in (ours, theirs, ext):
        await comm.disconnect()


async def test_a_resume_point_from_the_future_does_not_hide_new_events(meeting, admin):
    comm = await connect(meeting.pk, token=admin.token)
    status = await hello(comm, last_event_id=10_000)
    assert status["data"]["replay_from"] == 0
    await comm.send_json_to(caption_frame(1, "still delivered"))
    event = await receive_until(comm, lambda f: f["type"] == "transcript")
    assert event["event_id"] == 1
    await comm.disconnect()
