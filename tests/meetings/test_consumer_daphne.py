"""The meeting WebSocket over a real network: daphne in a subprocess, the ``websockets`` client library."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import websockets
from django.conf import settings
from django.db import connection

from meetings.models import Meeting
from tests.meetings.factories import meeting_make

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ORIGIN = "http://127.0.0.1:8000"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def daphne_server(transactional_db):
    """A daphne process serving the real ASGI app against this test's database."""
    port = _free_port()
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="meetpilot.settings.test",
               EMBEDDED_DB_NAME=connection.settings_dict["NAME"], LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1")
    daphne = Path(sys.executable).with_name("daphne")
    process = subprocess.Popen([str(daphne), "-b", "127.0.0.1", "-p", str(port), "meetpilot.asgi:application"],
                               cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"daphne exited: {process.stdout.read().decode()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def _recv_until(ws, predicate, timeout=10.0, collected=None):
    deadline = time.monotonic() + timeout
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), max(0.05, deadline - time.monotonic())))
        if collected is not None:
            collected.append(frame)
        if predicate(frame):
            return frame


def _open(host, meeting_id, token, **kwargs):
    return websockets.connect(f"ws://{host}/ws/meetings/{meeting_id}/", origin=ORIGIN,
                              subprotocols=["meetpilot.v1", f"meetpilot.token.{token}"], open_timeout=10, **kwargs)


def test_real_server_round_trip_resume_and_rejections(daphne_server, company, admin, outsider):
    meeting = meeting_make(company=company, status=Meeting.Status.ACTIVE)

    async def scenario():
        frames: list[dict] = []
        async with _open(daphne_server, meeting.pk, admin.token) as ws:
            assert ws.subprotocol == "meetpilot.v1"  # never the token
            await ws.send(json.dumps({"type": "hello", "client_id": "real-1", "last_event_id": 0}))
            await _recv_until(ws, lambda f: f["type"] == "status")
            for seq in (1, 2):
                await ws.send(json.dumps({"type": "caption", "sequence": seq, "speaker": "Dana",
                                          "text": f"Real line {seq}.", "is_final": True}))
                await _recv_until(ws, lambda f, s=seq: f["type"] == "ack" and f["sequence"] == s, collected=frames)
            await _recv_until(ws, lambda f: f["type"] == "transcript" and f["data"]["text"] == "Real line 2.",
                              collected=frames)
            status = await asyncio.to_thread(
                requests.get, f"http://{daphne_server}/api/v1/meetings/{meeting.pk}/session",
                headers={"Authorization": f"Bearer {admin.token}"}, timeout=10)
            assert status.json()["connected_clients"][0]["client_id"] == "real-1"
            await ws.send(json.dumps({"type": "caption", "sequence": 3, "speaker": "Dana", "text": "Real line 3.",
                                      "is_final": True}))
            await asyncio.sleep(0.5)  # stored and answered, but this client never reads the answer
        # dropped before reading the answer; resume from the last event seen
        seen = max(f["event_id"] for f in frames if f.get("event_id"))
        async with _open(daphne_server, meeting.pk, admin.token) as ws:
            await ws.send(json.dumps({"type": "hello", "client_id": "real-1", "last_event_id": seen}))
            await ws.send(json.dumps({"type": "caption", "sequence": 3, "speaker": "Dana", "text": "Real line 3.",
                                      "is_final": True}))
            after: list[dict] = []
            ack = await _recv_until(ws, lambda f: f["type"] == "ack", collected=after)
            assert ack["status"] == "duplicate"
            replayed = [f for f in after if f.get("event_id")]
            assert [f["event_id"] for f in replayed] == list(range(seen + 1, seen + 1 + len(replayed)))
            assert [f["data"]["text"] for f in replayed if f["type"] == "transcript"] == ["Real line 3."]
            await ws.send(json.dumps({"type": "ping", "nonce": "x"}))
            assert (await _recv_until(ws, lambda f: f["type"] == "pong"))["nonce"] == "x"
        # another company's token: the handshake is refused (daphne answers 403 to a close before accept)
        with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
            async with _open(daphne_server, meeting.pk, outsider.token):
                pass
        assert refused.value.response.status_code == 403

    asyncio.run(scenario())
