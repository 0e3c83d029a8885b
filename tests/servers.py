"""Real servers for tests: the platform served by daphne (or uvicorn) in a subprocess, on the
test database and the suite's Redis, so HTTP and WebSocket clients talk to the real stack."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-results"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@contextmanager
def running_server(*, server: str = "daphne", env: dict | None = None):
    """Yield the base URL of the app served on a free loopback port; stop it afterwards."""
    port = free_port()
    full_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "smartc.settings.test",
                "DATABASE_URL": test_database_url(), **(env or {})}
    if server == "daphne":
        cmd = [sys.executable, "manage.py", "runserver", "--noreload", "--insecure", f"127.0.0.1:{port}"]
    else:
        cmd = [sys.executable, "-m", "uvicorn", "smartc.asgi:application", "--host", "127.0.0.1", "--port", str(port),
               "--ws", "apps.realtime.server:GatewayWebSocketProtocol", "--ws-per-message-deflate", "false",
               "--ws-ping-interval", "0", "--no-access-log"]
    ARTIFACTS.mkdir(exist_ok=True)
    with open(ARTIFACTS / f"server-{port}.log", "w") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"the server exited at start-up; see test-results/server-{port}.log")
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", port)) == 0:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError("the server did not start within 30 s")
                time.sleep(0.2)
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextmanager
def celery_worker(*, queues: str = "default,media,moderation"):
    """A real Celery worker process (`-P solo`) on the test database and the suite's Redis, ready to
    take tasks; stopped afterwards. Its log goes to test-results/."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "smartc.settings.test", "DATABASE_URL": test_database_url(),
           "REDIS_URL": os.environ["REDIS_URL"], "CELERY_TASK_ALWAYS_EAGER": "false"}
    ARTIFACTS.mkdir(exist_ok=True)
    name = f"worker-{uuid.uuid4().hex[:8]}"
    log_path = ARTIFACTS / f"celery-{name}.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "celery_app", "worker", "-Q", queues, "-P", "solo", "-l", "info",
             "-n", f"{name}@%h", "--without-mingle", "--without-gossip", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while "ready." not in log_path.read_text():
                if proc.poll() is not None:
                    raise RuntimeError(f"the Celery worker exited at start-up; see {log_path.name}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the Celery worker did not start within 60 s; see {log_path.name}")
                time.sleep(0.2)
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
