"""The channel layer (meetpilot.channel_layer): channels_redis's, handing group messages to this process's own
consumers without Redis, and reading what other processes send in batches."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest

from meetpilot.channel_layer import RedisChannelLayer

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="the Redis channel layer needs REDIS_URL"),
]


def layer(**kwargs) -> RedisChannelLayer:
    prefix = f"{os.environ.get('CHANNEL_LAYER_PREFIX', 'test')}-layer-{uuid.uuid4().hex[:8]}"
    return RedisChannelLayer(hosts=[os.environ["REDIS_URL"]], prefix=prefix, **kwargs)


async def waiting(here: RedisChannelLayer) -> int:
    """Messages left in Redis for this process's consumers."""
    return await here.connection(0).zcard(f"{here.prefix}specific.{here.client_prefix}!")


async def test_a_group_message_reaches_this_processs_members_without_redis():
    here = layer()
    a, b = await here.new_channel(), await here.new_channel()
    receiving = [asyncio.create_task(here.receive(a)), asyncio.create_task(here.receive(b))]
    await asyncio.sleep(0)
    for channel in (a, b):
        await here.group_add("meeting.1", channel)
    await here.group_send("meeting.1", {"type": "live.event", "event": {"event_id": 7, "data": [1, 2]}})
    got = await asyncio.wait_for(asyncio.gather(*receiving), 2)
    assert got == [{"type": "live.event", "event": {"event_id": 7, "data": [1, 2]}}] * 2
    assert got[0] is not got[1]  # a copy each, as read back from Redis
    assert await waiting(here) == 0
    await here.flush()


async def test_what_another_process_sends_arrives_in_order_and_in_batches():
    here, there = layer(), layer()
    there.prefix = here.prefix  # the same Redis prefix, another process
    channel = await here.new_channel()
    await here.group_add("meeting.2", channel)
    receiving = asyncio.create_task(here.receive(channel))
    await asyncio.sleep(0.05)
    for i in range(30):
        await there.group_send("meeting.2", {"type": "live.event", "n": i})
    await there.send(channel, {"type": "live.event", "n": 30})
    got = [await asyncio.wait_for(receiving, 5)]
    got += [await asyncio.wait_for(here.receive(channel), 5) for _ in range(30)]
    assert [m["n"] for m in got] == list(range(31))
    assert all("__asgi_channel__" not in m for m in got)
    await here.flush()


async def test_a_full_channel_drops_group_messages_as_redis_would():
    here = layer(capacity=3)
    channel = await here.new_channel()
    receiving = asyncio.create_task(here.receive(channel))
    await asyncio.sleep(0)
    await here.group_add("meeting.3", channel)
    for i in range(6):
        await here.group_send("meeting.3", {"type": "live.event", "n": i})
    first = await asyncio.wait_for(receiving, 2)
    rest = [await asyncio.wait_for(here.receive(channel), 2) for _ in range(3)]
    assert [m["n"] for m in [first, *rest]] == [0, 1, 2, 3]  # one taken at once, three waited, two dropped
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(here.receive(channel), 0.3)
    assert await waiting(here) == 0
    await here.flush()


async def test_a_closed_consumer_leaves_nothing_behind():
    here = layer()
    channel = await here.new_channel()
    receiving = asyncio.create_task(here.receive(channel))
    await asyncio.sleep(0)
    receiving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await receiving
    assert channel not in here._inboxes
    await here.group_add("meeting.4", channel)
    await here.group_send("meeting.4", {"type": "live.event"})  # a member not yet discarded: goes to Redis
    await asyncio.sleep(0.1)
    assert channel not in here._inboxes
    await here.flush()


async def test_a_group_of_members_here_and_elsewhere_gets_one_copy_each():
    here, there = layer(), layer()
    there.prefix = here.prefix
    mine, theirs = await here.new_channel(), await there.new_channel()
    receiving = [asyncio.create_task(here.receive(mine)), asyncio.create_task(there.receive(theirs))]
    await asyncio.sleep(0)
    await here.group_add("meeting.5", mine)
    await there.group_add("meeting.5", theirs)
    await here.group_send("meeting.5", {"type": "live.event", "n": 1})
    assert [m["n"] for m in await asyncio.wait_for(asyncio.gather(*receiving), 5)] == [1, 1]
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(here.receive(mine), 0.3)
    await here.group_discard("meeting.5", mine)
    await here.group_send("meeting.5", {"type": "live.event", "n": 2})
    assert (await asyncio.wait_for(there.receive(theirs), 5))["n"] == 2
    await here.flush()


async def test_a_consumer_that_stopped_receiving_has_its_inbox_swept():
    # A consumer that closes while its last receive() completes is never cancelled there: its inbox would stay.
    here = layer(expiry=1)
    gone, alive = await here.new_channel(), await here.new_channel()
    await here.group_add("meeting.6", gone)
    receiving = asyncio.create_task(here.receive(gone))
    waiting_alive = asyncio.create_task(here.receive(alive))
    await asyncio.sleep(0)
    await here.group_send("meeting.6", {"type": "live.event", "n": 1})
    assert (await asyncio.wait_for(receiving, 2))["n"] == 1  # and then the consumer is gone
    await here.group_send("meeting.6", {"type": "live.event", "n": 2})
    assert gone in here._inboxes
    await asyncio.sleep(1.2)
    here._swept_at = 0.0  # the reader sweeps at most every expiry / 2
    here._sweep()
    assert gone not in here._inboxes and gone not in here._idle_since
    assert alive in here._inboxes  # waiting in receive(): kept
    waiting_alive.cancel()
    await here.flush()


async def test_messages_from_another_process_past_capacity_are_dropped():
    here, there = layer(capacity=3), layer(capacity=100)
    there.prefix = here.prefix
    channel = await here.new_channel()
    here._inbox(channel)  # the consumer exists but is busy: nothing takes messages out of its inbox
    await asyncio.sleep(0.05)
    for i in range(8):
        await there.send(channel, {"type": "live.event", "n": i})
    for _ in range(50):
        if await waiting(here) == 0 and here._inboxes[channel].qsize() >= 3:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.1)
    assert here._inboxes[channel].qsize() == 3
    assert [(await here.receive(channel))["n"] for _ in range(3)] == [0, 1, 2]
    await here.flush()
