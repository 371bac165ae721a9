"""Dashboard tests. Streamlit's cache_resource lives for the whole test process, so the store location is fixed
here, once, before any page runs; a tiny model folder (tests/conftest.py: tiny_model_dir) stands in where the real
model is not the point."""

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
def tiny_model_b_dir(tiny_model_b, tmp_path_factory) -> str:
    """A second tiny model (same tokenizer, other weights) in its own folder, for several models side by side."""
    folder = tmp_path_factory.mktemp("tiny-model-b-for-pages")
    tiny_model_b.model.save_pretrained(folder, safe_serialization=True)
    tiny_model_b.tokenizer.save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="session")
def tiny_reference_dir(tiny_model, tmp_path_factory) -> str:
    """A second tiny model (the tiny model's weights plus a little noise, the same tokenizer) saved to a folder:
    a reference model whose identity differs from the tested one's."""
    import copy

    import torch

    folder = tmp_path_factory.mktemp("tiny-reference-for-pages")
    net = copy.deepcopy(tiny_model.model)
    generator = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.02 * torch.randn(p.shape, generator=generator, dtype=p.dtype))
    net.save_pretrained(folder, safe_serialization=True)
    tiny_model.tokenizer.save_pretrained(folder)
    return str(folder)
