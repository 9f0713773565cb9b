"""Serving at zoo scale: every figure of the README's "Scaling" section.

    python benchmarks/bench_scale.py                      # 100k, 300k and 1M edges
    python benchmarks/bench_scale.py --datasets 100000    # the 1M-edge zoo only
    python benchmarks/bench_scale.py --json out/scale.json

Synthetic zoos of 1,000 models at density 0.01 (`graphrec synth`), each ingested into a
fresh embedded database, then used as a new user would, through the real CLI (one
process per command, wall time and that process's peak RSS from wait4) with the server
kept warm between commands (GRAPHREC_SERVER_IDLE), plus in-process timings where the
figure is the Python API's or one function's (read_graph). Latencies are medians (p50)
and 99th percentiles over repeated calls; the machine is shared, so compare figures of
one run. The largest zoo also gets the HTTP API (`graphrec serve` on loopback, 1 and 8
concurrent clients), a server restart from its snapshot, and two train + predict cycles
(the graph must then hold exactly one set of predictions).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np

BIN = [sys.executable, "-m", "graphrec"]


def timed_cli(db: Path, *args: str, env: dict[str, str]) -> dict:
    """One CLI command: wall seconds, its peak RSS (MiB) and stdout. The RSS comes from
    GNU time where there is one: a child's own rusage would also count the pages it
    shared with this (large) process between fork and exec."""
    command = [*BIN, "--db", str(db), *args]
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss_file:
        if Path("/usr/bin/time").exists():
            command = ["/usr/bin/time", "-f", "%M", "-o", rss_file.name, *command]
        start = time.perf_counter()
        proc = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        wall = time.perf_counter() - start
        if proc.returncode:
            raise SystemExit(f"graphrec {' '.join(args)} failed:\n{proc.stderr}")
        text = Path(rss_file.name).read_text().strip()
    rss = round(int(text.splitlines()[-1]) / 1024, 1) if text else None
    return {"seconds": round(wall, 3), "rss_mib": rss, "stdout": proc.stdout}


def latency(fn, repeats: int) -> dict:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    ms = np.array(times) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 2),
            "p99_ms": round(float(np.percentile(ms, 99)), 2), "calls": repeats}


def server_peak_mib(db: Path) -> float | None:
    try:
        pid = json.loads((db / "falkordb" / "server.json").read_text())["pid"]
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError, KeyError):
        return None
    return None


def http_bench(db: Path, env: dict[str, str], dataset: str) -> dict:
    """`graphrec serve` in a subprocess; /recommend with 1 and 8 clients; cold start."""
    proc = subprocess.Popen([*BIN, "--db", str(db), "serve", "--port", "0",
                             "--log-level", "warning"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
    try:
        url = None
        deadline = time.monotonic() + 120
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            found = re.search(r"on (http://127\.0\.0\.1:\d+)", line)
            url = found.group(1) if found else None
        if url is None:
            raise SystemExit("graphrec serve did not start")
        # Keep reading its output: a full pipe would stall the server.
        threading.Thread(target=proc.stdout.read, daemon=True).start()
        get = f"{url}/recommend?dataset={dataset}&k=5"

        def one() -> None:
            with urllib.request.urlopen(get, timeout=30) as response:
                response.read()

        for _ in range(20):
            one()  # warm-up
        sequential = latency(one, 300)
        results: list[float] = []
        lock = threading.Lock()

        def client() -> None:
            mine = []
            for _ in range(100):
                start = time.perf_counter()
                one()
                mine.append(time.perf_counter() - start)
            with lock:
                results.extend(mine)

        threads = [threading.Thread(target=client) for _ in range(8)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
        ms = np.array(results) * 1000
        concurrent = {"p50_ms": round(float(np.percentile(ms, 50)), 2),
                      "p99_ms": round(float(np.percentile(ms, 99)), 2),
                      "calls": len(results), "requests_per_s": round(len(results) / wall, 1)}
        body = json.dumps({"dataset": "bench_cold", "k": 5, "metadata": {
            "domain": "sketch", "num_classes": 10, "samples_per_class": 20,
            "labels": ["cat", "dog", "owl"]}}).encode()

        def cold() -> None:
            request = urllib.request.Request(f"{url}/recommend", data=body, method="POST",
                                             headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=60) as response:
                response.read()

        cold()  # loads the predictor once
        return {"recommend_1_client": sequential, "recommend_8_clients": concurrent,
                "cold_start": latency(cold, 20)}
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def bench_size(datasets: int, args: argparse.Namespace, work: Path, full: bool) -> dict:
    import graphrec
    from graphrec.predict import workflow
    from graphrec.synth import generate_zoo

    env = {**os.environ, "GRAPHREC_SERVER_IDLE": "900", "OMP_NUM_THREADS": "2"}
    os.environ["GRAPHREC_SERVER_IDLE"] = "900"
    zoo = generate_zoo(args.models, datasets, args.density, 0, work / f"zoo-{datasets}")
    db = work / f"db-{datasets}"
    files = [str(zoo.files["records"]), "--models", str(zoo.files["models"]),
             "--datasets", str(zoo.files["datasets"])]
    out: dict = {"models": args.models, "datasets": datasets}
    first = timed_cli(db, "ingest", *files, "--json", env=env)
    edges = json.loads(first["stdout"])["transfers"]["created"]
    out["observed_edges"] = edges
    out["ingest"] = {k: first[k] for k in ("seconds", "rss_mib")}
    out["ingest"]["edges_per_s_end_to_end"] = round(edges / first["seconds"])
    again = timed_cli(db, "ingest", *files, "--json", env=env)
    out["reingest_unchanged"] = {k: again[k] for k in ("seconds", "rss_mib")}
    out["db_server_peak_mib_after_ingest"] = server_peak_mib(db)
    with graphrec.open(str(db)) as g:
        reads = []
        for _ in range(3):
            start = time.perf_counter()
            workflow.read_graph(g.store)
            reads.append(time.perf_counter() - start)
    out["read_graph_s"] = round(statistics.median(reads), 3)
    train = timed_cli(db, "train", "--json", env=env)
    out["train"] = {k: train[k] for k in ("seconds", "rss_mib")}
    predict = timed_cli(db, "predict", "--top-k", "5", "--json", env=env)
    out["predict_top5"] = {k: predict[k] for k in ("seconds", "rss_mib")}
    if not full:
        return out
    sharded = timed_cli(db, "predict", "--top-k", "5", "--workers", "2", "--json", env=env)
    out["predict_top5_workers2"] = {k: sharded[k] for k in ("seconds", "rss_mib")}
    with graphrec.open(str(db)) as g:
        dataset = g.store.run("MATCH (d:Dataset) RETURN d.name AS n LIMIT 1")[0]["n"]
    warm = {}
    for name, cmd in (("recommend", ("recommend", dataset)), ("stats", ("stats",)),
                      ("status", ("status",)),
                      ("cold_start", ("recommend", "bench_new", "--domain", "sketch",
                                      "--num-classes", "10", "--labels", "cat,dog,owl"))):
        runs = [timed_cli(db, *cmd, env=env) for _ in range(5)]
        warm[name] = {"median_s": round(statistics.median(r["seconds"] for r in runs), 3),
                      "rss_mib": max(r["rss_mib"] for r in runs)}
    out["cli_warm"] = warm
    with graphrec.open(str(db)) as g:
        meta = {"domain": "sketch", "num_classes": 10, "labels": ["cat", "dog", "owl"]}
        g.recommend("bench_new", 5, metadata=meta)  # loads the predictor once
        out["api_cold_start"] = latency(lambda: g.recommend("bench_new", 5, metadata=meta), 20)
        out["api_recommend"] = latency(lambda: g.recommend(dataset, 5), 200)
    out["http"] = http_bench(db, env, dataset)
    timed_cli(db, "db", "stop", env=env)
    restart = timed_cli(db, "stats", env=env)
    out["cli_after_server_stop"] = {"stats_s": restart["seconds"]}
    timed_cli(db, "train", env=env)
    timed_cli(db, "predict", "--top-k", "5", env=env)
    with graphrec.open(str(db)) as g:
        sets = g.store.run("MATCH ()-[p:PREDICTED]->() RETURN count(DISTINCT p.version) AS n")
        out["prediction_sets_after_two_cycles"] = sets[0]["n"]
    out["db_server_peak_mib"] = server_peak_mib(db)
    timed_cli(db, "db", "stop", env=env)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--density", type=float, default=0.01)
    parser.add_argument("--datasets", type=int, nargs="+", default=[10_000, 30_000, 100_000],
                        help="zoo sizes (the largest gets every measurement)")
    parser.add_argument("--workdir", type=Path, help="keep zoos and databases here")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="graphrec-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    sizes = sorted(args.datasets)
    results = [bench_size(n, args, work, full=(n == sizes[-1])) for n in sizes]
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text)


if __name__ == "__main__":
    main()
