"""Static figures for reports: SVG text, drawn from the same data frames as the dashboard's Plotly figures.

A report is read on screen, printed and handed on; its figures must be sharp on paper, small (a few kilobytes, not
the 4.6 MB plotting library) and need nothing to open. Each builder here returns one ``<svg>`` element (a string)
that scales to the width of the page, with a ``<title>`` for screen readers and every user-supplied text (document
names, identifiers) escaped. Curves also differ by dash pattern, so they stay apart when printed in grey.

Builders: ``bar_figure`` (one bar per document), ``histogram_figure`` (distributions with markers),
``strip_figure`` (small multiples: every document as a point, per score), ``roc_svg`` (ROC curves, linear or
log-log, with the region a sample cannot measure shaded) and ``null_histogram_svg`` (a ghost test's null with the
identifiers marked). Like ``charts``, they are pure functions: the same input gives the same text.
"""

from __future__ import annotations

import hashlib
import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .charts import BLIND_COLOR, COLORS, FONT_FAMILY, GHOST_STATISTIC_AXES, score_label
from .verdicts.baseline import BLIND_SCORE_NAME

WIDTH = 720  # viewBox width in px; the figure scales to the page
FONT = 12
CHAR = 6.6  # average width of a character at FONT px, for laying out labels and legends
PALETTE = ["#c0392b", "#2f6db5", "#1e8449", "#8e44ad", "#e07b39", "#17a2b8", "#b7950b", "#555555"]
DASHES = ["", "6 3", "2 3", "8 3 2 3", "4 4", "1 2", "10 4", "3 6"]


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _tick_label(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1e5 or abs(value) < 1e-3:
        return f"{value:.0e}".replace("e-0", "e-").replace("e+0", "e")
    return f"{value:.4g}"


def tick_labels(ticks: Sequence[float], log: bool = False) -> dict[float, str]:
    """Labels for evenly spaced ticks with as many decimals as their step needs, so neighbouring ticks never read
    the same (1.0005 and 1.0000, not 1 and 1); log-axis ticks (powers of ten) as they are."""
    if log or len(ticks) < 2:
        return {t: _tick_label(t) for t in ticks}
    step = abs(ticks[1] - ticks[0])
    biggest = max(abs(t) for t in ticks)
    if step == 0 or biggest >= 1e5 or biggest < 1e-3:
        return {t: _tick_label(t) for t in ticks}
    decimals = max(0, math.ceil(-math.log10(step) - 1e-9))
    if round(step, decimals) != round(step, decimals + 1):  # steps such as 0.25 or 0.0025 need one more
        decimals += 1
    return {t: f"{t:.{decimals}f}" for t in ticks}


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (about ``count`` of them)."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else []
    raw = (hi - lo) / max(1, count)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    return [round(first + i * step, 12) for i in range(int((hi - first) / step + 1e-9) + 1)]


@dataclass
class Axis:
    """One axis: its data range, linear or log10, and its title."""

    lo: float
    hi: float
    log: bool = False
    title: str = ""

    def __post_init__(self) -> None:
        if self.log:
            self.lo, self.hi = max(self.lo, 1e-12), max(self.hi, 1e-12)
        if not self.hi > self.lo:
            pad = abs(self.lo) * 0.1 or 1.0
            self.lo, self.hi = (self.lo / 10, self.lo * 10) if self.log else (self.lo - pad, self.hi + pad)

    def fraction(self, value: float) -> float:
        if self.log:
            return (math.log10(max(value, 1e-12)) - math.log10(self.lo)) / (math.log10(self.hi) - math.log10(self.lo))
        return (value - self.lo) / (self.hi - self.lo)

    def ticks(self) -> list[float]:
        if self.log:
            return [10.0 ** p for p in range(math.ceil(math.log10(self.lo) - 1e-9),
                                             math.floor(math.log10(self.hi) + 1e-9) + 1)]
        return nice_ticks(self.lo, self.hi)


def padded(values: Sequence[float], *, include_zero: bool = False, pad: float = 0.05) -> tuple[float, float]:
    """A data range around the finite ``values`` with a margin (optionally reaching zero)."""
    v = np.asarray([x for x in values if x is not None and math.isfinite(x)], dtype=float)
    if v.size == 0:
        return 0.0, 1.0
    lo, hi = float(v.min()), float(v.max())
    if include_zero:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    span = (hi - lo) or (abs(hi) or 1.0)
    return (lo if include_zero and lo == 0 else lo - pad * span), (hi if include_zero and hi == 0 else hi + pad * span)


@dataclass
class Panel:
    """A plotting area at (left, top) of size (width, height) px with its axes; elements are added in data units."""

    x: Axis
    y: Axis
    left: float
    top: float
    width: float
    height: float
    title: str = ""
    x_labels: dict[float, str] | None = None  # category labels instead of numeric x ticks
    y_labels: dict[float, str] | None = None
    elements: list[str] = field(default_factory=list)

    def px(self, value: float) -> float:
        return self.left + self.width * min(1.05, max(-0.05, self.x.fraction(value)))

    def py(self, value: float) -> float:
        return self.top + self.height * (1 - min(1.05, max(-0.05, self.y.fraction(value))))

    def line(self, xs: Sequence[float], ys: Sequence[float], color: str, *, width: float = 2, dash: str = "",
             step: bool = False) -> None:
        points = [(self.px(x), self.py(y)) for x, y in zip(xs, ys) if math.isfinite(x) and math.isfinite(y)]
        if step:
            stepped = []
            for i, (px, py) in enumerate(points):
                if i:
                    stepped.append((px, stepped[-1][1]))
                stepped.append((px, py))
            points = stepped
        if len(points) < 2:
            return
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        style = f' stroke-dasharray="{dash}"' if dash else ""
        self.elements.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="{width}"'
                             f'{style} stroke-linejoin="round"/>')

    def points(self, xs: Sequence[float], ys: Sequence[float], color: str, *, radius: float = 3.5,
               titles: Sequence[str] | None = None, opacity: float = 0.8, symbol: str = "circle") -> None:
        for i, (x, y) in enumerate(zip(xs, ys)):
            if not (math.isfinite(x) and math.isfinite(y)):
                continue
            cx, cy = self.px(x), self.py(y)
            tip = f"<title>{_e(titles[i])}</title>" if titles is not None else ""
            if symbol == "triangle":
                r = radius * 1.4
                shape = (f'<polygon points="{cx:.1f},{cy - r:.1f} {cx - r:.1f},{cy + r * 0.8:.1f} '
                         f'{cx + r:.1f},{cy + r * 0.8:.1f}" fill="{color}" fill-opacity="{opacity}">{tip}</polygon>')
            else:
                shape = (f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{radius}" fill="{color}" '
                         f'fill-opacity="{opacity}">{tip}</circle>')
            self.elements.append(shape)

    def rect(self, x0: float, x1: float, y0: float, y1: float, fill: str, *, opacity: float = 1.0,
             title: str | None = None) -> None:
        left, right = sorted((self.px(x0), self.px(x1)))
        top, bottom = sorted((self.py(y0), self.py(y1)))
        tip = f"<title>{_e(title)}</title>" if title else ""
        self.elements.append(f'<rect x="{left:.1f}" y="{top:.1f}" width="{max(0.5, right - left):.1f}" '
                             f'height="{max(0.0, bottom - top):.1f}" fill="{fill}" fill-opacity="{opacity}">'
                             f'{tip}</rect>')

    def band(self, x0: float, x1: float, fill: str, *, opacity: float = 0.18, label: str = "") -> None:
        """A vertical band over the whole height (e.g. the region a sample cannot measure), labelled at the top."""
        self.rect(x0, x1, self.y.lo, self.y.hi, fill, opacity=opacity, title=label)
        if label:
            self.elements.append(f'<text x="{self.px(x0) + 4:.1f}" y="{self.top + 14:.1f}" font-size="{FONT - 1}" '
                                 f'fill="#555">{_e(label)}</text>')

    def vline(self, x: float, color: str, *, dash: str = "", width: float = 2, label: str = "") -> None:
        px = self.px(x)
        style = f' stroke-dasharray="{dash}"' if dash else ""
        tip = f"<title>{_e(label)}</title>" if label else ""
        self.elements.append(f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{self.top:.1f}" y2="{self.top + self.height:.1f}" '
                             f'stroke="{color}" stroke-width="{width}"{style}>{tip}</line>')

    def text(self, x: float, y: float, text: str, *, anchor: str = "start", color: str = "#333",
             size: int = FONT - 1) -> None:
        self.elements.append(f'<text x="{self.px(x):.1f}" y="{self.py(y):.1f}" text-anchor="{anchor}" '
                             f'font-size="{size}" fill="{color}">{_e(text)}</text>')

    def render(self) -> str:
        right, bottom = self.left + self.width, self.top + self.height
        out = [f'<rect x="{self.left}" y="{self.top}" width="{self.width}" height="{self.height}" fill="#fff" '
               f'stroke="#bbb"/>']
        x_ticks = self.x_labels or tick_labels(self.x.ticks(), self.x.log)
        y_ticks = self.y_labels or tick_labels(self.y.ticks(), self.y.log)
        for value, label in x_ticks.items():
            px = self.px(value)
            if self.x_labels is None:
                out.append(f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{self.top}" y2="{bottom}" '
                           f'stroke="{COLORS["grid"]}"/>')
            out.append(f'<text x="{px:.1f}" y="{bottom + 15}" text-anchor="middle" font-size="{FONT - 1}">'
                       f'{_e(label)}</text>')
        for value, label in y_ticks.items():
            py = self.py(value)
            if self.y_labels is None:
                out.append(f'<line x1="{self.left}" x2="{right}" y1="{py:.1f}" y2="{py:.1f}" '
                           f'stroke="{COLORS["grid"]}"/>')
            out.append(f'<text x="{self.left - 6}" y="{py + 4:.1f}" text-anchor="end" font-size="{FONT - 1}">'
                       f'{_e(label)}</text>')
        elements = "".join(self.elements)
        digest = hashlib.sha1(f"{self.left},{self.top},{self.width},{self.height},{self.title},{elements}".encode())
        clip = f"clip-{digest.hexdigest()[:12]}"  # unique in a report holding several figures, and deterministic
        out.append(f'<clipPath id="{clip}"><rect x="{self.left}" y="{self.top - 2}" width="{self.width}" '
                   f'height="{self.height + 4}"/></clipPath><g clip-path="url(#{clip})">{elements}</g>')
        if self.x.title:
            out.append(f'<text x="{self.left + self.width / 2:.1f}" y="{bottom + 34}" text-anchor="middle" '
                       f'font-size="{FONT}">{_e(self.x.title)}</text>')
        if self.y.title:
            cy = self.top + self.height / 2
            out.append(f'<text x="{self.left - 48}" y="{cy:.1f}" text-anchor="middle" font-size="{FONT}" '
                       f'transform="rotate(-90 {self.left - 48} {cy:.1f})">{_e(self.y.title)}</text>')
        if self.title:
            out.append(f'<text x="{self.left + self.width / 2:.1f}" y="{self.top - 8}" text-anchor="middle" '
                       f'font-size="{FONT}" font-weight="600">{_e(self.title)}</text>')
        return "".join(out)


@dataclass
class LegendEntry:
    label: str
    color: str
    dash: str = ""
    kind: str = "line"  # line, point, box


def _legend(entries: Sequence[LegendEntry], top: float, width: float) -> tuple[str, float]:
    """Legend entries laid out in rows under the plot; returns (svg, height used)."""
    out, x, y = [], 10.0, top + 14
    for entry in entries:
        label = _short(entry.label, 60)
        w = 34 + CHAR * len(label)
        if x + w > width and x > 10:
            x, y = 10.0, y + 18
        if entry.kind == "line":
            dash = f' stroke-dasharray="{entry.dash}"' if entry.dash else ""
            out.append(f'<line x1="{x}" x2="{x + 24}" y1="{y - 4}" y2="{y - 4}" stroke="{entry.color}" '
                       f'stroke-width="2.5"{dash}/>')
        elif entry.kind == "box":
            out.append(f'<rect x="{x + 4}" y="{y - 10}" width="16" height="10" fill="{entry.color}" '
                       f'fill-opacity="0.6"/>')
        else:
            out.append(f'<circle cx="{x + 12}" cy="{y - 4}" r="4" fill="{entry.color}"/>')
        out.append(f'<text x="{x + 30}" y="{y}" font-size="{FONT - 1}">{_e(label)}</text>')
        x += w + 14
    return "".join(out), (y - top + 8) if entries else 0.0


def figure(panels: Sequence[Panel], height: float, *, title: str, legend: Sequence[LegendEntry] = (),
           width: float = WIDTH) -> str:
    """Panels and a legend as one self-contained ``<svg>`` that scales to the page width."""
    legend_svg, legend_height = _legend(legend, height, width)
    total = height + legend_height
    body = "".join(panel.render() for panel in panels)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {total:.0f}" role="img" '
            f'class="chart" preserveAspectRatio="xMidYMin meet" font-family="{_e(FONT_FAMILY)}">'
            f'<title>{_e(title)}</title><rect width="100%" height="100%" fill="#fff"/>{body}{legend_svg}</svg>')


def message_svg(text: str) -> str:
    """A small figure that only says ``text`` (nothing to plot)."""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} 60" role="img" class="chart">'
            f'<title>{_e(text)}</title><text x="{WIDTH / 2}" y="34" text-anchor="middle" font-size="{FONT + 1}" '
            f'fill="#777">{_e(text)}</text></svg>')


# ---------------------------------------------------------------------------------------------- builders


def bar_figure(names: Sequence[str], values: Sequence[float], *, x_title: str, title: str,
               color: str = COLORS["primary"]) -> str:
    """Horizontal bars, one per name (documents, in the given order), values written at the bar ends."""
    rows = [(str(n), float(v)) for n, v in zip(names, values) if v is not None and math.isfinite(float(v))]
    if not rows:
        return message_svg(f"No {x_title} to show.")
    label_chars = min(44, max(len(n) for n, _ in rows))
    left = 20 + CHAR * label_chars
    row_height = 18
    lo, hi = padded([v for _, v in rows], include_zero=True, pad=0.12)
    panel = Panel(Axis(lo, hi, title=x_title), Axis(0, len(rows)), left=left, top=12, width=WIDTH - left - 20,
                  height=row_height * len(rows),
                  y_labels={len(rows) - i - 0.5: _short(n, 44) for i, (n, _) in enumerate(rows)})
    for i, (name, value) in enumerate(rows):
        y0 = len(rows) - i - 0.85
        panel.rect(0.0 if lo <= 0 <= hi else lo, value, y0, y0 + 0.7, color, opacity=0.85,
                   title=f"{name}: {_tick_label(value)}")
        anchor = "start" if value >= 0 else "end"
        shift = (hi - lo) * 0.01 * (1 if value >= 0 else -1)
        panel.text(value + shift, y0 + 0.2, _tick_label(value), anchor=anchor, size=FONT - 2)
    return figure([panel], panel.top + panel.height + 44, title=title)


def histogram_figure(groups: Sequence[tuple[str, Sequence[float], str]], *, x_title: str, title: str,
                     bins: int = 30, y_title: str = "documents", markers: Sequence[tuple[float, str, str]] = (),
                     marker_legend: Sequence[LegendEntry] = ()) -> str:
    """Overlaid histograms of several groups (label, values, colour) on shared bins, and vertical markers
    (x, label, colour) explained by ``marker_legend``, e.g. the documents' values against the reference texts'."""
    finite = [(label, np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float), color)
              for label, values, color in groups]
    everything = np.concatenate([v for _, v, _ in finite] + [np.asarray([m[0] for m in markers], dtype=float)])
    everything = everything[np.isfinite(everything)]
    if everything.size == 0:
        return message_svg(f"No {x_title} to show.")
    lo, hi = padded(everything.tolist(), pad=0.03)
    edges = np.linspace(lo, hi, bins + 1)
    counts = [np.histogram(v, bins=edges)[0] for _, v, _ in finite]
    top_count = max([int(c.max()) for c in counts if c.size] + [1])
    panel = Panel(Axis(lo, hi, title=x_title), Axis(0, top_count * 1.12, title=y_title), left=70, top=14,
                  width=WIDTH - 90, height=230)
    legend = []
    for (label, values, color), count in zip(finite, counts):
        for left, right, c in zip(edges[:-1], edges[1:], count):
            if c:
                panel.rect(left, right, 0, c, color, opacity=0.55, title=f"{label}: {c}")
        legend.append(LegendEntry(f"{label} ({len(values)})", color, kind="box"))
    for x, label, color in markers:
        if math.isfinite(x):
            panel.vline(x, color, label=label)
            panel.points([x], [0], color, symbol="triangle", radius=5, titles=[label], opacity=1)
    return figure([panel], panel.top + panel.height + 44, title=title, legend=[*legend, *marker_legend])


def _jitter(n: int, spread: float) -> np.ndarray:
    """Deterministic, evenly spread offsets in [-spread, spread] (golden-ratio sequence)."""
    return (np.mod(np.arange(n) * 0.6180339887, 1.0) - 0.5) * 2 * spread


def strip_figure(panels: Sequence[tuple[str, Sequence[tuple[str, pd.DataFrame, str]]]], *, value_title: str,
                 title: str, document: str = "document") -> str:
    """Small multiples, one per score: for each group (label, table with ``document`` and the score column named
    by the panel, colour), every document as a point in its own column, hover naming the document."""
    usable = [(score, groups) for score, groups in panels
              if any(score in t and pd.to_numeric(t[score], errors="coerce").notna().any() for _, t, _ in groups)]
    if not usable:
        return message_svg("No scores to show.")
    per_row = min(3, len(usable))
    cell_width = (WIDTH - 10) / per_row
    cell_height = 200
    rows_needed = math.ceil(len(usable) / per_row)
    out_panels, legend = [], {}
    for i, (score, groups) in enumerate(usable):
        column, row = i % per_row, i // per_row
        values = [pd.to_numeric(t[score], errors="coerce").to_numpy(dtype=float) if score in t else np.empty(0)
                  for _, t, _ in groups]
        lo, hi = padded(np.concatenate(values).tolist(), pad=0.08)
        panel = Panel(Axis(-0.5, len(groups) - 0.5), Axis(lo, hi, title=value_title if i == 0 else ""),
                      left=column * cell_width + 62,
                      top=row * (cell_height + 44) + 24, width=cell_width - 76, height=cell_height,
                      title=score_label(score), x_labels={j: _short(g[0], 16) for j, g in enumerate(groups)})
        for j, ((label, table, color), v) in enumerate(zip(groups, values)):
            names = table[document].astype(str).tolist() if document in table else [""] * len(v)
            panel.points(j + _jitter(len(v), 0.28), v, color, radius=3.2, opacity=0.75,
                         titles=[f"{n}: {_tick_label(x)}" if math.isfinite(x) else n for n, x in zip(names, v)])
            legend[label] = LegendEntry(label, color, kind="point")
        out_panels.append(panel)
    height = rows_needed * (cell_height + 44) + 24
    return figure(out_panels, height, title=title, legend=list(legend.values()))


def roc_svg(roc: pd.DataFrame, evaluation: pd.DataFrame | None = None, *, log_scale: bool = False,
            lowest_fpr: float | None = None, title: str | None = None) -> str:
    """ROC curves of every score (long table: score, fpr, tpr), best AUC first in the legend, with the chance
    line. ``log_scale`` draws both axes from 0.001 to 1 (the low-FPR region that matters for verdicts).
    ``lowest_fpr`` (1 / non-members) shades the FPRs below what the sample can measure. The blind baseline (score
    ``blind``) is drawn with long dashes in dark grey."""
    if roc is None or roc.empty:
        return message_svg("No ROC curve to show.")
    auc = dict(zip(evaluation["score"], evaluation["auc"])) if evaluation is not None else {}
    order = sorted(roc["score"].unique(), key=lambda s: -auc.get(s, 0.0))
    floor = 1e-3
    axis = dict(lo=floor, hi=1.0, log=True) if log_scale else dict(lo=0.0, hi=1.0)
    panel = Panel(Axis(**axis, title="false-positive rate (non-members called members)"),
                  Axis(**axis, title="true-positive rate (members found)"), left=70, top=14, width=WIDTH - 90,
                  height=340)
    if lowest_fpr is not None and math.isfinite(lowest_fpr) and lowest_fpr > (floor if log_scale else 0.0):
        panel.band(floor if log_scale else 0.0, lowest_fpr, COLORS["neutral"],
                   label=f"not measurable: FPR below 1/{round(1 / lowest_fpr):,}")
    chance = np.logspace(-3, 0, 40) if log_scale else np.array([0.0, 1.0])
    panel.line(chance, chance, COLORS["neutral"], dash="5 4", width=1.5)
    legend = [LegendEntry("chance", COLORS["neutral"], "5 4")]
    for i, score in enumerate(order):
        part = roc[roc["score"] == score]
        x, y = part["fpr"].to_numpy(dtype=float), part["tpr"].to_numpy(dtype=float)
        if log_scale:
            x, y = np.clip(x, floor, 1), np.clip(y, floor, 1)
        color, dash = PALETTE[i % len(PALETTE)], DASHES[i % len(DASHES)]
        if score == BLIND_SCORE_NAME:
            color, dash = BLIND_COLOR, "9 5"
        panel.line(x, y, color, dash=dash, step=True)
        name = score_label(score)
        legend.append(LegendEntry(f"{name} (AUC {auc[score]:.3f})" if score in auc and math.isfinite(auc[score])
                                  else name, color, dash))
    default = "ROC curves, log-log (low false-positive rates)" if log_scale else "ROC curves"
    return figure([panel], panel.top + panel.height + 44, title=title or default, legend=legend)


def null_histogram_svg(null_nll: Sequence[float], identifiers: pd.DataFrame, *, alpha: float = 0.01,
                       statistic: str = "nll",
                       title: str = "Your identifiers among fresh, never-published draws") -> str:
    """A ghost test's null: the statistic of the fresh draws (never published, so never trained on) as a
    histogram, and a marker for each identifier (``identifiers`` with identifier, p_value and the ``statistic``
    column); red when p <= ``alpha``. ``statistic`` "nll" (nats per token): an identifier far to the left (more
    familiar to the model) has a small p-value; "nll_difference" (the reference-calibrated test's NLL_reference -
    NLL_target): far to the right."""
    null = np.asarray(null_nll, dtype=float)
    null = null[np.isfinite(null)]
    if null.size == 0:
        return message_svg("No null draws to show.")
    name, axis = GHOST_STATISTIC_AXES[statistic]
    markers = []
    for row in identifiers.itertuples(index=False):
        value, p = float(getattr(row, statistic, math.nan)), float(getattr(row, "p_value", math.nan))
        color = COLORS["member"] if math.isfinite(p) and p <= alpha else COLORS["primary"]
        markers.append((value, f"{row.identifier}: {name} {_tick_label(value)}, p = {p:.3g}", color))
    legend = [LegendEntry(f"identifier, p <= {alpha:g}", COLORS["member"]),
              LegendEntry(f"identifier, p > {alpha:g}", COLORS["primary"])]
    return histogram_figure([("fresh draws", null, COLORS["neutral"])], x_title=axis, title=title,
                            y_title="fresh draws", bins=min(60, max(10, null.size // 15)), markers=markers,
                            marker_legend=legend)


__all__ = ["Axis", "LegendEntry", "Panel", "bar_figure", "figure", "histogram_figure", "message_svg", "nice_ticks",
           "null_histogram_svg", "roc_svg", "strip_figure"]
