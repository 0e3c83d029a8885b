"""Moderation's cost: how fast one Celery worker scores messages, and what scoring adds to delivery.

    .venv/bin/python -m tests.bench.moderation --messages 2000 --latency-messages 200

Without DATABASE_URL/REDIS_URL it starts throwaway PostgreSQL and Redis servers (as the test suite
does); with them it uses those (the database is created if missing and migrated).

1. Throughput: --messages guild messages (texts of the seed set, apps/moderation/data) are written
   and their scoring tasks queued; then one real worker (`celery worker -Q moderation -P solo`, the
   default scorer) starts, and the script times from its "ready" line to the last Flag row. Also
   prints the scorer alone, in process, one text per call, for the share that is the model.
2. Delivery: the platform served by uvicorn (`--ws websockets-sansio`), a listener's gateway socket
   READY, --latency-messages messages posted one at a time by another member through the API; the
   figure is send -> MESSAGE_CREATE on the listener's socket. Three kinds of run, interleaved
   --rounds times: hook off (MODERATION_SCORE_MESSAGES=false: nothing is queued), hook on with no
   worker (each message's task is queued: the hook's own cost), and hook on with a worker scoring
   each message at the same time on the same cores. Every wait is bounded by a timeout.
"""
from __future__ import annotations

import argparse
import asyncio
import atexit
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "apps" / "moderation" / "data" / "toxicity_seed.csv"


def texts() -> list[str]:
    with open(SEED, newline="", encoding="utf-8") as fh:
        return [row["text"] for row in csv.DictReader(fh)]


def provision() -> None:
    from tests.plugins.services import start_postgres, start_redis

    if os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"):
        return
    workdir = tempfile.mkdtemp(prefix="smartc-bench-")
    os.chmod(workdir, 0o755)
    atexit.register(shutil.rmtree, workdir, True)  # registered first: runs after the servers stop
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = start_postgres(workdir).rsplit("/", 1)[0] + "/smartc_bench"
    if not os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = start_redis(workdir)


def worker_env(**extra) -> dict:
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "smartc.settings.dev", "CELERY_TASK_ALWAYS_EAGER": "false",
            **extra}


def start_worker(log_path: Path) -> subprocess.Popen:
    log = open(log_path, "w")  # noqa: SIM115 - the worker writes to it until it is stopped
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "celery_app", "worker", "-Q", "moderation", "-P", "solo", "-l", "info",
         "-n", f"bench-{uuid.uuid4().hex[:6]}@%h", "--without-mingle", "--without-gossip", "--without-heartbeat"],
        cwd=ROOT, env=worker_env(), stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while "ready." not in log_path.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the Celery worker did not start; see {log_path}")
        time.sleep(0.05)
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()


def throughput(n: int, logdir: Path) -> None:
    from django.conf import settings

    from apps.chat.models import Message
    from apps.guilds import services
    from apps.guilds.models import Channel
    from apps.moderation import tasks
    from apps.moderation.models import Flag
    from apps.moderation.scoring import get_scorer
    from celery_app import app as celery_app
    from tests.factories import UserFactory

    pool = texts()
    owner = UserFactory(username=f"bench{uuid.uuid4().hex[:8]}")
    guild = services.create_guild(owner=owner, name="moderation bench")
    channel = Channel.objects.get(guild=guild, name="general")
    msgs = Message.objects.bulk_create([Message(channel=channel, author=owner, content=pool[i % len(pool)],
                                                content_html="") for i in range(n)])
    celery_app.control.purge()
    for m in msgs:
        tasks.score_message.delay(m.id)
    ids = [m.id for m in msgs]

    scorer = get_scorer()
    scorer.score(["warm up"])
    started = time.perf_counter()
    for text in pool[:1000]:
        scorer.score([text])
    alone = 1000 / (time.perf_counter() - started)

    worker = start_worker(logdir / "bench-worker-throughput.log")
    started = time.perf_counter()
    try:
        deadline = time.monotonic() + max(120, n / 5)
        while (done := Flag.objects.filter(message_id__in=ids).count()) < n:
            if time.monotonic() > deadline:
                raise SystemExit(f"only {done} of {n} messages were scored in time")
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
    finally:
        stop(worker)
    print(f"scorer: {scorer.name} ({settings.MODERATION_SCORER})")
    print(f"scorer alone, in process, one text a call: {alone:,.0f} texts/s")
    print(f"one worker (-P solo), {n:,} queued messages: {elapsed:.1f} s, {n / elapsed:,.0f} messages/s")


def start_server(port: int, *, scoring: bool) -> subprocess.Popen:
    env = worker_env(DEBUG="false", ALLOWED_HOSTS="127.0.0.1,localhost",
                     MODERATION_SCORE_MESSAGES="true" if scoring else "false")
    cmd = [sys.executable, "-m", "uvicorn", "smartc.asgi:application", "--host", "127.0.0.1", "--port", str(port),
           "--ws", "websockets-sansio", "--no-access-log", "--log-level", "warning", "--ws-per-message-deflate",
           "false"]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def deliveries(port: int, channel_id: int, cookie: str, token: str, count: int, gap: float) -> list[float]:
    import websockets

    pool = texts()
    arrived: dict[str, float] = {}
    ready = asyncio.Event()

    async def listen():
        url = f"ws://127.0.0.1:{port}/ws/gateway/"
        async with websockets.connect(url, additional_headers={"Cookie": cookie, "Origin": f"http://127.0.0.1:{port}"},
                                      compression=None, open_timeout=60) as ws:
            async for raw in ws:
                now = time.perf_counter()
                frame = json.loads(raw)
                if frame.get("t") == "READY":
                    ready.set()
                elif frame.get("t") == "MESSAGE_CREATE" and frame["d"].get("nonce"):
                    arrived[frame["d"]["nonce"]] = now
                elif frame.get("op") == 10:
                    await ws.send(json.dumps({"op": 1, "d": None}))

    def post(nonce: str, text: str) -> None:
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/channels/{channel_id}/messages",
            data=json.dumps({"content": text, "nonce": nonce}).encode(),
            headers={"Authorization": f"Token {token}", "Content-Type": "application/json"}, method="POST")
        urllib.request.urlopen(req, timeout=30).read()

    task = asyncio.create_task(listen())
    await asyncio.wait_for(ready.wait(), 60)
    sent: dict[str, float] = {}
    for i in range(count):
        nonce = uuid.uuid4().hex[:16]
        sent[nonce] = time.perf_counter()
        await asyncio.to_thread(post, nonce, pool[(i * 7) % len(pool)])
        deadline = time.monotonic() + 10
        while nonce not in arrived and time.monotonic() < deadline:
            await asyncio.sleep(0.002)
        await asyncio.sleep(gap)
    task.cancel()
    return [(arrived[n] - sent[n]) * 1000 for n in sent if n in arrived]


def latency(count: int, gap: float, logdir: Path, rounds: int) -> None:
    from apps.moderation.models import Flag
    from tests.bench.fanout import percentiles, setup_guild
    from tests.servers import free_port

    labels = {"off": "hook off                ", "queued": "hook on, no worker      ",
              "scored": "hook on, worker scoring "}
    for _ in range(rounds):
        for mode in ("off", "queued", "scored"):
            channel_id, cookies, token = setup_guild(2)
            before = Flag.objects.count()
            worker = start_worker(logdir / "bench-worker-latency.log") if mode == "scored" else None
            port = free_port()
            server = start_server(port, scoring=mode != "off")
            try:
                time.sleep(3)
                lat = asyncio.run(deliveries(port, channel_id, cookies[1], token, count, gap))
                time.sleep(2)
            finally:
                stop(server)
                if worker is not None:
                    stop(worker)
            scored = Flag.objects.count() - before
            print(f"{labels[mode]}: send -> other member's MESSAGE_CREATE ({len(lat)}/{count} delivered, "
                  f"{scored} scored meanwhile): {percentiles(lat)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=2000, help="messages for the throughput run")
    parser.add_argument("--latency-messages", type=int, default=200, help="messages per delivery run")
    parser.add_argument("--gap", type=float, default=0.05, help="seconds between sends in the delivery runs")
    parser.add_argument("--rounds", type=int, default=2, help="delivery runs of each kind, interleaved")
    args = parser.parse_args()
    provision()
    from tests.bench.history import setup

    setup()
    logdir = ROOT / "test-results"
    logdir.mkdir(exist_ok=True)
    throughput(args.messages, logdir)
    latency(args.latency_messages, args.gap, logdir, args.rounds)


if __name__ == "__main__":
    main()
