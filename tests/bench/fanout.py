"""Message send -> delivered to every online member of a channel, over the real gateway.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/smartc_bench REDIS_URL=redis://127.0.0.1:6379/5 \
        .venv/bin/python -m tests.bench.fanout --members 1000 --messages 30 --server uvicorn

Creates a guild with --members members (sessions made directly, no logins), starts the app
(`--server daphne`, or uvicorn with `--ws apps.realtime.server:GatewayWebSocketProtocol` as gateway
nodes run) on a free loopback port, connects one WebSocket per member, waits for READY on all of
them, sends --warmup messages it does not count (a server's first sends open its connections and
run code for the first time), then --messages messages through `POST /api/channels/{id}/messages`
(token auth) one at a time, --gap seconds apart, each once the previous one reached every member,
and records when each member's MESSAGE_CREATE arrives. Prints latency percentiles over all
deliveries, the time until the last member had each message, and the delivery ratio
(--per-message: each message's first, median and last delivery). The clients run in this one
process, so their own JSON decoding is part of the figure. Bounded: every wait has a timeout; loopback only.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def percentiles(values: list[float]) -> str:
    q = statistics.quantiles(values, n=100)
    return f"p50 {q[49]:7.1f} ms   p95 {q[94]:7.1f} ms   p99 {q[98]:7.1f} ms"


def setup_guild(members: int):
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from apps.accounts.models import User
    from apps.guilds import services
    from apps.guilds.models import Channel, Member
    from tests.factories import api_token

    tag = uuid.uuid4().hex[:8]
    users = User.objects.bulk_create(
        [User(username=f"fan{tag}_{i}", password="!", display_name=f"Fan {i}") for i in range(members)])
    guild = services.create_guild(owner=users[0], name=f"fanout {tag}")
    Member.objects.bulk_create([Member(guild=guild, user=u) for u in users[1:]])
    cookies = []
    for u in users:
        s = SessionStore()
        s[SESSION_KEY], s[BACKEND_SESSION_KEY] = str(u.pk), "django.contrib.auth.backends.ModelBackend"
        s[HASH_SESSION_KEY] = u.get_session_auth_hash()
        s.create()
        cookies.append(f"sessionid={s.session_key}")
    token = api_token(users[0])
    channel = Channel.objects.get(guild=guild, name="general")
    return channel.id, cookies, token


def start_server(kind: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "smartc.settings.dev", "DEBUG": "false",
           "ALLOWED_HOSTS": "127.0.0.1,localhost"}
    if kind == "uvicorn":
        # As a gateway node runs: the sans-I/O protocol with the gateway's synchronous write (server.py).
        cmd = [sys.executable, "-m", "uvicorn", "smartc.asgi:application", "--host", "127.0.0.1", "--port", str(port),
               "--ws", "apps.realtime.server:GatewayWebSocketProtocol", "--ws-ping-interval", "0", "--no-access-log",
               "--log-level", "warning", "--ws-per-message-deflate", "false"]
    else:
        cmd = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "smartc.asgi:application"]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used: what the sends cost the server, steadier than
    wall time on a shared machine."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run(args, channel_id: int, cookies: list[str], token: str, port: int, server_pid: int) -> None:
    import websockets

    received: dict[str, list[float]] = {}
    ready = 0
    all_ready = asyncio.Event()

    async def member(cookie: str) -> None:
        nonlocal ready
        url = f"ws://127.0.0.1:{port}/ws/gateway/"
        async with websockets.connect(url, additional_headers={"Cookie": cookie, "Origin": f"http://127.0.0.1:{port}"},
                                      compression=None, open_timeout=60, max_queue=None) as ws:
            hello = json.loads(await ws.recv())
            interval = hello["d"]["heartbeat_interval"] / 1000
            last_beat = time.monotonic()
            async for raw in ws:
                now = time.perf_counter()
                frame = json.loads(raw)
                if frame.get("t") == "READY":
                    ready += 1
                    if ready == len(cookies):
                        all_ready.set()
                elif frame.get("t") == "MESSAGE_CREATE" and frame["d"].get("nonce"):
                    received.setdefault(frame["d"]["nonce"], []).append(now)
                if time.monotonic() - last_beat > interval * 0.8:
                    await ws.send(json.dumps({"op": 1, "d": frame.get("s")}))
                    last_beat = time.monotonic()

    started = time.perf_counter()
    tasks = []
    for i, cookie in enumerate(cookies):
        tasks.append(asyncio.create_task(member(cookie)))
        if i % 100 == 99:
            await asyncio.sleep(0.05)
    await asyncio.wait_for(all_ready.wait(), timeout=300)
    print(f"{len(cookies)} members connected and READY in {time.perf_counter() - started:.1f} s")

    def post(nonce: str) -> None:
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/channels/{channel_id}/messages",
            data=json.dumps({"content": f"bench {nonce}", "nonce": nonce}).encode(),
            headers={"Authorization": f"Token {token}", "Content-Type": "application/json"}, method="POST")
        urllib.request.urlopen(req, timeout=30).read()

    async def send_one(nonce: str) -> None:
        await asyncio.to_thread(post, nonce)
        deadline = time.monotonic() + 30
        while len(received.get(nonce, [])) < len(cookies) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await asyncio.sleep(args.gap)

    # Not counted: a server's first sends open its connections (broker, Redis, the database pool's
    # second connection) and run code for the first time, which a running node has long done.
    for _ in range(args.warmup):
        await send_one(f"warmup{uuid.uuid4().hex[:10]}")
    received.clear()
    sent: dict[str, float] = {}
    cpu = cpu_seconds(server_pid)
    for _ in range(args.messages):
        nonce = uuid.uuid4().hex[:16]
        sent[nonce] = time.perf_counter()
        await send_one(nonce)
    # The gaps are idle: this is the request, its database writes and the fan-out, per message.
    cpu_ms = (cpu_seconds(server_pid) - cpu) / len(sent) * 1000
    for t in tasks:
        t.cancel()

    if args.per_message:
        for n in sent:
            r = [(t - sent[n]) * 1000 for t in sorted(received.get(n, []))] or [float("nan")]
            print(f"message {n}: first {r[0]:6.1f} ms, median {r[len(r) // 2]:6.1f} ms, last {r[-1]:6.1f} ms")
    lat = [(r - sent[n]) * 1000 for n in sent for r in received.get(n, [])]
    last = [(max(received[n]) - sent[n]) * 1000 for n in sent if received.get(n)]
    delivered = len(lat) / (len(sent) * len(cookies))
    print(f"deliveries: {len(lat):,} of {len(sent) * len(cookies):,} ({delivered:.2%})")
    print(f"send -> each member:      {percentiles(lat)}")
    print(f"send -> last member:      {percentiles(last)}")
    print(f"server CPU per message:   {cpu_ms:.1f} ms (the request and {len(cookies):,} frames)")
    if args.json:
        q, ql = statistics.quantiles(lat, n=100), statistics.quantiles(last, n=100)
        Path(args.json).write_text(json.dumps({
            "members": len(cookies), "messages": len(sent), "delivered": round(delivered, 4),
            "server_cpu_ms_per_message": round(cpu_ms, 1),
            "each_ms": {"p50": round(q[49], 1), "p95": round(q[94], 1), "p99": round(q[98], 1)},
            "last_ms": {"p50": round(ql[49], 1), "p95": round(ql[94], 1), "p99": round(ql[98], 1)}}, indent=2))


def wait_for_port(port: int, server: subprocess.Popen, timeout: float = 60.0) -> None:
    """Until the server accepts connections (its start-up takes longer on a busy machine)."""
    import socket

    deadline = time.monotonic() + timeout
    while True:
        if server.poll() is not None:
            raise SystemExit("the server exited at start-up")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        if time.monotonic() > deadline:
            raise SystemExit(f"the server did not start within {timeout:.0f} s")
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=2, help="messages sent first, not counted")
    parser.add_argument("--gap", type=float, default=0.2, help="seconds between messages")
    parser.add_argument("--server", choices=["uvicorn", "daphne"], default="uvicorn")
    parser.add_argument("--per-message", action="store_true",
                        help="print each message's first, median and last delivery")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("Set REDIS_URL (and DATABASE_URL to PostgreSQL).")
    from tests.bench.history import setup
    from tests.servers import free_port

    setup()
    channel_id, cookies, token = setup_guild(args.members)
    port = free_port()
    server = start_server(args.server, port)
    try:
        wait_for_port(port, server)
        asyncio.run(run(args, channel_id, cookies, token, port, server.pid))
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:  # uvicorn waits for open sockets to close
            server.kill()


if __name__ == "__main__":
    main()
