"""The CPU time of one message send in the server's request thread, up to its publish and whole:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/smartc_bench REDIS_URL=redis://127.0.0.1:6379/5 \
        .venv/bin/python -m tests.bench.send_cost --sends 100

Creates a small guild (tests/bench/fanout.py's setup), then posts --sends messages through
`POST /api/channels/{id}/messages` with Django's test client in this one process (middleware, token
auth, DRF, chat.services.send_message, the commit and its hooks), and prints the mean thread CPU
time from the request to the moment its MESSAGE_CREATE left for the hub, and of the whole request.
Thread CPU time moves far less with the machine's load than wall time: run two codes alternately
and compare them pair by pair. No socket is open, so nobody receives the events.
"""
from __future__ import annotations

import argparse
import os
import time
import uuid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sends", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=5, help="sends first, not counted")
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("Set REDIS_URL (and DATABASE_URL to PostgreSQL).")
    os.environ["DEBUG"] = "false"
    os.environ["ALLOWED_HOSTS"] = "127.0.0.1,localhost,testserver"
    from tests.bench.history import setup

    setup()
    from django.test import Client

    from apps.core import bus
    from tests.bench.fanout import setup_guild

    channel_id, _, token = setup_guild(10)
    published: list[float] = []
    publish = bus.send

    def timed(groups, t, d):
        publish(groups, t, d)
        if t == "MESSAGE_CREATE":
            published.append(time.thread_time())

    bus.send = timed
    client = Client()

    def post() -> None:
        nonce = uuid.uuid4().hex[:16]
        r = client.post(f"/api/channels/{channel_id}/messages", {"content": f"bench {nonce}", "nonce": nonce},
                        content_type="application/json", HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST="127.0.0.1")
        if r.status_code != 201:
            raise SystemExit(f"the send answered {r.status_code}: {r.content[:200]!r}")

    for _ in range(args.warmup):
        post()
    before, whole = 0.0, 0.0
    for _ in range(args.sends):
        published.clear()
        started = time.thread_time()
        post()
        before += published[0] - started
        whole += time.thread_time() - started
    print(f"CPU per send: request → publish {before / args.sends * 1000:.2f} ms, "
          f"whole request {whole / args.sends * 1000:.2f} ms ({args.sends} sends)")


if __name__ == "__main__":
    main()
