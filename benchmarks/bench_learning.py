"""Wall time and peak memory of `graphrec train` and `graphrec predict`.

    python benchmarks/bench_learning.py                    # the paper's data, then 1000 x 100000
    python benchmarks/bench_learning.py --only paper
    python benchmarks/bench_learning.py --only synth --epochs 50 --top-k 5

Each phase (ingest, train, predict) runs in its own process, so each peak memory figure
(max RSS) is that phase's alone. The database is a fresh embedded one in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from common import DOMAINNET, add_zoo_arguments, emit

PHASE = """
import json, resource, sys, time
import graphrec
from graphrec.predict import workflow
args = json.loads(sys.argv[1])
with graphrec.open(args["db"]) as g:
    t = time.perf_counter()
    if args["phase"] == "ingest":
        out = g.ingest(**args["files"]).as_dict()
    elif args["phase"] == "train":
        takes_epochs = args["model"] in ("scg4trf", "g4trf", "auto")
        out = workflow.train(g.store, args["model"], seed=0,
                             **({"epochs": args["epochs"]} if takes_epochs else {}))
    else:
        out = workflow.predict(g.store, top_k=args["top_k"])
    seconds = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": round(seconds, 2), "peak_rss_mib": round(peak / 1024), "out": out},
                 default=str))
"""


def phase(**args) -> dict:
    proc = subprocess.run([sys.executable, "-c", PHASE, json.dumps(args, default=str)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{args['phase']} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_case(name: str, files: dict, work: Path, model: str, epochs: int,
             top_k: int | None) -> dict:
    db = str(work / f"db-{name.split()[0]}")
    ingest = phase(phase="ingest", db=db, files=files)
    train = phase(phase="train", db=db, model=model, epochs=epochs)
    predict = phase(phase="predict", db=db, top_k=top_k)
    return {
        "case": name, "model": model, "epochs": epochs, "top_k": top_k,
        "observed_edges": train["out"]["trained_on_edges"],
        "ingest_s": ingest["seconds"],
        "train_s": train["seconds"], "train_peak_mib": train["peak_rss_mib"],
        "s_per_epoch": round(train["out"]["fit_seconds"] / epochs, 3),
        "predict_s": predict["seconds"], "predict_peak_mib": predict["peak_rss_mib"],
        "predicted_edges": predict["out"]["predicted"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_zoo_arguments(parser)
    parser.add_argument("--model", default="hla", help="predictor to train (hla, scg4trf, ...)")
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--synth-epochs", type=int, default=50,
                        help="epochs for the large synthetic zoo (time grows linearly)")
    parser.add_argument("--top-k", type=int, default=5,
                        help="predicted edges kept per dataset on the synthetic zoo")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="graphrec-bench-") as tmp:
        work = Path(tmp)
        if args.only in (None, "paper"):
            results.append(run_case("paper", {"path": str(DOMAINNET), "loader": "domainnet"},
                                    work, args.model, args.epochs, None))
        if args.only in (None, "synth"):
            from graphrec.synth import generate_zoo

            zoo = generate_zoo(args.models, args.datasets, args.density, 0, work / "zoo")
            files = {"path": str(zoo.files["records"]), "models": str(zoo.files["models"]),
                     "datasets": str(zoo.files["datasets"])}
            results.append(run_case(f"synth {args.models}x{args.datasets}@{args.density}",
                                    files, work, args.model, args.synth_epochs, args.top_k))
    emit(results, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
