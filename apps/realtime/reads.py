"""What a new gateway socket reads before READY, and where: its headers, and the database reads of
its session (auth.py) and READY state (consumers.py) on a pool of their own."""
from __future__ import annotations

import functools
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import SyncToAsync
from django.conf import settings
from django.db import connection
from django.http.cookie import parse_cookie


@functools.cache
def ready_executor() -> ThreadPoolExecutor:
    """The threads that read a new socket's session and READY state. Channels runs every other ORM
    call on one thread per process; in a reconnect storm these reads would queue there, each
    waiting on the database in turn. These threads overlap those waits (each holds its own pooled
    connection)."""
    return ThreadPoolExecutor(settings.GATEWAY_READY_THREADS, thread_name_prefix="gateway-ready")


def on_ready_threads(func):
    """`func` as a coroutine function that runs on the READY threads."""
    return ReadyThreadCall(func, thread_sensitive=False, executor=ready_executor())


# How long a READY thread may keep one pooled connection while sockets keep coming.
KEEP_CONNECTION_SECONDS = 30.0
_held = threading.local()


class ReadyThreadCall(SyncToAsync):
    """As Channels' DatabaseSyncToAsync, except that a READY thread keeps its pooled database
    connection while other sockets wait for the READY threads. Each lend from the pool checks the
    connection (a round trip, CONN_HEALTH_CHECKS) and sets it up again: in a reconnect storm that
    was a trip and a good share of the CPU of every socket. The connection goes back to the pool
    as soon as no socket waits, after KEEP_CONNECTION_SECONDS, and after any error (the pool's
    check then replaces it if it died)."""

    def thread_handler(self, loop, *args, **kwargs):
        try:
            return super().thread_handler(loop, *args, **kwargs)
        except BaseException:
            _give_back()
            raise
        finally:
            since = getattr(_held, "since", None)
            if connection.connection is None:
                _held.since = None
            elif since is None:
                _held.since = time.monotonic()
            if ready_executor()._work_queue.empty() or time.monotonic() - (_held.since or 0) > KEEP_CONNECTION_SECONDS:
                _give_back()


def _give_back():
    _held.since = None
    connection.close()


def header(scope, name: bytes) -> str:
    return dict(scope.get("headers") or []).get(name, b"").decode("latin-1")


def cookies_of(scope) -> dict[str, str]:
    return parse_cookie(header(scope, b"cookie"))
