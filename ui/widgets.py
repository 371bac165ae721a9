"""Small Streamlit pieces every page uses: progress with time left (one bar, or phase after phase), verdict
cards, download buttons."""

from __future__ import annotations

import io
import time
from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from provenance.verdicts.verdict import Label, Verdict


class Progress:
    """A progress bar with 'documents and tokens done, time left'. Call it as ``progress(tokens_done, total)``;
    call ``document_done()`` as each document finishes. Drawing it also lets a click on Stop interrupt the run."""

    def __init__(self, n_documents: int, label: str = "Scoring"):
        self.n_documents, self.label = n_documents, label
        self.documents = 0
        self.start = time.time()
        self.bar = st.progress(0.0, text=f"{label}: starting...")

    def document_done(self, *_) -> None:
        self.documents += 1

    def __call__(self, done: int, total: int) -> None:
        fraction = done / total if total else 1.0
        elapsed = time.time() - self.start
        left = elapsed / fraction - elapsed if fraction > 0.02 else None
        when = f", about {format_seconds(left)} left" if left is not None and fraction < 1 else ""
        self.bar.progress(min(1.0, fraction), text=f"{self.label}: {self.documents} of {self.n_documents} documents, "
                                                   f"{done:,} of {total:,} tokens{when}")

    def finish(self, message: str) -> None:
        self.bar.progress(1.0, text=message)


class PhaseProgress:
    """A progress bar for backend ``progress(done, total)`` callbacks that run phase after phase (each phase ends
    with done == total): shows which phase is running, how far it is and the time left. A phase is a label, or a
    (label, unit) pair when it counts something other than ``unit``."""

    def __init__(self, phases: Sequence[str | tuple[str, str]], unit: str = "documents"):
        self.phases = [p if isinstance(p, str) else p[0] for p in phases]
        self.units = [unit if isinstance(p, str) else p[1] for p in phases]
        self.phase, self.phase_done = 0, False
        self.start = time.time()
        self.bar = st.progress(0.0, text=f"{self._step()}: starting...")

    def _step(self) -> str:
        prefix = f"Step {self.phase + 1} of {len(self.phases)}: " if len(self.phases) > 1 else ""
        return prefix + self.phases[self.phase]

    def __call__(self, done: int, total: int) -> None:
        if self.phase_done and self.phase + 1 < len(self.phases):
            self.phase, self.start = self.phase + 1, time.time()
        self.phase_done = total > 0 and done >= total
        fraction = done / total if total else 1.0
        elapsed = time.time() - self.start
        left = elapsed / fraction - elapsed if 0.02 < fraction < 1 else None
        when = f", about {format_seconds(left)} left" if left is not None else ""
        self.bar.progress(min(1.0, fraction), text=f"{self._step()}: {done:,} of {total:,} {self.units[self.phase]}{when}")

    def finish(self, message: str) -> None:
        self.bar.progress(1.0, text=message)


def format_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    if seconds < 3600:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


CARD_STYLE = {
    Label.EVIDENCE: ("Evidence of training", "red"),
    Label.NO_EVIDENCE: ("No evidence of training", "green"),
    Label.INCONCLUSIVE: ("Inconclusive", "gray"),
}


def verdict_card(title: str, verdict: Verdict, explanation: str = "") -> None:
    """A bordered card: a coloured plain-language headline from the verdict's label, its words (p-value and
    false-positive rate, or why it is inconclusive), what it was compared with, and an optional explanation. Titles
    and texts are shown as plain text, never as Markdown."""
    headline, color = CARD_STYLE[verdict.label]
    with st.container(border=True):
        st.text(title)
        st.markdown(f"### :{color}[{headline}]")
        words = verdict.words()
        st.text(words[:1].upper() + words[1:] + ".")
        if verdict.method:
            st.caption(f"Method: {verdict.method}", unsafe_allow_html=False)
        if explanation:
            st.caption(explanation)


def download_table(table: pd.DataFrame, name: str, key: str) -> None:
    """CSV and JSON download buttons for a table."""
    cols = st.columns(2)
    # callables: the file is built only when the button is clicked, not on every rerun
    cols[0].download_button("Download CSV", lambda: table.to_csv(index=False).encode(), f"{name}.csv", "text/csv",
                            key=f"{key}_csv", icon=":material/download:", on_click="ignore")
    cols[1].download_button("Download JSON", lambda: table.to_json(orient="records", indent=1).encode(),
                            f"{name}.json", "application/json", key=f"{key}_json", icon=":material/download:",
                            on_click="ignore")


def show_figure(fig: go.Figure, name: str, key: str) -> None:
    """A Plotly chart (with its own PNG download in the toolbar) plus a standalone HTML download."""
    st.plotly_chart(fig, width="stretch", key=key,
                    config={"toImageButtonOptions": {"filename": name}, "displaylogo": False})
    def standalone_html() -> bytes:  # plotly.js inlined so the file opens offline
        buffer = io.StringIO()
        fig.write_html(buffer, include_plotlyjs=True, full_html=True)
        return buffer.getvalue().encode()

    st.download_button("Download figure (HTML)", standalone_html, f"{name}.html", "text/html", key=f"{key}_html",
                       icon=":material/download:", on_click="ignore")
