"""Voice state in Redis, so that any node can serve any participant.

Per guild, a hash user id → the participant's state (JSON) and a sorted set user id → expiry. Every
write first drops the guild's expired participants and returns them, so a node that crashed with
its participants leaves no ghosts: their entries run out (the gateway connection refreshes them with
each heartbeat) and the next write in the guild announces them gone. Joining counts the channel's
participants and adds one in the same script, so two members racing for the last place cannot both
get it. Per user, a key names the guild of their one voice session, so joining elsewhere can leave
the first room. Without REDIS_URL (`make run`, one process) the same bookkeeping lives in memory.
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field

from django.conf import settings

_DROP_EXPIRED = """
local dropped = {}
for _, uid in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])) do
  local raw = redis.call('HGET', KEYS[1], uid)
  if raw then table.insert(dropped, raw) end
  redis.call('HDEL', KEYS[1], uid)
  redis.call('ZREM', KEYS[2], uid)
end
"""
# ARGV: now, user id, state (JSON), channel id, capacity (0: none), expiry, keys' lifetime.
# Returns {'ok' | 'full', participants of the channel (with this one when ok), previous state, dropped}.
_JOIN = _DROP_EXPIRED + """
local count = 0
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if all[i] ~= ARGV[2] and tostring(cjson.decode(all[i + 1]).channel_id) == ARGV[4] then count = count + 1 end
end
local previous = redis.call('HGET', KEYS[1], ARGV[2]) or ''
if tonumber(ARGV[5]) > 0 and count >= tonumber(ARGV[5]) then
  return {'full', count, previous, dropped}
end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[6], ARGV[2])
for i = 1, 2 do redis.call('EXPIRE', KEYS[i], ARGV[7]) end
return {'ok', count + 1, previous, dropped}
"""
# ARGV: now, user id, session ('' = whichever), changes (JSON object), expiry, keys' lifetime.
# Returns {'ok' | 'gone', new state, old state, dropped}.
_UPDATE = _DROP_EXPIRED + """
local raw = redis.call('HGET', KEYS[1], ARGV[2])
if not raw then return {'gone', '', '', dropped} end
local state = cjson.decode(raw)
if ARGV[3] ~= '' and state.session_id ~= ARGV[3] then return {'gone', '', raw, dropped} end
for k, v in pairs(cjson.decode(ARGV[4])) do state[k] = v end
local new = cjson.encode(state)
redis.call('HSET', KEYS[1], ARGV[2], new)
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[2])
for i = 1, 2 do redis.call('EXPIRE', KEYS[i], ARGV[6]) end
return {'ok', new, raw, dropped}
"""
# ARGV: now, user id, session ('' = whichever). Returns {'ok' | 'gone', old state, dropped}.
_LEAVE = _DROP_EXPIRED + """
local raw = redis.call('HGET', KEYS[1], ARGV[2])
if not raw then return {'gone', '', dropped} end
if ARGV[3] ~= '' and cjson.decode(raw).session_id ~= ARGV[3] then return {'gone', '', dropped} end
redis.call('HDEL', KEYS[1], ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[2])
return {'ok', raw, dropped}
"""
# Reads only: an expired participant is left for the next write to drop and announce.
_READ = """
local live = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[1], '+inf')
if #live == 0 then return {} end
return redis.call('HMGET', KEYS[1], unpack(live))
"""

# ARGV: now, user ids. The live states of those users ('' for none), without reading the others.
_GET = """
local out = {}
for i = 2, #ARGV do
  local expiry = redis.call('ZSCORE', KEYS[2], ARGV[i])
  if expiry and tonumber(expiry) > tonumber(ARGV[1]) then
    out[i - 1] = redis.call('HGET', KEYS[1], ARGV[i]) or ''
  else
    out[i - 1] = ''
  end
end
return out
"""

# A listening party, beside the room's voice state. ARGV: the version the writer read (0: none),
# the new party (JSON; '' ends it), the key's lifetime. Returns 1, or 0 if another write came first.
_PARTY_SWAP = """
local raw = redis.call('GET', KEYS[1])
local version = 0
if raw then version = cjson.decode(raw).version end
if tostring(version) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) end
return 1
"""
PARTY_KEEP_SECONDS = 24 * 3600  # a party whose room emptied on a crashed node still ends, at the latest


@dataclass
class Result:
    ok: bool
    state: dict | None = None  # the participant after the write
    old: dict | None = None  # before it
    count: int = 0  # participants of the channel (join)
    dropped: list[dict] = field(default_factory=list)  # participants who expired


def _keep(ttl: float) -> int:
    """How long a guild's keys outlive its last write: well past any entry's expiry, so that the
    next write finds the expired entries and announces them (a deleted key would take them along
    unannounced)."""
    return int(ttl * 4) + 60


def _decode(raw) -> dict | None:
    if not raw:
        return None
    return json.loads(raw.decode() if isinstance(raw, bytes) else raw)


def _decode_list(raws) -> list[dict]:
    return [_decode(r) for r in raws or []]


class RedisStore:
    def __init__(self, url: str):
        import redis

        self.client = redis.Redis.from_url(url)  # thread-safe: services run in worker threads
        self.scripts = {name: self.client.register_script(src)
                        for name, src in (("join", _JOIN), ("update", _UPDATE), ("leave", _LEAVE), ("read", _READ),
                                             ("get", _GET), ("party_swap", _PARTY_SWAP))}

    @staticmethod
    def _keys(guild_id: int) -> list[str]:
        # One hash tag: a guild's two keys live on the same Redis Cluster slot.
        return [f"smartc:voice:{{{guild_id}}}:states", f"smartc:voice:{{{guild_id}}}:expiry"]

    @staticmethod
    def _user_key(user_id: int) -> str:
        return f"smartc:voice:user:{user_id}"

    def join(self, state: dict, capacity: int, ttl: float) -> Result:
        now = time.time()
        status, count, previous, dropped = self.scripts["join"](
            keys=self._keys(state["guild_id"]),
            args=[now, state["user_id"], json.dumps(state), state["channel_id"], capacity, now + ttl, _keep(ttl)])
        ok = status == b"ok"
        if ok:
            self.client.set(self._user_key(state["user_id"]), state["guild_id"], ex=_keep(ttl))
        return Result(ok, state if ok else None, _decode(previous), int(count), _decode_list(dropped))

    def update(self, guild_id: int, user_id: int, changes: dict, ttl: float, session: str = "") -> Result:
        now = time.time()
        status, new, old, dropped = self.scripts["update"](
            keys=self._keys(guild_id), args=[now, user_id, session, json.dumps(changes), now + ttl, _keep(ttl)])
        ok = status == b"ok"
        if ok:
            self.client.set(self._user_key(user_id), guild_id, ex=_keep(ttl))
        return Result(ok, _decode(new), _decode(old), dropped=_decode_list(dropped))

    def leave(self, guild_id: int, user_id: int, session: str = "") -> Result:
        status, old, dropped = self.scripts["leave"](keys=self._keys(guild_id), args=[time.time(), user_id, session])
        ok = status == b"ok"
        if ok:
            self.client.delete(self._user_key(user_id))
        return Result(ok, None, _decode(old), dropped=_decode_list(dropped))

    def states(self, guild_id: int) -> list[dict]:
        """The guild's live participants."""
        raws = self.scripts["read"](keys=self._keys(guild_id), args=[time.time()])
        return [s for s in _decode_list(raws) if s]

    def get(self, guild_id: int, user_ids: list[int]) -> dict[int, dict]:
        """The live participants among these users, by user id (a signal reads two, not the guild)."""
        raws = self.scripts["get"](keys=self._keys(guild_id), args=[time.time(), *user_ids])
        return {uid: state for uid, raw in zip(user_ids, raws, strict=True) if (state := _decode(raw))}

    def guild_of(self, user_id: int) -> int | None:
        raw = self.client.get(self._user_key(user_id))
        return int(raw) if raw else None

    @staticmethod
    def _party_key(guild_id: int, channel_id: int) -> str:
        return f"smartc:voice:{{{guild_id}}}:party:{channel_id}"

    def party(self, guild_id: int, channel_id: int) -> dict | None:
        return _decode(self.client.get(self._party_key(guild_id, channel_id)))

    def swap_party(self, guild_id: int, channel_id: int, read_version: int, party: dict | None) -> bool:
        """Write (or end, None) the channel's party if its version is still the one read."""
        return bool(self.scripts["party_swap"](
            keys=[self._party_key(guild_id, channel_id)],
            args=[read_version, json.dumps(party) if party else "", PARTY_KEEP_SECONDS]))


class MemoryStore:
    """One process's voice state, for the embedded defaults."""

    def __init__(self):
        self.lock = threading.Lock()
        self.guilds: dict[int, dict[int, tuple[dict, float]]] = {}
        self.users: dict[int, int] = {}
        self.parties: dict[tuple[int, int], dict] = {}

    def _live(self, guild_id: int) -> tuple[dict[int, tuple[dict, float]], list[dict]]:
        now = time.time()
        entries = self.guilds.setdefault(guild_id, {})
        expired = [uid for uid, (_, expiry) in entries.items() if expiry <= now]
        return entries, [entries.pop(uid)[0] for uid in expired]

    def join(self, state: dict, capacity: int, ttl: float) -> Result:
        with self.lock:
            entries, dropped = self._live(state["guild_id"])
            count = sum(1 for uid, (s, _) in entries.items()
                        if uid != state["user_id"] and s["channel_id"] == state["channel_id"])
            previous = entries.get(state["user_id"], (None, 0))[0]
            if capacity and count >= capacity:
                return Result(False, None, previous, count, dropped)
            entries[state["user_id"]] = (dict(state), time.time() + ttl)
            self.users[state["user_id"]] = state["guild_id"]
            return Result(True, dict(state), previous, count + 1, dropped)

    def update(self, guild_id: int, user_id: int, changes: dict, ttl: float, session: str = "") -> Result:
        with self.lock:
            entries, dropped = self._live(guild_id)
            old = entries.get(user_id, (None, 0))[0]
            if old is None or (session and old["session_id"] != session):
                return Result(False, None, old, dropped=dropped)
            new = {**old, **changes}
            entries[user_id] = (new, time.time() + ttl)
            return Result(True, dict(new), old, dropped=dropped)

    def leave(self, guild_id: int, user_id: int, session: str = "") -> Result:
        with self.lock:
            entries, dropped = self._live(guild_id)
            old = entries.get(user_id, (None, 0))[0]
            if old is None or (session and old["session_id"] != session):
                return Result(False, None, None, dropped=dropped)
            del entries[user_id]
            self.users.pop(user_id, None)
            return Result(True, None, old, dropped=dropped)

    def states(self, guild_id: int) -> list[dict]:
        now = time.time()
        with self.lock:
            return [dict(s) for s, expiry in self.guilds.get(guild_id, {}).values() if expiry > now]

    def get(self, guild_id: int, user_ids: list[int]) -> dict[int, dict]:
        now = time.time()
        with self.lock:
            entries = self.guilds.get(guild_id, {})
            return {uid: dict(entries[uid][0]) for uid in user_ids if uid in entries and entries[uid][1] > now}

    def guild_of(self, user_id: int) -> int | None:
        return self.users.get(user_id)

    def party(self, guild_id: int, channel_id: int) -> dict | None:
        with self.lock:
            party = self.parties.get((guild_id, channel_id))
            return json.loads(json.dumps(party)) if party else None

    def swap_party(self, guild_id: int, channel_id: int, read_version: int, party: dict | None) -> bool:
        with self.lock:
            current = self.parties.get((guild_id, channel_id))
            if (current["version"] if current else 0) != read_version:
                return False
            if party:
                self.parties[(guild_id, channel_id)] = json.loads(json.dumps(party))
            else:
                self.parties.pop((guild_id, channel_id), None)
            return True


_store: RedisStore | MemoryStore | None = None
_store_lock = threading.Lock()


def store() -> RedisStore | MemoryStore:
    global _store
    with _store_lock:
        if _store is None:
            _store = RedisStore(settings.REDIS_URL) if settings.REDIS_URL else MemoryStore()
        return _store
