"""Messages waiting for their toxicity score, in Redis, so that a worker scores them in batches: the
model scores 32 messages in little more time than one. Two sorted sets, scored by message id (the
order messages were sent) and by claim time:

- `pending`: written when a message commits (hooks.message_written), read by the drain task;
- `claimed`: what a worker took and has not finished. A worker that dies mid-batch leaves its ids
  here; once they are older than MODERATION_SCORE_CLAIM_SECONDS the next drain takes them again.

Scoring is idempotent (services.score_messages skips a message already scored as it reads now),
so taking an id twice costs a model call, never a second decision. Without Redis (a laptop: `make
run`'s worker on the in-memory broker) there is no such queue: each message is scored on its own."""
from __future__ import annotations

import threading
import time

import redis
from django.conf import settings

PENDING, CLAIMED = "moderation:score:pending", "moderation:score:claimed"

# Atomic, so that two workers never take the same fresh id: stale claims first (they have waited
# longest), then the oldest pending ids; all of them stamped with the claim time.
_CLAIM = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
local need = tonumber(ARGV[3]) - #ids
if need > 0 then
  local fresh = redis.call('ZRANGE', KEYS[1], 0, need - 1)
  if #fresh > 0 then redis.call('ZREM', KEYS[1], unpack(fresh)) end
  for _, id in ipairs(fresh) do ids[#ids + 1] = id end
end
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[2], ARGV[1], id) end
return ids
"""

_lock = threading.Lock()
_clients: dict[str, redis.Redis] = {}


def enabled() -> bool:
    return bool(settings.REDIS_URL)


def _client() -> redis.Redis:
    with _lock:
        if settings.REDIS_URL not in _clients:
            _clients[settings.REDIS_URL] = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5)
        return _clients[settings.REDIS_URL]


def add(message_id: int) -> None:
    _client().zadd(PENDING, {str(message_id): message_id})


def drain_size() -> int:
    """How many ids a drain claims: MODERATION_SCORE_BATCH while no more wait; when more do (a burst,
    or workers slowed down by busy cores), all of them up to MODERATION_SCORE_BATCH_MAX. A bigger
    batch costs less per message, so a worker that fell behind catches up in fewer calls instead
    of falling further behind, and the cap bounds how long one batch, and so its first message, waits."""
    waiting = _client().zcard(PENDING)
    return max(settings.MODERATION_SCORE_BATCH, min(waiting, settings.MODERATION_SCORE_BATCH_MAX))


def claim(limit: int) -> list[int]:
    """Up to `limit` ids to score, in the order they were sent; [] when there is nothing to do."""
    now = time.time()
    ids = _client().eval(_CLAIM, 2, PENDING, CLAIMED, now, now - settings.MODERATION_SCORE_CLAIM_SECONDS, limit)
    return sorted(int(i) for i in ids)


def done(message_ids: list[int]) -> None:
    if message_ids:
        _client().zrem(CLAIMED, *[str(i) for i in message_ids])


def release(message_ids: list[int]) -> None:
    """Give claimed ids back (the batch failed and its task will retry): the next drain takes them."""
    if message_ids:
        pipe = _client().pipeline()
        pipe.zadd(PENDING, {str(i): i for i in message_ids})
        pipe.zrem(CLAIMED, *[str(i) for i in message_ids])
        pipe.execute()


def size() -> tuple[int, int]:
    """(pending, claimed) counts, for the admin and tests."""
    pipe = _client().pipeline()
    pipe.zcard(PENDING)
    pipe.zcard(CLAIMED)
    pending, claimed = pipe.execute()
    return pending, claimed
