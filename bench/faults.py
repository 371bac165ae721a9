"""kill -9 and resume: are rows ever lost or duplicated, and do the files stay sound?

Three long commands, in rounds: each round starts from a fresh state, kills the command with SIGKILL at a random
moment of its run, and runs the same command again until it finishes, as a user would after a crash:

- ``python -m provenance score DOCS --investigation X``: every finished batch is committed to SQLite; the resumed
  store is compared row by row with an uninterrupted run (rows lost, duplicated, or differing in any value);
- ``python -m provenance overlap build PART2 --index IDX --append``: the index folder after the kill (manifest
  checksum, files no manifest lists), and after the run that finishes (every document once, nothing left over);
- ``python -m provenance ghost detect``: the null draws saved as they are scored (kept across the kill, repeated),
  the output table (one row per identifier).

After every kill: SQLite's ``PRAGMA integrity_check`` on the store, the index manifest's checksum, the null-draw
cache's JSON. A tiny model (a 2-layer Llama built here with ``lm.training.build_small_model`` and saved with
``save_pretrained``) keeps it on CPU; the default sizes take a few minutes on 2 cores.

    .venv/bin/python bench/faults.py                  # 4 rounds (kills) per command
    .venv/bin/python bench/faults.py --kills 10 --seed 3 --keep /tmp/faults

A kill that lands after the command finished is no kill: the table counts the kills that happened.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # save_pretrained's bar would interleave with the output

from provenance.ghost import planting  # noqa: E402


@dataclass
class Outcome:
    """What one command's kill-and-resume experiment found."""

    name: str
    kills: int = 0
    runs: int = 0
    expected: int = 0
    saved: int = 0
    lost: int = 0
    duplicated: int = 0
    differing: int = 0
    checks: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def checks_failed(self) -> list[str]:
        return [c for c in self.checks if not c.endswith(": ok")]


class Runner:
    """Runs ``python -m provenance ...`` in a fresh process with the bench's cache and store, optionally killing it
    with SIGKILL after ``kill_after`` seconds."""

    def __init__(self, work: Path, threads: int):
        self.last_error = ""
        self.env = dict(os.environ, PROVENANCE_CACHE=str(work / "cache"), PROVENANCE_STORE=str(work / "store.sqlite"),
                        HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", OMP_NUM_THREADS=str(threads),
                        MKL_NUM_THREADS=str(threads), TOKENIZERS_PARALLELISM="false")

    def run(self, args: list[str], kill_after: float | None = None, env: dict | None = None) -> int | None:
        """The exit code, or None when the process was killed before it finished."""
        proc = subprocess.Popen([sys.executable, "-m", "provenance", *args], cwd=ROOT, env={**self.env, **(env or {})},
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        try:
            proc.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            proc.stderr.close()
            return None
        err = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
        if proc.returncode != 0:
            self.last_error = err[-1500:]
        return proc.returncode

    def timed(self, args: list[str], env: dict | None = None) -> float:
        """Seconds an uninterrupted run takes (it must succeed)."""
        t0 = time.time()
        rc = self.run(args, env=env)
        if rc != 0:
            raise SystemExit(f"provenance {' '.join(args)} failed (exit {rc}): {self.last_error}")
        return time.time() - t0


def build_model(folder: Path, texts: list[str]) -> None:
    """A tiny Llama and its tokenizer, saved as a safetensors folder any command can load."""
    from provenance.lm.training import build_small_model

    model = build_small_model(texts[:300], vocab_size=800, hidden_size=64, layers=2, context_length=256,
                              name="faults-tiny")
    model.model.save_pretrained(folder, safe_serialization=True)
    model.tokenizer.save_pretrained(folder)


def integrity(db: Path) -> str:
    """SQLite's own check of the store file ('ok' when sound)."""
    if not db.exists():
        return "ok"
    with sqlite3.connect(db) as con:
        return ", ".join(r[0] for r in con.execute("PRAGMA integrity_check"))


def store_rows(db: Path, name: str) -> list[tuple[str, str]]:
    """(document, row JSON) of every result of the investigation called ``name``."""
    if not db.exists():
        return []
    with sqlite3.connect(db) as con:
        return con.execute("SELECT r.document, r.row FROM results r JOIN investigations i ON i.id = r.investigation_id "
                           "WHERE i.name = ? ORDER BY r.document", (name,)).fetchall()


def kill_moment(rng: random.Random, duration: float) -> float:
    """A random moment of a run that takes ``duration`` seconds uninterrupted (the first 10%, imports, excluded)."""
    return rng.uniform(0.10 * duration, 0.98 * duration)


def kill_then_finish(runner: Runner, args: list[str], moment: float, outcome: Outcome, after_kill,
                     finished=lambda: False, max_runs: int = 20) -> None:
    """Run ``args`` and kill it at ``moment`` (then ``after_kill()``); run it again until it finishes, unless
    ``finished()`` says the killed run had in fact done its work. A run that ends before ``moment`` is no kill."""
    rc = runner.run(args, kill_after=moment)
    outcome.runs += 1
    if rc is not None:
        if rc != 0:
            outcome.notes.append(f"a run exited with {rc}: {runner.last_error[-300:]}")
        return
    outcome.kills += 1
    after_kill()
    for _ in range(max_runs):
        if finished():
            return
        rc = runner.run(args)
        outcome.runs += 1
        if rc == 0:
            return
        outcome.notes.append(f"a resumed run exited with {rc}: {runner.last_error[-300:]}")
    raise SystemExit(f"{outcome.name}: no run finished after {max_runs} attempts.")


def score_experiment(work: Path, model: Path, docs: Path, rng: random.Random, rounds: int) -> Outcome:
    """Rounds of: a fresh store, `score --investigation` killed at a random moment, the same command to the end;
    the store compared with an uninterrupted run's."""
    outcome = Outcome("score --investigation")
    args = ["score", str(docs), "--model", str(model), "--out", str(work / "scores.csv"), "--investigation", "faults"]
    duration = Runner(work / "score-reference", 1).timed(args)
    expected = store_rows(work / "score-reference" / "store.sqlite", "faults")
    for r in range(rounds):
        runner = Runner(work / f"score-{r}", 1)
        db = work / f"score-{r}" / "store.sqlite"
        kill_then_finish(runner, args, kill_moment(rng, duration), outcome,
                         after_kill=lambda: outcome.checks.append(f"integrity_check after kill {outcome.kills}: "
                                                                  f"{integrity(db)}"))
        got = store_rows(db, "faults")
        names = [d for d, _ in got]
        mine = dict(got)
        outcome.expected += len(expected)
        outcome.saved += len(set(names))
        outcome.duplicated += len(names) - len(set(names))
        outcome.lost += len({d for d, _ in expected} - set(names))
        outcome.differing += sum(1 for d, row in expected if d in mine and json.loads(mine[d]) != json.loads(row))
        outcome.checks.append(f"integrity_check at the end of round {r + 1}: {integrity(db)}")
    outcome.notes.append(f"an uninterrupted run takes {duration:.1f} s ({len(expected)} documents)")
    return outcome


def index_state(index: Path) -> tuple[str, int, int]:
    """(manifest check, documents listed, files no manifest lists) of an index folder."""
    from provenance.overlap import MANIFEST_NAME, OverlapIndexError
    from provenance.overlap.index_folder import read_manifest

    if not (index / MANIFEST_NAME).exists():
        return "no manifest", 0, 0
    try:
        manifest = read_manifest(index)
    except OverlapIndexError as exc:
        return f"FAILED ({exc})", 0, 0
    listed = {n for shard in manifest["shards"] for n in shard["files"]} | {MANIFEST_NAME}
    extra = [p.name for p in index.iterdir() if p.name not in listed]
    return "ok", int(manifest["documents"]), len(extra)


def overlap_experiment(work: Path, rng: random.Random, rounds: int, n_docs: int) -> Outcome:
    """Rounds of: a copy of an index of part 1, `overlap build part2 --append` killed at a random moment, the
    append again until the manifest holds both parts; then the index opened and checked."""
    from provenance.overlap import load_index

    outcome = Outcome("overlap build --append")
    texts = planting.background_corpus(2 * n_docs, 12, seed=11)
    part1, part2 = work / "part1.jsonl", work / "part2.jsonl"
    for path, rows in ((part1, texts[:n_docs]), (part2, texts[n_docs:])):
        path.write_text("".join(json.dumps({"id": f"{path.stem}-{i}", "text": t}) + "\n" for i, t in enumerate(rows)))
    runner = Runner(work / "overlap", 1)
    base = work / "overlap" / "base"
    runner.timed(["overlap", "build", str(part1), "--index", str(base)])
    timing = work / "overlap" / "timing"
    shutil.copytree(base, timing)
    duration = runner.timed(["overlap", "build", str(part2), "--index", str(timing), "--append"])
    left_behind = []
    for r in range(rounds):
        index = work / "overlap" / f"round-{r}"
        shutil.copytree(base, index)
        args = ["overlap", "build", str(part2), "--index", str(index), "--append"]

        def after_kill() -> None:
            check, _, extra = index_state(index)
            left_behind.append(extra)
            outcome.checks.append(f"manifest checksum after kill {outcome.kills}: {check}")

        # a killed run may have finished its work (its manifest written): appending again would add part 2 twice
        kill_then_finish(runner, args, kill_moment(rng, duration), outcome, after_kill,
                         finished=lambda: index_state(index)[1] == 2 * n_docs)
        names = load_index(index).names  # opening removes what a killed run left behind
        check, _, extra = index_state(index)
        outcome.expected += 2 * n_docs
        outcome.saved += len(set(names))
        outcome.duplicated += len(names) - len(set(names))
        outcome.lost += 2 * n_docs - len(set(names))
        outcome.checks.append(f"manifest checksum at the end of round {r + 1}: {check}")
        outcome.checks.append(f"files no manifest lists at the end of round {r + 1}: "
                              + ("ok" if extra == 0 else f"{extra} FAILED"))
    outcome.notes.append(f"an uninterrupted append takes {duration:.1f} s ({n_docs} + {n_docs} documents); files no "
                         f"manifest listed right after each kill: {left_behind} (removed by the next build or open)")
    return outcome


def null_cache_state(cache: Path) -> tuple[str, int, int]:
    """(JSON check, draws saved, draws repeated) over the null-draw cache files."""
    texts: list[str] = []
    for path in sorted(cache.glob("*.json")) if cache.exists() else []:
        try:
            texts += json.loads(path.read_text())["texts"]
        except (OSError, ValueError, KeyError) as exc:
            return f"FAILED ({path.name}: {exc})", 0, 0
    return "ok", len(set(texts)), len(texts) - len(set(texts))


def ghost_experiment(work: Path, model: Path, rng: random.Random, rounds: int, n_null: int) -> Outcome:
    """Rounds of: an empty null-draw cache, `ghost detect` killed at a random moment, the same command to the end;
    the cache and the detection table checked."""
    import pandas as pd

    outcome = Outcome("ghost detect")
    registry = work / "registry.json"
    runner = Runner(work / "ghost-timing", 1)
    if runner.run(["ghost", "new", "--count", "5", "--registry", str(registry)]) != 0:
        raise SystemExit(f"ghost new failed: {runner.last_error}")
    out = work / "detect.csv"
    args = ["ghost", "detect", "--registry", str(registry), "--model", str(model), "--null", str(n_null),
            "--out", str(out), "--last-k", "1"]
    duration = runner.timed(args)
    kept = []
    for r in range(rounds):
        runner = Runner(work / f"ghost-{r}", 1)
        nulls = work / f"ghost-{r}" / "cache" / "ghost_nulls"
        out.unlink(missing_ok=True)

        def after_kill() -> None:
            check, saved, _ = null_cache_state(nulls)
            kept.append(saved)
            outcome.checks.append(f"null-draw cache after kill {outcome.kills}: {check}")

        kill_then_finish(runner, args, kill_moment(rng, duration), outcome, after_kill)
        ids = [i for i in pd.read_csv(out)["id"] if str(i).startswith("ghost-")]
        check, saved, repeated = null_cache_state(nulls)
        outcome.expected += 5
        outcome.saved += len(set(ids))
        outcome.lost += 5 - len(set(ids))
        outcome.duplicated += len(ids) - len(set(ids))
        outcome.checks.append(f"null-draw cache at the end of round {r + 1}: {check}")
        outcome.checks.append(f"null draws repeated at the end of round {r + 1}: "
                              + ("ok" if repeated == 0 else f"{repeated} FAILED"))
        outcome.checks.append(f"null draws at the end of round {r + 1}: "
                              + ("ok" if saved >= n_null else f"{saved} < {n_null} FAILED"))
    outcome.notes.append(f"an uninterrupted run takes {duration:.1f} s; null draws kept after each kill: {kept} "
                         f"of {n_null}")
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=4,
                        help="rounds per command, each a fresh run killed once at a random moment (default 4)")
    parser.add_argument("--docs", type=int, default=300, help="documents scored (default 300)")
    parser.add_argument("--index-docs", type=int, default=6000, help="documents per overlap part (default 6000)")
    parser.add_argument("--null", type=int, default=3000, help="ghost null draws (default 3000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", default=None, help="work in this folder and keep it (default: a temporary one)")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="provenance-faults-") as tmp:
        work = Path(args.keep) if args.keep else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        texts = planting.background_corpus(args.docs, 40, seed=5)
        docs = work / "docs"
        docs.mkdir(exist_ok=True)
        for i, text in enumerate(texts):
            (docs / f"doc{i:04d}.txt").write_text(text)
        model = work / "tiny-model"
        build_model(model, texts)
        outcomes = [score_experiment(work, model, docs, rng, args.kills),
                    overlap_experiment(work, rng, args.kills, args.index_docs),
                    ghost_experiment(work, model, rng, args.kills, args.null)]
    print(f"kill -9 / resume: {args.kills} round(s) per command, each a fresh run killed at a random moment and run "
          f"again to the end; seed {args.seed}, {time.time() - t0:.0f} s in all\n")
    header = f"{'command':<24}{'kills':>6}{'runs':>6}{'expected':>10}{'saved':>7}{'lost':>6}{'duplicated':>12}" \
             f"{'differing':>11}"
    print(header)
    print("-" * len(header))
    for o in outcomes:
        print(f"{o.name:<24}{o.kills:>6}{o.runs:>6}{o.expected:>10}{o.saved:>7}{o.lost:>6}{o.duplicated:>12}"
              f"{o.differing:>11}")
    print("\n(rows summed over the rounds: score = result rows of the investigation, compared with an uninterrupted "
          "run; overlap = indexed documents; ghost = rows of the detection table)\n")
    for o in outcomes:
        failed = o.checks_failed
        print(f"{o.name}: {len(o.checks) - len(failed)} of {len(o.checks)} integrity checks ok"
              + (f"; FAILED: {failed}" if failed else ""))
        for note in o.notes:
            print(f"  {note}")
    bad = any(o.lost or o.duplicated or o.differing or o.checks_failed for o in outcomes)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
