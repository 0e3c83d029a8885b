"""A reconnect storm: 2,000 WebSockets opened at once against a real server must all get in (20
members with 100 tabs each: one account may hold GATEWAY_MAX_SOCKETS_PER_USER sockets per process).
(With redis-py 8's default pool of 100 connections, such a burst fails handshakes with HTTP 500;
settings size the channel layer's pool explicitly.)"""
import asyncio
import json

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from tests.factories import UserFactory, add_member, make_guild
from tests.servers import running_server

pytestmark = pytest.mark.django_db(transaction=True)
CONNECTIONS = 2000
MEMBERS = 20


def session_cookie(user) -> str:
    s = SessionStore()
    s[SESSION_KEY], s[BACKEND_SESSION_KEY] = str(user.pk), "django.contrib.auth.backends.ModelBackend"
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    s.create()
    return f"sessionid={s.session_key}"


async def storm(url: str, cookies: list[str]) -> tuple[int, list[str]]:
    import websockets

    ws_url = url.replace("http://", "ws://") + "/ws/gateway/"
    opened: list = []
    errors: list[str] = []

    async def one(cookie: str):
        try:
            ws = await websockets.connect(ws_url, additional_headers={"Cookie": cookie, "Origin": url},
                                          compression=None, open_timeout=120, ping_interval=None)
            hello = json.loads(await asyncio.wait_for(ws.recv(), 120))
            assert hello["op"] == 10
            beat = hello["d"]["heartbeat_interval"] / 1000 * 0.8
            deadline = asyncio.get_running_loop().time() + 180
            while True:  # heartbeat as a client must while READY is on its way
                try:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), beat))
                except TimeoutError:
                    await ws.send(json.dumps({"op": 1, "d": None}))
                    assert asyncio.get_running_loop().time() < deadline, "no READY within 180 s"
                    continue
                if frame.get("t") == "READY":
                    break
            opened.append(ws)
        except Exception as exc:  # counted, and the first few shown in the assertion message
            errors.append(f"{type(exc).__name__}: {exc}")

    await asyncio.gather(*(one(cookies[i % len(cookies)]) for i in range(CONNECTIONS)))
    count = len(opened)
    await asyncio.gather(*(ws.close() for ws in opened), return_exceptions=True)
    return count, errors


def test_two_thousand_simultaneous_connects_all_succeed(owner):
    guild = make_guild(owner)
    members = [owner, *(add_member(guild, UserFactory()).user for _ in range(MEMBERS - 1))]
    cookies = [session_cookie(member) for member in members]
    with running_server(server="uvicorn") as url:
        count, errors = asyncio.run(storm(url, cookies))
    assert errors == [], f"{len(errors)} failed, e.g. {errors[:3]}"
    assert count == CONNECTIONS
