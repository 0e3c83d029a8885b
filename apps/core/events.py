"""The one event publisher.

Services call `publish(...)` inside their transaction; the event leaves only after commit, so a
client never hears of a row that was rolled back. Control events travel on the Channels layer to
named groups; hot events (apps/realtime/hub.py) on Redis pub/sub; the gateway relays both to
sockets as DISPATCH frames.
"""
from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)


def guild_group(guild_id: int) -> str:
    return f"guild.{guild_id}"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def publish(groups: str | Iterable[str], event_type: str, data: dict) -> None:
    """Send `event_type` with `data` to each group once the current transaction commits."""
    targets = [groups] if isinstance(groups, str) else list(groups)
    message = {"type": "gateway.dispatch", "t": event_type, "d": data}

    async def fan_out() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        for group in targets:
            try:
                await layer.group_send(group, message)
            except Exception:  # a broken layer must not break the write that already committed
                log.exception("could not publish %s to %s", event_type, group)

    from apps.realtime import hub

    # Hot events take the gateway's fan-out hub; after a control event of the same transaction
    # they follow it on the Channels layer, so that a client sees them in the order they happened.
    hot = event_type in hub.HOT and not _control_pending()

    def send() -> None:
        if hot:
            try:
                hub.publish(targets, event_type, data)
            except Exception:  # a broken Redis must not break the write that already committed
                log.exception("could not publish %s", event_type)
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            async_to_sync(fan_out)()  # the usual case: a plain synchronous thread
            return
        # This thread runs an event loop, where async_to_sync refuses to work: send from a
        # worker thread and wait, so the event still leaves, and leaves after commit.
        worker = threading.Thread(target=async_to_sync(fan_out))
        worker.start()
        worker.join()

    send.control = not hot
    transaction.on_commit(send)


def _control_pending() -> bool:
    """Whether the current transaction will publish a control event (on the Channels layer)."""
    return any(getattr(func, "control", False) for _, func, _ in transaction.get_connection().run_on_commit)
