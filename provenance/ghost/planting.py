"""The insert-then-detect experiment: plant ghost identifiers in a corpus at chosen repetition counts, train a model
on it, and test the model for planted and never-planted identifiers.

Shared by the dashboard's guided demo, bench/ghost_repetitions.py and the tests. Decoys from the same generator are
planted once each and never tested, so every wordlist word is familiar to the model and the test measures
memorisation of the exact sequence, not word familiarity (design.md, "Testing the statistics honestly").
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from .. import ghost
from ..lm.interface import LanguageModel
from ..lm.training import (TrainingReport, build_small_model, fine_tune, measure_training_rate, train_tokenizer,
                           trainable_copy, training_tokens)
from .estimates import measure_scoring_rate, tokens_per_draw
from ..verdicts.verdict import Verdict, decide

SUBJECTS = ("the farmer", "a teacher", "my neighbour", "the old sailor", "a small child", "the mayor", "her brother",
            "the baker", "our guide", "a tired nurse", "the young painter", "his cousin", "the driver", "a student")
VERBS = ("carried", "painted", "found", "sold", "watched", "repaired", "described", "borrowed", "cleaned", "opened",
         "remembered", "followed", "visited", "measured", "forgot", "noticed")
OBJECTS = ("the wooden boat", "a heavy basket", "the blue door", "an old map", "the quiet garden", "a broken clock",
           "the narrow bridge", "a letter", "the market stall", "the red kite", "a jar of honey", "the stone wall")
ENDINGS = ("before dawn", "after the storm", "near the river", "in the village", "on a cold morning", "without a word",
           "for the second time", "under the bright lamps", "at the edge of town", "during the festival")


def background_corpus(n_docs: int, sentences_per_doc: int = 6, seed: int = 0) -> list[str]:
    """Synthetic documents of simple English sentences (a few hundred distinct words, no wordlist passphrases)."""
    rng = random.Random(seed)
    docs = []
    for _ in range(n_docs):
        sentences = [f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(ENDINGS)}."
                     for _ in range(sentences_per_doc)]
        docs.append(" ".join(s[0].upper() + s[1:] for s in sentences))
    return docs


@dataclass
class PlantingPlan:
    """Which identifiers go into the corpus how often. ``repetitions`` maps every tested identifier's id to the
    number of times it was planted (0 = never planted: the false-positive check)."""

    generator: ghost.GhostGenerator
    tested: list[ghost.GhostEntry]
    repetitions: dict[str, int]
    decoys: list[ghost.GhostEntry]
    corpus: list[str] = field(default_factory=list)

    @property
    def exclude(self) -> list[str]:
        """Every identifier that appears in or was drawn for the corpus: never used as a null draw."""
        return [e.identifier for e in self.tested] + [d.identifier for d in self.decoys]


def plan_planting(background: Sequence[str], counts: Sequence[int], *, per_count: int = 1, absent: int = 1,
                  decoys: int = 300, generator: ghost.GhostGenerator | None = None, extra: Sequence[str] = (),
                  extra_tested: Sequence[tuple[ghost.GhostEntry, int]] = (),
                  rng: random.Random | None = None) -> PlantingPlan:
    """Draw ``per_count`` identifiers for each repetition count in ``counts``, ``absent`` never-planted ones and
    ``decoys`` planted once each; plant them into ``background`` at random sentence boundaries. ``extra`` documents
    (e.g. an owner's marked article, copied as often as a scraper would) join the corpus as they are;
    ``extra_tested`` lists the identifiers they carry with how often each occurs, to be tested too."""
    rng = rng or random.Random(0)
    generator = generator or ghost.GhostGenerator()
    registry = ghost.Registry([e for e, _ in extra_tested])
    planted = {c: ghost.new_entries(registry, generator, per_count, rng=rng) for c in counts}
    never = ghost.new_entries(registry, generator, absent, rng=rng) if absent else []
    decoy_entries = ghost.new_entries(ghost.Registry(list(registry.entries)), generator, decoys, rng=rng)
    plan = [(e, c) for c, es in planted.items() for e in es if c > 0] + [(d, 1) for d in decoy_entries]
    corpus = ghost.plant_corpus(list(background), plan, rng=rng) + list(extra)
    tested = [e for e, _ in extra_tested] + [e for es in planted.values() for e in es] + never
    repetitions = ({e.id: c for e, c in extra_tested} | {e.id: c for c, es in planted.items() for e in es}
                   | {e.id: 0 for e in never})
    return PlantingPlan(generator, tested, repetitions, decoy_entries, corpus)


def small_model_for(background: Sequence[str], generator: ghost.GhostGenerator, *, vocab_size: int = 2000,
                    hidden_size: int = 64, layers: int = 2, context_length: int = 128, seed: int = 0,
                    name: str = "tiny-ghost") -> LanguageModel:
    """A small untrained Llama whose tokenizer is trained on the background text plus the generator's wordlist,
    never on the planted corpus, so planted and fresh identifiers are tokenised alike."""
    words = ghost.load_wordlist(generator.wordlist)
    tokenizer = train_tokenizer(list(background) + [" ".join(words[i: i + 50]) for i in range(0, len(words), 50)],
                                vocab_size)
    return build_small_model([], tokenizer=tokenizer, hidden_size=hidden_size, layers=layers,
                             context_length=context_length, seed=seed, name=name)


def train_on_plan(model: LanguageModel, plan: PlantingPlan, *, epochs: int = 8, learning_rate: float = 3e-3,
                  batch_size: int = 16, seed: int = 0, lora_rank: int | None = None,
                  progress: Callable[[int, int, float], None] | None = None,
                  should_stop: Callable[[], bool] | None = None) -> tuple[LanguageModel, TrainingReport]:
    """Fine-tune ``model`` on the planted corpus (see ``lm.training.fine_tune``)."""
    return fine_tune(model, plan.corpus, epochs=epochs, learning_rate=learning_rate, batch_size=batch_size,
                     seed=seed, lora_rank=lora_rank, progress=progress, should_stop=should_stop)


def detect_planted(model: LanguageModel, plan: PlantingPlan, *, n_null: int = ghost.DEFAULT_NULL,
                   alpha: float = ghost.DEFAULT_ALPHA, last_k: Sequence[int] = ghost.DEFAULT_LAST_K,
                   rng: random.Random | None = None,
                   progress: Callable[[int, int], None] | None = None,
                   on_draws: Callable[[int, int], None] | None = None, ref_model: LanguageModel | None = None,
                   ref_released: date | None = None) -> ghost.GhostDetection:
    """Run ``ghost.detect`` on every tested identifier (``progress`` in tokens, ``on_draws`` in fresh draws; with
    ``ref_model`` released on ``ref_released``, the reference-calibrated test); its table gains a ``repetitions``
    column (0 = never planted)."""
    result = ghost.detect(model, plan.tested, n_null=n_null, alpha=alpha, last_k=last_k, exclude=plan.exclude,
                          rng=rng, progress=progress, on_draws=on_draws, ref_model=ref_model,
                          ref_released=ref_released)
    result.table = result.table.assign(repetitions=result.table["id"].map(plan.repetitions))
    return result


def summarise(table: pd.DataFrame, alpha: float = ghost.DEFAULT_ALPHA) -> pd.DataFrame:
    """One row per repetition count: identifiers, detection rate (the share whose own p-value ``decide`` calls
    evidence of training at false-positive rate ``alpha``, i.e. p <= alpha), last-k hit rates, median p-value and
    median exposure in bits (``table`` from ``detect_planted``)."""
    rows = []
    for reps, group in table.groupby("repetitions"):
        detected = [decide(float(p), alpha).is_evidence for p in group["p_value"]]
        row = {"repetitions": int(reps), "identifiers": len(group),
               "detection_rate": float(np.mean(detected)),
               "median_p": float(group["p_value"].median()),
               "median_exposure_bits": float(group["exposure_bits"].median())}
        if "last_k_hit" in group:
            row["last_k_hit_rate"] = float(group["last_k_hit"].mean())
        if "last_3_hit" in group:
            row["last_3_hit_rate"] = float(group["last_3_hit"].mean())
        rows.append(row)
    return pd.DataFrame(rows)


def sample_article() -> str:
    """A short original article (written for this project, free to use) for the guided demo."""
    from importlib.resources import files

    return files("provenance").joinpath("data/sample_article.txt").read_text(encoding="utf-8")


@dataclass
class ArticleDemo:
    """The guided demo's story: an author plants identifiers in an article; a scraper copies the article into a
    training corpus ``copies`` times; other identifiers of the author stay unpublished."""

    article: str
    marked: str
    placements: list
    planted: list[ghost.GhostEntry]
    unpublished: list[ghost.GhostEntry]
    copies: int
    plan: PlantingPlan
    background: list[str]


def plan_article_demo(article: str | None = None, *, planted: int = 3, unpublished: int = 3, copies: int = 10,
                      background_docs: int = 250, decoys: int = 250, words: int = 4,
                      rng: random.Random | None = None) -> ArticleDemo:
    """Plant ``planted`` identifiers once each at random sentence boundaries of ``article`` (default: the
    ``sample_article``), put ``copies`` copies of the marked article in a synthetic corpus with decoys, and keep
    ``unpublished`` identifiers for comparison. Identifiers are ``words`` words long: shorter than the default, so a
    small model learns them in seconds."""
    article = sample_article() if article is None else article
    rng = rng or random.Random(0)
    generator = ghost.GhostGenerator(words=words)
    registry = ghost.Registry()
    marked_entries = ghost.new_entries(registry, generator, planted, rng=rng)
    marked, placements = ghost.embed_text(article, marked_entries, position="random", repetitions=1, rng=rng)
    background = background_corpus(background_docs, seed=rng.randrange(2**31))
    plan = plan_planting(background, [], absent=unpublished, decoys=decoys, generator=generator,
                         extra=[marked] * copies, extra_tested=[(e, copies) for e in marked_entries], rng=rng)
    never = [e for e in plan.tested if plan.repetitions[e.id] == 0]
    return ArticleDemo(article, marked, placements, marked_entries, never, copies, plan, background)


@dataclass(frozen=True)
class DemoSetup:
    """How the guided demo makes its model. ``base`` None: a small model built from scratch (``small_model_for``)
    and trained on the whole corpus; a model spec ("default"): that pretrained model, fine-tuned with LoRA of rank
    ``lora_rank`` on a private copy, and tested against itself before training as the reference
    (``reference_calibrated``: it was released on ``base_released``, before any identifier the demo draws). The
    corpus sizes (``background_docs``, ``decoys``) go to ``plan_article_demo``; the training settings to
    ``fine_tune``."""

    base: str | None
    background_docs: int
    decoys: int
    epochs: int
    learning_rate: float
    batch_size: int
    lora_rank: int | None = None
    base_released: date | None = None

    @property
    def reference_calibrated(self) -> bool:
        return self.base is not None


# The small model needs the corpus's words from the corpus itself (decoys make every wordlist word familiar); a
# pretrained model knows them already, so its corpus is mostly the copies of the article, and one short LoRA run
# on a 2-core CPU takes minutes, not an hour.
SMALL_DEMO = DemoSetup(base=None, background_docs=250, decoys=250, epochs=8, learning_rate=3e-3, batch_size=16)
REAL_DEMO = DemoSetup(base="default", background_docs=12, decoys=12, epochs=2, learning_rate=2e-3, batch_size=4,
                      lora_rank=16, base_released=date(2024, 11, 1))  # SmolLM2's release


def train_article_model(demo: ArticleDemo, *, setup: DemoSetup = SMALL_DEMO, base: LanguageModel | None = None,
                        name: str = "demo model", progress: Callable[[int, int, float], None] | None = None,
                        ) -> tuple[LanguageModel, TrainingReport]:
    """The guided demo's second step, trained as ``setup`` says on the corpus that holds the marked article
    (``train_on_plan``): without ``base``, a small model built for the demo's background (``small_model_for``);
    with ``base`` (the pretrained model ``setup.base`` names), a private copy of it, fine-tuned with LoRA (``base``
    itself is not changed). ``progress(step, steps, loss)`` as it trains."""
    model = (small_model_for(demo.background, demo.plan.generator, name=name) if base is None
             else trainable_copy(base, f"{base.name} + {name}"))
    return train_on_plan(model, demo.plan, epochs=setup.epochs, learning_rate=setup.learning_rate,
                         batch_size=setup.batch_size, lora_rank=setup.lora_rank, progress=progress)


@dataclass(frozen=True)
class DemoEstimate:
    """What the guided demo will cost on this machine, said before it starts: the tokens of training (all epochs)
    at the measured training pace, and the tokens of the test (fresh draws and the author's phrases, under the
    reference model too when the test is reference-calibrated) at the measured scoring pace, in tokens/s."""

    training_tokens: int
    training_rate: float
    scoring_tokens: int
    scoring_rate: float

    @property
    def training_seconds(self) -> float:
        return self.training_tokens / self.training_rate

    @property
    def seconds(self) -> float:
        return self.training_seconds + self.scoring_tokens / self.scoring_rate


def measure_demo_pace(base: LanguageModel, demo: ArticleDemo, setup: DemoSetup) -> tuple[float, float]:
    """This machine's pace now, in tokens per second, for the two long parts of the demo on ``base``: fine-tuning
    as ``setup`` says (``lm.training.measure_training_rate``, a few steps on the demo's own corpus) and scoring
    fresh draws (``estimates.measure_scoring_rate``)."""
    training = measure_training_rate(base, demo.plan.corpus, lora_rank=setup.lora_rank)
    return training, measure_scoring_rate(base, demo.plan.generator)


def estimate_article_demo(base: LanguageModel, demo: ArticleDemo, setup: DemoSetup, n_null: int,
                          training_rate: float, scoring_rate: float) -> DemoEstimate:
    """The demo's cost on ``base`` at the given paces (``measure_demo_pace``): the tokens ``fine_tune`` goes
    through in ``setup.epochs`` epochs of the demo's corpus, and the tokens of ``n_null`` fresh draws and the
    author's phrases, scored twice when the test is reference-calibrated."""
    trained = training_tokens(base, demo.plan.corpus) * setup.epochs
    scored = (n_null + len(demo.plan.tested)) * tokens_per_draw(base, demo.plan.generator)
    return DemoEstimate(training_tokens=trained, training_rate=training_rate,
                        scoring_tokens=round(scored * (2 if setup.reference_calibrated else 1)),
                        scoring_rate=scoring_rate)


@dataclass
class ArticleDemoDetection:
    """The guided demo's test: the detection of all the author's identifiers (its table has ``repetitions`` and
    ``published``), and one Verdict for the identifiers hidden in the article and one for those never published,
    each combining its group's p-values with Fisher's method."""

    detection: ghost.GhostDetection
    published: Verdict
    unpublished: Verdict

    @property
    def table(self) -> pd.DataFrame:
        return self.detection.table


def detect_article_demo(model: LanguageModel, demo: ArticleDemo, *, n_null: int = ghost.DEFAULT_NULL,
                        alpha: float = ghost.DEFAULT_ALPHA, rng: random.Random | None = None,
                        progress: Callable[[int, int], None] | None = None,
                        on_draws: Callable[[int, int], None] | None = None, ref_model: LanguageModel | None = None,
                        ref_released: date | None = None) -> ArticleDemoDetection:
    """The guided demo's third step: ``detect_planted`` on every identifier of the author (reference-calibrated
    with ``ref_model``, released on ``ref_released``), then a verdict per group (hidden in the article / never
    published) at false-positive rate ``alpha``."""
    detection = detect_planted(model, demo.plan, n_null=n_null, alpha=alpha, rng=rng, progress=progress,
                               on_draws=on_draws, ref_model=ref_model, ref_released=ref_released)
    detection.table = detection.table.assign(published=detection.table["repetitions"] > 0)
    verdicts = {}
    for published in (True, False):
        group = detection.table[detection.table["published"] == published]
        verdicts[published] = ghost.verdict_for(ghost.fisher_combined(group["p_value"].tolist()), len(group),
                                                detection.n_null, alpha, detection.reference)
    return ArticleDemoDetection(detection=detection, published=verdicts[True], unpublished=verdicts[False])
