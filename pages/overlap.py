"""Corpus overlap: is my text inside this dataset? Build or open a MinHash LSH index of a reference corpus, query your
documents against it, and read the matching spans side by side."""

import html
import os
import tempfile
import time
from datetime import datetime
from pathlib import Path

import pandas as pd
import streamlit as st

from provenance import charts
from provenance import overlap
from provenance.documents import Document, safe_filename, unique_names
from provenance.overlap import IndexParams, OverlapIndexError
from ui.uploads import documents_input
from ui.widgets import download_table, format_seconds, show_figure

CORPUS_TYPES = ["txt", "md", "html", "htm", "pdf", "docx", "jsonl", "csv", "parquet", "zip"]
KEEP_SESSION, KEEP_NEW, KEEP_APPEND = ("Only in this session", "Save to a new folder",
                                       "Add to the index in a folder")
BUILD_PHASES = ["Hashing documents (MinHash signatures)", "Near-duplicate index (MinHashLSH)",
                "Containment index (LSH Ensemble)"]
APPEND_PHASES = ["Opening the existing index"] + BUILD_PHASES
OPEN_PHASES = ["Near-duplicate index (MinHashLSH)", "Containment index (LSH Ensemble)"]
MAX_SHOWN_CHARS = 20_000  # longer texts are shown as excerpts around the matching spans
TABLE_COLUMNS = ["document", "match", "jaccard_est", "containment_est", "jaccard_exact", "containment_exact",
                 "match_containment_exact", "longest_span_words", "longest_span", "found_by", "shared_ngrams",
                 "query_ngrams", "match_ngrams", "verified", "match_id"]


def index_root() -> Path:
    """Where indexes are saved by default: $PROVENANCE_CACHE/indexes or ~/.cache/provenance/indexes."""
    base = os.environ.get("PROVENANCE_CACHE") or os.path.join(Path.home(), ".cache", "provenance")
    return Path(base) / "indexes"


class PhaseProgress:
    """A progress bar for the backend's ``progress(done, total)`` callbacks, which run phase after phase (each phase
    ends with done == total): shows which phase is running, how far it is and the time left."""

    def __init__(self, phases: list[str], unit: str = "documents"):
        self.phases, self.unit = phases, unit
        self.phase, self.phase_done = 0, False
        self.start = time.time()
        self.bar = st.progress(0.0, text=f"{self._step()}: starting...")

    def _step(self) -> str:
        prefix = f"Step {self.phase + 1} of {len(self.phases)}: " if len(self.phases) > 1 else ""
        return prefix + self.phases[self.phase]

    def __call__(self, done: int, total: int) -> None:
        if self.phase_done and self.phase + 1 < len(self.phases):
            self.phase, self.start = self.phase + 1, time.time()
        self.phase_done = total > 0 and done >= total
        fraction = done / total if total else 1.0
        elapsed = time.time() - self.start
        left = elapsed / fraction - elapsed if 0.02 < fraction < 1 else None
        when = f", about {format_seconds(left)} left" if left is not None else ""
        self.bar.progress(min(1.0, fraction), text=f"{self._step()}: {done:,} of {total:,} {self.unit}{when}")

    def finish(self, message: str) -> None:
        self.bar.progress(1.0, text=message)


def write_uploads(files, folder: Path) -> None:
    """Write uploaded files into ``folder`` under safe, distinct names (never a path the upload chose)."""
    for f in files:
        name = safe_filename(f.name)
        path, n = folder / name, 1
        while path.exists():
            n += 1
            stem, dot, ext = name.rpartition(".")
            path = folder / (f"{stem} ({n}).{ext}" if dot else f"{name} ({n})")
        path.write_bytes(f.getvalue())


def without_folder(name: str, folder: Path) -> str:
    """A corpus document name as the user knows it: the temporary folder's path removed."""
    prefix = str(folder) + os.sep
    return name[len(prefix):] if name.startswith(prefix) else name


def default_folder() -> Path:
    """A new folder under index_root(), named once per session."""
    stamp = st.session_state.setdefault("overlap_stamp", f"{datetime.now():%Y%m%d-%H%M%S}")
    return index_root() / f"corpus-{stamp}"


def set_index(index, source: str) -> None:
    st.session_state["overlap_index"] = index
    st.session_state["overlap_index_source"] = source
    st.session_state.pop("overlap_result", None)


_MARKDOWN_CHARS = {ord(ch): f"&#{ord(ch)};" for ch in "\\`*_{}[]()+-!|~$"}  # html.escape's output has none


def markdown_safe(text: str) -> str:
    """User text as HTML that shows exactly that text: html.escape'd, and every HTML, markdown or LaTeX character
    turned into a character reference so st.markdown renders it as itself; newlines become <br> (a blank line
    would end the HTML block)."""
    escaped = html.escape(text, quote=True).translate(_MARKDOWN_CHARS)
    return escaped.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def highlighted(text: str, spans: list[tuple[int, int]], *, context: int = 300) -> str:
    """``text`` as safe HTML with the [start, end) character ``spans`` inside <mark>; a text longer than
    MAX_SHOWN_CHARS is cut to the spans and ``context`` characters around each."""
    spans = merge_spans([(max(0, s), min(len(text), e)) for s, e in spans if e > s])
    if len(text) <= MAX_SHOWN_CHARS:
        windows = [(0, len(text))]
    else:
        windows = merge_spans([(max(0, s - context), min(len(text), e + context)) for s, e in spans]) or \
            [(0, min(len(text), MAX_SHOWN_CHARS))]
    parts = []
    for w_start, w_end in windows:
        if w_start > 0:
            parts.append(" … ")
        pos = w_start
        for s, e in spans:
            if e <= w_start or s >= w_end:
                continue
            s, e = max(s, w_start), min(e, w_end)
            parts.append(markdown_safe(text[pos:s]))
            parts.append(f"<mark>{markdown_safe(text[s:e])}</mark>")
            pos = e
        parts.append(markdown_safe(text[pos:w_end]))
    if windows[-1][1] < len(text):
        parts.append(" … ")
    return "".join(parts)


def text_box(title: str, body_html: str) -> None:
    st.markdown(f"<strong>{markdown_safe(title)}</strong>", unsafe_allow_html=True)
    st.markdown('<div style="max-height: 480px; overflow-y: auto; border: 1px solid rgba(128,128,128,0.35); '
                f'border-radius: 0.5rem; padding: 0.75rem; line-height: 1.6;">{body_html}</div>',
                unsafe_allow_html=True)


def summary_sentence(matches: pd.DataFrame, names: list[str], jaccard: float, containment: float,
                     ngram: int) -> str:
    found = matches[matches["verified"]] if len(matches) else matches
    near = set(found.loc[found["jaccard_exact"] >= jaccard, "document"]) if len(found) else set()
    inside = set(found.loc[found["containment_exact"] >= containment, "document"]) if len(found) else set()
    hit = near | inside
    n = len(names)
    if not hit:
        return ""
    has, are = ("has", "is") if len(hit) == 1 else ("have", "are")
    parts = []
    if near:
        parts.append(f"{len(near)} with a near-duplicate (exact Jaccard ≥ {jaccard:g})")
    if inside:
        parts.append(f"{len(inside)} contained in a corpus document (≥ {containment:.0%} of its word "
                     f"{ngram}-grams inside)")
    return (f"{len(hit)} of your {n} document(s) {has} near-duplicates or {are} contained in the corpus: "
            f"{' and '.join(parts)}; {found['match'].nunique()} corpus document(s) match in all.")


def index_box(index) -> None:
    """What the index in this session holds, and a way to save it while it has unsaved documents."""
    facts = index.describe()
    with st.container(border=True):
        st.markdown(f"**Index:** {facts['documents']:,} document(s) · word {facts['ngram']}-grams · "
                    f"{facts['num_perm']} permutations · near-duplicate threshold {facts['jaccard_threshold']:g} · "
                    f"containment threshold {facts['containment_threshold']:g}")
        unsaved = facts["unsaved_documents"]
        st.caption(f"{st.session_state.get('overlap_index_source', '')}."
                   + (f" {unsaved:,} document(s) not saved yet." if unsaved else ""))
        if facts["unsaved_documents"]:
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
        st.caption("The index proposes candidates whose estimated similarity passes its thresholds; each is then "
                   "checked exactly against the corpus text, and reported when its exact Jaccard or containment "
                   "reaches these values.")

    for err in query_errors:
        st.warning(f"Skipped {err}", icon=":material/warning:")

    if st.button(f"Look up {len(queries)} document(s)" if queries else "Look up", type="primary", disabled=not queries,
                 key="overlap_query"):
        st.button("Stop", icon=":material/stop_circle:", key="overlap_query_stop")
        progress = PhaseProgress(["Comparing with the corpus"])
        try:
            result = overlap.query_index(index, queries, min_jaccard=float(min_jaccard),
                                         min_containment=float(min_containment), only_verified=False,
                                         max_candidates=int(max_candidates), progress=progress)
        except (OverlapIndexError, ValueError, OSError) as exc:
            progress.finish("The lookup stopped.")
            st.error(str(exc))
        else:
            progress.finish(f"Compared {len(queries)} document(s) with {len(index):,} corpus document(s).")
            st.session_state["overlap_result"] = {"result": result, "texts": {d.name: d.text for d in queries},
                                                  "thresholds": (float(min_jaccard), float(min_containment))}


def results_section(index, shown: dict) -> None:
    """Summary sentence, matches table, side-by-side spans and the similarity histogram."""
    result, texts = shown["result"], shown["texts"]
    min_jaccard_used, min_containment_used = shown["thresholds"]
    st.divider()
    st.subheader("3. What was found")
    for reason in result.errors.values():
        st.warning(reason, icon=":material/warning:")
    verified = result.matches[result.matches["verified"]] if len(result.matches) else result.matches
    sentence = summary_sentence(result.matches, list(texts), min_jaccard_used, min_containment_used,
                                index.params.ngram)
    if sentence:
        st.markdown(f"#### {sentence}")
    else:
        st.info(f"None of your {len(texts)} document(s) has a near-duplicate in the corpus or is contained in one of "
                f"its {len(index):,} documents (exact Jaccard ≥ {min_jaccard_used:g} or containment ≥ "
                f"{min_containment_used:g}). This is not proof of absence: a short excerpt of a much longer document, "
                "or a heavily edited copy, can stay below the thresholds; a lower containment threshold or a higher "
                "recall weight finds more.", icon=":material/search_off:")

    show_all = st.toggle("Also list candidates that failed the exact check", key="overlap_show_all",
                         help="Candidates the index proposed whose exact similarity is below the thresholds.")
    table = (result.matches if show_all else verified)[TABLE_COLUMNS]
    if len(table):
        sort_by = st.selectbox("Sort by", ["containment_exact", "jaccard_exact", "longest_span_words", "jaccard_est",
                                           "containment_est", "document"], key="overlap_sort",
                               format_func=lambda c: c.replace("_", " "))
        keys = [sort_by] if sort_by == "document" else [sort_by, "document"]
        table = table.sort_values(keys, ascending=[k == "document" for k in keys], kind="stable")
        table = table.reset_index(drop=True)
        similarity = {c: st.column_config.NumberColumn(c.replace("_", " "), format="%.3f")
                      for c in ("jaccard_est", "containment_est", "jaccard_exact", "containment_exact",
                                "match_containment_exact")}
        st.dataframe(table, hide_index=True, width="stretch",
                     column_config={**similarity, "longest_span_words": st.column_config.NumberColumn("longest span "
                                                                                                        "(words)"),
                                    "longest_span": st.column_config.TextColumn("longest span", width="large")})
        download_table(table, "overlap-matches", key="overlap_table")

    if len(verified):
        st.markdown("**Side by side**")
        options = list(range(len(verified)))
        pick = st.selectbox("Match", options, key="overlap_pick", format_func=lambda i: (
            f"{verified.iloc[i]['document']} ↔ {verified.iloc[i]['match']} (containment "
            f"{verified.iloc[i]['containment_exact']:.2f}, Jaccard {verified.iloc[i]['jaccard_exact']:.2f})"))
        row = verified.iloc[min(int(pick or 0), len(verified) - 1)]
        spans = result.spans[(result.spans["document"] == row["document"])
                             & (result.spans["match_id"] == row["match_id"])]
        try:
            match_text = index.document_text(int(row["match_id"]))
        except (OverlapIndexError, IndexError) as exc:
            st.error(str(exc))
        else:
            st.caption(f"Highlighted: the {len(spans)} longest run(s) of identical words (case and punctuation "
                       f"ignored), {', '.join(str(w) for w in spans['words'])} words.")
            left, right = st.columns(2)
            with left:
                text_box(f"Your document: {row['document']}", highlighted(
                    texts.get(row["document"], ""), list(zip(spans["query_start"], spans["query_end"]))))
            with right:
                text_box(f"Corpus document: {row['match']}", highlighted(
                    match_text, list(zip(spans["match_start"], spans["match_end"]))))

    if len(result.matches):
        show_figure(charts.similarity_histogram(result.matches, jaccard_threshold=min_jaccard_used,
                                                containment_threshold=min_containment_used),
                    "overlap-similarities", "fig_overlap_similarities")


st.title("Corpus overlap")
st.caption("Is my text inside this public dataset? Index a reference corpus you can download but not read whole "
           "(MinHash signatures of word n-grams in datasketch's LSH indexes), then look up your documents: "
           "near-duplicates (Jaccard similarity) and corpus documents that contain yours (containment) are found in "
           "seconds, checked exactly, and the matching passages are shown side by side.")

# ---------------------------------------------------------------------------------------------- 1. the index

st.subheader("1. The reference corpus")
build_tab, open_tab = st.tabs(["Build an index from files", "Open a saved index"])
with build_tab:
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
                                            "length; about 0.9 finds short excerpts of much longer documents, at "
                                            "about 3.5 times the memory.")
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
    if st.button(f"{label} ({sources} source(s))" if sources else label, type="primary",
                 disabled=not sources or (keep != KEEP_SESSION and not folder_text.strip()),
                 key="overlap_build"):
        folder = Path(folder_text.strip()).expanduser() if keep != KEEP_SESSION else None
        try:
            params = IndexParams(ngram=int(ngram), num_perm=int(num_perm), jaccard_threshold=float(jaccard_threshold),
                                 containment_threshold=float(containment_threshold),
                                 ensemble_recall_weight=float(recall_weight)).validate()
        except ValueError as exc:
            st.error(str(exc))
            params = None
        if params is not None:
            with tempfile.TemporaryDirectory(prefix="provenance-corpus-") as tmp:
                tmp_path = Path(tmp)
                write_uploads(corpus_files, tmp_path)
                with st.spinner(f"Reading {sources} source(s)..."):
                    paths = ([tmp_path] if corpus_files else []) + ([Path(corpus_path).expanduser()] if corpus_path
                                                                     else [])
                    docs, corpus_errors = overlap.read_corpus(paths, text_column=text_column.strip() or "text")
                docs = unique_names([Document(without_folder(d.name, tmp_path), d.text) for d in docs])
                for err in corpus_errors:
                    st.warning(f"Skipped {without_folder(err.source, tmp_path)}: {err.message}",
                               icon=":material/warning:")
            st.button("Stop", icon=":material/stop_circle:", key="overlap_build_stop",
                      help="Stops the build; nothing is saved.")
            progress = PhaseProgress(APPEND_PHASES if keep == KEEP_APPEND else BUILD_PHASES)
            try:
                index, skipped = overlap.build_index(docs, folder, params=params, append=keep == KEEP_APPEND,
                                                     progress=progress)
            except (OverlapIndexError, ValueError, OSError) as exc:
                progress.finish("The index was not built.")
                st.error(str(exc))
            else:
                for err in skipped:
                    st.warning(f"Skipped {err}", icon=":material/warning:")
                where = f"saved in `{folder}`" if folder is not None else "kept in this session only"
                progress.finish(f"Indexed {len(docs) - len(skipped)} document(s).")
                what = " and ".join(([f"{len(corpus_files)} uploaded file(s)"] if corpus_files else [])
                                    + ([f"`{corpus_path}`"] if corpus_path else []))
                set_index(index, f"built from {what}, {where}")
                st.success(f"The index holds {len(index):,} document(s), {where}.")

with open_tab:
    open_text = st.text_input("Index folder", key="overlap_open_folder", placeholder=str(index_root() / "my-corpus"),
                              help="A folder written by this page or by 'python -m provenance overlap build'. Files "
                                   "are checked against their checksums; nothing in them is run.")
    if st.button("Open", type="primary", disabled=not open_text.strip(), key="overlap_open"):
        folder = Path(open_text.strip()).expanduser()
        progress = PhaseProgress(OPEN_PHASES)
        try:
            index = overlap.load_index(folder, progress=progress)
            index.prepare(containment=True, progress=progress)
        except (OverlapIndexError, ValueError, OSError) as exc:
            progress.finish("The index was not opened.")
            st.error(str(exc))
        else:
            progress.finish(f"Opened {len(index):,} document(s).")
            set_index(index, f"opened from `{folder}`")


index = st.session_state.get("overlap_index")
if index is None:
    st.info("Build an index from your corpus files or open a saved index folder to start.")
else:
    index_box(index)
    query_section(index)
    if st.session_state.get("overlap_result") is not None:
        results_section(index, st.session_state["overlap_result"])
