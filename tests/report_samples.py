"""Investigations for report tests that need no model: a suspect set against a reference set, with score rows
written straight into the store and the comparison made by the real use case's recording step."""

from __future__ import annotations

import numpy as np

from textgen import random_sentences
from provenance.documents import Document
from provenance.investigations.records import Kind
from provenance.investigations.reference import record_comparison
from provenance.investigations.store import REFERENCE, InvestigationStore

SCORES = ["loss", "zlib", "mink"]
LONG_NAME = "chapter {i:03d} of the novel as filed with the publisher's archive (final proof, revised).txt"


def reference_investigation(store: InvestigationStore, name: str, n_documents: int, n_reference: int,
                            *, seed: int = 0, shift: float = 0.4) -> str:
    """An investigation of ``n_documents`` suspect documents (long names) against ``n_reference`` reference texts,
    compared with ``record_comparison``; suspect scores are shifted up by ``shift`` standard deviations so some
    documents show evidence. Returns its id."""
    rng = np.random.default_rng(seed)
    texts = random_sentences(n_documents + n_reference, length=40, seed=seed)
    inv = store.create(name, model_spec="default", model_identity="abc123",
                       model_info={"name": "SmolLM2-135M-Instruct", "parameters_human": "135M"},
                       settings={"scores": SCORES, "k": 0.2}, kind=Kind.REFERENCE)
    suspect = [Document(LONG_NAME.format(i=i), t) for i, t in enumerate(texts[:n_documents])]
    reference = [Document(f"reference-{i:03d}.txt", t) for i, t in enumerate(texts[n_documents:])]
    store.add_documents(inv.id, suspect)
    store.add_documents(inv.id, reference, collection=REFERENCE)
    for docs, offset, collection in ((suspect, shift, "main"), (reference, 0.0, REFERENCE)):
        rows = []
        for d in docs:
            nll = 3.0 - 0.3 * (offset + rng.normal())
            rows.append({"document": d.name, "tokens": int(rng.integers(40, 400)), "nll": nll,
                         "perplexity": float(np.exp(nll)), "loss": -nll, "zlib": -nll / 40 + 0.002 * rng.normal(),
                         "mink": -2 * nll + 0.1 * rng.normal()})
        store.add_results(inv.id, rows, collection=collection)
    record_comparison(store, inv.id, SCORES)
    store.set_status(inv.id, "complete")
    return inv.id


def models_investigation(store: InvestigationStore, tiny_model, tiny_model_b, name: str,
                         reference: bool = True) -> str:
    """Several models side by side, run by the real use case: 4 documents (and 20 reference texts) put to two tiny
    models and to a spec that cannot load ('gone'), verdicts at FPR 0.1. Returns its id."""
    from provenance.investigations.models import compare_models
    from provenance.lm.loading import ModelLoadError

    models = {"a": tiny_model, "b": tiny_model_b}

    def load(spec):
        if spec not in models:
            raise ModelLoadError(f"There is no model called '{spec}'.")
        return models[spec]

    def docs(n: int, seed: int, prefix: str) -> list[Document]:
        return [Document(f"{prefix}-{i}.txt", t) for i, t in enumerate(random_sentences(n, length=40, seed=seed))]

    result = compare_models(store, name, ["a", "b", "gone"], load, docs(4, 51, "doc"),
                            docs(20, 52, "ref") if reference else (), ["loss", "zlib", "mink"], fpr=0.1)
    return result.investigation.id
