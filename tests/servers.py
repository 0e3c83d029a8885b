"""Real servers for tests: the platform served by daphne (or uvicorn) in a subprocess, on the
test database and the suite's Redis, so HTTP and WebSocket clients talk to the real stack."""
from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager, suppress
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


class ServedUrl(str):
    """The base URL of a running server; `proc` is its process (a fault test kills it)."""

    proc: subprocess.Popen


# What points a process at real services: `make run` has none of them.
REAL_SERVICES = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CELERY_TASK_ALWAYS_EAGER",
                 "AWS_STORAGE_BUCKET_NAME", "JANUS_URL", "TURN_URLS")


def make_run_env(folder: Path, **settings) -> dict:
    """The environment `make run` serves in (embedded defaults: dev settings, SQLite, no Redis, so
    Celery's worker and beat run inside the server), with the database and media in `folder`, and
    `settings` (environment variables) on top."""
    env = {k: v for k, v in os.environ.items() if k not in REAL_SERVICES}
    return {**env, "DJANGO_SETTINGS_MODULE": "smartc.settings.dev",
            "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}", "MEDIA_ROOT": str(folder / "media"), **settings}


@contextmanager
def running_server(*, server: str = "daphne", env: dict | None = None, make_run: dict | None = None):
    """Yield the base URL of the app served on a free loopback port (a `ServedUrl`); stop it afterwards.
    With `make_run` (an environment from make_run_env) it is served exactly as `make run` serves it,
    autoreloader included, instead of on the test database and Redis."""
    port = free_port()
    full_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "smartc.settings.test",
                "DATABASE_URL": test_database_url(), **(env or {})}
    if make_run is not None:
        full_env = make_run
        cmd = [sys.executable, "manage.py", "runserver", "--insecure", f"127.0.0.1:{port}"]
    elif server == "daphne":
        cmd = [sys.executable, "manage.py", "runserver", "--noreload", "--insecure", f"127.0.0.1:{port}"]
    else:
        cmd = [sys.executable, "-m", "uvicorn", "smartc.asgi:application", "--host", "127.0.0.1", "--port", str(port),
               "--http", "apps.realtime.server:GatewayHttpProtocol",
               "--ws", "apps.realtime.server:GatewayWebSocketProtocol", "--ws-per-message-deflate", "false",
               "--ws-ping-interval", "0", "--no-access-log"]
    ARTIFACTS.mkdir(exist_ok=True)
    with open(ARTIFACTS / f"server-{port}.log", "w") as log:
        # A session of its own: the autoreloader serves from a child process, stopped with it.
        proc = subprocess.Popen(cmd, cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
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
            url = ServedUrl(f"http://127.0.0.1:{port}")
            url.proc = proc
            yield url
        finally:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


@contextmanager
def celery_worker(*, queues: str = "default,media,moderation", env: dict | None = None, pool: str = "solo"):
    """A real Celery worker process (`-P solo`, or one prefork child: the pool that enforces time
    limits) on the test database and the suite's Redis, ready to take tasks; stopped afterwards. Its
    log goes to test-results/ (`proc.log_path`). `env` adds settings (S3)."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "smartc.settings.test", "DATABASE_URL": test_database_url(),
           "REDIS_URL": os.environ["REDIS_URL"], "CELERY_TASK_ALWAYS_EAGER": "false", **(env or {})}
    ARTIFACTS.mkdir(exist_ok=True)
    name = f"worker-{uuid.uuid4().hex[:8]}"
    log_path = ARTIFACTS / f"celery-{name}.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "celery_app", "worker", "-Q", queues, "-P", pool, "-c", "1",
             "-l", "info", "-n", f"{name}@%h", "--without-mingle", "--without-gossip", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        proc.log_path = log_path
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


class Postgres:
    """A throwaway PostgreSQL cluster of its own, holding a copy of the test database, that a test may
    stop and start again under a running app while the suite's own cluster keeps serving the rest."""

    def __init__(self, workdir: str):
        from tests.plugins import services

        self.services, self.workdir = services, workdir
        self.bindir, self.data, self.sock = services.init_postgres(workdir)
        self.port = free_port()
        self.url = f"postgres://smartc@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        self.services.pg_ctl_start(self.bindir, self.data, self.sock, self.port, os.path.join(self.workdir, "pg.log"))

    def stop(self, mode: str = "fast") -> None:
        """`fast` ends every session (as a restart does); `immediate` as a crash would."""
        self.services.pg_ctl_stop(self.bindir, self.data, mode)

    def copy_of(self, source_url: str) -> None:
        """Load a dump of `source_url` (schema and rows) into this cluster."""
        dump = subprocess.run([f"{self.bindir}/pg_dump", "--no-owner", "--no-privileges", "-d", source_url],
                              check=True, capture_output=True).stdout
        subprocess.run([f"{self.bindir}/psql", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.url], input=dump,
                       check=True, capture_output=True)


@contextmanager
def postgres_copy():
    """A started throwaway cluster (`Postgres`) with a copy of the test database as it is now; removed
    afterwards."""
    import tempfile

    workdir = tempfile.mkdtemp(prefix="smartc-pg-")
    os.chmod(workdir, 0o755)
    cluster = Postgres(workdir)
    try:
        cluster.start()
        cluster.copy_of(test_database_url())
        yield cluster
    finally:
        cluster.stop("immediate")
        shutil.rmtree(workdir, ignore_errors=True)


class S3:
    """A real S3 endpoint over HTTP (moto's server) with one bucket, and the settings that point
    the platform's storage at it, for this process (`storages`) and for subprocesses (`env`)."""

    def __init__(self):
        from moto.server import ThreadedMotoServer

        self.port = free_port()
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.bucket = "smartc-test-media"

    def start(self) -> S3:
        self.server.start()
        self.client().create_bucket(Bucket=self.bucket)
        return self

    def stop(self) -> None:
        self.server.stop()
        self.server._server.server_close()  # moto leaves the port listening: clients would hang, not fail

    def come_back(self) -> None:
        """Serve again on the same port after `stop()` (an S3 outage in a fault test), with the same
        buckets and objects: moto keeps them in this process."""
        from moto.server import ThreadedMotoServer

        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id="test",
                            aws_secret_access_key="test", region_name="us-east-1",
                            config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"))

    def keys(self, prefix: str = "") -> list[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))

    def storages(self, base: dict) -> dict:
        options = {"bucket_name": self.bucket, "endpoint_url": self.endpoint, "access_key": "test",
                   "secret_key": "test", "region_name": "us-east-1", "addressing_style": "path",
                   "signature_version": "s3v4", "default_acl": None, "querystring_auth": True}
        return {**base, "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}}

    def env(self) -> dict:
        return {"AWS_STORAGE_BUCKET_NAME": self.bucket, "AWS_S3_ENDPOINT_URL": self.endpoint,
                "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_S3_ADDRESSING_STYLE": "path"}


@contextmanager
def coturn(*, secret: str, realm: str = "smartc.test"):
    """A throwaway coturn TURN server on loopback with REST credentials (`use-auth-secret`, as in
    docker/coturn/turnserver.conf); yields its `turn:` URLs (UDP and TCP, so a busy UDP port does not
    leave the browsers without a relay). Its log goes to test-results/."""
    exe = shutil.which("turnserver") or "/usr/bin/turnserver"
    if not os.path.exists(exe):
        raise RuntimeError("coturn is not installed: install the Debian package 'coturn' "
                           "(make test does it when run as root).")
    port = free_port()
    relay_min = random.randrange(50000, 59000, 100)  # a relay range of its own, away from a real coturn's
    ARTIFACTS.mkdir(exist_ok=True)
    log_path, pid_path = ARTIFACTS / f"coturn-{port}.log", ARTIFACTS / f"coturn-{port}.pid"
    cmd = [exe, "-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", f"--listening-port={port}",
           "--use-auth-secret", f"--static-auth-secret={secret}", f"--realm={realm}",
           # Loopback is denied in production (turnserver.conf); here both browsers are on it.
           "--allow-loopback-peers", "--no-cli", "--no-tls", "--no-dtls", "--fingerprint",
           f"--min-port={relay_min}", f"--max-port={relay_min + 99}", f"--log-file={log_path}", "--simple-log",
           f"--pidfile={pid_path}"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"coturn exited at start-up; see test-results/{log_path.name}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("coturn did not start within 15 s")
            time.sleep(0.1)
        yield [f"turn:127.0.0.1:{port}?transport=udp", f"turn:127.0.0.1:{port}?transport=tcp"]
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


JANUS_LIBS = "/usr/lib/x86_64-linux-gnu/janus"
# Only the VideoRoom plugin and the HTTP and WebSocket transports: the rest would open ports or
# look for brokers the tests do not run.
JANUS_UNUSED_PLUGINS = ("audiobridge", "duktape", "echotest", "lua", "nosip", "recordplay", "sip", "streaming",
                        "textroom", "videocall", "voicemail")
JANUS_UNUSED_TRANSPORTS = ("mqtt", "nanomsg", "pfunix", "rabbitmq")


class Janus:
    """A running throwaway Janus: its HTTP API URL (for Django), its Admin API URL (for Django),
    WebSocket URL (for browsers) and the key Django shares with it (the VideoRoom admin_key and
    Janus's api_secret and admin_secret)."""

    def __init__(self, http_url: str, admin_url: str, ws_url: str, admin_key: str, log_path: Path):
        self.http_url, self.admin_url, self.ws_url = http_url, admin_url, ws_url
        self.admin_key, self.log_path = admin_key, log_path

    def env(self) -> dict:
        return {"JANUS_URL": self.http_url, "JANUS_ADMIN_URL": self.admin_url, "JANUS_PUBLIC_URL": self.ws_url,
                "JANUS_ADMIN_KEY": self.admin_key}


@contextmanager
def janus(*, admin_key: str = "a-videoroom-admin-key"):
    """A throwaway Janus (the Debian package) on free loopback ports, with a config folder of its own
    written to a temp dir as in docker/janus/ (VideoRoom only, HTTP, Admin and WebSocket APIs, token
    authentication with `admin_key` as Django's secret, RTP ports of its own). Its log goes to
    test-results/."""
    import tempfile

    exe = shutil.which("janus") or "/usr/bin/janus"
    if not os.path.exists(exe):
        raise RuntimeError("Janus is not installed: install the Debian package 'janus' "
                           "(make test does it when run as root).")
    http_port, admin_port, ws_port = free_port(), free_port(), free_port()
    rtp_min = random.randrange(20000, 29000, 200)
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / f"janus-{http_port}.log"
    with tempfile.TemporaryDirectory(prefix="janus-") as folder:
        conf = Path(folder)
        plugins = ",".join(f"libjanus_{p}.so" for p in JANUS_UNUSED_PLUGINS)
        transports = ",".join(f"libjanus_{t}.so" for t in JANUS_UNUSED_TRANSPORTS)
        (conf / "janus.jcfg").write_text(f"""general: {{
  configs_folder = "{conf}"
  plugins_folder = "{JANUS_LIBS}/plugins"
  transports_folder = "{JANUS_LIBS}/transports"
  events_folder = "{JANUS_LIBS}/events"
  loggers_folder = "{JANUS_LIBS}/loggers"
  debug_level = 4
  # Browsers need a token Django added (and removes when they leave); Django uses the secrets.
  token_auth = true
  api_secret = "{admin_key}"
  admin_secret = "{admin_key}"
}}
media: {{ rtp_port_range = "{rtp_min}-{rtp_min + 199}" }}
plugins: {{ disable = "{plugins}" }}
transports: {{ disable = "{transports}" }}
events: {{ broadcast = false }}
loggers: {{ disable = "libjanus_jsonlog.so" }}
""")
        (conf / "janus.transport.http.jcfg").write_text(f"""general: {{
  json = "plain"
  base_path = "/janus"
  http = true
  port = {http_port}
  ip = "127.0.0.1"
  https = false
}}
admin: {{
  admin_base_path = "/admin"
  admin_http = true
  admin_port = {admin_port}
  admin_ip = "127.0.0.1"
  admin_https = false
}}
""")
        (conf / "janus.transport.websockets.jcfg").write_text(f"""general: {{
  json = "plain"
  ws = true
  ws_port = {ws_port}
  ws_ip = "127.0.0.1"
  wss = false
}}
admin: {{ admin_ws = false }}
""")
        (conf / "janus.plugin.videoroom.jcfg").write_text(f'general: {{\n  admin_key = "{admin_key}"\n}}\n')
        with open(log_path, "w") as log:
            proc = subprocess.Popen([exe, "-F", str(conf), "-C", str(conf / "janus.jcfg")],
                                    stdout=log, stderr=subprocess.STDOUT)
            try:
                deadline = time.monotonic() + 30
                while True:
                    if proc.poll() is not None:
                        raise RuntimeError(f"Janus exited at start-up; see test-results/{log_path.name}")
                    ready = True
                    for port in (http_port, admin_port, ws_port):
                        with socket.socket() as s:
                            ready = ready and s.connect_ex(("127.0.0.1", port)) == 0
                    if ready:
                        break
                    if time.monotonic() > deadline:
                        raise RuntimeError("Janus did not start within 30 s")
                    time.sleep(0.2)
                yield Janus(f"http://127.0.0.1:{http_port}/janus", f"http://127.0.0.1:{admin_port}/admin",
                            f"ws://127.0.0.1:{ws_port}", admin_key, log_path)
            finally:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
