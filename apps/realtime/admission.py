"""Who may open a gateway socket beyond being signed in: at most GATEWAY_MAX_SOCKETS_PER_USER
sockets per user in one process, and the refusal a browser can read.

Every socket costs its process memory and a READY; an account opening thousands of them (a script,
a runaway tab reloading in a loop) would crowd out everyone else on the node. The count is per
process, where the memory is: a user's sockets on other nodes count there.
"""
from __future__ import annotations

import threading
from collections import Counter

from django.conf import settings

from . import metrics, protocol
from .protocol import Close, Op

TOO_MANY = "too_many_connections"  # the error code of the frame sent before the close


class UserSockets:
    """Open sockets per user id in this process. `admit` runs on READY threads, `release` on the
    event loop: both under one lock."""

    def __init__(self):
        self.counts: Counter = Counter()
        self.lock = threading.Lock()

    def admit(self, user_id: int, cap: int) -> bool:
        with self.lock:
            if self.counts[user_id] >= cap:
                return False
            self.counts[user_id] += 1
            return True

    def release(self, user_id: int) -> None:
        with self.lock:
            left = self.counts[user_id] - 1
            if left > 0:
                self.counts[user_id] = left
            else:
                self.counts.pop(user_id, None)


user_sockets = UserSockets()


def too_many(cap: int) -> dict:
    return {"code": TOO_MANY, "message": f"This account already has {cap} connections open on this server."}


async def refuse(send, code: Close, auth_error: dict | None = None):
    """Accept, so that a browser sees the code, then close with `code` (NOT_AUTHENTICATED or
    TOO_MANY_CONNECTIONS); nothing joins the hub. An error frame saying why goes first: for a
    refused API token, `auth_error` (expired, revoked, no `gateway` scope)."""
    if code == Close.TOO_MANY_CONNECTIONS:
        reason, error = metrics.TOO_MANY_CONNECTIONS, too_many(settings.GATEWAY_MAX_SOCKETS_PER_USER)
    else:
        reason, error = metrics.NOT_AUTHENTICATED, auth_error
    metrics.HANDSHAKES_REFUSED.labels(reason).inc()
    await send({"type": "websocket.accept"})
    if error:
        await send({"type": "websocket.send", "text": protocol.frame(Op.ERROR, error)})
    await send({"type": "websocket.close", "code": int(code)})
