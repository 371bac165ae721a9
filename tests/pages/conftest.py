"""Dashboard tests. Streamlit's cache_resource lives for the whole test process, so the store location is fixed
here, once, before any page runs; a tiny model folder (tests/conftest.py: tiny_model_dir) stands in where the real
model is not the point."""

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # pages import ui.* as they do under `streamlit run`
STORE_DIR = Path(tempfile.mkdtemp(prefix="provenance-page-tests-"))
os.environ["PROVENANCE_STORE"] = str(STORE_DIR / "investigations.sqlite")
