"""Corpus overlap: is my text inside this dataset? A MinHash LSH index of a reference corpus, with exact checks.

A reference corpus (a folder, a .jsonl / .csv / .parquet table with a text column, a .zip of those) is cut into
word n-gram shingles (default 5 words, case-folded, punctuation ignored). Each document gets a MinHash signature
(datasketch's ``affine32`` scheme, default 128 permutations) and goes into two datasketch indexes, beside an exact
one:

- ``MinHashLSH`` finds near-duplicates: documents whose shingle sets have a high Jaccard similarity;
- ``MinHashLSHEnsemble`` finds containment: corpus documents that contain most of a (shorter) query document;
- the exact-excerpt index (``exact``: winnowed n-gram fingerprints, sorted numpy arrays) finds every corpus
  document sharing a verbatim passage of at least ``exact_min_words`` words (default 10) with a query, however much
  longer that document is (a licence preamble inside the whole licence), where MinHash estimates are too small.

Candidates from any of them are verified exactly against the stored corpus text (exact n-gram Jaccard, containment
and the longest run of identical words), and the longest matching word spans are located in both texts (character
offsets), so every match can be checked by reading it. Every queried document gets an outcome (near-duplicate,
contained, verbatim passage, or "no match found (not proof of absence)") with a sentence saying why.

On disk an index is a folder: ``overlap-index.json`` (format marker, version, parameters, a SHA-256 per file and one
over the whole manifest) and shards of ``.npz`` arrays (signatures, set sizes, text offsets), ``.exact.npz``
(fingerprints; both loaded with ``allow_pickle=False``), ``.names.json`` and ``.texts`` (the corpus texts, UTF-8).
Nothing is unpickled, so opening an index someone hands you runs no code. Adding documents writes a new shard (with
its own fingerprints); the exact-excerpt index is always loaded into memory, and the LSH structures are rebuilt
from the signatures on load, or kept in Redis (``storage_config={"type": "redis", "redis": {"host": ..., "port":
...}}``) where they persist between runs. Where they are kept is always the caller's choice: an index folder never
chooses a server to connect to (see ``storage``).

Modules: ``minhash`` (shingles, signatures, estimates), ``exact`` (winnowed fingerprints), ``spans`` (exact
overlap, matching spans), ``storage`` (in memory or Redis), ``index_folder`` (the on-disk format), ``index``
(OverlapIndex, build_index, load_index), ``query`` (query_index, per-document outcomes), ``workflow`` (the page's
actions, one call each: build from uploads and paths, open, look up, with the sentences and tables to show). Words
and corpus reading live in ``provenance.documents`` (``words``, ``corpus``); ``words``, ``word_spans`` and
``read_corpus`` are re-exported here for callers of this package.
"""

from ..documents import CORPUS_LIMITS, read_corpus
from ..documents.words import word_spans, words
from .index import AddReport, IndexParams, OverlapIndex, build_index, load_index
from .index_folder import FORMAT_NAME, FORMAT_VERSION, MANIFEST_NAME, OverlapIndexError
from .minhash import (containment_from_jaccard, estimated_jaccard, jaccard_standard_error, minhash_signatures,
                      permutations, shingle_hashes, shingles, text_signature)
from .query import (DOCUMENT_COLUMNS, EXACT_EXCERPT, MATCH_COLUMNS, NO_MATCH, SPAN_COLUMNS, OverlapResult,
                    query_index)
from .spans import Span, exact_overlap, matching_spans, maximal_matches

__all__ = ["AddReport", "CORPUS_LIMITS", "DOCUMENT_COLUMNS", "EXACT_EXCERPT", "FORMAT_NAME", "FORMAT_VERSION",
           "IndexParams", "MANIFEST_NAME", "MATCH_COLUMNS", "NO_MATCH", "OverlapIndex", "OverlapIndexError",
           "OverlapResult", "SPAN_COLUMNS", "Span", "build_index", "containment_from_jaccard", "estimated_jaccard",
           "exact_overlap", "jaccard_standard_error", "load_index", "matching_spans", "maximal_matches",
           "minhash_signatures", "permutations", "query_index", "read_corpus", "shingle_hashes", "shingles",
           "text_signature", "word_spans", "words"]
