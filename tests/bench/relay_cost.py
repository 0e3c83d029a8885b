"""The cost of one delivery of a broadcast on a node, the gateway's relay path beside
`websockets.broadcast`, in one process and without the network:

    .venv/bin/python -m tests.bench.relay_cost --kind gateway --members 1000 --broadcasts 20
    valgrind --tool=callgrind --callgrind-out-file=/dev/null .venv/bin/python -m tests.bench.relay_cost ...

Each member is a real server socket on a Unix socket pair, opened with a real WebSocket handshake:
for `gateway`, uvicorn's protocol as the gateway runs it (apps.realtime.server.GatewayWebSocketProtocol)
under a GatewayConsumer that can view the event's channel, the event handed to the hub as Redis
hands it (`Hub.deliver`: parse, frame per member, Outbox, the synchronous write); for `bare`, a
`websockets` server connection and `websockets.broadcast` of the same frame's text. The client ends
are never read: the broadcasts fit in their socket buffers, so every write is one `send()`.

It prints the wall time and the CPU time per delivery of the broadcasts alone. Under callgrind, the
instructions per delivery are the difference between two runs that differ only in --broadcasts
(everything else, start-up included, is the same), divided by the extra deliveries; the kernel's
part of `send()` is not counted, so that is the Python side of a delivery, which the load of the
machine does not change.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import os
import socket
import sys
import tempfile
import time

GUILD, CHANNEL = 1, 10


def message_frame_text(s: int = 42) -> tuple[str, str]:
    """A MESSAGE_CREATE as the gateway publishes it (data) and frames it (a member's whole frame),
    of the size the gateway benchmark's messages have (about 700 bytes)."""
    import json

    d = {"id": 123456, "channel_id": CHANNEL, "author": {"id": 7, "username": "gwbench_000001",
         "display_name": "Bench 1", "avatar": None, "color": "", "bot": False}, "webhook_id": None,
         "content": "bench burst0 1765000000.123456", "content_html": "<p>bench burst0 1765000000.123456</p>",
         "reply_to": None, "mention_everyone": False, "mentions": [], "mention_roles": [], "pinned": False,
         "created_at": "2026-12-06T21:00:00.123456+00:00", "edited_at": None, "attachments": [], "thread": None,
         "held": False, "embeds": [], "suppress_embeds": False, "guild_id": GUILD,
         "nonce": None, "flags": 0, "type": 0, "tts": False, "components": [], "sticker_items": [],
         "message_reference": None, "position": None}
    text = json.dumps(d, separators=(",", ":"))
    return text, f'{{"op":0,"t":"MESSAGE_CREATE","d":{text},"s":{s}}}'


def handshake(path: str = "/") -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    return (f"GET {path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()


async def open_clients(path: str, n: int) -> list[socket.socket]:
    loop = asyncio.get_running_loop()
    clients = []
    for _ in range(n):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setblocking(False)
        await loop.sock_connect(s, path)
        await loop.sock_sendall(s, handshake())
        head = b""
        while b"\r\n\r\n" not in head:
            head += await loop.sock_recv(s, 4096)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise SystemExit(f"handshake refused: {head[:80]!r}")
        clients.append(s)
    return clients


async def gateway(args, folder: str) -> tuple[callable, int]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartc.settings.dev")
    django.setup()
    from uvicorn.config import Config
    from uvicorn.server import ServerState

    from apps.core import bus
    from apps.realtime import hub
    from apps.realtime.consumers import GatewayConsumer
    from apps.realtime.server import GatewayWebSocketProtocol

    accepted: list[tuple[dict, object]] = []

    async def app(scope, receive, send):
        await receive()
        await send({"type": "websocket.accept"})
        accepted.append((scope, send))
        while (await receive())["type"] != "websocket.disconnect":
            pass

    config = Config(app=app, ws="websockets-sansio", ws_per_message_deflate=False, ws_ping_interval=None,
                    lifespan="off", log_level="warning")
    config.load()
    state = ServerState()
    path = os.path.join(folder, "gw.sock")
    loop = asyncio.get_running_loop()
    server = await loop.create_unix_server(lambda: GatewayWebSocketProtocol(config, state, {}), path)
    clients = await open_clients(path, args.members)
    while len(accepted) < args.members:
        await asyncio.sleep(0.01)
    h = hub.Hub(None)
    members = set()
    for scope, send in accepted:
        c = GatewayConsumer(scope, send)
        c.outbox = hub.Outbox(send, 1000, scope["extensions"][hub.SEND_FRAME])
        c.inbox, c.held = None, 0
        c.visible = {GUILD: {CHANNEL, CHANNEL + 1, CHANNEL + 2}, 2: {20, 21}}
        members.add(c)
    h.groups["guild.1"] = members
    text, _ = message_frame_text()

    def broadcast():
        h.deliver("guild.1", bus.encode("MESSAGE_CREATE", _data(text)))

    return broadcast, (server, clients)


def _data(text: str) -> dict:
    import json

    return json.loads(text)


async def bare(args, folder: str) -> tuple[callable, int]:
    from websockets.asyncio.server import broadcast as ws_broadcast
    from websockets.asyncio.server import unix_serve

    members: set = set()

    async def handler(ws):
        members.add(ws)
        await ws.wait_closed()

    path = os.path.join(folder, "bare.sock")
    server = await unix_serve(handler, path, compression=None, ping_interval=None, max_queue=16)
    clients = await open_clients(path, args.members)
    while len(members) < args.members:
        await asyncio.sleep(0.01)
    _, frame = message_frame_text()

    def broadcast():
        ws_broadcast(members, frame)

    return broadcast, (server, clients)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kind", choices=["gateway", "bare"], required=True)
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--broadcasts", type=int, default=20, help="each fits in the client sockets' buffers")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        broadcast, keep = await (gateway if args.kind == "gateway" else bare)(args, folder)
        await asyncio.sleep(0.1)
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(args.broadcasts):
            broadcast()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        n = args.members * args.broadcasts
        print(f"{args.kind}: {n:,} deliveries, {wall / n * 1e6:.2f} µs wall, {cpu / n * 1e6:.2f} µs CPU each",
              flush=True)
        got = 0
        for s in keep[1]:
            try:
                got += len(s.recv(1 << 20))
            except BlockingIOError:
                pass
            s.close()
        print(f"the clients hold {got / n:.0f} bytes per delivery", flush=True)
    sys.stdout.flush()
    os._exit(0)  # the servers' sockets are gone: no graceful close to wait for


if __name__ == "__main__":
    asyncio.run(main())
