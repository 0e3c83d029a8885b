"""The Redis channel layer, with a connection pool that waits for a free connection.

channels-redis builds redis-py's plain pool, which raises MaxConnectionsError once every connection
is busy: in a reconnect storm thousands of sockets join their groups at the same moment and
handshakes fail. A blocking pool of a fixed size makes the excess wait a few milliseconds instead.
"""
from __future__ import annotations

import redis.asyncio as redis
from channels_redis.core import RedisChannelLayer


class BlockingPoolRedisChannelLayer(RedisChannelLayer):
    def create_pool(self, index):
        host = dict(self.hosts[index])
        return redis.BlockingConnectionPool.from_url(host.pop("address"), **host)
