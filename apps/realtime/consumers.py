"""The WebSocket gateway (/ws/gateway/): one socket per browser tab relays the user's events and
takes a few client requests. Frames and codes live in protocol.py; docs/gateway.md is the contract.

A connection holds, per guild it belongs to, the set of channel ids it can view (threads included:
a thread is visible exactly when its parent is). Relaying an event is an in-memory check against
that set; the set is recomputed (through the permission engine) only when an event says
permissions, roles or channels changed.
"""
from __future__ import annotations

import asyncio
import logging
import uuid
from collections import deque
from types import SimpleNamespace

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import translation

from apps.accounts import events as account_events
from apps.chat import events as ce
from apps.chat import payloads as chat_payloads
from apps.chat import services as chat
from apps.core.errors import DomainError
from apps.core.events import guild_group, member_list_group
from apps.guilds import events as ge
from apps.guilds import payloads as guild_payloads
from apps.rtc import events as rtc_events
from apps.rtc import payloads as rtc_payloads
from apps.rtc import services as rtc

from . import events, hub, metrics, payloads, presence, protocol, ready, selectors
from .admission import refuse, user_sockets
from .protocol import Close, GatewayError, Op
from .reads import cookies_of, header, on_ready_threads
from .relaying import Relaying
from .watchdog import presence_ttl, watchdog

log = logging.getLogger(__name__)
NONE: frozenset = frozenset()

class GatewayConsumer(Relaying):
    """One gateway socket, as a plain ASGI application: it reads the client's frames in its own
    coroutine and gets events from the hub (`relay`), with no Channels layer, no task and no queue
    of its own while idle (each of those cost memory on every open socket)."""

    # Slots rather than a __dict__: a node holds tens of thousands of these. The five that `relay`
    # reads for every member of a broadcast come first, within 56 bytes of the object's start (with
    # the type it reads too): fewer cache lines to fetch per member than when they were spread out.
    __slots__ = ("closing", "inbox", "visible", "seq", "outbox", "scope", "send", "private", "joined", "status",
                 "member_lists", "held", "draining", "drainer", "user", "language", "accepted_at", "session_id",
                 "rate", "max_frame", "last_heartbeat", "voice", "admitted", "__weakref__")

    def __init__(self, scope, send):
        self.scope, self.send = scope, send
        self.visible: dict[int, set[int]] = {}  # guild id → ids of the channels this user can view
        # Both rarely change and are often empty: immutable, so that empty ones share one object.
        self.private: frozenset[int] = NONE  # ids of the DMs and group DMs this user is in
        self.joined: set[str] = set()
        self.seq = 0
        self.closing = False
        self.status: str | None = None  # this connection's presence once READY
        self.member_lists: frozenset[int] = NONE  # guilds whose member list (and presences) this client follows
        self.outbox: hub.Outbox | None = None  # every frame after the handshake goes through it
        # Events that wait, in order: until READY is sent, while a request reads state the events
        # could change, and behind an event whose hook reads the database. None: nothing waits.
        self.inbox: deque | None = deque()
        self.held = 1  # READY is not sent yet
        self.draining = False
        self.drainer: asyncio.Task | None = None  # a drain started by an event (kept: tasks are weakly held)
        self.voice: int | None = None  # the guild of this connection's voice session, if it joined one
        self.admitted: int | None = None  # the user id this socket counts for (admission.user_sockets)

    @classmethod
    def as_asgi(cls):
        def app(scope, receive, send):
            # Hands back run() rather than awaiting it: no frame of its own for the socket's life.
            return cls(scope, send).run(receive)

        return app

    async def run(self, receive):
        if (await receive())["type"] != "websocket.connect":
            return
        self.accepted_at = asyncio.get_running_loop().time()
        # Until the accept nothing is written; a backlog overflow meanwhile refuses the handshake.
        self.outbox = hub.Outbox(self.send, settings.GATEWAY_MAX_BACKLOG,
                                 (self.scope.get("extensions") or {}).get(hub.SEND_FRAME))
        try:
            state = await self._open()
        except BaseException:  # a read failed, or the task was cancelled, maybe after the joins
            await self._cleanup()
            raise
        if state is None or state is Close.TOO_MANY_CONNECTIONS:
            await refuse(self.send, state or Close.NOT_AUTHENTICATED, self.scope.get("auth_error"))
            return
        metrics.CONNECTIONS.inc()
        try:
            await self.connect(state)
            del state  # READY's data, else kept by this coroutine (the socket's life) on every idle socket
            while True:
                message = await receive()
                kind = message["type"]
                if kind == "websocket.receive":
                    await self.receive(message.get("text"), message.get("bytes"))
                elif kind == "websocket.disconnect":
                    return
        finally:
            metrics.CONNECTIONS.dec()
            # In a finally: a crash or a cancelled task must not leave the connection in the hub.
            await self._cleanup()

    # --- connection -------------------------------------------------------------------------

    async def connect(self, state):
        ids, guilds, self.visible, private, notify = state
        self.language = language_of(self.scope)
        await self.send({"type": "websocket.accept"})
        loop = asyncio.get_running_loop()
        self.session_id = uuid.uuid4().hex
        self.rate = protocol.FrameRateLimit(settings.GATEWAY_RATE_LIMIT, settings.GATEWAY_RATE_WINDOW)
        self.max_frame = settings.GATEWAY_MAX_FRAME_BYTES
        self._put(protocol.hello(settings.GATEWAY_HEARTBEAT_INTERVAL_MS))
        for guild_id in set(ids) - set(self.visible):
            await self._leave(guild_group(guild_id))
        self.private = frozenset(c["id"] for c in private) or NONE
        self._set_presence(presence.ONLINE)
        self._dispatch(events.READY, payloads.ready(self.user, guilds=guilds, private_channels=private,
                                                    notification_settings=notify, session_id=self.session_id))
        metrics.READY_SECONDS.observe(loop.time() - self.accepted_at)
        # Heartbeats sent while the server was still preparing READY wait unread behind connect():
        # the client is not late, the server was. The deadline counts from READY.
        self.last_heartbeat = loop.time()
        watchdog().watch(self)
        await self._release()

    async def _open(self):
        """Who the socket is and what READY carries, read in two trips to a READY thread (reads.py,
        ready.py), before the accept: in a reconnect storm every connection's trips queue on those
        few threads. None: not signed in. The user's groups are joined between the two, here: an
        event published after the second trip's read waits in the inbox and is relayed after READY
        instead of falling between the read and the subscription. No thread waits for the
        SUBSCRIBE meanwhile (it serves the next socket), and in a storm the second trip queues
        behind busy threads rather than waking one that waited."""
        who = await on_ready_threads(ready.identify, self.scope, self._admit)
        if who is None:
            return None
        if who is False:
            return Close.TOO_MANY_CONNECTIONS
        groups = ready.groups(*who)
        self.joined.update(groups)  # first: a failed or cancelled join is still undone by _cleanup
        await hub.hub().join(groups, self)
        opened = await on_ready_threads(ready.read_state, *who)
        self.user = opened.user
        return opened.ids, opened.guilds, opened.visible, opened.private, opened.notify

    def _admit(self, user) -> bool:
        """On a READY thread: whether the user may open one more socket (counted from here,
        released in _cleanup)."""
        self.admitted = user.id if user_sockets.admit(user.id, settings.GATEWAY_MAX_SOCKETS_PER_USER) else None
        return self.admitted is not None

    async def _cleanup(self):
        self.closing = True
        self.inbox = None
        watchdog().forget(self)
        for group in list(self.joined):
            await self._leave(group)
        if self.outbox:
            self.outbox.stop()
        if self.status:
            self._set_presence(None)
        if self.voice is not None:
            # The participant ends with the connection (a crashed node's participants expire instead).
            try:
                await self._call(rtc.leave_voice, user=self.user, session_id=self.session_id, guild_id=self.voice)
            except Exception:
                log.exception("could not remove the voice state of a closed connection")
            self.voice = None
        if self.admitted is not None:
            user_sockets.release(self.admitted)
            self.admitted = None

    # --- client frames ----------------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        if self.closing:
            return
        op = d = None
        try:
            protocol.check_size(text_data, bytes_data, self.max_frame)
            self.rate.hit()
            op, d = protocol.decode(text_data)
            handler = self.OPS.get(op)
            if handler is None:
                raise GatewayError(protocol.UNKNOWN_OP, f"Unknown op {op}.")
            await handler(self, d)
        except GatewayError as exc:
            self._put(protocol.gateway_error(exc, ref=protocol.ref_of(op, d)))
            if exc.close:
                self.end(exc.close)
        except DomainError as exc:
            self._put(protocol.domain_error(exc, ref=protocol.ref_of(op, d)))
        except Exception as exc:
            self._put(protocol.unexpected_error(exc, op=op, ref=protocol.ref_of(op, d)))

    async def _heartbeat(self, d):
        protocol.heartbeat_seq(d)
        self.last_heartbeat = asyncio.get_running_loop().time()
        self._put(protocol.heartbeat_ack())
        if self.status:
            self._set_presence(self.status)  # keeps this connection's entry alive
        if self.voice is not None:  # and its voice state (None once a moderator or another tab took it)
            if not await self._call(rtc.refresh_voice, user=self.user, session_id=self.session_id,
                                    guild_id=self.voice):
                self.voice = None

    async def _typing(self, d):
        p = protocol.payload(Op.TYPING, d)
        await self._call(chat.start_typing, user=self.user, channel_id=p["channel_id"])

    async def _send_message(self, d):
        p = protocol.payload(Op.SEND_MESSAGE, d)
        # No direct answer: the message comes back as MESSAGE_CREATE carrying the nonce.
        msg = await self._call(chat.send_message, author=self.user, channel_id=p["channel_id"], content=p["content"],
                               reply_to_id=p["reply_to"], nonce=p["nonce"], attachment_ids=p["attachment_ids"])
        if msg.replayed:  # a retry stored nothing: the first send's MESSAGE_CREATE again, to this socket only
            replay = await self._call(chat_payloads.replay_data, message=msg, nonce=p["nonce"])
            self._dispatch(ce.MESSAGE_CREATE, replay)

    async def _ack(self, d):
        p = protocol.payload(Op.ACK, d)
        await self._call(chat.ack_message, user=self.user, channel_id=p["channel_id"], message_id=p["message_id"])

    async def _call(self, service, **kwargs):
        """Run a service in a worker thread, in the user's language (its errors are shown to them)."""
        def run():
            with translation.override(self.language):
                return service(**kwargs)

        return await database_sync_to_async(run)()

    async def _presence_update(self, d):
        p = protocol.payload(Op.PRESENCE_UPDATE, d)
        if p["status"] not in presence.SETTABLE:
            raise GatewayError(protocol.INVALID_PAYLOAD, f'"status" must be one of {", ".join(presence.SETTABLE)}.',
                               field="status")
        self._set_presence(p["status"])

    async def _request_members(self, d):
        guild_id = protocol.payload(Op.REQUEST_MEMBERS, d)["guild_id"]
        if guild_id not in self.visible:
            raise GatewayError(protocol.UNKNOWN_GUILD, "Unknown guild.", field="guild_id")
        self._hold()  # a change while the list is read arrives after the chunk
        try:
            if guild_id not in self.member_lists:  # follow the list's presence changes first, for the same reason
                self.member_lists |= {guild_id}
                await self._join(member_list_group(guild_id))
            members, total = await database_sync_to_async(selectors.member_list)(guild_id,
                                                                                  settings.MEMBER_LIST_LIMIT)
            statuses = await presence.statuses([m["user_id"] for m in members])
            for m in members:
                m["status"] = statuses[m["user_id"]]
            self._dispatch(events.GUILD_MEMBERS_CHUNK, payloads.members_chunk(guild_id, members, total))
        finally:
            await self._release()

    async def _voice_state_update(self, d):
        p = protocol.payload(Op.VOICE_STATE_UPDATE, d)
        self._hold()  # the join answer comes before the events the join publishes
        try:
            answer = await self._call(rtc.set_voice_state, user=self.user, session_id=self.session_id, **p)
            if p["channel_id"] is None:
                if self.voice == p["guild_id"]:
                    self.voice = None
            elif answer is not None:
                self.voice = answer["guild_id"]
                self._dispatch(rtc_events.VOICE_READY, answer)
        finally:
            await self._release()

    async def _voice_signal(self, d):
        p = protocol.payload(Op.VOICE_SIGNAL, d)
        await self._call(rtc.relay_signal, user=self.user, session_id=self.session_id, guild_id=self.voice,
                         to=p["to"], kind=p["type"], sdp=p["sdp"], candidate=p["candidate"])

    async def _request_voice_states(self, d):
        guild_id = protocol.payload(Op.REQUEST_VOICE_STATES, d)["guild_id"]
        if guild_id not in self.visible:
            raise GatewayError(protocol.UNKNOWN_GUILD, "Unknown guild.", field="guild_id")
        self._hold()  # changes after the snapshot arrive after it
        try:
            states = await self._call(rtc.voice_states, guild_id=guild_id, channel_ids=self.visible[guild_id])
            self._dispatch(rtc_events.VOICE_STATES, states)
        finally:
            await self._release()

    async def _listening_party(self, d):
        p = protocol.payload(Op.LISTENING_PARTY, d)
        nonce = p.pop("nonce")
        self._hold()  # a sync answer comes before the updates that follow it
        try:
            update = await self._call(rtc.listening_party, user=self.user, session_id=self.session_id,
                                      guild_id=self.voice, **p)
            if p["action"] == "sync":  # the others' changes reach everyone as published updates
                # The nonce tells the client which update answers its sync (it times the round trip).
                self._dispatch(rtc_events.LISTENING_PARTY_UPDATE, rtc_payloads.party_sync(update, nonce))
        finally:
            await self._release()

    OPS = {Op.HEARTBEAT: _heartbeat, Op.TYPING: _typing, Op.SEND_MESSAGE: _send_message, Op.ACK: _ack,
           Op.PRESENCE_UPDATE: _presence_update, Op.REQUEST_MEMBERS: _request_members,
           Op.VOICE_STATE_UPDATE: _voice_state_update, Op.VOICE_SIGNAL: _voice_signal,
           Op.REQUEST_VOICE_STATES: _request_voice_states, Op.LISTENING_PARTY: _listening_party}

    # --- events from the hub (hub.py; the relay itself is in relaying.py) ------------------------

    def _hold(self):
        """Keep events in the inbox until `_release`."""
        self.held += 1
        if self.inbox is None:  # relay() writes at once while there is no inbox
            self.inbox = deque()

    async def _release(self):
        self.held -= 1
        await self._drain()

    def resume(self):
        """The hub lost events for a while: the client reconnects and catches up."""
        self.end(Close.RESUME)

    async def _if_visible(self, t, d):
        return d if self._sees(t, d) else None

    async def _on_guild_create(self, t, d):
        guild_id = d["id"]
        await self._join(guild_group(guild_id))
        entry, visible = await database_sync_to_async(selectors.guild_state)(self.user, guild_id)
        if entry is None:  # already left again
            await self._forget(guild_id)
            return None
        self.visible[guild_id] = visible
        return payloads.guild_create(d, entry)

    async def _on_guild_delete(self, t, d):
        await self._forget(d["id"])
        self._dispatch(t, d)
        # GUILD_BAN_ADD goes to the guild group first, but a connection that was not subscribed yet
        # (or lost it) only sees GUILD_DELETE: ask the database why.
        if await database_sync_to_async(selectors.is_banned)(self.user, d["id"]):
            await self._banned(d["id"])
        return None

    async def _on_ban_add(self, t, d):
        if d["user_id"] != self.user.id:
            return await self._if_visible(t, d)
        await self._forget(d["guild_id"])
        await self._banned(d["guild_id"])
        return None

    async def _banned(self, guild_id: int):
        self._dispatch(ge.BAN_ADD, guild_payloads.guild_user(guild_id, self.user.id))
        self.end(Close.BANNED)

    async def _on_permissions_changed(self, t, d):
        guild_id = d["guild_id"]
        if guild_id not in self.visible:
            return None
        before = self.visible[guild_id]
        channels = await self._recompute(guild_id)
        await self._recheck_voice(guild_id)
        channel_id = d.get("channel_id")
        if channels is None or (channel_id is not None and channel_id not in before | self.visible[guild_id]):
            return None  # only those who could, or now can, see the channel hear about it
        return payloads.permissions_changed(d, channels)

    async def _on_guild_change(self, t, d):
        guild_id = d["guild_id"]
        if guild_id in self.visible and (t != ge.MEMBER_UPDATE or d["user_id"] == self.user.id):
            await self._recompute(guild_id)
            await self._recheck_voice(guild_id)
        return await self._if_visible(t, d)

    async def _on_channel_change(self, t, d):
        guild_id = d["guild_id"]
        if guild_id is None:
            return await self._on_private_channel(t, d)
        if guild_id not in self.visible:
            return None
        await self._recompute(guild_id)
        return d if d["id"] in self.visible[guild_id] else None

    async def _on_channel_delete(self, t, d):
        if d["guild_id"] is None:
            return await self._on_private_channel(t, d)
        visible = self.visible.get(d["guild_id"], set())
        if d["id"] not in visible:
            return None
        visible.discard(d["id"])  # a deleted channel changes no one's view of the others
        return d

    async def _on_thread_create(self, t, d):
        # A thread is visible exactly when its parent is (channel_id is the parent).
        visible = self.visible.get(d["guild_id"])
        if visible is None or d["parent_id"] not in visible:
            return None
        visible.add(d["id"])
        return d

    async def _on_thread_delete(self, t, d):
        visible = self.visible.get(d["guild_id"])
        if visible is None or d["parent_id"] not in visible:
            return None
        visible.discard(d["id"])
        return d

    async def _on_voice_signal(self, t, d):
        # Addressed to one voice session: the user's other tabs are not in the call.
        return d if d["session_id"] == self.session_id and self._sees(t, d) else None

    async def _on_session_end(self, t, d):
        """One of the user's sign-ins (a session or a token) has ended: the sockets that signed in
        with it close at once (4003); the user's other sockets hear nothing."""
        if self.scope.get("sign_in") in d["sign_ins"]:
            self.end(Close.NOT_AUTHENTICATED)

    EVENT_HOOKS = {
        account_events.SESSION_END: _on_session_end,
        rtc_events.VOICE_SIGNAL: _on_voice_signal,
        rtc_events.VOICE_TOPOLOGY_UPDATE: _on_voice_signal,
        ge.GUILD_CREATE: _on_guild_create,
        ge.GUILD_DELETE: _on_guild_delete,
        ge.BAN_ADD: _on_ban_add,
        ge.PERMISSIONS_CHANGED: _on_permissions_changed,
        ge.ROLE_UPDATE: _on_guild_change,
        ge.ROLE_DELETE: _on_guild_change,
        ge.MEMBER_UPDATE: _on_guild_change,
        ge.CHANNEL_CREATE: _on_channel_change,
        ge.CHANNEL_UPDATE: _on_channel_change,
        ge.CHANNEL_DELETE: _on_channel_delete,
        ce.THREAD_CREATE: _on_thread_create,
        ce.THREAD_DELETE: _on_thread_delete,
    }

    # --- direct messages ------------------------------------------------------------------------

    async def _on_private_channel(self, t, d):
        """DM events only reach their recipients' user groups; the set of DM ids follows them, so a
        connection relays a DM's messages from its CHANNEL_CREATE to its CHANNEL_DELETE."""
        if t == ge.CHANNEL_CREATE:
            self.private |= {d["id"]}
            return d
        if t == ge.CHANNEL_DELETE:
            if d["id"] not in self.private:
                return None
            self.private -= {d["id"]}
            return d
        return d if d["id"] in self.private else None

    # --- state and output ---------------------------------------------------------------------

    async def _recompute(self, guild_id: int) -> list[dict] | None:
        """Re-read what the user can view in the guild; None (and nothing visible) if no longer a member."""
        entry, self.visible[guild_id] = await database_sync_to_async(selectors.guild_state)(
            self.user, guild_id, full=False)
        return entry["channels"] if entry else None

    async def _join(self, group: str):
        self.joined.add(group)  # first: a cancelled join is still undone by _cleanup
        await hub.hub().join([group], self)

    async def _leave(self, group: str):
        self.joined.discard(group)
        await hub.hub().discard(group, self)

    async def _recheck_voice(self, guild_id: int):
        """A participant who lost CONNECT in their channel leaves it (the rest of the guild pays nothing)."""
        if self.voice == guild_id and not await self._call(rtc.recheck_voice, user=self.user,
                                                           session_id=self.session_id, guild_id=guild_id):
            self.voice = None

    async def _forget(self, guild_id: int):
        self.visible.pop(guild_id, None)
        if self.voice == guild_id:  # banned, kicked or the guild is gone: out of its voice channel too
            self.voice = None
            await self._call(rtc.leave_voice, user=self.user, session_id=self.session_id, guild_id=guild_id)
        await self._leave(guild_group(guild_id))
        if guild_id in self.member_lists:
            self.member_lists -= {guild_id}
            await self._leave(member_list_group(guild_id))

    def _set_presence(self, status: str | None):
        """This connection's status (None when it ends), written in the next presence batch; guilds
        hear of the user's aggregate change."""
        presence.set_status(self.user.id, self.session_id, status, list(self.visible), presence_ttl())
        self.status = status

    def _put(self, text: str):
        if not self.closing and not self.outbox.put(text):
            self._too_slow()

    def _dispatch(self, t: str, d: dict):
        self.seq += 1
        self._put(protocol.dispatch(t, d, self.seq))

    def end(self, code: Close):
        """Close once the frames already queued are sent."""
        if not self.closing:
            self.closing = True
            self.inbox = None
            self.outbox.put(int(code))


def language_of(scope) -> str:
    """The language the pages use for this browser: the language cookie, then Accept-Language."""
    request = SimpleNamespace(COOKIES=cookies_of(scope),
                              META={"HTTP_ACCEPT_LANGUAGE": header(scope, b"accept-language")})
    return translation.get_language_from_request(request)
