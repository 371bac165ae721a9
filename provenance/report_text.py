"""The words of a report: the plain-language summary that opens it and the method and caveats that close it, one
set per kind of investigation (``investigations.records.Kind``), so a ghost-sentence test never reads like a
document investigation ("trained on 0 document(s)") and no two sentences of one report contradict each other.

Every sentence is made from recorded values (the Verdict value, the shift check's summary, counts); nothing is
parsed back out of another sentence. ``report`` (the entry points) and ``report_layout`` (the HTML) use these.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .investigations.records import Kind
from .scores import registry
from .verdicts.baseline import (BLIND_EXPLANATION, BLIND_SCORE_NAME, PRIVACY_EXPLANATION, blind_baseline_sentence,
                                privacy_budget_sentence)
from .verdicts.roc import operating_point_note
from .verdicts.verdict import Label

if TYPE_CHECKING:
    from .report import ReportData

CAVEATS = {
    "what_it_means": (
        "A verdict of 'evidence of training' means these texts look more familiar to the model than texts it cannot "
        "have seen, by more than chance explains at the stated false-positive rate. It is statistical evidence "
        "about the texts, not a record from the model's training data."),
    "what_it_does_not_mean": (
        "It does not show that these exact files were in the training data: the same passages may have reached the "
        "model through copies, quotations or common phrasing. 'No evidence' does not show that the texts were not "
        "used: a text seen once in a very large training set often leaves no measurable trace, and membership "
        "tests on single documents of large models are often close to chance."),
    "false_positive_rate": (
        "The false-positive rate (FPR) is the share of texts the model never saw that the test would still call "
        "'evidence of training'. At FPR 0.05, about one unseen text in twenty is flagged by chance, so a single "
        "flagged document among many is weak evidence; consistent results across many documents, or planted "
        "ghost sentences with their exact null, are stronger."),
    "shift_check": (
        "Comparing suspect texts with reference texts is only fair when the two sets differ in nothing but "
        "membership. The distribution-shift check trains a bag-of-words classifier (no language model) to tell the "
        "sets apart; if it can (AUC well above 0.5), a 'member' verdict may reflect differences in topic, time or "
        "style rather than training."),
    "raw_scores": (
        "A bare score is not a verdict. Perplexity and the other scores describe how predictable a text is to this "
        "model; many texts are predictable without having been trained on (simple, formulaic or widely quoted "
        "text). Scores only become evidence when compared with texts the model cannot have seen."),
}

CHUNK_META_EXPLANATION = (
    "The row chunk_meta is the chunk meta-classifier (Meeus et al. 2024): each document is cut into chunks of a fixed "
    "number of tokens, features of each chunk (mean and lowest token log-probabilities, standardised "
    "log-probabilities, rank buckets, a histogram of log-probabilities) are summarised over the document, and a "
    "logistic regression learns to tell members from non-members. It is cross-validated: every document is scored "
    "by a classifier fitted on the other documents only, so its AUC is an honest estimate for unseen documents.")


def evaluation_explanations(table: pd.DataFrame, n_non_members: int | None) -> list[str]:
    """What a reader of a labelled evaluation table needs explained, for the rows and columns it has: which false-
    positive rates ``n_non_members`` non-members can measure, the chunk meta-classifier, the blind baseline and the
    privacy budget (the same words on the Benchmark page and in the report)."""
    notes = [operating_point_note(int(n_non_members))] if n_non_members is not None else []
    scores = set(table["score"]) if "score" in table else set()
    if "chunk_meta" in scores:
        notes.append(CHUNK_META_EXPLANATION)
    if BLIND_SCORE_NAME in scores:
        notes.append(BLIND_EXPLANATION)
    if "epsilon_lower" in table:
        notes.append(PRIVACY_EXPLANATION)
    return [n for n in notes if n]

GHOST_METHOD = {
    "How the test works": (
        "Each planted identifier (ghost sentence) was scored by the model: its negative log-likelihood (NLL, nats "
        "per token; lower means more familiar). It was then ranked among M fresh passphrases drawn from the same "
        "generator (same word list, length and custom elements). Those fresh draws were never published, so no "
        "model can have been trained on them: they are an exact null. The p-value is p = (1 + the number of fresh "
        "draws with an NLL at most the identifier's) / (M + 1); the smallest possible is 1 / (M + 1)."),
    "Several identifiers": (
        "The identifiers' p-values are combined with Fisher's method into one p-value for the whole registry. "
        "Exposure, log2(M + 1) - log2(rank), is the same rank in bits (Carlini et al., The Secret Sharer, 2019): "
        "higher means more memorised."),
    "What a verdict means": (
        "'Evidence of training' means the model finds the planted identifiers more familiar than passphrases it "
        "cannot have seen, by more than chance explains at the stated false-positive rate. Because the "
        "identifiers are random and unique, such familiarity is hard to explain without training on texts that "
        "contained them."),
    "What a verdict does not mean": (
        "'No evidence' does not show that the texts were not used: an identifier seen a few times in a very large "
        "training set often leaves no measurable trace. Evidence concerns the identifiers; which of your texts "
        "carried them to the model is for the registry and your publication records to show."),
}

GHOST_REFERENCE_METHOD = (
    "A reference-calibrated test. Each planted identifier (ghost sentence) was scored by the tested model and by "
    "the reference model {reference}, released on {released}, before the identifiers were registered, so it cannot "
    "have been trained on them. The statistic is the difference NLL_reference - NLL_tested (negative "
    "log-likelihoods in nats per token; higher means the tested model finds the identifier more familiar than the "
    "reference does). Each identifier's difference was ranked among the same difference for M fresh passphrases "
    "drawn from the same generator and scored the same way under both models. The fresh draws were never "
    "published, so neither model saw them: the null stays exact. What the difference cancels is each "
    "passphrase's own difficulty (some word sequences are easier for any model), which otherwise hides "
    "memorisation on a pretrained model. The p-value is p = (1 + the number of fresh draws with a difference at "
    "least the identifier's) / (M + 1); the smallest possible is 1 / (M + 1).")

LABELLED_METHOD = {
    "How the scores were evaluated": (
        "Each score was computed for every labelled text (members: texts the model was trained on; non-members: "
        "texts it was not). The ROC curve shows, for every threshold, the share of members found (true-positive "
        "rate) against the share of non-members wrongly called members (false-positive rate). The AUC is the "
        "chance that a random member scores above a random non-member (0.5 = chance, 1 = perfect), with a 95% "
        "bootstrap interval (members and non-members resampled separately)."),
    "Low false-positive rates": (
        "The true-positive rate at 1% and 0.1% FPR says how many members a test finds when it may wrongly flag only "
        "one non-member in 100 or 1,000. With n non-members the smallest non-zero FPR a sample can show is 1/n, so "
        "these operating points need at least 100 and 1,000 non-members; below that they are reported as n/a."),
    "The chunk meta-classifier (chunk_meta)": CHUNK_META_EXPLANATION,
    "The blind baseline (blind)": BLIND_EXPLANATION,
    "The privacy budget (epsilon)": PRIVACY_EXPLANATION,
}


# ---------------------------------------------------------------------------------------------- helpers


def fmt(value, digits: int = 4) -> str:
    """A number for reading (``digits`` significant digits, thousands separators for integers, 'n/a' for
    missing)."""
    if value is None or (isinstance(value, (float, np.floating)) and not math.isfinite(value)):
        return "n/a"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        if float(value).is_integer() and abs(value) < 1e15 and digits >= 4:
            return f"{int(value):,}"
        return f"{float(value):.{digits}g}"
    return str(value)


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 document', '4 documents'."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def model_words(data: ReportData) -> str:
    inv = data.investigation
    model = inv.model_name or "an unnamed model"
    params = inv.model_info.get("parameters_human")
    return f"{model} ({params} parameters)" if params else model


def reference_words(data: ReportData) -> str | None:
    """The reference model of a reference-calibrated ghost test (its name, as recorded in the investigation's
    settings), or None for any other investigation."""
    return data.investigation.settings.get("reference_model_name") or None


def verdict_statement(data: ReportData) -> str | None:
    """The investigation-level verdict sentence (words, p-value, false-positive rate, method), if one was stored."""
    verdict = data.investigation.verdict
    return verdict.sentence() if verdict is not None else None


def shift_summary(data: ReportData) -> dict | None:
    shift = data.artifacts.get("shift_check")
    return shift if isinstance(shift, dict) else None


def shift_finding(shift: dict) -> str:
    """The check's own finding as a sentence (never reworded: an AUC above the threshold that is within chance is
    neither 'could' nor 'could not' tell the sets apart)."""
    reason = str(shift.get("reason") or "")
    return str(shift.get("sentence") or (reason[:1].upper() + reason[1:] + "."))


def shift_warning(data: ReportData) -> str | None:
    """A warning sentence when the distribution-shift check found the compared sets confounded."""
    shift = shift_summary(data)
    if shift and shift.get("confounded"):
        return ("Warning: a simple word-count classifier can tell the compared sets apart "
                f"(AUC {fmt(shift.get('auc'), 2)}), so any 'member' verdict may reflect how the sets differ rather "
                f"than training. {shift_finding(shift)}").strip()
    return None


def verdict_fpr(data: ReportData) -> float | None:
    """The false-positive rate this investigation's verdicts are set at: the investigation's verdict, else the
    comparison's recorded setting (per-document verdicts without a set verdict)."""
    if data.investigation.verdict is not None and math.isfinite(data.investigation.verdict.fpr):
        return data.investigation.verdict.fpr
    recorded = data.artifacts.get("set_comparison")
    if isinstance(recorded, dict) and recorded.get("fpr") is not None:
        return float(recorded["fpr"])
    return None


def _tokens(table: pd.DataFrame) -> int:
    return int(pd.to_numeric(table["tokens"], errors="coerce").sum()) if "tokens" in table and len(table) else 0


def _progress_sentences(data: ReportData, unit: str = "document(s)") -> list[str]:
    inv = data.investigation
    out = []
    ingest_errors = data.artifacts.get("ingest_errors") or []
    if ingest_errors:
        out.append(f"{len(ingest_errors)} uploaded file(s) could not be read; they are listed in the evidence.")
    if inv.status != "complete" or inv.n_pending:
        pending = f"; {inv.n_pending} {unit} not yet scored" if inv.n_pending else ""
        out.append(f"The investigation is not complete (status: {inv.status}{pending}). Run it again to finish it; "
                   "what was already computed is kept.")
    return out


# ---------------------------------------------------------------------------------------------- summaries


def summary_sentences(data: ReportData) -> list[str]:
    """The plain-language summary that opens the report, for the investigation's kind (a few sentences, no jargon
    beyond 'perplexity'). The verdict sentence starts with 'Verdict:'; a confounded shift check adds a warning."""
    if data.kind is Kind.MODELS:
        from .report_models import models_summary

        return models_summary(data)
    builders = {Kind.GHOST: _ghost_summary, Kind.LABELLED: _labelled_summary}
    return builders.get(data.kind, _documents_summary)(data)


def _documents_summary(data: ReportData) -> list[str]:
    inv, table = data.investigation, data.table
    reference = data.reference
    subject = (f"by comparing them with {plural(len(reference), 'reference text')} the model cannot have seen"
               if len(reference) else "")
    out = [f"This investigation, '{inv.name}', asks whether the language model {model_words(data)} was trained on "
           f"{plural(inv.n_documents, 'document')}" + (f", {subject}." if subject else ".")]
    done = f"{plural(len(table), 'document')} {'was' if len(table) == 1 else 'were'} scored ({_tokens(table):,} tokens)"
    if data.unscorable:
        done += f"; {len(data.unscorable)} could not be scored (for example because they are too short)"
    out.append(done + ".")
    out += _progress_sentences(data)
    statement = verdict_statement(data)
    if statement:
        out.append(f"Verdict: {statement}")
    if "verdict_label" in table.columns and table["verdict_label"].notna().any():
        counts = {label.value: int((table["verdict_label"] == label).sum()) for label in Label}
        out.append(f"Per document: {counts['evidence of training']} show evidence of training, "
                   f"{counts['no evidence']} show no evidence, {counts['inconclusive']} are inconclusive"
                   + (f" (each at FPR {verdict_fpr(data):g})." if verdict_fpr(data) is not None else "."))
        reconcile = _set_and_documents(data, counts)
        if reconcile:
            out.append(reconcile)
    elif not statement:
        out.append("No verdict was computed: these scores were not compared with texts the model cannot have seen, "
                   "so on their own they neither show nor rule out training.")
    if "perplexity" in table and table["perplexity"].notna().any() and len(table) > 1:
        ordered = table.dropna(subset=["perplexity"]).sort_values("perplexity")
        first, last = ordered.iloc[0], ordered.iloc[-1]
        out.append(f"The model found '{first['document']}' the most predictable (perplexity "
                   f"{fmt(first['perplexity'], 3)}) and '{last['document']}' the least (perplexity "
                   f"{fmt(last['perplexity'], 3)}); lower perplexity is consistent with, but not proof of, "
                   "training.")
    elif len(table) == 1 and "perplexity" in table:
        out.append(f"The model's perplexity on '{table['document'].iloc[0]}' is "
                   f"{fmt(table['perplexity'].iloc[0], 3)} (lower = more predictable to the model).")
    warning = shift_warning(data)
    if warning:
        out.append(warning)
    return out


def _set_and_documents(data: ReportData, counts: dict[str, int]) -> str | None:
    """A sentence reconciling the set's verdict with the documents' when they point different ways (both are
    right: they answer different questions), so the report never reads as contradicting itself."""
    verdict = data.investigation.verdict
    if verdict is None:
        return None
    flagged, judged = counts[Label.EVIDENCE.value], len(data.table)
    fpr = verdict.fpr
    if flagged and verdict.label is not Label.EVIDENCE:
        expected = f"about {fpr * judged:.2g}" if math.isfinite(fpr) else "some"
        one = flagged == 1
        return (f"{plural(flagged, 'document')} {'is' if one else 'are'} flagged on {'its' if one else 'their'} "
                f"own, yet the set's verdict is {verdict.label.value}: with {plural(judged, 'document')} tested at "
                f"FPR {fpr:g}, {expected} would be flagged by chance alone, and the set's verdict accounts for that.")
    if not flagged and verdict.label is Label.EVIDENCE:
        return ("No single document is strong enough on its own, but the set-level test, which weighs every "
                "document together, finds the set as a whole more familiar to the model than the reference texts.")
    return None


def _labelled_summary(data: ReportData) -> list[str]:
    inv = data.investigation
    settings = data.artifacts.get("labelled_evaluation_settings") or {}
    members, non_members = settings.get("members"), settings.get("non_members")
    sets = (f"{plural(int(members), 'member')} (texts it was trained on) and {plural(int(non_members), 'non-member')}"
            if members is not None and non_members is not None else f"{plural(inv.n_documents, 'labelled text')}")
    out = [f"This investigation, '{inv.name}', is a benchmark: it measures how well each membership score tells "
           f"{sets} apart, under the language model {model_words(data)}."]
    out += _progress_sentences(data, "labelled text(s)")
    evaluation = data.artifacts.get("labelled_evaluation")
    if isinstance(evaluation, pd.DataFrame) and not evaluation.empty and pd.notna(evaluation["auc"].iloc[0]):
        best = evaluation.iloc[0]
        out.append(f"The best score is {best['score']}: AUC {fmt(best['auc'], 3)} (95% interval "
                   f"{fmt(best.get('auc_low'), 3)} to {fmt(best.get('auc_high'), 3)}), where 0.5 is chance and 1 "
                   "separates every member from every non-member.")
        out += [s for s in (blind_baseline_sentence(evaluation), privacy_budget_sentence(evaluation)) if s]
        note = operating_point_note(int(non_members)) if non_members is not None else None
        if note:
            out.append(note)
    statement = verdict_statement(data)
    if statement:
        out.append(f"Verdict: {statement}")
    else:
        out.append("No set-level verdict was computed (too few members or non-members for the set-level test).")
    warning = shift_warning(data)
    if warning:
        out.append(warning)
    return out


def _ghost_summary(data: ReportData) -> list[str]:
    inv = data.investigation
    table = data.artifacts.get("ghost_detection")
    settings = data.artifacts.get("ghost_test_settings") or {}
    n_ids = len(table) if isinstance(table, pd.DataFrame) else len(settings.get("identifiers") or [])
    n_null = settings.get("n_null")
    draws = f" among {plural(int(n_null), 'fresh draw')} from its generator" if n_null else ""
    reference = reference_words(data)
    ranked = "ranked" if reference is None else (
        f"ranked by how much more familiar the tested model finds it than the reference model {reference} (released "
        f"{inv.settings.get('reference_released')}, before the identifiers were registered) does, scored the same "
        "way for the fresh draws,")
    out = [f"This investigation, '{inv.name}', tests whether the language model {model_words(data)} was trained on "
           f"texts carrying {plural(n_ids, 'planted identifier')} (ghost sentences): each identifier was {ranked}"
           f"{draws}, passphrases that were never published, so the test's false-positive rate is exact."]
    out += _progress_sentences(data, "draw(s)")
    statement = verdict_statement(data)
    if statement:
        out.append(f"Verdict: {statement}")
    else:
        out.append("No verdict was computed yet: the test did not finish.")
    if isinstance(table, pd.DataFrame) and not table.empty and "p_value" in table:
        alpha = inv.verdict.fpr if inv.verdict is not None else settings.get("alpha")
        if alpha is not None:
            low = int((pd.to_numeric(table["p_value"], errors="coerce") <= float(alpha)).sum())
            out.append(f"Taken one by one, {low} of the {plural(n_ids, 'identifier')} "
                       f"{'has' if low == 1 else 'have'} a p-value at most {float(alpha):g}.")
        if "last_k_hit" in table:
            hits = int(table["last_k_hit"].astype(bool).sum())
            out.append(f"Prompted with all but its last words, the model completed {plural(hits, 'identifier')} "
                       "exactly (the last-k words test; it needs many repetitions in training to succeed).")
    return out


# ---------------------------------------------------------------------------------------------- method


def method_sentences(data: ReportData) -> dict[str, str]:
    """Method and caveats as headed paragraphs for the investigation's kind (the same text in every format)."""
    if data.kind is Kind.GHOST:
        return _ghost_method(data)
    if data.kind is Kind.MODELS:
        from .report_models import models_method

        return models_method(data)
    method = {"How the scores were computed": _scoring_paragraph(data)}
    if data.kind is Kind.LABELLED:
        method |= LABELLED_METHOD
        test = data.artifacts.get("dataset_inference")
        if isinstance(test, dict):
            method["The set-level test"] = (
                "Members were treated as a suspect set and non-members as the reference set: "
                f"{test.get('method') or test.get('test') or 'a set-level test'}. A small p-value means the model "
                "finds the members as a whole more familiar than the non-members.")
    else:
        method["What a verdict means"] = CAVEATS["what_it_means"]
        method["What a verdict does not mean"] = CAVEATS["what_it_does_not_mean"]
    fpr = verdict_fpr(data)
    method["False-positive rate"] = CAVEATS["false_positive_rate"] + (
        f" This investigation's verdicts were set at FPR {fmt(fpr, 2)}." if fpr is not None else
        " No false-positive rate applies to this investigation because no verdict was computed.")
    method["Distribution-shift check"] = CAVEATS["shift_check"] + " " + _shift_result(data)
    if data.investigation.verdict is None and "verdict_label" not in data.table.columns \
            and data.kind is not Kind.LABELLED:
        method["Raw scores are not verdicts"] = CAVEATS["raw_scores"]
    return method


def _scoring_paragraph(data: ReportData) -> str:
    inv, scores = data.investigation, data.scores
    k = inv.settings.get("k")
    listed = "; ".join(f"{s}: {registry.description(s)}" for s in scores)
    return ("Each document was scored by the model "
            f"{inv.model_name} (identity {inv.model_identity or 'unknown'}) in one forward pass: for every token "
            "after the first, the probability the model gave it given the text before it. Long texts are scored in "
            "overlapping windows so every token is scored once. All scores are oriented so that higher means 'more "
            "likely a member of the training data'."
            + (f" Scores: {listed}" + (f" (k = {k})" if k is not None and any(s in scores for s in ("mink", "minkpp"))
                                       else "") + "." if scores else ""))


def _shift_result(data: ReportData) -> str:
    shift = shift_summary(data)
    if shift is None:
        return "The check was not run for this investigation (it needs a reference set to compare with)."
    words = ", ".join(shift.get("telling_words") or [])
    return f"Result: {shift_finding(shift)}" + (f" Words it relied on: {words}." if words else "")


def _ghost_method(data: ReportData) -> dict[str, str]:
    verdict = data.investigation.verdict
    settings = data.artifacts.get("ghost_test_settings") or {}
    alpha = verdict.fpr if verdict is not None else settings.get("alpha")
    method = dict(GHOST_METHOD)
    reference = reference_words(data)
    if reference is not None:
        method["How the test works"] = GHOST_REFERENCE_METHOD.format(
            reference=reference, released=data.investigation.settings.get("reference_released"))
    last_k = settings.get("last_k") or []
    if last_k:
        method["Last-k words test"] = (
            f"The model was also prompted with each identifier minus its last {', '.join(map(str, last_k))} "
            "word(s) and asked to continue greedily; an exact completion is a hit. It is the check anyone can repeat "
            "by chatting with a model, and it needs many repetitions in training to succeed, so a miss means little.")
    method["False-positive rate"] = (
        "The false-positive rate is the probability that a model never trained on these identifiers is still "
        "called 'evidence of training'. Because the fresh draws are an exact null, it is exactly the rate the test "
        "was set at" + (f": {float(alpha):g} here." if alpha is not None else "."))
    method["Why there is no distribution-shift check"] = (
        "The shift check guards comparisons between two sets of real texts that may differ in topic or style. "
        "Here the comparison texts are fresh draws from the identifiers' own generator, so the two differ only in "
        "whether they were published.")
    return method


__all__ = ["CAVEATS", "CHUNK_META_EXPLANATION", "fmt", "method_sentences", "plural", "reference_words",
           "shift_warning", "summary_sentences", "verdict_fpr", "verdict_statement"]
