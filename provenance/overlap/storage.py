"""Where an index keeps its LSH tables: in memory (datasketch's dict storage) or in Redis, where they persist
between runs. Checking a storage config, reading a Redis address the user typed, Redis connection parameters, and
deleting an index's keys.

Storage settings come only from the user: a ``--redis HOST:PORT`` flag, the page's Redis field, the Python caller's
``storage_config``, and for a password the user's own ``PROVENANCE_REDIS_PASSWORD``. What an index folder's manifest
says about storage is a record of how it was built, never an instruction: ``check_manifest_storage`` refuses an
index whose manifest names a Redis server unless the user named that same server (or chose memory) themselves.
"""

from __future__ import annotations

import os

MEMORY = {"type": "dict"}
REDIS_PASSWORD_ENV = "PROVENANCE_REDIS_PASSWORD"
_REDIS_KEYS = {"host": str, "port": int, "db": int, "username": str, "password": str,
               "socket_connect_timeout": (int, float), "socket_timeout": (int, float)}


def check_storage_config(config: dict | None) -> dict | None:
    """None / {'type': 'dict'} -> None (in memory); a Redis config is checked (plain values only: host, port, db,
    username, password, timeouts), reached once, and returned."""
    if not config or config.get("type", "dict") == "dict":
        return None
    if config.get("type") != "redis" or not isinstance(config.get("redis"), dict):
        raise ValueError("The LSH storage must be in memory or Redis: {'type': 'redis', 'redis': {'host': ..., "
                         "'port': ...}}.")
    for key, value in config["redis"].items():
        kind = _REDIS_KEYS.get(key)
        if kind is None or isinstance(value, bool) or not isinstance(value, kind):
            raise ValueError(f"The Redis setting {key!r} is not one this program accepts (host, port, db, username, "
                             "password, socket_connect_timeout, socket_timeout, each a plain value).")
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
        raise ValueError(f"Could not reach the Redis server at {redis_location(params)} ({exc}); start it or check "
                         "host and port.") from exc
    return {"type": "redis", "redis": dict(config["redis"])}


def redis_params(config: dict) -> dict:
    """Connection parameters for redis-py from a checked Redis config. Without a password in the config, the
    user's own ``PROVENANCE_REDIS_PASSWORD`` is used when set (the only environment variable read here)."""
    params = dict(config)
    if "password" not in params and os.environ.get(REDIS_PASSWORD_ENV):
        params["password"] = os.environ[REDIS_PASSWORD_ENV]
    return params


def redis_location(config: dict) -> str:
    """'host:port' (with '/db' when not 0) of a Redis config, with redis-py's defaults filled in."""
    where = f"{config.get('host', 'localhost')}:{config.get('port', 6379)}"
    return where + (f"/{config['db']}" if config.get("db") else "")


def parse_redis_address(text: str | None) -> dict | None:
    """What the user typed for storage: '' / None -> None (nothing chosen), 'memory' -> in memory, 'HOST:PORT' or
    'HOST:PORT/DB' -> a Redis config. ValueError with a sentence otherwise."""
    text = (text or "").strip()
    if not text:
        return None
    if text.lower() == "memory":
        return dict(MEMORY)
    address, _, db = text.partition("/")
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536 or (db and not db.isdigit()):
        raise ValueError(f"A Redis server is written HOST:PORT (or HOST:PORT/DB), e.g. localhost:6379, or 'memory' "
                         f"for no Redis; got '{text}'.")
    redis = {"host": host.strip("[]"), "port": int(port)}
    if db and int(db):
        redis["db"] = int(db)
    return {"type": "redis", "redis": redis}


def manifest_location(storage: object) -> str | None:
    """The Redis server a manifest's ``storage`` record names ('host:port'), or None for memory; ValueError when
    the record is neither."""
    if storage is None or storage == MEMORY:
        return None
    if isinstance(storage, dict) and storage.get("type") == "redis" and isinstance(storage.get("redis"), dict):
        return redis_location(storage["redis"])
    raise ValueError("its storage record is neither memory nor a Redis server")


def check_manifest_storage(recorded: object, chosen: dict | None, where: str) -> dict | None:
    """The storage to open an index with: only ever what the user ``chosen`` (None when they chose nothing).

    When the manifest (``recorded``) names a Redis server and the user chose nothing, the index is refused with a
    sentence: an index folder never decides where this program connects. ``where`` names the index folder.
    """
    location = manifest_location(recorded)
    if chosen is not None or location is None:
        return chosen
    raise ValueError(f"The index in {where} says its LSH tables were kept in a Redis server at {location}. An index "
                     "folder never chooses where this program connects: to use that server, name it yourself "
                     f"(--redis {location}, or the page's Redis field); to rebuild the tables in memory instead, "
                     "pass --redis memory (or type 'memory' there).")


def public_storage(config: dict | None) -> dict:
    """What the manifest records about storage: type, and host / port / db for Redis (never a password)."""
    if not config:
        return dict(MEMORY)
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
