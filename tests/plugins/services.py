"""Real PostgreSQL and Redis for the suite.

Uses DATABASE_URL / REDIS_URL when they are set; otherwise starts throwaway servers from the
machine's binaries on free loopback ports, in a temporary folder, for the length of the run. A
parallel worker (pytest-xdist) starts a Redis of its own whatever REDIS_URL says.
PostgreSQL refuses to run as root, so as root it runs as the `postgres` user (runuser).
Loaded with `-p tests.plugins.services` (pytest.ini) as a hook wrapper, so the environment is
ready before pytest-django reads the settings.
"""
from __future__ import annotations

import atexit
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest


class MissingBinary(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing answered on 127.0.0.1:{port} after {timeout}s")


def _pg_bindir() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise MissingBinary("PostgreSQL server binaries not found: install the Debian package 'postgresql' "
                            "(make test installs it when run as root), or set DATABASE_URL.")
    return os.path.dirname(found[-1])


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def init_postgres(workdir: str) -> tuple[str, str, str]:
    """A new cluster in `workdir` (not started): (bindir, data folder, socket folder)."""
    bindir = _pg_bindir()
    data, sock = os.path.join(workdir, "pg"), os.path.join(workdir, "pgsock")
    os.makedirs(sock)
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres")
        shutil.chown(sock, "postgres")
    subprocess.run(_as_postgres([f"{bindir}/initdb", "-D", data, "-U", "smartc", "--auth=trust", "-E", "UTF8",
                                 "--no-sync"]), check=True, capture_output=True)
    return bindir, data, sock


def pg_ctl_start(bindir: str, data: str, sock: str, port: int, log: str) -> None:
    # fsync off and friends: a throwaway cluster trades durability for speed.
    opts = (f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=200")
    subprocess.run(_as_postgres([f"{bindir}/pg_ctl", "-D", data, "-o", opts, "-l", log, "-w", "start"]),
                   check=True, capture_output=True)
    _wait_port(port)


def pg_ctl_stop(bindir: str, data: str, mode: str = "immediate") -> None:
    subprocess.run(_as_postgres([f"{bindir}/pg_ctl", "-D", data, "-m", mode, "-w", "stop"]), capture_output=True)


def start_postgres(workdir: str) -> str:
    bindir, data, sock = init_postgres(workdir)
    port = _free_port()
    pg_ctl_start(bindir, data, sock, port, os.path.join(workdir, "pg.log"))
    atexit.register(pg_ctl_stop, bindir, data)
    return f"postgres://smartc@127.0.0.1:{port}/postgres"


def start_redis(workdir: str) -> str:
    exe = shutil.which("redis-server")
    if not exe:
        raise MissingBinary("redis-server not found: install the Debian package 'redis-server' "
                            "(make test installs it when run as root), or set REDIS_URL.")
    port = _free_port()
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", workdir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    atexit.register(proc.terminate)
    _wait_port(port)
    return f"redis://127.0.0.1:{port}/0"


def provision() -> None:
    if os.environ.get("PYTEST_XDIST_WORKER") and shutil.which("redis-server"):
        # `make test` runs the suite in parallel workers (pytest-xdist). Each has a Redis of its own:
        # pub/sub channels are not per database, and ids repeat across the workers' test databases,
        # so two workers' gateways would hear each other's guild events. The PostgreSQL server is
        # shared (pytest-django gives each worker its own test database).
        os.environ["REDIS_URL"] = ""
    if os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"):
        return
    workdir = tempfile.mkdtemp(prefix="smartc-test-")
    os.chmod(workdir, 0o755)
    atexit.register(shutil.rmtree, workdir, True)
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = start_postgres(workdir)
    if not os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = start_redis(workdir)


@pytest.hookimpl(hookwrapper=True)
def pytest_load_initial_conftests(early_config, parser, args):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartc.settings.test")
    provision()
    yield
