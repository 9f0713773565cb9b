"""Where graphrec keeps its data, and which database a command talks to.

Resolution order for the database: the `--db` option, then `GRAPHREC_DB`, then the embedded
FalkorDB under `GRAPHREC_HOME` (or the platform's user data folder).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit

from .errors import UsageError

EMBEDDED_SCHEMES = ("embedded", "file")
FALKORDB_SCHEMES = ("redis", "rediss", "unix", "falkor", "falkordb", "falkors")
NEO4J_SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")
DEFAULT_GRAPH = "graphrec"


def default_home() -> Path:
    """`$GRAPHREC_HOME`, else the user data folder (e.g. ~/.local/share/graphrec)."""
    env = os.environ.get("GRAPHREC_HOME")
    if env:
        return Path(env).expanduser().resolve()
    from platformdirs import user_data_dir

    return Path(user_data_dir("graphrec", appauthor=False)).resolve()


@dataclass(frozen=True)
class Target:
    """A parsed database address. `password` is kept out of repr so it is never printed."""

    kind: str  # "embedded" | "falkordb" | "neo4j"
    uri: str = field(default="", repr=False)  # may hold credentials: see safe_uri
    path: Path | None = None
    graph: str = DEFAULT_GRAPH
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    database: str | None = None

    @property
    def safe_uri(self) -> str:
        """The address without credentials."""
        if self.kind == "embedded":
            return f"embedded://{self.path}"
        parts = urlsplit(self.uri)
        return f"{parts.scheme}://{host_port(parts)}{parts.path}"


def host_port(parts: SplitResult) -> str:
    """The host (an IPv6 address back in its brackets) and the port of a parsed address,
    without credentials: what the three places that rebuild an address need."""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{parts.port}" if parts.port else host


def _check_port(parts: SplitResult) -> None:
    try:
        parts.port  # noqa: B018 (urllib checks the port when it is read)
    except ValueError:
        port = parts.netloc.rpartition("@")[2].rpartition(":")[2]
        raise UsageError(f"the port {port!r} in --db/GRAPHREC_DB is not a port number "
                         "(1-65535); e.g. redis://localhost:6379 or bolt://localhost:7687"
                         ) from None


def resolve(db: str | None = None) -> Target:
    """Parse `db` (or `GRAPHREC_DB`) into a `Target`; no value means the embedded default."""
    raw = (db if db is not None else os.environ.get("GRAPHREC_DB") or "").strip()
    if not raw:
        return Target(kind="embedded", path=default_home())
    if "://" not in raw:  # a plain folder path (it may contain a colon)
        return Target(kind="embedded", path=Path(raw).expanduser().resolve())
    try:
        parts = urlsplit(raw)
    except ValueError as exc:  # e.g. an unclosed [ of an IPv6 host
        raise UsageError(f"cannot read the database address in --db/GRAPHREC_DB: {exc}; "
                         "an IPv6 host goes in brackets, e.g. bolt://[::1]:7687") from None
    scheme = parts.scheme.lower()
    if scheme not in EMBEDDED_SCHEMES:
        _check_port(parts)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    if scheme in EMBEDDED_SCHEMES:
        path = unquote(parts.netloc + parts.path)
        if not path:
            raise UsageError(f"{scheme}:// needs a folder, e.g. embedded:///home/me/graphrec-db")
        return Target(kind="embedded", path=Path(path).expanduser().resolve())
    if scheme in FALKORDB_SCHEMES:
        graph = query.get("graph") or (parts.path.strip("/") if scheme != "unix" else "")
        return Target(
            kind="falkordb", uri=raw, graph=graph or DEFAULT_GRAPH,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else query.get("password"),
        )
    if scheme in NEO4J_SCHEMES:
        user = unquote(parts.username) if parts.username else os.environ.get("NEO4J_USER")
        password = (unquote(parts.password) if parts.password
                    else os.environ.get("NEO4J_PASSWORD"))
        return Target(
            kind="neo4j", uri=raw, user=user or "neo4j", password=password,
            database=query.get("database") or os.environ.get("NEO4J_DATABASE"),
        )
    raise UsageError(
        f"unknown database address scheme {scheme!r} in --db/GRAPHREC_DB. Use a folder path "
        "or embedded:///path (embedded FalkorDB); redis://, rediss:// or unix:// (a FalkorDB "
        "server); bolt://, neo4j:// or their +s variants (Neo4j 5)."
    )
