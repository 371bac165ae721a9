"""Choosing the membership scores on the Documents and Benchmark pages: every score of the registry, the ones that
need a second model offered when the sidebar has it, the one statistic the verdicts rest on, and when a reference
model is the strongest evidence."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from provenance.scores import registry
from provenance.scores.declared import MEMBER_TEXTS, NON_MEMBER_TEXTS
from ui.session import chosen_models

MEAN_RANK = "mean rank"  # the verdict statistic that ranks every chosen score together
SLOW_SCORES = {"gradnorm": "one backward pass per document: several times slower",
               "ngram_coverage": "samples continuations of every document: much slower",
               "samia": "samples continuations of every document: much slower",
               "neighbor": "scores 25 neighbours of every document: about 25 times slower",
               "pac": "scores 5 word-swapped copies of every document: about 5 times slower"}
REFERENCE_NOTE = (
    "**When a reference model is the strongest evidence.** The 'ref' score compares the target with the reference "
    "model on each text, so what cancels is how hard the text is on its own, and what remains is what the target "
    "learned that the reference did not. It is strongest when the reference is (1) the base model the target was "
    "fine-tuned from (a base model and its fine-tune), or (2) an older model of the same family whose training "
    "data ends before your texts were published. Measured on the default model fine-tuned one epoch on 100 "
    "paragraphs: AUC 0.90 with the base model as reference, against 0.62 for the loss alone. With an unrelated "
    "reference model it is one more score among the others.")


@dataclass
class ScoreChoice:
    """What the user chose: the scores to compute and the ones the verdicts rest on (None: every chosen score, by
    mean rank), plus whether a reference model and an observer model are needed."""

    scores: list[str]
    verdict_scores: list[str] | None

    @property
    def needs_reference_model(self) -> bool:
        return any(registry.REFERENCE_MODEL in registry.get(s).inputs for s in self.scores)

    @property
    def needs_observer(self) -> bool:
        return any(registry.OBSERVER in registry.get(s).inputs for s in self.scores)


def _missing_model(name: str, models: dict, declared: tuple[str | None, str | None] = (None, None)) -> str | None:
    """Why score ``name`` cannot be chosen now (the model it needs is not chosen in the sidebar, or the texts it
    reads are not declared on this page: ``declared`` holds the reason for non-members and for members, None when
    the page has them), or None."""
    inputs = registry.get(name).inputs
    if registry.REFERENCE_MODEL in inputs and not models["reference"]:
        return "a reference model (choose one in the sidebar)"
    if registry.OBSERVER in inputs and not models["observer"]:
        return "an observer model (choose one in the sidebar)"
    if NON_MEMBER_TEXTS in inputs and declared[0]:
        return declared[0]
    if MEMBER_TEXTS in inputs and declared[1]:
        return declared[1]
    return None


def _label(name: str) -> str:
    slow = f" ({SLOW_SCORES[name]})" if name in SLOW_SCORES else ""
    return f"{name}: {registry.description(name)}{slow}"


def score_picker(key: str, *, verdict_statistic: bool = True,
                 declared: tuple[str | None, str | None] = (None, None)) -> ScoreChoice:
    """The score multiselect (every registered score whose models are chosen in the sidebar and whose declared texts
    the page has: ``declared`` says why non-member / member texts are missing, None when present; the others named
    with what they need), the reference-model note, and, with ``verdict_statistic``, the one statistic the
    verdicts rest on (chosen before scoring, so it is fixed before looking at the data)."""
    models = chosen_models()
    available = [name for name in registry.SCORES if _missing_model(name, models, declared) is None]
    unavailable = {name: why for name in registry.SCORES
                   if (why := _missing_model(name, models, declared)) is not None}
    default = [s for s in registry.default_scores() if s in available]
    default += [s for s in ("ref", "binoculars") if s in available]
    scores = st.multiselect("Scores", available, default=default, format_func=_label, key=f"{key}_scores",
                            help="Every score is oriented so that higher means more likely a training member.")
    if unavailable:
        st.caption(" · ".join(f"{name} needs {why}" for name, why in unavailable.items()))
    if models["reference"]:
        st.info(REFERENCE_NOTE, icon=":material/balance:")
    else:
        st.caption("Tip: a reference model (sidebar) adds the 'ref' score, the strongest evidence when it is the base "
                   "model of a fine-tuned target or an older model of the same family.")
    verdict_scores = None
    if verdict_statistic and scores:
        options = [MEAN_RANK] + scores
        preferred = "ref" if "ref" in scores else MEAN_RANK
        chosen = st.selectbox(
            "The verdicts rest on", options, index=options.index(preferred), key=f"{key}_verdict_statistic",
            format_func=lambda o: (f"one statistic: the mean rank of all {len(scores)} chosen scores"
                                   if o == MEAN_RANK else f"one score: {o}"),
            help="One statistic, fixed before scoring: each document's p-value is its rank on it among the "
                 "reference texts, so n reference texts allow p-values down to 1/(n+1). With a reference model "
                 "the 'ref' score is chosen by default (see the note above).")
        verdict_scores = None if chosen == MEAN_RANK else [chosen]
    return ScoreChoice(scores=list(scores), verdict_scores=verdict_scores)
