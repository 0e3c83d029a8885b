"""The fan-out hub (apps/realtime/hub.py): hot events reach each node's sockets through one Redis
pub/sub subscription per group; a slow reader is closed without holding up the others; a crashed
connection leaves the registry; a Redis restart makes the clients reconnect and resume."""
from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
import threading
import time

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from apps.chat import services as chat
from apps.chat.models import Message
from apps.core import bus
from apps.core.events import guild_group, user_group
from apps.realtime import hub
from apps.realtime.consumers import GatewayConsumer
from apps.realtime.protocol import Close
from tests.integration.test_gateway import application, db, gateway, run_async, send, session_cookie, text_channel
from tests.integration.test_gateway_server import api, start_redis, stop
from tests.integration.test_gateway_server import gateway as server_gateway
from tests.servers import free_port, running_server

pytestmark = pytest.mark.django_db(transaction=True)


class RawSocket:
    """A WebSocket client on a bare TCP socket with a tiny receive buffer: it reads only when told,
    as a browser tab on a congested link would."""

    def __init__(self, base: str, user):
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        host, port = base.removeprefix("http://").split(":")
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect((host, int(port)))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /ws/gateway/ HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                           f"Origin: {base}\r\nCookie: {settings.SESSION_COOKIE_NAME}={cookie}\r\n\r\n").encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self.sock.recv(4096)
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def _read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the server dropped the connection without a close frame")
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def frame(self) -> tuple[int, bytes]:
        """(opcode, payload) of the next frame from the server (unmasked, unfragmented)."""
        b0, b1 = self._read(2)
        size = b1 & 0x7F
        if size == 126:
            size = struct.unpack("!H", self._read(2))[0]
        elif size == 127:
            size = struct.unpack("!Q", self._read(8))[0]
        return b0 & 0x0F, self._read(size)

    def text(self) -> dict:
        while True:
            opcode, payload = self.frame()
            if opcode == 1:
                return json.loads(payload)
            assert opcode == 9, (opcode, payload)  # a ping: a late pong does no harm here

    def until_closed(self) -> tuple[list[dict], int]:
        """Every text frame left, then the close code."""
        self.sock.settimeout(30)
        frames = []
        while True:
            opcode, payload = self.frame()
            if opcode == 8:
                return frames, struct.unpack("!H", payload[:2])[0]
            if opcode == 1:
                frames.append(json.loads(payload))

    def close(self):
        self.sock.close()


def test_hot_events_reach_members_on_two_nodes_through_the_hub(guild, owner, alice):
    general = text_channel(guild)
    with (running_server(server="daphne") as node_a, running_server(server="uvicorn") as node_b,
          server_gateway(node_a, alice) as on_a, server_gateway(node_b, owner) as on_b):
        status, posted = api(node_a, alice, "POST", f"/api/channels/{general.id}/messages", {"content": "hi"})
        assert status == 201
        assert on_a.event("MESSAGE_CREATE")["id"] == on_b.event("MESSAGE_CREATE")["id"] == posted["id"]
        chat.add_reaction(actor=owner, message=Message.objects.get(id=posted["id"]), emoji="👍")
        for sock in (on_a, on_b):
            added = sock.event("MESSAGE_REACTION_ADD")
            assert (added["message_id"], added["user_id"]) == (posted["id"], owner.id)
        # A publisher serialises once: an event published straight to the hub arrives on both nodes.
        bus.send([guild_group(guild.id)], "TYPING_START",
                    {"guild_id": guild.id, "channel_id": general.id, "user_id": owner.id, "timestamp": 1})
        assert on_a.event("TYPING_START")["user_id"] == on_b.event("TYPING_START")["user_id"] == owner.id


def test_a_stalled_reader_is_closed_while_the_others_get_every_message_in_order(guild, owner, alice):
    general = text_channel(guild)
    count, blob = 600, "x" * 16_000
    with running_server(server="uvicorn", env={"GATEWAY_MAX_BACKLOG": "100"}) as base:
        slow = RawSocket(base, alice)
        try:
            assert slow.text()["op"] == 10
            assert slow.text()["t"] == "READY"
            with server_gateway(base, owner) as fast:

                def broadcast():
                    for i in range(count):
                        bus.send([guild_group(guild.id)], "MESSAGE_CREATE",
                                    {"guild_id": guild.id, "channel_id": general.id, "id": i, "content": blob})
                        time.sleep(0.002)

                publisher = threading.Thread(target=broadcast)
                started = time.monotonic()
                publisher.start()
                frames = [fast.frame() for _ in range(count)]
                publisher.join()
                assert time.monotonic() - started < 20
                assert [f["d"]["id"] for f in frames] == list(range(count))
                assert [f["s"] for f in frames] == list(range(frames[0]["s"], frames[0]["s"] + count))
                assert {f["t"] for f in frames} == {"MESSAGE_CREATE"}
            received, code = slow.until_closed()
        finally:
            slow.close()
    assert code == Close.TOO_SLOW == 4011
    ids = [f["d"]["id"] for f in received]
    assert ids == list(range(len(ids))) and len(ids) < count  # in order, and cut short


@run_async
async def test_a_crashed_connection_leaves_the_hub(guild, owner, alice, monkeypatch):
    general = await db(text_channel)(guild)
    receive = GatewayConsumer.receive

    async def crash_on_request(self, text_data=None, bytes_data=None):
        if text_data == "crash":
            raise RuntimeError("a bug in the consumer")
        await receive(self, text_data, bytes_data)

    monkeypatch.setattr(GatewayConsumer, "receive", crash_on_request)
    async with gateway(alice) as other:
        crashing = await gateway(owner).__aenter__()
        registry = hub.hub().groups
        assert len(registry[guild_group(guild.id)]) == 2
        await crashing.send_raw("crash")
        with pytest.raises(RuntimeError):
            await crashing.comm.receive_output(3)
        assert len(registry[guild_group(guild.id)]) == 1
        assert user_group(owner.id) not in registry
        message = await db(send)(alice, general, "after the crash")
        assert (await other.event("MESSAGE_CREATE"))["id"] == message.id


@run_async
async def test_a_connection_whose_ready_read_fails_leaves_the_hub(guild, owner, alice, monkeypatch):
    """READY is read after the socket joined its groups: a read that fails (the database went
    away) must not leave it in them."""
    from apps.realtime import ready

    general = await db(text_channel)(guild)

    def database_gone(user, ids):
        raise RuntimeError("the database went away")

    async with gateway(alice) as other:
        monkeypatch.setattr(ready, "ready_reads", database_gone)
        cookie = await db(session_cookie)(owner)
        comm = WebsocketCommunicator(application, "/ws/gateway/", headers=[
            (b"origin", b"http://testserver"), (b"host", b"testserver"),
            (b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode())])
        with pytest.raises(RuntimeError):
            await comm.connect(3)
        registry = hub.hub().groups
        assert len(registry[guild_group(guild.id)]) == 1 and user_group(owner.id) not in registry
        monkeypatch.undo()
        message = await db(send)(alice, general, "still here")
        assert (await other.event("MESSAGE_CREATE"))["id"] == message.id


@run_async
async def test_a_socket_that_joins_as_the_last_one_leaves_still_gets_events(guild, owner, alice, monkeypatch):
    """The node drops its Redis subscription when its last socket leaves; one that arrives while
    it is being dropped gets a new subscription, and the hub reads it (no event goes unheard)."""
    general = await db(text_channel)(guild)
    close = hub._aclose

    async def slow_close(pubsub):  # widen the window: letting go of Redis takes a while
        await asyncio.sleep(1.0)
        await close(pubsub)

    monkeypatch.setattr(hub, "_aclose", slow_close)
    node = hub.hub()
    leaving = gateway(owner)
    await leaving.__aenter__()
    reader = node.reader
    await leaving.__aexit__(None, None, None)  # the node's last socket
    for _ in range(60):
        if node.pubsub is None:
            break
        await asyncio.sleep(0.05)
    assert node.pubsub is None and not reader.done()  # the reader is letting go of Redis
    async with gateway(alice) as joined:
        message = await db(send)(owner, general, "still heard")
        assert (await joined.event("MESSAGE_CREATE"))["id"] == message.id
        await joined.still_open()


def test_after_a_redis_restart_clients_resume_and_get_new_messages(guild, owner, alice):
    general = text_channel(guild)
    url = f"/api/channels/{general.id}/messages"
    port = free_port()
    redis = start_redis(port)
    try:
        with running_server(server="uvicorn", env={"REDIS_URL": f"redis://127.0.0.1:{port}/0"}) as base:
            with server_gateway(base, alice) as sock:
                stop(redis)
                redis = start_redis(port)  # back, and empty: the node subscribes again
                assert sock.close_code(15) == Close.RESUME == 4012
            with server_gateway(base, alice) as sock:
                status, after = api(base, owner, "POST", url, {"content": "after the restart"})
                assert sock.event("MESSAGE_CREATE")["id"] == after["id"]
    finally:
        stop(redis)
