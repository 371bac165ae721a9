"""Fine-tuning utility: full fine-tuning and the LoRA-style low-rank option."""

import copy

import pytest
import torch
from textgen import random_sentences

from provenance.lm.loading import wrap_model
from provenance.lm.statistics import token_statistics
from provenance.lm.training import LoRALinear, add_lora, fine_tune, merge_lora


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _mean_nll(model, texts):
    return sum(s.nll for s in token_statistics(model, texts)) / len(texts)


def _copy(model, name):
    return wrap_model(copy.deepcopy(model.model), model.tokenizer, name=name)


def test_lora_layer_starts_as_the_base_layer_and_merges_exactly():
    torch.manual_seed(0)
    base = torch.nn.Linear(8, 5)
    layer = LoRALinear(copy.deepcopy(base), rank=2, alpha=4.0)
    x = torch.randn(3, 8)
    assert torch.allclose(layer(x), base(x))  # B starts at zero
    with torch.no_grad():
        layer.lora_b.normal_()
    expected = layer(x)
    merged = layer.merged()
    assert isinstance(merged, torch.nn.Linear)
    assert torch.allclose(merged(x), expected, atol=1e-5)
    assert torch.linalg.matrix_rank(merged.weight - base.weight) <= 2


def test_add_lora_targets_linear_layers_but_not_the_output_head(tiny_model):
    net = copy.deepcopy(tiny_model.model)
    names = add_lora(net, rank=2)
    assert names and all("lm_head" not in n for n in names)
    assert {n.rsplit(".", 1)[-1] for n in names} >= {"q_proj", "v_proj", "down_proj"}
    only_q = add_lora(copy.deepcopy(tiny_model.model), rank=2, targets=("q_proj",))
    assert only_q and all(n.endswith("q_proj") for n in only_q)
    assert merge_lora(net) == len(names)
    with pytest.raises(ValueError, match="No linear layer matches"):
        add_lora(copy.deepcopy(tiny_model.model), rank=2, targets=("no_such_layer",))
    with pytest.raises(ValueError, match="positive integer"):
        add_lora(copy.deepcopy(tiny_model.model), rank=0)


@pytest.fixture(scope="module")
def pretrained(tiny_model):
    """The tiny model after a little full fine-tuning: LoRA adapts a trained model (on a random one, the frozen,
    near-zero output embeddings keep every distribution close to uniform whatever the adapters do)."""
    model, _ = fine_tune(_copy(tiny_model, "pretrained"), random_sentences(100, seed=5), epochs=10, batch_size=4,
                         learning_rate=3e-3)
    return model


def test_lora_fine_tune_learns_with_low_rank_updates_and_keeps_the_architecture(pretrained):
    texts = ["The red bird sat under the big tree. The blue dog ran over the small river."] * 4  # one block
    model = _copy(pretrained, "lora-base")
    before = {k: v.clone() for k, v in model.model.state_dict().items()}
    nll_before = _mean_nll(model, texts)
    tuned, report = fine_tune(model, texts, epochs=30, batch_size=1, learning_rate=1e-2, lora_rank=4)
    after = tuned.model.state_dict()
    assert set(after) == set(before)  # adapters merged: same parameter names and shapes as before
    assert not any(isinstance(m, LoRALinear) for m in tuned.model.modules())
    # Measured: 4.31 -> 3.45 nats. (Frozen, small output embeddings bound how peaked a tiny model's predictions can
    # get, so LoRA learns a repeated phrase here, but not random word sequences, which full fine-tuning memorises.)
    assert _mean_nll(tuned, texts) < nll_before - 0.4
    assert report.steps == 30 and tuned.identity != pretrained.identity
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert changed and all(k.endswith("proj.weight") for k in changed)  # embeddings and norms stay frozen
    for k in changed:
        assert torch.linalg.matrix_rank(after[k] - before[k], atol=1e-5) <= 4


def test_full_fine_tune_still_works_and_lora_refuses_trainable(tiny_model):
    texts = random_sentences(20, seed=4)
    model = _copy(tiny_model, "full-base")
    nll_before = _mean_nll(model, texts)
    tuned, _ = fine_tune(model, texts, epochs=2, learning_rate=3e-3)
    assert _mean_nll(tuned, texts) < nll_before
    with pytest.raises(ValueError, match="not both"):
        fine_tune(_copy(tiny_model, "x"), texts, lora_rank=2, trainable=lambda n: True)
