"""Helpers for AppTest-driven page tests.

This Streamlit version's AppTest re-runs only the page file after the first run of an ``st.navigation`` app (the
shell's sidebar code does not run again), so pages are tested by running their own file with the session state the
sidebar picker sets, and the shell is tested on its own (tests/pages/test_shell.py).
"""

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


def open_page(name: str, model: str | None = None, reference_model: str | None = None,
              timeout: float = 300) -> AppTest:
    """AppTest for ``app_pages/<name>.py`` with the sidebar's model choice set (None = the default model); not run yet."""
    at = AppTest.from_file(str(ROOT / "app_pages" / f"{name}.py"), default_timeout=timeout)
    at.session_state["model_args"] = (model or "default", None, None)
    at.session_state["ref_model_args"] = (reference_model, None, None) if reference_model else None
    return at


def button(at: AppTest, prefix: str):
    """The first button whose label starts with ``prefix``."""
    return next(b for b in at.button if b.label.startswith(prefix))


def page_text(at: AppTest) -> str:
    """Everything the page wrote as Markdown or as plain text (names and verdict words are plain text)."""
    return " ".join([m.value for m in at.markdown] + [t.value for t in at.text])
