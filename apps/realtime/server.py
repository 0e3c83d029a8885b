"""The WebSocket protocol gateway nodes run under uvicorn:
`uvicorn smartc.asgi:application --ws apps.realtime.server:GatewayWebSocketProtocol`.

It is uvicorn's sans-I/O `websockets` protocol (`--ws websockets-sansio`) with two changes that
matter on a node holding tens of thousands of sockets and relaying broadcasts to them:

- it lets go of the handshake once the socket is accepted: uvicorn keeps the parsed HTTP request
  and response (their header objects, about 2 KB) for the socket's whole life, and nothing reads
  them after the accept;
- it offers the application a synchronous text write as the ASGI extension `smartc.send_text`
  (`scope["extensions"]["smartc.send_text"](text) -> bool`): the frame is written at once when
  the socket can take it, without building an ASGI message and running uvicorn's send coroutine
  for each member of a broadcast (what `websockets.broadcast` does too). It answers False when
  the socket is paused by flow control or closing; the caller then goes through the ASGI send,
  which waits, so back-pressure works as before.
"""
from __future__ import annotations

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

SEND_TEXT = "smartc.send_text"  # hub.SEND_TEXT (this module loads before Django: it cannot import it)


class GatewayWebSocketProtocol(WebSocketsSansIOProtocol):
    def handle_connect(self, event) -> None:
        super().handle_connect(event)
        if getattr(self, "scope", None) is not None:  # absent when the handshake was refused
            self.scope["extensions"][SEND_TEXT] = self.send_text_now

    def send(self, message):
        # A plain function handing back uvicorn's coroutine, not a second coroutine layer.
        self._drop_handshake()
        return super().send(message)

    def send_text_now(self, text: str) -> bool:
        """Write a text frame now if the socket is open and not paused; False otherwise."""
        if (not self.handshake_complete or self.close_sent or self.disconnected or not self.writable.is_set()
                or self.conn.state is not State.OPEN):
            return False
        self._drop_handshake()
        self.conn.send_text(text.encode())
        self.transport.write(b"".join(self.conn.data_to_send()))
        return True

    def _drop_handshake(self) -> None:
        """At the first frame after the accept, whichever way it is written."""
        if self.handshake_complete and self.response is not None:
            self.request = self.response = None
