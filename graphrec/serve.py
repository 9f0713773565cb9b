"""`graphrec serve`: the Python API as an HTTP JSON API (FastAPI on uvicorn).

Why a long-lived process: opening the embedded database starts a server (about a second);
here it is opened once, held for the process's lifetime and closed at shutdown (the ASGI
lifespan), so a request costs a query. There is no authentication, so it listens on loopback
unless told otherwise (`--allow-remote`).

Endpoints that touch the store are plain `def`, so they run in the threadpool and never block
the event loop. The store may be used from several threads at once: the FalkorDB client is a
redis-py connection pool (one connection per concurrent call), its write lock is a `flock` on a
fresh file descriptor per statement (threads of one process exclude each other too) or a Redis
lock with its own token, and the Neo4j driver is thread-safe. Reads therefore run concurrently.
Writes (POST /records, cold start) also take `write_lock`, because each reads what is stored and
then writes (ingest counts what it creates; cold start checks the name is new), and two such
sequences must not interleave within this process.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import math
import re
import threading
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, Literal

import uvicorn
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.exceptions import HTTPException

from . import __version__
from .api import Graphrec
from .api import open as open_graph
from .errors import GraphrecError, Problem, StoreError, UsageError, ValidationError
from .loaders.zoodata import ZooData
from .predict.workflow import dataset_exists

logger = logging.getLogger("uvicorn.error")  # configured by uvicorn, beside its own lines
MAX_K, MAX_RECORDS = 10_000, 100_000
#: POST /records's name in problems, and the `source` of its edges (a CSV's: the file name).
RECORDS_SOURCE, RECORDS_PROVENANCE = "records", "POST /records"
#: What GET /health asks the database: any answer means it is up.
HEALTH_QUERY = "RETURN 1 AS ok"


class NotFound(UsageError):
    """The thing a request names is not in the graph (HTTP 404)."""


# -- request and response bodies ------------------------------------------------------------


class _Body(BaseModel):
    """Strict JSON ("5" is not a number), and an unknown key is named with the allowed ones
    (a typo must not silently become "not given")."""

    model_config = ConfigDict(strict=True)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(cls.model_fields))
            if unknown:
                raise ValueError(f"unknown key(s) {', '.join(map(repr, unknown))}; allowed: "
                                 f"{', '.join(cls.model_fields)}")
        return data


class Metadata(_Body):
    """What is known about a new dataset; any subset, at least one."""

    domain: str | None = None
    num_classes: int | None = Field(None, ge=1)
    samples_per_class: int | None = Field(None, ge=1)
    train_size: int | None = Field(None, ge=1)
    labels: list[str] | None = None


class ColdStart(_Body):
    """POST /recommend: a dataset the graph has no history for, described by its metadata."""

    dataset: str = Field(min_length=1)
    k: int = Field(5, ge=1, le=MAX_K)
    metadata: Metadata
    predictor: str | None = None
    save: bool = False  # also store the dataset (and its predictions) in the graph


class Records(_Body):
    """POST /records: rows of a records CSV as objects (model, dataset, accuracy, any other
    columns), checked exactly as `graphrec ingest records.csv` checks the file."""

    records: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_RECORDS)
    accuracy_unit: Literal["fraction", "percent"] | None = None


class Row(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str
    family: str | None = None
    source: str  # "observed" (measured accuracy) or "predicted" (a predictor's score)
    score: float | None = None
    predictor: str | None = None


class Recommendation(BaseModel):
    dataset: str
    rows: list[Row]


class ColdStartRecommendation(Recommendation):
    warnings: list[str]  # what the graph could not use of the metadata, in words


# -- helpers ----------------------------------------------------------------------------------


def json_safe(value: Any) -> Any:
    """NaN and infinity are not JSON (a response holding one fails to render): null; numpy
    scalars become Python numbers, anything else unknown its text."""
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if value is None or isinstance(value, str | int | bool):
        return value
    if hasattr(value, "item"):
        return json_safe(value.item())
    return str(value)


def _cell(value: Any) -> str | None:
    """A JSON value as the text of the CSV cell that would hold it; None where none could."""
    if value is None or isinstance(value, bool):
        return "" if value is None else str(value).lower()
    if isinstance(value, int | float | str):
        return repr(value) if isinstance(value, float) else str(value).strip()
    return None


def records_zoo(records: list[dict[str, Any]], unit: str | None = None) -> ZooData:
    """Validate records as `graphrec ingest records.csv` does: the same `Table` the CSV
    reader would build (keys are the header, values the cells' text) goes through the
    loader's own record checks. A problem's `row` is the index into `records` (None for
    the request as a whole); ValidationError lists them all."""
    from .loaders.build import read_records
    from .loaders.csvfile import Table
    from .loaders.spec import load_builtin
    from .loaders.zoodata import name_problems

    spec = load_builtin("records").records
    assert spec is not None
    if unit is not None:
        spec = replace(spec, unit=unit)
    problems: list[Problem] = []
    header = list(dict.fromkeys(str(k).strip() for r in records for k in r))
    rows = []
    for i, record in enumerate(records):
        cells = dict.fromkeys(header, "")
        seen: set[str] = set()
        for key, value in record.items():
            column, text = str(key).strip(), _cell(value)
            if column in seen:
                problems.append(Problem(RECORDS_SOURCE, "two keys name this column", i, column))
            elif text is None:
                problems.append(Problem(RECORDS_SOURCE, "must be a string, number, boolean or "
                                        f"null, not {type(value).__name__}", i, column))
            elif "\x00" in text:
                problems.append(Problem(RECORDS_SOURCE, "holds a NUL character, which no "
                                        "query can carry", i, column))
                text = ""
            seen.add(column)
            cells[column] = text or ""
        rows.append(list(cells.values()))
    # Numbered as in a CSV file (header on line 1), then turned back into indices.
    table = Table(Path(RECORDS_SOURCE), header, rows, [i + 2 for i in range(len(rows))])
    zoo = ZooData(sources={"records": RECORDS_PROVENANCE})
    found: list[Problem] = []
    read_records(zoo, spec, table, found)
    found += name_problems(zoo)
    bad_cells = {(p.row, p.column) for p in problems}  # already said: not "empty" as well
    found = [replace(p, row=p.row - 2 if p.row is not None and p.row >= 2 else None)
             for p in found]
    problems += [p for p in found if (p.row, p.column) not in bad_cells]
    if problems:
        raise ValidationError(sorted(problems, key=lambda p: -1 if p.row is None else p.row))
    return zoo


def _warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    """What the code warned about, for the client; library deprecations are not its news."""
    skip = (DeprecationWarning, PendingDeprecationWarning)
    return list(dict.fromkeys(str(w.message) for w in caught
                              if not issubclass(w.category, skip)))


def _graph(request: Request) -> Graphrec:
    return request.app.state.graph


Graph = Annotated[Graphrec, Depends(_graph)]


# -- errors -----------------------------------------------------------------------------------


def _error(status: int, message: str, problems: list[dict] | None = None,
           headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": message}
    if problems is not None:
        body["problems"] = problems
    return JSONResponse(json_safe(body), status_code=status, headers=headers)


#: Hints written for the command line, in the words a client of this API acts on.
_HTTP_WORDS = [(re.compile(r"\(--accuracy-unit percent, or [^)]*\)"),
                '(set "accuracy_unit": "percent" in the request)'),
               (re.compile(r"To recommend for a new dataset, describe it: graphrec .*$"),
                "To recommend for a new dataset, POST /recommend with its metadata.")]


def _for_http(text: str) -> str:
    for pattern, words in _HTTP_WORDS:
        text = pattern.sub(words, text)
    return text


async def _on_graphrec_error(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, ValidationError):
        return _error(422, str(exc).split("\n", 1)[0].rstrip(":"),
                      [{**p.as_dict(), "reason": _for_http(p.reason)} for p in exc.problems])
    status = (404 if isinstance(exc, NotFound) else 422 if isinstance(exc, UsageError)
              else 503 if isinstance(exc, StoreError) else 500)
    return _error(status, _for_http(str(exc)))


#: Friendlier words than pydantic's for the parameters people get wrong most.
_HINTS = {"k": f"k must be an integer between 1 and {MAX_K}"}


async def _on_bad_request(request: Request, exc: Exception) -> JSONResponse:
    """Pydantic's complaints in graphrec's shape: {"error", "problems": [{file, row,
    column, reason}]}, file being "query" or "body"."""
    assert isinstance(exc, RequestValidationError)
    problems = []
    for e in exc.errors():
        loc = list(e.get("loc", ())) or ["request"]
        where, path = loc[0], loc[1:]
        row = next((p for p in path if isinstance(p, int)), None)
        column = ".".join(str(p) for p in path if not isinstance(p, int)) or None
        reason = str(e.get("msg", "invalid")).removeprefix("Value error, ")
        last = str(path[-1]) if path else ""
        if last in _HINTS:
            reason = f"{_HINTS[last]}, got {e.get('input')!r}"
        problems.append(Problem(str(where), reason, row, column).as_dict())
    text = "; ".join(p["reason"] if p["reason"].startswith(f"{p['column']} ")
                     else f"{p['column'] or p['file']}: {p['reason']}" for p in problems)
    return _error(422, f"invalid request: {text}", problems)


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return _error(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))


class _CatchAll:
    """An unexpected exception becomes a JSON 500 and a logged traceback. Not Starlette's
    `Exception` handler: that re-raises after answering, and uvicorn then drops the client's
    keep-alive connection, so its next request would fail too."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def sending(message: Any) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            if started:  # too late to answer: let uvicorn close the connection
                raise
            logger.exception("unexpected error in %s %s", scope["method"], scope["path"])
            await _error(500, f"internal error: {type(exc).__name__}: {exc}")(
                scope, receive, send)


# -- the app ----------------------------------------------------------------------------------


def create_app(db: str | None = None, *, graph: Graphrec | None = None) -> FastAPI:
    """The ASGI app. Its lifespan opens `db` (or takes the already open `graph`) at start
    and closes it at shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.graph = graph if graph is not None else open_graph(db)
        try:
            yield
        finally:
            app.state.graph.close()

    app = FastAPI(title="graphrec", version=__version__, lifespan=lifespan,
                  description="Recommend pre-trained models for datasets from a model zoo's "
                              "fine-tuning history. No authentication: keep it on loopback.")
    app.state.write_lock = threading.Lock()
    app.add_exception_handler(GraphrecError, _on_graphrec_error)
    app.add_exception_handler(RequestValidationError, _on_bad_request)
    app.add_exception_handler(HTTPException, _on_http_error)
    app.add_middleware(_CatchAll)
    _routes(app)
    return app


def _routes(app: FastAPI) -> None:
    @app.get("/health")
    def health(g: Graph) -> Any:
        """The server is up and the database answers a query (503 if it does not)."""
        try:
            g.store.run(HEALTH_QUERY)
        except Exception as exc:  # whatever the cause, the answer is "not healthy"
            return _error(503, f"database unreachable: {exc}")
        return {"status": "ok"}

    @app.get("/status")
    def status(g: Graph) -> dict[str, Any]:
        """The current predictor, observed and predicted counts, and whether the predictions
        are stale (as `graphrec status --json`)."""
        from .predict import workflow

        return json_safe(workflow.status(g.store))

    @app.get("/recommend", response_model=Recommendation)
    def recommend(g: Graph, dataset: Annotated[str, Query(min_length=1)],
                  k: Annotated[int, Query(ge=1, le=MAX_K)] = 5,
                  predictor: str | None = None) -> Any:
        """Models ranked for a dataset in the graph, each marked observed or predicted.
        404 (with close names) for a dataset the graph does not hold."""
        try:
            rows = g.recommend(dataset, k, predictor=predictor)
        except UsageError as exc:
            if not dataset_exists(g.store, dataset):
                raise NotFound(str(exc)) from None
            raise
        return {"dataset": dataset, "rows": json_safe(rows)}

    @app.post("/recommend", response_model=ColdStartRecommendation)
    def cold_start(g: Graph, body: ColdStart, request: Request) -> Any:
        """Cold start: rank models for a new dataset from its metadata, with the current
        predictor (no retraining). `warnings` says which values the graph could not use."""
        meta: dict[str, Any] = body.metadata.model_dump()
        if all(v is None for v in meta.values()):
            raise UsageError("describe the new dataset: metadata needs at least one of "
                             f"{', '.join(Metadata.model_fields)}")
        if meta["labels"] is not None:
            meta["labels"] = list(dict.fromkeys(v.strip() for v in meta["labels"] if v.strip()))
        # catch_warnings is process-wide in Python 3.11: the lock keeps two cold starts from
        # trading warnings (a read in another thread could still add one of its own).
        with request.app.state.write_lock, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")  # the same warning again, for the next client too
            rows = g.recommend(body.dataset, body.k, predictor=body.predictor, metadata=meta,
                               save=body.save)
        return {"dataset": body.dataset, "rows": json_safe(rows),
                "warnings": _warnings(caught)}

    @app.post("/records")
    def add_records(g: Graph, body: Records, request: Request) -> dict[str, Any]:
        """New fine-tuning results, validated in full as `graphrec ingest records.csv` does
        (422 with every problem, nothing written), then written; the ingest summary."""
        zoo = records_zoo(body.records, body.accuracy_unit)
        with request.app.state.write_lock:
            summary = g.ingest(zoo)
        return json_safe(summary.as_dict())


# -- running it -------------------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_host(host: str, allow_remote: bool) -> None:
    """Refuse to expose an unauthenticated API unless asked to in so many words."""
    if allow_remote or is_loopback(host):
        return
    raise UsageError(f"--host {host} is not a loopback address, and graphrec serve has no "
                     "authentication: anyone who can reach the port could read and change "
                     "the graph. Keep the default 127.0.0.1 (behind a proxy that "
                     "authenticates), or pass --allow-remote if that is what you mean.")


class GraphrecServer(uvicorn.Server):
    """uvicorn that says where it listens once the socket is bound (the real port, also
    for port 0); `url` is set then."""

    url: str | None = None

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        if not self.started:
            return
        host, port = self.servers[0].sockets[0].getsockname()[:2]
        host = f"[{host}]" if ":" in host else host
        self.url = f"http://{host}:{port}"
        location = self.config.app.state.graph.location
        print(f"serving {location} on {self.url} (docs: {self.url}/docs)", flush=True)


def run(db: str | None, host: str = "127.0.0.1", port: int = 8000, *,
        allow_remote: bool = False, log_level: str = "info") -> None:
    """Serve until interrupted. The database is opened before the server starts, so that
    a database error is a plain message, not a failed lifespan's traceback."""
    check_host(host, allow_remote)
    g = open_graph(db)
    try:
        config = uvicorn.Config(create_app(graph=g), host=host, port=port,
                                log_level=log_level, lifespan="on")
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C: uvicorn shut down cleanly
            GraphrecServer(config).run()
    finally:
        g.close()  # idempotent; covers a forced exit that skipped the lifespan's shutdown
