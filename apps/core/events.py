"""The one event publisher.

Services call `publish(...)` inside their transaction; the event leaves only after commit, so a
client never hears of a row that was rolled back. Every event travels on the bus (apps/core/bus.py:
Redis pub/sub, one channel per group, or in process without Redis) to the gateway's hubs, in the
order it was published, and the gateway relays it to the sockets that may see it as a DISPATCH
frame.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction

from . import bus

log = logging.getLogger(__name__)


def guild_group(guild_id: int) -> str:
    return f"guild.{guild_id}"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def member_list_group(guild_id: int) -> str:
    """The connections showing a guild's member list: only they hear its presence changes."""
    return f"members.{guild_id}"


def publish(groups: str | Iterable[str], event_type: str, data: dict) -> None:
    """Send `event_type` with `data` to each group once the current transaction commits."""
    targets = [groups] if isinstance(groups, str) else list(groups)

    def send() -> None:
        try:
            bus.send(targets, event_type, data)
        except Exception:  # a broken Redis must not break the write that already committed
            log.exception("could not publish %s", event_type)

    transaction.on_commit(send)
