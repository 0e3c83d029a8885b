"""The bot gateway (/gateway/discord): Discord's gateway v10 JSON protocol for bots written with
Discord libraries. The browser gateway (/ws/gateway/) keeps its own protocol; both take their
events from the same hub. docs/discord-compat.md lists what is covered.

HELLO → IDENTIFY (token, intents) → READY, GUILD_CREATE per guild, then dispatches with sequence
numbers; HEARTBEAT/ACK; RESUME replays what a dropped socket missed (sessions.py)."""
from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.conf import settings

from apps.core import untrusted
from apps.realtime.admission import user_sockets
from apps.realtime.reads import header

from .. import selectors
from . import sessions, translate

DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE_UPDATE, VOICE_STATE_UPDATE = 0, 1, 2, 3, 4
RESUME, RECONNECT, REQUEST_GUILD_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 6, 7, 8, 9, 10, 11
CLIENT_OPS = {HEARTBEAT, IDENTIFY, PRESENCE_UPDATE, VOICE_STATE_UPDATE, RESUME, REQUEST_GUILD_MEMBERS}
# Discord's close codes.
UNKNOWN_ERROR, UNKNOWN_OPCODE, DECODE_ERROR, NOT_AUTHENTICATED, AUTHENTICATION_FAILED = 4000, 4001, 4002, 4003, 4004
ALREADY_AUTHENTICATED, RATE_LIMITED, SESSION_TIMED_OUT, INVALID_API_VERSION = 4005, 4008, 4009, 4012
INVALID_INTENTS, DISALLOWED_INTENTS = 4013, 4014
MAX_FRAME_BYTES = 4096  # Discord's limit on a client's payload
FRAMES_PER_MINUTE = 120


def frame(op: int, d=None) -> str:
    return json.dumps({"op": op, "d": d, "s": None, "t": None}, separators=(",", ":"))


class Connection:
    """One bot socket. Frames leave in order through `put` (a writer task drains them)."""

    def __init__(self, scope, send):
        self.scope, self.send = scope, send
        self.out: asyncio.Queue = asyncio.Queue()
        self.writer: asyncio.Task | None = None
        self.watch: asyncio.Task | None = None
        self.last_beat = 0.0
        self.session: sessions.Session | None = None
        self.closing = False
        self.frames: list[float] = []
        self.admitted: int | None = None  # the bot user this socket counts for, once identified or resumed

    @classmethod
    def as_asgi(cls):
        def app(scope, receive, send):
            return cls(scope, send).run(receive)

        return app

    async def run(self, receive):
        try:
            while True:
                message = await receive()
                kind = message["type"]
                if kind == "websocket.connect":
                    await self.connect()
                elif kind == "websocket.receive":
                    if not self.closing:
                        await self.receive(message.get("text"), message.get("bytes"))
                elif kind == "websocket.disconnect":
                    return
        finally:
            self.closing = True
            if self.admitted is not None:
                user_sockets.release(self.admitted)
            if self.session is not None:
                self.session.detach(self)
            for task in (self.writer, self.watch):
                if task is not None:
                    task.cancel()

    async def connect(self):
        await self.send({"type": "websocket.accept"})
        self.writer = asyncio.get_running_loop().create_task(self._write())
        version = parse_qs(self.scope.get("query_string", b"").decode("latin-1")).get("v", ["10"])[0]
        if version != "10":
            self.close(INVALID_API_VERSION, "Invalid API version: this gateway speaks v10.")
            return
        self.put(frame(HELLO, {"heartbeat_interval": settings.GATEWAY_HEARTBEAT_INTERVAL_MS}))
        self.last_beat = asyncio.get_running_loop().time()
        self.watch = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self):
        """A socket that stops heartbeating is a zombie: closed 4009, and its session waits for a RESUME."""
        interval = settings.GATEWAY_HEARTBEAT_INTERVAL_MS / 1000
        loop = asyncio.get_running_loop()
        while not self.closing:
            await asyncio.sleep(interval)
            if loop.time() - self.last_beat > interval * settings.GATEWAY_HEARTBEAT_GRACE:
                self.close(SESSION_TIMED_OUT, "No heartbeat: session timed out.")

    # --- output ---------------------------------------------------------------------------------

    def put(self, text: str) -> None:
        if not self.closing:
            self.out.put_nowait(text)

    def close(self, code: int, reason: str) -> None:
        if not self.closing:
            self.closing = True
            self.out.put_nowait((code, reason))

    def invalid_session(self) -> None:
        self.put(frame(INVALID_SESSION, False))

    async def _write(self):
        while True:
            item = await self.out.get()
            try:
                if isinstance(item, tuple):
                    await self.send({"type": "websocket.close", "code": item[0], "reason": item[1]})
                    return
                await self.send({"type": "websocket.send", "text": item})
            except Exception:  # the socket is gone
                return

    # --- input ----------------------------------------------------------------------------------

    async def receive(self, text, data):
        size = len(data) if data is not None else len((text or "").encode())
        if size > MAX_FRAME_BYTES:
            self.close(DECODE_ERROR, f"Frames are at most {MAX_FRAME_BYTES} bytes.")
            return
        now = time.monotonic()
        self.frames = [t for t in self.frames if now - t < 60] + [now]
        if len(self.frames) > FRAMES_PER_MINUTE:
            self.close(RATE_LIMITED, f"At most {FRAMES_PER_MINUTE} frames a minute.")
            return
        try:
            payload = untrusted.loads(text if text is not None else data.decode())
        except Exception:
            self.close(DECODE_ERROR, "Frames are JSON objects.")
            return
        op = payload.get("op") if isinstance(payload, dict) else None
        if op not in CLIENT_OPS or isinstance(op, bool):
            self.close(UNKNOWN_OPCODE if isinstance(op, int) else DECODE_ERROR, f"Unknown op {op!r}.")
            return
        d = payload.get("d")
        if op == HEARTBEAT:
            self.last_beat = asyncio.get_running_loop().time()
            self.put(frame(HEARTBEAT_ACK))
        elif op == IDENTIFY:
            await self.identify(d)
        elif op == RESUME:
            await self.resume(d)
        elif self.session is None:
            self.close(NOT_AUTHENTICATED, "Identify first.")
        elif op == REQUEST_GUILD_MEMBERS:
            self.close(UNKNOWN_OPCODE, "Request guild members is not supported; use GET /guilds/{id}/members.")
        # PRESENCE_UPDATE and VOICE_STATE_UPDATE: accepted and ignored (bots have no presence or voice here).

    async def _bot(self, d):
        token = d.get("token") if isinstance(d, dict) else None
        if isinstance(token, str) and token.startswith("Bot "):
            token = token[4:]
        bot = await database_sync_to_async(selectors.bot_for_token)(token)
        if bot is not None and self.admitted is None:
            # One account's sockets per process are capped for bots as for people (apps/realtime/admission.py).
            cap = settings.GATEWAY_MAX_SOCKETS_PER_USER
            if not user_sockets.admit(bot.id, cap):
                self.close(RATE_LIMITED, f"Too many connections: this bot already has {cap} on this server.")
                return None
            self.admitted = bot.id
        return bot

    async def identify(self, d):
        if self.session is not None:
            self.close(ALREADY_AUTHENTICATED, "Already identified.")
            return
        bot = await self._bot(d)
        if bot is None:  # (already closed when the cap refused it: this close does nothing then)
            self.close(AUTHENTICATION_FAILED, "Authentication failed: unknown or reset token.")
            return
        intents = d.get("intents")
        if not isinstance(intents, int) or isinstance(intents, bool) or intents < 0 or intents & ~translate.KNOWN:
            self.close(INVALID_INTENTS, "Invalid intents.")
            return
        app = bot.bot_app
        if intents & translate.PRIVILEGED & ~translate.privileged_allowed(app):
            self.close(DISALLOWED_INTENTS, "Disallowed intents: turn them on for the application on the "
                                           "Developers page.")
            return
        self.session = sessions.Session(bot, app, intents)
        await self.session.start(self, self.resume_url())

    async def resume(self, d):
        if self.session is not None:
            self.close(ALREADY_AUTHENTICATED, "Already identified.")
            return
        bot = await self._bot(d)
        if bot is None:  # (already closed when the cap refused it: this close does nothing then)
            self.close(AUTHENTICATION_FAILED, "Authentication failed: unknown or reset token.")
            return
        session = sessions.find(d.get("session_id"))
        seq = d.get("seq")
        seq = 0 if seq is None else seq
        if session is None or session.bot.id != bot.id or not isinstance(seq, int) or not session.attach(self, seq):
            self.invalid_session()
            return
        self.session = session

    def resume_url(self) -> str:
        scheme = "wss" if self.scope.get("scheme") == "wss" else "ws"
        return f"{scheme}://{header(self.scope, b'host')}{self.scope.get('path', '')}"
