"""What a person does with corpus overlap, one call each: build (or extend) an index from uploaded files and folders,
open a saved index, look documents up; and what the answers look like (sentences, tables, matches side by side).

The Corpus overlap page is widgets around these calls. Every call returns a value holding the sentences to show;
failures a user can act on (a folder that already holds an index, a damaged index) are values too, never lost
warnings: ``failure`` is a sentence, and the per-file problems found before it are kept beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..documents import Document, IngestError
from ..documents.corpus import read_corpus
from .. import paths
from .index import IndexParams, OverlapIndex, ProgressFn, StopFn, build_index, load_index
from .index_folder import OverlapIndexError
from .query import OverlapResult, query_index
from .storage import parse_redis_address

# Progress phases as (label, what is counted), in the order the calls below report them; each phase ends with
# done == total.
BUILD_PHASES = [("Reading the corpus", "sources"),
                ("Hashing documents (MinHash signatures, exact-excerpt fingerprints)", "documents"),
                ("Near-duplicate index (MinHashLSH)", "documents"), ("Containment index (LSH Ensemble)", "documents")]
APPEND_PHASES = BUILD_PHASES[:1] + [("Opening the existing index", "documents")] + BUILD_PHASES[1:]
OPEN_PHASES = BUILD_PHASES[2:]
QUERY_PHASES = [("Comparing with the corpus", "documents")]

# Columns of the matches table a page shows, in this order (a subset of query.MATCH_COLUMNS).
TABLE_COLUMNS = ["document", "match", "matched_as", "jaccard_est", "containment_est", "jaccard_exact",
                 "containment_exact", "match_containment_exact", "longest_span_words", "longest_span", "found_by",
                 "shared_ngrams", "query_ngrams", "match_ngrams", "shared_fingerprints", "verified", "match_id"]
SORT_COLUMNS = ["containment_exact", "jaccard_exact", "longest_span_words", "jaccard_est", "containment_est",
                "document"]


def index_root() -> Path:
    """Where indexes are saved by default (``paths.indexes_dir``)."""
    return paths.indexes_dir()


def index_summary(index: OverlapIndex) -> str:
    """One line of facts about an index: documents, n-gram size, permutations, thresholds and the shortest verbatim
    passage the exact-excerpt index always finds."""
    facts = index.describe()
    return (f"{facts['documents']:,} document(s) · word {facts['ngram']}-grams · {facts['num_perm']} permutations · "
            f"near-duplicate threshold {facts['jaccard_threshold']:g} · containment threshold "
            f"{facts['containment_threshold']:g} · verbatim passages of {facts['exact_min_words']}+ words always "
            "found")


# ---------------------------------------------------------------------------------------------- building, opening


@dataclass
class IndexOutcome:
    """The answer to building or opening an index: the index (None on failure), where it came from (``source``:
    'built from 2 uploaded file(s), kept in this session only'), the sentence that ends the progress bar
    (``finished``), the sentence to show on success (``message``, may be empty) or on failure (``failure``), and
    one IngestError per input or document that could not be used."""

    index: OverlapIndex | None
    source: str = ""
    finished: str = ""
    message: str = ""
    failure: str = ""
    errors: list[IngestError] = field(default_factory=list)


def build_from_sources(uploads: Sequence[tuple[str, bytes]] = (), paths: Sequence[str | Path] = (),
                       directory: str | Path | None = None, *, params: IndexParams = IndexParams(),
                       append: bool = False, text_column: str = "text", redis: str = "",
                       progress: ProgressFn | None = None, should_stop: StopFn | None = None) -> IndexOutcome:
    """Read a corpus from uploaded files ((name, bytes) pairs, read in memory) and paths on this computer, and
    build an index of it (saved in ``directory`` when given; added to the index there when ``append``).

    ``redis`` is the Redis server the user typed for the LSH tables ('HOST:PORT'; '' = in memory; 'memory' opens
    an index built with Redis in memory when appending): the only place a server can come from.

    ``progress(done, total)`` reports the phases of ``APPEND_PHASES`` when appending, else ``BUILD_PHASES``.
    """
    what = " and ".join(([f"{len(uploads)} uploaded file(s)"] if uploads else [])
                        + [f"`{p}`" for p in paths])
    try:
        params = params.validate()
        storage = parse_redis_address(redis)
    except ValueError as exc:
        return IndexOutcome(index=None, finished="The index was not built.", failure=str(exc))
    documents, errors = read_corpus([Path(p).expanduser() for p in paths], uploads=uploads,
                                    text_column=text_column.strip() or "text", progress=progress)
    folder = Path(directory).expanduser() if directory is not None else None
    try:
        index, skipped = build_index(documents, folder, params=params, append=append, storage_config=storage,
                                     progress=progress, should_stop=should_stop)
    except (OverlapIndexError, ValueError, OSError) as exc:
        return IndexOutcome(index=None, finished="The index was not built.", failure=str(exc), errors=errors)
    where = f"saved in `{folder}`" if folder is not None else "kept in this session only"
    return IndexOutcome(index=index, source=f"built from {what}, {where}",
                        finished=f"Indexed {len(documents) - len(skipped)} document(s).",
                        message=f"The index holds {len(index):,} document(s), {where}.", errors=errors + skipped)


def open_index(directory: str | Path, *, redis: str = "", progress: ProgressFn | None = None) -> IndexOutcome:
    """Open a saved index and build its LSH structures (``OPEN_PHASES``), ready to query.

    ``redis`` is the Redis server the user typed ('HOST:PORT', or 'memory'); the folder's manifest never chooses
    one: an index built with Redis is refused with a sentence until the user names its server or 'memory'."""
    folder = Path(directory).expanduser()
    try:
        index = load_index(folder, storage_config=parse_redis_address(redis), progress=progress)
        index.prepare(containment=True, progress=progress)
    except (OverlapIndexError, ValueError, OSError) as exc:
        return IndexOutcome(index=None, finished="The index was not opened.", failure=str(exc))
    return IndexOutcome(index=index, source=f"opened from `{folder}`", finished=f"Opened {len(index):,} document(s).")


# ---------------------------------------------------------------------------------------------- looking up


@dataclass
class MatchView:
    """One verified match, ready to show side by side: both texts with the [start, end) character ranges of their
    matching spans, and a caption."""

    document: str
    document_text: str
    document_spans: list[tuple[int, int]]
    match: str
    match_text: str
    match_spans: list[tuple[int, int]]
    caption: str


@dataclass
class Lookup:
    """The answer to looking documents up: the query result, the texts looked up (name -> text), the thresholds a
    match had to reach (exact Jaccard, containment, or a verbatim passage of ``min_passage_words`` words), and facts
    about the index it was compared with (``exact_min_words``: the shortest verbatim passage it always finds)."""

    result: OverlapResult
    texts: dict[str, str]
    min_jaccard: float
    min_containment: float
    ngram: int
    corpus_documents: int
    finished: str = ""
    failure: str = ""
    min_passage_words: int = 10
    exact_min_words: int = 10

    @property
    def verified(self) -> pd.DataFrame:
        """The matches whose exact similarity reached a threshold (MATCH_COLUMNS)."""
        matches = self.result.matches
        return matches[matches["verified"]] if len(matches) else matches

    @property
    def documents(self) -> pd.DataFrame:
        """Every document looked up, in the order given, with its outcome (``query.DOCUMENT_COLUMNS``): how it
        matched, or 'no match found (not proof of absence)', and a sentence saying why."""
        return self.result.documents

    def summary(self) -> str:
        """'2 of your 3 document(s) have near-duplicates or are contained in the corpus: ...', or '' if none has.
        Documents that only share a verbatim passage with a corpus document are counted too ('... or share
        verbatim passages with the corpus')."""
        found = self.verified
        near = set(found.loc[found["jaccard_exact"] >= self.min_jaccard, "document"]) if len(found) else set()
        inside = set(found.loc[found["containment_exact"] >= self.min_containment, "document"]) if len(found) \
            else set()
        passage = set(found["document"]) - near - inside if len(found) else set()
        hit = near | inside | passage
        if not hit:
            return ""
        has, are, share = ("has", "is", "shares") if len(hit) == 1 else ("have", "are", "share")
        parts = []
        if near:
            parts.append(f"{len(near)} with a near-duplicate (exact Jaccard ≥ {self.min_jaccard:g})")
        if inside:
            parts.append(f"{len(inside)} contained in a corpus document (≥ {self.min_containment:.0%} of its word "
                         f"{self.ngram}-grams inside)")
        if passage:
            parts.append(f"{len(passage)} sharing a verbatim passage of {self.min_passage_words}+ words with a corpus "
                         "document")
        kinds = (f"{has} near-duplicates or {are} contained in the corpus" if not passage else
                 f"{has} near-duplicates, {are} contained in or {share} verbatim passages with the corpus")
        return (f"{len(hit)} of your {len(self.texts)} document(s) {kinds}: {' and '.join(parts)}; "
                f"{found['match'].nunique()} corpus document(s) match in all.")

    def nothing_found(self) -> str:
        """The sentence for a lookup without verified matches, saying what absence does not prove."""
        shortest = max(self.min_passage_words, self.exact_min_words)
        return (f"None of your {len(self.texts)} document(s) has a near-duplicate in the corpus, is contained in "
                f"one of its {self.corpus_documents:,} documents or shares a verbatim passage of "
                f"{self.min_passage_words}+ words with one (exact Jaccard ≥ {self.min_jaccard:g}, containment ≥ "
                f"{self.min_containment:g}). This is not proof of absence: a paraphrased or heavily edited copy, or "
                f"a copied passage shorter than {shortest} words, can stay below the thresholds.")

    def table(self, *, show_all: bool = False, sort_by: str = "containment_exact") -> pd.DataFrame:
        """The matches to list (TABLE_COLUMNS): verified ones, or with ``show_all`` every candidate checked, sorted
        by ``sort_by`` (one of SORT_COLUMNS; numbers descending, then by document)."""
        table = (self.result.matches if show_all else self.verified)[TABLE_COLUMNS]
        if not len(table):
            return table.reset_index(drop=True)
        keys = [sort_by] if sort_by == "document" else [sort_by, "document"]
        table = table.sort_values(keys, ascending=[k == "document" for k in keys], kind="stable")
        return table.reset_index(drop=True)

    def match_label(self, position: int) -> str:
        """How the verified match at ``position`` is named in a picker: 'a.txt ↔ b.txt (containment 0.95, Jaccard
        0.91, longest passage 120 words)'."""
        row = self.verified.iloc[position]
        return (f"{row['document']} ↔ {row['match']} (containment {row['containment_exact']:.2f}, Jaccard "
                f"{row['jaccard_exact']:.2f}, longest passage {row['longest_span_words']} words)")

    def side_by_side(self, index: OverlapIndex, position: int) -> MatchView:
        """The verified match at ``position`` (clamped to the list) with its spans in both texts. Raises
        OverlapIndexError when the corpus text can no longer be read from the index folder."""
        verified = self.verified
        row = verified.iloc[min(max(int(position), 0), len(verified) - 1)]
        spans = self.result.spans[(self.result.spans["document"] == row["document"])
                                  & (self.result.spans["match_id"] == row["match_id"])]
        try:
            match_text = index.document_text(int(row["match_id"]))
        except IndexError as exc:
            raise OverlapIndexError(str(exc)) from exc
        caption = (f"Highlighted: the {len(spans)} longest run(s) of identical words (case and punctuation ignored), "
                   f"{', '.join(str(w) for w in spans['words'])} words.")
        return MatchView(document=str(row["document"]), document_text=self.texts.get(row["document"], ""),
                         document_spans=list(zip(spans["query_start"], spans["query_end"])),
                         match=str(row["match"]), match_text=match_text,
                         match_spans=list(zip(spans["match_start"], spans["match_end"])), caption=caption)


def look_up(index: OverlapIndex, documents: Sequence[Document], *, min_jaccard: float, min_containment: float,
            min_passage_words: int | None = None, max_candidates: int = 50,
            progress: ProgressFn | None = None) -> Lookup:
    """Look documents up in an index, keeping every candidate checked (verified or not) so a page can list both.
    ``min_jaccard`` / ``min_containment``: the exact similarity a match must reach, in [0, 1];
    ``min_passage_words``: or the length of a verbatim passage shared with it (default: the index's
    ``exact_min_words``, the shortest passage its exact-excerpt index always finds)."""
    empty = OverlapResult(matches=pd.DataFrame(), spans=pd.DataFrame(), errors={})
    passage = index.params.exact_min_words if min_passage_words is None else int(min_passage_words)
    lookup = Lookup(result=empty, texts={d.name: d.text for d in documents}, min_jaccard=float(min_jaccard),
                    min_containment=float(min_containment), ngram=index.params.ngram, corpus_documents=len(index),
                    min_passage_words=passage, exact_min_words=index.params.exact_min_words)
    try:
        lookup.result = query_index(index, documents, min_jaccard=float(min_jaccard),
                                    min_containment=float(min_containment), min_passage_words=passage,
                                    only_verified=False, max_candidates=int(max_candidates), progress=progress)
    except (OverlapIndexError, ValueError, OSError) as exc:
        lookup.finished, lookup.failure = "The lookup stopped.", str(exc)
        return lookup
    lookup.finished = f"Compared {len(documents)} document(s) with {len(index):,} corpus document(s)."
    return lookup
