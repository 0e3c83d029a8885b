"""What a new gateway socket reads before READY, and where: its headers, and the database reads of
its session (auth.py) and READY state (consumers.py) on a pool of their own."""
from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor

from channels.db import DatabaseSyncToAsync
from django.conf import settings
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
    return DatabaseSyncToAsync(func, thread_sensitive=False, executor=ready_executor())


def header(scope, name: bytes) -> str:
    return dict(scope.get("headers") or []).get(name, b"").decode("latin-1")


def cookies_of(scope) -> dict[str, str]:
    return parse_cookie(header(scope, b"cookie"))
