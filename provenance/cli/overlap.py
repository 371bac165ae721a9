"""``python -m provenance overlap build|query``: is my text inside this dataset? (MinHash LSH over a corpus, with an
exact-excerpt index beside it.) ``query`` writes the matches and every queried document's outcome."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..overlap.storage import REDIS_PASSWORD_ENV, parse_redis_address
from . import OUTPUT_SUFFIXES, CliError, ProgressBar, write_table


def register(subparsers) -> None:
    """Add the ``overlap`` command group (``build`` and ``query``) to the top-level parser."""
    p = subparsers.add_parser("overlap", help="find near-duplicates and containment of texts in a reference corpus")
    sub = p.add_subparsers(dest="overlap_command", required=True)

    b = sub.add_parser("build", help="index a reference corpus (or add it to an index with --append)")
    b.add_argument("corpus", nargs="+", help="folders, .txt/.md/.html/.pdf/.docx files, .jsonl/.csv/.parquet "
                                             "tables with a text column, or .zip archives of them")
    b.add_argument("--index", required=True, help="folder to write the index to")
    b.add_argument("--append", action="store_true", help="add the corpus to the existing index in --index")
    b.add_argument("--ngram", type=int, default=5, help="words per shingle (default 5)")
    b.add_argument("--num-perm", type=int, default=128, help="MinHash permutations (default 128)")
    b.add_argument("--seed", type=int, default=1, help="MinHash seed (default 1)")
    b.add_argument("--jaccard-threshold", type=float, default=0.5,
                   help="near-duplicate (Jaccard) threshold of the LSH (default 0.5)")
    b.add_argument("--containment-threshold", type=float, default=0.8,
                   help="containment threshold of the LSH Ensemble (default 0.8)")
    b.add_argument("--containment-recall", type=float, default=0.5,
                   help="weight of missed containments vs false candidates in the ensemble (default 0.5); 0.9 finds "
                        "more texts mostly (not wholly) inside much longer documents, at about 3.5x the memory "
                        "(verbatim excerpts are found by the exact-excerpt index anyway)")
    b.add_argument("--exact-min-words", type=int, default=10,
                   help="every verbatim passage of at least this many words shared with a corpus document is found, "
                        "however long the document (default 10; at least --ngram; smaller takes more memory)")
    b.add_argument("--no-containment", action="store_true",
                   help="do not build the containment ensemble now (it is built on the first query)")
    _add_common(b)
    b.set_defaults(func=_run_build)

    q = sub.add_parser("query", help="look documents up in an index; one row per verified match")
    q.add_argument("paths", nargs="+", help="documents to look up (files, folders, tables, .zip)")
    q.add_argument("--index", required=True, help="index folder made by 'overlap build'")
    q.add_argument("--out", required=True, help="matches table (.csv, .jsonl or .parquet)")
    q.add_argument("--documents-out", default=None,
                   help="table of every queried document's outcome (default: beside --out, e.g. matches.csv -> "
                        "matches.documents.csv)")
    q.add_argument("--spans-out", default=None, help="optional table of matching spans (character offsets)")
    q.add_argument("--min-jaccard", type=float, default=None,
                   help="report matches with exact Jaccard at least this (default: the index's threshold)")
    q.add_argument("--min-containment", type=float, default=None,
                   help="or exact containment at least this (default: the index's threshold)")
    q.add_argument("--min-passage-words", type=int, default=None,
                   help="or a verbatim passage of at least this many words (default: the index's --exact-min-words)")
    q.add_argument("--all-candidates", action="store_true", help="also report candidates that fail verification")
    q.add_argument("--max-candidates", type=int, default=50, help="candidates verified per document (default 50)")
    q.add_argument("--max-spans", type=int, default=5, help="matching spans kept per match (default 5)")
    q.add_argument("--no-containment", action="store_true", help="skip the containment ensemble (Jaccard only)")
    q.add_argument("--no-exact", action="store_true",
                   help="skip the exact-excerpt index (short excerpts of much longer documents can then be missed)")
    _add_common(q)
    q.set_defaults(func=_run_query)


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--text-column", default="text", help="text column of tables (default 'text')")
    parser.add_argument("--id-column", default="id", help="id column of tables, for document names (default 'id')")
    parser.add_argument("--redis", default=None, metavar="HOST:PORT",
                        help="keep the LSH tables in this Redis server instead of in memory ('memory': in memory "
                             "even for an index built with Redis). An index folder never chooses a server itself; "
                             f"a password is read from ${REDIS_PASSWORD_ENV} when set")


def _storage_config(value: str | None) -> dict | None:
    """The storage the user chose with --redis (None when they chose nothing)."""
    try:
        return parse_redis_address(value)
    except ValueError as exc:
        raise CliError(f"--redis: {exc}") from exc


def _run_build(args: argparse.Namespace) -> int:
    from ..overlap import IndexParams, build_index

    params = IndexParams(ngram=args.ngram, num_perm=args.num_perm, seed=args.seed,
                         jaccard_threshold=args.jaccard_threshold,
                         containment_threshold=args.containment_threshold,
                         ensemble_recall_weight=args.containment_recall,
                         exact_min_words=args.exact_min_words).validate()
    bar = ProgressBar("indexing", unit="doc", min_total=200)
    t0 = time.time()
    try:
        index, errors = build_index(args.corpus, args.index, params=params, append=args.append,
                                    storage_config=_storage_config(args.redis), text_column=args.text_column,
                                    id_column=args.id_column, containment=not args.no_containment,
                                    progress=_restarting(bar))
    finally:
        bar.close()
    for err in errors:
        print(f"{'repaired' if err.kept else 'skipped'} {err}", file=sys.stderr)
    seconds = time.time() - t0
    print(f"Indexed {len(index)} document(s) in {seconds:.1f} s -> {index.path}", file=sys.stderr)
    return 0


def _run_query(args: argparse.Namespace) -> int:
    from ..documents import load_documents
    from ..overlap import load_index, query_index

    documents_out = args.documents_out or _beside(args.out, "documents")
    for out in [args.out, documents_out] + ([args.spans_out] if args.spans_out else []):
        if Path(out).suffix.lower() not in OUTPUT_SUFFIXES:
            raise CliError(f"Cannot write '{out}': use an output file ending in {', '.join(OUTPUT_SUFFIXES)}.")
    docs, errors = load_documents(args.paths, text_column=args.text_column, id_column=args.id_column)
    for err in errors:
        print(f"{'repaired' if err.kept else 'skipped'} {err}", file=sys.stderr)
    if not docs:
        raise CliError("No document could be read, so nothing was looked up.")
    bar = ProgressBar("opening index", unit="doc", min_total=10_000)
    try:
        index = load_index(args.index, storage_config=_storage_config(args.redis), progress=_restarting(bar))
    finally:
        bar.close()
    bar = ProgressBar("querying", unit="doc", min_total=20)
    t0 = time.time()
    try:
        result = query_index(index, docs, min_jaccard=args.min_jaccard, min_containment=args.min_containment,
                             min_passage_words=args.min_passage_words, containment=not args.no_containment,
                             exact=not args.no_exact, only_verified=not args.all_candidates,
                             max_candidates=args.max_candidates, max_spans=args.max_spans, progress=bar)
    finally:
        bar.close()
    for message in result.errors.values():
        print(f"skipped {message}", file=sys.stderr)
    out = write_table(result.matches, args.out)
    documents_path = write_table(result.documents, documents_out)
    if args.spans_out:
        write_table(result.spans, args.spans_out)
    _print_outcomes(result.documents)
    found = result.matches["document"].nunique() if len(result.matches) else 0
    print(f"{found} of {len(docs)} document(s) matched {len(result.matches)} time(s) in {len(index)} indexed "
          f"document(s), {time.time() - t0:.1f} s -> {out}; every document's outcome -> {documents_path}",
          file=sys.stderr)
    return 0


_OUTCOME_LINES = 20  # documents listed one per line; beyond this, counted per outcome


def _print_outcomes(documents) -> None:
    """Every queried document's outcome on stderr (one line each, or counts per outcome for many documents)."""
    if len(documents) <= _OUTCOME_LINES:
        for row in documents.itertuples():
            print(f"{row.document}: {row.outcome}. {row.detail}", file=sys.stderr)
        return
    for outcome, count in documents["outcome"].value_counts(sort=False).items():
        print(f"{count} document(s): {outcome}", file=sys.stderr)


def _beside(path: str, what: str) -> str:
    """A file next to ``path`` with ``what`` before its extension: matches.csv -> matches.documents.csv."""
    p = Path(path)
    return str(p.with_name(f"{p.stem}.{what}{p.suffix}"))


def _restarting(bar: ProgressBar):
    """A progress callback for several phases in a row: a phase starting again from 0 restarts the bar."""
    def update(done: int, total: int) -> None:
        if bar.bar is not None and (done < bar.bar.n or total != bar.bar.total):
            bar.close()
            bar.bar = None
        bar(done, total)
    return update
