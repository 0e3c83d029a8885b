"""How a gateway connection relays the hub's events (apps/realtime/hub.py): the per-member step of
every broadcast, and the inbox that keeps events in order behind those that read the database.

A mixin of GatewayConsumer (consumers.py), with no state of its own: the connection's slots hold it.
`relay` runs once per member of every broadcast, so its common case (no inbox, no hook, a guild
event) is written out in one function: the visibility check, the sequence number and the frame go
to the Outbox's write without a call per step. The frame is the event's, header included, built once
per broadcast (hub.Event.framed), and this member's sequence number.
"""
from __future__ import annotations

import asyncio
import logging
from collections import deque

from django.conf import settings

from . import events, hub, metrics, protocol
from .protocol import Close

log = logging.getLogger(__name__)


class Relaying:
    """The relay path of a gateway connection (GatewayConsumer's slots: closing, inbox, held,
    draining, drainer, visible, private, member_lists, seq, outbox; its EVENT_HOOKS and _dispatch)."""

    __slots__ = ()

    def relay(self, ev: hub.Event) -> bool:
        """An event published to one of this connection's groups. Most are an in-memory check and
        a frame made of the hub's prebuilt one and this connection's sequence number, written at once;
        those with a hook, and any event while others wait, go through the inbox, in order.
        True if a frame was queued here."""
        if self.closing:
            return False
        if self.inbox is not None or ev.t in self.EVENT_HOOKS:
            self._wait(ev)
            return False
        guild_id = ev.guild_id
        if guild_id is None or ev.t == events.PRESENCE_UPDATE:
            return self._emit(ev)
        # The common case, once per member of every broadcast, inline: a guild event (_sees_ids).
        visible = self.visible.get(guild_id)
        if visible is None or (ev.channel_id is not None and ev.channel_id not in visible):
            return False
        self.seq = seq = self.seq + 1
        ending = b"%d}" % seq
        if not self.outbox.write_frame(ev.framed[len(ending)] + ending):
            self._too_slow()
            return False
        return True

    def _emit(self, ev: hub.Event) -> bool:
        if ev.t == events.PRESENCE_UPDATE:
            if not self._follows_presence(ev.d):
                return False
        elif not self._sees_ids(ev.guild_id, ev.channel_id):
            return False
        self.seq += 1
        ending = b"%d}" % self.seq
        if not self.outbox.write_frame(ev.framed[len(ending)] + ending):
            self._too_slow()
            return False
        return True

    def _wait(self, ev: hub.Event):
        if self.inbox is None:
            self.inbox = deque()
        if len(self.inbox) >= settings.GATEWAY_MAX_BACKLOG:
            self._too_slow()
            return
        self.inbox.append(ev)
        if not self.held and not self.draining:
            self.drainer = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self):
        """Relay the waiting events in order, running their hooks (one drainer at a time)."""
        if self.draining:
            return
        self.draining = True
        try:
            while self.inbox and not self.held and not self.closing:
                ev = self.inbox.popleft()
                hook = self.EVENT_HOOKS.get(ev.t)
                if hook is None:
                    metrics.delivered(ev.t, self._emit(ev))  # the hub counts only the frames it wrote
                    continue
                try:
                    out = await hook(self, ev.t, ev.d)
                except Exception:  # one event's failure must not end the connection
                    log.exception("could not relay %s", ev.t)
                    continue
                if out is not None:
                    self._dispatch(ev.t, out)
                    metrics.delivered(ev.t, 1)
            if not self.inbox and not self.held:
                self.inbox = None
        finally:
            self.draining = False

    def _sees(self, t, d) -> bool:
        return self._sees_ids(protocol.event_guild_id(t, d), d.get("channel_id"))

    def _sees_ids(self, guild_id: int | None, channel_id: int | None) -> bool:
        if guild_id is not None:
            visible = self.visible.get(guild_id)
            if visible is None:
                return False  # a guild this connection has just left: the publish raced the unsubscribe
            return channel_id is None or channel_id in visible
        if channel_id is None:
            return True
        if channel_id in self.private:
            return True
        return any(channel_id in s for s in self.visible.values())

    def _follows_presence(self, d) -> bool:
        return d["guild_id"] in self.member_lists and d["guild_id"] in self.visible

    def _too_slow(self):
        """Too far behind: drop the backlog and close; the client resumes over REST."""
        self.closing = True
        self.inbox = None
        self.outbox.abort(int(Close.TOO_SLOW))
        metrics.SLOW_CLOSES.inc()
