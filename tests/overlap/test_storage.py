"""overlap.storage: LSH tables in a real redis-server persist, are reused and dropped; an unreachable Redis is a
clear error."""

from __future__ import annotations

import json
import random
import shutil
import socket
import subprocess
import time

import pandas as pd
import pytest
from corpus_texts import perturb

from provenance import overlap
from provenance.documents import Document
from provenance.overlap import IndexParams, OverlapIndex, build_index, load_index, query_index

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_server(tmp_path):
    """A throw-away redis-server on a free loopback port (Debian package: redis-server)."""
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server is not installed (Debian package 'redis-server'), so the Redis storage option "
                    "cannot be tested here.")
    import redis

    port = _free_port()
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(host="127.0.0.1", port=port)
    try:
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        else:
            pytest.fail("redis-server did not start within 5 seconds.")
        yield {"type": "redis", "redis": {"host": "127.0.0.1", "port": port}}, client
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_redis_storage_builds_persists_reuses_and_drops(tmp_path, docs, redis_server):
    config, client = redis_server
    # few ensemble partitions: datasketch flushes every Redis table separately, which dominates a small index
    params = IndexParams(ensemble_partitions=4)
    idx, errors = build_index(docs[:80], tmp_path / "idx", params=params, storage_config=config)
    assert not errors
    prefix = idx.redis_prefix.encode()
    keys_after_build = {k for k in client.scan_iter(match=prefix + b"*")}
    assert keys_after_build and client.dbsize() == len(keys_after_build)  # the LSH tables live in Redis
    near = [Document("near", perturb(docs[30].text, random.Random(1), 2)),
            Document("part", " ".join(docs[40].text.split()[10:70]))]
    expected = query_index(idx, near).matches
    assert list(expected["match"]) == ["doc30", "doc40"]

    manifest = json.loads((tmp_path / "idx" / overlap.MANIFEST_NAME).read_text())
    assert manifest["storage"] == {"type": "redis", "redis": {"host": "127.0.0.1", "port": config["redis"]["port"]}}
    band_list = prefix + b":lsh_keys" + b"0"  # datasketch's list of band hashes of document 0
    assert client.llen(band_list) == idx._lsh.b
    reopened = load_index(tmp_path / "idx", storage_config=config)  # the user names the same server; tables reused
    assert {k for k in client.scan_iter(match=prefix + b"*")} == keys_after_build
    assert client.llen(band_list) == idx._lsh.b
    pd.testing.assert_frame_equal(query_index(reopened, near).matches, expected)

    reopened.add_documents(docs[80:100])
    reopened.save()
    late = [Document("late", perturb(docs[90].text, random.Random(2), 2))]
    assert list(query_index(load_index(tmp_path / "idx", storage_config=config), late).matches["match"]) == ["doc90"]

    assert reopened.drop_storage() > 0
    assert client.dbsize() == 0


def test_unreachable_redis_is_a_clear_error():
    with pytest.raises(ValueError, match="Could not reach the Redis server at 127.0.0.1"):
        OverlapIndex(storage_config={"type": "redis", "redis": {"host": "127.0.0.1", "port": _free_port(),
                                                                  "socket_connect_timeout": 1}})
