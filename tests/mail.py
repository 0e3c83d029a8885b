"""A real SMTP server for tests (aiosmtpd on loopback): what the Celery worker sends arrives here."""
from __future__ import annotations

import re
import threading
import time
from contextlib import contextmanager
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller

from tests.servers import free_port

LINK = re.compile(r"https?://\S+")


class Mailbox:
    """Every message the server received, as email.message.EmailMessage."""

    def __init__(self):
        self.messages = []
        self._cond = threading.Condition()
        self.port = 0

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        message = message_from_bytes(envelope.content, policy=policy.default)
        message.envelope_to = list(envelope.rcpt_tos)
        with self._cond:
            self.messages.append(message)
            self._cond.notify_all()
        return "250 Message accepted"

    def to(self, address: str) -> list:
        with self._cond:
            return [m for m in self.messages if address in m.envelope_to]

    def wait_for(self, address: str, *, count: int = 1, timeout: float = 60):
        """The `count`-th message to `address`, waiting for it to arrive."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(found := [m for m in self.messages if address in m.envelope_to]) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"no mail #{count} to {address} within {timeout} s (got {len(found)})"
                self._cond.wait(left)
            return found[count - 1]


def body(message) -> str:
    return message.get_body(("plain",)).get_content()


def link_in(message) -> str:
    return LINK.search(body(message)).group(0)


@contextmanager
def smtp_server():
    box = Mailbox()
    box.port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
