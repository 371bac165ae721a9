"""Looking documents up in an index: LSH candidates, MinHash estimates, exact verification and matching spans."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..documents import Document, unique_names
from ..documents.words import words
from .index import OverlapIndex, ProgressFn, StopFn
from .minhash import containment_from_jaccard, estimated_jaccard, minhash_signatures, shingle_hashes, shingles
from .spans import exact_overlap, matching_spans

MATCH_COLUMNS = ["document", "match", "match_id", "found_by", "jaccard_est", "containment_est", "jaccard_exact",
                 "containment_exact", "match_containment_exact", "shared_ngrams", "query_ngrams", "match_ngrams",
                 "longest_span_words", "longest_span", "verified"]
SPAN_COLUMNS = ["document", "match", "match_id", "rank", "words", "query_start", "query_end", "match_start",
                "match_end", "text"]


@dataclass
class OverlapResult:
    """Query results: ``matches`` (one row per document and matching corpus document, MATCH_COLUMNS), ``spans``
    (one row per matching span, SPAN_COLUMNS, character offsets into the query and the corpus text), and one
    sentence per query document that could not be compared."""

    matches: pd.DataFrame
    spans: pd.DataFrame
    errors: dict[str, str]


def query_index(index: OverlapIndex, documents: Sequence[Document], *, min_jaccard: float | None = None,
                min_containment: float | None = None, containment: bool = True, only_verified: bool = True,
                max_candidates: int = 50, max_spans: int = 5, progress: ProgressFn | None = None,
                should_stop: StopFn | None = None, on_row: Callable[[dict], None] | None = None) -> OverlapResult:
    """Find corpus documents that near-duplicate or contain each query document, verified exactly.

    Candidates come from the LSH (Jaccard) and, with ``containment``, the LSH Ensemble; each gets MinHash
    estimates (``jaccard_est``, ``containment_est`` = share of the query's n-grams estimated inside the match),
    then exact n-gram Jaccard / containment from the stored text and its longest matching spans. A match is
    ``verified`` when its exact Jaccard >= ``min_jaccard`` or exact containment >= ``min_containment`` (defaults:
    the index's thresholds); with ``only_verified`` the others are left out. At most ``max_candidates`` candidates
    per document are verified, best estimate first. ``progress(done, total)`` counts query documents,
    ``should_stop()`` ends early, ``on_row(row)`` receives each match row as it is ready.
    """
    p = index.params
    min_jaccard = p.jaccard_threshold if min_jaccard is None else min_jaccard
    min_containment = p.containment_threshold if min_containment is None else min_containment
    documents = unique_names(documents)
    if len(index):
        index.prepare(containment=containment)
    rows, span_rows, errors = [], [], {}
    for done, doc in enumerate(documents, start=1):
        if should_stop is not None and should_stop():
            break
        q_words = words(doc.text)
        q_hashes = shingle_hashes(shingles(q_words, p.ngram))
        if len(q_hashes) == 0:
            errors[doc.name] = f"{doc.name}: it has no words to compare."
        elif len(index):
            signature = minhash_signatures([q_hashes], p.num_perm, p.seed)[0]
            found = index.candidates(signature, len(q_hashes), containment=containment)
            ids = np.array(sorted(found), dtype=np.int64)
            j_est = estimated_jaccard(signature, index._signatures[ids]) if len(ids) else np.empty(0)
            c_est = containment_from_jaccard(j_est, len(q_hashes), index._sizes[ids]) if len(ids) else np.empty(0)
            order = np.lexsort((ids, -np.maximum(j_est, c_est)))[:max_candidates]
            for k in order:
                doc_id = int(ids[k])
                match_text = index.document_text(doc_id)
                exact = exact_overlap(q_words, words(match_text), p.ngram)
                verified = exact["jaccard"] >= min_jaccard or exact["containment"] >= min_containment
                if only_verified and not verified:
                    continue
                spans = matching_spans(doc.text, match_text, min_words=min(p.ngram, len(q_words)),
                                       max_spans=max_spans)
                name = index.document_name(doc_id)
                for rank, s in enumerate(spans, start=1):
                    span_rows.append({"document": doc.name, "match": name, "match_id": doc_id, "rank": rank,
                                      "words": s.words, "query_start": s.query_start, "query_end": s.query_end,
                                      "match_start": s.match_start, "match_end": s.match_end,
                                      "text": doc.text[s.query_start: s.query_end]})
                row = {"document": doc.name, "match": name, "match_id": doc_id, "found_by": found[doc_id],
                       "jaccard_est": float(j_est[k]), "containment_est": float(c_est[k]),
                       "jaccard_exact": exact["jaccard"], "containment_exact": exact["containment"],
                       "match_containment_exact": exact["match_containment"], "shared_ngrams": exact["shared"],
                       "query_ngrams": exact["query_ngrams"], "match_ngrams": exact["match_ngrams"],
                       "longest_span_words": spans[0].words if spans else 0,
                       "longest_span": doc.text[spans[0].query_start: spans[0].query_end] if spans else "",
                       "verified": bool(verified)}
                rows.append(row)
                if on_row is not None:
                    on_row(row)
        if progress is not None:
            progress(done, len(documents))
    matches = pd.DataFrame(rows, columns=MATCH_COLUMNS)
    if len(matches):
        matches = matches.sort_values(["document", "containment_exact", "jaccard_exact"],
                                      ascending=[True, False, False], kind="stable").reset_index(drop=True)
    return OverlapResult(matches=matches, spans=pd.DataFrame(span_rows, columns=SPAN_COLUMNS), errors=errors)
