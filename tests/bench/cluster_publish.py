"""Hub publish throughput on a Redis Cluster of 1 shard beside 3 shards, in one run.

    .venv/bin/python -m tests.bench.cluster_publish --shards 1 3 --groups 600 --nodes 4 --seconds 10

For each shard count: starts a real Redis Cluster on loopback (tests/redis_cluster.py), then
`--nodes` subscriber processes, each standing for a gateway node: one sharded subscription
(SSUBSCRIBE) per shard, holding every one of `--groups` group channels on the shard that owns
it, as apps/realtime/hub.py subscribes. `--publishers` processes then SPUBLISH events of
`--payload` bytes to random groups for `--seconds`, each command routed to its group's shard and
sent in pipelines of `--pipeline` (a busy web tier and its workers publishing at once). Reports
publishes/s acknowledged by the cluster and deliveries/s counted by the subscribers (each publish
reaches every node; the subscribers' own parsing is part of that figure, as it is in a gateway).
Bounded: every process stops by itself; loopback only.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
PREFIX = "smartc:hub:"


def channels(groups: int) -> list[str]:
    return [f"{PREFIX}guild-{i}" for i in range(groups)]


def subscriber(url: str, groups: int, seconds: float, ready, counter, finished) -> None:
    import redis.asyncio as aredis
    from redis.cluster import RedisCluster

    layout = RedisCluster.from_url(url)
    by_node: dict[tuple[str, int], list[str]] = {}
    for ch in channels(groups):
        node = layout.get_node_from_key(ch)
        by_node.setdefault((node.host, node.port), []).append(ch)
    layout.close()

    async def read(host: str, port: int, names: list[str], stop: float) -> tuple[int, float]:
        client = aredis.Redis(host=host, port=port)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        for name in names:  # one SSUBSCRIBE names channels of one slot only
            await pubsub.ssubscribe(name)
        got, last = 0, 0.0
        ready.release()
        # Until the publishers are done and what they sent is drained (1 s without a message).
        while True:
            message = await pubsub.get_message(timeout=1.0)
            if message and message["type"] == "smessage":
                got, last = got + 1, time.time()
            elif message is None and time.monotonic() > stop:
                break
        await client.aclose()  # not the pubsub's own close: it would SUNSUBSCRIBE across slots
        return got, last

    async def main() -> tuple[int, float]:
        stop = time.monotonic() + seconds
        results = await asyncio.gather(*[read(h, p, names, stop) for (h, p), names in by_node.items()])
        return sum(n for n, _ in results), max(t for _, t in results)

    total, last = asyncio.run(main())
    with counter.get_lock():
        counter.value += total
    with finished.get_lock():
        finished.value = max(finished.value, last)


def publisher(url: str, groups: int, seconds: float, payload: int, pipeline: int, start_at: float, counter) -> None:
    from redis.cluster import RedisCluster

    client = RedisCluster.from_url(url)
    names = channels(groups)
    owner = {ch: client.get_node_from_key(ch) for ch in names}
    pipes = {}
    data = json.dumps({"content": "x" * payload})
    while time.time() < start_at:
        time.sleep(0.01)
    stop, sent = time.monotonic() + seconds, 0
    rng = random.Random(os.getpid())
    while time.monotonic() < stop:
        batch: dict[str, list[str]] = {}
        for _ in range(pipeline):
            ch = rng.choice(names)
            batch.setdefault(owner[ch].name, []).append(ch)
        for name, chans in batch.items():
            node = client.get_node(node_name=name)
            pipe = pipes.setdefault(name, node.redis_connection.pipeline(transaction=False))
            for ch in chans:
                pipe.execute_command("SPUBLISH", ch, data)
            pipe.execute()
            sent += len(chans)
    with counter.get_lock():
        counter.value += sent


def shard_cpu(cluster, port: int) -> float:
    """CPU seconds (user + system) the shard's redis-server has used."""
    info = dict(line.split(":", 1) for line in cluster.cli(port, "INFO", "cpu").splitlines() if ":" in line)
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def run(shards: int, args) -> dict:
    from tests.redis_cluster import RedisCluster

    # The subscribers drain what was published however long it takes: Redis must not drop them as
    # slow pub/sub clients (a gateway node that falls that far behind is dropped and resumes).
    cluster = RedisCluster(shards, options=("--client-output-buffer-limit", "pubsub 0 0 0")).start()
    try:
        ready = mp.Semaphore(0)
        delivered, published, finished = mp.Value("q", 0), mp.Value("q", 0), mp.Value("d", 0.0)
        window = args.seconds + 3  # the publishers start within it; the subscribers then drain
        subs = [mp.Process(target=subscriber, args=(cluster.url, args.groups, window, ready, delivered, finished))
                for _ in range(args.nodes)]
        for p in subs:
            p.start()
        for _ in range(args.nodes * shards):
            assert ready.acquire(timeout=60), "a subscriber did not subscribe"
        start_at = time.time() + 1
        cpu_before = {port: shard_cpu(cluster, port) for port in cluster.ports}
        pubs = [mp.Process(target=publisher, args=(cluster.url, args.groups, args.seconds, args.payload,
                                                   args.pipeline, start_at, published))
                for _ in range(args.publishers)]
        for p in pubs:
            p.start()
        for p in pubs + subs:
            p.join(window + 120)
        took = max(args.seconds, finished.value - start_at)
        # Each shard's busy share of one core over the run: the busiest one is the ceiling, and
        # publishes/s divided by it is what the cluster takes before that shard saturates a core.
        busy = max(shard_cpu(cluster, port) - cpu_before[port] for port in cluster.ports) / took
        return {"shards": shards, "publishes_per_s": round(published.value / args.seconds),
                "deliveries_per_s": round(delivered.value / took), "last_delivery_s": round(took, 2),
                "busiest_shard_cpu": round(busy, 3),
                "publishes_per_s_at_saturation": round(published.value / args.seconds / max(busy, 1e-6)),
                "delivered_ratio": round(delivered.value / max(1, published.value * args.nodes), 4)}
    finally:
        cluster.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shards", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--groups", type=int, default=600)
    parser.add_argument("--nodes", type=int, default=4, help="gateway nodes (subscriber processes)")
    parser.add_argument("--publishers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--payload", type=int, default=300)
    parser.add_argument("--pipeline", type=int, default=64)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    results = [run(n, args) for n in args.shards]
    for r in results:
        print(f"{r['shards']} shard(s): {r['publishes_per_s']:>8,} publishes/s  {r['deliveries_per_s']:>9,} "
              f"deliveries/s (last after {r['last_delivery_s']} s)  delivered {r['delivered_ratio']:.2%}  "
              f"busiest shard {r['busiest_shard_cpu']:.0%} of a core → ~{r['publishes_per_s_at_saturation']:,} "
              "publishes/s before it saturates")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
