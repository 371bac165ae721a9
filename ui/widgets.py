"""Small Streamlit pieces every page uses: the one progress display for long work (phases, each counting in its own
unit, with tallies of finished items, time left and a Stop button), verdict cards, download buttons."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from provenance.verdicts.verdict import Label, Verdict


@dataclass(frozen=True)
class Phase:
    """One step of a long run: what it does (``label``) and what its ``progress(done, total)`` calls count
    (``unit``: 'tokens', 'fresh draws', 'documents'...). A phase whose unit is None is only announced (a short
    computation after the counted work, such as the comparison after scoring): it shows its label, no count."""

    label: str
    unit: str | None = "tokens"


class Progress:
    """The progress display of every page: one bar for work that runs phase after phase, each phase counting in
    its own unit, as it happens, with the time left.

    ``phases``: a label, or a list of labels, ``(label, unit)`` pairs or ``Phase`` values (``unit`` is the unit of
    plain labels). Call the object as ``progress(done, total)`` from the backend; a phase ends when it reports
    done == total, and the next call belongs to the next phase (``advance`` moves on explicitly). ``tallies``
    (name -> how many) count finished items beside the main unit, e.g. {"documents": 4}; ``tally(name)`` (or the
    callback ``tallier(name)``, for ``on_row``) adds one. ``stop``: draw a Stop button above the bar with this help
    sentence (a click reruns the page, which interrupts the run between two updates; the backend keeps what is
    done). ``estimate``: seconds the whole run is expected to take, shown as time left until the run's own pace is
    known. Drawing the bar also lets a click on Stop interrupt the run.
    """

    def __init__(self, phases: str | Sequence[str | tuple[str, str | None] | Phase], *, unit: str = "tokens",
                 tallies: Mapping[str, int] | None = None, stop: str | None = None, estimate: float | None = None,
                 key: str | None = None):
        phases = [phases] if isinstance(phases, str) else list(phases)
        if not phases:
            raise ValueError("A progress display needs at least one phase.")
        self.phases = [p if isinstance(p, Phase) else Phase(p, unit) if isinstance(p, str) else Phase(*p)
                       for p in phases]
        self.tallies = {name: [0, int(total)] for name, total in (tallies or {}).items()}
        if stop is not None:
            st.button("Stop", icon=":material/stop_circle:", help=stop, key=None if key is None else f"{key}_stop")
        self.index, self.phase_done = 0, False
        self.done, self.total = 0, 0
        self.started = self.phase_started = time.monotonic()
        self.estimate = estimate
        self.label = self.phases[0].label
        self.text = ""
        self.bar = st.progress(0.0, text=self._compose(None))

    # ------------------------------------------------------------------------------------------ what the bar says

    @property
    def phase(self) -> Phase:
        return self.phases[self.index]

    def _step(self) -> str:
        prefix = f"Step {self.index + 1} of {len(self.phases)}: " if len(self.phases) > 1 else ""
        return prefix + self.label

    def _tally_text(self) -> str:
        return ", ".join(f"{done:,} of {total:,} {name}" for name, (done, total) in self.tallies.items()) + " done" \
            if self.tallies else ""

    def _compose(self, fraction: float | None) -> str:
        parts = [self._step()]
        if self.phase.unit is None:
            parts[0] += "..."
        elif fraction is None:
            parts[0] += ": starting..."
        else:
            parts[0] += f": {self.done:,} of {self.total:,} {self.phase.unit}"
        tallies = self._tally_text()
        if tallies:
            parts.append(tallies)
        left = self.seconds_left(fraction)
        if left is not None:
            parts.append(f"about {format_seconds(left)} left")
        self.text = " · ".join(parts)
        return self.text

    def seconds_left(self, fraction: float | None) -> float | None:
        """Time left in the current phase from its own pace (once 2% is done and a second has passed), else what
        is left of ``estimate``; None when neither is known or the phase is done."""
        elapsed = time.monotonic() - self.phase_started
        if fraction is not None and 0.02 < fraction < 1 and elapsed > 1:
            return elapsed / fraction - elapsed
        if self.estimate is not None and (fraction is None or fraction < 1):
            return max(1.0, self.estimate - (time.monotonic() - self.started))
        return None

    def _draw(self) -> None:
        if self.phase.unit is None:
            self.bar.progress(1.0, text=self._compose(None))
            return
        fraction = None if self.total <= 0 and self.done <= 0 else (self.done / self.total if self.total else 1.0)
        self.bar.progress(min(1.0, fraction or 0.0), text=self._compose(fraction))

    # ------------------------------------------------------------------------------------------ updates

    def __call__(self, done: int, total: int) -> None:
        if self.phase_done and self.index + 1 < len(self.phases):
            self.advance()
        self.done, self.total = int(done), int(total)
        self.phase_done = total > 0 and done >= total
        if self.phase_done and self.index + 1 < len(self.phases) and self.phases[self.index + 1].unit is None:
            self.advance()  # an announced step starts the moment the counted work before it ends
            return
        self._draw()

    def advance(self, label: str | None = None) -> None:
        """Move on to the next phase (optionally with another label than planned)."""
        if self.index + 1 < len(self.phases):
            self.index += 1
        self.label = label or self.phase.label
        self.done, self.total, self.phase_done = 0, 0, False
        self.phase_started = time.monotonic()
        self.estimate = None
        self._draw()

    def relabel(self, label: str) -> None:
        """Say what the current phase is doing now (e.g. which set is being scored), keeping its count."""
        if label != self.label:
            self.label = label
            self._draw()

    def tally(self, name: str, n: int = 1) -> None:
        """Count ``n`` more finished items of the tally ``name``."""
        entry = self.tallies.setdefault(name, [0, 0])
        entry[0] += n
        self._draw()

    def tallier(self, name: str) -> Callable[..., None]:
        """A callback (any arguments, e.g. a finished row) that counts one item of the tally ``name``."""
        return lambda *_: self.tally(name)

    def tallied(self, name: str) -> int:
        return self.tallies.get(name, [0, 0])[0]

    @property
    def rate(self) -> float | None:
        """Units per second in the current phase so far (None before a second has passed)."""
        elapsed = time.monotonic() - self.phase_started
        return self.done / elapsed if elapsed > 1 and self.done > 0 else None

    def finish(self, message: str) -> None:
        """Fill the bar and replace its words with ``message``."""
        self.text = message
        self.bar.progress(1.0, text=message)


# app_pages/overlap.py still calls the one progress display by its former name for phase lists.
PhaseProgress = Progress


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()!|~$<>])")  # what makes links, images, emphasis, HTML, LaTeX


def plain(text: object) -> str:
    """User text (a file, member or investigation name, a sentence quoting one) made safe for widgets that render
    Markdown (st.warning, st.info, st.subheader ...) after a prefix: every character that makes a link, an image,
    emphasis, HTML or LaTeX is backslash-escaped, so '![x](http://host/a.png)' shows as written and never makes the
    browser fetch anything."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def format_seconds(seconds: float) -> str:
    """A duration for people: '45 s', '12 min', '1.5 h'."""
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
