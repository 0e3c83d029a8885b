"""The gateway at scale, side by side with a bare `websockets.broadcast` server, in one run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/smartc_bench REDIS_URL=redis://127.0.0.1:6379/5 \
        .venv/bin/python -m tests.bench.gateway_scale --processes 6 --members 10000 --hold 100000

Starts --processes server processes of each kind on loopback: bare servers (tests/bench/bare_server.py)
and SmaRTC gateway nodes (uvicorn with the gateway's protocols, as production runs them:
`--http apps.realtime.server:GatewayHttpProtocol --ws apps.realtime.server:GatewayWebSocketProtocol`;
compression off, real PostgreSQL and Redis). Client worker processes (tests/bench/wsclient.py) open
the sockets from source addresses 127.0.0.2, 127.0.0.3, ...; gateway sockets are authenticated with a
session cookie per member.

For each kind, with one socket per member (--members, guild "big"; the first --small members are
also in guild "small"):
  - memory per idle connection: growth of the server processes' resident memory / sockets;
  - failed handshakes, the connect rate and the server processes' CPU time per socket meanwhile;
  - one broadcast to the small and the big group, --broadcasts times each, spaced out: time until
    each member has it, and until the last member has it (p50/p95/p99). Bare: a Redis PUBLISH the
    servers relay with websockets.broadcast, of a frame shaped and sized as the gateway's (a
    MESSAGE_CREATE read off the hub once), so that clients and kernel do the same work per frame for
    both. Gateway: chat.services.send_message (database write, commit, one publish to the hub),
    delivered as MESSAGE_CREATE;
  - sustained deliveries/s: --burst broadcasts to the big group back to back, and the servers' CPU
    time per delivery over the burst (steadier than wall time on a shared machine);
  - event-loop stall: heartbeat (gateway) or ping (bare) round trips of an unrelated socket on the
    first process during the burst;
  - delivery ratio over all of it.
Then, with --hold N, fresh gateway processes take N authenticated sockets (members reused, several
sockets per member like browser tabs), hold them through --hold-seconds of heartbeats, and report
failed handshakes, the connect rate, sockets still open and memory per socket.

Loopback only; bounded: every wait has a timeout and the servers stop with the run.
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "gwbench"


# --- data ---------------------------------------------------------------------------------------

def setup_members(members: int, small: int, session_rows: bool = True) -> dict:
    """Members, guilds and sessions, created once and reused by later runs. Each session gets the
    sessions page's row that a browser's first page after sign-in writes (apps.accounts.middleware),
    unless `session_rows` is false."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from apps.accounts.models import User, UserSession
    from apps.guilds import services
    from apps.guilds.models import Channel, Guild, Member

    have = User.objects.filter(username__startswith=f"{PREFIX}_").count()
    if have < members + 1:
        start = have
        User.objects.bulk_create([User(username=f"{PREFIX}_{i:06d}", password="!", display_name=f"Bench {i}")
                                  for i in range(start, members + 1)], batch_size=2000)
    users = list(User.objects.filter(username__startswith=f"{PREFIX}_").order_by("username")[:members + 1])
    probe, users = users[0], users[1:]

    def guild(name: str, people: list) -> int:
        g = Guild.objects.filter(name=name).first() or services.create_guild(owner=people[0], name=name)
        have = set(Member.objects.filter(guild=g).values_list("user_id", flat=True))
        Member.objects.bulk_create([Member(guild=g, user=u) for u in people if u.id not in have], batch_size=2000)
        Member.objects.filter(guild=g).exclude(user__in=people).delete()
        return Channel.objects.get(guild=g, name="general").id

    channels = {"big": guild(f"{PREFIX} big", users), "small": guild(f"{PREFIX} small", users[:small]),
                "probe": guild(f"{PREFIX} probe", [probe])}
    expire = timezone.now() + datetime.timedelta(days=1)
    sessions, rows, cookies = [], [], []
    for u in [probe, *users]:
        store = SessionStore()
        key = store._get_new_session_key()
        data = {SESSION_KEY: str(u.pk), BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                HASH_SESSION_KEY: u.get_session_auth_hash()}
        sessions.append(Session(session_key=key, session_data=store.encode(data), expire_date=expire))
        rows.append(UserSession(user=u, session_key=key, user_agent="bench"))
        cookies.append(f"sessionid={key}")
    Session.objects.bulk_create(sessions, batch_size=2000)
    if session_rows:
        UserSession.objects.bulk_create(rows, batch_size=2000)
    return {"channels": channels, "sender": users[0].id, "probe": cookies[0], "cookies": cookies[1:]}


# --- processes ----------------------------------------------------------------------------------

def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def start_servers(kind: str, ports: list[int], args) -> list[subprocess.Popen]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "smartc.settings.dev", "DEBUG": "false",
           "ALLOWED_HOSTS": "127.0.0.1,localhost", "DB_POOL_MAX_SIZE": "6", "DB_POOL_MIN_SIZE": "2",
           "CHANNEL_LAYER_POOL_SIZE": "50",
           # The stall probe sends a heartbeat every few milliseconds.
           "GATEWAY_RATE_LIMIT": "1000000"}
    procs = []
    for port in ports:
        if kind == "bare":
            cmd = [sys.executable, "-m", "tests.bench.bare_server", str(port), os.environ["REDIS_URL"]]
        else:
            cmd = [sys.executable, "-c", RAISE_NOFILE + "import uvicorn.main; uvicorn.main.main()",
                   "smartc.asgi:application", "--host", "127.0.0.1", "--port", str(port),
                   "--http", "apps.realtime.server:GatewayHttpProtocol", "--ws",
                   "apps.realtime.server:GatewayWebSocketProtocol", "--ws-per-message-deflate", "false",
                   "--ws-ping-interval", "0", "--no-access-log", "--log-level", "warning", "--backlog", "4096"]
        procs.append(subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=args.server_log))
    deadline = time.monotonic() + 60
    for port in ports:
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"a {kind} server did not start on port {port}") from None
                time.sleep(0.2)
    return procs


RAISE_NOFILE = ("import resource; s, h = resource.getrlimit(resource.RLIMIT_NOFILE); "
                "resource.setrlimit(resource.RLIMIT_NOFILE, (h, h)); ")


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:  # uvicorn waits for its sockets to close
            p.kill()
            p.wait()


def rss(procs: list[subprocess.Popen]) -> int:
    """Resident memory of the processes, in bytes."""
    total = 0
    for p in procs:
        with open(f"/proc/{p.pid}/status") as f:
            total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) * 1024
    return total


def cpu_seconds(procs: list[subprocess.Popen]) -> float:
    """User and system CPU time the processes (and their threads) have used, in seconds: on a box
    shared with other work it is steadier than the wall time a phase takes."""
    total = 0
    for p in procs:
        with open(f"/proc/{p.pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / os.sysconf("SC_CLK_TCK")


class Clients:
    """Client worker processes, each on its own source address."""

    def __init__(self, n: int):
        self.procs = [subprocess.Popen([sys.executable, "-m", "tests.bench.wsclient"], cwd=ROOT, text=True,
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE) for _ in range(n)]
        self.sources = [f"127.0.0.{2 + i}" for i in range(n)]

    def ask(self, commands: list[dict | None]) -> list[dict | None]:
        """Send one command to each worker (None: skip it), then read every answer."""
        for p, c in zip(self.procs, commands, strict=True):
            if c is not None:
                p.stdin.write(json.dumps(c) + "\n")
                p.stdin.flush()
        answers = [json.loads(p.stdout.readline()) if c is not None else None
                   for p, c in zip(self.procs, commands, strict=True)]
        for a in answers:
            if a and "error" in a:
                raise SystemExit(f"a client worker failed: {a['error']}")
        return answers

    def stats(self) -> list[dict]:
        return self.ask([{"cmd": "stats"}] * len(self.procs))

    def close(self) -> None:
        for p in self.procs:
            try:
                p.stdin.write('{"cmd": "quit"}\n')
                p.stdin.flush()
            except BrokenPipeError:
                pass
        for p in self.procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()


# --- measurements -------------------------------------------------------------------------------

def pct(values: list[float], scale: float = 1000.0) -> dict:
    if not values:
        return {"p50": None, "p95": None, "p99": None, "max": None}
    v = sorted(values)

    def q(p):
        return round(v[min(len(v) - 1, math.ceil(p * len(v)) - 1)] * scale, 1)

    return {"p50": q(0.50), "p95": q(0.95), "p99": q(0.99), "max": round(v[-1] * scale, 1)}


def fmt(p: dict) -> str:
    return "   ".join(f"{k} {v:8.1f} ms" if v is not None else f"{k} -" for k, v in p.items())


class Target:
    """How to reach and drive one kind of server."""

    def __init__(self, kind: str, ports: list[int], data: dict, args):
        self.kind, self.ports, self.data, self.args = kind, ports, data, args
        self.gateway = kind == "gateway"
        from apps.accounts.models import User

        self.sender = User.objects.get(pk=data["sender"])
        self.frames = 0
        self.publishing: dict[str, float] = {}  # broadcast id → seconds from its send to its publish
        self.published_at = 0.0
        if self.gateway:  # when the send's MESSAGE_CREATE left for the hub (the send goes on after it)
            from apps.core import bus

            publish = bus.send

            def timed(groups, t, d):
                publish(groups, t, d)
                if t == "MESSAGE_CREATE":
                    self.published_at = time.time()

            bus.send = timed
        if not self.gateway:
            self.template, self.template_content = message_template(self.sender, data["channels"]["big"])

    def sockets(self, n: int, workers: int) -> list[dict]:
        """connect commands for n sockets: socket j belongs to member j % members, on server j % processes."""
        cookies = self.data["cookies"]
        per_worker: list[dict] = [{} for _ in range(workers)]
        for j in range(n):
            port = self.ports[j % len(self.ports)]
            member = j % len(cookies)
            path = "/ws/gateway/" if self.gateway else ("/?g=small" if member < self.args.small else "/?g=big")
            cookie = cookies[member] if self.gateway else None
            per_worker[j % workers].setdefault((port, path), []).append(cookie)
        return [[{"cmd": "connect", "port": port, "path": path, "cookies": cs, "gateway": self.gateway,
                  "concurrency": self.args.concurrency}
                 for (port, path), cs in w.items()] for w in per_worker]

    def broadcast(self, group: str, mid: str) -> float:
        """Sends `mid` to `group`; returns when it was sent. `self.publishing[mid]`: the seconds from the
        send to its publish (the gateway's send writes the message first): a member's time from the send
        less it counts from the publish."""
        sent = time.time()
        content = f"bench {mid} {sent:.6f}"
        if self.gateway:
            from apps.chat import services as chat

            chat.send_message(author=self.sender, channel_id=self.data["channels"][group], content=content)
            self.publishing[mid] = self.published_at - sent
        else:
            import redis

            from apps.realtime.hub import frame_prefix

            # The frame a gateway member gets (its sequence number about as long): the clients do the
            # same work per frame for both kinds, and the servers write as many bytes.
            self.frames += 1
            text = self.template.replace(self.template_content, content)
            client = redis.Redis.from_url(os.environ["REDIS_URL"])
            client.publish(f"bench:bare:{group}", frame_prefix("MESSAGE_CREATE", text) + f"{10 + self.frames}}}")
            self.publishing[mid] = time.time() - sent
        return sent

    def probe(self, seconds: float) -> dict:
        return {"cmd": "probe", "port": self.ports[0], "gateway": self.gateway, "seconds": seconds, "every": 0.01,
                "path": "/ws/gateway/" if self.gateway else "/?g=probe", "cookie": self.data["probe"]}


def message_template(sender, channel_id: int) -> tuple[str, str]:
    """The data of a MESSAGE_CREATE in the big group as the gateway relays it (JSON, read off the hub's
    Redis channel as the gateway nodes get it), and the content it carries."""
    import redis
    from django.conf import settings

    from apps.chat import services as chat
    from apps.core import bus
    from apps.core.events import guild_group
    from apps.guilds.models import Channel

    pubsub = redis.Redis.from_url(settings.HUB_REDIS_URL).pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(bus.channel(guild_group(Channel.objects.get(pk=channel_id).guild_id)))
    content = f"bench burst00 {time.time():.6f}"  # as long as a burst's
    chat.send_message(author=sender, channel_id=channel_id, content=content)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        message = pubsub.get_message(timeout=1.0)
        if message and message["type"] == "message":
            t, _, text = bus.decode(message["data"].decode())
            if t == "MESSAGE_CREATE" and content in text:
                pubsub.close()
                return text, content
    raise SystemExit("the template message was not published on the hub")


def connect_all(clients: Clients, target: Target, n: int) -> dict:
    """Open n sockets through the workers, each worker's groups in turn; the workers run in parallel."""
    plan = target.sockets(n, len(clients.procs))
    started = time.perf_counter()
    ready = failed = 0
    errors: dict[str, int] = {}
    for step in range(max(len(p) for p in plan)):
        commands = []
        for i, p in enumerate(plan):
            commands.append({**p[step], "source": clients.sources[i]} if step < len(p) else None)
        for r in clients.ask(commands):
            if r:
                ready += r["ready"]
                failed += r["failed"]
                for k, v in r["errors"].items():
                    errors[k] = errors.get(k, 0) + v
    seconds = time.perf_counter() - started
    return {"sockets": n, "ready": ready, "failed": failed, "errors": errors, "seconds": round(seconds, 1),
            "rate": round(ready / seconds, 1)}


def collect(clients: Clients) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for s in clients.stats():
        for mid, lats in s["latencies"].items():
            out.setdefault(mid, []).extend(lats)
    return out


def sockets_left(clients: Clients) -> tuple[int, dict[str, int]]:
    """Sockets still open across the workers, and how many the servers closed, by close code."""
    stats = clients.stats()
    closes: dict[str, int] = {}
    for s in stats:
        for code, n in s["closes"].items():
            closes[code] = closes.get(code, 0) + n
    return sum(s["open"] for s in stats), closes


def wait_for(clients: Clients, expected: dict[str, int], timeout: float) -> dict[str, list[float]]:
    """Collect latencies until every message has its expected deliveries (or the timeout)."""
    got: dict[str, list[float]] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for mid, lats in collect(clients).items():
            got.setdefault(mid, []).extend(lats)
        if all(len(got.get(m, [])) >= n for m, n in expected.items()):
            break
        time.sleep(0.5)
    return got


def measure(kind: str, clients: Clients, probe_client: Clients, data: dict, args) -> dict:
    ports = free_ports(args.processes)
    procs = start_servers(kind, ports, args)
    target = Target(kind, ports, data, args)
    out: dict = {"kind": kind}
    try:
        # Warm each process up (imports, pools) before its baseline memory is read.
        probe_client.ask([target.probe(1.0)])
        for port in ports[1:]:
            probe_client.ask([{**target.probe(0.2), "port": port}])
        time.sleep(1)
        before, cpu = rss(procs), cpu_seconds(procs)
        out["connect"] = connect_all(clients, target, args.members)
        out["connect"]["server_cpu_ms"] = round(1000 * (cpu_seconds(procs) - cpu) / max(out["connect"]["ready"], 1), 2)
        print(f"[{kind}] connect: {out['connect']}", flush=True)
        time.sleep(3)
        out["bytes_per_socket"] = round((rss(procs) - before) / max(out["connect"]["ready"], 1))
        print(f"[{kind}] memory per idle socket: {out['bytes_per_socket'] / 1024:.1f} KB", flush=True)
        out["idle_probe"] = pct(probe_client.ask([target.probe(2.0)])[0]["rtts"])

        members = {"small": min(args.small, args.members), "big": args.members}
        for group in ("small", "big"):
            n = members[group]
            lasts, published, each = [], [], []
            for i in range(args.broadcasts):
                mid = f"{group}{i}"
                target.broadcast(group, mid)
                lats = wait_for(clients, {mid: n}, args.gap_timeout).get(mid, [])
                each.extend(lats)
                lasts.append(max(lats) if len(lats) >= n else float("inf"))  # a miss counts as never
                published.append(lasts[-1] - target.publishing[mid])
                time.sleep(args.gap)
            out[group] = {"members": n, "each": pct(each), "last": pct(lasts), "last_from_publish": pct(published),
                          "delivered": len(each), "expected": n * args.broadcasts}
            print(f"[{kind}] {group} group ({n:,}) each member: {fmt(out[group]['each'])}", flush=True)
            print(f"[{kind}] {group} group ({n:,}) last member: {fmt(out[group]['last'])}; "
                  f"from the publish: {fmt(out[group]['last_from_publish'])}", flush=True)

        # Sustained fan-out: back-to-back broadcasts to the big group, an unrelated socket probing.
        box: dict = {}
        prober = threading.Thread(target=lambda: box.update(probe_client.ask([target.probe(args.probe_seconds)])[0]))
        prober.start()
        time.sleep(1.0)
        burst = {}
        cpu_before = cpu_seconds(procs)
        for i in range(args.burst):
            mid = f"burst{i}"
            burst[mid] = target.broadcast("big", mid)
        got = wait_for(clients, {m: members["big"] for m in burst}, args.burst_timeout)
        cpu = cpu_seconds(procs) - cpu_before
        prober.join()
        delivered = sum(len(got.get(m, [])) for m in burst)
        last = max((burst[m] + max(got[m]) for m in burst if got.get(m)), default=time.time())
        seconds = last - min(burst.values())
        out["burst"] = {"broadcasts": args.burst, "delivered": delivered, "expected": args.burst * members["big"],
                        "seconds": round(seconds, 2), "deliveries_per_s": round(delivered / seconds),
                        "server_cpu_us_per_delivery": round(cpu / max(delivered, 1) * 1e6, 1),
                        "stall": pct(box.get("rtts", []))}
        print(f"[{kind}] burst: {out['burst']}", flush=True)
        out["open_after"], out["closes"] = sockets_left(clients)
        total = out["small"]["delivered"] + out["big"]["delivered"] + delivered
        want = out["small"]["expected"] + out["big"]["expected"] + out["burst"]["expected"]
        out["delivery_ratio"] = round(total / want, 5)
        print(f"[{kind}] delivered {total:,} of {want:,}; open sockets {out['open_after']:,}; closes {out['closes']}",
              flush=True)
    finally:
        clients.ask([{"cmd": "close"}] * len(clients.procs))
        stop(procs)
    return out


def hold(clients: Clients, data: dict, args) -> dict:
    ports = free_ports(args.processes)
    procs = start_servers("gateway", ports, args)
    target = Target("gateway", ports, data, args)
    out: dict = {}
    try:
        for port in ports:
            clients.ask([{**target.probe(0.2), "port": port}] + [None] * (len(clients.procs) - 1))
        time.sleep(1)
        before = rss(procs)
        out["connect"] = connect_all(clients, target, args.hold)
        print(f"[hold] connect: {out['connect']}", flush=True)
        time.sleep(args.hold_seconds)
        out["open_after_hold"], out["closes"] = sockets_left(clients)
        out["bytes_per_socket"] = round((rss(procs) - before) / max(out["connect"]["ready"], 1))
        out["rss_total_mb"] = round(rss(procs) / 2**20)
        print(f"[hold] after {args.hold_seconds} s: {out['open_after_hold']:,} open, closes {out['closes']}, "
              f"{out['bytes_per_socket'] / 1024:.1f} KB per socket", flush=True)
    finally:
        clients.ask([{"cmd": "close"}] * len(clients.procs))
        stop(procs)
    return out


def report(results: dict, args) -> None:
    bare, gw = results.get("bare"), results.get("gateway")
    print("\n== results ==")
    for r in (bare, gw):
        if not r:
            continue
        print(f"{r['kind']:8} connect {r['connect']['ready']:,}/{r['connect']['sockets']:,} "
              f"({r['connect']['failed']} failed, {r['connect']['rate']}/s, server CPU "
              f"{r['connect']['server_cpu_ms']} ms per socket); "
              f"{r['bytes_per_socket'] / 1024:.1f} KB per idle socket; delivery {r['delivery_ratio']:.3%}")
        for group in ("small", "big"):
            print(f"{r['kind']:8} {group:5} ({r[group]['members']:,}) last member: {fmt(r[group]['last'])}; "
                  f"from the publish: {fmt(r[group]['last_from_publish'])}")
        print(f"{r['kind']:8} deliveries/s {r['burst']['deliveries_per_s']:,} "
              f"({r['burst']['server_cpu_us_per_delivery']} µs of server CPU each); stall during burst: "
              f"{fmt(r['burst']['stall'])} (idle: {fmt(r['idle_probe'])})")
    if bare and gw:
        print(f"gateway connect rate = {gw['connect']['rate'] / bare['connect']['rate']:.1%} of bare")
        print(f"gateway deliveries/s = {gw['burst']['deliveries_per_s'] / bare['burst']['deliveries_per_s']:.0%} "
              "of bare")
        for key, since in (("last", "the send"), ("last_from_publish", "the publish")):
            print(f"gateway big-group last member p95, from {since} = "
                  f"{gw['big'][key]['p95'] / bare['big'][key]['p95']:.2f}× bare")
    if "hold" in results:
        h = results["hold"]
        print(f"hold     {h['connect']['ready']:,}/{h['connect']['sockets']:,} sockets READY "
              f"({h['connect']['failed']} failed) at {h['connect']['rate']}/s; {h['open_after_hold']:,} open after "
              f"{args.hold_seconds} s; {h['bytes_per_socket'] / 1024:.1f} KB per socket; {h['rss_total_mb']} MB")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--processes", type=int, default=2, help="server processes of each kind")
    parser.add_argument("--clients", type=int, default=0, help="client processes (default: 1 per 15,000 sockets)")
    parser.add_argument("--members", type=int, default=10000, help="members of the big group, one socket each")
    parser.add_argument("--small", type=int, default=1000, help="members of the small group")
    parser.add_argument("--broadcasts", type=int, default=20, help="spaced broadcasts per group")
    parser.add_argument("--gap", type=float, default=0.3, help="seconds between spaced broadcasts")
    parser.add_argument("--gap-timeout", type=float, default=10.0)
    parser.add_argument("--burst", type=int, default=60, help="back-to-back broadcasts to the big group")
    parser.add_argument("--burst-timeout", type=float, default=120.0)
    parser.add_argument("--probe-seconds", type=float, default=8.0)
    parser.add_argument("--hold", type=int, default=0, help="gateway sockets to open and hold (0: skip)")
    parser.add_argument("--hold-seconds", type=float, default=60.0)
    parser.add_argument("--concurrency", type=int, default=100, help="handshakes in flight per client process")
    parser.add_argument("--only", choices=["bare", "gateway", "hold"],
                        help="measure one kind only, or only hold --hold sockets")
    parser.add_argument("--without-session-rows", action="store_true",
                        help="sessions without the sessions page's row (sockets opened before any page)")
    parser.add_argument("--verbose", action="store_true", help="show the servers' logs")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    args.server_log = None if args.verbose else subprocess.DEVNULL
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("Set REDIS_URL (and DATABASE_URL to PostgreSQL).")
    from tests.bench.history import setup

    setup()
    started = time.perf_counter()
    data = setup_members(args.members, args.small, session_rows=not args.without_session_rows)
    print(f"{args.members:,} members ready in {time.perf_counter() - started:.1f} s; "
          f"{args.processes} server processes per kind; {os.cpu_count()} cores", flush=True)
    results: dict = {}
    n = args.clients or max(2, math.ceil(max(args.members, args.hold) / 15000))
    clients, probe_client = Clients(n), Clients(1)
    probe_client.sources = ["127.0.0.1"]
    try:
        for kind in ("bare", "gateway"):
            if args.only in (None, kind):
                results[kind] = measure(kind, clients, probe_client, data, args)
        if args.hold:
            results["hold"] = hold(clients, data, args)
    finally:
        clients.close()
        probe_client.close()
    report(results, args)


if __name__ == "__main__":
    main()
