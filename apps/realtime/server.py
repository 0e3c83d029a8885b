"""The protocols gateway nodes run under uvicorn:
`uvicorn smartc.asgi:application --http apps.realtime.server:GatewayHttpProtocol
--ws apps.realtime.server:GatewayWebSocketProtocol`.

`GatewayHttpProtocol` is uvicorn's HTTP protocol with a deadline on the request head: a client that
opens a TCP connection and never finishes its upgrade request (a slow-loris storm, or sockets left
half-open by a client that died mid-handshake) is dropped after GATEWAY_HANDSHAKE_TIMEOUT seconds
(default 10). uvicorn itself waits for a first request forever, holding a file descriptor and its
parser per connection: a few thousand of them would use up a node's descriptors. A first packet that
is one whole WebSocket upgrade head goes to the WebSocket protocol as it came, without uvicorn's HTTP
parser reading it first (the WebSocket protocol parses and checks it anyway).

It is uvicorn's sans-I/O `websockets` protocol (`--ws websockets-sansio`) with two changes that
matter on a node holding tens of thousands of sockets and relaying broadcasts to them:

- it lets go of the handshake once the socket is accepted: uvicorn keeps the parsed HTTP request
  and response (their header objects, about 2 KB) for the socket's whole life, and nothing reads
  them after the accept;
- its receive queue and its "writable" flag are a list and a slot rather than an asyncio.Queue
  and an asyncio.Event: those hold four empty deques between them, 760 bytes each, on every idle
  socket, for a queue that never holds more than one message (uvicorn stops reading until the
  application takes it) and a flag with one waiter at most (the application's send);
- it offers the application a synchronous write of a whole text frame as the ASGI extension
  `smartc.send_frame` (`scope["extensions"]["smartc.send_frame"](frame) -> bool`, `frame` an
  uncompressed text frame as apps/realtime/frames.py builds it): the frame is written at once when
  the socket can take it, without building an ASGI message and running uvicorn's send coroutine for
  each member of a broadcast (what `websockets.broadcast` does too). It answers False when the
  socket is paused by flow control or closing; the caller then goes through the ASGI send, which
  waits, so back-pressure works as before. Without a compression extension a server's text frame
  is its header and the bytes as they are (RFC 6455 5.2; a server never masks), so the caller
  builds it, and a broadcast's header once for all its members (hub.Event): what the `websockets`
  state machine's Frame objects would write, for a tenth of the work per member. A socket that
  negotiated compression gets the frame's text framed by the library. Either way a frame is one
  `transport.write`, whole or not at all: a closing socket never gets part of one. Once a socket has
  passed the checks, its next frames skip them (DirectWrite) until anything that could change their
  outcome happens to it.
"""
from __future__ import annotations

import asyncio
import os
import re

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

from apps.realtime import frames

try:  # what uvicorn's `--http auto` picks
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as HttpProtocol
except ImportError:
    from uvicorn.protocols.http.h11_impl import H11Protocol as HttpProtocol

SEND_FRAME = "smartc.send_frame"  # hub.SEND_FRAME (this module loads before Django: it cannot import it)
OPEN = State.OPEN


# Read here, not from Django's settings: uvicorn loads this module before Django.
HANDSHAKE_TIMEOUT = float(os.environ.get("GATEWAY_HANDSHAKE_TIMEOUT", "10"))


class GatewayHttpProtocol(HttpProtocol):
    """uvicorn's HTTP protocol, closing a connection whose first request head has not arrived in time."""

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self.head_deadline = self.loop.call_later(HANDSHAKE_TIMEOUT, self.head_timeout)
        self.first_data = True

    def data_received(self, data: bytes) -> None:
        # A WebSocket upgrade whose whole head came in the first packet (every browser's) goes to
        # the WebSocket protocol as it is: it parses and checks the request itself, so the HTTP
        # parser's pass over it and the head uvicorn rebuilds from it for that protocol were done
        # twice. Anything else, or in doubt, takes the general path.
        if self.first_data:
            self.first_data = False
            if self.ws_protocol_class is not None and is_websocket_upgrade(data):
                self.head_deadline.cancel()
                self.connections.discard(self)
                protocol = self.ws_protocol_class(config=self.config, server_state=self.server_state,
                                                  app_state=self.app_state)
                if isinstance(protocol, GatewayWebSocketProtocol):
                    protocol.taken_over(self.transport, self.server, self.client, self.scheme)
                else:
                    protocol.connection_made(self.transport)
                protocol.data_received(data)
                self.transport.set_protocol(protocol)
                return
        super().data_received(data)

    def connection_lost(self, exc) -> None:
        self.head_deadline.cancel()
        super().connection_lost(exc)

    def handle_websocket_upgrade(self, *args) -> None:
        self.head_deadline.cancel()  # the WebSocket protocol takes the connection from here
        super().handle_websocket_upgrade(*args)

    def head_timeout(self) -> None:
        # A request under way (`cycle`) or a socket handed to the WebSocket protocol is left alone.
        transport = self.transport
        if self.cycle is None and transport.get_protocol() is self and not transport.is_closing():
            transport.close()


_CONNECTION_UPGRADE = re.compile(rb"\r\nconnection:[^\r\n]*\bupgrade\b")


def is_websocket_upgrade(data: bytes) -> bool:
    """Whether `data` is one whole request head, a GET asking for a WebSocket upgrade, as uvicorn's
    HTTP protocol would judge it (its `Connection` naming `upgrade`, its `Upgrade` `websocket`)."""
    if not data.startswith(b"GET ") or data.find(b"\r\n\r\n") != len(data) - 4:
        return False
    head = data.lower()
    return b"\r\nupgrade: websocket\r\n" in head and _CONNECTION_UPGRADE.search(head) is not None


class GatewayWebSocketProtocol(WebSocketsSansIOProtocol):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.queue = Inbox()
        self.writable = Flag()
        self.writable.set()
        self.direct = DirectWrite(self)
        self.corked: list[bytes] | None = None

    def taken_over(self, transport, server, client, scheme: str) -> None:
        """connection_made, from GatewayHttpProtocol with the addresses it has read (uvicorn reads
        them from the socket again: two system calls per connection, in a reconnect storm each one
        a moment the event loop lets the READY threads take the interpreter from it)."""
        self.connections.add(self)
        self.transport = transport
        self.server, self.client = server, client
        self.scheme = "wss" if scheme == "https" else "ws"

    def handle_connect(self, event) -> None:
        super().handle_connect(event)
        if getattr(self, "scope", None) is not None:  # absent when the handshake was refused
            self.scope["extensions"][SEND_FRAME] = self.direct.send_frame
            # ASGI names headers in lower case. uvicorn's HTTP parser lowered them before handing the
            # head over; a head handed over as it came (GatewayHttpProtocol) keeps the client's case.
            self.scope["headers"] = [(name.lower(), value) for name, value in self.scope["headers"]]

    def send(self, message):
        # A plain function handing back uvicorn's coroutine, not a second coroutine layer: a text frame
        # changes nothing the direct write depends on. Anything else (the accept, the close) may, once
        # it has waited for the socket: the write is disarmed when it is done.
        self._drop_handshake()
        self.direct.transport = None
        kind = message["type"]
        if kind == "websocket.accept" and self.writable.value and not self.handshake_complete:
            return self._accept_corked(message)
        self.uncork()
        if kind == "websocket.send":
            return super().send(message)
        return self._send_then_disarm(message)

    async def _send_then_disarm(self, message) -> None:
        try:
            await super().send(message)
        finally:
            self.direct.transport = None

    # The accept's response and the frames written in the same turn of the event loop (the gateway's
    # HELLO and READY) go to the socket in one write instead of three: fewer system calls for the
    # server and the client, each one, in a reconnect storm, a moment the event loop lets a READY
    # thread take the interpreter from it. Anything else that writes (a frame through uvicorn, a
    # pong, a close, a ping) writes what is held first.

    async def _accept_corked(self, message) -> None:
        # uvicorn's accept writes its response to `self.transport`; with the socket writable its send
        # does not wait, so nothing else runs while `transport` is the holder.
        transport, self.transport = self.transport, _Holder(self.transport)
        try:
            await super().send(message)
        finally:
            held, self.transport = self.transport.held, transport
            self.direct.transport = None
        if held:
            self.corked = held
            self.loop.call_soon(self.uncork)

    def uncork(self) -> None:
        """Write what the accept's turn held, now."""
        corked, self.corked = self.corked, None
        if corked and not self.transport.is_closing():
            self.transport.write(b"".join(corked))

    # Whatever may close the socket, change its state or pause it disarms the direct write; the next
    # frame is written after the full check (send_frame_now), which arms it again if it still holds.

    def data_received(self, data: bytes) -> None:
        self.direct.transport = None  # a close or a protocol error from the client changes the state
        self.uncork()  # a pong or a close goes after what is held
        super().data_received(data)
        self.direct.transport = None

    def eof_received(self) -> None:
        self.direct.transport = None
        super().eof_received()

    def connection_lost(self, exc) -> None:
        self.direct.transport = None
        self.corked = None
        super().connection_lost(exc)

    def pause_writing(self) -> None:
        self.direct.transport = None
        super().pause_writing()

    def shutdown(self) -> None:
        self.direct.transport = None
        self.uncork()
        super().shutdown()

    def keepalive_timeout(self) -> None:
        self.direct.transport = None
        self.uncork()
        super().keepalive_timeout()

    def send_keepalive_ping(self) -> None:
        self.uncork()
        super().send_keepalive_ping()

    def send_frame_now(self, frame: bytes) -> bool:
        """Write a whole uncompressed text frame (frames.text_header and its payload) now if the socket
        is open and not paused; False otherwise. Run once per member of every broadcast: the checks
        are plain attributes, and the frame goes to the transport as it is, in one write."""
        conn = self.conn
        # `_state` is what the library's `state` property reads: the property is a Python call per member.
        if (self.close_sent or self.disconnected or not self.handshake_complete or not self.writable.value
                or conn._state is not OPEN):
            return False
        if self.response is not None:  # the first frame after the accept (_drop_handshake)
            self.request = self.response = None
        # Compressed, mid-message, or behind bytes the library has queued (uvicorn flushes them at
        # once, so never seen): the library frames the text, after them.
        if conn.extensions or conn.expect_continuation_frame or conn.writes:
            self.uncork()
            conn.send_text(frames.payload(frame))
            self.transport.write(b"".join(conn.data_to_send()))
            return True
        if self.corked is not None:  # in the accept's turn: held with the response (not armed)
            self.corked.append(frame)
            return True
        self.direct.transport = self.transport  # until something changes what was checked here
        self.transport.write(frame)
        return True

    def _drop_handshake(self) -> None:
        """At the first frame after the accept, whichever way it is written."""
        if self.handshake_complete and self.response is not None:
            self.request = self.response = None


class _Holder:
    """The transport uvicorn's accept writes its response to: what is written is held."""

    __slots__ = ("transport", "held")

    def __init__(self, transport):
        self.transport = transport
        self.held: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.held.append(data)

    def is_closing(self) -> bool:
        return self.transport.is_closing()


class DirectWrite:
    """A socket's `smartc.send_frame`, armed: once the full check (send_frame_now) has found the
    socket open, not paused and uncompressed, its frames go to the transport with no other check
    until the protocol disarms it (whatever may change what was checked: a send other than a text
    frame, bytes from the client, the end of the connection, flow control). Run once per member of
    every broadcast, it reads one slot: the protocol's attributes are a dict of its own per socket
    (uvicorn's protocol has too many for shared keys), and the checks read some ten attributes
    there and in the library's state machine, a cache miss or two each on a node of many sockets."""

    __slots__ = ("protocol", "transport")

    def __init__(self, protocol: GatewayWebSocketProtocol):
        self.protocol = protocol
        self.transport = None  # armed: where a frame goes as it is

    def send_frame(self, frame: bytes) -> bool:
        transport = self.transport
        if transport is not None:
            transport.write(frame)
            return True
        return self.protocol.send_frame_now(frame)


class Inbox:
    """What uvicorn's protocol uses of its asyncio.Queue (put_nowait, get, empty), for the one reader
    it has: the application's receive."""

    __slots__ = ("items", "waiter")

    def __init__(self):
        self.items: list = []
        self.waiter: asyncio.Future | None = None

    def put_nowait(self, item) -> None:
        self.items.append(item)
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def empty(self) -> bool:
        return not self.items

    def qsize(self) -> int:
        return len(self.items)

    async def get(self):
        while not self.items:
            self.waiter = asyncio.get_running_loop().create_future()
            await self.waiter
        return self.items.pop(0)


class Flag:
    """What uvicorn's protocol uses of an asyncio.Event (set, clear, is_set, wait), waiters kept only
    while there are some."""

    __slots__ = ("value", "waiters")

    def __init__(self):
        self.value = False
        self.waiters: list | None = None

    def is_set(self) -> bool:
        return self.value

    def set(self) -> None:
        self.value = True
        waiters, self.waiters = self.waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(True)

    def clear(self) -> None:
        self.value = False

    async def wait(self) -> bool:
        if self.value:
            return True
        waiter = asyncio.get_running_loop().create_future()
        if self.waiters is None:
            self.waiters = []
        self.waiters.append(waiter)
        try:
            return await waiter
        finally:
            if self.waiters is not None and waiter in self.waiters:
                self.waiters.remove(waiter)
            if not self.waiters:
                self.waiters = None
