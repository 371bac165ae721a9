"""Model loading: the real default model offline, local folders, bad specs; bounded memory on long texts."""

import json
import random
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from provenance.lm.loading import ModelLoadError, converted_gguf_dir, default_gguf_path, load_model, resolve_dtype
from provenance.scores.table import score_documents
from provenance.documents import Document
from provenance.lm.statistics import token_statistics

SENTENCE = ("The weather was cold and wet, so the children stayed inside and read books by the fire "
            "while their parents cooked dinner in the kitchen.")


@pytest.mark.slow
def test_default_model_loads_offline_and_describes_itself(default_model):
    info = default_model.describe()
    assert info["name"] == "SmolLM2-135M-Instruct"
    assert 130e6 < info["parameters"] < 140e6
    assert info["context_length"] == 8192
    assert info["device"] == "cpu" and info["dtype"] == "float32"
    # the GGUF was converted once into a cached safetensors folder that later loads reuse
    assert (converted_gguf_dir(default_gguf_path()) / "model.safetensors").is_file()


@pytest.mark.slow
def test_natural_sentence_is_more_likely_than_shuffled_words(default_model):
    words = SENTENCE.rstrip(".").split()
    shuffled = []
    for seed in range(5):
        w = words[:]
        random.Random(seed).shuffle(w)
        shuffled.append(" ".join(w) + ".")
    stats = token_statistics(default_model, [SENTENCE] + shuffled)
    natural, others = stats[0].nll, [s.nll for s in stats[1:]]
    assert natural < min(others) - 1.0, (natural, others)


@pytest.mark.slow
def test_default_model_score_table(default_model):
    result = score_documents(default_model, [Document("natural", SENTENCE)])
    row = result.table.iloc[0]
    assert row["tokens"] > 20 and 1 < row["perplexity"] < 200
    assert not result.table.isna().any().any()


def test_hub_id_offline_fails_at_once_with_a_sentence():
    start = time.time()
    with pytest.raises(ModelLoadError, match="offline"):
        load_model("EleutherAI/pythia-160m")
    assert time.time() - start < 10


@pytest.mark.parametrize("spec, message", [
    ("/nonexistent/model.gguf", "No GGUF file"),
    ("./not/a/hub/id/at/all", "not a local model folder"),
])
def test_bad_specs_explain_themselves(spec, message):
    with pytest.raises(ModelLoadError, match=message):
        load_model(spec)


def test_local_folder_round_trip_and_dtype_override(tiny_model, tmp_path):
    tiny_model.model.save_pretrained(tmp_path, safe_serialization=True)
    tiny_model.tokenizer.save_pretrained(tmp_path)
    loaded = load_model(str(tmp_path))
    assert loaded.describe()["parameters"] == tiny_model.n_parameters
    a = token_statistics(tiny_model, [SENTENCE])[0]
    b = token_statistics(loaded, [SENTENCE])[0]
    np.testing.assert_allclose(a.logprob, b.logprob, atol=1e-5)
    assert load_model(str(tmp_path), dtype="bfloat16").describe()["dtype"] == "bfloat16"
    with pytest.raises(ModelLoadError, match="Unknown dtype"):
        load_model(str(tmp_path), dtype="int3")


def test_folder_without_config_or_safetensors_is_refused(tiny_model, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match="no config.json"):
        load_model(str(tmp_path / "empty"))
    import torch

    pickled = tmp_path / "pickled"
    tiny_model.model.config.save_pretrained(pickled)
    tiny_model.tokenizer.save_pretrained(pickled)
    torch.save(tiny_model.model.state_dict(), pickled / "pytorch_model.bin")
    with pytest.raises(ModelLoadError, match="Pickle weights"):
        load_model(str(pickled))


def test_dtype_defaults():
    import torch

    assert resolve_dtype(None, torch.device("cpu")) == torch.float32
    assert resolve_dtype(None, torch.device("cuda")) == torch.bfloat16


@pytest.mark.slow
def test_20000_token_text_scores_with_bounded_memory(tmp_path):
    """A model with the default model's 49k vocabulary scores 20,000 tokens; if the full (tokens x vocab) float32
    log-softmax were kept it would need 3.9 GB, the chunked engine stays far below 1 GiB over the baseline."""
    script = textwrap.dedent("""
        import json, sys
        import torch
        from transformers import LlamaConfig, LlamaForCausalLM, AutoTokenizer
        from provenance.lm.loading import wrap_model, converted_gguf_dir, default_gguf_path, convert_gguf
        from provenance.lm.statistics import token_statistics, ScoringSettings
        folder = convert_gguf(default_gguf_path())
        tok = AutoTokenizer.from_pretrained(folder)
        cfg = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                          num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=2048)
        model = wrap_model(LlamaForCausalLM(cfg), tok, name="wide-vocab", identity_seed="test")
        words = "the cat sat on a mat while dogs ran through quiet green fields of tall grass".split()
        text = " ".join(words[i % len(words)] + ("." if i % 11 == 10 else "") for i in range(20500))
        def peak_mib():  # VmHWM: this process's own peak (ru_maxrss would carry over the parent's)
            return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")) / 1024
        base = peak_mib()
        stats = token_statistics(model, [text], ScoringSettings(window=2048, stride=2047))[0]
        peak = peak_mib()
        print(json.dumps({"tokens": stats.n_tokens, "scored": stats.n_scored, "extra_mib": peak - base,
                          "base_mib": base, "vocab": len(tok)}))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["tokens"] >= 20000 and result["scored"] == result["tokens"] - 1
    full_logsoftmax_mib = result["tokens"] * result["vocab"] * 4 / 2**20
    print(result)
    assert result["extra_mib"] < 1024, result
    assert result["extra_mib"] < full_logsoftmax_mib / 4, result
