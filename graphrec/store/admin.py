"""Commands graphrec sends the embedded server as its owner: a client that never retries,
and folding the append-only log into a snapshot (before a shutdown, or on request)."""

from __future__ import annotations

import time

from ..errors import ServerError

__all__ = ["COMPACT_TIMEOUT_S", "admin_client", "compact", "rewrite_log"]

COMPACT_TIMEOUT_S = 600.0


def rewrite_log(client, timeout: float) -> None:
    """Fold the append-only log into a snapshot (BGREWRITEAOF; one already running counts)
    and wait up to `timeout` seconds for it. A server that goes away meanwhile is a
    ServerError; the other redis errors are the caller's to handle."""
    import redis

    try:
        try:
            client.bgrewriteaof()
        except redis.exceptions.ResponseError as exc:
            if "already in progress" not in str(exc):
                raise
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            info = client.info("persistence")
            if not (info.get("aof_rewrite_in_progress") or info.get("aof_rewrite_scheduled")):
                return
            time.sleep(0.05)
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
        raise ServerError(f"the database server went away while folding its log into a "
                          f"snapshot ({exc}); run the command again: the log alone holds "
                          "every committed write") from exc


def compact(client) -> None:
    """Before a shutdown: fold the log into a snapshot unless it nearly is one already, so
    that the next start loads a snapshot instead of replaying every write. Best effort:
    the log alone is complete."""
    import redis

    try:
        persistence = client.info("persistence")
        tail = persistence.get("aof_current_size", 0) - persistence.get("aof_base_size", 0)
        if persistence.get("aof_base_size") is not None and tail < (1 << 20):
            return  # the log is a snapshot and a short tail already
        rewrite_log(client, COMPACT_TIMEOUT_S)
    except (redis.exceptions.RedisError, ServerError):
        return


def admin_client(socket: str, password: str, timeout: float):
    """A client that never retries: a retry after SHUTDOWN or against a dead server only
    adds seconds of back-off."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis(unix_socket_path=socket, password=password, socket_timeout=timeout,
                       socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0))
