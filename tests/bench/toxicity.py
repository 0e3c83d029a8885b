"""Toxicity scoring speed on one worker process: messages per second and the time a message waits
for its score, for the toxicity model and for alt-profanity-check, at batch sizes 1, 16 and 64.

    DJANGO_SETTINGS_MODULE=smartc.settings.dev .venv/bin/python manage.py train_toxicity   # once
    DJANGO_SETTINGS_MODULE=smartc.settings.dev .venv/bin/python -m tests.bench.toxicity

Texts are the 300 messages of data/toxicity_holdout.csv, cycled; the encoder's per-text memo is
emptied before every batch so each message is really embedded. "p95 added" is the 95th percentile,
over batches, of the time from the scorer call to the scores: with a batch task every message of a
batch waits for the whole batch, so that is what the moderation decision waits for on top of the
queue.

`--live RATES` then replays the live queue's policy (apps/moderation/pending.py) on one worker:
messages arrive at each rate (messages/s, Poisson), the worker takes whatever waits, up to the
batch cap, and scores it in one call; with cap 1 it is one task per message, as before batching.
It prints messages/s scored and the p50/p95 of the time from a message's arrival to its score
(queueing included): what batching adds to, or saves from, the moderation decision. Redis and the
Celery round trip (a few ms) are left out. Run by hand; not part of `make test`.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=640, help="messages per batch size")
    parser.add_argument("--batches", default="1,16,64")
    parser.add_argument("--live", default="", help="arrival rates in messages/s, e.g. 5,20,60")
    parser.add_argument("--live-seconds", type=float, default=20.0, help="arrivals per rate and cap")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartc.settings.dev")
    import django

    django.setup()
    from apps.moderation.scoring import ProfanityCheckScorer
    from apps.moderation.toxicity import features, training
    from apps.moderation.toxicity.scorer import ToxicityScorer

    texts = [e.text for e in training.read_csv(training.HOLDOUT_FILE)]
    model = ToxicityScorer()
    model.score(["warm up"])
    if model.name == "alt-profanity-check":
        raise SystemExit("No promoted toxicity model: run manage.py train_toxicity first.")
    fallback = ProfanityCheckScorer()
    fallback.score(["warm up"])
    import torch

    print(f"torch threads {torch.get_num_threads()}, {os.cpu_count()} CPUs")
    print(f"{'scorer':<22} {'batch':>5} {'msg/s':>8} {'p50 ms':>8} {'p95 ms':>8}")
    for scorer in (model, fallback):
        for size in (int(b) for b in args.batches.split(",")):
            waits, i, started = [], 0, time.perf_counter()
            while i < args.messages:
                batch = [texts[(i + k) % len(texts)] for k in range(size)]
                features.encoder()._memo.clear()
                t = time.perf_counter()
                scorer.score(batch)
                waits.append(time.perf_counter() - t)
                i += size
            rate = i / (time.perf_counter() - started)
            p95 = statistics.quantiles(waits, n=20)[-1] if len(waits) > 1 else waits[0]
            print(f"{scorer.name:<22} {size:>5} {rate:>8.1f} {statistics.median(waits) * 1e3:>8.1f} {p95 * 1e3:>8.1f}")
    if args.live:
        from django.conf import settings

        print(f"\nlive queue, {args.live_seconds:.0f} s of arrivals per row")
        print(f"{'rate/s':>7} {'cap':>4} {'scored/s':>9} {'batches':>8} {'p50 ms':>8} {'p95 ms':>8}")
        for rate in (float(r) for r in args.live.split(",")):
            for cap in (1, settings.MODERATION_SCORE_BATCH):
                live(model, texts, rate=rate, cap=cap, seconds=args.live_seconds)


def live(scorer, texts: list[str], *, rate: float, cap: int, seconds: float) -> None:
    import random

    from apps.moderation.toxicity import features

    rng = random.Random(7)
    arrivals, t = [], 0.0
    while t < seconds:
        arrivals.append(t)
        t += rng.expovariate(rate)
    start, done, waited, calls = time.perf_counter(), 0, [], 0
    while done < len(arrivals):
        now = time.perf_counter() - start
        if arrivals[done] > now:
            time.sleep(arrivals[done] - now)
            continue
        ready = done
        while ready < len(arrivals) and ready - done < cap and arrivals[ready] <= now:
            ready += 1
        features.encoder()._memo.clear()
        scorer.score([texts[i % len(texts)] for i in range(done, ready)])
        calls += 1
        finished = time.perf_counter() - start
        waited += [finished - arrivals[i] for i in range(done, ready)]
        done = ready
    elapsed = time.perf_counter() - start
    p95 = statistics.quantiles(waited, n=20)[-1]
    print(f"{rate:>7.0f} {cap:>4} {len(arrivals) / elapsed:>9.1f} {calls:>8} {statistics.median(waited) * 1e3:>8.0f} "
          f"{p95 * 1e3:>8.0f}")


if __name__ == "__main__":
    main()
