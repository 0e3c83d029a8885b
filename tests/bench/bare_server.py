"""The baseline of the gateway benchmark: a bare `websockets` server, the ceiling of Python here.

    python -m tests.bench.bare_server PORT REDIS_URL

No Django, no authentication, no per-member state: a connection joins group `big`, and also `small`
when its path asks for it (`/?g=small`). A text published on the Redis channel `bench:bare:<group>`
is written to every member with `websockets.broadcast` (one frame encoding for all). A connection
on `/?g=probe` gets `pong` for each `ping`, to measure how long the event loop stalls. Compression
is off, as on the gateway.
"""
from __future__ import annotations

import asyncio
import resource
import sys

import redis.asyncio as redis
from websockets.asyncio.server import broadcast, serve

GROUPS: dict[str, set] = {"big": set(), "small": set()}


async def handler(ws):
    group = ws.request.path.partition("g=")[2]
    if group == "probe":
        async for _ in ws:
            await ws.send("pong")
        return
    members = [GROUPS["big"]] + ([GROUPS["small"]] if group == "small" else [])
    for m in members:
        m.add(ws)
    try:
        await ws.wait_closed()
    finally:
        for m in members:
            m.discard(ws)


async def relay(url: str):
    pubsub = redis.Redis.from_url(url).pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(*[f"bench:bare:{g}" for g in GROUPS])
    async for message in pubsub.listen():
        if message["type"] == "message":
            group = message["channel"].decode().rsplit(":", 1)[1]
            broadcast(GROUPS[group], message["data"].decode())
            await asyncio.sleep(0)  # buffered messages are read without suspending: let other sockets in


async def main(port: int, url: str):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    async with serve(handler, "127.0.0.1", port, compression=None, ping_interval=60, ping_timeout=60,
                     max_queue=16, backlog=4096):
        await relay(url)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
