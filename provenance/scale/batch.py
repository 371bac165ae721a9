"""One batch of document rows -> one batch of score rows, with the single-process scorer (``score_documents``).

Input rows are ``corpus.document_rows``' dicts (``document, text, sha256, error``); output rows have the columns
of ``output.row_columns``: the scores of ``scores.table.score_documents`` for each scorable document, and for every
other one a row whose ``error`` says why (unreadable file or line, too short to score, or an error raised while
scoring that document alone). A batch never fails because of one document: when scoring the batch raises, its
documents are scored one by one and only the one that raises gets an error row. Nothing here imports Ray.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from ..documents import Document, unique_names
from ..lm.interface import LanguageModel
from ..lm.token_stats import ScoringSettings
from ..scores.formulas import DEFAULT_K
from .output import row_key

log = logging.getLogger(__name__)


@dataclass
class ScoredBatch:
    """Output rows of one batch, the scored tokens behind them (target model, texts only) and how many rows are
    errors."""

    rows: list[dict]
    tokens: int
    failed: int


def score_rows(model: LanguageModel, rows: Sequence[dict], scores: Sequence[str], *, k: float = DEFAULT_K,
               settings: ScoringSettings = ScoringSettings(), ref_model: LanguageModel | None = None,
               observer: LanguageModel | None = None) -> ScoredBatch:
    """Score the readable rows of a batch together (``score_documents``); pass error rows through. Rows repeating
    a key (same name and text) are scored once."""
    from ..scores.table import score_documents

    out: list[dict] = []
    pending: dict[str, dict] = {}
    for row in rows:
        if row.get("error"):
            out.append({"document": row["document"], "sha256": row["sha256"], "error": row["error"]})
        else:
            pending.setdefault(row_key(row["document"], row["sha256"]), row)
    originals = list(pending.values())
    # two files may give documents of the same name with different texts: unique names inside the batch (as the
    # single-process reader would), each mapped back to its row
    docs = unique_names([Document(r["document"], r["text"]) for r in originals])
    by_name = {d.name: r for d, r in zip(docs, originals)}
    run = dict(k=k, settings=settings, ref_model=ref_model, observer=observer)
    try:
        results = [score_documents(model, docs, scores, **run)] if docs else []
    except Exception:  # noqa: BLE001 - one document must not fail the batch: find it by scoring them one by one
        log.warning("a batch of %d documents failed; scoring them one by one", len(docs), exc_info=True)
        results = []
        for doc in docs:
            try:
                results.append(score_documents(model, [doc], scores, **run))
            except Exception as exc:  # noqa: BLE001
                out.append({"document": doc.name, "sha256": by_name[doc.name]["sha256"],
                            "error": f"{doc.name}: could not be scored ({type(exc).__name__}: {exc})."})
    tokens = 0
    for result in results:
        for record in result.table.to_dict("records"):
            record.update(sha256=by_name[record["document"]]["sha256"], error=None)
            tokens += int(record["tokens"])
            out.append(record)
        out += [{"document": name, "sha256": by_name[name]["sha256"], "error": message}
                for name, message in result.errors.items()]
    return ScoredBatch(rows=out, tokens=tokens, failed=sum(1 for r in out if r.get("error")))
