"""Where an index keeps its LSH tables: in memory (datasketch's dict storage) or in Redis, where they persist
between runs. Checking a storage config, Redis connection parameters, and deleting an index's keys."""

from __future__ import annotations

import os

def check_storage_config(config: dict | None) -> dict | None:
    """None / {'type': 'dict'} -> None (in memory); a Redis config is checked and returned."""
    if not config or config.get("type", "dict") == "dict":
        return None
    if config.get("type") != "redis" or not isinstance(config.get("redis"), dict):
        raise ValueError("The LSH storage must be in memory or Redis: {'type': 'redis', 'redis': {'host': ..., "
                         "'port': ...}}.")
    try:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry
    except ImportError as exc:
        raise ValueError("Redis storage needs the 'redis' Python package (pip install redis).") from exc
    params = redis_params(config["redis"])
    try:
        redis.Redis(**{**params, "retry": Retry(NoBackoff(), 0)}).ping()  # fail fast, no retries
    except redis.RedisError as exc:
        where = f"{params.get('host', 'localhost')}:{params.get('port', 6379)}"
        raise ValueError(f"Could not reach the Redis server at {where} ({exc}); start it or check host and port.") \
            from exc
    return {"type": "redis", "redis": dict(config["redis"])}


def redis_params(config: dict) -> dict:
    """datasketch's Redis parameter convention: a value {'env': NAME, 'default': x} is read from the environment."""
    out = {}
    for key, value in config.items():
        if isinstance(value, dict) and "env" in value:
            value = os.getenv(value["env"], value.get("default"))
        out[key] = value
    return out


def public_storage(config: dict | None) -> dict:
    """What the manifest records about storage: type, and host / port / db for Redis (never a password)."""
    if not config:
        return {"type": "dict"}
    return {"type": "redis", "redis": {k: v for k, v in config["redis"].items() if k in ("host", "port", "db")}}


def redis_int(client, key: str) -> int:
    """An integer stored at ``key`` (0 when the key is missing)."""
    value = client.get(key)
    return int(value) if value is not None else 0


def redis_delete_prefix(client, prefix: str) -> int:
    """Delete every key starting with ``prefix`` (scanned, deleted in batches of 1000); return how many."""
    deleted, batch = 0, []
    for key in client.scan_iter(match=prefix.encode() + b"*", count=1000):
        batch.append(key)
        if len(batch) >= 1000:
            deleted += client.delete(*batch)
            batch = []
    if batch:
        deleted += client.delete(*batch)
    return deleted
