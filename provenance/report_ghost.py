"""The evidence section of a ghost-sentence test's report: each identifier ranked among the fresh draws, the null
histograms, the null's summary and the test's settings, in the layout of the other kinds (``report_layout``, whose
tables and figures it builds on)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import svg_charts as svg
from .report_layout import Col, Figures, _e, _other_artifacts, facts_table, html_table
from .report_text import reference_words

if TYPE_CHECKING:
    from .report import ReportData


def _identifiers_for(null: np.ndarray, identifiers: pd.DataFrame) -> pd.DataFrame:
    """The identifiers ranked against this null (their recorded null median, of the NLL or of the reference
    test's difference, is this null's median); all of them when the test had a single null."""
    column = next((c for c in ("null_median_difference", "null_median_nll") if c in identifiers), None)
    if column is None or len(null) == 0:
        return identifiers
    mine = identifiers[np.isclose(identifiers[column].astype(float), float(np.median(null)))]
    return mine if len(mine) else identifiers


def ghost_evidence(data: ReportData, figures: Figures) -> str:
    """The evidence of a ghost-sentence test: each identifier ranked among the fresh draws, one null histogram per
    generator, the null's summary and the test's settings."""
    table = data.artifacts.get("ghost_detection")
    settings = data.artifacts.get("ghost_test_settings") or {}
    verdict = data.investigation.verdict
    alpha = verdict.fpr if verdict is not None else float(settings.get("alpha") or 0.01)
    reference = reference_words(data)
    parts = []
    if isinstance(table, pd.DataFrame) and not table.empty:
        calibrated = "nll_difference" in table
        cols = [Col("id", "id", "code"), Col("identifier", "identifier", "doc"), Col("p_value", "p-value", "p"),
                Col("rank", "rank", "int"), Col("exposure_bits", "exposure (bits)", digits=3),
                Col("nll", "NLL", digits=4)]
        if calibrated:
            cols += [Col("ref_nll", "NLL under the reference", digits=4),
                     Col("nll_difference", "difference (reference - tested)", digits=4),
                     Col("null_median_difference", "median difference of fresh draws", digits=4)]
            ranked = ("rank 1 means no fresh draw gained more from the reference model to the tested one (the "
                      "largest difference NLL_reference - NLL_tested)")
        else:
            cols.append(Col("null_median_nll", "median NLL of fresh draws", digits=4))
            ranked = "rank 1 means no fresh draw was more familiar to the model (lower NLL)"
        cols += [Col("tokens", "tokens", "int"), Col("last_k_hit", "last-k hit", "flag")]
        parts.append(f"<h3>Identifiers</h3><p class='note'>Each planted identifier ranked among the fresh draws: "
                     f"{_e(ranked)}.</p>" + html_table(table.sort_values("p_value", kind="stable"), cols))
        for i, (key, null) in enumerate(data.nulls.items()):
            mine = _identifiers_for(null, table)
            statistic = "nll_difference" if calibrated else "nll"
            caption = (f"NLL under the reference model {reference} minus NLL under the tested model, for "
                       f"{len(null):,} fresh draws from the generator (grey; never published, so neither model "
                       "trained on them) and for each identifier (triangles, red when p <= "
                       f"{alpha:g}). Identifiers far to the right gained more than anything neither model can have "
                       "seen." if calibrated else
                       f"The NLL of {len(null):,} fresh draws from the generator (grey; never published, so never "
                       f"trained on) and each identifier's NLL (triangles, red when p <= {alpha:g}). Identifiers far "
                       "to the left are more familiar to the model than anything it cannot have seen.")
            parts.append(figures.add(svg.null_histogram_svg(null, mine, alpha=alpha, statistic=statistic), caption))
    else:
        parts.append("<p><em>The test has not finished: no identifier has been ranked yet.</em></p>")
    null_draws = data.artifacts.get("null_draws")
    if isinstance(null_draws, list) and null_draws:
        rows = []
        for record in null_draws:
            generator = record.get("generator")
            described = ("; ".join(f"{k}: {v}" for k, v in generator.items() if v not in ("", None))
                         if isinstance(generator, dict) else str(generator))
            rows.append({**{k: v for k, v in record.items() if k != "generator"}, "generator": described})
        frame = pd.DataFrame(rows)
        stat = "nll_difference" if "min_nll_difference" in frame else "nll"
        word = "difference" if stat == "nll_difference" else "NLL"
        cols = [Col("generator", "generator", "text"), Col("draws", "fresh draws", "int"),
                Col("smallest_p", "smallest possible p", "p"), Col(f"min_{stat}", f"lowest {word}"),
                Col(f"median_{stat}", f"median {word}"), Col(f"max_{stat}", f"highest {word}")]
        parts.append("<h3>The fresh draws (the null)</h3>" + html_table(frame, cols))
    facts = [("identifiers tested", len(settings.get("identifiers") or [])),
             ("fresh draws per generator", settings.get("n_null")), ("false-positive rate", settings.get("alpha")),
             ("last-k words test, k =", settings.get("last_k") or "not run")]
    if reference:
        facts += [("reference model", reference),
                  ("reference model released", data.investigation.settings.get("reference_released"))]
    parts.append("<h3>Test settings</h3>" + facts_table(facts))
    parts.append(_other_artifacts(data))
    return "".join(parts)


# ---------------------------------------------------------------------------------------------- page
