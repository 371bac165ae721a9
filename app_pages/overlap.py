"""Corpus overlap: is my text inside this dataset? Build or open a MinHash LSH index (with an exact-excerpt index
beside it) of a reference corpus, query your documents against it, see every document's outcome, and read the
matching spans side by side.

Widgets, one call to ``provenance.overlap.workflow`` per action, and a view of what it returns."""

from datetime import datetime
from pathlib import Path

import streamlit as st

from provenance import charts
from provenance.overlap import IndexParams, OverlapIndexError
from provenance.overlap import workflow
from ui.highlight import highlighted, text_box
from ui.uploads import documents_input
from ui.widgets import plain, PhaseProgress, download_table, show_figure

CORPUS_TYPES = ["txt", "md", "html", "htm", "pdf", "docx", "jsonl", "csv", "parquet", "zip"]
KEEP_SESSION, KEEP_NEW, KEEP_APPEND = ("Only in this session", "Save to a new folder",
                                       "Add to the index in a folder")
REDIS_HELP = ("Only for LSH tables kept in a Redis server you run: HOST:PORT, e.g. localhost:6379 (a password is read "
              "from PROVENANCE_REDIS_PASSWORD). Empty keeps them in memory; 'memory' opens an index built with Redis "
              "in memory. An index folder never chooses a server itself.")
SIMILARITY_COLUMNS = ("jaccard_est", "containment_est", "jaccard_exact", "containment_exact",
                      "match_containment_exact")


def default_folder() -> Path:
    """A new folder under the index root, named once per session."""
    stamp = st.session_state.setdefault("overlap_stamp", f"{datetime.now():%Y%m%d-%H%M%S}")
    return workflow.index_root() / f"corpus-{stamp}"


def show_outcome(outcome: workflow.IndexOutcome, progress: PhaseProgress) -> None:
    """Per-file warnings, the end of the progress bar, and the error or the new index kept in the session."""
    for err in outcome.errors:
        st.warning(f"{'Repaired' if err.kept else 'Skipped'} {plain(err)}", icon=":material/warning:")
    progress.finish(outcome.finished)
    if outcome.index is None:
        st.error(outcome.failure)
        return
    st.session_state["overlap_index"] = outcome.index
    st.session_state["overlap_index_source"] = outcome.source
    st.session_state.pop("overlap_result", None)
    if outcome.message:
        st.success(outcome.message)


def build_tab() -> None:
    corpus_files = st.file_uploader("Corpus files", type=CORPUS_TYPES, accept_multiple_files=True,
                                    key="overlap_corpus_files",
                                    help="txt, md, html, pdf, docx; jsonl, csv or parquet tables with a text "
                                         "column (one document per row); or a zip of these")
    corpus_path = st.text_input("... or a corpus file or folder on this computer", key="overlap_corpus_path",
                                placeholder="/data/corpus or /data/corpus.parquet",
                                help="For corpora too large to upload: a folder (read recursively), a .jsonl, .csv "
                                     "or .parquet table with a text column, or a .zip of these.").strip()
    with st.expander("Settings", icon=":material/tune:"):
        cols = st.columns(3)
        ngram = cols[0].number_input("Words per n-gram", 1, 64, IndexParams.ngram, key="overlap_ngram",
                                     help="Texts are compared as sets of overlapping word n-grams (case and "
                                          "punctuation ignored). 5 is typical; smaller finds more loosely related "
                                          "texts.")
        num_perm = cols[1].select_slider("MinHash permutations", [64, 128, 256, 512], IndexParams.num_perm,
                                         key="overlap_num_perm",
                                         help="More permutations estimate similarities more precisely (standard "
                                              "error about √(J(1−J)/permutations)) but take more memory and time.")
        text_column = cols[2].text_input("Text column of tables", "text", key="overlap_text_column")
        cols = st.columns(3)
        jaccard_threshold = cols[0].slider("Near-duplicate threshold (Jaccard)", 0.05, 0.95,
                                           IndexParams.jaccard_threshold, 0.05, key="overlap_jaccard_threshold")
        containment_threshold = cols[1].slider("Containment threshold", 0.05, 0.95,
                                               IndexParams.containment_threshold, 0.05,
                                               key="overlap_containment_threshold",
                                               help="Share of your document's n-grams that must be inside a corpus "
                                                    "document.")
        recall_weight = cols[2].slider("Containment recall weight", 0.1, 0.95, IndexParams.ensemble_recall_weight,
                                       0.05, key="overlap_recall_weight",
                                       help="0.5 finds a text reliably inside documents up to about twice its "
                                            "length by MinHash; about 0.9 finds more of the texts that are mostly, "
                                            "not wholly, inside much longer documents, at about 3.5 times the "
                                            "memory. Verbatim excerpts are found by the exact-excerpt index anyway.")
        cols = st.columns(3)
        exact_min_words = cols[0].number_input(
            "Shortest verbatim passage always found (words)", 1, 1000, IndexParams.exact_min_words,
            key="overlap_exact_min_words",
            help="The exact-excerpt index finds every passage of at least this many words that one of your documents "
                 "shares word for word with a corpus document, however much longer that document is. At least the "
                 "words per n-gram; smaller takes more memory (about 12 bytes × 2 / (this − n-gram words + 2) per "
                 "corpus word: 3.4 bytes a word at 10 with 5-grams).")
        redis = st.text_input("Redis server (optional)", key="overlap_build_redis", placeholder="localhost:6379",
                              help=REDIS_HELP)
    keep = st.radio("Keep the index", [KEEP_SESSION, KEEP_NEW, KEEP_APPEND], horizontal=True, key="overlap_keep")
    folder_text = ""
    if keep != KEEP_SESSION:
        folder_text = st.text_input("Index folder", key="overlap_build_folder", value=str(default_folder()),
                                    help="A new folder is created if needed; name it after the corpus so you can "
                                         "reopen it later.")
        if keep == KEEP_APPEND:
            st.caption("The documents are added to the index already in this folder, hashed with that index's own "
                       "settings (the settings above are not used).")
    label = "Add to the index" if keep == KEEP_APPEND else "Build the index"
    sources = len(corpus_files) + bool(corpus_path)
    if not st.button(f"{label} ({sources} source(s))" if sources else label, type="primary",
                     disabled=not sources or (keep != KEEP_SESSION and not folder_text.strip()), key="overlap_build"):
        return
    st.button("Stop", icon=":material/stop_circle:", key="overlap_build_stop",
              help="Stops the build; nothing is saved.")
    progress = PhaseProgress(workflow.APPEND_PHASES if keep == KEEP_APPEND else workflow.BUILD_PHASES)
    params = IndexParams(ngram=int(ngram), num_perm=int(num_perm), jaccard_threshold=float(jaccard_threshold),
                         containment_threshold=float(containment_threshold),
                         ensemble_recall_weight=float(recall_weight), exact_min_words=int(exact_min_words))
    outcome = workflow.build_from_sources([(f.name, f.getvalue()) for f in corpus_files],
                                          [corpus_path] if corpus_path else [],
                                          folder_text.strip() if keep != KEEP_SESSION else None, params=params,
                                          append=keep == KEEP_APPEND, text_column=text_column, redis=redis,
                                          progress=progress)
    show_outcome(outcome, progress)


def open_tab() -> None:
    open_text = st.text_input("Index folder", key="overlap_open_folder",
                              placeholder=str(workflow.index_root() / "my-corpus"),
                              help="A folder written by this page or by 'python -m provenance overlap build'. Files "
                                   "are checked against their checksums; nothing in them is run.")
    redis = st.text_input("Redis server (optional)", key="overlap_open_redis", placeholder="localhost:6379",
                          help=REDIS_HELP)
    if st.button("Open", type="primary", disabled=not open_text.strip(), key="overlap_open"):
        progress = PhaseProgress(workflow.OPEN_PHASES)
        show_outcome(workflow.open_index(open_text.strip(), redis=redis, progress=progress), progress)


def index_box(index) -> None:
    """What the index in this session holds, and a way to save it while it has unsaved documents."""
    unsaved = index.describe()["unsaved_documents"]
    with st.container(border=True):
        st.markdown(f"**Index:** {workflow.index_summary(index)}")
        st.caption(f"{st.session_state.get('overlap_index_source', '')}."
                   + (f" {unsaved:,} document(s) not saved yet." if unsaved else ""))
        if unsaved:
            cols = st.columns([4, 1], vertical_alignment="bottom")
            save_text = cols[0].text_input("Save it to a folder", key="overlap_save_folder",
                                           value=str(default_folder()))
            if cols[1].button("Save", key="overlap_save", disabled=not save_text.strip()):
                try:
                    saved = index.save(Path(save_text.strip()).expanduser())
                except (OverlapIndexError, OSError) as exc:
                    st.error(str(exc))
                else:
                    st.session_state["overlap_index_source"] = f"saved in `{saved}`"
                    st.success(f"Saved in `{saved}`; reopen it later with 'Open a saved index'.")


def query_section(index) -> None:
    """Your documents (uploads or pasted), the reporting thresholds, and the lookup with progress."""
    st.subheader("2. Your documents")
    queries, query_errors = documents_input("Documents to look up", key="overlap_query")
    with st.expander("Which matches to report", icon=":material/tune:"):
        cols = st.columns(3)
        min_jaccard = cols[0].slider("Exact Jaccard at least", 0.05, 1.0, float(index.params.jaccard_threshold), 0.05,
                                     key="overlap_min_jaccard")
        min_containment = cols[1].slider("or exact containment at least", 0.05, 1.0,
                                         float(index.params.containment_threshold), 0.05, key="overlap_min_containment")
        max_candidates = cols[2].number_input("Candidates checked per document", 1, 1000, 50, key="overlap_max_cand")
        cols = st.columns(3)
        exact_words = index.params.exact_min_words
        min_passage = cols[0].number_input(
            "or a verbatim passage of at least (words)", index.params.ngram, 1000, exact_words,
            key="overlap_min_passage",
            help=f"This index always finds shared passages of {exact_words} words or more; shorter ones only by "
                 "chance.")
        st.caption("The index proposes candidates whose estimated similarity passes its thresholds, and every corpus "
                   f"document sharing a verbatim passage of {exact_words}+ words with yours; each is then checked "
                   "exactly against the corpus text, and reported when its exact Jaccard or containment, or its "
                   "longest run of identical words, reaches these values.")
    for err in query_errors:
        st.warning(f"{'Repaired' if err.kept else 'Skipped'} {plain(err)}", icon=":material/warning:")
    if st.button(f"Look up {len(queries)} document(s)" if queries else "Look up", type="primary", disabled=not queries,
                 key="overlap_query"):
        st.button("Stop", icon=":material/stop_circle:", key="overlap_query_stop")
        progress = PhaseProgress(workflow.QUERY_PHASES)
        lookup = workflow.look_up(index, queries, min_jaccard=min_jaccard, min_containment=min_containment,
                                  min_passage_words=int(min_passage), max_candidates=max_candidates,
                                  progress=progress)
        progress.finish(lookup.finished)
        if lookup.failure:
            st.error(lookup.failure)
        else:
            st.session_state["overlap_result"] = lookup


def documents_table(lookup: workflow.Lookup) -> None:
    """Every document looked up, in the order given, with its outcome and the sentence saying why (plain text)."""
    documents = lookup.documents
    if not len(documents):
        return
    st.markdown("**Every document you looked up**")
    st.dataframe(documents, hide_index=True, width="stretch",
                 column_config={"containment_exact": st.column_config.NumberColumn("containment exact",
                                                                                   format="%.3f"),
                                "jaccard_exact": st.column_config.NumberColumn("jaccard exact", format="%.3f"),
                                "longest_span_words": st.column_config.NumberColumn("longest span (words)"),
                                "best_match": st.column_config.TextColumn("best match"),
                                "found_by": st.column_config.TextColumn("found by"),
                                "candidates": st.column_config.NumberColumn("candidates checked"),
                                "detail": st.column_config.TextColumn("why", width="large")})
    download_table(documents, "overlap-documents", key="overlap_documents")


def results_section(index, lookup: workflow.Lookup) -> None:
    """Summary sentence, matches table, every document's outcome, side-by-side spans and the similarity
    histogram."""
    st.divider()
    st.subheader("3. What was found")
    for reason in lookup.result.errors.values():
        st.warning(reason, icon=":material/warning:")
    sentence = lookup.summary()
    if sentence:
        st.markdown(f"#### {sentence}")
    else:
        st.info(lookup.nothing_found(), icon=":material/search_off:")

    show_all = st.toggle("Also list candidates that failed the exact check", key="overlap_show_all",
                         help="Candidates the index proposed whose exact similarity is below the thresholds.")
    if len(lookup.table(show_all=show_all)):
        sort_by = st.selectbox("Sort by", workflow.SORT_COLUMNS, key="overlap_sort",
                               format_func=lambda c: c.replace("_", " "))
        table = lookup.table(show_all=show_all, sort_by=sort_by)
        similarity = {c: st.column_config.NumberColumn(c.replace("_", " "), format="%.3f") for c in SIMILARITY_COLUMNS}
        st.dataframe(table, hide_index=True, width="stretch",
                     column_config={**similarity,
                                    "longest_span_words": st.column_config.NumberColumn("longest span (words)"),
                                    "longest_span": st.column_config.TextColumn("longest span", width="large"),
                                    "matched_as": st.column_config.TextColumn("matched as"),
                                    "found_by": st.column_config.TextColumn("found by")})
        download_table(table, "overlap-matches", key="overlap_table")

    documents_table(lookup)

    if len(lookup.verified):
        st.markdown("**Side by side**")
        pick = st.selectbox("Match", list(range(len(lookup.verified))), key="overlap_pick",
                            format_func=lookup.match_label)
        try:
            view = lookup.side_by_side(index, int(pick or 0))
        except OverlapIndexError as exc:
            st.error(str(exc))
        else:
            st.caption(view.caption)
            left, right = st.columns(2)
            with left:
                text_box(f"Your document: {view.document}", highlighted(view.document_text, view.document_spans))
            with right:
                text_box(f"Corpus document: {view.match}", highlighted(view.match_text, view.match_spans))

    if len(lookup.result.matches):
        show_figure(charts.similarity_histogram(lookup.result.matches, jaccard_threshold=lookup.min_jaccard,
                                                containment_threshold=lookup.min_containment),
                    "overlap-similarities", "fig_overlap_similarities")


st.title("Corpus overlap")
st.caption("Is my text inside this public dataset? Index a reference corpus you can download but not read whole "
           "(MinHash signatures of word n-grams in datasketch's LSH indexes, and an exact-excerpt index of winnowed "
           "n-gram fingerprints), then look up your documents: near-duplicates (Jaccard similarity), corpus "
           "documents that contain yours (containment) and every verbatim passage of 10+ words (by default) inside a "
           "corpus document, however long, are found in seconds, checked exactly, and the matching passages are shown "
           "side by side. Every document gets an outcome; 'no match found' is not proof of absence.")

st.subheader("1. The reference corpus")
build, open_saved = st.tabs(["Build an index from files", "Open a saved index"])
with build:
    build_tab()
with open_saved:
    open_tab()

index = st.session_state.get("overlap_index")
if index is None:
    st.info("Build an index from your corpus files or open a saved index folder to start.")
else:
    index_box(index)
    query_section(index)
    if st.session_state.get("overlap_result") is not None:
        results_section(index, st.session_state["overlap_result"])
