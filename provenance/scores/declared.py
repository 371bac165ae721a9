"""Texts the user declares: non-members (and, for Con-ReCall, members) that some scores read besides the document
being judged. ReCaLL and Con-ReCall take their prefixes from them, DC-PDD and Tag&Tab their frequency tables, CAMIA
its population of non-members.

Where they come from (design.md, "Scores"): in ``score`` from ``--reference`` (and ``--members``); in ``sets
compare`` from a held-out part of the reference set; in ``sets evaluate`` from a held-out part of the labelled
non-members (and members), or from ``--reference`` / ``--members``. Never from the documents being judged: a score
that needs declared texts returns NaN for a document that is itself one of them, so a held-out document is left out
of that score's evaluation (and of its reference distribution) and never scores itself.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

NON_MEMBER_TEXTS = "non_member_texts"  # a score input: texts declared non-members (registry.Score.inputs)
MEMBER_TEXTS = "member_texts"  # a score input: texts declared members (Con-ReCall)

DEFAULT_HELD_OUT = 10  # held-out texts per class when they come from the labelled or reference set
MAX_HELD_OUT_SHARE = 0.25  # never more than this share of a class is held out


@dataclass(frozen=True)
class DeclaredTexts:
    """Declared non-members and members, in a fixed order, with a sentence saying where they came from.

    ``memo`` keeps what scores derive from them once per run (frequency tables, population signals); it is keyed by
    the deriving function and the model identity, so one DeclaredTexts may serve several models.
    """

    non_members: tuple[str, ...] = ()
    members: tuple[str, ...] = ()
    source: str = ""
    memo: dict = field(default_factory=dict, compare=False, repr=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "non_members", tuple(t for t in self.non_members if t.strip()))
        object.__setattr__(self, "members", tuple(t for t in self.members if t.strip()))
        object.__setattr__(self, "_non", frozenset(self.non_members))
        object.__setattr__(self, "_mem", frozenset(self.members))

    def contains(self, text: str, *, members: bool = True) -> bool:
        """True when ``text`` is one of the declared non-members (or, with ``members``, members): a score that reads
        them must not judge it."""
        return text in self._non or (members and text in self._mem)  # type: ignore[attr-defined]

    def fingerprint(self) -> str:
        """SHA-256 over both lists (order included): two runs with other declared texts differ here."""
        h = hashlib.sha256()
        for tag, texts in (("N", self.non_members), ("M", self.members)):
            for t in texts:
                h.update(f"{tag}{len(t)}:".encode())
                h.update(t.encode("utf-8"))
        return h.hexdigest()

    def record(self) -> dict:
        """What an investigation stores about them (compared when resuming)."""
        return {"non_members": len(self.non_members), "members": len(self.members), "source": self.source,
                "sha256": self.fingerprint()}


def needs_declared(inputs: frozenset[str]) -> bool:
    return NON_MEMBER_TEXTS in inputs or MEMBER_TEXTS in inputs


def hold_out(texts: Sequence[str], n: int = DEFAULT_HELD_OUT, *, seed: int = 0,
             max_share: float = MAX_HELD_OUT_SHARE) -> list[int]:
    """Indices of a seeded random held-out part of ``texts``: ``min(n, floor(max_share * len))`` of them (at least 1
    when there are 2 or more texts, none otherwise), in the order drawn. The same texts and seed give the same
    indices, so a resumed run holds out the same documents."""
    m = min(n, int(max_share * len(texts)))
    if len(texts) >= 2:
        m = max(1, m)
    else:
        m = 0
    return random.Random(seed).sample(range(len(texts)), m)


def from_labelled(texts: Sequence[str], labels: Sequence[int], *, members_too: bool, n: int = DEFAULT_HELD_OUT,
                  seed: int = 0) -> DeclaredTexts:
    """Declared texts held out of a labelled set: ``n`` non-members (and ``n`` members when ``members_too``), drawn
    with ``seed``; the sentence says they are left out of those scores' evaluation."""
    non = [t for t, y in zip(texts, labels) if int(y) == 0]
    mem = [t for t, y in zip(texts, labels) if int(y) == 1]
    picked_non = [non[i] for i in hold_out(non, n, seed=seed)]
    picked_mem = [mem[i] for i in hold_out(mem, n, seed=seed + 1)] if members_too else []
    what = f"{len(picked_non)} held-out non-member(s)" + (f" and {len(picked_mem)} held-out member(s)"
                                                          if members_too else "")
    return DeclaredTexts(tuple(picked_non), tuple(picked_mem),
                         source=f"{what} of the labelled set, left out of the evaluation of the scores that read them")


def from_reference(reference: Sequence[str], members: Sequence[str] = (), *, held_out: bool, n: int = DEFAULT_HELD_OUT,
                   seed: int = 0) -> DeclaredTexts:
    """Declared texts from a reference set (and texts declared members). With ``held_out`` (the reference set is
    also scored, as in ``sets compare``) only a seeded part of it is used and that part is left out of the
    comparison for those scores; otherwise all of it."""
    if held_out:
        picked = [reference[i] for i in hold_out(reference, n, seed=seed)]
        source = (f"{len(picked)} held-out reference text(s), left out of the comparison for the scores that read "
                  "them")
    else:
        picked = list(reference)
        source = f"{len(picked)} reference text(s)"
    if members:
        source += f" and {len(members)} text(s) declared members"
    return DeclaredTexts(tuple(picked), tuple(members), source=source)
