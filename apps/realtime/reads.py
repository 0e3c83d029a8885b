"""What a new gateway socket reads before READY, and where: its headers, and the database reads of
its session (auth.py) and READY state (consumers.py) on a pool of their own."""
from __future__ import annotations

import asyncio
import functools
import logging
import queue
import threading
import time

from django.conf import settings
from django.db import connection
from django.http.cookie import parse_cookie

log = logging.getLogger(__name__)


class ReadyThreads:
    """The threads that read a new socket's session and READY state. Channels runs every other ORM
    call on one thread per process; in a reconnect storm these reads would queue there, each
    waiting on the database in turn. These threads overlap those waits (each holds its own pooled
    connection).

    A queue and threads that take from it, not a ThreadPoolExecutor: its submit takes a semaphore
    whose lock the threads also take after every item, and a lock shared with every executor of
    the process; in a storm the event loop waited there for a thread that held it and waited for
    the GIL (a tenth of a gateway process's samples), and each item also built a Future of its own
    that no one awaits. Here a submit is one put on a C queue."""

    def __init__(self, size: int):
        self.size = size
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.threads: list[threading.Thread] = []
        self.lock = threading.Lock()

    def submit(self, func, *args) -> None:
        self.queue.put((func, args))
        if len(self.threads) < self.size:
            self._start()

    def waiting(self) -> bool:
        """Whether items wait for a thread."""
        return not self.queue.empty()

    def _start(self) -> None:
        with self.lock:
            while len(self.threads) < self.size:
                thread = threading.Thread(target=self._work, name=f"gateway-ready_{len(self.threads)}", daemon=True)
                thread.start()
                self.threads.append(thread)

    def _work(self) -> None:
        while True:
            func, args = self.queue.get()
            try:
                func(*args)  # _ready_call settles its socket's future whatever happens
            except BaseException:  # a thread lost would shrink the pool for the process's life
                log.exception("a READY thread's call failed")


@functools.cache
def ready_executor() -> ReadyThreads:
    return ReadyThreads(settings.GATEWAY_READY_THREADS)


async def on_ready_threads(func, *args):
    """`func(*args)` on a READY thread, awaited on the event loop: one hop there and one back,
    without asgiref's SyncToAsync around it (a context copy, a shield and a chained future per
    call, a tenth of a socket's connect on the loop in a storm)."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    ready_executor().submit(_ready_call, loop, done, func, args)
    return await done


def _ready_call(loop, done, func, args):
    try:
        outcome = (func(*args), None)
    except BaseException as exc:
        outcome = (None, exc)
        _give_back()
    finally:
        _keep_or_give_back()
    try:
        loop.call_soon_threadsafe(_settle, done, *outcome)
    except RuntimeError:  # the loop has ended: no one waits
        pass


def _settle(done, result, exc) -> None:
    if done.done():  # the socket's task was cancelled meanwhile
        return
    if exc is None:
        done.set_result(result)
    else:
        done.set_exception(exc)


# How long a READY thread may keep one pooled connection while sockets keep coming.
KEEP_CONNECTION_SECONDS = 30.0
_held = threading.local()


def _keep_or_give_back() -> None:
    """A READY thread keeps its pooled database connection while other sockets wait for the READY
    threads. Each lend from the pool checks the connection (a round trip, CONN_HEALTH_CHECKS) and
    sets it up again: in a reconnect storm that was a trip and a good share of the CPU of every
    socket. The connection goes back to the pool as soon as no socket waits, after
    KEEP_CONNECTION_SECONDS, and after any error (the pool's check then replaces it if it died)."""
    since = getattr(_held, "since", None)
    if connection.connection is None:
        _held.since = None
    elif since is None:
        _held.since = time.monotonic()
    if not ready_executor().waiting() or time.monotonic() - (_held.since or 0) > KEEP_CONNECTION_SECONDS:
        _give_back()


def _give_back():
    _held.since = None
    connection.close()


def header(scope, name: bytes) -> str:
    return dict(scope.get("headers") or []).get(name, b"").decode("latin-1")


def cookies_of(scope) -> dict[str, str]:
    return parse_cookie(header(scope, b"cookie"))
