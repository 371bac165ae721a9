"""Fixtures of the scaled engine's tests: a small corpus with bad rows in every way a corpus goes wrong, and a local
two-actor Ray cluster (started once for the tests that need it, shut down after them; never a cluster elsewhere)."""

import os
from pathlib import Path

import pytest
from scale_corpus import write_corpus

ROOT = Path(__file__).resolve().parents[2]


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
