"""What a new gateway socket reads before READY, and where: its headers, and the database reads of
its session (auth.py) and READY state (consumers.py) on a pool of their own."""
from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connection
from django.http.cookie import parse_cookie

from . import hub


@functools.cache
def ready_executor() -> ThreadPoolExecutor:
    """The threads that read a new socket's session and READY state. Channels runs every other ORM
    call on one thread per process; in a reconnect storm these reads would queue there, each
    waiting on the database in turn. These threads overlap those waits (each holds its own pooled
    connection)."""
    return ThreadPoolExecutor(settings.GATEWAY_READY_THREADS, thread_name_prefix="gateway-ready")


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


def join_from_thread(loop, consumer, groups: list[str]) -> None:
    """On a READY thread: join `consumer` to `groups` on its event loop and wait until the node is
    subscribed to them (hub.Hub.join: one SUBSCRIBE for every socket joining in the same turn)."""
    joined = concurrent.futures.Future()
    loop.call_soon_threadsafe(_start_join, consumer, groups, joined)
    joined.result()


def _start_join(consumer, groups, joined) -> None:
    if consumer.closing:  # its task was cancelled and cleaned up while this thread read
        joined.set_exception(asyncio.CancelledError())
        return
    consumer.joined.update(groups)  # first: a failed join is still undone by its cleanup
    try:
        subscribed = hub.hub().join(groups, consumer)
    except BaseException as exc:
        joined.set_exception(exc)
        return

    def settled(f):
        if f.cancelled():
            joined.set_exception(asyncio.CancelledError())
        elif f.exception() is not None:
            joined.set_exception(f.exception())
        else:
            joined.set_result(None)

    if subscribed.done():
        settled(subscribed)
    else:
        subscribed.add_done_callback(settled)


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
    if ready_executor()._work_queue.empty() or time.monotonic() - (_held.since or 0) > KEEP_CONNECTION_SECONDS:
        _give_back()


def _give_back():
    _held.since = None
    connection.close()


def header(scope, name: bytes) -> str:
    return dict(scope.get("headers") or []).get(name, b"").decode("latin-1")


def cookies_of(scope) -> dict[str, str]:
    return parse_cookie(header(scope, b"cookie"))
