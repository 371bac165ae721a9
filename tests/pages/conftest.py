from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def dashboard_path() -> str:
    return str(ROOT / "dashboard.py")
