"""`make bench`: the benchmark suite at a size that finishes in under 15 minutes on a 2-core box,
each figure beside its baseline (the bare `websockets` server, the previous scorer, one shard).

    .venv/bin/python -m tests.bench.suite [--out bench-results] [--only gateway,fanout,...]

Uses DATABASE_URL and REDIS_URL when set, otherwise starts a throwaway PostgreSQL and Redis (as
`make test` does). Runs each benchmark of tests/bench/ as its own process with a small size,
reads the JSON each writes, and writes `<out>/bench.json` (everything) and `<out>/bench.md` (one
table: figure, target, baseline, SmaRTC, ratio). The full-size runs and their commands stay in
docs/benchmarks.md; these small ones say whether a change moved a figure, not what it is at scale.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable


def steps(out: Path) -> dict[str, list[list[str]]]:
    """name → the commands it runs (the last one writes out/<name>.json)."""
    return {
        "gateway": [[PY, "-m", "tests.bench.gateway_scale", "--processes", "2", "--members", "2000",
                     "--small", "200", "--broadcasts", "10", "--burst", "10", "--probe-seconds", "4",
                     "--json", str(out / "gateway.json")]],
        "fanout": [[PY, "-m", "tests.bench.fanout", "--members", "300", "--messages", "20", "--gap", "0.1",
                    "--json", str(out / "fanout.json")]],
        "pipeline": [[PY, "-m", "tests.bench.track_pipeline", "--seconds", "60", "--runs", "1",
                      "--json", str(out / "pipeline.json")]],
        "toxicity": [[PY, "manage.py", "migrate", "-v0"],
                     [PY, "manage.py", "train_toxicity", "--if-missing"],
                     [PY, "-m", "tests.bench.toxicity", "--messages", "128", "--batches", "1,32",
                      "--engines", "onnxruntime,torch", "--previous-messages", "32",
                      "--json", str(out / "toxicity.json")]],
        "cluster": [[PY, "-m", "tests.bench.cluster_publish", "--shards", "1", "3", "--seconds", "3", "--nodes", "2",
                     "--json", str(out / "cluster.json")]],
    }


def ratio(a, b) -> str:
    return f"{a / b:.2f}×" if a is not None and b else "–"


def rows(results: dict) -> list[tuple]:
    """(figure, target, baseline, SmaRTC, ratio) for the table."""
    out = []
    gw = results.get("gateway") or {}
    bare, gate = gw.get("bare"), gw.get("gateway")
    if bare and gate:
        out += [
            ("sockets READY per second", "≥ 1,000/s", f"{bare['connect']['rate']:,}/s (bare)",
             f"{gate['connect']['rate']:,}/s", ratio(gate["connect"]["rate"], bare["connect"]["rate"])),
            (f"broadcast to {gate['big']['members']:,}: last member p95", "≤ 1.2× bare",
             f"{bare['big']['last']['p95']} ms", f"{gate['big']['last']['p95']} ms",
             ratio(gate["big"]["last"]["p95"], bare["big"]["last"]["p95"])),
            ("the same, from the publish (the gateway's send less its database write)", "",
             f"{bare['big']['last_from_publish']['p95']} ms", f"{gate['big']['last_from_publish']['p95']} ms",
             ratio(gate["big"]["last_from_publish"]["p95"], bare["big"]["last_from_publish"]["p95"])),
            ("sustained deliveries per second", "≥ 80% of bare", f"{bare['burst']['deliveries_per_s']:,}",
             f"{gate['burst']['deliveries_per_s']:,}",
             ratio(gate["burst"]["deliveries_per_s"], bare["burst"]["deliveries_per_s"])),
            ("other socket's heartbeat during the burst, p95", "≤ 50 ms", f"{bare['burst']['stall']['p95']} ms",
             f"{gate['burst']['stall']['p95']} ms",
             ratio(gate["burst"]["stall"]["p95"], bare["burst"]["stall"]["p95"])),
            ("memory per idle socket", "≤ 18 KB", f"{bare['bytes_per_socket'] / 1024:.1f} KB",
             f"{gate['bytes_per_socket'] / 1024:.1f} KB", ratio(gate["bytes_per_socket"], bare["bytes_per_socket"])),
            ("delivery", "100%", f"{bare['delivery_ratio']:.2%}", f"{gate['delivery_ratio']:.2%}", ""),
        ]
    fan = results.get("fanout")
    if fan:
        out.append((f"send → every member of {fan['members']}, p99", "≤ 100 ms", "–",
                    f"{fan['each_ms']['p99']} ms", ""))
    pipe = results.get("pipeline")
    if pipe:
        for fmt, timings in pipe["steps"].items():
            total = sum(step["wall_s"] for step in timings.values())
            out.append((f"{pipe['seconds']:.0f} s {fmt} track, every pipeline step", "≤ 8 s for 180 s", "–",
                        f"{total:.2f} s", ""))
    tox = results.get("toxicity")
    if tox:
        # Scorer names read "v<version> <engine> ×<threads>".
        rates = {(r["scorer"].split()[1], r["batch"]): r["messages_per_s"] for r in tox["throughput"]}
        for batch, target in ((1, "≥ 100/s"), (32, "≥ 500/s")):
            onnx, base = rates.get(("onnxruntime", batch)), rates.get(("torch", batch))
            out.append((f"toxicity scoring, batches of {batch}", target, f"{base}/s (previous engine)",
                        f"{onnx}/s", ratio(onnx, base)))
    cluster = results.get("cluster")
    if cluster and len(cluster) >= 2:
        one, many = cluster[0], cluster[-1]
        out.append((f"hub publishes/s, {many['shards']} shards beside {one['shards']}", "report it",
                    f"{one['publishes_per_s']:,}/s", f"{many['publishes_per_s']:,}/s",
                    ratio(many["publishes_per_s"], one["publishes_per_s"])))
        out.append(("busiest shard's share of a core", "report it", f"{one['busiest_shard_cpu']:.0%}",
                    f"{many['busiest_shard_cpu']:.0%}", ""))
    return out


def markdown(results: dict, took: dict) -> str:
    lines = [f"# SmaRTC benchmarks (small size), {time.strftime('%Y-%m-%d %H:%M')}",
             "", f"{os.cpu_count()} CPUs, load average at the end {os.getloadavg()[0]:.1f}; "
             + ", ".join(f"{k} {v:.0f} s" for k, v in took.items()), "",
             "| figure | target (full size) | baseline | SmaRTC | ratio |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {' | '.join(str(c) for c in row)} |" for row in rows(results)]
    failed = [k for k, v in results.items() if v is None]
    if failed:
        lines += ["", f"Failed: {', '.join(failed)} (see the log above)."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="bench-results")
    parser.add_argument("--only", help="comma-separated: gateway,fanout,pipeline,toxicity,cluster")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.plugins.services import provision

    provision()  # DATABASE_URL and REDIS_URL, throwaway ones if unset
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "smartc.settings.dev"}
    out = (ROOT / args.out).resolve()
    out.mkdir(exist_ok=True)
    wanted = steps(out)
    if args.only:
        wanted = {k: v for k, v in wanted.items() if k in args.only.split(",")}
    results, took = {}, {}
    for name, commands in wanted.items():
        print(f"\n=== {name} ===", flush=True)
        started = time.monotonic()
        ok = all(subprocess.run(cmd, cwd=ROOT, env=env, timeout=900).returncode == 0 for cmd in commands)
        took[name] = time.monotonic() - started
        path = out / f"{name}.json"
        results[name] = json.loads(path.read_text()) if ok and path.exists() else None
    (out / "bench.json").write_text(json.dumps({"took_s": took, "results": results}, indent=2))
    table = markdown(results, took)
    (out / "bench.md").write_text(table)
    print("\n" + table)
    print(f"Written: {out / 'bench.json'}, {out / 'bench.md'}")
    if any(v is None for v in results.values()):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
