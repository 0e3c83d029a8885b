"""The WebSocket protocol gateway nodes run under uvicorn:
`uvicorn smartc.asgi:application --ws apps.realtime.server:GatewayWebSocketProtocol`.

It is uvicorn's sans-I/O `websockets` protocol (`--ws websockets-sansio`), except that it lets go
of the handshake once the socket is accepted: uvicorn keeps the parsed HTTP request and response
(their header objects, about 4 KB) for the socket's whole life, and a node holds tens of thousands
of idle sockets. Nothing reads them after the accept.
"""
from __future__ import annotations

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol


class GatewayWebSocketProtocol(WebSocketsSansIOProtocol):
    def send(self, message):
        # A plain function returning uvicorn's coroutine, not a coroutine awaiting it: every frame
        # of every broadcast comes through here, and a second coroutine layer would cost each one.
        # The handshake goes at the first frame after the accept.
        if self.handshake_complete and getattr(self, "response", None) is not None:
            self.request = self.response = None
        return super().send(message)
