"""``python -m provenance report ...`` and ``python -m provenance investigations ...``: saved investigations.

Both use the same store as the dashboard: ``--store PATH``, else ``$PROVENANCE_STORE``, else
``~/.cache/provenance/investigations.sqlite``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from . import CliError


def add_store_argument(parser: argparse.ArgumentParser) -> None:
    """--store: the investigations database (shared with the dashboard)."""
    parser.add_argument("--store", default=None,
                        help="investigations database (default: $PROVENANCE_STORE or "
                             "~/.cache/provenance/investigations.sqlite)")


def open_store(args: argparse.Namespace):
    from ..investigations.store import InvestigationStore

    return InvestigationStore(getattr(args, "store", None))


def add_investigation_arguments(parser: argparse.ArgumentParser) -> None:
    """--investigation NAME and --store: record a command's run in the investigations database, resumably."""
    parser.add_argument("--investigation", default=None,
                        help="save the run as this investigation (id or name), shared with the dashboard's History; "
                             "running the command again with the same name resumes an interrupted run")
    add_store_argument(parser)


@contextmanager
def run_store(args: argparse.Namespace) -> Iterator:
    """The store a command records its run in: the investigations database when ``--investigation`` names one;
    otherwise a throwaway store in a temporary folder, so the run takes the same path and nothing is kept."""
    from ..investigations.store import InvestigationStore

    if getattr(args, "investigation", None):
        with open_store(args) as store:
            yield store
        return
    with tempfile.TemporaryDirectory(prefix="provenance-run-") as folder:
        with InvestigationStore(Path(folder) / "run.sqlite") as store:
            yield store


def saved_sentence(args: argparse.Namespace, investigation) -> str | None:
    """'Saved in investigation ...' when the run was recorded under ``--investigation``, else None."""
    if not getattr(args, "investigation", None):
        return None
    return (f"Saved in investigation '{investigation.name}' ({investigation.id}, status {investigation.status}); "
            "reopen it on the dashboard's History page or with: python -m provenance report")


def register(subparsers) -> None:
    """Add the ``report`` command and the ``investigations`` command group (list, rename, delete)."""
    p = subparsers.add_parser("report", help="write a report of a saved investigation (.html, .json or .csv)")
    p.add_argument("investigation", help="investigation id or name (see: investigations list)")
    p.add_argument("--out", required=True, help="report file; the format follows the extension (.html/.json/.csv)")
    p.add_argument("--include-texts", action="store_true", help="put the document texts into a .json report")
    add_store_argument(p)
    p.set_defaults(func=_run_report)

    inv = subparsers.add_parser("investigations", help="list, rename or delete saved investigations")
    sub = inv.add_subparsers(dest="investigations_command", required=True)
    ls = sub.add_parser("list", help="list saved investigations, most recent first")
    add_store_argument(ls)
    ls.set_defaults(func=_run_list)
    rn = sub.add_parser("rename", help="give an investigation a new name")
    rn.add_argument("investigation", help="investigation id or name")
    rn.add_argument("new_name")
    add_store_argument(rn)
    rn.set_defaults(func=_run_rename)
    rm = sub.add_parser("delete", help="delete an investigation with its texts and results")
    rm.add_argument("investigation", help="investigation id or name")
    add_store_argument(rm)
    rm.set_defaults(func=_run_delete)
    im = sub.add_parser("import", help="open the output folder of 'score --engine ray' as an investigation")
    im.add_argument("folder", help="the folder named by --out of 'score --engine ray'")
    im.add_argument("--name", default=None, help="investigation name (default: the folder's name); importing again "
                                                 "into it adds what is new")
    im.add_argument("--reference", default=None,
                    help="another run's folder (same model and settings) of texts the model cannot have seen: "
                         "per-document and set verdicts against it")
    im.add_argument("--fpr", type=float, default=None, help="false-positive rate of the verdicts (default 0.05)")
    add_store_argument(im)
    im.set_defaults(func=_run_import)


def _run_report(args: argparse.Namespace) -> int:
    from ..report import write_report

    if not args.out.lower().endswith((".html", ".htm", ".json", ".csv")):
        raise CliError(f"Cannot write '{args.out}': use a file name ending in .html, .json or .csv.")
    with open_store(args) as store:
        inv = store.get(args.investigation)
        out = write_report(store, inv.id, args.out, include_texts=args.include_texts)
    print(f"Report of '{inv.name}' ({inv.n_scored} scored document(s), status {inv.status}) -> {out}",
          file=sys.stderr)
    return 0


def _run_list(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        table = store.table()
        if table.empty:
            print(f"No investigations in {store.path} yet. Record one with: python -m provenance score FILES "
                  "--out scores.csv --investigation NAME", file=sys.stderr)
            return 0
        shown = table[["id", "name", "kind", "status", "model", "documents", "scored", "verdict", "updated_at"]].copy()
        shown["updated_at"] = shown["updated_at"].str.slice(0, 19).str.replace("T", " ")
        print(shown.to_string(index=False))
    return 0


def _run_rename(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        inv = store.rename(args.investigation, args.new_name)
    print(f"Renamed to '{inv.name}' ({inv.id}).", file=sys.stderr)
    return 0


def _run_delete(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        inv = store.get(args.investigation)
        store.delete(inv.id)
    print(f"Deleted '{inv.name}' ({inv.id}) with its {inv.n_documents} document(s).", file=sys.stderr)
    return 0


def _run_import(args: argparse.Namespace) -> int:
    from ..investigations.scaled_runs import import_scored_folder

    options = {} if args.fpr is None else {"fpr": args.fpr}
    with open_store(args) as store:
        result = import_scored_folder(store, args.folder, investigation=args.name, reference=args.reference,
                                      **options)
    print(f"{result.sentence()} Saved in investigation '{result.investigation.name}' ({result.investigation.id}).",
          file=sys.stderr)
    return 0
