"""Fixtures of the scaled engine's tests: a small corpus with bad rows in every way a corpus goes wrong, and a local
two-actor Ray cluster (started once for the tests that need it, shut down after them; never a cluster elsewhere)."""

import json
import os
from pathlib import Path

import pytest
from textgen import random_sentences

ROOT = Path(__file__).resolve().parents[2]
GOOD_JSONL, GOOD_CSV = 14, 6  # documents that can be scored in the corpus below
# the jsonl's bad lines (one of each): not JSON, an empty text, a text too short to score (one token)
BAD_ROWS = 3


def write_corpus(folder: Path) -> Path:
    """corpus/a.jsonl (14 good documents, a broken line, an empty text, a one-word text), corpus/sub/b.csv
    (6 good documents) and corpus/notes.bin (a type that is not read); returns the corpus folder."""
    corpus = folder / "corpus"
    (corpus / "sub").mkdir(parents=True)
    lines = [json.dumps({"id": f"a{i}", "text": t}) for i, t in enumerate(random_sentences(GOOD_JSONL, 30, seed=3))]
    lines += ["{not json", json.dumps({"id": "empty", "text": "  "}), json.dumps({"id": "short", "text": "a"})]
    (corpus / "a.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = "".join(f'b{i},"{t}"\n' for i, t in enumerate(random_sentences(GOOD_CSV, 25, seed=4)))
    (corpus / "sub" / "b.csv").write_text("id,text\n" + rows, encoding="utf-8")
    (corpus / "notes.bin").write_bytes(b"\x00\x01")
    return corpus


@pytest.fixture
def corpus(tmp_path) -> Path:
    return write_corpus(tmp_path)


@pytest.fixture(scope="module")
def ray_cluster():
    """A local Ray cluster for the engine (3 logical CPUs: two 1-CPU actors and the read stage; 256 MB object
    store; no dashboard, no usage statistics), shared by a module's tests and shut down after them. The engine
    finds it running and uses it (``ray_engine.cluster`` starts and stops one only when none is running)."""
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    import ray

    ray.init(num_cpus=3, object_store_memory=256 * 2**20, include_dashboard=False, logging_level="WARNING",
             runtime_env={"env_vars": {"PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
                                       "RAY_USAGE_STATS_ENABLED": "0"}})
    yield ray
    ray.shutdown()
