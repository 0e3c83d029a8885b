"""Heartbeats: the gateway closes a connection whose client stopped beating, and its presence
entry outlives the last beat by a bounded time."""
from __future__ import annotations

import asyncio
import weakref

from django.conf import settings

from .loops import loop_local
from .protocol import Close


class Watchdog:
    """Closes the connections of this event loop whose heartbeats stopped (Close.HEARTBEAT_TIMEOUT).
    One task sweeps them all: a task per socket would cost memory on every idle connection."""

    def __init__(self):
        self.watched: set = set()  # of GatewayConsumer
        self.task: asyncio.Task | None = None

    def watch(self, consumer) -> None:
        self.watched.add(consumer)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._sweep())

    def forget(self, consumer) -> None:
        self.watched.discard(consumer)

    async def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        while self.watched:
            timeout = settings.GATEWAY_HEARTBEAT_INTERVAL_MS / 1000 * settings.GATEWAY_HEARTBEAT_GRACE
            await asyncio.sleep(min(1.0, timeout / 10))
            late = loop.time() - timeout
            for consumer in [c for c in self.watched if c.last_heartbeat < late]:
                self.watched.discard(consumer)
                consumer.end(Close.HEARTBEAT_TIMEOUT)


_watchdogs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # event loop → Watchdog


def watchdog() -> Watchdog:
    return loop_local(_watchdogs, Watchdog)


def presence_ttl() -> float:
    """How long a connection's presence entry outlives its last heartbeat: past the watchdog's
    deadline, plus the refresh batch's wait."""
    return (settings.GATEWAY_HEARTBEAT_INTERVAL_MS / 1000 * settings.GATEWAY_HEARTBEAT_GRACE
            + settings.PRESENCE_BATCH_SECONDS + 5)
