"""Dashboard responsiveness: how fast the first page appears, and how steadily a 50-document run progresses.

1. Starts `streamlit run dashboard.py` on a free port and opens it in headless Chromium (Playwright): seconds from
   navigation to the Documents heading being visible, on a freshly started server (cold) and on a reload (warm).
   The page must appear without waiting for the model, which loads only after the page is drawn.
2. Scores 50 one-page documents (about 500 tokens each) with the default model through the path the Documents page
   uses (investigations.scoring.score_set, 8 documents per batch) and prints the progress timeline: total
   time, number of progress updates, the longest gap between two updates, and tokens/s.

    .venv/bin/python bench/responsiveness.py [--documents 50]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def first_render(store: str) -> tuple[float, float]:
    """(cold, warm) seconds from page.goto to the Documents heading, against a freshly started server."""
    from playwright.sync_api import expect, sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, PROVENANCE_STORE=store, HF_HUB_OFFLINE="1")
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard.py"),
                               "--server.port", str(port), "--server.headless", "true"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(180):
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page()
            times = []
            for _ in range(2):
                start = time.perf_counter()
                page.goto(url)
                expect(page.get_by_role("heading", name="Documents")).to_be_visible(timeout=60_000)
                times.append(time.perf_counter() - start)
                page.wait_for_timeout(3000)  # let the model finish loading before the warm reload
            browser.close()
        return times[0], times[1]
    finally:
        server.terminate()
        server.wait(timeout=30)


def scoring_timeline(n_documents: int, store_path: str) -> dict:
    from bench.throughput import make_documents
    from provenance.lm.cache import StatsCache
    from provenance.documents import Document
    from provenance.lm.loading import load_model
    from provenance.lm.token_stats import ScoringSettings
    from provenance.investigations.scoring import score_set
    from provenance.investigations.store import InvestigationStore

    model = load_model("default")
    pool = make_documents(4000, seed=3)
    docs, i = [], 0
    for d in range(n_documents):  # one page: about 500 tokens of prose
        text = ""
        while len(text) < 2600:
            text += pool[i % len(pool)] + " "
            i += 1
        docs.append(Document(f"page-{d:02d}.txt", text.strip()))
    updates: list[tuple[float, int, int]] = []
    start = time.perf_counter()
    run = score_set(InvestigationStore(store_path), "responsiveness", model, docs,
                    settings=ScoringSettings(top_k=5), cache=StatsCache(), batch_documents=8,
                    progress=lambda done, total: updates.append((time.perf_counter() - start, done, total)))
    total = time.perf_counter() - start
    times = [0.0] + [t for t, _, _ in updates]
    return {"documents": len(run.table), "tokens": int(run.table["tokens"].sum()), "seconds": total,
            "updates": len(updates), "longest_gap": max(b - a for a, b in zip(times, times[1:])),
            "first_update": updates[0][0] if updates else float("nan")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--documents", type=int, default=50)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cold, warm = first_render(str(Path(tmp) / "store.sqlite"))
        print(f"first page visible: {cold:.2f} s on a fresh server, {warm:.2f} s on reload (target < 3 s)")
        t = scoring_timeline(args.documents, str(Path(tmp) / "store2.sqlite"))
    print(f"scored {t['documents']} one-page documents ({t['tokens']} tokens) in {t['seconds']:.0f} s "
          f"({t['tokens'] / t['seconds']:.0f} tokens/s); {t['updates']} progress updates, first after "
          f"{t['first_update']:.1f} s, longest gap {t['longest_gap']:.1f} s")


if __name__ == "__main__":
    main()
