"""Looking documents up in an index: candidates from the LSH structures and the exact-excerpt index, MinHash
estimates, exact verification and matching spans, and one outcome per queried document."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..documents import Document, unique_names
from ..documents.words import words
from .exact import WordHashes, ngram_hashes, winnow, window_size
from .index import OverlapIndex, ProgressFn, StopFn
from .minhash import containment_from_jaccard, estimated_jaccard, minhash_signatures, shingle_hashes, shingles
from .spans import exact_overlap, matching_spans

MATCH_COLUMNS = ["document", "match", "match_id", "found_by", "jaccard_est", "containment_est", "jaccard_exact",
                 "containment_exact", "match_containment_exact", "shared_ngrams", "query_ngrams", "match_ngrams",
                 "longest_span_words", "longest_span", "verified", "matched_as", "shared_fingerprints"]
SPAN_COLUMNS = ["document", "match", "match_id", "rank", "words", "query_start", "query_end", "match_start",
                "match_end", "text"]
DOCUMENT_COLUMNS = ["document", "outcome", "detail", "matches", "best_match", "found_by", "containment_exact",
                    "jaccard_exact", "longest_span_words", "candidates"]

# found_by of a candidate only the exact-excerpt index proposed (the LSH ones say 'jaccard', 'containment', 'both')
EXACT_EXCERPT = "exact excerpt"
# what a verified match is (matched_as, and a document's outcome): in this order
NEAR_DUPLICATE, CONTAINED, VERBATIM_PASSAGE = "near-duplicate", "contained", "verbatim passage"
BELOW_THRESHOLDS = "below the thresholds"
# a document's outcome when nothing was found, or it was not compared
NO_MATCH = "no match found (not proof of absence)"
NOT_COMPARED, NOT_LOOKED_UP = "not compared", "not looked up (stopped)"

_EXACT_CANDIDATES_PER_CHECK = 4  # exact-index candidates kept per candidate checked (most shared fingerprints first)


@dataclass
class OverlapResult:
    """Query results: ``matches`` (one row per document and matching corpus document, MATCH_COLUMNS), ``spans``
    (one row per matching span, SPAN_COLUMNS, character offsets into the query and the corpus text),
    ``documents`` (one row per queried document, in the order given, DOCUMENT_COLUMNS: its outcome, e.g.
    'contained' or 'no match found (not proof of absence)', and a sentence saying why), and one sentence per query
    document that could not be compared."""

    matches: pd.DataFrame
    spans: pd.DataFrame
    errors: dict[str, str]
    documents: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=DOCUMENT_COLUMNS))


@dataclass(frozen=True)
class _Thresholds:
    jaccard: float
    containment: float
    passage: int
    ngram: int
    exact_min_words: int


def query_index(index: OverlapIndex, documents: Sequence[Document], *, min_jaccard: float | None = None,
                min_containment: float | None = None, min_passage_words: int | None = None, containment: bool = True,
                exact: bool = True, only_verified: bool = True, max_candidates: int = 50, max_spans: int = 5,
                progress: ProgressFn | None = None, should_stop: StopFn | None = None,
                on_row: Callable[[dict], None] | None = None) -> OverlapResult:
    """Find corpus documents that near-duplicate, contain, or share a verbatim passage with each query document,
    verified exactly.

    Candidates come from the LSH (Jaccard), with ``containment`` the LSH Ensemble, and with ``exact`` the
    exact-excerpt index (every corpus document sharing a passage of at least the index's ``exact_min_words`` words
    with the query is among them, however long it is; ``found_by`` says 'exact excerpt' for those the LSH
    structures did not propose). Each gets MinHash estimates (``jaccard_est``, ``containment_est`` = share of the
    query's n-grams estimated inside the match), then exact n-gram Jaccard / containment from the stored text and
    its longest matching spans. A match is ``verified`` when its exact Jaccard >= ``min_jaccard`` (a near-duplicate),
    its exact containment >= ``min_containment`` (contained), or its longest run of identical words >=
    ``min_passage_words`` (a verbatim passage) (defaults: the index's thresholds and ``exact_min_words``);
    ``matched_as`` names which. With ``only_verified`` the others are left out. At most ``max_candidates``
    candidates per document are verified, best first (the largest of the estimated Jaccard, the estimated
    containment and the share of the query's fingerprints the candidate holds). ``progress(done, total)`` counts
    query documents, ``should_stop()`` ends early (documents not reached are listed as not looked up),
    ``on_row(row)`` receives each match row as it is ready.
    """
    p = index.params
    limits = _Thresholds(jaccard=p.jaccard_threshold if min_jaccard is None else float(min_jaccard),
                         containment=p.containment_threshold if min_containment is None else float(min_containment),
                         passage=p.exact_min_words if min_passage_words is None else int(min_passage_words),
                         ngram=p.ngram, exact_min_words=p.exact_min_words)
    documents = unique_names(documents)
    if len(index):
        index.prepare(containment=containment)
    rows, span_rows, errors, outcomes = [], [], {}, []
    cache = WordHashes()
    for done, doc in enumerate(documents, start=1):
        if should_stop is not None and should_stop():
            outcomes.extend(_not_looked_up(d.name) for d in documents[done - 1:])
            break
        q_words = words(doc.text)
        q_hashes = shingle_hashes(shingles(q_words, p.ngram))
        doc_rows, checked, proposed, more = [], 0, 0, False
        if len(q_hashes) == 0:
            errors[doc.name] = f"{doc.name}: it has no words to compare."
        elif len(index):
            signature = minhash_signatures([q_hashes], p.num_perm, p.seed)[0]
            found = index.candidates(signature, len(q_hashes), containment=containment)
            shared: dict[int, int] = {}
            exact_total = 0
            q_ngrams = ngram_hashes(cache.of(q_words), p.ngram)
            q_unique = np.unique(q_ngrams)
            q_prints = winnow(q_ngrams, window_size(p.ngram, p.exact_min_words)) if exact else np.empty(0)
            if exact:
                exact_ids, counts, exact_total = index.exact_candidates(
                    q_prints, _EXACT_CANDIDATES_PER_CHECK * max_candidates)
                shared = dict(zip(exact_ids.tolist(), counts.tolist()))
                for doc_id in shared:
                    found.setdefault(doc_id, EXACT_EXCERPT)
            ids = np.array(sorted(found), dtype=np.int64)
            j_est = estimated_jaccard(signature, index._signatures[ids]) if len(ids) else np.empty(0)
            c_est = containment_from_jaccard(j_est, len(q_hashes), index._sizes[ids]) if len(ids) else np.empty(0)
            f_share = np.array([shared.get(int(i), 0) for i in ids], dtype=np.float64) / max(len(q_prints), 1)
            order = np.lexsort((ids, -np.maximum(np.maximum(j_est, c_est), f_share)))[:max_candidates]
            proposed, checked, more = len(ids), len(order), exact_total > len(shared)
            for k in order:
                doc_id = int(ids[k])
                match_text = index.document_text(doc_id)
                match_words = words(match_text)
                if only_verified and not _could_match(q_ngrams, q_unique, match_words, limits, cache):
                    continue
                overlap = exact_overlap(q_words, match_words, p.ngram)
                spans = matching_spans(doc.text, match_text, min_words=min(p.ngram, len(q_words)),
                                       max_spans=max_spans)
                longest = spans[0].words if spans else 0
                kinds = _kinds(overlap, longest, limits)
                if only_verified and not kinds:
                    continue
                name = index.document_name(doc_id)
                for rank, s in enumerate(spans, start=1):
                    span_rows.append({"document": doc.name, "match": name, "match_id": doc_id, "rank": rank,
                                      "words": s.words, "query_start": s.query_start, "query_end": s.query_end,
                                      "match_start": s.match_start, "match_end": s.match_end,
                                      "text": doc.text[s.query_start: s.query_end]})
                row = {"document": doc.name, "match": name, "match_id": doc_id, "found_by": found[doc_id],
                       "jaccard_est": float(j_est[k]), "containment_est": float(c_est[k]),
                       "jaccard_exact": overlap["jaccard"], "containment_exact": overlap["containment"],
                       "match_containment_exact": overlap["match_containment"], "shared_ngrams": overlap["shared"],
                       "query_ngrams": overlap["query_ngrams"], "match_ngrams": overlap["match_ngrams"],
                       "longest_span_words": longest,
                       "longest_span": doc.text[spans[0].query_start: spans[0].query_end] if spans else "",
                       "verified": bool(kinds), "matched_as": ", ".join(kinds) or BELOW_THRESHOLDS,
                       "shared_fingerprints": int(shared.get(doc_id, 0))}
                rows.append(row)
                doc_rows.append(row)
                if on_row is not None:
                    on_row(row)
        outcomes.append(_outcome(doc.name, len(q_words), doc_rows, (checked, proposed, more), errors.get(doc.name),
                                 len(index), limits, exact))
        if progress is not None:
            progress(done, len(documents))
    matches = pd.DataFrame(rows, columns=MATCH_COLUMNS)
    if len(matches):
        matches = matches.sort_values(["document", "containment_exact", "jaccard_exact"],
                                      ascending=[True, False, False], kind="stable").reset_index(drop=True)
    return OverlapResult(matches=matches, spans=pd.DataFrame(span_rows, columns=SPAN_COLUMNS), errors=errors,
                         documents=pd.DataFrame(outcomes, columns=DOCUMENT_COLUMNS))


def _could_match(q_ngrams: np.ndarray, q_unique: np.ndarray, match_words: list[str], limits: _Thresholds,
                 cache: WordHashes) -> bool:
    """Whether a candidate can pass any threshold, from 64-bit n-gram hashes (numpy; no strings, no spans): its
    exact Jaccard and containment up to hash collisions, and a run of at least ``passage - ngram + 1`` consecutive
    query n-grams found in it, which a shared passage of ``passage`` words needs. False only when the full check
    would fail, so leaving such candidates out changes no result; it spares the text work for most candidates the
    exact-excerpt index proposes through one common n-gram."""
    m_unique = np.unique(ngram_hashes(cache.of(match_words), limits.ngram))
    if not len(m_unique) or not len(q_unique):
        return False
    present = m_unique[np.minimum(np.searchsorted(m_unique, q_ngrams), len(m_unique) - 1)] == q_ngrams
    shared = int(np.count_nonzero(
        m_unique[np.minimum(np.searchsorted(m_unique, q_unique), len(m_unique) - 1)] == q_unique))
    union = len(q_unique) + len(m_unique) - shared
    if shared >= limits.containment * len(q_unique) or (union and shared >= limits.jaccard * union):
        return True
    need = limits.passage - limits.ngram + 1
    if need <= 1:
        return bool(present.any()) or limits.passage <= 0
    # the longest run of True in ``present``
    edges = np.flatnonzero(np.diff(np.concatenate([[0], present.astype(np.int8), [0]])))
    return bool(len(edges)) and int((edges[1::2] - edges[::2]).max()) >= need


def _kinds(overlap: dict, longest: int, limits: _Thresholds) -> list[str]:
    """What a checked candidate is: near-duplicate and / or contained, else a verbatim passage, else nothing."""
    kinds = [kind for kind, hit in ((NEAR_DUPLICATE, overlap["jaccard"] >= limits.jaccard),
                                    (CONTAINED, overlap["containment"] >= limits.containment)) if hit]
    if not kinds and longest >= limits.passage:
        kinds.append(VERBATIM_PASSAGE)
    return kinds


def _not_looked_up(name: str) -> dict:
    return {"document": name, "outcome": NOT_LOOKED_UP, "matches": 0, "best_match": "", "found_by": "",
            "containment_exact": np.nan, "jaccard_exact": np.nan, "longest_span_words": 0, "candidates": 0,
            "detail": "The lookup was stopped before this document was compared."}


def _outcome(name: str, n_words: int, doc_rows: list[dict], counts: tuple[int, int, bool], error: str | None,
             corpus_size: int, limits: _Thresholds, exact: bool) -> dict:
    """One queried document's row of ``OverlapResult.documents``; ``counts``: candidates checked, candidates
    proposed, and whether the exact-excerpt index proposed more than were kept."""
    checked, proposed, more = counts
    verified = [r for r in doc_rows if r["verified"]]
    row = {"document": name, "matches": len(verified), "best_match": "", "found_by": "", "containment_exact": np.nan,
           "jaccard_exact": np.nan, "longest_span_words": 0, "candidates": checked}
    if error is not None:
        return {**row, "outcome": NOT_COMPARED, "detail": error}
    if verified:
        return {**row, **_matched(verified, limits.ngram)}
    tests = [f"is a near-duplicate (exact Jaccard ≥ {limits.jaccard:g})",
             f"contains ≥ {limits.containment:.0%} of its word {limits.ngram}-grams"]
    if exact:
        tests.append(f"shares a verbatim passage of ≥ {limits.passage} words with it")
    looked = f"None of the {corpus_size:,} corpus documents {', '.join(tests[:-1])} or {tests[-1]}."
    caveats = []
    if checked < proposed or more:
        caveats.append(f"only the best {checked} of {'more than ' if more else ''}{proposed} candidates were checked")
    if not exact:
        caveats.append("the exact-excerpt index was not used, so a short excerpt of a much longer document can be "
                       "missed")
    elif n_words < limits.exact_min_words:
        caveats.append(f"it has only {n_words} words, fewer than the {limits.exact_min_words} the exact-excerpt index "
                       "always finds")
    caveats.append("a paraphrased or edited copy, or a copied passage shorter than "
                   f"{max(limits.passage, limits.exact_min_words)} words, can be missed")
    return {**row, "outcome": NO_MATCH, "detail": f"{looked} Not proof of absence: {'; '.join(caveats)}."}


def _matched(verified: list[dict], ngram: int) -> dict:
    """The outcome fields of a document with verified matches: every kind of match, and the best match's facts."""
    best = max(verified, key=lambda r: (r["containment_exact"], r["jaccard_exact"], r["longest_span_words"]))
    kinds = [k for k in (NEAR_DUPLICATE, CONTAINED, VERBATIM_PASSAGE)
             if any(k in r["matched_as"].split(", ") for r in verified)]
    first = best["matched_as"].split(", ")[0]
    match, longest = best["match"], best["longest_span_words"]
    if first == VERBATIM_PASSAGE:
        detail = f"It shares a verbatim passage of {longest} words with '{match}'."
    elif first == CONTAINED:
        detail = (f"It is contained in '{match}': {best['shared_ngrams']} of its {best['query_ngrams']} word "
                  f"{ngram}-grams are inside (containment {best['containment_exact']:.3f}); the longest verbatim "
                  f"passage is {longest} words.")
    else:
        detail = (f"It is a near-duplicate of '{match}' (exact Jaccard {best['jaccard_exact']:.3f}); the longest "
                  f"verbatim passage is {longest} words.")
    if len(verified) > 1:
        detail += f" {len(verified)} corpus documents match in all."
    return {"outcome": ", ".join(kinds), "best_match": match, "found_by": best["found_by"],
            "containment_exact": best["containment_exact"], "jaccard_exact": best["jaccard_exact"],
            "longest_span_words": longest, "detail": detail}
