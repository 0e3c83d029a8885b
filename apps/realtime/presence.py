"""Presence: online, idle, dnd or offline per user, aggregated over all the user's connections.

Each gateway connection keeps an entry `<connection id>|<status>` in a Redis sorted set per user,
scored by when it expires; heartbeats push the expiry forward, a clean disconnect removes it, and a
connection lost with its node simply expires. No connection waits for Redis: each event loop
gathers the writes of a short window (connections coming online, changing status, leaving, and
heartbeats) and sends them in one round trip, the last write of a connection winning. (Awaiting
one write per connection exhausted the Redis pool in a connect storm of tens of thousands of
sockets: READY and the close of every socket then waited for it.) A user's status is the
strongest of their live entries (dnd > online > idle); with none left they are offline. Without
REDIS_URL (`make run`, one process) the same bookkeeping lives in memory.

Changes are published per guild in batches, to the guild's member-list group (only connections
showing that list hear them): a node gathers the presence changes of a short window and sends one
PRESENCE_UPDATE per guild with all of them, so a reconnect storm of a thousand members costs each
follower one event per window, not a thousand, and costs the other connections nothing.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import weakref

from django.conf import settings
from redis.exceptions import NoScriptError

from apps.core import bus
from apps.core.events import member_list_group

from .events import PRESENCE_UPDATE
from .loops import loop_local
from .payloads import presence_update

log = logging.getLogger(__name__)

ONLINE, IDLE, DND, OFFLINE = "online", "idle", "dnd", "offline"
SETTABLE = (ONLINE, IDLE, DND)
_RANK = {DND: 3, ONLINE: 2, IDLE: 1}
bus.meter(PRESENCE_UPDATE)
POOL_SIZE = 50  # Redis connections per process for presence
POOL_WAIT = 30.0  # seconds an update may wait for one of them


def aggregate(entries) -> str:
    """The status shown for a user from their live connections' statuses."""
    best = max(entries, key=lambda status: _RANK.get(status, 0), default=None)
    return best if best in _RANK else OFFLINE


# Per user, three keys: the live connections scored by expiry, each connection's status, and how
# many connections have each status. Every step is O(1) in the number of connections, except that
# expired ones are dropped (each once). ARGV: now, connection id, status ('' once it is gone),
# its expiry, the keys' lifetime. Returns the user's strongest status before and after ('' = none).
_COMMON = """
local function strongest()
  for _, s in ipairs({'dnd', 'online', 'idle'}) do
    if tonumber(redis.call('HGET', KEYS[3], s) or '0') > 0 then return s end
  end
  return ''
end
local function drop(conns)
  for _, c in ipairs(conns) do
    local s = redis.call('HGET', KEYS[2], c)
    if s then
      redis.call('HINCRBY', KEYS[3], s, -1)
      redis.call('HDEL', KEYS[2], c)
    end
    redis.call('ZREM', KEYS[1], c)
  end
end
drop(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1]))
"""
_UPDATE = _COMMON + """
local before = strongest()
if ARGV[3] == '' then
  drop({ARGV[2]})
else
  local old = redis.call('HGET', KEYS[2], ARGV[2])
  if old ~= ARGV[3] then
    if old then redis.call('HINCRBY', KEYS[3], old, -1) end
    redis.call('HINCRBY', KEYS[3], ARGV[3], 1)
    redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
  end
  redis.call('ZADD', KEYS[1], ARGV[4], ARGV[2])
  for i = 1, 3 do redis.call('EXPIRE', KEYS[i], ARGV[5]) end
end
return {before, strongest()}
"""
_READ = _COMMON + "return strongest()"
# Sent by digest (EVALSHA): a storm's batch of thousands of writes carried the script's text, about
# 1 KB, in each of them, for the client to pack and Redis to hash.
_SHA = {script: hashlib.sha1(script.encode()).hexdigest() for script in (_UPDATE, _READ)}


def _status(raw) -> str:
    raw = raw.decode() if isinstance(raw, bytes) else raw
    return raw if raw in _RANK else OFFLINE


class RedisStore:
    def __init__(self, url: str):
        self.url = url
        self.clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # event loop → client

    def _client(self):
        import redis.asyncio as redis

        from .layers import retrying

        loop = asyncio.get_running_loop()
        if loop not in self.clients:
            # A bounded pool that waits for a free connection: in a connect storm thousands of
            # connections update presence at once, and a plain pool fails past its size.
            pool = redis.BlockingConnectionPool.from_url(self.url, max_connections=POOL_SIZE, timeout=POOL_WAIT,
                                                         **retrying())
            self.clients[loop] = redis.Redis(connection_pool=pool)
        return self.clients[loop]

    @staticmethod
    def _keys(user_id: int) -> list[str]:
        # One hash tag: the three keys of a user live on the same Redis Cluster slot.
        return [f"smartc:presence:{{{user_id}}}:{part}" for part in ("conns", "status", "counts")]

    async def update(self, user_id: int, conn: str, status: str | None, ttl: float) -> tuple[str, str]:
        now = time.time()
        before, after = await self._client().eval(
            _UPDATE, 3, *self._keys(user_id), now, conn, status or "", now + ttl, int(ttl) + 1)
        return _status(before), _status(after)

    async def update_many(self, entries: list[tuple[int, str, str, float]]) -> list[tuple[str, str]]:
        """`update` for many (user id, connection, status, ttl) at once, in one round trip."""
        now = time.time()
        results = await self._run(_UPDATE, [(*self._keys(user_id), now, conn, status, now + ttl, int(ttl) + 1)
                                            for user_id, conn, status, ttl in entries])
        return [(_status(before), _status(after)) for before, after in results]

    async def close(self) -> None:
        client = self.clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose(close_connection_pool=True)

    async def statuses(self, user_ids: list[int]) -> dict[int, str]:
        if not user_ids:
            return {}
        now = time.time()
        results = await self._run(_READ, [(*self._keys(uid), now) for uid in user_ids])
        return {uid: _status(raw) for uid, raw in zip(user_ids, results, strict=True)}

    async def _run(self, script: str, calls: list[tuple]) -> list:
        """`script` (3 keys, then its arguments) once per call, in one round trip. Redis forgets
        scripts when it restarts (or on SCRIPT FLUSH): the calls it did not know the script for are
        sent again once it is loaded (none of them ran)."""
        results = await self._pipelined(_SHA[script], calls)
        missed = [i for i, r in enumerate(results) if isinstance(r, NoScriptError)]
        if missed:
            await self._client().script_load(script)
            for i, r in zip(missed, await self._pipelined(_SHA[script], [calls[i] for i in missed]), strict=True):
                results[i] = r
        for r in results:
            if isinstance(r, Exception):
                raise r
        return results

    async def _pipelined(self, sha: str, calls: list[tuple]) -> list:
        async with self._client().pipeline(transaction=False) as pipe:
            for call in calls:
                pipe.evalsha(sha, 3, *call)
            return await pipe.execute(raise_on_error=False)


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

    async def update_many(self, entries: list[tuple[int, str, str, float]]) -> list[tuple[str, str]]:
        return [await self.update(*entry) for entry in entries]

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
        from . import hub

        for guild_id, changes in pending.items():
            try:
                await hub.publish_async([member_list_group(guild_id)], PRESENCE_UPDATE,
                                        presence_update(guild_id, changes))
            except Exception:  # presence is ephemeral: a lost batch is corrected by the next change
                log.exception("could not publish presence for guild %s", guild_id)


class Writer:
    """Writes connections' entries: a write is queued here and its caller goes on; every `delay`
    seconds the queued ones go to the store in one round trip (one at a time, so a later write of a
    connection never lands before an earlier one), and the guilds of each user whose status changed
    hear of it. An entry that had run out (the server fell behind its TTL) comes back with its next
    heartbeat, and the user is announced online again."""

    def __init__(self, delay: float):
        self.delay = delay
        self.pending: dict[str, tuple[int, str, float, list[int]]] = {}  # connection → user, status, ttl, guilds
        self.flushing: asyncio.Task | None = None

    def add(self, user_id: int, conn: str, status: str, guild_ids: list[int], ttl: float) -> None:
        self.pending[conn] = (user_id, status, ttl, guild_ids)
        if self.flushing is None or self.flushing.done():
            self.flushing = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        while self.pending:
            await asyncio.sleep(self.delay)
            pending, self.pending = self.pending, {}
            try:
                results = await store().update_many(
                    [(user_id, conn, status, ttl) for conn, (user_id, status, ttl, _) in pending.items()])
            except Exception:  # the entries expire; live connections' next heartbeats write them again
                log.exception("could not write %s presence entries", len(pending))
                continue
            for (user_id, _, _, guild_ids), (before, after) in zip(pending.values(), results, strict=True):
                if before != after:
                    _batcher().add(guild_ids, user_id, after)


_store: RedisStore | MemoryStore | None = None
_batchers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # event loop → Batcher
_writers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # event loop → Writer


def store() -> RedisStore | MemoryStore:
    global _store
    if _store is None:
        _store = RedisStore(settings.REDIS_URL) if settings.REDIS_URL else MemoryStore()
    return _store


def _batcher() -> Batcher:
    return loop_local(_batchers, lambda: Batcher(settings.PRESENCE_BATCH_SECONDS))


def _writer() -> Writer:
    return loop_local(_writers, lambda: Writer(settings.PRESENCE_BATCH_SECONDS))


def set_status(user_id: int, conn: str, status: str | None, guild_ids: list[int], ttl: float) -> None:
    """Record one connection's status, or push its expiry forward (a heartbeat: the same status
    again), or remove it (None: the connection is gone), in the next batch. The user's guilds hear
    of their aggregate status when it changes."""
    _writer().add(user_id, conn, status or "", guild_ids, ttl)


async def statuses(user_ids: list[int]) -> dict[int, str]:
    return await store().statuses(user_ids)


_sync_client = None


def statuses_now(user_ids: list[int]) -> dict[int, str]:
    """`statuses` for code outside the gateway's event loops (a Celery worker deciding who hears
    of a message: apps.notifications fills its `statuses` slot with this). With Redis, one
    pipelined round trip; without, this process's own store (`make run` serves and runs its worker
    in one process), read without changing it."""
    global _sync_client
    if not user_ids:
        return {}
    if not settings.REDIS_URL:
        entries = _store.entries if isinstance(_store, MemoryStore) else {}
        now = time.time()
        # list() copies a connection's entries at once (the event loop's thread changes them).
        return {uid: aggregate(s for s, until in list(entries.get(uid, {}).values()) if until > now)
                for uid in user_ids}
    if _sync_client is None:
        import redis

        _sync_client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=2)
    now = time.time()
    with _sync_client.pipeline(transaction=False) as pipe:
        for uid in user_ids:
            pipe.eval(_READ, 3, *RedisStore._keys(uid), now)
        results = pipe.execute()
    return {uid: _status(raw) for uid, raw in zip(user_ids, results, strict=True)}


async def close() -> None:
    """Drop this event loop's pending batch and its connection to the store (the loop is ending)."""
    loop = asyncio.get_running_loop()
    for registry in (_batchers, _writers):
        batch = registry.pop(loop, None)
        if batch is not None and batch.flushing is not None:
            batch.flushing.cancel()
    await store().close()
