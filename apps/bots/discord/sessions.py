"""Bot gateway sessions. A session outlives its socket: it stays in the hub's groups and keeps its
last BOT_RESUME_EVENTS dispatches for BOT_RESUME_SECONDS after the socket drops, so a bot that
RESUMEs gets exactly what it missed. Sessions live in the process that opened them (a RESUME that
reaches another node is told INVALID_SESSION and identifies again)."""
from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections import deque

from channels.db import database_sync_to_async
from django.conf import settings

from apps.bots import events as bot_events
from apps.chat import events as ce
from apps.core.events import guild_group, member_list_group, user_group
from apps.guilds import events as ge
from apps.realtime import events as rt_events
from apps.realtime import hub, presence
from apps.realtime.selectors import guild_state
from apps.rtc import events as voice_events
from apps.rtc import services as voice

from . import reads, shapes, translate

log = logging.getLogger(__name__)
_sessions: dict[str, Session] = {}


def find(session_id) -> Session | None:
    return _sessions.get(session_id) if isinstance(session_id, str) else None


def dispatch_frame(t: str, d: dict, s: int) -> str:
    return json.dumps({"op": 0, "t": t, "s": s, "d": d}, separators=(",", ":"))


class Session:
    def __init__(self, bot, app, intents: int):
        self.id = uuid.uuid4().hex
        self.bot, self.app, self.intents = bot, app, intents
        self.seq = 0
        self.buffer: deque[tuple[int, str]] = deque(maxlen=settings.BOT_RESUME_EVENTS)
        self.visible: dict[int, set[int]] = {}  # guild id → ids of the channels (and threads) the bot sees
        self.groups: set[str] = set()
        self.conn = None  # the socket attached now, if any
        self.queue: asyncio.Queue = asyncio.Queue()
        self.pump: asyncio.Task | None = None
        self.expiry: asyncio.TimerHandle | None = None
        self.closed = False
        _sessions[self.id] = self

    # --- start ----------------------------------------------------------------------------------

    async def start(self, conn, resume_url: str) -> None:
        """READY, then GUILD_CREATE per guild, then the events that arrived meanwhile, in order.
        The groups are joined before the state is read: nothing falls between the two."""
        self.conn = conn
        await self._join(user_group(self.bot.id))
        ids = await database_sync_to_async(reads.guild_ids)(self.bot)
        for gid in ids:
            await self._join(guild_group(gid))
        self.emit("READY", {
            "v": 10, "user": shapes.user(self.bot), "guilds": [{"id": str(g), "unavailable": True} for g in ids],
            "session_id": self.id, "session_type": "normal", "resume_gateway_url": resume_url, "shard": [0, 1],
            "application": {"id": str(self.app.id), "flags": shapes.application_flags(self.app)},
            "private_channels": [], "presences": [], "relationships": [], "guild_join_requests": [],
            "user_settings": {}, "geo_ordered_rtc_regions": [], "_trace": ["smartc"]})
        for gid in ids:
            await self._guild_create(gid)
        self.pump = asyncio.get_running_loop().create_task(self._pump())

    async def _join(self, group: str) -> None:
        self.groups.add(group)
        await hub.hub().join([group], self)

    async def _leave(self, group: str) -> None:
        self.groups.discard(group)
        await hub.hub().discard(group, self)

    # --- sockets ----------------------------------------------------------------------------------

    def attach(self, conn, after: int) -> bool:
        """Attach a resuming socket and replay the dispatches after `after`; False if they are not
        all kept any more (or `after` is from the future)."""
        if self.closed or after > self.seq or (self.buffer and after < self.buffer[0][0] - 1) or \
                (not self.buffer and after < self.seq):
            return False
        if self.expiry is not None:
            self.expiry.cancel()
            self.expiry = None
        if self.conn is not None and self.conn is not conn:
            self.conn.close(4000, "Session resumed elsewhere.")
        self.conn = conn
        for s, text in self.buffer:  # synchronous: nothing is emitted between the replay and the attach
            if s > after:
                conn.put(text)
        self.emit("RESUMED", {"_trace": ["smartc"]})
        return True

    def detach(self, conn) -> None:
        if self.conn is not conn or self.closed:
            return
        self.conn = None
        self.expiry = asyncio.get_running_loop().call_later(settings.BOT_RESUME_SECONDS,
                                                            lambda: asyncio.ensure_future(self.end()))

    async def end(self) -> None:
        if self.closed:
            return
        self.closed = True
        await self._release()

    async def _release(self) -> None:
        """Forget the session and leave the hub (once closed)."""
        _sessions.pop(self.id, None)
        if self.expiry is not None:
            self.expiry.cancel()
        if self.pump is not None and self.pump is not asyncio.current_task():
            self.pump.cancel()
        for group in list(self.groups):
            await self._leave(group)

    def emit(self, t: str, d: dict) -> None:
        self.seq += 1
        text = dispatch_frame(t, d, self.seq)
        self.buffer.append((self.seq, text))
        if self.conn is not None:
            self.conn.put(text)

    # --- events from the hub --------------------------------------------------------------------

    def relay(self, ev) -> bool:
        if self.closed:
            return False
        if self.queue.qsize() >= settings.GATEWAY_MAX_BACKLOG:  # far behind: start over rather than grow
            self.closed = True
            if self.conn is not None:
                self.conn.invalid_session()
            asyncio.ensure_future(self._release())
            return False
        self.queue.put_nowait((ev.t, ev.d))
        return False

    def resume(self) -> None:
        """The hub lost events: this session cannot replay them; the bot identifies again."""
        if self.conn is not None:
            self.conn.invalid_session()
        asyncio.ensure_future(self.end())

    async def _pump(self) -> None:
        while not self.closed:
            t, d = await self.queue.get()
            try:
                await self._handle(t, d)
            except Exception:  # one event's failure must not end the session
                log.exception("could not relay %s to a bot", t)

    async def _handle(self, t: str, d: dict) -> None:
        if t == bot_events.BOT_TOKEN_RESET:
            if self.conn is not None:
                self.conn.close(4004, "Authentication failed: the token was reset.")
            await self.end()
        elif t == ge.GUILD_CREATE:
            await self._join(guild_group(d["id"]))
            await self._guild_create(d["id"])
        elif t == ge.GUILD_DELETE:
            if self.visible.pop(d["id"], None) is not None:
                await self._leave(guild_group(d["id"]))
                await self._leave(member_list_group(d["id"]))
                self._send(translate.GUILDS, "GUILD_DELETE", {"id": str(d["id"])})
        elif t == voice_events.VOICE_STATE_UPDATE:
            # A leave (no channel) goes to every bot of the guild, as Discord sends it.
            if d["channel_id"] is None and d["guild_id"] in self.visible or self._sees(d):
                await self._voice_state(d)
        elif t == rt_events.PRESENCE_UPDATE:
            if d.get("guild_id") in self.visible:
                for p in d["presences"]:
                    self._send(translate.GUILD_PRESENCES, "PRESENCE_UPDATE",
                               shapes.presence(d["guild_id"], p["user_id"], p["status"]))
        elif t in translate.RECOMPUTE:
            if d.get("guild_id") in self.visible:
                await self._recompute(d["guild_id"])
        elif t in translate.CHANNEL_EVENTS:
            await self._channel_event(t, d)
        elif t in (ge.MEMBER_ADD, ge.MEMBER_REMOVE):
            await self._member_event(t, d)
        elif t in translate.MESSAGE_EVENTS:
            await self._message_event(t, d)

    def _send(self, intent: int, t: str, d: dict) -> None:
        if self.intents & intent:
            self.emit(t, d)

    def _sees(self, d: dict) -> bool:
        guild_id, channel_id = d.get("guild_id"), d.get("channel_id")
        if guild_id is None:
            return True  # DM events reach only their recipients' user groups
        return channel_id in self.visible.get(guild_id, ())

    async def _guild_create(self, guild_id: int) -> None:
        data, _ = await database_sync_to_async(reads.guild_create)(
            self.bot, guild_id, members_intent=bool(self.intents & translate.GUILD_MEMBERS))
        if data is None:
            await self._leave(guild_group(guild_id))
            return
        await self._recompute(guild_id)
        if self.intents & translate.GUILD_PRESENCES:
            # Joined before the statuses are read: a change between the two arrives after GUILD_CREATE.
            await self._join(member_list_group(guild_id))
            ids = [int(m["user"]["id"]) for m in data["members"]]
            now = await presence.statuses(ids)
            data["presences"] = [shapes.presence(guild_id, uid, status) for uid, status in now.items()
                                 if status != "offline"]
        if self.intents & translate.GUILD_VOICE_STATES:
            found = await database_sync_to_async(voice.voice_states)(guild_id=guild_id,
                                                                     channel_ids=self.visible[guild_id])
            data["voice_states"] = [shapes.voice_state(s) for s in found["voice_states"]]
        self._send(translate.GUILDS, "GUILD_CREATE", data)

    async def _recompute(self, guild_id: int) -> None:
        _entry, visible = await database_sync_to_async(guild_state)(self.bot, guild_id, full=False)
        self.visible[guild_id] = visible

    async def _channel_event(self, t: str, d: dict) -> None:
        guild_id = d.get("guild_id")
        if guild_id is None or guild_id not in self.visible:
            return
        was = d["id"] in self.visible[guild_id]
        if t == ge.CHANNEL_DELETE:
            self.visible[guild_id].discard(d["id"])
        else:
            await self._recompute(guild_id)
        if (t == ge.CHANNEL_DELETE and was) or (t != ge.CHANNEL_DELETE and d["id"] in self.visible[guild_id]):
            self._send(translate.GUILDS, t, shapes.channel_from_event(d))

    async def _member_event(self, t: str, d: dict) -> None:
        if d["guild_id"] not in self.visible or not self.intents & translate.GUILD_MEMBERS:
            return
        found = await database_sync_to_async(reads.users)([d["user_id"]])
        u = found[0] if found else {"id": str(d["user_id"]), "username": "", "discriminator": "0", "avatar": None}
        if t == ge.MEMBER_REMOVE:
            self.emit(t, {"guild_id": str(d["guild_id"]), "user": u})
            return
        self.emit(t, {"guild_id": str(d["guild_id"]), "user": u, "nick": d.get("nickname") or None,
                      "roles": [str(r) for r in d.get("roles", [])], "joined_at": None, "deaf": False,
                      "mute": False, "flags": 0, "pending": False, "avatar": None,
                      "communication_disabled_until": d.get("timed_out_until")})

    async def _voice_state(self, d: dict) -> None:
        if not self.intents & translate.GUILD_VOICE_STATES:
            return
        out = shapes.voice_state(d)
        member = await database_sync_to_async(reads.member_partial)(d["guild_id"], d["user_id"], with_user=True)
        if member is not None:
            out["member"] = member
        self.emit("VOICE_STATE_UPDATE", out)

    async def _message_event(self, t: str, d: dict) -> None:
        if not self._sees(d) or (d.get("held") and t != ce.MESSAGE_DELETE):
            return
        intent = translate.message_intent(t, d)
        if not self.intents & intent:
            return
        if t in (ce.MESSAGE_CREATE, ce.MESSAGE_UPDATE):
            mentions = await database_sync_to_async(reads.users)(d["mentions"]) if d.get("mentions") else []
            t, out = translate.message(t, d, bot_id=self.bot.id, intents=self.intents, mention_users=mentions)
            member = await database_sync_to_async(reads.member_partial)(d.get("guild_id"),
                                                                       (d.get("author") or {}).get("id"))
            if member is not None:
                out["member"] = member
            self.emit(t, out)
            return
        out = translate.simple(t, d)
        if out is not None:
            self.emit(*out)
