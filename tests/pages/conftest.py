"""Dashboard tests. Streamlit's cache_resource lives for the whole test process, so the store location is fixed
here, once, before any page runs; a tiny model folder stands in where the real model is not the point."""

import os
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # pages import ui.* as they do under `streamlit run`
STORE_DIR = Path(tempfile.mkdtemp(prefix="provenance-page-tests-"))
os.environ["PROVENANCE_STORE"] = str(STORE_DIR / "investigations.sqlite")


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_model, tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("tiny-model-for-pages")
    tiny_model.model.save_pretrained(folder, safe_serialization=True)
    tiny_model.tokenizer.save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="session")
def tiny_model_b_dir(tiny_model_b, tmp_path_factory) -> str:
    """A second tiny model (same tokenizer, other weights) in its own folder, for several models side by side."""
    folder = tmp_path_factory.mktemp("tiny-model-b-for-pages")
    tiny_model_b.model.save_pretrained(folder, safe_serialization=True)
    tiny_model_b.tokenizer.save_pretrained(folder)
    return str(folder)
