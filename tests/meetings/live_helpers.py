"""Helpers shared by the live session tests (not a test module)."""

from __future__ import annotations

import asyncio
import gc
import json
from typing import Any

from channels.testing import WebsocketCommunicator

from meetings.live.protocol import CaptionIn

ORIGIN = (b"origin", b"http://127.0.0.1:8000")


def caption(sequence: int, text: str, *, speaker: str = "Dana", is_final: bool = True, **extra: Any) -> CaptionIn:
    return CaptionIn(type="caption", sequence=sequence, speaker=speaker, text=text, is_final=is_final, **extra)


def caption_frame(sequence: int, text: str, *, speaker: str = "Dana", is_final: bool = True, **extra: Any) -> dict:
    return {"type": "caption", "sequence": sequence, "speaker": speaker, "text": text, "is_final": is_final, **extra}


def communicator(meeting_id: int | str, *, token: str | None = None, query: str = "",
                 subprotocols: list[str] | None = None, headers: list | None = None,
                 origin: bool = True) -> WebsocketCommunicator:
    from meetpilot.asgi import application

    protocols = list(subprotocols or ["meetpilot.v1"])
    if token:
        protocols.append(f"meetpilot.token.{token}")
    all_headers = ([ORIGIN] if origin else []) + list(headers or [])
    path = f"/ws/meetings/{meeting_id}/" + (f"?{query}" if query else "")
    return WebsocketCommunicator(application, path, headers=all_headers, subprotocols=protocols)


async def receive(comm: WebsocketCommunicator, timeout: float = 5) -> dict:
    return json.loads(await comm.receive_from(timeout=timeout))


async def receive_until(comm: WebsocketCommunicator, predicate, *, timeout: float = 10,
                        collected: list | None = None) -> dict:
    """Read frames until one matches ``predicate``; every frame read is appended to ``collected``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise AssertionError(f"no matching frame within {timeout}s; got {collected}")
        frame = await receive(comm, timeout=remaining)
        if collected is not None:
            collected.append(frame)
        if predicate(frame):
            return frame


async def drain(comm: WebsocketCommunicator, *, quiet: float = 0.3) -> list[dict]:
    """Everything the server sends until it has been quiet for ``quiet`` seconds (the app keeps running)."""
    frames = []
    while not await comm.receive_nothing(timeout=quiet):
        frames.append(json.loads(await comm.receive_from(timeout=1)))
    return frames


async def close_thread_connections() -> None:
    """Close the database connections that sync_to_async threads opened (test databases drop cleanly)."""
    from asgiref.sync import sync_to_async
    from django.db import connections

    def close() -> None:
        for conn in connections.all(initialized_only=True):
            conn.close()

    await sync_to_async(close)()  # the thread-sensitive thread (auth middleware, sync fixtures)
    gc.collect()  # and those of per-connection executor threads that have exited


async def hello(comm: WebsocketCommunicator, **fields: Any) -> dict:
    await comm.send_json_to({"type": "hello", "protocol": 1, **fields})
    return await receive_until(comm, lambda f: f["type"] == "status" and f["data"]["kind"] == "hello")
