"""The Verdict value: what every calibrated test returns (per document, dataset inference, ghost detection, labelled
evaluation), what the store keeps and what cards, tables, History and reports read.

A verdict is a value, never a sentence to be parsed again: ``label`` decides colours, counts and filters;
``sentence()`` is made only for people. design.md's words: "evidence of training (p = ..., at FPR ...)",
"no evidence (p = ..., at FPR ...)", "inconclusive (what is missing)". Never a bare "yes".

``decide`` is the one code path from a p-value to a label. It is also where a confounded comparison (the
distribution-shift check separated the two sets) is turned into "inconclusive", so no verdict anywhere can read as
evidence when the sets differ in what they say.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum


DEFAULT_FPR = 0.05  # the false-positive rate verdicts are set at unless the user chooses another


class Label(StrEnum):
    """The three verdict labels; their values are design.md's words."""

    EVIDENCE = "evidence of training"
    NO_EVIDENCE = "no evidence"
    INCONCLUSIVE = "inconclusive"


def format_p(p: float | None) -> str:
    """A p-value for reading: three significant digits, scientific notation below 0.001; 'n/a' when missing."""
    if p is None or not math.isfinite(p):
        return "n/a"
    return f"{p:.3g}" if p >= 1e-3 else f"{p:.2e}"


def _float_or_nan(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


@dataclass(frozen=True)
class Verdict:
    """A calibrated verdict.

    label: evidence of training / no evidence / inconclusive.
    p_value: the test's p-value (NaN when none could be computed); small = the text looks trained on.
    fpr: the false-positive rate the verdict is set at: a text the model never saw is called "evidence" with
        probability at most ``fpr``.
    method: what the observation was compared with, in words ("ranked among 1000 fresh draws ...").
    reasons: why the verdict is inconclusive (empty otherwise).
    """

    label: Label
    p_value: float
    fpr: float
    method: str = ""
    reasons: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_evidence(self) -> bool:
        return self.label is Label.EVIDENCE

    @property
    def is_conclusive(self) -> bool:
        return self.label is not Label.INCONCLUSIVE

    def words(self) -> str:
        """The short form: 'evidence of training (p = 0.001, at FPR 0.05)', 'no evidence (p = 0.4, at FPR 0.05)' or
        'inconclusive (reason; reason)'."""
        if self.label is Label.INCONCLUSIVE:
            return f"{self.label.value} ({'; '.join(self.reasons) or 'no reason given'})"
        return f"{self.label.value} (p = {format_p(self.p_value)}, at FPR {self.fpr:g})"

    def sentence(self) -> str:
        """A full sentence for people: the words, then what was compared with what, ending with a full stop."""
        text = self.words()
        text = text[:1].upper() + text[1:]
        if self.method:
            text += f". Method: {self.method}"
        return text if text.endswith(".") else text + "."

    def to_dict(self) -> dict:
        """Plain JSON-ready values for the store and reports (NaN p-values become None)."""
        return {"label": self.label.value, "p_value": self.p_value if math.isfinite(self.p_value) else None,
                "fpr": self.fpr, "method": self.method, "reasons": list(self.reasons), "words": self.words(),
                "sentence": self.sentence()}

    @classmethod
    def from_dict(cls, data: Mapping) -> Verdict:
        """The inverse of ``to_dict`` (the derived ``words`` and ``sentence`` are ignored)."""
        p = data.get("p_value")
        return cls(label=Label(data["label"]), p_value=math.nan if p is None else _float_or_nan(p),
                   fpr=_float_or_nan(data.get("fpr")), method=str(data.get("method") or ""),
                   reasons=tuple(str(r) for r in data.get("reasons") or ()))


def confounded_reason(shift: object | None) -> str | None:
    """The inconclusive reason a distribution-shift check gives, or None when it did not flag the sets.

    ``shift`` is any object with ``confounded`` (bool) and ``reason`` (str), e.g. ``verdicts.shift.ShiftCheck``."""
    if shift is not None and getattr(shift, "confounded", False):
        return f"confounded sets: {getattr(shift, 'reason', 'the sets differ in what they say')}"
    return None


def decide(p_value: float | None, fpr: float, *, method: str = "", problems: Sequence[str] = (),
           shift: object | None = None) -> Verdict:
    """The one path from a p-value to a verdict.

    Inconclusive when ``problems`` lists anything, when ``shift`` flagged the sets as confounded, or when no
    p-value could be computed; otherwise evidence of training when ``p_value <= fpr`` and no evidence above.
    """
    reasons = list(problems)
    confounded = confounded_reason(shift)
    if confounded:
        reasons.append(confounded)
    p = _float_or_nan(p_value)
    if not reasons and not math.isfinite(p):
        reasons.append("no score could be computed")
    if reasons:
        return Verdict(Label.INCONCLUSIVE, p, fpr, method, tuple(reasons))
    return Verdict(Label.EVIDENCE if p <= fpr else Label.NO_EVIDENCE, p, fpr, method)
