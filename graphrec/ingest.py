"""Write validated zoo data into the graph: batched, parameterised, idempotent.

Each batch is one Cypher statement (`cypher/ingest/*.cypher`), so it commits atomically on
both backends. Before writing, graphrec reads what is stored and skips rows that would not
change anything: a second ingest of the same files writes nothing and reports it, and an
ingest cut short (a crash, a killed server) converges when it is run again.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from . import queries
from .bulk import paused_gc
from .errors import Problem, ValidationError
from .loaders.zoodata import Entity, ZooData, name_problems
from .names import close_names
from .store import Store

NODE_BATCH = 2000
EDGE_BATCH = 5000
IN_FLIGHT = 2  # write batches queued at once: enough to overlap, little memory


class _Writer:
    """Runs write statements on one background thread, in order.

    The database executes batch N while Python reads and prepares batch N+1, so the two
    cores of a small machine both work. At most IN_FLIGHT batches wait; the first error
    stops the ingest. `finish` waits for every batch and raises the first error; `abort`
    (after an error elsewhere) drops the batches not yet started.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="graphrec-write")
        self._pending: deque[Future] = deque()

    def submit(self, query: str, params: dict[str, Any]) -> None:
        statement = self._store.prepare(query, params)  # on this thread, while one runs
        while len(self._pending) >= IN_FLIGHT:
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(self._store.execute, statement, write=True))

    def finish(self) -> None:
        while self._pending:
            self._pending.popleft().result()
        self._pool.shutdown(wait=True)

    def abort(self) -> None:
        for future in self._pending:
            future.cancel()
        self._pending.clear()
        self._pool.shutdown(wait=True)  # the batch already running completes


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass
class IngestSummary:
    """What an ingest did, per kind of thing written."""

    models: Counts = field(default_factory=Counts)
    datasets: Counts = field(default_factory=Counts)
    transfers: Counts = field(default_factory=Counts)
    scores: Counts = field(default_factory=Counts)
    record_rows: int = 0
    seconds: float = 0.0
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return any(c.created or c.updated for c in
                   (self.models, self.datasets, self.transfers, self.scores))

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        edges = self.transfers.total + self.scores.total
        out["edges_per_second"] = edges / self.seconds if self.seconds > 0 else None
        return out


def same(stored: Any, new: Any) -> bool:
    """Equality that tolerates FalkorDB returning doubles with 15 significant digits."""
    if isinstance(new, list):
        return (isinstance(stored, list) and len(stored) == len(new)
                and all(same(a, b) for a, b in zip(stored, new, strict=True)))
    if isinstance(new, float) and type(stored) in (int, float):
        return math.isclose(stored, new, rel_tol=1e-13, abs_tol=0.0)
    return type(stored) is type(new) and stored == new


def _batches(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def ingest(store: Store, zoo: ZooData, *, progress: bool = False) -> IngestSummary:
    """Write `zoo` into `store`; return created / updated / unchanged counts. Names are
    checked first whoever built `zoo` (a name FalkorDB cannot index crashes its server)."""
    problems = name_problems(zoo)
    if problems:
        raise ValidationError(problems)
    check_scored_models(store, zoo)
    with paused_gc():  # millions of short-lived rows: nothing for the collector to find
        return _ingest(store, zoo, progress)


def check_scored_models(store: Store, zoo: ZooData) -> None:
    """Scores attach to models the graph or the ingested files define (metadata or records):
    a typo in a score matrix must not create a model, as `graphrec score` refuses it too.
    A dataset named only by scores is fine (scores may come first for a new dataset)."""
    defined = set(zoo.models) | {m for m, _ in zoo.transfers}
    candidates = sorted({m for m, _, _ in zoo.scores} - defined)
    if not candidates:
        return
    read = queries.get("ingest/read-models").text
    stored = {r["name"] for names in _batches(candidates, NODE_BATCH)
              for r in store.run(read, {"names": names})}
    unknown = [name for name in candidates if name not in stored]
    if not unknown:
        return
    known = sorted(defined | {r["name"] for r in
                              store.run(queries.get("ingest/model-names").text)})
    problems = []
    for name in unknown:
        file, line = zoo.first_seen.get(("model", name), (zoo.sources.get("scores", "scores"),
                                                          None))
        close = close_names(name, known)
        hint = f" (close names: {', '.join(close)})" if close else ""
        problems.append(Problem(file, f"model {name!r} has scores but is not in the graph nor "
                                f"in the records or metadata given{hint}; fix the name, or "
                                "ingest the model first (graphrec ingest ... --models "
                                "models.csv)", line))
    raise ValidationError(problems)


def _ingest(store: Store, zoo: ZooData, progress: bool) -> IngestSummary:
    from tqdm import tqdm

    start = time.perf_counter()
    summary = IngestSummary(record_rows=zoo.record_rows, sources=dict(zoo.sources))
    models = _with_references(zoo.models, (m for m, _ in zoo.transfers),
                              (m for m, _, _ in zoo.scores))
    datasets = _with_references(zoo.datasets, (d for _, d in zoo.transfers),
                                (d for _, d, _ in zoo.scores))
    total = len(models) + len(datasets) + len(zoo.transfers) + len(zoo.scores)
    bar = tqdm(total=total, unit="row", desc="ingest", disable=not progress, leave=False)
    # An empty graph has nothing to compare against: skip reading it back batch by batch.
    had_edges = store.run(queries.get("ingest/count-observed").text)[0]["edges"] > 0
    writer = _Writer(store)
    try:
        _entities(store, writer, "Model", models, summary.models, bar)
        _entities(store, writer, "Dataset", datasets, summary.datasets, bar)
        _transfers(store, writer, zoo, summary.transfers, bar, had_edges)
        _scores(store, writer, zoo, summary.scores, bar, had_edges)
        writer.finish()
    except BaseException:
        writer.abort()
        raise
    finally:
        bar.close()
    summary.seconds = time.perf_counter() - start
    return summary


def _with_references(meta: dict[str, Entity], *refs: Iterable[str]) -> dict[str, dict]:
    """Metadata props by name, plus bare names that only records mention (props None)."""
    out: dict[str, dict | None] = {name: e.props for name, e in meta.items()}
    for it in refs:
        for name in it:
            if name not in out:
                out[name] = None
    return out  # type: ignore[return-value]


_LINKS = {
    "Model": (("family", "family", False), ("pretrain_dataset", "pretrain_dataset", False)),
    "Dataset": (("domain", "domain", False), ("labels", "labels", True)),
}


def _entities(store: Store, writer: _Writer, label: str, items: dict[str, dict | None],
              counts: Counts, bar) -> None:
    kind = "models" if label == "Model" else "datasets"
    read = queries.get(f"ingest/read-{kind}").text
    write = queries.get(f"ingest/upsert-{kind}").text
    for names in _batches(sorted(items), NODE_BATCH):
        stored = {r["name"]: r["props"] for r in store.run(read, {"names": names})}
        rows = []
        for name in names:
            new = items[name]
            old = stored.get(name)
            if old is None:
                counts.created += 1
            elif new is None or all(same(old.get(k), v) for k, v in new.items()):
                counts.unchanged += 1
                continue
            else:
                counts.updated += 1
            merged = {**(old or {}), **(new or {})}
            merged.pop("name", None)
            row: dict[str, Any] = {"name": name, "props": {k: v for k, v in (new or {}).items()
                                                             if k != "name"}}
            for key, prop, is_list in _LINKS[label]:
                value = merged.get(prop)
                if value is None or value == "" or value == []:
                    row[key] = []
                else:
                    row[key] = (list(dict.fromkeys(str(v) for v in value)) if is_list
                                else [str(value)])
            rows.append(row)
        if rows:
            writer.submit(write, {"rows": rows})
        bar.update(len(names))


def _by_dataset(keys: Iterable[tuple]) -> list[tuple]:
    return sorted(keys, key=lambda k: (k[1], k[0], *k[2:]))


def _dataset_batches(keys: list[tuple], size: int) -> Iterator[list[tuple]]:
    """Batches of about `size` keys that never split one dataset's keys across batches."""
    batch: list[tuple] = []
    for key in keys:
        if len(batch) >= size and batch[-1][1] != key[1]:
            yield batch
            batch = []
        batch.append(key)
    if batch:
        yield batch


def utc_now() -> str:
    """ISO 8601 UTC with microseconds: timestamps that order ingests and training."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _compare(store: Store, query: str, rows: list, key) -> dict[tuple, bool]:
    """Ask the database which rows it already holds ({key: unchanged?})."""
    return {key(r): bool(r["same"]) for r in store.run(query, {"rows": rows})}


def _count(counts: Counts, found: bool | None) -> bool:
    """Tally one row (None: new, True: unchanged, False: changed); True if it needs writing."""
    if found is None:
        counts.created += 1
    elif found:
        counts.unchanged += 1
    else:
        counts.updated += 1
    return not found


def edge_digest(props: dict[str, Any]) -> int:
    """A 63-bit fingerprint of an edge's properties (without `digest` and `updated_at`),
    stored on the edge: the same input always gives the same digest, on any machine."""
    text = repr(sorted((k, v) for k, v in props.items() if k not in ("digest", "updated_at")))
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(),
                          "big") >> 1


def _transfers(store: Store, writer: _Writer, zoo: ZooData, counts: Counts, bar,
               had_edges: bool) -> None:
    compare = queries.get("ingest/compare-transfers").text
    digests = queries.get("ingest/read-transfer-digests").text
    write = queries.get("ingest/upsert-transfers").text
    for batch in _dataset_batches(_by_dataset(zoo.transfers), EDGE_BATCH):
        rows = []
        for m, d in batch:
            props = zoo.transfer_props((m, d))
            props["digest"] = edge_digest(props)
            rows.append([m, d, props])
        known: dict[tuple, bool] = {}
        if had_edges:
            stored = {(m, r["dataset"]): digest
                      for r in store.run(digests, {"datasets": sorted({d for _, d in batch})})
                      for m, digest in zip(r["models"], r["digests"], strict=True)}
            legacy = []
            for row in rows:
                digest = stored.get((row[0], row[1]))
                if digest == -1:
                    legacy.append(row)
                elif digest is not None:
                    known[(row[0], row[1])] = digest == row[2]["digest"]
            if legacy:  # edges from before digests: the database compares every property
                known.update(_compare(store, compare, legacy,
                                      lambda r: (r["model"], r["dataset"])))
        rows = [row for row in rows if _count(counts, known.get((row[0], row[1])))]
        if rows:
            # Stamped per batch, as it is sent: staleness compares when each write
            # happened with when training read the graph.
            writer.submit(write, {"rows": rows, "now": utc_now()})
        bar.update(len(batch))


def _scores(store: Store, writer: _Writer, zoo: ZooData, counts: Counts, bar,
            had_edges: bool) -> None:
    compare = queries.get("ingest/compare-scores").text
    write = queries.get("ingest/upsert-scores").text
    for batch in _dataset_batches(_by_dataset(zoo.scores), EDGE_BATCH):
        rows = [{"model": m, "dataset": d, "metric": metric, "value": zoo.scores[(m, d, metric)]}
                for m, d, metric in batch]
        known = (_compare(store, compare, rows,
                          lambda r: (r["model"], r["dataset"], r["metric"]))
                 if had_edges else {})
        rows = [r for r in rows
                if _count(counts, known.get((r["model"], r["dataset"], r["metric"])))]
        if rows:
            # Stamped per batch, as it is sent: staleness compares when each write
            # happened with when training read the graph.
            writer.submit(write, {"rows": rows, "now": utc_now()})
        bar.update(len(batch))
