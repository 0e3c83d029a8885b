"""The Redis channel layer, with a connection pool that waits for a free connection and survives a
Redis restart.

channels-redis builds redis-py's plain pool, which raises MaxConnectionsError once every connection
is busy: in a reconnect storm thousands of sockets join their groups at the same moment and
handshakes fail. A blocking pool of a fixed size makes the excess wait a few milliseconds instead.
After Redis restarts, the pooled connections are dead; without retries each of them fails one
command (and the socket that issued it) before it is replaced.
"""
from __future__ import annotations

import redis.asyncio as redis
from channels_redis.core import RedisChannelLayer
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError


def retrying() -> dict:
    """Connection options: a command that finds its connection dead reconnects and tries again."""
    return {"retry": Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=3), "retry_on_error": [ConnectionError]}


class BlockingPoolRedisChannelLayer(RedisChannelLayer):
    def create_pool(self, index):
        host = {**retrying(), **self.hosts[index]}
        return redis.BlockingConnectionPool.from_url(host.pop("address"), **host)
