"""Backends without a real server: spec parsing, the registry, refusals that name backend and capability, the
tail-bounded approximation, byte-level offsets, and the HTTP client's failure handling against small local
HTTP servers that behave like servers that do not echo prompt log-probabilities (llama.cpp), fail transiently or
refuse the key. The real-server tests are tests/lm/test_served_backends.py and tests/lm/test_parity.py."""

import importlib.util
import json
import math
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from provenance.lm.backends import backends, load_model, parse_spec, split_url_model
from provenance.lm.backends._http import ApiClient, ClientSettings, ServerError
from provenance.lm.backends._served import byte_level_offsets
from provenance.lm.interface import CAPABILITIES, GENERATION, LOGPROBS, MOMENTS, TOP_K, MissingCapability, require
from provenance.lm.loading import ModelLoadError
from provenance.scores.approximate import tail_bounded_moments


def test_specs_choose_backends():
    assert parse_spec("default") == ("hf", "default")
    assert parse_spec("EleutherAI/pythia-160m") == ("hf", "EleutherAI/pythia-160m")
    assert parse_spec("hf:default") == ("hf", "default")
    assert parse_spec("vllm:default") == ("vllm", "default")
    assert parse_spec("openai:http://127.0.0.1:8000/v1#default") == ("openai", "http://127.0.0.1:8000/v1#default")
    assert parse_spec("chat:https://api.example.org/v1#m") == ("chat", "https://api.example.org/v1#m")
    assert split_url_model("http://127.0.0.1:8000/v1/#default", "openai") == ("http://127.0.0.1:8000/v1", "default")
    assert set(backends()) >= {"hf", "vllm", "openai", "chat"}
    assert backends()["hf"].capabilities == frozenset(CAPABILITIES)
    assert MOMENTS not in backends()["openai"].capabilities and backends()["chat"].capabilities == {GENERATION}


@pytest.mark.parametrize("spec, words", [
    ("nope:thing", "Unknown model backend 'nope'"),
    ("http://127.0.0.1:8000/v1", "openai:http://127.0.0.1:8000/v1#MODEL"),
    ("openai:http://127.0.0.1:8000/v1", "openai:BASE_URL#MODEL"),
    ("openai:ftp://x#m", "must start with http"),
    ("chat:", "no model after the colon"),
    ("", "empty"),
])
def test_bad_specs_are_refused_with_a_sentence(spec, words):
    with pytest.raises(ModelLoadError, match=None) as info:
        load_model(spec)
    assert words in str(info.value)


def test_a_local_path_with_a_colon_stays_hf(tmp_path):
    folder = tmp_path / "openai:weird"
    folder.mkdir()
    assert parse_spec(str(folder)) == ("hf", str(folder))


def test_vllm_without_vllm_installed_says_how_to_get_it():
    if importlib.util.find_spec("vllm") is not None:
        pytest.skip("vllm is importable here")
    with pytest.raises(ModelLoadError, match="vLLM is not installed.*scripts/vllm-server.sh"):
        load_model("vllm:default")


class _Fake:
    capabilities = frozenset({LOGPROBS, TOP_K})
    name, spec, backend = "m", "openai:http://x/v1#m", "openai"


def test_refusal_names_backend_and_capability():
    with pytest.raises(MissingCapability) as info:
        require(_Fake(), MOMENTS, "The 'minkpp' score")
    message = str(info.value)
    assert "openai backend" in message and "(moments)" in message and "openai:http://x/v1#m" in message


def test_tail_bounds_contain_the_true_moments():
    rng = np.random.default_rng(0)
    for _ in range(50):
        vocab = int(rng.integers(50, 400))
        logits = rng.standard_normal(vocab) * rng.uniform(0.5, 4)
        log_p = logits - np.log(np.exp(logits).sum())
        p = np.exp(log_p)
        mu = float(np.sum(p * log_p))
        k = int(rng.integers(1, 10))
        order = np.argsort(-log_p)
        observed = int(rng.integers(vocab))
        est_mu, est_sigma, low, high = tail_bounded_moments(float(log_p[observed]), log_p[order[:k]], vocab)
        assert low - 1e-9 <= mu <= high + 1e-9
        assert low <= est_mu <= high and est_sigma > 0


def test_tail_bounds_are_exact_when_the_list_is_the_whole_vocabulary():
    log_p = np.log(np.array([0.5, 0.3, 0.2]))
    mu, sigma, low, high = tail_bounded_moments(float(log_p[1]), log_p, 3)
    assert low == pytest.approx(high) == pytest.approx(mu) == pytest.approx(float(np.sum(np.exp(log_p) * log_p)))


def test_byte_level_offsets_follow_the_fast_tokenizer(default_model):
    from provenance.scores.parity import parity_texts

    tokenizer = default_model.tokenizer
    for text in parity_texts(long_words=50):
        ids, offsets = default_model.tokenize(text)
        strings = tokenizer.convert_ids_to_tokens(ids.tolist())
        assert np.array_equal(byte_level_offsets(text, strings), offsets), text
    assert byte_level_offsets("abc", ["▁abc"]) is None  # SentencePiece strings are not byte-level


# -- the HTTP client against small local servers ----------------------------------------------------------------

class _Server:
    """A local HTTP server answering POST/GET with ``respond(handler, path, body) -> (status, json)``."""

    def __init__(self, respond):
        outer = self
        self.requests = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, body):
                outer.requests.append((self.path, body, dict(self.headers)))
                status, payload = respond(self.path, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._answer(None)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                self._answer(json.loads(self.rfile.read(length) or b"null"))

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve():
    servers = []

    def start(respond):
        servers.append(_Server(respond))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def _llama_cpp_like(path, body):
    if path.endswith("/models"):
        return 200, {"object": "list", "data": [{"id": "m", "object": "model"}]}
    # like llama.cpp's server: a completion, but no log-probabilities of the prompt's tokens
    return 200, {"choices": [{"index": 0, "text": "x", "logprobs": None}], "usage": {"prompt_tokens": 4}}


def test_a_server_without_prompt_logprobs_is_refused(serve):
    server = serve(_llama_cpp_like)
    with pytest.raises(ModelLoadError, match="does not return log-probabilities of the prompt's tokens"):
        load_model(f"openai:{server.url}#m")


def test_an_unknown_model_name_lists_the_served_ones(serve):
    server = serve(_llama_cpp_like)
    with pytest.raises(ModelLoadError, match="does not serve a model called 'other'; it serves: m"):
        load_model(f"openai:{server.url}#other")


def test_transient_failures_are_retried_with_backoff(serve):
    calls = []

    def flaky(path, body):
        calls.append(path)
        return (503, {"error": {"message": "busy"}}) if len(calls) < 3 else (200, {"ok": True})

    server = serve(flaky)
    client = ApiClient(server.url, ClientSettings(retries=3, backoff=0.01))
    assert client.post("completions", {"a": 1}) == {"ok": True} and len(calls) == 3
    calls.clear()
    with pytest.raises(ServerError, match="answered 503: busy"):
        ApiClient(server.url, ClientSettings(retries=1, backoff=0.01)).post("completions", {})
    assert len(calls) == 2


def test_an_unreachable_server_is_a_sentence():
    with pytest.raises(ServerError, match="Could not reach the server"):
        ApiClient("http://127.0.0.1:9/v1", ClientSettings(retries=1, backoff=0.01)).get("models")


def test_the_key_goes_only_into_the_header(serve, monkeypatch):
    secret = "sk-test-not-a-real-key-123"
    monkeypatch.setenv("PROVENANCE_OPENAI_API_KEY", secret)
    server = serve(lambda path, body: (401, {"error": {"message": "bad key"}}))
    with pytest.raises(ServerError) as info:
        load_model(f"chat:{server.url}#m")
    assert "PROVENANCE_OPENAI_API_KEY" in str(info.value) and secret not in str(info.value)
    assert server.requests[0][2]["Authorization"] == f"Bearer {secret}"


def test_chat_models_refuse_likelihood_scores(serve):
    def chat(path, body):
        if path.endswith("/models"):
            return 200, {"data": [{"id": "m"}]}
        if path.endswith("/chat/completions"):
            n = body.get("n", 1)
            return 200, {"choices": [{"index": i, "message": {"content": f"sample {i}"}} for i in range(n)]}
        return 404, {"error": "not found"}

    server = serve(chat)
    model = load_model(f"chat:{server.url}#m", client_settings=ClientSettings(retries=0))
    assert model.sampled_continuations("a b", num_samples=3, max_new_tokens=4) == ["sample 0", "sample 1",
                                                                                   "sample 2"]
    assert model.greedy_continuations(["x", "y"], 3) == ["sample 0", "sample 0"]
    sent = [b for p, b, _ in server.requests if p.endswith("/chat/completions")]
    assert sent[0]["n"] == 3 and sent[1]["temperature"] == 0.0
    assert model.count_tokens("abcdef") == math.ceil(6 / 3) + 1  # no /tokenize here: the upper estimate
    with pytest.raises(MissingCapability, match="chat backend"):
        model.token_statistics(["some text"])
    with pytest.raises(MissingCapability, match="gradients"):
        model.gradient_norms("some text")
