"""A broadcast's frame is built once (header included) and written as it is to every member's socket
(apps/realtime/frames.py, hub.Event.framed, server.DirectWrite, GatewayWebSocketProtocol.send_frame_now):
each member must still get its own whole text, on a socket that negotiated compression as on one that
did not, on a socket paused by flow control, and never part of a frame on a socket that is closing,
also once frames have been written to it directly (the write skips the checks until something changes).

The server is the gateway's uvicorn protocol on a Unix socket, the clients the `websockets` library."""
from __future__ import annotations

import asyncio
import json
import os
import tempfile
from contextlib import asynccontextmanager

import pytest
from uvicorn.config import Config
from uvicorn.server import ServerState
from websockets.asyncio.client import unix_connect
from websockets.exceptions import ConnectionClosed

from apps.core import bus
from apps.realtime import hub
from apps.realtime.server import GatewayWebSocketProtocol


class Served:
    """Gateway protocol sockets whose application only accepts, then waits: the test writes to them
    through an Outbox, as the hub does."""

    def __init__(self):
        self.accepted: list[tuple[dict, object]] = []
        self.protocols: list[GatewayWebSocketProtocol] = []

    async def app(self, scope, receive, send):
        await receive()
        await send({"type": "websocket.accept"})
        self.accepted.append((scope, send))
        while (await receive())["type"] != "websocket.disconnect":
            pass

    def protocol(self, config, state):
        p = GatewayWebSocketProtocol(config, state, {})
        self.protocols.append(p)
        return p


async def serve(folder: str, deflate: bool, served: Served | None = None):
    served = served or Served()
    config = Config(app=served.app, interface="asgi3", ws="websockets-sansio", ws_per_message_deflate=deflate,
                    ws_ping_interval=None, lifespan="off", log_level="warning")
    config.load()
    state = ServerState()
    path = os.path.join(folder, "gw.sock")
    server = await asyncio.get_running_loop().create_unix_server(lambda: served.protocol(config, state), path)
    return served, server, path


def event(content: str) -> hub.Event:
    d = {"id": 1, "channel_id": 10, "guild_id": 1, "content": content}
    t, _, text = bus.decode(bus.encode("MESSAGE_CREATE", d))
    return hub.Event(t, json.loads(text), hub.frame_prefix(t, text))


def frame_of(ev: hub.Event, seq: int) -> bytes:
    """A member's frame, as relaying.Relaying.relay builds it."""
    ending = b"%d}" % seq
    return ev.framed[len(ending)] + ending


async def outbox(served: Served, i: int) -> hub.Outbox:
    while len(served.accepted) <= i:
        await asyncio.sleep(0.01)
    scope, send = served.accepted[i]
    return hub.Outbox(send, 100, scope["extensions"][hub.SEND_FRAME])


def run(coro):
    asyncio.run(asyncio.wait_for(coro, 30))


@asynccontextmanager
async def one_socket():
    """A served socket without compression: (the server's view, the client's socket)."""
    with tempfile.TemporaryDirectory() as folder:
        served, server, path = await serve(folder, False)
        ws = await unix_connect(path, compression=None)
        try:
            yield served, ws
        finally:
            await ws.close()
            server.close()


@pytest.mark.parametrize("deflate", [False, True])
def test_every_member_gets_its_whole_text_compressed_or_not(deflate):
    async def main():
        with tempfile.TemporaryDirectory() as folder:
            served, server, path = await serve(folder, deflate)
            plain = await unix_connect(path, compression=None)
            compressed = await unix_connect(path)  # offers permessage-deflate, as browsers do
            boxes = [await outbox(served, 0), await outbox(served, 1)]
            assert bool(served.protocols[1].conn.extensions) is deflate
            sent = []
            for n, content in enumerate(["short", "é" * 40, "x" * 700, "y" * 70000]):
                ev = event(content)
                for box, seq in zip(boxes, (9 + n, 99_999 + n), strict=True):
                    assert box.write_frame(frame_of(ev, seq))
                    sent.append((box, f'{{"op":0,"t":"MESSAGE_CREATE","d":{json.dumps(ev.d, separators=(",", ":"))},'
                                      f'"s":{seq}}}'))
            for ws, box in ((plain, boxes[0]), (compressed, boxes[1])):
                for text in [t for b, t in sent if b is box]:
                    got = await ws.recv()
                    assert got == text
                    assert json.loads(got)["d"]["content"]
            await plain.close()
            await compressed.close()
            server.close()

    run(main())


def test_a_paused_socket_gets_the_frame_whole_once_it_drains():
    async def main():
        async with one_socket() as (served, ws):
            box = await outbox(served, 0)
            protocol = served.protocols[0]
            protocol.pause_writing()  # as the transport does when its buffer is full
            ev = event("waited")
            assert box.write_frame(frame_of(ev, 5))
            assert box.task is not None  # the ASGI send waits for the socket
            assert box.write_frame(frame_of(ev, 6))  # queued behind it, in order
            protocol.resume_writing()
            assert json.loads(await ws.recv())["s"] == 5
            assert json.loads(await ws.recv())["s"] == 6

    run(main())


def test_a_socket_paused_after_direct_writes_waits_for_the_drain_in_order():
    async def main():
        async with one_socket() as (served, ws):
            box = await outbox(served, 0)
            ev = event("direct")
            assert box.write_frame(frame_of(ev, 1))
            assert box.write_frame(frame_of(ev, 2))  # written as it is, the checks passed before
            assert box.task is None
            served.protocols[0].pause_writing()
            assert box.write_frame(frame_of(ev, 3))
            assert box.task is not None  # not written past the flow control: the ASGI send waits
            assert box.write_frame(frame_of(ev, 4))
            served.protocols[0].resume_writing()
            assert [json.loads(await ws.recv())["s"] for _ in range(4)] == [1, 2, 3, 4]
            assert box.write_frame(frame_of(ev, 5))
            assert json.loads(await ws.recv())["s"] == 5

    run(main())


def test_a_socket_the_client_closes_after_direct_writes_gets_nothing_more():
    async def main():
        async with one_socket() as (served, ws):
            await outbox(served, 0)  # accepted
            write = served.accepted[0][0]["extensions"][hub.SEND_FRAME]
            assert write(frame_of(event("before"), 1))
            assert json.loads(await ws.recv())["d"]["content"] == "before"
            await ws.close(4001)  # the server answers the close: the socket is closing
            assert ws.close_code == 4001
            assert write(frame_of(event("after"), 2)) is False

    run(main())


def test_a_closing_socket_gets_no_part_of_a_frame():
    async def main():
        async with one_socket() as (served, ws):
            box = await outbox(served, 0)
            ev = event("before")
            assert box.write_frame(frame_of(ev, 1))
            box.put(4000)  # the close, as GatewayConsumer.end queues it
            await asyncio.sleep(0.05)
            assert served.protocols[0].close_sent
            # The server's write refuses it, and the Outbox drops it: the socket is done.
            assert served.protocols[0].send_frame_now(frame_of(event("after"), 2)) is False
            assert served.accepted[0][0]["extensions"][hub.SEND_FRAME](frame_of(event("after"), 2)) is False
            assert box.write_frame(frame_of(event("after"), 2))
            assert json.loads(await ws.recv())["d"]["content"] == "before"
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd.code == 4000

    run(main())


class Greeting(Served):
    """Accepts and, in the same turn of the loop, writes `frames` and then sends `then` (a close), as
    the gateway writes HELLO and READY right after its accept. Counts the writes to each socket."""

    def __init__(self, frames: list[bytes], then: dict | None = None):
        super().__init__()
        self.frames, self.then, self.writes = frames, then, []

    async def app(self, scope, receive, send):
        await receive()
        await send({"type": "websocket.accept"})
        for frame in self.frames:
            assert scope["extensions"][hub.SEND_FRAME](frame)
        if self.then is not None:
            await send(self.then)
        self.accepted.append((scope, send))
        while (await receive())["type"] != "websocket.disconnect":
            pass

    def protocol(self, config, state):
        p = super().protocol(config, state)
        made = p.connection_made

        def connection_made(transport):
            made(transport)
            write, n = transport.write, len(self.writes)
            self.writes.append(0)

            def counted(data):
                self.writes[n] += 1
                write(data)

            transport.write = counted

        p.connection_made = connection_made
        return p


async def greeted(served: Greeting):
    with tempfile.TemporaryDirectory() as folder:
        _, server, path = await serve(folder, False, served)
        try:
            ws = await unix_connect(path, compression=None)
            got = []
            try:
                while True:
                    got.append(json.loads(await ws.recv())["s"])
            except ConnectionClosed as closed:
                return got, closed.rcvd.code if closed.rcvd else None
            finally:
                await ws.close()
        finally:
            server.close()


def test_the_accept_and_the_frames_written_in_its_turn_reach_the_client_in_one_write():
    async def main():
        served = Greeting([frame_of(event("hello"), 1), frame_of(event("ready"), 2)], then={"type": "websocket.close",
                                                                                           "code": 4000})
        got, code = await greeted(served)
        assert got == [1, 2] and code == 4000  # the handshake, both frames in order, then the close
        # One write for the response and the two frames, one for the close.
        assert served.writes == [2]

    run(main())


def test_frames_after_the_accept_s_turn_are_written_as_they_come():
    async def main():
        served = Greeting([frame_of(event("ready"), 1)])
        task = asyncio.ensure_future(greeted(served))
        box = await outbox(served, 0)
        await asyncio.sleep(0.05)  # the next turns: what the accept held is written
        assert served.writes == [1]
        assert box.write_frame(frame_of(event("later"), 2))
        assert served.writes == [2]
        box.put(4001)
        assert await task == ([1, 2], 4001)

    run(main())
