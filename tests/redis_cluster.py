"""A real Redis Cluster on loopback for tests and benchmarks: `masters` redis-server processes in
cluster mode, no replicas, the slots spread by `redis-cli --cluster create`. A node can be
restarted in place: it comes back from its nodes.conf with the same id and slots."""
from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000) is free and valid too."""
    while True:
        with socket.socket() as a:
            a.bind(("127.0.0.1", 0))
            port = a.getsockname()[1]
            if port + 10000 > 65535:
                continue
            with socket.socket() as b:
                try:
                    b.bind(("127.0.0.1", port + 10000))
                except OSError:
                    continue
        return port


class RedisCluster:
    def __init__(self, masters: int = 3, options: tuple[str, ...] = ()):
        self.options = options  # more redis-server arguments
        self.ports = [cluster_port() for _ in range(masters)]
        self.folder = Path(tempfile.mkdtemp(prefix="smartc-cluster-"))
        self.procs: dict[int, subprocess.Popen] = {}

    @property
    def url(self) -> str:
        """Any node's address: the clients learn the others from it."""
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def start(self) -> RedisCluster:
        for port in self.ports:
            self._start_node(port)
        if len(self.ports) == 1:  # redis-cli wants 3 masters: one node takes every slot itself
            self.cli(self.ports[0], "CLUSTER", "ADDSLOTSRANGE", "0", "16383")
        else:
            subprocess.run([shutil.which("redis-cli"), "--cluster", "create",
                            *[f"127.0.0.1:{p}" for p in self.ports], "--cluster-replicas", "0", "--cluster-yes"],
                           check=True, capture_output=True, timeout=60)
        self.wait_ok()
        return self

    def _start_node(self, port: int) -> None:
        folder = self.folder / str(port)
        folder.mkdir(exist_ok=True)
        self.procs[port] = subprocess.Popen(
            [shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
             "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000", "--save", "",
             "--appendonly", "no", "--dir", str(folder), *self.options],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    return
            assert self.procs[port].poll() is None, f"redis-server on port {port} exited at start-up"
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def cli(self, port: int, *args: str) -> str:
        return subprocess.run([shutil.which("redis-cli"), "-p", str(port), *args], check=True,
                              capture_output=True, text=True, timeout=10).stdout

    def wait_ok(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not all("cluster_state:ok" in self.cli(p, "CLUSTER", "INFO") for p in self.ports):
            assert time.monotonic() < deadline, "the cluster did not reach cluster_state:ok"
            time.sleep(0.1)

    def port_of(self, key: str) -> int:
        """The port of the primary that owns `key`'s slot."""
        slot = int(self.cli(self.ports[0], "CLUSTER", "KEYSLOT", key))
        for port in self.ports:
            for line in self.cli(port, "CLUSTER", "NODES").splitlines():
                fields = line.split()
                if "myself" in fields[2]:
                    for spec in fields[8:]:
                        start, _, end = spec.partition("-")
                        if spec[0].isdigit() and int(start) <= slot <= int(end or start):
                            return port
        raise AssertionError(f"no node owns slot {slot}")

    def stop_node(self, port: int) -> None:
        proc = self.procs.pop(port)
        proc.terminate()
        proc.wait(10)

    def restart_node(self, port: int) -> None:
        self.stop_node(port)
        self._start_node(port)
        self.wait_ok()

    def stop(self) -> None:
        for port in list(self.procs):
            self.stop_node(port)
        shutil.rmtree(self.folder, ignore_errors=True)
