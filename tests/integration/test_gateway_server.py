"""The gateway on real servers: daphne and uvicorn subprocesses on the test database and the suite's
Redis, driven by the `websockets` client and plain HTTP, as a browser would."""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.test import Client
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from apps.chat.models import Message
from apps.guilds.models import Channel
from tests.factories import api_token
from tests.servers import free_port, running_server

pytestmark = pytest.mark.django_db(transaction=True)


class Socket:
    """A client of /ws/gateway/, as a browser tab holds one."""

    def __init__(self, ws):
        self.ws = ws

    def frame(self, timeout: float = 5) -> dict:
        return json.loads(self.ws.recv(timeout=timeout))

    def event(self, t: str) -> dict:
        f = self.frame()
        assert (f["op"], f["t"]) == (0, t), f
        return f["d"]

    def send(self, op: int, d=None):
        self.ws.send(json.dumps({"op": op, "d": d}))

    def close_code(self, timeout: float = 5) -> int:
        with pytest.raises(ConnectionClosed) as exc:
            self.frame(timeout)
        return exc.value.rcvd.code


@contextmanager
def gateway(base: str, user=None, *, ready: bool = True):
    """A socket authenticated by the session cookie a login would set; past HELLO and READY if `ready`."""
    headers = {}
    if user is not None:
        client = Client()
        client.force_login(user)
        headers["Cookie"] = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    with connect(base.replace("http://", "ws://") + "/ws/gateway/", origin=base, additional_headers=headers,
                 open_timeout=10) as ws:
        sock = Socket(ws)
        if ready:
            sock.hello = sock.frame()
            assert sock.hello["op"] == 10
            sock.ready = sock.event("READY")
        yield sock


def api(base: str, user, method: str, path: str, body: dict | None = None):
    token = api_token(user)
    req = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body else None,
                                 headers={"Authorization": f"Token {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status, json.loads(resp.read())


@pytest.fixture
def general(guild):
    return Channel.objects.get(guild=guild, name="general")


def test_reconnecting_client_catches_up_over_rest_without_losing_a_message(guild, owner, alice, general):
    url = f"/api/channels/{general.id}/messages"
    with running_server() as base:
        with gateway(base, alice) as sock:
            status, first = api(base, owner, "POST", url, {"content": "while connected", "nonce": "x1"})
            assert status == 201
            live = sock.event("MESSAGE_CREATE")
            assert (live["id"], live["nonce"]) == (first["id"], "x1")
            last_seen = live["id"]

        missed = [api(base, owner, "POST", url, {"content": f"missed {i}"})[1]["id"] for i in range(3)]

        with gateway(base, alice) as sock:
            assert sock.ready["guilds"][0]["channels"][0]["unread"] == 4
            status, page = api(base, alice, "GET", f"{url}?after={last_seen}")
            assert status == 200
            assert [m["id"] for m in page] == missed
            assert [m["content"] for m in page] == ["missed 0", "missed 1", "missed 2"]
            status, after = api(base, owner, "POST", url, {"content": "after reconnecting"})
            assert sock.event("MESSAGE_CREATE")["id"] == after["id"]
    seen = {last_seen, *missed, after["id"]}
    assert set(Message.objects.filter(channel=general).values_list("id", flat=True)) == seen


def test_two_nodes_share_events_through_redis(guild, owner, alice, general):
    with (running_server(server="daphne") as node_a, running_server(server="uvicorn") as node_b,
          gateway(node_a, alice) as on_a, gateway(node_b, owner) as on_b):
        on_b.send(6, {"channel_id": general.id, "content": "sent on node B", "nonce": "b-1"})
        echo = on_b.event("MESSAGE_CREATE")
        relayed = on_a.event("MESSAGE_CREATE")
        assert relayed == echo
        assert (relayed["content"], relayed["nonce"], relayed["author"]["id"]) == ("sent on node B", "b-1", owner.id)

        status, posted = api(node_b, owner, "POST", f"/api/channels/{general.id}/messages", {"content": "REST on B"})
        assert status == 201
        assert on_a.event("MESSAGE_CREATE")["id"] == posted["id"]
        assert on_b.event("MESSAGE_CREATE")["id"] == posted["id"]

        on_a.send(4, {"channel_id": general.id})
        assert on_b.event("TYPING_START")["user_id"] == alice.id
        assert on_a.event("TYPING_START")["user_id"] == alice.id
    assert Message.objects.filter(channel=general, author=owner).count() == 2


@pytest.mark.parametrize("server", ["daphne", "uvicorn"])
def test_real_clients_see_the_close_codes(db, user, server):
    with running_server(server=server, env={"GATEWAY_HEARTBEAT_INTERVAL_MS": "400"}) as base:
        with gateway(base, ready=False) as anonymous:
            assert anonymous.close_code() == 4003

        with gateway(base, user) as sock:
            assert sock.hello["d"] == {"heartbeat_interval": 400}
            sock.send(1, None)
            assert sock.frame()["op"] == 11
            started = time.monotonic()
            assert sock.close_code() == 4009  # 1.5 intervals without a heartbeat
            assert 0.4 < time.monotonic() - started < 3


@pytest.mark.parametrize("server", ["daphne", "uvicorn"])
def test_the_gateway_does_not_negotiate_compression(server, guild, alice):
    """Browsers always offer permessage-deflate; accepting it costs several times the memory of a
    connection, so the gateway answers without the extension and frames travel uncompressed."""
    with running_server(server=server) as base, gateway(base, alice) as sock:
        assert "permessage-deflate" in sock.ws.request.headers["Sec-WebSocket-Extensions"]
        assert sock.ws.response.headers.get("Sec-WebSocket-Extensions") is None
        assert sock.ready["guilds"][0]["id"] == guild.id


def test_a_gateway_node_upgrades_a_head_sent_in_pieces_and_still_serves_plain_http(guild, alice):
    """Whole upgrade heads go straight to the WebSocket protocol (apps/realtime/server.py); a head
    that arrives in pieces, and any other request, go through uvicorn's HTTP parser as before."""
    with running_server(server="uvicorn") as base:
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET /ws/gateway/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n")
            time.sleep(0.3)
            s.sendall(b"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                      b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
            assert s.recv(4096).startswith(b"HTTP/1.1 101 ")
        with urllib.request.urlopen(base + "/accounts/login", timeout=10) as resp:
            assert resp.status == 200
        with gateway(base, alice) as sock:  # and a whole head, as every client sends it
            assert sock.ready["guilds"][0]["id"] == guild.id


def start_redis(port: int) -> subprocess.Popen:
    proc = subprocess.Popen([shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        assert time.monotonic() < deadline, "redis-server did not start"
        time.sleep(0.05)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(10)


def test_no_message_is_lost_when_redis_restarts(guild, owner, alice, general):
    """Redis carries events, never messages: what is sent while it is down is stored, and a client
    that comes back finds it with after=<the last id it saw>."""
    port = free_port()
    url = f"/api/channels/{general.id}/messages"
    redis = start_redis(port)
    try:
        with running_server(env={"REDIS_URL": f"redis://127.0.0.1:{port}/0"}) as base:
            with gateway(base, alice) as sock:
                status, before = api(base, owner, "POST", url, {"content": "before the restart"})
                assert sock.event("MESSAGE_CREATE")["id"] == before["id"]
                stop(redis)
                # Redis is gone: sending still stores the message; nobody can be told live.
                status, during = api(base, owner, "POST", url, {"content": "while Redis is down"})
                assert status == 201
            redis = start_redis(port)  # back, and empty
            with gateway(base, alice) as sock:
                status, page = api(base, alice, "GET", f"{url}?after={before['id']}")
                assert [m["id"] for m in page] == [during["id"]]
                status, after = api(base, owner, "POST", url, {"content": "after the restart"})
                assert sock.event("MESSAGE_CREATE")["id"] == after["id"]
    finally:
        stop(redis)
