"""Predictors and their prediction versions in the database: which one is current, and the
sets of PREDICTED edges each one wrote.

Why versions: a `predict` writes many batches, and a reader must never see half a set. Each
run writes its edges under a new `version`; the Predictor node records a version only once
every batch is in (`finish-predictions`, one statement that also makes the predictor
current). Readers ask for the recorded version, so a killed run leaves the previous set in
service, and the next finished run removes the leftovers.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from .. import queries
from ..errors import UsageError
from ..ingest import utc_now
from ..store import Store

__all__ = ["CHECKPOINTS", "DELETE_BATCH", "JSON_PROPERTIES", "checkpoint_file",
           "clear_predictions", "decoded",
           "drop_predictor", "finish_version", "get_predictor", "list_predictors",
           "new_version", "shown_predictor", "stamp_id", "use_predictor"]

DELETE_BATCH = 50_000  # predicted edges deleted per statement
#: The folder under the store's `data_dir` that holds predictor checkpoints.
CHECKPOINTS = "predictors"


def checkpoint_file(store: Store, stored: str | None) -> Path | None:
    """The checkpoint a Predictor node names. Nodes store it relative to the store's
    `data_dir`, so a copied database folder reads its own files. An absolute path (from
    before) names the same file as this store's own copy of it, where there is one (the
    file name is the predictor's unique id), else the path itself."""
    if not stored:
        return None
    path = Path(stored)
    if not path.is_absolute():
        return store.data_dir / path
    local = store.data_dir / CHECKPOINTS / path.name
    return local if local.is_file() else path


#: Predictor properties a graph stores as JSON text (a node property holds no map).
JSON_PROPERTIES = ("hyperparameters", "score_metrics", "selection")


def decoded(record: dict[str, Any]) -> dict[str, Any]:
    """`record` with its JSON-text properties as the values they hold: what the API,
    `--json` and `serve` hand out (no JSON inside strings)."""
    for key in JSON_PROPERTIES:
        if isinstance(record.get(key), str):
            record[key] = json.loads(record[key])
    return record


def _resolved(store: Store, record: dict[str, Any]) -> dict[str, Any]:
    """`record` as readers want it: the checkpoint as the absolute path of the file to
    read, the JSON-text properties decoded."""
    path = checkpoint_file(store, record.get("checkpoint"))
    if path is not None:
        record["checkpoint"] = str(path)
    return decoded(record)


def stamp_id(when: str) -> str:
    """An id for something made at `when` (ISO 8601): it sorts by time, and a random tail
    keeps two made in the same second apart. Predictor ids and versions use it."""
    return f"{when.replace(':', '').replace('-', '')[:15]}-{secrets.token_hex(3)}"


def new_version() -> str:
    """A version id that sorts by time and does not collide between concurrent runs."""
    return stamp_id(utc_now())


def get_predictor(store: Store, predictor_id: str | None = None) -> dict[str, Any]:
    """A predictor's record: the given id, or the current one."""
    if predictor_id:
        rows = store.run(queries.get("predict/get-predictor").text, {"id": predictor_id})
        if not rows:
            raise UsageError(f"no predictor {predictor_id!r} in this database; "
                             "`graphrec predictors list` names the ones there are")
    else:
        rows = store.run(queries.get("predict/current-predictor").text)
        if not rows:
            raise UsageError("no trained predictor in this database; run `graphrec train`")
    return _resolved(store, rows[0]["predictor"])


def shown_predictor(store: Store, predictor_id: str | None = None) -> dict[str, Any] | None:
    """The predictor whose predictions a read shows beside the observed edges: the given
    one (an unknown id is a UsageError), else the current one, None while none is trained
    (the read shows observed edges alone)."""
    if predictor_id:
        return get_predictor(store, predictor_id)
    try:
        return get_predictor(store)
    except UsageError:
        return None


def list_predictors(store: Store) -> list[dict[str, Any]]:
    """Every predictor's record, newest first, with `current` set on exactly one (the one
    `get_predictor` answers) and `predicted` the size of its complete version (0: none)."""
    records = [_resolved(store, r["predictor"])
               for r in store.run(queries.get("predict/list-predictors").text)]
    current = get_predictor(store)["id"] if records else None
    for record in records:
        record["current"] = record["id"] == current
        record["predicted"] = int(record.get("predicted") or 0) if record.get("version") else 0
    return records


def use_predictor(store: Store, predictor_id: str) -> dict[str, Any]:
    """Make `predictor_id` the current predictor; returns its record."""
    record = get_predictor(store, predictor_id)  # a clear error for an unknown id
    store.run(queries.get("predict/set-current").text, {"id": predictor_id}, write=True)
    record["current"] = True
    return record


def clear_predictions(store: Store, predictor_id: str, keep: str | None = None) -> int:
    """Delete a predictor's predicted edges (all, or all but version `keep`), in batches.
    Deleting all of them also forgets the predictor's version (before the first batch, so
    that a reader never takes a half-deleted set for a complete one)."""
    if keep is None:
        store.run(queries.get("predict/forget-version").text, {"id": predictor_id}, write=True)
    query = queries.get("predict/clear-predictions").text
    deleted = 0
    while True:
        n = store.run(query, {"predictor": predictor_id, "keep": keep,
                              "limit": DELETE_BATCH}, write=True)[0]["deleted"]
        deleted += n
        if n < DELETE_BATCH:
            return deleted


def finish_version(store: Store, record: dict[str, Any], version: str, count: int,
                   top_k: int | None, keep_others: bool) -> int:
    """Record `version` as the predictor's complete set and make it current, then remove
    what it replaces: the predictor's other versions (older ones, or a killed run's), and,
    unless `keep_others`, every other predictor's predictions. Returns edges removed."""
    store.run(queries.get("predict/finish-predictions").text,
              {"id": record["id"], "version": version, "now": utc_now(), "count": count,
               "top_k": top_k}, write=True)
    removed = clear_predictions(store, record["id"], keep=version)
    if not keep_others:
        for other in store.run(queries.get("predict/list-predictors").text):
            if other["predictor"]["id"] != record["id"]:
                removed += clear_predictions(store, other["predictor"]["id"])
    return removed


def drop_predictor(store: Store, predictor_id: str) -> dict[str, Any]:
    """Remove a predictor: its predicted edges, its node and its checkpoint file. If it was
    current, the most recently trained remaining predictor becomes current."""
    record = get_predictor(store, predictor_id)
    was_current = get_predictor(store)["id"] == predictor_id
    deleted = clear_predictions(store, predictor_id)
    store.run(queries.get("predict/delete-predictor").text, {"id": predictor_id}, write=True)
    # Only a file in this database's own checkpoint folder: an old absolute path may name
    # the files of the database this one was copied from.
    checkpoint = Path(str(record.get("checkpoint") or ""))
    own = (store.data_dir / CHECKPOINTS).resolve()
    removed_file = False
    if (record.get("checkpoint") and checkpoint.is_file()
            and checkpoint.resolve().parent == own):
        checkpoint.unlink()
        removed_file = True
    rest = store.run(queries.get("predict/list-predictors").text)
    if was_current and rest:
        store.run(queries.get("predict/set-current").text,
                  {"id": rest[0]["predictor"]["id"]}, write=True)
    return {"dropped": predictor_id, "was_current": was_current,
            "predicted_edges_deleted": deleted, "checkpoint_deleted": removed_file,
            "current": get_predictor(store)["id"] if rest else None}
