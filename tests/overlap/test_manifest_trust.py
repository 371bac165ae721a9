"""An index folder never chooses where this program connects or which environment variables it reads: a manifest
naming a Redis server (here: a listening socket on 127.0.0.1) is refused with a sentence by load_index, the
workflow (the page's "Open a saved index") and ``overlap query`` unless the user names a server or memory; the
whole manifest is covered by its checksum."""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Iterator, MutableMapping
from pathlib import Path

import pytest

from provenance import overlap
from provenance.overlap import IndexParams, OverlapIndex, OverlapIndexError, load_index, workflow
from provenance.overlap.index_folder import manifest_checksum
from provenance.overlap.storage import parse_redis_address

SECRET_NAMES = ("HOSTILE_PASSWORD_NAME", "HOSTILE_USER_NAME")


class _Listener:
    """A TCP server on a free loopback port that counts the connections it accepts (and closes them)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


class _RecordingEnviron(MutableMapping):
    """os.environ, recording every name looked up by name (listing the whole environment, as proxy detection
    does, is not a look-up of a name someone chose)."""

    def __init__(self, real) -> None:
        self.real, self.read = real, []

    def __getitem__(self, key):
        self.read.append(key)
        return self.real[key]

    def __setitem__(self, key, value):
        self.real[key] = value

    def __delitem__(self, key):
        del self.real[key]

    def __iter__(self) -> Iterator:
        return iter(self.real)

    def __len__(self) -> int:
        return len(self.real)

    def __contains__(self, key) -> bool:
        self.read.append(key)
        return key in self.real

    def items(self):
        return self.real.items()

    def keys(self):
        return self.real.keys()

    def values(self):
        return self.real.values()

    def copy(self) -> dict:
        return dict(self.real)


@pytest.fixture
def listener():
    server = _Listener()
    yield server
    server.close()


@pytest.fixture
def environ(monkeypatch):
    for name in SECRET_NAMES:
        monkeypatch.setenv(name, "the user's secret")
    recording = _RecordingEnviron(os.environ)
    monkeypatch.setattr(os, "environ", recording)
    return recording


def _saved(tmp_path: Path, docs) -> Path:
    idx = OverlapIndex(IndexParams(num_perm=32))
    idx.add_documents(docs[:10])
    return idx.save(tmp_path / "idx")


def _hostile(path: Path, port: int) -> None:
    """Rewrite the manifest as the author of a shared index could: a Redis host at ``port`` with credentials read
    from environment variables of their choosing, and a checksum that matches."""
    manifest = json.loads((path / overlap.MANIFEST_NAME).read_text())
    manifest["storage"] = {"type": "redis", "redis": {"host": "127.0.0.1", "port": port,
                                                      "password": {"env": SECRET_NAMES[0]},
                                                      "username": {"env": SECRET_NAMES[1], "default": "x"}}}
    manifest["checksum"] = {"sha256": manifest_checksum(manifest)}
    (path / overlap.MANIFEST_NAME).write_text(json.dumps(manifest))


def test_a_manifest_naming_a_redis_server_connects_nowhere_and_reads_no_environment(tmp_path, docs, listener,
                                                                                 environ):
    path = _saved(tmp_path, docs)
    _hostile(path, listener.port)
    with pytest.raises(OverlapIndexError, match="never chooses where this program connects") as caught:
        load_index(path)
    assert f"--redis 127.0.0.1:{listener.port}" in str(caught.value)
    opened = workflow.open_index(path)
    assert opened.index is None and "never chooses where this program connects" in opened.failure
    grown = workflow.build_from_sources([("more.txt", b"a few more words for the corpus index")], directory=path,
                                        append=True)
    assert grown.index is None and "never chooses where this program connects" in grown.failure

    in_memory = load_index(path, storage_config=parse_redis_address("memory"))
    assert len(in_memory) == 10 and in_memory.describe()["storage"] == "dict"
    assert workflow.open_index(path, redis="memory").index is not None
    assert listener.connections == 0
    assert not set(SECRET_NAMES) & set(environ.read)


def test_overlap_query_refuses_a_hostile_index(tmp_path, docs, listener, environ, capsys):
    from provenance.cli import main

    path = _saved(tmp_path, docs)
    _hostile(path, listener.port)
    (tmp_path / "mine.txt").write_text(docs[3].text)
    out = tmp_path / "matches.csv"
    assert main(["overlap", "query", str(tmp_path / "mine.txt"), "--index", str(path), "--out", str(out)]) == 2
    assert "never chooses where this program connects" in capsys.readouterr().err
    assert not out.exists()
    assert main(["overlap", "query", str(tmp_path / "mine.txt"), "--index", str(path), "--out", str(out),
                 "--redis", "memory"]) == 0
    assert listener.connections == 0
    assert not set(SECRET_NAMES) & set(environ.read)


def test_the_whole_manifest_is_covered_by_its_checksum(tmp_path, docs):
    path = _saved(tmp_path, docs)
    manifest_path = path / overlap.MANIFEST_NAME
    original = json.loads(manifest_path.read_text())
    assert original["checksum"]["sha256"] == manifest_checksum(original)
    manifest_path.write_text(json.dumps(original, indent=4, sort_keys=True))  # re-formatting changes nothing
    assert len(load_index(path)) == 10

    changes = {"storage": lambda m: m.update(storage={"type": "redis", "redis": {"host": "example.org",
                                                                                 "port": 6379}}),
               "params": lambda m: m["params"].update(jaccard_threshold=0.1),
               "created": lambda m: m.update(created="1999-01-01T00:00:00"),
               "checksum removed": lambda m: m.pop("checksum")}
    for what, change in changes.items():
        manifest = json.loads(json.dumps(original))
        change(manifest)
        manifest_path.write_text(json.dumps(manifest))
        with pytest.raises(OverlapIndexError, match="changed after it was written"):
            load_index(path)
        assert workflow.open_index(path).index is None, what

    older = {k: v for k, v in original.items() if k != "checksum"} | {"version": 1}
    manifest_path.write_text(json.dumps(older))
    with pytest.raises(OverlapIndexError, match="older version of provenance"):
        load_index(path)


def test_redis_addresses_are_typed_by_the_user():
    assert parse_redis_address("") is None and parse_redis_address(None) is None
    assert parse_redis_address(" memory ") == {"type": "dict"}
    assert parse_redis_address("localhost:6380/2") == {"type": "redis", "redis": {"host": "localhost", "port": 6380,
                                                                                  "db": 2}}
    for bad in ("localhost", ":6379", "host:port", "host:99999"):
        with pytest.raises(ValueError, match="HOST:PORT"):
            parse_redis_address(bad)
    with pytest.raises(ValueError, match="not one this program accepts"):
        OverlapIndex(storage_config={"type": "redis", "redis": {"host": "127.0.0.1", "password": {"env": "X"}}})


def test_a_deeply_nested_manifest_is_a_sentence(tmp_path, docs, capsys):
    from provenance.cli import main

    path = _saved(tmp_path, docs)
    manifest = json.loads((path / overlap.MANIFEST_NAME).read_text())
    text = json.dumps(manifest)
    nested = text[:-1] + ', "extra": ' + "[" * 100_000 + "]" * 100_000 + "}"
    (path / overlap.MANIFEST_NAME).write_text(nested)
    with pytest.raises(OverlapIndexError, match="nested too deeply"):
        load_index(path)
    (tmp_path / "mine.txt").write_text(docs[0].text)
    capsys.readouterr()
    assert main(["overlap", "query", str(tmp_path / "mine.txt"), "--index", str(path), "--out",
                 str(tmp_path / "m.csv")]) == 2
    err = capsys.readouterr().err
    assert "nested too deeply" in err and "Traceback" not in err
