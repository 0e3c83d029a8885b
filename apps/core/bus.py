"""The event bus: how a published event travels from the process that wrote it to the gateway
nodes that hold the sockets.

The wire format and the publisher live here, at the bottom, so that any process (a web request, a
Celery worker, a management command) publishes without importing the gateway. With REDIS_URL an
event is one PUBLISH per group on the Redis channel `smartc:hub:<group>` (`smartc:hub:<db>:<group>`
on a Redis database other than 0), which every gateway node
with local members of the group is subscribed to (apps/realtime/hub.py); HUB_REDIS_URL gives the
events a Redis of their own, and HUB_REDIS_CLUSTER a Redis Cluster, where a PUBLISH is an SPUBLISH
on the shard that owns the group's channel. Without any (`make run`,
one process) there is no broker between publisher and sockets: the gateway's hub fills the
`local` slot when it starts, and events are handed to it in process. A process that has no hub
(no sockets to serve) then has nobody to deliver to, and its events are dropped, as Redis would.

Services do not call this module: they call apps.core.events.publish, which sends after commit.
"""
from __future__ import annotations

import json
import threading
import time

from django.conf import settings

from .hooks import Slot


def _prefix() -> str:
    """What a group's Redis channel starts with: `smartc:hub:`, with the events' Redis database
    number after it when that is not 0. Redis pub/sub ignores databases: two sites (or a site and
    a benchmark) on one Redis, each with a database of its own, heard each other's events."""
    db = 0
    if settings.HUB_REDIS_URL and not settings.HUB_REDIS_CLUSTER:
        from redis.connection import parse_url

        db = int(parse_url(settings.HUB_REDIS_URL).get("db") or 0)
    return f"smartc:hub:{db}:" if db else "smartc:hub:"


PREFIX = _prefix()  # a group's Redis channel is PREFIX + group

# The gateway's in-process delivery (groups, encoded event), filled by its hub once it serves
# sockets in this process; only used without REDIS_URL.
local = Slot("bus.local")
_publisher = None
_publisher_lock = threading.Lock()

# Event types that the gateway counts under their own name in its deliveries metric (the busiest
# ones); every other type counts as "other", so the metric's labels stay bounded.
_metered: set[str] = set()


def encode(t: str, d: dict) -> str:
    """The one serialisation of an event: its type, its publication time (Unix seconds on the
    publisher's clock, from which receiving nodes measure the broadcast latency) and its data as
    JSON, separated by spaces."""
    return f"{t} {time.time():.6f} {json.dumps(d, separators=(',', ':'))}"


def decode(data: str) -> tuple[str, float, str]:
    """An encoded event as (type, publication time, data as JSON text)."""
    t, published, text = data.split(" ", 2)
    return t, float(published), text


def channel(group: str) -> str:
    return PREFIX + group


def send(groups: list[str], t: str, d: dict) -> None:
    """Send an event to groups now, from any thread: serialised once, one PUBLISH per group."""
    data = encode(t, d)
    if not settings.HUB_REDIS_URL:
        local(groups, data)
        return
    publisher = _redis()
    publish = publisher.spublish if settings.HUB_REDIS_CLUSTER else publisher.publish
    for group in groups:
        publish(channel(group), data)


def _redis():
    global _publisher
    with _publisher_lock:
        if _publisher is None:
            import redis
            from redis.backoff import ExponentialBackoff
            from redis.cluster import RedisCluster
            from redis.retry import Retry

            retry = Retry(ExponentialBackoff(cap=1.0, base=0.05), 3)
            if settings.HUB_REDIS_CLUSTER:
                # The cluster client follows the slots (MOVED) and refreshes the layout itself.
                _publisher = RedisCluster.from_url(settings.HUB_REDIS_URL, retry=retry)
            else:
                _publisher = redis.Redis.from_url(settings.HUB_REDIS_URL, retry=retry,
                                                  retry_on_error=[redis.ConnectionError])
        return _publisher


def meter(*types: str) -> None:
    """Name event types that the gateway's deliveries metric counts on their own (an app's busiest
    events, declared beside them in its events.py)."""
    _metered.update(types)


def metered() -> frozenset[str]:
    return frozenset(_metered)


def is_metered(t: str) -> bool:
    return t in _metered
