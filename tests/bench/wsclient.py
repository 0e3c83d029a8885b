"""A lean WebSocket load client for the gateway benchmark (tests/bench/gateway_scale.py).

Run as a worker process: it reads one JSON command per line on stdin and answers one JSON line per
command on stdout. Each connection is a bare asyncio protocol (an HTTP upgrade, then frame parsing)
rather than a `websockets` client: at tens of thousands of sockets per process a full client library
costs more CPU and memory than the servers being measured. Frames are parsed just enough to find
the benchmark's marker (content `bench <id> <unix time>`), the sequence number, and the gateway's HELLO,
READY and heartbeat ACK.

Commands:
  {"cmd": "connect", "port": P, "path": "/ws/gateway/", "cookies": [...], "source": "127.0.0.2",
   "gateway": true, "concurrency": 200}          -> {"ready": n, "failed": n, "errors": {...}, "seconds": s}
  {"cmd": "stats"}                                -> {"open": n, "closes": {code: n}, "latencies": {id: [s, ...]}}
  {"cmd": "probe", "port": P, "path": ..., "cookie": ..., "gateway": bool, "seconds": s, "every": s}
                                                  -> {"rtts": [s, ...]}
  {"cmd": "close"}                                -> {"closed": n}   (and forgets the statistics)
  {"cmd": "quit"}
Every 30 s a worker with sockets prints its open count and the close codes it saw on stderr.
Loopback only; every wait is bounded.
"""
from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import resource
import struct
import sys
import time

MARKER = b'"content":"bench '
HEADER_END = b"\r\n\r\n"
SEQ = re.compile(rb'"s":(\d+)')
PROGRESS_EVERY = 30.0  # seconds between progress lines on stderr


def frame(text: str | bytes, opcode: int = 1) -> bytes:
    """A client frame: masked (with a zero key, which leaves the payload as it is)."""
    payload = text.encode() if isinstance(text, str) else text
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    return head + b"\0\0\0\0" + payload


class Conn(asyncio.Protocol):
    def __init__(self, worker: Worker, request: bytes, gateway: bool):
        self.worker, self.request, self.gateway = worker, request, gateway
        self.transport = None
        self.buf = b""
        self.upgraded = False
        self.ready = worker.loop.create_future()  # READY (gateway) or the upgrade (bare)
        self.interval = 0.0
        self.seq = None
        self.next_beat = 0.0
        self.acks: asyncio.Queue | None = None  # set on a probe connection
        self.closed = False

    def connection_made(self, transport):
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data):
        buf = self.buf + data if self.buf else data
        if not self.upgraded:
            end = buf.find(HEADER_END)
            if end < 0:
                self.buf = buf
                return
            status = buf[:buf.find(b"\r\n")]
            if b" 101 " not in status:
                self._fail("http " + status.decode("latin-1", "replace")[9:12])
                return
            self.upgraded = True
            buf = buf[end + 4:]
            if not self.gateway and not self.ready.done():
                self.ready.set_result(True)
        pos, n = 0, len(buf)
        while n - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1] & 0x7F
            head = 2
            if b1 == 126:
                if n - pos < 4:
                    break
                b1 = struct.unpack_from("!H", buf, pos + 2)[0]
                head = 4
            elif b1 == 127:
                if n - pos < 10:
                    break
                b1 = struct.unpack_from("!Q", buf, pos + 2)[0]
                head = 10
            if n - pos < head + b1:
                break
            payload = buf[pos + head:pos + head + b1]
            pos += head + b1
            self._frame(b0 & 0x0F, payload)
        self.buf = buf[pos:]

    def _frame(self, opcode: int, payload: bytes):
        if opcode == 1:
            # The same work per frame for both kinds: the bare server relays frames of the gateway's
            # shape and size (gateway_scale.py), so both look for the marker and the sequence number.
            i = payload.find(MARKER)
            if i >= 0:
                i += len(MARKER)
                end = payload.find(b'"', i)
                mid, ts = payload[i:end].split(b" ")
                self.worker.record(mid.decode(), time.time() - float(ts))
            # The top-level sequence number follows the event data: `..."s":123,"t":...}` or `..."s":123}`.
            m = SEQ.match(payload, max(payload.rfind(b'"s":'), 0))
            if m:
                self.seq = int(m[1])
            if self.acks is not None:
                if payload.startswith(b'{"op":11' if self.gateway else b"pong"):
                    self.acks.put_nowait(time.perf_counter())
            elif self.gateway and not self.ready.done():
                self._gateway_start(payload)
        elif opcode == 9:  # ping
            self.transport.write(frame(payload, 10))
        elif opcode == 8:
            code = struct.unpack_from("!H", payload)[0] if len(payload) >= 2 else 1005
            self.worker.closes[code] = self.worker.closes.get(code, 0) + 1
            self._fail(f"close {code}")

    def _gateway_start(self, payload: bytes):
        if payload.startswith(b'{"op":10'):
            self.interval = json.loads(payload)["d"]["heartbeat_interval"] / 1000
        elif payload.endswith(b'"t":"READY"}'):
            self.worker.schedule(self)
            self.ready.set_result(True)

    def beat(self):
        self.transport.write(frame(json.dumps({"op": 1, "d": self.seq})))

    def _fail(self, why: str):
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(why))
        if self.transport:
            self.transport.close()

    def connection_lost(self, exc):
        self.closed = True
        self.worker.live.discard(self)
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("lost before READY" if self.upgraded else "lost"))


class Worker:
    def __init__(self):
        self.loop = asyncio.get_running_loop()
        self.live: set[Conn] = set()
        self.beats: list[Conn] = []
        self.latencies: dict[str, list[float]] = {}
        self.closes: dict[int, int] = {}
        self.beater = self.loop.create_task(self._beat())

    def record(self, mid: str, latency: float):
        self.latencies.setdefault(mid, []).append(latency)

    def schedule(self, conn: Conn):
        # First heartbeat at a random point of the interval, then every 0.8 interval: no herd.
        conn.next_beat = time.monotonic() + conn.interval * (0.2 + 0.6 * (hash(conn) % 1000) / 1000)
        self.beats.append(conn)

    async def _beat(self):
        reported = time.monotonic()
        while True:
            await asyncio.sleep(0.5)
            now = time.monotonic()
            if now - reported >= PROGRESS_EVERY and (self.live or self.closes):
                # On stderr, while a long command runs: stdout carries only the answers.
                reported = now
                print(f"[client {os.getpid()}] open {len(self.live):,}, closed by the server {self.closes}",
                      file=sys.stderr, flush=True)
            keep = []
            for conn in self.beats:
                if conn.closed:
                    continue
                keep.append(conn)
                if conn.next_beat <= now:
                    conn.beat()
                    conn.next_beat = now + conn.interval * 0.8
            self.beats = keep

    def request(self, port: int, path: str, cookie: str | None) -> bytes:
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Upgrade: websocket", "Connection: Upgrade",
                 f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13", f"Origin: http://127.0.0.1:{port}"]
        if cookie:
            lines.append(f"Cookie: {cookie}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    async def open(self, port: int, path: str, cookie: str | None, source: str, gateway: bool,
                   timeout: float) -> Conn:
        conn = Conn(self, self.request(port, path, cookie), gateway)
        await asyncio.wait_for(self.loop.create_connection(lambda: conn, "127.0.0.1", port,
                                                          local_addr=(source, 0)), timeout)
        self.live.add(conn)
        await asyncio.wait_for(asyncio.shield(conn.ready), timeout)
        return conn

    async def connect(self, c: dict) -> dict:
        started = time.perf_counter()
        gate = asyncio.Semaphore(c.get("concurrency", 200))
        errors: dict[str, int] = {}
        ready = 0

        async def one(cookie):
            nonlocal ready
            async with gate:
                try:
                    await self.open(c["port"], c["path"], cookie, c["source"], c["gateway"], c.get("timeout", 120))
                    ready += 1
                except Exception as exc:  # counted and reported, never retried
                    why = str(exc) or type(exc).__name__
                    errors[why] = errors.get(why, 0) + 1

        await asyncio.gather(*(one(cookie) for cookie in c["cookies"]))
        return {"ready": ready, "failed": sum(errors.values()), "errors": errors,
                "seconds": time.perf_counter() - started}

    async def probe(self, c: dict) -> dict:
        conn = await self.open(c["port"], c["path"], c.get("cookie"), c.get("source", "127.0.0.1"), c["gateway"], 60)
        conn.acks = asyncio.Queue()
        rtts = []
        deadline = time.monotonic() + c["seconds"]
        while time.monotonic() < deadline:
            sent = time.perf_counter()
            conn.transport.write(frame(json.dumps({"op": 1, "d": conn.seq}) if c["gateway"] else "ping"))
            try:
                rtts.append(await asyncio.wait_for(conn.acks.get(), 10) - sent)
            except TimeoutError:
                rtts.append(10.0)
            await asyncio.sleep(c["every"])
        conn.transport.close()
        return {"rtts": rtts}

    async def close(self, c: dict) -> dict:
        n = len(self.live)
        for conn in list(self.live):
            conn.transport.close()
        deadline = time.monotonic() + 30
        while self.live and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        self.beats, self.latencies, self.closes = [], {}, {}
        return {"closed": n}

    def stats(self) -> dict:
        out = {"open": len(self.live), "closes": self.closes, "latencies": self.latencies}
        self.latencies = {}
        return out


async def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    worker = Worker()
    reader = asyncio.StreamReader(limit=2**28)
    await worker.loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        c = json.loads(line)
        if c["cmd"] == "quit":
            break
        handler = {"connect": worker.connect, "probe": worker.probe, "close": worker.close}.get(c["cmd"])
        try:
            result = await handler(c) if handler else worker.stats()
        except Exception as exc:  # reported to the orchestrator, which stops the run
            result = {"error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()
    for conn in list(worker.live):
        conn.transport.close()


if __name__ == "__main__":
    asyncio.run(main())
