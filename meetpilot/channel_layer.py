"""The channel layer: channels_redis's, with a cheaper way to this process's own consumers.

channels_redis puts every message for a consumer in Redis, in one sorted set per process, and takes them out
again one at a time on the server's event loop: four round trips per message (restore the backup, pop, back
it up, clean the backup), one message after another, while the loop also serves every socket. Under load the
loop turns slowly and that chain is the ceiling of events per second: the live benchmark's meetings waited
seconds for their transcript events while their acks took milliseconds.

Here, for consumers in this process (``specific.<this process>!...`` channels):

- a group message for members in this very process is handed to them here, without Redis (the sockets of a
  meeting usually live in the process that stored its caption); it is serialised and read back as if it had
  gone through Redis (the same types, a copy for each), and dropped past the channel's capacity as Redis would;
- what other processes send arrives as before, in the process's sorted set, and one reader per process takes
  out everything waiting in one round trip (``ZPOPMIN`` with a count), blocking only when it is empty, and
  hands each message to its consumer's inbox (dropped past the channel's capacity, as Redis would). No backup
  set: a message is lost only if the process dies, and then its sockets are gone too;
- an inbox goes when its consumer's receive() is cancelled, or, for a consumer that closed while a message was
  reaching it, once nothing has received from it for ``expiry`` seconds.

Delivery stays at most once and unordered between processes, as channels_redis's is under capacity limits:
the live socket drops what it already sent and fills any gap from the meeting's event log. Everything else
(named channels, groups in Redis, expiry, several Redis hosts) is channels_redis's own; group sends to
other processes repeat its Lua script (``_send_elsewhere``), so the version is pinned (pyproject.toml).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from channels_redis import core

logger = logging.getLogger("meetpilot.channels")

READ_BATCH = 100  # messages taken out of Redis per round trip
# channels_redis 4.3's group send: a copy per channel key, unless the key holds its capacity already.
_GROUP_SEND_LUA = """
    local over_capacity = 0
    local current_time = ARGV[#ARGV - 1]
    local expiry = ARGV[#ARGV]
    for i=1,#KEYS do
        if redis.call('ZCOUNT', KEYS[i], '-inf', '+inf') < tonumber(ARGV[i + #KEYS]) then
            redis.call('ZADD', KEYS[i], current_time, ARGV[i])
            redis.call('EXPIRE', KEYS[i], expiry)
        else
            over_capacity = over_capacity + 1
        end
    end
    return over_capacity
"""


class RedisChannelLayer(core.RedisChannelLayer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._inboxes: dict[str, asyncio.Queue] = {}  # this process's channels -> their waiting messages
        # Channels whose consumer is not waiting in receive() -> since when (monotonic): a consumer that closed
        # while its last receive() was completing is never cancelled there, so its inbox is swept (``_sweep``).
        self._idle_since: dict[str, float] = {}
        self._swept_at = 0.0
        self._inbox_loop: asyncio.AbstractEventLoop | None = None  # the one loop that receives them
        self._reader: asyncio.Task | None = None

    def _own(self, channel: str) -> bool:
        return "!" in channel and self.non_local_name(channel) == f"specific.{self.client_prefix}!"

    def _inbox(self, channel: str) -> asyncio.Queue:
        """The channel's inbox, on the loop that receives (one per process, as with channels_redis); this
        process's reader runs on that loop."""
        loop = asyncio.get_running_loop()
        if self._inbox_loop is not loop:
            if self._inbox_loop is not None and not self._inbox_loop.is_closed() and self._inboxes:
                raise RuntimeError("Two event loops are trying to receive() on one channel layer at once!")
            self._reader_stop()  # a new loop (tests): start afresh
            self._inbox_loop = loop
        inbox = self._inboxes.get(channel)
        if inbox is None:
            inbox = self._inboxes[channel] = asyncio.Queue()
        if self._reader is None or self._reader.done():
            self._reader = loop.create_task(self._read(), name="channel-layer-reader")
        return inbox

    async def receive(self, channel: str) -> dict[str, Any]:
        if not self._own(channel):
            return await super().receive(channel)
        inbox = self._inbox(channel)
        self._idle_since.pop(channel, None)
        try:
            return await inbox.get()
        except asyncio.CancelledError:  # the consumer is closing (Channels cancels its receive)
            if self._inboxes.get(channel) is inbox:
                del self._inboxes[channel]
            raise
        finally:
            if self._inboxes.get(channel) is inbox:
                self._idle_since[channel] = time.monotonic()

    def _sweep(self) -> None:
        """Drop the inboxes of consumers that stopped receiving over ``expiry`` seconds ago (and what waits in
        them): a consumer busy with one message takes far less, and one that did come back gets a new inbox."""
        now = time.monotonic()
        if now - self._swept_at < self.expiry / 2:
            return
        self._swept_at = now
        for channel, since in list(self._idle_since.items()):
            if now - since > self.expiry:
                del self._idle_since[channel]
                self._inboxes.pop(channel, None)

    def _reader_stop(self) -> None:
        """Stop this process's reader, on whichever loop it runs, and forget the inboxes."""
        reader, self._reader = self._reader, None
        if reader is not None and not reader.done() and not reader.get_loop().is_closed():
            reader.get_loop().call_soon_threadsafe(reader.cancel)
        self._inboxes, self._idle_since, self._inbox_loop = {}, {}, None

    async def close_pools(self) -> None:
        self._reader_stop()  # before its connection goes, or it would log the loss and connect again
        await super().close_pools()

    async def _read(self) -> None:
        """This process's reader: what other processes left for its consumers, many messages per round trip."""
        name = f"specific.{self.client_prefix}!"
        key, connection = self.prefix + name, self.connection(self.consistent_hash(name))
        while self._reader is asyncio.current_task():
            self._sweep()
            try:
                batch = [member for member, _score in await connection.zpopmin(key, READ_BATCH)]
                if not batch:
                    popped = await connection.bzpopmin(key, timeout=self.brpop_timeout)
                    batch = [popped[1]] if popped is not None else []
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("reading the channel layer failed; trying again")
                await asyncio.sleep(1)
                continue
            if self._reader is not asyncio.current_task():
                return  # superseded: another loop receives now (its reader took over)
            for content in batch:
                try:
                    message = self.deserialize(content)
                except Exception:
                    logger.exception("unreadable channel layer message dropped")
                    continue
                channels = message.pop("__asgi_channel__", None) or []
                for channel in [channels] if isinstance(channels, str) else channels:
                    inbox = self._inboxes.get(channel)
                    if inbox is None:  # its consumer is gone: nobody would read it
                        continue
                    if inbox.qsize() >= self.get_capacity(channel):  # a consumer far behind: as Redis would
                        logger.info("channel %s over capacity; message dropped", channel)
                    else:
                        inbox.put_nowait(message)  # one object for all, as channels_redis does

    def _deliver_here(self, channel: str, data: bytes) -> bool:
        """Hand a group message to a consumer of this process, on its loop; False: it goes through Redis."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False
        inbox = self._inboxes.get(channel)
        if inbox is None or loop is not self._inbox_loop:
            return False
        if inbox.qsize() >= self.get_capacity(channel):
            logger.info("channel %s over capacity; group message dropped", channel)  # as channels_redis logs it
        else:
            inbox.put_nowait(self.deserialize(data))  # read back as if from Redis: the same types, its own copy
        return True

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        """Members read in one round trip (stale ones dropped, as channels_redis does in two); this process's
        members get their copies here, and only the others' go through Redis (``_send_elsewhere``)."""
        assert self.require_valid_group_name(group), "Group name not valid"
        key = self._group_key(group)
        async with self.connection(self.consistent_hash(group)).pipeline(transaction=False) as pipe:
            pipe.zremrangebyscore(key, min=0, max=int(time.time()) - self.group_expiry)
            pipe.zrange(key, 0, -1)
            _, members = await pipe.execute()
        names = [member.decode("utf8") for member in members]
        data = self.serialize(message) if any(self._own(name) for name in names) else b""
        elsewhere = [name for name in names if not (data and self._own(name) and self._deliver_here(name, data))]
        if elsewhere:
            await self._send_elsewhere(group, elsewhere, message)

    async def _send_elsewhere(self, group: str, names: list[str], message: dict[str, Any]) -> None:
        """channels_redis 4.3's group_send after its member read (the same Lua script, capacity and expiry), for
        the members this process does not hold: other processes, or members left by a process that stopped."""
        to_connection, to_message, to_capacity = super()._map_channel_keys_to_connection(names, message)
        for index, keys in to_connection.items():
            connection = self.connection(index)
            pipe = connection.pipeline()
            for key in keys:
                pipe.zremrangebyscore(key, min=0, max=int(time.time()) - int(self.expiry))
            await pipe.execute()
            args = [to_message[key] for key in keys] + [to_capacity[key] for key in keys] + [time.time(), self.expiry]
            over = await connection.eval(_GROUP_SEND_LUA, len(keys), *keys, *args)
            if over > 0:
                logger.info("%s of %s channels over capacity in group %s", over, len(names), group)
