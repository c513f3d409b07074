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
  hands each message to its consumer's inbox. No backup set: a message is lost only if the process dies, and
  then its sockets are gone too.

Delivery stays at most once and unordered between processes, as channels_redis's is under capacity limits:
the live socket drops what it already sent and fills any gap from the meeting's event log. Everything else
(named channels, groups in Redis, expiry, several Redis hosts) is channels_redis's own.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from channels_redis import core

logger = logging.getLogger("meetpilot.channels")

READ_BATCH = 100  # messages taken out of Redis per round trip


class RedisChannelLayer(core.RedisChannelLayer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._inboxes: dict[str, asyncio.Queue] = {}  # this process's channels -> their waiting messages
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
            self._inboxes, self._inbox_loop, self._reader = {}, loop, None  # a new loop (tests): start afresh
            # (a reader left on the old loop stops by itself: it is no longer ``_reader``)
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
        try:
            return await inbox.get()
        except asyncio.CancelledError:  # the consumer is closing (Channels cancels its receive)
            if self._inboxes.get(channel) is inbox:
                del self._inboxes[channel]
            raise

    async def _read(self) -> None:
        """This process's reader: what other processes left for its consumers, many messages per round trip."""
        name = f"specific.{self.client_prefix}!"
        key, connection = self.prefix + name, self.connection(self.consistent_hash(name))
        while True:
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
                    if inbox is not None:  # else its consumer is gone: nobody would read it
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
        """Members read in one round trip (stale ones dropped, as channels_redis does in two); when all of them are
        in this process, that is all Redis sees of the message. Otherwise channels_redis's own, whose copies for
        this process's members are handed over here (``_map_channel_keys_to_connection``)."""
        assert self.require_valid_group_name(group), "Group name not valid"
        key = self._group_key(group)
        async with self.connection(self.consistent_hash(group)).pipeline(transaction=False) as pipe:
            pipe.zremrangebyscore(key, min=0, max=int(time.time()) - self.group_expiry)
            pipe.zrange(key, 0, -1)
            _, members = await pipe.execute()
        names = [member.decode("utf8") for member in members]
        if self._inbox_loop is asyncio.get_running_loop() and all(name in self._inboxes for name in names):
            data = self.serialize(message) if names else b""
            for name in names:
                self._deliver_here(name, data)
            return
        await super().group_send(group, message)

    def _map_channel_keys_to_connection(self, channel_names: list[str], message: dict[str, Any]) -> Any:
        # channels_redis's group_send asks this where each member's copy goes: this process's members get theirs
        # here and now; the rest as before.
        data = self.serialize(message) if any(self._own(name) for name in channel_names) else b""
        remote = [name for name in channel_names if not (data and self._own(name) and self._deliver_here(name, data))]
        return super()._map_channel_keys_to_connection(remote, message)
