"""Presence: online, idle, dnd or offline per user, aggregated over all the user's connections.

Each gateway connection keeps an entry `<connection id>|<status>` in a Redis sorted set per user,
scored by when it expires; heartbeats push the expiry forward, a clean disconnect removes it, and a
connection lost with its node simply expires. A user's status is the strongest of their live
entries (dnd > online > idle); with none left they are offline. Without REDIS_URL (`make run`, one
process) the same bookkeeping lives in memory.

Changes are published per guild in batches: a node gathers the presence changes of a short window
and sends one PRESENCE_UPDATE per guild with all of them, so a reconnect storm of a thousand members
costs each member one event per window, not a thousand.
"""
from __future__ import annotations

import asyncio
import logging
import time
import weakref

from channels.layers import get_channel_layer
from django.conf import settings

from apps.core.events import guild_group

log = logging.getLogger(__name__)

ONLINE, IDLE, DND, OFFLINE = "online", "idle", "dnd", "offline"
SETTABLE = (ONLINE, IDLE, DND)
_RANK = {DND: 3, ONLINE: 2, IDLE: 1}
PRESENCE_UPDATE = "PRESENCE_UPDATE"


def aggregate(entries) -> str:
    """The status shown for a user from their live connections' statuses."""
    best = max(entries, key=lambda status: _RANK.get(status, 0), default=None)
    return best if best in _RANK else OFFLINE


# Drop expired entries, replace this connection's entry (or only remove it when ARGV[3] is empty),
# and return the statuses before and after, in one atomic step.
_UPDATE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local before = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, entry in ipairs(before) do
  if string.sub(entry, 1, #ARGV[2]) == ARGV[2] then redis.call('ZREM', KEYS[1], entry) end
end
if ARGV[3] ~= '' then
  redis.call('ZADD', KEYS[1], ARGV[4], ARGV[2] .. ARGV[3])
  redis.call('EXPIRE', KEYS[1], ARGV[5])
end
return {before, redis.call('ZRANGE', KEYS[1], 0, -1)}
"""


def _statuses(entries) -> list[str]:
    return [(e.decode() if isinstance(e, bytes) else e).rpartition("|")[2] for e in entries]


class RedisStore:
    def __init__(self, url: str):
        self.url = url
        self.clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # event loop → client

    def _client(self):
        import redis.asyncio as redis

        loop = asyncio.get_running_loop()
        if loop not in self.clients:
            self.clients[loop] = redis.from_url(self.url)
        return self.clients[loop]

    @staticmethod
    def _key(user_id: int) -> str:
        return f"smartc:presence:{user_id}"

    async def update(self, user_id: int, conn: str, status: str | None, ttl: float) -> tuple[str, str]:
        now = time.time()
        before, after = await self._client().eval(
            _UPDATE, 1, self._key(user_id), now, f"{conn}|", status or "", now + ttl, int(ttl) + 1)
        return aggregate(_statuses(before)), aggregate(_statuses(after))

    async def close(self) -> None:
        client = self.clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

    async def statuses(self, user_ids: list[int]) -> dict[int, str]:
        if not user_ids:
            return {}
        now = time.time()
        async with self._client().pipeline(transaction=False) as pipe:
            for uid in user_ids:
                pipe.zrangebyscore(self._key(uid), now, "+inf")
            results = await pipe.execute()
        return {uid: aggregate(_statuses(entries)) for uid, entries in zip(user_ids, results, strict=True)}


class MemoryStore:
    """One process's presence, for the embedded defaults."""

    def __init__(self):
        self.entries: dict[int, dict[str, tuple[str, float]]] = {}

    def _live(self, user_id: int) -> dict[str, tuple[str, float]]:
        now = time.time()
        live = {c: e for c, e in self.entries.get(user_id, {}).items() if e[1] > now}
        self.entries[user_id] = live
        return live

    async def update(self, user_id: int, conn: str, status: str | None, ttl: float) -> tuple[str, str]:
        live = self._live(user_id)
        before = aggregate(s for s, _ in live.values())
        live.pop(conn, None)
        if status:
            live[conn] = (status, time.time() + ttl)
        if not live:
            self.entries.pop(user_id, None)
        return before, aggregate(s for s, _ in live.values())

    async def close(self) -> None:
        pass

    async def statuses(self, user_ids: list[int]) -> dict[int, str]:
        return {uid: aggregate(s for s, _ in self._live(uid).values()) for uid in user_ids}


class Batcher:
    """Gathers presence changes per guild for `delay` seconds, then publishes one event per guild."""

    def __init__(self, delay: float):
        self.delay = delay
        self.pending: dict[int, dict[int, str]] = {}
        self.flushing: asyncio.Task | None = None

    def add(self, guild_ids, user_id: int, status: str) -> None:
        for guild_id in guild_ids:
            self.pending.setdefault(guild_id, {})[user_id] = status
        if self.pending and (self.flushing is None or self.flushing.done()):
            self.flushing = asyncio.get_running_loop().create_task(self._flush_later())

    async def _flush_later(self) -> None:
        await asyncio.sleep(self.delay)
        pending, self.pending = self.pending, {}
        layer = get_channel_layer()
        for guild_id, changes in pending.items():
            presences = [{"user_id": uid, "status": status} for uid, status in changes.items()]
            try:
                await layer.group_send(guild_group(guild_id), {
                    "type": "gateway.dispatch", "t": PRESENCE_UPDATE,
                    "d": {"guild_id": guild_id, "presences": presences}})
            except Exception:  # presence is ephemeral: a lost batch is corrected by the next change
                log.exception("could not publish presence for guild %s", guild_id)


_store: RedisStore | MemoryStore | None = None
_batchers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # event loop → Batcher


def store() -> RedisStore | MemoryStore:
    global _store
    if _store is None:
        _store = RedisStore(settings.REDIS_URL) if settings.REDIS_URL else MemoryStore()
    return _store


def _batcher() -> Batcher:
    loop = asyncio.get_running_loop()
    if loop not in _batchers:
        _batchers[loop] = Batcher(settings.PRESENCE_BATCH_SECONDS)
    return _batchers[loop]


async def set_status(user_id: int, conn: str, status: str | None, guild_ids, ttl: float) -> str:
    """Record one connection's status (None: the connection is gone) and announce the user's new
    status to their guilds if it changed. Returns the user's status."""
    before, after = await store().update(user_id, conn, status, ttl)
    if before != after:
        _batcher().add(guild_ids, user_id, after)
    return after


async def statuses(user_ids: list[int]) -> dict[int, str]:
    return await store().statuses(user_ids)


async def close() -> None:
    """Drop this event loop's pending batch and its connection to the store (the loop is ending)."""
    batcher = _batchers.pop(asyncio.get_running_loop(), None)
    if batcher is not None and batcher.flushing is not None:
        batcher.flushing.cancel()
    await store().close()
