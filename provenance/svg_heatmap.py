"""The report's static documents x models heatmap: the same cells as the dashboard's ``charts.models_heatmap``
(``charts.model_grid_cells``), drawn as one ``<svg>`` like the other report figures (``svg_charts``): sharp on
paper, a few kilobytes, every name escaped, and each cell's words written in it so the figure reads in grey too."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .charts import FONT_FAMILY, HEATMAP_SCALE, model_grid_cells
from .svg_charts import CHAR, FONT, WIDTH, _e, _short, message_svg


def _mix(colour_a: str, colour_b: str, t: float) -> str:
    a = [int(colour_a[i:i + 2], 16) for i in (1, 3, 5)]
    b = [int(colour_b[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(a, b))


def scale_colour(fraction: float) -> str:
    """The heatmap colour at ``fraction`` (0 = white, 1 = the member colour) of ``charts.HEATMAP_SCALE``."""
    fraction = min(1.0, max(0.0, fraction))
    for (p0, c0), (p1, c1) in zip(HEATMAP_SCALE, HEATMAP_SCALE[1:]):
        if fraction <= p1:
            return _mix(c0, c1, (fraction - p0) / (p1 - p0) if p1 > p0 else 0.0)
    return HEATMAP_SCALE[-1][1]


def models_heatmap_svg(grid: pd.DataFrame, *, value: str = "p_value", set_verdicts: dict[str, str] | None = None,
                       title: str = "Documents x models") -> str:
    """One row per document, one column per model; each cell coloured by -log10 p (or the score) and labelled
    with its verdict and p-value (or the score), 'no result' where there is no number. ``set_verdicts`` (model ->
    a few words) is written under each model's name; a colour scale with its meaning is drawn below."""
    cells = model_grid_cells(grid, value)
    documents, models, z = cells["documents"], cells["models"], cells["z"]
    if not documents or not models:
        return message_svg("No model has scored any document yet.")
    finite = z[np.isfinite(z)]
    lo, hi = (0.0, max(2.0, float(finite.max()) if finite.size else 2.0)) if value == "p_value" else (
        (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0))
    hi = hi if hi > lo else lo + 1
    left = 16 + CHAR * min(36, max(len(d) for d in documents))
    cell_w = max(70.0, (WIDTH - left - 16) / len(models))
    width = max(WIDTH, left + cell_w * len(models) + 16)
    cell_h, head = 34.0, 46.0
    top = 30.0
    out = [f'<text x="{left}" y="18" font-size="{FONT + 1}" font-weight="600">{_e(title)}</text>']
    limit = max(8, int(cell_w / CHAR) - 1)
    for j, model in enumerate(models):
        cx = left + cell_w * (j + 0.5)
        out.append(f'<text x="{cx:.1f}" y="{top + 14}" text-anchor="middle" font-size="{FONT}" font-weight="600">'
                   f'<title>{_e(model)}</title>{_e(_short(model, limit))}</text>')
        verdict = (set_verdicts or {}).get(model)
        if verdict:
            out.append(f'<text x="{cx:.1f}" y="{top + 30}" text-anchor="middle" font-size="{FONT - 2}" '
                       f'font-style="italic" fill="#444">{_e(_short("set: " + verdict, limit + 2))}</text>')
    grid_top = top + head
    for i, document in enumerate(documents):
        y = grid_top + cell_h * i
        out.append(f'<text x="{left - 6}" y="{y + cell_h / 2 + 4:.1f}" text-anchor="end" font-size="{FONT - 1}">'
                   f'<title>{_e(document)}</title>{_e(_short(document, 36))}</text>')
        for j in range(len(models)):
            x = left + cell_w * j
            number = z[i, j]
            fraction = (number - lo) / (hi - lo) if np.isfinite(number) else None
            fill = scale_colour(fraction) if fraction is not None else "#f2f2f2"
            ink = "#fff" if fraction is not None and fraction > 0.6 else ("#333" if fraction is not None else "#888")
            hover = cells["hover"][i][j].replace("<br>", " · ")
            out.append(f'<rect x="{x + 1:.1f}" y="{y + 1:.1f}" width="{cell_w - 2:.1f}" height="{cell_h - 2:.1f}" '
                       f'fill="{fill}" stroke="#ccc"><title>{_e(hover)}</title></rect>')
            lines = cells["text"][i][j].split("<br>")
            for k, line in enumerate(lines):
                ty = y + cell_h / 2 + 4 + (k - (len(lines) - 1) / 2) * (FONT - 1)
                out.append(f'<text x="{x + cell_w / 2:.1f}" y="{ty:.1f}" text-anchor="middle" '
                           f'font-size="{FONT - 2}" fill="{ink}">{_e(_short(line, limit))}</text>')
    scale_top = grid_top + cell_h * len(documents) + 18
    steps = 40
    bar_left, bar_width = left, min(320.0, cell_w * len(models))
    for s in range(steps):
        out.append(f'<rect x="{bar_left + bar_width * s / steps:.1f}" y="{scale_top:.1f}" '
                   f'width="{bar_width / steps + 0.5:.1f}" height="10" fill="{scale_colour(s / (steps - 1))}"/>')
    out.append(f'<rect x="{bar_left}" y="{scale_top:.1f}" width="{bar_width:.1f}" height="10" fill="none" '
               f'stroke="#999"/>')
    low_text, high_text = (("p = 1", f"p = {10 ** -hi:.2g}") if value == "p_value" else (f"{lo:.4g}", f"{hi:.4g}"))
    out.append(f'<text x="{bar_left}" y="{scale_top + 24:.1f}" font-size="{FONT - 2}">{_e(low_text)}</text>')
    out.append(f'<text x="{bar_left + bar_width:.1f}" y="{scale_top + 24:.1f}" text-anchor="end" '
               f'font-size="{FONT - 2}">{_e(high_text)}</text>')
    out.append(f'<text x="{bar_left + bar_width + 12:.1f}" y="{scale_top + 9:.1f}" font-size="{FONT - 1}">'
               f'{_e(cells["colour_title"])}</text>')
    height = scale_top + 34
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
            f'class="chart" preserveAspectRatio="xMidYMin meet" font-family="{_e(FONT_FAMILY)}">'
            f'<title>{_e(title)}</title><rect width="100%" height="100%" fill="#fff"/>{"".join(out)}</svg>')
