"""Celery with nothing to install (`make run`): a worker and beat inside the serving process, on
Celery's in-memory broker (`memory://`).

Requests only enqueue, as in production; the worker's threads take the tasks from the broker's
queues with Celery's own semantics (the three queues, retries with their countdown, chains, acks),
and beat sends the schedule of celery_app/app.py. Tasks publish their events on the bus, whose
in-process slot the gateway's hub fills (apps/core/bus.py), so they reach the sockets as they would
from a worker process.

runserver starts it (apps/core/management/commands/runserver.py), once, in the process that serves:
under the autoreloader that is the child, never the watcher. Nothing else does, so migrate, the
shell, the tests and real `celery worker` processes never run one. Production sets a broker
(REDIS_URL) and runs `celery worker` and `celery beat` instead.
"""
from __future__ import annotations

import logging
import threading

from celery.beat import EmbeddedService, Scheduler
from celery.worker import WorkController
from django.conf import settings

from .app import app

log = logging.getLogger(__name__)

# Threads taking tasks: a track's pipeline, a scoring batch and a thumbnail at once, without letting
# background work crowd out the requests that share the process (and SQLite's single writer).
THREADS = 3
START_TIMEOUT = 30  # seconds

_lock = threading.Lock()
_started = False


class _Worker(WorkController):
    """A worker that says when it consumes from the broker (its blueprint's ready callback)."""

    def __init__(self, *args, **kwargs):
        self.consuming = threading.Event()
        super().__init__(*args, **kwargs)

    def on_consumer_ready(self, consumer):
        super().on_consumer_ready(consumer)
        self.consuming.set()


def start() -> None:
    """Start the worker and beat threads in this process (once), and return when the worker takes
    tasks. Only for a process that serves on the in-memory broker (settings.CELERY_EMBEDDED)."""
    global _started
    if not settings.CELERY_EMBEDDED:
        raise RuntimeError("the embedded Celery worker runs only on the in-memory broker (no REDIS_URL)")
    with _lock:
        if _started:
            return
        _started = True
    # From now on tasks go to the broker: no request runs one inline.
    app.conf.task_always_eager = False
    # Nothing outside this process could reach the in-memory broker: no remote control.
    app.conf.worker_enable_remote_control = False
    built: list[_Worker] = []
    failed: list[BaseException] = []
    ready = threading.Event()

    def run() -> None:
        try:
            # Built in its own thread: the worker's start-up closes the database connections of
            # the thread it runs in (Celery's Django fix-up), which must not be the server's.
            worker = _Worker(app=app, hostname="embedded@localhost", pool="threads", concurrency=THREADS,
                             queues=[q.name for q in app.conf.task_queues], without_mingle=True,
                             without_gossip=True, without_heartbeat=True)
            built.append(worker)
        except BaseException as exc:
            failed.append(exc)
            raise
        finally:
            ready.set()
        worker.start()  # blocks while the worker runs; no signal handlers (not the main thread)

    threading.Thread(target=run, name="celery-worker", daemon=True).start()
    ready.wait()
    if failed:
        raise RuntimeError("the embedded Celery worker could not start") from failed[0]
    if not built[0].consuming.wait(START_TIMEOUT):
        raise RuntimeError(f"the embedded Celery worker did not start within {START_TIMEOUT} s")
    # Beat in a thread too, its schedule in memory (Scheduler, not the shelve file celery beat keeps):
    # a restart starts every interval afresh.
    EmbeddedService(app, thread=True, scheduler_cls=Scheduler).start()
    log.info("Celery runs in this process: %s worker threads on queues %s, and beat",
             THREADS, ", ".join(q.name for q in app.conf.task_queues))
